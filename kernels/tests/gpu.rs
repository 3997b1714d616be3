//! The GPU variant on whatever adapter this machine has (lavapipe in CI): agreement with
//! `naive` in f64 and in forced f32, the timing breakdown, the software flag, the crossover
//! measurement, and the clean fallback when no Vulkan driver is visible.
//!
//! Without any adapter these tests say so and pass, unless `HPC_REQUIRE_GPU=1` (set by
//! `.ci/run`, which installs lavapipe) demands one.
#![cfg(feature = "gpu")]

use std::process::Command;

use hpc_kernels::gpu::{self, DeviceKind};
use hpc_kernels::scatter::variants::gpu::{GPU, Precision, crossover, tolerance_for};
use hpc_kernels::scatter::{
    Availability, Contour, Field, Problem, RunOutput, RunSettings, Variant, registry,
};

/// Whether an adapter is present; without one, fails only when CI demands a GPU.
fn adapter_present() -> bool {
    match gpu::selected_adapter() {
        Ok(_) => true,
        Err(unavailable) => {
            assert!(
                std::env::var_os("HPC_REQUIRE_GPU").is_none(),
                "HPC_REQUIRE_GPU is set but {unavailable} ({})",
                unavailable.hint
            );
            eprintln!("skipped: {unavailable}");
            false
        }
    }
}

/// `n x n` cells and `n` segments around the default contour.
fn cube(cells: usize) -> Problem {
    Problem::builder()
        .cells(cells, cells)
        .segments(cells)
        .build()
        .unwrap()
}

fn problems() -> Vec<(&'static str, Problem)> {
    vec![
        ("default 24^3", cube(24)),
        (
            "circle 20x20, 28 segments",
            Problem::builder()
                .cells(20, 20)
                .segments(28)
                .contour(Contour::Circle)
                .build()
                .unwrap(),
        ),
        (
            "short wave (large kR) 30x12",
            Problem::builder()
                .cells(30, 12)
                .segments(16)
                .wavelength(0.1)
                .build()
                .unwrap(),
        ),
    ]
}

fn run_gpu(problem: &Problem, force_f32: bool) -> (RunOutput, Field) {
    let mut settings = RunSettings::default();
    settings.force_f32 = force_f32;
    let mut output = GPU
        .run(problem, &settings)
        .unwrap_or_else(|e| panic!("gpu failed on {problem}: {e}"));
    let field = output
        .field
        .take()
        .expect("the gpu variant returns the field");
    (output, field)
}

fn naive(problem: &Problem) -> Field {
    registry::reference()
        .run(problem, &RunSettings::default())
        .unwrap()
        .field
        .unwrap()
}

#[test]
fn f64_run_meets_the_ladder_tolerance_where_the_adapter_offers_f64() {
    if !adapter_present() {
        return;
    }
    let offers_f64 = gpu::selected_adapter().unwrap().shader_f64;
    for (label, problem) in problems() {
        let (output, field) = run_gpu(&problem, false);
        let expected = if offers_f64 {
            Precision::F64
        } else {
            Precision::F32Compensated
        };
        assert_eq!(Precision::of(&output), Some(expected), "{label}");
        let (node, checksum) = tolerance_for(&output);
        let reference = naive(&problem);
        let agreement = field.agreement(&reference);
        assert!(agreement.within(node, checksum), "{label}: {agreement:?}");
        assert_eq!(field.outside_nodes(), reference.outside_nodes());
    }
}

#[test]
fn forced_f32_run_meets_the_relaxed_tolerance() {
    if !adapter_present() {
        return;
    }
    for (label, problem) in problems() {
        let (output, field) = run_gpu(&problem, true);
        assert_eq!(
            Precision::of(&output),
            Some(Precision::F32Compensated),
            "{label}"
        );
        let agreement = field.agreement(&naive(&problem));
        assert!(
            agreement.within(
                Precision::F32_NODE_TOLERANCE,
                Precision::F32_CHECKSUM_TOLERANCE
            ),
            "{label}: {agreement:?}"
        );
    }
}

/// The spec's 32^3 checksum, and the four timed phases every run reports.
#[test]
fn spec_checksum_is_reproduced_with_the_timing_breakdown() {
    if !adapter_present() {
        return;
    }
    let (output, field) = run_gpu(&cube(32), false);
    let (_, checksum_tolerance) = tolerance_for(&output);
    let relative = (field.checksum() - 326.47528735635234).abs() / 326.47528735635234;
    assert!(relative < checksum_tolerance.max(1e-6), "{relative:e}");
    let names: Vec<&str> = output.phases.iter().map(|p| p.name).collect();
    assert_eq!(names, ["setup", "upload", "compute", "download"]);
}

#[test]
fn software_adapters_are_flagged_and_said_so_in_the_notes() {
    if !adapter_present() {
        return;
    }
    let adapters = gpu::list_adapters().expect("an adapter was found above");
    for adapter in &adapters {
        let by_name = ["llvmpipe", "lavapipe", "swiftshader"]
            .iter()
            .any(|m| adapter.name.to_lowercase().contains(m));
        if adapter.device_type == DeviceKind::Cpu || by_name {
            assert!(adapter.software, "{}", adapter.summary());
        }
        assert!(adapter.limits.max_invocations_per_workgroup >= 1);
        assert!(adapter.limits.max_storage_buffer_binding_bytes > 0);
        assert!(!adapter.backend.is_empty());
    }
    // Hardware adapters come first.
    let first_software = adapters.iter().position(|a| a.software);
    if let Some(first) = first_software {
        assert!(adapters[first..].iter().all(|a| a.software));
    }
    let selected = gpu::selected_adapter().unwrap();
    let problem = cube(8);
    let (output, _) = run_gpu(&problem, false);
    let says_software = output
        .notes
        .iter()
        .any(|n| n.starts_with("software adapter"));
    assert_eq!(says_software, selected.software, "{:?}", output.notes);
    assert_eq!(GPU.availability(), Availability::Available);
}

#[test]
fn crossover_measures_both_sides_on_agreeing_fields() {
    if !adapter_present() {
        return;
    }
    let cpu = registry::find("fused").unwrap();
    let result = crossover(cpu, &[8, 16], 1, &RunSettings::default()).unwrap();
    assert_eq!(result.cpu_variant, "fused");
    assert_eq!(result.samples.len(), 2);
    assert!(result.samples[0].pairs < result.samples[1].pairs);
    assert!(
        result
            .samples
            .iter()
            .all(|s| s.cpu_seconds > 0.0 && s.gpu_seconds > 0.0)
    );
    assert!(result.gpu_notes.iter().any(|n| n.starts_with("precision:")));
}

/// Set in the child process that runs without a Vulkan driver.
const CHILD_MARKER: &str = "HPC_GPU_TEST_WITHOUT_DRIVER";

/// Re-runs itself in a child process that sees no Vulkan driver, where the
/// GPU API must answer with a clean "no GPU adapter" fact: no panic, no hang.
#[test]
fn no_driver_gives_a_clean_no_adapter_fact() {
    if std::env::var_os(CHILD_MARKER).is_some() {
        let unavailable = gpu::list_adapters().expect_err("no driver is visible");
        assert!(
            unavailable.reason.starts_with("no GPU adapter:"),
            "{unavailable}"
        );
        assert!(
            unavailable.hint.contains("VK_ICD_FILENAMES"),
            "{}",
            unavailable.hint
        );
        assert!(matches!(
            GPU.availability(),
            Availability::Unavailable { .. }
        ));
        let problem = cube(8);
        let error = GPU.run(&problem, &RunSettings::default()).unwrap_err();
        assert!(error.hint().is_some_and(|h| !h.is_empty()), "{error}");
        assert!(error.to_string().contains("no GPU adapter"), "{error}");
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "no_driver_gives_a_clean_no_adapter_fact",
            "--nocapture",
        ])
        .env(CHILD_MARKER, "1")
        .env("VK_ICD_FILENAMES", "/nonexistent")
        .env("VK_DRIVER_FILES", "/nonexistent")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
