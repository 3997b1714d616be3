//! The plan on fixture machines written from the decision tree applied by hand: each step's own gain,
//! the tree's order, the ruled-out options with their reasons, the confidence, and the properties every
//! plan keeps (gains multiply to the total, no parallel gain beyond its cores, every option in one list).

use hpc_advisor::advise::plan::{ConfidenceLevel, RuledOutWhy, options};
use hpc_advisor::advise::tree::{Level, TREE};
use hpc_advisor::advise::{Fact, Facts, Plan, Recommendation, advise};

const FIXTURES: [&str; 10] = [
    "this-machine",
    "node-64-cores",
    "gpu-node",
    "slurm-cluster",
    "one-core-container",
    "aarch64-laptop",
    "quadratic-growth",
    "io-bound-program",
    "noisy-laptop",
    "node-40-cores",
];

fn fixture(name: &str) -> Facts {
    let path = format!(
        "{}/tests/fixtures/facts/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    Facts::from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn ids(plan: &Plan) -> Vec<&str> {
    plan.steps.iter().map(|s| s.option.as_str()).collect()
}

/// The gain of step `option`, which must be measured.
fn gain(plan: &Plan, option: &str) -> f64 {
    let step = plan.steps.iter().find(|s| s.option == option).unwrap();
    match &step.gain {
        Fact::Known(gain) => gain.times,
        Fact::Unknown(because) => panic!("{option}: not measured: {because}"),
    }
}

fn ruled_out<'a>(plan: &'a Plan, option: &str) -> &'a hpc_advisor::advise::RuledOut {
    plan.ruled_out
        .iter()
        .find(|r| r.option == option)
        .unwrap_or_else(|| panic!("{option} is not ruled out"))
}

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= 1e-3 * expected.abs()
}

/// The speedup over naive of `variant` as the fixture states it.
fn ladder_speedup(facts: &Facts, variant: &str) -> f64 {
    let v = facts
        .measurements
        .variants
        .iter()
        .find(|v| v.name == variant)
        .unwrap();
    v.speedup_over_naive.known().unwrap().estimate
}

#[test]
fn an_accidentally_quadratic_kernel_fixes_the_algorithm_first() {
    // profile.algorithm: 2.04 > 1 + 0.25, so `too_steep` calls for fix_algorithm, a
    // prerequisite level: before every vector and core step, whatever their gains.
    let r = advise(&fixture("quadratic-growth"));
    let plan = &r.plan;
    assert_eq!(
        ids(plan),
        ["fix_algorithm", "vectorise", "explicit_simd", "threads"]
    );
    assert!(matches!(plan.steps[0].gain, Fact::Unknown(_)));
    assert!(
        plan.verdict
            .starts_with("On this machine: fix the algorithm first"),
        "{}",
        plan.verdict
    );
    assert_eq!(plan.steps[0].running_total, 1.0);
}

#[test]
fn an_io_bound_program_deals_with_the_io_first() {
    // profile.program: io_bound, so overlap_io comes before vectors and cores; the
    // program's 42 s wall time is not one work item, so the kernel's items still pick threads.
    let r = advise(&fixture("io-bound-program"));
    assert_eq!(
        ids(&r.plan),
        ["overlap_io", "vectorise", "explicit_simd", "threads"]
    );
    assert_eq!(r.plan.steps[0].level, Level::Io);
    assert!(
        r.plan
            .verdict
            .starts_with("On this machine: overlap or reduce the input and output first"),
        "{}",
        r.plan.verdict
    );
    assert!(
        r.plan.ruled_out.iter().all(|o| o.option != "process_pool"
            || o.reason.contains("Work-item size: threads over batches"))
    );
}

#[test]
fn a_noisy_machine_fixes_the_measurement_first_with_low_confidence() {
    // Spread 18% > 5%: fix_measurement first. fused 4.8x [3.9, 5.8] over naive is a step;
    // simd over fused is 6.0/4.8 = 1.25x, under 1.5x, so vector.lanes answers `already` and
    // calls for no explicit SIMD; threads+fused over fused is 8.0/4.8 = 1.67x, but its
    // interval [5.5/5.8, 11.0/3.9] = [0.95x, 2.82x] reaches 1: within noise, not a step.
    let r = advise(&fixture("noisy-laptop"));
    let plan = &r.plan;
    assert_eq!(ids(plan), ["fix_measurement", "vectorise"]);
    assert!(close(gain(plan, "vectorise"), 4.8));
    assert!(close(plan.total, 4.8));

    let threads = ruled_out(plan, "threads");
    assert_eq!(threads.why, RuledOutWhy::WithinNoise);
    assert!(threads.reason.contains("1.67x"), "{}", threads.reason);
    assert!(
        threads.reason.contains("interval 0.95x-2.82x"),
        "{}",
        threads.reason
    );

    let simd = ruled_out(plan, "explicit_simd");
    assert_eq!(simd.why, RuledOutWhy::NotCalledFor);
    assert!(
        simd.reason.contains("explicit SIMD adds only 1.25x"),
        "{}",
        simd.reason
    );

    assert_eq!(plan.confidence.level, ConfidenceLevel::Low);
    assert!(plan.confidence.reasons[0].contains("18%"));
    assert!(
        plan.confidence
            .reasons
            .iter()
            .any(|r| r.contains("`threads` is within noise"))
    );
    assert!(
        plan.verdict
            .starts_with("Low confidence: repeated runs spread by 18%")
    );
    assert!(
        plan.confidence
            .remedy
            .as_deref()
            .unwrap()
            .contains("quiet machine")
    );
}

#[test]
fn a_machine_whose_simd_fails_agreement_has_no_simd_step() {
    // simd and threads+simd failed agreement: vectorise is fused (4.5x), threads are
    // threads+fused over fused (28.571/4.5 = 6.35x), and the total is the best passing variant.
    let facts = fixture("aarch64-laptop");
    let r = advise(&facts);
    assert_eq!(ids(&r.plan), ["vectorise", "threads"]);
    assert!(close(gain(&r.plan, "vectorise"), 4.5));
    assert!(close(gain(&r.plan, "threads"), 28.571 / 4.5));
    assert!(close(r.plan.total, ladder_speedup(&facts, "threads+fused")));
    let simd = ruled_out(&r.plan, "explicit_simd");
    assert!(
        simd.reason.starts_with("failed the agreement check")
            && simd
                .reason
                .contains("`simd`: max relative difference 3.2e-4"),
        "{}",
        simd.reason
    );
    assert!(
        !serde_json::to_string(&r.plan.steps)
            .unwrap()
            .contains("simd`")
    );
}

#[test]
fn a_many_core_node_credits_threads_with_their_own_30x() {
    // threads+simd 3300x over simd 110x: 30x from 40 threads, not 3300x.
    let facts = fixture("node-40-cores");
    let r = advise(&facts);
    assert_eq!(ids(&r.plan), ["vectorise", "explicit_simd", "threads"]);
    assert!(close(gain(&r.plan, "vectorise"), 5.0));
    assert!(close(gain(&r.plan, "explicit_simd"), 22.0));
    assert!(close(gain(&r.plan, "threads"), 30.0));
    assert!(close(r.plan.total, 3300.0));
    let pool = ruled_out(&r.plan, "process_pool");
    assert!(
        pool.reason.contains("threads over batches"),
        "{}",
        pool.reason
    );
    assert!(
        ruled_out(&r.plan, "gpu")
            .reason
            .contains("no: 0 GPUs in hardware")
    );
    // 40 threads on 40 usable cores at 75% efficiency saturate the node; no MPI is installed.
    assert!(
        ruled_out(&r.plan, "mpi")
            .reason
            .starts_with("Several nodes: not with MPI: none launches here"),
        "{}",
        ruled_out(&r.plan, "mpi").reason
    );
}

#[test]
fn a_parallel_gain_beyond_its_cores_is_capped_and_says_so() {
    let mut facts = fixture("node-40-cores");
    for variant in &mut facts.measurements.variants {
        if variant.name == "threads+simd" {
            if let Fact::Known(speedup) = &mut variant.speedup_over_naive {
                // 6600x over simd's 110x: 60x from 40 cores.
                speedup.estimate = 6600.0;
                speedup.interval = Fact::Known([6400.0, 6800.0]);
            }
            variant.median_seconds = 30.0 / 6600.0;
        }
    }
    let r = advise(&facts);
    let step = r.plan.steps.iter().find(|s| s.option == "threads").unwrap();
    let Fact::Known(gain) = &step.gain else {
        panic!("measured")
    };
    assert_eq!(gain.times, 40.0);
    assert!(
        gain.capped
            .as_deref()
            .unwrap()
            .contains("measured 60x, more than 40 usable cores can give"),
        "{:?}",
        gain.capped
    );
}

#[test]
fn a_gpu_node_credits_the_gpu_over_the_best_cpu_variant() {
    // threads+simd 0.0244 s against the A100's 0.006 s with transfers: 4.07x, on top
    // of the CPU plan's 1400x; the total is naive over the GPU, 34.16 / 0.006.
    let r = advise(&fixture("gpu-node"));
    assert_eq!(
        ids(&r.plan),
        ["vectorise", "explicit_simd", "threads", "gpu"]
    );
    assert!(close(gain(&r.plan, "gpu"), 0.0244 / 0.006));
    assert!(close(r.plan.total, 34.16 / 0.006));
    let gpu = r.plan.steps.iter().find(|s| s.option == "gpu").unwrap();
    let Fact::Known(gpu_gain) = &gpu.gain else {
        panic!("measured")
    };
    assert!(
        gpu_gain
            .measured_as
            .starts_with("`gpu` on NVIDIA A100-SXM4-40GB with transfers over `threads+simd`"),
        "{}",
        gpu_gain.measured_as
    );
}

#[test]
fn this_machine_rules_out_the_software_gpu_with_its_measured_loss() {
    let r = advise(&fixture("this-machine"));
    let gpu = ruled_out(&r.plan, "gpu");
    // threads+simd 0.00252778 s against lavapipe's 0.185 s with transfers: 73x slower.
    assert!(
        gpu.reason.contains("73.2x slower than `threads+simd`"),
        "{}",
        gpu.reason
    );
    assert!(
        r.plan
            .verdict
            .ends_with("Not worth it here: independent runs, a process pool, the GPU, MPI."),
        "{}",
        r.plan.verdict
    );
    assert_eq!(r.plan.confidence.level, ConfidenceLevel::High);
}

#[test]
fn options_left_undecided_are_not_called_not_worth_it() {
    // Without the number of work items the tree cannot answer cores.split (decision-tree.md: the
    // cores level starts from independent work), so threads, pools and independent runs are
    // undecided: the verdict must not tell the reader they do not pay.
    let mut facts = fixture("this-machine");
    facts.problem.independent_items = Fact::unknown("not given: say how many with --items N");
    let r = advise(&facts);
    for option in ["threads", "process_pool", "independent_runs"] {
        assert_eq!(
            ruled_out(&r.plan, option).why,
            RuledOutWhy::Undecided,
            "{option}"
        );
    }
    assert!(!ids(&r.plan).contains(&"threads"), "{:?}", ids(&r.plan));
    let verdict = &r.plan.verdict;
    let (_, not_worth) = verdict.split_once("Not worth it here: ").unwrap();
    let (not_worth, undecided) = not_worth
        .split_once(" Not decided, for want of a fact: ")
        .unwrap();
    assert!(!not_worth.contains("threads"), "{verdict}");
    assert!(not_worth.contains("the GPU"), "{verdict}");
    assert!(undecided.contains("threads"), "{verdict}");
    assert!(undecided.contains("a process pool"), "{verdict}");
}

#[test]
fn the_total_of_a_plan_on_the_ladder_is_the_ladder_speedup() {
    for (name, best) in [
        ("this-machine", "threads+simd"),
        ("node-64-cores", "threads+simd"),
        ("slurm-cluster", "mpi+simd"),
        ("node-40-cores", "threads+simd"),
    ] {
        let facts = fixture(name);
        let r = advise(&facts);
        assert!(
            close(r.plan.total, ladder_speedup(&facts, best)),
            "{name}: {} against {}",
            r.plan.total,
            ladder_speedup(&facts, best)
        );
    }
}

fn check_properties(name: &str, facts: &Facts, r: &Recommendation) {
    let plan = &r.plan;
    // The product of the measured step gains is the stated total and the last running total.
    let product: f64 = plan
        .steps
        .iter()
        .filter_map(|s| s.gain.known().map(|g| g.times))
        .product();
    assert!(
        close(product, plan.total),
        "{name}: {product} vs {}",
        plan.total
    );
    if let Some(last) = plan.steps.last() {
        assert!(close(last.running_total, plan.total), "{name}");
    }
    // The tree's order: levels never go back.
    assert!(
        plan.steps.windows(2).all(|w| w[0].level <= w[1].level),
        "{name}: {:?}",
        ids(plan)
    );
    // No parallel step gains more than 1.1 times the units it runs on.
    let cores = f64::from(facts.machine.cores.known().unwrap().usable);
    let items = facts.problem.independent_items.known().map(|n| *n as f64);
    let nodes = match facts.machine.scheduler.known() {
        Some(Some(allocation)) => f64::from(allocation.nodes),
        _ => 1.0,
    };
    for step in &plan.steps {
        let Fact::Known(gain) = &step.gain else {
            continue;
        };
        let units = match step.option.as_str() {
            "threads" | "process_pool" | "independent_runs" => {
                items.map_or(cores, |items| cores.min(items))
            }
            "mpi" => nodes,
            _ => continue,
        };
        assert!(
            gain.times <= units * 1.1,
            "{name}: {} gains {} on {units}",
            step.option,
            gain.times
        );
    }
    // Every option of the tree in exactly one of the two lists.
    for option in options(&TREE) {
        let in_plan = plan.steps.iter().filter(|s| s.option == option.id).count();
        let out = plan
            .ruled_out
            .iter()
            .filter(|o| o.option == option.id)
            .count();
        assert_eq!(in_plan + out, 1, "{name}: {} in both or neither", option.id);
    }
    assert_eq!(
        plan.steps.len() + plan.ruled_out.len(),
        options(&TREE).len(),
        "{name}: an option outside the tree"
    );
    // Every ruled-out option says why.
    for out in &plan.ruled_out {
        assert!(!out.reason.is_empty(), "{name}: {}", out.option);
    }
}

#[test]
fn every_fixture_plan_keeps_the_properties() {
    for name in FIXTURES {
        let facts = fixture(name);
        check_properties(name, &facts, &advise(&facts));
    }
}

#[test]
fn the_properties_hold_when_any_variant_fails_agreement() {
    for name in FIXTURES {
        let facts = fixture(name);
        for failing in 0..facts.measurements.variants.len() {
            let mut changed = facts.clone();
            changed.measurements.variants[failing].agreement =
                Fact::Known(hpc_advisor::advise::facts::Agreement::Fail {
                    reason: "checksum differs".into(),
                });
            let r = advise(&changed);
            let failed = &changed.measurements.variants[failing].name;
            check_properties(&format!("{name} without {failed}"), &changed, &r);
            let evidence = serde_json::to_string(&r.plan.steps).unwrap();
            assert!(
                !evidence.contains(&format!("`{failed}`")),
                "{name}: the failed `{failed}` is evidence in the plan"
            );
        }
    }
}
