//! Timed, checked runs of the ladder's variants within a time budget.
//!
//! Every variant gets a warm-up run first. Its field is compared with the
//! reference (`naive`) before any timing counts, and its wall time calibrates
//! how many repetitions fit in the budget. Each timed run records wall time
//! and the CPU time the process received, so a run whose cores were taken by
//! other programs shows up as a low CPU share. Runs go through an
//! [`Executor`], so tests replace the clock with scripted timings (as
//! hyperfine's tests do) and never depend on the machine's speed.

use std::time::Instant;

use hpc_kernels::scatter::cost::FLOPS_PER_PAIR;
use hpc_kernels::scatter::variants::gpu::tolerance_for;
use hpc_kernels::scatter::{
    Availability, Field, Problem, RunOutput, RunSettings, Variant, VariantError, registry,
};
use serde::{Deserialize, Serialize};

use super::Progress;
use super::stats::{CPU_SHARE_WARNING, Interval, Summary, median};

/// Fewest and most timed repetitions a variant gets (beyond its warm-up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepetitionLimits {
    pub min: usize,
    pub max: usize,
}

impl RepetitionLimits {
    pub const LADDER: RepetitionLimits = RepetitionLimits { min: 1, max: 50 };
}

/// Wall time of one run and the CPU time the process (and its children) received meanwhile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub wall_seconds: f64,
    pub cpu_seconds: Option<f64>,
}

/// Runs a variant once and times it.
pub trait Executor {
    fn execute(
        &mut self,
        variant: &dyn Variant,
        problem: &Problem,
        settings: &RunSettings,
    ) -> Result<(RunOutput, Timing), VariantError>;
}

/// The real executor: the monotonic clock for wall time, `getrusage` for CPU time.
#[derive(Debug, Default, Clone, Copy)]
pub struct MeasuringExecutor;

impl Executor for MeasuringExecutor {
    fn execute(
        &mut self,
        variant: &dyn Variant,
        problem: &Problem,
        settings: &RunSettings,
    ) -> Result<(RunOutput, Timing), VariantError> {
        let cpu_before = process_cpu_seconds();
        let started = Instant::now();
        let output = variant.run(problem, settings)?;
        let timing = match output.own_timing {
            // A run in another process (a Python rung) timed its computation itself.
            Some(own) => Timing {
                wall_seconds: own.wall.as_secs_f64(),
                cpu_seconds: own.cpu.map(|cpu| cpu.as_secs_f64()),
            },
            None => Timing {
                wall_seconds: started.elapsed().as_secs_f64(),
                cpu_seconds: cpu_before
                    .zip(process_cpu_seconds())
                    .map(|(before, after)| after - before),
            },
        };
        Ok((output, timing))
    }
}

/// User plus system CPU time of this process and its waited-for children, in seconds.
#[cfg(unix)]
pub fn process_cpu_seconds() -> Option<f64> {
    fn usage(who: libc::c_int) -> Option<f64> {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage writes a complete `rusage` into the pointer on success.
        let status = unsafe { libc::getrusage(who, usage.as_mut_ptr()) };
        if status != 0 {
            return None;
        }
        // SAFETY: initialised by the successful call above.
        let usage = unsafe { usage.assume_init() };
        let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
        Some(seconds(usage.ru_utime) + seconds(usage.ru_stime))
    }
    Some(usage(libc::RUSAGE_SELF)? + usage(libc::RUSAGE_CHILDREN)?)
}

/// CPU time is not measured on this platform.
#[cfg(not(unix))]
pub fn process_cpu_seconds() -> Option<f64> {
    None
}

/// How a variant's field compared with the reference's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AgreementRecord {
    pub max_relative_difference: f64,
    pub checksum_relative_difference: f64,
    pub within_tolerance: bool,
}

impl AgreementRecord {
    /// Compares `field` with the reference's, within the `(node, checksum)` tolerance its run must meet.
    fn compare(field: &Field, reference: &Field, (node, checksum): (f64, f64)) -> AgreementRecord {
        let agreement = field.agreement(reference);
        AgreementRecord {
            max_relative_difference: agreement.max_relative_difference,
            checksum_relative_difference: agreement.checksum_relative_difference,
            within_tolerance: agreement.within(node, checksum),
        }
    }
}

/// The reference field of one problem and the pair evaluations it took.
#[derive(Debug, Clone)]
pub struct Reference {
    pub field: Field,
    pub pairs: u64,
}

impl Reference {
    pub fn new(field: Field, problem: &Problem) -> Reference {
        let pairs = field.outside_nodes() as u64 * problem.nc() as u64;
        Reference { field, pairs }
    }
}

/// Why a variant has no timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Failure {
    pub message: String,
    /// Present when the variant ran but its field disagreed with the reference.
    pub agreement: Option<AgreementRecord>,
}

/// Repeated, checked timings of one variant on one problem with one setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Measurement {
    pub repetitions: usize,
    /// Wall seconds per run.
    pub wall_seconds: Summary,
    /// Median of CPU time over (wall time x workers): near 1 when the process got the cores it asked for.
    pub cpu_share: Option<f64>,
    /// The worst agreement with the reference over all runs.
    pub agreement: AgreementRecord,
    /// Warnings about the spread or the CPU share; empty when the timing is trustworthy.
    pub warnings: Vec<String>,
    /// What the variant reported about its runs (e.g. the instruction set or thread count).
    pub notes: Vec<String>,
}

/// Runs `variant` up to `count` times, checking every field against `reference`.
///
/// After the first run, stops early once the runs took `time_box` seconds:
/// runs slower than planned (a loaded machine) shorten the series instead of
/// blowing the budget.
pub fn checked_runs(
    executor: &mut dyn Executor,
    variant: &dyn Variant,
    problem: &Problem,
    settings: &RunSettings,
    reference: &Reference,
    (count, time_box): (usize, f64),
) -> Result<(Vec<Timing>, AgreementRecord, Vec<String>), Failure> {
    let mut timings: Vec<Timing> = Vec::with_capacity(count);
    let mut worst: Option<AgreementRecord> = None;
    let mut notes = Vec::new();
    for _ in 0..count {
        if timings.iter().map(|t| t.wall_seconds).sum::<f64>() >= time_box {
            break;
        }
        let (output, timing) =
            executor
                .execute(variant, problem, settings)
                .map_err(|e| Failure {
                    message: e.to_string(),
                    agreement: None,
                })?;
        // The ladder's tolerance, or the relaxed one a single-precision GPU run states in its notes.
        let (node_tolerance, checksum_tolerance) = tolerance_for(&output);
        let field = output.field.ok_or_else(|| Failure {
            message: "the run returned no field to check".to_string(),
            agreement: None,
        })?;
        let agreement = AgreementRecord::compare(
            &field,
            &reference.field,
            (node_tolerance, checksum_tolerance),
        );
        if !agreement.within_tolerance {
            return Err(Failure {
                message: format!(
                    "its field disagrees with naive (largest node difference {:.1e} of the field maximum, checksum {:.1e}; tolerance {node_tolerance:.0e} and {checksum_tolerance:.0e})",
                    agreement.max_relative_difference, agreement.checksum_relative_difference
                ),
                agreement: Some(agreement),
            });
        }
        if worst.is_none_or(|w| agreement.max_relative_difference > w.max_relative_difference) {
            worst = Some(agreement);
        }
        notes = output.notes;
        timings.push(timing);
    }
    let agreement = worst.ok_or_else(|| Failure {
        message: "no run was made".to_string(),
        agreement: None,
    })?;
    Ok((timings, agreement, notes))
}

/// Checked runs of `variant` (see [`checked_runs`]) summarised, with the seconds they took.
pub fn measure(
    executor: &mut dyn Executor,
    variant: &dyn Variant,
    problem: &Problem,
    settings: &RunSettings,
    reference: &Reference,
    repetitions: (usize, f64),
) -> Result<(Measurement, f64), Failure> {
    let (timings, agreement, notes) =
        checked_runs(executor, variant, problem, settings, reference, repetitions)?;
    let seconds = timings.iter().map(|t| t.wall_seconds).sum();
    let workers = variant.workers(settings);
    Measurement::from_timings(&timings, workers, agreement, notes)
        .map(|measurement| (measurement, seconds))
        .ok_or_else(|| Failure {
            message: "its timings were not finite".to_string(),
            agreement: Some(agreement),
        })
}

impl Measurement {
    /// Summarises checked timings of a run with `workers` parallel workers.
    pub fn from_timings(
        timings: &[Timing],
        workers: usize,
        agreement: AgreementRecord,
        notes: Vec<String>,
    ) -> Option<Measurement> {
        let walls: Vec<f64> = timings.iter().map(|t| t.wall_seconds).collect();
        let wall_seconds = Summary::of(&walls)?;
        let shares: Vec<f64> = timings
            .iter()
            .filter_map(|t| {
                t.cpu_seconds
                    .map(|cpu| cpu / (t.wall_seconds * workers.max(1) as f64))
            })
            .collect();
        let cpu_share = (!shares.is_empty()).then(|| median(&shares));
        let mut warnings = wall_seconds.warnings.clone();
        if let Some(share) = cpu_share.filter(|s| *s < CPU_SHARE_WARNING) {
            warnings.push(format!(
                "the process got {:.0}% of the CPU time its {workers} worker(s) asked for (other programs took cores)",
                share * 100.0
            ));
        }
        Some(Measurement {
            repetitions: timings.len(),
            wall_seconds,
            cpu_share,
            agreement,
            warnings,
            notes,
        })
    }
}

/// Splits `budget` seconds over runs estimated at `estimates` seconds each.
///
/// Water-filling: the cheapest runs are served first, each taking at most an
/// equal share of what is left and at most `limits.max` repetitions; what a
/// cheap run leaves unused flows to the expensive ones. Every run gets at
/// least `limits.min` repetitions even when that exceeds the budget, so the
/// caller reports fewer repetitions (and a wider interval) rather than none.
pub fn plan_repetitions(estimates: &[f64], budget: f64, limits: RepetitionLimits) -> Vec<usize> {
    let mut order: Vec<usize> = (0..estimates.len()).collect();
    order.sort_by(|&a, &b| estimates[a].total_cmp(&estimates[b]));
    let mut plan = vec![limits.min; estimates.len()];
    let mut remaining = budget.max(0.0);
    for (served, &index) in order.iter().enumerate() {
        let share = remaining / (order.len() - served) as f64;
        let estimate = estimates[index].max(1e-9);
        let count = ((share / estimate).floor() as usize).clamp(limits.min, limits.max);
        plan[index] = count;
        remaining -= count as f64 * estimate;
    }
    plan
}

/// How far runs may exceed their planned time before the series is cut short.
const TIME_BOX_SLACK: f64 = 1.25;

/// Repetitions of the first of `estimates`, planned together with the runs still to come
/// within `remaining` seconds, and the time box that cuts them short when runs prove slower.
pub fn next_repetitions(
    estimates: &[f64],
    remaining: f64,
    limits: RepetitionLimits,
) -> (usize, f64) {
    let count = plan_repetitions(estimates, remaining, limits)[0];
    (count, count as f64 * estimates[0] * TIME_BOX_SLACK)
}

/// Speedup over naive, with the range the two medians' intervals allow.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Speedup {
    pub median: f64,
    /// `naive_low / variant_high` to `naive_high / variant_low`; `None` when either has no interval.
    pub low: Option<f64>,
    pub high: Option<f64>,
}

impl Speedup {
    pub fn between(reference: &Summary, variant: &Summary) -> Speedup {
        let bounds = reference
            .median_interval
            .zip(variant.median_interval)
            .map(|(r, v): (Interval, Interval)| (r.low / v.high, r.high / v.low));
        Speedup {
            median: reference.median / variant.median,
            low: bounds.map(|b| b.0),
            high: bounds.map(|b| b.1),
        }
    }
}

/// A measured variant: its timing and what it means in throughput.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VariantResult {
    pub measurement: Measurement,
    /// Pair evaluations per run (outside nodes x segments).
    pub pairs: u64,
    /// Median wall time per pair evaluation, in nanoseconds.
    pub ns_per_pair: f64,
    pub pairs_per_second: f64,
    /// `pairs x FLOPS_PER_PAIR / median wall time`, in 10^9 operations per second.
    pub gflops: f64,
    /// Over naive; `None` for naive itself.
    pub speedup: Option<Speedup>,
}

impl VariantResult {
    pub fn new(measurement: Measurement, pairs: u64, speedup: Option<Speedup>) -> VariantResult {
        let seconds = measurement.wall_seconds.median;
        VariantResult {
            pairs,
            ns_per_pair: seconds * 1e9 / pairs.max(1) as f64,
            pairs_per_second: pairs as f64 / seconds,
            gflops: pairs as f64 * FLOPS_PER_PAIR / seconds / 1e9,
            speedup,
            measurement,
        }
    }
}

/// What happened to one variant of the ladder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Measured(Box<VariantResult>),
    /// It ran but failed or disagreed with naive: no speedup, excluded from advice.
    Failed(Failure),
    /// It cannot run here.
    Skipped {
        reason: String,
        hint: String,
    },
}

/// One rung of the ladder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LadderEntry {
    pub variant: String,
    /// Parallel workers the run used.
    pub workers: usize,
    /// Arithmetic intensity inputs: documented bytes moved per pair.
    pub bytes_per_pair: f64,
    pub outcome: Outcome,
}

impl LadderEntry {
    /// The result, when the variant was measured and agreed.
    pub fn result(&self) -> Option<&VariantResult> {
        match &self.outcome {
            Outcome::Measured(result) => Some(result),
            _ => None,
        }
    }
}

/// Every requested variant on one problem, naive first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ladder {
    /// The problem, as `nx x ny cells, nc segments, ...`.
    pub problem: String,
    pub flops_per_pair: f64,
    pub entries: Vec<LadderEntry>,
    /// Seconds the executor reported for all runs, warm-ups included.
    pub seconds_spent: f64,
}

impl Ladder {
    /// The measured variant with the lowest median time.
    pub fn fastest(&self) -> Option<(&LadderEntry, &VariantResult)> {
        self.fastest_where(|_| true)
    }

    /// The measured variant with the lowest median time among the entries `wanted` accepts.
    pub fn fastest_where(
        &self,
        wanted: impl Fn(&LadderEntry) -> bool,
    ) -> Option<(&LadderEntry, &VariantResult)> {
        self.entries
            .iter()
            .filter(|e| wanted(e))
            .filter_map(|e| e.result().map(|r| (e, r)))
            .min_by(|a, b| {
                a.1.measurement
                    .wall_seconds
                    .median
                    .total_cmp(&b.1.measurement.wall_seconds.median)
            })
    }

    pub fn entry(&self, name: &str) -> Option<&LadderEntry> {
        self.entries.iter().find(|e| e.variant == name)
    }

    /// True when some variant failed or disagreed with naive.
    pub fn has_failures(&self) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(e.outcome, Outcome::Failed(_)))
    }
}

/// Runs the reference once: the ladder cannot be checked without it.
pub fn reference_run(
    executor: &mut dyn Executor,
    problem: &Problem,
) -> Result<(Reference, Timing), Failure> {
    let naive = registry::reference();
    let (output, timing) = executor
        .execute(naive, problem, &RunSettings::default())
        .map_err(|e| Failure {
            message: e.to_string(),
            agreement: None,
        })?;
    let field = output.field.ok_or_else(|| Failure {
        message: "naive returned no field".to_string(),
        agreement: None,
    })?;
    Ok((Reference::new(field, problem), timing))
}

/// Benchmarks `variants` (naive is always included, first) on `problem` within `budget` seconds.
pub fn run_ladder(
    executor: &mut dyn Executor,
    variants: &[&dyn Variant],
    problem: &Problem,
    settings: &RunSettings,
    budget: f64,
    progress: &mut dyn Progress,
) -> Result<(Ladder, Reference), Failure> {
    let naive = registry::reference();
    progress.step("ladder: naive (reference and warm-up)");
    let (reference, naive_warm_up) = reference_run(executor, problem)?;
    progress.spent(naive_warm_up.wall_seconds);
    let mut spent = naive_warm_up.wall_seconds;

    let mut ordered: Vec<&dyn Variant> = vec![naive];
    ordered.extend(variants.iter().filter(|v| v.name() != naive.name()));

    // Warm-up and agreement check of every other variant; its time calibrates the plan.
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(ordered.len());
    let mut estimates = Vec::new();
    let mut planned = Vec::new();
    for (index, variant) in ordered.iter().enumerate() {
        if index == 0 {
            outcomes.push(None);
            estimates.push(naive_warm_up.wall_seconds);
            planned.push(index);
            continue;
        }
        if let Availability::Unavailable { reason, hint } = variant.availability() {
            outcomes.push(Some(Outcome::Skipped { reason, hint }));
            continue;
        }
        progress.step(&format!("ladder: {} (warm-up and check)", variant.name()));
        match checked_runs(
            executor,
            *variant,
            problem,
            settings,
            &reference,
            (1, f64::INFINITY),
        ) {
            Ok((timings, _, _)) => {
                spent += timings[0].wall_seconds;
                progress.spent(timings[0].wall_seconds);
                outcomes.push(None);
                estimates.push(timings[0].wall_seconds);
                planned.push(index);
            }
            Err(failure) => outcomes.push(Some(Outcome::Failed(failure))),
        }
    }

    let mut naive_summary: Option<Summary> = None;
    for (position, &index) in planned.iter().enumerate() {
        let variant = ordered[index];
        let repetitions = next_repetitions(
            &estimates[position..],
            budget - spent,
            RepetitionLimits::LADDER,
        );
        progress.step(&format!("ladder: {} x{}", variant.name(), repetitions.0));
        let outcome = match measure(
            executor,
            variant,
            problem,
            settings,
            &reference,
            repetitions,
        ) {
            Ok((measurement, seconds)) => {
                spent += seconds;
                progress.spent(seconds);
                let speedup = if index == 0 {
                    naive_summary = Some(measurement.wall_seconds.clone());
                    None
                } else {
                    naive_summary
                        .as_ref()
                        .map(|n| Speedup::between(n, &measurement.wall_seconds))
                };
                Outcome::Measured(Box::new(VariantResult::new(
                    measurement,
                    reference.pairs,
                    speedup,
                )))
            }
            Err(failure) => Outcome::Failed(failure),
        };
        outcomes[index] = Some(outcome);
    }

    let entries = ordered
        .iter()
        .zip(outcomes)
        .map(|(variant, outcome)| LadderEntry {
            variant: variant.name().to_string(),
            workers: variant.workers(settings),
            bytes_per_pair: variant.bytes_per_pair(),
            outcome: outcome.expect("every variant was either planned or given an outcome"),
        })
        .collect();
    Ok((
        Ladder {
            problem: problem.to_string(),
            flops_per_pair: FLOPS_PER_PAIR,
            entries,
            seconds_spent: spent,
        },
        reference,
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use hpc_kernels::scatter::{Agreement, Grid, is_inside};

    use super::*;
    use crate::bench::NoProgress;

    /// Runs variants for real (on tiny problems) but reports scripted timings instead of the clock.
    pub(crate) struct ScriptedExecutor<F> {
        pub script: F,
        pub calls: Vec<(String, usize)>,
    }

    impl<F: FnMut(&str, &Problem, &RunSettings, usize) -> f64> ScriptedExecutor<F> {
        pub(crate) fn new(script: F) -> Self {
            ScriptedExecutor {
                script,
                calls: Vec::new(),
            }
        }
    }

    impl<F: FnMut(&str, &Problem, &RunSettings, usize) -> f64> Executor for ScriptedExecutor<F> {
        fn execute(
            &mut self,
            variant: &dyn Variant,
            problem: &Problem,
            settings: &RunSettings,
        ) -> Result<(RunOutput, Timing), VariantError> {
            let output = variant.run(problem, settings)?;
            let call = self.calls.iter().filter(|c| c.0 == variant.name()).count();
            self.calls
                .push((variant.name().to_string(), settings.resolved_threads()));
            let wall_seconds = (self.script)(variant.name(), problem, settings, call);
            // The scripted process always gets every core it asked for.
            let cpu_seconds = Some(wall_seconds * variant.workers(settings) as f64);
            Ok((
                output,
                Timing {
                    wall_seconds,
                    cpu_seconds,
                },
            ))
        }
    }

    /// A variant that returns an all-zero (wrong) field, available or not.
    pub(crate) struct FakeVariant {
        pub name: &'static str,
        pub available: bool,
    }

    impl Variant for FakeVariant {
        fn name(&self) -> &'static str {
            self.name
        }
        fn summary(&self) -> &'static str {
            "returns zeros"
        }
        fn python_analogue(&self) -> &'static str {
            "a bug"
        }
        fn needs(&self) -> &'static str {
            "a backend this test pretends is missing"
        }
        fn availability(&self) -> Availability {
            if self.available {
                Availability::Available
            } else {
                Availability::Unavailable {
                    reason: "the backend is missing".to_string(),
                    hint: "install it".to_string(),
                }
            }
        }
        fn nominal_ns_per_pair(&self) -> f64 {
            1.0
        }
        fn bytes_per_pair(&self) -> f64 {
            1.0
        }
        fn run(&self, problem: &Problem, _: &RunSettings) -> Result<RunOutput, VariantError> {
            assert!(self.available, "an unavailable variant must not be run");
            Ok(RunOutput::field(Field::zeros(
                problem.nx() + 1,
                problem.ny() + 1,
            )))
        }
    }

    /// A test's variant: `run` computes; the rest is filler no test reads.
    pub(crate) struct ScriptedVariant<F> {
        pub name: &'static str,
        pub run: F,
    }

    impl<F> Variant for ScriptedVariant<F>
    where
        F: Fn(&Problem, &RunSettings) -> Result<RunOutput, VariantError> + Sync,
    {
        fn name(&self) -> &'static str {
            self.name
        }
        fn summary(&self) -> &'static str {
            "a test's script"
        }
        fn python_analogue(&self) -> &'static str {
            "none"
        }
        fn needs(&self) -> &'static str {
            "nothing"
        }
        fn nominal_ns_per_pair(&self) -> f64 {
            1.0
        }
        fn bytes_per_pair(&self) -> f64 {
            1.0
        }
        fn run(
            &self,
            problem: &Problem,
            settings: &RunSettings,
        ) -> Result<RunOutput, VariantError> {
            (self.run)(problem, settings)
        }
    }

    /// Naive's field with the scattered wave scaled by `factor`, its run stating `note`.
    fn scaled(
        factor: f32,
        note: Option<&'static str>,
    ) -> ScriptedVariant<impl Fn(&Problem, &RunSettings) -> Result<RunOutput, VariantError> + Sync>
    {
        ScriptedVariant {
            name: "scaled",
            run: move |problem: &Problem, settings: &RunSettings| {
                let mut field = registry::reference()
                    .run(problem, settings)?
                    .field
                    .expect("naive returns its field");
                for value in &mut field.scattered {
                    *value *= factor;
                }
                let output = RunOutput::field(field);
                Ok(match note {
                    Some(note) => output.with_note(note),
                    None => output,
                })
            },
        }
    }

    #[test]
    fn a_single_precision_gpu_run_is_checked_with_its_relaxed_tolerance() {
        use hpc_kernels::scatter::variants::gpu::Precision;
        let problem = tiny_problem();
        let mut executor = ScriptedExecutor::new(|_: &str, _: &Problem, _: &RunSettings, _| 0.1);
        let (reference, _) = reference_run(&mut executor, &problem).unwrap();
        let f32_note = Precision::F32Compensated.note();
        let mut check = |variant: &dyn Variant| {
            checked_runs(
                &mut executor,
                variant,
                &problem,
                &RunSettings::default(),
                &reference,
                (1, f64::INFINITY),
            )
        };
        let ladder = (
            Agreement::LADDER_NODE_TOLERANCE,
            Agreement::LADDER_CHECKSUM_TOLERANCE,
        );
        let relaxed = tolerance_for(&RunOutput::field(Field::zeros(1, 1)).with_note(f32_note));
        assert!(relaxed.0 > ladder.0 && relaxed.1 > ladder.1, "{relaxed:?}");
        // 1e-5 off: beyond the ladder's tolerance, within the relaxed one.
        let slightly_off = 1.0 + 1e-5;
        let (_, agreement, notes) = check(&scaled(slightly_off, Some(f32_note))).unwrap();
        assert!(agreement.within_tolerance, "{agreement:?}");
        assert!(
            agreement.max_relative_difference > ladder.0,
            "{agreement:?}"
        );
        assert_eq!(notes, [f32_note]);
        // The same field from a run that states no precision fails, naming the ladder's tolerance.
        let failure = check(&scaled(slightly_off, None)).unwrap_err();
        assert!(!failure.agreement.unwrap().within_tolerance);
        assert!(
            failure.message.ends_with("; tolerance 1e-6 and 1e-7)"),
            "{}",
            failure.message
        );
        // Beyond the relaxed tolerance, the message names the tolerance that was applied.
        let failure = check(&scaled(1.01, Some(f32_note))).unwrap_err();
        let applied = format!("; tolerance {:.0e} and {:.0e})", relaxed.0, relaxed.1);
        assert!(failure.message.ends_with(&applied), "{}", failure.message);
    }

    pub(crate) fn tiny_problem() -> Problem {
        Problem::builder()
            .cells(12, 12)
            .segments(12)
            .build()
            .unwrap()
    }

    #[test]
    fn plans_share_the_budget_and_never_drop_below_the_minimum() {
        let limits = RepetitionLimits { min: 1, max: 50 };
        // 10 s for a 0.6 s run and two 0.01 s runs: the cheap ones hit the cap, the rest goes to the slow one.
        let plan = plan_repetitions(&[0.6, 0.01, 0.01], 10.0, limits);
        assert_eq!(plan[1..], [50, 50]);
        assert_eq!(plan[0], ((10.0 - 1.0) / 0.6_f64).floor() as usize);
        // A budget too small for anything still gives one repetition each.
        assert_eq!(plan_repetitions(&[5.0, 5.0], 1.0, limits), vec![1, 1]);
        // What the plan costs stays within the budget when the budget allows the minimum.
        let estimates = [0.3, 0.05, 0.2, 0.7];
        let plan = plan_repetitions(&estimates, 6.0, limits);
        let cost: f64 = plan
            .iter()
            .zip(&estimates)
            .map(|(n, t)| *n as f64 * t)
            .sum();
        assert!(cost <= 6.0, "{plan:?} costs {cost}");
    }

    #[test]
    fn speedup_interval_comes_from_both_medians_intervals() {
        let naive = Summary::of(&[10.0, 11.0, 9.0, 10.0, 10.5, 9.5, 10.0]).unwrap();
        let fast = Summary::of(&[1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0]).unwrap();
        let speedup = Speedup::between(&naive, &fast);
        assert!((speedup.median - 10.0).abs() < 1e-12);
        let (low, high) = (speedup.low.unwrap(), speedup.high.unwrap());
        assert!(low < 10.0 && high > 10.0);
        let single = Summary::of(&[1.0]).unwrap();
        assert_eq!(Speedup::between(&naive, &single).low, None);
    }

    #[test]
    fn ladder_with_scripted_timings() {
        let problem = tiny_problem();
        let mut executor =
            ScriptedExecutor::new(|name: &str, _: &Problem, _: &RunSettings, call| {
                let base = match name {
                    "naive" => 0.5,
                    "fused" => 0.05,
                    _ => 1.0,
                };
                // A small deterministic wobble so the intervals are not degenerate.
                base * (1.0 + 0.001 * (call % 3) as f64)
            });
        let fused = registry::find("fused").unwrap();
        let wrong = FakeVariant {
            name: "wrong",
            available: true,
        };
        let absent = FakeVariant {
            name: "absent",
            available: false,
        };
        let (ladder, reference) = run_ladder(
            &mut executor,
            &[fused, &wrong, &absent],
            &problem,
            &RunSettings::default(),
            10.0,
            &mut NoProgress,
        )
        .unwrap();
        // Pairs are the nodes outside the obstacle, counted here from the geometry, times the segments.
        let grid = Grid::new(&problem);
        let outside = grid
            .y
            .iter()
            .flat_map(|&y| grid.x.iter().map(move |&x| [x, y]))
            .filter(|&node| !is_inside(problem.contour_points(), node))
            .count() as u64;
        assert!(outside < problem.estimate().nodes, "some nodes are inside");
        assert_eq!(reference.pairs, outside * problem.nc() as u64);
        let names: Vec<&str> = ladder.entries.iter().map(|e| e.variant.as_str()).collect();
        assert_eq!(names, ["naive", "fused", "wrong", "absent"]);
        let fused = ladder.entry("fused").unwrap().result().unwrap();
        let speedup = fused.speedup.unwrap();
        assert!((speedup.median - 10.0).abs() < 0.1, "{speedup:?}");
        assert_eq!(fused.measurement.repetitions, 50);
        assert_eq!(fused.measurement.cpu_share, Some(1.0));
        assert!(fused.measurement.agreement.within_tolerance);
        let expected_gflops = reference.pairs as f64 * FLOPS_PER_PAIR / 0.05 / 1e9;
        assert!((fused.gflops / expected_gflops - 1.0).abs() < 0.01);
        // The wrong variant is failed, with its disagreement, and has no speedup.
        match &ladder.entry("wrong").unwrap().outcome {
            Outcome::Failed(failure) => {
                assert!(!failure.agreement.unwrap().within_tolerance);
            }
            other => panic!("expected a failure, got {other:?}"),
        }
        assert!(ladder.has_failures());
        // The unavailable one is skipped with its reason and hint, and never run.
        assert_eq!(
            ladder.entry("absent").unwrap().outcome,
            Outcome::Skipped {
                reason: "the backend is missing".to_string(),
                hint: "install it".to_string()
            }
        );
        assert!(executor.calls.iter().all(|c| c.0 != "absent"));
        assert_eq!(ladder.fastest().unwrap().0.variant, "fused");
        // Naive: one warm-up, then what the budget allows after the warm-ups and fused's 50 runs.
        let naive_runs = executor.calls.iter().filter(|c| c.0 == "naive").count();
        let naive_reps = ladder
            .entry("naive")
            .unwrap()
            .result()
            .unwrap()
            .measurement
            .repetitions;
        assert_eq!(naive_runs, naive_reps + 1);
        assert!(ladder.seconds_spent <= 10.1, "{}", ladder.seconds_spent);
    }

    #[test]
    fn runs_slower_than_planned_are_cut_short_by_the_time_box() {
        let problem = tiny_problem();
        // The warm-up suggests 0.01 s a run; every later run takes 0.1 s (the machine got busy).
        let mut executor = ScriptedExecutor::new(
            |_: &str, _: &Problem, _: &RunSettings, call| {
                if call == 0 { 0.01 } else { 0.1 }
            },
        );
        let (ladder, _) = run_ladder(
            &mut executor,
            &[],
            &problem,
            &RunSettings::default(),
            0.3,
            &mut NoProgress,
        )
        .unwrap();
        let naive = ladder.entry("naive").unwrap().result().unwrap();
        // Planned: (0.3 - 0.01) / 0.01 = 29 runs in a 0.36 s box; 0.1 s runs fill it after 4.
        assert_eq!(naive.measurement.repetitions, 4);
        assert!(ladder.seconds_spent < 0.5);
    }

    #[test]
    fn stolen_cores_show_as_a_low_cpu_share() {
        let agreement = AgreementRecord {
            max_relative_difference: 0.0,
            checksum_relative_difference: 0.0,
            within_tolerance: true,
        };
        let timings: Vec<Timing> = (0..5)
            .map(|_| Timing {
                wall_seconds: 1.0,
                cpu_seconds: Some(1.0),
            })
            .collect();
        let stolen = Measurement::from_timings(&timings, 2, agreement, Vec::new()).unwrap();
        assert_eq!(stolen.cpu_share, Some(0.5));
        assert!(
            stolen
                .warnings
                .iter()
                .any(|w| w.contains("other programs took cores"))
        );
        let fine = Measurement::from_timings(&timings, 1, agreement, Vec::new()).unwrap();
        assert!(fine.warnings.is_empty());
    }
}
