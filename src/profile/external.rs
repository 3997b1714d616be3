//! Profiling the user's own program: a child process measured with `wait4`, sampled by perf or py-spy.
//!
//! The command first runs alone, and `wait4` returns its resource usage:
//! wall, user and system time, peak resident set, context switches. From
//! those follow the [`ProgramFacts`] the advisor reads (how many cores it kept
//! busy, whether it waited rather than computed). Then, when a stack sampler
//! is usable, the command runs a second time under it, so the facts carry no
//! sampler overhead: `py-spy record --format raw` for a Python program,
//! otherwise `perf record -e cpu-clock -g` (the software clock works in
//! virtual machines without hardware counters), whose `perf script` output
//! inferno folds. When neither is usable the reason says exactly why.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use inferno::collapse::Collapse;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::folded::FoldedStacks;
use super::memory::max_rss_bytes;
use super::sampler::timeval;
use crate::detect::run::Runner;

/// More than this many cores busy on average: the program runs in parallel.
pub const PARALLEL_ABOVE_CORES: f64 = 1.2;
/// At least this many cores busy (and not parallel): CPU-bound; the decision tree
/// (`profile.program`) reads the same threshold.
pub const CPU_BOUND_FROM_CORES: f64 = 0.8;
/// Fewer cores busy than this: the program mostly waits (I/O, network, sleep, other processes).
pub const IO_BOUND_BELOW_CORES: f64 = 0.5;

/// Samples per second asked of perf and py-spy.
const SAMPLING_HZ: u32 = 499;
/// How long the trial `perf record` may take before perf counts as unusable.
const PERF_PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a program's run says about it: the facts the advisor reads for a user's command.
///
/// Plain data (serde), measured by [`measure_command`] from one run of the command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProgramFacts {
    /// The command and its arguments.
    pub command: Vec<String>,
    pub wall_seconds: f64,
    pub user_seconds: f64,
    pub system_seconds: f64,
    /// Cores busy on average: (user + system) / wall. 1.0 is one core fully used.
    pub cpu_utilisation: f64,
    /// Peak resident set size of the command's own process (`VmHWM` read while it ran; `wait4`'s
    /// figure, which counts the spawning process's memory, only for a command too brief to read).
    pub peak_rss_bytes: u64,
    /// Times the command gave up the CPU to wait (I/O, sleep, locks).
    pub voluntary_context_switches: u64,
    /// Times the scheduler took the CPU away (time slice over, more runnable threads than cores).
    pub involuntary_context_switches: u64,
    /// Bytes read from storage (`ru_inblock` in 512-byte blocks; page-cache hits do not count).
    #[serde(default)]
    pub storage_read_bytes: u64,
    /// Bytes written to storage (`ru_oublock` in 512-byte blocks).
    #[serde(default)]
    pub storage_written_bytes: u64,
    pub character: ProgramCharacter,
}

/// How the program spends its wall time, from its CPU utilisation (thresholds above).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ProgramCharacter {
    /// More than [`PARALLEL_ABOVE_CORES`] cores busy on average.
    Parallel,
    /// Between [`CPU_BOUND_FROM_CORES`] and [`PARALLEL_ABOVE_CORES`]: one core computing.
    CpuBound,
    /// Below [`IO_BOUND_BELOW_CORES`]: mostly waiting, so more cores or faster code will not help much.
    IoBound,
    /// In between: partly computing, partly waiting.
    Mixed,
    /// Under [`CPU_BOUND_FROM_CORES`] but preempted far more often than it waited
    /// ([`CONTENDED_FROM_SWITCHES`]): it wanted to compute, other load took the cores.
    Contended,
}

/// Preempted at least this many times, and more than twice as often as it waited: contended.
pub const CONTENDED_FROM_SWITCHES: u64 = 10;

impl ProgramCharacter {
    /// Classifies a run by the cores it kept busy and how it lost the CPU.
    pub fn from_usage(cores_busy: f64, voluntary: u64, involuntary: u64) -> ProgramCharacter {
        if cores_busy > PARALLEL_ABOVE_CORES {
            ProgramCharacter::Parallel
        } else if cores_busy >= CPU_BOUND_FROM_CORES {
            ProgramCharacter::CpuBound
        } else if involuntary >= CONTENDED_FROM_SWITCHES && involuntary > 2 * voluntary {
            ProgramCharacter::Contended
        } else if cores_busy < IO_BOUND_BELOW_CORES {
            ProgramCharacter::IoBound
        } else {
            ProgramCharacter::Mixed
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            ProgramCharacter::Parallel => "parallel: several cores busy",
            ProgramCharacter::CpuBound => "CPU-bound on one core",
            ProgramCharacter::IoBound => "I/O-bound: mostly waiting, not computing",
            ProgramCharacter::Mixed => "mixed: partly computing, partly waiting",
            ProgramCharacter::Contended => {
                "contended: it wanted the CPU but other load took it (preempted far more often \
                 than it waited); measure again on a quiet machine"
            }
        }
    }
}

/// The stack sampler used for a command, or why none was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum StackSampling {
    /// Stacks were sampled by `tool` (`perf` or `py-spy`).
    Sampled { tool: String },
    /// No stacks: why, and what would make them possible.
    Unavailable { reason: String, hint: String },
    /// Not asked for.
    Skipped,
}

#[derive(Debug, Error)]
pub enum CommandError {
    #[error("no command given")]
    Empty,
    #[error("cannot run `{program}`: {source}")]
    Spawn { program: String, source: io::Error },
    #[error(
        "`{command}` failed ({status}) after {wall_seconds:.3} s; no profile is written for a failing run"
    )]
    Failed {
        command: String,
        status: String,
        wall_seconds: f64,
    },
    #[error("waiting for `{program}` failed: {source}")]
    Wait { program: String, source: io::Error },
    #[error("the ranks of `{command}` could not be measured one by one: {reason}")]
    Ranks { command: String, reason: String },
}

/// How a finished child ended, from its `wait4` status.
fn describe_status(status: libc::c_int) -> Option<String> {
    if libc::WIFEXITED(status) {
        match libc::WEXITSTATUS(status) {
            0 => None,
            code => Some(format!("exit status {code}")),
        }
    } else if libc::WIFSIGNALED(status) {
        Some(format!("killed by signal {}", libc::WTERMSIG(status)))
    } else {
        Some(format!("wait status {status}"))
    }
}

/// How often the peak resident set of a running command is read from `/proc`.
const PEAK_RSS_POLL: Duration = Duration::from_millis(5);

/// The peak resident set (`VmHWM`) of a running process, in bytes.
fn peak_resident_bytes(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Waits for `child` and returns its raw status, its resource usage, and its own peak
/// resident set as read from `/proc` while it ran.
///
/// `wait4`'s `ru_maxrss` is no use for the command itself: a child spawned by
/// vfork shares the spawning process's memory until it executes, and Linux
/// keeps that high-water mark across the exec, so a command started by a large
/// process reports the large process's memory. The new image's own `VmHWM` is
/// read every [`PEAK_RSS_POLL`] until the child exits, and the child is reaped
/// only after the polling stopped, so its pid cannot have been reused.
fn wait_with_usage(child: &Child) -> io::Result<(libc::c_int, libc::rusage, Option<u64>)> {
    let pid = libc::pid_t::try_from(child.id()).map_err(io::Error::other)?;
    let mut peak = None;
    loop {
        if let Some(now) = peak_resident_bytes(child.id()) {
            peak = peak.max(Some(now));
        }
        // SAFETY: an all-zero `siginfo_t` is a valid value of this plain C struct.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is valid and writable; WNOWAIT leaves the child unreaped.
        let waited = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        if waited != 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        // SAFETY: waitid filled `info`; a zero pid means the child has not exited yet.
        if unsafe { info.si_pid() } != 0 {
            break;
        }
        std::thread::sleep(PEAK_RSS_POLL);
    }
    let (status, usage) = reap_with_usage(pid)?;
    Ok((status, usage, peak))
}

/// Reaps the exited child `pid` and returns its raw status and resource usage.
fn reap_with_usage(pid: libc::pid_t) -> io::Result<(libc::c_int, libc::rusage)> {
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are valid and writable; `pid` is our unreaped child.
        let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if waited == pid {
            return Ok((status, usage));
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

fn spawn_error(program: &str, source: io::Error) -> CommandError {
    CommandError::Spawn {
        program: program.to_string(),
        source,
    }
}

/// The child's standard output goes to our standard error: stdout carries only our data.
fn output_to_stderr() -> Stdio {
    io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::null())
}

/// Bytes in one block of `ru_inblock` and `ru_oublock`.
const RUSAGE_BLOCK_BYTES: u64 = 512;

/// Runs `command` once with `environment` added and measures it. A command that fails is an
/// error (with its wall time).
pub fn measure_command(
    command: &[String],
    environment: &[(String, String)],
) -> Result<ProgramFacts, CommandError> {
    let (program, arguments) = command.split_first().ok_or(CommandError::Empty)?;
    let started = Instant::now();
    let child = Command::new(program)
        .args(arguments)
        .envs(environment.iter().map(|(k, v)| (k, v)))
        .stdout(output_to_stderr())
        .spawn()
        .map_err(|e| spawn_error(program, e))?;
    let (status, usage, own_peak) =
        wait_with_usage(&child).map_err(|source| CommandError::Wait {
            program: program.clone(),
            source,
        })?;
    let wall = started.elapsed().as_secs_f64();
    if let Some(status) = describe_status(status) {
        return Err(CommandError::Failed {
            command: command.join(" "),
            status,
            wall_seconds: wall,
        });
    }
    let user = timeval(usage.ru_utime).as_secs_f64();
    let system = timeval(usage.ru_stime).as_secs_f64();
    let cpu_utilisation = (user + system) / wall.max(1e-9);
    Ok(ProgramFacts {
        command: command.to_vec(),
        wall_seconds: wall,
        user_seconds: user,
        system_seconds: system,
        cpu_utilisation,
        peak_rss_bytes: own_peak.unwrap_or_else(|| max_rss_bytes(usage.ru_maxrss)),
        voluntary_context_switches: u64::try_from(usage.ru_nvcsw).unwrap_or(0),
        involuntary_context_switches: u64::try_from(usage.ru_nivcsw).unwrap_or(0),
        storage_read_bytes: u64::try_from(usage.ru_inblock).unwrap_or(0) * RUSAGE_BLOCK_BYTES,
        storage_written_bytes: u64::try_from(usage.ru_oublock).unwrap_or(0) * RUSAGE_BLOCK_BYTES,
        character: ProgramCharacter::from_usage(
            cpu_utilisation,
            u64::try_from(usage.ru_nvcsw).unwrap_or(0),
            u64::try_from(usage.ru_nivcsw).unwrap_or(0),
        ),
    })
}

/// Samples the stacks of a second run of `command`, writing scratch files into `scratch`.
///
/// Returns the folded stacks when a sampler worked, and in every case what happened.
pub fn sample_command(command: &[String], scratch: &Path) -> (Option<FoldedStacks>, StackSampling) {
    let Some(program) = command.first() else {
        return (None, StackSampling::Skipped);
    };
    let runner = Runner::from_env();
    if let Some(py_spy) = runner
        .find("py-spy")
        .filter(|_| is_python(&runner, program))
    {
        return match sample_with_py_spy(&py_spy, command, scratch) {
            Ok(stacks) => sampled(stacks, "py-spy"),
            Err(reason) => unavailable(
                format!("py-spy failed: {reason}"),
                "py-spy needs ptrace: run as the program's owner, or grant CAP_SYS_PTRACE",
            ),
        };
    }
    let Some(perf) = runner.find("perf") else {
        return unavailable(
            "perf is not installed (nor py-spy for a Python command)".to_string(),
            "install perf (Debian/Ubuntu: linux-perf or linux-tools-$(uname -r)); \
             for Python programs, `pip install py-spy`",
        );
    };
    if let Err(reason) = probe_perf(&runner, scratch) {
        return unavailable(reason, &perf_permission_hint());
    }
    match sample_with_perf(&perf, command, scratch) {
        Ok(stacks) => sampled(stacks, "perf"),
        Err(reason) => unavailable(
            format!("perf record failed: {reason}"),
            &perf_permission_hint(),
        ),
    }
}

fn sampled(stacks: FoldedStacks, tool: &str) -> (Option<FoldedStacks>, StackSampling) {
    if stacks.is_empty() {
        return unavailable(
            format!("{tool} recorded no samples (the command ran too briefly or never on a CPU)"),
            "profile a longer run of the command",
        );
    }
    (
        Some(stacks),
        StackSampling::Sampled {
            tool: tool.to_string(),
        },
    )
}

fn unavailable(reason: String, hint: &str) -> (Option<FoldedStacks>, StackSampling) {
    (
        None,
        StackSampling::Unavailable {
            reason,
            hint: hint.to_string(),
        },
    )
}

/// The level in `/proc/sys/kernel/perf_event_paranoid`, if readable.
pub fn perf_event_paranoid() -> Option<i32> {
    fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn perf_permission_hint() -> String {
    let level = perf_event_paranoid()
        .map(|level| format!("perf_event_paranoid is {level}"))
        .unwrap_or_else(|| "perf_event_paranoid is unreadable".to_string());
    format!(
        "{level}; sampling your own processes needs 2 or lower (`sudo sysctl kernel.perf_event_paranoid=1`), \
         or grant perf CAP_PERFMON (`sudo setcap cap_perfmon+ep $(command -v perf)`); \
         in a container, the runtime's seccomp profile must allow perf_event_open"
    )
}

/// A short `perf record` of `true`, bounded in time, to learn whether perf may sample here.
fn probe_perf(runner: &Runner, scratch: &Path) -> Result<(), String> {
    let output = scratch.join("perf-probe.data");
    let Some(output_arg) = output.to_str() else {
        return Err(format!(
            "cannot try perf: the path {} is not UTF-8",
            output.display()
        ));
    };
    let args = [
        "record",
        "-e",
        "cpu-clock",
        "-g",
        "-q",
        "-o",
        output_arg,
        "--",
        "true",
    ];
    let result = runner.run_successfully("perf", &args, PERF_PROBE_TIMEOUT);
    let _ = fs::remove_file(&output);
    result
        .map(drop)
        .map_err(|reason| format!("perf may not sample here: {reason}"))
}

fn sample_with_perf(
    perf: &Path,
    command: &[String],
    scratch: &Path,
) -> Result<FoldedStacks, String> {
    let data = scratch.join("perf.data");
    let frequency = SAMPLING_HZ.to_string();
    run_under(
        perf,
        &[
            "record".as_ref(),
            "-e".as_ref(),
            "cpu-clock".as_ref(),
            "-F".as_ref(),
            frequency.as_ref(),
            "-g".as_ref(),
            "-q".as_ref(),
            "-o".as_ref(),
            data.as_os_str(),
        ],
        command,
        &scratch.join("perf-record.log"),
    )?;
    // Without the period field inferno counts samples rather than nanoseconds.
    let script = Command::new(perf)
        .args(["script", "-F", "comm,pid,tid,time,event,ip,sym,dso", "-i"])
        .arg(&data)
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("perf script: {e}"))?;
    let _ = fs::remove_file(&data);
    if !script.status.success() {
        return Err(format!("perf script ended with {}", script.status));
    }
    let mut folded = Vec::new();
    inferno::collapse::perf::Folder::default()
        .collapse(&script.stdout[..], &mut folded)
        .map_err(|e| format!("folding perf script output: {e}"))?;
    FoldedStacks::parse(&String::from_utf8_lossy(&folded)).map_err(|e| e.to_string())
}

fn sample_with_py_spy(
    py_spy: &Path,
    command: &[String],
    scratch: &Path,
) -> Result<FoldedStacks, String> {
    let raw = scratch.join("py-spy.folded");
    let rate = SAMPLING_HZ.to_string();
    run_under(
        py_spy,
        &[
            "record".as_ref(),
            "--format".as_ref(),
            "raw".as_ref(),
            "--threads".as_ref(),
            "--rate".as_ref(),
            rate.as_ref(),
            "--output".as_ref(),
            raw.as_os_str(),
        ],
        command,
        &scratch.join("py-spy.log"),
    )?;
    let text = fs::read_to_string(&raw).map_err(|e| e.to_string())?;
    let _ = fs::remove_file(&raw);
    FoldedStacks::parse(&text).map_err(|e| e.to_string())
}

/// Runs `tool ARGUMENTS -- COMMAND`: the command's output to our standard error, the tool's messages to `log`.
fn run_under(
    tool: &Path,
    arguments: &[&OsStr],
    command: &[String],
    log: &Path,
) -> Result<(), String> {
    let mut child = Command::new(tool)
        .args(arguments)
        .arg("--")
        .args(command)
        .stdout(Stdio::piped())
        .stderr(log_file(log)?)
        .spawn()
        .map_err(|e| e.to_string())?;
    // The command's output and the tool's own progress lines share the tool's stdout.
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(said) = tool_message(&line) {
                eprintln!("{said}");
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{status}: {}", first_lines(log)))
    }
}

/// What of a line on a sampler's stdout reaches the user: the command's own lines as they are;
/// py-spy's progress lines (`py-spy> Sampling process ...`, its advice to use a Perl script)
/// not at all, since the tool draws the flamegraph itself; its errors and warnings in our words.
fn tool_message(line: &str) -> Option<String> {
    let plain = without_colours(line);
    let Some(said) = plain.strip_prefix("py-spy> ") else {
        return Some(line.to_string());
    };
    let lower = said.to_ascii_lowercase();
    (lower.starts_with("error") || lower.contains("warning") || lower.contains("failed"))
        .then(|| format!("py-spy reported: {said}"))
}

/// `text` without ANSI colour sequences (`ESC [ ... m`).
fn without_colours(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for code in chars.by_ref() {
                if code.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

fn log_file(path: &Path) -> Result<Stdio, String> {
    fs::File::create(path)
        .map(Stdio::from)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))
}

/// The first lines of a tool's log, for an error message.
fn first_lines(log: &Path) -> String {
    let Ok(file) = fs::File::open(log) else {
        return "no output".to_string();
    };
    let lines: Vec<String> = BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter(|line| !line.trim().is_empty())
        .take(3)
        .collect();
    if lines.is_empty() {
        "no output".to_string()
    } else {
        lines.join(" / ")
    }
}

/// A Python interpreter (by its name), or an executable script whose `#!` line names one.
pub fn is_python(runner: &Runner, program: &str) -> bool {
    let named_python = Path::new(program)
        .file_name()
        .and_then(OsStr::to_str)
        .is_some_and(|name| name.starts_with("python"));
    if named_python {
        return true;
    }
    let Some(path) = runner.find(program) else {
        return false;
    };
    let Ok(file) = fs::File::open(&path) else {
        return false;
    };
    let mut head = Vec::new();
    let _ = io::Read::take(file, 256).read_to_end(&mut head);
    let head = String::from_utf8_lossy(&head);
    let first = head.lines().next().unwrap_or("");
    first.starts_with("#!") && first.contains("python")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn py_spy_progress_lines_are_dropped_and_its_errors_kept_in_our_words() {
        assert_eq!(
            tool_message("500 points: energy 1.2"),
            Some("500 points: energy 1.2".into())
        );
        let coloured = "\u{1b}[32m\u{1b}[1mpy-spy\u{1b}[0m\u{1b}[2m>\u{1b}[0m Sampling process 499 times a second. Press Control-C to exit.";
        assert_eq!(tool_message(coloured), None);
        assert_eq!(
            tool_message(
                "py-spy> You can use the flamegraph.pl script from https://github.com/brendangregg/flamegraph to generate a SVG"
            ),
            None
        );
        let wrote = "py-spy> Wrote raw flamegraph data to 'x.folded'. Samples: 16 Errors: 0";
        assert_eq!(tool_message(wrote), None);
        assert_eq!(
            tool_message("py-spy> Error: Failed to get process executable name"),
            Some("py-spy reported: Error: Failed to get process executable name".into())
        );
    }

    fn command(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn characters_follow_the_documented_thresholds() {
        let class = ProgramCharacter::from_usage;
        assert_eq!(class(0.01, 1, 0), ProgramCharacter::IoBound);
        assert_eq!(class(0.6, 40, 30), ProgramCharacter::Mixed);
        assert_eq!(class(0.97, 0, 200), ProgramCharacter::CpuBound);
        assert_eq!(class(1.9, 10, 10), ProgramCharacter::Parallel);
        assert_eq!(class(0.35, 3, 150), ProgramCharacter::Contended);
        assert_eq!(
            class(0.35, 3, 5),
            ProgramCharacter::IoBound,
            "too few switches to tell"
        );
    }

    #[test]
    fn a_sleeping_command_keeps_no_core_busy() {
        let facts = measure_command(&command(&["sh", "-c", "sleep 0.2"]), &[]).unwrap();
        assert!(facts.wall_seconds >= 0.2, "{facts:?}");
        assert!(facts.cpu_utilisation < IO_BOUND_BELOW_CORES, "{facts:?}");
        assert_eq!(facts.character, ProgramCharacter::IoBound);
        assert!(facts.peak_rss_bytes > 0);
    }

    #[test]
    fn failing_and_missing_commands_are_errors() {
        match measure_command(&command(&["sh", "-c", "exit 3"]), &[]) {
            Err(CommandError::Failed { status, .. }) => assert_eq!(status, "exit status 3"),
            other => panic!("expected a failure, got {other:?}"),
        }
        assert!(matches!(
            measure_command(&command(&["hpc-advisor-no-such-command"]), &[]),
            Err(CommandError::Spawn { .. })
        ));
    }

    #[test]
    fn python_programs_are_recognised_by_name_or_shebang() {
        use std::os::unix::fs::PermissionsExt;

        let runner = Runner::from_env();
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("run");
        fs::write(&script, "#!/usr/bin/env python3\nprint(1)\n").unwrap();
        // A command is run before it is sampled, so a script given by path is executable.
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        assert!(is_python(&runner, script.to_str().unwrap()));
        assert!(is_python(&runner, "/usr/bin/python3.12"));
        assert!(!is_python(&runner, "sh"));
        let shell = dir.path().join("shell");
        fs::write(&shell, "#!/bin/sh\necho 1\n").unwrap();
        fs::set_permissions(&shell, fs::Permissions::from_mode(0o755)).unwrap();
        assert!(!is_python(&runner, shell.to_str().unwrap()));
    }
}
