//! The report renderers on a fixture run folder, the run-folder writer, the schema and `report --from`.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use hpc_advisor::advise::Recommendation;
use hpc_advisor::fact::Fact;
use hpc_advisor::output::StagedDir;
use hpc_advisor::report::{
    ArtefactKind, Report, html, json_schema, markdown, terminal, write_run_folder,
};
use predicates::prelude::*;
use quick_xml::XmlVersion;
use quick_xml::events::Event;

fn fixture_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report")
}

fn fixture_text() -> String {
    std::fs::read_to_string(fixture_folder().join("report.json")).unwrap()
}

fn fixture() -> Report {
    Report::from_json(&fixture_text()).unwrap()
}

/// The folder as the renderers show it, the same on every machine.
const SHOWN_FOLDER: &str = "reports/vm-20261121T114000Z";

/// Snapshot settings hiding what changes from run to run: time, host, version, timings.
fn volatile_filters() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[created]");
    settings.add_filter(r"hpc-advisor \d+\.\d+\.\d+", "hpc-advisor [version]");
    settings.add_filter(r"measured in \d+\.\d s", "measured in [seconds]");
    settings.add_filter(r": \d+\.\d s of a", ": [seconds] of a");
    settings
}

#[test]
fn the_fixture_round_trips_json_to_model_to_json() {
    let text = fixture_text();
    let report = Report::from_json(&text).unwrap();
    // The fixture is written by the model itself, so it reads back to the same text.
    assert_eq!(serde_json::to_string_pretty(&report).unwrap() + "\n", text);
}

#[test]
fn terminal_summary_snapshot() {
    let text = terminal::render(&fixture(), Path::new(SHOWN_FOLDER));
    volatile_filters().bind(|| insta::assert_snapshot!("terminal", text));
}

#[test]
fn markdown_snapshot() {
    let text = markdown::render(&fixture());
    volatile_filters().bind(|| insta::assert_snapshot!("markdown", text));
}

#[test]
fn every_renderer_opens_with_the_verdict_then_the_plan() {
    let report = fixture();
    let plan = &report.recommendation.plan;
    let terminal = terminal::render(&report, Path::new(SHOWN_FOLDER));
    // The headline, then the verdict, before the ladder and the path.
    let lines: Vec<&str> = terminal.lines().collect();
    assert_eq!(lines[2], plan.verdict);
    // About two screens: the plan, both ladders, the path and the files.
    assert!(terminal.lines().count() <= 90, "{} lines", lines.len());
    let verdict_at = terminal.find(&plan.verdict).unwrap();
    for later in ["Ladder:", "Path through the decision tree", "Ruled out"] {
        assert!(terminal.find(later).unwrap() > verdict_at, "{later}");
    }
    for (rank, step) in plan.steps.iter().enumerate() {
        let line = format!("  {}. {}: ", rank + 1, step.title);
        assert!(terminal.contains(&line), "{line}");
    }
    for step in &report.recommendation.path {
        assert!(terminal.contains(&step.node), "{}", step.node);
    }

    let markdown = markdown::render(&report);
    let verdict_at = markdown.find(&format!("**{}**", plan.verdict)).unwrap();
    assert!(verdict_at < markdown.find("## The ladder").unwrap());
    assert!(verdict_at < markdown.find("| node | question |").unwrap());

    let page = html::render(&report, &fixture_folder()).unwrap();
    let verdict_at = page.find("<section id=\"verdict\">").unwrap();
    for later in ["id=\"plan\"", "id=\"ladder\"", "id=\"path\""] {
        assert!(page.find(later).unwrap() > verdict_at, "{later}");
    }
}

#[test]
fn html_verdict_and_plan_snapshot() {
    let page = html::render(&fixture(), &fixture_folder()).unwrap();
    let start = page.find("<section id=\"verdict\">").unwrap();
    let end = page.find("<section id=\"ladder\">").unwrap();
    insta::assert_snapshot!("html_verdict", &page[start..end]);
}

#[test]
fn a_report_of_the_previous_schema_is_re_advised_or_refused_with_the_way_out() {
    let v1 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report-v1.json");
    let output = Command::cargo_bin("hpc-advisor")
        .unwrap()
        .args(["advise", "--format", "json", "--from", v1.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("schema-version-1 report"));
    let recommendation: Recommendation = serde_json::from_slice(&output.stdout).unwrap();
    // The same run, saved as version 2 (before the Python ladder), gives the same plan;
    // version 1 did not record the medians' intervals, so only those are missing from its gains.
    let v2 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report-v2.json");
    let current = Report::from_json(&std::fs::read_to_string(v2).unwrap())
        .unwrap()
        .recommendation
        .plan;
    let options = |plan: &hpc_advisor::advise::Plan| -> Vec<String> {
        plan.steps.iter().map(|s| s.option.clone()).collect()
    };
    assert_eq!(options(&recommendation.plan), options(&current));
    assert_eq!(recommendation.plan.verdict, current.verdict);
    assert!((recommendation.plan.total - current.total).abs() < 1e-9);

    Command::cargo_bin("hpc-advisor")
        .unwrap()
        .args(["report", "--from", v1.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("`schema_version` is 1"))
        .stderr(predicate::str::contains("advise --from"));
}

#[test]
fn a_version_3_report_is_read_whole_without_the_hot_lines_it_predates() {
    let v3 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report-v3.json");
    let report = Report::from_json(&std::fs::read_to_string(v3).unwrap()).unwrap();
    assert_eq!(report.schema_version, 3);
    let Fact::Known(profiles) = &report.profiles else {
        panic!("the version 3 run was profiled");
    };
    for profile in &profiles.profiles {
        assert!(profile.hot_lines.is_empty(), "{}", profile.variant);
        assert_eq!(profile.overhead.relative_cpu_interval, None);
        // Without per-pair figures the overhead is not made up.
        assert!(profile.overhead.describe().starts_with("not measured"));
    }
    // And it still renders: Markdown without a hot-lines table.
    assert!(!markdown::render(&report).contains("Hottest source lines"));
}

#[test]
fn markdown_links_every_flamegraph_by_relative_path() {
    let report = fixture();
    let text = markdown::render(&report);
    for artefact in &report.artefacts {
        assert!(
            text.contains(&format!("]({})", artefact.path)),
            "{}",
            artefact.path
        );
    }
}

/// Decodes `%XX` escapes of a `data:` URL.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            decoded.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).unwrap()
}

/// Parses the page as XML (the renderer closes every element, so end tags are
/// checked) and returns the ids and classes of the chart containers holding an
/// `<svg>`, and the decoded SVG of each flamegraph frame.
fn parse_html(page: &str) -> (Vec<String>, Vec<String>) {
    let mut reader = quick_xml::Reader::from_str(page);
    reader.config_mut().check_end_names = true;
    let mut charts = Vec::new();
    let mut frames = Vec::new();
    let mut open_chart: Option<String> = None;
    loop {
        match reader.read_event().expect("the report page is well-formed") {
            Event::Start(element) | Event::Empty(element) => {
                let name = String::from_utf8_lossy(element.name().as_ref()).to_string();
                if name == "svg"
                    && let Some(chart) = open_chart.take()
                {
                    charts.push(chart);
                }
                for attribute in element.attributes() {
                    let attribute = attribute.unwrap();
                    let key = String::from_utf8_lossy(attribute.key.as_ref()).to_string();
                    let value = attribute
                        .normalized_value(XmlVersion::Implicit1_0)
                        .unwrap()
                        .to_string();
                    if name == "div" && (key == "id" || key == "class") && value.contains("chart") {
                        open_chart = Some(value.clone());
                    }
                    if name == "iframe" && key == "src" {
                        let svg = value
                            .strip_prefix("data:image/svg+xml;charset=utf-8,")
                            .expect("a flamegraph frame holds an SVG data URL");
                        frames.push(percent_decode(svg));
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (charts, frames)
}

#[test]
fn html_is_well_formed_and_inlines_every_chart_and_flamegraph() {
    let report = fixture();
    let page = html::render(&report, &fixture_folder()).unwrap();
    let (charts, frames) = parse_html(&page);
    let Fact::Known(bench) = &report.bench else {
        panic!("the fixture has a benchmark")
    };
    assert!(charts.contains(&"speedup-chart".to_string()), "{charts:?}");
    assert!(charts.contains(&"roofline-chart".to_string()), "{charts:?}");
    let scaling = charts
        .iter()
        .filter(|c| c.contains("scaling-chart"))
        .count();
    assert_eq!(scaling, bench.scaling.threads.len());
    assert!(scaling > 0);
    let flamegraphs: Vec<_> = report
        .artefacts
        .iter()
        .filter(|a| {
            matches!(
                a.kind,
                ArtefactKind::Flamegraph | ArtefactKind::DifferentialFlamegraph
            )
        })
        .collect();
    assert_eq!(frames.len(), flamegraphs.len());
    for (frame, artefact) in frames.iter().zip(&flamegraphs) {
        let file = std::fs::read_to_string(fixture_folder().join(&artefact.path)).unwrap();
        assert_eq!(frame, &file, "{} is inlined unchanged", artefact.path);
    }
    assert!(!page.contains("is missing from the run folder"));
}

#[test]
fn html_loads_nothing_from_the_network() {
    let page = html::render(&fixture(), &fixture_folder()).unwrap();
    for loader in ["<link", "<script src", "@import", "url(http", "src=\"http"] {
        assert!(!page.contains(loader), "{loader}");
    }
}

#[test]
fn html_says_when_a_flamegraph_is_missing() {
    let empty = tempfile::tempdir().unwrap();
    let page = html::render(&fixture(), empty.path()).unwrap();
    assert!(page.contains("flamegraphs/naive.svg is missing from the run folder"));
    let (_, frames) = parse_html(&page);
    assert!(frames.is_empty());
}

#[test]
fn write_run_folder_writes_json_markdown_and_html_that_read_back() {
    let parent = tempfile::tempdir().unwrap();
    let staged = StagedDir::create(parent.path(), "run").unwrap();
    // The report as analyse holds it before writing: the report files are not listed yet.
    let mut report = fixture();
    report.artefacts.retain(|a| {
        !matches!(
            a.kind,
            ArtefactKind::ReportJson | ArtefactKind::ReportMarkdown | ArtefactKind::ReportHtml
        )
    });
    for artefact in &report.artefacts {
        let bytes = std::fs::read(fixture_folder().join(&artefact.path)).unwrap();
        staged.write(&artefact.path, &bytes).unwrap();
    }
    let before = report.artefacts.clone();
    let staging = staged.path().to_path_buf();
    write_run_folder(&mut report, &staged).unwrap();
    let folder = staged.commit().unwrap();
    // The listed files first, unchanged, then the three written, in order.
    assert_eq!(report.artefacts[..before.len()], before[..]);
    let kinds: Vec<ArtefactKind> = report.artefacts[before.len()..]
        .iter()
        .map(|a| a.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            ArtefactKind::ReportJson,
            ArtefactKind::ReportMarkdown,
            ArtefactKind::ReportHtml
        ]
    );
    let json = std::fs::read_to_string(folder.join("report.json")).unwrap();
    assert_eq!(Report::from_json(&json).unwrap(), report);
    let page = std::fs::read_to_string(folder.join("report.html")).unwrap();
    let (_, frames) = parse_html(&page);
    assert_eq!(frames.len(), 3);
    let markdown = std::fs::read_to_string(folder.join("report.md")).unwrap();
    assert!(markdown.starts_with("# hpc-advisor report"));
    assert!(markdown.contains("- [`report.html`](report.html)"));
    // The staging folder's name is gone once committed: report.md never shows it.
    let staging_name = staging.file_name().unwrap().to_string_lossy().to_string();
    assert!(!markdown.contains(&staging_name), "{staging_name}");
    assert!(!markdown.contains(".partial-"));

    // Written again over a report that lists them already: not listed twice.
    let staged = StagedDir::create(parent.path(), "again").unwrap();
    let listed = report.clone();
    write_run_folder(&mut report, &staged).unwrap();
    assert_eq!(report, listed);
    let json = std::fs::read_to_string(staged.commit().unwrap().join("report.json")).unwrap();
    assert_eq!(Report::from_json(&json).unwrap(), listed);
}

#[test]
fn the_report_schema_document_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report-schema.json");
    let generated = json_schema();
    if std::env::var_os("HPC_ADVISOR_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/report-schema.json is out of date: run `HPC_ADVISOR_BLESS=1 cargo test --test report`"
    );
}

#[test]
fn the_schema_names_every_top_level_field() {
    let schema: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
    let report: serde_json::Value = serde_json::from_str(&fixture_text()).unwrap();
    let properties = schema["properties"].as_object().unwrap();
    for key in report.as_object().unwrap().keys() {
        assert!(properties.contains_key(key), "{key}");
    }
    assert_eq!(
        schema["properties"].as_object().unwrap().len(),
        report.as_object().unwrap().len()
    );
}

fn hpc_advisor() -> Command {
    Command::cargo_bin("hpc-advisor").unwrap()
}

#[test]
fn report_from_rerenders_each_format() {
    let from = fixture_folder().join("report.json");
    for (format, start) in [
        ("terminal", "hpc-advisor "),
        ("md", "# hpc-advisor report"),
        ("html", "<!DOCTYPE html>"),
        ("json", "{\n  \"schema_version\": 4,"),
    ] {
        hpc_advisor()
            .args(["report", "--from"])
            .arg(&from)
            .args(["--format", format])
            .assert()
            .success()
            .stdout(predicate::str::starts_with(start));
    }
}

/// Writes `text` as a report file and runs `args` on it.
fn run_on_bad_report(args: &[&str], text: &str) -> assert_cmd::assert::Assert {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    std::fs::write(&path, text).unwrap();
    hpc_advisor().args(args).arg(&path).assert()
}

/// The fixture with one change made to its JSON.
fn edited_fixture(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut value: serde_json::Value = serde_json::from_str(&fixture_text()).unwrap();
    edit(&mut value);
    value.to_string()
}

#[test]
fn bad_reports_are_refused_naming_what_is_wrong() {
    let cases: [(String, &str); 5] = [
        ("not json {".to_string(), "not valid JSON"),
        (
            edited_fixture(|v| v["schema_version"] = 99.into()),
            "`schema_version` is 99",
        ),
        (
            edited_fixture(|v| {
                v.as_object_mut().unwrap().remove("schema_version");
            }),
            "field `schema_version`",
        ),
        (
            edited_fixture(|v| {
                v["run"].as_object_mut().unwrap().remove("nx");
            }),
            "field `run.nx`",
        ),
        (
            edited_fixture(|v| v["recommendation"]["plan"]["steps"][0]["title"] = 3.into()),
            "field `recommendation.plan.steps[0].title`",
        ),
    ];
    for command in [["report", "--from"], ["advise", "--from"]] {
        for (text, message) in &cases {
            run_on_bad_report(&command, text)
                .code(1)
                .stdout("")
                .stderr(predicate::str::contains(*message))
                .stderr(predicate::str::contains("hint:"));
        }
    }
}

#[test]
fn a_missing_document_is_refused_naming_what_was_expected() {
    let missing = tempfile::tempdir().unwrap().path().join("missing.json");
    for (args, message, hint) in [
        (
            ["report", "--from"],
            "cannot read the report",
            "hint: give the report.json of a run folder",
        ),
        (
            ["advise", "--from"],
            "cannot read the report",
            "hint: give the report.json of a run folder",
        ),
        (
            ["advise", "--facts"],
            "cannot read the facts file",
            "hint: give an existing facts JSON file",
        ),
    ] {
        hpc_advisor()
            .args(args)
            .arg(&missing)
            .assert()
            .code(1)
            .stdout("")
            .stderr(predicate::str::contains(message))
            .stderr(predicate::str::contains(hint));
    }
}

#[test]
fn advise_from_a_report_recomputes_from_its_facts() {
    let from_report = hpc_advisor()
        .args(["advise", "--format", "json", "--from"])
        .arg(fixture_folder().join("report.json"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let recommendation: Recommendation = serde_json::from_slice(&from_report).unwrap();
    assert_eq!(recommendation, fixture().recommendation);
}

#[test]
fn advise_takes_exactly_one_input() {
    hpc_advisor().arg("advise").assert().failure();
    let from = fixture_folder().join("report.json");
    hpc_advisor()
        .args(["advise", "--facts"])
        .arg(&from)
        .arg("--from")
        .arg(&from)
        .assert()
        .failure()
        .stderr(predicate::str::contains("cannot be used with"));
}
