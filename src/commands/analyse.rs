//! `hpc-advisor analyse`: every stage in turn within one budget, then the advice and the run folder.
//!
//! Detect, benchmark (ladder, ceilings, scaling), launch the MPI job, measure
//! the GPU crossover, profile naive and the best one-core variant, walk the
//! decision tree, and write `report.json` with the flamegraphs into a new
//! run folder. A stage that fails or cannot run is recorded and the others
//! go on; a variant that disagreed with naive makes the exit code non-zero
//! once everything is written.

use std::io::{self, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use hpc_kernels::gpu::selected_adapter;
use hpc_kernels::scatter::variants::gpu::crossover;
use hpc_kernels::scatter::variants::mpi::{ENABLE_HINT, linked_library_version};
use hpc_kernels::scatter::{Problem, RunSettings, Variant, registry};

use crate::advise::advise;
use crate::advise::facts::Technique;
use crate::analyse::facts::user_program;
use crate::analyse::facts::{Measured, facts, techniques};
use crate::analyse::runs::{gpu_run, mpi_run};
use crate::analyse::{Budget, StageEnd, StageName, Stages};
use crate::bench::ceilings::MPIRUN_LAUNCH;
use crate::bench::python::{self, PythonLadder};
use crate::bench::runner::{MeasuringExecutor, Outcome, Reference};
use crate::bench::scaling::thread_counts;
use crate::bench::{self, BenchReport, BenchSettings, Progress};
use crate::cli::AnalyseArgs;
use crate::commands::bench::{ProgressReporter, failures_as_error};
use crate::commands::kernel::check_workload;
use crate::commands::profile::save_command_flamegraph;
use crate::commands::profile::{sample_variants, save_differential, save_variant_profile};
use crate::detect::{Machine, detect, usable_cores};
use crate::distributed::launcher::detected_launch_prefix;
use crate::distributed::{MpiJob, run_mpi_job};
use crate::error::user_error;
use crate::fact::Fact;
use crate::output::{StagedDir, host_name, run_folder_name, utc_rfc3339};
use crate::profile::program::{
    ProgramStudyRecord, SIZE_PLACEHOLDER, StudyOptions, parse_sizes, study,
};
use crate::profile::ranks::rank_file_prefix;
use crate::profile::record::VariantProfilesRecord;
use crate::profile::sampler::DEFAULT_FREQUENCY_HZ;
use crate::report::{
    Artefact, ArtefactKind, GpuRun, MpiRun, ProgramSection, REPORT_SCHEMA_VERSION, Report,
    RunSummary,
};

/// Folder of the run folder that holds the flamegraphs and folded stacks.
const FLAMEGRAPHS: &str = "flamegraphs/";
/// Shortest unsampled (and sampled) profiling phase per variant, in seconds.
const MIN_PROFILE_SECONDS: f64 = 0.1;
/// Crossover sizes (`n` of `n x n` cells, `n` segments) and repeats, with the budget they need.
const GPU_FULL_CROSSOVER: (&[usize], usize, f64) = (&[16, 32, 64, 128], 3, 4.0);
const GPU_SHORT_CROSSOVER: (&[usize], usize, f64) = (&[16, 32, 64], 2, 0.5);

pub fn run(args: &AnalyseArgs) -> anyhow::Result<()> {
    let problem = args.problem.to_problem()?;
    let budget = Budget::start(args.budget_seconds()?);
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut settings = RunSettings::default();
    settings.usable_cores = Some(usable_cores());
    check_workload(
        &problem,
        registry::reference(),
        &settings,
        args.problem.force,
    )?;
    let study = study_options(args)?;
    // Before any measuring: an unwritable --out fails at once and leaves nothing.
    let staged = StagedDir::create(&args.out, &run_folder_name())?;

    let mut stages = Stages::default();
    let machine = stages.run(StageName::Detect, || Ok(detect()));
    // The user's program first: one that fails ends the run before the machine's stages.
    let program = match &study {
        Some(options) => {
            match stages.run(StageName::Program, || {
                study_program(&staged, options, budget.for_stage(StageName::Program))
            }) {
                Fact::Known(study) => Some(study),
                Fact::Unknown(why) => return Err(program_failure(why)),
            }
        }
        None => None,
    };
    // The bench's naive field is the reference later stages check against.
    let mut reference = None;
    let bench = stages
        .run(StageName::Bench, || {
            run_bench(&problem, &settings, budget.for_stage(StageName::Bench))
        })
        .map(|(report, naive)| {
            reference = Some(naive);
            report
        });
    let python = stages.run(StageName::Python, || {
        run_python(
            &problem,
            &settings,
            reference.as_ref(),
            budget.for_stage(StageName::Python),
        )
    });
    let mpi = stages.run(StageName::Mpi, || {
        launch_mpi(
            &problem,
            machine.known(),
            bench.known().zip(reference.as_ref()),
            budget.for_stage(StageName::Mpi),
        )
    });
    let gpu = stages.run(StageName::Gpu, || {
        gpu_crossover(&settings, bench.known(), budget.for_stage(StageName::Gpu))
    });
    let profiles = stages.run(StageName::Profile, || {
        profile(
            &staged,
            &problem,
            &settings,
            bench.known(),
            budget.for_stage(StageName::Profile),
        )
    });
    let advice = stages.run(StageName::Advise, || {
        let Fact::Known(machine) = &machine else {
            return Err(StageEnd::Skipped("detection did not run".into()));
        };
        let facts = facts(&Measured {
            machine,
            problem: &problem,
            bench: bench.as_ref(),
            profiles: profiles.as_ref(),
            mpi: mpi.as_ref(),
            gpu: gpu.as_ref(),
            python: python.as_ref(),
            program: Fact::unknown(match &program {
                None => "no program of yours was studied (`hpc-advisor analyse -- CMD`)",
                Some(_) => {
                    "this plan is the reference kernel's; your program has its own (`program`)"
                }
            }),
        });
        let recommendation = advise(&facts);
        Ok((facts, recommendation))
    });
    let Fact::Known((facts, recommendation)) = advice else {
        return Err(anyhow::anyhow!(
            "the advise stage cannot fail once detection ran"
        ));
    };
    let program = program.map(|study| program_section(&facts, study));
    let mut artefacts = profile_artefacts(profiles.known());
    artefacts.extend(program.as_ref().map_or_else(Vec::new, program_artefacts));
    let mut report = Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        created_utc: utc_rfc3339(created),
        host: host_name(),
        run: RunSummary {
            problem: problem.to_string(),
            nx: problem.nx(),
            ny: problem.ny(),
            nc: problem.nc(),
            wavelength: problem.wavelength(),
            contour: problem.contour().to_string(),
            quick: args.quick,
            budget_seconds: budget.total_seconds(),
            wall_seconds: budget.elapsed_seconds(),
        },
        machine,
        bench,
        python,
        profiles,
        mpi,
        gpu,
        facts,
        recommendation,
        program,
        stages: stages.into_vec(),
        artefacts,
    };
    if let Fact::Known(profiles) = &report.profiles {
        staged.write("profile.json", &serde_json::to_vec_pretty(profiles)?)?;
    }
    crate::report::write_run_folder(&mut report, &staged)?;
    let folder = staged.commit()?;
    io::stdout()
        .lock()
        .write_all(crate::report::terminal::render(&report, &folder).as_bytes())?;
    disagreements_as_error(&report)
}

/// The validated options of `analyse -- CMD`, or `None` without a command.
fn study_options(args: &AnalyseArgs) -> anyhow::Result<Option<StudyOptions>> {
    if args.command.is_empty() {
        return Ok(None);
    }
    let has_placeholder = args.command.iter().any(|w| w.contains(SIZE_PLACEHOLDER));
    let sizes = match &args.sizes {
        Some(text) => {
            let sizes = parse_sizes(text).map_err(|e| {
                user_error(e, "give two or more sizes, e.g. --sizes 1000,2000,4000")
            })?;
            if !has_placeholder {
                return Err(user_error(
                    format!("--sizes is given but the command has no {SIZE_PLACEHOLDER}"),
                    format!(
                        "put {SIZE_PLACEHOLDER} where your program takes its size: \
                         `analyse --sizes {text} -- python3 fit.py --points {SIZE_PLACEHOLDER}`"
                    ),
                ));
            }
            sizes
        }
        None if has_placeholder => {
            return Err(user_error(
                format!("the command contains {SIZE_PLACEHOLDER} but no --sizes were given"),
                "give the sizes to substitute, e.g. --sizes 1000,2000,4000",
            ));
        }
        None => Vec::new(),
    };
    if args.runs == Some(0) {
        return Err(user_error(
            "--runs 0 would not run your program",
            "give 3 or more runs for a spread (--runs 5), or leave it out",
        ));
    }
    if let Some(order) = args.expected_order
        && !(order.is_finite() && order > 0.0 && order <= 10.0)
    {
        return Err(user_error(
            format!("--expected-order {order} is not an exponent between 0 and 10"),
            "1 for linear, 2 for quadratic, 1.5 for n^1.5; leave it out if you do not know",
        ));
    }
    if args.items == Some(0) {
        return Err(user_error(
            "--items 0: there is no work to split",
            "give how many independent work items you have, e.g. --items 200",
        ));
    }
    if let Some(variable) = &args.threads_env
        && (variable.is_empty()
            || variable.starts_with(|c: char| c.is_ascii_digit())
            || !variable
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'))
    {
        return Err(user_error(
            format!("--threads-env `{variable}` is not an environment variable name"),
            "name the variable your program reads its thread count from, e.g. OMP_NUM_THREADS",
        ));
    }
    let cores = usable_cores();
    Ok(Some(StudyOptions {
        command: args.command.clone(),
        runs: args.runs,
        stability_seconds: 0.0,
        threads_variable: args.threads_env.clone(),
        thread_counts: thread_counts(cores, cores)
            .into_iter()
            .filter(|&n| n <= cores)
            .collect(),
        sizes,
        expected_order: args.expected_order,
        items: args.items,
        sample_stacks: !args.no_stacks,
        probe_exe: std::env::current_exe()
            .context("finding this executable for the MPI ranks' probe")?,
    }))
}

/// Runs the study of the user's program, its flamegraph into `flamegraphs/`.
fn study_program(
    staged: &StagedDir,
    options: &StudyOptions,
    seconds: f64,
) -> Result<ProgramStudyRecord, StageEnd> {
    let options = StudyOptions {
        stability_seconds: seconds,
        ..options.clone()
    };
    let failed = |e: anyhow::Error| StageEnd::Failed(format!("{e:#}"));
    let scratch = staged.path().join(".scratch");
    std::fs::create_dir(&scratch)
        .map_err(|e| StageEnd::Failed(format!("cannot create {}: {e}", scratch.display())))?;
    let studied = study(&options, &scratch, &mut |step| eprintln!("program: {step}"));
    std::fs::remove_dir_all(&scratch)
        .map_err(|e| StageEnd::Failed(format!("cannot remove {}: {e}", scratch.display())))?;
    let (mut record, stacks) = studied.map_err(|e| StageEnd::Failed(e.to_string()))?;
    let profiled = record.profiled_command().to_vec();
    if let Some(whole) = &stacks.whole {
        let drawn =
            save_command_flamegraph(staged, FLAMEGRAPHS, &profiled, whole, &record.sampling)
                .map_err(failed)?;
        record.folded_file = Some(drawn.folded_file);
        record.flamegraph_file = Some(drawn.flamegraph_file);
    }
    if let Fact::Known(ranks) = &mut record.ranks {
        for (rank, rank_stacks) in &stacks.ranks {
            let Some(run) = ranks.ranks.iter_mut().find(|r| r.rank == *rank) else {
                continue;
            };
            let prefix = rank_file_prefix(FLAMEGRAPHS, *rank);
            let drawn =
                save_command_flamegraph(staged, &prefix, &profiled, rank_stacks, &run.sampling)
                    .map_err(failed)?;
            run.folded_file = Some(drawn.folded_file);
            run.flamegraph_file = Some(drawn.flamegraph_file);
        }
    }
    Ok(record)
}

/// A program that could not be studied ends the run: its plan is what the user asked for.
fn program_failure(why: String) -> anyhow::Error {
    user_error(
        format!("your program could not be studied: {why}"),
        "make the command succeed on its own first (run it as given after `--`), then analyse it",
    )
}

/// The program's section: the run's facts with the program's answers, and the plan from them.
fn program_section(facts: &crate::advise::Facts, study: ProgramStudyRecord) -> ProgramSection {
    let mut program_facts = facts.clone();
    program_facts.program = Fact::Known(user_program(&study));
    let recommendation = advise(&program_facts);
    ProgramSection {
        study,
        facts: program_facts,
        recommendation,
    }
}

fn program_artefacts(program: &ProgramSection) -> Vec<Artefact> {
    let study = &program.study;
    let shown = study.studied_command.join(" ");
    let mut artefacts = Vec::new();
    if let Some(file) = &study.flamegraph_file {
        artefacts.push(Artefact {
            path: file.clone(),
            kind: ArtefactKind::Flamegraph,
            description: format!("flamegraph of your program `{shown}`"),
        });
    }
    if let Some(file) = &study.folded_file {
        artefacts.push(Artefact {
            path: file.clone(),
            kind: ArtefactKind::FoldedStacks,
            description: format!("folded stacks of your program `{shown}`"),
        });
    }
    for run in study.ranks.known().map_or(&[][..], |r| &r.ranks) {
        if let Some(file) = &run.flamegraph_file {
            artefacts.push(Artefact {
                path: file.clone(),
                kind: ArtefactKind::Flamegraph,
                description: format!("flamegraph of rank {} of your program", run.rank),
            });
        }
        if let Some(file) = &run.folded_file {
            artefacts.push(Artefact {
                path: file.clone(),
                kind: ArtefactKind::FoldedStacks,
                description: format!("folded stacks of rank {} of your program", run.rank),
            });
        }
    }
    artefacts
}

/// Detection, with the adapters the GPU backend can compute on.
fn run_bench(
    problem: &Problem,
    settings: &RunSettings,
    budget_seconds: f64,
) -> Result<(BenchReport, Reference), StageEnd> {
    let cores = usable_cores();
    let mut progress = ProgressReporter::new(budget_seconds);
    let report = bench::run(
        &mut MeasuringExecutor,
        &BenchSettings {
            problem,
            variants: registry::all(),
            run_settings: settings,
            thread_counts: &thread_counts(cores, cores),
            budget_seconds,
            noop_program: std::env::current_exe().ok(),
        },
        &mut progress,
    );
    progress.finish();
    report.map_err(|e| StageEnd::Failed(e.to_string()))
}

/// The Python ladder, checked against the bench's reference field.
fn run_python(
    problem: &Problem,
    settings: &RunSettings,
    reference: Option<&Reference>,
    budget_seconds: f64,
) -> Result<PythonLadder, StageEnd> {
    if let Some(reason) = python::unavailable_reason() {
        return Err(StageEnd::Skipped(format!(
            "no Python for the Python ladder: {reason}"
        )));
    }
    let reference = reference.ok_or_else(|| {
        StageEnd::Skipped("the bench produced no reference field to check the rungs against".into())
    })?;
    let mut settings = settings.clone();
    settings.mpi_launcher = detected_launch_prefix(None);
    let mut progress = ProgressReporter::new(budget_seconds);
    let ladder = python::run_python_ladder(
        &mut MeasuringExecutor,
        problem,
        reference,
        &settings,
        budget_seconds,
        &mut progress,
    );
    progress.finish();
    ladder.map_err(StageEnd::Failed)
}

/// The fastest measured variant whose techniques pass `wanted`.
fn fastest_measured(
    bench: &BenchReport,
    wanted: impl Fn(&str, &[Technique]) -> bool,
) -> Option<&'static dyn Variant> {
    bench
        .ladder
        .fastest_where(|entry| {
            techniques(&entry.variant).is_some_and(|t| wanted(&entry.variant, &t))
        })
        .and_then(|(entry, _)| registry::find(&entry.variant))
}

/// The fastest measured variant that uses one core and is not naive.
fn best_single_core(bench: &BenchReport) -> Option<&'static dyn Variant> {
    fastest_measured(bench, |name, techniques| {
        name != registry::reference().name() && !techniques.iter().any(|t| t.is_parallel())
    })
}

/// Profiles naive and the best one-core variant into `flamegraphs/`, with their differential.
fn profile(
    staged: &StagedDir,
    problem: &Problem,
    settings: &RunSettings,
    bench: Option<&BenchReport>,
    seconds: f64,
) -> Result<VariantProfilesRecord, StageEnd> {
    let naive = registry::reference();
    let variants: Vec<&dyn Variant> = std::iter::once(naive)
        .chain(bench.and_then(best_single_core))
        .collect();
    // Each variant runs twice as long: unsampled, then sampled as often.
    let phase = (seconds / (2 * variants.len()) as f64).max(MIN_PROFILE_SECONDS);
    let mut progress = ProgressReporter::new(seconds);
    progress.step(&format!(
        "profile: {} ({phase:.1} s each, unsampled then sampled)",
        variants
            .iter()
            .map(|v| v.name())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let sampled = sample_variants(
        &variants,
        problem,
        settings,
        (Duration::from_secs_f64(phase), DEFAULT_FREQUENCY_HZ),
    );
    progress.finish();
    let failed = |e: anyhow::Error| StageEnd::Failed(format!("{e:#}"));
    let mut records = Vec::new();
    for (variant, profile) in variants.iter().zip(sampled.map_err(failed)?) {
        let record = save_variant_profile(
            staged,
            FLAMEGRAPHS,
            (*variant, problem, settings),
            DEFAULT_FREQUENCY_HZ,
            &profile,
        )
        .map_err(failed)?;
        records.push((record, profile));
    }
    let differential = match &records[..] {
        [(baseline, baseline_profile), (changed, changed_profile)] => Some(
            save_differential(
                staged,
                FLAMEGRAPHS,
                problem,
                (changed, changed_profile),
                (baseline, baseline_profile),
            )
            .map_err(failed)?,
        ),
        _ => None,
    };
    Ok(VariantProfilesRecord {
        problem: problem.to_string(),
        profiles: records.into_iter().map(|(record, _)| record).collect(),
        differential,
    })
}

fn profile_artefacts(profiles: Option<&VariantProfilesRecord>) -> Vec<Artefact> {
    let Some(profiles) = profiles else {
        return Vec::new();
    };
    let mut artefacts = Vec::new();
    for profile in &profiles.profiles {
        artefacts.push(Artefact {
            path: profile.flamegraph_file.clone(),
            kind: ArtefactKind::Flamegraph,
            description: format!("flamegraph of {}", profile.variant),
        });
        artefacts.push(Artefact {
            path: profile.folded_file.clone(),
            kind: ArtefactKind::FoldedStacks,
            description: format!("folded stacks of {}", profile.variant),
        });
    }
    if let Some(differential) = &profiles.differential {
        artefacts.push(Artefact {
            path: differential.file.clone(),
            kind: ArtefactKind::DifferentialFlamegraph,
            description: format!(
                "{} compared with {}",
                differential.changed, differential.baseline
            ),
        });
    }
    artefacts.push(Artefact {
        path: "profile.json".into(),
        kind: ArtefactKind::ProfileJson,
        description: "the profiles: hotspots, sampling, overhead, memory".into(),
    });
    artefacts
}

/// The shortest time the MPI stage's job is given before it counts as hung, in seconds.
const MPI_STAGE_MIN_DEADLINE: f64 = 10.0;

/// The `mpi` variant launched on two ranks (or one per usable core) through the detected launcher.
fn launch_mpi(
    problem: &Problem,
    machine: Option<&Machine>,
    bench: Option<(&BenchReport, &Reference)>,
    seconds: f64,
) -> Result<MpiRun, StageEnd> {
    if linked_library_version().is_none() {
        return Err(StageEnd::Skipped(format!(
            "this build has no MPI support (cargo feature `mpi`): {ENABLE_HINT}"
        )));
    }
    if let Some(Fact::Known(check)) = machine.map(|m| &m.mpi.launch_check)
        && !check.succeeded
    {
        return Err(StageEnd::Skipped(format!(
            "the launcher cannot start a process here: `{}` {}",
            check.command, check.detail
        )));
    }
    let (bench, reference) = bench.ok_or_else(|| {
        StageEnd::Skipped("naive was not measured, so the job could not be checked".into())
    })?;
    // The launch dominates the job: leave room for about two of them.
    let launch = bench
        .ceilings
        .overheads
        .iter()
        .find(|o| o.name == MPIRUN_LAUNCH)
        .and_then(|o| o.seconds.as_ref())
        .map(|s| s.median);
    if let Some(launch) = launch
        && 2.0 * launch > seconds
    {
        return Err(StageEnd::Skipped(format!(
            "{seconds:.1} s left for it, and launching `mpirun -n 1` alone takes {launch:.1} s"
        )));
    }
    let mut progress = ProgressReporter::new(seconds);
    progress.step("mpi: the launched job");
    let mut job = MpiJob::new(problem.clone())
        .map_err(|e| StageEnd::Failed(format!("cannot find this program: {e}")))?;
    // Across a multi-node allocation, every task the scheduler granted; on one
    // node, a rank per usable core (at least two, so communication is measured).
    job.ranks = match crate::distributed::Allocation::detect() {
        Some(allocation) if allocation.nodes > 1 => None,
        _ => Some(usable_cores().max(2)),
    };
    // A launcher that never starts its ranks must not take the whole run: ten seconds, or
    // three times the stage's share, whichever is longer.
    job.deadline = Some(Duration::from_secs_f64(
        (3.0 * seconds).max(MPI_STAGE_MIN_DEADLINE),
    ));
    let result = run_mpi_job(&job);
    progress.finish();
    let result = result.map_err(|e| StageEnd::Failed(format!("{e} ({})", e.hint())))?;
    Ok(mpi_run(
        &result,
        reference.field.checksum(),
        reference.pairs,
    ))
}

/// The GPU against the fastest CPU variant of the ladder at a few sizes.
fn gpu_crossover(
    settings: &RunSettings,
    bench: Option<&BenchReport>,
    seconds: f64,
) -> Result<GpuRun, StageEnd> {
    let adapter = selected_adapter().map_err(|e| StageEnd::Skipped(format!("{e} ({})", e.hint)))?;
    let bench = bench.ok_or_else(|| {
        StageEnd::Skipped("the ladder did not check the gpu variant against naive".into())
    })?;
    let gpu = registry::find(hpc_kernels::scatter::variants::gpu::NAME)
        .expect("the gpu variant is registered");
    let agreement = match bench.ladder.entry(gpu.name()).map(|e| &e.outcome) {
        Some(Outcome::Measured(result)) => result.measurement.agreement,
        Some(Outcome::Failed(failure)) => {
            return Err(StageEnd::Failed(format!(
                "the gpu variant failed in the ladder: {}",
                failure.message
            )));
        }
        Some(Outcome::Skipped { reason, .. }) => return Err(StageEnd::Skipped(reason.clone())),
        None => {
            return Err(StageEnd::Skipped(
                "the ladder did not run the gpu variant".into(),
            ));
        }
    };
    let cpu = fastest_measured(bench, |_, techniques| {
        !techniques
            .iter()
            .any(|t| matches!(t, Technique::Gpu | Technique::Mpi))
    })
    .ok_or_else(|| StageEnd::Skipped("no CPU variant was measured to compare with".into()))?;
    let (sizes, repeats, _) = [GPU_FULL_CROSSOVER, GPU_SHORT_CROSSOVER]
        .into_iter()
        .find(|(_, _, needs)| seconds >= *needs)
        .ok_or_else(|| StageEnd::Skipped(format!("only {seconds:.1} s left for it")))?;
    let mut progress = ProgressReporter::new(seconds);
    progress.step(&format!(
        "gpu: crossover against {} at n = {sizes:?}",
        cpu.name()
    ));
    let measured = crossover(cpu, sizes, repeats, settings);
    progress.finish();
    let measured = measured.map_err(|e| StageEnd::Failed(e.to_string()))?;
    Ok(gpu_run(&adapter, &measured, &agreement))
}

/// A variant that failed or disagreed with naive makes the exit code non-zero, after the report.
fn disagreements_as_error(report: &Report) -> anyhow::Result<()> {
    if let Fact::Known(bench) = &report.bench {
        failures_as_error(bench)?;
    }
    // A Python rung that ran and disagreed (not one whose environment failed it).
    let python_disagreeing = report.python.known().into_iter().flat_map(|ladder| {
        ladder
            .rungs
            .iter()
            .filter_map(|rung| match &rung.entry.outcome {
                Outcome::Failed(failure) if failure.agreement.is_some() => {
                    Some(rung.entry.variant.as_str())
                }
                _ => None,
            })
    });
    let disagreeing: Vec<&str> = [
        report.mpi.known().filter(|run| !run.agrees).map(|_| "mpi"),
        report.gpu.known().filter(|run| !run.agrees).map(|_| "gpu"),
    ]
    .into_iter()
    .flatten()
    .chain(python_disagreeing)
    .collect();
    if disagreeing.is_empty() {
        return Ok(());
    }
    Err(user_error(
        format!("variants disagree with naive: {}", disagreeing.join(", ")),
        "the other variants' figures stand; a variant that disagrees with naive is a bug, please report it",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advise::Facts;

    fn report_with(mpi: Fact<MpiRun>) -> Report {
        let facts =
            Facts::from_json(include_str!("../../tests/fixtures/facts/this-machine.json")).unwrap();
        Report {
            schema_version: REPORT_SCHEMA_VERSION,
            tool_version: "test".into(),
            created_utc: utc_rfc3339(0),
            host: "test".into(),
            run: RunSummary {
                problem: "p".into(),
                nx: 1,
                ny: 1,
                nc: 3,
                wavelength: 0.5,
                contour: "default".into(),
                quick: true,
                budget_seconds: 15.0,
                wall_seconds: 1.0,
            },
            machine: Fact::unknown("not detected in this test"),
            bench: Fact::unknown("not run in this test"),
            python: Fact::unknown("not run in this test"),
            profiles: Fact::unknown("not run in this test"),
            mpi,
            gpu: Fact::unknown("not run in this test"),
            recommendation: advise(&facts),
            facts,
            program: None,
            stages: Vec::new(),
            artefacts: Vec::new(),
        }
    }

    #[test]
    fn a_launched_job_that_disagrees_makes_the_exit_code_non_zero() {
        let job = |agrees| MpiRun {
            command: vec!["mpirun".into()],
            ranks: 2,
            threads_per_rank: 1,
            whole_seconds: 0.5,
            init_seconds: 0.1,
            compute_seconds: 0.2,
            launch_seconds: 0.3,
            pairs_per_second: 1e7,
            nodes: Vec::new(),
            gather_seconds: 0.0,
            imbalance_seconds: 0.0,
            parallel_efficiency: Fact::unknown("no per-rank timings in this test"),
            checksum: 1.0,
            checksum_relative_difference: if agrees { 0.0 } else { 0.5 },
            agrees,
        };
        assert!(disagreements_as_error(&report_with(Fact::Known(job(true)))).is_ok());
        assert!(disagreements_as_error(&report_with(Fact::unknown("skipped"))).is_ok());
        let error = disagreements_as_error(&report_with(Fact::Known(job(false)))).unwrap_err();
        assert!(error.to_string().contains("mpi"), "{error}");
    }
}
