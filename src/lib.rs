//! hpc-advisor: which optimisation strategy pays off on this machine, proven by measurement.
//!
//! The binary's subcommands are thin: each resolves its clap arguments
//! ([`cli`]) and calls one module here. `analyse` orchestrates the others.

pub mod bench;
pub mod cli;
mod commands;
pub mod error;
pub mod output;

use cli::{Cli, Command};

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Kernel(command) => commands::kernel::run(command),
        Command::Bench(args) => commands::bench::run(&args),
        Command::Noop => Ok(()),
    }
}
