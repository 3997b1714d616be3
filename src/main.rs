//! The `hpc-advisor` binary: parse the command line, run it, turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = hpc_advisor::cli::Cli::parse();
    match hpc_advisor::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => hpc_advisor::error::report(&error),
    }
}
