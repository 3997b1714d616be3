//! Finds this process's cgroup directories (v1, v2 or hybrid) and reads the limits they set.
//!
//! Containers and batch systems limit CPUs and memory through cgroups, not
//! through what the hardware shows: a quota of 0.5 CPU on a 64-core node is
//! one usable core, not 64.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::read_text;
use crate::fact::Fact;

/// Which cgroup hierarchies this process sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CgroupVersion {
    V1,
    V2,
    /// v1 controllers plus an (empty or partial) v2 unified hierarchy.
    Hybrid,
}

/// A controller's directory for this process and the hierarchy's mount point above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerDir {
    pub dir: PathBuf,
    pub mount: PathBuf,
    pub v2: bool,
}

impl ControllerDir {
    /// The directory and its ancestors up to the mount point: a limit anywhere above applies too.
    fn dirs_up_to_mount(&self) -> impl Iterator<Item = &Path> {
        self.dir
            .ancestors()
            .take_while(move |dir| dir.starts_with(&self.mount))
    }
}

/// Where the cpu, cpuset and memory controllers of this process live.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CgroupLayout {
    pub version: Option<CgroupVersion>,
    pub cpu: Option<ControllerDir>,
    pub cpuset: Option<ControllerDir>,
    pub memory: Option<ControllerDir>,
}

struct Mount {
    root: String,
    mount_point: PathBuf,
    v2: bool,
    controllers: Vec<String>,
}

/// Resolves `/proc/self/cgroup` against `/proc/self/mountinfo`.
///
/// v1 controllers win where both exist (hybrid); a v2-only controller is
/// recognised by the unified directory, whose files are checked when read.
pub fn resolve_layout(proc_cgroup: &str, mountinfo: &str) -> CgroupLayout {
    let mounts: Vec<Mount> = mountinfo.lines().filter_map(parse_mount).collect();
    let mut v1_paths = Vec::new();
    let mut v2_path = None;
    for line in proc_cgroup.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(_id), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if controllers.is_empty() {
            v2_path = Some(path.to_string());
        } else {
            v1_paths.push((
                controllers
                    .split(',')
                    .map(str::to_string)
                    .collect::<Vec<_>>(),
                path.to_string(),
            ));
        }
    }
    let v1_dir = |controller: &str| {
        let (_, path) = v1_paths
            .iter()
            .find(|(names, _)| names.iter().any(|n| n == controller))?;
        let mount = mounts
            .iter()
            .find(|m| !m.v2 && m.controllers.iter().any(|c| c == controller))?;
        Some(controller_dir(mount, path))
    };
    let v2_mount = mounts.iter().find(|m| m.v2);
    let v2_dir = || Some(controller_dir(v2_mount?, v2_path.as_deref()?));
    let has_v1 = !v1_paths.is_empty() && mounts.iter().any(|m| !m.v2);
    let has_v2 = v2_path.is_some() && v2_mount.is_some();
    CgroupLayout {
        version: match (has_v1, has_v2) {
            (true, true) => Some(CgroupVersion::Hybrid),
            (true, false) => Some(CgroupVersion::V1),
            (false, true) => Some(CgroupVersion::V2),
            (false, false) => None,
        },
        cpu: v1_dir("cpu").or_else(v2_dir),
        cpuset: v1_dir("cpuset").or_else(v2_dir),
        memory: v1_dir("memory").or_else(v2_dir),
    }
}

fn parse_mount(line: &str) -> Option<Mount> {
    let (before, after) = line.split_once(" - ")?;
    let fields: Vec<&str> = before.split_whitespace().collect();
    let mut after = after.split_whitespace();
    let fstype = after.next()?;
    let _source = after.next();
    let super_options = after.next().unwrap_or("");
    let v2 = match fstype {
        "cgroup2" => true,
        "cgroup" => false,
        _ => return None,
    };
    Some(Mount {
        root: fields.get(3)?.to_string(),
        mount_point: PathBuf::from(fields.get(4)?),
        v2,
        controllers: super_options.split(',').map(str::to_string).collect(),
    })
}

/// The process's path made relative to the mount's root (cgroup namespaces show `/`).
fn controller_dir(mount: &Mount, path: &str) -> ControllerDir {
    let relative = path
        .strip_prefix(mount.root.as_str())
        .unwrap_or(path)
        .trim_start_matches('/');
    let dir = if relative.is_empty() {
        mount.mount_point.clone()
    } else {
        mount.mount_point.join(relative)
    };
    let dir = if dir.is_dir() || !mount.mount_point.is_dir() {
        dir
    } else {
        mount.mount_point.clone()
    };
    ControllerDir {
        dir,
        mount: mount.mount_point.clone(),
        v2: mount.v2,
    }
}

/// The layout of the running process, from `/proc/self`.
pub fn current_layout() -> Fact<CgroupLayout> {
    let proc_cgroup = read_text(Path::new("/proc/self/cgroup"));
    let mountinfo = read_text(Path::new("/proc/self/mountinfo"));
    match (proc_cgroup, mountinfo) {
        (Fact::Known(cgroup), Fact::Known(mounts)) => Fact::Known(resolve_layout(&cgroup, &mounts)),
        (Fact::Unknown(reason), _) | (_, Fact::Unknown(reason)) => Fact::Unknown(reason),
    }
}

/// CPUs per second allowed by v2 `cpu.max` (`"max 100000"` means no limit).
pub fn parse_cpu_max(text: &str) -> Result<Option<f64>, String> {
    let mut fields = text.split_whitespace();
    let quota = fields.next().ok_or("cpu.max is empty")?;
    let period = fields.next().unwrap_or("100000");
    if quota == "max" {
        return Ok(None);
    }
    quota_cpus(quota, period).map(Some)
}

/// CPUs per second allowed by v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (quota -1 means no limit).
pub fn parse_cfs_quota(quota: &str, period: &str) -> Result<Option<f64>, String> {
    if quota.trim() == "-1" {
        return Ok(None);
    }
    quota_cpus(quota, period).map(Some)
}

fn quota_cpus(quota: &str, period: &str) -> Result<f64, String> {
    let quota: f64 = quota
        .trim()
        .parse()
        .map_err(|_| format!("CPU quota `{}` is not a number", quota.trim()))?;
    let period: f64 = period
        .trim()
        .parse()
        .map_err(|_| format!("CPU period `{}` is not a number", period.trim()))?;
    if quota <= 0.0 || period <= 0.0 {
        return Err(format!(
            "CPU quota {quota} / period {period} is not positive"
        ));
    }
    Ok(quota / period)
}

/// Threads worth running under a quota of `cpus` CPUs: rounded up, at least 1 (0.5 → 1).
pub fn cores_for_quota(cpus: f64) -> usize {
    (cpus.ceil() as usize).max(1)
}

/// The tightest CPU quota of the cpu controller and its ancestors, in CPUs per second, with its file.
pub fn cpu_quota(dir: &ControllerDir) -> Fact<Option<(f64, String)>> {
    let mut tightest: Option<(f64, String)> = None;
    let mut read_any = false;
    for level in dir.dirs_up_to_mount() {
        let parsed = if dir.v2 {
            let file = level.join("cpu.max");
            read_text(&file)
                .known()
                .map(|text| (parse_cpu_max(text), format!("{} = {text}", file.display())))
        } else {
            let quota_file = level.join("cpu.cfs_quota_us");
            match (
                read_text(&quota_file),
                read_text(&level.join("cpu.cfs_period_us")),
            ) {
                (Fact::Known(quota), Fact::Known(period)) => Some((
                    parse_cfs_quota(&quota, &period),
                    format!("{} = {quota} per {period} µs period", quota_file.display()),
                )),
                _ => None,
            }
        };
        let Some((cpus, detail)) = parsed else {
            continue;
        };
        read_any = true;
        match cpus {
            Ok(Some(cpus)) if tightest.as_ref().is_none_or(|(best, _)| cpus < *best) => {
                tightest = Some((cpus, detail));
            }
            Ok(_) => {}
            Err(reason) => return Fact::Unknown(reason),
        }
    }
    if read_any {
        Fact::Known(tightest)
    } else {
        when_absent(dir, "CPU quota file")
    }
}

/// What it means that no level has a controller's file: on v2 (with a readable
/// hierarchy) the controller is not enabled for this cgroup, so it sets no limit;
/// otherwise we cannot tell.
fn when_absent<T>(dir: &ControllerDir, files: &str) -> Fact<Option<T>> {
    if dir.v2 && dir.dir.join("cgroup.controllers").is_file() {
        Fact::Known(None)
    } else {
        Fact::unknown(format!("no {files} readable under {}", dir.dir.display()))
    }
}

/// The CPUs the cpuset controller allows, as a list such as `0-3,8`, with the file it came from
/// (`None`: the v2 cpuset controller is not enabled here).
pub fn cpuset_cpus(dir: &ControllerDir) -> Fact<Option<(String, PathBuf)>> {
    let names: &[&str] = if dir.v2 {
        &["cpuset.cpus.effective"]
    } else {
        &["cpuset.effective_cpus", "cpuset.cpus"]
    };
    for level in dir.dirs_up_to_mount() {
        for name in names {
            let file = level.join(name);
            if let Fact::Known(text) = read_text(&file)
                && !text.is_empty()
            {
                return Fact::Known(Some((text, file)));
            }
        }
    }
    when_absent(dir, "cpuset file")
}

/// A memory limit file's value in bytes; `max` (v2) or a huge v1 sentinel means no limit.
pub fn parse_memory_limit(text: &str) -> Result<Option<u64>, String> {
    // v1 reports "no limit" as the largest page-aligned i64, about 2^63.
    const V1_UNLIMITED_FROM: u64 = 1 << 62;
    let text = text.trim();
    if text == "max" {
        return Ok(None);
    }
    let bytes: u64 = text
        .parse()
        .map_err(|_| format!("memory limit `{text}` is not a number"))?;
    Ok((bytes < V1_UNLIMITED_FROM).then_some(bytes))
}

/// The tightest memory limit of the controller and its ancestors, in bytes (None: no limit).
pub fn memory_limit(dir: &ControllerDir) -> Fact<Option<u64>> {
    let name = if dir.v2 {
        "memory.max"
    } else {
        "memory.limit_in_bytes"
    };
    let mut tightest: Option<u64> = None;
    let mut read_any = false;
    for level in dir.dirs_up_to_mount() {
        let Fact::Known(text) = read_text(&level.join(name)) else {
            continue;
        };
        read_any = true;
        match parse_memory_limit(&text) {
            Ok(Some(bytes)) => tightest = Some(tightest.map_or(bytes, |t| t.min(bytes))),
            Ok(None) => {}
            Err(reason) => return Fact::Unknown(reason),
        }
    }
    if read_any {
        Fact::Known(tightest)
    } else {
        when_absent(dir, name)
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    const HYBRID_CGROUP: &str =
        "9:name=systemd:/\n4:memory:/process_api/0570\n3:cpuset:/\n1:cpu:/\n0::/\n";
    const HYBRID_MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn hybrid_layout_prefers_v1_controllers() {
        let layout = resolve_layout(HYBRID_CGROUP, HYBRID_MOUNTINFO);
        assert_eq!(layout.version, Some(CgroupVersion::Hybrid));
        let cpu = layout.cpu.unwrap();
        assert!(!cpu.v2);
        assert_eq!(cpu.mount, PathBuf::from("/sys/fs/cgroup/cpu"));
        let memory = layout.memory.unwrap();
        assert!(memory.dir.starts_with("/sys/fs/cgroup/memory"));
    }

    #[test]
    fn pure_v2_layout() {
        let layout = resolve_layout(
            "0::/user.slice/job\n",
            "25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n",
        );
        assert_eq!(layout.version, Some(CgroupVersion::V2));
        assert!(layout.cpu.unwrap().v2);
    }

    #[test]
    fn no_cgroups_at_all() {
        assert_eq!(resolve_layout("", ""), CgroupLayout::default());
    }

    #[test]
    fn v2_cpu_max() {
        assert_eq!(parse_cpu_max("max 100000\n").unwrap(), None);
        assert_eq!(parse_cpu_max("50000 100000\n").unwrap(), Some(0.5));
        assert_eq!(parse_cpu_max("200000 100000").unwrap(), Some(2.0));
        assert!(parse_cpu_max("lots 100000").is_err());
    }

    #[test]
    fn v1_cfs_quota() {
        assert_eq!(parse_cfs_quota("-1\n", "100000\n").unwrap(), None);
        assert_eq!(parse_cfs_quota("50000", "100000").unwrap(), Some(0.5));
        assert_eq!(parse_cfs_quota("150000", "100000").unwrap(), Some(1.5));
        assert!(parse_cfs_quota("50000", "0").is_err());
    }

    #[test]
    fn a_half_cpu_quota_is_one_usable_core() {
        assert_eq!(cores_for_quota(0.5), 1);
        assert_eq!(cores_for_quota(1.5), 2);
        assert_eq!(cores_for_quota(4.0), 4);
    }

    #[test]
    fn memory_limits_v1_and_v2() {
        assert_eq!(parse_memory_limit("max\n").unwrap(), None);
        assert_eq!(parse_memory_limit("9223372036854771712\n").unwrap(), None);
        assert_eq!(parse_memory_limit("2147483648").unwrap(), Some(2 << 30));
        assert!(parse_memory_limit("2G").is_err());
    }

    fn controller(root: &Path, v2: bool) -> ControllerDir {
        ControllerDir {
            dir: root.join("job/step"),
            mount: root.to_path_buf(),
            v2,
        }
    }

    #[test]
    fn the_tightest_quota_of_any_ancestor_binds() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("job/step")).unwrap();
        fs::write(root.join("cpu.cfs_quota_us"), "-1\n").unwrap();
        fs::write(root.join("cpu.cfs_period_us"), "100000\n").unwrap();
        fs::write(root.join("job/cpu.cfs_quota_us"), "50000\n").unwrap();
        fs::write(root.join("job/cpu.cfs_period_us"), "100000\n").unwrap();
        fs::write(root.join("job/step/cpu.cfs_quota_us"), "300000\n").unwrap();
        fs::write(root.join("job/step/cpu.cfs_period_us"), "100000\n").unwrap();
        let (cpus, detail) = cpu_quota(&controller(root, false))
            .known()
            .cloned()
            .unwrap()
            .unwrap();
        assert_eq!(cpus, 0.5);
        assert!(detail.contains("job/cpu.cfs_quota_us"), "{detail}");
    }

    #[test]
    fn v2_quota_and_cpuset_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("job/step")).unwrap();
        fs::write(root.join("job/step/cpu.max"), "max 100000\n").unwrap();
        fs::write(root.join("job/cpu.max"), "150000 100000\n").unwrap();
        fs::write(root.join("job/step/cpuset.cpus.effective"), "0-3,8\n").unwrap();
        fs::write(root.join("job/memory.max"), "1073741824\n").unwrap();
        let dir = controller(root, true);
        assert_eq!(cpu_quota(&dir).known().cloned().unwrap().unwrap().0, 1.5);
        assert_eq!(
            cpuset_cpus(&dir).known().cloned().unwrap().unwrap().0,
            "0-3,8"
        );
        assert_eq!(memory_limit(&dir), Fact::Known(Some(1 << 30)));
    }

    #[test]
    fn unreadable_controller_is_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let dir = controller(dir.path(), true);
        assert!(cpu_quota(&dir).known().is_none());
        assert!(cpuset_cpus(&dir).known().is_none());
        assert!(memory_limit(&dir).known().is_none());
    }

    #[test]
    fn a_v2_controller_not_enabled_sets_no_limit() {
        let dir = tempfile::tempdir().unwrap();
        let controller = controller(dir.path(), true);
        fs::create_dir_all(&controller.dir).unwrap();
        fs::write(controller.dir.join("cgroup.controllers"), "pids\n").unwrap();
        assert_eq!(cpu_quota(&controller), Fact::Known(None));
        assert_eq!(cpuset_cpus(&controller), Fact::Known(None));
        assert_eq!(memory_limit(&controller), Fact::Known(None));
    }
}
