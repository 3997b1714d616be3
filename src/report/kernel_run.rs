//! The report `kernel run` prints, line by line, and how a launcher reads one printed by another process.
//!
//! `kernel run` writes `label value` lines ([`report_line`]); the MPI job
//! (`src/distributed/job.rs`) starts `kernel run` on every rank and reads rank
//! 0's lines back ([`parse_report`]): its checksum, the timed phases and the
//! notes. Both sides use this one module, below the command glue.

use std::fmt::Display;
use std::io::{self, Write};
use std::time::Duration;

/// Width of the label column of the `kernel run` report.
const LABEL_WIDTH: usize = 12;

/// One `label value` line of the `kernel run` report; [`parse_report`] reads them back.
pub fn report_line(out: &mut impl Write, label: &str, value: impl Display) -> io::Result<()> {
    writeln!(out, "{label:<LABEL_WIDTH$} {value}")
}

/// What a launcher's caller needs from a `kernel run` report printed by another process.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunReport {
    pub checksum: Option<f64>,
    /// `(phase name, duration)` in the order printed.
    pub phases: Vec<(String, Duration)>,
    /// The `note` lines, in the order printed.
    pub notes: Vec<String>,
}

impl RunReport {
    pub fn phase(&self, name: &str) -> Option<Duration> {
        self.phases.iter().find(|(n, _)| n == name).map(|(_, d)| *d)
    }
}

/// Reads the checksum, phase and note lines of a `kernel run` report; other lines are ignored.
pub fn parse_report(text: &str) -> RunReport {
    let mut report = RunReport::default();
    for line in text.lines() {
        let Some((label, value)) = line.split_at_checked(LABEL_WIDTH + 1) else {
            continue;
        };
        match label.trim_end() {
            "checksum" => report.checksum = value.trim().parse().ok(),
            "phase" => {
                let parsed = value.rsplit_once(": ").and_then(|(name, time)| {
                    let ms: f64 = time.strip_suffix(" ms")?.trim().parse().ok()?;
                    Some((
                        name.to_string(),
                        Duration::try_from_secs_f64(ms * 1e-3).ok()?,
                    ))
                });
                report.phases.extend(parsed);
            }
            "note" => report.notes.push(value.trim().to_string()),
            _ => {}
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines_are_read_back() {
        let mut text = Vec::new();
        report_line(&mut text, "variant", "mpi").unwrap();
        report_line(
            &mut text,
            "checksum",
            format_args!("{:.10}", 4686.339327725555),
        )
        .unwrap();
        report_line(&mut text, "phase", "mpi init: 235.151 ms").unwrap();
        report_line(&mut text, "phase", "compute: 75.456 ms").unwrap();
        report_line(&mut text, "note", "2 ranks x 1 threads").unwrap();
        let report = parse_report(&String::from_utf8(text).unwrap());
        assert!((report.checksum.unwrap() - 4686.339327725555).abs() < 1e-9);
        assert_eq!(report.phases.len(), 2);
        assert_eq!(report.phase("compute"), Some(Duration::from_micros(75_456)));
        assert_eq!(
            report.phase("mpi init"),
            Some(Duration::from_micros(235_151))
        );
        assert_eq!(report.phase("gather"), None);
        assert_eq!(parse_report("garbage\nchecksum\n"), RunReport::default());
    }
}
