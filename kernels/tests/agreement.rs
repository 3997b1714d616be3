//! Every registered variant must reproduce the reference field before its timing means anything.

use hpc_kernels::scatter::variants::gpu::tolerance_for;
use hpc_kernels::scatter::{
    Availability, Contour, Field, Problem, RunOutput, RunSettings, registry,
};

fn problems() -> Vec<(&'static str, Problem)> {
    let build = |b: hpc_kernels::scatter::ProblemBuilder| b.build().expect("valid test problem");
    vec![
        (
            "default 32^3",
            build(Problem::builder().cells(32, 32).segments(32)),
        ),
        (
            "default 64^3",
            build(Problem::builder().cells(64, 64).segments(64)),
        ),
        (
            "circle",
            build(
                Problem::builder()
                    .cells(40, 40)
                    .segments(48)
                    .contour(Contour::Circle),
            ),
        ),
        (
            "lambda 0.3",
            build(
                Problem::builder()
                    .cells(36, 36)
                    .segments(40)
                    .wavelength(0.3),
            ),
        ),
        (
            "non-square 48x20",
            build(Problem::builder().cells(48, 20).segments(24)),
        ),
    ]
}

fn run_output(name: &str, problem: &Problem, settings: &RunSettings) -> RunOutput {
    let variant = registry::find(name).unwrap();
    variant
        .run(problem, settings)
        .unwrap_or_else(|e| panic!("{name} failed on {problem}: {e}"))
}

fn run(name: &str, problem: &Problem, settings: &RunSettings) -> Field {
    run_output(name, problem, settings)
        .field
        .unwrap_or_else(|| panic!("{name} returned no field"))
}

#[test]
fn every_available_variant_agrees_with_naive() {
    let mut settings = RunSettings::default();
    settings.threads = Some(2);
    settings.workers = Some(2);
    for (label, problem) in problems() {
        let reference = run("naive", &problem, &settings);
        for variant in registry::all() {
            if let Availability::Unavailable { reason, .. } = variant.availability() {
                eprintln!("{} skipped: {reason}", variant.name());
                continue;
            }
            let output = run_output(variant.name(), &problem, &settings);
            // The ladder's 1e-6 / 1e-7, relaxed only for a GPU run that states it used f32.
            let (node_tolerance, checksum_tolerance) = tolerance_for(&output);
            let field = output
                .field
                .unwrap_or_else(|| panic!("{} returned no field", variant.name()));
            let agreement = field.agreement(&reference);
            assert!(
                agreement.within(node_tolerance, checksum_tolerance),
                "{} on {label}: {agreement:?} ({:?})",
                variant.name(),
                output.notes
            );
        }
    }
}

#[test]
fn reference_checksums_of_the_spec_are_reproduced() {
    for (cells, expected, outside) in [
        (32, 326.47528735635234, 33 * 33 - 89),
        (64, 1187.6032737512362, 65 * 65 - 360),
        (128, 4686.339327725555, 129 * 129 - 1450),
    ] {
        let problem = Problem::builder()
            .cells(cells, cells)
            .segments(cells)
            .build()
            .unwrap();
        let field = run("naive", &problem, &RunSettings::default());
        let relative = (field.checksum() - expected).abs() / expected;
        assert!(
            relative < 1e-6,
            "{cells}^3: {} vs {expected}",
            field.checksum()
        );
        assert_eq!(field.outside_nodes(), outside);
    }
}
