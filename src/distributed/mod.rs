//! Running the `mpi` variant the way a site runs MPI: through its launcher, inside its allocation.
//!
//! [`scheduler`] reads the batch allocation, [`launcher`] finds the MPI
//! launcher and builds its command line, [`job`] runs the `mpi` variant as a
//! child job and separates launch cost from compute time. `bench` and
//! `analyse` call [`job::run_mpi_job`].

pub mod job;
pub mod launcher;
pub mod scheduler;

pub use job::{JobError, MpiJob, MpiJobResult, run_mpi_job};
pub use launcher::{
    Host, LaunchCommand, LaunchRequest, Launcher, LauncherKind, MpiImplementation, launch_command,
};
pub use scheduler::{Allocation, Scheduler};
