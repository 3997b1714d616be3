//! Studying the user's own program for the decision tree: repeated runs, its thread variable, its sizes.
//!
//! `analyse -- CMD` asks of the user's program the questions the tree asks
//! of the reference kernel (seed 001's practice: consistent time first, then
//! where the time goes, then what scales). The command is run several times
//! for the spread of its wall time; once under a stack sampler
//! ([`external::sample_command`]); once per thread count with its
//! thread-count variable set (`OMP_NUM_THREADS=1, 2, ...`), giving its own
//! speedup, efficiency and serial fraction; and once per `--sizes` value
//! substituted for `{n}`, giving its growth exponent. Each run is measured by
//! `wait4` ([`external::measure_command`]), so the figures carry no sampler
//! overhead. What was not measured says why and how to measure it.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::external::{self, CommandError, ProgramFacts, StackSampling};
use super::folded::FoldedStacks;
use super::hotspots::command_hotspots;
use super::ranks::{self, RankStudy};
use crate::bench::scaling::{amdahl_serial_fraction, growth_exponent, karp_flatt};
use crate::bench::stats::{median, median_absolute_deviation};
use crate::detect::run::Runner;
use crate::fact::Fact;

/// Where a command's size goes: `--sizes 1000,2000 -- ./fit --points {n}`.
pub const SIZE_PLACEHOLDER: &str = "{n}";
/// Thread-count variables looked for in the program's script when `--threads-env` is not given.
pub const KNOWN_THREAD_VARIABLES: &[&str] = &[
    "OMP_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "RAYON_NUM_THREADS",
];
/// Runs for the spread: at least three (a spread needs them), at most this many by default.
const MIN_RUNS: usize = 3;
const MAX_DEFAULT_RUNS: usize = 10;
/// Scripts larger than this are not read for thread variables.
const MAX_SCRIPT_BYTES: u64 = 1 << 20;

/// What the user asked of the study (`analyse` options after validation).
#[derive(Debug, Clone, PartialEq)]
pub struct StudyOptions {
    /// The command as given, `{n}` included when `sizes` is not empty.
    pub command: Vec<String>,
    /// Runs for the spread; `None`: as many as `stability_seconds` allows, 3 to 10.
    pub runs: Option<usize>,
    /// Seconds the stability runs may take when `runs` is not given.
    pub stability_seconds: f64,
    /// The thread-count variable named by `--threads-env`.
    pub threads_variable: Option<String>,
    /// Thread counts to rerun the program with (1, 2, ... usable cores).
    pub thread_counts: Vec<usize>,
    /// `--sizes`, as typed (`1e5`) and as numbers.
    pub sizes: Vec<(String, f64)>,
    pub expected_order: Option<f64>,
    pub items: Option<u64>,
    /// Skip the stack sampler (`--no-stacks`).
    pub sample_stacks: bool,
    /// The `hpc-advisor` executable an MPI launcher starts as each rank's probe.
    pub probe_exe: PathBuf,
}

/// Everything measured of the user's program: the report's "your program" section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProgramStudyRecord {
    /// The command as given (with `{n}` when sizes were given).
    pub command: Vec<String>,
    /// The command the repeated and sampled runs ran (the middle size substituted).
    pub studied_command: Vec<String>,
    /// `Python` or `native`: which profiler it gets and which words the plan uses.
    pub language: String,
    /// Every run at the studied size, in order.
    pub runs: Vec<ProgramFacts>,
    /// The run with the median wall time: the program's figures.
    pub typical: ProgramFacts,
    /// Median absolute deviation of the runs' wall times over their median.
    pub run_spread: Fact<f64>,
    pub sampling: StackSampling,
    /// Samples of the sampled run, when there was one.
    pub samples: Option<u64>,
    pub hotspots: Vec<super::hotspots::Hotspot>,
    pub folded_file: Option<String>,
    pub flamegraph_file: Option<String>,
    pub scaling: Fact<ProgramScaling>,
    pub growth: Fact<ProgramGrowth>,
    pub expected_order: Fact<f64>,
    pub work_items: Fact<u64>,
    /// Each rank on its own, when the command starts an MPI launcher.
    pub ranks: Fact<RankStudy>,
}

impl ProgramStudyRecord {
    /// The program that was profiled: the command after an MPI launcher and its options.
    pub fn profiled_command(&self) -> &[String] {
        match &self.ranks {
            Fact::Known(ranks) => self
                .studied_command
                .get(ranks.launcher.len()..)
                .unwrap_or(&self.studied_command),
            Fact::Unknown(_) => &self.studied_command,
        }
    }
}

/// The stacks the sampled runs recorded, for the flamegraphs.
#[derive(Debug, Default)]
pub struct ProgramStacks {
    /// The whole program's (every rank's added together for an MPI launch).
    pub whole: Option<FoldedStacks>,
    /// Each rank's, in rank order, for an MPI launch.
    pub ranks: Vec<(u32, FoldedStacks)>,
}

impl ProgramScaling {
    /// `(threads, speedup over one thread)` at each measured count.
    pub fn speedups(&self) -> Vec<(usize, f64)> {
        let one_thread = self.points.first().map_or(1.0, |p| p.wall_seconds);
        self.points
            .iter()
            .map(|p| (p.threads, one_thread / p.wall_seconds))
            .collect()
    }
}

/// The program rerun with its thread-count variable at each count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProgramScaling {
    pub variable: String,
    /// Why this variable: named with `--threads-env`, or found in the script.
    pub chosen_because: String,
    pub points: Vec<ScalingRun>,
    /// Wall time at one thread over wall time at the largest count.
    pub speedup: f64,
    pub efficiency: f64,
    /// Amdahl fit over all counts (three or more), else Karp-Flatt at the largest.
    pub serial_fraction: Fact<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScalingRun {
    pub threads: usize,
    pub wall_seconds: f64,
    /// Cores busy on average during this run.
    pub cpu_utilisation: f64,
}

/// The program run once per size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProgramGrowth {
    pub points: Vec<SizeRun>,
    /// Exponent b of wall = a * size^b, least squares on the logarithms.
    pub exponent: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SizeRun {
    /// The size as substituted for `{n}`.
    pub argument: String,
    pub size: f64,
    pub wall_seconds: f64,
}

/// Runs the whole study; the sampler's scratch files go into `scratch`.
///
/// A run that fails is an error: a program that does not run cannot be advised on.
pub fn study(
    options: &StudyOptions,
    scratch: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<(ProgramStudyRecord, ProgramStacks), CommandError> {
    let studied_command = match options.sizes.get(options.sizes.len() / 2) {
        Some((argument, _)) => with_size(&options.command, argument),
        None => options.command.clone(),
    };
    let shown = studied_command.join(" ");
    progress(&format!("running `{shown}` (time, CPU and memory)"));
    let mut runs = vec![external::measure_command(&studied_command, &[])?];
    let wanted = options.runs.unwrap_or_else(|| {
        let first = runs[0].wall_seconds.max(1e-3);
        ((options.stability_seconds / first) as usize).clamp(MIN_RUNS, MAX_DEFAULT_RUNS)
    });
    while runs.len() < wanted {
        progress(&format!(
            "running `{shown}` again ({} of {wanted})",
            runs.len() + 1
        ));
        runs.push(external::measure_command(&studied_command, &[])?);
    }
    let walls: Vec<f64> = runs.iter().map(|r| r.wall_seconds).collect();
    let typical_wall = median(&walls);
    let typical = runs
        .iter()
        .min_by(|a, b| {
            (a.wall_seconds - typical_wall)
                .abs()
                .total_cmp(&(b.wall_seconds - typical_wall).abs())
        })
        .cloned()
        .unwrap_or_else(|| runs[0].clone());
    let run_spread = if runs.len() >= MIN_RUNS {
        Fact::Known(median_absolute_deviation(&walls) / typical_wall.max(1e-12))
    } else {
        Fact::unknown(format!(
            "the program ran {} time(s); a spread needs {MIN_RUNS} (--runs {MIN_RUNS})",
            runs.len()
        ))
    };

    let runner = Runner::from_env();
    let launch = ranks::split_launch(&studied_command, &runner);
    let (stacks, sampling, ranks) = match &launch {
        Some(launch) => {
            let (study, rank_stacks) = ranks::study_ranks(
                launch,
                &options.probe_exe,
                options.sample_stacks,
                scratch,
                progress,
            )?;
            let sampling = study
                .ranks
                .iter()
                .map(|r| &r.sampling)
                .find(|s| matches!(s, StackSampling::Sampled { .. }))
                .unwrap_or(&study.ranks[0].sampling)
                .clone();
            let stacks = ProgramStacks {
                whole: ranks::merged(&rank_stacks),
                ranks: rank_stacks,
            };
            (stacks, sampling, Fact::Known(study))
        }
        None => {
            let (whole, sampling) = if options.sample_stacks {
                progress(&format!("running `{shown}` under a stack sampler"));
                external::sample_command(&studied_command, scratch)
            } else {
                (None, StackSampling::Skipped)
            };
            let ranks = Fact::unknown(format!(
                "not an MPI launch: the command does not start with {}",
                ranks::LAUNCHERS.join(", ")
            ));
            let stacks = ProgramStacks {
                whole,
                ranks: Vec::new(),
            };
            (stacks, sampling, ranks)
        }
    };

    let scaling = match thread_variable(options) {
        Fact::Known((variable, chosen_because)) => {
            let mut points = Vec::new();
            for &threads in &options.thread_counts {
                progress(&format!("running `{shown}` with {variable}={threads}"));
                let run = external::measure_command(
                    &studied_command,
                    &[(variable.clone(), threads.to_string())],
                )?;
                points.push(ScalingRun {
                    threads,
                    wall_seconds: run.wall_seconds,
                    cpu_utilisation: run.cpu_utilisation,
                });
            }
            scaling_of(variable, chosen_because, points)
        }
        Fact::Unknown(why) => Fact::Unknown(why),
    };

    let growth = if options.sizes.len() >= 2 {
        let mut points = Vec::new();
        for (argument, size) in &options.sizes {
            let command = with_size(&options.command, argument);
            progress(&format!("running `{}` (growth)", command.join(" ")));
            let run = external::measure_command(&command, &[])?;
            points.push(SizeRun {
                argument: argument.clone(),
                size: *size,
                wall_seconds: run.wall_seconds,
            });
        }
        growth_of(points)
    } else {
        Fact::unknown(
            "not measured: give two or more sizes with --sizes and put {n} where the command \
             takes its size (`analyse --sizes 1000,2000,4000 -- ./prog --points {n}`)",
        )
    };

    let profiled = launch.as_ref().map_or(&studied_command, |l| &l.program);
    let language = if profiled
        .first()
        .is_some_and(|p| external::is_python(&runner, p))
    {
        "Python"
    } else {
        "native"
    };
    let record = ProgramStudyRecord {
        command: options.command.clone(),
        studied_command,
        language: language.to_string(),
        runs,
        typical,
        run_spread,
        samples: stacks.whole.as_ref().map(|s| s.total()),
        hotspots: stacks
            .whole
            .as_ref()
            .map(|s| command_hotspots(s, &sampling))
            .unwrap_or_default(),
        sampling,
        folded_file: None,
        flamegraph_file: None,
        scaling,
        growth,
        expected_order: Fact::from_option(options.expected_order, || {
            "not given: say how the cost should grow with --expected-order K (1 linear, 2 \
             quadratic, ...)"
                .into()
        }),
        work_items: Fact::from_option(options.items, || {
            "not given: say how many independent work items you have with --items N".into()
        }),
        ranks,
    };
    Ok((record, stacks))
}

/// The command with every `{n}` replaced by `size`.
pub fn with_size(command: &[String], size: &str) -> Vec<String> {
    command
        .iter()
        .map(|word| word.replace(SIZE_PLACEHOLDER, size))
        .collect()
}

/// The variable to set for the scaling runs, and why it was chosen; unknown with a hint.
fn thread_variable(options: &StudyOptions) -> Fact<(String, String)> {
    if options.thread_counts.len() < 2 {
        return Fact::unknown("not measured: only one core is usable here");
    }
    if let Some(variable) = &options.threads_variable {
        return Fact::Known((variable.clone(), "named with --threads-env".to_string()));
    }
    for word in options.command.iter().skip(1) {
        let path = Path::new(word);
        let Ok(metadata) = fs::metadata(path) else {
            continue;
        };
        if !metadata.is_file() || metadata.len() > MAX_SCRIPT_BYTES {
            continue;
        }
        let Ok(text) = fs::read_to_string(path) else {
            continue;
        };
        if let Some(variable) = KNOWN_THREAD_VARIABLES.iter().find(|v| text.contains(*v)) {
            return Fact::Known((variable.to_string(), format!("{word} reads it")));
        }
    }
    Fact::unknown(format!(
        "not measured: the command's script reads none of {} that could be seen; name the \
         variable your program takes its thread count from with --threads-env VAR",
        KNOWN_THREAD_VARIABLES.join(", ")
    ))
}

fn scaling_of(
    variable: String,
    chosen_because: String,
    points: Vec<ScalingRun>,
) -> Fact<ProgramScaling> {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Fact::unknown("no thread counts were run");
    };
    let speedup = first.wall_seconds / last.wall_seconds.max(1e-12);
    let efficiency = speedup / last.threads.max(1) as f64;
    let pairs: Vec<(usize, f64)> = points.iter().map(|p| (p.threads, p.wall_seconds)).collect();
    let serial_fraction = if points.len() >= 3 {
        amdahl_serial_fraction(&pairs)
    } else {
        karp_flatt(speedup, last.threads).map(|f| f.clamp(0.0, 1.0))
    };
    Fact::Known(ProgramScaling {
        variable,
        chosen_because,
        speedup,
        efficiency,
        serial_fraction: Fact::from_option(serial_fraction, || {
            "the wall times do not fit Amdahl's law".into()
        }),
        points,
    })
}

fn growth_of(points: Vec<SizeRun>) -> Fact<ProgramGrowth> {
    let pairs: Vec<(f64, f64)> = points.iter().map(|p| (p.size, p.wall_seconds)).collect();
    match growth_exponent(&pairs) {
        Some(exponent) => Fact::Known(ProgramGrowth { points, exponent }),
        None => Fact::unknown("the sizes' wall times do not fit a power law"),
    }
}

/// Parses `--sizes`: comma-separated positive numbers (`1000,2e3`), at least two, distinct.
///
/// Each is substituted as typed when it is an integer in its own notation, else as
/// the integer it denotes (`1e5` becomes `100000`).
pub fn parse_sizes(text: &str) -> Result<Vec<(String, f64)>, String> {
    let mut sizes = Vec::new();
    for word in text.split(',').map(str::trim) {
        let value: f64 = word
            .parse()
            .map_err(|_| format!("`{word}` in --sizes is not a number"))?;
        if !(value.is_finite() && value > 0.0) {
            return Err(format!("`{word}` in --sizes is not a positive size"));
        }
        let argument = if word.chars().all(|c| c.is_ascii_digit()) {
            word.to_string()
        } else if value.fract() == 0.0 && value < 1e18 {
            format!("{}", value as u64)
        } else {
            word.to_string()
        };
        sizes.push((argument, value));
    }
    if sizes.len() < 2 {
        return Err("--sizes needs two sizes or more to fit a growth exponent".to_string());
    }
    let mut values: Vec<f64> = sizes.iter().map(|(_, v)| *v).collect();
    values.sort_by(f64::total_cmp);
    if values.windows(2).any(|w| w[0] == w[1]) {
        return Err("--sizes lists the same size twice".to_string());
    }
    Ok(sizes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split(' ').map(String::from).collect()
    }

    #[test]
    fn sizes_parse_to_arguments_and_values() {
        let sizes = parse_sizes("1000, 2e3,4000").unwrap();
        assert_eq!(
            sizes,
            vec![
                ("1000".to_string(), 1000.0),
                ("2000".to_string(), 2000.0),
                ("4000".to_string(), 4000.0)
            ]
        );
        assert_eq!(parse_sizes("0.5,1.5").unwrap()[0].0, "0.5");
        for bad in ["", "1000", "10,x", "10,-1", "10,10", "1,inf"] {
            assert!(parse_sizes(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn the_size_replaces_every_placeholder() {
        assert_eq!(
            with_size(&words("prog --n {n} --out run-{n}.txt"), "64"),
            words("prog --n 64 --out run-64.txt")
        );
    }

    #[test]
    fn scaling_follows_amdahl_on_known_times() {
        // T(n) = 1 + 3/n: serial fraction 0.25.
        let points = [1usize, 2, 4]
            .iter()
            .map(|&n| ScalingRun {
                threads: n,
                wall_seconds: 1.0 + 3.0 / n as f64,
                cpu_utilisation: 1.0,
            })
            .collect();
        let Fact::Known(scaling) = scaling_of("OMP_NUM_THREADS".into(), "test".into(), points)
        else {
            panic!("no scaling");
        };
        assert!((scaling.speedup - 4.0 / 1.75).abs() < 1e-12);
        assert!((scaling.efficiency - 4.0 / 1.75 / 4.0).abs() < 1e-12);
        assert!((scaling.serial_fraction.known().unwrap() - 0.25).abs() < 1e-9);
    }

    #[test]
    fn growth_recovers_a_quadratic() {
        let points = [100.0, 200.0, 400.0]
            .iter()
            .map(|&n: &f64| SizeRun {
                argument: n.to_string(),
                size: n,
                wall_seconds: 1e-6 * n * n,
            })
            .collect();
        let growth = growth_of(points).known().cloned().unwrap();
        assert!((growth.exponent - 2.0).abs() < 1e-9);
    }

    #[test]
    fn the_thread_variable_is_found_in_the_script_or_explained() {
        let folder = tempfile::tempdir().unwrap();
        let script = folder.path().join("solve.py");
        fs::write(
            &script,
            "import os\nn = int(os.environ.get('NUMBA_NUM_THREADS', 1))\n",
        )
        .unwrap();
        let mut options = StudyOptions {
            command: vec!["python3".into(), script.display().to_string()],
            runs: None,
            stability_seconds: 1.0,
            threads_variable: None,
            thread_counts: vec![1, 2],
            sizes: Vec::new(),
            expected_order: None,
            items: None,
            sample_stacks: false,
            probe_exe: PathBuf::from("hpc-advisor"),
        };
        let (variable, why) = thread_variable(&options).known().cloned().unwrap();
        assert_eq!(variable, "NUMBA_NUM_THREADS");
        assert!(why.contains("solve.py"), "{why}");
        fs::write(&script, "print('no threads here')\n").unwrap();
        let Fact::Unknown(why) = thread_variable(&options) else {
            panic!("a variable was found in a script without one");
        };
        assert!(why.contains("--threads-env"), "{why}");
        options.threads_variable = Some("MY_WORKERS".into());
        assert_eq!(thread_variable(&options).known().unwrap().0, "MY_WORKERS");
        options.thread_counts = vec![1];
        assert!(thread_variable(&options).known().is_none());
    }
}
