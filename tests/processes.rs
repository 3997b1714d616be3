//! The `processes` variant against real worker processes of this binary: agreement and failures.
//!
//! The kernels crate's agreement test runs in a test harness, which cannot
//! serve as a worker, so `processes` is unavailable there; here every
//! variant of the registry runs with `worker_command` set to the built
//! `hpc-advisor`, so `processes` is checked against `naive` like the rest.

use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use hpc_kernels::scatter::{Field, Problem, RunOutput, RunSettings, VariantError, registry};

const BINARY: &str = env!("CARGO_BIN_EXE_hpc-advisor");
/// Far above what any run here takes: reaching it means the parent hung.
const TIMEOUT: Duration = Duration::from_secs(120);

fn settings(extra: &[&str]) -> RunSettings {
    let mut settings = RunSettings::default();
    settings.threads = Some(2);
    settings.workers = Some(2);
    let mut command = vec![BINARY.into(), "worker".into()];
    command.extend(extra.iter().map(|arg| (*arg).into()));
    settings.worker_command = Some(command);
    settings
}

/// Runs a variant on another thread and fails the test if it does not return in time.
fn run_with_timeout(
    name: &'static str,
    problem: &Problem,
    settings: &RunSettings,
) -> Result<RunOutput, VariantError> {
    let (sender, receiver) = mpsc::channel();
    let (problem, settings) = (problem.clone(), settings.clone());
    std::thread::spawn(move || {
        let variant = registry::find(name).expect("registered");
        let _ = sender.send(variant.run(&problem, &settings));
    });
    receiver
        .recv_timeout(TIMEOUT)
        .unwrap_or_else(|_| panic!("{name} did not finish within {TIMEOUT:?}: it hangs"))
}

fn field_of(name: &'static str, problem: &Problem, settings: &RunSettings) -> Field {
    run_with_timeout(name, problem, settings)
        .unwrap_or_else(|e| panic!("{name} failed on {problem}: {e}"))
        .field
        .unwrap_or_else(|| panic!("{name} returned no field"))
}

#[test]
fn every_variant_including_processes_agrees_with_naive() {
    let settings = settings(&[]);
    let problems = [
        Problem::builder()
            .cells(32, 32)
            .segments(32)
            .build()
            .unwrap(),
        Problem::builder()
            .cells(40, 23)
            .segments(30)
            .contour(hpc_kernels::scatter::Contour::Parametric {
                x: "cos(2*pi*t)".into(),
                y: "0.5*sin(2*pi*t)".into(),
            })
            .build()
            .unwrap(),
    ];
    let mut ran_processes = false;
    for problem in &problems {
        let reference = field_of("naive", problem, &settings);
        for variant in registry::all() {
            let name = variant.name();
            match run_with_timeout(name, problem, &settings) {
                Ok(output) => {
                    let field = output
                        .field
                        .expect("a single-process run returns the field");
                    let agreement = field.agreement(&reference);
                    assert!(agreement.within(1e-6, 1e-7), "{name}: {agreement:?}");
                    ran_processes |= name == "processes";
                }
                // Variants that need a launcher, a feature or a device, not a worker command.
                Err(VariantError::Unavailable { reason, .. }) => {
                    assert_ne!(name, "processes", "processes unavailable: {reason}");
                    eprintln!("skipped {name}: {reason}");
                }
                Err(error) => panic!("{name} failed on {problem}: {error}"),
            }
        }
    }
    assert!(ran_processes);
}

#[test]
fn more_workers_than_rows_and_one_worker_still_agree() {
    let problem = Problem::builder().cells(6, 3).segments(8).build().unwrap();
    let reference = field_of("naive", &problem, &settings(&[]));
    for workers in [1, 7] {
        let mut settings = settings(&[]);
        settings.workers = Some(workers);
        let agreement = field_of("processes", &problem, &settings).agreement(&reference);
        assert!(
            agreement.within(1e-6, 1e-7),
            "{workers} workers: {agreement:?}"
        );
    }
}

fn failure_of(fault: &str) -> String {
    let problem = Problem::builder()
        .cells(48, 48)
        .segments(16)
        .build()
        .unwrap();
    let settings = settings(&["--fault", fault]);
    match run_with_timeout("processes", &problem, &settings) {
        Ok(_) => panic!("a worker told to `{fault}` went unnoticed"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn a_worker_that_fails_fails_the_run_with_its_reason() {
    let message = failure_of("fail");
    // Every worker carries the fault; whichever is asked twice first reports it.
    assert!(
        message.contains("worker 0 of 2") || message.contains("worker 1 of 2"),
        "{message}"
    );
    assert!(message.contains("told to fail"), "{message}");
    assert!(message.contains("exit status: 1"), "{message}");
}

#[test]
fn a_worker_that_exits_early_fails_the_run() {
    let message = failure_of("exit");
    assert!(
        message.contains("closed its output before returning rows"),
        "{message}"
    );
}

#[test]
fn a_killed_worker_fails_the_run() {
    let message = failure_of("abort");
    assert!(message.contains("closed its output"), "{message}");
    assert!(message.contains("signal"), "{message}");
}

#[test]
fn malformed_or_wrong_rows_fail_the_run() {
    let message = failure_of("garbage");
    assert!(message.contains("malformed data"), "{message}");
    assert!(message.contains("bad magic"), "{message}");
    let message = failure_of("wrong-row");
    assert!(message.contains("when asked for rows"), "{message}");
}

#[test]
fn the_cli_runs_processes_and_reports_its_checksum() {
    let output = Command::new(BINARY)
        .args(["kernel", "run", "--variant", "processes", "--workers", "2"])
        .args(["--nx", "32", "--ny", "32", "--nc", "32", "--checksum"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("2 worker processes"), "{stdout}");
    assert!(stdout.contains("relative difference"), "{stdout}");
}
