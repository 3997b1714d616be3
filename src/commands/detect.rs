//! `hpc-advisor detect`: the machine's capabilities as grouped tables, JSON or Markdown.

use std::io::{self, Write};

use crate::cli::{DetectArgs, OutputFormat};
use crate::detect;
use crate::detect::summary::{binding_summary, sections};

pub fn run(args: &DetectArgs) -> anyhow::Result<()> {
    let machine = detect::detect();
    let mut out = io::stdout().lock();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &machine)?;
            writeln!(out)?;
        }
        OutputFormat::Terminal => {
            writeln!(out, "{}\n", binding_summary(&machine))?;
            for section in sections(&machine) {
                writeln!(out, "{}", section.title)?;
                writeln!(out, "{}\n", section.render(false))?;
            }
        }
        OutputFormat::Markdown => {
            writeln!(out, "# Machine\n\n**{}**\n", binding_summary(&machine))?;
            for section in sections(&machine) {
                writeln!(out, "## {}\n", section.title)?;
                writeln!(out, "{}\n", section.render(true))?;
            }
        }
    }
    Ok(())
}
