//! Interrupted runs leave nothing behind: SIGINT and SIGTERM kill every child and remove the
//! unfinished run folder (exit 130 and 143), and a run killed by SIGKILL is swept by the next.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hpc_advisor::interrupt::descendants;
use hpc_advisor::output::host_name;

const BINARY: &str = env!("CARGO_BIN_EXE_hpc-advisor");

fn entries(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `analyse --quick ARGS` into `out`.
fn analyse(out: &Path, args: &[&str]) -> Child {
    Command::new(BINARY)
        .args(["analyse", "--quick", "--out"])
        .arg(out)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A program that sleeps: a child is alive while the program stage runs.
const SLEEPING_PROGRAM: [&str; 6] = ["--runs", "3", "--no-stacks", "--", "sleep", "30"];

/// Whether `pid`'s command line contains `text`.
fn runs(pid: u32, text: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(text))
}

/// Waits until `child` has a descendant whose command line contains `text`; returns every
/// descendant then.
fn wait_for_descendant(child: &Child, text: &str) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = descendants(child.id());
        if found.iter().any(|&pid| runs(pid, text)) {
            return found;
        }
        assert!(Instant::now() < deadline, "analyse never started `{text}`");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `pid` still exists as a process that is not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
    })
}

fn interrupt_with(signal: libc::c_int, name: &str, expected_code: i32) {
    interrupt_while(signal, name, expected_code, &SLEEPING_PROGRAM, "sleep");
}

/// Starts `analyse --quick ARGS`, sends `signal` once a descendant runs `waiting_for`, and
/// checks the exit code, the message, the empty output folder and that no descendant lives.
fn interrupt_while(
    signal: libc::c_int,
    name: &str,
    expected_code: i32,
    args: &[&str],
    waiting_for: &str,
) {
    let out = tempfile::tempdir().unwrap();
    let mut child = analyse(out.path(), args);
    let children = wait_for_descendant(&child, waiting_for);
    assert!(
        !entries(out.path()).is_empty(),
        "the run folder is being written"
    );
    let sent = Instant::now();
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    let status = child.wait().unwrap();
    let stopped_after = sent.elapsed();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(expected_code), "{stderr}");
    assert!(
        stopped_after < Duration::from_secs(2),
        "took {stopped_after:?}"
    );
    assert!(
        stderr.contains(&format!("interrupted by {name}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("removed the unfinished run folder"),
        "{stderr}"
    );
    assert_eq!(entries(out.path()), Vec::<String>::new(), "{stderr}");
    // Orphans are reaped by init once killed: give it a moment, then none may be running.
    let deadline = Instant::now() + Duration::from_secs(5);
    while children.iter().any(|&pid| alive(pid)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left: Vec<u32> = children.into_iter().filter(|&pid| alive(pid)).collect();
    assert!(left.is_empty(), "still running after {name}: {left:?}");
}

#[test]
fn sigint_kills_the_program_and_removes_the_unfinished_folder() {
    interrupt_with(libc::SIGINT, "SIGINT", 130);
}

#[test]
fn sigterm_does_the_same_with_exit_143() {
    interrupt_with(libc::SIGTERM, "SIGTERM", 143);
}

#[test]
fn sigint_during_the_python_ladder_kills_its_server_and_workers() {
    let python = std::process::Command::new("python3")
        .arg("--version")
        .output();
    if !python.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: no python3 on PATH, so no Python ladder to interrupt");
        return;
    }
    // The Python server runs in its own process group: the interrupt must still reach it.
    interrupt_while(
        libc::SIGINT,
        "SIGINT",
        130,
        &["--budget", "8", "--nx", "24", "--ny", "24", "--nc", "24"],
        "serve.py",
    );
}

#[test]
fn a_killed_runs_folder_is_swept_by_the_next_run_and_a_live_ones_kept() {
    let out = tempfile::tempdir().unwrap();
    let mut gone = Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    let host = host_name();
    let stale = format!(".{host}-20260101T000000Z.partial-{gone_pid}");
    let live = format!(".{host}-20260101T000001Z.partial-{}", std::process::id());
    let other_host = format!(".not-{host}-20260101T000000Z.partial-{gone_pid}");
    for name in [&stale, &live, &other_host] {
        std::fs::create_dir(out.path().join(name)).unwrap();
        std::fs::write(out.path().join(name).join("report.json"), "{").unwrap();
    }
    let output = Command::new(BINARY)
        .args(["profile", "--no-stacks", "--out"])
        .arg(out.path())
        .args(["--", "true"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains(&stale), "{stderr}");
    let left = entries(out.path());
    assert!(!left.contains(&stale), "{left:?}");
    assert!(left.contains(&live), "{left:?}");
    assert!(left.contains(&other_host), "{left:?}");
    assert_eq!(
        left.len(),
        3,
        "the profile's own folder, and the two kept: {left:?}"
    );
}
