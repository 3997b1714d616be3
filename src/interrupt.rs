//! Ctrl-C and SIGTERM end a run cleanly: every child process killed, the partial run folder removed.
//!
//! The signal handler only writes the signal's number to a pipe (the one
//! thing it may safely do); a watcher thread reads it and does the work:
//! it kills every process descended from this one (workers, mpirun and its
//! ranks, perf, py-spy, the user's program: found through `/proc`, so no
//! spawn site has to register), removes the staging folders of run folders
//! not yet committed ([`StagedDir`](crate::output::StagedDir) registers them
//! here), says what it did, and exits with 128 + the signal (130 for SIGINT,
//! 143 for SIGTERM, as shells do). A second signal while it cleans up exits
//! at once. A run killed by SIGKILL cannot clean up: the next run in the same
//! folder sweeps what it left (`output::sweep_stale_partials`).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Staging folders of the run folders being written, removed on an interrupt.
static PARTIAL_FOLDERS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// The write end of the pipe the handler signals the watcher through.
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);
/// Set by the first signal: a second one exits at once.
static CLEANING_UP: AtomicBool = AtomicBool::new(false);

/// Signals that end a run cleanly (the exit code is 128 + the signal).
const HANDLED: [libc::c_int; 2] = [libc::SIGINT, libc::SIGTERM];

/// Removes `folder` if the run is interrupted before [`forget_partial`] is called.
pub fn register_partial(folder: PathBuf) {
    lock_partials().push(folder);
}

/// `folder` was committed or removed: an interrupt no longer touches it.
pub fn forget_partial(folder: &std::path::Path) {
    lock_partials().retain(|f| f != folder);
}

fn lock_partials() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PARTIAL_FOLDERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Blocks for good when an interrupt is being cleaned up: the watcher ends the process with
/// the signal's exit code, and the run's own ending (an error from a child the watcher killed)
/// must not exit first. Returns at once otherwise.
pub fn wait_if_interrupted() {
    while CLEANING_UP.load(Ordering::SeqCst) {
        std::thread::park();
    }
}

/// Installs the handlers and starts the watcher; call once, early in `main`.
pub fn install() -> std::io::Result<()> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let [read_end, write_end] = fds;
    SIGNAL_PIPE.store(write_end, Ordering::SeqCst);
    std::thread::Builder::new()
        .name("interrupt-watcher".into())
        .spawn(move || watch(read_end))?;
    for signal in HANDLED {
        // SAFETY: an all-zero sigaction is valid; the handler only calls async-signal-safe
        // functions (write, _exit) and touches atomics.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(signal, &action, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

extern "C" fn on_signal(signal: libc::c_int) {
    if CLEANING_UP.swap(true, Ordering::SeqCst) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(128 + signal) };
    }
    let byte = signal as u8;
    // SAFETY: write is async-signal-safe; the byte outlives the call.
    unsafe {
        libc::write(
            SIGNAL_PIPE.load(Ordering::SeqCst),
            (&byte as *const u8).cast(),
            1,
        );
    }
}

/// Waits for a signal's byte, then cleans up and exits.
fn watch(read_end: libc::c_int) {
    let mut byte = 0u8;
    loop {
        // SAFETY: reads one byte into `byte`, which is valid and writable.
        let read = unsafe { libc::read(read_end, (&mut byte as *mut u8).cast(), 1) };
        if read == 1 {
            break;
        }
        if read == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return;
        }
    }
    let signal = libc::c_int::from(byte);
    let name = if signal == libc::SIGINT {
        "SIGINT"
    } else {
        "SIGTERM"
    };
    // Taken before the children die: the run's own ending, once they do, may drop its staged
    // folder (removing it) while this removes it too; gone either way is removed.
    let folders: Vec<PathBuf> = std::mem::take(&mut *lock_partials());
    let killed = kill_descendants();
    let mut removed = Vec::new();
    for folder in folders {
        let _ = fs::remove_dir_all(&folder);
        if !folder.exists() {
            removed.push(folder.display().to_string());
        }
    }
    let children = match killed {
        0 => "no child process was running".to_string(),
        1 => "killed 1 child process".to_string(),
        n => format!("killed {n} child processes"),
    };
    let folders = if removed.is_empty() {
        String::new()
    } else {
        format!("; removed the unfinished run folder {}", removed.join(", "))
    };
    eprintln!("interrupted by {name}: {children}{folders}; no report was written");
    std::process::exit(128 + signal);
}

/// Kills (SIGKILL) every process descended from this one; returns how many there were.
fn kill_descendants() -> usize {
    let mut killed = BTreeSet::new();
    // Twice: a child may have started one more process while the first pass ran.
    for _ in 0..2 {
        for pid in descendants(std::process::id()) {
            // SAFETY: kill has no memory-safety preconditions.
            if unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) } == 0 {
                killed.insert(pid);
            }
        }
    }
    killed.len()
}

/// Every live process whose chain of parents reaches `root`, from `/proc/*/stat`.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some(parent) = parent_of(pid) {
            children.entry(parent).or_default().push(pid);
        }
    }
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(pid) = frontier.pop() {
        for &child in children.get(&pid).map_or(&[][..], Vec::as_slice) {
            found.push(child);
            frontier.push(child);
        }
    }
    found
}

/// The parent pid in `/proc/PID/stat` (the field after the state, past the command's `)`).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_command = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_command.split_whitespace();
    let _state = fields.next()?;
    fields.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_and_its_child_are_descendants() {
        let mut shell = std::process::Command::new("sh")
            .args(["-c", "sleep 5 & wait"])
            .spawn()
            .unwrap();
        let shell_pid = shell.id();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let found = loop {
            let found = descendants(std::process::id());
            if found.len() >= 2 || std::time::Instant::now() > deadline {
                break found;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        assert!(found.contains(&shell_pid), "{found:?}");
        let sleeper = descendants(shell_pid);
        assert_eq!(sleeper.len(), 1, "{sleeper:?}");
        assert_eq!(parent_of(sleeper[0]), Some(shell_pid));
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(sleeper[0] as libc::pid_t, libc::SIGKILL) };
        shell.wait().unwrap();
    }
}
