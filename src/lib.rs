//! hpc-advisor: which optimisation strategy pays off on this machine, proven by measurement.
//!
//! The binary's subcommands are thin: each resolves its clap arguments
//! ([`cli`]) and calls one module here. `analyse` orchestrates the others.

pub mod advise;
pub mod analyse;
pub mod bench;
pub mod cli;
mod commands;
pub mod compare;
pub mod detect;
pub mod distributed;
pub mod error;
pub mod fact;
pub mod interrupt;
pub mod output;
pub mod profile;
pub mod report;
pub mod versioned_json;

use cli::{Cli, Command};

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Kernel(command) => commands::kernel::run(command),
        Command::Advise(args) => commands::advise::run(&args),
        Command::Analyse(args) => commands::analyse::run(&args),
        Command::Worker(args) => commands::worker::run(&args),
        Command::RankProbe(args) => profile::ranks::probe(&args.dir, args.sample, &args.command),
        Command::Detect(args) => commands::detect::run(&args),
        Command::Profile(args) => commands::profile::run(&args),
        Command::Bench(args) => commands::bench::run(&args),
        Command::Report(args) => commands::report::run(&args),
        Command::Compare(args) => commands::compare::run(&args),
        Command::Completions(args) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut command, "hpc-advisor", &mut script);
            print_whole(&script)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut page)?;
            print_whole(&page)
        }
        Command::Noop => Ok(()),
    }
}

/// Writes generated text to stdout; a closed pipe (`| head`) is an error the caller maps to success.
fn print_whole(text: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text)?;
    stdout.flush()?;
    Ok(())
}
