//! Saved runs side by side: which machine, which strategy on each, and whether a change is more than noise.
//!
//! [`Comparison::build`] reads two or more [`Report`]s (any version the
//! report reader accepts, `src/versioned_json.rs`) of the same problem and
//! lines up what differs: the machines' capability facts, each variant's
//! timing per pair with the ratio to the first run and whether the difference
//! is significant ([`significance`]: a rank test on the saved samples, or the
//! medians' intervals when there are too few), the plan on each machine, the
//! tree nodes where their paths part, and the best machine for this work.
//! With a baseline ([`Comparison::gate`]) it is a regression check for CI.
//! Runs of problems of different sizes compare per pair (the kernel's cost
//! model keeps that comparable, `kernel-spec.md`), which the comparison says;
//! runs of different problems (contour, wavelength) are refused. Nothing
//! here reads files or prints: `commands::compare` does, through [`render`].

pub mod render;
pub mod significance;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::advise::Answer;
use crate::advise::reading::{Unit, significant};
use crate::advise::render::step_gain_text;
use crate::bench::runner::{LadderEntry, Outcome};
use crate::fact::Fact;
use crate::report::Report;
use significance::{Rule, Verdict, compare_samples};

/// The version of the comparison JSON this build writes.
pub const COMPARISON_SCHEMA_VERSION: u32 = 1;

/// One saved run, as the comparison names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunLabel {
    /// `A`, `B`, ... in the order given.
    pub label: String,
    /// Where it was read from.
    pub path: String,
    pub host: String,
    pub created_utc: String,
    pub problem: String,
    pub quick: bool,
}

/// A run to compare: its label and its report.
pub struct LoadedRun {
    pub path: String,
    pub report: Report,
}

/// Everything the comparison found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    pub schema_version: u32,
    pub runs: Vec<RunLabel>,
    /// Set when the runs' problems differ in size: every figure is then per pair.
    pub rescaled: Option<String>,
    /// Capability facts, one value per run; `differs` when not every run has the same.
    pub machine: Vec<FactRow>,
    /// The Rust ladder, variant by variant.
    pub ladder: Vec<VariantRow>,
    /// The Python ladder, rung by rung (empty when no run measured it).
    pub python_ladder: Vec<VariantRow>,
    /// Each run's plan.
    pub advice: Vec<RunAdvice>,
    /// The tree nodes whose answers differ between runs.
    pub diverging: Vec<Divergence>,
    /// "Best for this work: B (`threads+simd`, 1.2 ns per pair), 2.0x faster than A ..."
    pub best: Fact<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FactRow {
    pub fact: String,
    pub values: Vec<String>,
    pub differs: bool,
}

/// One variant on every run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantRow {
    pub variant: String,
    /// One per run: the measurement, or why there is none.
    pub cells: Vec<Fact<Cell>>,
    /// One per run after the first: how it compares with the first run.
    pub against_first: Vec<Fact<Difference>>,
}

/// A variant's measurement on one run, per pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cell {
    pub workers: usize,
    pub runs: usize,
    /// Median nanoseconds per pair evaluation.
    pub ns_per_pair: f64,
    /// The median's confidence interval, ns per pair; `null` with too few runs.
    pub interval: Option<[f64; 2]>,
    /// Every run's time, ns per pair: what the rank test reads.
    pub samples: Vec<f64>,
}

/// One run's variant against the first run's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Difference {
    /// This run's cost per pair over the first run's: above 1 is slower.
    pub ratio: f64,
    pub verdict: Verdict,
    pub rule: Rule,
    /// The rank test's two-sided p-value, when it decided.
    pub p_value: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunAdvice {
    pub label: String,
    pub verdict: String,
    /// "Compile and vectorise the hot loop: 10.2x (...)" per step, in order.
    pub steps: Vec<String>,
    /// The plan's option ids, in order.
    pub options: Vec<String>,
}

/// A node of the tree answered differently on the runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Divergence {
    pub node: String,
    pub title: String,
    /// Per run: the branch taken (`none`, `pays`, ...) or `unknown`; `not visited` when the
    /// walk did not reach the node.
    pub branches: Vec<String>,
    /// Per run: the answer in words.
    pub answers: Vec<String>,
}

/// Why runs cannot be compared.
#[derive(Debug, Error, PartialEq)]
pub enum CompareError {
    #[error("compare needs at least two runs, got {0}")]
    TooFew(usize),
    #[error(
        "{first} and {other} are runs of different problems ({what}: `{first_value}` against `{other_value}`)"
    )]
    DifferentProblems {
        first: String,
        other: String,
        what: &'static str,
        first_value: String,
        other_value: String,
    },
}

/// `A`, `B`, ..., `Z`, `AA`, ...
fn label(index: usize) -> String {
    let letter = |i: usize| char::from(b'A' + (i % 26) as u8);
    if index < 26 {
        letter(index).to_string()
    } else {
        format!("{}{}", letter(index / 26 - 1), letter(index))
    }
}

impl Comparison {
    /// Lines up `runs`, the first being what every other is compared with.
    pub fn build(runs: &[LoadedRun]) -> Result<Comparison, CompareError> {
        if runs.len() < 2 {
            return Err(CompareError::TooFew(runs.len()));
        }
        let labels: Vec<RunLabel> = runs
            .iter()
            .enumerate()
            .map(|(i, run)| RunLabel {
                label: label(i),
                path: run.path.clone(),
                host: run.report.host.clone(),
                created_utc: run.report.created_utc.clone(),
                problem: run.report.run.problem.clone(),
                quick: run.report.run.quick,
            })
            .collect();
        let rescaled = same_problem(runs, &labels)?;
        let reports: Vec<&Report> = runs.iter().map(|r| &r.report).collect();
        let rust: Vec<Vec<&LadderEntry>> = reports
            .iter()
            .map(|r| {
                r.bench
                    .known()
                    .map_or_else(Vec::new, |b| b.ladder.entries.iter().collect())
            })
            .collect();
        let python: Vec<Vec<&LadderEntry>> = reports
            .iter()
            .map(|r| {
                r.python.known().map_or_else(Vec::new, |p| {
                    p.rungs.iter().map(|rung| &rung.entry).collect()
                })
            })
            .collect();
        let ladder = variant_rows(&rust, &reports, "the benchmark did not run");
        Ok(Comparison {
            schema_version: COMPARISON_SCHEMA_VERSION,
            machine: machine_rows(&reports),
            best: best_machine(&ladder, &labels),
            python_ladder: variant_rows(&python, &reports, "the Python ladder did not run"),
            ladder,
            advice: reports
                .iter()
                .zip(&labels)
                .map(|(report, label)| run_advice(report, &label.label))
                .collect(),
            diverging: diverging(&reports),
            rescaled,
            runs: labels,
        })
    }

    /// The variants of the second run that are slower than the first's beyond noise and by
    /// more than `threshold` (0.05 = 5 %), and those faster by as much.
    pub fn gate(&self, threshold: f64) -> Gate {
        let mut gate = Gate {
            threshold,
            regressed: Vec::new(),
            improved: Vec::new(),
        };
        for row in self.ladder.iter().chain(&self.python_ladder) {
            let Some(Fact::Known(difference)) = row.against_first.first() else {
                continue;
            };
            let change = GateChange {
                variant: row.variant.clone(),
                ratio: difference.ratio,
            };
            match difference.verdict {
                Verdict::Slower if difference.ratio > 1.0 + threshold => {
                    gate.regressed.push(change)
                }
                Verdict::Faster if difference.ratio < 1.0 / (1.0 + threshold) => {
                    gate.improved.push(change)
                }
                _ => {}
            }
        }
        gate
    }
}

/// What `compare --baseline` decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    pub threshold: f64,
    pub regressed: Vec<GateChange>,
    pub improved: Vec<GateChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GateChange {
    pub variant: String,
    /// New cost per pair over the baseline's.
    pub ratio: f64,
}

/// Refuses runs of different problems; says so when only the sizes differ.
fn same_problem(runs: &[LoadedRun], labels: &[RunLabel]) -> Result<Option<String>, CompareError> {
    let first = &runs[0].report.run;
    for (run, label) in runs.iter().zip(labels).skip(1) {
        let other = &run.report.run;
        let checks: [(&'static str, String, String); 2] = [
            ("contour", first.contour.clone(), other.contour.clone()),
            (
                "wavelength",
                first.wavelength.to_string(),
                other.wavelength.to_string(),
            ),
        ];
        for (what, first_value, other_value) in checks {
            if first_value != other_value {
                return Err(CompareError::DifferentProblems {
                    first: format!("{} ({})", labels[0].label, labels[0].path),
                    other: format!("{} ({})", label.label, label.path),
                    what,
                    first_value,
                    other_value,
                });
            }
        }
    }
    let sizes: Vec<String> = runs
        .iter()
        .map(|r| {
            format!(
                "{}x{}x{}",
                r.report.run.nx, r.report.run.ny, r.report.run.nc
            )
        })
        .collect();
    Ok((sizes.iter().any(|s| *s != sizes[0])).then(|| {
        let listed: Vec<String> = labels
            .iter()
            .zip(&sizes)
            .map(|(l, s)| format!("{} {s}", l.label))
            .collect();
        format!(
            "the problems differ in size ({}): every figure is per pair evaluation, which the kernel's cost model keeps comparable",
            listed.join(", ")
        )
    }))
}

/// The capability facts of every run, in a fixed order.
fn machine_rows(reports: &[&Report]) -> Vec<FactRow> {
    type Reader = fn(&Report) -> String;
    let rows: [(&str, Reader); 11] = [
        ("CPU", |r| r.facts.machine.description.clone()),
        ("microarchitecture", |r| {
            known_or(
                r.machine
                    .known()
                    .and_then(|m| m.cpu.microarchitecture.known().cloned()),
            )
        }),
        ("SIMD", |r| match &r.facts.machine.simd {
            Fact::Known(simd) => format!("{}, {} f64 lanes", simd.isa, simd.f64_lanes),
            Fact::Unknown(why) => format!("unknown: {why}"),
        }),
        ("usable cores", |r| match &r.facts.machine.cores {
            Fact::Known(cores) => format!(
                "{} of {} ({})",
                cores.usable, cores.hardware, cores.binding_limit
            ),
            Fact::Unknown(why) => format!("unknown: {why}"),
        }),
        ("memory", |r| {
            known_or(
                r.machine
                    .known()
                    .and_then(|m| m.memory.total_bytes.known().copied())
                    .map(|bytes| Unit::Bytes.format(bytes as f64)),
            )
        }),
        ("GPUs", |r| match &r.facts.machine.gpus {
            Fact::Known(gpus) if gpus.is_empty() => "none".to_string(),
            Fact::Known(gpus) => gpus
                .iter()
                .map(|g| {
                    format!(
                        "{} {}{}",
                        g.vendor,
                        g.model,
                        if g.software { " (software)" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            Fact::Unknown(why) => format!("unknown: {why}"),
        }),
        ("MPI", |r| match &r.facts.machine.mpi {
            Fact::Known(Some(mpi)) => format!(
                "{} via {}{}",
                mpi.implementation,
                mpi.launcher,
                match mpi.can_launch {
                    Fact::Known(false) => " (cannot launch)",
                    _ => "",
                }
            ),
            Fact::Known(None) => "none".to_string(),
            Fact::Unknown(why) => format!("unknown: {why}"),
        }),
        ("batch allocation", |r| match &r.facts.machine.scheduler {
            Fact::Known(Some(a)) => {
                format!("{}: {} nodes, {} tasks", a.scheduler, a.nodes, a.tasks)
            }
            Fact::Known(None) => "none".to_string(),
            Fact::Unknown(why) => format!("unknown: {why}"),
        }),
        ("Python", |r| match &r.facts.machine.python {
            Fact::Known(Some(python)) => {
                format!("{} {}", python.interpreter, python.packages.join(" "))
            }
            Fact::Known(None) => "none".to_string(),
            Fact::Unknown(why) => format!("unknown: {why}"),
        }),
        ("FMA peak per core (measured)", |r| {
            known_or(
                r.facts
                    .measurements
                    .ceilings
                    .fma_peak_gflops_per_core
                    .known()
                    .map(|g| Unit::GflopsPerSecond.format(*g)),
            )
        }),
        ("STREAM triad, all cores (measured)", |r| {
            known_or(
                r.facts
                    .measurements
                    .ceilings
                    .bandwidth_gbytes_per_second
                    .known()
                    .map(|g| Unit::GbytesPerSecond.format(*g)),
            )
        }),
    ];
    rows.iter()
        .map(|(fact, read)| {
            let values: Vec<String> = reports.iter().map(|r| read(r)).collect();
            FactRow {
                fact: fact.to_string(),
                differs: values.iter().any(|v| *v != values[0]),
                values,
            }
        })
        .collect()
}

fn known_or(value: Option<String>) -> String {
    value.unwrap_or_else(|| "unknown".to_string())
}

/// One row per variant any run has, in the first run's order then the others'.
fn variant_rows(
    ladders: &[Vec<&LadderEntry>],
    reports: &[&Report],
    missing: &str,
) -> Vec<VariantRow> {
    let mut names: Vec<&str> = Vec::new();
    for entry in ladders.iter().flatten() {
        if !names.contains(&entry.variant.as_str()) {
            names.push(&entry.variant);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let cells: Vec<Fact<Cell>> = ladders
                .iter()
                .zip(reports)
                .map(|(entries, report)| {
                    if entries.is_empty() {
                        return Fact::unknown(missing);
                    }
                    match entries.iter().find(|e| e.variant == name) {
                        Some(entry) => cell(entry),
                        None => Fact::unknown(format!(
                            "not in the ladder of the hpc-advisor {} that wrote this run",
                            report.tool_version
                        )),
                    }
                })
                .collect();
            let against_first = cells[1..]
                .iter()
                .map(|other| difference(&cells[0], other))
                .collect();
            VariantRow {
                variant: name.to_string(),
                cells,
                against_first,
            }
        })
        .collect()
}

/// A ladder entry per pair, or why it has no measurement.
fn cell(entry: &LadderEntry) -> Fact<Cell> {
    match &entry.outcome {
        Outcome::Measured(result) => {
            let per_pair = 1e9 / result.pairs.max(1) as f64;
            let summary = &result.measurement.wall_seconds;
            Fact::Known(Cell {
                workers: entry.workers,
                runs: result.measurement.repetitions,
                ns_per_pair: result.ns_per_pair,
                interval: summary
                    .median_interval
                    .map(|i| [i.low * per_pair, i.high * per_pair]),
                samples: summary.samples.iter().map(|s| s * per_pair).collect(),
            })
        }
        Outcome::Failed(failure) => Fact::unknown(format!("failed: {}", failure.message)),
        Outcome::Skipped { reason, .. } => Fact::unknown(format!("skipped: {reason}")),
    }
}

fn difference(first: &Fact<Cell>, other: &Fact<Cell>) -> Fact<Difference> {
    match (first, other) {
        (Fact::Known(first), Fact::Known(other)) => {
            let (verdict, rule, p_value) = compare_samples(
                &first.samples,
                &other.samples,
                first.interval.zip(other.interval),
            );
            Fact::Known(Difference {
                ratio: other.ns_per_pair / first.ns_per_pair,
                verdict,
                rule,
                p_value,
            })
        }
        (Fact::Unknown(why), _) => Fact::unknown(format!("the first run has none: {why}")),
        (_, Fact::Unknown(why)) => Fact::Unknown(why.clone()),
    }
}

/// The run whose fastest agreeing variant costs least per pair, and by how much.
fn best_machine(ladder: &[VariantRow], labels: &[RunLabel]) -> Fact<String> {
    let fastest: Vec<Option<(&str, f64)>> = (0..labels.len())
        .map(|run| {
            ladder
                .iter()
                .filter_map(|row| {
                    row.cells[run]
                        .known()
                        .map(|c| (row.variant.as_str(), c.ns_per_pair))
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))
        })
        .collect();
    let mut ranked: Vec<(usize, &str, f64)> = fastest
        .iter()
        .enumerate()
        .filter_map(|(run, best)| best.map(|(variant, ns)| (run, variant, ns)))
        .collect();
    ranked.sort_by(|a, b| a.2.total_cmp(&b.2));
    let Some(&(best, variant, ns)) = ranked.first() else {
        return Fact::unknown("no run measured its ladder");
    };
    let mut sentence = format!(
        "Best for this work: {} on {} (`{variant}`, {} ns per pair)",
        labels[best].label,
        labels[best].host,
        significant(ns)
    );
    let cell_of = |run: usize, variant: &str| {
        ladder
            .iter()
            .find(|row| row.variant == variant)
            .and_then(|row| row.cells[run].known())
    };
    let others: Vec<String> = ranked[1..]
        .iter()
        .map(|&(run, other_variant, other_ns)| {
            // The same variant on both: is the difference more than noise?
            let noise = match (cell_of(best, variant), cell_of(run, other_variant)) {
                (Some(fast), Some(slow)) if variant == other_variant => {
                    let (verdict, _, _) = compare_samples(
                        &slow.samples,
                        &fast.samples,
                        slow.interval.zip(fast.interval),
                    );
                    match verdict {
                        Verdict::Faster | Verdict::Slower => "",
                        Verdict::NoSignificantDifference => ", within noise",
                        Verdict::TooFewRuns => ", too few runs to tell it from noise",
                    }
                }
                _ => "",
            };
            let by = if other_ns / ns < 1.005 {
                "as fast as".to_string()
            } else {
                format!("{} faster than", Unit::Times.format(other_ns / ns))
            };
            format!(
                "{by} {} on {} (`{other_variant}`, {} ns per pair{noise})",
                labels[run].label,
                labels[run].host,
                significant(other_ns)
            )
        })
        .collect();
    if !others.is_empty() {
        sentence.push_str(", ");
        sentence.push_str(&others.join("; "));
    }
    sentence.push('.');
    Fact::Known(sentence)
}

fn run_advice(report: &Report, label: &str) -> RunAdvice {
    let plan = &report.recommendation.plan;
    RunAdvice {
        label: label.to_string(),
        verdict: plan.verdict.clone(),
        steps: plan
            .steps
            .iter()
            .map(|s| format!("{}: {}", s.title, step_gain_text(s)))
            .collect(),
        options: plan.steps.iter().map(|s| s.option.clone()).collect(),
    }
}

/// The nodes, in the first run's path order, whose branch is not the same on every run.
fn diverging(reports: &[&Report]) -> Vec<Divergence> {
    let mut nodes: Vec<(&str, &str)> = Vec::new();
    for report in reports {
        for step in &report.recommendation.path {
            if !nodes.iter().any(|(node, _)| *node == step.node) {
                nodes.push((&step.node, &step.title));
            }
        }
    }
    nodes
        .into_iter()
        .filter_map(|(node, title)| {
            let answered: Vec<(String, String)> = reports
                .iter()
                .map(
                    |report| match report.recommendation.path.iter().find(|s| s.node == node) {
                        Some(step) => match &step.answer {
                            Answer::Decided { branch, text } => (branch.clone(), text.clone()),
                            Answer::Unknown { because } => {
                                ("unknown".to_string(), format!("unknown: {because}"))
                            }
                        },
                        None => ("not visited".to_string(), "not visited".to_string()),
                    },
                )
                .collect();
            let differs = answered.iter().any(|(branch, _)| *branch != answered[0].0);
            differs.then(|| Divergence {
                node: node.to_string(),
                title: title.to_string(),
                branches: answered.iter().map(|(b, _)| b.clone()).collect(),
                answers: answered.into_iter().map(|(_, a)| a).collect(),
            })
        })
        .collect()
}
