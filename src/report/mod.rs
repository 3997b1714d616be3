//! The report of a run: one data model, rendered to the terminal, Markdown, JSON and HTML.

pub mod charts;
pub mod html;
pub mod kernel_run;
pub mod markdown;
pub mod model;
pub mod program;
pub mod terminal;

pub use model::{
    Artefact, ArtefactKind, GpuRun, MpiRun, NodeThroughput, ProgramSection,
    READABLE_FACTS_OF_REPORT_VERSIONS, READABLE_REPORT_VERSIONS, REPORT_SCHEMA_VERSION, Report,
    RunSummary, Stage, StageOutcome,
};

use anyhow::Context;

use crate::advise::Facts;
use crate::fact::Fact;
use crate::output::StagedDir;
use crate::versioned_json::{DocumentError, from_any_versioned_json};

impl Report {
    /// Reads a saved `report.json`, naming the offending field when it cannot.
    pub fn from_json(text: &str) -> Result<Report, DocumentError> {
        from_any_versioned_json(text, &READABLE_REPORT_VERSIONS)
    }

    /// The facts of a saved `report.json` of this version or an earlier one whose facts
    /// this build still reads, with the report's version: what `advise --from` re-advises.
    pub fn facts_from_json(text: &str) -> Result<(Facts, u32), DocumentError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(DocumentError::NotJson)?;
        let earlier = value
            .get("schema_version")
            .and_then(|v| v.as_u64())
            .and_then(|v| u32::try_from(v).ok())
            .filter(|v| {
                !READABLE_REPORT_VERSIONS.contains(v)
                    && READABLE_FACTS_OF_REPORT_VERSIONS.contains(v)
            });
        // A current report is read whole, so a broken one is refused as `report --from` would.
        let Some(version) = earlier else {
            return Report::from_json(text).map(|report| (report.facts, report.schema_version));
        };
        let facts = value.get("facts").ok_or_else(|| DocumentError::Field {
            path: "facts".into(),
            message: "missing field `facts`".into(),
        })?;
        let facts = Facts::from_json(&facts.to_string()).map_err(|error| match error {
            DocumentError::Field { path, message } => DocumentError::Field {
                path: format!("facts.{path}"),
                message,
            },
            other => other,
        })?;
        Ok((facts, version))
    }

    /// The flamegraph SVGs of the run folder, plain and differential, in listed order.
    pub fn flamegraphs(&self) -> impl Iterator<Item = &Artefact> {
        self.artefacts.iter().filter(|a| {
            matches!(
                a.kind,
                ArtefactKind::Flamegraph | ArtefactKind::DifferentialFlamegraph
            )
        })
    }
}

/// The JSON Schema of report.json, as checked in at docs/report-schema.json.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Report);
    serde_json::to_string_pretty(&schema).expect("a schema serialises") + "\n"
}

/// Writes report.json, report.md and report.html into the staged run folder.
///
/// The flamegraphs and folded stacks must be there already and listed in
/// `report.artefacts`: the HTML inlines them. The three files are added to
/// `report.artefacts` (unless listed already) before it is written, so the
/// report they hold lists them, as does the caller's after.
pub fn write_run_folder(report: &mut Report, staged: &StagedDir) -> anyhow::Result<()> {
    let folder = staged.path();
    let written = [
        (
            "report.json",
            ArtefactKind::ReportJson,
            "the whole report as JSON (docs/report-schema.json)",
        ),
        (
            "report.md",
            ArtefactKind::ReportMarkdown,
            "the report for GitHub: tables, decision path, actions",
        ),
        (
            "report.html",
            ArtefactKind::ReportHtml,
            "the report as one self-contained page with charts and flamegraphs",
        ),
    ];
    for (path, kind, description) in written {
        if !report.artefacts.iter().any(|a| a.path == path) {
            report.artefacts.push(Artefact {
                path: path.to_string(),
                kind,
                description: description.to_string(),
            });
        }
    }
    let json = serde_json::to_string_pretty(report).context("serialising the report")? + "\n";
    let texts = [
        json,
        markdown::render(report),
        html::render(report, folder)?,
    ];
    for ((path, _, _), text) in written.iter().zip(texts) {
        staged
            .write(path, text.as_bytes())
            .with_context(|| format!("writing {path} into {}", folder.display()))?;
    }
    Ok(())
}

/// The first line of every rendering: tool, host, time and run length.
fn headline(report: &Report) -> String {
    let run = &report.run;
    format!(
        "hpc-advisor {} on {} at {}: {:.1} s of a {:.0} s budget{}",
        report.tool_version,
        report.host,
        report.created_utc,
        run.wall_seconds,
        run.budget_seconds,
        if run.quick { " (--quick)" } else { "" }
    )
}

/// The stages that failed or were skipped, with why.
fn failed_stages(report: &Report) -> Vec<(&str, String)> {
    report
        .stages
        .iter()
        .filter_map(|stage| match &stage.outcome {
            StageOutcome::Completed => None,
            StageOutcome::Failed { error } => {
                Some((stage.name.as_str(), format!("failed: {error}")))
            }
            StageOutcome::Skipped { reason } => {
                Some((stage.name.as_str(), format!("skipped: {reason}")))
            }
        })
        .collect()
}

/// The MPI job in one line: launch, split of the time, agreement; or why it did not run.
fn mpi_summary(report: &Report) -> String {
    match &report.mpi {
        Fact::Known(mpi) => {
            let nodes: Vec<String> = mpi
                .nodes
                .iter()
                .map(|n| {
                    format!(
                        "{} ({} rank(s), {:.3e} pairs/s)",
                        n.node, n.ranks, n.pairs_per_second
                    )
                })
                .collect();
            let efficiency = match &mpi.parallel_efficiency {
                Fact::Known(e) => format!("{:.0}%", e * 100.0),
                Fact::Unknown(because) => format!("unknown ({because})"),
            };
            format!(
                "MPI: `{}`: {} rank(s) x {} thread(s), {:.3} s whole, {:.3} s launch, {:.3} s compute \
                 ({:.3e} pairs/s in total; per node: {}; parallel efficiency {efficiency}, \
                 {:.2} ms in the gather, {:.2} ms lost to imbalance); {}",
                mpi.command.join(" "),
                mpi.ranks,
                mpi.threads_per_rank,
                mpi.whole_seconds,
                mpi.launch_seconds,
                mpi.compute_seconds,
                mpi.pairs_per_second,
                if nodes.is_empty() {
                    "not reported".to_string()
                } else {
                    nodes.join(", ")
                },
                mpi.gather_seconds * 1e3,
                mpi.imbalance_seconds * 1e3,
                agreement(mpi.agrees, mpi.checksum_relative_difference)
            )
        }
        Fact::Unknown(because) => format!("MPI: not run: {because}"),
    }
}

/// The GPU run in one line: adapter, phases, crossover, agreement; or why it did not run.
fn gpu_summary(report: &Report) -> String {
    match &report.gpu {
        Fact::Known(gpu) => {
            let phases: Vec<String> = gpu
                .phases
                .iter()
                .map(|(name, seconds)| format!("{name} {seconds:.4} s"))
                .collect();
            let crossover = match &gpu.crossover_pairs {
                Fact::Known(pairs) => format!("wins above {pairs} pair evaluations"),
                Fact::Unknown(because) => format!("crossover unknown: {because}"),
            };
            format!(
                "GPU: {}{} ({}): {}; {crossover}; {}",
                gpu.adapter,
                if gpu.software {
                    " (software: a correctness target, never a recommendation)"
                } else {
                    ""
                },
                gpu.precision,
                phases.join(", "),
                agreement(gpu.agrees, gpu.checksum_relative_difference)
            )
        }
        Fact::Unknown(because) => format!("GPU: not run: {because}"),
    }
}

/// Whether a run's checksum agreed with naive, with the difference.
fn agreement(agrees: bool, checksum_relative_difference: f64) -> String {
    format!(
        "checksum {} naive (relative difference {checksum_relative_difference:.1e})",
        if agrees {
            "agrees with"
        } else {
            "DISAGREES with"
        }
    )
}
