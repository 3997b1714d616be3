//! The command-line interface as clap types; the only module that knows about clap.
//!
//! Each subcommand's arguments are resolved here into the library's own
//! settings types, so nothing below this module imports clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use hpc_kernels::scatter::{Contour, Problem, RunSettings};

use crate::error::user_error;
use crate::profile::sampler::DEFAULT_FREQUENCY_HZ;

#[derive(Debug, Parser)]
#[command(name = "hpc-advisor", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Python interpreter for the Python ladder's rungs (default: HPC_ADVISOR_PYTHON, else
    /// `python3` on PATH); a virtual environment's `bin/python` brings its packages.
    #[arg(long, global = true, value_name = "PATH")]
    pub python: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List or run the reference kernel's variants.
    #[command(subcommand)]
    Kernel(KernelCommand),
    /// Time the ladder with statistics, measure the machine's ceilings, and analyse scaling.
    Bench(BenchArgs),
    /// Start and exit at once (measures the cost of spawning a process).
    #[command(name = crate::bench::ceilings::NOOP_SUBCOMMAND, hide = true)]
    Noop,
    /// Profile a variant (flamegraph, hotspots, memory) or, after `--`, your own command.
    Profile(ProfileArgs),
    /// Detect this machine's CPU, cores, caches, memory, GPUs, MPI, scheduler and tools.
    Detect(DetectArgs),
    /// Walk the decision tree over saved facts and print the path and the ranked actions.
    Advise(AdviseArgs),
    /// Detect, benchmark, profile and advise: the whole analysis, into a run folder (about a minute).
    Analyse(AnalyseArgs),
    /// Re-render a saved run (its report.json) for a terminal, as Markdown, HTML or JSON.
    Report(ReportArgs),
    /// Compare saved runs side by side (machines, ladders, advice), or gate a change: `--baseline OLD NEW`.
    Compare(CompareArgs),
    /// Print a completion script for your shell: `hpc-advisor completions bash > ~/.local/share/bash-completion/completions/hpc-advisor`.
    Completions(CompletionsArgs),
    /// Print the man page (roff): `hpc-advisor man > hpc-advisor.1 && man ./hpc-advisor.1`.
    Man,
    /// Serve as a worker process of the `processes` variant (binary frames on stdin/stdout).
    #[command(hide = true)]
    Worker(WorkerArgs),
    /// Run one rank of your MPI program measured or sampled (started by `analyse -- mpirun ...`).
    #[command(hide = true)]
    RankProbe(RankProbeArgs),
}

#[derive(Debug, Args)]
pub struct RankProbeArgs {
    /// Folder the rank's record is written into (`rank-N.measured.json`, `rank-N.sampled.json`).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Sample the rank's stacks instead of measuring its run.
    #[arg(long)]
    pub sample: bool,
    /// The rank's program and its arguments.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Do not wrap the table to the terminal's width (its columns then stay on one line each).
    #[arg(long)]
    pub wide: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Make each worker misbehave at its second request (tests of the parent's error handling only).
    #[arg(long, hide = true, value_name = "FAULT")]
    pub fault: Option<String>,
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Output format: readable tables, the `Machine` as JSON (docs/machine.md), or Markdown.
    #[arg(long, value_enum, default_value_t = OutputFormat::Terminal)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("input").required(true).args(["facts", "from"]))]
pub struct AdviseArgs {
    /// Facts file (JSON, see docs/facts.md) to advise on.
    #[arg(long, value_name = "FILE.json")]
    pub facts: Option<PathBuf>,
    /// A saved run's report.json: advise on the facts it holds.
    #[arg(long, value_name = "REPORT.json")]
    pub from: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Terminal)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run's report.json; its flamegraphs are read from the same folder.
    #[arg(long, value_name = "REPORT.json")]
    pub from: PathBuf,
    /// What to render.
    #[arg(long, value_enum, default_value_t = ReportFormat::Terminal)]
    pub format: ReportFormat,
}

/// `hpc-advisor compare RUN_A RUN_B [RUN_C ...]` or `hpc-advisor compare --baseline OLD NEW`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Run folders written by `analyse` (or their report.json), the first being what the others are compared with.
    #[arg(value_name = "RUN", required = true)]
    pub runs: Vec<PathBuf>,
    /// A regression check: compare NEW (the one RUN) with this earlier run; exit 1 when a
    /// variant got slower beyond noise by more than --fail-above.
    #[arg(long, value_name = "OLD")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: the slowdown, beyond noise, that fails the check (`5%` or `0.05`).
    #[arg(
        long,
        value_name = "PERCENT",
        default_value = "5%",
        requires = "baseline"
    )]
    pub fail_above: String,
    #[arg(long, value_enum, default_value_t = ReportFormat::Terminal)]
    pub format: ReportFormat,
    /// Also write comparison.json, .md and .html, and differential flamegraphs between the
    /// runs, into a new folder under DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// The renderings of a saved report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// The one-screen summary.
    Terminal,
    /// report.md: GitHub-readable Markdown.
    #[value(alias = "markdown")]
    Md,
    /// report.html: one self-contained page.
    Html,
    /// report.json: the whole model again, as this build writes it.
    Json,
}

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Readable tables for a terminal.
    #[value(alias = "table")]
    Terminal,
    Json,
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum KernelCommand {
    /// List the variants: what each does, what it needs, whether it runs here.
    List(ListArgs),
    /// Run one variant once and print its checksum, work and time.
    Run(KernelRunArgs),
}

#[derive(Debug, Args)]
pub struct KernelRunArgs {
    /// Variant to run (see `hpc-advisor kernel list`).
    #[arg(long, default_value = "threads+simd")]
    pub variant: String,
    #[command(flatten)]
    pub problem: ProblemArgs,
    #[command(flatten)]
    pub parallel: ParallelArgs,
    /// Also compare the checksum with the reference value when the problem is one of the spec's cases.
    #[arg(long)]
    pub checksum: bool,
    /// Write the field as CSV (j, i, x, y, incident and scattered parts) to this new file.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `hpc-advisor profile --variant NAME [options]` or `hpc-advisor profile [options] -- CMD ARGS...`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Variant of the reference kernel to profile (see `hpc-advisor kernel list`).
    #[arg(long, conflicts_with = "command")]
    pub variant: Option<String>,
    /// Also profile this variant and draw a differential flamegraph: the optimisation's effect.
    #[arg(long, value_name = "VARIANT", requires = "variant")]
    pub diff_against: Option<String>,
    #[command(flatten)]
    pub problem: ProblemArgs,
    #[command(flatten)]
    pub parallel: ParallelArgs,
    /// Samples per second of CPU time asked of the sampler (the kernel tick caps what arrives).
    #[arg(long, value_name = "HZ", default_value_t = DEFAULT_FREQUENCY_HZ)]
    pub frequency: i32,
    /// Repeat the variant until it has run this many seconds, both with and without the sampler.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    pub duration: f64,
    /// Folder that receives the run folder.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub out: PathBuf,
    /// For a command: measure time and memory only, without a second, sampled run.
    #[arg(long, conflicts_with = "variant")]
    pub no_stacks: bool,
    /// The command to profile (with its arguments), after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AnalyseArgs {
    /// A shorter run (15 s budget unless --budget is given): fewer repetitions, shorter profiles.
    #[arg(long)]
    pub quick: bool,
    /// Wall-time budget of the whole run in seconds [default: 60, or 15 with --quick].
    #[arg(long, value_name = "SECONDS")]
    pub budget: Option<f64>,
    /// Folder the run folder `<host>-<UTC timestamp>/` is written into.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub out: PathBuf,
    #[command(flatten)]
    pub problem: ProblemArgs,
    /// Runs of your program for its spread [default: as many as its share of the budget holds, 3 to 10].
    #[arg(long, value_name = "N", requires = "command")]
    pub runs: Option<usize>,
    /// The environment variable your program takes its thread count from (OMP_NUM_THREADS,
    /// NUMBA_NUM_THREADS, ...): it is rerun with 1, 2, ... usable cores [default: one such
    /// variable found in its script].
    #[arg(long, value_name = "VAR", requires = "command")]
    pub threads_env: Option<String>,
    /// Problem sizes to run your program at, substituted for `{n}` in its command, for its
    /// growth exponent: `--sizes 1e5,2e5,4e5 -- python3 fit.py --points {n}`.
    #[arg(long, value_name = "N,N,...", requires = "command")]
    pub sizes: Option<String>,
    /// How your algorithm's cost should grow with the size (1 linear, 2 quadratic).
    #[arg(long, value_name = "K", requires = "sizes")]
    pub expected_order: Option<f64>,
    /// How many independent work items (files, parameter sets) you have to run.
    #[arg(long, value_name = "N", requires = "command")]
    pub items: Option<u64>,
    /// Measure your program without a sampled run (no flamegraph, no hotspot).
    #[arg(long, requires = "command")]
    pub no_stacks: bool,
    /// Your own program and its arguments, after `--`: measured, profiled and advised on too.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

impl AnalyseArgs {
    /// The budget given, or the default of a normal or `--quick` run.
    pub fn budget_seconds(&self) -> anyhow::Result<f64> {
        let default = if self.quick {
            crate::analyse::QUICK_BUDGET_SECONDS
        } else {
            crate::analyse::DEFAULT_BUDGET_SECONDS
        };
        positive_seconds(self.budget.unwrap_or(default))
    }
}

fn positive_seconds(budget: f64) -> anyhow::Result<f64> {
    if budget.is_finite() && budget > 0.0 {
        Ok(budget)
    } else {
        Err(user_error(
            format!("--budget must be a positive number of seconds, not {budget}"),
            "for example --budget 20",
        ))
    }
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Variants to time, comma-separated (default: all registered); naive always runs as the reference.
    #[arg(long, value_delimiter = ',', value_name = "A,B,...")]
    pub variants: Vec<String>,
    #[command(flatten)]
    pub problem: ProblemArgs,
    /// Thread counts of the scaling runs, comma-separated (default: 1, 2, 4, ... up to the usable cores).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub threads: Vec<usize>,
    /// Seconds for the whole benchmark: ceilings, ladder and scaling.
    #[arg(long, default_value_t = 20.0, value_name = "SECONDS")]
    pub budget: f64,
    /// Tables for people or JSON for programs.
    #[arg(long, value_enum, default_value_t = BenchFormat::Table)]
    pub format: BenchFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchFormat {
    Table,
    Json,
}

impl BenchArgs {
    /// The budget in seconds, refused unless positive and finite.
    pub fn budget_seconds(&self) -> anyhow::Result<f64> {
        positive_seconds(self.budget)
    }

    /// The scaling's thread counts (sorted, with 1 first), or `None` for the default series.
    pub fn thread_counts(&self) -> anyhow::Result<Option<Vec<usize>>> {
        if self.threads.is_empty() {
            return Ok(None);
        }
        if self.threads.contains(&0) {
            return Err(user_error(
                "--threads counts must be at least 1",
                "give counts such as --threads 1,2,4",
            ));
        }
        let mut counts = self.threads.clone();
        counts.push(1);
        counts.sort_unstable();
        counts.dedup();
        Ok(Some(counts))
    }
}

/// The scatter problem, as every subcommand that runs the kernel takes it.
#[derive(Debug, Clone, Args)]
pub struct ProblemArgs {
    /// Grid cells along x (nodes: nx + 1).
    #[arg(long, default_value_t = Problem::DEFAULT_CELLS)]
    pub nx: usize,
    /// Grid cells along y (nodes: ny + 1).
    #[arg(long, default_value_t = Problem::DEFAULT_CELLS)]
    pub ny: usize,
    /// Contour segments (ignored for a points file, which sets its own).
    #[arg(long, default_value_t = Problem::DEFAULT_CELLS)]
    pub nc: usize,
    /// Wavelength of the incident wave.
    #[arg(long = "lambda", default_value_t = Problem::DEFAULT_WAVELENGTH, allow_negative_numbers = true)]
    pub wavelength: f64,
    /// Obstacle: `default`, `circle`, `file:PATH` (one `x y` per line), or `X(t); Y(t)`
    /// expressions in t over [0, 1], e.g. "cos(2*pi*t); 0.5*sin(2*pi*t)".
    #[arg(long, default_value = "default", value_name = "SHAPE")]
    pub contour: String,
    /// Run even when the estimated run time or memory is excessive.
    #[arg(long)]
    pub force: bool,
}

/// How much parallelism a run may use.
#[derive(Debug, Clone, Args)]
pub struct ParallelArgs {
    /// Threads for the threaded variants (default: the cores this process may use).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Worker processes for the `processes` variant (default: the cores this process may use).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Compute in single precision on the GPU even where the adapter offers f64
    /// (consumer GPUs run f64 at 1/16 to 1/64 of their f32 speed).
    #[arg(long)]
    pub f32: bool,
}

impl ProblemArgs {
    /// Resolves the arguments into a validated problem.
    pub fn to_problem(&self) -> anyhow::Result<Problem> {
        let contour = parse_contour(&self.contour)?;
        Problem::builder()
            .cells(self.nx, self.ny)
            .segments(self.nc)
            .wavelength(self.wavelength)
            .contour(contour)
            .build()
            .map_err(|e| {
                user_error(
                    format!("invalid problem: {e}"),
                    "sizes must be at least 1 (nc at least 3), the wavelength positive, and the \
                     contour a closed, simple curve; see `hpc-advisor kernel run --help`",
                )
            })
    }
}

impl ParallelArgs {
    pub fn to_settings(&self) -> anyhow::Result<RunSettings> {
        for (flag, value) in [("--threads", self.threads), ("--workers", self.workers)] {
            if value == Some(0) {
                return Err(user_error(
                    format!("{flag} must be at least 1"),
                    format!("leave {flag} out to use every core this process may use"),
                ));
            }
        }
        let mut settings = RunSettings::default();
        settings.threads = self.threads;
        settings.workers = self.workers;
        settings.force_f32 = self.f32;
        // Unset counts default to the cores this process may really use.
        settings.usable_cores = Some(crate::detect::usable_cores());
        Ok(settings)
    }
}

/// The largest points file read as a contour.
const MAX_POINTS_FILE_BYTES: u64 = 64 << 20;

fn parse_contour(text: &str) -> anyhow::Result<Contour> {
    match text.trim() {
        "default" => Ok(Contour::Default),
        "circle" => Ok(Contour::Circle),
        other => {
            if let Some(path) = other.strip_prefix("file:") {
                if std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_POINTS_FILE_BYTES) {
                    return Err(user_error(
                        format!(
                            "the contour file {path} is over {} MiB",
                            MAX_POINTS_FILE_BYTES >> 20
                        ),
                        "a contour needs at most a few thousand `x y` lines",
                    ));
                }
                let contents = std::fs::read_to_string(path).map_err(|e| {
                    user_error(
                        format!("cannot read the contour file {path}: {e}"),
                        "give an existing file of `x y` lines after `file:`",
                    )
                })?;
                Contour::parse_points(&contents).map_err(|e| {
                    user_error(
                        format!("malformed contour file {path}: {e}"),
                        "write one point per line as two numbers `x y` (or `x,y`); `#` starts a comment",
                    )
                })
            } else if let Some((x, y)) = other.split_once(';') {
                Ok(Contour::Parametric {
                    x: x.trim().to_string(),
                    y: y.trim().to_string(),
                })
            } else {
                Err(user_error(
                    format!("unknown contour `{other}`"),
                    "use `default`, `circle`, `file:PATH`, or two expressions in t separated by `;`, \
                     e.g. --contour \"cos(2*pi*t); 0.5*sin(2*pi*t)\"",
                ))
            }
        }
    }
}
