//! The Python ladder (`kernels/python/`) must reproduce the Rust reference, and its Hankel functions libm's.
//!
//! A rung whose package this interpreter lacks is skipped with the reason
//! printed, unless `HPC_REQUIRE_NUMPY`, `HPC_REQUIRE_NUMBA` or
//! `HPC_REQUIRE_MPI4PY` says the package must be there (`.ci/run` sets them
//! after installing `kernels/python/requirements.txt`), so a broken install
//! fails CI instead of skipping quietly.

use std::ffi::OsString;
use std::time::Duration;

use hpc_kernels::scatter::hankel;
use hpc_kernels::scatter::variants::python::{interpreter, server::Server};
use hpc_kernels::scatter::{Availability, Contour, Problem, RunSettings, Variant, registry};

fn required(package: &str) -> bool {
    let variable = format!("HPC_REQUIRE_{}", package.to_uppercase());
    std::env::var_os(variable).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Whether `variant` can run here; panics when a required package is missing.
fn runnable(variant: &dyn Variant) -> bool {
    match variant.availability() {
        Availability::Available => true,
        Availability::Unavailable { reason, hint } => {
            for package in ["numpy", "numba", "mpi4py"] {
                assert!(
                    !(required(package) && reason.contains(package)),
                    "{}: {reason} ({hint}), but HPC_REQUIRE_{} is set",
                    variant.name(),
                    package.to_uppercase()
                );
            }
            eprintln!("{} skipped: {reason} ({hint})", variant.name());
            false
        }
    }
}

/// `mpirun -n 2` with the flags a root user or a 2-core runner needs, if Open MPI's launcher is here.
fn mpi_launcher() -> Option<Vec<OsString>> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("mpirun"))
        .find(|candidate| candidate.is_file())?;
    let mut launcher = vec![found.into_os_string(), "-n".into(), "2".into()];
    launcher.push("--oversubscribe".into());
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        launcher.push("--allow-run-as-root".into());
    }
    Some(launcher)
}

fn problems() -> Vec<(&'static str, Problem)> {
    let build = |b: hpc_kernels::scatter::ProblemBuilder| b.build().expect("valid test problem");
    vec![
        (
            "default 32^3",
            build(Problem::builder().cells(32, 32).segments(32)),
        ),
        (
            "circle 24x24, 28 segments",
            build(
                Problem::builder()
                    .cells(24, 24)
                    .segments(28)
                    .contour(Contour::Circle),
            ),
        ),
        (
            "lambda 0.3, 30x18",
            build(
                Problem::builder()
                    .cells(30, 18)
                    .segments(26)
                    .wavelength(0.3),
            ),
        ),
    ]
}

#[test]
fn every_python_rung_agrees_with_the_rust_reference() {
    let mut settings = RunSettings::default();
    settings.threads = Some(2);
    settings.workers = Some(2);
    settings.mpi_launcher = mpi_launcher();
    for (label, problem) in problems() {
        let reference = registry::reference()
            .run(&problem, &settings)
            .unwrap()
            .field
            .unwrap();
        for variant in registry::python() {
            if !runnable(variant) {
                continue;
            }
            if variant.name() == "py-mpi4py" && settings.mpi_launcher.is_none() {
                assert!(!required("mpi4py"), "py-mpi4py needs mpirun on PATH");
                eprintln!("py-mpi4py skipped: no mpirun on PATH");
                continue;
            }
            let output = variant
                .run(&problem, &settings)
                .unwrap_or_else(|e| panic!("{} on {label}: {e}", variant.name()));
            let timing = output.own_timing.expect("a Python rung times itself");
            assert!(timing.wall > Duration::ZERO, "{}", variant.name());
            let agreement = output.field.as_ref().unwrap().agreement(&reference);
            eprintln!("{} on {label}: {agreement:?}", variant.name());
            assert!(
                agreement.within(1e-6, 1e-7),
                "{} on {label}: {agreement:?} ({:?})",
                variant.name(),
                output.notes
            );
        }
    }
}

#[test]
fn numba_reports_its_compile_time_apart_from_the_run() {
    let numba = registry::find("py-numba").unwrap();
    if !runnable(numba) {
        return;
    }
    let problem = Problem::builder()
        .cells(16, 16)
        .segments(16)
        .build()
        .unwrap();
    let output = numba.run(&problem, &RunSettings::default()).unwrap();
    let compile = hpc_kernels::scatter::variants::python::compile_seconds(&output.notes)
        .unwrap_or_else(|| panic!("no compile note in {:?}", output.notes));
    // Compiling takes far longer than computing a 16^3 problem.
    assert!(
        compile > output.own_timing.unwrap().wall.as_secs_f64(),
        "{compile} s vs {:?}",
        output.own_timing
    );
}

/// Worst error of one implementation's (J0, Y0, J1, Y1) against libm, relative to
/// `max(|H0|, |H1|, 1)` as in the Rust kernels' own test.
fn worst_error(implementation: &str, xs: &[f64]) -> f64 {
    let mut server = Server::start(&interpreter::interpreter()).unwrap();
    let request = serde_json::json!({ "hankel": xs, "implementation": implementation });
    let (header, _) = server.request(&request, Duration::from_secs(120)).unwrap();
    assert!(header.ok, "{implementation}: {:?}", header.error);
    assert_eq!(header.values.len(), xs.len());
    xs.iter()
        .zip(&header.values)
        .map(|(&x, got)| {
            let (h0, h1) = hankel::reference(x);
            let scale = h0.norm().max(h1.norm()).max(1.0);
            got.iter()
                .zip([h0.re, h0.im, h1.re, h1.im])
                .map(|(g, e)| (g - e).abs() / scale)
                .fold(0.0, f64::max)
        })
        .fold(0.0, f64::max)
}

#[test]
fn python_hankel_functions_match_libm_over_the_problem_range() {
    // 0 < x < 200, densest where the forms switch.
    let xs: Vec<f64> = (1..=20_000)
        .map(|i| 1e-6 + 200.0 * f64::from(i) / 20_000.0)
        .chain((0..2_000).map(|i| 7.9 + 0.2 * f64::from(i) / 2_000.0))
        .collect();
    let stack = match interpreter::stack() {
        Ok(stack) => stack,
        Err(reason) => return eprintln!("Python Hankel test skipped: {reason}"),
    };
    for (implementation, package) in [
        ("pure", None),
        ("numpy", Some("numpy")),
        ("numba", Some("numba")),
    ] {
        if let Some(package) = package.filter(|p| stack.version(p).is_none()) {
            assert!(!required(package), "{package} required but missing");
            eprintln!("{implementation} Hankel skipped: {package} not installed");
            continue;
        }
        let error = worst_error(implementation, &xs);
        eprintln!("{implementation}: worst error against libm {error:.2e} on 0 < x <= 200");
        assert!(error < 2e-8, "{implementation}: {error:e}");
    }
}
