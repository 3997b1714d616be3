//! `hpc-advisor compare`: runs side by side and the regression gate, on the real run of
//! `tests/fixtures/report/` and copies of it changed where each test says so.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use hpc_advisor::advise::advise;
use hpc_advisor::advise::facts::{Gpu, GpuOffload};
use hpc_advisor::bench::runner::Outcome;
use hpc_advisor::compare::significance::{Rule, Verdict};
use hpc_advisor::compare::{Comparison, LoadedRun};
use hpc_advisor::fact::Fact;
use hpc_advisor::report::Report;
use predicates::prelude::*;

fn fixture_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report")
}

fn fixture() -> Report {
    Report::from_json(&fs::read_to_string(fixture_folder().join("report.json")).unwrap()).unwrap()
}

/// Writes `report` as a run folder under `dir` (with the fixture's flamegraphs) and returns it.
fn run_folder(dir: &Path, name: &str, report: &Report) -> PathBuf {
    let folder = dir.join(name);
    fs::create_dir_all(folder.join("flamegraphs")).unwrap();
    for entry in fs::read_dir(fixture_folder().join("flamegraphs")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(
            entry.path(),
            folder.join("flamegraphs").join(entry.file_name()),
        )
        .unwrap();
    }
    fs::write(
        folder.join("report.json"),
        serde_json::to_string_pretty(report).unwrap(),
    )
    .unwrap();
    folder
}

/// Every timing of `variant` (samples, median, interval, ns per pair) times `factor`.
fn slow_down(report: &mut Report, variant: &str, factor: f64) {
    let bench = match &mut report.bench {
        Fact::Known(bench) => bench,
        Fact::Unknown(_) => panic!("the fixture has a bench"),
    };
    let entry = bench
        .ladder
        .entries
        .iter_mut()
        .find(|e| e.variant == variant)
        .unwrap();
    let Outcome::Measured(result) = &mut entry.outcome else {
        panic!("{variant} was measured in the fixture")
    };
    let summary = &mut result.measurement.wall_seconds;
    for sample in &mut summary.samples {
        *sample *= factor;
    }
    summary.median *= factor;
    if let Some(interval) = &mut summary.median_interval {
        interval.low *= factor;
        interval.high *= factor;
    }
    result.ns_per_pair *= factor;
}

fn compare(runs: Vec<Report>) -> Comparison {
    let loaded: Vec<LoadedRun> = runs
        .into_iter()
        .enumerate()
        .map(|(i, report)| LoadedRun {
            path: format!("run{i}"),
            report,
        })
        .collect();
    Comparison::build(&loaded).unwrap()
}

fn hpc_advisor() -> Command {
    Command::cargo_bin("hpc-advisor").unwrap()
}

#[test]
fn a_run_against_itself_differs_in_nothing() {
    let comparison = compare(vec![fixture(), fixture()]);
    for row in comparison.ladder.iter().chain(&comparison.python_ladder) {
        if let Some(Fact::Known(d)) = row.against_first.first() {
            assert!((d.ratio - 1.0).abs() < 1e-12, "{}", row.variant);
            assert!(
                matches!(
                    d.verdict,
                    Verdict::NoSignificantDifference | Verdict::TooFewRuns
                ),
                "{}: {d:?}",
                row.variant
            );
        }
    }
    assert!(comparison.diverging.is_empty());
    assert!(comparison.machine.iter().all(|row| !row.differs));
    assert!(comparison.rescaled.is_none());
    let best = comparison.best.known().unwrap();
    assert!(
        best.contains("`threads+simd`") && best.contains("as fast as B"),
        "{best}"
    );
}

#[test]
fn a_thirty_percent_slowdown_is_significant_and_fails_the_gate() {
    let mut slower = fixture();
    // The fixture's simd has 35 runs: the rank test decides.
    slow_down(&mut slower, "simd", 1.3);
    let comparison = compare(vec![fixture(), slower]);
    let simd = comparison
        .ladder
        .iter()
        .find(|r| r.variant == "simd")
        .unwrap();
    let Fact::Known(difference) = &simd.against_first[0] else {
        panic!("simd compared")
    };
    assert!((difference.ratio - 1.3).abs() < 1e-9);
    assert_eq!(
        (difference.verdict, difference.rule),
        (Verdict::Slower, Rule::RankTest)
    );
    assert!(difference.p_value.unwrap() < 1e-6);
    // The unchanged variants are not flagged; only simd regressed beyond 5 %.
    let gate = comparison.gate(0.05);
    assert_eq!(gate.regressed.len(), 1, "{gate:?}");
    assert_eq!(gate.regressed[0].variant, "simd");
    assert!(comparison.gate(0.4).regressed.is_empty());
}

#[test]
fn the_gate_exit_code_follows_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let old = run_folder(dir.path(), "old", &fixture());
    let mut slower = fixture();
    slow_down(&mut slower, "simd", 1.3);
    let new = run_folder(dir.path(), "new", &slower);
    hpc_advisor()
        .arg("compare")
        .arg("--baseline")
        .arg(&old)
        .arg(&new)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("REGRESSED"))
        .stderr(predicate::str::contains("simd 1.30x"));
    hpc_advisor()
        .args(["compare", "--fail-above", "40%", "--baseline"])
        .arg(&old)
        .arg(&new)
        .assert()
        .success()
        .stdout(predicate::str::contains("No variant of B is slower"));
    hpc_advisor()
        .arg("compare")
        .arg("--baseline")
        .arg(&old)
        .arg(&old)
        .assert()
        .success();
    hpc_advisor()
        .args(["compare", "--fail-above", "fast", "--baseline"])
        .arg(&old)
        .arg(&new)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--fail-above `fast`"));
}

/// The fixture run as if on a node with a hardware GPU on which the gpu variant ran 40x
/// faster than on the fixture's software renderer: the facts changed, the advice re-walked.
fn gpu_node() -> Report {
    let mut report = fixture();
    slow_down(&mut report, "gpu", 1.0 / 40.0);
    report.host = "gpu-node".into();
    let facts = &mut report.facts;
    facts.machine.gpus = Fact::Known(vec![Gpu {
        vendor: "NVIDIA".into(),
        model: "A100-SXM4-40GB".into(),
        software: false,
    }]);
    for variant in &mut facts.measurements.variants {
        if variant.name == "gpu" {
            variant.median_seconds /= 40.0;
            variant.ns_per_pair /= 40.0;
            variant.median_interval_seconds = variant
                .median_interval_seconds
                .clone()
                .map(|[low, high]| [low / 40.0, high / 40.0]);
            variant.speedup_over_naive = variant.speedup_over_naive.clone().map(|mut s| {
                s.estimate *= 40.0;
                s.interval = s.interval.map(|[low, high]| [low * 40.0, high * 40.0]);
                s
            });
        }
    }
    let offload = facts.measurements.gpu_offload.clone();
    facts.measurements.gpu_offload = offload.map(|o| GpuOffload {
        software: false,
        device: "NVIDIA A100-SXM4-40GB".into(),
        seconds_with_transfers: o.seconds_with_transfers / 40.0,
        ..o
    });
    report.recommendation = advise(&report.facts);
    report
}

#[test]
fn a_gpu_node_parts_from_this_machine_at_the_gpu_node_and_wins() {
    let comparison = compare(vec![fixture(), gpu_node()]);
    let gpus = comparison
        .machine
        .iter()
        .find(|r| r.fact == "GPUs")
        .unwrap();
    assert!(gpus.differs);
    assert!(gpus.values[1].contains("A100"), "{:?}", gpus.values);
    let present = comparison
        .diverging
        .iter()
        .find(|d| d.node == "gpu.present")
        .unwrap_or_else(|| panic!("gpu.present does not diverge: {:?}", comparison.diverging));
    assert_eq!(present.branches[0], "none");
    assert_ne!(present.branches[1], "none");
    // The gpu variant on B is 40x faster per pair than on A, beyond noise.
    let gpu = comparison
        .ladder
        .iter()
        .find(|r| r.variant == "gpu")
        .unwrap();
    let Fact::Known(difference) = &gpu.against_first[0] else {
        panic!()
    };
    assert!((difference.ratio - 1.0 / 40.0).abs() < 1e-9);
    // gpu at 13.9 / 40 = 0.35 ns per pair beats threads+simd at 1.21: B is the better machine.
    let best = comparison.best.known().unwrap();
    assert!(
        best.starts_with("Best for this work: B on gpu-node (`gpu`"),
        "{best}"
    );
    assert!(comparison.advice[1].options.contains(&"gpu".to_string()));
    assert!(!comparison.advice[0].options.contains(&"gpu".to_string()));
}

#[test]
fn runs_of_other_sizes_compare_per_pair_and_other_problems_are_refused() {
    let mut smaller = fixture();
    (smaller.run.nx, smaller.run.ny, smaller.run.nc) = (64, 64, 64);
    let comparison = compare(vec![fixture(), smaller]);
    let rescaled = comparison.rescaled.unwrap();
    assert!(rescaled.contains("A 128x128x128, B 64x64x64"), "{rescaled}");

    let dir = tempfile::tempdir().unwrap();
    let mut circle = fixture();
    circle.run.contour = "circle".into();
    let a = run_folder(dir.path(), "a", &fixture());
    let b = run_folder(dir.path(), "b", &circle);
    let out = dir.path().join("out");
    hpc_advisor()
        .arg("compare")
        .arg(&a)
        .arg(&b)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "different problems (contour: `default` against `circle`)",
        ));
    assert!(!out.exists(), "nothing is written for refused runs");
}

#[test]
fn bad_inputs_are_refused_with_the_file_and_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let good = run_folder(dir.path(), "good", &fixture());
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let text = fs::read_to_string(good.join("report.json")).unwrap();
    let future = dir.path().join("future.json");
    fs::write(
        &future,
        text.replacen("\"schema_version\": 4", "\"schema_version\": 99", 1),
    )
    .unwrap();
    let truncated = dir.path().join("truncated.json");
    fs::write(&truncated, &text[..text.len() / 2]).unwrap();
    let out = dir.path().join("out");
    for (bad, says) in [
        (&empty, "has no report.json"),
        (&future, "`schema_version` is 99"),
        (&truncated, "truncated.json"),
    ] {
        hpc_advisor()
            .arg("compare")
            .arg(&good)
            .arg(bad)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(1)
            .stdout("")
            .stderr(predicate::str::contains(says));
        assert!(!out.exists(), "{}: nothing is written", bad.display());
    }
    hpc_advisor()
        .arg("compare")
        .arg(&good)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("two or more runs"));
}

#[test]
fn out_writes_every_format_and_a_differential_flamegraph_per_shared_profile() {
    let dir = tempfile::tempdir().unwrap();
    let a = run_folder(dir.path(), "a", &fixture());
    let b = run_folder(dir.path(), "b", &gpu_node());
    let out = dir.path().join("out");
    for format in ["terminal", "md", "json", "html"] {
        hpc_advisor()
            .arg("compare")
            .arg(&a)
            .arg(&b)
            .args(["--format", format])
            .assert()
            .success();
    }
    for _ in 0..2 {
        hpc_advisor()
            .arg("compare")
            .arg(&a)
            .arg(&b)
            .arg("--out")
            .arg(&out)
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "Where the paths through the tree part",
            ));
    }
    let folders: Vec<PathBuf> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        folders.len(),
        2,
        "a second comparison never replaces the first: {folders:?}"
    );
    let folder = &folders[0];
    for file in [
        "comparison.json",
        "comparison.md",
        "comparison.html",
        "flamegraphs/diff-naive-B-vs-A.svg",
        "flamegraphs/diff-simd-B-vs-A.svg",
    ] {
        assert!(
            folder.join(file).is_file(),
            "{file} missing in {}",
            folder.display()
        );
    }
    let html = fs::read_to_string(folder.join("comparison.html")).unwrap();
    assert!(html.contains("id=\"ladder-chart\"") && html.contains("class=\"differs\""));
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(folder.join("comparison.json")).unwrap()).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["runs"][1]["host"], "gpu-node");
}
