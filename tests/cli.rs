//! The command line as a whole: help, usage errors and their exit codes.

use assert_cmd::Command;

#[test]
fn help_succeeds_and_a_negative_wavelength_is_refused_by_validation() {
    Command::cargo_bin("hpc-advisor")
        .unwrap()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicates::str::contains("analyse"));
    Command::cargo_bin("hpc-advisor")
        .unwrap()
        .args(["kernel", "run", "--lambda", "-1"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "the wavelength must be a positive finite number",
        ));
}

#[test]
fn completions_for_every_shell_and_the_man_page_come_from_the_clap_definitions() {
    for (shell, marker) in [
        ("bash", "complete -F _hpc__advisor"),
        ("zsh", "#compdef hpc-advisor"),
        ("fish", "complete -c hpc-advisor"),
    ] {
        let output = Command::cargo_bin("hpc-advisor")
            .unwrap()
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(output.status.success(), "{shell}");
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(script.contains(marker), "{shell}: {script}");
        // Subcommands' own options are completed too.
        assert!(script.contains("threads-env"), "{shell}");
    }
    Command::cargo_bin("hpc-advisor")
        .unwrap()
        .args(["completions", "tcsh"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("invalid value 'tcsh'"));
    let man = Command::cargo_bin("hpc-advisor")
        .unwrap()
        .arg("man")
        .output()
        .unwrap();
    assert!(man.status.success());
    let page = String::from_utf8(man.stdout).unwrap();
    assert!(page.contains(".TH hpc-advisor 1"), "{page}");
    assert!(page.contains("analyse"), "{page}");
}

#[test]
fn kernel_list_fits_a_100_column_terminal_unless_wide() {
    let list = |extra: &[&str]| {
        let output = Command::cargo_bin("hpc-advisor")
            .unwrap()
            .args(["kernel", "list"])
            .args(extra)
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap()
    };
    let widest = |text: &str| text.lines().map(|l| l.chars().count()).max().unwrap();
    let fitted = list(&[]);
    assert!(widest(&fitted) <= 100, "{fitted}");
    for variant in hpc_kernels::scatter::registry::names() {
        assert!(
            fitted.contains(&format!("│ {variant} ")),
            "{variant} missing:\n{fitted}"
        );
    }
    let wide = list(&["--wide"]);
    assert!(
        widest(&wide) > 100,
        "the descriptions alone are wider than 100 columns"
    );
}

#[test]
fn a_problem_beyond_this_machines_memory_is_refused_even_when_forced() {
    // 400001^2 nodes of two 16-byte fields: about 4768 GiB, beyond any machine this runs on.
    Command::cargo_bin("hpc-advisor")
        .unwrap()
        .args([
            "kernel",
            "run",
            "--variant",
            "simd",
            "--nx",
            "400000",
            "--ny",
            "400000",
        ])
        .arg("--force")
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "4768 GiB (2 fields of 160000800001 grid nodes)",
        ))
        .stderr(predicates::str::contains("this process may use"));
}
