//! Where offloading starts to pay: the GPU against the best CPU variant at a few sizes.
//!
//! The decision tree's GPU node asks for the problem size below which the
//! transfer and launch costs make the GPU lose. [`crossover`] measures both
//! sides on square problems (`n x n` cells, `n` segments), checks that the
//! two fields agree, and places the crossing by interpolating the time ratio
//! in log-log between the last size the GPU loses and the first it wins.
//! The GPU side counts upload, compute and download; opening the device and
//! compiling the shader happen once per process and are left out (a warm-up
//! run pays them before measuring), since a program that offloads pays them
//! once, not per call.

use std::time::Instant;

use super::{GPU, NAME, tolerance_for};
use crate::scatter::field::Field;
use crate::scatter::problem::Problem;
use crate::scatter::registry;
use crate::scatter::variant::{Availability, Phase, RunOutput, RunSettings, Variant, VariantError};

/// Both sides measured at one size.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossoverSample {
    /// `n` of the `n x n` grid with `n` segments.
    pub cells: usize,
    /// Pair evaluations (outside nodes times segments).
    pub pairs: u64,
    /// Best wall time of the CPU variant's run.
    pub cpu_seconds: f64,
    /// Best GPU upload + compute + download.
    pub gpu_seconds: f64,
    /// The phases of that best GPU run (`setup` is near zero once the device is open).
    pub gpu_phases: Vec<Phase>,
}

impl CrossoverSample {
    /// CPU time over GPU time: above 1 the GPU wins.
    pub fn speedup(&self) -> f64 {
        self.cpu_seconds / self.gpu_seconds
    }
}

/// The measured crossover.
#[derive(Debug, Clone, PartialEq)]
pub struct Crossover {
    /// The CPU variant the GPU was compared with.
    pub cpu_variant: &'static str,
    /// The adapter and precision the GPU runs used (from the run's notes).
    pub gpu_notes: Vec<String>,
    pub samples: Vec<CrossoverSample>,
    /// Pairs below which the GPU loses: `Some(0)` if it won at every size
    /// measured, `None` if it lost at every size measured.
    pub gpu_loses_below_pairs: Option<u64>,
}

/// Measures `cpu` and the GPU on `n x n x n` problems for each `n` in `sizes`, best of `repeats`.
pub fn crossover(
    cpu: &dyn Variant,
    sizes: &[usize],
    repeats: usize,
    settings: &RunSettings,
) -> Result<Crossover, VariantError> {
    let mut samples = Vec::new();
    let mut gpu_notes = Vec::new();
    for (index, &cells) in sizes.iter().enumerate() {
        let problem = Problem::builder()
            .cells(cells, cells)
            .segments(cells)
            .build()
            .map_err(|e| {
                VariantError::failed(NAME, format!("cannot build a {cells}^3 problem: {e}"))
            })?;
        if index == 0 {
            // Opens the device and compiles the shader before anything is timed.
            GPU.run(&problem, settings)?;
        }
        let mut cpu_seconds = f64::INFINITY;
        let mut gpu_seconds = f64::INFINITY;
        let mut gpu_phases = Vec::new();
        let mut fields = None;
        for _ in 0..repeats.max(1) {
            let started = Instant::now();
            let cpu_output = cpu.run(&problem, settings)?;
            cpu_seconds = cpu_seconds.min(started.elapsed().as_secs_f64());
            let gpu_output = GPU.run(&problem, settings)?;
            let seconds = transfer_and_compute_seconds(&gpu_output);
            if seconds < gpu_seconds {
                gpu_seconds = seconds;
                gpu_phases.clone_from(&gpu_output.phases);
            }
            gpu_notes.clone_from(&gpu_output.notes);
            fields = Some((field_of(cpu_output, cpu.name())?, gpu_output));
        }
        let (cpu_field, gpu_output) = fields.expect("at least one repeat ran");
        let (node_tolerance, checksum_tolerance) = tolerance_for(&gpu_output);
        let gpu_field = field_of(gpu_output, NAME)?;
        let agreement = gpu_field.agreement(&cpu_field);
        if !agreement.within(node_tolerance, checksum_tolerance) {
            return Err(VariantError::failed(
                NAME,
                format!(
                    "the GPU field disagrees with `{}` at {cells}^3: {agreement:?}",
                    cpu.name()
                ),
            ));
        }
        samples.push(CrossoverSample {
            cells,
            pairs: cpu_field.outside_nodes() as u64 * cells as u64,
            cpu_seconds,
            gpu_seconds,
            gpu_phases,
        });
    }
    Ok(Crossover {
        cpu_variant: cpu.name(),
        gpu_notes,
        gpu_loses_below_pairs: crossing(&samples),
        samples,
    })
}

/// The available CPU variant with the shortest run on `problem` (best of `repeats`).
pub fn fastest_cpu_variant(
    problem: &Problem,
    repeats: usize,
    settings: &RunSettings,
) -> Result<&'static dyn Variant, VariantError> {
    let mut best: Option<(f64, &'static dyn Variant)> = None;
    for &variant in registry::all() {
        if variant.name() == NAME || variant.availability() != Availability::Available {
            continue;
        }
        let mut seconds = f64::INFINITY;
        for _ in 0..repeats.max(1) {
            let started = Instant::now();
            variant.run(problem, settings)?;
            seconds = seconds.min(started.elapsed().as_secs_f64());
        }
        if best.is_none_or(|(fastest, _)| seconds < fastest) {
            best = Some((seconds, variant));
        }
    }
    best.map(|(_, variant)| variant)
        .ok_or_else(|| VariantError::failed(NAME, "no CPU variant is available to compare with"))
}

fn field_of(output: RunOutput, variant: &str) -> Result<Field, VariantError> {
    output
        .field
        .ok_or_else(|| VariantError::failed(NAME, format!("`{variant}` returned no field")))
}

fn transfer_and_compute_seconds(output: &RunOutput) -> f64 {
    output
        .phases
        .iter()
        .filter(|phase| matches!(phase.name, "upload" | "compute" | "download"))
        .map(|phase| phase.duration.as_secs_f64())
        .sum()
}

/// The pairs where the speedup crosses 1, interpolated in log-log between the
/// last losing and the first winning size after which the GPU keeps winning.
fn crossing(samples: &[CrossoverSample]) -> Option<u64> {
    let first_win = samples
        .iter()
        .rposition(|s| s.speedup() < 1.0)
        .map_or(Some(0), |loss| {
            (loss + 1 < samples.len()).then_some(loss + 1)
        })?;
    if first_win == 0 {
        return Some(0);
    }
    let (loss, win) = (&samples[first_win - 1], &samples[first_win]);
    let (x0, x1) = ((loss.pairs as f64).ln(), (win.pairs as f64).ln());
    let (y0, y1) = (loss.speedup().ln(), win.speedup().ln());
    let x = x0 + (x1 - x0) * (0.0 - y0) / (y1 - y0);
    Some(x.exp().round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(pairs: u64, cpu_seconds: f64, gpu_seconds: f64) -> CrossoverSample {
        CrossoverSample {
            cells: 0,
            pairs,
            cpu_seconds,
            gpu_seconds,
            gpu_phases: Vec::new(),
        }
    }

    #[test]
    fn the_crossing_is_interpolated_between_the_last_loss_and_the_first_win() {
        // speedup 0.5 at 1000 pairs, 2 at 100000 pairs: log-log midpoint is 10000.
        let samples = [sample(1000, 1.0, 2.0), sample(100_000, 2.0, 1.0)];
        assert_eq!(crossing(&samples), Some(10_000));
    }

    #[test]
    fn winning_everywhere_or_nowhere_is_said_so() {
        assert_eq!(
            crossing(&[sample(10, 2.0, 1.0), sample(100, 3.0, 1.0)]),
            Some(0)
        );
        assert_eq!(
            crossing(&[sample(10, 1.0, 2.0), sample(100, 1.0, 3.0)]),
            None
        );
        // A late loss moves the crossing past it.
        let samples = [
            sample(10, 2.0, 1.0),
            sample(100, 1.0, 2.0),
            sample(1000, 4.0, 1.0),
        ];
        assert_eq!(crossing(&samples), Some(215));
    }
}
