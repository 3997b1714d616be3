//! The named facts the decision tree reads, each derived from [`Facts`] with its unit and provenance.
//!
//! Conditions and templates refer to facts by these names, so the tree stays
//! data: a node lists the names it reads, the walk looks each one up here,
//! and the evidence shows the value and where it came from. Derived figures
//! (the best single-core speedup, the crossover item sizes) are computed
//! here once, from variants that passed the agreement check only.

use super::facts::{Agreement, Facts, Technique, VariantMeasurement};
#[cfg(test)]
use super::reading::Kind;
use super::reading::{Reading, Unit, Value};
use crate::fact::Fact;

/// A parallel mechanism is worth it for a work item when its per-item overhead
/// is at most this share of the item's time.
pub const OVERHEAD_SHARE: f64 = 0.01;

/// Seed 001's "a minute or longer": the smallest item for which independent
/// copies of a whole program pay, since a real program's start-up (interpreter,
/// imports, input files) is not measured here and often takes seconds.
pub const INDEPENDENT_RUN_FLOOR_SECONDS: f64 = 60.0;

macro_rules! named_facts {
    ($($variant:ident => $name:literal, $kind:ident, $about:literal;)*) => {
        /// A fact the tree can read, by name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FactId {
            $($variant,)*
        }

        impl FactId {
            /// Every named fact, in documentation order.
            pub const ALL: &'static [FactId] = &[$(FactId::$variant,)*];

            /// The name used in conditions, templates and evidence.
            pub fn name(self) -> &'static str {
                match self {
                    $(FactId::$variant => $name,)*
                }
            }

            /// Whether the fact is a number, a flag or a name.
            #[cfg(test)]
            pub fn kind(self) -> Kind {
                match self {
                    $(FactId::$variant => Kind::$kind,)*
                }
            }

            /// What the fact means and how it is derived.
            pub fn about(self) -> &'static str {
                match self {
                    $(FactId::$variant => $about,)*
                }
            }
        }
    };
}

named_facts! {
    CoresUsable => "cores.usable", Number, "Cores this process may really use (`machine.cores.usable`); the source names the binding limit.";
    CoresHardware => "cores.hardware", Number, "Logical CPUs of the hardware (`machine.cores.hardware`).";
    SimdLanes => "simd.f64_lanes", Number, "f64 lanes of the widest usable SIMD instruction set (`machine.simd`).";
    GpusHardware => "gpu.hardware_count", Number, "GPUs found that are real hardware (`machine.gpus` without the `software` ones).";
    GpusSoftware => "gpu.software_count", Number, "Software renderers found (lavapipe and the like): listed, never recommended.";
    MpiCanLaunch => "mpi.can_launch", Flag, "Whether the MPI found launched a trial process (`machine.mpi`); no if none was found.";
    MpiLauncher => "mpi.launcher", Text, "The MPI launcher found: mpirun, mpiexec or srun.";
    AllocatedNodes => "scheduler.nodes", Number, "Nodes allocated by the batch scheduler; 1 outside any scheduler.";
    AllocatedTasks => "scheduler.tasks", Number, "Tasks allocated by the batch scheduler.";
    PerfPermitted => "perf.permitted", Flag, "Whether `perf` may sample this user's processes (`machine.perf_permitted`).";
    PythonPackages => "python.packages", Text, "The Python interpreter and numeric packages found, or that there is none.";
    ProblemPairs => "problem.pairs", Number, "Pair evaluations of the measured problem.";
    IndependentItems => "problem.independent_items", Number, "Independent work items one run splits into (grid rows for the kernel).";
    GrowthExpected => "problem.expected_growth_exponent", Number, "How the algorithm's cost should grow with the problem size.";
    RunSpread => "bench.run_spread", Number, "Relative spread of repeated runs (`measurements.run_to_run_spread`).";
    GrowthExponent => "bench.growth_exponent", Number, "Measured exponent b of time = a * size^b.";
    BestSingleCoreSpeedup => "speedup.best_single_core", Number, "Speedup over naive of the fastest passing variant that uses one core (no threads, processes, MPI or GPU).";
    SimdOverScalar => "speedup.simd_over_scalar", Number, "Time of the fastest passing one-core variant without explicit SIMD over that of the fastest with it.";
    BestThreadedSpeedup => "speedup.best_threaded", Number, "Speedup over naive of the fastest passing variant that uses threads.";
    ProcessesSpeedup => "speedup.processes", Number, "Speedup over naive of the fastest passing variant that uses worker processes.";
    MpiSpeedup => "speedup.mpi", Number, "Speedup over naive of the fastest passing MPI variant.";
    GpuOverNaive => "speedup.gpu", Number, "Naive time over the GPU variant's time including transfers (`measurements.gpu_offload`), if it passed agreement.";
    GpuOverBestCpu => "speedup.gpu_over_best_cpu", Number, "Fastest passing CPU variant's time over the GPU time including transfers.";
    GpuOnSoftware => "gpu.measured_on_software", Flag, "Whether the GPU measurement ran on a software renderer.";
    GpuCrossoverPairs => "gpu.crossover_pairs", Number, "Problem size (pairs) below which the GPU loses to the best CPU variant.";
    ThreadsCount => "scaling.threads", Number, "Largest thread count of the scaling measurement.";
    ThreadsSpeedup => "scaling.speedup", Number, "Speedup at that thread count over one thread.";
    ThreadsEfficiency => "scaling.efficiency", Number, "Parallel efficiency: speedup / threads.";
    SerialFraction => "scaling.serial_fraction", Number, "Serial fraction from the Amdahl fit.";
    FmaPeak => "ceiling.fma_peak_per_core", Number, "Measured FMA peak of one core.";
    Bandwidth => "ceiling.bandwidth", Number, "Measured STREAM-triad memory bandwidth over all usable cores.";
    PeakShare => "ceiling.best_single_core_share", Number, "GFLOP/s of the fastest passing one-core variant (flops per pair / ns per pair) over the per-core FMA peak.";
    OverheadThreadSpawn => "overhead.thread_spawn", Number, "Measured time to spawn and join one thread.";
    OverheadRayonTask => "overhead.rayon_task", Number, "Measured time of one rayon task on an existing pool.";
    OverheadProcessSpawn => "overhead.process_spawn", Number, "Measured time to start a process that exits at once.";
    OverheadMpirunLaunch => "overhead.mpirun_launch", Number, "Measured time of `mpirun -n 1` of a no-op.";
    WorkItemSeconds => "work.item_time", Number, "Time of one work item: the fastest one-core variant's time over the independent items (a program's whole wall time is not taken as one item).";
    CrossoverThreads => "crossover.threads_min_item", Number, "Smallest item a thread pool handles efficiently: the rayon task overhead (else the thread spawn) over the 1% share.";
    CrossoverProcesses => "crossover.processes_min_item", Number, "Smallest item worth its own process: the process start-up over the 1% share.";
    CrossoverIndependentRuns => "crossover.independent_runs_min_item", Number, "Smallest item worth an independent run of a whole program: the process crossover, but at least one minute (seed 001).";
    CrossoverMpi => "crossover.mpi_min_job", Number, "Shortest MPI job whose launch costs at most 1%: mpirun launch over the 1% share.";
    HottestShare => "profile.hottest_share", Number, "Inclusive share of samples in the hottest function of the profiled run.";
    AllocatedPerPair => "profile.allocated_per_pair", Number, "Heap bytes allocated per pair evaluation in the profiled run.";
    PeakHeap => "profile.peak_heap", Number, "Peak live heap of the profiled run.";
    ProgramCpuUtilisation => "program.cpu_utilisation", Number, "Cores your program kept busy on average.";
    ProgramIoBound => "program.io_bound", Flag, "Whether your program looked I/O-bound.";
    ProgramWall => "program.wall_time", Number, "Wall time of your program.";
    ProgramPeakRss => "program.peak_rss", Number, "Peak resident memory of your program.";
}

/// Something that can answer "what is fact X?": the real facts, or a table in tests.
pub trait FactSource {
    fn read(&self, id: FactId) -> Fact<Reading>;
}

/// A fixed table of facts for unit tests; a fact not in it is unknown, "not in the table".
#[cfg(test)]
pub struct FactTable(pub std::collections::BTreeMap<FactId, Fact<Reading>>);

#[cfg(test)]
impl FactSource for FactTable {
    fn read(&self, id: FactId) -> Fact<Reading> {
        self.0
            .get(&id)
            .cloned()
            .unwrap_or_else(|| Fact::unknown("not in the table"))
    }
}

impl FactId {
    /// Looks a fact up by its name.
    pub fn from_name(name: &str) -> Option<FactId> {
        FactId::ALL.iter().copied().find(|id| id.name() == name)
    }
}

impl FactSource for Facts {
    fn read(&self, id: FactId) -> Fact<Reading> {
        read(self, id)
    }
}

fn read(facts: &Facts, id: FactId) -> Fact<Reading> {
    if let Some(reading) = program_reading(facts, id) {
        return reading;
    }
    let machine = &facts.machine;
    let measured = &facts.measurements;
    match id {
        FactId::CoresUsable => machine.cores.as_ref().map(|c| {
            let source = format!("detect: {} binds", c.binding_limit);
            Reading::number(f64::from(c.usable), Unit::Cores, source)
        }),
        FactId::CoresHardware => machine
            .cores
            .as_ref()
            .map(|c| Reading::number(f64::from(c.hardware), Unit::Cores, "detect")),
        FactId::SimdLanes => machine.simd.as_ref().map(|s| {
            let source = format!("detect: {}", s.isa);
            Reading::number(f64::from(s.f64_lanes), Unit::Lanes, source)
        }),
        FactId::GpusHardware | FactId::GpusSoftware => machine.gpus.as_ref().map(|gpus| {
            let software = id == FactId::GpusSoftware;
            let found: Vec<String> = gpus
                .iter()
                .filter(|g| g.software == software)
                .map(|g| format!("{} {}", g.vendor, g.model))
                .collect();
            let source = if found.is_empty() {
                "detect: none found".to_string()
            } else {
                format!("detect: {}", found.join(", "))
            };
            Reading::number(found.len() as f64, Unit::Gpus, source)
        }),
        FactId::MpiCanLaunch => machine.mpi.as_ref().and_then(|mpi| match mpi {
            None => Fact::Known(Reading::flag(
                false,
                "detect: no mpirun, mpiexec or srun on PATH",
            )),
            Some(mpi) => mpi.can_launch.as_ref().map(|can| {
                let source = format!("detect: {} via {}", mpi.implementation, mpi.launcher);
                Reading::flag(*can, source)
            }),
        }),
        FactId::MpiLauncher => machine.mpi.as_ref().and_then(|mpi| {
            Fact::from_option(mpi.as_ref(), || "no MPI launcher was found".into())
                .map(|m| Reading::text(&m.launcher, format!("detect: {}", m.implementation)))
        }),
        FactId::AllocatedNodes => machine.scheduler.as_ref().map(|s| match s {
            None => Reading::number(
                1.0,
                Unit::Nodes,
                "detect: no batch scheduler, this node only",
            ),
            Some(a) => Reading::number(
                f64::from(a.nodes),
                Unit::Nodes,
                format!("detect: {} allocation", a.scheduler),
            ),
        }),
        FactId::AllocatedTasks => machine.scheduler.as_ref().and_then(|s| {
            Fact::from_option(s.as_ref(), || "no batch scheduler allocation".into()).map(|a| {
                let source = format!("detect: {} allocation", a.scheduler);
                Reading::number(f64::from(a.tasks), Unit::Tasks, source)
            })
        }),
        FactId::PerfPermitted => machine
            .perf_permitted
            .as_ref()
            .map(|p| Reading::flag(*p, "detect: perf_event_paranoid and a trial `perf stat`")),
        FactId::PythonPackages => machine.python.as_ref().map(|p| match p {
            None => Reading::text("no Python interpreter", "detect"),
            Some(p) if p.packages.is_empty() => {
                Reading::text(format!("{}, no numeric packages", p.interpreter), "detect")
            }
            Some(p) => Reading::text(
                format!("{} with {}", p.interpreter, p.packages.join(", ")),
                "detect",
            ),
        }),
        FactId::ProblemPairs | FactId::IndependentItems => {
            let (count, unit) = match id {
                FactId::ProblemPairs => (&facts.problem.pairs, Unit::Pairs),
                _ => (&facts.problem.independent_items, Unit::Items),
            };
            let source = format!("problem: {}", facts.problem.description);
            count
                .as_ref()
                .map(|n| Reading::number(*n as f64, unit, source))
        }
        FactId::GrowthExpected => facts
            .problem
            .expected_growth_exponent
            .as_ref()
            .map(|e| Reading::number(*e, Unit::Exponent, "problem: the algorithm's order")),
        FactId::RunSpread => measured
            .run_to_run_spread
            .as_ref()
            .map(|s| Reading::number(*s, Unit::Fraction, "bench: repeated runs")),
        FactId::GrowthExponent => measured
            .growth_exponent
            .as_ref()
            .map(|e| Reading::number(*e, Unit::Exponent, "bench: fit over problem sizes")),
        FactId::BestSingleCoreSpeedup => speedup_of(fastest(facts, "one-core", |v| {
            !v.techniques.iter().any(|t| t.is_parallel())
        })),
        FactId::SimdOverScalar => {
            let single = |v: &VariantMeasurement| !v.techniques.iter().any(|t| t.is_parallel());
            let simd = fastest(facts, "one-core SIMD", |v| {
                single(v) && v.techniques.contains(&Technique::Simd)
            });
            let scalar = fastest(facts, "one-core non-SIMD", |v| {
                single(v) && !v.techniques.contains(&Technique::Simd)
            });
            simd.and_then(|simd| {
                scalar.map(|scalar| {
                    let source = format!("bench: `{}` against `{}`", simd.name, scalar.name);
                    Reading::number(
                        scalar.median_seconds / simd.median_seconds,
                        Unit::Times,
                        source,
                    )
                })
            })
        }
        FactId::BestThreadedSpeedup => speedup_of(fastest(facts, "threaded", |v| {
            v.techniques.contains(&Technique::Threads)
        })),
        FactId::ProcessesSpeedup => speedup_of(fastest(facts, "multi-process", |v| {
            v.techniques.contains(&Technique::Processes)
        })),
        FactId::MpiSpeedup => speedup_of(fastest(facts, "MPI", |v| {
            v.techniques.contains(&Technique::Mpi)
        })),
        FactId::GpuOverNaive | FactId::GpuOverBestCpu => {
            let offload = measured
                .gpu_offload
                .as_ref()
                .and_then(|gpu| trusted(facts, &gpu.variant, gpu));
            let baseline = if id == FactId::GpuOverNaive {
                fastest(facts, "naive", |v| v.name == "naive")
            } else {
                fastest(facts, "CPU", |v| !v.techniques.contains(&Technique::Gpu))
            };
            offload.and_then(|gpu| {
                baseline.map(|cpu| {
                    let source = format!(
                        "bench: `{}` on {} with transfers, against `{}`",
                        gpu.variant, gpu.device, cpu.name
                    );
                    Reading::number(
                        cpu.median_seconds / gpu.seconds_with_transfers,
                        Unit::Times,
                        source,
                    )
                })
            })
        }
        FactId::GpuOnSoftware => measured.gpu_offload.as_ref().map(|gpu| {
            Reading::flag(
                gpu.software,
                format!("bench: `{}` ran on {}", gpu.variant, gpu.device),
            )
        }),
        FactId::GpuCrossoverPairs => measured.gpu_offload.as_ref().and_then(|gpu| {
            gpu.crossover_pairs.as_ref().map(|n| {
                Reading::number(
                    *n as f64,
                    Unit::Pairs,
                    "bench: GPU against best CPU over sizes",
                )
            })
        }),
        FactId::ThreadsCount
        | FactId::ThreadsSpeedup
        | FactId::ThreadsEfficiency
        | FactId::SerialFraction => measured
            .thread_scaling
            .as_ref()
            .and_then(|s| trusted(facts, &s.variant, s))
            .and_then(|s| {
                let source = format!("bench: scaling of `{}`", s.variant);
                match id {
                    FactId::ThreadsCount => {
                        Fact::Known(Reading::number(f64::from(s.threads), Unit::Threads, source))
                    }
                    FactId::ThreadsSpeedup => {
                        Fact::Known(Reading::number(s.speedup, Unit::Times, source))
                    }
                    FactId::ThreadsEfficiency => {
                        Fact::Known(Reading::number(s.efficiency, Unit::Fraction, source))
                    }
                    _ => s
                        .serial_fraction
                        .as_ref()
                        .map(|f| Reading::number(*f, Unit::Fraction, source + ", Amdahl fit")),
                }
            }),
        FactId::FmaPeak => measured
            .ceilings
            .fma_peak_gflops_per_core
            .as_ref()
            .map(|g| Reading::number(*g, Unit::GflopsPerSecond, "bench: FMA-chain microbenchmark")),
        FactId::Bandwidth => measured
            .ceilings
            .bandwidth_gbytes_per_second
            .as_ref()
            .map(|g| Reading::number(*g, Unit::GbytesPerSecond, "bench: STREAM triad")),
        FactId::PeakShare => {
            let best = fastest(facts, "one-core", |v| {
                !v.techniques.iter().any(|t| t.is_parallel())
            });
            best.and_then(|v| {
                facts.problem.flops_per_pair.as_ref().and_then(|flops| {
                    measured
                        .ceilings
                        .fma_peak_gflops_per_core
                        .as_ref()
                        .map(|peak| {
                            let gflops = flops / v.ns_per_pair;
                            let source = format!(
                                "bench: `{}` at {} against the FMA peak",
                                v.name,
                                Unit::GflopsPerSecond.format(gflops)
                            );
                            Reading::number(gflops / peak, Unit::Fraction, source)
                        })
                })
            })
        }
        FactId::OverheadThreadSpawn => seconds(
            &measured.overheads.thread_spawn_seconds,
            "bench: thread spawn and join",
        ),
        FactId::OverheadRayonTask => {
            seconds(&measured.overheads.rayon_task_seconds, "bench: rayon task")
        }
        FactId::OverheadProcessSpawn => seconds(
            &measured.overheads.process_spawn_seconds,
            "bench: process start and exit",
        ),
        FactId::OverheadMpirunLaunch => seconds(
            &measured.overheads.mpirun_launch_seconds,
            "bench: `mpirun -n 1` of a no-op",
        ),
        FactId::WorkItemSeconds => work_item(facts),
        FactId::CrossoverThreads => {
            let overheads = &measured.overheads;
            match &overheads.rayon_task_seconds {
                Fact::Known(task) => Fact::Known(crossover(*task, FactId::OverheadRayonTask, 0.0)),
                Fact::Unknown(_) => overheads
                    .thread_spawn_seconds
                    .as_ref()
                    .map(|spawn| crossover(*spawn, FactId::OverheadThreadSpawn, 0.0)),
            }
        }
        FactId::CrossoverProcesses => measured
            .overheads
            .process_spawn_seconds
            .as_ref()
            .map(|s| crossover(*s, FactId::OverheadProcessSpawn, 0.0)),
        FactId::CrossoverIndependentRuns => {
            measured.overheads.process_spawn_seconds.as_ref().map(|s| {
                crossover(
                    *s,
                    FactId::OverheadProcessSpawn,
                    INDEPENDENT_RUN_FLOOR_SECONDS,
                )
            })
        }
        FactId::CrossoverMpi => measured
            .overheads
            .mpirun_launch_seconds
            .as_ref()
            .map(|s| crossover(*s, FactId::OverheadMpirunLaunch, 0.0)),
        FactId::HottestShare => facts.profile.hottest_function.as_ref().map(|h| {
            let source = format!("profile of {}: `{}`", facts.profile.subject, h.function);
            Reading::number(h.share, Unit::Fraction, source)
        }),
        FactId::AllocatedPerPair => facts.profile.allocated_bytes.as_ref().and_then(|bytes| {
            facts.problem.pairs.as_ref().map(|pairs| {
                let source = format!(
                    "profile of {}: {} allocated",
                    facts.profile.subject,
                    Unit::Bytes.format(*bytes as f64)
                );
                Reading::number(
                    *bytes as f64 / (*pairs).max(1) as f64,
                    Unit::BytesPerPair,
                    source,
                )
            })
        }),
        FactId::PeakHeap => facts.profile.peak_heap_bytes.as_ref().map(|b| {
            Reading::number(
                *b as f64,
                Unit::Bytes,
                format!("profile of {}", facts.profile.subject),
            )
        }),
        FactId::ProgramCpuUtilisation
        | FactId::ProgramIoBound
        | FactId::ProgramWall
        | FactId::ProgramPeakRss => facts.program.as_ref().map(|p| {
            let source = format!("profile -- {}", p.command);
            match id {
                FactId::ProgramCpuUtilisation => {
                    Reading::number(p.cpu_utilisation, Unit::Cores, source)
                }
                FactId::ProgramIoBound => Reading::flag(p.io_bound, source),
                FactId::ProgramWall => Reading::number(p.wall_seconds, Unit::Seconds, source),
                _ => Reading::number(p.peak_rss_bytes as f64, Unit::Bytes, source),
            }
        }),
    }
}

/// The fastest variant matching `wanted` among those that passed agreement.
fn fastest<'a>(
    facts: &'a Facts,
    what: &str,
    wanted: impl Fn(&VariantMeasurement) -> bool,
) -> Fact<&'a VariantMeasurement> {
    let best = passing(facts)
        .filter(|v| wanted(v))
        .min_by(|a, b| a.median_seconds.total_cmp(&b.median_seconds));
    Fact::from_option(best, || {
        format!("no {what} variant was measured and passed the agreement check")
    })
}

/// Variants whose field agreed with the reference: the only ones the advice may use.
pub fn passing(facts: &Facts) -> impl Iterator<Item = &VariantMeasurement> {
    facts
        .measurements
        .variants
        .iter()
        .filter(|v| matches!(v.agreement, Fact::Known(Agreement::Pass)))
}

/// `measured` if it was taken on `variant` and that variant passed agreement, else unknown.
fn trusted<'a, T>(facts: &Facts, variant: &str, measured: &'a T) -> Fact<&'a T> {
    if passing(facts).any(|v| v.name == variant) {
        Fact::Known(measured)
    } else {
        Fact::unknown(format!(
            "`{variant}`, on which it was measured, did not pass the agreement check"
        ))
    }
}

fn speedup_of(variant: Fact<&VariantMeasurement>) -> Fact<Reading> {
    variant.and_then(|v| {
        v.speedup_over_naive.as_ref().map(|s| Reading {
            value: Value::Number {
                value: s.estimate,
                unit: Unit::Times,
                interval: s.interval.known().copied(),
            },
            source: format!("bench: `{}` over `naive`, {} worker(s)", v.name, v.workers),
        })
    })
}

fn seconds(fact: &Fact<f64>, source: &str) -> Fact<Reading> {
    fact.as_ref()
        .map(|s| Reading::number(*s, Unit::Seconds, source))
}

/// The smallest item for which an overhead stays within [`OVERHEAD_SHARE`], but at least `floor`.
fn crossover(overhead_seconds: f64, from: FactId, floor: f64) -> Reading {
    let derived = overhead_seconds / OVERHEAD_SHARE;
    let mut source = format!(
        "derived: {} {} / {}",
        from.name(),
        Unit::Seconds.format(overhead_seconds),
        Unit::Fraction.format(OVERHEAD_SHARE)
    );
    if floor > derived {
        source.push_str(&format!(
            ", raised to the {} floor of seed 001",
            Unit::Seconds.format(floor)
        ));
    }
    Reading::number(derived.max(floor), Unit::Seconds, source)
}

/// The kernel's time per independent item; a program's whole wall time is not one item's size.
fn work_item(facts: &Facts) -> Fact<Reading> {
    let best = fastest(facts, "one-core", |v| {
        !v.techniques.iter().any(|t| t.is_parallel())
    });
    best.and_then(|v| {
        facts.problem.independent_items.as_ref().map(|items| {
            let source = format!("bench: `{}` time over {items} items", v.name);
            Reading::number(
                v.median_seconds / (*items).max(1) as f64,
                Unit::Seconds,
                source,
            )
        })
    })
}

/// The studied program's own answer to a question about the work, when `analyse -- CMD`
/// studied one: its repeated runs, sizes, profile, thread variable and items, never the
/// reference kernel's. `None` for questions about the machine, and without a study.
fn program_reading(facts: &Facts, id: FactId) -> Option<Fact<Reading>> {
    let program = facts.program.known()?;
    let study = program.study.known()?;
    let yours = |what: &str| format!("your program: {what}");
    let reading = match id {
        FactId::RunSpread => study.run_spread.as_ref().map(|s| {
            let source = yours(&format!("{} runs of `{}`", study.runs, program.command));
            Reading::number(*s, Unit::Fraction, source)
        }),
        FactId::GrowthExponent => study
            .growth_exponent
            .as_ref()
            .map(|e| Reading::number(*e, Unit::Exponent, yours("fit over --sizes"))),
        FactId::GrowthExpected => study
            .expected_growth_exponent
            .as_ref()
            .map(|e| Reading::number(*e, Unit::Exponent, "you: --expected-order")),
        FactId::HottestShare => study.hottest_function.as_ref().map(|h| {
            let source = yours(&format!("profile, `{}`", h.function));
            Reading::number(h.share, Unit::Fraction, source)
        }),
        FactId::ThreadsCount
        | FactId::ThreadsSpeedup
        | FactId::ThreadsEfficiency
        | FactId::SerialFraction => study.thread_scaling.as_ref().and_then(|s| {
            let source = yours(&format!("rerun with {}=1..{}", s.variant, s.threads));
            match id {
                FactId::ThreadsCount => {
                    Fact::Known(Reading::number(f64::from(s.threads), Unit::Threads, source))
                }
                FactId::ThreadsSpeedup => {
                    Fact::Known(Reading::number(s.speedup, Unit::Times, source))
                }
                FactId::ThreadsEfficiency => {
                    Fact::Known(Reading::number(s.efficiency, Unit::Fraction, source))
                }
                _ => s
                    .serial_fraction
                    .as_ref()
                    .map(|f| Reading::number(*f, Unit::Fraction, source + ", Amdahl fit")),
            }
        }),
        FactId::IndependentItems => study
            .work_items
            .as_ref()
            .map(|n| Reading::number(*n as f64, Unit::Items, "you: --items")),
        FactId::WorkItemSeconds => study.work_items.as_ref().map(|items| {
            let source = yours(&format!(
                "{} wall time over {items} items",
                Unit::Seconds.format(program.wall_seconds)
            ));
            Reading::number(
                program.wall_seconds / (*items).max(1) as f64,
                Unit::Seconds,
                source,
            )
        }),
        FactId::AllocatedPerPair | FactId::PeakHeap => Fact::unknown(
            "heap allocations are counted for the reference kernel only; your program's peak \
             resident memory is program.peak_rss",
        ),
        _ => return None,
    };
    Some(reading)
}
