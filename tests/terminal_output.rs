//! What the tool prints fits a 100-column terminal, and carries no colour codes under NO_COLOR.

use assert_cmd::Command;

const COLUMNS: usize = 100;

fn report() -> String {
    format!(
        "{}/tests/fixtures/report/report.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn folder() -> String {
    format!("{}/tests/fixtures/report", env!("CARGO_MANIFEST_DIR"))
}

/// The commands that print tables, each quick.
fn commands() -> Vec<Vec<String>> {
    let words = |text: &str| {
        text.split_whitespace()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    vec![
        words("kernel list"),
        words("detect"),
        words("bench --budget 2 --nx 16 --ny 16 --nc 16 --variants naive,fused,simd"),
        vec!["report".into(), "--from".into(), report()],
        vec!["compare".into(), folder(), folder()],
    ]
}

fn run(args: &[String]) -> (String, String) {
    let output = Command::cargo_bin("hpc-advisor")
        .unwrap()
        .args(args)
        .env("COLUMNS", COLUMNS.to_string())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn every_table_fits_a_100_column_terminal_and_nothing_is_coloured() {
    let mut tables = 0;
    for args in commands() {
        let (stdout, stderr) = run(&args);
        for line in stdout
            .lines()
            .filter(|l| l.starts_with(['│', '┌', '├', '└']))
        {
            tables += 1;
            assert!(
                line.chars().count() <= COLUMNS,
                "{args:?}: a table line of {} columns:\n{line}",
                line.chars().count()
            );
        }
        for (stream, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            assert!(
                !text.contains('\u{1b}'),
                "{args:?}: an escape code on {stream}"
            );
        }
    }
    assert!(
        tables > 100,
        "the commands printed only {tables} table lines"
    );
}

#[test]
fn wide_asks_for_the_whole_lines() {
    let (stdout, _) = run(&["kernel".into(), "list".into(), "--wide".into()]);
    let widest = stdout.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest > COLUMNS, "--wide printed at most {widest} columns");
}
