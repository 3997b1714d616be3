//! The machine's measured limits, so a variant's speed can be read as "how close to what is possible".
//!
//! Three kinds of ceiling, each measured with its own spread:
//! - peak floating-point throughput from chains of fused multiply-adds, per
//!   SIMD width the CPU offers (runtime-detected), on one core and on all
//!   usable cores;
//! - memory bandwidth from a STREAM-style triad `a = b + s * c`, on arrays
//!   well beyond the last-level cache and on cache-resident ones;
//! - per-task overheads (a thread, a rayon task, a process, an `mpirun -n 1`)
//!   that decide where a work item is "large" in the decision tree.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::Progress;
use super::stats::Summary;
use crate::detect::topology::{Cache, Caches};

/// The hidden subcommand that starts and exits at once, for the process-spawn overhead.
pub const NOOP_SUBCOMMAND: &str = "noop";

/// Names of the per-task overheads, as [`Overhead::name`] spells them.
pub const THREAD_SPAWN: &str = "thread spawn+join";
pub const RAYON_TASK: &str = "rayon task";
pub const PROCESS_SPAWN: &str = "process spawn";
pub const MPIRUN_LAUNCH: &str = "mpirun -n 1";

/// Independent FMA chains per core: enough to cover a 4-cycle latency on two FMA pipes with room.
const FMA_CHAINS: usize = 12;

/// Target duration of one sample of a throughput ceiling.
const SAMPLE_SECONDS: f64 = 0.002;

/// What the ceilings need to know about the machine and the run.
#[derive(Debug, Clone, PartialEq)]
pub struct CeilingSettings {
    /// Seconds for all ceilings together.
    pub budget_seconds: f64,
    /// Cores for the all-cores measurements.
    pub threads: usize,
    pub caches: CacheSizes,
    /// Program that runs [`NOOP_SUBCOMMAND`] (this executable); `None` skips the process overhead.
    pub noop_program: Option<PathBuf>,
}

/// Cache capacities in bytes, per core for L1 and L2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CacheSizes {
    pub l1_data: usize,
    pub l2: usize,
    pub last_level: usize,
}

impl CacheSizes {
    /// Used when detection does not say: common values of current x86 server cores.
    pub const FALLBACK: CacheSizes = CacheSizes {
        l1_data: 32 << 10,
        l2: 1 << 20,
        last_level: 32 << 20,
    };

    /// CPU 0's caches as detection reads them (sysfs, else cpuid), each size it does not
    /// give taken from [`CacheSizes::FALLBACK`].
    pub fn detect() -> CacheSizes {
        CacheSizes::from_caches(crate::detect::caches().known())
    }

    /// L1 data, L2 and the last level (the highest level holding data) of `caches`.
    fn from_caches(caches: Option<&Caches>) -> CacheSizes {
        let data = || {
            caches
                .into_iter()
                .flat_map(|caches| &caches.levels)
                .filter(|cache| cache.kind != "instruction")
        };
        let bytes = |cache: &Cache| usize::try_from(cache.size_bytes).ok();
        let level = |level: u8| data().find(|cache| cache.level == level).and_then(bytes);
        let last_level = data().max_by_key(|cache| cache.level).and_then(bytes);
        CacheSizes {
            l1_data: level(1).unwrap_or(Self::FALLBACK.l1_data),
            l2: level(2).unwrap_or(Self::FALLBACK.l2),
            last_level: last_level.unwrap_or(Self::FALLBACK.last_level),
        }
    }
}

/// A throughput ceiling on one core and on all usable cores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ThroughputCeiling {
    /// E.g. `fma 256-bit (avx2+fma)` or `triad beyond LLC`.
    pub name: String,
    /// GFLOP/s or GB/s, see `unit`.
    pub unit: String,
    pub single_core: Summary,
    pub all_cores: Summary,
    pub threads: usize,
}

/// A throughput ceiling that gave no finite rate, so it has no figure rather than a made-up one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UnmeasuredCeiling {
    /// The name the ceiling would have had, e.g. `fma 256-bit (avx2+fma)` or `triad dram`.
    pub name: String,
    /// Which measurement failed and why.
    pub reason: String,
}

/// The FMA peak of one SIMD width.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FmaPeak {
    pub width_bits: u32,
    pub instruction_set: String,
    pub gflops: ThroughputCeiling,
}

/// Bandwidth of the triad at one working-set size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Bandwidth {
    /// `dram` (beyond the last-level cache), `l2` or `l1`.
    pub level: String,
    /// Bytes of the three arrays per thread.
    pub working_set_bytes: usize,
    pub gigabytes_per_second: ThroughputCeiling,
}

/// The cost of starting and finishing one unit of parallel work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Overhead {
    /// `thread spawn+join`, `rayon task`, `process spawn`, `mpirun -n 1`.
    pub name: String,
    /// Seconds per task; `None` when it could not be measured.
    pub seconds: Option<Summary>,
    /// Why it was not measured.
    pub unavailable: Option<String>,
}

/// Everything measured about the machine's limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ceilings {
    pub caches: CacheSizes,
    /// Narrowest to widest.
    pub fma: Vec<FmaPeak>,
    pub bandwidth: Vec<Bandwidth>,
    /// FMA peaks and bandwidths left out of `fma` and `bandwidth` because they gave no finite rate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmeasured: Vec<UnmeasuredCeiling>,
    pub overheads: Vec<Overhead>,
    pub seconds_spent: f64,
}

impl Ceilings {
    /// The FMA peak in GFLOP/s for `workers` cores (one or all): the best SIMD width's best sample.
    ///
    /// Usually the widest width's; not always (some CPUs lower their clock for 512-bit work).
    pub fn fma_peak(&self, workers: usize) -> Option<f64> {
        self.fma
            .iter()
            .map(|peak| peak.gflops.best(workers))
            .max_by(f64::total_cmp)
    }

    /// Triad bandwidth in GB/s at `level` (`dram`, `l2`, `l1`) for `workers` cores: the best sample.
    pub fn bandwidth(&self, level: &str, workers: usize) -> Option<f64> {
        let measured = self.bandwidth.iter().find(|b| b.level == level)?;
        Some(measured.gigabytes_per_second.best(workers))
    }

    /// Why the ceilings whose name starts with `prefix` (`fma `, `triad dram`) were not measured;
    /// `None` when none of them failed.
    pub fn why_unmeasured(&self, prefix: &str) -> Option<String> {
        let reasons: Vec<String> = self
            .unmeasured
            .iter()
            .filter(|ceiling| ceiling.name.starts_with(prefix))
            .map(|ceiling| format!("{}, {}", ceiling.name, ceiling.reason))
            .collect();
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }
}

impl ThroughputCeiling {
    /// The best sample on one core (`workers` 1) or on all cores.
    ///
    /// A ceiling is the most the machine can do, and interference only ever
    /// lowers a throughput sample, so the best sample estimates it better than
    /// the median does on a shared machine.
    pub fn best(&self, workers: usize) -> f64 {
        if workers > 1 {
            self.all_cores.max
        } else {
            self.single_core.max
        }
    }
}

/// Measures every ceiling within `settings.budget_seconds` (plus at most one sample each).
pub fn measure(settings: &CeilingSettings, progress: &mut dyn Progress) -> Ceilings {
    let started = Instant::now();
    let widths = fma::available();
    // Each FMA width and triad level is measured twice (one core, all cores); overheads once each.
    let measurements = 2 * (widths.len() + 3) + 4;
    let slice = Duration::from_secs_f64(settings.budget_seconds.max(0.0) / measurements as f64);
    let threads = settings.threads.max(1);
    let mut unmeasured = Vec::new();

    let fma = widths
        .into_iter()
        .filter_map(|width| {
            progress.step(&format!("ceilings: FMA peak {}", width.name));
            let flops_per_iteration = (2 * width.lanes * FMA_CHAINS) as f64;
            let iterations = calibrate(|n| (width.run)(n));
            let rate = |seconds: f64| flops_per_iteration * iterations as f64 / seconds / 1e9;
            let single = parallel_samples(1, slice, |_| (), |_| (width.run)(iterations));
            let all = parallel_samples(threads, slice, |_| (), |_| (width.run)(iterations));
            let gflops = throughput_ceiling(
                format!("fma {}-bit ({})", width.bits, width.name),
                "GFLOP/s",
                threads,
                rate_summary(&single, 1.0, rate),
                rate_summary(&all, threads as f64, rate),
            );
            match gflops {
                Ok(gflops) => Some(FmaPeak {
                    width_bits: width.bits,
                    instruction_set: width.name.to_string(),
                    gflops,
                }),
                Err(failed) => {
                    unmeasured.push(failed);
                    None
                }
            }
        })
        .collect();

    let caches = settings.caches;
    let levels = [
        // Well beyond the last-level cache: four times its size in total (64 MiB to 1 GiB),
        // split over the threads.
        (
            "dram",
            (4 * caches.last_level).clamp(64 << 20, 1 << 30),
            true,
        ),
        ("l2", caches.l2 / 2, false),
        ("l1", caches.l1_data / 2, false),
    ];
    let bandwidth = levels
        .into_iter()
        .filter_map(|(level, bytes, shared)| {
            progress.step(&format!("ceilings: triad bandwidth ({level})"));
            let single = triad_ceiling(bytes, 1, slice);
            let per_thread = if shared { bytes / threads } else { bytes };
            let all = triad_ceiling(per_thread, threads, slice);
            match throughput_ceiling(format!("triad {level}"), "GB/s", threads, single, all) {
                Ok(gigabytes_per_second) => Some(Bandwidth {
                    level: level.to_string(),
                    working_set_bytes: bytes,
                    gigabytes_per_second,
                }),
                Err(failed) => {
                    unmeasured.push(failed);
                    None
                }
            }
        })
        .collect();

    progress.step("ceilings: per-task overheads");
    let overheads = overheads::measure(settings, slice);
    let seconds_spent = started.elapsed().as_secs_f64();
    progress.spent(seconds_spent);
    Ceilings {
        caches,
        fma,
        bandwidth,
        unmeasured,
        overheads,
        seconds_spent,
    }
}

/// Repetitions of `work(n)` that take about [`SAMPLE_SECONDS`].
fn calibrate(mut work: impl FnMut(u64)) -> u64 {
    let mut n = 1;
    loop {
        let started = Instant::now();
        work(n);
        let seconds = started.elapsed().as_secs_f64();
        if seconds >= SAMPLE_SECONDS / 4.0 || n >= 1 << 40 {
            return ((n as f64 * SAMPLE_SECONDS / seconds.max(1e-9)) as u64).max(1);
        }
        n *= 4;
    }
}

/// Summarises per-sample seconds as rates, `rate(seconds) * scale` per sample; why not when a
/// rate is not finite (a sample too short for the clock), so a failure is never a zero ceiling.
fn rate_summary(seconds: &[f64], scale: f64, rate: impl Fn(f64) -> f64) -> Result<Summary, String> {
    let rates: Vec<f64> = seconds.iter().map(|&s| rate(s) * scale).collect();
    Summary::of(&rates).ok_or_else(|| {
        let failed = rates.iter().filter(|r| !r.is_finite()).count();
        if rates.is_empty() {
            "no sample was taken".to_string()
        } else {
            format!(
                "{failed} of {} samples gave no finite rate (a sample too short for the clock)",
                rates.len()
            )
        }
    })
}

/// The ceiling named `name` from its one-core and all-cores rates, or which of them failed and why.
fn throughput_ceiling(
    name: String,
    unit: &str,
    threads: usize,
    single_core: Result<Summary, String>,
    all_cores: Result<Summary, String>,
) -> Result<ThroughputCeiling, UnmeasuredCeiling> {
    let failed = |cores: &str, reason: String| UnmeasuredCeiling {
        name: name.clone(),
        reason: format!("{cores}: {reason}"),
    };
    let single_core = single_core.map_err(|reason| failed("1 core", reason))?;
    let all_cores = all_cores.map_err(|reason| failed("all cores", reason))?;
    Ok(ThroughputCeiling {
        name,
        unit: unit.to_string(),
        single_core,
        all_cores,
        threads,
    })
}

/// Fewest samples of any ceiling, so that each has a spread even on a tight budget.
const MIN_SAMPLES: usize = 3;
const MAX_SAMPLES: usize = 200;

/// Times `work` on `threads` threads at once, sample after sample, for about `budget`.
///
/// Each thread builds its own state with `setup` (so memory is first touched
/// by the thread that uses it); a sample is the wall time from a common
/// start to the moment the slowest thread finished.
fn parallel_samples<S>(
    threads: usize,
    budget: Duration,
    setup: impl Fn(usize) -> S + Sync,
    work: impl Fn(&mut S) + Sync,
) -> Vec<f64> {
    let barrier = Barrier::new(threads);
    let stop = AtomicBool::new(false);
    let run = |index: usize| -> Vec<f64> {
        let mut state = setup(index);
        let started = Instant::now();
        let mut samples = Vec::new();
        loop {
            if index == 0 {
                let done = samples.len() >= MAX_SAMPLES
                    || (samples.len() >= MIN_SAMPLES && started.elapsed() >= budget);
                stop.store(done, Ordering::Relaxed);
            }
            barrier.wait();
            if stop.load(Ordering::Relaxed) {
                return samples;
            }
            let sample_start = Instant::now();
            work(&mut state);
            barrier.wait();
            samples.push(sample_start.elapsed().as_secs_f64());
        }
    };
    std::thread::scope(|scope| {
        for index in 1..threads {
            let run = &run;
            scope.spawn(move || run(index));
        }
        run(0)
    })
}

/// Triad bandwidth over three arrays totalling `bytes` per thread, in GB/s (STREAM counts 3 x 8 bytes per element).
fn triad_ceiling(bytes: usize, threads: usize, budget: Duration) -> Result<Summary, String> {
    let elements = (bytes / 24).max(64);
    let passes = {
        let mut a = vec![0.0; elements];
        let (b, c) = (vec![1.0; elements], vec![2.0; elements]);
        calibrate(|n| {
            for _ in 0..n {
                triad(&mut a, &b, &c, 0.5);
            }
        })
        .min(1 << 20)
    };
    let samples = parallel_samples(
        threads,
        budget,
        |_| {
            (
                vec![0.0; elements],
                vec![1.0; elements],
                vec![2.0; elements],
            )
        },
        |(a, b, c)| {
            for _ in 0..passes {
                triad(a, b, c, 0.5);
            }
        },
    );
    let bytes_moved = (24 * elements) as f64 * passes as f64;
    rate_summary(&samples, threads as f64, |s| bytes_moved / s / 1e9)
}

/// `a = b + s * c`, kept from being optimised away between passes.
fn triad(a: &mut [f64], b: &[f64], c: &[f64], s: f64) {
    let s = black_box(s);
    for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
        *a = b + s * c;
    }
    black_box(a);
}

/// FMA chains per SIMD width, chosen at run time from what the CPU supports.
mod fma {
    /// One SIMD width: its name, size and the chain runner for it.
    pub struct Width {
        pub bits: u32,
        pub lanes: usize,
        pub name: &'static str,
        pub run: fn(u64),
    }

    /// The widths this CPU can run, narrowest first.
    #[cfg(target_arch = "x86_64")]
    pub fn available() -> Vec<Width> {
        use x86::*;
        let width = |bits, lanes, name, run| Width {
            bits,
            lanes,
            name,
            run,
        };
        if !(is_x86_feature_detected!("avx") && is_x86_feature_detected!("fma")) {
            return vec![portable()];
        }
        let mut widths = vec![
            width(64, 1, "scalar fma", scalar as fn(u64)),
            width(128, 2, "sse fma", sse),
            width(256, 4, "avx2+fma", avx),
        ];
        if is_x86_feature_detected!("avx512f") {
            widths.push(width(512, 8, "avx512f", avx512));
        }
        widths
    }

    /// Only the portable scalar chain off x86-64.
    #[cfg(not(target_arch = "x86_64"))]
    pub fn available() -> Vec<Width> {
        vec![portable()]
    }

    /// Scalar chains as the compiler builds them: an FMA instruction off x86-64
    /// (aarch64 always has one), a multiply and an add on x86-64 CPUs without FMA.
    fn portable() -> Width {
        fn run(iterations: u64) {
            let (a, b) = (
                std::hint::black_box(0.999_999_9),
                std::hint::black_box(1e-9),
            );
            let mut chains = [std::hint::black_box(1.0f64); super::FMA_CHAINS];
            for _ in 0..iterations {
                for x in chains.iter_mut() {
                    #[cfg(target_arch = "x86_64")]
                    {
                        *x = *x * a + b;
                    }
                    #[cfg(not(target_arch = "x86_64"))]
                    {
                        *x = x.mul_add(a, b);
                    }
                }
            }
            std::hint::black_box(chains);
        }
        Width {
            bits: 64,
            lanes: 1,
            name: "scalar",
            run,
        }
    }

    /// The chains in inline assembly, so the compiler can neither fuse, widen nor drop them,
    /// and so the 512-bit chain needs no AVX-512 support from the compiler (stable only since Rust 1.89).
    #[cfg(target_arch = "x86_64")]
    mod x86 {
        /// `FMA_CHAINS` (12) independent chains `x = x * a + b` in registers 0-11 of the
        /// `$register` file, `a` and `b` in registers 12 and 13.
        macro_rules! fma_chains {
            ($name:ident, $register:literal, $suffix:literal) => {
                fma_chains!(@emit $name, $register, $suffix, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
            };
            (@emit $name:ident, $register:literal, $suffix:literal, [$($n:literal),*]) => {
                pub fn $name(iterations: u64) {
                    let a = [0.999_999_9f64; 8];
                    let b = [1e-9f64; 8];
                    // SAFETY: `available()` offers this runner only on CPUs with the instructions
                    // used; the assembly reads 64 bytes from `a` and `b` (8 doubles each),
                    // writes only the registers declared clobbered (all caller-saved; vzeroupper
                    // clears the upper halves) and touches no stack.
                    unsafe {
                        std::arch::asm!(
                            concat!("vmovupd ", $register, "12, [{a}]"),
                            concat!("vmovupd ", $register, "13, [{b}]"),
                            concat!($("vmovapd ", $register, $n, ", ", $register, "12\n",)*),
                            "2:",
                            concat!($("vfmadd213", $suffix, " ", $register, $n, ", ", $register, "12, ", $register, "13\n",)*),
                            "dec {n}",
                            "jnz 2b",
                            "vzeroupper",
                            a = in(reg) a.as_ptr(),
                            b = in(reg) b.as_ptr(),
                            n = inout(reg) iterations.max(1) => _,
                            out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
                            out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
                            out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
                            out("xmm12") _, out("xmm13") _,
                            options(nostack, readonly),
                        );
                    }
                }
            };
        }

        fma_chains!(scalar, "xmm", "sd");
        fma_chains!(sse, "xmm", "pd");
        fma_chains!(avx, "ymm", "pd");
        fma_chains!(avx512, "zmm", "pd");
    }
}

/// Per-task overheads: what one unit of parallel work costs before it does anything.
mod overheads {
    use super::*;
    use crate::detect::mpi;
    use crate::detect::run::{PROBE_TIMEOUT, Runner};
    use crate::fact::Fact;

    pub fn measure(settings: &CeilingSettings, slice: Duration) -> Vec<Overhead> {
        let mut overheads = vec![
            measured(THREAD_SPAWN, slice, || {
                let started = Instant::now();
                std::thread::spawn(|| black_box(1))
                    .join()
                    .expect("an empty thread cannot panic");
                Ok(started.elapsed().as_secs_f64())
            }),
            rayon_task(settings.threads, slice),
        ];
        overheads.push(match &settings.noop_program {
            Some(program) => measured(PROCESS_SPAWN, slice, || {
                time_command(Command::new(program).arg(NOOP_SUBCOMMAND))
            }),
            None => unavailable(PROCESS_SPAWN, "no program to spawn was given".into()),
        });
        overheads.push(mpirun(settings.noop_program.as_deref(), slice));
        overheads
    }

    /// Repeats `sample` for about `budget` (at least [`MIN_SAMPLES`] times); the first error ends it.
    fn measured(
        name: &'static str,
        budget: Duration,
        mut sample: impl FnMut() -> Result<f64, String>,
    ) -> Overhead {
        let started = Instant::now();
        let mut samples = Vec::new();
        while samples.len() < MAX_SAMPLES
            && (samples.len() < MIN_SAMPLES || started.elapsed() < budget)
        {
            match sample() {
                Ok(seconds) => samples.push(seconds),
                Err(reason) => return unavailable(name, reason),
            }
        }
        Overhead {
            name: name.to_string(),
            seconds: Summary::of(&samples),
            unavailable: None,
        }
    }

    fn unavailable(name: &'static str, reason: String) -> Overhead {
        Overhead {
            name: name.to_string(),
            seconds: None,
            unavailable: Some(reason),
        }
    }

    /// Seconds per task of a scope spawning many empty tasks on a pool of `threads`.
    fn rayon_task(threads: usize, budget: Duration) -> Overhead {
        const TASKS: u32 = 256;
        let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => pool,
            Err(e) => return unavailable(RAYON_TASK, format!("cannot start a pool: {e}")),
        };
        measured(RAYON_TASK, budget, || {
            let started = Instant::now();
            pool.scope(|scope| {
                for task in 0..TASKS {
                    scope.spawn(move |_| {
                        black_box(task);
                    });
                }
            });
            Ok(started.elapsed().as_secs_f64() / f64::from(TASKS))
        })
    }

    /// Wall time of a command that must succeed, its output discarded.
    ///
    /// For this program's no-op, which exits at once; not through detect's runner, whose
    /// polling every few milliseconds would swamp a start-up of about a millisecond.
    fn time_command(command: &mut Command) -> Result<f64, String> {
        let started = Instant::now();
        let status = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("cannot start {:?}: {e}", command.get_program()))?;
        if !status.success() {
            return Err(format!("{:?} exited with {status}", command.get_program()));
        }
        Ok(started.elapsed().as_secs_f64())
    }

    /// `mpirun -n 1` of the no-op, where an `mpirun` is on the PATH, with the arguments and
    /// the timeout of detection's launch check (Open MPI needs `--allow-run-as-root` as root).
    ///
    /// Each launch is stopped after [`PROBE_TIMEOUT`]; its time is the runner's, which polls
    /// the launcher every few milliseconds, a small share of a launch.
    fn mpirun(noop_program: Option<&Path>, budget: Duration) -> Overhead {
        const LAUNCHER: &str = "mpirun";
        let runner = Runner::from_env();
        if runner.find(LAUNCHER).is_none() {
            return unavailable(MPIRUN_LAUNCH, "no mpirun on the PATH".into());
        }
        let Some(program) = noop_program else {
            return unavailable(MPIRUN_LAUNCH, "no program to launch was given".into());
        };
        let Some(program) = program.to_str() else {
            return unavailable(
                MPIRUN_LAUNCH,
                format!("the program path {} is not UTF-8", program.display()),
            );
        };
        let as_root = mpi::running_as_root();
        let implementation = as_root.then(|| mpi::launcher(&runner, LAUNCHER).implementation);
        let mut args = mpi::launch_arguments(
            implementation
                .as_ref()
                .and_then(Fact::known)
                .map(String::as_str),
            as_root,
            program,
        );
        args.push(NOOP_SUBCOMMAND.to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        measured(MPIRUN_LAUNCH, budget, || {
            runner
                .run_successfully(LAUNCHER, &args, PROBE_TIMEOUT)
                .map(|output| output.elapsed.as_secs_f64())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Detected caches of the given `(level, kind, bytes)`, as sysfs or cpuid describe them.
    fn detected(levels: &[(u8, &str, u64)]) -> Caches {
        use crate::fact::Fact;
        Caches {
            source: "sysfs".to_string(),
            levels: levels
                .iter()
                .map(|&(level, kind, size_bytes)| Cache {
                    level,
                    kind: kind.to_string(),
                    size_bytes,
                    line_bytes: Fact::Known(64),
                    ways: Fact::unknown("not in this test"),
                    shared_by_cpus: Fact::unknown("not in this test"),
                })
                .collect(),
        }
    }

    #[test]
    fn cache_sizes_from_detected_caches() {
        let caches = detected(&[
            (1, "data", 48 << 10),
            (1, "instruction", 32 << 10),
            (2, "unified", 2 << 20),
            (3, "unified", 96 << 20),
        ]);
        assert_eq!(
            CacheSizes::from_caches(Some(&caches)),
            CacheSizes {
                l1_data: 48 << 10,
                l2: 2 << 20,
                last_level: 96 << 20
            }
        );
        // An instruction cache is never the data's, and a missing level falls back alone.
        let only_l1 = detected(&[(1, "instruction", 32 << 10), (1, "data", 64 << 10)]);
        assert_eq!(
            CacheSizes::from_caches(Some(&only_l1)),
            CacheSizes {
                l1_data: 64 << 10,
                last_level: 64 << 10,
                ..CacheSizes::FALLBACK
            }
        );
        assert_eq!(CacheSizes::from_caches(None), CacheSizes::FALLBACK);
        assert_eq!(
            CacheSizes::from_caches(Some(&detected(&[]))),
            CacheSizes::FALLBACK
        );
    }

    #[test]
    fn a_sample_without_a_finite_rate_leaves_the_ceiling_unmeasured_not_zero() {
        let rate = |seconds: f64| 1.0 / seconds;
        let measured = rate_summary(&[0.5, 0.25], 2.0, rate).unwrap();
        assert_eq!((measured.min, measured.max), (4.0, 8.0));
        let reason = rate_summary(&[0.5, 0.0, 0.25], 1.0, rate).unwrap_err();
        assert!(
            reason.starts_with("1 of 3 samples gave no finite rate"),
            "{reason}"
        );
        assert_eq!(
            rate_summary(&[], 1.0, rate).unwrap_err(),
            "no sample was taken"
        );

        let failed = throughput_ceiling(
            "triad dram".to_string(),
            "GB/s",
            2,
            rate_summary(&[0.5], 1.0, rate),
            rate_summary(&[0.0], 2.0, rate),
        )
        .unwrap_err();
        assert_eq!(failed.name, "triad dram");
        assert!(failed.reason.starts_with("all cores: 1 of 1"), "{failed:?}");
        let ceiling = throughput_ceiling(
            "triad dram".to_string(),
            "GB/s",
            2,
            rate_summary(&[0.5], 1.0, rate),
            rate_summary(&[0.25], 2.0, rate),
        )
        .unwrap();
        assert_eq!((ceiling.best(1), ceiling.best(2)), (2.0, 8.0));

        // Left out of the ceilings, it is unmeasured with its reason, never a zero roof.
        let ceilings = Ceilings {
            caches: CacheSizes::FALLBACK,
            fma: Vec::new(),
            bandwidth: Vec::new(),
            unmeasured: vec![failed],
            overheads: Vec::new(),
            seconds_spent: 0.0,
        };
        assert_eq!(ceilings.bandwidth("dram", 2), None);
        assert_eq!(
            ceilings.why_unmeasured("triad dram").unwrap(),
            "triad dram, all cores: 1 of 1 samples gave no finite rate (a sample too short for the clock)"
        );
        assert_eq!(ceilings.why_unmeasured("fma "), None);
    }

    #[test]
    fn parallel_samples_run_every_thread_for_every_sample() {
        use std::sync::atomic::AtomicUsize;
        let calls = AtomicUsize::new(0);
        let samples = parallel_samples(
            3,
            Duration::ZERO,
            |index| index,
            |_| {
                calls.fetch_add(1, Ordering::Relaxed);
            },
        );
        assert_eq!(samples.len(), MIN_SAMPLES);
        assert_eq!(calls.load(Ordering::Relaxed), 3 * MIN_SAMPLES);
    }

    #[test]
    fn every_detected_fma_width_runs_and_calibrates() {
        let widths = fma::available();
        assert!(!widths.is_empty());
        assert!(widths.windows(2).all(|w| w[0].bits < w[1].bits));
        for width in &widths {
            (width.run)(0);
            (width.run)(1000);
            assert!(calibrate(|n| (width.run)(n)) >= 1, "{}", width.name);
        }
    }

    #[test]
    fn triad_computes_the_triad() {
        let mut a = vec![0.0; 5];
        triad(&mut a, &[1.0; 5], &[2.0; 5], 0.5);
        assert_eq!(a, vec![2.0; 5]);
    }
}
