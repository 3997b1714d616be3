//! The `bench` subcommand end to end: JSON shape on a tiny problem, and clear errors for bad input.

use assert_cmd::Command;
use predicates::str::contains;

fn hpc_advisor() -> Command {
    Command::cargo_bin("hpc-advisor").unwrap()
}

#[test]
fn bench_prints_ladder_ceilings_and_scaling_as_json() {
    let output = hpc_advisor()
        .args(["bench", "--nx", "16", "--ny", "16", "--nc", "16"])
        .args(["--variants", "fused,threads+fused", "--threads", "1,2"])
        .args(["--budget", "2", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let entries = report["ladder"]["entries"].as_array().unwrap();
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["variant"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["naive", "fused", "threads+fused"]);
    for entry in entries {
        assert_eq!(entry["outcome"]["status"], "measured", "{entry}");
        assert_eq!(
            entry["outcome"]["measurement"]["agreement"]["within_tolerance"],
            true
        );
    }
    assert!(entries[1]["outcome"]["speedup"]["median"].is_number());
    assert!(!report["ceilings"]["fma"].as_array().unwrap().is_empty());
    assert_eq!(report["ceilings"]["bandwidth"].as_array().unwrap().len(), 3);
    assert_eq!(report["ceilings"]["overheads"].as_array().unwrap().len(), 4);
    let threads = report["scaling"]["threads"].as_array().unwrap();
    assert_eq!(threads[0]["variant"], "threads+fused");
    assert_eq!(threads[0]["points"].as_array().unwrap().len(), 2);
    assert_eq!(
        report["scaling"]["size"]["points"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(report["scaling"]["roofline"].as_array().unwrap().len(), 3);
}

#[test]
fn bench_prints_all_three_parts_as_tables() {
    let output = hpc_advisor()
        .args(["bench", "--nx", "12", "--ny", "12", "--nc", "12"])
        .args(["--variants", "threads+fused", "--budget", "1"])
        // Wide enough that no header wraps (tests/terminal_output.rs checks 100 columns).
        .env("COLUMNS", "400")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    for heading in [
        "Ladder: 12x12 cells",
        "speedup vs naive",
        "Ceilings",
        "fma 64-bit",
        "triad dram",
        "per-task overhead",
        "process spawn",
        "Thread scaling",
        "Amdahl serial fraction",
        "Problem-size scaling",
        "growth exponent",
        "Roofline",
    ] {
        assert!(text.contains(heading), "missing `{heading}` in:\n{text}");
    }
    // Progress goes to stderr only, and is hidden when stderr is not a terminal.
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn bad_bench_arguments_are_user_errors_with_hints() {
    for (args, message) in [
        (vec!["--budget", "0"], "--budget must be a positive number"),
        (vec!["--variants", "nope"], "unknown variant `nope`"),
        (
            vec!["--threads", "0,2"],
            "--threads counts must be at least 1",
        ),
    ] {
        hpc_advisor()
            .arg("bench")
            .args(&args)
            .assert()
            .code(1)
            .stderr(contains(message))
            .stderr(contains("hint:"))
            .stdout("");
    }
}

#[test]
fn the_hidden_noop_subcommand_does_nothing() {
    hpc_advisor().arg("noop").assert().success().stdout("");
}
