//! report.md: the whole run for GitHub, with tables, the decision path and links to the SVGs.

use std::fmt::Write;

use super::program::program_figures;
use super::{Report, failed_stages, gpu_summary, headline, mpi_summary};
use crate::advise::render;
use crate::bench::tables::{
    MEASUREMENT_CONVENTIONS, TableStyle, ceiling_rows, ceilings_caption, ladder_caption,
    ladder_rows, overhead_rows, python_caption, python_notes, python_rows, roofline_rows,
    scaling_notes, table, thread_rows, warnings,
};
use crate::detect::summary::{binding_summary, sections};
use crate::fact::Fact;

/// The report as GitHub-flavoured Markdown; links are relative to the run folder.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let style = TableStyle::Markdown;
    let _ = writeln!(out, "# hpc-advisor report: {}\n", report.host);
    let _ = writeln!(out, "{}\n", headline(report));
    let _ = writeln!(out, "- problem: {}\n", report.run.problem);

    if let Some(program) = &report.program {
        let _ = writeln!(out, "## Your program\n");
        let _ = writeln!(out, "| measured | |\n|---|---|");
        for (label, text) in program_figures(&program.study) {
            let _ = writeln!(out, "| {label} | {} |", render::cell(&text));
        }
        let _ = writeln!(out);
        push_shifted(&mut out, &render::markdown(&program.recommendation), "##");
        let _ = writeln!(out, "\n## The reference kernel on this machine\n");
    }
    // The advice first, one heading level down from its own document.
    push_shifted(&mut out, &render::markdown(&report.recommendation), "#");

    let _ = writeln!(out, "\n## The ladder\n");
    match &report.bench {
        Fact::Known(bench) => {
            let _ = writeln!(out, "{}\n", ladder_caption(bench));
            let _ = writeln!(out, "{}\n", table(ladder_rows(bench), style));
            let _ = writeln!(
                out,
                "## Ceilings\n\n{}\n",
                ceilings_caption(&bench.ceilings)
            );
            let _ = writeln!(out, "{}\n", table(ceiling_rows(&bench.ceilings), style));
            let _ = writeln!(out, "{MEASUREMENT_CONVENTIONS}\n");
            let _ = writeln!(out, "{}\n", table(overhead_rows(&bench.ceilings), style));
            let _ = writeln!(out, "## Thread scaling\n");
            let _ = writeln!(out, "{}\n", table(thread_rows(&bench.scaling), style));
            for note in scaling_notes(&bench.scaling) {
                let _ = writeln!(out, "- {note}");
            }
            let _ = writeln!(out, "\n## Roofline\n");
            let _ = writeln!(out, "{}\n", table(roofline_rows(&bench.scaling), style));
            let _ = writeln!(out, "{MEASUREMENT_CONVENTIONS}\n");
            let cautions = warnings(bench);
            if !cautions.is_empty() {
                let _ = writeln!(out, "### Warnings\n");
                for line in cautions {
                    let _ = writeln!(out, "- {line}");
                }
                let _ = writeln!(out);
            }
        }
        Fact::Unknown(because) => {
            let _ = writeln!(out, "Not measured: {because}\n");
        }
    }

    let _ = writeln!(out, "## The Python ladder\n");
    match &report.python {
        Fact::Known(ladder) => {
            let _ = writeln!(out, "{}\n", python_caption(ladder));
            let _ = writeln!(out, "{}\n", table(python_rows(ladder), style));
            for line in python_notes(ladder) {
                let _ = writeln!(out, "- {line}");
            }
            let _ = writeln!(out);
        }
        Fact::Unknown(because) => {
            let _ = writeln!(out, "Not measured: {because}\n");
        }
    }

    let _ = writeln!(out, "## Profiles\n");
    match &report.profiles {
        Fact::Known(profiles) => {
            for profile in &profiles.profiles {
                let _ = writeln!(
                    out,
                    "### `{}` ({} worker(s), {} samples)\n",
                    profile.variant, profile.workers, profile.samples.total
                );
                let _ = writeln!(out, "| function | self | inclusive |\n|---|---|---|");
                for hotspot in profile.hotspots.iter().take(8) {
                    let _ = writeln!(
                        out,
                        "| `{}` | {:.1} % | {:.1} % |",
                        render::cell(&hotspot.function),
                        hotspot.self_share * 100.0,
                        hotspot.inclusive_share * 100.0
                    );
                }
                let _ = writeln!(out);
                if !profile.hot_lines.is_empty() {
                    let _ = writeln!(
                        out,
                        "Hottest source lines of the kernel:\n\n| line | share | function |\n|---|---|---|"
                    );
                    for line in profile.hot_lines.iter().take(5) {
                        let _ = writeln!(
                            out,
                            "| `{}` | {:.1} % | `{}` |",
                            render::cell(&line.location),
                            line.share * 100.0,
                            render::cell(&line.function)
                        );
                    }
                    let _ = writeln!(out);
                }
            }
        }
        Fact::Unknown(because) => {
            let _ = writeln!(out, "Not profiled: {because}\n");
        }
    }
    for artefact in report.flamegraphs() {
        let _ = writeln!(
            out,
            "- [{}]({}): {}",
            artefact.path, artefact.path, artefact.description
        );
    }

    let _ = writeln!(
        out,
        "\n## MPI and GPU\n\n- {}\n- {}",
        mpi_summary(report),
        gpu_summary(report)
    );

    let _ = writeln!(out, "\n## Machine\n");
    match &report.machine {
        Fact::Known(machine) => {
            let _ = writeln!(out, "**{}**\n", binding_summary(machine));
            for section in sections(machine) {
                let _ = writeln!(
                    out,
                    "<details><summary>{}</summary>\n\n{}\n\n</details>\n",
                    section.title,
                    section.render(true)
                );
            }
        }
        Fact::Unknown(because) => {
            let _ = writeln!(out, "Not detected: {because}\n");
        }
    }

    let _ = writeln!(
        out,
        "## Stages\n\n| stage | outcome | seconds |\n|---|---|---|"
    );
    let failed = failed_stages(report);
    for stage in &report.stages {
        let outcome = failed
            .iter()
            .find(|(name, _)| *name == stage.name)
            .map_or("completed".to_string(), |(_, why)| render::cell(why));
        let _ = writeln!(out, "| {} | {outcome} | {:.1} |", stage.name, stage.seconds);
    }
    let _ = writeln!(out, "\n## Files\n");
    for artefact in &report.artefacts {
        let _ = writeln!(
            out,
            "- [`{}`]({}): {}",
            artefact.path, artefact.path, artefact.description
        );
    }
    out
}

/// Appends `markdown` with every heading moved down by `deeper` (`#` per level).
fn push_shifted(out: &mut String, markdown: &str, deeper: &str) {
    for line in markdown.lines() {
        if line.starts_with('#') {
            let _ = writeln!(out, "{deeper}{line}");
        } else {
            let _ = writeln!(out, "{line}");
        }
    }
}
