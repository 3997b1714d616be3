//! `mpi`: rows spread over MPI ranks and gathered on rank 0, the rung that reaches past one node.
//!
//! Rows are dealt to ranks block-cyclically (small blocks, so the rows cut
//! short by the obstacle spread evenly); each rank computes its rows with
//! [`BEST_ROWS`](crate::scatter::variants::BEST_ROWS), on `--threads`
//! threads when asked (hybrid MPI + threads), and rank 0 gathers the field
//! with one `MPI_Gatherv`. Ranks other than 0 return no field.
//!
//! The variant needs the `mpi` cargo feature. Without it the same API is
//! backed by a disabled module (as ripgrep swaps its optional backends) that
//! says how to enable it.

#[cfg(feature = "mpi")]
mod enabled;
#[cfg(feature = "mpi")]
use enabled as backend;

#[cfg(not(feature = "mpi"))]
mod disabled;
#[cfg(not(feature = "mpi"))]
use disabled as backend;

use std::time::Duration;

use crate::scatter::problem::Problem;
use crate::scatter::variant::{Availability, RunOutput, RunSettings, Variant, VariantError};
use crate::scatter::variants::BEST_ROWS_INFO;

pub use backend::linked_library_version;

const NAME: &str = "mpi";

/// How to build with MPI, for every message that needs to say it.
pub const ENABLE_HINT: &str = "rebuild with `cargo build --release --features mpi`; it needs an MPI \
     library and libclang, e.g. `apt-get install -y libopenmpi-dev openmpi-bin libclang-dev clang`";

/// Phase names rank 0 reports, in order: the launcher's caller reads them back.
pub const PHASE_INIT: &str = "mpi init";
pub const PHASE_COMPUTE: &str = "compute";
pub const PHASE_GATHER: &str = "gather";

/// Rows over MPI ranks, gathered on rank 0.
#[derive(Debug)]
pub struct Mpi;

pub static MPI: Mpi = Mpi;

impl Variant for Mpi {
    fn name(&self) -> &'static str {
        NAME
    }
    fn summary(&self) -> &'static str {
        "rows dealt block-cyclically to MPI ranks (threads inside each rank), gathered on rank 0"
    }
    fn python_analogue(&self) -> &'static str {
        "mpi4py with Gatherv, started by mpirun or srun"
    }
    fn needs(&self) -> &'static str {
        "the `mpi` cargo feature, an MPI library and a launcher (mpirun, mpiexec or srun)"
    }
    fn availability(&self) -> Availability {
        backend::availability()
    }
    fn workers(&self, settings: &RunSettings) -> usize {
        launched_ranks().unwrap_or(1) * threads_per_rank(settings)
    }
    /// Each rank runs [`BEST_ROWS`](crate::scatter::variants::BEST_ROWS): its cost per pair.
    fn nominal_ns_per_pair(&self) -> f64 {
        BEST_ROWS_INFO.nominal_ns_per_pair
    }
    fn bytes_per_pair(&self) -> f64 {
        BEST_ROWS_INFO.bytes_per_pair
    }
    fn run(&self, problem: &Problem, settings: &RunSettings) -> Result<RunOutput, VariantError> {
        backend::run(problem, settings)
    }
}

/// One rank's share of a run: where it ran, what it computed, how long it took.
///
/// Rank 0 gathers these and reports each as a note ([`RankTiming::note`]);
/// whoever launched the job reads them back ([`RankTiming::parse_note`]) to
/// give throughput per node and the time lost to imbalance.
#[derive(Debug, Clone, PartialEq)]
pub struct RankTiming {
    pub rank: usize,
    /// The node the rank ran on (`MPI_Get_processor_name`).
    pub node: String,
    /// Pair evaluations the rank computed.
    pub pairs: u64,
    /// The rank's compute time, without start-up or gather.
    pub compute: Duration,
}

impl RankTiming {
    /// The note rank 0 prints, e.g. `rank 1 on node07: 972224 pairs in 1.234567 ms`.
    pub fn note(&self) -> String {
        format!(
            "rank {} on {}: {} pairs in {:.6} ms",
            self.rank,
            self.node,
            self.pairs,
            self.compute.as_secs_f64() * 1e3
        )
    }

    /// Reads a note written by [`RankTiming::note`]; `None` for any other note.
    pub fn parse_note(note: &str) -> Option<RankTiming> {
        let (rank, rest) = note.strip_prefix("rank ")?.split_once(" on ")?;
        let (node, rest) = rest.rsplit_once(": ")?;
        let (pairs, milliseconds) = rest.split_once(" pairs in ")?;
        let milliseconds: f64 = milliseconds.strip_suffix(" ms")?.parse().ok()?;
        Some(RankTiming {
            rank: rank.parse().ok()?,
            node: node.to_string(),
            pairs: pairs.parse().ok()?,
            compute: Duration::try_from_secs_f64(milliseconds * 1e-3).ok()?,
        })
    }
}

/// Threads inside each rank: `--threads` when given, otherwise one (ranks fill the cores).
pub fn threads_per_rank(settings: &RunSettings) -> usize {
    settings.threads.unwrap_or(1).max(1)
}

/// The world size announced by the launcher that started this process, if any.
///
/// Open MPI's mpirun sets `OMPI_COMM_WORLD_SIZE`; MPICH's and Intel's
/// Hydra, and srun with PMI, set `PMI_SIZE`.
pub fn launched_ranks() -> Option<usize> {
    launched_ranks_from(|name| std::env::var(name).ok())
}

fn launched_ranks_from(var: impl Fn(&str) -> Option<String>) -> Option<usize> {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"]
        .iter()
        .find_map(|name| var(name)?.trim().parse().ok())
}

/// Which launcher family started this process, from the variables it sets.
pub fn launcher_family() -> Option<&'static str> {
    launcher_family_from(|name| std::env::var_os(name).is_some())
}

fn launcher_family_from(is_set: impl Fn(&str) -> bool) -> Option<&'static str> {
    if is_set("OMPI_COMM_WORLD_SIZE") {
        Some("Open MPI")
    } else if is_set("PMI_SIZE") || is_set("HYDRA_CONTROL_FD") {
        Some("MPICH (Hydra) or a PMI launcher")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_launcher_is_recognised_by_its_variables() {
        let open_mpi = |name: &str| (name == "OMPI_COMM_WORLD_SIZE").then(|| " 4".to_string());
        assert_eq!(launched_ranks_from(open_mpi), Some(4));
        assert_eq!(
            launcher_family_from(|n| open_mpi(n).is_some()),
            Some("Open MPI")
        );
        let hydra = |name: &str| (name == "PMI_SIZE").then(|| "2".to_string());
        assert_eq!(launched_ranks_from(hydra), Some(2));
        assert!(
            launcher_family_from(|n| hydra(n).is_some())
                .unwrap()
                .contains("MPICH")
        );
        assert_eq!(launched_ranks_from(|_| None), None);
        assert_eq!(launcher_family_from(|_| false), None);
    }

    #[test]
    fn rank_timings_round_trip_through_their_note() {
        let timing = RankTiming {
            rank: 3,
            node: "node07.cluster".into(),
            pairs: 972_224,
            compute: Duration::from_micros(1_234_567),
        };
        assert_eq!(RankTiming::parse_note(&timing.note()), Some(timing));
        assert_eq!(
            RankTiming::parse_note("2 ranks x 1 threads, blocks of 8 rows"),
            None
        );
        assert_eq!(RankTiming::parse_note("rank x on a: 1 pairs in 1 ms"), None);
    }

    #[test]
    fn one_thread_per_rank_unless_asked() {
        let mut settings = RunSettings::default();
        assert_eq!(threads_per_rank(&settings), 1);
        settings.threads = Some(3);
        assert_eq!(threads_per_rank(&settings), 3);
    }
}
