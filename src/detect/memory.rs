//! Memory: total, available, the cgroup limit, page size and huge pages.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::cgroup::{self, CgroupLayout};
use super::read_text;
use crate::fact::Fact;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Memory {
    /// `MemTotal` of `/proc/meminfo`.
    pub total_bytes: Fact<u64>,
    /// `MemAvailable` of `/proc/meminfo`: what can be allocated without swapping.
    pub available_bytes: Fact<u64>,
    /// The cgroup memory limit; `null` when none is set.
    pub cgroup_limit_bytes: Fact<Option<u64>>,
    pub page_size_bytes: Fact<u64>,
    pub huge_pages: HugePages,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HugePages {
    /// `Hugepagesize` of `/proc/meminfo`.
    pub size_bytes: Fact<u64>,
    /// Pre-allocated huge pages (`HugePages_Total`) and how many are free.
    pub total: Fact<u64>,
    pub free: Fact<u64>,
    /// Transparent huge pages mode: `always`, `madvise` or `never`.
    pub transparent: Fact<String>,
}

/// Reads one `Key:   value [kB]` line of `/proc/meminfo` into bytes (or a count without unit).
pub fn meminfo_value(meminfo: &str, key: &str) -> Result<u64, String> {
    let line = meminfo
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .ok_or_else(|| format!("no {key} in /proc/meminfo"))?;
    let mut fields = line.split_whitespace();
    let value: u64 = fields
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{key} in /proc/meminfo is `{}`", line.trim()))?;
    match fields.next() {
        Some("kB") => Ok(value * 1024),
        None => Ok(value),
        Some(unit) => Err(format!("{key} has unknown unit `{unit}`")),
    }
}

/// The selected mode of `transparent_hugepage/enabled`, e.g. `always [madvise] never` → `madvise`.
pub fn parse_thp_mode(text: &str) -> Result<String, String> {
    text.split_whitespace()
        .find_map(|word| word.strip_prefix('[')?.strip_suffix(']'))
        .map(str::to_string)
        .ok_or_else(|| format!("no selected mode in `{}`", text.trim()))
}

pub fn detect(layout: &Fact<CgroupLayout>) -> Memory {
    let meminfo = read_text(Path::new("/proc/meminfo"));
    let value = |key: &str| {
        meminfo
            .as_ref()
            .and_then(|text| meminfo_value(text, key).into())
    };
    Memory {
        total_bytes: value("MemTotal"),
        available_bytes: value("MemAvailable"),
        cgroup_limit_bytes: match layout {
            Fact::Known(CgroupLayout {
                memory: Some(dir), ..
            }) => cgroup::memory_limit(dir),
            Fact::Known(_) => Fact::Known(None),
            Fact::Unknown(reason) => Fact::unknown(reason.clone()),
        },
        page_size_bytes: page_size(),
        huge_pages: HugePages {
            size_bytes: value("Hugepagesize"),
            total: value("HugePages_Total"),
            free: value("HugePages_Free"),
            transparent: read_text(Path::new("/sys/kernel/mm/transparent_hugepage/enabled"))
                .and_then(|text| parse_thp_mode(&text).into()),
        },
    }
}

/// The memory this process may use, and what sets it: the smaller of the memory available now
/// (`MemAvailable`) and the cgroup's limit; `None` when neither could be read.
pub fn usable_bytes(memory: &Memory) -> Option<(u64, String)> {
    let available = memory
        .available_bytes
        .known()
        .map(|&bytes| (bytes, "available memory (MemAvailable)".to_string()));
    let limit = memory
        .cgroup_limit_bytes
        .known()
        .copied()
        .flatten()
        .map(|bytes| (bytes, "the cgroup's memory limit".to_string()));
    [available, limit]
        .into_iter()
        .flatten()
        .min_by_key(|(bytes, _)| *bytes)
}

fn page_size() -> Fact<u64> {
    #[cfg(unix)]
    {
        // SAFETY: sysconf has no preconditions.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        Fact::from_option(u64::try_from(size).ok().filter(|&s| s > 0), || {
            "sysconf(_SC_PAGESIZE) failed".to_string()
        })
    }
    #[cfg(not(unix))]
    {
        Fact::unknown("page size is read on Unix only")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usable_memory_is_the_smaller_of_available_and_the_cgroup_limit() {
        let mut memory = detect(&Fact::unknown("no cgroups in this test"));
        memory.available_bytes = Fact::Known(8 << 30);
        memory.cgroup_limit_bytes = Fact::Known(Some(2 << 30));
        assert_eq!(
            usable_bytes(&memory),
            Some((2 << 30, "the cgroup's memory limit".into()))
        );
        memory.cgroup_limit_bytes = Fact::Known(None);
        let (bytes, what) = usable_bytes(&memory).unwrap();
        assert_eq!(bytes, 8 << 30);
        assert!(what.contains("MemAvailable"), "{what}");
        memory.available_bytes = Fact::unknown("no /proc/meminfo");
        assert_eq!(usable_bytes(&memory), None);
    }

    const MEMINFO: &str = "MemTotal:       24684084 kB\nMemFree:        11947400 kB\nMemAvailable:   24143892 kB\nHugePages_Total:       4\nHugePages_Free:        3\nHugepagesize:       2048 kB\n";

    #[test]
    fn meminfo_values_in_bytes_and_counts() {
        assert_eq!(meminfo_value(MEMINFO, "MemTotal").unwrap(), 24684084 * 1024);
        assert_eq!(
            meminfo_value(MEMINFO, "MemAvailable").unwrap(),
            24143892 * 1024
        );
        assert_eq!(meminfo_value(MEMINFO, "HugePages_Total").unwrap(), 4);
        assert_eq!(meminfo_value(MEMINFO, "Hugepagesize").unwrap(), 2 << 20);
        assert!(meminfo_value(MEMINFO, "SwapTotal").is_err());
        assert!(meminfo_value("MemTotal: lots kB", "MemTotal").is_err());
    }

    #[test]
    fn transparent_huge_page_mode() {
        assert_eq!(
            parse_thp_mode("always [madvise] never\n").unwrap(),
            "madvise"
        );
        assert_eq!(parse_thp_mode("[always] madvise never").unwrap(), "always");
        assert!(parse_thp_mode("always madvise never").is_err());
    }
}
