//! The one-screen summary printed at the end of `hpc-advisor analyse` and by `report --format terminal`.
//!
//! No colour is used, so NO_COLOR holds trivially.

use std::fmt::Write;
use std::path::Path;

use super::{Report, failed_stages, headline};
use crate::advise::render::{answer_text, gain_text};
use crate::bench::runner::Outcome;
use crate::bench::tables::{TableStyle, ladder_caption, ladder_summary_table};
use crate::fact::Fact;

/// How many actions the summary lists; the rest are in report.md and report.html.
const TOP_ACTIONS: usize = 3;

/// The machine line, the ladder, the path through the tree, the top actions and the files.
pub fn render(report: &Report, folder: &Path) -> String {
    let mut out = String::new();
    let recommendation = &report.recommendation;
    let _ = writeln!(out, "{}", headline(report));
    let _ = writeln!(out, "machine  {}", recommendation.machine);
    let _ = writeln!(out, "problem  {}\n", report.run.problem);
    match &report.bench {
        Fact::Known(bench) => {
            let _ = writeln!(out, "{}", ladder_caption(bench));
            let _ = writeln!(out, "{}", ladder_summary_table(bench, TableStyle::Terminal));
            for entry in &bench.ladder.entries {
                if let Outcome::Skipped { reason, .. } = &entry.outcome {
                    let _ = writeln!(out, "{} skipped: {reason}", entry.variant);
                }
            }
        }
        Fact::Unknown(because) => {
            let _ = writeln!(out, "Ladder: not measured: {because}");
        }
    }
    let _ = writeln!(out, "\nPath through the decision tree");
    let width = recommendation
        .path
        .iter()
        .map(|step| step.node.len())
        .max()
        .unwrap_or(0);
    for step in &recommendation.path {
        let _ = writeln!(
            out,
            "  {:<width$}  {}",
            step.node,
            answer_text(&step.answer)
        );
    }
    let _ = writeln!(out, "\nTop actions");
    if recommendation.actions.is_empty() {
        let _ = writeln!(out, "  none: no node called for a change");
    }
    for (rank, action) in recommendation.actions.iter().take(TOP_ACTIONS).enumerate() {
        let _ = writeln!(
            out,
            "  {}. {}: {}",
            rank + 1,
            action.title,
            gain_text(action)
        );
    }
    let failed = failed_stages(report);
    if !failed.is_empty() {
        let _ = writeln!(out, "\nStages that did not complete");
        for (name, why) in failed {
            let _ = writeln!(out, "  {name}: {why}");
        }
    }
    let _ = writeln!(out, "\nFiles in {}", folder.display());
    let width = report
        .artefacts
        .iter()
        .map(|a| a.path.len())
        .max()
        .unwrap_or(0);
    for artefact in &report.artefacts {
        let _ = writeln!(out, "  {:<width$}  {}", artefact.path, artefact.description);
    }
    out
}
