//! What a profile run saves in `profile.json`: plain serialisable data for reports and the advisor.

use serde::{Deserialize, Serialize};

use super::external::{ProgramFacts, StackSampling};
use super::hotspots::Hotspot;
use super::lines::HotLine;
use super::sampler::SamplerOverhead;
use crate::bench::stats::Interval;

/// `profile.json` of `hpc-advisor profile --variant ...`: one record per profiled variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VariantProfilesRecord {
    pub problem: String,
    pub profiles: Vec<VariantProfileRecord>,
    /// The differential flamegraph, when one was drawn.
    pub differential: Option<DifferentialRecord>,
}

/// One variant's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VariantProfileRecord {
    pub variant: String,
    /// Threads the variant used.
    pub workers: usize,
    pub samples: SamplingFigures,
    pub overhead: OverheadFigures,
    pub memory: MemoryFigures,
    pub hotspots: Vec<Hotspot>,
    /// The kernel's source lines with the most samples, from each sample's own
    /// instruction (`src/profile/lines.rs`); empty in records written before them.
    #[serde(default)]
    pub hot_lines: Vec<HotLine>,
    /// Files in the run folder, relative to it.
    pub folded_file: String,
    pub flamegraph_file: String,
}

/// How many samples were taken and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SamplingFigures {
    pub total: u64,
    pub requested_hz: i32,
    /// Samples delivered per second of CPU time (the kernel tick caps it, whatever was requested).
    pub per_cpu_second: f64,
    /// Runs of the variant in the sampled phase (the unsampled phase ran as many).
    pub repetitions: u32,
    /// Share of samples outside any function of the kernel crate (scheduler, start-up).
    pub outside_kernel_share: f64,
}

/// The same repetitions timed without and with the sampler, in interleaved blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OverheadFigures {
    pub unsampled_seconds: f64,
    pub sampled_seconds: f64,
    pub unsampled_cpu_seconds: f64,
    pub sampled_cpu_seconds: f64,
    /// Median over the interleaved pairs of sampled / unsampled CPU time - 1:
    /// the sampler's cost, little affected by other load. Noise can make it
    /// negative; [`OverheadFigures::describe`] then says "within noise".
    pub relative_cpu: f64,
    /// Interval of that median (order statistics); `None` in records written before it was measured.
    #[serde(default)]
    pub relative_cpu_interval: Option<Interval>,
    /// sampled / unsampled CPU time - 1 of each interleaved pair of blocks.
    #[serde(default)]
    pub pair_relative_cpu: Vec<f64>,
    /// sampled / unsampled wall time - 1 over all repetitions (noisy on a shared machine).
    pub relative_wall: f64,
}

impl OverheadFigures {
    /// The overhead in words: a figure with its interval, or "within noise (±x %)"; never a negative overhead.
    pub fn describe(&self) -> String {
        SamplerOverhead::of(&self.pair_relative_cpu).describe()
    }
}

/// Heap use of one run of the variant, and the process's peak resident set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MemoryFigures {
    /// Whether the counting allocator is installed; without it the heap figures are zero.
    pub counting: bool,
    pub allocations: u64,
    pub allocated_bytes: u64,
    pub peak_live_heap_bytes: u64,
    pub allocations_per_pair: f64,
    pub allocated_bytes_per_pair: f64,
    /// Peak resident set of the whole profiling process after the unsampled runs,
    /// before the sampler's buffers (getrusage), not of one run alone.
    pub peak_rss_bytes: Option<u64>,
}

/// A differential flamegraph: shaped like `baseline`, coloured by `changed` minus `baseline`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DifferentialRecord {
    pub baseline: String,
    pub changed: String,
    pub file: String,
}

/// `profile.json` of `hpc-advisor profile -- CMD ...`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CommandProfileRecord {
    pub facts: ProgramFacts,
    pub stacks: StackSampling,
    /// Samples of the sampled run, when there was one.
    pub samples: Option<u64>,
    pub hotspots: Vec<Hotspot>,
    pub folded_file: Option<String>,
    pub flamegraph_file: Option<String>,
}
