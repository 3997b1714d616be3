//! Without the `mpi` feature, asking for the `mpi` variant says how to build it.
#![cfg(not(feature = "mpi"))]

use std::process::Command;

#[test]
fn the_mpi_variant_says_how_to_enable_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_hpc-advisor"))
        .args([
            "kernel",
            "run",
            "--variant",
            "mpi",
            "--nx",
            "8",
            "--ny",
            "8",
            "--nc",
            "8",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no MPI support"), "{stderr}");
    assert!(
        stderr.contains("hint: rebuild with `cargo build --release --features mpi`"),
        "{stderr}"
    );
    assert!(stderr.contains("apt-get install -y libopenmpi-dev openmpi-bin libclang-dev clang"));
}
