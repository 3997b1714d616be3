//! The user's program in words: one list of labelled figures that every renderer draws.
//!
//! `analyse -- CMD` measures the program (`crate::profile::program`); this
//! turns the study into lines like "5 runs: median 412 ms, spread 1.2%", so
//! the terminal, Markdown and HTML say the same thing and no renderer
//! computes a figure.

use crate::advise::reading::Unit;
use crate::fact::Fact;
use crate::profile::external::StackSampling;
use crate::profile::program::ProgramStudyRecord;
use crate::profile::ranks::RankStudy;

/// `(label, text)` for each figure of the study, in reading order.
pub fn program_figures(study: &ProgramStudyRecord) -> Vec<(&'static str, String)> {
    let typical = &study.typical;
    let seconds = |s: f64| Unit::Seconds.format(s);
    let mut figures = vec![
        (
            "command",
            format!("`{}` ({})", study.studied_command.join(" "), study.language),
        ),
        (
            "runs",
            format!(
                "{} run(s): median {}, spread {}",
                study.runs.len(),
                seconds(typical.wall_seconds),
                match &study.run_spread {
                    Fact::Known(spread) => Unit::Fraction.format(*spread),
                    Fact::Unknown(why) => format!("unknown ({why})"),
                }
            ),
        ),
        (
            "CPU",
            format!(
                "user {}, system {}: {} busy on average; {}",
                seconds(typical.user_seconds),
                seconds(typical.system_seconds),
                Unit::Cores.format(typical.cpu_utilisation),
                typical.character.describe()
            ),
        ),
        (
            "storage",
            format!(
                "read {}, wrote {} (blocks from and to storage; page-cache hits do not count)",
                Unit::Bytes.format(typical.storage_read_bytes as f64),
                Unit::Bytes.format(typical.storage_written_bytes as f64)
            ),
        ),
        (
            "memory",
            format!(
                "peak resident {}; {} voluntary and {} involuntary context switches",
                Unit::Bytes.format(typical.peak_rss_bytes as f64),
                typical.voluntary_context_switches,
                typical.involuntary_context_switches
            ),
        ),
        ("profile", profile_text(study)),
    ];
    figures.push((
        "scaling",
        match &study.scaling {
            Fact::Known(scaling) => {
                let points: Vec<String> = scaling
                    .points
                    .iter()
                    .map(|p| {
                        format!(
                            "{}={}: {}",
                            scaling.variable,
                            p.threads,
                            seconds(p.wall_seconds)
                        )
                    })
                    .collect();
                format!(
                    "{}: {} on {}, efficiency {}, serial fraction {} ({})",
                    points.join(", "),
                    Unit::Times.format(scaling.speedup),
                    Unit::Threads.format(scaling.points.last().map_or(1.0, |p| p.threads as f64)),
                    Unit::Fraction.format(scaling.efficiency),
                    match &scaling.serial_fraction {
                        Fact::Known(f) => Unit::Fraction.format(*f),
                        Fact::Unknown(why) => format!("unknown ({why})"),
                    },
                    scaling.chosen_because
                )
            }
            Fact::Unknown(why) => why.clone(),
        },
    ));
    figures.push((
        "growth",
        match &study.growth {
            Fact::Known(growth) => {
                let points: Vec<String> = growth
                    .points
                    .iter()
                    .map(|p| format!("{}: {}", p.argument, seconds(p.wall_seconds)))
                    .collect();
                format!(
                    "{}: time grows as size^{}; expected {}",
                    points.join(", "),
                    Unit::Exponent.format(growth.exponent),
                    match &study.expected_order {
                        Fact::Known(order) => Unit::Exponent.format(*order),
                        Fact::Unknown(why) => format!("unknown ({why})"),
                    }
                )
            }
            Fact::Unknown(why) => why.clone(),
        },
    ));
    if let Fact::Known(ranks) = &study.ranks {
        figures.push(("ranks", ranks_text(ranks)));
    }
    figures.push((
        "work items",
        match &study.work_items {
            Fact::Known(items) => format!(
                "{items}: {} each at the median wall time",
                seconds(typical.wall_seconds / (*items).max(1) as f64)
            ),
            Fact::Unknown(why) => why.clone(),
        },
    ));
    figures
}

/// Each rank's wall, CPU and time in MPI, then the imbalance.
fn ranks_text(study: &RankStudy) -> String {
    let seconds = |s: f64| Unit::Seconds.format(s);
    let ranks: Vec<String> = study
        .ranks
        .iter()
        .map(|r| {
            let hottest = r
                .hotspots
                .iter()
                .max_by_key(|h| h.self_samples)
                .map(|h| format!(", hottest `{}`", h.function))
                .unwrap_or_default();
            format!(
                "rank {} on {}: wall {}, CPU {} ({} busy), in MPI {}{hottest}",
                r.rank,
                r.host,
                seconds(r.facts.wall_seconds),
                seconds(r.cpu_seconds()),
                Unit::Cores.format(r.facts.cpu_utilisation),
                match &r.mpi_share {
                    Fact::Known(share) => format!("{} of samples", Unit::Fraction.format(*share)),
                    Fact::Unknown(why) => format!("unknown ({why})"),
                },
            )
        })
        .collect();
    format!(
        "{} under `{}`: {}; imbalance {} (the busiest rank's work over the mean, counting {})",
        study.ranks.len(),
        study.launcher.join(" "),
        ranks.join("; "),
        Unit::Fraction.format(study.imbalance),
        study.imbalance_of
    )
}

fn profile_text(study: &ProgramStudyRecord) -> String {
    match &study.sampling {
        StackSampling::Sampled { tool } => {
            let mut by_self: Vec<_> = study.hotspots.iter().collect();
            by_self.sort_by_key(|h| std::cmp::Reverse(h.self_samples));
            let hottest: Vec<String> = by_self
                .iter()
                .take(3)
                .map(|h| format!("`{}` {}", h.function, Unit::Fraction.format(h.self_share)))
                .collect();
            format!(
                "{} samples by {tool}; most self time: {}",
                study.samples.unwrap_or(0),
                hottest.join(", ")
            )
        }
        StackSampling::Unavailable { reason, hint } => {
            format!("no stacks: {reason}; to enable: {hint}")
        }
        StackSampling::Skipped => "no stacks: --no-stacks was given".to_string(),
    }
}
