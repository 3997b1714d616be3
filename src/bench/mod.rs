//! Measurements a recommendation can stand on: the ladder timed with statistics, the machine's ceilings, scaling.
//!
//! [`run`] measures the ceilings, then the ladder, then the scaling, sharing
//! one time budget between them, and returns one plain, serialisable
//! [`BenchReport`] that the terminal tables, the JSON output, the report and
//! the advisor all read. Every timed run goes through a
//! [`runner::Executor`], so the whole pipeline runs in tests on scripted
//! timings.

pub mod ceilings;
pub mod python;
pub mod runner;
pub mod scaling;
pub mod stats;
pub mod tables;

use std::path::PathBuf;
use std::time::Instant;

use hpc_kernels::scatter::{Problem, RunSettings, Variant};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use ceilings::{CacheSizes, CeilingSettings, Ceilings};
use runner::{Executor, Ladder, Reference};
use scaling::{Scaling, ScalingPlan};

/// Share of the budget the ceilings' samples may use, and its cap in seconds; allocating
/// the triad's arrays and starting processes add to it, and all must stay under 5 s.
const CEILINGS_SHARE: f64 = 0.15;
const CEILINGS_MAX_SECONDS: f64 = 3.5;
/// Share of the budget kept for the scaling runs.
const SCALING_SHARE: f64 = 0.25;

/// Receives what the benchmark is doing, e.g. to drive a progress bar.
pub trait Progress {
    /// A new step starts.
    fn step(&mut self, label: &str);
    /// Measured seconds were spent (of the budget).
    fn spent(&mut self, seconds: f64);
}

/// Progress that goes nowhere.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn step(&mut self, _: &str) {}
    fn spent(&mut self, _: f64) {}
}

/// What to benchmark and how long it may take.
pub struct BenchSettings<'a> {
    pub problem: &'a Problem,
    /// The variants to time; naive is added first when missing.
    pub variants: &'a [&'a dyn Variant],
    /// Settings of the ladder's runs (threads, workers).
    pub run_settings: &'a RunSettings,
    /// Thread counts of the scaling runs; always starts at 1.
    pub thread_counts: &'a [usize],
    pub budget_seconds: f64,
    /// Program with the hidden no-op subcommand, for the process overheads.
    pub noop_program: Option<PathBuf>,
}

/// Everything `hpc-advisor bench` measured: plain data for tables, JSON, the report and the advisor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BenchReport {
    pub budget_seconds: f64,
    /// Wall seconds the whole benchmark took.
    pub seconds_spent: f64,
    pub usable_cores: usize,
    pub ladder: Ladder,
    pub ceilings: Ceilings,
    pub scaling: Scaling,
}

/// The benchmark could not even start.
#[derive(Debug, Error)]
pub enum BenchError {
    #[error("the reference variant `naive` failed, so no variant can be checked: {0}")]
    Reference(String),
}

/// Measures the ceilings, the ladder and the scaling within `settings.budget_seconds`.
pub fn run(
    executor: &mut dyn Executor,
    settings: &BenchSettings,
    progress: &mut dyn Progress,
) -> Result<(BenchReport, Reference), BenchError> {
    let started = Instant::now();
    let budget = settings.budget_seconds;
    let cores = crate::detect::usable_cores();
    let ceilings = ceilings::measure(
        &CeilingSettings {
            budget_seconds: (budget * CEILINGS_SHARE).min(CEILINGS_MAX_SECONDS),
            threads: cores,
            caches: CacheSizes::detect(),
            noop_program: settings.noop_program.clone(),
        },
        progress,
    );
    let ladder_budget = budget * (1.0 - SCALING_SHARE) - ceilings.seconds_spent;
    let (ladder, reference) = runner::run_ladder(
        executor,
        settings.variants,
        settings.problem,
        settings.run_settings,
        ladder_budget,
        progress,
    )
    .map_err(|failure| BenchError::Reference(failure.message))?;
    let mut scaling = scaling::run_scaling(
        executor,
        &ScalingPlan {
            problem: settings.problem,
            variants: settings.variants,
            thread_counts: settings.thread_counts,
            usable_cores: cores,
            budget_seconds: budget - ceilings.seconds_spent - ladder.seconds_spent,
        },
        &ladder,
        &reference,
        progress,
    );
    scaling.roofline = scaling::roofline(&ladder, &ceilings, settings.problem.nc());
    let report = BenchReport {
        budget_seconds: budget,
        seconds_spent: started.elapsed().as_secs_f64(),
        usable_cores: cores,
        ladder,
        ceilings,
        scaling,
    };
    Ok((report, reference))
}
