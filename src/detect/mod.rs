//! Machine capability detection: one serialisable [`Machine`] with everything the decision tree asks about.
//!
//! Every fact that can be missing is a [`Fact`]: the value, or why it could
//! not be determined. External programs run through [`run::Runner`] (no
//! shell, each stopped after [`run::PROBE_TIMEOUT`]), and the independent
//! probes run concurrently. Detection typically takes 0.2–0.4 s (`time
//! hpc-advisor detect` on a shared 2-vCPU machine); it is not bounded by that:
//! up to two probes run one after the other, and listing the GPU adapters
//! waits up to the kernels crate's 30 s driver timeout. The JSON layout is
//! documented in `docs/machine.md`; keep field names stable.
//!
//! ```no_run
//! let machine = hpc_advisor::detect::detect();
//! println!("{} usable cores", machine.usable_cores.count);
//! // The cheap path for a default thread count (no subprocesses):
//! let threads = hpc_advisor::detect::usable_cores();
//! # let _ = threads;
//! ```

pub mod allocation;
pub mod cgroup;
pub mod cpu;
pub mod gpu;
pub mod memory;
pub mod mpi;
pub mod run;
pub mod scheduler;
pub mod summary;
pub mod system;
pub mod tools;
pub mod topology;

use std::collections::BTreeSet;
use std::path::Path;
use std::thread;
use std::time::Instant;

use serde::{Deserialize, Serialize};

pub use crate::fact::Fact;
pub use allocation::{CoreLimit, LimitSource, UsableCores};
pub use cpu::Cpu;
pub use gpu::{ComputeAdapter, Gpu, Gpus};
pub use memory::Memory;
pub use mpi::Mpi;
pub use scheduler::Scheduler;
pub use system::System;
pub use tools::Tools;
pub use topology::{Caches, Topology};

/// Bumped when a field of [`Machine`] changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything detected about the machine this process runs on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Machine {
    pub schema_version: u32,
    pub cpu: Cpu,
    pub topology: Topology,
    /// The cores this process may really use, every limit and which one binds.
    pub usable_cores: UsableCores,
    pub caches: Fact<Caches>,
    pub memory: Memory,
    pub gpus: Gpus,
    /// Adapters a portable GPU API (wgpu) can run compute shaders on, best first;
    /// unknown with the reason when there is none (no Vulkan loader or driver,
    /// or a build without the `gpu` feature).
    pub compute_adapters: Fact<Vec<ComputeAdapter>>,
    pub mpi: Mpi,
    pub scheduler: Scheduler,
    pub tools: Tools,
    pub system: System,
    /// How long detection took, in milliseconds.
    pub detection_ms: f64,
}

/// Detects everything, running the external probes concurrently (each bounded by [`run::PROBE_TIMEOUT`]).
pub fn detect() -> Machine {
    detect_with(&run::Runner::from_env())
}

/// Detects everything, looking external programs up with `runner`.
pub fn detect_with(runner: &run::Runner) -> Machine {
    let start = Instant::now();
    thread::scope(|scope| {
        let mpi = scope.spawn(|| mpi::detect(runner));
        let gpus = scope.spawn(|| gpu::detect(runner));
        let compute_adapters = scope.spawn(gpu::compute_adapters);
        let tools = scope.spawn(|| tools::detect(runner));
        let cpu = cpu::detect();
        let topology = topology::topology(
            Path::new(topology::CPU_SYSFS),
            Path::new(topology::NODE_SYSFS),
        );
        let usable_cores = allocation::usable_cores();
        let caches = caches();
        let layout = cgroup::current_layout();
        let memory = memory::detect(&layout);
        let system = system::detect(
            layout.and_then(|l| Fact::from_option(l.version, || "no cgroup hierarchy".to_string())),
        );
        let scheduler = scheduler::detect(runner);
        Machine {
            schema_version: SCHEMA_VERSION,
            cpu,
            topology,
            usable_cores,
            caches,
            memory,
            gpus: joined(gpus),
            compute_adapters: joined(compute_adapters),
            mpi: joined(mpi),
            scheduler,
            tools: joined(tools),
            system,
            detection_ms: start.elapsed().as_secs_f64() * 1e3,
        }
    })
}

/// CPU 0's caches from sysfs, else from cpuid; unknown with both reasons when neither says.
pub(crate) fn caches() -> Fact<Caches> {
    topology::sysfs_caches(Path::new(topology::CPU_SYSFS)).or_else(|sysfs_reason| {
        cpu::cpuid_caches()
            .or_else(|cpuid_reason| Fact::unknown(format!("{sysfs_reason}; {cpuid_reason}")))
    })
}

/// The number of cores this process may use: the default thread count.
///
/// Cheap (a few small files, one syscall, the environment; no subprocess):
/// the minimum of the hardware, the affinity mask, the cgroup cpuset and CPU
/// quota (rounded up) and the Slurm/PBS allocation. Always at least 1.
pub fn usable_cores() -> usize {
    allocation::usable_cores().count
}

/// Joins a probe thread. Probes turn every odd input into an unknown, so a
/// panic there is a bug: it is re-raised, not hidden as a fact.
pub(crate) fn joined<T>(handle: thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Reads a small text file, trimmed; an unreadable file is an unknown naming the file and the error.
pub(crate) fn read_text(path: &Path) -> Fact<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Fact::Known(text.trim().to_string()),
        Err(error) => Fact::unknown(format!("cannot read {}: {error}", path.display())),
    }
}

/// Formats CPU numbers as a Linux CPU list: `{0,1,2,3,8}` → `0-3,8`.
pub fn format_cpu_list(cpus: &BTreeSet<usize>) -> String {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for &cpu in cpus {
        match ranges.last_mut() {
            Some((_, last)) if *last + 1 == cpu => *last = cpu,
            _ => ranges.push((cpu, cpu)),
        }
    }
    ranges
        .iter()
        .map(|&(first, last)| {
            if first == last {
                first.to_string()
            } else {
                format!("{first}-{last}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// An environment lookup over fixed pairs: the one captured-environment helper of
/// the detect and distributed tests (Slurm, PBS, MPI module variables).
#[cfg(test)]
pub(crate) fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_format_back() {
        let cpus: BTreeSet<usize> = topology::parse_cpu_list("0-3,8,10-11").unwrap();
        assert_eq!(format_cpu_list(&cpus), "0-3,8,10-11");
        assert_eq!(format_cpu_list(&BTreeSet::new()), "");
    }

    #[test]
    fn a_detected_machine_round_trips_through_json() {
        let machine = detect();
        let json = serde_json::to_string(&machine).unwrap();
        let back: Machine = serde_json::from_str(&json).unwrap();
        assert_eq!(back, machine);
        assert_eq!(machine.usable_cores.count, usable_cores());
    }
}
