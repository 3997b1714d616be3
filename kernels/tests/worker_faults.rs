//! Worker processes that hang, crash or answer garbage fail the run with a reason, and leave no process behind.

use std::time::{Duration, Instant};

use hpc_kernels::scatter::{Problem, RunSettings, Variant, variants::processes::PROCESSES};

/// Processes whose command line contains `marker`, from /proc.
fn processes_with(marker: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            path.file_name()?.to_str()?.parse::<u32>().ok()?;
            let cmdline = std::fs::read(path.join("cmdline")).ok()?;
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            (text.contains(marker) && !text.contains("worker_faults")).then_some(text)
        })
        .collect()
}

/// Runs `processes` on a small problem with 2 workers running `script` under `sh -c`.
fn run_with(script: &str) -> (String, Duration) {
    let mut settings = RunSettings::default();
    settings.workers = Some(2);
    settings.worker_command = Some(vec!["sh".into(), "-c".into(), script.into()]);
    settings.worker_timeout = Some(Duration::from_secs(1));
    let problem = Problem::builder()
        .cells(16, 16)
        .segments(16)
        .build()
        .unwrap();
    let started = Instant::now();
    let error = PROCESSES
        .run(&problem, &settings)
        .expect_err("a faulty worker must fail the run");
    (error.to_string(), started.elapsed())
}

#[test]
fn a_worker_that_hangs_is_killed_after_its_timeout_with_its_children() {
    // `sleep` runs under the shell: killing the shell alone would leave it holding the pipes.
    let (message, took) = run_with("sleep 41.25; true");
    assert!(
        message.contains("stopped answering after 1.0 s; killed"),
        "{message}"
    );
    assert!(message.contains("worker 0 of 2"), "{message}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(processes_with("sleep 41.25"), Vec::<String>::new());
}

#[test]
fn a_worker_that_crashes_is_named_with_its_exit_status() {
    let (message, _) = run_with("exit 3");
    assert!(message.contains("worker"), "{message}");
    assert!(message.contains("exit status: 3"), "{message}");
}

#[test]
fn a_worker_that_writes_garbage_is_refused_and_killed() {
    let (message, took) = run_with("printf 'not a frame at all'; sleep 42.5");
    assert!(message.contains("worker"), "{message}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(processes_with("sleep 42.5"), Vec::<String>::new());
}
