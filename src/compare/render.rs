//! A comparison for a terminal, as Markdown for an issue or a paper, and as one self-contained HTML page.

use std::fmt::Write;

use super::significance::{Rule, Verdict};
use super::{Cell, Comparison, Difference, Gate, VariantRow};
use crate::bench::tables::{TableStyle, text_table};
use crate::fact::Fact;
use crate::report::charts::{ChartError, GroupedBars, grouped_bar_chart};

/// "2.32 ns (2.30-2.35), 35 runs", or why there is none.
pub fn cell_text(cell: &Fact<Cell>) -> String {
    match cell {
        Fact::Known(cell) => {
            let interval = cell
                .interval
                .map(|[low, high]| format!(" ({}-{})", figure(low), figure(high)))
                .unwrap_or_default();
            format!(
                "{}{interval}, {} run{}",
                figure(cell.ns_per_pair),
                cell.runs,
                if cell.runs == 1 { "" } else { "s" }
            )
        }
        Fact::Unknown(why) => why.clone(),
    }
}

/// "1.31x slower (rank test, p = 0.002)", "no significant difference (1.02x; ...)".
pub fn difference_text(difference: &Fact<Difference>) -> String {
    let Fact::Known(d) = difference else {
        return "–".to_string();
    };
    let rule = match (d.rule, d.p_value) {
        (Rule::RankTest, Some(p)) => format!("rank test, p {}", p_text(p)),
        (Rule::Intervals, _) => "too few runs for the rank test; medians' intervals".to_string(),
        _ => "one run each".to_string(),
    };
    match d.verdict {
        Verdict::Slower => format!("{:.2}x: slower ({rule})", d.ratio),
        Verdict::Faster => format!("{:.2}x: faster ({rule})", d.ratio),
        Verdict::NoSignificantDifference => {
            format!("{:.2}x: no significant difference ({rule})", d.ratio)
        }
        Verdict::TooFewRuns => format!("{:.2}x: too few runs to tell", d.ratio),
    }
}

fn p_text(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".to_string()
    } else {
        format!("= {p:.3}")
    }
}

/// Three significant figures, as the ladder tables show nanoseconds.
fn figure(value: f64) -> String {
    match value {
        v if v >= 100.0 => format!("{v:.0}"),
        v if v >= 10.0 => format!("{v:.1}"),
        v => format!("{v:.2}"),
    }
}

/// The header row: the first column's name, then each run's label and host.
fn header(comparison: &Comparison, first: &str) -> Vec<String> {
    std::iter::once(first.to_string())
        .chain(
            comparison
                .runs
                .iter()
                .map(|r| format!("{} ({})", r.label, r.host)),
        )
        .collect()
}

/// One row per variant: each run's cell, and from the second run on its difference.
fn ladder_records(rows: &[VariantRow]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| {
            let mut record = vec![row.variant.clone(), cell_text(&row.cells[0])];
            for (cell, difference) in row.cells[1..].iter().zip(&row.against_first) {
                record.push(format!(
                    "{}; {}",
                    cell_text(cell),
                    difference_text(difference)
                ));
            }
            record
        })
        .collect()
}

fn machine_records(comparison: &Comparison, all: bool) -> Vec<Vec<String>> {
    comparison
        .machine
        .iter()
        .filter(|row| all || row.differs || row.fact.ends_with("(measured)"))
        .map(|row| {
            std::iter::once(row.fact.clone())
                .chain(row.values.iter().cloned())
                .collect()
        })
        .collect()
}

fn table(header: Vec<String>, records: Vec<Vec<String>>, markdown: bool) -> String {
    let style = if markdown {
        TableStyle::Markdown
    } else {
        TableStyle::Terminal
    };
    text_table(header, records, style)
}

fn sections(comparison: &Comparison, markdown: bool) -> String {
    let mut out = String::new();
    let heading = |out: &mut String, text: &str| {
        if markdown {
            let _ = writeln!(out, "\n## {text}\n");
        } else {
            let _ = writeln!(out, "\n{text}");
        }
    };
    for run in &comparison.runs {
        let _ = writeln!(
            out,
            "{}{}  {} at {}: {}{} ({})",
            if markdown { "- " } else { "  " },
            run.label,
            run.host,
            run.created_utc,
            run.problem,
            if run.quick { ", --quick" } else { "" },
            run.path
        );
    }
    if let Some(rescaled) = &comparison.rescaled {
        let _ = writeln!(out, "\nNote: {rescaled}.");
    }
    if let Fact::Known(best) = &comparison.best {
        let _ = writeln!(
            out,
            "\n{}{best}{}",
            if markdown { "**" } else { "" },
            if markdown { "**" } else { "" }
        );
    }
    let same = comparison
        .machine
        .iter()
        .filter(|r| !r.differs && !r.fact.ends_with("(measured)"))
        .count();
    heading(
        &mut out,
        &format!(
            "Machines: the facts that differ and the measured ceilings ({same} other facts are the same)"
        ),
    );
    let _ = writeln!(
        out,
        "{}",
        table(
            header(comparison, "fact"),
            machine_records(comparison, false),
            markdown
        )
    );
    heading(
        &mut out,
        "Ladder: ns per pair (median, its interval, runs) and each run against the first",
    );
    let _ = writeln!(
        out,
        "{}",
        table(
            header(comparison, "variant"),
            ladder_records(&comparison.ladder),
            markdown
        )
    );
    if !comparison.python_ladder.is_empty() {
        heading(&mut out, "Python ladder: ns per pair");
        let _ = writeln!(
            out,
            "{}",
            table(
                header(comparison, "rung"),
                ladder_records(&comparison.python_ladder),
                markdown
            )
        );
    }
    heading(&mut out, "Advice on each machine");
    for advice in &comparison.advice {
        let _ = writeln!(
            out,
            "{}{}: {}",
            if markdown { "- **" } else { "  " },
            advice.label,
            advice.verdict.clone() + if markdown { "**" } else { "" }
        );
        for (rank, step) in advice.steps.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}{}. {step}",
                if markdown { "  " } else { "     " },
                rank + 1
            );
        }
    }
    heading(&mut out, "Where the paths through the tree part");
    if comparison.diverging.is_empty() {
        let _ = writeln!(
            out,
            "{}every node is answered the same on every run",
            if markdown { "" } else { "  " }
        );
    }
    for divergence in &comparison.diverging {
        let answers: Vec<String> = comparison
            .runs
            .iter()
            .zip(&divergence.answers)
            .map(|(run, answer)| format!("{}: {answer}", run.label))
            .collect();
        let _ = writeln!(
            out,
            "{}`{}` ({}): {}",
            if markdown { "- " } else { "  " },
            divergence.node,
            divergence.title,
            answers.join(if markdown { "; " } else { "\n      " })
        );
    }
    out
}

/// The comparison for a terminal.
pub fn terminal(comparison: &Comparison, gate: Option<&Gate>) -> String {
    let mut out = format!("Comparing {} runs\n", comparison.runs.len());
    out.push_str(&sections(comparison, false));
    if let Some(gate) = gate {
        out.push('\n');
        out.push_str(&gate_text(comparison, gate));
    }
    out
}

/// The comparison as Markdown.
pub fn markdown(comparison: &Comparison, gate: Option<&Gate>) -> String {
    let mut out = format!("# Comparing {} runs\n\n", comparison.runs.len());
    out.push_str(&sections(comparison, true));
    if let Some(gate) = gate {
        let _ = writeln!(
            out,
            "\n## Regression check\n\n{}",
            gate_text(comparison, gate)
        );
    }
    out
}

/// What the regression check decided, in words.
pub fn gate_text(comparison: &Comparison, gate: &Gate) -> String {
    let (old, new) = (&comparison.runs[0].label, &comparison.runs[1].label);
    let mut out = String::new();
    let list = |changes: &[super::GateChange]| {
        changes
            .iter()
            .map(|c| format!("`{}` {:.2}x", c.variant, c.ratio))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if gate.regressed.is_empty() {
        let _ = writeln!(
            out,
            "No variant of {new} is slower than the baseline {old} beyond noise and by more than {:.0}%.",
            gate.threshold * 100.0
        );
    } else {
        let _ = writeln!(
            out,
            "REGRESSED beyond noise and by more than {:.0}% against the baseline {old}: {}.",
            gate.threshold * 100.0,
            list(&gate.regressed)
        );
    }
    if !gate.improved.is_empty() {
        let _ = writeln!(out, "Faster beyond noise: {}.", list(&gate.improved));
    }
    out
}

/// The comparison as one HTML page: grouped bars of the ladders, the facts, the diverging nodes.
pub fn html(comparison: &Comparison, gate: Option<&Gate>) -> Result<String, ChartError> {
    let escape = crate::report::html::escape;
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<header><h1>Comparing {} runs</h1><ul>",
        comparison.runs.len()
    );
    for run in &comparison.runs {
        let _ = writeln!(
            body,
            "<li><strong>{}</strong> {} at {}: {}{} (<code>{}</code>)</li>",
            run.label,
            escape(&run.host),
            escape(&run.created_utc),
            escape(&run.problem),
            if run.quick { ", --quick" } else { "" },
            escape(&run.path)
        );
    }
    let _ = writeln!(body, "</ul>");
    if let Some(rescaled) = &comparison.rescaled {
        let _ = writeln!(body, "<p>Note: {}.</p>", escape(rescaled));
    }
    if let Fact::Known(best) = &comparison.best {
        let _ = writeln!(body, "<p class=\"verdict\">{}</p>", escape(best));
    }
    if let Some(gate) = gate {
        let _ = writeln!(
            body,
            "<p class=\"gate\">{}</p>",
            escape(&gate_text(comparison, gate))
        );
    }
    let _ = writeln!(body, "</header>");
    for (id, title, rows) in [
        ("ladder", "Ladder", &comparison.ladder),
        ("python-ladder", "Python ladder", &comparison.python_ladder),
    ] {
        if rows.is_empty() {
            continue;
        }
        let groups: Vec<GroupedBars> = rows
            .iter()
            .map(|row| GroupedBars {
                label: row.variant.clone(),
                values: row
                    .cells
                    .iter()
                    .map(|c| c.known().map(|c| c.ns_per_pair))
                    .collect(),
            })
            .collect();
        let series: Vec<String> = comparison
            .runs
            .iter()
            .map(|r| format!("{} ({})", r.label, r.host))
            .collect();
        let _ = writeln!(
            body,
            "<section id=\"{id}\"><h2>{title}</h2><div class=\"chart\" id=\"{id}-chart\">{}</div>{}</section>",
            grouped_bar_chart(
                &format!("{title}: ns per pair, lower is faster (log scale)"),
                &groups,
                &series
            )?,
            html_table(&header(comparison, "variant"), &ladder_records(rows), &[])
        );
    }
    let differing: Vec<usize> = comparison
        .machine
        .iter()
        .enumerate()
        .filter(|(_, r)| r.differs)
        .map(|(i, _)| i)
        .collect();
    let _ = writeln!(
        body,
        "<section id=\"machines\"><h2>Machines</h2><p>Highlighted: facts that differ.</p>{}</section>",
        html_table(
            &header(comparison, "fact"),
            &machine_records(comparison, true),
            &differing
        )
    );
    let _ = writeln!(
        body,
        "<section id=\"advice\"><h2>Advice on each machine</h2>"
    );
    for advice in &comparison.advice {
        let _ = writeln!(
            body,
            "<h3>{}</h3><p>{}</p><ol>",
            advice.label,
            escape(&advice.verdict)
        );
        for step in &advice.steps {
            let _ = writeln!(body, "<li>{}</li>", escape(step));
        }
        let _ = writeln!(body, "</ol>");
    }
    let _ = writeln!(
        body,
        "</section><section id=\"diverging\"><h2>Where the paths part</h2>"
    );
    let rows: Vec<Vec<String>> = comparison
        .diverging
        .iter()
        .map(|d| {
            std::iter::once(format!("{} ({})", d.node, d.title))
                .chain(d.answers.iter().cloned())
                .collect()
        })
        .collect();
    let all: Vec<usize> = (0..rows.len()).collect();
    if rows.is_empty() {
        let _ = writeln!(body, "<p>Every node is answered the same on every run.</p>");
    } else {
        let _ = writeln!(
            body,
            "{}",
            html_table(&header(comparison, "node"), &rows, &all)
        );
    }
    let _ = writeln!(body, "</section>");
    Ok(format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>hpc-advisor comparison</title>\n<style>{}\ntr.differs td {{ background: #fff3cd; }}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        crate::report::html::STYLE
    ))
}

/// A table whose rows at `highlighted` carry the `differs` class.
fn html_table(header: &[String], rows: &[Vec<String>], highlighted: &[usize]) -> String {
    let escape = crate::report::html::escape;
    let mut out = String::from("<table><tr>");
    for cell in header {
        let _ = write!(out, "<th>{}</th>", escape(cell));
    }
    out.push_str("</tr>");
    for (index, row) in rows.iter().enumerate() {
        let class = if highlighted.contains(&index) {
            " class=\"differs\""
        } else {
            ""
        };
        let _ = write!(out, "<tr{class}>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}
