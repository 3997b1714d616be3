//! The recommendation as text: a terminal summary and GitHub-readable Markdown.
//!
//! Both print the same three parts: the path through the tree with the
//! evidence behind each answer, the ranked actions, and the crossover
//! work-item sizes. No colour is used, so NO_COLOR holds trivially.

use std::fmt::Write;

use super::walk::{Action, Answer, Evidence, Recommendation};
use crate::fact::Fact;

/// The plain-text form for a terminal.
pub fn terminal(recommendation: &Recommendation) -> String {
    let mut out = String::new();
    let r = recommendation;
    let _ = writeln!(out, "machine  {}", r.machine);
    let _ = writeln!(out, "problem  {}", r.problem);
    let _ = writeln!(out, "\nPath through the decision tree");
    for step in &r.path {
        let _ = writeln!(out, "\n  {}  {}", step.node, step.question);
        let _ = writeln!(out, "    -> {}", answer_text(&step.answer));
        for evidence in &step.evidence {
            let _ = writeln!(out, "       {}", evidence_text(evidence));
        }
    }
    let _ = writeln!(out, "\nActions, largest measured gain first");
    if r.actions.is_empty() {
        let _ = writeln!(out, "  none: no node called for a change");
    }
    for (rank, action) in r.actions.iter().enumerate() {
        let _ = writeln!(out, "\n  {}. {} [{}]", rank + 1, action.title, action.id);
        for (label, text) in action_fields(action) {
            let _ = writeln!(out, "     {label:<7} {text}");
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

/// The Markdown form, for reports and issues.
pub fn markdown(recommendation: &Recommendation) -> String {
    let mut out = String::new();
    let r = recommendation;
    let _ = writeln!(out, "# Advice\n");
    let _ = writeln!(out, "- machine: {}", r.machine);
    let _ = writeln!(out, "- problem: {}\n", r.problem);
    let _ = writeln!(out, "## Actions, largest measured gain first\n");
    if r.actions.is_empty() {
        let _ = writeln!(out, "None: no node called for a change.");
    }
    for (rank, action) in r.actions.iter().enumerate() {
        let _ = writeln!(out, "{}. **{}** (`{}`)", rank + 1, action.title, action.id);
        for (label, text) in action_fields(action) {
            let _ = writeln!(out, "   - {label}: {text}");
        }
    }
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

/// The gain of an action as measured, or why it was not.
pub fn gain_text(action: &Action) -> String {
    match &action.gain {
        Fact::Known(gain) => gain.text.clone(),
        Fact::Unknown(because) => format!("not measured: {because}"),
    }
}

/// What every format shows of an action, labelled.
pub fn action_fields(action: &Action) -> [(&'static str, String); 4] {
    [
        ("gain", gain_text(action)),
        ("cost", action.cost.clone()),
        ("Rust/C", action.rust_c.clone()),
        ("Python", action.python.clone()),
    ]
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
