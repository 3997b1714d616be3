//! `hpc-advisor report --from REPORT.json`: a saved run re-rendered for a terminal, as Markdown, HTML or JSON.

use std::io::{self, Write};
use std::path::Path;

use crate::cli::{ReportArgs, ReportFormat};
use crate::error::{DocumentHints, read_document};
use crate::report::{REPORT_SCHEMA_VERSION, Report, html, markdown, terminal};

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
    read_document(
        path,
        Report::from_json,
        &DocumentHints {
            what: "report",
            unreadable: "give the report.json of a run folder written by `hpc-advisor analyse`",
            not_json: "a report is the report.json of a run folder; see docs/reading-a-report.md",
            unknown_version: &format!(
                "this build renders reports of schema versions 2 and {REPORT_SCHEMA_VERSION}; a version-1 report (before the plan) can still be re-advised with `hpc-advisor advise --from FILE`, or re-run `hpc-advisor analyse`"
            ),
            bad_field: "the report does not match docs/report-schema.json; re-run `hpc-advisor analyse` or fix that field",
        },
    )
}
