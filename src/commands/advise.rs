//! `hpc-advisor advise --facts FILE.json`: the recommendation recomputed offline from saved facts.

use std::io::{self, Write};
use std::path::Path;

use anyhow::Context;

use crate::advise::{FACTS_SCHEMA_VERSION, Facts, advise, render};
use crate::cli::{AdviseArgs, OutputFormat};
use crate::error::{DocumentHints, read_document, user_error};
use crate::report::{READABLE_FACTS_OF_REPORT_VERSIONS, REPORT_SCHEMA_VERSION, Report};

pub fn run(args: &AdviseArgs) -> anyhow::Result<()> {
    let facts = match (&args.facts, &args.from) {
        (Some(path), None) => read_facts(path)?,
        (None, Some(path)) => facts_of_report(path)?,
        _ => {
            return Err(user_error(
                "give exactly one of --facts FILE.json or --from REPORT.json",
                "--facts reads a facts file (docs/facts.md), --from a saved run's report.json",
            ));
        }
    };
    let recommendation = advise(&facts);
    let text = match args.format {
        OutputFormat::Terminal => render::terminal(&recommendation),
        OutputFormat::Markdown => render::markdown(&recommendation),
        OutputFormat::Json => {
            serde_json::to_string_pretty(&recommendation)
                .context("serialising the recommendation")?
                + "\n"
        }
    };
    io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

fn read_facts(path: &Path) -> anyhow::Result<Facts> {
    read_document(
        path,
        Facts::from_json,
        &DocumentHints {
            what: "facts file",
            unreadable: "give an existing facts JSON file with --facts (see docs/facts.md)",
            not_json: "the facts file must be one JSON object; see docs/facts.md",
            unknown_version: &format!(
                "write facts with `\"schema_version\": {FACTS_SCHEMA_VERSION}` (docs/facts.md), or use the hpc-advisor that wrote them"
            ),
            bad_field: "every field is required; write a known value as {\"known\": ...} and an unknown one as {\"unknown\": \"why\"} (docs/facts.md)",
        },
    )
}

/// The facts of a saved report of this version or an earlier one, re-advised by this build.
fn facts_of_report(path: &Path) -> anyhow::Result<Facts> {
    let versions: Vec<String> = READABLE_FACTS_OF_REPORT_VERSIONS
        .iter()
        .map(u32::to_string)
        .collect();
    let (facts, version) = read_document(
        path,
        Report::facts_from_json,
        &DocumentHints {
            what: "report",
            unreadable: "give the report.json of a run folder written by `hpc-advisor analyse`",
            not_json: "a report is the report.json of a run folder; see docs/reading-a-report.md",
            unknown_version: &format!(
                "this build re-advises reports of schema versions {}; use the hpc-advisor that wrote it",
                versions.join(" and ")
            ),
            bad_field: "the report's facts do not match docs/facts.md; re-run `hpc-advisor analyse` or fix that field",
        },
    )?;
    if version != REPORT_SCHEMA_VERSION {
        eprintln!(
            "note: {} is a schema-version-{version} report; its saved advice is ignored and its facts are re-advised by this build",
            path.display()
        );
    }
    Ok(facts)
}
