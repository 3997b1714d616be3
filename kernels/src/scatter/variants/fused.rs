//! `fused`: the compiled step, what Numba or a C extension gives the Python code.
//!
//! Per-segment constants are computed once into a structure of arrays
//! ([`crate::scatter::SegmentTable`]); each node then runs one fused loop
//! over the segments with scalar maths and the fast Hankel approximation, and
//! nothing is allocated in the hot loop.

use num_complex::{Complex32, Complex64};

use crate::scatter::geometry::{Scene, is_inside};
use crate::scatter::hankel;
use crate::scatter::variants::rows::{
    Execution, RowKernel, RowVariant, VariantInfo, fill_row_by_node,
};

/// One fused scalar loop per node over the precomputed segment table.
#[derive(Debug, Clone, Copy)]
pub struct FusedRows;

const INFO: VariantInfo = VariantInfo {
    name: "fused",
    summary: "segment constants precomputed once, one fused scalar loop per node, no allocation",
    python_analogue: "Numba @njit (or a C extension) on the loops",
    needs: "nothing",
    nominal_ns_per_pair: 30.0,
    bytes_per_pair: 64.0,
};

pub static FUSED: RowVariant<FusedRows> = RowVariant {
    info: INFO,
    kernel: FusedRows,
    execution: Execution::Serial,
};

pub static THREADS_FUSED: RowVariant<FusedRows> = RowVariant {
    info: VariantInfo {
        name: "threads+fused",
        summary: "the fused loop with rows spread over a rayon pool",
        python_analogue: "Numba with prange (parallel=True), or a C extension with OpenMP",
        needs: "more than one usable core to pay off",
        ..INFO
    },
    kernel: FusedRows,
    execution: Execution::Threads,
};

impl RowKernel for FusedRows {
    type Prepared = ();

    fn prepare(&self, _scene: &Scene) {}

    fn row(
        &self,
        scene: &Scene,
        _prepared: &(),
        j: usize,
        incident: &mut [Complex32],
        scattered: &mut [Complex32],
    ) {
        fill_row_by_node(scene, j, incident, scattered, |x, y| {
            if is_inside(&scene.points, [x, y]) {
                return None;
            }
            let (inc_re, inc_im) = scene.incident(x, y);
            let (re, im) = scattered_at(scene, x, y);
            Some((Complex64::new(inc_re, inc_im), Complex64::new(re, im)))
        });
    }
}

/// The scattered wave at `(x, y)`: the sum over segments, in order.
#[inline(never)]
fn scattered_at(scene: &Scene, x: f64, y: f64) -> (f64, f64) {
    let s = &scene.segments;
    let (mut sum_re, mut sum_im) = (0.0, 0.0);
    for k in 0..s.len() {
        let (rx, ry) = (x - s.mid_x[k], y - s.mid_y[k]);
        let r = (rx * rx + ry * ry).sqrt();
        let b = hankel::approx(scene.kmod * r);
        // term = nk H0 - i (s kmod (n.r)/R) H1, split into real and imaginary parts
        let c = s.signed_kmod[k] * (s.normal_x[k] * rx + s.normal_y[k] * ry) / r;
        let nk = s.n_dot_k[k];
        let term_re = nk * b.j0 + c * b.y1;
        let term_im = nk * b.y0 - c * b.j1;
        sum_re += s.weight_re[k] * term_re - s.weight_im[k] * term_im;
        sum_im += s.weight_re[k] * term_im + s.weight_im[k] * term_re;
    }
    (sum_re, sum_im)
}
