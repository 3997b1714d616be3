//! Soak: every variant run again and again on a small problem, every field checked, to surface
//! rare races in the thread pool, the worker-process protocol, the Python servers or the GPU path.

use std::time::{Duration, Instant};

use hpc_kernels::scatter::variants::gpu::tolerance_for;
use hpc_kernels::scatter::{Availability, Problem, RunSettings, Variant, registry};

/// Runs per variant, and the time after which a variant's series stops early.
const MAX_RUNS: usize = 300;
const TIME_PER_VARIANT: Duration = Duration::from_secs(3);

#[test]
fn every_variant_agrees_with_naive_run_after_run() {
    let problem = Problem::builder()
        .cells(20, 20)
        .segments(20)
        .build()
        .unwrap();
    let mut settings = RunSettings::default();
    settings.threads = Some(2);
    settings.workers = Some(2);
    settings.worker_command = Some(vec![
        env!("CARGO_BIN_EXE_hpc-advisor").into(),
        "worker".into(),
    ]);
    let reference = registry::reference()
        .run(&problem, &settings)
        .unwrap()
        .field
        .unwrap();
    let variants: Vec<&dyn Variant> = registry::all()
        .iter()
        .copied()
        .chain(registry::python())
        .collect();
    let mut summary = Vec::new();
    for variant in variants {
        // The mpi variant runs only inside a launched job (tests/mpi.rs); py-mpi4py needs a launcher.
        if variant.name() == "mpi" || variant.name() == "py-mpi4py" {
            continue;
        }
        // `processes` is given its worker command above; it says unavailable in a test binary.
        if variant.name() != "processes"
            && let Availability::Unavailable { reason, .. } = variant.availability()
        {
            eprintln!("soak: {} skipped: {reason}", variant.name());
            continue;
        }
        let started = Instant::now();
        let mut runs = 0;
        while runs < MAX_RUNS && started.elapsed() < TIME_PER_VARIANT {
            let output = variant
                .run(&problem, &settings)
                .unwrap_or_else(|e| panic!("{} failed on run {}: {e}", variant.name(), runs + 1));
            let (node, checksum) = tolerance_for(&output);
            let agreement = output.field.as_ref().unwrap().agreement(&reference);
            assert!(
                agreement.within(node, checksum),
                "{} disagreed on run {}: {agreement:?}",
                variant.name(),
                runs + 1
            );
            runs += 1;
        }
        summary.push(format!("{} x{runs}", variant.name()));
    }
    eprintln!("soak: every field agreed: {}", summary.join(", "));
    assert!(summary.len() >= 7, "too few variants ran: {summary:?}");
}
