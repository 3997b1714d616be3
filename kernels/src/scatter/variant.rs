//! What every rung of the ladder has in common: the [`Variant`] trait and its run settings.

use std::ffi::OsString;
use std::time::Duration;

use thiserror::Error;

use super::field::Field;
use super::problem::Problem;

/// One implementation of the scatter kernel.
///
/// Implementations are unit structs listed once in [`super::registry`].
/// `run` must produce the reference's field (see `kernel-spec.md`); the
/// agreement test loops over the registry, so a new variant is checked
/// without new test code.
pub trait Variant: Sync {
    /// Command-line name, e.g. `threads+simd`.
    fn name(&self) -> &'static str;
    /// One line saying what the variant does.
    fn summary(&self) -> &'static str;
    /// The step of the Python training this variant stands for (seed 000).
    fn python_analogue(&self) -> &'static str;
    /// What the variant needs from the machine or the build.
    fn needs(&self) -> &'static str;
    /// Whether this build on this machine can run it, and if not, how to fix that.
    fn availability(&self) -> Availability {
        Availability::Available
    }
    /// Parallel workers (threads, processes or ranks) a run with `settings` uses.
    fn workers(&self, _settings: &RunSettings) -> usize {
        1
    }
    /// Rough cost per pair on one worker of a current x86 core, for run-time estimates only.
    fn nominal_ns_per_pair(&self) -> f64;
    /// Bytes moved to and from memory per pair evaluation (for the roofline's arithmetic intensity).
    fn bytes_per_pair(&self) -> f64;
    /// Computes the field.
    fn run(&self, problem: &Problem, settings: &RunSettings) -> Result<RunOutput, VariantError>;
}

/// Whether a variant can run here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Available,
    /// Not runnable: why, and what the user can do about it.
    Unavailable {
        reason: String,
        hint: String,
    },
}

/// Knobs of a run; variants ignore the ones that do not concern them.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct RunSettings {
    /// Threads for the threaded variants; `None` means every usable core.
    pub threads: Option<usize>,
    /// Worker processes for `processes`; `None` means every usable core.
    pub workers: Option<usize>,
    /// Command that starts one worker process (program first); `None` means
    /// this executable with the `worker` subcommand.
    pub worker_command: Option<Vec<OsString>>,
    /// Cores this process may really use, as the caller detected them
    /// (affinity, cgroup quota, batch allocation); the default for `threads` and `workers`.
    pub usable_cores: Option<usize>,
    /// Use single precision on the GPU even where f64 is offered.
    pub force_f32: bool,
    /// How long the worker processes may all stay silent before they count as hung and are
    /// killed; `None` derives it from the problem's estimated time (30 s plus twenty times it).
    pub worker_timeout: Option<Duration>,
    /// The MPI launch command up to the program (`mpirun -n 2 ...`), for the
    /// rungs that start an MPI job of their own (`py-mpi4py`); `None` skips them.
    pub mpi_launcher: Option<Vec<OsString>>,
}

impl RunSettings {
    /// The thread count to use, resolving `None` to the cores this process may use.
    pub fn resolved_threads(&self) -> usize {
        self.threads.unwrap_or_else(|| self.usable_cores()).max(1)
    }

    /// The worker process count to use, resolving `None` to the cores this process may use.
    pub fn resolved_workers(&self) -> usize {
        self.workers.unwrap_or_else(|| self.usable_cores()).max(1)
    }

    /// The caller's count of usable cores, else the standard library's (which
    /// reads affinity and cgroup quota but rounds a fractional quota down).
    fn usable_cores(&self) -> usize {
        self.usable_cores
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

/// A named part of a run's wall time, e.g. GPU upload or MPI launch.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub name: &'static str,
    pub duration: Duration,
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutput {
    /// The field; `None` on processes that do not hold it (MPI ranks other than 0).
    pub field: Option<Field>,
    /// Timed parts of the run, for variants where the split matters.
    pub phases: Vec<Phase>,
    /// Facts about how the run went, e.g. the SIMD instruction set dispatched.
    pub notes: Vec<String>,
    /// The run's own measurement of its computation, for runs done by another
    /// process (a Python rung): the caller's clock would add the interpreter's
    /// start and the transfer of the field.
    pub own_timing: Option<OwnTiming>,
}

/// Wall and CPU time a run measured around its own computation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OwnTiming {
    pub wall: Duration,
    /// CPU time of every process that computed (`None` when some could not be counted).
    pub cpu: Option<Duration>,
}

impl RunOutput {
    pub fn field(field: Field) -> RunOutput {
        RunOutput {
            field: Some(field),
            phases: Vec::new(),
            notes: Vec::new(),
            own_timing: None,
        }
    }

    pub fn with_note(mut self, note: impl Into<String>) -> RunOutput {
        self.notes.push(note.into());
        self
    }
}

/// Why a variant did not produce a field.
#[derive(Debug, Error)]
pub enum VariantError {
    #[error("variant `{variant}` is not available: {reason}")]
    Unavailable {
        variant: &'static str,
        reason: String,
        hint: String,
    },
    #[error("variant `{variant}` failed: {message}")]
    Failed {
        variant: &'static str,
        message: String,
    },
}

impl VariantError {
    /// A run of `variant` that failed, and why.
    pub fn failed(variant: &'static str, message: impl Into<String>) -> VariantError {
        VariantError::Failed {
            variant,
            message: message.into(),
        }
    }

    /// The hint that tells the user how to fix an unavailable variant.
    pub fn hint(&self) -> Option<&str> {
        match self {
            VariantError::Unavailable { hint, .. } => Some(hint),
            VariantError::Failed { .. } => None,
        }
    }
}
