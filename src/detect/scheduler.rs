//! Batch schedulers: whether we run inside a Slurm, PBS, LSF or SGE job, and which submit commands exist.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::read_text;
use super::run::Runner;
use crate::fact::Fact;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Scheduler {
    /// The batch job this process runs in; `null` outside any job.
    pub job: Option<BatchJob>,
    /// Submit commands looked for on PATH.
    pub commands: Vec<SchedulerCommand>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BatchJob {
    /// `slurm`, `pbs`, `lsf` or `sge`.
    pub scheduler: String,
    pub job_id: String,
    pub nodes: Fact<usize>,
    /// Tasks (MPI ranks / slots) in the whole job.
    pub tasks: Fact<usize>,
    pub node_list: Fact<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SchedulerCommand {
    /// `sbatch`, `qsub` or `bsub`.
    pub name: String,
    /// The scheduler it belongs to (`qsub` is PBS or SGE).
    pub scheduler: String,
    pub path: Fact<String>,
}

const SUBMIT_COMMANDS: [(&str, &str); 3] =
    [("sbatch", "slurm"), ("qsub", "pbs or sge"), ("bsub", "lsf")];

fn count(env: &dyn Fn(&str) -> Option<String>, names: &[&str]) -> Fact<usize> {
    for name in names {
        if let Some(value) = env(name) {
            return Fact::from_option(value.trim().parse().ok(), || {
                format!("{name}=`{value}` is not a count")
            });
        }
    }
    Fact::unknown(format!("{} not set", names.join(" / ")))
}

fn text(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Fact<String> {
    Fact::from_option(env(name), || format!("{name} not set"))
}

/// The job described by the environment; `nodefile` is the contents of `PBS_NODEFILE` when set.
pub fn job_from_env(
    env: &dyn Fn(&str) -> Option<String>,
    nodefile: Option<&Fact<String>>,
) -> Option<BatchJob> {
    if let Some(job_id) = env("SLURM_JOB_ID") {
        return Some(BatchJob {
            scheduler: "slurm".to_string(),
            job_id,
            nodes: count(env, &["SLURM_JOB_NUM_NODES", "SLURM_NNODES"]),
            tasks: count(env, &["SLURM_NTASKS", "SLURM_NPROCS"]),
            node_list: text(env, "SLURM_JOB_NODELIST"),
        });
    }
    if let Some(job_id) = env("PBS_JOBID") {
        let hosts: Fact<Vec<String>> = match nodefile {
            Some(Fact::Known(contents)) => Fact::Known(
                contents
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            Some(Fact::Unknown(reason)) => Fact::unknown(reason.clone()),
            None => Fact::unknown("PBS_NODEFILE not set"),
        };
        let unique = hosts
            .as_ref()
            .map(|h| h.iter().collect::<BTreeSet<_>>().len());
        return Some(BatchJob {
            scheduler: "pbs".to_string(),
            job_id,
            nodes: count(env, &["PBS_NUM_NODES"]).or_else(|_| unique),
            tasks: count(env, &["PBS_NP"]).or_else(|_| hosts.as_ref().map(Vec::len)),
            node_list: hosts.map(|h| {
                h.into_iter()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(",")
            }),
        });
    }
    if let Some(job_id) = env("LSB_JOBID") {
        // "host1 4 host2 4": host and slot pairs.
        let pairs: Fact<Vec<(String, usize)>> = text(env, "LSB_MCPU_HOSTS").and_then(|hosts| {
            let words: Vec<&str> = hosts.split_whitespace().collect();
            let pairs: Option<Vec<_>> = words
                .chunks(2)
                .map(|pair| Some((pair.first()?.to_string(), pair.get(1)?.parse().ok()?)))
                .collect();
            Fact::from_option(pairs, || {
                format!("LSB_MCPU_HOSTS=`{hosts}` is not host/slot pairs")
            })
        });
        return Some(BatchJob {
            scheduler: "lsf".to_string(),
            job_id,
            nodes: pairs.as_ref().map(Vec::len),
            tasks: count(env, &["LSB_DJOB_NUMPROC"])
                .or_else(|_| pairs.as_ref().map(|p| p.iter().map(|(_, n)| n).sum())),
            node_list: pairs.map(|p| p.into_iter().map(|(h, _)| h).collect::<Vec<_>>().join(",")),
        });
    }
    if let (Some(job_id), Some(_)) = (env("JOB_ID"), env("SGE_ROOT")) {
        return Some(BatchJob {
            scheduler: "sge".to_string(),
            job_id,
            nodes: count(env, &["NHOSTS"]),
            tasks: count(env, &["NSLOTS"]),
            node_list: Fact::unknown("SGE lists hosts in PE_HOSTFILE, not read"),
        });
    }
    None
}

pub fn detect(runner: &Runner) -> Scheduler {
    let env = |name: &str| std::env::var(name).ok();
    let nodefile = env("PBS_NODEFILE").map(|path| read_text(Path::new(&path)));
    Scheduler {
        job: job_from_env(&env, nodefile.as_ref()),
        commands: SUBMIT_COMMANDS
            .iter()
            .map(|(name, scheduler)| SchedulerCommand {
                name: name.to_string(),
                scheduler: scheduler.to_string(),
                path: Fact::from_option(runner.find(name).map(|p| p.display().to_string()), || {
                    format!("`{name}` not found on PATH")
                }),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::env_of;

    #[test]
    fn slurm_job() {
        let env = env_of(&[
            ("SLURM_JOB_ID", "123456"),
            ("SLURM_JOB_NUM_NODES", "2"),
            ("SLURM_NTASKS", "64"),
            ("SLURM_JOB_NODELIST", "node[01-02]"),
        ]);
        let job = job_from_env(&env, None).unwrap();
        assert_eq!(job.scheduler, "slurm");
        assert_eq!(job.job_id, "123456");
        assert_eq!(job.nodes, Fact::Known(2));
        assert_eq!(job.tasks, Fact::Known(64));
        assert_eq!(job.node_list, Fact::Known("node[01-02]".to_string()));
    }

    #[test]
    fn pbs_job_counts_the_nodefile() {
        let env = env_of(&[("PBS_JOBID", "77.head")]);
        let nodefile = Fact::Known("n1\nn1\nn2\nn2\n".to_string());
        let job = job_from_env(&env, Some(&nodefile)).unwrap();
        assert_eq!(job.scheduler, "pbs");
        assert_eq!(job.nodes, Fact::Known(2));
        assert_eq!(job.tasks, Fact::Known(4));
        assert_eq!(job.node_list, Fact::Known("n1,n2".to_string()));
    }

    #[test]
    fn lsf_and_sge_jobs() {
        let lsf = job_from_env(
            &env_of(&[("LSB_JOBID", "5"), ("LSB_MCPU_HOSTS", "a 4 b 2")]),
            None,
        )
        .unwrap();
        assert_eq!((lsf.nodes, lsf.tasks), (Fact::Known(2), Fact::Known(6)));
        let sge = job_from_env(
            &env_of(&[
                ("JOB_ID", "9"),
                ("SGE_ROOT", "/opt/sge"),
                ("NHOSTS", "1"),
                ("NSLOTS", "8"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!((sge.scheduler.as_str(), sge.tasks), ("sge", Fact::Known(8)));
    }

    #[test]
    fn no_job_outside_a_scheduler() {
        assert_eq!(job_from_env(&env_of(&[("JOB_ID", "1")]), None), None);
        let malformed = job_from_env(
            &env_of(&[("SLURM_JOB_ID", "1"), ("SLURM_NTASKS", "x")]),
            None,
        )
        .unwrap();
        assert!(malformed.tasks.known().is_none());
    }
}
