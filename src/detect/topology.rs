//! Cores, sockets, SMT, NUMA nodes and caches, as Linux's sysfs describes them.
//!
//! sysfs is read first; cpuid cache data is only a fallback (AMD's leaf
//! 0x80000006 misreports L3 under KVM), see [`super::cpu`].

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::read_text;
use crate::fact::Fact;

pub const CPU_SYSFS: &str = "/sys/devices/system/cpu";
pub const NODE_SYSFS: &str = "/sys/devices/system/node";

/// How the hardware's cores are arranged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Topology {
    /// Logical CPUs online (hardware threads).
    pub logical_cpus: Fact<usize>,
    /// Distinct (socket, core) pairs among the online CPUs.
    pub physical_cores: Fact<usize>,
    pub sockets: Fact<usize>,
    /// Logical CPUs per physical core (2 with SMT/Hyper-Threading on).
    pub threads_per_core: Fact<usize>,
    /// Whether SMT is active, from `/sys/devices/system/cpu/smt/active`.
    pub smt_active: Fact<bool>,
    pub numa_nodes: Fact<usize>,
}

/// One cache level as seen from CPU 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Cache {
    pub level: u8,
    /// `data`, `instruction` or `unified`.
    pub kind: String,
    pub size_bytes: u64,
    pub line_bytes: Fact<u32>,
    pub ways: Fact<u32>,
    /// Logical CPUs sharing this cache.
    pub shared_by_cpus: Fact<usize>,
}

/// The caches and where their description came from (`sysfs` or `cpuid`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Caches {
    pub source: String,
    pub levels: Vec<Cache>,
}

/// Parses a Linux CPU list such as `0-3,8` into CPU numbers.
pub fn parse_cpu_list(text: &str) -> Result<BTreeSet<usize>, String> {
    let mut cpus = BTreeSet::new();
    for part in text
        .trim()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let number = |s: &str| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{s}` in CPU list `{}` is not a number", text.trim()))
        };
        match part.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (number(first)?, number(last)?);
                if first > last {
                    return Err(format!("descending range `{part}` in CPU list"));
                }
                cpus.extend(first..=last);
            }
            None => {
                cpus.insert(number(part)?);
            }
        }
    }
    Ok(cpus)
}

/// Parses a sysfs cache size such as `32K`, `1024K` or `32M` into bytes.
pub fn parse_cache_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, multiplier) = match text.chars().last() {
        Some('K') => (&text[..text.len() - 1], 1 << 10),
        Some('M') => (&text[..text.len() - 1], 1 << 20),
        Some('G') => (&text[..text.len() - 1], 1 << 30),
        _ => (text, 1),
    };
    digits
        .parse::<u64>()
        .map(|n| n * multiplier)
        .map_err(|_| format!("cache size `{text}` is not a size"))
}

/// The online CPUs listed in `<cpu_sysfs>/online`.
pub fn online_cpus(cpu_sysfs: &Path) -> Fact<BTreeSet<usize>> {
    read_text(&cpu_sysfs.join("online")).and_then(|text| parse_cpu_list(&text).into())
}

/// Reads the topology from sysfs (`cpu_sysfs` is normally [`CPU_SYSFS`]).
pub fn topology(cpu_sysfs: &Path, node_sysfs: &Path) -> Topology {
    let online = online_cpus(cpu_sysfs);
    let logical_cpus = online.as_ref().map(BTreeSet::len);
    let cores_and_sockets = online.as_ref().and_then(|cpus| {
        let mut cores = BTreeSet::new();
        let mut sockets = BTreeSet::new();
        for cpu in cpus {
            let dir = cpu_sysfs.join(format!("cpu{cpu}/topology"));
            let read_id = |name: &str| -> Fact<i64> {
                read_text(&dir.join(name)).and_then(|text| {
                    text.parse::<i64>()
                        .map_err(|_| format!("{name} of cpu{cpu} is `{text}`"))
                        .into()
                })
            };
            let (Fact::Known(socket), Fact::Known(core)) =
                (read_id("physical_package_id"), read_id("core_id"))
            else {
                return Fact::unknown(format!("no topology ids in sysfs for cpu{cpu}"));
            };
            sockets.insert(socket);
            cores.insert((socket, core));
        }
        Fact::Known((cores.len(), sockets.len()))
    });
    let physical_cores = cores_and_sockets.as_ref().map(|&(cores, _)| cores);
    let sockets = cores_and_sockets.map(|(_, sockets)| sockets);
    let threads_per_core = match (&logical_cpus, &physical_cores) {
        (Fact::Known(logical), Fact::Known(physical)) if *physical > 0 => {
            Fact::Known(logical.div_ceil(*physical))
        }
        (Fact::Unknown(reason), _) | (_, Fact::Unknown(reason)) => Fact::unknown(reason.clone()),
        _ => Fact::unknown("no physical cores found"),
    };
    let smt_active =
        read_text(&cpu_sysfs.join("smt/active")).and_then(|text| match text.as_str() {
            "1" => Fact::Known(true),
            "0" => Fact::Known(false),
            other => Fact::unknown(format!("smt/active is `{other}`")),
        });
    let numa_nodes = read_text(&node_sysfs.join("online"))
        .and_then(|text| parse_cpu_list(&text).map(|nodes| nodes.len()).into());
    Topology {
        logical_cpus,
        physical_cores,
        sockets,
        threads_per_core,
        smt_active,
        numa_nodes,
    }
}

/// The caches of CPU 0 from `<cpu_sysfs>/cpu0/cache/index*`.
pub fn sysfs_caches(cpu_sysfs: &Path) -> Fact<Caches> {
    let cache_dir = cpu_sysfs.join("cpu0/cache");
    let entries = match std::fs::read_dir(&cache_dir) {
        Ok(entries) => entries,
        Err(error) => {
            return Fact::unknown(format!("cannot read {}: {error}", cache_dir.display()));
        }
    };
    let mut index_dirs: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("index"))
        })
        .collect();
    index_dirs.sort();
    let mut levels = Vec::new();
    for dir in index_dirs {
        let field = |name: &str| read_text(&dir.join(name));
        let number = |name: &str| {
            field(name).and_then(|t| {
                t.parse::<u32>()
                    .map_err(|_| format!("{name} is `{t}`"))
                    .into()
            })
        };
        let (Fact::Known(level), Fact::Known(size)) = (number("level"), field("size")) else {
            continue;
        };
        let Ok(size_bytes) = parse_cache_size(&size) else {
            continue;
        };
        levels.push(Cache {
            level: u8::try_from(level).unwrap_or(u8::MAX),
            kind: field("type")
                .known()
                .map_or_else(|| "unknown".to_string(), |t| t.to_lowercase()),
            size_bytes,
            line_bytes: number("coherency_line_size"),
            ways: number("ways_of_associativity"),
            shared_by_cpus: field("shared_cpu_list")
                .and_then(|list| parse_cpu_list(&list).map(|cpus| cpus.len()).into()),
        });
    }
    if levels.is_empty() {
        Fact::unknown(format!(
            "no readable cache descriptions in {}",
            cache_dir.display()
        ))
    } else {
        Fact::Known(Caches {
            source: "sysfs".to_string(),
            levels,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn cpu_lists_with_ranges_and_singles() {
        assert_eq!(
            parse_cpu_list("0-3,8\n")
                .unwrap()
                .into_iter()
                .collect::<Vec<_>>(),
            vec![0, 1, 2, 3, 8]
        );
        assert_eq!(parse_cpu_list("5").unwrap().len(), 1);
        assert!(parse_cpu_list("").unwrap().is_empty());
        assert!(parse_cpu_list("3-1").is_err());
        assert!(parse_cpu_list("a-b").is_err());
    }

    #[test]
    fn cache_sizes_with_suffixes() {
        assert_eq!(parse_cache_size("32K").unwrap(), 32 * 1024);
        assert_eq!(parse_cache_size("32768K").unwrap(), 32 << 20);
        assert_eq!(parse_cache_size("2M").unwrap(), 2 << 20);
        assert_eq!(parse_cache_size("512").unwrap(), 512);
        assert!(parse_cache_size("big").is_err());
    }

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn topology_of_a_two_socket_smt_machine() {
        let dir = tempfile::tempdir().unwrap();
        let cpu = dir.path().join("cpu");
        let node = dir.path().join("node");
        write(&cpu, "online", "0-7\n");
        write(&cpu, "smt/active", "1\n");
        write(&node, "online", "0-1\n");
        for id in 0..8 {
            let socket = id / 4;
            let core = id % 2;
            write(
                &cpu,
                &format!("cpu{id}/topology/physical_package_id"),
                &format!("{socket}\n"),
            );
            write(
                &cpu,
                &format!("cpu{id}/topology/core_id"),
                &format!("{core}\n"),
            );
        }
        let topology = topology(&cpu, &node);
        assert_eq!(topology.logical_cpus, Fact::Known(8));
        assert_eq!(topology.physical_cores, Fact::Known(4));
        assert_eq!(topology.sockets, Fact::Known(2));
        assert_eq!(topology.threads_per_core, Fact::Known(2));
        assert_eq!(topology.smt_active, Fact::Known(true));
        assert_eq!(topology.numa_nodes, Fact::Known(2));
    }

    #[test]
    fn missing_sysfs_gives_reasons_not_zeros() {
        let dir = tempfile::tempdir().unwrap();
        let topology = topology(dir.path(), dir.path());
        assert!(matches!(topology.logical_cpus, Fact::Unknown(ref r) if r.contains("online")));
        assert!(sysfs_caches(dir.path()).known().is_none());
    }

    #[test]
    fn caches_from_sysfs_index_directories() {
        let dir = tempfile::tempdir().unwrap();
        let cpu = dir.path();
        for (index, level, kind, size, shared) in [
            (0, 1, "Data", "32K", "0"),
            (1, 1, "Instruction", "32K", "0"),
            (2, 2, "Unified", "1024K", "0"),
            (3, 3, "Unified", "32768K", "0-1"),
        ] {
            let base = format!("cpu0/cache/index{index}");
            write(cpu, &format!("{base}/level"), &format!("{level}\n"));
            write(cpu, &format!("{base}/type"), &format!("{kind}\n"));
            write(cpu, &format!("{base}/size"), &format!("{size}\n"));
            write(cpu, &format!("{base}/coherency_line_size"), "64\n");
            write(
                cpu,
                &format!("{base}/shared_cpu_list"),
                &format!("{shared}\n"),
            );
        }
        let caches = sysfs_caches(cpu).known().cloned().unwrap();
        assert_eq!(caches.source, "sysfs");
        assert_eq!(caches.levels.len(), 4);
        assert_eq!(caches.levels[0].kind, "data");
        assert_eq!(caches.levels[3].size_bytes, 32 << 20);
        assert_eq!(caches.levels[3].shared_by_cpus, Fact::Known(2));
        assert_eq!(caches.levels[0].line_bytes, Fact::Known(64));
        assert!(caches.levels[0].ways.known().is_none());
    }
}
