//! Adapters from what `analyse` measured to the advisor's [`Facts`]: pure functions, no guessing.
//!
//! Detection gives a [`Machine`], the benchmark a [`BenchReport`], profiling a
//! [`VariantProfilesRecord`], the launched MPI job an [`MpiRun`] and the GPU
//! stage a [`GpuRun`]. Each may be missing (its stage failed or was skipped):
//! then every fact it would have given is "unknown, because ..." with the
//! stage's reason, and the advisor carries that reason into its answer.
//! Variants that failed or disagreed with naive have no timing, so they are
//! not listed among the measured variants at all.

use hpc_kernels::scatter::cost::FLOPS_PER_PAIR;
use hpc_kernels::scatter::variants::gpu::NAME as GPU_VARIANT;
use hpc_kernels::scatter::{Problem, registry};

use crate::advise::facts::{
    Agreement, Allocation, Ceilings, Cores, Gpu, GpuOffload, Hotspot, MachineFacts, Measurements,
    Mpi, Overheads, ProblemFacts, ProfileFacts, ProgramStudy, PythonLadderFacts, PythonRungFacts,
    PythonStack, Simd, Speedup, Technique, ThreadScaling, UserProgram, VariantMeasurement,
};
use crate::advise::{FACTS_SCHEMA_VERSION, Facts};
use crate::bench::BenchReport;
use crate::bench::ceilings::{MPIRUN_LAUNCH, PROCESS_SPAWN, RAYON_TASK, THREAD_SPAWN};
use crate::bench::python::PythonLadder;
use crate::bench::runner::{Outcome, VariantResult};
use crate::bench::stats::{Summary, median, median_absolute_deviation};
use crate::detect::Machine;
use crate::fact::Fact;
use crate::profile::external::{ProgramCharacter, StackSampling};
use crate::profile::hotspots::hottest_on_path;
use crate::profile::program::ProgramStudyRecord;
use crate::profile::record::VariantProfilesRecord;
use crate::profile::sampler::OUTSIDE_KERNEL;
use crate::report::{GpuRun, MpiRun};

/// The registered name of the MPI variant (the kernels crate keeps its constant private).
const MPI_VARIANT: &str = "mpi";

/// Everything one run measured; a stage that did not deliver is unknown with its reason.
#[derive(Debug, Clone)]
pub struct Measured<'a> {
    pub machine: &'a Machine,
    pub problem: &'a Problem,
    pub bench: Fact<&'a BenchReport>,
    pub profiles: Fact<&'a VariantProfilesRecord>,
    pub mpi: Fact<&'a MpiRun>,
    pub gpu: Fact<&'a GpuRun>,
    pub python: Fact<&'a PythonLadder>,
    /// The user's own program, when one was profiled.
    pub program: Fact<&'a ProgramStudyRecord>,
}

/// The facts the advisor reads, from everything measured.
pub fn facts(measured: &Measured) -> Facts {
    Facts {
        schema_version: FACTS_SCHEMA_VERSION,
        machine: machine_facts(measured.machine),
        problem: problem_facts(measured.problem, measured.bench.clone()),
        measurements: measurements(
            measured.bench.clone(),
            measured.mpi.clone(),
            measured.gpu.clone(),
            measured.python.clone(),
        ),
        profile: profile_facts(measured.profiles.clone()),
        program: measured.program.clone().map(user_program),
    }
}

/// What detection found, in the advisor's terms.
pub fn machine_facts(machine: &Machine) -> MachineFacts {
    let cpu_name = machine
        .cpu
        .model_name
        .known()
        .cloned()
        .unwrap_or_else(|| machine.cpu.architecture.clone());
    MachineFacts {
        description: format!(
            "{cpu_name}, {} usable core(s), {}",
            machine.usable_cores.count, machine.cpu.simd.instruction_set
        ),
        cores: cores(machine),
        simd: Fact::Known(Simd {
            isa: machine.cpu.simd.instruction_set.clone(),
            f64_lanes: machine.cpu.simd.f64_lanes,
        }),
        gpus: Fact::Known(gpus(machine)),
        mpi: Fact::Known(mpi(machine)),
        scheduler: scheduler(machine),
        python: python(machine),
        perf_permitted: machine
            .tools
            .perf
            .stat_check
            .as_ref()
            .map(|check| check.permitted),
    }
}

fn cores(machine: &Machine) -> Fact<Cores> {
    let usable = &machine.usable_cores;
    let hardware = machine.topology.logical_cpus.clone();
    let binding = usable.binding.clone();
    hardware.and_then(|hardware| {
        binding.map(|source| {
            let detail = usable
                .limits
                .iter()
                .find(|limit| limit.source == source)
                .map(|limit| limit.detail.clone())
                .unwrap_or_default();
            Cores {
                usable: usable.count as u32,
                hardware: hardware as u32,
                binding_limit: if detail.is_empty() {
                    source.label().to_string()
                } else {
                    format!("{} ({detail})", source.label())
                },
            }
        })
    })
}

/// Hardware GPUs from detection, plus the adapters the GPU backend lists that detection cannot see
/// (software renderers, flagged, and e.g. Metal devices without PCI).
fn gpus(machine: &Machine) -> Vec<Gpu> {
    let mut gpus: Vec<Gpu> = machine
        .gpus
        .devices
        .iter()
        .map(|device| Gpu {
            vendor: device.vendor.clone(),
            model: device.model.to_string(),
            software: false,
        })
        .collect();
    if let Fact::Known(adapters) = &machine.compute_adapters {
        for adapter in adapters {
            let listed = gpus
                .iter()
                .any(|gpu| !gpu.software && gpu.vendor == adapter.vendor);
            if adapter.software || !listed {
                gpus.push(Gpu {
                    vendor: adapter.vendor.clone(),
                    model: adapter.name.clone(),
                    software: adapter.software,
                });
            }
        }
    }
    gpus
}

fn mpi(machine: &Machine) -> Option<Mpi> {
    let launcher = machine.mpi.launcher()?;
    let implementation = match (&launcher.implementation, &launcher.version) {
        (Fact::Known(name), Fact::Known(version)) => format!("{name} {version}"),
        (Fact::Known(name), Fact::Unknown(_)) => name.clone(),
        (Fact::Unknown(why), _) => format!("unknown implementation ({why})"),
    };
    Some(Mpi {
        implementation,
        launcher: launcher.name.clone(),
        can_launch: machine
            .mpi
            .launch_check
            .as_ref()
            .map(|check| check.succeeded),
    })
}

fn scheduler(machine: &Machine) -> Fact<Option<Allocation>> {
    let Some(job) = &machine.scheduler.job else {
        return Fact::Known(None);
    };
    job.nodes.clone().and_then(|nodes| {
        job.tasks.clone().map(|tasks| {
            Some(Allocation {
                scheduler: job.scheduler.clone(),
                nodes: nodes as u32,
                tasks: tasks as u32,
            })
        })
    })
}

fn python(machine: &Machine) -> Fact<Option<PythonStack>> {
    let python = &machine.tools.python;
    match (&python.interpreter, &python.version, &python.packages) {
        (Fact::Known(_), Fact::Known(version), Fact::Known(packages)) => {
            Fact::Known(Some(PythonStack {
                interpreter: format!("Python {version}"),
                packages: packages
                    .iter()
                    .filter(|p| p.installed)
                    .map(|p| match &p.version {
                        Some(version) => format!("{} {version}", p.name),
                        None => p.name.clone(),
                    })
                    .collect(),
            }))
        }
        // No interpreter on PATH is a known "none"; one that did not answer is unknown.
        (Fact::Unknown(_), _, _) => Fact::Known(None),
        (Fact::Known(_), Fact::Unknown(why), _) | (Fact::Known(_), _, Fact::Unknown(why)) => {
            Fact::unknown(why.clone())
        }
    }
}

/// The workload; its pair count is the one the ladder measured.
pub fn problem_facts(problem: &Problem, bench: Fact<&BenchReport>) -> ProblemFacts {
    ProblemFacts {
        description: format!("scatter {problem}"),
        pairs: bench.and_then(|bench| {
            Fact::from_option(reference_result(bench).map(|r| r.pairs), || {
                "the reference variant naive was not measured".to_string()
            })
        }),
        flops_per_pair: Fact::Known(FLOPS_PER_PAIR),
        independent_items: Fact::Known(problem.ny() as u64 + 1),
        // Every node meets every segment once: the cost is linear in nx * ny * nc.
        expected_growth_exponent: Fact::Known(1.0),
    }
}

fn reference_result(bench: &BenchReport) -> Option<&VariantResult> {
    bench.ladder.entry(registry::reference().name())?.result()
}

/// The ladder, the MPI job and the GPU stage as measurements.
pub fn measurements(
    bench: Fact<&BenchReport>,
    mpi: Fact<&MpiRun>,
    gpu: Fact<&GpuRun>,
    python: Fact<&PythonLadder>,
) -> Measurements {
    let python_ladder = python.map(python_ladder_facts);
    let bench = match bench {
        Fact::Known(bench) => bench,
        Fact::Unknown(why) => {
            return unmeasured(
                &format!("the benchmark did not run: {why}"),
                mpi,
                python_ladder,
            );
        }
    };

    let mut variants: Vec<VariantMeasurement> = bench
        .ladder
        .entries
        .iter()
        .filter(|entry| !(entry.variant == MPI_VARIANT && mpi.known().is_some()))
        .filter_map(|entry| {
            let result = entry.result()?;
            Some(VariantMeasurement {
                name: entry.variant.clone(),
                techniques: techniques(&entry.variant)?,
                workers: entry.workers as u32,
                median_seconds: result.measurement.wall_seconds.median,
                median_interval_seconds: Fact::from_option(
                    result.measurement.wall_seconds.median_interval.as_ref(),
                    || "one run: no interval".to_string(),
                )
                .map(|interval| [interval.low, interval.high]),
                ns_per_pair: result.ns_per_pair,
                speedup_over_naive: speedup(&entry.variant, result),
                agreement: Fact::Known(Agreement::Pass),
            })
        })
        .collect();
    if let (Fact::Known(run), Some(naive)) = (mpi.clone(), reference_result(bench)) {
        variants.push(launched_mpi(run, naive));
    }
    Measurements {
        variants,
        run_to_run_spread: run_to_run_spread(bench),
        thread_scaling: thread_scaling(bench),
        growth_exponent: match &bench.scaling.size {
            Some(size) => Fact::from_option(size.growth_exponent, || {
                size.failure.as_ref().map_or_else(
                    || "too few problem sizes were measured to fit an exponent".to_string(),
                    |failure| format!("the size scaling failed: {}", failure.message),
                )
            }),
            None => Fact::unknown("the budget left no time for the size scaling"),
        },
        ceilings: Ceilings {
            fma_peak_gflops_per_core: Fact::from_option(bench.ceilings.fma_peak(1), || {
                unmeasured_ceiling(bench, "fma ", "no FMA peak was measured")
            }),
            bandwidth_gbytes_per_second: Fact::from_option(
                bench.ceilings.bandwidth("dram", bench.usable_cores),
                || {
                    unmeasured_ceiling(
                        bench,
                        "triad dram",
                        "no memory bandwidth beyond the caches was measured",
                    )
                },
            ),
        },
        overheads: Overheads {
            thread_spawn_seconds: overhead(bench, THREAD_SPAWN),
            rayon_task_seconds: overhead(bench, RAYON_TASK),
            process_spawn_seconds: overhead(bench, PROCESS_SPAWN),
            mpirun_launch_seconds: overhead(bench, MPIRUN_LAUNCH).or_else(|why| {
                mpi.map(|run| run.launch_seconds)
                    .or_else(|_| Fact::unknown(why))
            }),
        },
        gpu_offload: gpu_offload(bench, gpu),
        python_ladder,
    }
}

/// The Python ladder's rungs as facts: per-pair medians, or why a rung has none.
fn python_ladder_facts(ladder: &PythonLadder) -> PythonLadderFacts {
    PythonLadderFacts {
        interpreter: ladder.interpreter.clone(),
        rungs: ladder
            .rungs
            .iter()
            .map(|rung| {
                let why = match &rung.entry.outcome {
                    Outcome::Measured(_) => String::new(),
                    Outcome::Skipped { reason, hint } => format!("skipped: {reason} ({hint})"),
                    Outcome::Failed(failure) => format!("failed: {}", failure.message),
                };
                let cost = rung.ns_per_pair();
                PythonRungFacts {
                    name: rung.entry.variant.clone(),
                    workers: rung.entry.workers as u32,
                    problem: rung.problem.clone(),
                    pairs: rung.result().map(|r| r.pairs),
                    ns_per_pair: Fact::from_option(cost.map(|c| c.0), || why.clone()),
                    ns_per_pair_interval: match cost {
                        Some((_, Some((low, high)))) => Fact::Known([low, high]),
                        Some((_, None)) => Fact::unknown("one run: no interval"),
                        None => Fact::unknown(why.clone()),
                    },
                    compile_seconds: rung.compile_seconds,
                    overhead_seconds: rung.overhead_seconds,
                }
            })
            .collect(),
    }
}

/// `missing`, with the reasons the ceilings named `prefix...` gave when they failed.
fn unmeasured_ceiling(bench: &BenchReport, prefix: &str, missing: &str) -> String {
    match bench.ceilings.why_unmeasured(prefix) {
        Some(why) => format!("{missing}: {why}"),
        None => missing.to_string(),
    }
}

/// Measurements when the benchmark did not run: everything unknown with `why`, but the
/// launch cost the MPI job measured.
fn unmeasured(
    why: &str,
    mpi: Fact<&MpiRun>,
    python_ladder: Fact<PythonLadderFacts>,
) -> Measurements {
    let why = why.to_string();
    Measurements {
        variants: Vec::new(),
        run_to_run_spread: Fact::unknown(why.clone()),
        thread_scaling: Fact::unknown(why.clone()),
        growth_exponent: Fact::unknown(why.clone()),
        ceilings: Ceilings {
            fma_peak_gflops_per_core: Fact::unknown(why.clone()),
            bandwidth_gbytes_per_second: Fact::unknown(why.clone()),
        },
        overheads: Overheads {
            thread_spawn_seconds: Fact::unknown(why.clone()),
            rayon_task_seconds: Fact::unknown(why.clone()),
            process_spawn_seconds: Fact::unknown(why.clone()),
            mpirun_launch_seconds: mpi
                .map(|run| run.launch_seconds)
                .or_else(|_| Fact::unknown(why.clone())),
        },
        gpu_offload: Fact::unknown(why),
        python_ladder,
    }
}

/// The techniques a registered variant applies, read from its name (`threads+simd`).
/// `None` for a name this build does not know how to describe.
pub fn techniques(variant: &str) -> Option<Vec<Technique>> {
    if variant == registry::reference().name() {
        return Some(Vec::new());
    }
    variant
        .split('+')
        .map(|part| match part {
            "vectorised" => Some(Technique::Vectorised),
            "fused" => Some(Technique::Fused),
            "simd" => Some(Technique::Simd),
            "threads" => Some(Technique::Threads),
            "processes" => Some(Technique::Processes),
            "mpi" => Some(Technique::Mpi),
            "gpu" => Some(Technique::Gpu),
            _ => None,
        })
        .collect()
}

fn speedup(variant: &str, result: &VariantResult) -> Fact<Speedup> {
    if variant == registry::reference().name() {
        return Fact::Known(Speedup {
            estimate: 1.0,
            interval: Fact::unknown("naive is the reference"),
        });
    }
    Fact::from_option(result.speedup, || {
        "naive was not measured, so no speedup over it".to_string()
    })
    .map(|speedup| Speedup {
        estimate: speedup.median,
        interval: match (speedup.low, speedup.high) {
            (Some(low), Some(high)) => Fact::Known([low, high]),
            _ => Fact::unknown("too few runs for a confidence interval"),
        },
    })
}

/// The MPI job launched over several ranks: one launch, timed whole (launch included).
fn launched_mpi(run: &MpiRun, naive: &VariantResult) -> VariantMeasurement {
    let pairs = naive.pairs.max(1) as f64;
    VariantMeasurement {
        name: MPI_VARIANT.to_string(),
        techniques: vec![Technique::Mpi],
        workers: run.ranks as u32,
        median_seconds: run.whole_seconds,
        median_interval_seconds: Fact::unknown("the MPI job was launched once"),
        ns_per_pair: run.whole_seconds * 1e9 / pairs,
        speedup_over_naive: Fact::Known(Speedup {
            estimate: naive.measurement.wall_seconds.median / run.whole_seconds,
            interval: Fact::unknown("the MPI job was launched once"),
        }),
        agreement: Fact::Known(if run.agrees {
            Agreement::Pass
        } else {
            Agreement::Fail {
                reason: format!(
                    "its checksum differs from naive's by {:.1e} (relative)",
                    run.checksum_relative_difference
                ),
            }
        }),
    }
}

/// The median, over the measured variants with at least three runs, of MAD / median.
fn run_to_run_spread(bench: &BenchReport) -> Fact<f64> {
    let spreads: Vec<f64> = bench
        .ladder
        .entries
        .iter()
        .filter_map(|entry| entry.result())
        .map(|result| &result.measurement.wall_seconds)
        .filter(|summary| summary.samples.len() >= 3)
        .map(relative_spread)
        .collect();
    if spreads.is_empty() {
        Fact::unknown("no variant was run three times or more")
    } else {
        Fact::Known(median(&spreads))
    }
}

fn relative_spread(summary: &Summary) -> f64 {
    median_absolute_deviation(&summary.samples) / summary.median
}

/// The scaling of the fastest threaded variant that scaled without failing, at its largest count.
fn thread_scaling(bench: &BenchReport) -> Fact<ThreadScaling> {
    let median_at_most = |scaling: &crate::bench::scaling::ThreadScaling| {
        scaling
            .points
            .last()
            .map_or(f64::INFINITY, |p| p.measurement.wall_seconds.median)
    };
    let best = bench
        .scaling
        .threads
        .iter()
        .filter(|scaling| scaling.failure.is_none() && scaling.points.len() >= 2)
        .min_by(|a, b| median_at_most(a).total_cmp(&median_at_most(b)));
    let Some(scaling) = best else {
        return Fact::unknown(if bench.usable_cores < 2 {
            "one usable core: there is no thread scaling to measure".to_string()
        } else if bench.scaling.threads.is_empty() {
            "the budget left no time for the thread scaling".to_string()
        } else {
            "no threaded variant was measured at two or more thread counts without failing"
                .to_string()
        });
    };
    let point = scaling.points.last().expect("at least two points");
    Fact::Known(ThreadScaling {
        variant: scaling.variant.clone(),
        threads: point.threads as u32,
        speedup: point.speedup,
        efficiency: point.efficiency,
        serial_fraction: Fact::from_option(
            scaling.amdahl_serial_fraction.or(point.karp_flatt),
            || "no serial fraction could be fitted".to_string(),
        ),
    })
}

fn overhead(bench: &BenchReport, name: &str) -> Fact<f64> {
    match bench.ceilings.overheads.iter().find(|o| o.name == name) {
        Some(overhead) => match (&overhead.seconds, &overhead.unavailable) {
            (Some(summary), _) => Fact::Known(summary.median),
            (None, Some(why)) => Fact::unknown(why.clone()),
            (None, None) => Fact::unknown(format!("the {name} overhead gave no samples")),
        },
        None => Fact::unknown(format!("the {name} overhead was not measured")),
    }
}

fn gpu_offload(bench: &BenchReport, gpu: Fact<&GpuRun>) -> Fact<GpuOffload> {
    gpu.and_then(|gpu| {
        let entry = bench.ladder.entry(GPU_VARIANT);
        let result = entry.and_then(|e| e.result());
        let Some(result) = result else {
            let why = match entry.map(|e| &e.outcome) {
                Some(Outcome::Failed(failure)) => {
                    format!("the gpu variant failed: {}", failure.message)
                }
                Some(Outcome::Skipped { reason, .. }) => {
                    format!("the gpu variant was skipped: {reason}")
                }
                _ => "the gpu variant was not in the ladder".to_string(),
            };
            return Fact::unknown(why);
        };
        Fact::Known(GpuOffload {
            variant: GPU_VARIANT.to_string(),
            device: gpu.adapter.clone(),
            software: gpu.software,
            seconds_with_transfers: result.measurement.wall_seconds.median,
            crossover_pairs: gpu.crossover_pairs.clone(),
        })
    })
}

/// The profile of naive (or of the first variant profiled) as the advisor reads it.
pub fn profile_facts(profiles: Fact<&VariantProfilesRecord>) -> ProfileFacts {
    let profile = profiles.and_then(|record| {
        Fact::from_option(
            record
                .profiles
                .iter()
                .find(|p| p.variant == registry::reference().name())
                .or_else(|| record.profiles.first()),
            || "no variant was profiled".to_string(),
        )
    });
    let profile = match profile {
        Fact::Known(profile) => profile,
        Fact::Unknown(why) => {
            let why = format!("profiling did not run: {why}");
            return ProfileFacts {
                subject: "nothing profiled".to_string(),
                hottest_function: Fact::unknown(why.clone()),
                allocated_bytes: Fact::unknown(why.clone()),
                peak_heap_bytes: Fact::unknown(why),
            };
        }
    };
    let hottest = hottest_on_path(
        profile
            .hotspots
            .iter()
            .filter(|h| h.function != OUTSIDE_KERNEL),
    );
    let memory = &profile.memory;
    let not_counted = "the counting allocator is not installed in this binary";
    ProfileFacts {
        subject: format!("variant {}", profile.variant),
        hottest_function: Fact::from_option(hottest, || "the sampler recorded no samples".into())
            .map(|h| Hotspot {
                function: h.function.clone(),
                share: h.inclusive_share,
            }),
        allocated_bytes: if memory.counting {
            Fact::Known(memory.allocated_bytes)
        } else {
            Fact::unknown(not_counted)
        },
        peak_heap_bytes: if memory.counting {
            Fact::Known(memory.peak_live_heap_bytes)
        } else {
            Fact::unknown(not_counted)
        },
    }
}

/// The user's program as the advisor reads it: its typical run, and what the study measured.
pub fn user_program(program: &ProgramStudyRecord) -> UserProgram {
    let typical = &program.typical;
    UserProgram {
        command: program.studied_command.join(" "),
        wall_seconds: typical.wall_seconds,
        cpu_utilisation: typical.cpu_utilisation,
        io_bound: typical.character == ProgramCharacter::IoBound,
        peak_rss_bytes: typical.peak_rss_bytes,
        study: Fact::Known(ProgramStudy {
            runs: u32::try_from(program.runs.len()).unwrap_or(u32::MAX),
            run_spread: program.run_spread.clone(),
            hottest_function: Fact::from_option(hottest_on_path(program.hotspots.iter()), || {
                match &program.sampling {
                    StackSampling::Unavailable { reason, hint } => {
                        format!("no stacks were sampled: {reason} ({hint})")
                    }
                    StackSampling::Skipped => "stack sampling was turned off".to_string(),
                    StackSampling::Sampled { tool } => format!("{tool} recorded no samples"),
                }
            })
            .map(|h| Hotspot {
                function: h.function.clone(),
                share: h.inclusive_share,
            }),
            thread_scaling: program.scaling.as_ref().map(|s| ThreadScaling {
                variant: s.variable.clone(),
                threads: s
                    .points
                    .last()
                    .map_or(1, |p| u32::try_from(p.threads).unwrap_or(u32::MAX)),
                speedup: s.speedup,
                efficiency: s.efficiency,
                serial_fraction: s.serial_fraction.clone(),
            }),
            growth_exponent: program.growth.as_ref().map(|g| g.exponent),
            expected_growth_exponent: program.expected_order.clone(),
            work_items: program.work_items.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use hpc_kernels::scatter::RunSettings;

    use crate::profile::hotspots::HOT_PATH_SHARE;

    use super::*;
    use crate::analyse::runs::tests::lavapipe;
    use crate::bench::runner::tests::{FakeVariant, ScriptedExecutor, tiny_problem};
    use crate::bench::{BenchSettings, NoProgress};
    use crate::detect::ComputeAdapter;

    /// A real benchmark on scripted timings: naive 0.5 s, fused 0.05 s, threads 0.25 s on two
    /// threads, and a `vectorised` that returns a wrong field.
    fn scripted_bench(problem: &Problem) -> BenchReport {
        let mut executor =
            ScriptedExecutor::new(|name: &str, _: &Problem, settings: &RunSettings, call| {
                let base = match name {
                    "naive" => 0.5,
                    "fused" => 0.05,
                    _ => 0.5 / settings.resolved_threads() as f64,
                };
                base * (1.0 + 0.001 * (call % 3) as f64)
            });
        let wrong = FakeVariant {
            name: "vectorised",
            available: true,
        };
        let variants: Vec<&dyn hpc_kernels::scatter::Variant> = vec![
            registry::find("fused").unwrap(),
            registry::find("threads").unwrap(),
            &wrong,
        ];
        let mut settings = RunSettings::default();
        settings.threads = Some(2);
        crate::bench::run(
            &mut executor,
            &BenchSettings {
                problem,
                variants: &variants,
                run_settings: &settings,
                thread_counts: &[1, 2],
                budget_seconds: 20.0,
                noop_program: None,
            },
            &mut NoProgress,
        )
        .unwrap()
        .0
    }

    #[test]
    fn the_ladder_becomes_measured_variants_and_a_failed_one_is_left_out() {
        let problem = tiny_problem();
        let bench = scripted_bench(&problem);
        let measurements = measurements(
            Fact::Known(&bench),
            Fact::unknown("skipped"),
            Fact::unknown("skipped"),
            Fact::unknown("no Python ladder in this test"),
        );
        let names: Vec<&str> = measurements
            .variants
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(names, ["naive", "fused", "threads"]);
        let naive = &measurements.variants[0];
        assert!(naive.techniques.is_empty());
        assert_eq!(
            naive.speedup_over_naive.known().unwrap().interval,
            Fact::unknown("naive is the reference")
        );
        let fused = &measurements.variants[1];
        assert_eq!(fused.techniques, [Technique::Fused]);
        assert_eq!(fused.agreement, Fact::Known(Agreement::Pass));
        let speedup = fused.speedup_over_naive.known().unwrap();
        assert!((speedup.estimate - 10.0).abs() < 0.1, "{speedup:?}");
        assert!(matches!(speedup.interval, Fact::Known([low, high]) if low <= 10.0 && high >= 9.9));
        let threads = &measurements.variants[2];
        assert_eq!(
            (threads.techniques.as_slice(), threads.workers),
            ([Technique::Threads].as_slice(), 2)
        );
        // Scripted runs vary by at most 0.2 %: the spread is small and known.
        let spread = *measurements.run_to_run_spread.known().unwrap();
        assert!(spread < 0.002, "{spread}");
        // No program to spawn was given: that overhead is unknown with the reason.
        assert_eq!(
            measurements.overheads.process_spawn_seconds,
            Fact::unknown("no program to spawn was given")
        );
        assert!(
            measurements
                .overheads
                .thread_spawn_seconds
                .known()
                .is_some()
        );
        let problem_facts = problem_facts(&problem, Fact::Known(&bench));
        let pairs = bench.ladder.entry("naive").unwrap().result().unwrap().pairs;
        assert_eq!(problem_facts.pairs, Fact::Known(pairs));
        assert_eq!(
            problem_facts.independent_items,
            Fact::Known(problem.ny() as u64 + 1)
        );
    }

    /// A two-rank job whose launch took 0.6 s, and whose checksum is off by `difference`.
    fn launched_job(difference: f64) -> MpiRun {
        MpiRun {
            command: vec!["mpirun".into()],
            ranks: 2,
            threads_per_rank: 1,
            whole_seconds: 0.9,
            init_seconds: 0.1,
            compute_seconds: 0.3,
            launch_seconds: 0.6,
            pairs_per_second: 1e7,
            nodes: Vec::new(),
            gather_seconds: 0.0,
            imbalance_seconds: 0.0,
            parallel_efficiency: Fact::unknown("no per-rank timings in this test"),
            checksum: 1.0 + difference,
            checksum_relative_difference: difference,
            agrees: difference == 0.0,
        }
    }

    #[test]
    fn a_stage_that_did_not_deliver_leaves_its_facts_unknown_with_the_reason() {
        let mpi = launched_job(0.0);
        let measurements = measurements(
            Fact::unknown("the bench stage failed: naive failed"),
            Fact::Known(&mpi),
            Fact::unknown("the gpu stage was skipped: no GPU adapter"),
            Fact::unknown("no Python ladder in this test"),
        );
        assert!(measurements.variants.is_empty());
        assert_eq!(
            measurements.growth_exponent,
            Fact::unknown("the benchmark did not run: the bench stage failed: naive failed")
        );
        // The launched job still measured what starting MPI costs.
        assert_eq!(
            measurements.overheads.mpirun_launch_seconds,
            Fact::Known(0.6)
        );
        let profile = profile_facts(Fact::unknown("the profile stage failed: no samples"));
        assert_eq!(
            profile.hottest_function,
            Fact::unknown("profiling did not run: the profile stage failed: no samples")
        );
        let problem = problem_facts(&tiny_problem(), Fact::unknown("skipped"));
        assert_eq!(problem.pairs, Fact::unknown("skipped"));
    }

    #[test]
    fn a_launched_mpi_job_that_disagrees_is_listed_as_failed() {
        let bench = scripted_bench(&tiny_problem());
        let mpi = launched_job(1.0);
        let measurements = measurements(
            Fact::Known(&bench),
            Fact::Known(&mpi),
            Fact::unknown("skipped"),
            Fact::unknown("no Python ladder in this test"),
        );
        let listed = measurements
            .variants
            .iter()
            .find(|v| v.name == "mpi")
            .unwrap();
        assert_eq!(listed.workers, 2);
        assert!(matches!(
            listed.agreement,
            Fact::Known(Agreement::Fail { .. })
        ));
    }

    #[test]
    fn a_software_adapter_is_listed_as_software_never_as_a_gpu() {
        let mut machine = crate::detect::detect();
        machine.gpus.devices.clear();
        let adapter = lavapipe();
        machine.compute_adapters = Fact::Known(vec![ComputeAdapter {
            backend: adapter.backend.clone(),
            vendor: adapter.vendor_name.clone(),
            name: adapter.name.clone(),
            device_type: "cpu".into(),
            f64_support: true,
            software: true,
        }]);
        let facts = machine_facts(&machine);
        let gpus = facts.gpus.known().unwrap();
        assert_eq!(gpus.len(), 1);
        assert!(gpus[0].software);
        assert_eq!(
            facts.cores.known().map(|c| c.usable as usize),
            Some(machine.usable_cores.count)
        );
    }

    #[test]
    fn the_gpu_offload_counts_only_a_gpu_variant_the_ladder_measured() {
        let bench = scripted_bench(&tiny_problem());
        let gpu = GpuRun {
            adapter: lavapipe().summary(),
            software: true,
            precision: "f64".into(),
            phases: Vec::new(),
            checksum_relative_difference: 0.0,
            agrees: true,
            crossover_pairs: Fact::unknown("the GPU never won"),
        };
        let offload = measurements(
            Fact::Known(&bench),
            Fact::unknown("x"),
            Fact::Known(&gpu),
            Fact::unknown("no Python ladder in this test"),
        )
        .gpu_offload;
        assert_eq!(
            offload,
            Fact::unknown("the gpu variant was not in the ladder")
        );
    }

    #[test]
    fn every_rust_variant_has_its_techniques() {
        for name in registry::all().iter().map(|v| v.name()) {
            assert!(techniques(name).is_some(), "{name}");
        }
        assert_eq!(
            techniques("threads+simd"),
            Some(vec![Technique::Threads, Technique::Simd])
        );
        assert_eq!(techniques("quantum"), None);
    }

    #[test]
    fn the_hotspot_is_the_deepest_function_on_the_hot_path_not_a_driver() {
        let text = include_str!("../../tests/fixtures/report/report.json");
        let report = crate::report::Report::from_json(text).expect("the fixture report reads");
        let Fact::Known(hottest) = profile_facts(report.profiles.as_ref()).hottest_function else {
            panic!("the fixture has a profile of naive");
        };
        // The drivers (the row loop, run_serial) hold every sample; the Hankel evaluation does not.
        assert!(
            hottest.share > HOT_PATH_SHARE && hottest.share < 0.99,
            "{hottest:?}"
        );
        assert!(hottest.function.contains("hankel"), "{hottest:?}");
    }
}
