//! `hpc-advisor kernel run --variant gpu` from the terminal: phases and precision printed,
//! no driver noise on stderr, and a clean error with a hint where no adapter exists.
#![cfg(feature = "gpu")]

use assert_cmd::Command;
use predicates::prelude::*;

fn kernel_run(extra: &[&str]) -> Command {
    let mut command = Command::cargo_bin("hpc-advisor").unwrap();
    command
        .args([
            "kernel",
            "run",
            "--variant",
            "gpu",
            "--nx",
            "16",
            "--ny",
            "16",
            "--nc",
            "16",
        ])
        .args(extra)
        // The environment of a container or CI job, where Mesa would print its noise.
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("NODEVICE_SELECT");
    command
}

#[test]
fn gpu_run_prints_its_phases_and_precision_and_keeps_stderr_clean() {
    let probe = kernel_run(&[]).output().unwrap();
    if String::from_utf8_lossy(&probe.stderr).contains("no GPU adapter") {
        assert!(
            std::env::var_os("HPC_REQUIRE_GPU").is_none(),
            "HPC_REQUIRE_GPU is set but no adapter was found"
        );
        return;
    }
    for (flags, precision) in [
        (&[][..], "precision: f"),
        (&["--f32"][..], "precision: f32"),
    ] {
        kernel_run(flags)
            .assert()
            .success()
            .stdout(predicate::str::contains("phase        upload"))
            .stdout(predicate::str::contains("phase        compute"))
            .stdout(predicate::str::contains("phase        download"))
            .stdout(predicate::str::contains(precision))
            .stderr(predicate::str::contains("XDG_RUNTIME_DIR").not());
    }
}

#[test]
fn without_a_driver_the_gpu_variant_is_a_clean_user_error() {
    kernel_run(&[])
        .env("VK_ICD_FILENAMES", "/nonexistent")
        .env("VK_DRIVER_FILES", "/nonexistent")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no GPU adapter"))
        .stderr(predicate::str::contains("hint:"))
        .stderr(predicate::str::contains("panicked").not());
}
