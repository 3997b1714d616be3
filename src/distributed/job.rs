//! Runs the `mpi` variant as a child job through the detected launcher, timing launch and compute apart.
//!
//! The child is this binary's `kernel run --variant mpi`; rank 0 prints its
//! report, whose checksum and phase lines are read back. The whole launch is
//! timed here; the compute time is what rank 0 measured between the first
//! barrier and the end of the gather, so launch cost = whole - compute.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hpc_kernels::scatter::variants::children;
use hpc_kernels::scatter::variants::mpi::MPI;
use hpc_kernels::scatter::variants::mpi::{
    ENABLE_HINT, PHASE_COMPUTE, PHASE_GATHER, PHASE_INIT, RankTiming, linked_library_version,
};
use hpc_kernels::scatter::{Contour, Problem, Variant};
use thiserror::Error;

use super::launcher::{
    Host, LaunchCommand, LaunchRequest, Launcher, MpiImplementation, launch_command,
};
use super::scheduler::Allocation;
use crate::report::kernel_run::parse_report;

/// One MPI run to launch.
#[derive(Debug, Clone)]
pub struct MpiJob {
    /// The `hpc-advisor` binary the ranks run.
    pub program: PathBuf,
    pub problem: Problem,
    /// `None`: one rank per allocated task, or per core of this host.
    pub ranks: Option<usize>,
    pub threads_per_rank: usize,
    /// How long the launch may take before it is killed with its ranks; `None`: a minute
    /// plus twenty times one rank's estimated time.
    pub deadline: Option<Duration>,
}

impl MpiJob {
    /// A job of this executable.
    pub fn new(problem: Problem) -> std::io::Result<MpiJob> {
        Ok(MpiJob {
            program: std::env::current_exe()?,
            problem,
            ranks: None,
            threads_per_rank: 1,
            deadline: None,
        })
    }
}

/// What a launched job measured.
#[derive(Debug, Clone, PartialEq)]
pub struct MpiJobResult {
    /// The command as run.
    pub command: String,
    pub ranks: usize,
    pub threads_per_rank: usize,
    /// Wall time of the whole launch, start of the launcher to its exit.
    pub whole: Duration,
    /// MPI initialisation as rank 0 saw it.
    pub init: Duration,
    /// Rank 0's compute plus gather: the run without launch and start-up.
    pub compute: Duration,
    /// Rank 0's gather: communication, and waiting for the slowest rank.
    pub gather: Duration,
    /// Every rank's node, pairs and compute time, as rank 0 reported them.
    pub rank_timings: Vec<RankTiming>,
    pub checksum: f64,
}

impl MpiJobResult {
    /// The fixed cost of launching: everything that is not compute.
    pub fn launch_cost(&self) -> Duration {
        self.whole.saturating_sub(self.compute)
    }
}

/// Why a job could not be launched or measured.
#[derive(Debug, Error)]
pub enum JobError {
    #[error("this build has no MPI support")]
    NotBuilt,
    #[error("no MPI launcher (srun, mpirun or mpiexec) was found on the PATH")]
    NoLauncher,
    #[error(
        "the launcher {launcher} ({launcher_implementation}) cannot start this binary, which is \
         linked against {library_implementation} ({library})"
    )]
    Mismatch {
        launcher: String,
        launcher_implementation: &'static str,
        library_implementation: &'static str,
        library: String,
    },
    #[error("a points contour cannot be passed to the launched job; save it with `file:PATH`")]
    PointsContour,
    /// It could not start, or never finished within its deadline (then it was killed).
    #[error("`{command}`: {message}")]
    Spawn { command: String, message: String },
    #[error("`{command}` failed with {status}: {stderr}")]
    Failed {
        command: String,
        status: std::process::ExitStatus,
        stderr: String,
    },
    #[error("`{command}` printed no {missing} line")]
    Report {
        command: String,
        missing: &'static str,
    },
}

impl JobError {
    /// How the user can fix it.
    pub fn hint(&self) -> String {
        match self {
            JobError::NotBuilt => ENABLE_HINT.to_string(),
            JobError::NoLauncher => "install an MPI (e.g. `apt-get install -y openmpi-bin \
                libopenmpi-dev`) or load your site's MPI module"
                .to_string(),
            JobError::Mismatch { .. } => "put the launcher of the MPI the binary was built with \
                first on the PATH (or load that MPI module), or rebuild with `--features mpi` \
                against the MPI whose launcher you use"
                .to_string(),
            JobError::PointsContour => "give the contour as `file:PATH`".to_string(),
            JobError::Spawn { .. } | JobError::Failed { .. } | JobError::Report { .. } => {
                "run the printed command by hand to see the launcher's own messages".to_string()
            }
        }
    }
}

/// Launches `job` through the launcher detected here and measures it.
pub fn run_mpi_job(job: &MpiJob) -> Result<MpiJobResult, JobError> {
    let library = linked_library_version().ok_or(JobError::NotBuilt)?;
    let allocation = Allocation::detect();
    let launcher = Launcher::detect(allocation.as_ref()).ok_or(JobError::NoLauncher)?;
    check_implementations(&launcher, &library)?;
    let request = LaunchRequest {
        program: job.program.clone(),
        args: kernel_run_args(&job.problem, job.threads_per_rank)?,
        ranks: job.ranks,
        threads_per_rank: job.threads_per_rank,
    };
    let command = launch_command(&launcher, allocation.as_ref(), &Host::detect(), &request);
    // A launcher that never starts its ranks, or a rank that hangs, must not hang the run:
    // a minute for the launch and twenty times one rank's estimate for the work.
    let estimate = job.problem.estimate().seconds(MPI.nominal_ns_per_pair(), 1);
    let deadline = job
        .deadline
        .unwrap_or_else(|| Duration::from_secs_f64(60.0 + 20.0 * estimate));
    measure(&command, job.threads_per_rank, deadline)
}

/// Refuses a launcher of one MPI family starting a binary linked against another.
pub fn check_implementations(launcher: &Launcher, library: &str) -> Result<(), JobError> {
    let linked = MpiImplementation::from_version_text(library);
    if launcher.implementation.can_launch(linked) {
        return Ok(());
    }
    Err(JobError::Mismatch {
        launcher: launcher.program.display().to_string(),
        launcher_implementation: launcher.implementation.label(),
        library_implementation: linked.label(),
        library: library
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string(),
    })
}

/// `kernel run --variant mpi` with the problem's parameters.
fn kernel_run_args(problem: &Problem, threads: usize) -> Result<Vec<OsString>, JobError> {
    let contour = match problem.contour() {
        Contour::Default => "default".to_string(),
        Contour::Circle => "circle".to_string(),
        Contour::Parametric { x, y } => format!("{x}; {y}"),
        Contour::Points(_) => return Err(JobError::PointsContour),
    };
    let args = [
        "kernel".to_string(),
        "run".into(),
        "--variant".into(),
        "mpi".into(),
        "--nx".into(),
        problem.nx().to_string(),
        "--ny".into(),
        problem.ny().to_string(),
        "--nc".into(),
        problem.nc().to_string(),
        "--lambda".into(),
        problem.wavelength().to_string(),
        "--contour".into(),
        contour,
        "--threads".into(),
        threads.max(1).to_string(),
        // The caller has already weighed the workload.
        "--force".into(),
    ];
    Ok(args.into_iter().map(OsString::from).collect())
}

fn measure(
    command: &LaunchCommand,
    threads: usize,
    deadline: Duration,
) -> Result<MpiJobResult, JobError> {
    let shown = command.display();
    let started = Instant::now();
    let mut launch = command.to_command();
    children::in_own_process_group(&mut launch);
    let output =
        children::output_with_deadline(launch, deadline).map_err(|message| JobError::Spawn {
            command: shown.clone(),
            message,
        })?;
    let whole = started.elapsed();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
        return Err(JobError::Failed {
            command: shown,
            status: output.status,
            stderr: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    let report = parse_report(&String::from_utf8_lossy(&output.stdout));
    let missing = |what| JobError::Report {
        command: shown.clone(),
        missing: what,
    };
    let checksum = report.checksum.ok_or_else(|| missing("checksum"))?;
    let init = report
        .phase(PHASE_INIT)
        .ok_or_else(|| missing("phase mpi init"))?;
    let compute = report
        .phase(PHASE_COMPUTE)
        .ok_or_else(|| missing("phase compute"))?;
    let gather = report
        .phase(PHASE_GATHER)
        .ok_or_else(|| missing("phase gather"))?;
    Ok(MpiJobResult {
        command: shown.clone(),
        ranks: command.ranks,
        threads_per_rank: threads.max(1),
        whole,
        init,
        compute: compute + gather,
        gather,
        rank_timings: report
            .notes
            .iter()
            .filter_map(|note| RankTiming::parse_note(note))
            .collect(),
        checksum,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributed::launcher::LauncherKind;

    #[test]
    fn a_launcher_of_another_mpi_is_refused() {
        let mpich = Launcher {
            kind: LauncherKind::Mpiexec,
            program: PathBuf::from("/usr/bin/mpiexec.hydra"),
            implementation: MpiImplementation::Mpich,
        };
        let open_mpi_library = "Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4";
        let error = check_implementations(&mpich, open_mpi_library).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("(MPICH)") && message.contains("Open MPI v4.1.4"),
            "{message}"
        );
        assert!(error.hint().contains("PATH"));
        assert!(check_implementations(&mpich, "MPICH Version: 4.0.2").is_ok());
    }

    #[test]
    fn the_problem_travels_as_kernel_run_arguments() {
        let problem = Problem::builder()
            .cells(64, 32)
            .segments(48)
            .wavelength(0.25)
            .contour(Contour::Circle)
            .build()
            .unwrap();
        let args: Vec<String> = kernel_run_args(&problem, 2)
            .unwrap()
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        assert_eq!(
            args.join(" "),
            "kernel run --variant mpi --nx 64 --ny 32 --nc 48 --lambda 0.25 --contour circle \
             --threads 2 --force"
        );
        let points = Problem::builder()
            .contour(Contour::Points(vec![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
            .build()
            .unwrap();
        assert!(matches!(
            kernel_run_args(&points, 1),
            Err(JobError::PointsContour)
        ));
    }
}
