//! The `mpi` variant over rsmpi: block-cyclic rows per rank, `MPI_Gatherv` onto rank 0.

use std::time::{Duration, Instant};

use ::mpi::Count;
use ::mpi::Threading;
use ::mpi::datatype::PartitionMut;
use ::mpi::traits::{Communicator, CommunicatorCollectives, Root};
use num_complex::Complex32;
use rayon::prelude::*;

use super::{
    NAME, PHASE_COMPUTE, PHASE_GATHER, PHASE_INIT, RankTiming, launched_ranks, launcher_family,
};
use crate::scatter::field::Field;
use crate::scatter::geometry::Scene;
use crate::scatter::problem::Problem;
use crate::scatter::variant::{Availability, Phase, RunOutput, RunSettings, VariantError};
use crate::scatter::variants::rows::{RowKernel, worker_pool};
use crate::scatter::variants::{BEST_ROWS, BestRows};

/// Blocks per rank: small blocks spread the short rows through the obstacle evenly.
const BLOCKS_PER_RANK: usize = 8;

pub fn availability() -> Availability {
    match launched_ranks() {
        Some(_) => Availability::Available,
        None => Availability::Unavailable {
            reason: "this process was not started by an MPI launcher (mpirun, mpiexec or srun)"
                .into(),
            hint: "run `mpirun -n 2 hpc-advisor kernel run --variant mpi` (or srun); \
                   `bench` and `analyse` launch it themselves"
                .into(),
        },
    }
}

/// The linked MPI library's version string (`MPI_Get_library_version`, callable before init).
pub fn linked_library_version() -> Option<String> {
    // The C string's terminating NUL comes along in the buffer rsmpi returns.
    let version = ::mpi::environment::library_version().ok()?;
    Some(version.trim_end_matches(['\0', ' ', '\n']).to_string())
}

pub fn run(problem: &Problem, settings: &RunSettings) -> Result<RunOutput, VariantError> {
    // MPI can be initialised once per process: outside a launcher, refuse rather than
    // spend that once on a singleton world.
    if let Availability::Unavailable { reason, hint } = availability() {
        return Err(VariantError::Unavailable {
            variant: NAME,
            reason,
            hint,
        });
    }
    let started = Instant::now();
    // Funneled: rayon threads inside a rank compute, only the main thread calls MPI.
    let (universe, _) = ::mpi::initialize_with_threading(Threading::Funneled).ok_or_else(|| {
        VariantError::failed(
            NAME,
            "MPI was already initialised in this process; run one MPI job per process",
        )
    })?;
    let world = universe.world();
    let (rank, size) = (world.rank() as usize, world.size() as usize);
    if let Some(expected) = launched_ranks().filter(|&n| n != size) {
        // Every rank thinks it is alone: the classic sign of an mpirun from one
        // MPI implementation starting a program linked against another.
        return Err(VariantError::failed(
            NAME,
            format!(
                "the launcher ({}) started {expected} ranks but the linked MPI library sees a \
                 world of {size}: launcher and library are different MPI implementations \
                 (library: {})",
                launcher_family().unwrap_or("unknown"),
                library_summary(),
            ),
        ));
    }
    let init = started.elapsed();
    let scene = Scene::new(problem);
    let layout = RowLayout::new(scene.nodes_x(), scene.nodes_y(), size);
    let threads = super::threads_per_rank(settings);
    world.barrier();
    let compute_started = Instant::now();
    let mine = compute_rows(&BEST_ROWS, &scene, &layout.rows_of(rank), threads)
        .map_err(|message| VariantError::failed(NAME, message))?;
    let compute = compute_started.elapsed();
    let gathered =
        gather(&world, &layout, &mine).map_err(|message| VariantError::failed(NAME, message))?;
    let gather_time = compute_started.elapsed() - compute;
    // Pairs this rank evaluated: its outside nodes (non-zero incident values) times the segments.
    let incident = &mine[..mine.len() / 2];
    let outside = incident
        .chunks_exact(2)
        .filter(|z| z[0] != 0.0 || z[1] != 0.0)
        .count();
    let timings = gather_timings(&world, compute, (outside * problem.nc()) as u64);
    let (Some(buffer), Some(timings)) = (gathered, timings) else {
        return Ok(RunOutput {
            field: None,
            phases: Vec::new(),
            notes: Vec::new(),
            own_timing: None,
        });
    };
    let mut output = RunOutput::field(layout.unpack(&buffer));
    output.phases = vec![
        phase(PHASE_INIT, init),
        phase(PHASE_COMPUTE, compute),
        phase(PHASE_GATHER, gather_time),
    ];
    if let Some(note) = BEST_ROWS.describe() {
        output = output.with_note(note);
    }
    for timing in &timings {
        output = output.with_note(timing.note());
    }
    let library = library_summary();
    Ok(output
        .with_note(format!(
            "{size} ranks x {threads} threads, blocks of {} rows dealt round-robin",
            layout.block
        ))
        .with_note(format!("MPI library: {library}")))
}

fn phase(name: &'static str, duration: Duration) -> Phase {
    Phase { name, duration }
}

/// The first line of the library's version text, which names the implementation and version.
fn library_summary() -> String {
    let version = linked_library_version().unwrap_or_default();
    version
        .lines()
        .next()
        .unwrap_or("unknown")
        .trim()
        .to_string()
}

/// Which rows each rank owns: blocks of `block` rows dealt round-robin.
#[derive(Debug, Clone, PartialEq)]
struct RowLayout {
    nodes_x: usize,
    nodes_y: usize,
    ranks: usize,
    block: usize,
}

impl RowLayout {
    fn new(nodes_x: usize, nodes_y: usize, ranks: usize) -> RowLayout {
        let block = (nodes_y / (ranks * BLOCKS_PER_RANK)).max(1);
        RowLayout {
            nodes_x,
            nodes_y,
            ranks,
            block,
        }
    }

    fn rows_of(&self, rank: usize) -> Vec<usize> {
        (0..self.nodes_y)
            .filter(|row| (row / self.block) % self.ranks == rank)
            .collect()
    }

    /// f32 values rank `rank` sends: incident then scattered, re and im, for its rows.
    fn values_of(&self, rank: usize) -> usize {
        4 * self.nodes_x * self.rows_of(rank).len()
    }

    /// Puts the gathered buffer (rank after rank) back into a row-major field.
    fn unpack(&self, buffer: &[f32]) -> Field {
        let mut field = Field::zeros(self.nodes_x, self.nodes_y);
        let mut offset = 0;
        for rank in 0..self.ranks {
            let rows = self.rows_of(rank);
            let half = 2 * self.nodes_x * rows.len();
            let (incident, scattered) = buffer[offset..offset + 2 * half].split_at(half);
            for (k, &row) in rows.iter().enumerate() {
                let span = row * self.nodes_x..(row + 1) * self.nodes_x;
                let values = 2 * self.nodes_x * k..2 * self.nodes_x * (k + 1);
                unpack_complex(&incident[values.clone()], &mut field.incident[span.clone()]);
                unpack_complex(&scattered[values], &mut field.scattered[span]);
            }
            offset += 2 * half;
        }
        field
    }
}

fn unpack_complex(values: &[f32], into: &mut [Complex32]) {
    for (z, pair) in into.iter_mut().zip(values.chunks_exact(2)) {
        *z = Complex32::new(pair[0], pair[1]);
    }
}

/// This rank's rows, packed as [`RowLayout::values_of`] describes.
fn compute_rows(
    kernel: &BestRows,
    scene: &Scene,
    rows: &[usize],
    threads: usize,
) -> Result<Vec<f32>, String> {
    let nodes_x = scene.nodes_x();
    let zero = Complex32::new(0.0, 0.0);
    let mut incident = vec![zero; rows.len() * nodes_x];
    let mut scattered = incident.clone();
    let prepared = kernel.prepare(scene);
    let each_row = |(&j, (inc, scat)): (&usize, (&mut [Complex32], &mut [Complex32]))| {
        kernel.row(scene, &prepared, j, inc, scat)
    };
    if threads > 1 {
        let pool = worker_pool(threads).map_err(|e| format!("{e} in a rank"))?;
        pool.install(|| {
            rows.par_iter()
                .zip(
                    incident
                        .par_chunks_mut(nodes_x)
                        .zip(scattered.par_chunks_mut(nodes_x)),
                )
                .with_max_len(1)
                .for_each(each_row);
        });
    } else {
        rows.iter()
            .zip(
                incident
                    .chunks_mut(nodes_x)
                    .zip(scattered.chunks_mut(nodes_x)),
            )
            .for_each(each_row);
    }
    Ok(incident
        .iter()
        .chain(&scattered)
        .flat_map(|z| [z.re, z.im])
        .collect())
}

/// Gathers every rank's values on rank 0 (`Some` there, `None` elsewhere).
fn gather(
    world: &impl Communicator,
    layout: &RowLayout,
    mine: &[f32],
) -> Result<Option<Vec<f32>>, String> {
    let counts = (0..layout.ranks)
        .map(|rank| Count::try_from(layout.values_of(rank)))
        .collect::<Result<Vec<Count>, _>>()
        .map_err(|_| "the field is too large for one MPI_Gatherv (over 2^31 values per rank)")?;
    let displacements = counts
        .iter()
        .scan(0 as Count, |offset, &count| {
            let start = *offset;
            *offset = offset.checked_add(count)?;
            Some(start)
        })
        .collect::<Vec<Count>>();
    if displacements.len() != counts.len() {
        return Err("the field is too large for one MPI_Gatherv (over 2^31 values)".into());
    }
    let root = world.process_at_rank(0);
    if world.rank() != 0 {
        root.gather_varcount_into(mine);
        return Ok(None);
    }
    let total = counts.iter().map(|&c| c as usize).sum();
    let mut buffer = vec![0f32; total];
    let mut partition = PartitionMut::new(&mut buffer[..], counts, &displacements[..]);
    root.gather_varcount_into_root(mine, &mut partition);
    Ok(Some(buffer))
}

/// Bytes of a node name sent to rank 0 (longer names are cut).
const NODE_NAME_BYTES: usize = 64;

/// Every rank's node, pairs and compute time, on rank 0 (`None` elsewhere).
fn gather_timings(
    world: &impl Communicator,
    compute: Duration,
    pairs: u64,
) -> Option<Vec<RankTiming>> {
    let root = world.process_at_rank(0);
    let figures = [compute.as_secs_f64(), pairs as f64];
    let mut name = [0u8; NODE_NAME_BYTES];
    let host = ::mpi::environment::processor_name().unwrap_or_else(|_| "unknown".into());
    let length = host.len().min(NODE_NAME_BYTES);
    name[..length].copy_from_slice(&host.as_bytes()[..length]);
    if world.rank() != 0 {
        root.gather_into(&figures[..]);
        root.gather_into(&name[..]);
        return None;
    }
    let size = world.size() as usize;
    let mut all_figures = vec![0f64; 2 * size];
    let mut all_names = vec![0u8; NODE_NAME_BYTES * size];
    root.gather_into_root(&figures[..], &mut all_figures[..]);
    root.gather_into_root(&name[..], &mut all_names[..]);
    Some(
        all_names
            .chunks_exact(NODE_NAME_BYTES)
            .zip(all_figures.chunks_exact(2))
            .enumerate()
            .map(|(rank, (name, figures))| RankTiming {
                rank,
                node: String::from_utf8_lossy(name)
                    .trim_end_matches('\0')
                    .to_string(),
                pairs: figures[1] as u64,
                compute: Duration::try_from_secs_f64(figures[0]).unwrap_or_default(),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scatter::variants::rows::run_serial;

    #[test]
    fn the_linked_library_names_itself_in_plain_text() {
        let version = linked_library_version().expect("MPI_Get_library_version works before init");
        assert!(
            !version.is_empty() && !version.contains('\0'),
            "{version:?}"
        );
    }

    #[test]
    fn every_row_belongs_to_exactly_one_rank() {
        for (rows, ranks) in [(129, 2), (129, 3), (5, 4), (257, 7), (1, 2)] {
            let layout = RowLayout::new(3, rows, ranks);
            let mut owned: Vec<usize> = (0..ranks).flat_map(|r| layout.rows_of(r)).collect();
            owned.sort_unstable();
            assert_eq!(
                owned,
                (0..rows).collect::<Vec<_>>(),
                "{rows} rows, {ranks} ranks"
            );
        }
    }

    #[test]
    fn packed_rows_of_every_rank_unpack_into_the_serial_field() {
        let problem = Problem::builder()
            .cells(20, 17)
            .segments(16)
            .build()
            .unwrap();
        let scene = Scene::new(&problem);
        let layout = RowLayout::new(scene.nodes_x(), scene.nodes_y(), 3);
        let buffer: Vec<f32> = (0..3)
            .flat_map(|rank| {
                let threads = 1 + rank % 2;
                compute_rows(&BEST_ROWS, &scene, &layout.rows_of(rank), threads).unwrap()
            })
            .collect();
        assert_eq!(
            buffer.len(),
            (0..3).map(|r| layout.values_of(r)).sum::<usize>()
        );
        assert_eq!(layout.unpack(&buffer), run_serial(&BEST_ROWS, &scene));
    }
}
