//! `hpc-advisor bench`: the ladder timed with statistics, the machine's ceilings and the scaling, as tables or JSON.

use std::io::{self, IsTerminal, Write};

use hpc_kernels::scatter::{RunSettings, Variant, registry};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tabled::settings::Style;
use tabled::{Table, Tabled};

use crate::bench::ceilings::{Ceilings, ThroughputCeiling};
use crate::bench::runner::{MeasuringExecutor, Outcome};
use crate::bench::scaling::thread_counts;
use crate::bench::stats::{Interval, QUIET_MACHINE_ADVICE, Summary};
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
    let report = report.map_err(|e| {
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

fn seconds(value: f64) -> String {
    match value {
        v if v >= 1.0 => format!("{v:.3} s"),
        v if v >= 1e-3 => format!("{:.2} ms", v * 1e3),
        v => format!("{:.2} µs", v * 1e6),
    }
}

fn interval(interval: Option<Interval>, format: impl Fn(f64) -> String) -> String {
    match interval {
        Some(i) => format!(
            "{} – {} ({:.0}%)",
            format(i.low),
            format(i.high),
            i.confidence * 100.0
        ),
        None => "n/a (1 run)".to_string(),
    }
}

fn optional(value: Option<f64>, format: impl Fn(f64) -> String) -> String {
    value.map_or_else(|| "–".to_string(), format)
}

#[derive(Tabled)]
struct LadderRow {
    variant: String,
    workers: usize,
    runs: String,
    median: String,
    #[tabled(rename = "median interval")]
    interval: String,
    #[tabled(rename = "ns/pair")]
    ns_per_pair: String,
    #[tabled(rename = "GFLOP/s")]
    gflops: String,
    #[tabled(rename = "% FMA peak")]
    peak: String,
    #[tabled(rename = "speedup vs naive")]
    speedup: String,
    #[tabled(rename = "CPU share")]
    cpu_share: String,
}

#[derive(Tabled)]
struct CeilingRow {
    ceiling: String,
    #[tabled(rename = "1 core (best)")]
    single: String,
    #[tabled(rename = "1 core median")]
    single_median: String,
    #[tabled(rename = "all cores (best)")]
    all: String,
    #[tabled(rename = "all cores median")]
    all_median: String,
}

#[derive(Tabled)]
struct OverheadRow {
    #[tabled(rename = "per-task overhead")]
    name: String,
    runs: String,
    median: String,
    #[tabled(rename = "median interval")]
    interval: String,
}

#[derive(Tabled)]
struct ThreadRow {
    variant: String,
    threads: String,
    runs: usize,
    median: String,
    speedup: String,
    efficiency: String,
    #[tabled(rename = "Karp-Flatt")]
    karp_flatt: String,
}

#[derive(Tabled)]
struct SizeRow {
    variant: String,
    #[tabled(rename = "nx x ny x nc")]
    size: String,
    runs: usize,
    median: String,
    #[tabled(rename = "ns/pair")]
    ns_per_pair: String,
}

#[derive(Tabled)]
struct RooflineRow {
    variant: String,
    #[tabled(rename = "flop/byte")]
    intensity: String,
    #[tabled(rename = "GFLOP/s")]
    gflops: String,
    #[tabled(rename = "compute roof")]
    compute: String,
    #[tabled(rename = "memory roof")]
    memory: String,
    #[tabled(rename = "L1 roof")]
    l1: String,
    bound: String,
}

fn table<R: Tabled>(rows: impl IntoIterator<Item = R>) -> Table {
    let mut table = Table::new(rows);
    table.with(Style::sharp());
    table
}

pub(crate) fn write_tables(report: &BenchReport, out: &mut impl Write) -> io::Result<()> {
    let ladder = &report.ladder;
    writeln!(
        out,
        "Ladder: {} ({} flop per pair, {} usable cores)",
        ladder.problem, ladder.flops_per_pair, report.usable_cores
    )?;
    let peak_fraction = |variant: &str| {
        report
            .scaling
            .roofline
            .iter()
            .find(|p| p.variant == variant)
            .and_then(|p| p.fraction_of_fma_peak)
    };
    let rows = ladder.entries.iter().map(|entry| {
        let mut row = LadderRow {
            variant: entry.variant.clone(),
            workers: entry.workers,
            runs: String::new(),
            median: String::new(),
            interval: String::new(),
            ns_per_pair: String::new(),
            gflops: String::new(),
            peak: String::new(),
            speedup: String::new(),
            cpu_share: String::new(),
        };
        match &entry.outcome {
            Outcome::Measured(result) => {
                let m = &result.measurement;
                row.runs = m.repetitions.to_string();
                row.median = seconds(m.wall_seconds.median);
                row.interval = interval(m.wall_seconds.median_interval, seconds);
                row.ns_per_pair = format!("{:.2}", result.ns_per_pair);
                row.gflops = format!("{:.2}", result.gflops);
                row.peak = optional(peak_fraction(&entry.variant), |f| {
                    format!("{:.1}%", f * 100.0)
                });
                row.speedup = match result.speedup {
                    None => "1 (reference)".to_string(),
                    Some(s) => match s.low.zip(s.high) {
                        Some((low, high)) => format!("{:.1}x ({low:.1} – {high:.1})", s.median),
                        None => format!("{:.1}x", s.median),
                    },
                };
                row.cpu_share = optional(m.cpu_share, |s| format!("{:.0}%", s * 100.0));
            }
            Outcome::Failed(failure) => row.runs = format!("FAILED: {}", failure.message),
            Outcome::Skipped { reason, hint } => row.runs = format!("skipped: {reason} ({hint})"),
        }
        row
    });
    writeln!(out, "{}", table(rows))?;

    let ceilings = &report.ceilings;
    writeln!(
        out,
        "\nCeilings (L1d {} KiB, L2 {} KiB, LLC {} MiB; measured in {:.1} s)",
        ceilings.caches.l1_data >> 10,
        ceilings.caches.l2 >> 10,
        ceilings.caches.last_level >> 20,
        ceilings.seconds_spent
    )?;
    let throughput = throughput_ceilings(ceilings).map(|c| {
        let median = |s: &Summary| {
            format!(
                "{:.1} [{}]",
                s.median,
                interval(s.median_interval, |v| format!("{v:.1}"))
            )
        };
        CeilingRow {
            ceiling: c.name.clone(),
            single: format!("{:.1} {}", c.best(1), c.unit),
            single_median: median(&c.single_core),
            all: format!("{:.1} {} ({} threads)", c.all_cores.max, c.unit, c.threads),
            all_median: median(&c.all_cores),
        }
    });
    writeln!(out, "{}", table(throughput))?;
    let overheads = ceilings.overheads.iter().map(|o| match &o.seconds {
        Some(s) => OverheadRow {
            name: o.name.to_string(),
            runs: s.samples.len().to_string(),
            median: seconds(s.median),
            interval: interval(s.median_interval, seconds),
        },
        None => OverheadRow {
            name: o.name.to_string(),
            runs: "0".to_string(),
            median: format!("not measured: {}", o.unavailable.as_deref().unwrap_or("")),
            interval: String::new(),
        },
    });
    writeln!(out, "{}", table(overheads))?;

    let scaling = &report.scaling;
    writeln!(out, "\nThread scaling")?;
    let thread_rows = scaling.threads.iter().flat_map(|s| {
        s.points.iter().map(|p| ThreadRow {
            variant: s.variant.clone(),
            threads: if p.beyond_cores {
                format!("{} (beyond cores)", p.threads)
            } else {
                p.threads.to_string()
            },
            runs: p.measurement.repetitions,
            median: seconds(p.measurement.wall_seconds.median),
            speedup: format!("{:.2}x", p.speedup),
            efficiency: format!("{:.0}%", p.efficiency * 100.0),
            karp_flatt: optional(p.karp_flatt, |e| format!("{e:.3}")),
        })
    });
    writeln!(out, "{}", table(thread_rows))?;
    for s in &scaling.threads {
        writeln!(
            out,
            "{}: Amdahl serial fraction {}{}",
            s.variant,
            optional(s.amdahl_serial_fraction, |f| format!("{f:.3}")),
            s.failure
                .as_ref()
                .map_or(String::new(), |f| format!(" (stopped: {})", f.message))
        )?;
    }
    for skipped in &scaling.skipped {
        writeln!(out, "{skipped}")?;
    }
    if let Some(size) = &scaling.size {
        writeln!(out, "\nProblem-size scaling")?;
        let rows = size.points.iter().map(|p| SizeRow {
            variant: size.variant.clone(),
            size: format!("{} x {} x {}", p.nx, p.ny, p.nc),
            runs: p.measurement.repetitions,
            median: seconds(p.measurement.wall_seconds.median),
            ns_per_pair: format!(
                "{:.2}",
                p.measurement.wall_seconds.median * 1e9 / p.pairs.max(1) as f64
            ),
        });
        writeln!(out, "{}", table(rows))?;
        writeln!(
            out,
            "growth exponent of time against nx*ny*nc: {} (the kernel's is 1){}",
            optional(size.growth_exponent, |e| format!("{e:.2}")),
            if size.accidentally_quadratic {
                " - well above 1: an algorithmic problem (accidentally quadratic, seed 004)"
            } else {
                ""
            }
        )?;
    }
    writeln!(out, "\nRoofline")?;
    let rows = scaling.roofline.iter().map(|p| RooflineRow {
        variant: p.variant.clone(),
        intensity: format!("{:.2}", p.arithmetic_intensity),
        gflops: format!("{:.2}", p.gflops),
        compute: optional(p.compute_roof_gflops, |g| format!("{g:.1} GFLOP/s")),
        memory: optional(p.memory_roof_gflops, |g| format!("{g:.1} GFLOP/s")),
        l1: optional(p.l1_roof_gflops, |g| format!("{g:.1} GFLOP/s")),
        bound: p.bound.clone().unwrap_or_else(|| "–".to_string()),
    });
    writeln!(out, "{}", table(rows))?;

    write_warnings(report, out)?;
    writeln!(
        out,
        "\nbudget {:.0} s, spent {:.1} s",
        report.budget_seconds, report.seconds_spent
    )
}

/// The FMA peaks, then the bandwidths.
fn throughput_ceilings(ceilings: &Ceilings) -> impl Iterator<Item = &ThroughputCeiling> {
    ceilings
        .fma
        .iter()
        .map(|f| &f.gflops)
        .chain(ceilings.bandwidth.iter().map(|b| &b.gigabytes_per_second))
}

fn write_warnings(report: &BenchReport, out: &mut impl Write) -> io::Result<()> {
    // One line per series: what it is, then its warnings joined.
    let mut lines: Vec<String> = Vec::new();
    let mut add = |what: String, warnings: &[String]| {
        if !warnings.is_empty() {
            lines.push(format!("{what}: {}", warnings.join("; ")));
        }
    };
    for entry in &report.ladder.entries {
        if let Some(result) = entry.result() {
            add(entry.variant.clone(), &result.measurement.warnings);
        }
        if let Outcome::Skipped { reason, .. } = &entry.outcome {
            add(entry.variant.clone(), &[format!("skipped, {reason}")]);
        }
    }
    for s in &report.scaling.threads {
        for p in &s.points {
            add(
                format!("{} on {} threads", s.variant, p.threads),
                &p.measurement.warnings,
            );
        }
    }
    if let Some(size) = &report.scaling.size {
        for p in &size.points {
            add(
                format!("{} at {} x {} x {}", size.variant, p.nx, p.ny, p.nc),
                &p.measurement.warnings,
            );
        }
    }
    let ceilings = &report.ceilings;
    for ceiling in throughput_ceilings(ceilings) {
        add(
            format!("{} (1 core)", ceiling.name),
            &ceiling.single_core.warnings,
        );
        add(
            format!("{} (all cores)", ceiling.name),
            &ceiling.all_cores.warnings,
        );
    }
    for overhead in &ceilings.overheads {
        if let Some(summary) = &overhead.seconds {
            add(overhead.name.to_string(), &summary.warnings);
        }
    }
    let unreliable = !lines.is_empty();
    if report.seconds_spent > report.budget_seconds * 1.1 {
        lines.push(format!(
            "the benchmark took {:.1} s of a {:.0} s budget: the slowest variant alone needs more; raise --budget or shrink the problem",
            report.seconds_spent, report.budget_seconds
        ));
    }
    if lines.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nWarnings")?;
    for line in lines {
        writeln!(out, "- {line}")?;
    }
    if unreliable {
        writeln!(out, "{QUIET_MACHINE_ADVICE}")?;
    }
    Ok(())
}
