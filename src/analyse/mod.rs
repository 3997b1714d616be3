//! `analyse`, the product's main job: how its time budget is shared and how each stage is recorded.
//!
//! `hpc-advisor analyse` detects the machine, benchmarks the ladder and the
//! Python ladder, launches the MPI job, measures the GPU crossover, profiles naive and the best
//! one-core variant, then walks the decision tree (docs/analyse.md). This module
//! holds the pure parts: the [`Budget`] each stage takes its share of,
//! [`Stages`] which records how every stage ended so that one failure never
//! stops the run, the records of the MPI and GPU runs ([`runs`]), and the
//! adapters into the advisor's facts ([`facts`]). The command module
//! (`commands::analyse`) does the measuring and the writing.

pub mod facts;
pub mod runs;

use std::time::Instant;

use crate::fact::Fact;
use crate::report::{Stage, StageOutcome};

/// Wall-time budget of a default run, in seconds.
pub const DEFAULT_BUDGET_SECONDS: f64 = 60.0;
/// Wall-time budget of `--quick`, in seconds.
pub const QUICK_BUDGET_SECONDS: f64 = 15.0;

/// The stages of a run, in order, with the share of the time left when each starts.
///
/// The stages of fixed cost (the MPI job, the GPU crossover) come before the
/// profile, whose length adapts to what is left. Detection is not budgeted
/// (its probes are bounded one by one; it takes a fraction of a second
/// here, see `docs/machine.md`). What a
/// stage leaves unused flows to the ones after it; what it overruns is taken
/// from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageName {
    Detect,
    Program,
    Bench,
    Python,
    Mpi,
    Gpu,
    Profile,
    Advise,
}

impl StageName {
    pub fn as_str(self) -> &'static str {
        match self {
            StageName::Detect => "detect",
            StageName::Bench => "bench",
            StageName::Python => "python",
            StageName::Profile => "profile",
            StageName::Mpi => "mpi",
            StageName::Gpu => "gpu",
            StageName::Program => "program",
            StageName::Advise => "advise",
        }
    }

    /// The share of the remaining budget this stage may use.
    pub fn share(self) -> f64 {
        match self {
            StageName::Detect | StageName::Advise => 0.0,
            StageName::Bench => 0.4,
            // The Python ladder: Numba's two compiles and the mpi4py job's launches are
            // fixed costs of about 4 s here that its share must hold even with --quick.
            StageName::Python => 0.45,
            StageName::Mpi => 0.3,
            StageName::Gpu => 0.5,
            // Elastic: its runs last as long as its share allows.
            StageName::Profile => 0.6,
            // The user's program, right after detection: its repeated runs take this
            // share; the runs that answer a question (one sampled, one per thread count,
            // one per size) run even past it, since a program takes as long as it takes.
            StageName::Program => 0.25,
        }
    }
}

/// The run's wall-time budget, counted from when the run started.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    total_seconds: f64,
    started: Instant,
}

impl Budget {
    pub fn start(total_seconds: f64) -> Budget {
        Budget {
            total_seconds,
            started: Instant::now(),
        }
    }

    pub fn total_seconds(&self) -> f64 {
        self.total_seconds
    }

    pub fn elapsed_seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Seconds left, never negative.
    pub fn remaining_seconds(&self) -> f64 {
        (self.total_seconds - self.elapsed_seconds()).max(0.0)
    }

    /// The seconds `stage` may use, from what is left now.
    pub fn for_stage(&self, stage: StageName) -> f64 {
        stage_seconds(self.remaining_seconds(), stage)
    }
}

/// The seconds `stage` may use when `remaining` seconds are left.
pub fn stage_seconds(remaining: f64, stage: StageName) -> f64 {
    remaining.max(0.0) * stage.share()
}

/// Why a stage did not complete.
#[derive(Debug, Clone, PartialEq)]
pub enum StageEnd {
    /// It ran and failed.
    Failed(String),
    /// It could not run here (no MPI, no GPU, no time left).
    Skipped(String),
}

/// Every stage of the run with how it ended, in order.
#[derive(Debug, Default)]
pub struct Stages {
    stages: Vec<Stage>,
}

impl Stages {
    /// Runs one stage, records how it ended and how long it took, and gives its result as a fact:
    /// unknown, with the stage's name and reason, when it failed or was skipped.
    pub fn run<T>(
        &mut self,
        name: StageName,
        stage: impl FnOnce() -> Result<T, StageEnd>,
    ) -> Fact<T> {
        let started = Instant::now();
        let result = stage();
        let seconds = started.elapsed().as_secs_f64();
        let (outcome, fact) = match result {
            Ok(value) => (StageOutcome::Completed, Fact::Known(value)),
            Err(StageEnd::Failed(error)) => (
                StageOutcome::Failed {
                    error: error.clone(),
                },
                Fact::unknown(format!("the {} stage failed: {error}", name.as_str())),
            ),
            Err(StageEnd::Skipped(reason)) => (
                StageOutcome::Skipped {
                    reason: reason.clone(),
                },
                Fact::unknown(format!("the {} stage was skipped: {reason}", name.as_str())),
            ),
        };
        self.stages.push(Stage {
            name: name.as_str().to_string(),
            outcome,
            seconds,
        });
        fact
    }

    pub fn into_vec(self) -> Vec<Stage> {
        self.stages
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_stages_share_what_earlier_ones_left() {
        // 58 s left after detection: the benchmark takes 55 %.
        assert!((stage_seconds(58.0, StageName::Bench) - 23.2).abs() < 1e-9);
        // An overrun leaves nothing: later stages get zero, not a negative budget.
        assert_eq!(stage_seconds(-3.0, StageName::Profile), 0.0);
        assert_eq!(stage_seconds(10.0, StageName::Advise), 0.0);
    }

    /// A budget whose run started `seconds_ago`.
    fn started_ago(total_seconds: f64, seconds_ago: u64) -> Budget {
        let started = Instant::now()
            .checked_sub(std::time::Duration::from_secs(seconds_ago))
            .expect("the monotonic clock reaches back twenty seconds");
        Budget {
            total_seconds,
            started,
        }
    }

    #[test]
    fn a_budget_counts_down_from_when_the_run_started() {
        // 4 s into a 15 s run: at most 11 s are left (a little less on a slow machine), and
        // the GPU stage may take half of them.
        let budget = started_ago(QUICK_BUDGET_SECONDS, 4);
        let remaining = budget.remaining_seconds();
        assert!(remaining <= 11.0 && remaining > 9.0, "{remaining}");
        let gpu = budget.for_stage(StageName::Gpu);
        assert!(gpu <= 5.5 && gpu > 4.5, "{gpu}");
        // Past the budget nothing is left, not a negative amount.
        let overrun = started_ago(QUICK_BUDGET_SECONDS, 20);
        assert_eq!(overrun.remaining_seconds(), 0.0);
        assert_eq!(overrun.for_stage(StageName::Bench), 0.0);
    }

    #[test]
    fn a_failed_or_skipped_stage_is_recorded_and_becomes_an_unknown_fact() {
        let mut stages = Stages::default();
        let bench: Fact<u32> = stages.run(StageName::Bench, || Ok(3));
        let mpi: Fact<u32> = stages.run(StageName::Mpi, || {
            Err(StageEnd::Skipped("no MPI launcher".into()))
        });
        let gpu: Fact<u32> = stages.run(StageName::Gpu, || {
            Err(StageEnd::Failed("the device was lost".into()))
        });
        assert_eq!(bench, Fact::Known(3));
        assert_eq!(
            mpi,
            Fact::unknown("the mpi stage was skipped: no MPI launcher")
        );
        assert_eq!(
            gpu,
            Fact::unknown("the gpu stage failed: the device was lost")
        );
        let stages = stages.into_vec();
        let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["bench", "mpi", "gpu"]);
        assert_eq!(stages[0].outcome, StageOutcome::Completed);
        assert_eq!(
            stages[1].outcome,
            StageOutcome::Skipped {
                reason: "no MPI launcher".into()
            }
        );
        assert!(matches!(stages[2].outcome, StageOutcome::Failed { .. }));
    }
}
