//! Row kernels and the executors that drive them: serially or over a rayon pool.
//!
//! Most variants compute the field one grid row at a time. Separating the
//! row computation ([`RowKernel`]) from how rows are scheduled
//! ([`Execution`]) is what lets `threads+simd` be "the simd kernel, on
//! threads" without a second copy of either, and lets the process and MPI
//! variants hand out rows of the same kernels.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use num_complex::{Complex32, Complex64};
use rayon::prelude::*;

use crate::scatter::field::Field;
use crate::scatter::geometry::Scene;
use crate::scatter::problem::Problem;
use crate::scatter::variant::{RunOutput, RunSettings, Variant, VariantError};

/// Computes one row `j` of the field: `incident` and `scattered` hold `nx + 1` nodes.
pub trait RowKernel: Sync {
    /// What the kernel derives from the scene once per run (a padded table, say), so no
    /// row repeats that work or allocates; `()` for kernels that need nothing.
    type Prepared: Sync;

    /// Builds [`RowKernel::Prepared`]: called once per run by every driver, never per row.
    fn prepare(&self, scene: &Scene) -> Self::Prepared;

    fn row(
        &self,
        scene: &Scene,
        prepared: &Self::Prepared,
        j: usize,
        incident: &mut [Complex32],
        scattered: &mut [Complex32],
    );

    /// A fact about how this kernel runs here (e.g. the SIMD instruction set chosen).
    fn describe(&self) -> Option<String> {
        None
    }
}

/// Fills row `j` node by node: `node(x, y)` gives `None` for a node inside the
/// obstacle (left at zero) and `(incident, scattered)` otherwise, stored as f32.
///
/// Always inlined, so profiles still name the calling kernel's `row`.
#[inline(always)]
pub fn fill_row_by_node(
    scene: &Scene,
    j: usize,
    incident: &mut [Complex32],
    scattered: &mut [Complex32],
    mut node: impl FnMut(f64, f64) -> Option<(Complex64, Complex64)>,
) {
    let y = scene.grid.y[j];
    for (i, &x) in scene.grid.x.iter().enumerate() {
        if let Some((inc, scat)) = node(x, y) {
            incident[i] = Complex32::new(inc.re as f32, inc.im as f32);
            scattered[i] = Complex32::new(scat.re as f32, scat.im as f32);
        }
    }
}

/// How the rows of a field are scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Execution {
    /// One row after another on the calling thread.
    Serial,
    /// Rows handed out one at a time to a rayon pool (dynamic: inside nodes make rows uneven).
    Threads,
}

/// The description every registered variant carries.
#[derive(Debug, Clone, Copy)]
pub struct VariantInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub python_analogue: &'static str,
    pub needs: &'static str,
    pub nominal_ns_per_pair: f64,
    /// Bytes moved per pair (see [`Variant::bytes_per_pair`]).
    pub bytes_per_pair: f64,
}

/// A variant made of a row kernel and an execution strategy.
#[derive(Debug)]
pub struct RowVariant<K> {
    pub info: VariantInfo,
    pub kernel: K,
    pub execution: Execution,
}

impl<K: RowKernel> Variant for RowVariant<K> {
    fn name(&self) -> &'static str {
        self.info.name
    }
    fn summary(&self) -> &'static str {
        self.info.summary
    }
    fn python_analogue(&self) -> &'static str {
        self.info.python_analogue
    }
    fn needs(&self) -> &'static str {
        self.info.needs
    }
    fn nominal_ns_per_pair(&self) -> f64 {
        self.info.nominal_ns_per_pair
    }
    fn bytes_per_pair(&self) -> f64 {
        self.info.bytes_per_pair
    }
    fn workers(&self, settings: &RunSettings) -> usize {
        match self.execution {
            Execution::Serial => 1,
            Execution::Threads => settings.resolved_threads(),
        }
    }
    fn run(&self, problem: &Problem, settings: &RunSettings) -> Result<RunOutput, VariantError> {
        let scene = Scene::new(problem);
        let field = match self.execution {
            Execution::Serial => run_serial(&self.kernel, &scene),
            Execution::Threads => {
                run_threaded(&self.kernel, &scene, settings.resolved_threads())
                    .map_err(|message| VariantError::failed(self.info.name, message))?
            }
        };
        let mut output = RunOutput::field(field);
        if let Some(note) = self.kernel.describe() {
            output = output.with_note(note);
        }
        if self.execution == Execution::Threads {
            output = output.with_note(format!("{} threads", settings.resolved_threads()));
        }
        Ok(output)
    }
}

/// Every row in order on this thread.
pub fn run_serial<K: RowKernel>(kernel: &K, scene: &Scene) -> Field {
    let mut field = Field::zeros(scene.nodes_x(), scene.nodes_y());
    let prepared = kernel.prepare(scene);
    run_rows(
        kernel,
        scene,
        &prepared,
        0..scene.nodes_y(),
        &mut field.incident,
        &mut field.scattered,
    );
    field
}

/// The pool of `threads` workers named `scatter-worker-N`, built on first use and kept for the process.
///
/// Like an OpenMP runtime, which starts its thread team once and reuses it
/// for every parallel region: starting threads costs about 80 µs each here,
/// several percent of a fast variant's whole run if paid on every run.
pub fn worker_pool(threads: usize) -> Result<Arc<rayon::ThreadPool>, String> {
    static POOLS: Mutex<BTreeMap<usize, Arc<rayon::ThreadPool>>> = Mutex::new(BTreeMap::new());
    let mut pools = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(pool) = pools.get(&threads) {
        return Ok(Arc::clone(pool));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("scatter-worker-{i}"))
        .build()
        .map_err(|e| format!("cannot start {threads} threads: {e}"))?;
    let pool = Arc::new(pool);
    pools.insert(threads, Arc::clone(&pool));
    Ok(pool)
}

/// Rows as individual tasks on the [`worker_pool`] of `threads`.
pub fn run_threaded<K: RowKernel>(
    kernel: &K,
    scene: &Scene,
    threads: usize,
) -> Result<Field, String> {
    let pool = worker_pool(threads)?;
    let mut field = Field::zeros(scene.nodes_x(), scene.nodes_y());
    let nodes_x = scene.nodes_x();
    let prepared = kernel.prepare(scene);
    pool.install(|| {
        field
            .incident
            .par_chunks_mut(nodes_x)
            .zip(field.scattered.par_chunks_mut(nodes_x))
            .with_max_len(1)
            .enumerate()
            .for_each(|(j, (incident, scattered))| {
                kernel.row(scene, &prepared, j, incident, scattered)
            });
    });
    Ok(field)
}

/// Computes rows `rows` into a buffer of `rows.len() * (nx + 1)` nodes per array.
///
/// Used by the serial driver and by the multi-process variants, which hand
/// out blocks of rows; `prepared` comes from one [`RowKernel::prepare`] per run.
pub fn run_rows<K: RowKernel>(
    kernel: &K,
    scene: &Scene,
    prepared: &K::Prepared,
    rows: std::ops::Range<usize>,
    incident: &mut [Complex32],
    scattered: &mut [Complex32],
) {
    let nodes_x = scene.nodes_x();
    for ((j, inc), scat) in rows
        .zip(incident.chunks_mut(nodes_x))
        .zip(scattered.chunks_mut(nodes_x))
    {
        kernel.row(scene, prepared, j, inc, scat);
    }
}
