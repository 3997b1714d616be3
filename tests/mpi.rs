//! The `mpi` variant on real MPI with two ranks: the gathered field agrees with `naive`.
//!
//! Needs the `mpi` feature and an MPI launcher (`.ci/run` installs Open MPI).
#![cfg(feature = "mpi")]

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use hpc_advisor::distributed::{
    Allocation, Host, LaunchRequest, Launcher, MpiJob, launch_command, run_mpi_job,
};
use hpc_kernels::scatter::{Field, Problem, RunSettings, registry};
use num_complex::Complex32;

const BINARY: &str = env!("CARGO_BIN_EXE_hpc-advisor");
/// Far above what a 2-rank run of these problems takes: reaching it means the job hung.
const TIMEOUT: Duration = Duration::from_secs(180);

fn with_timeout<T: Send + 'static>(what: &str, job: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(job());
    });
    receiver
        .recv_timeout(TIMEOUT)
        .unwrap_or_else(|_| panic!("{what} did not finish within {TIMEOUT:?}"))
}

fn naive(problem: &Problem) -> Field {
    registry::reference()
        .run(problem, &RunSettings::default())
        .unwrap()
        .field
        .unwrap()
}

/// Reads the field back from `kernel run --output` CSV.
fn read_csv(path: &PathBuf, problem: &Problem) -> Field {
    let text = std::fs::read_to_string(path).unwrap();
    let mut field = Field::zeros(problem.nx() + 1, problem.ny() + 1);
    let nodes_x = field.nodes_x();
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let (j, i): (usize, usize) = (cells[0].parse().unwrap(), cells[1].parse().unwrap());
        let value = |k: usize| cells[k].parse::<f32>().unwrap();
        field.incident[j * nodes_x + i] = Complex32::new(value(4), value(5));
        field.scattered[j * nodes_x + i] = Complex32::new(value(6), value(7));
    }
    field
}

#[test]
fn two_ranks_gather_the_field_naive_computes() {
    let problem = Problem::builder()
        .cells(40, 33)
        .segments(40)
        .build()
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let csv = folder.path().join("field.csv");
    let launcher = Launcher::detect(None).expect("an MPI launcher (mpirun or mpiexec)");
    let request = LaunchRequest {
        program: PathBuf::from(BINARY),
        args: [
            "kernel",
            "run",
            "--variant",
            "mpi",
            "--nx",
            "40",
            "--ny",
            "33",
            "--nc",
            "40",
        ]
        .into_iter()
        .map(Into::into)
        .chain(["--output".into(), csv.clone().into_os_string()])
        .collect(),
        ranks: Some(2),
        threads_per_rank: 1,
    };
    let command = launch_command(&launcher, None, &Host::detect(), &request);
    let shown = command.display();
    let output = with_timeout("mpirun", move || command.to_command().output().unwrap());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{shown}\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Only rank 0 reports.
    assert_eq!(stdout.matches("checksum").count(), 1, "{stdout}");
    assert!(stdout.contains("2 ranks x 1 threads"), "{stdout}");
    let agreement = read_csv(&csv, &problem).agreement(&naive(&problem));
    assert!(agreement.within(1e-6, 1e-7), "{agreement:?}");
}

/// The problem of the launched-job test.
fn problem_for_timings() -> Problem {
    Problem::builder()
        .cells(48, 48)
        .segments(48)
        .build()
        .unwrap()
}

#[test]
fn a_launched_job_reports_launch_and_compute_apart() {
    let problem = problem_for_timings();
    let expected = naive(&problem).checksum();
    let job = MpiJob {
        program: PathBuf::from(BINARY),
        problem,
        ranks: Some(2),
        threads_per_rank: 1,
        deadline: None,
    };
    let result = with_timeout("the MPI job", move || run_mpi_job(&job))
        .unwrap_or_else(|e| panic!("{e}\nhint: {}", e.hint()));
    assert_eq!(result.ranks, 2);
    assert!(
        (result.checksum - expected).abs() / expected < 1e-7,
        "{result:?}"
    );
    assert!(
        result.compute > Duration::ZERO && result.whole > result.compute,
        "{result:?}"
    );
    assert!(result.launch_cost() > Duration::ZERO);
    assert!(result.init <= result.whole);
    // Rank 0 reports every rank's node, pairs and compute time; together they cover the problem.
    let ranks: Vec<usize> = result.rank_timings.iter().map(|t| t.rank).collect();
    assert_eq!(ranks, [0, 1], "{result:?}");
    let outside = naive(&problem_for_timings()).outside_nodes() as u64;
    assert_eq!(
        result.rank_timings.iter().map(|t| t.pairs).sum::<u64>(),
        outside * 48,
        "{result:?}"
    );
    assert!(
        result
            .rank_timings
            .iter()
            .all(|t| t.compute > Duration::ZERO && !t.node.is_empty())
    );
    if Allocation::detect().is_none() {
        assert!(result.command.contains("-n 2"), "{}", result.command);
    }
}
