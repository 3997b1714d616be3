//! `hpc-advisor profile`: flamegraphs, hotspots and memory of a variant, or of the user's command.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use hpc_kernels::scatter::{Problem, RunSettings, Variant, VariantError};
use tabled::settings::Style;
use tabled::{Table, Tabled};

use crate::advise::reading::Unit;
use crate::cli::ProfileArgs;
use crate::commands::kernel::runnable_variant;
use crate::error::user_error;
use crate::output::{StagedDir, run_folder_name};
use crate::profile::external::{self, CommandError, ProgramFacts, StackSampling};
use crate::profile::flamegraph;
use crate::profile::folded::FoldedStacks;
use crate::profile::hotspots::{HOTSPOT_ROWS, Hotspot, Workload, command_hotspots, hotspots};
use crate::profile::lines::HotLine;
use crate::profile::memory;
use crate::profile::record::{
    CommandProfileRecord, DifferentialRecord, MemoryFigures, OverheadFigures, SamplingFigures,
    VariantProfileRecord, VariantProfilesRecord,
};
use crate::profile::sampler::{
    OUTSIDE_KERNEL, ProfileError, VariantProfile, calibrate, run_sampled,
};

pub fn run(args: &ProfileArgs) -> anyhow::Result<()> {
    match (&args.variant, args.command.is_empty()) {
        (Some(variant), true) => profile_variants(args, variant),
        (None, false) => profile_command(args),
        _ => Err(user_error(
            "give either a variant or a command to profile",
            "`hpc-advisor profile --variant naive` profiles a variant of the reference kernel; \
             `hpc-advisor profile -- python3 my_script.py` profiles your own program",
        )),
    }
}

/// The validated `--duration` and `--frequency`.
fn sampling_options(args: &ProfileArgs) -> anyhow::Result<(Duration, i32)> {
    if !(args.duration.is_finite() && args.duration > 0.0 && args.duration <= 3600.0) {
        return Err(user_error(
            format!(
                "--duration {} is not a number of seconds between 0 and 3600",
                args.duration
            ),
            "a few seconds give a few hundred samples; the default is 2",
        ));
    }
    if !(1..=10_000).contains(&args.frequency) {
        return Err(user_error(
            format!("--frequency {} is outside 1..=10000 Hz", args.frequency),
            "the kernel tick caps the delivered rate anyway (a few hundred per second)",
        ));
    }
    Ok((Duration::from_secs_f64(args.duration), args.frequency))
}

fn profile_variants(args: &ProfileArgs, name: &str) -> anyhow::Result<()> {
    let problem = args.problem.to_problem()?;
    let settings = args.parallel.to_settings()?;
    let (min_duration, frequency_hz) = sampling_options(args)?;
    let variant = runnable_variant(name, &problem, &settings, args.problem.force)?;
    let baseline = args
        .diff_against
        .as_deref()
        .map(|other| runnable_variant(other, &problem, &settings, args.problem.force))
        .transpose()?;
    if baseline.is_some_and(|b| b.name() == variant.name()) {
        return Err(user_error(
            "--diff-against names the profiled variant itself",
            "compare with another variant, e.g. --variant fused --diff-against naive",
        ));
    }
    let staged = StagedDir::create(&args.out, &run_folder_name())?;

    let variants: Vec<&dyn Variant> = std::iter::once(variant).chain(baseline).collect();
    let mut profiles = Vec::new();
    for (variant, profile) in variants.iter().zip(sample_variants(
        &variants,
        &problem,
        &settings,
        (min_duration, frequency_hz),
    )?) {
        let record = save_variant_profile(
            &staged,
            "",
            (*variant, &problem, &settings),
            frequency_hz,
            &profile,
        )?;
        profiles.push((record, profile));
    }
    let differential = match &profiles[..] {
        [(changed, changed_profile), (baseline, baseline_profile)] => Some(save_differential(
            &staged,
            "",
            &problem,
            (changed, changed_profile),
            (baseline, baseline_profile),
        )?),
        _ => None,
    };
    let record = VariantProfilesRecord {
        problem: problem.to_string(),
        profiles: profiles.iter().map(|(record, _)| record.clone()).collect(),
        differential,
    };
    staged.write("profile.json", &serde_json::to_vec_pretty(&record)?)?;
    let folder = staged.commit()?;

    let mut out = io::stdout().lock();
    for (record, profile) in &profiles {
        print_variant_profile(&mut out, record, profile)?;
    }
    writeln!(out, "files        {}", folder.display())?;
    for record in &record.profiles {
        writeln!(
            out,
            "             {}  {}",
            record.flamegraph_file, record.folded_file
        )?;
    }
    if let Some(differential) = &record.differential {
        writeln!(out, "             {}", differential.file)?;
    }
    writeln!(out, "             profile.json")?;
    Ok(())
}

/// Calibrates each variant, then runs each for about `min_duration` without and
/// as long with the sampler, in interleaved blocks.
///
/// Every calibration comes before the first sampled phase, so the peak RSS
/// excludes the sampler's buffers.
pub(crate) fn sample_variants(
    variants: &[&dyn Variant],
    problem: &Problem,
    settings: &RunSettings,
    (min_duration, frequency_hz): (Duration, i32),
) -> anyhow::Result<Vec<VariantProfile>> {
    let mut calibrations = Vec::new();
    for &variant in variants {
        eprintln!(
            "calibrating {} on {problem} (heap use, time per run)",
            variant.name()
        );
        calibrations.push(
            calibrate(variant, problem, settings, min_duration)
                .map_err(|e| variant_failure(variant, e))?,
        );
    }
    let mut profiles = Vec::new();
    for (&variant, calibration) in variants.iter().zip(calibrations) {
        eprintln!(
            "running {} {} times without and as often with the sampler, interleaved",
            variant.name(),
            calibration.repetitions
        );
        profiles.push(
            run_sampled(variant, problem, settings, calibration, frequency_hz)
                .map_err(|e| variant_failure(variant, e))?,
        );
    }
    Ok(profiles)
}

fn variant_failure(variant: &dyn Variant, error: ProfileError) -> anyhow::Error {
    match &error {
        ProfileError::Variant(e @ VariantError::Unavailable { .. }) => match e.hint() {
            Some(hint) => user_error(e.to_string(), hint),
            None => anyhow::Error::new(error),
        },
        ProfileError::Sampler { .. } => user_error(
            format!("profiling `{}`: {error}", variant.name()),
            "the in-process sampler needs SIGPROF and setitimer; if another profiler is attached, detach it",
        ),
        _ => anyhow::Error::new(error).context(format!("profiling `{}`", variant.name())),
    }
}

/// Draws a differential flamegraph of `changed` against `baseline` into `folder` of the run folder.
pub(crate) fn save_differential(
    staged: &StagedDir,
    folder: &str,
    problem: &Problem,
    (changed, changed_profile): (&VariantProfileRecord, &VariantProfile),
    (baseline, baseline_profile): (&VariantProfileRecord, &VariantProfile),
) -> anyhow::Result<DifferentialRecord> {
    let file = format!(
        "{folder}diff-{}-vs-{}.svg",
        changed.variant, baseline.variant
    );
    let svg = flamegraph::draw_differential(
        &baseline_profile.stacks,
        &changed_profile.stacks,
        &format!(
            "{} compared with {} on {problem}",
            changed.variant, baseline.variant
        ),
        &format!(
            "shaped like {}; blue: less in {} (removed), red: more (sample totals normalised)",
            baseline.variant, changed.variant
        ),
    )
    .context("drawing the differential flamegraph")?;
    staged.write(&file, &svg)?;
    Ok(DifferentialRecord {
        baseline: baseline.variant.clone(),
        changed: changed.variant.clone(),
        file,
    })
}

/// Writes a variant's folded stacks and flamegraph into `folder` (`""` or e.g. `"flamegraphs/"`)
/// of the run folder and returns its record (hotspots, sampling, overhead, memory).
pub(crate) fn save_variant_profile(
    staged: &StagedDir,
    folder: &str,
    (variant, problem, settings): (&dyn Variant, &Problem, &RunSettings),
    frequency_hz: i32,
    profile: &VariantProfile,
) -> anyhow::Result<VariantProfileRecord> {
    let name = variant.name();
    if profile.stacks.is_empty() {
        return Err(user_error(
            format!("the sampler recorded no samples of `{name}`"),
            "profile a longer run: raise --duration or the problem size",
        ));
    }
    let total = profile.stacks.total();
    let workload = Workload {
        rows: problem.ny() as u64 + 1,
        nodes: (problem.nx() as u64 + 1) * (problem.ny() as u64 + 1),
        outside_nodes: profile.calibration.outside_nodes,
        pairs: profile.calibration.pairs,
        repetitions: u64::from(profile.calibration.repetitions),
    };
    let table = hotspots(&profile.stacks, HOTSPOT_ROWS, Some(&workload));
    let outside_kernel_share = table
        .iter()
        .find(|h| h.function == OUTSIDE_KERNEL)
        .map_or(0.0, |h| h.inclusive_share);
    let folded_file = format!("{folder}{name}.folded");
    let flamegraph_file = format!("{folder}{name}.svg");
    let drawing = Instant::now();
    let svg = flamegraph::draw(
        &profile.stacks,
        &format!("{name} on {problem}"),
        &format!(
            "{total} samples over {} runs ({:.0} per CPU second); widths are shares of samples",
            profile.calibration.repetitions,
            profile.samples_per_cpu_second()
        ),
    )
    .with_context(|| format!("drawing the flamegraph of {name}"))?;
    eprintln!(
        "drew {flamegraph_file} from {total} samples in {:.1} ms",
        drawing.elapsed().as_secs_f64() * 1e3
    );
    staged.write(&folded_file, profile.stacks.to_text().as_bytes())?;
    staged.write(&flamegraph_file, &svg)?;
    let pairs = profile.calibration.pairs.max(1) as f64;
    let overhead = profile.overhead();
    Ok(VariantProfileRecord {
        variant: name.to_string(),
        workers: variant.workers(settings),
        samples: SamplingFigures {
            total,
            requested_hz: frequency_hz,
            per_cpu_second: profile.samples_per_cpu_second(),
            repetitions: profile.calibration.repetitions,
            outside_kernel_share,
        },
        overhead: OverheadFigures {
            unsampled_seconds: profile.unsampled.wall.as_secs_f64(),
            sampled_seconds: profile.sampled.wall.as_secs_f64(),
            unsampled_cpu_seconds: profile.unsampled.cpu.as_secs_f64(),
            sampled_cpu_seconds: profile.sampled.cpu.as_secs_f64(),
            relative_cpu: overhead.median,
            relative_cpu_interval: overhead.interval,
            pair_relative_cpu: profile.pair_overheads.clone(),
            relative_wall: profile.wall_overhead(),
        },
        memory: MemoryFigures {
            counting: memory::is_counting(),
            allocations: profile.calibration.memory.allocations,
            allocated_bytes: profile.calibration.memory.allocated_bytes,
            peak_live_heap_bytes: profile.calibration.memory.peak_live_bytes,
            allocations_per_pair: profile.calibration.memory.allocations as f64 / pairs,
            allocated_bytes_per_pair: profile.calibration.memory.allocated_bytes as f64 / pairs,
            peak_rss_bytes: profile.calibration.peak_rss_bytes,
        },
        hotspots: table,
        hot_lines: profile.hot_lines.clone(),
        folded_file,
        flamegraph_file,
    })
}

#[derive(Tabled)]
struct HotspotRow {
    function: String,
    #[tabled(rename = "self")]
    self_share: String,
    inclusive: String,
    calls: String,
}

fn hotspot_table(table: &[Hotspot]) -> Table {
    let rows = table.iter().map(|h| HotspotRow {
        function: h.function.replace("hpc_kernels::scatter::", ""),
        self_share: format!("{:5.1} %", 100.0 * h.self_share),
        inclusive: format!("{:5.1} %", 100.0 * h.inclusive_share),
        calls: h.calls.map_or_else(|| "-".to_string(), |c| c.to_string()),
    });
    let mut table = Table::new(rows);
    table.with(Style::sharp());
    table
}

#[derive(Tabled)]
struct HotLineRow {
    line: String,
    share: String,
    function: String,
    code: String,
}

fn hot_line_table(lines: &[HotLine]) -> Table {
    let rows = lines.iter().map(|line| HotLineRow {
        line: line.location.clone(),
        share: format!("{:5.1} %", 100.0 * line.share),
        function: line.function.replace("hpc_kernels::scatter::", ""),
        code: line.code.clone().unwrap_or_default(),
    });
    let mut table = Table::new(rows);
    table.with(Style::sharp());
    table
}

fn print_variant_profile(
    out: &mut impl Write,
    record: &VariantProfileRecord,
    profile: &VariantProfile,
) -> anyhow::Result<()> {
    let memory = &record.memory;
    writeln!(
        out,
        "variant      {} ({} thread(s))",
        record.variant, record.workers
    )?;
    writeln!(
        out,
        "samples      {} over {} runs, {:.0} per CPU second (requested {} Hz); {:.1} % outside the kernel",
        record.samples.total,
        record.samples.repetitions,
        record.samples.per_cpu_second,
        record.samples.requested_hz,
        100.0 * record.samples.outside_kernel_share
    )?;
    writeln!(
        out,
        "overhead     {}; {:.3} s CPU sampled, {:.3} s unsampled",
        record.overhead.describe(),
        record.overhead.sampled_cpu_seconds,
        record.overhead.unsampled_cpu_seconds,
    )?;
    writeln!(out, "{}", hotspot_table(&record.hotspots))?;
    if !record.hot_lines.is_empty() {
        writeln!(
            out,
            "hot lines    the kernel's source lines holding the most samples ({} recorded):",
            profile.line_samples
        )?;
        writeln!(out, "{}", hot_line_table(&record.hot_lines))?;
    }
    if memory.counting {
        writeln!(
            out,
            "heap         {} allocations, {} allocated, peak live {} per run ({:.2} allocations and {:.1} bytes per pair over {} pairs)",
            memory.allocations,
            Unit::Bytes.format(memory.allocated_bytes as f64),
            Unit::Bytes.format(memory.peak_live_heap_bytes as f64),
            memory.allocations_per_pair,
            memory.allocated_bytes_per_pair,
            profile.calibration.pairs
        )?;
    } else {
        writeln!(
            out,
            "heap         not counted: the counting allocator is not installed"
        )?;
    }
    if let Some(rss) = memory.peak_rss_bytes {
        writeln!(
            out,
            "peak RSS     {} (whole process, before the sampler started)",
            Unit::Bytes.format(rss as f64)
        )?;
    }
    writeln!(out)?;
    Ok(())
}

fn profile_command(args: &ProfileArgs) -> anyhow::Result<()> {
    let staged = StagedDir::create(&args.out, &run_folder_name())?;
    let program = &args.command[0];
    eprintln!(
        "running {} (measuring time and memory)",
        args.command.join(" ")
    );
    let facts = external::measure_command(&args.command, &[]).map_err(command_failure)?;
    let (stacks, sampling) = if args.no_stacks {
        (None, StackSampling::Skipped)
    } else {
        let scratch = staged.path().join(".scratch");
        fs::create_dir(&scratch).with_context(|| format!("cannot create {}", scratch.display()))?;
        eprintln!("running {program} again under a stack sampler");
        let sampled = external::sample_command(&args.command, &scratch);
        fs::remove_dir_all(&scratch)
            .with_context(|| format!("cannot remove {}", scratch.display()))?;
        sampled
    };
    let mut record = CommandProfileRecord {
        facts,
        samples: stacks.as_ref().map(|s| s.total()),
        hotspots: stacks
            .as_ref()
            .map(|s| command_hotspots(s, &sampling))
            .unwrap_or_default(),
        stacks: sampling,
        folded_file: None,
        flamegraph_file: None,
    };
    if let Some(stacks) = &stacks {
        let drawn = save_command_flamegraph(&staged, "", &args.command, stacks, &record.stacks)?;
        record.folded_file = Some(drawn.folded_file);
        record.flamegraph_file = Some(drawn.flamegraph_file);
    }
    staged.write("profile.json", &serde_json::to_vec_pretty(&record)?)?;
    let folder = staged.commit()?;
    print_command_profile(&mut io::stdout().lock(), &record, &folder)
}

/// The files drawn from a command's sampled stacks.
pub struct DrawnCommandProfile {
    pub folded_file: String,
    pub flamegraph_file: String,
}

/// Draws the flamegraph of a command's stacks and writes it with the folded stacks into
/// `staged` under `prefix` (a folder like `flamegraphs/`, or empty).
pub fn save_command_flamegraph(
    staged: &StagedDir,
    prefix: &str,
    command: &[String],
    stacks: &FoldedStacks,
    sampling: &StackSampling,
) -> anyhow::Result<DrawnCommandProfile> {
    let base = format!(
        "{prefix}{}",
        command_file_stem(command.first().map_or("command", String::as_str))
    );
    let tool = match sampling {
        StackSampling::Sampled { tool } => tool.as_str(),
        _ => "sampler",
    };
    let drawing = Instant::now();
    let svg = flamegraph::draw(
        stacks,
        &command.join(" "),
        &format!(
            "{} samples by {tool}; widths are shares of samples",
            stacks.total()
        ),
    )
    .context("drawing the flamegraph of the command")?;
    eprintln!(
        "drew {base}.svg from {} samples in {:.1} ms",
        stacks.total(),
        drawing.elapsed().as_secs_f64() * 1e3
    );
    let folded_file = format!("{base}.folded");
    let flamegraph_file = format!("{base}.svg");
    staged.write(&folded_file, stacks.to_text().as_bytes())?;
    staged.write(&flamegraph_file, &svg)?;
    Ok(DrawnCommandProfile {
        folded_file,
        flamegraph_file,
    })
}

pub fn command_failure(error: CommandError) -> anyhow::Error {
    let hint = match &error {
        CommandError::Empty => {
            "give the command after `--`, e.g. `hpc-advisor profile -- ./my_program input`"
        }
        CommandError::Spawn { .. } => {
            "check the command's name and that it is installed and executable (PATH)"
        }
        CommandError::Failed { .. } => "make the command succeed on its own first, then profile it",
        CommandError::Wait { .. } => "the operating system lost track of the child; try again",
        CommandError::Ranks { .. } => {
            "check that the launcher starts the program named after its options on every rank"
        }
    };
    user_error(error.to_string(), hint)
}

/// `./bin/solver` -> `solver`, usable as a file name.
fn command_file_stem(program: &str) -> String {
    let name = Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_+.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') || name == "profile" {
        format!("command-{name}")
    } else {
        name
    }
}

fn print_command_profile(
    out: &mut impl Write,
    record: &CommandProfileRecord,
    folder: &Path,
) -> anyhow::Result<()> {
    let facts: &ProgramFacts = &record.facts;
    writeln!(out, "command      {}", facts.command.join(" "))?;
    writeln!(
        out,
        "time         {:.3} s wall, {:.3} s user, {:.3} s system",
        facts.wall_seconds, facts.user_seconds, facts.system_seconds
    )?;
    writeln!(
        out,
        "CPU          {:.2} cores busy on average: {}",
        facts.cpu_utilisation,
        facts.character.describe()
    )?;
    writeln!(
        out,
        "peak RSS     {}",
        Unit::Bytes.format(facts.peak_rss_bytes as f64)
    )?;
    writeln!(
        out,
        "switches     {} voluntary (waiting), {} involuntary (preempted)",
        facts.voluntary_context_switches, facts.involuntary_context_switches
    )?;
    match &record.stacks {
        StackSampling::Sampled { tool } => {
            writeln!(
                out,
                "stacks       {} samples by {tool}",
                record.samples.unwrap_or(0)
            )?;
            writeln!(out, "{}", hotspot_table(&record.hotspots))?;
        }
        StackSampling::Unavailable { reason, hint } => {
            writeln!(out, "stacks       none: {reason}")?;
            writeln!(out, "             to get them: {hint}")?;
        }
        StackSampling::Skipped => writeln!(out, "stacks       not sampled (--no-stacks)")?,
    }
    writeln!(out, "files        {}", folder.display())?;
    for file in [&record.flamegraph_file, &record.folded_file]
        .into_iter()
        .flatten()
    {
        writeln!(out, "             {file}")?;
    }
    writeln!(out, "             profile.json")?;
    Ok(())
}
