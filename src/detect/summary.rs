//! The machine as titled groups of facts: shared by `hpc-advisor detect` and the run reports.

use crate::bench::tables::{TableStyle, text_table};

use super::cpu::IsaExtension;
use super::{Fact, Machine};

/// One group of facts: a titled two-column table.
pub struct Section {
    pub title: &'static str,
    pub rows: Vec<[String; 2]>,
}

impl Section {
    fn new(title: &'static str) -> Self {
        Section {
            title,
            rows: Vec::new(),
        }
    }

    fn row(&mut self, name: impl Into<String>, value: impl ToString) {
        self.rows.push([name.into(), value.to_string()]);
    }

    /// The section as a table, for Markdown or a terminal.
    pub fn render(&self, markdown: bool) -> String {
        let style = if markdown {
            TableStyle::Markdown
        } else {
            TableStyle::Terminal
        };
        text_table(
            ["fact", "value"].map(String::from),
            self.rows.iter().map(|row| row.clone().into_iter()),
            style,
        )
    }
}

/// The headline: how many cores this process may use and what limits it.
pub fn binding_summary(machine: &Machine) -> String {
    let usable = &machine.usable_cores;
    match &usable.binding {
        Fact::Known(source) => {
            let detail = usable
                .limits
                .iter()
                .find(|limit| limit.source == *source)
                .map_or(String::new(), |limit| format!(": {}", limit.detail));
            format!(
                "Usable cores: {} (binding limit: {}{detail})",
                usable.count,
                source.label()
            )
        }
        Fact::Unknown(reason) => format!("Usable cores: {} ({reason})", usable.count),
    }
}

fn bytes(value: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut size = value as f64;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    if unit == 0 || size.fract() == 0.0 {
        format!("{size:.0} {}", UNITS[unit])
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}

fn fact_bytes(fact: &Fact<u64>) -> String {
    fact.as_ref().map(|&b| bytes(b)).to_string()
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

fn names(extensions: &[IsaExtension], pick: impl Fn(&IsaExtension) -> bool) -> String {
    let list: Vec<&str> = extensions
        .iter()
        .filter(|e| pick(e))
        .map(|e| e.name.as_str())
        .collect();
    if list.is_empty() {
        "none".to_string()
    } else {
        list.join(" ")
    }
}

/// Every group of facts, in reading order.
pub fn sections(machine: &Machine) -> Vec<Section> {
    vec![
        cpu_section(machine),
        cores_section(machine),
        caches_section(machine),
        memory_section(machine),
        gpu_section(machine),
        mpi_section(machine),
        scheduler_section(machine),
        tools_section(machine),
        system_section(machine),
    ]
}

fn cpu_section(machine: &Machine) -> Section {
    let cpu = &machine.cpu;
    let mut section = Section::new("CPU");
    section.row("architecture", &cpu.architecture);
    section.row("vendor", &cpu.vendor);
    section.row("model", &cpu.model_name);
    section.row(
        "family / model / stepping",
        format!("{} / {} / {}", cpu.family, cpu.model, cpu.stepping),
    );
    section.row("microarchitecture", &cpu.microarchitecture);
    let simd = &cpu.simd;
    section.row(
        "widest usable SIMD",
        format!(
            "{} bits ({}): {} f64 / {} f32 lanes",
            simd.width_bits, simd.instruction_set, simd.f64_lanes, simd.f32_lanes
        ),
    );
    section.row(
        "OS enables the hardware's widest",
        format!(
            "{} (hardware {} bits, OSXSAVE {})",
            yes_no(simd.os_enabled),
            simd.hardware_width_bits,
            simd.osxsave.as_ref().map(|&on| yes_no(on))
        ),
    );
    section.row(
        "extensions usable",
        names(&cpu.extensions, |e| e.usable == Fact::Known(true)),
    );
    section.row(
        "present but not usable",
        names(&cpu.extensions, |e| {
            e.hardware == Fact::Known(true) && e.usable != Fact::Known(true)
        }),
    );
    section.row("base frequency (MHz)", &cpu.frequency.base_mhz);
    section.row("max frequency (MHz)", &cpu.frequency.max_mhz);
    section.row("current frequency (MHz)", &cpu.frequency.current_mhz);
    section
}

fn cores_section(machine: &Machine) -> Section {
    let usable = &machine.usable_cores;
    let topology = &machine.topology;
    let mut section = Section::new("Cores");
    section.row(
        "USABLE CORES",
        format!(
            "{} (bound by {})",
            usable.count,
            usable.binding.as_ref().map(|s| s.label())
        ),
    );
    for limit in &usable.limits {
        let cores = match &limit.cores {
            Fact::Known(Some(cores)) => cores.to_string(),
            Fact::Known(None) => "no limit".to_string(),
            Fact::Unknown(reason) => format!("unknown ({reason})"),
        };
        section.row(
            format!("limit: {}", limit.source.label()),
            format!("{cores}: {}", limit.detail),
        );
    }
    if let Some(cpus) = usable.quota_cpus {
        section.row("CPU time under the quota", format!("{cpus:.2} CPUs"));
    }
    section.row("logical CPUs", &topology.logical_cpus);
    section.row("physical cores", &topology.physical_cores);
    section.row("sockets", &topology.sockets);
    section.row("threads per core", &topology.threads_per_core);
    section.row(
        "SMT active",
        topology.smt_active.as_ref().map(|&on| yes_no(on)),
    );
    section.row("NUMA nodes", &topology.numa_nodes);
    section
}

fn caches_section(machine: &Machine) -> Section {
    let mut section = Section::new("Caches");
    match &machine.caches {
        Fact::Known(caches) => {
            section.row("source", &caches.source);
            for cache in &caches.levels {
                section.row(
                    format!("L{} {}", cache.level, cache.kind),
                    format!(
                        "{}, line {} B, {}-way, shared by {} CPU(s)",
                        bytes(cache.size_bytes),
                        cache.line_bytes,
                        cache.ways,
                        cache.shared_by_cpus
                    ),
                );
            }
        }
        Fact::Unknown(reason) => section.row("caches", format!("unknown ({reason})")),
    }
    section
}

fn memory_section(machine: &Machine) -> Section {
    let memory = &machine.memory;
    let mut section = Section::new("Memory");
    section.row("total", fact_bytes(&memory.total_bytes));
    section.row("available", fact_bytes(&memory.available_bytes));
    section.row(
        "cgroup limit",
        match &memory.cgroup_limit_bytes {
            Fact::Known(Some(limit)) => bytes(*limit),
            Fact::Known(None) => "no limit".to_string(),
            Fact::Unknown(reason) => format!("unknown ({reason})"),
        },
    );
    section.row("page size", fact_bytes(&memory.page_size_bytes));
    let huge = &memory.huge_pages;
    section.row("huge page size", fact_bytes(&huge.size_bytes));
    section.row(
        "huge pages reserved / free",
        format!("{} / {}", huge.total, huge.free),
    );
    section.row("transparent huge pages", &huge.transparent);
    section
}

fn gpu_section(machine: &Machine) -> Section {
    let mut section = Section::new("GPUs");
    if machine.gpus.devices.is_empty() {
        section.row("devices", "none found");
    }
    for (index, gpu) in machine.gpus.devices.iter().enumerate() {
        section.row(
            format!("device {index}"),
            format!(
                "{} {} [{}], memory {}, driver {} {}, {} (from {})",
                gpu.vendor,
                gpu.model,
                gpu.pci_address,
                fact_bytes(&gpu.memory_bytes),
                gpu.kernel_driver,
                gpu.driver_version,
                gpu.compute_api,
                gpu.source
            ),
        );
    }
    for searched in &machine.gpus.searched {
        section.row("searched", searched);
    }
    match &machine.compute_adapters {
        Fact::Known(adapters) => {
            for adapter in adapters {
                section.row(
                    "compute adapter",
                    format!(
                        "{} {} ({}, {}), f64 {}, software {}",
                        adapter.vendor,
                        adapter.name,
                        adapter.backend,
                        adapter.device_type,
                        yes_no(adapter.f64_support),
                        yes_no(adapter.software)
                    ),
                );
            }
        }
        Fact::Unknown(reason) => section.row("compute adapters", format!("unknown ({reason})")),
    }
    section
}

fn mpi_section(machine: &Machine) -> Section {
    let mpi = &machine.mpi;
    let mut section = Section::new("MPI");
    for launcher in &mpi.launchers {
        let value = match &launcher.path {
            Fact::Known(path) => {
                format!("{path}: {} {}", launcher.implementation, launcher.version)
            }
            Fact::Unknown(reason) => format!("not available ({reason})"),
        };
        section.row(launcher.name.clone(), value);
    }
    section.row(
        "launch check",
        mpi.launch_check.as_ref().map(|check| {
            format!(
                "{}: {} ({}, {:.0} ms)",
                check.command,
                if check.succeeded { "works" } else { "FAILED" },
                check.detail,
                check.elapsed_ms
            )
        }),
    );
    section.row("this binary built with MPI", yes_no(mpi.built_with_mpi));
    for hint in &mpi.environment {
        section.row("environment", hint);
    }
    section
}

fn scheduler_section(machine: &Machine) -> Section {
    let scheduler = &machine.scheduler;
    let mut section = Section::new("Scheduler");
    match &scheduler.job {
        Some(job) => {
            section.row("job", format!("{} job {}", job.scheduler, job.job_id));
            section.row("nodes", &job.nodes);
            section.row("tasks", &job.tasks);
            section.row("node list", &job.node_list);
        }
        None => section.row("job", "not in a batch job"),
    }
    for command in &scheduler.commands {
        section.row(
            format!("{} ({})", command.name, command.scheduler),
            &command.path,
        );
    }
    section
}

fn tools_section(machine: &Machine) -> Section {
    let tools = &machine.tools;
    let mut section = Section::new("Tools");
    let perf = &tools.perf;
    let mut tool_row = |tool: &crate::detect::tools::Tool| {
        let value = match &tool.path {
            Fact::Known(path) => format!("{path} ({})", tool.version),
            Fact::Unknown(reason) => format!("not available ({reason})"),
        };
        section.row(tool.name.clone(), value);
    };
    tool_row(&perf.tool);
    tool_row(&tools.py_spy);
    tool_row(&tools.gnu_parallel);
    for compiler in &tools.compilers {
        tool_row(compiler);
    }
    section.row("perf_event_paranoid", &perf.event_paranoid);
    section.row(
        "perf stat",
        perf.stat_check.as_ref().map(|check| {
            format!(
                "permitted {}, hardware counters {} ({})",
                yes_no(check.permitted),
                yes_no(check.hardware_counters),
                check.detail
            )
        }),
    );
    let python = &tools.python;
    section.row(
        "python",
        format!("{} ({})", python.interpreter, python.version),
    );
    match &python.packages {
        Fact::Known(packages) => {
            for package in packages {
                section.row(
                    format!("python: {}", package.name),
                    match (package.installed, &package.version) {
                        (true, Some(version)) => version.as_str(),
                        (true, None) => "installed (no version metadata)",
                        (false, _) => "not installed",
                    },
                );
            }
        }
        Fact::Unknown(reason) => section.row("python packages", format!("unknown ({reason})")),
    }
    section
}

fn system_section(machine: &Machine) -> Section {
    let system = &machine.system;
    let mut section = Section::new("System");
    section.row("OS", &system.os);
    section.row("kernel", &system.kernel);
    section.row("hostname", &system.hostname);
    section.row(
        "cgroup version",
        system
            .cgroup_version
            .as_ref()
            .map(|v| format!("{v:?}").to_lowercase()),
    );
    let hints = |hints: &[String]| {
        if hints.is_empty() {
            "no hint".to_string()
        } else {
            hints.join("; ")
        }
    };
    section.row("container", hints(&system.container_hints));
    section.row("virtual machine", hints(&system.virtual_machine_hints));
    section.row("detection time", format!("{:.0} ms", machine.detection_ms));
    section
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_escape_pipes() {
        let mut section = Section::new("Test");
        section.row("a|b", "c");
        assert!(section.render(true).contains("a\\|b"));
        assert!(section.render(false).contains("a|b"));
    }

    #[test]
    fn byte_sizes_read_naturally() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(32 << 10), "32 KiB");
        assert_eq!(bytes(1536 << 20), "1.5 GiB");
    }
}
