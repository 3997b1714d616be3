//! Studying real programs written for these tests: a sleeper, a quadratic loop, the shipped
//! example under its worker variable; each test checks the facts the tree reads and the plan
//! they lead to (I/O first, the algorithm first), not only that figures exist.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use hpc_advisor::advise::named::{FactId, FactSource};
use hpc_advisor::advise::{Fact, Facts, Recommendation, advise};
use hpc_advisor::analyse::facts::user_program;
use hpc_advisor::profile::external::{ProgramCharacter, StackSampling};
use hpc_advisor::profile::program::{
    ProgramStudyRecord, ScalingRun, StudyOptions, parse_sizes, study,
};

fn machine_facts() -> Facts {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/facts/this-machine.json");
    Facts::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn options(command: &[&str]) -> StudyOptions {
    StudyOptions {
        command: command.iter().map(|w| w.to_string()).collect(),
        runs: Some(3),
        stability_seconds: 0.0,
        threads_variable: None,
        thread_counts: vec![1],
        sizes: Vec::new(),
        expected_order: None,
        items: None,
        sample_stacks: false,
        probe_exe: PathBuf::from(env!("CARGO_BIN_EXE_hpc-advisor")),
    }
}

/// One study at a time: the programs' CPU shares and scaling are what the tests read, and
/// two programs sharing the two cores would measure each other.
static ONE_STUDY_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_STUDY_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn run_study(options: &StudyOptions) -> ProgramStudyRecord {
    let _alone = alone();
    let scratch = tempfile::tempdir().unwrap();
    study(options, scratch.path(), &mut |step| eprintln!("{step}"))
        .unwrap()
        .0
}

/// The machine's facts with the studied program's, and the plan from them.
fn advised(record: &ProgramStudyRecord) -> (Facts, Recommendation) {
    let mut facts = machine_facts();
    facts.program = Fact::Known(user_program(record));
    let recommendation = advise(&facts);
    (facts, recommendation)
}

fn python() -> Option<&'static str> {
    let found = Process::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: no python3 on PATH");
    }
    found.then_some("python3")
}

/// Whether py-spy sampled every run in `samplings`; if not, says which `checks` are skipped
/// (a failure when `HPC_REQUIRE_PY_SPY` is set, as `.ci/run` sets it).
fn sampled_by_py_spy(samplings: &[&StackSampling], checks: &str) -> bool {
    let all = samplings
        .iter()
        .all(|s| matches!(s, StackSampling::Sampled { tool } if tool == "py-spy"));
    if !all {
        assert!(
            std::env::var_os("HPC_REQUIRE_PY_SPY").is_none(),
            "py-spy was required (HPC_REQUIRE_PY_SPY) but: {samplings:?}"
        );
        eprintln!("skipped {checks}: py-spy did not sample: {samplings:?}");
    }
    all
}

fn answer(recommendation: &Recommendation, node: &str) -> String {
    let step = recommendation.path.iter().find(|s| s.node == node).unwrap();
    format!("{:?}", step.answer)
}

fn step_ids(recommendation: &Recommendation) -> Vec<&str> {
    recommendation
        .plan
        .steps
        .iter()
        .map(|s| s.option.as_str())
        .collect()
}

#[test]
fn a_program_that_sleeps_is_sent_to_the_io_advice_first() {
    let record = run_study(&options(&["sh", "-c", "sleep 0.2"]));
    assert_eq!(record.runs.len(), 3);
    assert!(record.typical.wall_seconds >= 0.2);
    assert!(record.typical.cpu_utilisation < 0.5, "{:?}", record.typical);
    assert_eq!(record.typical.character, ProgramCharacter::IoBound);
    assert!(record.run_spread.known().is_some());

    let (facts, recommendation) = advised(&record);
    // The spread the stability node reads is the program's, not the ladder's.
    let spread = facts.read(FactId::RunSpread).known().cloned().unwrap();
    assert!(
        spread.source.contains("your program: 3 runs"),
        "{}",
        spread.source
    );
    assert!(answer(&recommendation, "profile.program").contains("I/O-bound"));
    let ids = step_ids(&recommendation);
    let io = ids.iter().position(|id| *id == "overlap_io").unwrap();
    // Only a measurement fix may come before the I/O; vectors and cores come after.
    assert!(
        ids[..io].iter().all(|id| *id == "fix_measurement"),
        "{ids:?}"
    );
    assert!(
        !recommendation
            .plan
            .ruled_out
            .iter()
            .any(|r| r.option == "overlap_io")
    );
}

#[test]
fn a_quadratic_program_over_sizes_is_sent_to_the_algorithm_first() {
    let Some(python) = python() else { return };
    let folder = tempfile::tempdir().unwrap();
    let script = folder.path().join("quadratic.py");
    std::fs::write(
        &script,
        "import sys\nn = int(sys.argv[1])\ntotal = 0\nfor i in range(n):\n    for j in range(n):\n        total += i ^ j\nprint(total)\n",
    )
    .unwrap();
    let mut options = options(&[python, script.to_str().unwrap(), "{n}"]);
    // Large enough that the interpreter's start-up (a tenth of a second behind a pyenv
    // shim) does not flatten the fit.
    options.sizes = parse_sizes("2000,4000").unwrap();
    options.expected_order = Some(1.0);
    options.runs = Some(1);
    let record = run_study(&options);
    assert_eq!(
        record.studied_command[2], "4000",
        "the middle size is studied"
    );
    let growth = record.growth.known().cloned().unwrap();
    assert_eq!(growth.points.len(), 2);
    // n^2 work plus a constant start-up: well above linear at these sizes.
    assert!(
        growth.exponent > 1.4,
        "exponent {}: {:?}",
        growth.exponent,
        growth.points
    );

    let (facts, recommendation) = advised(&record);
    let exponent = facts.read(FactId::GrowthExponent).known().cloned().unwrap();
    assert!(
        exponent.source.contains("your program"),
        "{}",
        exponent.source
    );
    assert!(answer(&recommendation, "profile.algorithm").contains("accidentally quadratic"));
    let ids = step_ids(&recommendation);
    let algorithm = ids.iter().position(|id| *id == "fix_algorithm").unwrap();
    assert!(
        ids[..algorithm].iter().all(|id| *id == "fix_measurement"),
        "{ids:?}"
    );
}

#[test]
fn the_worker_variable_is_set_for_each_count_and_feeds_the_scaling_node() {
    let Some(python) = python() else { return };
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pairs.py");
    let mut options = options(&[python, example.to_str().unwrap(), "--points", "700"]);
    options.runs = Some(1);
    options.threads_variable = Some("PAIRS_WORKERS".into());
    options.thread_counts = vec![1, 2];
    let record = run_study(&options);
    assert!(record.run_spread.known().is_none(), "one run has no spread");
    let scaling = record.scaling.known().cloned().unwrap();
    let threads: Vec<usize> = scaling.points.iter().map(|p| p.threads).collect();
    assert_eq!(threads, [1, 2]);
    let expected = scaling.points[0].wall_seconds / scaling.points[1].wall_seconds;
    assert!((scaling.speedup - expected).abs() < 1e-12);
    assert!((scaling.efficiency - expected / 2.0).abs() < 1e-12);
    assert_eq!(scaling.chosen_because, "named with --threads-env");
    // The workers' CPU time is counted: the same work split over two worker processes
    // costs about the same CPU seconds (not the parent's idle wait). CPU time, not
    // utilisation: with other tests running, two workers may get only one core.
    let cpu_seconds = |point: &ScalingRun| point.cpu_utilisation * point.wall_seconds;
    assert!(
        cpu_seconds(&scaling.points[1]) > 0.7 * cpu_seconds(&scaling.points[0]),
        "{:?}",
        scaling.points
    );

    let (facts, _) = advised(&record);
    let speedup = facts.read(FactId::ThreadsSpeedup).known().cloned().unwrap();
    assert!(
        speedup.source.contains("PAIRS_WORKERS=1..2"),
        "{}",
        speedup.source
    );
    let items = facts.read(FactId::IndependentItems);
    assert!(
        matches!(&items, Fact::Unknown(why) if why.contains("--items")),
        "{items:?}"
    );
}

#[test]
fn py_spy_names_the_programs_own_function_as_the_hotspot() {
    let Some(python) = python() else { return };
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pairs.py");
    let mut options = options(&[python, example.to_str().unwrap(), "--points", "1500"]);
    options.runs = Some(1);
    options.sample_stacks = true;
    let record = run_study(&options);
    if !sampled_by_py_spy(&[&record.sampling], "the hotspot check") {
        return;
    }
    let (facts, _) = advised(&record);
    let hottest = facts.read(FactId::HottestShare).known().cloned().unwrap();
    assert!(hottest.source.contains("rows_energy"), "{}", hottest.source);
}

/// A Python that imports NumPy, or a printed reason (a failure when `HPC_REQUIRE_NUMPY` is set, as
/// `.ci/run` sets it after installing tests/requirements.txt).
fn python_with_numpy() -> Option<&'static str> {
    let python = python()?;
    let has_numpy = Process::new(python)
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_numpy {
        assert!(
            std::env::var_os("HPC_REQUIRE_NUMPY").is_none(),
            "NumPy was required (HPC_REQUIRE_NUMPY) but {python} cannot import it"
        );
        eprintln!("skipped: {python} cannot import numpy (pip install -r tests/requirements.txt)");
    }
    has_numpy.then_some(python)
}

fn test_program(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/programs")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_numpy_loop_is_cpu_bound_and_its_own_function_is_the_hotspot() {
    let Some(python) = python_with_numpy() else {
        return;
    };
    let script = test_program("numpy_loop.py");
    let mut options = options(&[python, &script]);
    options.sample_stacks = true;
    let record = run_study(&options);
    // Computing, not waiting: at least the CPU-bound threshold of one core.
    assert!(
        record.typical.cpu_utilisation >= 0.8,
        "{:?}",
        record.typical
    );
    assert_ne!(record.typical.character, ProgramCharacter::IoBound);
    let (facts, recommendation) = advised(&record);
    assert!(answer(&recommendation, "profile.program").contains("cores busy"));
    assert!(!step_ids(&recommendation).contains(&"overlap_io"));
    if sampled_by_py_spy(&[&record.sampling], "the hotspot check") {
        let hottest = facts.read(FactId::HottestShare).known().cloned().unwrap();
        assert!(hottest.source.contains("relax"), "{}", hottest.source);
    }
}

#[test]
fn a_threaded_blas_program_is_rerun_with_the_variable_its_script_names() {
    let Some(python) = python_with_numpy() else {
        return;
    };
    let script = test_program("blas_threads.py");
    let mut options = options(&[python, &script]);
    options.runs = Some(1);
    options.thread_counts = vec![1, 2];
    let record = run_study(&options);
    let scaling = record.scaling.known().cloned().unwrap();
    assert_eq!(scaling.variable, "OMP_NUM_THREADS");
    assert!(
        scaling.chosen_because.contains("blas_threads.py"),
        "{}",
        scaling.chosen_because
    );
    let threads: Vec<usize> = scaling.points.iter().map(|p| p.threads).collect();
    assert_eq!(threads, [1, 2]);
    // OpenBLAS obeyed OMP_NUM_THREADS=1: never more than one core busy (and a little start-up).
    assert!(
        scaling.points[0].cpu_utilisation < 1.15,
        "{:?}",
        scaling.points[0]
    );
    let (facts, recommendation) = advised(&record);
    let speedup = facts.read(FactId::ThreadsSpeedup).known().cloned().unwrap();
    assert!(
        speedup.source.contains("OMP_NUM_THREADS=1..2"),
        "{}",
        speedup.source
    );
    let expected = scaling.points[0].wall_seconds / scaling.points[1].wall_seconds;
    assert!((scaling.speedup - expected).abs() < 1e-12);
    // Saturated or not, the node reads the program's own two-thread measurement.
    let saturated = answer(&recommendation, "nodes.saturated");
    assert!(saturated.contains("2 threads"), "{saturated}");
    assert!(saturated.contains("on 2 cores"), "{saturated}");
}

/// `mpirun` and a Python with mpi4py, or a printed reason (a failure when `HPC_REQUIRE_MPI4PY`
/// is set, as `.ci/run` sets it once Open MPI and mpi4py are installed).
fn mpirun_with_mpi4py() -> Option<(&'static str, &'static str)> {
    let python = python()?;
    let has_mpi4py = Process::new(python)
        .args(["-c", "import mpi4py"])
        .output()
        .is_ok_and(|o| o.status.success());
    let has_mpirun = Process::new("mpirun")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if has_mpi4py && has_mpirun {
        return Some(("mpirun", python));
    }
    let why = format!("mpirun found: {has_mpirun}, mpi4py importable by {python}: {has_mpi4py}");
    assert!(
        std::env::var_os("HPC_REQUIRE_MPI4PY").is_none(),
        "mpi4py under mpirun was required (HPC_REQUIRE_MPI4PY) but {why}"
    );
    eprintln!("skipped: {why}");
    None
}

#[test]
fn each_rank_of_an_mpi_program_is_measured_and_the_waiting_rank_found() {
    let Some((mpirun, python)) = mpirun_with_mpi4py() else {
        return;
    };
    let script = test_program("uneven_ranks.py");
    let mut command = vec![mpirun, "-np", "2", "--oversubscribe"];
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        command.push("--allow-run-as-root");
    }
    command.extend([python, &script]);
    let mut options = options(&command);
    options.runs = Some(1);
    options.sample_stacks = true;
    let record = run_study(&options);
    assert_eq!(record.profiled_command(), [python, script.as_str()]);
    assert_eq!(record.language, "Python");
    let ranks = record.ranks.known().cloned().unwrap();
    let numbers: Vec<u32> = ranks.ranks.iter().map(|r| r.rank).collect();
    assert_eq!(numbers, [0, 1]);
    for rank in &ranks.ranks {
        assert!(
            rank.facts.wall_seconds > 0.0 && rank.facts.user_seconds > 0.0,
            "{rank:?}"
        );
    }
    let samplings: Vec<&StackSampling> = ranks.ranks.iter().map(|r| &r.sampling).collect();
    if !sampled_by_py_spy(&samplings, "the stack checks") {
        return;
    }
    // Rank 0 works three times as long as rank 1, which waits for it in the barrier: rank 1's
    // samples are mostly on the line that calls MPI, rank 0's mostly in `work`.
    let share = |rank: usize| *ranks.ranks[rank].mpi_share.known().unwrap();
    assert!(share(0) < 0.2, "rank 0 in MPI: {}", share(0));
    assert!(share(1) > share(0) + 0.2, "rank 1 in MPI: {}", share(1));
    let hottest = |rank: usize| {
        let hotspots = &ranks.ranks[rank].hotspots;
        hotspots
            .iter()
            .max_by_key(|h| h.self_samples)
            .unwrap()
            .function
            .clone()
    };
    assert!(
        hottest(0).starts_with("work (uneven_ranks.py"),
        "{}",
        hottest(0)
    );
    assert_eq!(ranks.imbalance_of, "CPU time outside MPI");
    // Work 3 against 1 is 0.5 over the mean; start-up both pay lowers it, noise may too.
    assert!(ranks.imbalance > 0.2, "imbalance {}", ranks.imbalance);
    // The program's own profile is every rank's added together.
    let rank_samples: u64 = ranks.ranks.iter().filter_map(|r| r.samples).sum();
    assert_eq!(record.samples, Some(rank_samples));
}

fn hpc_advisor() -> Command {
    Command::cargo_bin("hpc-advisor").unwrap()
}

fn entries(folder: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(folder)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

#[test]
fn analyse_with_a_command_reports_its_plan_beside_the_kernels() {
    let _alone = alone();
    let out = tempfile::tempdir().unwrap();
    let assert = hpc_advisor()
        .args([
            "analyse", "--quick", "--budget", "4", "--runs", "3", "--out",
        ])
        .arg(out.path())
        .args(["--sizes", "1,2", "--", "sh", "-c", "sleep 0.{n}"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.starts_with("hpc-advisor"), "{stdout}");
    let program_at = stdout.find("Your program").unwrap();
    let kernel_at = stdout.find("The reference kernel on this machine").unwrap();
    assert!(program_at < kernel_at);
    let [run] = &entries(out.path())[..] else {
        panic!("not one run folder")
    };
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("report.json")).unwrap()).unwrap();
    let program = &report["program"];
    assert_eq!(program["study"]["runs"].as_array().unwrap().len(), 3);
    assert_eq!(program["study"]["typical"]["character"], "io-bound");
    let first_steps: Vec<&str> = program["recommendation"]["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["option"].as_str().unwrap())
        .collect();
    assert!(first_steps.contains(&"overlap_io"), "{first_steps:?}");
    // The kernel's own plan does not pretend to know the program.
    let kernel_io = report["recommendation"]["plan"]["ruled_out"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["option"] == "overlap_io")
        .unwrap();
    assert!(kernel_io["reason"].as_str().unwrap().contains("its own"));
    let markdown = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(markdown.contains("## Your program"));
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("id=\"program-plan\""));
    // Sleeping 0.1 s and 0.2 s: the growth chart, and an exponent near 1.
    assert!(html.contains("id=\"program-growth\""));
    let exponent = program["study"]["growth"]["known"]["exponent"]
        .as_f64()
        .unwrap();
    assert!((0.7..1.3).contains(&exponent), "{exponent}");
}

#[test]
fn program_options_that_cannot_work_are_refused_before_anything_runs() {
    let cases: [(&[&str], &str); 5] = [
        (&["--sizes", "1,2", "--", "sh", "-c", "true"], "has no {n}"),
        (&["--", "sh", "-c", "echo {n}"], "no --sizes"),
        (&["--sizes", "5", "--", "sh", "-c", "echo {n}"], "two sizes"),
        (&["--runs", "0", "--", "true"], "--runs 0"),
        (
            &["--threads-env", "1X", "--", "true"],
            "not an environment variable",
        ),
    ];
    for (arguments, message) in cases {
        let out = tempfile::tempdir().unwrap();
        let assert = hpc_advisor()
            .args(["analyse", "--quick", "--out"])
            .arg(out.path())
            .args(arguments)
            .assert()
            .code(1);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(stderr.contains(message), "{arguments:?}: {stderr}");
        assert!(entries(out.path()).is_empty(), "{arguments:?} wrote files");
    }
}

#[test]
fn a_program_that_fails_ends_the_run_with_nothing_written() {
    let out = tempfile::tempdir().unwrap();
    let assert = hpc_advisor()
        .args(["analyse", "--quick", "--budget", "3", "--out"])
        .arg(out.path())
        .args(["--", "sh", "-c", "exit 3"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("could not be studied"), "{stderr}");
    assert!(stderr.contains("exit status 3"), "{stderr}");
    assert!(entries(out.path()).is_empty());
}
