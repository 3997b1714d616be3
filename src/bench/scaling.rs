//! How the kernel's time changes with threads and with problem size, and where it sits under the roofline.
//!
//! Thread scaling gives speedup, parallel efficiency, the serial fraction of
//! an Amdahl fit and the Karp-Flatt metric per thread count. Size scaling
//! fits the growth exponent of time against `nx * ny * nc`: it should be
//! about 1 for this kernel, and an exponent well above that is the
//! "accidentally quadratic" smell of seed 004. The roofline places each
//! variant's attained GFLOP/s against the measured ceilings.

use hpc_kernels::scatter::cost::FLOPS_PER_PAIR;
use hpc_kernels::scatter::{Problem, RunSettings, Variant, registry};
use serde::{Deserialize, Serialize};

use super::Progress;
use super::ceilings::{CacheSizes, Ceilings};
use super::runner::{
    Executor, Failure, Ladder, Measurement, Reference, RepetitionLimits, measure, next_repetitions,
    reference_run,
};
use super::stats::linear_fit;

/// A growth exponent above this is reported as an algorithmic problem (the kernel's is 1).
pub const ACCIDENTALLY_QUADRATIC_EXPONENT: f64 = 1.3;

/// Per-dimension scale factors of the three problem sizes: work spans a factor of 8.
const SIZE_FACTORS: [f64; 3] = [0.5, 0.75, 1.0];

const SCALING_LIMITS: RepetitionLimits = RepetitionLimits { min: 1, max: 20 };

/// One thread count of a threaded variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ThreadPoint {
    pub threads: usize,
    /// More threads than usable cores (SMT siblings or oversubscription).
    pub beyond_cores: bool,
    pub measurement: Measurement,
    /// Median time on one thread over median time on `threads`.
    pub speedup: f64,
    /// Speedup over threads.
    pub efficiency: f64,
    /// Experimentally determined serial fraction; `None` on one thread.
    pub karp_flatt: Option<f64>,
}

/// A threaded variant over thread counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ThreadScaling {
    pub variant: String,
    pub points: Vec<ThreadPoint>,
    /// Serial fraction `s` of the least-squares fit `T(n) = T1 (s + (1 - s) / n)`, clamped to [0, 1].
    pub amdahl_serial_fraction: Option<f64>,
    /// Set when a run failed or disagreed; the points before it are kept.
    pub failure: Option<Failure>,
}

/// The best variant at one problem size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SizePoint {
    pub nx: usize,
    pub ny: usize,
    pub nc: usize,
    /// `nx * ny * nc`, the quantity time is fitted against.
    pub work: u64,
    pub pairs: u64,
    pub measurement: Measurement,
}

/// Problem-size scaling of the fastest variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SizeScaling {
    pub variant: String,
    pub points: Vec<SizePoint>,
    /// Slope of log(time) against log(nx * ny * nc).
    pub growth_exponent: Option<f64>,
    /// True when the exponent exceeds [`ACCIDENTALLY_QUADRATIC_EXPONENT`].
    pub accidentally_quadratic: bool,
    pub failure: Option<Failure>,
}

/// One variant on the roofline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RooflinePoint {
    pub variant: String,
    pub workers: usize,
    /// Documented flops per pair over documented bytes per pair.
    pub arithmetic_intensity: f64,
    pub gflops: f64,
    /// Measured FMA peak (the best SIMD width's best sample) for the variant's cores.
    pub compute_roof_gflops: Option<f64>,
    /// Measured memory bandwidth (best triad sample beyond the LLC) times the arithmetic intensity.
    pub memory_roof_gflops: Option<f64>,
    /// Measured L1 triad bandwidth (best sample) times the arithmetic intensity: the roof for data that
    /// stays in cache, as the scatter kernel's segment table does.
    pub l1_roof_gflops: Option<f64>,
    /// `compute`, or `memory (l1|l2|dram)`: the lower of the compute roof and the
    /// bandwidth roof of the level that holds the bytes touched per node.
    pub bound: Option<String>,
    /// Attained over the measured FMA peak for the variant's cores.
    pub fraction_of_fma_peak: Option<f64>,
}

/// Everything about how the kernel scales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Scaling {
    pub threads: Vec<ThreadScaling>,
    /// Thread series left out because the budget could not hold one run per count, and why.
    pub skipped: Vec<String>,
    pub size: Option<SizeScaling>,
    pub roofline: Vec<RooflinePoint>,
    pub seconds_spent: f64,
}

/// Serial fraction of Amdahl's law fitted to `(threads, seconds)`: `T = a + b / n`, `s = a / (a + b)`.
pub fn amdahl_serial_fraction(points: &[(usize, f64)]) -> Option<f64> {
    let transformed: Vec<(f64, f64)> = points.iter().map(|&(n, t)| (1.0 / n as f64, t)).collect();
    let (a, b) = linear_fit(&transformed)?;
    let total = a + b;
    (total > 0.0).then(|| (a / total).clamp(0.0, 1.0))
}

/// Karp-Flatt metric `(1/S - 1/n) / (1 - 1/n)`; `None` for one thread.
pub fn karp_flatt(speedup: f64, threads: usize) -> Option<f64> {
    let n = threads as f64;
    (threads > 1).then(|| (1.0 / speedup - 1.0 / n) / (1.0 - 1.0 / n))
}

/// Slope of `ln(seconds)` against `ln(work)`.
pub fn growth_exponent(points: &[(f64, f64)]) -> Option<f64> {
    let logs: Vec<(f64, f64)> = points
        .iter()
        .filter(|(w, t)| *w > 0.0 && *t > 0.0)
        .map(|(w, t)| (w.ln(), t.ln()))
        .collect();
    linear_fit(&logs).map(|(_, slope)| slope)
}

/// Thread counts 1, 2, 4, ... up to `hardware_threads`, plus `usable_cores` and `hardware_threads` themselves.
pub fn thread_counts(usable_cores: usize, hardware_threads: usize) -> Vec<usize> {
    let top = hardware_threads.max(usable_cores).max(1);
    let mut counts: Vec<usize> = std::iter::successors(Some(1usize), |n| n.checked_mul(2))
        .take_while(|&n| n <= top)
        .collect();
    counts.extend([usable_cores.max(1), top]);
    counts.sort_unstable();
    counts.dedup();
    counts
}

/// Settings that run a variant on `n` threads or workers.
fn parallel_settings(n: usize) -> RunSettings {
    let mut settings = RunSettings::default();
    settings.threads = Some(n);
    settings.workers = Some(n);
    settings
}

/// The problem scaled by `factor` along each of nx, ny and nc (at least 4 each).
fn scaled_problem(problem: &Problem, factor: f64) -> Option<Problem> {
    let scale = |n: usize| ((n as f64 * factor).round() as usize).max(4);
    Problem::builder()
        .cells(scale(problem.nx()), scale(problem.ny()))
        .segments(scale(problem.nc()))
        .wavelength(problem.wavelength())
        .contour(problem.contour().clone())
        .build()
        .ok()
}

/// What scaling measures and where.
pub struct ScalingPlan<'a> {
    pub problem: &'a Problem,
    pub variants: &'a [&'a dyn Variant],
    pub thread_counts: &'a [usize],
    pub usable_cores: usize,
    pub budget_seconds: f64,
}

/// A point still to be measured: which variant, problem and settings, and its estimated run time.
struct Pending<'a> {
    variant: &'a dyn Variant,
    problem: Problem,
    settings: RunSettings,
    estimate: f64,
}

/// Thread and size scaling of the variants the ladder measured, within the plan's budget.
pub fn run_scaling(
    executor: &mut dyn Executor,
    plan: &ScalingPlan,
    ladder: &Ladder,
    reference: &Reference,
    progress: &mut dyn Progress,
) -> Scaling {
    let mut spent = 0.0;

    // Thread series: every measured variant whose workers follow the thread count, fastest first.
    let mut threaded: Vec<(&dyn Variant, f64, usize)> = plan
        .variants
        .iter()
        .filter(|v| v.workers(&parallel_settings(2)) == 2 && v.workers(&parallel_settings(1)) == 1)
        .filter_map(|v| {
            let entry = ladder.entry(v.name())?;
            let result = entry.result()?;
            Some((*v, result.measurement.wall_seconds.median, entry.workers))
        })
        .collect();
    threaded.sort_by(|a, b| a.1.total_cmp(&b.1));
    let estimate =
        |median: f64, workers: usize, n: usize| median * workers.max(1) as f64 / n as f64;

    // Size points: the fastest variant at three sizes, each with its own naive reference.
    let fastest = ladder.fastest().and_then(|(entry, result)| {
        let variant = plan
            .variants
            .iter()
            .copied()
            .chain([registry::reference()])
            .find(|v| v.name() == entry.variant)?;
        Some((variant, result.measurement.wall_seconds.median))
    });
    let full_work = work_of(plan.problem) as f64;
    let sizes: Vec<Problem> = SIZE_FACTORS
        .iter()
        .filter_map(|&f| scaled_problem(plan.problem, f))
        .collect();
    let ratios: Vec<f64> = sizes
        .iter()
        .map(|size| work_of(size) as f64 / full_work)
        .collect();
    let naive_median = ladder
        .entry(registry::reference().name())
        .and_then(|e| e.result())
        .map_or(0.0, |r| r.measurement.wall_seconds.median);
    let size_cost = fastest.map_or(0.0, |(_, median)| {
        ratios.iter().map(|r| r * median).sum::<f64>()
            + ratios
                .iter()
                .filter(|r| **r < 1.0)
                .map(|r| r * naive_median)
                .sum::<f64>()
    });

    // The fastest series always runs; slower ones only when one run per count fits the budget.
    let mut available = plan.budget_seconds - size_cost;
    let mut skipped = Vec::new();
    let mut kept = 0;
    threaded.retain(|&(variant, median, workers)| {
        let cost: f64 = plan
            .thread_counts
            .iter()
            .map(|&n| estimate(median, workers, n))
            .sum();
        if kept == 0 || cost <= available {
            available -= cost;
            kept += 1;
            true
        } else {
            skipped.push(format!(
                "{}: thread scaling skipped, one run per thread count would take about {cost:.1} s and {:.1} s of the budget were left",
                variant.name(),
                available.max(0.0)
            ));
            false
        }
    });
    let mut pending: Vec<Pending> = Vec::new();
    for &(variant, median, workers) in &threaded {
        for &n in plan.thread_counts {
            pending.push(Pending {
                variant,
                problem: plan.problem.clone(),
                settings: parallel_settings(n),
                estimate: estimate(median, workers, n),
            });
        }
    }

    let mut size_references: Vec<Option<Reference>> = Vec::new();
    let size_start = pending.len();
    if let Some((variant, median)) = fastest {
        for (size, ratio) in sizes.iter().zip(&ratios) {
            if work_of(size) == work_of(plan.problem) {
                size_references.push(Some(reference.clone()));
            } else {
                progress.step(&format!("scaling: naive reference at {}", size_label(size)));
                match reference_run(executor, size) {
                    Ok((size_reference, timing)) => {
                        spent += timing.wall_seconds;
                        progress.spent(timing.wall_seconds);
                        size_references.push(Some(size_reference));
                    }
                    Err(_) => size_references.push(None),
                }
            }
            pending.push(Pending {
                variant,
                problem: size.clone(),
                settings: RunSettings::default(),
                estimate: median * ratio,
            });
        }
    }

    let estimates: Vec<f64> = pending.iter().map(|p| p.estimate).collect();
    // Each result carries the pair count of its reference, for throughput per size.
    let mut results: Vec<Result<(Measurement, u64), Failure>> = Vec::with_capacity(pending.len());
    for (index, point) in pending.iter().enumerate() {
        let repetitions = next_repetitions(
            &estimates[index..],
            plan.budget_seconds - spent,
            SCALING_LIMITS,
        );
        let point_reference = if index >= size_start {
            size_references[index - size_start].as_ref()
        } else {
            Some(reference)
        };
        progress.step(&format!(
            "scaling: {} on {} ({}) x{}",
            point.variant.name(),
            size_label(&point.problem),
            point
                .settings
                .threads
                .map_or("default threads".to_string(), |n| format!("{n} threads")),
            repetitions.0,
        ));
        let result = match point_reference {
            Some(point_reference) => measure(
                executor,
                point.variant,
                &point.problem,
                &point.settings,
                point_reference,
                repetitions,
            )
            .map(|(measurement, seconds)| {
                spent += seconds;
                progress.spent(seconds);
                (measurement, point_reference.pairs)
            }),
            None => Err(Failure {
                message: "naive could not produce a reference at this size".to_string(),
                agreement: None,
            }),
        };
        results.push(result);
    }

    let mut results = results.into_iter();
    let threads = threaded
        .iter()
        .map(|(variant, _, _)| {
            thread_scaling(
                variant.name(),
                plan.thread_counts,
                plan.usable_cores,
                results.by_ref().take(plan.thread_counts.len()).collect(),
            )
        })
        .collect();
    let size = fastest.map(|(variant, _)| size_scaling(variant.name(), &sizes, results.collect()));
    Scaling {
        threads,
        skipped,
        size,
        roofline: Vec::new(),
        seconds_spent: spent,
    }
}

fn work_of(problem: &Problem) -> u64 {
    problem.nx() as u64 * problem.ny() as u64 * problem.nc() as u64
}

fn size_label(problem: &Problem) -> String {
    format!("{}x{}x{}", problem.nx(), problem.ny(), problem.nc())
}

fn thread_scaling(
    variant: &str,
    counts: &[usize],
    usable_cores: usize,
    results: Vec<Result<(Measurement, u64), Failure>>,
) -> ThreadScaling {
    let mut measured = Vec::new();
    let mut failure = None;
    for (&threads, result) in counts.iter().zip(results) {
        match result {
            Ok((measurement, _)) => measured.push((threads, measurement)),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let one_thread = measured
        .iter()
        .find(|(n, _)| *n == 1)
        .map(|(_, m)| m.wall_seconds.median);
    let points: Vec<ThreadPoint> = measured
        .into_iter()
        .filter_map(|(threads, measurement)| {
            let speedup = one_thread? / measurement.wall_seconds.median;
            Some(ThreadPoint {
                threads,
                beyond_cores: threads > usable_cores,
                speedup,
                efficiency: speedup / threads as f64,
                karp_flatt: karp_flatt(speedup, threads),
                measurement,
            })
        })
        .collect();
    let fit: Vec<(usize, f64)> = points
        .iter()
        .map(|p| (p.threads, p.measurement.wall_seconds.median))
        .collect();
    ThreadScaling {
        variant: variant.to_string(),
        amdahl_serial_fraction: amdahl_serial_fraction(&fit),
        points,
        failure,
    }
}

fn size_scaling(
    variant: &str,
    sizes: &[Problem],
    results: Vec<Result<(Measurement, u64), Failure>>,
) -> SizeScaling {
    let mut points = Vec::new();
    let mut failure = None;
    for (size, result) in sizes.iter().zip(results) {
        match result {
            Ok((measurement, pairs)) => points.push(SizePoint {
                nx: size.nx(),
                ny: size.ny(),
                nc: size.nc(),
                work: work_of(size),
                pairs,
                measurement,
            }),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let fit: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (p.work as f64, p.measurement.wall_seconds.median))
        .collect();
    let growth_exponent = growth_exponent(&fit);
    SizeScaling {
        variant: variant.to_string(),
        accidentally_quadratic: growth_exponent
            .is_some_and(|e| e > ACCIDENTALLY_QUADRATIC_EXPONENT),
        growth_exponent,
        points,
        failure,
    }
}

/// Every measured variant of the ladder as a point under the measured roofs.
pub fn roofline(ladder: &Ladder, ceilings: &Ceilings, segments: usize) -> Vec<RooflinePoint> {
    ladder
        .entries
        .iter()
        .filter_map(|entry| {
            let result = entry.result()?;
            let intensity = FLOPS_PER_PAIR / entry.bytes_per_pair;
            let compute = ceilings.fma_peak(entry.workers);
            let roof = |level| {
                ceilings
                    .bandwidth(level, entry.workers)
                    .map(|bandwidth| bandwidth * intensity)
            };
            let level = feeding_level(entry.bytes_per_pair * segments as f64, &ceilings.caches);
            let bound = compute.zip(roof(level)).map(|(c, m)| {
                if c <= m {
                    "compute".to_string()
                } else {
                    format!("memory ({level})")
                }
            });
            Some(RooflinePoint {
                variant: entry.variant.clone(),
                workers: entry.workers,
                arithmetic_intensity: intensity,
                gflops: result.gflops,
                compute_roof_gflops: compute,
                memory_roof_gflops: roof("dram"),
                l1_roof_gflops: roof("l1"),
                bound,
                fraction_of_fma_peak: compute.map(|c| result.gflops / c),
            })
        })
        .collect()
}

/// The level whose bandwidth feeds a variant: the smallest cache that holds
/// the bytes it touches for one node (`bytes_per_pair x nc`), which every
/// node reads again; the scatter kernel's segment table fits in L1.
fn feeding_level(bytes_per_node: f64, caches: &CacheSizes) -> &'static str {
    if bytes_per_node <= caches.l1_data as f64 {
        "l1"
    } else if bytes_per_node <= caches.l2 as f64 {
        "l2"
    } else {
        "dram"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::NoProgress;
    use crate::bench::runner::tests::{ScriptedExecutor, tiny_problem};
    use crate::bench::runner::{reference_run, run_ladder};

    #[test]
    fn amdahl_fit_recovers_a_known_serial_fraction() {
        for serial in [0.0, 0.05, 0.1, 0.5] {
            let points: Vec<(usize, f64)> = [1, 2, 4, 8, 16, 64]
                .iter()
                .map(|&n| (n, 3.0 * (serial + (1.0 - serial) / n as f64)))
                .collect();
            let fitted = amdahl_serial_fraction(&points).unwrap();
            assert!((fitted - serial).abs() < 1e-9, "{serial}: {fitted}");
        }
        assert!(amdahl_serial_fraction(&[(1, 1.0)]).is_none());
    }

    #[test]
    fn karp_flatt_equals_the_serial_fraction_under_amdahl() {
        let serial = 0.2;
        for n in [2usize, 4, 32] {
            let speedup = 1.0 / (serial + (1.0 - serial) / n as f64);
            assert!((karp_flatt(speedup, n).unwrap() - serial).abs() < 1e-12);
        }
        assert_eq!(karp_flatt(1.0, 1), None);
    }

    #[test]
    fn growth_exponent_recovers_linear_and_quadratic_growth() {
        let linear: Vec<(f64, f64)> = [1e3, 1e4, 1e5].iter().map(|&w| (w, 2e-6 * w)).collect();
        assert!((growth_exponent(&linear).unwrap() - 1.0).abs() < 1e-9);
        let quadratic: Vec<(f64, f64)> =
            [1e3, 1e4, 1e5].iter().map(|&w| (w, 1e-9 * w * w)).collect();
        assert!((growth_exponent(&quadratic).unwrap() - 2.0).abs() < 1e-9);
    }

    /// The ladder of `variants` with threaded variants on `threads` threads, on a 5 s budget.
    fn ladder_on_threads(
        executor: &mut dyn Executor,
        variants: &[&dyn Variant],
        problem: &Problem,
        threads: usize,
    ) -> (Ladder, Reference) {
        let settings = parallel_settings(threads);
        run_ladder(executor, variants, problem, &settings, 5.0, &mut NoProgress).unwrap()
    }

    fn ceilings(fma: (f64, f64), dram: (f64, f64), l1: (f64, f64)) -> Ceilings {
        use crate::bench::ceilings::{Bandwidth, FmaPeak, ThroughputCeiling};
        use crate::bench::stats::Summary;
        let ceiling = |(single, all): (f64, f64), unit: &str| ThroughputCeiling {
            name: String::new(),
            unit: unit.to_string(),
            single_core: Summary::of(&[single]).unwrap(),
            all_cores: Summary::of(&[all]).unwrap(),
            threads: 2,
        };
        let bandwidth = |level: &str, rates| Bandwidth {
            level: level.to_string(),
            working_set_bytes: 0,
            gigabytes_per_second: ceiling(rates, "GB/s"),
        };
        Ceilings {
            caches: CacheSizes::FALLBACK,
            fma: vec![FmaPeak {
                width_bits: 256,
                instruction_set: "avx2+fma".to_string(),
                gflops: ceiling(fma, "GFLOP/s"),
            }],
            bandwidth: vec![bandwidth("dram", dram), bandwidth("l1", l1)],
            unmeasured: Vec::new(),
            overheads: Vec::new(),
            seconds_spent: 0.0,
        }
    }

    #[test]
    fn roofline_places_variants_against_the_measured_roofs() {
        let problem = tiny_problem();
        let mut executor = ScriptedExecutor::new(
            |name: &str, _: &Problem, _: &RunSettings, _: usize| {
                if name == "naive" { 0.1 } else { 0.01 }
            },
        );
        let variants = [
            registry::find("fused").unwrap(),
            registry::find("threads+fused").unwrap(),
        ];
        let (ladder, _) = ladder_on_threads(&mut executor, &variants, &problem, 2);
        let points = roofline(
            &ladder,
            &ceilings((50.0, 100.0), (20.0, 30.0), (100.0, 200.0)),
            problem.nc(),
        );
        assert_eq!(points.len(), 3);
        for point in &points {
            let entry = ladder.entry(&point.variant).unwrap();
            let intensity = FLOPS_PER_PAIR / entry.bytes_per_pair;
            assert!((point.arithmetic_intensity - intensity).abs() < 1e-12);
            let (peak, dram, l1) = if point.workers > 1 {
                (100.0, 30.0, 200.0)
            } else {
                (50.0, 20.0, 100.0)
            };
            assert_eq!(point.compute_roof_gflops, Some(peak));
            assert!((point.memory_roof_gflops.unwrap() - dram * intensity).abs() < 1e-9);
            assert!((point.l1_roof_gflops.unwrap() - l1 * intensity).abs() < 1e-9);
            // 12 segments of at most a few hundred bytes each stay in L1.
            let expected_bound = if peak <= l1 * intensity {
                "compute"
            } else {
                "memory (l1)"
            };
            assert_eq!(point.bound.as_deref(), Some(expected_bound));
            let fraction = point.fraction_of_fma_peak.unwrap();
            assert!((fraction - point.gflops / peak).abs() < 1e-12);
        }
        assert_eq!(
            points
                .iter()
                .find(|p| p.variant == "threads+fused")
                .unwrap()
                .workers,
            2
        );
    }

    #[test]
    fn the_feeding_level_is_the_smallest_cache_holding_a_node_s_bytes() {
        let caches = CacheSizes::FALLBACK;
        assert_eq!(feeding_level(152.0 * 128.0, &caches), "l1");
        assert_eq!(feeding_level(1096.0 * 128.0, &caches), "l2");
        assert_eq!(feeding_level(1096.0 * 4096.0, &caches), "dram");
    }

    #[test]
    fn slower_thread_series_are_skipped_when_the_budget_cannot_hold_them() {
        let problem = tiny_problem();
        let mut executor =
            ScriptedExecutor::new(|name: &str, _: &Problem, s: &RunSettings, _: usize| {
                let per_thread = if name == "threads+fused" { 0.02 } else { 1.0 };
                per_thread / s.resolved_threads() as f64
            });
        let variants = [
            registry::find("threads").unwrap(),
            registry::find("threads+fused").unwrap(),
        ];
        let (ladder, reference) = ladder_on_threads(&mut executor, &variants, &problem, 2);
        let plan = ScalingPlan {
            problem: &problem,
            variants: &variants,
            thread_counts: &[1, 2],
            usable_cores: 2,
            budget_seconds: 1.0,
        };
        let scaling = run_scaling(&mut executor, &plan, &ladder, &reference, &mut NoProgress);
        // The fastest series runs; naive on threads (1.5 s for one run per count) does not fit in 1 s.
        let names: Vec<&str> = scaling.threads.iter().map(|t| t.variant.as_str()).collect();
        assert_eq!(names, ["threads+fused"]);
        assert_eq!(scaling.skipped.len(), 1);
        assert!(scaling.skipped[0].starts_with("threads: thread scaling skipped"));
    }

    #[test]
    fn thread_counts_cover_powers_of_two_usable_cores_and_hardware_threads() {
        assert_eq!(thread_counts(1, 1), vec![1]);
        assert_eq!(thread_counts(2, 2), vec![1, 2]);
        assert_eq!(thread_counts(6, 12), vec![1, 2, 4, 6, 8, 12]);
        assert_eq!(thread_counts(64, 128), vec![1, 2, 4, 8, 16, 32, 64, 128]);
    }

    #[test]
    fn scaling_with_scripted_timings_recovers_amdahl_and_the_growth_exponent() {
        let problem = tiny_problem();
        let full_work = work_of(&problem) as f64;
        let serial = 0.1;
        // threads+fused follows Amdahl with s = 0.1 and grows linearly with the work; naive is slow.
        let script = move |name: &str, p: &Problem, s: &RunSettings, _: usize| {
            let work = work_of(p) as f64 / full_work;
            match name {
                "threads+fused" => {
                    let n = s.resolved_threads() as f64;
                    0.01 * work * (serial + (1.0 - serial) / n)
                }
                _ => 0.5 * work,
            }
        };
        let mut executor = ScriptedExecutor::new(script);
        let variants = [registry::find("threads+fused").unwrap()];
        let (ladder, reference) = ladder_on_threads(&mut executor, &variants, &problem, 4);
        let counts = [1, 2, 4, 8];
        let plan = ScalingPlan {
            problem: &problem,
            variants: &variants,
            thread_counts: &counts,
            usable_cores: 4,
            budget_seconds: 2.0,
        };
        let scaling = run_scaling(&mut executor, &plan, &ladder, &reference, &mut NoProgress);
        let threads = &scaling.threads[0];
        assert_eq!(threads.variant, "threads+fused");
        assert_eq!(threads.points.len(), 4);
        assert!((threads.amdahl_serial_fraction.unwrap() - serial).abs() < 1e-6);
        let eight = &threads.points[3];
        assert!(eight.beyond_cores);
        assert!((eight.karp_flatt.unwrap() - serial).abs() < 1e-6);
        assert!((eight.efficiency - eight.speedup / 8.0).abs() < 1e-12);
        let size = scaling.size.unwrap();
        assert_eq!(size.variant, "threads+fused");
        assert_eq!(size.points.len(), 3);
        // The tiny problem's sizes are clamped and rounded, but time follows work exactly here.
        assert!((size.growth_exponent.unwrap() - 1.0).abs() < 1e-6);
        assert!(!size.accidentally_quadratic);
        // Pairs per size are counted on naive's field at that size (outside nodes only).
        assert_eq!(size.points[2].pairs, reference.pairs);
        assert!(size.points[0].pairs < size.points[1].pairs);
        // Each size was checked against naive at that size (another size's field has another
        // shape): its pairs are that reference's, and its field agreed with it.
        let (small, _) =
            reference_run(&mut executor, &scaled_problem(&problem, 0.5).unwrap()).unwrap();
        assert_eq!(size.points[0].pairs, small.pairs);
        for point in &size.points {
            let agreement = point.measurement.agreement;
            assert!(agreement.within_tolerance, "{agreement:?}");
        }
    }
}
