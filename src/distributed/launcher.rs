//! Which MPI launcher this machine offers, which implementation it belongs to, and the command line it needs.
//!
//! Building the command is a pure function of captured facts (launcher,
//! allocation, host), so the cluster cases are tested here without a cluster.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::scheduler::Allocation;
use crate::detect::run::{PROBE_TIMEOUT, Runner};
use crate::detect::topology;

/// MPI implementation families; programs must be started by a launcher of their own family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MpiImplementation {
    OpenMpi,
    Mpich,
    /// Intel MPI: MPICH-derived, its launcher starts MPICH-ABI programs.
    IntelMpi,
    Unknown,
}

impl MpiImplementation {
    /// Recognises the implementation from `mpirun --version` or `MPI_Get_library_version` text.
    pub fn from_version_text(text: &str) -> MpiImplementation {
        let lower = text.to_ascii_lowercase();
        if lower.contains("open mpi") || lower.contains("openrte") {
            MpiImplementation::OpenMpi
        } else if lower.contains("intel(r) mpi") || lower.contains("intel mpi") {
            MpiImplementation::IntelMpi
        } else if lower.contains("mpich") || lower.contains("hydra") {
            MpiImplementation::Mpich
        } else {
            MpiImplementation::Unknown
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MpiImplementation::OpenMpi => "Open MPI",
            MpiImplementation::Mpich => "MPICH",
            MpiImplementation::IntelMpi => "Intel MPI",
            MpiImplementation::Unknown => "unknown MPI",
        }
    }

    fn abi_family(self) -> Option<&'static str> {
        match self {
            MpiImplementation::OpenMpi => Some("Open MPI"),
            MpiImplementation::Mpich | MpiImplementation::IntelMpi => Some("MPICH"),
            MpiImplementation::Unknown => None,
        }
    }

    /// False only when both are known and belong to different families.
    pub fn can_launch(self, library: MpiImplementation) -> bool {
        match (self.abi_family(), library.abi_family()) {
            (Some(launcher), Some(library)) => launcher == library,
            _ => true,
        }
    }
}

/// The launcher programs we know how to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LauncherKind {
    Mpirun,
    Mpiexec,
    /// Slurm's own launcher: starts ranks of any implementation built with PMI support.
    Srun,
}

impl LauncherKind {
    pub fn program(self) -> &'static str {
        match self {
            LauncherKind::Mpirun => "mpirun",
            LauncherKind::Mpiexec => "mpiexec",
            LauncherKind::Srun => "srun",
        }
    }
}

/// A launcher found on this machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Launcher {
    pub kind: LauncherKind,
    pub program: PathBuf,
    pub implementation: MpiImplementation,
}

impl Launcher {
    /// The launcher to use: `srun` inside a Slurm job, otherwise `mpirun`, then `mpiexec`.
    ///
    /// A candidate must be executable on PATH and answer `--version` within
    /// [`PROBE_TIMEOUT`]; one that cannot start or hangs is skipped.
    pub fn detect(allocation: Option<&Allocation>) -> Option<Launcher> {
        let in_slurm = allocation.is_some_and(|a| a.scheduler == super::Scheduler::Slurm);
        let order: &[LauncherKind] = if in_slurm {
            &[
                LauncherKind::Srun,
                LauncherKind::Mpirun,
                LauncherKind::Mpiexec,
            ]
        } else {
            &[LauncherKind::Mpirun, LauncherKind::Mpiexec]
        };
        let runner = Runner::from_env();
        order.iter().find_map(|&kind| {
            let program = runner.find(kind.program())?;
            let output = runner
                .run(kind.program(), &["--version"], PROBE_TIMEOUT)
                .ok()?;
            let implementation = match kind {
                LauncherKind::Srun => MpiImplementation::Unknown,
                _ => MpiImplementation::from_version_text(&output.combined()),
            };
            Some(Launcher {
                kind,
                program,
                implementation,
            })
        })
    }
}

/// Facts about this host that change the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    /// Open MPI refuses to run as root without `--allow-run-as-root`.
    pub is_root: bool,
    /// Ranks the launcher places here without oversubscribing (Open MPI counts physical cores).
    pub slots: usize,
}

impl Host {
    /// Slots are the physical cores (sysfs topology) capped by the cores this
    /// process may use (affinity, cgroup cpuset and quota, Slurm/PBS allocation).
    pub fn detect() -> Host {
        let usable = crate::detect::usable_cores();
        let physical_cores = topology::topology(
            Path::new(topology::CPU_SYSFS),
            Path::new(topology::NODE_SYSFS),
        )
        .physical_cores;
        Host {
            is_root: crate::detect::mpi::running_as_root(),
            slots: physical_cores
                .known()
                .map_or(usable, |&cores| cores.min(usable)),
        }
    }
}

/// What to launch: the program, its arguments, and how many ranks of how many threads.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchRequest {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// `None`: one rank per allocated task, or per slot of this host.
    pub ranks: Option<usize>,
    pub threads_per_rank: usize,
}

/// A complete launcher command line.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub ranks: usize,
}

impl LaunchCommand {
    pub fn to_command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        command
    }

    /// The command as a user would type it.
    pub fn display(&self) -> String {
        std::iter::once(self.program.as_os_str())
            .chain(self.args.iter().map(OsString::as_os_str))
            .map(|part| part.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Builds the launch command for `launcher` in `allocation` (if any) on `host`.
pub fn launch_command(
    launcher: &Launcher,
    allocation: Option<&Allocation>,
    host: &Host,
    request: &LaunchRequest,
) -> LaunchCommand {
    let (mut args, ranks) = launcher_options(
        launcher,
        allocation,
        host,
        request.ranks,
        request.threads_per_rank,
    );
    args.push(request.program.clone().into_os_string());
    args.extend(request.args.iter().cloned());
    LaunchCommand {
        program: launcher.program.clone(),
        args,
        ranks,
    }
}

/// The launcher's program and options up to the program it starts, for `ranks` ranks here
/// (default: as [`launch_command`] chooses): what a rung that starts its own MPI job
/// (`py-mpi4py`) puts before its interpreter. `None` when no launcher is found.
pub fn detected_launch_prefix(ranks: Option<usize>) -> Option<Vec<OsString>> {
    let allocation = Allocation::detect();
    let launcher = Launcher::detect(allocation.as_ref())?;
    let (options, _) = launcher_options(&launcher, allocation.as_ref(), &Host::detect(), ranks, 1);
    Some(
        std::iter::once(launcher.program.into_os_string())
            .chain(options)
            .collect(),
    )
}

/// The launcher's options for `ranks` ranks (or its default count) of `threads_per_rank`
/// threads, and the rank count they start.
fn launcher_options(
    launcher: &Launcher,
    allocation: Option<&Allocation>,
    host: &Host,
    ranks: Option<usize>,
    threads_per_rank: usize,
) -> (Vec<OsString>, usize) {
    let threads = threads_per_rank.max(1);
    let slots = allocation.map_or(host.slots, |a| a.tasks * a.cpus_per_task.max(1) / threads);
    let ranks = ranks
        .or(allocation.map(|a| a.tasks))
        .unwrap_or(host.slots / threads)
        .max(1);
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |parts: &[&str]| args.extend(parts.iter().map(OsString::from));
    match launcher.kind {
        LauncherKind::Srun => {
            let nodes = allocation.map_or(1, |a| a.nodes).min(ranks);
            push(&[
                "--nodes",
                &nodes.to_string(),
                "--ntasks",
                &ranks.to_string(),
            ]);
            push(&["--cpus-per-task", &threads.to_string()]);
        }
        LauncherKind::Mpirun | LauncherKind::Mpiexec => {
            push(&["-n", &ranks.to_string()]);
            let hostfile = allocation.and_then(|a| a.hostfile.as_deref());
            match launcher.implementation {
                MpiImplementation::OpenMpi => {
                    if host.is_root {
                        push(&["--allow-run-as-root"]);
                    }
                    if ranks > slots.max(1) {
                        push(&["--oversubscribe"]);
                    }
                    if threads > 1 {
                        // Each rank's threads need more than the one core Open MPI binds it to.
                        push(&["--bind-to", "none"]);
                    }
                    if let Some(hostfile) = hostfile {
                        push(&["--hostfile", &hostfile.to_string_lossy()]);
                    }
                }
                MpiImplementation::Mpich | MpiImplementation::IntelMpi => {
                    if let Some(hostfile) = hostfile {
                        push(&["-f", &hostfile.to_string_lossy()]);
                    }
                }
                MpiImplementation::Unknown => {}
            }
        }
    }
    (args, ranks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::env_of;
    use crate::distributed::scheduler::tests::{SLURM_TWO_NODES, no_files};

    fn launcher(kind: LauncherKind, implementation: MpiImplementation) -> Launcher {
        Launcher {
            kind,
            program: PathBuf::from(format!("/usr/bin/{}", kind.program())),
            implementation,
        }
    }

    fn request(ranks: Option<usize>, threads: usize) -> LaunchRequest {
        LaunchRequest {
            program: PathBuf::from("/opt/hpc-advisor"),
            args: vec!["kernel".into(), "run".into()],
            ranks,
            threads_per_rank: threads,
        }
    }

    fn host(is_root: bool, slots: usize) -> Host {
        Host { is_root, slots }
    }

    /// The command line as a user would type it.
    fn line(
        launcher: &Launcher,
        allocation: Option<&Allocation>,
        host: Host,
        ranks: Option<usize>,
        threads: usize,
    ) -> String {
        launch_command(launcher, allocation, &host, &request(ranks, threads)).display()
    }

    #[test]
    fn implementations_are_recognised_from_their_version_text() {
        let cases = [
            ("mpirun (Open MPI) 4.1.4", MpiImplementation::OpenMpi),
            ("mpiexec (OpenRTE) 4.1.4", MpiImplementation::OpenMpi),
            (
                "Open MPI v4.1.4, package: Debian OpenMPI",
                MpiImplementation::OpenMpi,
            ),
            (
                "HYDRA build details:\n    Version: 4.0.2",
                MpiImplementation::Mpich,
            ),
            ("MPICH Version:      4.0.2", MpiImplementation::Mpich),
            (
                "Intel(R) MPI Library for Linux* OS, Version 2021.9",
                MpiImplementation::IntelMpi,
            ),
            ("slurm 23.02.7", MpiImplementation::Unknown),
        ];
        for (text, expected) in cases {
            assert_eq!(
                MpiImplementation::from_version_text(text),
                expected,
                "{text}"
            );
        }
        assert!(!MpiImplementation::OpenMpi.can_launch(MpiImplementation::Mpich));
        assert!(!MpiImplementation::Mpich.can_launch(MpiImplementation::OpenMpi));
        assert!(MpiImplementation::IntelMpi.can_launch(MpiImplementation::Mpich));
        assert!(MpiImplementation::Unknown.can_launch(MpiImplementation::OpenMpi));
    }

    #[test]
    fn open_mpi_as_root_on_a_workstation() {
        let open_mpi = launcher(LauncherKind::Mpirun, MpiImplementation::OpenMpi);
        assert_eq!(
            line(&open_mpi, None, host(true, 2), Some(2), 1),
            "/usr/bin/mpirun -n 2 --allow-run-as-root /opt/hpc-advisor kernel run"
        );
        assert_eq!(
            line(&open_mpi, None, host(true, 2), Some(4), 1),
            "/usr/bin/mpirun -n 4 --allow-run-as-root --oversubscribe /opt/hpc-advisor kernel run"
        );
        // Unset ranks fill the host's slots, threads taking their share.
        let command = launch_command(&open_mpi, None, &host(false, 8), &request(None, 2));
        assert_eq!(command.ranks, 4);
        assert_eq!(
            command.display(),
            "/usr/bin/mpirun -n 4 --bind-to none /opt/hpc-advisor kernel run"
        );
    }

    #[test]
    fn mpich_needs_neither_root_nor_oversubscribe_flags() {
        let mpich = launcher(LauncherKind::Mpiexec, MpiImplementation::Mpich);
        assert_eq!(
            line(&mpich, None, host(true, 1), Some(3), 1),
            "/usr/bin/mpiexec -n 3 /opt/hpc-advisor kernel run"
        );
    }

    #[test]
    fn srun_takes_the_slurm_allocation() {
        let allocation = Allocation::from_env(env_of(SLURM_TWO_NODES), no_files).unwrap();
        let srun = launcher(LauncherKind::Srun, MpiImplementation::Unknown);
        assert_eq!(
            line(&srun, Some(&allocation), host(false, 16), None, 4),
            "/usr/bin/srun --nodes 2 --ntasks 8 --cpus-per-task 4 /opt/hpc-advisor kernel run"
        );
        // Fewer ranks than nodes: srun must not be asked for more nodes than tasks.
        assert!(
            line(&srun, Some(&allocation), host(false, 16), Some(1), 1)
                .starts_with("/usr/bin/srun --nodes 1 --ntasks 1 ")
        );
    }

    #[test]
    fn mpirun_inside_slurm_sizes_from_the_allocation_not_the_login_host() {
        let captured = env_of(&[
            ("SLURM_JOB_ID", "5"),
            ("SLURM_NNODES", "4"),
            ("SLURM_NTASKS", "128"),
        ]);
        let allocation = Allocation::from_env(captured, no_files).unwrap();
        let open_mpi = launcher(LauncherKind::Mpirun, MpiImplementation::OpenMpi);
        assert_eq!(
            line(&open_mpi, Some(&allocation), host(false, 32), None, 1),
            "/usr/bin/mpirun -n 128 /opt/hpc-advisor kernel run"
        );
    }

    #[test]
    fn pbs_passes_its_nodefile() {
        let captured = env_of(&[
            ("PBS_JOBID", "4711.server"),
            ("PBS_NODEFILE", "/var/spool/pbs/aux/4711.server"),
        ]);
        let nodefile = |_: &str| Some("n01\nn01\nn02\nn02\n".to_string());
        let allocation = Allocation::from_env(captured, nodefile).unwrap();
        let open_mpi = launcher(LauncherKind::Mpirun, MpiImplementation::OpenMpi);
        assert_eq!(
            line(&open_mpi, Some(&allocation), host(false, 2), None, 1),
            "/usr/bin/mpirun -n 4 --hostfile /var/spool/pbs/aux/4711.server /opt/hpc-advisor kernel run"
        );
        let mpich = launcher(LauncherKind::Mpiexec, MpiImplementation::Mpich);
        assert_eq!(
            line(&mpich, Some(&allocation), host(false, 2), None, 1),
            "/usr/bin/mpiexec -n 4 -f /var/spool/pbs/aux/4711.server /opt/hpc-advisor kernel run"
        );
    }
}
