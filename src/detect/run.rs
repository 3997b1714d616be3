//! The one way detection runs an external command: no shell, a timeout, captured output.
//!
//! A probe that cannot run (missing program, hang, crash) becomes a
//! [`RunError`] whose message is the "unknown, because …" reason; it never
//! panics and never waits longer than its timeout.

use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hpc_kernels::scatter::variants::children;
use thiserror::Error;

/// How long a probe may run before it is stopped. Detection runs at most two probes one
/// after the other (a launcher's `--version`, then its launch check; `perf --version`, then
/// `perf stat`), so its external programs hold it for at most about 3.5 s.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(1500);
/// How often a running probe is checked for its end.
const POLL_INTERVAL: Duration = Duration::from_millis(2);

/// Why an external command gave no usable output.
#[derive(Debug, Error)]
pub enum RunError {
    #[error("`{program}` not found on PATH")]
    NotFound { program: String },
    #[error("`{program}` could not be started: {source}")]
    Spawn { program: String, source: io::Error },
    #[error("`{program}` did not finish within {:.1} s and was stopped", timeout.as_secs_f64())]
    TimedOut { program: String, timeout: Duration },
    #[error("waiting for `{program}` failed: {source}")]
    Wait { program: String, source: io::Error },
}

/// What a finished command printed and how it ended.
#[derive(Debug, Clone)]
pub struct CommandOutput {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl CommandOutput {
    /// stdout followed by stderr: many tools print their version to either.
    pub fn combined(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// How it ended, with the first informative line of output when it failed:
    /// `exit status 1: mpirun has detected an attempt to run as root.`
    pub fn outcome(&self) -> String {
        if self.success {
            return "exit status 0".to_string();
        }
        let status = self.code.map_or_else(
            || "killed by a signal".to_string(),
            |code| format!("exit status {code}"),
        );
        let message = self
            .stderr
            .lines()
            .chain(self.stdout.lines())
            .map(str::trim)
            .find(|line| line.chars().any(char::is_alphanumeric) && !line.ends_with(':'))
            .unwrap_or("no output");
        format!("{status}: {message}")
    }
}

pub fn first_nonempty_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(str::to_string)
}

/// Finds and runs programs on a search path (the PATH of this process unless given).
#[derive(Debug, Clone)]
pub struct Runner {
    search_path: Vec<PathBuf>,
}

impl Runner {
    /// Searches the directories of `$PATH`.
    pub fn from_env() -> Self {
        let search_path = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect())
            .unwrap_or_default();
        Runner { search_path }
    }

    /// Searches the given directories only.
    pub fn with_search_path(search_path: Vec<PathBuf>) -> Self {
        Runner { search_path }
    }

    /// The executable `program` resolves to, like `command -v`.
    pub fn find(&self, program: &str) -> Option<PathBuf> {
        if program.contains('/') {
            let path = PathBuf::from(program);
            return is_executable(&path).then_some(path);
        }
        self.search_path
            .iter()
            .map(|dir| dir.join(program))
            .find(|candidate| is_executable(candidate))
    }

    /// Runs `program` (looked up on the search path) with `args` and the C locale.
    pub fn run(
        &self,
        program: &str,
        args: &[&str],
        timeout: Duration,
    ) -> Result<CommandOutput, RunError> {
        let path = self.find(program).ok_or_else(|| RunError::NotFound {
            program: program.to_string(),
        })?;
        run_path(&path, program, args, timeout)
    }

    /// Like [`Runner::run`], but a non-zero exit is an error too; errors are "unknown" reasons.
    pub fn run_successfully(
        &self,
        program: &str,
        args: &[&str],
        timeout: Duration,
    ) -> Result<CommandOutput, String> {
        let output = self
            .run(program, args, timeout)
            .map_err(|e| e.to_string())?;
        if output.success {
            Ok(output)
        } else {
            Err(format!("`{program}` failed: {}", output.outcome()))
        }
    }
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// Runs the executable at `path`; `program` names it in errors.
fn run_path(
    path: &Path,
    program: &str,
    args: &[&str],
    timeout: Duration,
) -> Result<CommandOutput, RunError> {
    let start = Instant::now();
    let mut command = Command::new(path);
    command
        .args(args.iter().map(OsStr::new))
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group, so a timeout stops the children it started too.
    children::in_own_process_group(&mut command);
    let child = command.spawn().map_err(|source| RunError::Spawn {
        program: program.to_string(),
        source,
    })?;
    let output =
        children::wait_with_deadline(child, start, timeout, POLL_INTERVAL).map_err(|error| {
            match error {
                children::WaitError::TimedOut => RunError::TimedOut {
                    program: program.to_string(),
                    timeout,
                },
                children::WaitError::Wait(source) => RunError::Wait {
                    program: program.to_string(),
                    source,
                },
            }
        })?;
    // Odd output is the probe's to report, not a failure here.
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    Ok(CommandOutput {
        success: output.status.success(),
        code: output.status.code(),
        stdout: text(&output.stdout),
        stderr: text(&output.stderr),
        elapsed: start.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_exit_status() {
        let output = Runner::from_env()
            .run("echo", &["hello"], PROBE_TIMEOUT)
            .unwrap();
        assert!(output.success);
        assert_eq!(output.stdout.trim(), "hello");
        assert_eq!(
            first_nonempty_line(&output.combined()).as_deref(),
            Some("hello")
        );
    }

    #[test]
    fn a_missing_program_is_a_clean_error() {
        let runner = Runner::with_search_path(vec![PathBuf::from("/nonexistent")]);
        let error = runner.run("echo", &[], PROBE_TIMEOUT).unwrap_err();
        assert!(matches!(error, RunError::NotFound { .. }));
        assert_eq!(error.to_string(), "`echo` not found on PATH");
    }

    #[test]
    fn a_hanging_program_is_stopped_at_the_timeout() {
        let error = Runner::from_env()
            .run("sleep", &["10"], Duration::from_millis(100))
            .unwrap_err();
        assert!(matches!(error, RunError::TimedOut { .. }), "{error}");
    }

    #[test]
    fn a_failure_is_summarised_by_its_first_informative_line() {
        let refused = CommandOutput {
            success: false,
            code: Some(1),
            stdout: String::new(),
            stderr: "------------\nmpirun has detected an attempt to run as root.\n\nRunning as root is discouraged\n".to_string(),
            elapsed: Duration::ZERO,
        };
        assert_eq!(
            refused.outcome(),
            "exit status 1: mpirun has detected an attempt to run as root."
        );
        let denied = CommandOutput {
            stderr: "Error:\nAccess to performance monitoring is limited.\n".to_string(),
            code: None,
            ..refused
        };
        assert_eq!(
            denied.outcome(),
            "killed by a signal: Access to performance monitoring is limited."
        );
    }

    #[test]
    fn a_failing_program_reports_its_exit_code() {
        let output = Runner::from_env().run("false", &[], PROBE_TIMEOUT).unwrap();
        assert!(!output.success);
        assert_eq!(output.code, Some(1));
    }
}
