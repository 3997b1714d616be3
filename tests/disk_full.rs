//! A disk that fills while the report is written: a clear error, exit 1, and nothing left behind.
//!
//! Needs a small tmpfs, which only root can mount (CI runs as root, where a container may
//! still forbid it); where it cannot, the test says why it did not run and passes.

use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;
use predicates::prelude::*;

/// A 64 KiB tmpfs at `dir`, unmounted on drop; `None` (with the reason) when it cannot be had.
struct TinyDisk<'a>(&'a Path);

impl<'a> TinyDisk<'a> {
    fn mount(dir: &'a Path) -> Result<TinyDisk<'a>, String> {
        let output = Process::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if output.status.success() {
            Ok(TinyDisk(dir))
        } else {
            Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
        }
    }
}

impl Drop for TinyDisk<'_> {
    fn drop(&mut self) {
        let _ = Process::new("umount").arg(self.0).status();
    }
}

#[test]
fn a_full_disk_while_writing_the_report_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let disk = match TinyDisk::mount(dir.path()) {
        Ok(disk) => disk,
        Err(why) => {
            eprintln!("disk-full test skipped: cannot mount a tmpfs here ({why})");
            return;
        }
    };
    Command::cargo_bin("hpc-advisor")
        .unwrap()
        .args([
            "analyse", "--quick", "--budget", "4", "--nx", "16", "--ny", "16", "--nc", "16",
        ])
        .arg("--out")
        .arg(disk.0)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("No space left on device"));
    let left: Vec<_> = std::fs::read_dir(disk.0).unwrap().collect();
    assert!(left.is_empty(), "the full disk still holds {left:?}");
}
