//! The batch allocation this process runs in (Slurm or PBS), read from the variables the scheduler sets.
//!
//! Reading goes through a closure so captured environments can be tested
//! without a cluster.

use std::path::PathBuf;

/// The batch systems whose allocations we understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduler {
    Slurm,
    Pbs,
}

/// Nodes, tasks and cores per task granted to the current batch job.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    pub scheduler: Scheduler,
    pub job_id: String,
    pub nodes: usize,
    /// MPI ranks the allocation is sized for.
    pub tasks: usize,
    pub cpus_per_task: usize,
    /// The node list a launcher without scheduler integration needs (PBS).
    pub hostfile: Option<PathBuf>,
}

impl Allocation {
    /// The allocation of this process, if it runs inside a batch job.
    pub fn detect() -> Option<Allocation> {
        Allocation::from_env(
            |name| std::env::var(name).ok(),
            |path| std::fs::read_to_string(path).ok(),
        )
    }

    /// The allocation described by environment variables `var`; `read` gives file contents
    /// (PBS lists one line per granted slot in `PBS_NODEFILE`).
    pub fn from_env(
        var: impl Fn(&str) -> Option<String>,
        read: impl Fn(&str) -> Option<String>,
    ) -> Option<Allocation> {
        let number = |name: &str| -> Option<usize> {
            var(name)?
                .split(['(', ','])
                .next()?
                .trim()
                .parse()
                .ok()
                .filter(|&n| n > 0)
        };
        if let Some(job_id) = var("SLURM_JOB_ID") {
            let nodes = number("SLURM_JOB_NUM_NODES")
                .or_else(|| number("SLURM_NNODES"))
                .unwrap_or(1);
            // SLURM_NTASKS_PER_NODE may read "4(x2)"; the first count is what each node runs.
            let tasks = number("SLURM_NTASKS")
                .or_else(|| number("SLURM_NPROCS"))
                .or_else(|| number("SLURM_NTASKS_PER_NODE").map(|n| n * nodes))
                .unwrap_or(nodes);
            return Some(Allocation {
                scheduler: Scheduler::Slurm,
                job_id,
                nodes,
                tasks,
                cpus_per_task: number("SLURM_CPUS_PER_TASK").unwrap_or(1),
                hostfile: None,
            });
        }
        let job_id = var("PBS_JOBID")?;
        let hostfile = var("PBS_NODEFILE");
        let slots: Option<Vec<String>> = hostfile.as_deref().and_then(&read).map(|text| {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()
        });
        let distinct_nodes = slots.as_ref().map(|lines| {
            let mut nodes = lines.clone();
            nodes.sort();
            nodes.dedup();
            nodes.len()
        });
        let nodes = number("PBS_NUM_NODES")
            .or(distinct_nodes.filter(|&n| n > 0))
            .unwrap_or(1);
        let tasks = number("PBS_NP")
            .or_else(|| number("PBS_NUM_PPN").map(|n| n * nodes))
            .or(slots.map(|lines| lines.len()).filter(|&n| n > 0))
            .unwrap_or(nodes);
        Some(Allocation {
            scheduler: Scheduler::Pbs,
            job_id,
            nodes,
            tasks,
            cpus_per_task: number("OMP_NUM_THREADS").unwrap_or(1),
            hostfile: hostfile.map(PathBuf::from),
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::detect::env_of;

    pub(crate) fn no_files(_: &str) -> Option<String> {
        None
    }

    /// Captured inside `sbatch --nodes=2 --ntasks=8 --cpus-per-task=4`.
    pub(crate) const SLURM_TWO_NODES: &[(&str, &str)] = &[
        ("SLURM_JOB_ID", "81234"),
        ("SLURM_JOB_NUM_NODES", "2"),
        ("SLURM_NTASKS", "8"),
        ("SLURM_CPUS_PER_TASK", "4"),
        ("SLURM_NTASKS_PER_NODE", "4"),
    ];

    #[test]
    fn a_two_node_slurm_job() {
        let allocation = Allocation::from_env(env_of(SLURM_TWO_NODES), no_files).unwrap();
        assert_eq!(
            allocation,
            Allocation {
                scheduler: Scheduler::Slurm,
                job_id: "81234".into(),
                nodes: 2,
                tasks: 8,
                cpus_per_task: 4,
                hostfile: None,
            }
        );
    }

    #[test]
    fn slurm_tasks_per_node_when_ntasks_is_missing() {
        let captured = env_of(&[
            ("SLURM_JOB_ID", "7"),
            ("SLURM_NNODES", "3"),
            ("SLURM_NTASKS_PER_NODE", "2(x3)"),
        ]);
        let allocation = Allocation::from_env(captured, no_files).unwrap();
        assert_eq!((allocation.nodes, allocation.tasks), (3, 6));
        assert_eq!(allocation.cpus_per_task, 1);
    }

    #[test]
    fn a_pbs_job_counts_its_nodefile() {
        let captured = env_of(&[
            ("PBS_JOBID", "4711.server"),
            ("PBS_NODEFILE", "/var/spool/pbs/aux/4711.server"),
        ]);
        let nodefile = |path: &str| {
            (path == "/var/spool/pbs/aux/4711.server")
                .then(|| "n01\nn01\nn01\nn02\nn02\nn02\n".to_string())
        };
        let allocation = Allocation::from_env(captured, nodefile).unwrap();
        assert_eq!(allocation.scheduler, Scheduler::Pbs);
        assert_eq!((allocation.nodes, allocation.tasks), (2, 6));
        assert_eq!(
            allocation.hostfile,
            Some(PathBuf::from("/var/spool/pbs/aux/4711.server"))
        );
    }

    #[test]
    fn torque_variables_win_over_the_nodefile() {
        let captured = env_of(&[
            ("PBS_JOBID", "12"),
            ("PBS_NUM_NODES", "4"),
            ("PBS_NUM_PPN", "16"),
            ("OMP_NUM_THREADS", "2"),
        ]);
        let allocation = Allocation::from_env(captured, no_files).unwrap();
        assert_eq!((allocation.nodes, allocation.tasks), (4, 64));
        assert_eq!(allocation.cpus_per_task, 2);
    }

    #[test]
    fn no_scheduler_no_allocation() {
        assert_eq!(
            Allocation::from_env(env_of(&[("HOME", "/root")]), no_files),
            None
        );
    }
}
