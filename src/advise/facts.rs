//! What the advisor reads: facts about the machine, the measurements and the profile.
//!
//! `Facts` is plain serialisable data, independent of the detection,
//! benchmark and profiling modules: adapters turn their results into it, and
//! a saved facts file lets the advice be recomputed offline, on machines we
//! do not have. Every field is required (a [`Fact`] says "unknown, because
//! ..." explicitly), so a misspelt or forgotten field is an error, not a
//! silent default. docs/facts.md describes every field.

use serde::{Deserialize, Serialize};

use crate::fact::Fact;
use crate::versioned_json::{DocumentError, from_versioned_json};

/// The version of the facts format this build reads and writes.
pub const FACTS_SCHEMA_VERSION: u32 = 1;

/// Everything the decision tree may read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    /// Always [`FACTS_SCHEMA_VERSION`] for this build.
    pub schema_version: u32,
    pub machine: MachineFacts,
    pub problem: ProblemFacts,
    pub measurements: Measurements,
    pub profile: ProfileFacts,
    /// The user's own program, when one was profiled (`hpc-advisor profile -- CMD`).
    pub program: Fact<UserProgram>,
}

/// What detection found about the hardware and the software around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MachineFacts {
    /// One line naming the machine, e.g. "AMD EPYC 7B13, 2 vCPUs under KVM".
    pub description: String,
    pub cores: Fact<Cores>,
    pub simd: Fact<Simd>,
    /// Every GPU found, software renderers included (flagged); empty when none.
    pub gpus: Fact<Vec<Gpu>>,
    /// The MPI found on PATH; `null` when none was found.
    pub mpi: Fact<Option<Mpi>>,
    /// The batch allocation this process runs in; `null` outside any scheduler.
    pub scheduler: Fact<Option<Allocation>>,
    /// The Python interpreter and numeric packages; `null` when there is no Python.
    pub python: Fact<Option<PythonStack>>,
    /// Whether `perf` may sample this user's processes.
    pub perf_permitted: Fact<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cores {
    /// Cores this process may really use: the smallest of every limit.
    pub usable: u32,
    /// Logical CPUs the hardware has.
    pub hardware: u32,
    /// The limit that binds, e.g. "cgroup CPU quota (1.0 cores)" or "affinity mask".
    pub binding_limit: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Simd {
    /// The widest usable instruction set, e.g. "AVX-512F", "NEON".
    pub isa: String,
    /// f64 values per vector register at that width (8 for AVX-512, 2 for NEON).
    pub f64_lanes: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gpu {
    pub vendor: String,
    pub model: String,
    /// True for a CPU-emulated device such as Mesa's lavapipe: never recommended.
    pub software: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mpi {
    /// Implementation and version, e.g. "Open MPI 4.1.4".
    pub implementation: String,
    /// The launcher to use: "mpirun", "mpiexec" or "srun".
    pub launcher: String,
    /// Whether a bounded trial launch of one process succeeded.
    pub can_launch: Fact<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Allocation {
    /// "Slurm", "PBS", ...
    pub scheduler: String,
    pub nodes: u32,
    pub tasks: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PythonStack {
    /// e.g. "CPython 3.11.2".
    pub interpreter: String,
    /// Numeric packages found, with versions, e.g. "numpy 1.26.4".
    pub packages: Vec<String>,
}

/// The workload the measurements were taken on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProblemFacts {
    /// e.g. "scatter 128x128, 128 segments".
    pub description: String,
    /// Pair evaluations per run.
    pub pairs: Fact<u64>,
    /// Floating-point operations counted per pair evaluation.
    pub flops_per_pair: Fact<f64>,
    /// Independent work items one run splits into (grid rows for the kernel).
    pub independent_items: Fact<u64>,
    /// How the algorithm's cost should grow with the problem size (1 for the kernel).
    pub expected_growth_exponent: Fact<f64>,
}

/// What the benchmarks measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Measurements {
    /// One entry per variant run, `naive` included.
    pub variants: Vec<VariantMeasurement>,
    /// Relative spread of repeated runs (0.03 = 3 %), e.g. the median absolute deviation over the median.
    pub run_to_run_spread: Fact<f64>,
    pub thread_scaling: Fact<ThreadScaling>,
    /// Exponent b of a fit time = a * size^b over several problem sizes.
    pub growth_exponent: Fact<f64>,
    pub ceilings: Ceilings,
    pub overheads: Overheads,
    /// The GPU variant timed including host-device transfers.
    pub gpu_offload: Fact<GpuOffload>,
    /// The Python ladder (pure Python to mpi4py) measured here, per pair; unknown when it
    /// did not run (and in facts written before it existed, where it may be left out).
    #[serde(default = "python_ladder_not_recorded")]
    pub python_ladder: Fact<PythonLadderFacts>,
}

fn python_ladder_not_recorded() -> Fact<PythonLadderFacts> {
    Fact::unknown("not recorded in these facts")
}

/// The Python rungs as measured, for the plan's Python words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PythonLadderFacts {
    /// e.g. "CPython 3.11.7 (/usr/bin/python3)".
    pub interpreter: String,
    /// In ladder order: `py-pure`, `py-numpy`, `py-numba`, `py-numba-prange`, `py-pool`, `py-mpi4py`.
    pub rungs: Vec<PythonRungFacts>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PythonRungFacts {
    pub name: String,
    /// Threads, processes or ranks it ran with.
    pub workers: u32,
    /// The problem it ran on: the run's, or a smaller one (per-pair costs compare across sizes).
    pub problem: String,
    /// Pair evaluations of that problem; `null` when it did not run.
    pub pairs: Option<u64>,
    /// Median nanoseconds per pair evaluation; unknown, with why, when it was skipped or failed.
    pub ns_per_pair: Fact<f64>,
    /// Confidence interval [low, high] of that median; unknown with one run.
    pub ns_per_pair_interval: Fact<[f64; 2]>,
    /// Numba's compilation in a process's first call, in seconds (paid once per process).
    pub compile_seconds: Option<f64>,
    /// What a run costs outside its own clock, in seconds: an MPI job's launch and start-up.
    pub overhead_seconds: Option<f64>,
}

impl PythonLadderFacts {
    pub fn rung(&self, name: &str) -> Option<&PythonRungFacts> {
        self.rungs.iter().find(|r| r.name == name)
    }
}

/// The techniques a variant applies; a variant may combine several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Technique {
    /// Whole-array operations (NumPy style).
    Vectorised,
    /// One compiled loop with per-segment constants hoisted (Numba / C++ style).
    Fused,
    /// Explicit SIMD instructions.
    Simd,
    /// Threads in one process.
    Threads,
    /// Worker processes on one node.
    Processes,
    /// MPI ranks, possibly over several nodes.
    Mpi,
    /// A GPU kernel.
    Gpu,
}

impl Technique {
    /// True for the techniques that use more than one core or device.
    pub fn is_parallel(self) -> bool {
        matches!(
            self,
            Technique::Threads | Technique::Processes | Technique::Mpi | Technique::Gpu
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantMeasurement {
    pub name: String,
    pub techniques: Vec<Technique>,
    /// Threads, processes or ranks it ran with (1 for a serial variant).
    pub workers: u32,
    pub median_seconds: f64,
    /// Confidence interval [low, high] of the median, seconds; unknown with one run (and in
    /// facts written before it was recorded, where it may be left out).
    #[serde(default = "median_interval_not_recorded")]
    pub median_interval_seconds: Fact<[f64; 2]>,
    pub ns_per_pair: f64,
    pub speedup_over_naive: Fact<Speedup>,
    /// Whether its field agreed with the naive reference; a failed or unknown agreement excludes it.
    pub agreement: Fact<Agreement>,
}

fn median_interval_not_recorded() -> Fact<[f64; 2]> {
    Fact::unknown("not recorded in these facts")
}

/// A speedup with its confidence interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Speedup {
    pub estimate: f64,
    /// [low, high]; unknown when too few runs gave an interval.
    pub interval: Fact<[f64; 2]>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    Pass,
    Fail { reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThreadScaling {
    /// The threaded variant the scaling was measured on.
    pub variant: String,
    /// The largest thread count measured.
    pub threads: u32,
    /// Speedup at that count over the same variant on one thread.
    pub speedup: f64,
    /// speedup / threads.
    pub efficiency: f64,
    /// Serial fraction from an Amdahl fit (or Karp-Flatt with two points).
    pub serial_fraction: Fact<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ceilings {
    /// Measured FMA-chain peak of one core at the widest SIMD width.
    pub fma_peak_gflops_per_core: Fact<f64>,
    /// STREAM-triad bandwidth over all usable cores.
    pub bandwidth_gbytes_per_second: Fact<f64>,
}

/// Measured cost of starting one unit of parallel work, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Overheads {
    pub thread_spawn_seconds: Fact<f64>,
    pub rayon_task_seconds: Fact<f64>,
    pub process_spawn_seconds: Fact<f64>,
    pub mpirun_launch_seconds: Fact<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GpuOffload {
    /// The GPU variant (also listed in `variants`, where its agreement is).
    pub variant: String,
    pub device: String,
    /// True when the device was a software renderer: the figure says nothing about a GPU.
    pub software: bool,
    /// Whole run time including host-device transfers.
    pub seconds_with_transfers: f64,
    /// Pair evaluations below which the GPU loses to the best CPU variant.
    pub crossover_pairs: Fact<u64>,
}

/// What profiling found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileFacts {
    /// What was profiled, e.g. "variant naive".
    pub subject: String,
    pub hottest_function: Fact<Hotspot>,
    /// Bytes allocated on the heap during the profiled run.
    pub allocated_bytes: Fact<u64>,
    pub peak_heap_bytes: Fact<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Hotspot {
    pub function: String,
    /// Inclusive share of samples (0.8 = 80 %).
    pub share: f64,
}

/// A user's own program run under `hpc-advisor profile -- CMD`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserProgram {
    pub command: String,
    pub wall_seconds: f64,
    /// Cores busy on average: (user + system time) / wall time.
    pub cpu_utilisation: f64,
    pub io_bound: bool,
    pub peak_rss_bytes: u64,
    /// What `analyse -- CMD` measured of the program over several runs; when known, the
    /// program's own figures answer the tree's questions in place of the reference kernel's.
    #[serde(default = "no_study")]
    pub study: Fact<ProgramStudy>,
}

fn no_study() -> Fact<ProgramStudy> {
    Fact::unknown("one run of `profile -- CMD` only; `analyse -- CMD` studies the program")
}

/// The program's answers to the tree's questions, measured by `analyse -- CMD`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramStudy {
    /// Runs of the program at the studied size.
    pub runs: u32,
    /// Relative spread of those runs' wall times (median absolute deviation over the median).
    pub run_spread: Fact<f64>,
    /// The deepest function on the hot path of the sampled run.
    pub hottest_function: Fact<Hotspot>,
    /// The program rerun with its thread-count variable at 1, 2, ... usable cores.
    pub thread_scaling: Fact<ThreadScaling>,
    /// Exponent b of wall = a * size^b over `--sizes`.
    pub growth_exponent: Fact<f64>,
    /// The order the user expects (`--expected-order`).
    pub expected_growth_exponent: Fact<f64>,
    /// Independent work items the user said they have (`--items`).
    pub work_items: Fact<u64>,
}

impl Facts {
    /// Reads facts from JSON, naming the offending field when it cannot.
    pub fn from_json(text: &str) -> Result<Facts, DocumentError> {
        from_versioned_json(text, FACTS_SCHEMA_VERSION)
    }
}
