//! After a worker fails, the other workers are killed and every worker is reaped: no process is left.
//!
//! A test binary of its own, so no other test's workers are children of this process.
#![cfg(target_os = "linux")]

use std::sync::mpsc;
use std::time::Duration;

use hpc_kernels::scatter::{Problem, RunSettings, registry};

/// Processes (including zombies) whose parent is this test process.
fn children() -> Vec<String> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("stat")).ok())
        .filter(|stat| {
            // pid (comm) state ppid ...: comm may hold spaces, so split after its ')'.
            let after_comm = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            after_comm.split_whitespace().nth(1) == Some(me.as_str())
        })
        .collect()
}

#[test]
fn a_failed_run_leaves_no_worker_behind() {
    // The detector sees a child, and an unreaped one, before it is trusted to see none.
    let mut probe = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    assert_eq!(children().len(), 1);
    probe.kill().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(children().len(), 1, "a killed, unreaped child is a zombie");
    probe.wait().unwrap();
    assert!(children().is_empty());

    let mut settings = RunSettings::default();
    settings.workers = Some(3);
    settings.worker_command = Some(vec![
        env!("CARGO_BIN_EXE_hpc-advisor").into(),
        "worker".into(),
        "--fault".into(),
        "fail".into(),
    ]);
    let problem = Problem::builder()
        .cells(96, 96)
        .segments(64)
        .build()
        .unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let variant = registry::find("processes").unwrap();
        let _ = sender.send(variant.run(&problem, &settings).map(|_| ()));
    });
    let outcome = receiver
        .recv_timeout(Duration::from_secs(120))
        .expect("the failed run returns instead of hanging");
    let error = outcome.expect_err("the workers were told to fail at their second request");
    assert!(error.to_string().contains("told to fail"), "{error}");
    assert_eq!(
        children(),
        Vec::<String>::new(),
        "workers left running or unreaped"
    );
}
