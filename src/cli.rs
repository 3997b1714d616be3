//! The command-line interface as clap types; the only module that knows about clap.
//!
//! Each subcommand's arguments are resolved here into the library's own
//! settings types, so nothing below this module imports clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use hpc_kernels::scatter::{Contour, Problem, RunSettings};

use crate::error::user_error;

#[derive(Debug, Parser)]
#[command(name = "hpc-advisor", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List or run the reference kernel's variants.
    #[command(subcommand)]
    Kernel(KernelCommand),
}

#[derive(Debug, Subcommand)]
pub enum KernelCommand {
    /// List the variants: what each does, what it needs, whether it runs here.
    List,
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
    #[arg(long = "lambda", default_value_t = Problem::DEFAULT_WAVELENGTH)]
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
        Ok(settings)
    }
}

fn parse_contour(text: &str) -> anyhow::Result<Contour> {
    match text.trim() {
        "default" => Ok(Contour::Default),
        "circle" => Ok(Contour::Circle),
        other => {
            if let Some(path) = other.strip_prefix("file:") {
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
