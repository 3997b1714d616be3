//! `hpc-advisor bench`: the ladder timed with statistics, the machine's ceilings and the scaling, as tables or JSON.

use std::io::{self, IsTerminal, Write};

use hpc_kernels::scatter::{RunSettings, Variant, registry};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::bench::runner::{MeasuringExecutor, Outcome};
use crate::bench::scaling::thread_counts;
use crate::bench::tables::write_tables;
use crate::bench::{self, BenchReport, BenchSettings, Progress};
use crate::cli::{BenchArgs, BenchFormat};
use crate::commands::kernel::{check_workload, find_variant};
use crate::error::user_error;

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let problem = args.problem.to_problem()?;
    let budget_seconds = args.budget_seconds()?;
    let mut variants: Vec<&dyn Variant> = if args.variants.is_empty() {
        registry::all().to_vec()
    } else {
        args.variants
            .iter()
            .map(|name| find_variant(name.trim()))
            .collect::<anyhow::Result<_>>()?
    };
    let mut seen = std::collections::HashSet::new();
    variants.retain(|v| seen.insert(v.name()));
    let mut run_settings = RunSettings::default();
    run_settings.usable_cores = Some(crate::detect::usable_cores());
    check_workload(
        &problem,
        registry::reference(),
        &run_settings,
        args.problem.force,
    )?;
    // Logical CPUs this process may use: SMT siblings count when the affinity grants them.
    let cores = crate::detect::usable_cores();
    let counts = args
        .thread_counts()?
        .unwrap_or_else(|| thread_counts(cores, cores));
    let noop_program = std::env::current_exe().ok();

    let mut progress = ProgressReporter::new(budget_seconds);
    let report = bench::run(
        &mut MeasuringExecutor,
        &BenchSettings {
            problem: &problem,
            variants: &variants,
            run_settings: &run_settings,
            thread_counts: &counts,
            budget_seconds,
            noop_program,
        },
        &mut progress,
    );
    progress.finish();
    let (report, _) = report.map_err(|e| {
        user_error(
            e.to_string(),
            "run `hpc-advisor kernel run --variant naive` with the same problem to see why",
        )
    })?;

    let mut out = io::stdout().lock();
    match args.format {
        BenchFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        BenchFormat::Table => write_tables(&report, &mut out)?,
    }
    drop(out);
    failures_as_error(&report)
}

/// A failed or disagreeing variant makes the exit code non-zero, after everything was printed.
pub(crate) fn failures_as_error(report: &BenchReport) -> anyhow::Result<()> {
    if !report.ladder.has_failures() {
        return Ok(());
    }
    let failed: Vec<String> = report
        .ladder
        .entries
        .iter()
        .filter_map(|e| match &e.outcome {
            Outcome::Failed(f) => Some(format!("{}: {}", e.variant, f.message)),
            _ => None,
        })
        .collect();
    Err(user_error(
        format!("variants failed: {}", failed.join("; ")),
        "the other variants' figures stand; a variant that disagrees with naive is a bug, please report it",
    ))
}

/// An indicatif bar over the budget on stderr, hidden when stderr is not a terminal.
pub(crate) struct ProgressReporter {
    bar: ProgressBar,
}

impl ProgressReporter {
    pub(crate) fn new(budget_seconds: f64) -> ProgressReporter {
        let target = if io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some((budget_seconds * 1e3) as u64), target);
        bar.set_style(
            ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {msg}")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        ProgressReporter { bar }
    }

    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for ProgressReporter {
    fn step(&mut self, label: &str) {
        self.bar.set_message(label.to_string());
    }
    fn spent(&mut self, seconds: f64) {
        self.bar.inc((seconds * 1e3) as u64);
    }
}
