//! report.html: one self-contained page (inline CSS and SVG, no network) with charts and flamegraphs.
//!
//! The charts are drawn by [`super::charts`]. Each inferno flamegraph carries
//! its own script and element ids, so it is embedded as a `data:` URL in an
//! `<iframe>` of its own: it stays an SVG document (not HTML, where its script
//! computes a negative width), its search and zoom keep working, nothing clashes.

use std::fmt::Write;
use std::path::Path;

use tabled::Tabled;

use super::charts::{
    ChartError, GrowthPoint, Roof, RooflinePoint, ScalingPoint, SpeedupAxes, SpeedupBar,
    growth_chart, roofline_chart, scaling_chart, speedup_chart,
};
use super::program::program_figures;
use super::{ProgramSection, Report, failed_stages, gpu_summary, headline, mpi_summary};
use crate::advise::Recommendation;
use crate::advise::render::{
    answer_text, crossover_text, evidence_text, plan_heading, step_fields, step_gain_text,
};
use crate::bench::BenchReport;
use crate::bench::python::PythonLadder;
use crate::bench::runner::Outcome;
use crate::bench::tables::{
    MEASUREMENT_CONVENTIONS, ceiling_rows, ceilings_caption, ladder_caption, ladder_rows,
    overhead_rows, python_caption, python_notes, python_rows, roofline_rows, scaling_notes,
    thread_rows, warnings,
};
use crate::detect::summary::{binding_summary, sections};
use crate::fact::Fact;

pub(crate) const STYLE: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0; color: #1d2330; background: #f4f6f9; line-height: 1.45; }
header { background: #1f3a5f; color: #fff; padding: 1.4rem 2rem; }
header h1 { margin: 0 0 .3rem 0; font-size: 1.6rem; }
header p { margin: .15rem 0; opacity: .9; }
main { max-width: 1240px; margin: 0 auto; padding: 1rem 2rem 3rem; }
section { background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.08); padding: 1rem 1.4rem; margin: 1.2rem 0; }
h2 { margin-top: .2rem; font-size: 1.25rem; color: #1f3a5f; border-bottom: 2px solid #e3e8ef; padding-bottom: .3rem; }
h3 { font-size: 1.05rem; margin-bottom: .4rem; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .88rem; }
th, td { border-bottom: 1px solid #e3e8ef; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #eef2f7; }
code { background: #eef2f7; padding: 0 .25rem; border-radius: 3px; }
.chart svg { max-width: 100%; height: auto; }
.chart-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 1rem; }
.actions li { margin-bottom: .8rem; }
.actions dl { display: grid; grid-template-columns: 6rem 1fr; margin: .3rem 0 0 0; }
.actions dt { font-weight: 600; color: #4a5568; }
.actions dd { margin: 0 0 .2rem 0; }
.path li { margin-bottom: .5rem; }
.verdict { font-size: 1.15rem; font-weight: 600; margin: .4rem 0; }
.low-confidence { background: #fff4e5; border-left: 4px solid #d97706; padding: .4rem .8rem; }
.ruled-out li { margin-bottom: .3rem; }
.answer { font-weight: 600; }
.evidence { color: #4a5568; font-size: .88rem; margin: .1rem 0 0 1rem; }
.failed { color: #a4262c; }
.missing { color: #a4262c; font-style: italic; }
iframe.flamegraph { width: 100%; border: 1px solid #e3e8ef; border-radius: 4px; }
details { margin: .3rem 0; }
summary { cursor: pointer; font-weight: 600; }
";

/// The whole report as one HTML page; fails only if a chart cannot be drawn.
pub fn render(report: &Report, folder: &Path) -> anyhow::Result<String> {
    let mut body = String::new();
    if let Some(program) = &report.program {
        your_program(&mut body, program)?;
    }
    advice(&mut body, &report.recommendation, "");
    match &report.bench {
        Fact::Known(bench) => {
            ladder(&mut body, bench)?;
            python_ladder(&mut body, &report.python, Some(bench))?;
            scaling_and_ceilings(&mut body, bench)?;
        }
        Fact::Unknown(because) => {
            let _ = writeln!(
                body,
                "<section><h2>Measurements</h2><p class=\"missing\">Not measured: {}</p></section>",
                escape(because)
            );
            python_ladder(&mut body, &report.python, None)?;
        }
    }
    path(&mut body, &report.recommendation, "");
    flamegraphs(&mut body, report, folder);
    distributed(&mut body, report);
    machine(&mut body, report);
    stages(&mut body, report);

    let mut page = String::new();
    let _ = writeln!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>"
    );
    let _ = writeln!(
        page,
        "<title>hpc-advisor report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        escape(&report.host)
    );
    let _ = writeln!(
        page,
        "<header><h1>hpc-advisor report: {}</h1><p>{}</p><p>{}</p><p>problem: {}</p></header>",
        escape(&report.host),
        escape(&headline(report)),
        escape(&report.recommendation.machine),
        escape(&report.run.problem)
    );
    let _ = writeln!(page, "<main>\n{body}</main>\n</body>\n</html>");
    Ok(page)
}

/// The verdict, the plan with each step's own gain, the confidence, the ruled-out options, the crossover.
///
/// `id` prefixes the sections' ids (`program-` for the user's program's plan).
fn advice(out: &mut String, r: &Recommendation, id: &str) {
    let plan = &r.plan;
    let _ = writeln!(
        out,
        "<section id=\"{id}verdict\"><h2>Verdict</h2><p class=\"verdict\">{}</p>",
        escape(&plan.verdict)
    );
    if let Some(remedy) = &plan.confidence.remedy {
        let _ = writeln!(
            out,
            "<div class=\"low-confidence\"><strong>Low confidence.</strong> To fix: {}<ul>",
            escape(remedy)
        );
        for reason in &plan.confidence.reasons {
            let _ = writeln!(out, "<li>{}</li>", escape(reason));
        }
        let _ = writeln!(out, "</ul></div>");
    }
    let _ = writeln!(out, "</section>");
    let _ = writeln!(
        out,
        "<section id=\"{id}plan\"><h2>{}</h2>",
        escape(&plan_heading(plan))
    );
    if plan.steps.is_empty() {
        let _ = writeln!(out, "<p>No step: no option of the tree pays here.</p>");
    }
    let _ = writeln!(out, "<ol class=\"actions\">");
    for step in &plan.steps {
        let _ = write!(
            out,
            "<li><strong>{}</strong> <code>{}</code><dl><dt>gain</dt><dd>{}</dd>",
            escape(&step.title),
            escape(&step.option),
            escape(&step_gain_text(step))
        );
        for (label, text) in step_fields(step) {
            let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(label), escape(&text));
        }
        let _ = writeln!(out, "</dl></li>");
    }
    let _ = writeln!(out, "</ol><h3>Ruled out</h3><ul class=\"ruled-out\">");
    for ruled_out in &plan.ruled_out {
        let _ = writeln!(
            out,
            "<li><strong>{}</strong> <code>{}</code> ({}): {}</li>",
            escape(&ruled_out.name),
            escape(&ruled_out.option),
            ruled_out.why.label(),
            escape(&ruled_out.reason)
        );
    }
    let _ = writeln!(out, "</ul>");
    if let Fact::Known(summary) = &plan.python_summary {
        let _ = writeln!(
            out,
            "<h3>For Python users</h3><p class=\"python-summary\">{}</p>",
            escape(summary)
        );
    }
    let _ = writeln!(
        out,
        "<h3>Work-item crossover</h3><p>{}</p>",
        escape(&crossover_text(r))
    );
    if !r.excluded_variants.is_empty() {
        let _ = writeln!(out, "<h3>Excluded from every recommendation</h3><ul>");
        for excluded in &r.excluded_variants {
            let _ = writeln!(
                out,
                "<li><code>{}</code>: {}</li>",
                escape(&excluded.name),
                escape(&excluded.because)
            );
        }
        let _ = writeln!(out, "</ul>");
    }
    let _ = writeln!(out, "</section>");
}

/// The user's program first: what was measured of it (with its scaling and growth charts),
/// its plan and its path.
fn your_program(out: &mut String, program: &ProgramSection) -> Result<(), ChartError> {
    let _ = writeln!(
        out,
        "<section id=\"program\"><h2>Your program</h2><dl class=\"program\">"
    );
    for (label, text) in program_figures(&program.study) {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", escape(label), escape(&text));
    }
    let _ = writeln!(out, "</dl><div class=\"charts\">");
    if let Fact::Known(scaling) = &program.study.scaling {
        let points: Vec<ScalingPoint> = scaling
            .speedups()
            .into_iter()
            .map(|(threads, speedup)| ScalingPoint { threads, speedup })
            .collect();
        let label = format!("your program ({})", scaling.variable);
        let chart = scaling_chart(&label, &points, scaling.serial_fraction.known().copied())?;
        let _ = writeln!(
            out,
            "<div class=\"chart\" id=\"program-scaling\">{chart}</div>"
        );
    }
    if let Fact::Known(growth) = &program.study.growth {
        let points: Vec<GrowthPoint> = growth
            .points
            .iter()
            .map(|p| GrowthPoint {
                size: p.size,
                seconds: p.wall_seconds,
            })
            .collect();
        let expected = program.study.expected_order.known().copied();
        let chart = growth_chart(&points, growth.exponent, expected)?;
        let _ = writeln!(
            out,
            "<div class=\"chart\" id=\"program-growth\">{chart}</div>"
        );
    }
    let _ = writeln!(out, "</div></section>");
    advice(out, &program.recommendation, "program-");
    path(out, &program.recommendation, "program-");
    let _ = writeln!(
        out,
        "<h2 id=\"kernel\">The reference kernel on this machine</h2>"
    );
    Ok(())
}

/// The decision path with the evidence behind each answer.
fn path(out: &mut String, recommendation: &Recommendation, id: &str) {
    let _ = writeln!(
        out,
        "<section id=\"{id}path\"><h2>Path through the decision tree</h2><ol class=\"path\">"
    );
    for step in &recommendation.path {
        let _ = write!(
            out,
            "<li><code>{}</code> {}<br/><span class=\"answer\">{}</span>",
            escape(&step.node),
            escape(&step.question),
            escape(&answer_text(&step.answer))
        );
        for evidence in &step.evidence {
            let _ = write!(
                out,
                "<div class=\"evidence\">{}</div>",
                escape(&evidence_text(evidence))
            );
        }
        let _ = writeln!(out, "</li>");
    }
    let _ = writeln!(out, "</ol></section>");
}

/// The speedup chart of the ladder (like the training's summary figure), its table and warnings.
fn ladder(out: &mut String, bench: &BenchReport) -> anyhow::Result<()> {
    let _ = writeln!(out, "<section id=\"ladder\"><h2>The ladder</h2>");
    let _ = writeln!(
        out,
        "<div class=\"chart\" id=\"speedup-chart\">{}</div>",
        speedup_chart(&speedup_bars(bench), SpeedupAxes::OVER_NAIVE)?
    );
    let _ = writeln!(out, "<p>{}</p>", escape(&ladder_caption(bench)));
    let _ = writeln!(out, "{}", table(&ladder_rows(bench)));
    let cautions = warnings(bench);
    if !cautions.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Warnings ({}): figures less trustworthy than they look</summary><ul>",
            cautions.len()
        );
        for line in cautions {
            let _ = writeln!(out, "<li>{}</li>", escape(&line));
        }
        let _ = writeln!(out, "</ul></details>");
    }
    let _ = writeln!(out, "</section>");
    Ok(())
}

/// Seed 000's published speedups over the original program (2019, one cluster, 8 threads or
/// processes where parallel), beside the rung that does the same thing here. Its "3-4x with
/// 8 threads" is left out: the lesson does not say which code ran on the threads.
const SEED_000_SPEEDUPS: [(&str, f64, f64); 5] = [
    ("py-numpy", 7.0, 8.0),
    ("py-numba", 16.0, 17.0),
    // A hand-written C++ extension: a compiled loop on one core.
    ("fused", 20.0, 30.0),
    ("py-mpi4py", 5.0, 6.0),
    // C++ with OpenMP on 8 threads.
    ("threads+fused", 110.0, 110.0),
];

/// Both ladders on one chart, per pair over pure Python (like the training's summary figure),
/// with seed 000's figures as red marks; the Python rungs' table and notes.
fn python_ladder(
    out: &mut String,
    python: &Fact<PythonLadder>,
    bench: Option<&BenchReport>,
) -> anyhow::Result<()> {
    let _ = writeln!(
        out,
        "<section id=\"python-ladder\"><h2>The Python ladder</h2>"
    );
    let ladder = match python {
        Fact::Known(ladder) => ladder,
        Fact::Unknown(because) => {
            let _ = writeln!(
                out,
                "<p class=\"missing\">Not measured: {}</p></section>",
                escape(because)
            );
            return Ok(());
        }
    };
    let bars = both_ladders_bars(ladder, bench);
    if !bars.is_empty() {
        let _ = writeln!(
            out,
            "<div class=\"chart\" id=\"python-speedup-chart\">{}</div>",
            speedup_chart(
                &bars,
                SpeedupAxes {
                    caption: "Python (orange) and Rust (blue) rungs per pair over pure Python (log scale)",
                    x_desc: "times faster per pair than pure Python; red: seed 000's figures (2019)",
                }
            )?
        );
    }
    let _ = writeln!(out, "<p>{}</p>", escape(&python_caption(ladder)));
    let _ = writeln!(out, "{}<ul>", table(&python_rows(ladder)));
    for note in python_notes(ladder) {
        let _ = writeln!(out, "<li>{}</li>", escape(&note));
    }
    let _ = writeln!(
        out,
        "<li>Red marks: the speedups over the original program that seed 000 reports (NumPy \
         7-8x, Numba 16-17x, a C++ extension 20-30x drawn on <code>fused</code>, mpi4py on 8 \
         processes 5-6x, C++ with OpenMP on 8 threads 110x drawn on \
         <code>threads+fused</code>), measured in 2019 on one cluster.</li></ul></section>"
    );
    Ok(())
}

/// The measured Python rungs, then the measured Rust variants, as speedups per pair over
/// `py-pure`; none when pure Python was not measured.
fn both_ladders_bars(ladder: &PythonLadder, bench: Option<&BenchReport>) -> Vec<SpeedupBar> {
    let Some((pure, _)) = ladder.rung("py-pure").and_then(|r| r.ns_per_pair()) else {
        return Vec::new();
    };
    let reference = |name: &str| {
        SEED_000_SPEEDUPS
            .iter()
            .find(|(variant, ..)| *variant == name)
            .map(|(_, low, high)| (*low, *high))
    };
    let python = ladder.rungs.iter().filter_map(|rung| {
        let (ns, interval) = rung.ns_per_pair()?;
        let (low, high) = interval.map_or((pure / ns, pure / ns), |(l, h)| (pure / h, pure / l));
        Some(SpeedupBar {
            label: rung.entry.variant.clone(),
            speedup: pure / ns,
            low,
            high,
            failed: false,
            second_group: true,
            reference: reference(&rung.entry.variant),
        })
    });
    let rust = bench.into_iter().flat_map(|bench| {
        bench.ladder.entries.iter().filter_map(move |entry| {
            let result = entry.result()?;
            let scale = |seconds: f64| pure * result.pairs as f64 / (seconds * 1e9);
            let summary = &result.measurement.wall_seconds;
            let (low, high) = summary.median_interval.map_or(
                (pure / result.ns_per_pair, pure / result.ns_per_pair),
                |i| (scale(i.high), scale(i.low)),
            );
            Some(SpeedupBar {
                label: entry.variant.clone(),
                speedup: pure / result.ns_per_pair,
                low,
                high,
                failed: false,
                second_group: false,
                reference: reference(&entry.variant),
            })
        })
    });
    python.chain(rust).collect()
}

/// Thread scaling, the roofline and the ceilings.
fn scaling_and_ceilings(out: &mut String, bench: &BenchReport) -> anyhow::Result<()> {
    let scaling = &bench.scaling;
    let _ = writeln!(
        out,
        "<section id=\"scaling\"><h2>Thread scaling</h2><div class=\"chart-grid\">"
    );
    for series in &scaling.threads {
        let points: Vec<ScalingPoint> = series
            .points
            .iter()
            .map(|p| ScalingPoint {
                threads: p.threads,
                speedup: p.speedup,
            })
            .collect();
        let _ = writeln!(
            out,
            "<div class=\"chart scaling-chart\">{}</div>",
            scaling_chart(&series.variant, &points, series.amdahl_serial_fraction)?
        );
    }
    let _ = writeln!(out, "</div>{}<ul>", table(&thread_rows(scaling)));
    for note in scaling_notes(scaling) {
        let _ = writeln!(out, "<li>{}</li>", escape(&note));
    }
    let _ = writeln!(out, "</ul></section>");

    let _ = writeln!(out, "<section id=\"roofline\"><h2>Roofline</h2>");
    let _ = writeln!(
        out,
        "<div class=\"chart\" id=\"roofline-chart\">{}</div>",
        roofline_chart(&roofs(bench), &roofline_points(bench))?
    );
    let conventions = format!(
        "<p class=\"conventions\">{}</p>",
        escape(MEASUREMENT_CONVENTIONS)
    );
    let _ = writeln!(
        out,
        "{}{conventions}</section>",
        table(&roofline_rows(scaling))
    );

    let ceilings = &bench.ceilings;
    let _ = writeln!(
        out,
        "<section id=\"ceilings\"><h2>Ceilings</h2><p>{}</p>{}{conventions}{}</section>",
        escape(&ceilings_caption(ceilings)),
        table(&ceiling_rows(ceilings)),
        table(&overhead_rows(ceilings))
    );
    Ok(())
}

/// One bar per measured or failed ladder entry; naive is the 1x reference.
fn speedup_bars(bench: &BenchReport) -> Vec<SpeedupBar> {
    bench
        .ladder
        .entries
        .iter()
        .filter_map(|entry| match &entry.outcome {
            Outcome::Measured(result) => {
                let (speedup, low, high) = match result.speedup {
                    None => (1.0, 1.0, 1.0),
                    Some(s) => (
                        s.median,
                        s.low.unwrap_or(s.median),
                        s.high.unwrap_or(s.median),
                    ),
                };
                Some(SpeedupBar {
                    label: entry.variant.clone(),
                    speedup,
                    low,
                    high,
                    failed: false,
                    second_group: false,
                    reference: None,
                })
            }
            Outcome::Failed(_) => Some(SpeedupBar {
                label: entry.variant.clone(),
                speedup: 0.0,
                low: 0.0,
                high: 0.0,
                failed: true,
                second_group: false,
                reference: None,
            }),
            Outcome::Skipped { .. } => None,
        })
        .collect()
}

/// The measured FMA peaks (all cores) as compute roofs, the bandwidths as memory roofs.
fn roofs(bench: &BenchReport) -> Vec<Roof> {
    let compute = bench.ceilings.fma.iter().map(|peak| Roof::Compute {
        label: format!("{} FMA peak", peak.instruction_set),
        gflops: peak.gflops.all_cores.max,
    });
    let memory = bench.ceilings.bandwidth.iter().map(|b| Roof::Memory {
        label: format!("{} bandwidth", b.level),
        gbytes_per_second: b.gigabytes_per_second.all_cores.max,
    });
    compute.chain(memory).collect()
}

fn roofline_points(bench: &BenchReport) -> Vec<RooflinePoint> {
    bench
        .scaling
        .roofline
        .iter()
        .map(|p| RooflinePoint {
            label: p.variant.clone(),
            intensity: p.arithmetic_intensity,
            gflops: p.gflops,
        })
        .collect()
}

/// Every flamegraph of the run folder, each isolated in its own frame; a missing file is said so.
fn flamegraphs(out: &mut String, report: &Report, folder: &Path) {
    let _ = writeln!(out, "<section id=\"flamegraphs\"><h2>Flamegraphs</h2>");
    if let Fact::Unknown(because) = &report.profiles {
        let _ = writeln!(
            out,
            "<p class=\"missing\">Not profiled: {}</p>",
            escape(because)
        );
    }
    for artefact in report.flamegraphs() {
        let _ = writeln!(
            out,
            "<h3>{}</h3><p><a href=\"{}\">{}</a></p>",
            escape(&artefact.description),
            escape(&artefact.path),
            escape(&artefact.path)
        );
        match std::fs::read_to_string(folder.join(&artefact.path)) {
            Ok(svg) => {
                let height = svg_height(&svg).unwrap_or(600) + 24;
                let _ = writeln!(
                    out,
                    "<iframe class=\"flamegraph\" title=\"{}\" height=\"{height}\" src=\"data:image/svg+xml;charset=utf-8,{}\"></iframe>",
                    escape(&artefact.path),
                    escape(&percent_encode(&svg))
                );
            }
            Err(error) => {
                let _ = writeln!(
                    out,
                    "<p class=\"missing\">flamegraph {} is missing from the run folder: {}</p>",
                    escape(&artefact.path),
                    escape(&error.to_string())
                );
            }
        }
    }
    hot_lines(out, report);
    let _ = writeln!(out, "</section>");
}

/// Each profiled variant's hottest kernel source lines, as measured per sample.
fn hot_lines(out: &mut String, report: &Report) {
    let Fact::Known(profiles) = &report.profiles else {
        return;
    };
    for profile in profiles.profiles.iter().filter(|p| !p.hot_lines.is_empty()) {
        let _ = writeln!(
            out,
            "<h3>Hottest kernel lines of {}</h3><table><tr><th>line</th><th>share</th><th>function</th><th>code</th></tr>",
            escape(&profile.variant)
        );
        for line in &profile.hot_lines {
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{:.1} %</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                escape(&line.location),
                100.0 * line.share,
                escape(&line.function.replace("hpc_kernels::scatter::", "")),
                escape(line.code.as_deref().unwrap_or(""))
            );
        }
        let _ = writeln!(out, "</table>");
    }
}

/// The `height="N"` of the root `<svg>` element, to size its frame.
fn svg_height(svg: &str) -> Option<u32> {
    let root = &svg[svg.find("<svg")?..];
    let value = &root[root.find(" height=\"")? + 9..];
    value[..value.find('"')?].parse().ok()
}

/// The MPI job and the GPU run, or why they did not run.
fn distributed(out: &mut String, report: &Report) {
    let _ = writeln!(
        out,
        "<section id=\"distributed\"><h2>MPI and GPU</h2><ul><li>{}</li><li>{}</li></ul></section>",
        escape(&mpi_summary(report)),
        escape(&gpu_summary(report))
    );
}

/// The binding core limit and every group of detected facts, folded.
fn machine(out: &mut String, report: &Report) {
    let _ = writeln!(out, "<section id=\"machine\"><h2>Machine</h2>");
    match &report.machine {
        Fact::Known(machine) => {
            let _ = writeln!(
                out,
                "<p><strong>{}</strong></p>",
                escape(&binding_summary(machine))
            );
            for section in sections(machine) {
                let _ = write!(
                    out,
                    "<details><summary>{}</summary><table><tr><th>fact</th><th>value</th></tr>",
                    escape(section.title)
                );
                for [name, value] in &section.rows {
                    let _ = write!(
                        out,
                        "<tr><td>{}</td><td>{}</td></tr>",
                        escape(name),
                        escape(value)
                    );
                }
                let _ = writeln!(out, "</table></details>");
            }
        }
        Fact::Unknown(because) => {
            let _ = writeln!(
                out,
                "<p class=\"missing\">Not detected: {}</p>",
                escape(because)
            );
        }
    }
    let _ = writeln!(out, "</section>");
}

/// Every stage with its outcome, then the files of the run folder.
fn stages(out: &mut String, report: &Report) {
    let failed = failed_stages(report);
    let _ = writeln!(
        out,
        "<section id=\"stages\"><h2>Stages</h2><table><tr><th>stage</th><th>outcome</th><th>seconds</th></tr>"
    );
    for stage in &report.stages {
        let outcome = match failed.iter().find(|(name, _)| *name == stage.name) {
            Some((_, why)) => format!("<span class=\"failed\">{}</span>", escape(why)),
            None => "completed".to_string(),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{outcome}</td><td>{:.1}</td></tr>",
            escape(&stage.name),
            stage.seconds
        );
    }
    let _ = writeln!(out, "</table><h3>Files</h3><ul>");
    for artefact in &report.artefacts {
        let _ = writeln!(
            out,
            "<li><a href=\"{}\"><code>{}</code></a>: {}</li>",
            escape(&artefact.path),
            escape(&artefact.path),
            escape(&artefact.description)
        );
    }
    let _ = writeln!(out, "</ul></section>");
}

/// Rows with their `Tabled` headers as an HTML table.
fn table<R: Tabled>(rows: &[R]) -> String {
    let mut html = String::from("<table><tr>");
    for header in R::headers() {
        let _ = write!(html, "<th>{}</th>", escape(&header));
    }
    html.push_str("</tr>");
    for row in rows {
        html.push_str("<tr>");
        for field in row.fields() {
            let _ = write!(html, "<td>{}</td>", escape(&field));
        }
        html.push_str("</tr>");
    }
    html.push_str("</table>");
    html
}

/// Encodes the characters a `data:` URL cannot carry literally (its parser drops
/// newlines and tabs, `#` ends it, `%` starts an escape).
fn percent_encode(text: &str) -> String {
    replace_chars(
        text,
        &[
            ('%', "%25"),
            ('#', "%23"),
            ('\n', "%0A"),
            ('\r', "%0D"),
            ('\t', "%09"),
        ],
    )
}

/// Escapes text for HTML content and double-quoted attributes; newlines and
/// tabs become references so that XML readers do not normalise them to spaces.
pub(crate) fn escape(text: &str) -> String {
    replace_chars(
        text,
        &[
            ('&', "&amp;"),
            ('<', "&lt;"),
            ('>', "&gt;"),
            ('"', "&quot;"),
            ('\'', "&#39;"),
            ('\n', "&#10;"),
            ('\t', "&#9;"),
        ],
    )
}

/// `text` with each listed character replaced by its string.
fn replace_chars(text: &str, replacements: &[(char, &str)]) -> String {
    let mut replaced = String::with_capacity(text.len());
    for c in text.chars() {
        match replacements.iter().find(|(from, _)| *from == c) {
            Some((_, to)) => replaced.push_str(to),
            None => replaced.push(c),
        }
    }
    replaced
}
