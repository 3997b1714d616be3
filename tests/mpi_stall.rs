//! An `mpirun` that never starts its ranks: `analyse` kills it at the MPI stage's deadline,
//! records the stage as failed with the reason, completes the rest, and leaves nothing running.
//!
//! A fake `mpirun` first on the PATH answers detection, the launch check and the
//! ceilings' `mpirun -n 1 noop` through the real one, and hangs (`sleep`) for the
//! job itself, as a launcher does whose ranks never get their slots. Needs the
//! `mpi` feature and Open MPI (`.ci/run` installs both).
#![cfg(feature = "mpi")]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use hpc_advisor::report::{Report, StageOutcome};

const BINARY: &str = env!("CARGO_BIN_EXE_hpc-advisor");
/// Marks the fake launcher's hanging process, so the test can look for survivors.
const HANG_MARKER: &str = "4242.17";

/// Writes the fake `mpirun` into `folder`, delegating to `real` except for the job.
fn fake_mpirun(folder: &Path, real: &Path) {
    let script = format!(
        "#!/bin/sh\n\
         # The job runs `hpc-advisor kernel run` on each rank: that one never starts.\n\
         case \" $* \" in\n\
         *\" kernel run \"*) exec sleep {HANG_MARKER} ;;\n\
         esac\n\
         exec {} \"$@\"\n",
        real.display()
    );
    let path = folder.join("mpirun");
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Processes whose command line holds `text`.
fn processes_running(text: &str) -> Vec<String> {
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| fs::read(entry.ok()?.path().join("cmdline")).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).replace('\0', " "))
        .filter(|line| line.contains(text))
        .collect()
}

#[test]
fn a_launcher_that_never_starts_its_ranks_is_killed_at_the_stage_deadline() {
    let Some(real) = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|dir| dir.join("mpirun"))
        .find(|path| path.is_file())
    else {
        assert!(
            std::env::var_os("HPC_REQUIRE_MPI").is_none(),
            "HPC_REQUIRE_MPI is set but no mpirun is on the PATH"
        );
        eprintln!("skipped: no mpirun on the PATH (apt-get install openmpi-bin)");
        return;
    };
    let fake = tempfile::tempdir().unwrap();
    fake_mpirun(fake.path(), &real);
    let path = std::env::join_paths(
        std::iter::once(fake.path().to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = Command::new(BINARY)
        // A budget that leaves the MPI stage its share after the earlier stages, even in a
        // debug build on a loaded runner (a quick run's 15 s can be spent before it).
        .args(["analyse", "--quick", "--budget", "45", "--out"])
        .arg(out.path())
        .env("PATH", &path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");

    // The stage failed with the reason, at its deadline (at least ten seconds, three times
    // the stage's share).
    let folder = fs::read_dir(out.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.is_dir())
        .expect("a run folder");
    let report =
        Report::from_json(&fs::read_to_string(folder.join("report.json")).unwrap()).unwrap();
    let mpi = report
        .stages
        .iter()
        .find(|stage| stage.name == "mpi")
        .expect("an mpi stage");
    match &mpi.outcome {
        StageOutcome::Failed { error } => {
            assert!(error.contains("did not finish within"), "{error}");
            assert!(error.contains("killed"), "{error}");
        }
        other => panic!("the mpi stage should have failed: {other:?}"),
    }
    assert!(
        (9.0..45.0).contains(&mpi.seconds),
        "killed at the deadline: {} s",
        mpi.seconds
    );
    // The rest of the analysis went on: the recommendation is there.
    assert!(
        report.stages.iter().any(|stage| stage.name == "advise"
            && matches!(stage.outcome, StageOutcome::Completed)),
        "{:?}",
        report.stages
    );
    assert!(took < Duration::from_secs(150), "{took:?}");
    // Nothing of the job is left.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(processes_running(HANG_MARKER), Vec::<String>::new());
}
