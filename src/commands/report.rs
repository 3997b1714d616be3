//! `hpc-advisor report --from REPORT.json`: a saved run re-rendered for a terminal, as Markdown, HTML or JSON.

use std::io::{self, Write};
use std::path::Path;

use crate::cli::{ReportArgs, ReportFormat};
use crate::error::user_error;
use crate::report::{REPORT_SCHEMA_VERSION, Report, html, markdown, terminal};
use crate::versioned_json::DocumentError;

pub fn run(args: &ReportArgs) -> anyhow::Result<()> {
    let report = read_report(&args.from)?;
    let folder = match args.from.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let text = match args.format {
        ReportFormat::Terminal => terminal::render(&report, folder),
        ReportFormat::Md => markdown::render(&report),
        ReportFormat::Html => html::render(&report, folder)?,
        ReportFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
    };
    io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

/// Reads a saved report.json, or says which field is wrong and how to fix it.
pub fn read_report(path: &Path) -> anyhow::Result<Report> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        user_error(
            format!("cannot read the report {}: {e}", path.display()),
            "give the report.json of a run folder written by `hpc-advisor analyse`",
        )
    })?;
    Report::from_json(&text).map_err(|error| {
        let hint = match &error {
            DocumentError::NotJson(_) => {
                "a report is the report.json of a run folder; see docs/reading-a-report.md".to_string()
            }
            DocumentError::UnknownSchemaVersion { .. } => format!(
                "this build reads reports with `\"schema_version\": {REPORT_SCHEMA_VERSION}`; use the hpc-advisor that wrote it"
            ),
            DocumentError::Field { .. } => {
                "the report does not match docs/report-schema.json; re-run `hpc-advisor analyse` or fix that field".to_string()
            }
        };
        user_error(format!("invalid report {}: {error}", path.display()), hint)
    })
}
