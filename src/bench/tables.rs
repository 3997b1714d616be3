//! The benchmark's results as tables: one set of rows for the terminal, Markdown and HTML.

use std::io::{self, Write};

use tabled::settings::location::ByColumnName;
use tabled::settings::{Remove, Style};
use tabled::{Table, Tabled};

use super::BenchReport;
use super::ceilings::{Ceilings, ThroughputCeiling};
use super::python::PythonLadder;
use super::runner::Outcome;
use super::scaling::Scaling;
use super::stats::{Interval, QUIET_MACHINE_ADVICE, Summary};
use crate::output::{fit_to_terminal, wrap_to_terminal};

/// A duration with a unit that keeps three significant figures readable.
pub fn seconds(value: f64) -> String {
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
pub struct LadderRow {
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
pub struct CeilingRow {
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
pub struct OverheadRow {
    #[tabled(rename = "per-task overhead")]
    name: String,
    runs: String,
    median: String,
    #[tabled(rename = "median interval")]
    interval: String,
}

#[derive(Tabled)]
pub struct ThreadRow {
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
pub struct SizeRow {
    variant: String,
    #[tabled(rename = "nx x ny x nc")]
    size: String,
    runs: usize,
    median: String,
    #[tabled(rename = "ns/pair")]
    ns_per_pair: String,
}

#[derive(Tabled)]
pub struct RooflineRow {
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

/// Where a table is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableStyle {
    /// Box-drawing lines for a terminal.
    Terminal,
    /// A GitHub-flavoured Markdown table.
    Markdown,
}

/// The rows as a table in the given style.
pub fn table<R: Tabled>(rows: impl IntoIterator<Item = R>, style: TableStyle) -> Table {
    let mut table = Table::new(rows);
    apply_style(&mut table, style);
    table
}

fn apply_style(table: &mut Table, style: TableStyle) {
    match style {
        TableStyle::Terminal => table.with(Style::sharp()),
        TableStyle::Markdown => table.with(Style::markdown()),
    };
}

/// `header` and `records` of text as a table for a terminal (fitted to its width) or for
/// Markdown (a `|` inside a cell escaped, so it cannot split the cell).
pub fn text_table<R: IntoIterator<Item = String>>(
    header: impl IntoIterator<Item = String>,
    records: impl IntoIterator<Item = R>,
    style: TableStyle,
) -> String {
    let mut builder = tabled::builder::Builder::default();
    builder.push_record(header);
    for record in records {
        match style {
            TableStyle::Markdown => {
                builder.push_record(record.into_iter().map(|cell| cell.replace('|', "\\|")))
            }
            TableStyle::Terminal => builder.push_record(record),
        }
    }
    let mut table = builder.build();
    apply_style(&mut table, style);
    if style == TableStyle::Terminal {
        fit_to_terminal(&mut table);
    }
    table.to_string()
}

/// One row per ladder entry: timing, interval, throughput, share of the FMA peak and speedup.
pub fn ladder_rows(report: &BenchReport) -> Vec<LadderRow> {
    let peak_fraction = |variant: &str| {
        report
            .scaling
            .roofline
            .iter()
            .find(|p| p.variant == variant)
            .and_then(|p| p.fraction_of_fma_peak)
    };
    let rows = report.ladder.entries.iter().map(|entry| {
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
            // The reason is long: it is listed under the table, with the warnings.
            Outcome::Skipped { .. } => row.runs = "skipped".to_string(),
        }
        row
    });
    rows.collect()
}

/// The ladder for a summary: variant, workers, runs, median with its interval, and speedup.
pub fn ladder_summary_table(report: &BenchReport, style: TableStyle) -> Table {
    let mut ladder = table(ladder_rows(report), style);
    for detail in ["ns/pair", "GFLOP/s", "% FMA peak", "CPU share"] {
        ladder.with(Remove::column(ByColumnName::new(detail)));
    }
    ladder
}

/// The line above the ladder table: the problem, the flops per pair and the cores.
pub fn ladder_caption(report: &BenchReport) -> String {
    format!(
        "Ladder: {} ({} flop per pair, {} usable cores)",
        report.ladder.problem, report.ladder.flops_per_pair, report.usable_cores
    )
}

/// The line above the ceilings table: the cache sizes and the time spent.
pub fn ceilings_caption(ceilings: &Ceilings) -> String {
    format!(
        "Ceilings (L1d {} KiB, L2 {} KiB, LLC {} MiB; measured in {:.1} s)",
        ceilings.caches.l1_data >> 10,
        ceilings.caches.l2 >> 10,
        ceilings.caches.last_level >> 20,
        ceilings.seconds_spent
    )
}

/// Which clock, flop count and byte count the ceilings and the roofline use (printed under both).
pub const MEASUREMENT_CONVENTIONS: &str = "Clock: wall time on a monotonic clock, so peaks are at \
the frequency the cores really ran (boost included), not a nominal one. Flops: an FMA counts 2 per \
lane; the kernel 90 per pair (docs/kernel.md). Bytes: the triad counts STREAM's 24 B per element \
(reads b and c, writes a) with ordinary stores; with write-allocate the memory system moves 32 B, \
so like STREAM's the DRAM figure understates the traffic by a quarter. The roofline's intensities \
use each variant's documented bytes per pair.";

/// The FMA peaks and bandwidths, one core and all cores, then those not measured and why.
pub fn ceiling_rows(ceilings: &Ceilings) -> Vec<CeilingRow> {
    let unmeasured = ceilings.unmeasured.iter().map(|c| CeilingRow {
        ceiling: c.name.clone(),
        single: format!("not measured: {}", c.reason),
        single_median: String::new(),
        all: String::new(),
        all_median: String::new(),
    });
    throughput_ceilings(ceilings)
        .map(|c| {
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
        })
        .chain(unmeasured)
        .collect()
}

/// The per-task overheads (thread spawn, process start, ...), or why one was not measured.
pub fn overhead_rows(ceilings: &Ceilings) -> Vec<OverheadRow> {
    ceilings
        .overheads
        .iter()
        .map(|o| match &o.seconds {
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
        })
        .collect()
}

/// Every thread-scaling point of every series.
pub fn thread_rows(scaling: &Scaling) -> Vec<ThreadRow> {
    scaling
        .threads
        .iter()
        .flat_map(|s| {
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
        })
        .collect()
}

/// Each thread series' Amdahl fit and why it stopped, then the series left out.
pub fn scaling_notes(scaling: &Scaling) -> Vec<String> {
    let fits = scaling.threads.iter().map(|s| {
        format!(
            "{}: Amdahl serial fraction {}{}",
            s.variant,
            optional(s.amdahl_serial_fraction, |f| format!("{f:.3}")),
            s.failure
                .as_ref()
                .map_or(String::new(), |f| format!(" (stopped: {})", f.message))
        )
    });
    fits.chain(scaling.skipped.iter().cloned()).collect()
}

/// Each variant on the roofline with the roofs above it.
pub fn roofline_rows(scaling: &Scaling) -> Vec<RooflineRow> {
    scaling
        .roofline
        .iter()
        .map(|p| RooflineRow {
            variant: p.variant.clone(),
            intensity: format!("{:.2}", p.arithmetic_intensity),
            gflops: format!("{:.2}", p.gflops),
            compute: optional(p.compute_roof_gflops, |g| format!("{g:.1} GFLOP/s")),
            memory: optional(p.memory_roof_gflops, |g| format!("{g:.1} GFLOP/s")),
            l1: optional(p.l1_roof_gflops, |g| format!("{g:.1} GFLOP/s")),
            bound: p.bound.clone().unwrap_or_else(|| "–".to_string()),
        })
        .collect()
}

/// The rows as a terminal table that fits the terminal's width.
pub fn fitted<R: Tabled>(rows: impl IntoIterator<Item = R>) -> Table {
    let mut table = table(rows, TableStyle::Terminal);
    fit_to_terminal(&mut table);
    table
}

/// Every table of `hpc-advisor bench`, for a terminal.
pub fn write_tables(report: &BenchReport, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{}", ladder_caption(report))?;
    writeln!(out, "{}", fitted(ladder_rows(report)))?;
    writeln!(out, "\n{}", ceilings_caption(&report.ceilings))?;
    writeln!(out, "{}", fitted(ceiling_rows(&report.ceilings)))?;
    writeln!(out, "{}", wrap_to_terminal(MEASUREMENT_CONVENTIONS))?;
    writeln!(out, "{}", fitted(overhead_rows(&report.ceilings)))?;

    let scaling = &report.scaling;
    writeln!(out, "\nThread scaling")?;
    writeln!(out, "{}", fitted(thread_rows(scaling)))?;
    for note in scaling_notes(scaling) {
        writeln!(out, "{note}")?;
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
        writeln!(out, "{}", fitted(rows))?;
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
    writeln!(out, "{}", fitted(roofline_rows(scaling)))?;

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

/// What makes figures less trustworthy, one line per series; empty when nothing does.
pub fn warnings(report: &BenchReport) -> Vec<String> {
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
    if !lines.is_empty() {
        lines.push(QUIET_MACHINE_ADVICE.to_string());
    }
    if report.seconds_spent > report.budget_seconds * 1.1 {
        lines.push(format!(
            "the benchmark took {:.1} s of a {:.0} s budget: the slowest variant alone needs more; raise --budget or shrink the problem",
            report.seconds_spent, report.budget_seconds
        ));
    }
    lines
}

fn write_warnings(report: &BenchReport, out: &mut impl Write) -> io::Result<()> {
    let lines = warnings(report);
    if lines.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nWarnings")?;
    for line in lines {
        writeln!(out, "- {line}")?;
    }
    Ok(())
}

#[derive(Tabled)]
pub struct PythonRow {
    rung: String,
    workers: usize,
    #[tabled(rename = "ran on")]
    problem: String,
    runs: String,
    median: String,
    #[tabled(rename = "ns/pair")]
    ns_per_pair: String,
    #[tabled(rename = "over pure")]
    over_pure: String,
    #[tabled(rename = "compile")]
    compile: String,
    #[tabled(rename = "outside")]
    overhead: String,
}

/// `128x128x128` from a problem's description, or the description itself.
fn problem_size(description: &str) -> String {
    let cells = description.split(" cells").next().unwrap_or(description);
    match description
        .split(", ")
        .nth(1)
        .and_then(|s| s.strip_suffix(" segments"))
    {
        Some(segments) => format!("{cells}x{segments}"),
        None => description.to_string(),
    }
}

/// One row per Python rung: where it ran, its timing, its gain per pair over pure Python.
pub fn python_rows(ladder: &PythonLadder) -> Vec<PythonRow> {
    ladder
        .rungs
        .iter()
        .map(|rung| {
            let mut row = PythonRow {
                rung: rung.entry.variant.clone(),
                workers: rung.entry.workers,
                problem: problem_size(&rung.problem),
                runs: String::new(),
                median: String::new(),
                ns_per_pair: String::new(),
                over_pure: String::new(),
                compile: optional(rung.compile_seconds, seconds),
                overhead: optional(rung.overhead_seconds, seconds),
            };
            match &rung.entry.outcome {
                Outcome::Measured(result) => {
                    row.runs = result.measurement.repetitions.to_string();
                    row.median = seconds(result.measurement.wall_seconds.median);
                    row.ns_per_pair = format!("{:.1}", result.ns_per_pair);
                    row.over_pure = ladder
                        .gain(&rung.entry.variant, "py-pure")
                        .map_or_else(|| "–".to_string(), |g| format!("{g:.1}x"));
                }
                Outcome::Failed(failure) => row.runs = format!("FAILED: {}", failure.message),
                Outcome::Skipped { .. } => row.runs = "skipped".to_string(),
            }
            row
        })
        .collect()
}

pub fn python_caption(ladder: &PythonLadder) -> String {
    format!(
        "Python ladder: {} (per-pair costs compare across the sizes the rungs ran on; \
         Numba's compile, once per process, and what a run spends outside its own clock \
         (interpreter start, transfers, an MPI job's launch) are not in the timings)",
        ladder.interpreter
    )
}

/// What the Python rung table cannot hold: why rungs were skipped or failed, where they ran.
pub fn python_notes(ladder: &PythonLadder) -> Vec<String> {
    let mut notes: Vec<String> = ladder
        .rungs
        .iter()
        .filter_map(|rung| match &rung.entry.outcome {
            Outcome::Skipped { reason, hint } => Some(format!(
                "`{}` skipped: {reason} ({hint})",
                rung.entry.variant
            )),
            Outcome::Failed(failure) => Some(format!(
                "`{}` failed: {}",
                rung.entry.variant, failure.message
            )),
            Outcome::Measured(_) => None,
        })
        .collect();
    let smaller: Vec<String> = ladder
        .rungs
        .iter()
        .filter(|rung| !rung.full_size && rung.result().is_some())
        .map(|rung| format!("`{}` on {}", rung.entry.variant, rung.problem))
        .collect();
    if !smaller.is_empty() {
        notes.push(format!(
            "run on a smaller problem, for the time budget: {}",
            smaller.join("; ")
        ));
    }
    notes
}
