//! `hpc-advisor profile`, end to end: run folders, flamegraphs, JSON, command facts and errors.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use hpc_advisor::profile::external::ProgramCharacter;
use hpc_advisor::profile::folded::FoldedStacks;
use hpc_advisor::profile::record::{CommandProfileRecord, VariantProfilesRecord};
use hpc_kernels::scatter::{Contour, Problem, RunSettings, registry};
use quick_xml::Reader;
use quick_xml::events::Event;

fn hpc_advisor() -> Command {
    Command::cargo_bin("hpc-advisor").unwrap()
}

/// The one run folder written into `out`.
fn run_folder(out: &Path) -> PathBuf {
    let entries: Vec<PathBuf> = fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "exactly one run folder: {entries:?}");
    entries.into_iter().next().unwrap()
}

/// Parses an SVG as XML (failing on malformed XML) and returns its text content.
fn svg_text(path: &Path) -> String {
    let svg = fs::read_to_string(path).unwrap();
    let mut reader = Reader::from_str(&svg);
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Text(t)) => text.push_str(&t.decode().unwrap()),
            Ok(_) => {}
            Err(e) => panic!("{} is not valid XML: {e}", path.display()),
        }
    }
    text
}

/// A square contour with 16 points per side: with a tiny wavelength, almost
/// every node is inside, so the inside test holds a clear share of the samples.
fn square_contour(dir: &Path) -> PathBuf {
    let mut lines = String::new();
    let side = 16;
    for k in 0..4 * side {
        let t = (k % side) as f64 / side as f64 * 2.0 - 1.0;
        let (x, y) = match k / side {
            0 => (t, -1.0),
            1 => (1.0, t),
            2 => (-t, 1.0),
            _ => (-1.0, -t),
        };
        lines.push_str(&format!("{x} {y}\n"));
    }
    let path = dir.join("square.txt");
    fs::write(&path, lines).unwrap();
    path
}

#[test]
fn naive_profile_names_the_kernel_functions_and_counts_its_allocations() {
    let dir = tempfile::tempdir().unwrap();
    let contour = square_contour(dir.path());
    let out = dir.path().join("reports");
    let assert = hpc_advisor()
        .args([
            "profile",
            "--variant",
            "naive",
            "--nx",
            "256",
            "--ny",
            "256",
        ])
        .args(["--lambda", "0.0001", "--duration", "1.5", "--out"])
        .arg(&out)
        .arg(format!("--contour=file:{}", contour.display()))
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.contains("naive::hankel_functions"), "{stdout}");
    let folder = run_folder(&out);

    let text = svg_text(&folder.join("naive.svg"));
    for function in [
        "hpc_kernels::scatter::variants::naive::is_inside_contour",
        "hpc_kernels::scatter::variants::naive::compute_scattered_wave_element",
        "hpc_kernels::scatter::variants::naive::hankel_functions",
    ] {
        assert!(
            text.contains(function),
            "{function} missing from the flamegraph"
        );
    }
    assert!(
        text.contains("naive on 256x256 cells, 64 segments"),
        "title names variant and problem"
    );

    let folded = fs::read_to_string(folder.join("naive.folded")).unwrap();
    let stacks = FoldedStacks::parse(&folded).unwrap();
    assert_eq!(stacks.to_text(), folded, "the written stacks round-trip");

    let record: VariantProfilesRecord =
        serde_json::from_slice(&fs::read(folder.join("profile.json")).unwrap()).unwrap();
    let profile = &record.profiles[0];
    assert_eq!(profile.samples.total, stacks.total());
    assert!(profile.memory.counting);
    assert!(
        profile.memory.allocations_per_pair > 1.0,
        "{:?}",
        profile.memory
    );
    // Counting allocations must not show: no counter, atomic or allocator frame in the top ten.
    for hotspot in profile.hotspots.iter().take(10) {
        let name = &hotspot.function;
        assert!(
            !["profile::memory", "atomic", "malloc", "free"]
                .iter()
                .any(|allocator| name.contains(allocator)),
            "allocator frame {name} among the top ten: {:?}",
            profile.hotspots
        );
    }
    // The sampler's overhead: interleaved pairs with an interval, never printed as a negative figure.
    let overhead = &profile.overhead;
    assert!(overhead.pair_relative_cpu.len() >= 4, "{overhead:?}");
    assert!(overhead.relative_cpu_interval.is_some(), "{overhead:?}");
    let line = stdout
        .lines()
        .find(|line| line.starts_with("overhead"))
        .expect("an overhead line");
    let figure = line.trim_start_matches("overhead").trim_start();
    assert!(
        figure.starts_with("within noise (±") || figure.starts_with('+'),
        "{line}"
    );
    assert_eq!(
        figure.starts_with("within noise"),
        overhead.relative_cpu_interval.unwrap().low <= 0.0
    );

    let hankel = profile
        .hotspots
        .iter()
        .find(|h| h.function.ends_with("naive::hankel_functions"))
        .expect("hankel_functions is a hotspot");
    // The pairs of the same problem, counted by another variant's field.
    let problem = Problem::builder()
        .cells(256, 256)
        .wavelength(0.0001)
        .contour(Contour::parse_points(&fs::read_to_string(&contour).unwrap()).unwrap())
        .build()
        .unwrap();
    let field = registry::find("fused")
        .unwrap()
        .run(&problem, &RunSettings::default())
        .unwrap()
        .field
        .unwrap();
    let pairs = field.outside_nodes() as u64 * problem.nc() as u64;
    assert!(pairs > 0);
    assert_eq!(
        hankel.calls,
        Some(pairs * u64::from(profile.samples.repetitions)),
        "one Hankel evaluation per pair and run"
    );
    let counted_pairs =
        profile.memory.allocated_bytes as f64 / profile.memory.allocated_bytes_per_pair;
    assert_eq!(
        counted_pairs.round() as u64,
        pairs,
        "the record's pair count"
    );
}

/// The SIMD kernel inlines everything into one function: its samples must still
/// land on the kernel's own functions and lines, not on one intrinsic's name.
#[test]
fn simd_profile_names_kernel_functions_and_lines_not_intrinsics() {
    let out = tempfile::tempdir().unwrap();
    let assert = hpc_advisor()
        .args(["profile", "--variant", "simd", "--duration", "1.5", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    let folder = run_folder(out.path());
    let record: VariantProfilesRecord =
        serde_json::from_slice(&fs::read(folder.join("profile.json")).unwrap()).unwrap();
    let profile = &record.profiles[0];
    let intrinsic = |name: &str| {
        ["core_arch::", "pulp::", "core::core_arch::"]
            .iter()
            .any(|prefix| name.trim_start_matches('<').starts_with(prefix))
    };
    for hotspot in &profile.hotspots {
        assert!(!intrinsic(&hotspot.function), "{:?}", profile.hotspots);
    }
    let text = svg_text(&folder.join("simd.svg"));
    assert!(
        !text.contains("_mm512_"),
        "no intrinsic frame in the flamegraph"
    );
    // The samples spread over several kernel functions (pprof alone put ~97 % in one).
    let top_self = profile
        .hotspots
        .iter()
        .map(|h| h.self_share)
        .fold(0.0, f64::max);
    assert!(top_self < 0.9, "{:?}", profile.hotspots);

    // Hot lines: kernel files with a line (or the merged code), shares that add up to at most all.
    assert!(!profile.hot_lines.is_empty(), "{stdout}");
    let total: f64 = profile.hot_lines.iter().map(|line| line.share).sum();
    assert!(
        total > 0.3 && total <= 1.0 + 1e-9,
        "{:?}",
        profile.hot_lines
    );
    for line in &profile.hot_lines {
        assert!(line.location.starts_with("scatter/"), "{line:?}");
        let function = line.function.trim_start_matches('<');
        assert!(function.starts_with("hpc_kernels::"), "{line:?}");
        assert!(line.code.is_some(), "the sources are here: {line:?}");
    }
    assert!(
        profile
            .hot_lines
            .iter()
            .any(|line| line.location.starts_with("scatter/variants/simd/")),
        "{:?}",
        profile.hot_lines
    );
    assert!(stdout.contains("hot lines"), "{stdout}");
}

#[test]
fn differential_profile_compares_two_variants() {
    let out = tempfile::tempdir().unwrap();
    hpc_advisor()
        .args(["profile", "--variant", "fused", "--diff-against", "naive"])
        .args([
            "--nx",
            "32",
            "--ny",
            "32",
            "--nc",
            "32",
            "--duration",
            "0.4",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    let folder = run_folder(out.path());
    let record: VariantProfilesRecord =
        serde_json::from_slice(&fs::read(folder.join("profile.json")).unwrap()).unwrap();
    let differential = record.differential.expect("a differential graph");
    assert_eq!(
        (
            differential.changed.as_str(),
            differential.baseline.as_str()
        ),
        ("fused", "naive")
    );
    let text = svg_text(&folder.join(&differential.file));
    assert!(
        text.contains("naive::compute_scattered_wave_element"),
        "shaped like the baseline"
    );
    let fused = &record.profiles[0];
    assert!(
        fused.memory.allocations <= 64,
        "fused allocates nothing per pair: {:?}",
        fused.memory
    );
    for file in ["fused.svg", "fused.folded", "naive.svg", "naive.folded"] {
        assert!(folder.join(file).is_file(), "{file}");
    }
}

fn profile_command(words: &[&str]) -> CommandProfileRecord {
    let out = tempfile::tempdir().unwrap();
    hpc_advisor()
        .args(["profile", "--out"])
        .arg(out.path())
        .arg("--")
        .args(words)
        .assert()
        .success();
    let folder = run_folder(out.path());
    let record: CommandProfileRecord =
        serde_json::from_slice(&fs::read(folder.join("profile.json")).unwrap()).unwrap();
    match &record.folded_file {
        Some(file) => {
            let stacks =
                FoldedStacks::parse(&fs::read_to_string(folder.join(file)).unwrap()).unwrap();
            assert_eq!(Some(stacks.total()), record.samples);
            svg_text(&folder.join(record.flamegraph_file.as_ref().unwrap()));
        }
        None => assert!(record.hotspots.is_empty()),
    }
    record
}

#[test]
fn a_sleeping_command_is_io_bound_and_a_busy_one_is_not() {
    let sleeping = profile_command(&["sh", "-c", "sleep 0.2"]);
    assert!(sleeping.facts.wall_seconds >= 0.2);
    assert!(sleeping.facts.cpu_utilisation < 0.1, "{:?}", sleeping.facts);
    assert_eq!(sleeping.facts.character, ProgramCharacter::IoBound);

    let busy = profile_command(&[
        "sh",
        "-c",
        "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done",
    ]);
    // A loaded machine (here: load 9 on 2 cores while tests run side by side)
    // can cut a busy command's share of a core to a fifth, so its class is not
    // asserted; its utilisation still stands far above the sleeper's.
    assert!(busy.facts.cpu_utilisation > 0.1, "{:?}", busy.facts);
    assert!(busy.facts.cpu_utilisation > 10.0 * sleeping.facts.cpu_utilisation);
    assert!(busy.facts.user_seconds > 10.0 * sleeping.facts.user_seconds);
    assert!(busy.facts.peak_rss_bytes > 0);
}

/// Runs a profile that must fail with exit code 1, a message and a hint, and write nothing.
fn assert_fails_cleanly(arguments: &[&str], message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reports");
    let assert = hpc_advisor()
        .arg("profile")
        .arg("--out")
        .arg(&out)
        .args(arguments)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains(message),
        "expected `{message}` in: {stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");
    let written = fs::read_dir(&out).map(|d| d.count()).unwrap_or(0);
    assert_eq!(written, 0, "nothing written for {arguments:?}");
}

#[test]
fn failures_are_clear_and_leave_nothing_behind() {
    assert_fails_cleanly(
        &["--", "hpc-advisor-no-such-command"],
        "cannot run `hpc-advisor-no-such-command`",
    );
    assert_fails_cleanly(&["--", "sh", "-c", "exit 3"], "failed (exit status 3)");
    assert_fails_cleanly(&["--variant", "nonsense"], "unknown variant `nonsense`");
    assert_fails_cleanly(&[], "give either a variant or a command");
    assert_fails_cleanly(&["--variant", "naive", "--duration", "0"], "--duration 0");
}

#[test]
fn an_unwritable_output_folder_is_refused_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    fs::write(&blocker, "not a folder").unwrap();
    let assert = hpc_advisor()
        .args(["profile", "--no-stacks", "--out"])
        .arg(blocker.join("reports"))
        .args(["--", "sh", "-c", "echo ran > ran.txt"])
        .current_dir(dir.path())
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("cannot write into"), "{stderr}");
    assert!(
        !dir.path().join("ran.txt").exists(),
        "the command did not run"
    );
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn without_a_usable_sampler_the_profile_says_why_and_keeps_the_facts() {
    use hpc_advisor::profile::external::StackSampling;
    use std::os::unix::fs::{PermissionsExt, symlink};

    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    for tool in ["sh", "sleep"] {
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap())
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
            .unwrap();
        symlink(found, bin.join(tool)).unwrap();
    }
    let profile_with_path = || {
        let out = dir.path().join(format!(
            "reports-{}",
            fs::read_dir(dir.path()).unwrap().count()
        ));
        hpc_advisor()
            .env("PATH", &bin)
            .args(["profile", "--out"])
            .arg(&out)
            .args(["--", "sh", "-c", "sleep 0.05"])
            .assert()
            .success();
        let record: CommandProfileRecord =
            serde_json::from_slice(&fs::read(run_folder(&out).join("profile.json")).unwrap())
                .unwrap();
        assert!(record.facts.wall_seconds >= 0.05);
        record.stacks
    };

    match profile_with_path() {
        StackSampling::Unavailable { reason, hint } => {
            assert!(reason.contains("perf is not installed"), "{reason}");
            assert!(hint.contains("py-spy"), "{hint}");
        }
        other => panic!("expected no sampler, got {other:?}"),
    }

    // A perf that is refused, as with a high perf_event_paranoid.
    let perf = bin.join("perf");
    fs::write(
        &perf,
        "#!/bin/sh\necho 'Error: Access to performance monitoring is restricted' >&2\nexit 255\n",
    )
    .unwrap();
    fs::set_permissions(&perf, fs::Permissions::from_mode(0o755)).unwrap();
    match profile_with_path() {
        StackSampling::Unavailable { reason, hint } => {
            assert!(reason.contains("perf may not sample here"), "{reason}");
            assert!(reason.contains("restricted"), "{reason}");
            assert!(hint.contains("perf_event_paranoid"), "{hint}");
        }
        other => panic!("expected a refused perf, got {other:?}"),
    }
}

#[test]
fn runs_started_together_into_one_folder_each_complete_under_their_own_name() {
    let out = tempfile::tempdir().unwrap();
    let runs: Vec<std::process::Child> = (0..4)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_hpc-advisor"))
                .args(["profile", "--no-stacks", "--out"])
                .arg(out.path())
                .args(["--", "sleep", "0.3"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut run in runs {
        assert!(run.wait().unwrap().success());
    }
    let mut names: Vec<String> = fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // Four complete folders, none hidden (unfinished); started within a second or two, so
    // most share a timestamp and take `-2`, `-3`, ... suffixes.
    assert_eq!(names.len(), 4, "{names:?}");
    for name in &names {
        assert!(!name.starts_with('.'), "{names:?}");
        assert!(
            out.path().join(name).join("profile.json").is_file(),
            "{name}"
        );
    }
}
