//! Child processes the variants start (worker processes, Python servers, MPI jobs): each leads its own process group, and is killed with it.
//!
//! A worker started through `sh -c`, a Python pool's workers or `mpirun`'s
//! ranks are grandchildren: killing the child alone would leave them running
//! and holding its pipes open. Starting the child as a process group leader
//! lets [`kill_group`] reach all of them at once.

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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

/// How long a finished child's pipes are still read: a grandchild that outlives it and
/// holds them open must not block the caller.
const PIPE_GRACE: Duration = Duration::from_millis(200);

/// Reads a pipe to its end on a detached thread (see [`PIPE_GRACE`] for why detached).
fn read_in_background(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            // A read error leaves whatever was read.
            let _ = pipe.read_to_end(&mut bytes);
            let _ = sender.send(bytes);
        });
    }
    receiver
}

/// Why [`wait_with_deadline`] returned no output.
#[derive(Debug)]
pub enum WaitError {
    /// The deadline passed: the child and its process group were killed and reaped.
    TimedOut,
    /// Waiting failed: the child and its process group were killed.
    Wait(std::io::Error),
}

/// Waits for `child`, checking every `poll`, and collects the output of the pipes it was
/// started with (each read for at most `PIPE_GRACE` after its end); kills it with its
/// process group (and reaps it) once `deadline` has passed since `started`.
pub fn wait_with_deadline(
    mut child: Child,
    started: Instant,
    deadline: Duration,
    poll: Duration,
) -> Result<Output, WaitError> {
    let stdout = read_in_background(child.stdout.take());
    let stderr = read_in_background(child.stderr.take());
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < deadline => std::thread::sleep(poll),
            Ok(None) => {
                kill_group(&mut child);
                return Err(WaitError::TimedOut);
            }
            Err(e) => {
                kill_group(&mut child);
                return Err(WaitError::Wait(e));
            }
        }
    };
    Ok(Output {
        status,
        stdout: stdout.recv_timeout(PIPE_GRACE).unwrap_or_default(),
        stderr: stderr.recv_timeout(PIPE_GRACE).unwrap_or_default(),
    })
}

/// Runs `command` to its end, capturing its output, or kills it with its process group (and
/// reaps it) once `deadline` has passed: then the error says so. Start `command` with
/// [`in_own_process_group`] so that what it started dies with it.
pub fn output_with_deadline(mut command: Command, deadline: Duration) -> Result<Output, String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{program}`: {e}"))?;
    wait_with_deadline(child, Instant::now(), deadline, Duration::from_millis(10)).map_err(
        |error| match error {
            WaitError::TimedOut => format!(
                "`{program}` did not finish within {:.1} s; killed",
                deadline.as_secs_f64()
            ),
            WaitError::Wait(e) => format!("cannot wait for `{program}`: {e}"),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_past_its_deadline_is_killed_with_what_it_started() {
        let mut command = Command::new("sh");
        command.args(["-c", "sleep 37.75; true"]);
        in_own_process_group(&mut command);
        let started = Instant::now();
        let error = output_with_deadline(command, Duration::from_millis(300)).unwrap_err();
        assert!(
            error.contains("did not finish within 0.3 s; killed"),
            "{error}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        let left = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
            .filter(|cmdline| String::from_utf8_lossy(cmdline).contains("37.75"))
            .count();
        assert_eq!(left, 0, "the shell's sleep outlived the kill");
    }

    #[test]
    fn a_command_within_its_deadline_gives_its_output() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo out; echo err >&2; exit 4"]);
        let output = output_with_deadline(command, Duration::from_secs(10)).unwrap();
        assert_eq!(output.stdout, b"out\n");
        assert_eq!(output.stderr, b"err\n");
        assert_eq!(output.status.code(), Some(4));
    }
}
