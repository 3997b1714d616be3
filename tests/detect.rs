//! `hpc-advisor detect` on this machine: real values, and clean unknowns when tools are missing.

use assert_cmd::Command;
use serde_json::Value;

/// The variables that would make a batch allocation a core limit; removed for the child.
const BATCH_VARIABLES: [&str; 7] = [
    "SLURM_JOB_ID",
    "SLURM_CPUS_PER_TASK",
    "SLURM_CPUS_ON_NODE",
    "PBS_JOBID",
    "PBS_NUM_PPN",
    "PBS_NODEFILE",
    "PBS_NP",
];

fn detect_command(format: &str) -> Command {
    let mut command = Command::cargo_bin("hpc-advisor").unwrap();
    command.args(["detect", "--format", format]);
    for name in BATCH_VARIABLES {
        command.env_remove(name);
    }
    command
}

/// The `Machine` JSON with every `{"known": value}` replaced by its value, for readable paths.
fn json_of(command: &mut Command) -> Value {
    let output = command.assert().success().get_output().stdout.clone();
    let machine: Value = serde_json::from_slice(&output).expect("detect --format json prints JSON");
    without_known_tags(machine)
}

fn without_known_tags(value: Value) -> Value {
    match value {
        Value::Object(mut map) if map.len() == 1 && map.contains_key("known") => {
            without_known_tags(map.remove("known").unwrap())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, without_known_tags(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_known_tags).collect()),
        other => other,
    }
}

fn cpuinfo() -> String {
    std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default()
}

/// The machine this project is developed on: 2 vCPUs of an AMD EPYC (Zen 4) under KVM, no GPU.
fn on_reference_machine() -> bool {
    let text = cpuinfo();
    text.contains("model name\t: AMD EPYC") && text.matches("\nprocessor").count() + 1 == 2
}

#[test]
fn detect_json_agrees_with_independent_sources() {
    let machine = json_of(&mut detect_command("json"));
    assert_eq!(machine["schema_version"], 1);
    let usable = machine["usable_cores"]["count"].as_u64().unwrap() as usize;
    let in_batch_job = BATCH_VARIABLES
        .iter()
        .any(|name| std::env::var_os(name).is_some());
    if !in_batch_job {
        assert_eq!(usable, hpc_advisor::detect::usable_cores());
    }
    // The standard library reads affinity and quota too, but rounds a fractional quota down.
    let std_count = std::thread::available_parallelism().unwrap().get();
    assert!(
        (std_count..=std_count + 1).contains(&usable),
        "usable {usable}, standard library {std_count}"
    );
    assert_eq!(
        machine["usable_cores"]["limits"].as_array().unwrap().len(),
        6
    );
    let flags = cpuinfo();
    if cfg!(target_arch = "x86_64") && !flags.is_empty() {
        let extension = |name: &str| {
            machine["cpu"]["extensions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["name"] == name)
                .cloned()
                .unwrap()
        };
        let avx512f = extension("avx512f");
        assert_eq!(avx512f["hardware"], flags.contains(" avx512f"));
        let width = machine["cpu"]["simd"]["width_bits"].as_u64().unwrap();
        assert_eq!(width == 512, avx512f["usable"] == true);
        assert!(width >= 128);
    }
}

#[test]
fn detect_json_on_the_reference_machine() {
    if !on_reference_machine() {
        eprintln!("not the 2-vCPU AMD EPYC reference machine: skipping its literal values");
        return;
    }
    let machine = json_of(&mut detect_command("json"));
    assert_eq!(machine["usable_cores"]["count"], 2);
    assert_eq!(machine["usable_cores"]["binding"], "hardware");
    assert_eq!(machine["cpu"]["simd"]["instruction_set"], "avx512f");
    assert_eq!(machine["cpu"]["simd"]["f64_lanes"], 8);
    assert_eq!(machine["cpu"]["microarchitecture"], "Zen 4");
    assert!(machine["gpus"]["devices"].as_array().unwrap().is_empty());
    assert_eq!(machine["caches"]["source"], "sysfs");
    assert_eq!(machine["caches"]["levels"][3]["size_bytes"], 32 << 20);
    assert_eq!(machine["system"]["cgroup_version"], "hybrid");
}

#[test]
fn without_tools_on_path_mpi_gpu_and_python_are_clean_unknowns() {
    let dir = tempfile::tempdir().unwrap();
    let machine = json_of(detect_command("json").env("PATH", dir.path()));
    let mpirun = &machine["mpi"]["launchers"][0];
    assert_eq!(mpirun["name"], "mpirun");
    assert_eq!(mpirun["path"]["unknown"], "`mpirun` not found on PATH");
    assert_eq!(mpirun["version"]["unknown"], "`mpirun` not found on PATH");
    assert_eq!(
        machine["mpi"]["launch_check"]["unknown"],
        "no mpirun or mpiexec on PATH"
    );
    assert_eq!(
        machine["gpus"]["searched"][0],
        "nvidia-smi: `nvidia-smi` not found on PATH"
    );
    assert_eq!(
        machine["tools"]["python"]["version"]["unknown"],
        "neither `python3` nor `python` found on PATH"
    );
    assert!(machine["usable_cores"]["count"].as_u64().unwrap() >= 1);
}

#[test]
fn a_slurm_allocation_binds_the_usable_cores() {
    let machine = json_of(
        detect_command("json")
            .env("SLURM_JOB_ID", "1")
            .env("SLURM_CPUS_PER_TASK", "1"),
    );
    assert_eq!(machine["usable_cores"]["count"], 1);
    assert_eq!(machine["scheduler"]["job"]["scheduler"], "slurm");
    assert_eq!(machine["scheduler"]["job"]["job_id"], "1");
    // On a one-core machine the hardware ties with Slurm and, listed first, is named.
    if std::thread::available_parallelism().unwrap().get() > 1 {
        assert_eq!(machine["usable_cores"]["binding"], "slurm");
    }
}

#[test]
fn table_and_markdown_call_out_the_binding_limit() {
    for (format, heading) in [("table", "\nCores\n"), ("markdown", "## Cores")] {
        let output = detect_command(format)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let text = String::from_utf8(output).unwrap();
        assert!(text.contains("Usable cores: "), "{format}: {text}");
        assert!(text.contains("binding limit: "), "{format}");
        assert!(text.contains(heading), "{format}");
        for group in [
            "CPU",
            "Caches",
            "Memory",
            "GPUs",
            "MPI",
            "Scheduler",
            "Tools",
        ] {
            assert!(text.contains(group), "{format} lacks {group}");
        }
    }
}

#[test]
fn an_unknown_format_is_a_user_error_with_exit_code_1() {
    detect_command("yaml")
        .assert()
        .failure()
        .code(1)
        .stderr(predicates::str::contains("invalid value 'yaml'"));
}
