//! The plan's Python words carry the Python ladder's measurements: scenarios written by hand.
//!
//! Each scenario is this machine's facts (`tests/fixtures/facts/this-machine.json`) with a
//! Python ladder stated here, in round numbers, as the Python course of seed 000 would
//! measure it; the expected gains, break-evens and reasons are worked out by hand below,
//! not taken from the tool's output.

use hpc_advisor::advise::python::PythonGain;
use hpc_advisor::advise::{Fact, Facts, Plan, advise};
use serde_json::json;

fn this_machine() -> Facts {
    let path = format!(
        "{}/tests/fixtures/facts/this-machine.json",
        env!("CARGO_MANIFEST_DIR")
    );
    Facts::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A rung measured at `ns` per pair (interval ±5%) on `pairs` pairs with `workers`.
fn measured(name: &str, workers: u32, pairs: u64, ns: f64) -> serde_json::Value {
    json!({
        "name": name, "workers": workers, "problem": "scatter", "pairs": pairs,
        "ns_per_pair": {"known": ns},
        "ns_per_pair_interval": {"known": [ns * 0.95, ns * 1.05]},
        "compile_seconds": null, "overhead_seconds": null
    })
}

fn not_run(name: &str, why: &str) -> serde_json::Value {
    json!({
        "name": name, "workers": 1, "problem": "scatter", "pairs": null,
        "ns_per_pair": {"unknown": why}, "ns_per_pair_interval": {"unknown": why},
        "compile_seconds": null, "overhead_seconds": null
    })
}

/// The whole ladder on a 4-core laptop: pure Python 3000 ns per pair, NumPy 200, Numba 40
/// (compiled in 1.5 s), prange on 4 threads 12, a pool of 4 workers 100 on 10^6 pairs,
/// mpi4py on 4 ranks 60 with a 0.5 s launch.
fn full_ladder() -> serde_json::Value {
    let mut numba = measured("py-numba", 1, 2_000_000, 40.0);
    numba["compile_seconds"] = json!(1.5);
    let mut mpi = measured("py-mpi4py", 4, 1_000_000, 60.0);
    mpi["overhead_seconds"] = json!(0.5);
    json!({
        "interpreter": "CPython 3.12.1 (/usr/bin/python3)",
        "rungs": [
            measured("py-pure", 1, 30_000, 3000.0),
            measured("py-numpy", 1, 250_000, 200.0),
            numba,
            measured("py-numba-prange", 4, 2_000_000, 12.0),
            measured("py-pool", 4, 1_000_000, 100.0),
            mpi,
        ]
    })
}

fn with_ladder(ladder: serde_json::Value) -> Facts {
    let mut facts = this_machine();
    facts.measurements.python_ladder = Fact::Known(serde_json::from_value(ladder).unwrap());
    facts
}

fn step_gains<'a>(plan: &'a Plan, option: &str) -> &'a [PythonGain] {
    &plan
        .steps
        .iter()
        .find(|s| s.option == option)
        .unwrap_or_else(|| panic!("{option} is not a step"))
        .python_measured
}

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= 1e-6 * expected.abs()
}

#[test]
fn each_step_quotes_its_python_rungs_with_their_own_gains() {
    let plan = advise(&with_ladder(full_ladder())).plan;
    // The tree on this machine: vectorise, explicit SIMD, threads (tests/plan.rs).
    let vectorise = step_gains(&plan, "vectorise");
    assert_eq!(vectorise.len(), 2);
    // NumPy: 3000 / 200 = 15x; interval 2850/210 to 3150/190.
    assert_eq!(
        (vectorise[0].rung.as_str(), vectorise[0].over.as_str()),
        ("py-numpy", "py-pure")
    );
    assert!(close(vectorise[0].times, 15.0));
    let Fact::Known([low, high]) = vectorise[0].interval else {
        panic!("no interval")
    };
    assert!(close(low, 2850.0 / 210.0) && close(high, 3150.0 / 190.0));
    assert!(
        vectorise[0].sentence.contains("15x over pure Python"),
        "{}",
        vectorise[0].sentence
    );
    // Numba: 3000 / 40 = 75x, and its one-off compile is said.
    assert_eq!(vectorise[1].rung, "py-numba");
    assert!(close(vectorise[1].times, 75.0));
    assert!(
        vectorise[1].sentence.contains("1.5 s once per process"),
        "{}",
        vectorise[1].sentence
    );

    // Threads: prange on 4 threads over njit, 40 / 12 = 3.33x.
    let threads = step_gains(&plan, "threads");
    assert_eq!(threads.len(), 1);
    assert_eq!(
        (threads[0].rung.as_str(), threads[0].over.as_str()),
        ("py-numba-prange", "py-numba")
    );
    assert!(close(threads[0].times, 40.0 / 12.0));
    assert!(
        threads[0].sentence.contains("4 threads"),
        "{}",
        threads[0].sentence
    );

    // Explicit SIMD: this machine's `simd` runs at 2.5 ns per pair, Numba at 40: 16x.
    let simd = step_gains(&plan, "explicit_simd");
    assert_eq!(
        (simd[0].rung.as_str(), simd[0].over.as_str()),
        ("simd", "py-numba")
    );
    assert!(close(simd[0].times, 16.0));
}

#[test]
fn the_summary_gives_the_pool_and_mpi4py_break_evens() {
    let plan = advise(&with_ladder(full_ladder())).plan;
    let Fact::Known(summary) = &plan.python_summary else {
        panic!("no summary: {:?}", plan.python_summary)
    };
    assert!(
        summary.starts_with("Python ladder (CPython 3.12.1"),
        "{summary}"
    );
    // The pool: 200 / 100 = 2x over NumPy. Its fixed cost per call is its time on 10^6 pairs
    // (100 ms) less NumPy's work shared by 4 (200 ms / 4 = 50 ms): 50 ms; it pays once
    // W / 4 + 50 ms < W, i.e. above 50 ms x 4 / 3 = 66.7 ms of NumPy work.
    assert!(
        summary.contains("a process pool of 4 workers (NumPy in each): 2x over NumPy"),
        "{summary}"
    );
    assert!(summary.contains("cost 50 ms per call"), "{summary}");
    assert!(summary.contains("loses below 66.7 ms"), "{summary}");
    // mpi4py: 200 / 60 = 3.33x in its computation; its 0.5 s launch pays off above
    // 0.5 s x 4 / 3 = 667 ms of work.
    assert!(
        summary.contains("mpi4py on 4 ranks: 3.33x over NumPy"),
        "{summary}"
    );
    assert!(
        summary.contains("launch and start-up cost 500 ms"),
        "{summary}"
    );
    assert!(summary.contains("pays only above 667 ms"), "{summary}");
    // The process pool is not a step here (threads win at this item size), and the summary
    // is where its measurement is read; the tree's answer is unchanged by it.
    assert!(plan.steps.iter().all(|s| s.option != "process_pool"));
}

#[test]
fn a_missing_package_is_named_with_its_install_line_and_its_gains_are_left_out() {
    let mut ladder = full_ladder();
    let skipped = "skipped: numba not installed in CPython 3.12.1 (pip install numba)";
    ladder["rungs"][2] = not_run("py-numba", skipped);
    ladder["rungs"][3] = not_run("py-numba-prange", skipped);
    let plan = advise(&with_ladder(ladder)).plan;
    let vectorise = step_gains(&plan, "vectorise");
    assert_eq!(vectorise.len(), 1, "{vectorise:?}");
    assert_eq!(vectorise[0].rung, "py-numpy");
    // Neither the prange gain nor the Rust-over-Numba gap can be stated without Numba.
    assert!(step_gains(&plan, "threads").is_empty());
    assert!(step_gains(&plan, "explicit_simd").is_empty());
    let Fact::Known(summary) = &plan.python_summary else {
        panic!("no summary")
    };
    assert!(
        summary.contains("`py-numba` skipped: numba not installed"),
        "{summary}"
    );
    assert!(summary.contains("pip install numba"), "{summary}");
}

#[test]
fn without_a_python_ladder_the_steps_keep_their_words_and_say_nothing_measured() {
    let mut facts = this_machine();
    facts.measurements.python_ladder =
        Fact::unknown("no Python for the Python ladder: `python3` not found");
    let plan = advise(&facts).plan;
    assert!(plan.steps.iter().all(|s| s.python_measured.is_empty()));
    assert!(plan.steps.iter().all(|s| !s.python.is_empty()));
    assert_eq!(
        plan.python_summary,
        Fact::unknown("no Python for the Python ladder: `python3` not found")
    );
    // The Python ladder never changes the tree's path or its steps.
    let with = advise(&with_ladder(full_ladder())).plan;
    let options = |p: &Plan| p.steps.iter().map(|s| s.option.clone()).collect::<Vec<_>>();
    assert_eq!(options(&plan), options(&with));
    assert_eq!(plan.verdict, with.verdict);
}
