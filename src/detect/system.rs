//! The operating system, kernel, hostname, and hints that we run in a container or a virtual machine.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::cgroup::CgroupVersion;
use super::read_text;
use crate::fact::Fact;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct System {
    /// `PRETTY_NAME` of `/etc/os-release`, else the OS family.
    pub os: Fact<String>,
    pub kernel: Fact<String>,
    pub hostname: Fact<String>,
    pub cgroup_version: Fact<CgroupVersion>,
    /// Why we think this is a container, e.g. `/.dockerenv exists`; empty when no hint.
    pub container_hints: Vec<String>,
    /// Why we think this is a virtual machine, e.g. `cpuid hypervisor: KVM`; empty when no hint.
    pub virtual_machine_hints: Vec<String>,
}

/// `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"` → `Debian GNU/Linux 12 (bookworm)`.
pub fn parse_os_release(text: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix("PRETTY_NAME="))
        .map(|value| value.trim().trim_matches('"').to_string())
}

/// Container hints from the cgroup paths of `/proc/self/cgroup`.
pub fn cgroup_container_hint(proc_cgroup: &str) -> Option<String> {
    const MARKERS: [&str; 6] = ["docker", "kubepods", "containerd", "libpod", "lxc", "crio"];
    proc_cgroup.lines().find_map(|line| {
        let path = line.splitn(3, ':').nth(2)?;
        MARKERS
            .iter()
            .find(|marker| path.contains(*marker))
            .map(|marker| format!("cgroup path mentions {marker}: {path}"))
    })
}

pub fn detect(cgroup_version: Fact<CgroupVersion>) -> System {
    let env = |name: &str| std::env::var(name).ok();
    let mut container_hints = Vec::new();
    for (file, what) in [("/.dockerenv", "Docker"), ("/run/.containerenv", "Podman")] {
        if Path::new(file).exists() {
            container_hints.push(format!("{file} exists ({what})"));
        }
    }
    for name in [
        "container",
        "APPTAINER_CONTAINER",
        "SINGULARITY_CONTAINER",
        "KUBERNETES_SERVICE_HOST",
    ] {
        if let Some(value) = env(name) {
            container_hints.push(format!("{name}={value}"));
        }
    }
    if let Some(hint) = read_text(Path::new("/proc/self/cgroup"))
        .known()
        .and_then(|text| cgroup_container_hint(text))
    {
        container_hints.push(hint);
    }
    let mut virtual_machine_hints = Vec::new();
    if let Some(hypervisor) = super::cpu::hypervisor() {
        virtual_machine_hints.push(format!("cpuid hypervisor: {hypervisor}"));
    }
    for file in [
        "/sys/class/dmi/id/sys_vendor",
        "/sys/class/dmi/id/product_name",
    ] {
        if let Fact::Known(text) = read_text(Path::new(file)) {
            let lower = text.to_lowercase();
            let virtual_vendor = [
                "qemu",
                "kvm",
                "vmware",
                "virtualbox",
                "xen",
                "amazon ec2",
                "google compute",
                "virtual machine",
            ]
            .iter()
            .any(|v| lower.contains(v));
            if virtual_vendor {
                virtual_machine_hints.push(format!("{file}: {text}"));
            }
        }
    }
    System {
        os: read_text(Path::new("/etc/os-release"))
            .and_then(|text| {
                Fact::from_option(parse_os_release(&text), || {
                    "no PRETTY_NAME in /etc/os-release".to_string()
                })
            })
            .or_else(|_| Fact::Known(std::env::consts::OS.to_string())),
        kernel: read_text(Path::new("/proc/sys/kernel/osrelease")),
        hostname: read_text(Path::new("/proc/sys/kernel/hostname")),
        cgroup_version,
        container_hints,
        virtual_machine_hints,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_pretty_name() {
        let text = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\n";
        assert_eq!(
            parse_os_release(text).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(parse_os_release("NAME=x\n"), None);
    }

    #[test]
    fn container_paths_in_proc_cgroup() {
        let docker = "12:cpu,cpuacct:/docker/3f2a9c\n0::/\n";
        assert!(cgroup_container_hint(docker).unwrap().contains("docker"));
        let k8s = "0::/kubepods.slice/kubepods-burstable.slice/cri-containerd-1.scope\n";
        assert!(cgroup_container_hint(k8s).unwrap().contains("kubepods"));
        assert_eq!(
            cgroup_container_hint("0::/user.slice/session-1.scope\n"),
            None
        );
    }
}
