//! The Python ladder measured beside the Rust one: each rung on the largest problem its budget allows, compared per pair.
//!
//! The rungs (`hpc_kernels::scatter::variants::python`) go through the same
//! [`Executor`], agreement check and statistics as the Rust ladder. Their
//! costs differ by a thousandfold (pure Python spends microseconds per pair,
//! Numba tens of nanoseconds), so each rung runs on the run's problem when a
//! run of it fits its share of the budget, and otherwise on the same problem
//! scaled down (fewer cells and segments, same contour and wavelength),
//! checked against the Rust reference of that smaller problem. Comparisons
//! are then per pair evaluation, which the cost model keeps comparable
//! across sizes (`kernel-spec.md`, "Work and cost"); the record says which
//! problem each rung ran on. Numba's compile time and the time a run spends
//! outside the rung's own clock (an MPI job's launch, a server's start) are
//! kept apart from the timings, as a user pays them once per process or per
//! job, not per call.

use std::time::Instant;

use hpc_kernels::scatter::variants::python::{self as rungs, interpreter};
use hpc_kernels::scatter::{Availability, Contour, Problem, RunSettings, Variant, registry};
use serde::{Deserialize, Serialize};

use super::Progress;
use super::runner::{
    Executor, LadderEntry, Outcome, Reference, RepetitionLimits, VariantResult, checked_runs,
    measure, next_repetitions, reference_run,
};

/// Runs a rung's run is sized for (its warm-up and at least two timed runs, with room).
const RUNS_PER_RUNG: f64 = 4.0;
/// The smallest problem a rung is scaled down to: cells and segments.
const MIN_CELLS: usize = 12;

/// The Python ladder of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PythonLadder {
    /// e.g. "CPython 3.11.7 (/usr/bin/python3)".
    pub interpreter: String,
    /// numpy, numba, mpi4py: the version found, or `null`.
    pub packages: Vec<PackageVersion>,
    /// In ladder order, `py-pure` first.
    pub rungs: Vec<PythonRung>,
    /// Wall seconds the whole ladder took, servers' starts and compiles included.
    pub seconds_spent: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageVersion {
    pub name: String,
    pub version: Option<String>,
}

/// One rung: what happened to it, on which problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PythonRung {
    /// The problem it ran on: the run's, or a smaller one its budget allowed.
    pub problem: String,
    /// True when `problem` is the run's own problem.
    pub full_size: bool,
    pub entry: LadderEntry,
    /// Numba's compilation in the rung's first call of a process, in seconds.
    pub compile_seconds: Option<f64>,
    /// Seconds the first run spent outside the rung's own timing and the compile: the MPI
    /// job's launch and start-up for `py-mpi4py`, the interpreter's start and the field's
    /// transfer for the others.
    pub overhead_seconds: Option<f64>,
}

impl PythonRung {
    pub fn result(&self) -> Option<&VariantResult> {
        self.entry.result()
    }

    /// Median, low and high nanoseconds per pair.
    pub fn ns_per_pair(&self) -> Option<(f64, Option<(f64, f64)>)> {
        let result = self.result()?;
        let per_pair = 1e9 / result.pairs.max(1) as f64;
        let interval = result
            .measurement
            .wall_seconds
            .median_interval
            .map(|i| (i.low * per_pair, i.high * per_pair));
        Some((result.ns_per_pair, interval))
    }
}

impl PythonLadder {
    pub fn rung(&self, name: &str) -> Option<&PythonRung> {
        self.rungs.iter().find(|r| r.entry.variant == name)
    }

    /// How many times faster per pair `faster` is than `slower`, when both were measured.
    pub fn gain(&self, faster: &str, slower: &str) -> Option<f64> {
        let cost = |name: &str| self.rung(name)?.result().map(|r| r.ns_per_pair);
        let (fast, slow) = (cost(faster)?, cost(slower)?);
        (fast > 0.0).then(|| slow / fast)
    }
}

/// `problem` itself when a run at `ns_per_pair` on `workers` takes at most `seconds`, else
/// `problem` with its cells (and, unless the contour is a fixed polygon, its segments) halved
/// as often as that takes. Halving, not an exact fit, keeps the rungs on few distinct sizes,
/// so few references are computed and rungs of one size compare directly.
pub fn sized_for(problem: &Problem, ns_per_pair: f64, workers: usize, seconds: f64) -> Problem {
    let fixed_segments = matches!(problem.contour(), Contour::Points(_));
    let mut divisor = 1;
    loop {
        let shrink = |n: usize| (n / divisor).max(MIN_CELLS.min(n));
        let mut builder = Problem::builder()
            .cells(shrink(problem.nx()), shrink(problem.ny()))
            .wavelength(problem.wavelength())
            .contour(problem.contour().clone());
        if !fixed_segments {
            builder = builder.segments(shrink(problem.nc()));
        }
        let Ok(candidate) = builder.build() else {
            return problem.clone();
        };
        let smallest = shrink(problem.nx()) == MIN_CELLS.min(problem.nx())
            && shrink(problem.ny()) == MIN_CELLS.min(problem.ny());
        if divisor == 1 && problem.estimate().seconds(ns_per_pair, workers) <= seconds {
            return problem.clone();
        }
        if candidate.estimate().seconds(ns_per_pair, workers) <= seconds || smallest {
            return candidate;
        }
        divisor *= 2;
    }
}

/// Why the Python ladder could not run at all.
pub fn unavailable_reason() -> Option<String> {
    interpreter::stack().err()
}

/// Runs every Python rung within `budget` seconds, checked against `main_reference` (the
/// Rust reference of `problem`) or, on a smaller problem, against naive's field of that one.
pub fn run_python_ladder(
    executor: &mut dyn Executor,
    problem: &Problem,
    main_reference: &Reference,
    settings: &RunSettings,
    budget: f64,
    progress: &mut dyn Progress,
) -> Result<PythonLadder, String> {
    let started = Instant::now();
    let stack = interpreter::stack()?;
    let variants: Vec<&'static dyn Variant> = registry::python().collect();
    let target = budget / (variants.len() as f64 * RUNS_PER_RUNG);
    let mut references: Vec<(String, Reference)> = Vec::new();
    let mut planned = Vec::new();
    let mut records: Vec<PythonRung> = Vec::new();
    for variant in &variants {
        let sized = sized_for(
            problem,
            variant.nominal_ns_per_pair(),
            variant.workers(settings),
            target,
        );
        let full_size = sized.to_string() == problem.to_string();
        let mut record = PythonRung {
            problem: sized.to_string(),
            full_size,
            entry: LadderEntry {
                variant: variant.name().to_string(),
                workers: variant.workers(settings),
                bytes_per_pair: variant.bytes_per_pair(),
                outcome: Outcome::Skipped {
                    reason: String::new(),
                    hint: String::new(),
                },
            },
            compile_seconds: None,
            overhead_seconds: None,
        };
        if let Availability::Unavailable { reason, hint } = variant.availability() {
            record.entry.outcome = Outcome::Skipped { reason, hint };
            records.push(record);
            continue;
        }
        if variant.name() == rungs::PY_MPI4PY.name() && settings.mpi_launcher.is_none() {
            record.entry.outcome = Outcome::Skipped {
                reason: "no MPI launcher (mpirun, mpiexec or srun) was found".into(),
                hint: "install an MPI (e.g. `apt-get install -y openmpi-bin`) or load your \
                       site's MPI module"
                    .into(),
            };
            records.push(record);
            continue;
        }
        if !full_size && !references.iter().any(|(p, _)| *p == record.problem) {
            progress.step(&format!(
                "python ladder: naive reference of {}",
                record.problem
            ));
            match reference_run(executor, &sized) {
                Ok((reference, _)) => references.push((record.problem.clone(), reference)),
                Err(failure) => {
                    record.entry.outcome = Outcome::Failed(failure);
                    records.push(record);
                    continue;
                }
            }
        }
        let reference = if full_size {
            main_reference
        } else {
            &references
                .iter()
                .find(|(p, _)| *p == record.problem)
                .expect("computed above")
                .1
        };
        progress.step(&format!(
            "python ladder: {} (warm-up and check)",
            variant.name()
        ));
        let warm_up_started = Instant::now();
        match checked_runs(
            executor,
            *variant,
            &sized,
            settings,
            reference,
            (1, f64::INFINITY),
        ) {
            Ok((timings, _, notes)) => {
                let elapsed = warm_up_started.elapsed().as_secs_f64();
                progress.spent(elapsed);
                record.compile_seconds = rungs::compile_seconds(&notes);
                record.overhead_seconds = Some(
                    (elapsed - timings[0].wall_seconds - record.compile_seconds.unwrap_or(0.0))
                        .max(0.0),
                );
                planned.push((records.len(), sized, timings[0].wall_seconds, elapsed));
            }
            Err(failure) => record.entry.outcome = Outcome::Failed(failure),
        }
        records.push(record);
    }
    // Timed runs, planned like the Rust ladder's from what the warm-ups took, each run's
    // cost counted with what it spends outside its own clock.
    let costs: Vec<f64> = planned
        .iter()
        .map(|(index, _, own, _)| own + records[*index].overhead_seconds.unwrap_or(0.0))
        .collect();
    for (position, (index, sized, _, _)) in planned.iter().enumerate() {
        let variant = variants[*index];
        let remaining = budget - started.elapsed().as_secs_f64();
        let (count, _) = next_repetitions(&costs[position..], remaining, RepetitionLimits::LADDER);
        let reference = if records[*index].full_size {
            main_reference
        } else {
            &references
                .iter()
                .find(|(p, _)| *p == records[*index].problem)
                .expect("computed")
                .1
        };
        progress.step(&format!("python ladder: {} x{count}", variant.name()));
        let runs_started = Instant::now();
        records[*index].entry.outcome = match measure(
            executor,
            variant,
            sized,
            settings,
            reference,
            (count, f64::INFINITY),
        ) {
            Ok((measurement, _)) => Outcome::Measured(Box::new(VariantResult::new(
                measurement,
                reference.pairs,
                None,
            ))),
            Err(failure) => Outcome::Failed(failure),
        };
        progress.spent(runs_started.elapsed().as_secs_f64());
    }
    Ok(PythonLadder {
        interpreter: stack.describe(),
        packages: ["numpy", "numba", "mpi4py"]
            .into_iter()
            .map(|name| PackageVersion {
                name: name.to_string(),
                version: stack.version(name).map(str::to_string),
            })
            .collect(),
        rungs: records,
        seconds_spent: started.elapsed().as_secs_f64(),
    })
}
