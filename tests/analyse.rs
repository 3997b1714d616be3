//! `hpc-advisor analyse` end to end: the run folder, its report read back, the flamegraphs, the stages.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use hpc_advisor::bench::runner::Outcome;
use hpc_advisor::fact::Fact;
use hpc_advisor::report::{ArtefactKind, Report, StageOutcome};
use quick_xml::Reader;
use quick_xml::events::Event;

/// A small problem and a short budget keep each run to a few seconds.
const SMALL_QUICK_RUN: [&str; 10] = [
    "analyse", "--quick", "--budget", "6", "--nx", "24", "--ny", "24", "--nc", "24",
];

fn analyse(out: &Path) -> assert_cmd::assert::Assert {
    Command::cargo_bin("hpc-advisor")
        .unwrap()
        .args(SMALL_QUICK_RUN)
        .arg("--out")
        .arg(out)
        .assert()
}

fn run_folders(out: &Path) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    folders.sort();
    folders
}

/// Fails unless `path` is well-formed XML with an `svg` root element.
fn assert_svg(path: &Path) {
    let text = fs::read_to_string(path).unwrap();
    let mut reader = Reader::from_str(&text);
    let mut root = None;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Start(element)) if root.is_none() => {
                root = Some(String::from_utf8_lossy(element.name().as_ref()).into_owned());
            }
            Ok(_) => {}
            Err(e) => panic!("{} is not valid XML: {e}", path.display()),
        }
    }
    assert_eq!(root.as_deref(), Some("svg"), "{}", path.display());
}

#[test]
fn a_quick_analysis_writes_a_complete_run_folder_and_never_replaces_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reports");
    let first = analyse(&out).success();
    let stdout = String::from_utf8_lossy(&first.get_output().stdout).into_owned();
    let folders = run_folders(&out);
    assert_eq!(folders.len(), 1, "{folders:?}");
    let folder = &folders[0];
    assert!(stdout.contains(&folder.display().to_string()), "{stdout}");

    let report: Report =
        serde_json::from_str(&fs::read_to_string(folder.join("report.json")).unwrap()).unwrap();
    assert_eq!((report.run.nx, report.run.ny, report.run.nc), (24, 24, 24));
    assert!(report.run.quick);
    let names: Vec<&str> = report.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "detect", "bench", "python", "mpi", "gpu", "profile", "advise"
        ]
    );
    for stage in &report.stages {
        if let StageOutcome::Failed { error } = &stage.outcome {
            assert!(
                !error.is_empty(),
                "stage {} failed without a reason",
                stage.name
            );
        }
    }
    assert!(matches!(report.machine, Fact::Known(_)));
    let bench = report.bench.known().expect("the benchmark ran");
    let naive = bench.ladder.entry("naive").unwrap().result().unwrap();
    // The facts read the ladder's own pair count: the adapters took the measured value.
    assert_eq!(report.facts.problem.pairs, Fact::Known(naive.pairs));
    assert!(!report.recommendation.path.is_empty());

    // The Python ladder: every rung that ran agreed with the reference (its field was checked
    // before its timing counted); with the packages required (CI), every rung ran.
    match &report.python {
        Fact::Known(ladder) => {
            for rung in &ladder.rungs {
                match &rung.entry.outcome {
                    Outcome::Measured(result) => {
                        assert!(result.measurement.agreement.within_tolerance, "{rung:?}")
                    }
                    Outcome::Failed(failure) => {
                        panic!("{} failed: {failure:?}", rung.entry.variant)
                    }
                    Outcome::Skipped { reason, .. } => {
                        let required = if rung.entry.variant == "py-mpi4py" {
                            "HPC_REQUIRE_MPI4PY"
                        } else {
                            "HPC_REQUIRE_NUMBA"
                        };
                        assert!(
                            std::env::var_os(required).is_none(),
                            "{} skipped: {reason}",
                            rung.entry.variant
                        );
                    }
                }
            }
            assert!(ladder.rung("py-pure").unwrap().result().is_some());
        }
        Fact::Unknown(why) => assert!(
            std::env::var_os("HPC_REQUIRE_NUMBA").is_none(),
            "no Python ladder: {why}"
        ),
    }

    // The profile stage ran and drew the flamegraphs of naive, of the best one-core variant
    // and their differential.
    let profile_stage = report.stages.iter().find(|s| s.name == "profile").unwrap();
    assert!(
        matches!(profile_stage.outcome, StageOutcome::Completed),
        "{:?}",
        profile_stage.outcome
    );
    let profiles = report.profiles.known().expect("the profiles were taken");
    assert_eq!(
        profiles.profiles.len(),
        2,
        "naive and the best one-core variant"
    );
    assert_eq!(profiles.profiles[0].variant, "naive");
    assert!(profiles.differential.is_some());
    assert_eq!(report.flamegraphs().count(), 3, "{:?}", report.artefacts);
    assert!(
        report
            .flamegraphs()
            .any(|a| a.path == "flamegraphs/naive.svg")
    );

    // Every artefact is listed once and exists; the flamegraphs are well-formed SVG.
    for (index, artefact) in report.artefacts.iter().enumerate() {
        assert!(
            !report.artefacts[..index]
                .iter()
                .any(|a| a.path == artefact.path),
            "{} is listed twice",
            artefact.path
        );
        let path = folder.join(&artefact.path);
        assert!(path.is_file(), "{} is missing", artefact.path);
        if matches!(
            artefact.kind,
            ArtefactKind::Flamegraph | ArtefactKind::DifferentialFlamegraph
        ) {
            assert!(
                artefact.path.starts_with("flamegraphs/"),
                "{}",
                artefact.path
            );
            assert_svg(&path);
        }
    }

    analyse(&out).success();
    let after = run_folders(&out);
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(
        after.contains(folder),
        "the first run folder is still there"
    );
    let again: Report =
        serde_json::from_str(&fs::read_to_string(folder.join("report.json")).unwrap()).unwrap();
    assert_eq!(again, report, "the first run folder was not touched");
}

#[test]
fn an_unwritable_output_folder_is_refused_before_measuring() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    fs::write(&blocker, "not a folder").unwrap();
    let assert = Command::cargo_bin("hpc-advisor")
        .unwrap()
        .args(["analyse", "--quick", "--out"])
        .arg(blocker.join("reports"))
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("cannot write into"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_budget_that_is_not_a_positive_number_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let assert = Command::cargo_bin("hpc-advisor")
        .unwrap()
        .args(["analyse", "--budget", "0", "--out"])
        .arg(dir.path())
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("--budget must be a positive number"),
        "{stderr}"
    );
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}
