//! The recommendation as text: a terminal summary and GitHub-readable Markdown.
//!
//! Both print the verdict first, then the plan (each step with its own gain
//! and the running total, the confidence, the ruled-out options), then the
//! path through the tree with the evidence behind each answer and the
//! crossover work-item sizes. No colour is used, so NO_COLOR holds trivially.

use std::fmt::Write;

use super::plan::{Plan, PlanStep, interval_text};
use super::reading::Unit;
use super::walk::{Answer, Evidence, Recommendation};
use crate::fact::Fact;

/// The plain-text form for a terminal.
pub fn terminal(recommendation: &Recommendation) -> String {
    let mut out = String::new();
    let r = recommendation;
    let _ = writeln!(out, "{}\n", r.plan.verdict);
    let _ = writeln!(out, "machine  {}", r.machine);
    let _ = writeln!(out, "problem  {}", r.problem);
    let _ = writeln!(out, "\n{}", plan_heading(&r.plan));
    out.push_str(&plan_terminal(&r.plan, true));
    let _ = writeln!(out, "\nPath through the decision tree");
    for step in &r.path {
        let _ = writeln!(out, "\n  {}  {}", step.node, step.question);
        let _ = writeln!(out, "    -> {}", answer_text(&step.answer));
        for evidence in &step.evidence {
            let _ = writeln!(out, "       {}", evidence_text(evidence));
        }
    }
    let _ = writeln!(out, "\nWork-item crossover");
    let _ = writeln!(out, "  {}", crossover_text(r));
    if !r.excluded_variants.is_empty() {
        let _ = writeln!(out, "\nExcluded from every recommendation");
        for excluded in &r.excluded_variants {
            let _ = writeln!(out, "  {}: {}", excluded.name, excluded.because);
        }
    }
    out
}

/// The plan's steps and its ruled-out options as indented text; `details` adds cost and words.
pub fn plan_terminal(plan: &Plan, details: bool) -> String {
    let mut out = String::new();
    if plan.steps.is_empty() {
        let _ = writeln!(out, "  no step: no option of the tree pays here");
    }
    for (rank, step) in plan.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {}. {}: {}",
            rank + 1,
            step.title,
            step_gain_text(step)
        );
        if details {
            for (label, text) in step_fields(step) {
                let _ = writeln!(out, "     {label:<7} {text}");
            }
        }
    }
    if let Some(remedy) = &plan.confidence.remedy {
        let _ = writeln!(out, "\n  Low confidence:");
        for reason in &plan.confidence.reasons {
            let _ = writeln!(out, "    - {reason}");
        }
        let _ = writeln!(out, "    To fix: {remedy}");
    }
    let _ = writeln!(out, "\n  Ruled out");
    for out_option in &plan.ruled_out {
        let _ = writeln!(
            out,
            "    {} ({}): {}",
            out_option.name,
            out_option.why.label(),
            out_option.reason
        );
    }
    if let Fact::Known(summary) = &plan.python_summary {
        let _ = writeln!(out, "\n  For Python users\n    {summary}");
    }
    out
}

/// The Markdown form, for reports and issues.
pub fn markdown(recommendation: &Recommendation) -> String {
    let mut out = String::new();
    let r = recommendation;
    let _ = writeln!(out, "# Advice\n");
    let _ = writeln!(out, "**{}**\n", r.plan.verdict);
    let _ = writeln!(out, "- machine: {}", r.machine);
    let _ = writeln!(out, "- problem: {}\n", r.problem);
    let _ = writeln!(out, "## {}\n", plan_heading(&r.plan));
    out.push_str(&plan_markdown(&r.plan));
    let _ = writeln!(out, "\n## Work-item crossover\n\n{}", crossover_text(r));
    let _ = writeln!(out, "\n## Path through the decision tree\n");
    let _ = writeln!(out, "| node | question | answer | evidence |");
    let _ = writeln!(out, "|---|---|---|---|");
    for step in &r.path {
        let evidence: Vec<String> = step.evidence.iter().map(evidence_text).collect();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            step.node,
            cell(&step.question),
            cell(&answer_text(&step.answer)),
            cell(&evidence.join("<br>"))
        );
    }
    if !r.excluded_variants.is_empty() {
        let _ = writeln!(out, "\n## Excluded from every recommendation\n");
        for excluded in &r.excluded_variants {
            let _ = writeln!(out, "- `{}`: {}", excluded.name, excluded.because);
        }
    }
    out
}

/// The plan as a Markdown table of steps, the confidence and the ruled-out list.
pub fn plan_markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| # | step | its own gain | running total | cost | Rust/C | Python |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for (rank, step) in plan.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | **{}** (`{}`) | {} | {} | {} | {} | {} |",
            rank + 1,
            cell(&step.title),
            step.option,
            cell(&step_gain_text(step)),
            Unit::Times.format(step.running_total),
            cell(&step.cost),
            cell(&step.rust_c),
            cell(&python_text(step))
        );
    }
    if plan.steps.is_empty() {
        let _ = writeln!(
            out,
            "| | no step: no option of the tree pays here | | | | | |"
        );
    }
    if let Some(remedy) = &plan.confidence.remedy {
        let _ = writeln!(out, "\n**Low confidence.** To fix: {remedy}.\n");
        for reason in &plan.confidence.reasons {
            let _ = writeln!(out, "- {reason}");
        }
    }
    let _ = writeln!(out, "\n### Ruled out\n");
    for out_option in &plan.ruled_out {
        let _ = writeln!(
            out,
            "- **{}** (`{}`, {}): {}",
            out_option.name,
            out_option.option,
            out_option.why.label(),
            out_option.reason
        );
    }
    if let Fact::Known(summary) = &plan.python_summary {
        let _ = writeln!(out, "\n### For Python users\n\n{summary}");
    }
    out
}

/// "Plan: 3 steps, 231x over the naive loop in all".
pub fn plan_heading(plan: &Plan) -> String {
    let count = plan.steps.len();
    format!(
        "Plan: {count} step{}, {} over the naive loop in all (each gain on top of the steps before it)",
        if count == 1 { "" } else { "s" },
        Unit::Times.format(plan.total)
    )
}

/// An answer in words: the branch's text, or why it is unknown.
pub fn answer_text(answer: &Answer) -> String {
    match answer {
        Answer::Decided { text, .. } => text.clone(),
        Answer::Unknown { because } => format!("unknown: {because}"),
    }
}

/// A fact read: `name = value unit (source)`, or why it is unknown.
pub fn evidence_text(evidence: &Evidence) -> String {
    match &evidence.reading {
        Fact::Known(reading) => {
            format!("{} = {} ({})", evidence.fact, reading.value, reading.source)
        }
        Fact::Unknown(because) => format!("{} unknown: {because}", evidence.fact),
    }
}

/// A step's own gain with its interval and what it was measured on, or why it cannot be.
pub fn step_gain_text(step: &PlanStep) -> String {
    match &step.gain {
        Fact::Known(gain) => {
            let mut text = format!(
                "{}{} ({}); {} in all",
                Unit::Times.format(gain.times),
                interval_text(&gain.interval),
                gain.measured_as,
                Unit::Times.format(step.running_total)
            );
            if let Some(capped) = &gain.capped {
                text.push_str("; ");
                text.push_str(capped);
            }
            text
        }
        Fact::Unknown(because) => format!("gain not measured: {because}"),
    }
}

/// What every format shows of a step besides its gain, labelled.
pub fn step_fields(step: &PlanStep) -> [(&'static str, String); 3] {
    [
        ("cost", step.cost.clone()),
        ("Rust/C", step.rust_c.clone()),
        ("Python", python_text(step)),
    ]
}

/// A step's Python words, with what the Python ladder measured of them here.
pub fn python_text(step: &PlanStep) -> String {
    if step.python_measured.is_empty() {
        return step.python.clone();
    }
    let measured: Vec<&str> = step
        .python_measured
        .iter()
        .map(|gain| gain.sentence.as_str())
        .collect();
    format!("{}. Measured here: {}", step.python, measured.join("; "))
}

/// The work-item crossover in words, with its rule.
pub fn crossover_text(recommendation: &Recommendation) -> String {
    match &recommendation.crossover {
        Fact::Known(crossover) => format!("{} (rule: {})", crossover.statement, crossover.rule),
        Fact::Unknown(because) => format!("unknown: {because}"),
    }
}

/// Escapes the characters that would break a Markdown table cell.
pub fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
