//! The advisor on fixture facts of six machines: the path through the tree and the plan of each,
//! the exclusion of untrusted results, the crossover bands, bad input, and the generated documentation.

use std::path::Path;

use assert_cmd::Command;
use hpc_advisor::advise::facts::Agreement;
use hpc_advisor::advise::tree::TREE;
use hpc_advisor::advise::{Answer, Fact, Facts, Recommendation, Step, advise, document};
use hpc_advisor::versioned_json::DocumentError;
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

/// "node=branch" for each step, space-separated; "node=?" for an unknown answer.
fn path(recommendation: &Recommendation) -> String {
    let steps: Vec<String> = recommendation
        .path
        .iter()
        .map(|step| match &step.answer {
            Answer::Decided { branch, .. } => format!("{}={branch}", step.node),
            Answer::Unknown { .. } => format!("{}=?", step.node),
        })
        .collect();
    steps.join(" ")
}

fn plan_ids(recommendation: &Recommendation) -> Vec<&str> {
    recommendation
        .plan
        .steps
        .iter()
        .map(|s| s.option.as_str())
        .collect()
}

fn step<'a>(recommendation: &'a Recommendation, node: &str) -> &'a Step {
    recommendation.path.iter().find(|s| s.node == node).unwrap()
}

fn decided_text(step: &Step) -> &str {
    match &step.answer {
        Answer::Decided { text, .. } => text,
        Answer::Unknown { because } => panic!("{} is unknown: {because}", step.node),
    }
}

/// The steps every fixture with a full profile and no program of its own starts with.
const PROFILED: &str = "profile.stability=stable profile.algorithm=as_expected \
    profile.hotspot=concentrated profile.memory=allocates profile.program=?";

/// Each fixture machine: its path through the tree and its plan, in the tree's order.
const MACHINES: [(&str, &str, &[&str]); 6] = [
    (
        "this-machine",
        "vector.single_core=pays vector.lanes=explicit_pays cores.usable=several cores.split=many \
         cores.item_size=batch cores.scaling=scales gpu.present=none nodes.saturated=saturated \
         nodes.scale_out=one_node beyond.ceiling=near_peak",
        &["vectorise", "explicit_simd", "threads"],
    ),
    (
        "node-64-cores",
        "vector.single_core=pays vector.lanes=explicit_pays cores.usable=several cores.split=many \
         cores.item_size=threads cores.scaling=scales gpu.present=none nodes.saturated=saturated \
         nodes.scale_out=one_node beyond.ceiling=room_left",
        &["vectorise", "explicit_simd", "threads"],
    ),
    (
        "gpu-node",
        "vector.single_core=pays vector.lanes=explicit_pays cores.usable=several cores.split=many \
         cores.item_size=threads cores.scaling=scales gpu.present=present gpu.offload=pays \
         nodes.saturated=saturated nodes.scale_out=one_node beyond.ceiling=near_peak",
        &["vectorise", "explicit_simd", "threads", "gpu"],
    ),
    (
        "slurm-cluster",
        "vector.single_core=pays vector.lanes=explicit_pays cores.usable=several cores.split=many \
         cores.item_size=threads cores.scaling=scales gpu.present=none nodes.saturated=saturated \
         nodes.scale_out=mpi beyond.ceiling=near_peak",
        &["vectorise", "explicit_simd", "threads", "mpi"],
    ),
    (
        "one-core-container",
        "vector.single_core=pays vector.lanes=explicit_pays cores.usable=one gpu.present=none \
         nodes.saturated=saturated nodes.scale_out=no_mpi beyond.ceiling=near_peak",
        &["vectorise", "explicit_simd", "request_cores"],
    ),
    (
        "aarch64-laptop",
        "vector.single_core=pays vector.lanes=? cores.usable=several cores.split=many \
         cores.item_size=threads cores.scaling=scales gpu.present=none nodes.saturated=saturated \
         nodes.scale_out=no_mpi beyond.ceiling=room_left",
        &["vectorise", "threads"],
    ),
];

#[test]
fn every_machine_gets_its_path_and_plan() {
    for (name, tail, actions) in MACHINES {
        let r = advise(&fixture(name));
        let profile = match name {
            // The cluster's profile run was skipped and the container profiled a program.
            "slurm-cluster" => PROFILED
                .replace("profile.hotspot=concentrated", "profile.hotspot=?")
                .replace("profile.memory=allocates", "profile.memory=?"),
            "one-core-container" => {
                PROFILED.replace("profile.program=?", "profile.program=cpu_bound")
            }
            _ => PROFILED.to_string(),
        };
        assert_eq!(path(&r), format!("{profile} {tail}"), "{name}");
        assert_eq!(plan_ids(&r), actions, "{name}");
    }
}

#[test]
fn this_machine_threads_over_simd_on_two_cores() {
    let r = advise(&fixture("this-machine"));
    let threads = &r.plan.steps[2];
    let Fact::Known(gain) = &threads.gain else {
        panic!("the threads step has a measured gain")
    };
    // threads+simd (230.769x over naive) over simd (120x): what the threads add, not the whole.
    assert_eq!(gain.measured_as, "`threads+simd` over `simd`, 2 workers");
    assert!(
        (gain.times - 230.769 / 120.0).abs() < 1e-9,
        "{}",
        gain.times
    );
    assert!((threads.running_total - 230.769).abs() < 1e-6);
    let Fact::Known(crossover) = &r.crossover else {
        panic!("overheads are known")
    };
    assert!((crossover.threads_min_item_seconds - 3.0e-4).abs() < 1e-12);
    assert!((crossover.processes_min_item_seconds - 0.12).abs() < 1e-12);
    assert_eq!(crossover.independent_runs_min_item_seconds, 60.0);
    assert!(
        decided_text(step(&r, "cores.item_size")).contains("items of 37.7 µs are under 300 µs")
    );
}

#[test]
fn gpu_node_reports_the_crossover_size() {
    let r = advise(&fixture("gpu-node"));
    let Fact::Known(gain) = &r.plan.steps[3].gain else {
        panic!("measured")
    };
    assert!(
        gain.measured_as.contains("loses below 4M pairs"),
        "{}",
        gain.measured_as
    );
}

#[test]
fn slurm_cluster_names_the_launcher_and_the_missing_profile() {
    let r = advise(&fixture("slurm-cluster"));
    let text = decided_text(step(&r, "nodes.scale_out"));
    assert!(text.contains("launch 144 tasks with `srun`"), "{text}");
    assert_eq!(
        step(&r, "profile.hotspot").answer,
        Answer::Unknown {
            because: "profile.hottest_share: the profile run was skipped: --budget too small"
                .into()
        }
    );
}

#[test]
fn one_core_container_names_the_binding_limit() {
    let r = advise(&fixture("one-core-container"));
    let Fact::Known(usable) = &step(&r, "cores.usable").evidence[0].reading else {
        panic!("known")
    };
    assert!(
        usable.source.contains("cgroup v2 cpu.max quota"),
        "{}",
        usable.source
    );
    let request = &r.plan.steps[2];
    assert_eq!(request.option, "request_cores");
    assert!(matches!(request.gain, Fact::Unknown(_)));
}

#[test]
fn aarch64_laptop_leaves_out_the_failed_simd_variants() {
    let r = advise(&fixture("aarch64-laptop"));
    let excluded: Vec<&str> = r
        .excluded_variants
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(excluded, ["simd", "threads+simd"]);
    let json =
        serde_json::to_string(&r.path).unwrap() + &serde_json::to_string(&r.plan.steps).unwrap();
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
    assert_eq!(plan_ids(&r), ["vectorise", "explicit_simd", "threads"]);
    assert_eq!(
        step(&r, "cores.scaling").answer,
        Answer::Unknown {
            because: "scaling.efficiency: `threads+simd`, on which it was measured, did not pass the agreement check".into()
        },
        "the scaling was measured on the failed variant"
    );
    let Fact::Known(gain) = &r.plan.steps[2].gain else {
        panic!("measured")
    };
    // No threaded variant of the simd kernel passed: the threads' own gain comes from the
    // fused kernel's pair, the same mechanism on another loop.
    assert_eq!(gain.measured_as, "`threads+fused` over `fused`, 2 workers");
    assert_eq!(r.excluded_variants[0].name, "threads+simd");
}

#[test]
fn a_software_gpu_is_never_recommended() {
    let mut facts = fixture("gpu-node");
    if let Fact::Known(offload) = &mut facts.measurements.gpu_offload {
        offload.software = true;
    }
    let r = advise(&facts);
    assert!(path(&r).contains("gpu.offload=software"), "{}", path(&r));
    assert!(!plan_ids(&r).contains(&"gpu"));
    let lavapipe_only = advise(&fixture("this-machine"));
    assert!(path(&lavapipe_only).contains("gpu.present=none"));
}

#[test]
fn the_work_item_size_picks_the_mechanism() {
    // Items of a given size: every variant slowed alike, so the speedups stay and only
    // the fastest one-core time over the 129 items (the work item) changes.
    let with_item_seconds = |item_seconds: f64| {
        let mut facts = fixture("this-machine");
        let simd_seconds = 0.00486112;
        let scale = item_seconds * 129.0 / simd_seconds;
        for variant in &mut facts.measurements.variants {
            variant.median_seconds *= scale;
        }
        let r = advise(&facts);
        let branch = match &step(&r, "cores.item_size").answer {
            Answer::Decided { branch, .. } => branch.clone(),
            Answer::Unknown { because } => panic!("unknown: {because}"),
        };
        let plan: Vec<String> = plan_ids(&r).iter().map(|s| s.to_string()).collect();
        (branch, plan)
    };
    let (branch, plan) = with_item_seconds(95.0);
    assert_eq!(branch, "independent_runs");
    // The processes variant (naive kernel, 2 workers, 1.9x over naive) measures the mechanism.
    assert_eq!(plan, ["vectorise", "explicit_simd", "independent_runs"]);
    let (branch, plan) = with_item_seconds(2.0);
    assert_eq!(branch, "process_pool");
    assert_eq!(plan, ["vectorise", "explicit_simd", "process_pool"]);
    assert_eq!(with_item_seconds(0.01).0, "threads");
    assert_eq!(with_item_seconds(1e-5).0, "batch");
}

#[test]
fn a_program_of_its_own_does_not_set_the_work_item_size() {
    let mut facts = fixture("this-machine");
    facts.program = fixture("one-core-container").program;
    let r = advise(&facts);
    let Fact::Known(item) = &step(&r, "cores.item_size").evidence[0].reading else {
        panic!("the kernel's item time is known")
    };
    assert!(
        item.source.contains("`simd` time over 129 items"),
        "{}",
        item.source
    );
}

#[test]
fn bad_input_names_the_problem() {
    assert!(matches!(
        Facts::from_json("{ not json"),
        Err(DocumentError::NotJson(_))
    ));
    let text = std::fs::read_to_string(fixture_path("this-machine")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();

    value["schema_version"] = 99.into();
    let error = Facts::from_json(&value.to_string()).unwrap_err();
    assert!(
        matches!(error, DocumentError::UnknownSchemaVersion { .. }),
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
        .stdout(predicate::str::starts_with(
            "On this machine: compile and vectorise the hot loop first (4.92x measured), then write it with explicit SIMD (24.4x more), then use the cores with threads (1.92x more): 231x over the naive loop in all.",
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

#[test]
fn markdown_lists_every_step_and_the_exclusions() {
    let r = advise(&fixture("aarch64-laptop"));
    let markdown = hpc_advisor::advise::render::markdown(&r);
    let rows = markdown.lines().filter(|l| l.starts_with("| `")).count();
    assert_eq!(rows, r.path.len());
    assert!(
        markdown.contains("| 2 | **Run the work items on a pool of threads** (`threads`) | 6.35x")
    );
    assert!(markdown.contains("- `simd`: failed the agreement check"));
    assert!(markdown.contains("| `vector.lanes` | Is the hot loop using the machine's SIMD lanes? | unknown: speedup.simd_over_scalar: no one-core SIMD variant was measured and passed the agreement check |"));
}
