//! In-process sampling of a variant with pprof, turned into trimmed folded stacks.
//!
//! pprof samples with `SIGPROF` (an interval timer on the process's CPU
//! time), so it needs no perf permissions. The kernel tick limits it to a
//! few hundred samples per second shared by all threads, so a variant is
//! repeated until the run lasts long enough, and results are read as
//! fractions of samples, never as counts divided by the requested rate.
//!
//! The sampler's own cost is measured, not guessed: blocks of repetitions
//! run alternately without and with the sampler (interleaved, so a machine
//! that gets busier or a clock that changes hits both alike), each pair of
//! blocks gives one overhead ratio, and their median with its interval is
//! reported ([`SamplerOverhead`]). The first repetition is measured by the
//! counting allocator ([`super::memory`]).

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hpc_kernels::scatter::{Problem, RunSettings, Variant, VariantError};
use thiserror::Error;

use super::folded::FoldedStacks;
use super::lines::{
    HotLine, LeafSamples, apportion, chain_in_front_of_pprof, take_recorded, unchain_from_pprof,
};
use super::memory::{AllocationCounter, AllocationStats, peak_rss_bytes};
use crate::bench::stats::{Interval, median, median_interval};

/// Root frame of samples taken on the thread that called [`run_sampled`].
pub const CALLING_THREAD: &str = "main";
/// Frame inserted for samples whose stack holds no function of the kernel crate.
pub const OUTSIDE_KERNEL: &str = "[outside the kernel]";

/// Shared libraries the sampler must not interrupt: unwinding from inside
/// the unwinder or the dynamic loader can deadlock. The C library is not
/// blocked, so time in `malloc`/`free` stays visible.
const BLOCKED_LIBRARIES: [&str; 3] = ["libgcc", "ld-linux", "vdso"];

/// Crates and runtime pieces whose frames are plumbing between the kernel's functions.
const PLUMBING_PREFIXES: [&str; 12] = [
    "std::",
    "core::",
    "alloc::",
    "rayon::",
    "rayon_core::",
    "crossbeam",
    "pprof::",
    "backtrace::",
    "__rust_begin_short_backtrace",
    "start_thread",
    "clone",
    "__libc_start",
];

/// pprof drives one process-wide profiler: profile one thing at a time.
static SAMPLER: Mutex<()> = Mutex::new(());

/// Requested samples per second of CPU time when none is given (prime, so it does not beat with periodic work).
pub const DEFAULT_FREQUENCY_HZ: i32 = 997;

/// What one run of the variant before any sampling measured: its heap use, and the plan for the sampled phase.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// Repetitions of the interleaved phase: as many without the sampler as with it.
    pub repetitions: u32,
    /// Wall time the sampled repetitions are to fill, and the time per run the plan assumed.
    pub target: Duration,
    pub per_run: Duration,
    /// The first run, when it is long enough to serve as the first unsampled block
    /// (a slow variant's budget holds no run to spare).
    pub first_block: Option<Timing>,
    /// Heap activity of the first run.
    pub memory: AllocationStats,
    /// Peak resident set of the process after the calibration runs (getrusage; the
    /// whole process so far, but before any sampler allocated its buffers
    /// when every calibration runs before the first sampled phase).
    pub peak_rss_bytes: Option<u64>,
    /// Outside nodes and pair evaluations of one run.
    pub outside_nodes: u64,
    pub pairs: u64,
}

/// Wall and CPU time (user + system, all threads) of some repetitions.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timing {
    pub wall: Duration,
    pub cpu: Duration,
    pub runs: u32,
}

impl Timing {
    fn add(&mut self, other: Timing) {
        self.wall += other.wall;
        self.cpu += other.cpu;
        self.runs += other.runs;
    }

    /// CPU seconds per run.
    fn cpu_per_run(&self) -> f64 {
        self.cpu.as_secs_f64() / f64::from(self.runs.max(1))
    }
}

/// What profiling a variant measured.
#[derive(Debug, Clone)]
pub struct VariantProfile {
    /// Trimmed stacks of all samples, rooted at the thread (`main` or the worker group).
    pub stacks: FoldedStacks,
    /// The kernel's source lines with the most samples ([`super::lines`]).
    pub hot_lines: Vec<HotLine>,
    /// Samples the line sampler took, kept or dropped (the hot lines' shares are of these).
    pub line_samples: u64,
    /// The calibration run: heap use and the number of repetitions.
    pub calibration: Calibration,
    /// All repetitions without and with the sampler (the unsampled ones may hold one fewer
    /// or more run when the calibration run served as a block: compare per run).
    pub unsampled: Timing,
    pub sampled: Timing,
    /// Each interleaved pair of blocks: sampled / unsampled CPU time - 1.
    pub pair_overheads: Vec<f64>,
}

impl VariantProfile {
    /// Samples delivered per second of CPU time.
    pub fn samples_per_cpu_second(&self) -> f64 {
        self.stacks.total() as f64 / self.sampled.cpu.as_secs_f64().max(1e-9)
    }

    /// The sampler's cost in CPU time, from the interleaved pairs.
    ///
    /// CPU time rather than wall time: the signal handler's work is CPU time of
    /// this process, while other load on a shared machine mostly changes wall time.
    pub fn overhead(&self) -> SamplerOverhead {
        SamplerOverhead::of(&self.pair_overheads)
    }

    /// Wall-time slowdown with the sampler over all repetitions: sampled / unsampled - 1 (noisy).
    pub fn wall_overhead(&self) -> f64 {
        let per_run = |t: &Timing| t.wall.as_secs_f64() / f64::from(t.runs.max(1));
        per_run(&self.sampled) / per_run(&self.unsampled).max(1e-12) - 1.0
    }
}

/// The median of the per-pair overheads and the interval of that median.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplerOverhead {
    pub median: f64,
    /// From order statistics ([`median_interval`]); `None` below two pairs.
    pub interval: Option<Interval>,
    pub pairs: usize,
}

impl SamplerOverhead {
    /// Summarises per-pair overheads (relative, e.g. 0.02 for 2 %).
    pub fn of(pair_overheads: &[f64]) -> SamplerOverhead {
        let mut sorted: Vec<f64> = pair_overheads
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        sorted.sort_by(f64::total_cmp);
        SamplerOverhead {
            median: if sorted.is_empty() {
                0.0
            } else {
                median(&sorted)
            },
            interval: median_interval(&sorted, 0.95),
            pairs: sorted.len(),
        }
    }

    /// Whether the interval reaches zero or below: no overhead distinguishable from noise.
    ///
    /// An interval wholly below zero counts too: sampling cannot speed a run up,
    /// so a "negative overhead" is noise, never a figure.
    pub fn is_within_noise(&self) -> bool {
        self.interval.is_none_or(|interval| interval.low <= 0.0)
    }

    /// E.g. `within noise (±1.8 %; 12 interleaved pairs, 96 % interval)` or
    /// `+3.1 % CPU time (+1.2 % to +4.9 %; 12 interleaved pairs, 96 % interval)`.
    pub fn describe(&self) -> String {
        let Some(interval) = self.interval else {
            return format!(
                "not measured ({} interleaved pair(s); two are needed)",
                self.pairs
            );
        };
        let coverage = format!(
            "{} interleaved pairs, {:.0} % interval",
            self.pairs,
            100.0 * interval.confidence
        );
        if self.is_within_noise() {
            let noise = interval.low.abs().max(interval.high.abs());
            format!("within noise (±{:.1} %; {coverage})", 100.0 * noise)
        } else {
            format!(
                "{:+.1} % CPU time ({:+.1} % to {:+.1} %; {coverage})",
                100.0 * self.median,
                100.0 * interval.low,
                100.0 * interval.high
            )
        }
    }
}

#[derive(Debug, Error)]
pub enum ProfileError {
    #[error(transparent)]
    Variant(#[from] VariantError),
    #[error("the variant `{0}` returned no field to measure")]
    NoField(&'static str),
    #[error("the sampler could not {action}: {source}")]
    Sampler {
        action: &'static str,
        source: pprof::Error,
    },
    #[error("the line sampler could not be chained to pprof's signal handler: {0}")]
    LineSampler(std::io::Error),
}

/// Source lines listed in a profile.
pub const HOT_LINES: usize = 10;

/// Most interleaved pairs: enough for a 95 % interval of the median, few enough that
/// each block of a fast variant lasts long against the sampler's start and stop.
const MAX_PAIRS: u32 = 12;
/// Share of `min_duration` the calibration runs fill, when the first run is shorter.
const CALIBRATION_SHARE: f64 = 0.05;

/// Runs `variant` once measuring its heap use, and more while that first run lasted
/// under 5 % of `min_duration`, to learn how long a run takes; plans as many
/// repetitions as fill `min_duration` (at least one) with and as many without the sampler.
pub fn calibrate(
    variant: &dyn Variant,
    problem: &Problem,
    settings: &RunSettings,
    min_duration: Duration,
) -> Result<Calibration, ProfileError> {
    let counter = AllocationCounter::start();
    let cpu_before = process_cpu_time();
    let started = Instant::now();
    let output = variant.run(problem, settings)?;
    let first = Timing {
        wall: started.elapsed(),
        cpu: process_cpu_time().saturating_sub(cpu_before),
        runs: 1,
    };
    let first_run = first.wall;
    let memory = counter.finish();
    let field = output.field.ok_or(ProfileError::NoField(variant.name()))?;
    let outside_nodes = field.outside_nodes() as u64;
    drop(field);
    // A long first run is its own estimate (a slow variant's budget has no room for more);
    // a short one paid for warming up, so the next ones are timed instead.
    let mut per_run = first_run.as_secs_f64();
    let share = min_duration.mul_f64(CALIBRATION_SHARE);
    let long_first_run = first_run >= share;
    if !long_first_run {
        let started = Instant::now();
        let mut runs = 0u32;
        while runs == 0 || started.elapsed() < share {
            variant.run(problem, settings)?;
            runs += 1;
        }
        per_run = started.elapsed().as_secs_f64() / f64::from(runs);
    }
    let planned = (min_duration.as_secs_f64() / per_run.max(1e-9)).round();
    Ok(Calibration {
        repetitions: (planned.min(f64::from(u32::MAX)) as u32).max(1),
        target: min_duration,
        per_run: Duration::from_secs_f64(per_run),
        first_block: long_first_run.then_some(first),
        memory,
        peak_rss_bytes: peak_rss_bytes(),
        outside_nodes,
        pairs: outside_nodes * problem.nc() as u64,
    })
}

/// Runs `variant` for about `calibration.target` with the sampler at `frequency_hz` and as
/// many times without it, in interleaved blocks, into trimmed stacks. The block lengths
/// are re-planned after each pair from the time per run measured so far.
pub fn run_sampled(
    variant: &dyn Variant,
    problem: &Problem,
    settings: &RunSettings,
    calibration: Calibration,
    frequency_hz: i32,
) -> Result<VariantProfile, ProfileError> {
    let _one_at_a_time = SAMPLER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let calling_thread = current_thread_id();
    let pairs = calibration.repetitions.clamp(1, MAX_PAIRS);
    let run_block = |per_block: u32| -> Result<Timing, ProfileError> {
        let cpu_before = process_cpu_time();
        let started = Instant::now();
        for _ in 0..per_block {
            variant.run(problem, settings)?;
        }
        Ok(Timing {
            wall: started.elapsed(),
            cpu: process_cpu_time().saturating_sub(cpu_before),
            runs: per_block,
        })
    };
    // The first pair's unsampled block may be the calibration's long first run.
    let mut first_block = calibration.first_block;
    let mut reported = Vec::new();
    let mut leaves = LeafSamples::default();
    let (mut unsampled, mut sampled) = (Timing::default(), Timing::default());
    let mut pair_overheads = Vec::new();
    let mut per_run = calibration.per_run;
    for pair in 0..pairs {
        // Each pair's blocks share what is left of the target, at the time per run measured
        // so far: a calibration slowed by a busy moment or a cold start would otherwise
        // plan a sampled phase too short to catch a single sample.
        let per_block = block_length(
            calibration.target.saturating_sub(sampled.wall),
            per_run,
            pairs - pair,
        );
        // Alternate which block goes first, so a steady drift cancels out.
        let sampled_first = pair % 2 == 1;
        let mut without = Timing::default();
        if !sampled_first {
            without = match first_block.take() {
                Some(first) => first,
                None => run_block(per_block)?,
            };
        }
        let guard = pprof::ProfilerGuardBuilder::default()
            .frequency(frequency_hz)
            .blocklist(&BLOCKED_LIBRARIES)
            .build()
            .map_err(|source| ProfileError::Sampler {
                action: "start",
                source,
            })?;
        chain_in_front_of_pprof().map_err(ProfileError::LineSampler)?;
        let with = run_block(per_block)?;
        unchain_from_pprof().map_err(ProfileError::LineSampler)?;
        let report = guard
            .report()
            .build()
            .map_err(|source| ProfileError::Sampler {
                action: "build its report",
                source,
            })?;
        drop(guard);
        let (addresses, dropped) = take_recorded();
        leaves.add(&addresses, dropped);
        if sampled_first {
            without = run_block(per_block)?;
        }
        reported.extend(reported_stacks(&report, calling_thread));
        pair_overheads.push(with.cpu_per_run() / without.cpu_per_run().max(1e-12) - 1.0);
        unsampled.add(without);
        sampled.add(with);
        per_run = sampled.wall / sampled.runs.max(1);
    }
    Ok(VariantProfile {
        stacks: fold_stacks(&reported, &leaves),
        hot_lines: leaves.hot_lines(HOT_LINES),
        line_samples: leaves.total(),
        calibration: Calibration {
            repetitions: sampled.runs,
            ..calibration
        },
        unsampled,
        sampled,
        pair_overheads,
    })
}

/// Repetitions in each of the `pairs_left` next blocks so that they fill `remaining` at
/// `per_run` each (at least one).
fn block_length(remaining: Duration, per_run: Duration, pairs_left: u32) -> u32 {
    let runs =
        remaining.as_secs_f64() / per_run.as_secs_f64().max(1e-9) / f64::from(pairs_left.max(1));
    (runs.ceil().min(f64::from(u32::MAX)) as u32).max(1)
}

/// One stack of a pprof report, before trimming: its thread's root frame and, per
/// compiled frame (outermost first), the functions inlined there (outermost first).
struct ReportedStack {
    root: String,
    frames: Vec<Vec<String>>,
    samples: u64,
}

/// The stacks of one pprof report, rooted at their thread.
fn reported_stacks(report: &pprof::Report, calling_thread: u64) -> Vec<ReportedStack> {
    report
        .data
        .iter()
        .map(|(frames, &count)| ReportedStack {
            root: if frames.thread_id == calling_thread {
                CALLING_THREAD.to_string()
            } else {
                thread_group(&frames.thread_name_or_id())
            },
            // pprof lists frames leaf first, and inlined functions innermost first.
            frames: frames
                .frames
                .iter()
                .rev()
                .map(|symbols| {
                    symbols
                        .iter()
                        .rev()
                        .map(|symbol| {
                            qualified(&without_hash(&symbol.name()), symbol.filename.as_deref())
                        })
                        .collect()
                })
                .collect(),
            samples: u64::try_from(count).unwrap_or(0),
        })
        .collect()
}

/// Trims `stacks` into folded stacks, giving each stack's innermost compiled
/// frame the inline frames its samples really fell in ([`LeafSamples`]): pprof
/// names all samples of a function by the inline frames of its first sample.
/// A function the line sampler has no samples of keeps its own frame only.
fn fold_stacks(stacks: &[ReportedStack], leaves: &LeafSamples) -> FoldedStacks {
    let mut folded = FoldedStacks::default();
    for stack in stacks {
        let Some((leaf, callers)) = stack.frames.split_last() else {
            folded.add(&trim_stack(stack.root.clone(), &[]), stack.samples);
            continue;
        };
        let callers: Vec<String> = callers.iter().flatten().cloned().collect();
        let with_leaf =
            |chain: &[String]| -> Vec<String> { callers.iter().chain(chain).cloned().collect() };
        let Some(function) = leaf.first() else {
            folded.add(&trim_stack(stack.root.clone(), &callers), stack.samples);
            continue;
        };
        match leaves.chains_of(function) {
            Some(chains) => {
                let weights: Vec<u64> = chains.values().copied().collect();
                for (chain, samples) in chains.keys().zip(apportion(stack.samples, &weights)) {
                    if samples > 0 {
                        folded.add(&trim_stack(stack.root.clone(), &with_leaf(chain)), samples);
                    }
                }
            }
            None => folded.add(
                &trim_stack(
                    stack.root.clone(),
                    &with_leaf(std::slice::from_ref(function)),
                ),
                stack.samples,
            ),
        }
    }
    folded
}

/// Keeps the kernel's part of a stack (root first): from the outermost kernel
/// frame to the interrupted function, without plumbing frames in between and
/// without intrinsic wrappers anywhere ([`is_intrinsic_wrapper`]). The
/// sampler's own frames (the unwinder called from the signal handler) at the
/// leaf end are dropped. A stack without any kernel frame keeps only its
/// leaf, under [`OUTSIDE_KERNEL`].
pub fn trim_stack(root: String, frames: &[String]) -> Vec<String> {
    let mut kept = vec![root];
    let interrupted = frames
        .iter()
        .rposition(|name| !is_sampler_frame(name))
        .map_or(0, |index| index + 1);
    let frames = &frames[..interrupted];
    let Some(leaf) = frames.last() else {
        return kept;
    };
    match frames.iter().position(|name| is_kernel_frame(name)) {
        Some(first) => {
            // Intrinsics and pulp's wrappers fold into the kernel function that called them.
            let frames: Vec<&String> = frames[first..]
                .iter()
                .filter(|name| !is_intrinsic_wrapper(name))
                .collect();
            let last = frames.len() - 1;
            kept.extend(
                frames
                    .iter()
                    .enumerate()
                    .filter(|&(index, name)| index == last || !is_plumbing(name))
                    .map(|(_, name)| (*name).clone()),
            );
        }
        None => {
            kept.push(OUTSIDE_KERNEL.to_string());
            kept.push(leaf.clone());
        }
    }
    kept
}

/// Frames of the unwinder and of the signal delivery, innermost in every sample.
fn is_sampler_frame(name: &str) -> bool {
    let name = name.trim_start_matches('<');
    name.starts_with("backtrace::")
        || name.starts_with("pprof::")
        || name == "Unknown"
        || name == "__restore_rt"
        || name.ends_with("record_interrupted_instruction")
}

pub(super) fn is_kernel_frame(name: &str) -> bool {
    name.starts_with("hpc_kernels::") || name.starts_with("<hpc_kernels::")
}

/// SIMD intrinsics and the wrappers pulp puts around them: always inlined one-liners,
/// whose samples belong to the kernel function that called them.
pub(super) fn is_intrinsic_wrapper(name: &str) -> bool {
    let name = name.trim_start_matches('<');
    [
        "pulp::",
        "core_arch::",
        "core::core_arch::",
        "core::arch::",
        "std::arch::",
    ]
    .iter()
    .any(|prefix| name.starts_with(prefix))
}

fn is_plumbing(name: &str) -> bool {
    let name = name.trim_start_matches('<');
    name.starts_with('&') || PLUMBING_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Where the kernel crate's sources are: a path dependency of this workspace.
const KERNEL_SOURCES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/kernels/src/");

/// A bare function name, as debug info limited to line tables gives it, with
/// the module path its source file implies: `common` in
/// `.../libm-0.2.16/src/math/j0.rs` becomes `libm::math::j0::common`, and
/// `row` in `kernels/src/scatter/variants/naive.rs` becomes
/// `hpc_kernels::scatter::variants::naive::row`. Names that already carry a
/// path (full debug info, symbol tables) are kept as they are.
pub(super) fn qualified(name: &str, file: Option<&Path>) -> String {
    let path_part = name.split('<').next().unwrap_or(name);
    if path_part.is_empty() || path_part.contains("::") {
        return name.to_string();
    }
    match file.and_then(|file| file.to_str()).and_then(module_path) {
        Some(module) => format!("{module}::{name}"),
        None => name.to_string(),
    }
}

/// `crate::module::path` of a Rust source file, from the crate's folder name.
fn module_path(file: &str) -> Option<String> {
    let (crate_name, relative) = match file.strip_prefix(KERNEL_SOURCES) {
        Some(relative) => ("hpc_kernels".to_string(), relative),
        None => {
            let (folder, relative) = file.rsplit_once("/src/")?;
            let folder = folder.rsplit('/').next()?;
            // `libm-0.2.16` -> `libm`; the standard library's folders carry no version.
            let name = match folder.rsplit_once('-') {
                Some((name, version)) if version.starts_with(|c: char| c.is_ascii_digit()) => name,
                _ => folder,
            };
            (name.replace('-', "_"), relative)
        }
    };
    let relative = relative.strip_suffix(".rs")?;
    let mut path = vec![crate_name];
    path.extend(
        relative
            .split('/')
            .filter(|part| !matches!(*part, "lib" | "mod" | "main"))
            .map(str::to_string),
    );
    Some(path.join("::"))
}

/// `scatter-worker-3` -> `scatter-worker`: a pool's threads share one root frame.
fn thread_group(name: &str) -> String {
    let trimmed = name.trim_end_matches(|c: char| c.is_ascii_digit());
    match trimmed.strip_suffix('-') {
        Some(group) if trimmed.len() < name.len() && !group.is_empty() => group.to_string(),
        _ => name.to_string(),
    }
}

/// Drops the `::h0123456789abcdef` disambiguator of a legacy-mangled Rust symbol.
pub(super) fn without_hash(name: &str) -> String {
    match name.rsplit_once("::h") {
        Some((path, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            path.to_string()
        }
        _ => name.to_string(),
    }
}

fn current_thread_id() -> u64 {
    // SAFETY: pthread_self has no preconditions; pprof records the same value per sample.
    unsafe { libc::pthread_self() as u64 }
}

/// User plus system CPU time of this process (all threads) so far.
pub fn process_cpu_time() -> Duration {
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage for the duration of the call.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    timeval(usage.ru_utime) + timeval(usage.ru_stime)
}

/// A `timeval` as a duration (negative fields, which the kernel never reports, count as zero).
pub fn timeval(value: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(value.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(value.tv_usec).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_functions_samples_are_spread_over_the_inline_frames_they_really_fell_in() {
        let kernel = "hpc_kernels::scatter::variants::simd::with_simd";
        let (reciprocals, blended) = (
            "hpc_kernels::scatter::variants::simd::division::reciprocals",
            "hpc_kernels::scatter::variants::simd::bessel::blended_series",
        );
        let leaves = LeafSamples::of_chains(
            kernel,
            &[
                (
                    &[
                        kernel,
                        reciprocals,
                        "core_arch::x86::avx512f::_mm512_sqrt_pd",
                    ],
                    3,
                ),
                (&[kernel, blended], 1),
            ],
        );
        // pprof named all 8 samples after its first one's inline frames (a division).
        let stacks = [ReportedStack {
            root: CALLING_THREAD.to_string(),
            frames: vec![
                vec!["hpc_kernels::scatter::variants::rows::run_serial".to_string()],
                vec![
                    kernel.to_string(),
                    reciprocals.to_string(),
                    "core_arch::x86::avx512f::_mm512_div_pd".to_string(),
                ],
            ],
            samples: 8,
        }];
        let folded = fold_stacks(&stacks, &leaves).to_text();
        let run = "main;hpc_kernels::scatter::variants::rows::run_serial";
        // 6 and 2 samples, the intrinsic folded into its caller.
        assert!(
            folded.contains(&format!("{run};{kernel};{reciprocals} 6")),
            "{folded}"
        );
        assert!(
            folded.contains(&format!("{run};{kernel};{blended} 2")),
            "{folded}"
        );
        assert!(!folded.contains("_mm512"), "{folded}");

        // A function the line sampler never saw keeps its own frame, not pprof's guess.
        let folded = fold_stacks(&stacks, &LeafSamples::default()).to_text();
        assert_eq!(folded.trim(), format!("{run};{kernel} 8"));
    }

    #[test]
    fn an_overhead_whose_interval_reaches_zero_is_within_noise_never_negative() {
        // Pairs scattered around zero: the interval of the median spans it.
        let around_zero = [-0.02, 0.01, -0.005, 0.015, 0.0, -0.01, 0.02, 0.005];
        let overhead = SamplerOverhead::of(&around_zero);
        assert!(overhead.is_within_noise());
        let text = overhead.describe();
        assert!(text.starts_with("within noise (±2.0 %"), "{text}");
        assert!(!text.contains('-'), "no negative figure: {text}");

        // All pairs faster with the sampler: still noise, not a negative overhead.
        let faster = [-0.04, -0.03, -0.05, -0.02, -0.03, -0.04];
        let text = SamplerOverhead::of(&faster).describe();
        assert!(text.starts_with("within noise (±5.0 %"), "{text}");

        // A real cost: every pair slower, the interval above zero.
        let slower = [0.031, 0.029, 0.035, 0.03, 0.028, 0.033, 0.032];
        let overhead = SamplerOverhead::of(&slower);
        assert!(!overhead.is_within_noise());
        assert_eq!(overhead.median, 0.031);
        let text = overhead.describe();
        assert!(
            text.starts_with(
                "+3.1 % CPU time (+2.8 % to +3.5 %; 7 interleaved pairs, 98 % interval"
            ),
            "{text}"
        );

        // One pair has no interval: said so, not a figure.
        assert!(
            SamplerOverhead::of(&[0.05])
                .describe()
                .starts_with("not measured")
        );
    }

    fn names(frames: &[&str]) -> Vec<String> {
        frames.iter().map(|f| f.to_string()).collect()
    }

    #[test]
    fn stacks_keep_the_kernel_and_drop_scheduler_plumbing() {
        let frames = names(&[
            "start_thread",
            "std::sys::thread::unix::Thread::new::thread_start",
            "rayon_core::registry::WorkerThread::wait_until_cold",
            "<rayon_core::job::StackJob<L,F,R> as rayon_core::job::Job>::execute",
            "hpc_kernels::scatter::variants::rows::run_threaded::{{closure}}",
            "<&F as core::ops::function::Fn<A>>::call",
            "hpc_kernels::scatter::variants::naive::compute_scattered_wave_element",
            "alloc::alloc::alloc",
            "Unknown",
            "backtrace::backtrace::libunwind::trace",
        ]);
        assert_eq!(
            trim_stack("scatter-worker".into(), &frames),
            names(&[
                "scatter-worker",
                "hpc_kernels::scatter::variants::rows::run_threaded::{{closure}}",
                "hpc_kernels::scatter::variants::naive::compute_scattered_wave_element",
                "alloc::alloc::alloc",
            ])
        );
    }

    #[test]
    fn stacks_outside_the_kernel_keep_their_leaf() {
        let frames = names(&[
            "start_thread",
            "rayon_core::sleep::Sleep::sleep",
            "syscall",
            "backtrace::backtrace::libunwind::trace",
        ]);
        assert_eq!(
            trim_stack("scatter-worker".into(), &frames),
            names(&["scatter-worker", OUTSIDE_KERNEL, "syscall"])
        );
    }

    #[test]
    fn bare_names_get_the_module_path_of_their_source_file() {
        let kernel = format!("{KERNEL_SOURCES}scatter/variants/naive.rs");
        assert_eq!(
            qualified("hankel_functions", Some(Path::new(&kernel))),
            "hpc_kernels::scatter::variants::naive::hankel_functions"
        );
        let libm = "/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/libm-0.2.16/src/math/j0.rs";
        assert_eq!(
            qualified("common", Some(Path::new(libm))),
            "libm::math::j0::common"
        );
        let core = "/rustc/59807616e/library/core/src/num/f64.rs";
        assert_eq!(
            qualified("sqrt", Some(Path::new(core))),
            "core::num::f64::sqrt"
        );
        let rayon = "/r/rayon-core-1.13.0/src/registry.rs";
        assert_eq!(
            qualified("main_loop", Some(Path::new(rayon))),
            "rayon_core::registry::main_loop"
        );
        assert_eq!(qualified("a::b", Some(Path::new(libm))), "a::b");
        assert_eq!(
            qualified("fold<core::slice::iter::Iter<f64>>", Some(Path::new(core))),
            "core::num::f64::fold<core::slice::iter::Iter<f64>>"
        );
        assert_eq!(
            qualified("<T as X>::f", Some(Path::new(core))),
            "<T as X>::f"
        );
        assert_eq!(qualified("malloc", None), "malloc");
    }

    #[test]
    fn worker_numbers_and_hashes_are_dropped() {
        assert_eq!(thread_group("scatter-worker-12"), "scatter-worker");
        assert_eq!(thread_group("main"), "main");
        assert_eq!(thread_group("42"), "42");
        assert_eq!(
            without_hash("naive::hankel_functions::h0123456789abcdef"),
            "naive::hankel_functions"
        );
        assert_eq!(without_hash("a::hash"), "a::hash");
    }

    /// Keeps a core busy for `duration` of wall time (CPU time, unlike a sleep).
    fn spin(duration: Duration) {
        let started = Instant::now();
        let mut x = 1.0f64;
        while started.elapsed() < duration {
            x = std::hint::black_box(x.mul_add(1.000_000_1, 1e-9));
        }
    }

    #[test]
    fn a_slow_first_run_does_not_shorten_the_sampled_phase() {
        // A cold start: the first run is forty times slower than the rest.
        let runs = std::sync::atomic::AtomicU32::new(0);
        let variant = crate::bench::runner::tests::ScriptedVariant {
            name: "cold-start",
            run: |problem: &Problem, _: &RunSettings| {
                let first = runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0;
                spin(Duration::from_millis(if first { 40 } else { 1 }));
                Ok(hpc_kernels::scatter::RunOutput::field(
                    hpc_kernels::scatter::Field::zeros(problem.nx() + 1, problem.ny() + 1),
                ))
            },
        };
        let problem = crate::bench::runner::tests::tiny_problem();
        let settings = RunSettings::default();
        let target = Duration::from_millis(200);
        let calibration = calibrate(&variant, &problem, &settings, target).unwrap();
        // The 40 ms first run is a long one (over 5 % of the target): the plan believes it.
        assert!(calibration.first_block.is_some());
        assert!(calibration.repetitions <= 6, "{}", calibration.repetitions);
        let profile = run_sampled(&variant, &problem, &settings, calibration, 997).unwrap();
        // Planned from the first run alone, the sampled phase would have lasted ~5 ms
        // (a sample or none); re-planned from the measured 1 ms runs it fills the target.
        assert!(
            profile.sampled.wall >= target.mul_f64(0.75),
            "sampled for {:?} in {} runs",
            profile.sampled.wall,
            profile.sampled.runs
        );
        assert!(profile.sampled.runs >= 100, "{}", profile.sampled.runs);
        assert!(profile.stacks.total() > 0);
    }

    #[test]
    fn blocks_share_what_is_left_of_the_target() {
        let ms = Duration::from_millis;
        assert_eq!(block_length(ms(100), ms(1), 4), 25);
        assert_eq!(block_length(ms(10), ms(4), 1), 3);
        // Nothing left, or runs longer than what is left: still one run per block.
        assert_eq!(block_length(ms(0), ms(1), 3), 1);
        assert_eq!(block_length(ms(5), ms(50), 2), 1);
    }
}
