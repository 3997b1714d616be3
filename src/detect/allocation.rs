//! The cores this process may really use: every limit (hardware, affinity, cgroup, batch job) and which binds.
//!
//! Threads beyond the tightest limit only time-share, so the advice and the
//! default thread count use [`UsableCores::count`], never the hardware count.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::cgroup::{self, CgroupLayout};
use super::topology::{self, CPU_SYSFS};
use super::{format_cpu_list, read_text};
use crate::fact::Fact;

/// Where a limit on usable cores comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LimitSource {
    /// Logical CPUs online.
    Hardware,
    /// The scheduler affinity mask (`sched_getaffinity`, `taskset`, `numactl`, MPI binding).
    Affinity,
    /// The cgroup cpuset (`cpuset.cpus.effective` / `cpuset.effective_cpus`).
    CgroupCpuset,
    /// The cgroup CPU bandwidth quota (v2 `cpu.max`, v1 `cpu.cfs_quota_us`/`cpu.cfs_period_us`), rounded up.
    CgroupQuota,
    /// The Slurm allocation (`SLURM_CPUS_PER_TASK`, else `SLURM_CPUS_ON_NODE`).
    Slurm,
    /// The PBS/Torque allocation (`PBS_NUM_PPN`, `NCPUS`, `PBS_NODEFILE`, `PBS_NP`).
    Pbs,
}

impl LimitSource {
    pub fn label(self) -> &'static str {
        match self {
            LimitSource::Hardware => "hardware",
            LimitSource::Affinity => "affinity mask",
            LimitSource::CgroupCpuset => "cgroup cpuset",
            LimitSource::CgroupQuota => "cgroup CPU quota",
            LimitSource::Slurm => "Slurm allocation",
            LimitSource::Pbs => "PBS allocation",
        }
    }
}

/// One source's limit on usable cores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CoreLimit {
    pub source: LimitSource,
    /// Cores this source allows; `null` when it sets no limit.
    pub cores: Fact<Option<usize>>,
    /// What was read, e.g. the CPU list or the quota and period.
    pub detail: String,
}

/// The usable core count, the limit that binds, and every limit considered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UsableCores {
    /// The smallest known limit (at least 1).
    pub count: usize,
    /// The source whose limit is `count` (the first in `limits` order on a tie).
    pub binding: Fact<LimitSource>,
    /// CPU time the quota allows, in CPUs (e.g. 0.5), when a quota is set.
    pub quota_cpus: Option<f64>,
    pub limits: Vec<CoreLimit>,
}

/// Reads every limit of the running process. Cheap: files, one syscall and the environment.
pub fn usable_cores() -> UsableCores {
    let env = |name: &str| std::env::var(name).ok();
    let layout = cgroup::current_layout();
    let hostname = read_text(Path::new("/proc/sys/kernel/hostname"));
    let mut limits = vec![hardware_limit(Path::new(CPU_SYSFS)), affinity_limit()];
    let (cpuset, quota, quota_cpus) = cgroup_limits(&layout);
    limits.push(cpuset);
    limits.push(quota);
    limits.push(slurm_limit(&env));
    let nodefile = env("PBS_NODEFILE").map(|path| read_text(Path::new(&path)));
    limits.push(pbs_limit(
        &env,
        nodefile.as_ref(),
        hostname.known().map(String::as_str),
    ));
    bind(limits, quota_cpus)
}

/// Picks the smallest known limit.
pub fn bind(limits: Vec<CoreLimit>, quota_cpus: Option<f64>) -> UsableCores {
    let binding = limits
        .iter()
        .filter_map(|limit| Some((limit.source, (*limit.cores.known()?)?)))
        .fold(
            None,
            |best: Option<(LimitSource, usize)>, (source, cores)| match best {
                Some((_, best_cores)) if best_cores <= cores => best,
                _ => Some((source, cores)),
            },
        );
    let (binding, count) = match binding {
        Some((source, cores)) => (Fact::Known(source), cores.max(1)),
        None => (
            Fact::unknown("no source gave a core count; assuming the standard library's count"),
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        ),
    };
    UsableCores {
        count,
        binding,
        quota_cpus,
        limits,
    }
}

fn limit(source: LimitSource, cores: Fact<Option<usize>>, detail: impl Into<String>) -> CoreLimit {
    CoreLimit {
        source,
        cores,
        detail: detail.into(),
    }
}

fn cpu_list_limit(source: LimitSource, cpus: Fact<BTreeSet<usize>>, origin: &str) -> CoreLimit {
    match cpus {
        Fact::Known(cpus) => limit(
            source,
            Fact::Known(Some(cpus.len())),
            format!("CPUs {} ({origin})", format_cpu_list(&cpus)),
        ),
        Fact::Unknown(reason) => limit(source, Fact::Unknown(reason), origin),
    }
}

fn hardware_limit(cpu_sysfs: &Path) -> CoreLimit {
    let online = topology::online_cpus(cpu_sysfs);
    match online {
        Fact::Known(_) => cpu_list_limit(LimitSource::Hardware, online, "online in sysfs"),
        Fact::Unknown(reason) => match online_cpus_from_sysconf() {
            Some(count) => limit(
                LimitSource::Hardware,
                Fact::Known(Some(count)),
                format!("{count} online (sysconf; {reason})"),
            ),
            None => limit(
                LimitSource::Hardware,
                Fact::Unknown(reason),
                "sysfs and sysconf",
            ),
        },
    }
}

fn online_cpus_from_sysconf() -> Option<usize> {
    #[cfg(unix)]
    {
        // SAFETY: sysconf has no preconditions.
        let count = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
        usize::try_from(count).ok().filter(|&n| n > 0)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

fn affinity_limit() -> CoreLimit {
    cpu_list_limit(LimitSource::Affinity, affinity_cpus(), "sched_getaffinity")
}

/// The CPUs in this thread's affinity mask.
#[cfg(target_os = "linux")]
fn affinity_cpus() -> Fact<BTreeSet<usize>> {
    // SAFETY: cpu_set_t is plain bits; zeroed is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: the size passed is the size of `set`, which the call fills.
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return Fact::unknown(format!(
            "sched_getaffinity failed: {}",
            std::io::Error::last_os_error()
        ));
    }
    let max_cpus = 8 * std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: every index is below the set's capacity.
    Fact::Known(
        (0..max_cpus)
            .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
            .collect(),
    )
}

#[cfg(not(target_os = "linux"))]
fn affinity_cpus() -> Fact<BTreeSet<usize>> {
    Fact::unknown("affinity masks are read on Linux only")
}

/// The cpuset and quota limits, and the quota in CPUs for the record.
fn cgroup_limits(layout: &Fact<CgroupLayout>) -> (CoreLimit, CoreLimit, Option<f64>) {
    let layout = match layout {
        Fact::Known(layout) => layout,
        Fact::Unknown(reason) => {
            return (
                limit(
                    LimitSource::CgroupCpuset,
                    Fact::unknown(reason.clone()),
                    "/proc/self/cgroup",
                ),
                limit(
                    LimitSource::CgroupQuota,
                    Fact::unknown(reason.clone()),
                    "/proc/self/cgroup",
                ),
                None,
            );
        }
    };
    let cpuset = match &layout.cpuset {
        None => limit(
            LimitSource::CgroupCpuset,
            Fact::Known(None),
            "no cpuset controller",
        ),
        Some(dir) => match cgroup::cpuset_cpus(dir) {
            Fact::Known(None) => limit(
                LimitSource::CgroupCpuset,
                Fact::Known(None),
                format!("cpuset controller not enabled for {}", dir.dir.display()),
            ),
            Fact::Known(Some((list, file))) => cpu_list_limit(
                LimitSource::CgroupCpuset,
                topology::parse_cpu_list(&list).into(),
                &file.display().to_string(),
            ),
            Fact::Unknown(reason) => {
                limit(LimitSource::CgroupCpuset, Fact::Unknown(reason), "cpuset")
            }
        },
    };
    let (quota, quota_cpus) = match &layout.cpu {
        None => (
            limit(
                LimitSource::CgroupQuota,
                Fact::Known(None),
                "no cpu controller",
            ),
            None,
        ),
        Some(dir) => match cgroup::cpu_quota(dir) {
            Fact::Known(Some((cpus, file))) => (
                limit(
                    LimitSource::CgroupQuota,
                    Fact::Known(Some(cgroup::cores_for_quota(cpus))),
                    format!("{cpus:.2} CPUs, rounded up ({file})"),
                ),
                Some(cpus),
            ),
            Fact::Known(None) => (
                limit(
                    LimitSource::CgroupQuota,
                    Fact::Known(None),
                    format!("no quota set under {}", dir.dir.display()),
                ),
                None,
            ),
            Fact::Unknown(reason) => (
                limit(LimitSource::CgroupQuota, Fact::Unknown(reason), "quota"),
                None,
            ),
        },
    };
    (cpuset, quota, quota_cpus)
}

fn parse_count(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<Result<usize, String>> {
    let value = env(name)?;
    Some(
        value
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("{name}=`{value}` is not a positive count")),
    )
}

fn env_limit(
    source: LimitSource,
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
) -> Option<CoreLimit> {
    parse_count(env, name).map(|count| match count {
        Ok(cores) => limit(source, Fact::Known(Some(cores)), format!("{name}={cores}")),
        Err(reason) => limit(source, Fact::Unknown(reason), name),
    })
}

/// Slurm: `SLURM_CPUS_PER_TASK` (cores of one task), else `SLURM_CPUS_ON_NODE`.
pub fn slurm_limit(env: &dyn Fn(&str) -> Option<String>) -> CoreLimit {
    env_limit(LimitSource::Slurm, env, "SLURM_CPUS_PER_TASK")
        .or_else(|| env_limit(LimitSource::Slurm, env, "SLURM_CPUS_ON_NODE"))
        .unwrap_or_else(|| {
            let detail = if env("SLURM_JOB_ID").is_some() {
                "Slurm job without SLURM_CPUS_PER_TASK or SLURM_CPUS_ON_NODE"
            } else {
                "not in a Slurm job"
            };
            limit(LimitSource::Slurm, Fact::Known(None), detail)
        })
}

/// PBS/Torque: `PBS_NUM_PPN`, else PBS Pro's `NCPUS`, else this host's lines in
/// `PBS_NODEFILE`, else `PBS_NP`.
pub fn pbs_limit(
    env: &dyn Fn(&str) -> Option<String>,
    nodefile: Option<&Fact<String>>,
    hostname: Option<&str>,
) -> CoreLimit {
    let from_nodefile = || {
        let contents = nodefile?.known()?;
        let host = hostname?;
        let short = host.split('.').next().unwrap_or(host);
        let slots = contents
            .lines()
            .map(str::trim)
            .filter(|line| line.split('.').next() == Some(short))
            .count();
        (slots > 0).then(|| {
            limit(
                LimitSource::Pbs,
                Fact::Known(Some(slots)),
                format!("{slots} lines for {short} in PBS_NODEFILE"),
            )
        })
    };
    env_limit(LimitSource::Pbs, env, "PBS_NUM_PPN")
        .or_else(|| {
            env_limit(LimitSource::Pbs, env, "NCPUS").filter(|_| env("PBS_JOBID").is_some())
        })
        .or_else(from_nodefile)
        .or_else(|| env_limit(LimitSource::Pbs, env, "PBS_NP"))
        .unwrap_or_else(|| {
            let detail = if env("PBS_JOBID").is_some() {
                "PBS job without PBS_NUM_PPN, NCPUS, PBS_NODEFILE or PBS_NP"
            } else {
                "not in a PBS job"
            };
            limit(LimitSource::Pbs, Fact::Known(None), detail)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::env_of;

    #[test]
    fn slurm_cpus_per_task_wins_over_cpus_on_node() {
        let env = env_of(&[
            ("SLURM_JOB_ID", "42"),
            ("SLURM_CPUS_ON_NODE", "16"),
            ("SLURM_CPUS_PER_TASK", "4"),
        ]);
        assert_eq!(slurm_limit(&env).cores, Fact::Known(Some(4)));
        let env = env_of(&[("SLURM_JOB_ID", "42"), ("SLURM_CPUS_ON_NODE", "16")]);
        let limit = slurm_limit(&env);
        assert_eq!(limit.cores, Fact::Known(Some(16)));
        assert_eq!(limit.detail, "SLURM_CPUS_ON_NODE=16");
    }

    #[test]
    fn outside_slurm_there_is_no_slurm_limit() {
        let limit = slurm_limit(&env_of(&[]));
        assert_eq!(limit.cores, Fact::Known(None));
        assert_eq!(limit.detail, "not in a Slurm job");
    }

    #[test]
    fn a_malformed_slurm_variable_is_unknown_not_zero() {
        let limit = slurm_limit(&env_of(&[("SLURM_CPUS_PER_TASK", "four")]));
        assert!(matches!(limit.cores, Fact::Unknown(ref r) if r.contains("four")));
    }

    #[test]
    fn pbs_sources_in_order() {
        let torque = env_of(&[
            ("PBS_JOBID", "7.head"),
            ("PBS_NUM_PPN", "8"),
            ("PBS_NP", "32"),
        ]);
        assert_eq!(pbs_limit(&torque, None, None).cores, Fact::Known(Some(8)));
        let nodefile = Fact::Known("node1\nnode1\nnode2.cluster\nnode1.cluster\n".to_string());
        let with_nodefile = env_of(&[("PBS_JOBID", "7.head"), ("PBS_NP", "4")]);
        let limit = pbs_limit(&with_nodefile, Some(&nodefile), Some("node1.cluster"));
        assert_eq!(limit.cores, Fact::Known(Some(3)));
        assert_eq!(
            pbs_limit(&with_nodefile, None, None).cores,
            Fact::Known(Some(4))
        );
        let pbs_pro = env_of(&[("PBS_JOBID", "9.pbs"), ("NCPUS", "6")]);
        assert_eq!(pbs_limit(&pbs_pro, None, None).cores, Fact::Known(Some(6)));
        assert_eq!(
            pbs_limit(&env_of(&[("NCPUS", "6")]), None, None).cores,
            Fact::Known(None),
            "NCPUS alone is not a PBS job"
        );
    }

    fn known(source: LimitSource, cores: Option<usize>) -> CoreLimit {
        limit(source, Fact::Known(cores), "test")
    }

    #[test]
    fn the_smallest_limit_binds_and_ties_go_to_the_first() {
        let usable = bind(
            vec![
                known(LimitSource::Hardware, Some(64)),
                known(LimitSource::Affinity, Some(8)),
                known(LimitSource::CgroupCpuset, Some(8)),
                known(LimitSource::CgroupQuota, Some(1)),
                known(LimitSource::Slurm, None),
                limit(LimitSource::Pbs, Fact::unknown("odd"), "test"),
            ],
            Some(0.5),
        );
        assert_eq!(usable.count, 1);
        assert_eq!(usable.binding, Fact::Known(LimitSource::CgroupQuota));
        let tie = bind(
            vec![
                known(LimitSource::Hardware, Some(2)),
                known(LimitSource::Affinity, Some(2)),
            ],
            None,
        );
        assert_eq!(tie.binding, Fact::Known(LimitSource::Hardware));
    }

    #[test]
    fn this_process_has_at_least_one_usable_core() {
        let usable = usable_cores();
        let sources: Vec<LimitSource> = usable.limits.iter().map(|l| l.source).collect();
        assert_eq!(
            sources,
            [
                LimitSource::Hardware,
                LimitSource::Affinity,
                LimitSource::CgroupCpuset,
                LimitSource::CgroupQuota,
                LimitSource::Slurm,
                LimitSource::Pbs,
            ]
        );
        let known: Vec<(LimitSource, usize)> = usable
            .limits
            .iter()
            .filter_map(|l| Some((l.source, (*l.cores.known()?)?)))
            .collect();
        // Linux always shows a process the online CPUs and its affinity mask.
        #[cfg(target_os = "linux")]
        for source in [LimitSource::Hardware, LimitSource::Affinity] {
            assert!(
                known.iter().any(|&(s, _)| s == source),
                "{source:?} unknown: {:?}",
                usable.limits
            );
        }
        if !known.is_empty() {
            let Fact::Known(binding) = usable.binding else {
                panic!("no binding among known limits {known:?}");
            };
            assert!(
                known
                    .iter()
                    .any(|&(s, cores)| s == binding && cores.max(1) == usable.count),
                "{binding:?} does not allow {} cores: {known:?}",
                usable.count
            );
            assert!(
                known.iter().all(|&(_, cores)| usable.count <= cores.max(1)),
                "{} cores exceed a limit: {known:?}",
                usable.count
            );
        }
        // An independent count of the hardware: never more usable cores than online CPUs.
        if let Some(online) = online_cpus_from_sysconf() {
            assert!(usable.count <= online, "{} > {online} online", usable.count);
        }
        assert!(usable.count >= 1);
    }
}
