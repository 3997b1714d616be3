//! The `hpc-advisor` binary: parse the command line, run it, turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;
use hpc_advisor::profile::memory::CountingAllocator;

/// Counts every heap allocation, so `profile` can report a run's allocations and peak heap.
#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn main() -> ExitCode {
    // SAFETY: first statement of `main`, before any thread exists (see the function's docs).
    unsafe { hpc_kernels::gpu::quiet_driver_environment() };
    let cli = match hpc_advisor::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print and succeed; a bad command line is a user error (exit 1).
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if let Some(python) = &cli.python {
        hpc_kernels::scatter::variants::python::interpreter::use_interpreter(python.clone().into());
    }
    // Ctrl-C and SIGTERM kill the run's child processes and remove its unfinished folder.
    if let Err(error) = hpc_advisor::interrupt::install() {
        eprintln!("warning: interrupts will not clean up after the run: {error}");
    }
    let outcome = hpc_advisor::run(cli);
    // A run cut short by Ctrl-C ends with the interrupt's exit code and message, not its own.
    hpc_advisor::interrupt::wait_if_interrupted();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => hpc_advisor::error::report(&error),
    }
}
