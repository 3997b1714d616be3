//! Child processes the variants start (worker processes, Python servers, MPI jobs): each leads its own process group, and is killed with it.
//!
//! A worker started through `sh -c`, a Python pool's workers or `mpirun`'s
//! ranks are grandchildren: killing the child alone would leave them running
//! and holding its pipes open. Starting the child as a process group leader
//! lets [`kill_group`] reach all of them at once.

use std::process::{Child, Command};

/// Starts `command` as the leader of a new process group, so [`kill_group`] reaches what it starts.
pub fn in_own_process_group(command: &mut Command) {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(command, 0);
}

/// Kills `child`'s process group (a pool's workers, an MPI job's ranks with it), then reaps `child`.
pub fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(group) = libc::pid_t::try_from(child.id()) {
        // SAFETY: killpg only sends a signal; the group is the child's own (see in_own_process_group).
        unsafe {
            libc::killpg(group, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}
