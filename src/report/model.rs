//! The report of one run: the single data model every output is rendered from.
//!
//! As hyperfine's one result type feeds every exporter, a [`Report`] feeds the
//! terminal summary, Markdown, JSON and HTML. It is plain serde data with a
//! `schema_version`, so a saved `report.json` can be re-rendered
//! (`hpc-advisor report --from`) or re-advised (`hpc-advisor advise --from`)
//! on another machine.

use serde::{Deserialize, Serialize};

use crate::advise::{Facts, Recommendation};
use crate::bench::BenchReport;
use crate::bench::python::PythonLadder;
use crate::detect::Machine;
use crate::fact::Fact;
use crate::profile::program::ProgramStudyRecord;
use crate::profile::record::VariantProfilesRecord;

/// The version of the report format this build reads and writes.
///
/// Version 2 replaced the recommendation's ranked `actions` by the `plan`
/// (verdict, steps with their own gains, ruled-out options, confidence).
/// Version 3 added the Python ladder (`python`, `facts.measurements.python_ladder`, the
/// plan's `python_summary` and each step's `python_measured`).
/// Version 4 added each profile's `hot_lines` and the sampler overhead's interval
/// (`relative_cpu_interval`, `pair_relative_cpu`).
pub const REPORT_SCHEMA_VERSION: u32 = 4;

/// Report versions this build reads whole: versions 2 and 3 lack only what later ones added.
pub const READABLE_REPORT_VERSIONS: [u32; 3] = [2, 3, REPORT_SCHEMA_VERSION];

/// Earlier report versions whose `facts` this build can still re-advise.
pub const READABLE_FACTS_OF_REPORT_VERSIONS: [u32; 4] = [1, 2, 3, REPORT_SCHEMA_VERSION];

/// Everything one `hpc-advisor analyse` run found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Always [`REPORT_SCHEMA_VERSION`] for this build.
    pub schema_version: u32,
    /// The hpc-advisor version that wrote the report.
    pub tool_version: String,
    /// When the run started, UTC, RFC 3339 (`2026-11-21T10:32:00Z`).
    pub created_utc: String,
    pub host: String,
    pub run: RunSummary,
    /// What detection found; unknown only if detection itself failed.
    pub machine: Fact<Machine>,
    /// The ladder with statistics, the ceilings and the scaling analysis.
    pub bench: Fact<BenchReport>,
    /// The Python ladder (pure Python, NumPy, Numba, process pool, mpi4py), per pair.
    #[serde(default = "python_ladder_not_recorded")]
    pub python: Fact<PythonLadder>,
    /// Flamegraph profiles and memory statistics of the profiled variants.
    pub profiles: Fact<VariantProfilesRecord>,
    /// The MPI variant launched through the detected launcher.
    pub mpi: Fact<MpiRun>,
    /// The GPU variant's timing breakdown and crossover.
    pub gpu: Fact<GpuRun>,
    /// The facts the advisor read, derived from the sections above.
    pub facts: Facts,
    pub recommendation: Recommendation,
    /// Your own program (`analyse -- CMD`): what was measured of it and its own plan.
    #[serde(default)]
    pub program: Option<ProgramSection>,
    /// Each stage of the run, in order, with how it ended.
    pub stages: Vec<Stage>,
    /// Files of the run folder, relative to it.
    pub artefacts: Vec<Artefact>,
}

/// What a report written before the Python ladder existed says of it.
fn python_ladder_not_recorded() -> Fact<PythonLadder> {
    Fact::unknown("this report was written before hpc-advisor measured the Python ladder")
}

/// The user's program in the report: the study, the facts the tree read for it, its plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramSection {
    pub study: ProgramStudyRecord,
    /// The run's facts with the program's own answers in place of the reference kernel's
    /// (`program.study`); `advise --facts` on them gives the same plan.
    pub facts: Facts,
    pub recommendation: Recommendation,
}

/// How the run was asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunSummary {
    /// The problem as one line, e.g. "128x128 cells, 128 segments, lambda 0.5, contour default".
    pub problem: String,
    pub nx: usize,
    pub ny: usize,
    pub nc: usize,
    pub wavelength: f64,
    pub contour: String,
    /// `--quick` was given.
    pub quick: bool,
    /// The wall-time budget of the whole run, in seconds.
    pub budget_seconds: f64,
    /// The wall time the run took, in seconds.
    pub wall_seconds: f64,
}

/// One stage of a run (detect, profile, bench, mpi, gpu, advise) and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub name: String,
    pub outcome: StageOutcome,
    pub seconds: f64,
}

/// A failed stage is recorded and the run goes on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StageOutcome {
    Completed,
    Failed { error: String },
    Skipped { reason: String },
}

/// The MPI variant run as a real job through the launcher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MpiRun {
    /// The launch command, as run.
    pub command: Vec<String>,
    pub ranks: usize,
    pub threads_per_rank: usize,
    /// Wall time of the whole launch, in seconds.
    pub whole_seconds: f64,
    /// MPI initialisation inside rank 0, in seconds.
    pub init_seconds: f64,
    /// Rank 0's compute and gather, in seconds.
    pub compute_seconds: f64,
    /// `whole - compute`: what starting the job costs, in seconds.
    pub launch_seconds: f64,
    /// Pair evaluations per second of the compute part (rank 0's compute and gather).
    pub pairs_per_second: f64,
    /// Throughput of each node the job ran on: the sum over its ranks of pairs over compute time.
    pub nodes: Vec<NodeThroughput>,
    /// Rank 0's gather, in seconds: communication, and waiting for the slowest rank.
    pub gather_seconds: f64,
    /// The slowest rank's compute minus the mean compute, in seconds: time lost to uneven work.
    pub imbalance_seconds: f64,
    /// `pairs_per_second` over the sum of the nodes' throughputs: 1 means no time was lost
    /// to imbalance or communication; unknown without per-rank timings.
    pub parallel_efficiency: Fact<f64>,
    pub checksum: f64,
    /// `|checksum - naive checksum| / naive checksum`.
    pub checksum_relative_difference: f64,
    /// Within the ladder's tolerance: only then is its timing used.
    pub agrees: bool,
}

/// What one node of an MPI job computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeThroughput {
    /// The node's name as MPI reports it.
    pub node: String,
    pub ranks: usize,
    /// Pair evaluations its ranks computed.
    pub pairs: u64,
    /// Pair evaluations per second: the sum over its ranks of pairs over compute time.
    pub pairs_per_second: f64,
}

/// The GPU variant's measured breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GpuRun {
    /// The adapter used, e.g. "llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan, cpu)".
    pub adapter: String,
    /// A software rasteriser (lavapipe/llvmpipe): a correctness target, never a recommendation.
    pub software: bool,
    /// "f64" or "f32 with compensated summation".
    pub precision: String,
    /// Named parts of one run (upload, compute, download), in seconds.
    pub phases: Vec<(String, f64)>,
    pub checksum_relative_difference: f64,
    pub agrees: bool,
    /// Pair evaluations below which the GPU loses to the best CPU variant here.
    pub crossover_pairs: Fact<u64>,
}

/// A file of the run folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Artefact {
    /// Path relative to the run folder, e.g. `flamegraphs/naive.svg`.
    pub path: String,
    pub kind: ArtefactKind,
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArtefactKind {
    ReportJson,
    ReportMarkdown,
    ReportHtml,
    Flamegraph,
    DifferentialFlamegraph,
    FoldedStacks,
    ProfileJson,
}
