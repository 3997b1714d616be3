//! The advisor on fixture facts of six machines: the path through the tree and the top action of each,
//! the exclusion of untrusted results, the crossover bands, bad input, and the generated documentation.

use std::path::Path;

use assert_cmd::Command;
use hpc_advisor::advise::facts::Agreement;
use hpc_advisor::advise::tree::TREE;
use hpc_advisor::advise::{Answer, Fact, Facts, FactsError, Recommendation, advise, document};
use predicates::prelude::*;

fn fixture_path(name: &str) -> String {
    format!(
        "{}/tests/fixtures/facts/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn fixture(name: &str) -> Facts {
    let text = std::fs::read_to_string(fixture_path(name)).unwrap();
    Facts::from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// (node, branch) for each step; "?" for an unknown answer.
fn path(recommendation: &Recommendation) -> Vec<(&str, &str)> {
    recommendation
        .path
        .iter()
        .map(|step| match &step.answer {
            Answer::Decided { branch, .. } => (step.node.as_str(), branch.as_str()),
            Answer::Unknown { .. } => (step.node.as_str(), "?"),
        })
        .collect()
}

fn action_ids(recommendation: &Recommendation) -> Vec<&str> {
    recommendation
        .actions
        .iter()
        .map(|a| a.id.as_str())
        .collect()
}

/// The profiling and single-core steps every kernel fixture with a full profile shares.
const PROFILED: [(&str, &str); 4] = [
    ("profile.stability", "stable"),
    ("profile.algorithm", "as_expected"),
    ("profile.hotspot", "concentrated"),
    ("profile.memory", "allocates"),
];

fn expect_path(recommendation: &Recommendation, head: &[(&str, &str)], tail: &[(&str, &str)]) {
    let expected: Vec<(&str, &str)> = head.iter().chain(tail).copied().collect();
    assert_eq!(path(recommendation), expected);
}

#[test]
fn this_machine_threads_over_simd_on_two_cores() {
    let r = advise(&fixture("this-machine"));
    expect_path(
        &r,
        &PROFILED,
        &[
            ("profile.program", "?"),
            ("vector.single_core", "pays"),
            ("vector.lanes", "explicit_pays"),
            ("cores.usable", "several"),
            ("cores.split", "many"),
            ("cores.item_size", "batch"),
            ("cores.scaling", "scales"),
            ("gpu.present", "none"),
            ("nodes.saturated", "saturated"),
            ("nodes.scale_out", "one_node"),
            ("beyond.ceiling", "near_peak"),
        ],
    );
    assert_eq!(action_ids(&r), ["threads", "vectorise"]);
    let Fact::Known(gain) = &r.actions[0].gain else {
        panic!("the threads action has a measured gain")
    };
    assert!(
        gain.text.contains("`threads+simd`") && gain.text.contains("from 2 threads"),
        "{}",
        gain.text
    );
    assert!(
        (gain.over_naive - 300.0 / 1.3).abs() < 0.5,
        "{}",
        gain.over_naive
    );
    let Fact::Known(crossover) = &r.crossover else {
        panic!("overheads are known")
    };
    assert!((crossover.threads_min_item_seconds - 3.0e-4).abs() < 1e-12);
    assert!((crossover.processes_min_item_seconds - 0.12).abs() < 1e-12);
    assert_eq!(crossover.independent_runs_min_item_seconds, 60.0);
}

#[test]
fn sixty_four_cores_threads() {
    let r = advise(&fixture("node-64-cores"));
    expect_path(
        &r,
        &PROFILED,
        &[
            ("profile.program", "?"),
            ("vector.single_core", "pays"),
            ("vector.lanes", "explicit_pays"),
            ("cores.usable", "several"),
            ("cores.split", "many"),
            ("cores.item_size", "threads"),
            ("cores.scaling", "scales"),
            ("gpu.present", "none"),
            ("nodes.saturated", "saturated"),
            ("nodes.scale_out", "one_node"),
            ("beyond.ceiling", "room_left"),
        ],
    );
    assert_eq!(action_ids(&r), ["threads", "vectorise"]);
}

#[test]
fn gpu_node_offloads() {
    let r = advise(&fixture("gpu-node"));
    expect_path(
        &r,
        &PROFILED,
        &[
            ("profile.program", "?"),
            ("vector.single_core", "pays"),
            ("vector.lanes", "explicit_pays"),
            ("cores.usable", "several"),
            ("cores.split", "many"),
            ("cores.item_size", "threads"),
            ("cores.scaling", "scales"),
            ("gpu.present", "present"),
            ("gpu.offload", "pays"),
            ("nodes.saturated", "saturated"),
            ("nodes.scale_out", "one_node"),
            ("beyond.ceiling", "near_peak"),
        ],
    );
    assert_eq!(action_ids(&r), ["gpu", "threads", "vectorise"]);
    let Fact::Known(gain) = &r.actions[0].gain else {
        panic!("measured")
    };
    assert!(gain.text.contains("loses below 4M pairs"), "{}", gain.text);
}

#[test]
fn slurm_cluster_scales_out_with_mpi() {
    let r = advise(&fixture("slurm-cluster"));
    assert_eq!(
        path(&r),
        [
            ("profile.stability", "stable"),
            ("profile.algorithm", "as_expected"),
            ("profile.hotspot", "?"),
            ("profile.memory", "?"),
            ("profile.program", "?"),
            ("vector.single_core", "pays"),
            ("vector.lanes", "explicit_pays"),
            ("cores.usable", "several"),
            ("cores.split", "many"),
            ("cores.item_size", "threads"),
            ("cores.scaling", "scales"),
            ("gpu.present", "none"),
            ("nodes.saturated", "saturated"),
            ("nodes.scale_out", "mpi"),
            ("beyond.ceiling", "near_peak"),
        ]
    );
    assert_eq!(action_ids(&r), ["mpi", "threads", "vectorise"]);
    let step = r.path.iter().find(|s| s.node == "nodes.scale_out").unwrap();
    let Answer::Decided { text, .. } = &step.answer else {
        panic!("decided")
    };
    assert!(text.contains("launch 144 tasks with `srun`"), "{text}");
    let hotspot = r.path.iter().find(|s| s.node == "profile.hotspot").unwrap();
    assert_eq!(
        hotspot.answer,
        Answer::Unknown {
            because: "profile.hottest_share: the profile run was skipped: --budget too small"
                .into()
        }
    );
}

#[test]
fn one_core_container_vectorises_and_asks_for_cores() {
    let r = advise(&fixture("one-core-container"));
    expect_path(
        &r,
        &PROFILED,
        &[
            ("profile.program", "cpu_bound"),
            ("vector.single_core", "pays"),
            ("vector.lanes", "explicit_pays"),
            ("cores.usable", "one"),
            ("gpu.present", "none"),
            ("nodes.saturated", "saturated"),
            ("nodes.scale_out", "no_mpi"),
            ("beyond.ceiling", "near_peak"),
        ],
    );
    assert_eq!(action_ids(&r), ["vectorise", "request_cores"]);
    let cores = r.path.iter().find(|s| s.node == "cores.usable").unwrap();
    let Fact::Known(usable) = &cores.evidence[0].reading else {
        panic!("known")
    };
    assert!(
        usable.source.contains("cgroup v2 cpu.max quota"),
        "{}",
        usable.source
    );
    assert!(matches!(r.actions[1].gain, Fact::Unknown { .. }));
}

#[test]
fn aarch64_laptop_threads_without_the_failed_simd_variants() {
    let r = advise(&fixture("aarch64-laptop"));
    expect_path(
        &r,
        &PROFILED,
        &[
            ("profile.program", "?"),
            ("vector.single_core", "pays"),
            ("vector.lanes", "?"),
            ("cores.usable", "several"),
            ("cores.split", "many"),
            ("cores.item_size", "threads"),
            ("cores.scaling", "scales"),
            ("gpu.present", "none"),
            ("nodes.saturated", "saturated"),
            ("nodes.scale_out", "no_mpi"),
            ("beyond.ceiling", "room_left"),
        ],
    );
    assert_eq!(action_ids(&r), ["threads", "vectorise"]);
    let excluded: Vec<&str> = r
        .excluded_variants
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(excluded, ["simd", "threads+simd"]);
    let json =
        serde_json::to_string(&r.path).unwrap() + &serde_json::to_string(&r.actions).unwrap();
    assert!(
        !json.contains("`simd`") && !json.contains("`threads+simd`"),
        "a failed variant was used"
    );
}

#[test]
fn a_variant_that_fails_agreement_loses_its_place() {
    let mut facts = fixture("this-machine");
    for variant in &mut facts.measurements.variants {
        if variant.name == "threads+simd" {
            variant.agreement = Fact::Known(Agreement::Fail {
                reason: "checksum differs by 3e-3".into(),
            });
        }
    }
    let r = advise(&facts);
    assert_eq!(action_ids(&r), ["vectorise", "threads"]);
    let Fact::Known(gain) = &r.actions[1].gain else {
        panic!("measured")
    };
    assert!(gain.text.contains("`threads+fused`"), "{}", gain.text);
    assert_eq!(r.excluded_variants[0].name, "threads+simd");
}

#[test]
fn a_software_gpu_is_never_recommended() {
    let mut facts = fixture("gpu-node");
    if let Fact::Known(offload) = &mut facts.measurements.gpu_offload {
        offload.software = true;
    }
    let r = advise(&facts);
    assert!(path(&r).contains(&("gpu.offload", "software")));
    assert!(!action_ids(&r).contains(&"gpu"));
    let lavapipe_only = advise(&fixture("this-machine"));
    assert!(path(&lavapipe_only).contains(&("gpu.present", "none")));
}

#[test]
fn the_work_item_size_picks_the_mechanism() {
    let with_program = |wall_seconds: f64| {
        let mut facts = fixture("this-machine");
        let mut program = fixture("one-core-container").program;
        if let Fact::Known(p) = &mut program {
            p.wall_seconds = wall_seconds;
        }
        facts.program = program;
        let r = advise(&facts);
        let (_, branch) = *path(&r)
            .iter()
            .find(|(node, _)| *node == "cores.item_size")
            .unwrap();
        (
            branch.to_string(),
            action_ids(&r)
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
        )
    };
    let (branch, actions) = with_program(95.0);
    assert_eq!(branch, "independent_runs");
    assert!(actions.contains(&"independent_runs".to_string()));
    assert_eq!(with_program(2.0).0, "process_pool");
    assert_eq!(with_program(0.01).0, "threads");
    assert_eq!(with_program(1e-5).0, "batch");
}

#[test]
fn bad_input_names_the_problem() {
    assert!(matches!(
        Facts::from_json("{ not json"),
        Err(FactsError::NotJson(_))
    ));
    let text = std::fs::read_to_string(fixture_path("this-machine")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();

    value["schema_version"] = 99.into();
    let error = Facts::from_json(&value.to_string()).unwrap_err();
    assert!(
        matches!(error, FactsError::UnknownSchemaVersion { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("99"));

    value["schema_version"] = 1.into();
    value["machine"].as_object_mut().unwrap().remove("cores");
    let error = Facts::from_json(&value.to_string()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("field `machine.cores`: missing field"),
        "{error}"
    );

    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["machine"]["cores"]["known"]["usable"] = "two".into();
    let error = Facts::from_json(&value.to_string()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("field `machine.cores.known.usable`: invalid type"),
        "{error}"
    );

    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value.as_object_mut().unwrap().remove("schema_version");
    let error = Facts::from_json(&value.to_string()).unwrap_err();
    assert!(error.to_string().contains("`schema_version`"), "{error}");
}

#[test]
fn the_command_prints_the_advice_and_rejects_bad_files() {
    Command::cargo_bin("hpc-advisor")
        .unwrap()
        .args(["advise", "--facts", &fixture_path("this-machine")])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "1. Run the work items on a pool of threads [threads]",
        ))
        .stdout(predicate::str::contains(
            "cores.item_size  Which parallel mechanism",
        ));
    let output = Command::cargo_bin("hpc-advisor")
        .unwrap()
        .args([
            "advise",
            "--format",
            "json",
            "--facts",
            &fixture_path("gpu-node"),
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let parsed: Recommendation = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(parsed, advise(&fixture("gpu-node")));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    let text = std::fs::read_to_string(fixture_path("this-machine")).unwrap();
    std::fs::write(
        &bad,
        text.replace("\"f64_lanes\": 8", "\"f64_lanes\": \"eight\""),
    )
    .unwrap();
    Command::cargo_bin("hpc-advisor")
        .unwrap()
        .args(["advise", "--facts", bad.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "field `machine.simd.known.f64_lanes`",
        ))
        .stderr(predicate::str::contains("hint:"));
}

#[test]
fn the_decision_tree_document_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/decision-tree.md");
    let generated = document::markdown(&TREE);
    if std::env::var_os("HPC_ADVISOR_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/decision-tree.md is out of date: run `HPC_ADVISOR_BLESS=1 cargo test --test advise`"
    );
}
