//! `hpc-advisor compare`: saved runs side by side, or a regression check against a baseline.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cli::{CompareArgs, ReportFormat};
use crate::commands::report::read_report;
use crate::compare::{Comparison, Gate, LoadedRun, render};
use crate::error::user_error;
use crate::output::{StagedDir, utc_rfc3339};
use crate::profile::flamegraph;
use crate::profile::folded::FoldedStacks;
use crate::report::Report;

pub fn run(args: &CompareArgs) -> anyhow::Result<()> {
    let paths: Vec<&PathBuf> = match &args.baseline {
        Some(baseline) => {
            if args.runs.len() != 1 {
                return Err(user_error(
                    format!(
                        "--baseline compares one new run with it, but {} runs were given",
                        args.runs.len()
                    ),
                    "give `compare --baseline OLD NEW`, or leave --baseline out to compare several runs side by side",
                ));
            }
            vec![baseline, &args.runs[0]]
        }
        None => args.runs.iter().collect(),
    };
    let threshold = args
        .baseline
        .as_ref()
        .map(|_| parse_threshold(&args.fail_above))
        .transpose()?;
    if paths.len() < 2 {
        return Err(user_error(
            "compare needs two or more runs",
            "give two run folders (`compare reports/A reports/B`), or `compare --baseline OLD NEW`",
        ));
    }
    // Every input is read before anything is written: a bad one leaves nothing behind.
    let runs = paths
        .iter()
        .map(|path| load(path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let comparison = Comparison::build(&runs).map_err(|e| {
        user_error(
            e.to_string(),
            "compare runs of the same problem (contour and wavelength; sizes may differ), e.g. two `hpc-advisor analyse` runs with the same --contour and --wavelength",
        )
    })?;
    let gate = threshold.map(|t| comparison.gate(t));
    let rendered = rendering(&comparison, gate.as_ref(), args.format)?;
    if let Some(out) = &args.out {
        let folder = write_folder(out, &comparison, gate.as_ref(), &runs)?;
        eprintln!("wrote {}", folder.display());
    }
    io::stdout().lock().write_all(rendered.as_bytes())?;
    match gate {
        Some(gate) if !gate.regressed.is_empty() => Err(user_error(
            format!(
                "{} variant(s) regressed beyond noise by more than {:.0}%: {}",
                gate.regressed.len(),
                gate.threshold * 100.0,
                gate.regressed
                    .iter()
                    .map(|c| format!("{} {:.2}x", c.variant, c.ratio))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "look at what changed between the runs; a noisy machine can also do this, so re-run both on a quiet one before believing it",
        )),
        _ => Ok(()),
    }
}

/// `5%`, `5 %` or `0.05` as a fraction; refused unless between 0 and 10 (1000 %).
pub fn parse_threshold(text: &str) -> anyhow::Result<f64> {
    let trimmed = text.trim();
    let value = match trimmed.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => trimmed.parse::<f64>(),
    };
    match value {
        Ok(v) if v.is_finite() && (0.0..=10.0).contains(&v) => Ok(v),
        _ => Err(user_error(
            format!("--fail-above `{text}` is not a slowdown between 0% and 1000%"),
            "give a percentage such as `5%`, or a fraction such as `0.05`",
        )),
    }
}

/// A run folder (with its report.json) or a report.json, read whole.
fn load(path: &Path) -> anyhow::Result<LoadedRun> {
    let file = if path.is_dir() {
        let file = path.join("report.json");
        if !file.is_file() {
            return Err(user_error(
                format!("{} has no report.json", path.display()),
                "give a run folder written by `hpc-advisor analyse` (reports/HOST-TIME), or its report.json",
            ));
        }
        file
    } else {
        path.to_path_buf()
    };
    let report = read_report(&file)?;
    Ok(LoadedRun {
        path: path.display().to_string(),
        report,
    })
}

fn rendering(
    comparison: &Comparison,
    gate: Option<&Gate>,
    format: ReportFormat,
) -> anyhow::Result<String> {
    Ok(match format {
        ReportFormat::Terminal => render::terminal(comparison, gate),
        ReportFormat::Md => render::markdown(comparison, gate),
        ReportFormat::Html => render::html(comparison, gate)?,
        ReportFormat::Json => {
            let mut text = serde_json::to_string_pretty(&ComparisonDocument { comparison, gate })?;
            text.push('\n');
            text
        }
    })
}

/// What `--format json` and comparison.json hold.
#[derive(serde::Serialize)]
struct ComparisonDocument<'a> {
    #[serde(flatten)]
    comparison: &'a Comparison,
    gate: Option<&'a Gate>,
}

/// The comparison in every format, and the differential flamegraphs, in a new folder under `out`.
fn write_folder(
    out: &Path,
    comparison: &Comparison,
    gate: Option<&Gate>,
    runs: &[LoadedRun],
) -> anyhow::Result<PathBuf> {
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let name = format!("compare-{}", utc_rfc3339(created).replace(':', ""));
    let staged = StagedDir::create(out, &name)?;
    for (file, format) in [
        ("comparison.json", ReportFormat::Json),
        ("comparison.md", ReportFormat::Md),
        ("comparison.html", ReportFormat::Html),
    ] {
        staged.write(file, rendering(comparison, gate, format)?.as_bytes())?;
    }
    for (variant, first, other, label) in shared_profiles(runs, comparison) {
        let svg = flamegraph::draw_differential(
            &first,
            &other,
            &format!("`{variant}`: run {label} compared with run A"),
            &format!(
                "shaped like run A; blue: less in run {label}, red: more (sample totals normalised)"
            ),
        )
        .context("drawing a differential flamegraph")?;
        staged.write(
            &format!("flamegraphs/diff-{variant}-{label}-vs-A.svg"),
            &svg,
        )?;
    }
    staged.commit()
}

/// For every run after the first, each variant both it and the first run profiled: the two
/// runs' folded stacks and the later run's label.
fn shared_profiles(
    runs: &[LoadedRun],
    comparison: &Comparison,
) -> Vec<(String, FoldedStacks, FoldedStacks, String)> {
    let folded = |run: &LoadedRun, variant: &str| -> Option<FoldedStacks> {
        let profile = run
            .report
            .profiles
            .known()?
            .profiles
            .iter()
            .find(|p| p.variant == variant)?;
        let text = std::fs::read_to_string(folder_of(run).join(&profile.folded_file)).ok()?;
        FoldedStacks::parse(&text).ok()
    };
    // The user's program, when both runs studied the same command.
    let program = |run: &LoadedRun| -> Option<(Vec<String>, FoldedStacks)> {
        let study = &run.report.program.as_ref()?.study;
        let text =
            std::fs::read_to_string(folder_of(run).join(study.folded_file.as_ref()?)).ok()?;
        Some((
            study.studied_command.clone(),
            FoldedStacks::parse(&text).ok()?,
        ))
    };
    let first_variants: Vec<String> = profiled_variants(&runs[0].report);
    let first_program = program(&runs[0]);
    let mut shared = Vec::new();
    for (run, label) in runs.iter().zip(&comparison.runs).skip(1) {
        for variant in &first_variants {
            if let (Some(a), Some(b)) = (folded(&runs[0], variant), folded(run, variant)) {
                shared.push((variant.clone(), a, b, label.label.clone()));
            }
        }
        if let (Some((command, a)), Some((other_command, b))) = (&first_program, program(run))
            && *command == other_command
        {
            shared.push(("program".to_string(), a.clone(), b, label.label.clone()));
        }
    }
    shared
}

fn profiled_variants(report: &Report) -> Vec<String> {
    report.profiles.known().map_or_else(Vec::new, |p| {
        p.profiles.iter().map(|v| v.variant.clone()).collect()
    })
}

/// The run folder a loaded run's files are relative to.
fn folder_of(run: &LoadedRun) -> PathBuf {
    let path = PathBuf::from(&run.path);
    if path.is_dir() {
        path
    } else {
        path.parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }
}
