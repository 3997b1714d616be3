//! `kernel run --variant mpi` outside a launcher: the error says what to do, with or without the feature.

use std::process::Command;

#[test]
fn the_mpi_variant_explains_why_it_cannot_run_here() {
    let output = Command::new(env!("CARGO_BIN_EXE_hpc-advisor"))
        .args(["kernel", "run", "--variant", "mpi"])
        .args(["--nx", "8", "--ny", "8", "--nc", "8"])
        .env_remove("OMPI_COMM_WORLD_SIZE")
        .env_remove("PMI_SIZE")
        .env_remove("PMIX_SIZE")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    if cfg!(feature = "mpi") {
        assert!(
            stderr.contains("not started by an MPI launcher"),
            "{stderr}"
        );
        assert!(stderr.contains("hint: run `mpirun -n 2"), "{stderr}");
    } else {
        assert!(stderr.contains("no MPI support"), "{stderr}");
        assert!(
            stderr.contains("hint: rebuild with `cargo build --release --features mpi`"),
            "{stderr}"
        );
        assert!(
            stderr.contains("apt-get install -y libopenmpi-dev openmpi-bin libclang-dev clang")
        );
    }
}
