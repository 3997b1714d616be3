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
