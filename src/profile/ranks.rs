//! An MPI program's ranks measured one by one, so their imbalance and their time in MPI are facts.
//!
//! `analyse -- mpirun -np 2 python3 x.py` times the launch as a whole like
//! any command, and then launches it twice more with `hpc-advisor
//! rank-probe` put between the launcher and the program: every rank's probe
//! runs the rank as its own child, measures it (wall, CPU, peak RSS) in the
//! first launch and samples its stacks (py-spy or perf, as for any program)
//! in the second, and leaves one file per rank, named by the rank number the
//! launcher gave it. The launch's own options (`-np 2`, `--host`) are kept
//! as written: the program starts where the first argument after the
//! launcher that names an executable is.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::external::{self, CommandError, ProgramFacts, StackSampling};
use super::folded::FoldedStacks;
use super::hotspots::{Hotspot, command_hotspots, python_frame};
use crate::detect::run::Runner;
use crate::fact::Fact;

/// Programs that start an MPI job's ranks.
pub const LAUNCHERS: &[&str] = &["mpirun", "mpiexec", "orterun", "srun"];

/// Where launchers put a rank's number: Open MPI, PMIx, MPICH/Hydra, Slurm.
const RANK_VARIABLES: &[&str] = &[
    "OMPI_COMM_WORLD_RANK",
    "PMIX_RANK",
    "PMI_RANK",
    "SLURM_PROCID",
];

/// Frames of an MPI library or of mpi4py: a rank's samples in them are its time in MPI
/// (waiting for other ranks, or moving data).
const MPI_FRAME_MARKERS: &[&str] = &[
    "MPI_", "PMPI_", "mpi4py", "libmpi", "ompi_", "opal_", "mca_", "MPIR_", "MPIDI_", "pmix_",
];

/// The command split where the launcher's options end and the program begins.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    /// The launcher and its options, as written (`mpirun -np 2`).
    pub launcher: Vec<String>,
    /// The program every rank runs, with its arguments.
    pub program: Vec<String>,
}

/// The launch of `command` when it starts with an MPI launcher, else `None`.
///
/// The program is the first argument after the launcher that is not an option and names an
/// executable (on `PATH` or as a path): option values like `2` or a host list do not.
pub fn split_launch(command: &[String], runner: &Runner) -> Option<Launch> {
    let (first, rest) = command.split_first()?;
    let name = Path::new(first).file_name()?.to_str()?;
    if !LAUNCHERS.contains(&name) {
        return None;
    }
    let start = rest
        .iter()
        .position(|word| !word.starts_with('-') && runner.find(word).is_some())?;
    Some(Launch {
        launcher: command[..=start].to_vec(),
        program: rest[start..].to_vec(),
    })
}

/// One rank as its probe measured and sampled it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RankRun {
    pub rank: u32,
    /// The host the rank ran on.
    pub host: String,
    /// The rank's process from its start by the probe to its exit.
    pub facts: ProgramFacts,
    /// How the rank's stacks were sampled in the second launch.
    pub sampling: StackSampling,
    pub samples: Option<u64>,
    /// Share of the rank's samples whose stack is inside MPI or mpi4py.
    pub mpi_share: Fact<f64>,
    /// The rank's hottest functions by self samples.
    pub hotspots: Vec<Hotspot>,
    pub folded_file: Option<String>,
    pub flamegraph_file: Option<String>,
}

/// Every rank of one launch, and how evenly the work fell on them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RankStudy {
    /// The launcher and its options, as written.
    pub launcher: Vec<String>,
    /// The ranks in rank order.
    pub ranks: Vec<RankRun>,
    /// The busiest rank's work over the mean rank's, minus one: 0 when balanced, 0.25 when the
    /// busiest rank works a quarter more than the average (and the others wait for it).
    pub imbalance: f64,
    /// What was counted as a rank's work for the imbalance.
    pub imbalance_of: String,
}

impl RankRun {
    /// User and system CPU time of the rank's process.
    pub fn cpu_seconds(&self) -> f64 {
        self.facts.user_seconds + self.facts.system_seconds
    }
}

/// The ranks' stacks added together: the program's profile across the job.
pub fn merged(stacks: &[(u32, FoldedStacks)]) -> Option<FoldedStacks> {
    let mut merged = FoldedStacks::default();
    for (_, rank) in stacks {
        merged.add_all(rank);
    }
    (!merged.is_empty()).then_some(merged)
}

/// What a rank's probe leaves for the study: its measured run, or its stacks.
#[derive(Debug, Serialize, Deserialize)]
enum ProbeRecord {
    Measured {
        rank: u32,
        host: String,
        facts: ProgramFacts,
    },
    Sampled {
        rank: u32,
        sampling: StackSampling,
        folded: Option<String>,
    },
}

/// `hpc-advisor rank-probe`: runs `program` as this rank, measured or sampled, into `dir`.
pub fn probe(dir: &Path, sample: bool, program: &[String]) -> anyhow::Result<()> {
    let rank = rank_from_env()?;
    let record = if sample {
        let scratch = dir.join(format!("rank-{rank}.scratch"));
        fs::create_dir_all(&scratch)?;
        let (stacks, sampling) = external::sample_command(program, &scratch);
        fs::remove_dir_all(&scratch)?;
        ProbeRecord::Sampled {
            rank,
            sampling,
            folded: stacks.map(|s| s.to_text()),
        }
    } else {
        ProbeRecord::Measured {
            rank,
            host: crate::output::host_name(),
            facts: external::measure_command(program, &[])?,
        }
    };
    let kind = if sample { "sampled" } else { "measured" };
    let path = dir.join(format!("rank-{rank}.{kind}.json"));
    let partial = path.with_extension("json.partial");
    fs::write(&partial, serde_json::to_vec(&record)?)?;
    fs::rename(&partial, &path)?;
    Ok(())
}

fn rank_from_env() -> anyhow::Result<u32> {
    for variable in RANK_VARIABLES {
        if let Some(value) = std::env::var_os(variable) {
            let text = value.to_string_lossy();
            return text
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("{variable} is `{text}`, not a rank number"));
        }
    }
    Err(crate::error::user_error(
        format!(
            "no rank number in the environment (none of {} is set)",
            RANK_VARIABLES.join(", ")
        ),
        "rank-probe is started by an MPI launcher for `analyse -- mpirun ... CMD`; run that instead",
    ))
}

/// Launches `launch` twice through the probe `probe_exe` (`hpc-advisor`): measured, then
/// sampled when `sample`, with the probes' files in `scratch`; returns the ranks and each
/// rank's stacks.
pub fn study_ranks(
    launch: &Launch,
    probe_exe: &Path,
    sample: bool,
    scratch: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<(RankStudy, Vec<(u32, FoldedStacks)>), CommandError> {
    let shown = [launch.launcher.join(" "), launch.program.join(" ")].join(" ");
    let failed = |reason: String| CommandError::Ranks {
        command: shown.clone(),
        reason,
    };
    let dir = scratch.join("ranks");
    fs::create_dir_all(&dir)
        .map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
    progress(&format!(
        "running `{shown}` with each rank measured on its own"
    ));
    external::measure_command(&probed(launch, probe_exe, &dir, false), &[])?;
    if sample {
        progress(&format!(
            "running `{shown}` with each rank's stacks sampled"
        ));
        external::measure_command(&probed(launch, probe_exe, &dir, true), &[])?;
    }
    read_ranks(launch, &dir, sample).map_err(failed)
}

/// The launch with the probe between the launcher and the program.
fn probed(launch: &Launch, probe_exe: &Path, dir: &Path, sample: bool) -> Vec<String> {
    let mut command = launch.launcher.clone();
    command.push(probe_exe.to_string_lossy().into_owned());
    command.push("rank-probe".into());
    command.push("--dir".into());
    command.push(dir.to_string_lossy().into_owned());
    if sample {
        command.push("--sample".into());
    }
    command.push("--".into());
    command.extend(launch.program.iter().cloned());
    command
}

/// The probes' files as ranks in rank order; an error when a rank left no measured run.
fn read_ranks(
    launch: &Launch,
    dir: &Path,
    sample: bool,
) -> Result<(RankStudy, Vec<(u32, FoldedStacks)>), String> {
    let mut measured = Vec::new();
    let mut sampled = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for path in entries.flatten().map(|e| e.path()) {
        if path.extension().is_none_or(|ext| ext != "json") {
            continue;
        }
        let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        match serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))? {
            ProbeRecord::Measured { rank, host, facts } => measured.push((rank, host, facts)),
            ProbeRecord::Sampled {
                rank,
                sampling,
                folded,
            } => {
                let stacks = folded
                    .map(|text| FoldedStacks::parse(&text))
                    .transpose()
                    .map_err(|e| format!("rank {rank}'s stacks: {e}"))?;
                sampled.push((rank, sampling, stacks));
            }
        }
    }
    if measured.is_empty() {
        return Err(
            "no rank ran the probe: the launcher started no ranks, or the program after its \
             options was not found"
                .into(),
        );
    }
    measured.sort_by_key(|(rank, _, _)| *rank);
    let mut sources = SourceLines::beside(&launch.program);
    let mut stacks = Vec::new();
    let ranks = measured
        .into_iter()
        .map(|(rank, host, facts)| {
            let found = sampled.iter_mut().find(|(r, _, _)| *r == rank);
            let (sampling, rank_stacks) = match found {
                Some((_, sampling, rank_stacks)) => (sampling.clone(), rank_stacks.take()),
                None if sample => (
                    StackSampling::Unavailable {
                        reason: format!("rank {rank} left no stacks in the sampled launch"),
                        hint: "check the launcher starts the same ranks twice".into(),
                    },
                    None,
                ),
                None => (StackSampling::Skipped, None),
            };
            let run = RankRun {
                rank,
                host,
                facts,
                sampling: sampling.clone(),
                samples: rank_stacks.as_ref().map(FoldedStacks::total),
                mpi_share: rank_stacks.as_ref().map_or_else(
                    || Fact::unknown("the rank's stacks were not sampled"),
                    |s| mpi_share(s, &mut sources),
                ),
                hotspots: rank_stacks
                    .as_ref()
                    .map(|s| command_hotspots(s, &sampling))
                    .unwrap_or_default(),
                folded_file: None,
                flamegraph_file: None,
            };
            if let Some(rank_stacks) = rank_stacks {
                stacks.push((rank, rank_stacks));
            }
            run
        })
        .collect::<Vec<_>>();
    let (imbalance, imbalance_of) = imbalance(&ranks);
    Ok((
        RankStudy {
            launcher: launch.launcher.clone(),
            ranks,
            imbalance,
            imbalance_of,
        },
        stacks,
    ))
}

/// The busiest rank's work over the mean rank's, minus one, and what was counted as work:
/// CPU time outside MPI when every rank's time in MPI is known, else all CPU time (which
/// understates it: MPI libraries busy-wait, so a waiting rank still burns CPU).
fn imbalance(ranks: &[RankRun]) -> (f64, String) {
    let outside_mpi: Option<Vec<f64>> = ranks
        .iter()
        .map(|r| {
            r.mpi_share
                .known()
                .map(|share| r.cpu_seconds() * (1.0 - share))
        })
        .collect();
    let (work, counted) = match outside_mpi {
        Some(work) => (work, "CPU time outside MPI"),
        None => (
            ranks.iter().map(RankRun::cpu_seconds).collect(),
            "CPU time, MPI included (the time in MPI is not known for every rank; MPI \
             libraries busy-wait, so this understates the imbalance)",
        ),
    };
    let mean = work.iter().sum::<f64>() / work.len().max(1) as f64;
    let busiest = work.iter().copied().fold(0.0, f64::max);
    let imbalance = if mean > 0.0 {
        busiest / mean - 1.0
    } else {
        0.0
    };
    (imbalance, counted.to_string())
}

/// mpi4py's communication methods: a Python line calling one of them is waiting in MPI or
/// moving data through it.
const MPI4PY_METHODS: &[&str] = &[
    "Barrier",
    "barrier",
    "Ibarrier",
    "Send",
    "send",
    "Ssend",
    "ssend",
    "Isend",
    "isend",
    "Recv",
    "recv",
    "Irecv",
    "irecv",
    "Sendrecv",
    "sendrecv",
    "Bcast",
    "bcast",
    "Ibcast",
    "Scatter",
    "scatter",
    "Scatterv",
    "Gather",
    "gather",
    "Gatherv",
    "Allgather",
    "allgather",
    "Allgatherv",
    "Reduce",
    "reduce",
    "Allreduce",
    "allreduce",
    "Iallreduce",
    "Alltoall",
    "alltoall",
    "Alltoallv",
    "Scan",
    "scan",
    "Exscan",
    "exscan",
    "Wait",
    "wait",
    "Waitall",
    "waitall",
    "Waitany",
    "waitany",
    "Probe",
    "probe",
    "Iprobe",
    "iprobe",
];

/// The source lines of the Python frames py-spy names (`func (file.py:12)`, the file as a short
/// name), looked up beside the program's script and in the working directory.
struct SourceLines {
    folders: Vec<PathBuf>,
    files: HashMap<String, Option<Vec<String>>>,
}

impl SourceLines {
    fn beside(program: &[String]) -> SourceLines {
        let mut folders: Vec<PathBuf> = program
            .iter()
            .map(Path::new)
            .filter(|path| path.is_file())
            .filter_map(|path| path.parent().map(Path::to_path_buf))
            .collect();
        folders.push(PathBuf::from("."));
        SourceLines {
            folders,
            files: HashMap::new(),
        }
    }

    /// Line `number` (from 1) of `file`, when the file can be found and read.
    fn line(&mut self, file: &str, number: usize) -> Option<&str> {
        let folders = &self.folders;
        let lines = self.files.entry(file.to_string()).or_insert_with(|| {
            folders
                .iter()
                .map(|folder| folder.join(file))
                .find_map(|path| fs::read_to_string(path).ok())
                .map(|text| text.lines().map(String::from).collect())
        });
        lines
            .as_ref()?
            .get(number.checked_sub(1)?)
            .map(String::as_str)
    }
}

fn calls_mpi(source: &str) -> bool {
    MPI4PY_METHODS
        .iter()
        .any(|method| source.contains(&format!(".{method}(")))
}

/// The share of samples in MPI: a native MPI or mpi4py frame anywhere on the stack (perf), or
/// an innermost Python line that calls an mpi4py method (py-spy sees Python frames only, and
/// the time inside a compiled mpi4py call shows as the line that made it).
fn mpi_share(stacks: &FoldedStacks, sources: &mut SourceLines) -> Fact<f64> {
    let total = stacks.total();
    if total == 0 {
        return Fact::unknown("no samples");
    }
    let mut in_mpi = 0;
    for (frames, samples) in stacks.stacks() {
        let frames: Vec<&str> = frames.collect();
        let native = frames
            .iter()
            .any(|frame| MPI_FRAME_MARKERS.iter().any(|m| frame.contains(m)));
        let python = frames
            .last()
            .and_then(|leaf| python_frame(leaf))
            .and_then(|frame| sources.line(frame.file, frame.line))
            .is_some_and(calls_mpi);
        if native || python {
            in_mpi += samples;
        }
    }
    Fact::Known(in_mpi as f64 / total as f64)
}

/// The file name of rank `rank`'s flamegraph files, before the extension.
pub fn rank_file_prefix(folder: &str, rank: u32) -> String {
    format!("{folder}rank{rank}-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn the_program_starts_at_the_first_executable_after_the_launchers_options() {
        let runner = Runner::from_env();
        let launch = split_launch(&words("mpirun -np 2 --host a,b sh -c true"), &runner).unwrap();
        assert_eq!(launch.launcher, words("mpirun -np 2 --host a,b"));
        assert_eq!(launch.program, words("sh -c true"));
        assert!(split_launch(&words("sh -c true"), &runner).is_none());
        assert!(split_launch(&words("srun -n 2 no-such-program-here"), &runner).is_none());
    }

    #[test]
    fn mpi_frames_count_wherever_they_are_on_the_stack_and_python_lines_that_call_mpi() {
        let folder = tempfile::tempdir().unwrap();
        let script = folder.path().join("x.py");
        fs::write(&script, "a = 1\ncomm.Barrier()\nsolve(a)\n").unwrap();
        let stacks = FoldedStacks::parse(
            "main;solve 4\nmain;exchange;PMPI_Allreduce;ompi_coll_base 3\n\
             <module> (x.py:2) 2\n<module> (x.py:3) 1\n",
        )
        .unwrap();
        let program = vec!["python3".to_string(), script.to_string_lossy().into_owned()];
        let share = mpi_share(&stacks, &mut SourceLines::beside(&program));
        assert_eq!(share, Fact::Known(0.5));
        // Without the script the Python line cannot be read: only the native frames count.
        let share = mpi_share(&stacks, &mut SourceLines::beside(&[]));
        assert_eq!(share, Fact::Known(0.3));
    }

    #[test]
    fn imbalance_is_the_busiest_rank_over_the_mean() {
        let rank = |rank: u32, cpu: f64| RankRun {
            rank,
            host: "h".into(),
            facts: ProgramFacts {
                command: words("x"),
                wall_seconds: 3.0,
                user_seconds: cpu,
                system_seconds: 0.0,
                cpu_utilisation: cpu / 3.0,
                peak_rss_bytes: 0,
                voluntary_context_switches: 0,
                involuntary_context_switches: 0,
                storage_read_bytes: 0,
                storage_written_bytes: 0,
                character: external::ProgramCharacter::CpuBound,
            },
            sampling: StackSampling::Skipped,
            samples: None,
            mpi_share: Fact::unknown("not sampled"),
            hotspots: Vec::new(),
            folded_file: None,
            flamegraph_file: None,
        };
        let mut ranks = [rank(0, 3.0), rank(1, 1.0)];
        let (by_cpu, counted) = imbalance(&ranks);
        assert!((by_cpu - 0.5).abs() < 1e-12);
        assert!(counted.starts_with("CPU time, MPI included"), "{counted}");
        assert_eq!(imbalance(&[rank(0, 1.0), rank(1, 1.0)]).0, 0.0);
        // Both burn 2 s of CPU, but rank 1 spends three quarters of it waiting in MPI.
        ranks = [rank(0, 2.0), rank(1, 2.0)];
        ranks[0].mpi_share = Fact::Known(0.0);
        ranks[1].mpi_share = Fact::Known(0.75);
        let (outside_mpi, counted) = imbalance(&ranks);
        assert!((outside_mpi - (2.0 / 1.25 - 1.0)).abs() < 1e-12);
        assert_eq!(counted, "CPU time outside MPI");
    }
}
