//! `gpu`: the scatter field from a WGSL compute shader through wgpu, one invocation per node.
//!
//! Each invocation runs the inside test, the incident wave and the ordered
//! sum over the segments for one node; the per-segment constants of
//! [`crate::scatter::SegmentTable`] sit in a storage buffer that every
//! invocation reads. The shader computes in f64 where the adapter offers it
//! (wgpu's `SHADER_F64`) and in f32 with compensated summation otherwise or
//! when [`RunSettings::force_f32`] asks; the precision is stated in the run's
//! notes and decides the tolerance the field is checked with
//! ([`Precision::tolerance`]). Upload, compute and download are timed as
//! separate phases, and opening the device plus compiling the shader (once
//! per process and precision) as a fourth, `setup`.
//!
//! Without the `gpu` cargo feature the variant is listed but unavailable,
//! with the hint to rebuild with the feature.

mod crossover;
#[cfg(feature = "gpu")]
mod device_run;
#[cfg(feature = "gpu")]
mod shader;

pub use crossover::{Crossover, CrossoverSample, crossover, fastest_cpu_variant};

use std::sync::LazyLock;

use crate::scatter::field::Agreement;
use crate::scatter::problem::Problem;
use crate::scatter::variant::{Availability, RunOutput, RunSettings, Variant, VariantError};

/// The GPU variant (unit struct, registered once).
#[derive(Debug, Clone, Copy)]
pub struct GpuVariant;

pub static GPU: GpuVariant = GpuVariant;

/// The registered name.
pub const NAME: &str = "gpu";

/// The floating-point precision a GPU run computed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// f64 throughout, like the CPU variants: the ladder's tolerance applies.
    F64,
    /// f32 arithmetic with Kahan-compensated segment sums: a relaxed tolerance applies.
    F32Compensated,
}

impl Precision {
    /// Node tolerance of an f32 run: 1e-3 of the field's largest value.
    pub const F32_NODE_TOLERANCE: f64 = 1e-3;
    /// Checksum tolerance of an f32 run: 1e-4 relative.
    pub const F32_CHECKSUM_TOLERANCE: f64 = 1e-4;

    /// The note a run carries in [`RunOutput::notes`] to state its precision.
    pub fn note(self) -> &'static str {
        static F32_NOTE: LazyLock<String> = LazyLock::new(|| {
            format!(
                "precision: f32 with Kahan-compensated segment sums (relaxed tolerance: {:e} on \
                 the checksum)",
                Precision::F32_CHECKSUM_TOLERANCE
            )
        });
        match self {
            Precision::F64 => "precision: f64 (the adapter offers SHADER_F64)",
            Precision::F32Compensated => &F32_NOTE,
        }
    }

    /// The precision a GPU run states in its notes ([`Precision::note`]); `None` for any other notes.
    pub fn from_notes(notes: &[String]) -> Option<Precision> {
        [Precision::F64, Precision::F32Compensated]
            .into_iter()
            .find(|p| notes.iter().any(|note| note == p.note()))
    }

    /// The precision a GPU run states in its output's notes; `None` for any other output.
    pub fn of(output: &RunOutput) -> Option<Precision> {
        Precision::from_notes(&output.notes)
    }

    /// `(node, checksum)` tolerances a field of this precision must meet against `naive`.
    pub fn tolerance(self) -> (f64, f64) {
        match self {
            Precision::F64 => (
                Agreement::LADDER_NODE_TOLERANCE,
                Agreement::LADDER_CHECKSUM_TOLERANCE,
            ),
            Precision::F32Compensated => (Self::F32_NODE_TOLERANCE, Self::F32_CHECKSUM_TOLERANCE),
        }
    }
}

/// The `(node, checksum)` tolerance any variant's output must meet against `naive`:
/// the ladder's (every CPU variant computes in f64), or the relaxed one of a
/// single-precision GPU run.
pub fn tolerance_for(output: &RunOutput) -> (f64, f64) {
    Precision::of(output).unwrap_or(Precision::F64).tolerance()
}

impl Variant for GpuVariant {
    fn name(&self) -> &'static str {
        NAME
    }
    fn summary(&self) -> &'static str {
        "WGSL compute shader through wgpu, one invocation per node, segment constants in a storage buffer"
    }
    fn python_analogue(&self) -> &'static str {
        "a Numba CUDA kernel or CuPy (compile the loop for the GPU)"
    }
    fn needs(&self) -> &'static str {
        "a GPU driver with Vulkan, Metal or DX12, and the `gpu` cargo feature"
    }
    fn availability(&self) -> Availability {
        match crate::gpu::selected_adapter() {
            Ok(_) => Availability::Available,
            Err(unavailable) => Availability::Unavailable {
                reason: unavailable.reason,
                hint: unavailable.hint,
            },
        }
    }
    /// Lavapipe on a loaded 2-core machine computed 30-40 ns per pair in f64 (15 in f32);
    /// a real GPU is far faster, so this only keeps the workload guard sane.
    fn nominal_ns_per_pair(&self) -> f64 {
        30.0
    }
    /// The node's output (16 bytes) is spread over its segments; segment data
    /// (64 bytes per segment in f64) is shared by all invocations through the caches.
    fn bytes_per_pair(&self) -> f64 {
        64.0
    }
    fn run(&self, problem: &Problem, settings: &RunSettings) -> Result<RunOutput, VariantError> {
        #[cfg(feature = "gpu")]
        {
            device_run::run(problem, settings)
        }
        #[cfg(not(feature = "gpu"))]
        {
            let _ = (problem, settings);
            let unavailable = crate::gpu::selected_adapter()
                .expect_err("without the gpu feature there is never an adapter");
            Err(VariantError::Unavailable {
                variant: NAME,
                reason: unavailable.reason,
                hint: unavailable.hint,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_is_read_back_from_the_notes() {
        for precision in [Precision::F64, Precision::F32Compensated] {
            let output = RunOutput {
                field: None,
                phases: Vec::new(),
                own_timing: None,
                notes: vec!["adapter: x".into(), precision.note().into()],
            };
            assert_eq!(Precision::of(&output), Some(precision));
            assert_eq!(tolerance_for(&output), precision.tolerance());
        }
        let cpu = RunOutput {
            field: None,
            phases: Vec::new(),
            own_timing: None,
            notes: vec!["4 threads".into()],
        };
        assert_eq!(Precision::of(&cpu), None);
        assert_eq!(Precision::from_notes(&[]), None);
        assert_eq!(tolerance_for(&cpu), (1e-6, 1e-7));
    }
}
