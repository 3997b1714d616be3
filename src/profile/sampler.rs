//! In-process sampling of a variant with pprof, turned into trimmed folded stacks.
//!
//! pprof samples with `SIGPROF` (an interval timer on the process's CPU
//! time), so it needs no perf permissions. The kernel tick limits it to a
//! few hundred samples per second shared by all threads, so a variant is
//! repeated until the run lasts long enough, and results are read as
//! fractions of samples, never as counts divided by the requested rate.
//!
//! The same repetitions are timed once without the sampler and once with it,
//! which gives the profiling overhead, and the first unsampled repetition is
//! measured by the counting allocator ([`super::memory`]).

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hpc_kernels::scatter::{Problem, RunSettings, Variant, VariantError};
use thiserror::Error;

use super::folded::FoldedStacks;
use super::memory::{AllocationCounter, AllocationStats, peak_rss_bytes};

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

/// The unsampled phase of a profile: the variant repeated for a minimum time.
#[derive(Debug, Clone)]
pub struct UnsampledRuns {
    /// Times the variant ran (the sampled phase runs it as often).
    pub repetitions: u32,
    /// Wall time of those repetitions.
    pub duration: Duration,
    /// CPU time (user + system, all threads) of those repetitions.
    pub cpu: Duration,
    /// Heap activity of the first run.
    pub memory: AllocationStats,
    /// Peak resident set of the process after these runs (getrusage; the
    /// whole process so far, but before any sampler allocated its buffers
    /// when every unsampled phase runs before the first sampled one).
    pub peak_rss_bytes: Option<u64>,
    /// Outside nodes and pair evaluations of one run.
    pub outside_nodes: u64,
    pub pairs: u64,
}

/// What profiling a variant measured.
#[derive(Debug, Clone)]
pub struct VariantProfile {
    /// Trimmed stacks of all samples, rooted at the thread (`main` or the worker group).
    pub stacks: FoldedStacks,
    /// The same number of runs without the sampler, and their heap use.
    pub unsampled: UnsampledRuns,
    /// Wall time of the sampled repetitions.
    pub sampled: Duration,
    /// CPU time (user + system, all threads) of the sampled repetitions.
    pub sampled_cpu: Duration,
}

impl VariantProfile {
    /// CPU time the sampler added: sampled / unsampled CPU time - 1.
    ///
    /// CPU time rather than wall time: the signal handler's work is CPU time of
    /// this process, while other load on a shared machine mostly changes wall time.
    pub fn overhead(&self) -> f64 {
        self.sampled_cpu.as_secs_f64() / self.unsampled.cpu.as_secs_f64().max(1e-9) - 1.0
    }

    /// Wall-time slowdown with the sampler: sampled / unsampled wall time - 1.
    pub fn wall_overhead(&self) -> f64 {
        self.sampled.as_secs_f64() / self.unsampled.duration.as_secs_f64().max(1e-9) - 1.0
    }

    /// Samples delivered per second of CPU time.
    pub fn samples_per_cpu_second(&self) -> f64 {
        self.stacks.total() as f64 / self.sampled_cpu.as_secs_f64().max(1e-9)
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
}

/// Runs `variant` until `min_duration` has passed (at least once), measuring the first run's heap use.
pub fn run_unsampled(
    variant: &dyn Variant,
    problem: &Problem,
    settings: &RunSettings,
    min_duration: Duration,
) -> Result<UnsampledRuns, ProfileError> {
    let cpu_before = process_cpu_time();
    let counter = AllocationCounter::start();
    let started = Instant::now();
    let output = variant.run(problem, settings)?;
    let memory = counter.finish();
    let field = output.field.ok_or(ProfileError::NoField(variant.name()))?;
    let outside_nodes = field.outside_nodes() as u64;
    drop(field);
    let mut repetitions = 1;
    while started.elapsed() < min_duration {
        variant.run(problem, settings)?;
        repetitions += 1;
    }
    Ok(UnsampledRuns {
        repetitions,
        duration: started.elapsed(),
        cpu: process_cpu_time().saturating_sub(cpu_before),
        memory,
        peak_rss_bytes: peak_rss_bytes(),
        outside_nodes,
        pairs: outside_nodes * problem.nc() as u64,
    })
}

/// Runs `variant` as often as in `unsampled`, sampled at `frequency_hz`, into trimmed stacks.
pub fn run_sampled(
    variant: &dyn Variant,
    problem: &Problem,
    settings: &RunSettings,
    unsampled: UnsampledRuns,
    frequency_hz: i32,
) -> Result<VariantProfile, ProfileError> {
    let _one_at_a_time = SAMPLER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let calling_thread = current_thread_id();
    let guard = pprof::ProfilerGuardBuilder::default()
        .frequency(frequency_hz)
        .blocklist(&BLOCKED_LIBRARIES)
        .build()
        .map_err(|source| ProfileError::Sampler {
            action: "start",
            source,
        })?;
    let cpu_before = process_cpu_time();
    let started = Instant::now();
    for _ in 0..unsampled.repetitions {
        variant.run(problem, settings)?;
    }
    let sampled = started.elapsed();
    let sampled_cpu = process_cpu_time().saturating_sub(cpu_before);
    let report = guard
        .report()
        .build()
        .map_err(|source| ProfileError::Sampler {
            action: "build its report",
            source,
        })?;
    drop(guard);

    let mut stacks = FoldedStacks::default();
    for (frames, &count) in &report.data {
        let samples = u64::try_from(count).unwrap_or(0);
        let root = if frames.thread_id == calling_thread {
            CALLING_THREAD.to_string()
        } else {
            thread_group(&frames.thread_name_or_id())
        };
        // pprof lists frames leaf first, and inlined functions innermost first.
        let names: Vec<String> = frames
            .frames
            .iter()
            .rev()
            .flat_map(|symbols| symbols.iter().rev())
            .map(|symbol| qualified(&without_hash(&symbol.name()), symbol.filename.as_deref()))
            .collect();
        stacks.add(&trim_stack(root, &names), samples);
    }
    Ok(VariantProfile {
        stacks,
        unsampled,
        sampled,
        sampled_cpu,
    })
}

/// Keeps the kernel's part of a stack (root first): from the outermost kernel
/// frame to the interrupted function, without plumbing frames in between. The
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
            let last = frames.len() - 1;
            kept.extend(
                frames[first..]
                    .iter()
                    .enumerate()
                    .filter(|&(offset, name)| first + offset == last || !is_plumbing(name))
                    .map(|(_, name)| name.clone()),
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
}

fn is_kernel_frame(name: &str) -> bool {
    name.starts_with("hpc_kernels::") || name.starts_with("<hpc_kernels::")
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
fn qualified(name: &str, file: Option<&Path>) -> String {
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
fn without_hash(name: &str) -> String {
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
}
