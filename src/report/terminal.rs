//! The one-screen summary printed at the end of `hpc-advisor analyse` and by `report --format terminal`.
//!
//! No colour is used, so NO_COLOR holds trivially.

use std::fmt::Write;

use std::path::Path;
use tabled::settings::Remove;
use tabled::settings::location::ByColumnName;

use super::program::program_figures;
use super::{ProgramSection, Report, failed_stages, headline};
use crate::advise::Recommendation;
use crate::advise::render::{answer_text, plan_heading, plan_terminal};
use crate::bench::runner::Outcome;
use crate::bench::tables::{
    TableStyle, ladder_caption, ladder_summary_table, python_caption, python_notes, python_rows,
    table,
};
use crate::fact::Fact;
use crate::output::fit_to_terminal;

/// The verdict, the plan, the machine, the ladder, the path through the tree and the files.
pub fn render(report: &Report, folder: &Path) -> String {
    let mut out = String::new();
    let recommendation = &report.recommendation;
    let _ = writeln!(out, "{}\n", headline(report));
    if let Some(program) = &report.program {
        your_program(&mut out, program);
        let _ = writeln!(out, "The reference kernel on this machine\n");
    }
    let _ = writeln!(out, "{}\n", recommendation.plan.verdict);
    let _ = writeln!(out, "{}", plan_heading(&recommendation.plan));
    out.push_str(&plan_terminal(&recommendation.plan, false));
    let _ = writeln!(out, "\nmachine  {}", recommendation.machine);
    let _ = writeln!(out, "problem  {}\n", report.run.problem);
    match &report.bench {
        Fact::Known(bench) => {
            let _ = writeln!(out, "{}", ladder_caption(bench));
            let mut ladder = ladder_summary_table(bench, TableStyle::Terminal);
            let _ = writeln!(out, "{}", fit_to_terminal(&mut ladder));
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
    match &report.python {
        Fact::Known(ladder) => {
            let _ = writeln!(out, "\n{}", python_caption(ladder));
            let mut rungs = table(python_rows(ladder), TableStyle::Terminal);
            // The per-pair cost is what compares across sizes; the median is in the other formats.
            rungs.with(Remove::column(ByColumnName::new("median")));
            let _ = writeln!(out, "{}", fit_to_terminal(&mut rungs));
            for note in python_notes(ladder) {
                let _ = writeln!(out, "{note}");
            }
        }
        Fact::Unknown(because) => {
            let _ = writeln!(out, "\nPython ladder: not measured: {because}");
        }
    }
    let _ = writeln!(out, "\nPath through the decision tree");
    path(&mut out, recommendation);
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

/// Each visited node and its answer, aligned.
fn path(out: &mut String, recommendation: &Recommendation) {
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
}

/// The user's program first: its verdict and plan, its figures, its path through the tree.
fn your_program(out: &mut String, program: &ProgramSection) {
    let plan = &program.recommendation.plan;
    let _ = writeln!(out, "Your program\n");
    let _ = writeln!(out, "{}\n", plan.verdict);
    let _ = writeln!(out, "{}", plan_heading(plan));
    out.push_str(&plan_terminal(plan, false));
    let _ = writeln!(out);
    let figures = program_figures(&program.study);
    let width = figures
        .iter()
        .map(|(label, _)| label.len())
        .max()
        .unwrap_or(0);
    for (label, text) in figures {
        let _ = writeln!(out, "  {label:<width$}  {text}");
    }
    let _ = writeln!(out, "\n  Path through the decision tree for your program");
    path(out, &program.recommendation);
    let _ = writeln!(out);
}
