//! `naive`: a faithful port of the original program, kept deliberately unoptimised.
//!
//! It plays "the original code" in the ladder. Like the original Python it
//! tests every node against every segment, recomputes each segment's
//! geometry for every pair, builds its little vectors on the heap (as the
//! original's small NumPy arrays are), and calls the library Bessel
//! functions. Its functions are not inlined, so a flamegraph shows the same
//! structure (inside test, scattered wave, element, Hankel) as the
//! original's profile.

use num_complex::{Complex32, Complex64};

use crate::scatter::geometry::{Scene, is_inside};
use crate::scatter::hankel;
use crate::scatter::variants::rows::{
    Execution, RowKernel, RowVariant, VariantInfo, fill_row_by_node,
};

/// The original program's per-node structure.
#[derive(Debug, Clone, Copy)]
pub struct NaiveRows;

pub static NAIVE: RowVariant<NaiveRows> = RowVariant {
    info: VariantInfo {
        name: "naive",
        summary: "faithful port of the original: per-pair geometry, heap temporaries, libm Bessel",
        python_analogue: "the original pure-Python loops",
        needs: "nothing",
        nominal_ns_per_pair: 250.0,
        bytes_per_pair: 192.0,
    },
    kernel: NaiveRows,
    execution: Execution::Serial,
};

pub static THREADS: RowVariant<NaiveRows> = RowVariant {
    info: VariantInfo {
        name: "threads",
        summary: "the naive code with rows spread over a rayon pool",
        python_analogue: "a process pool (multiprocessing/Pathos) over the original function",
        needs: "more than one usable core to pay off",
        nominal_ns_per_pair: 250.0,
        bytes_per_pair: 192.0,
    },
    kernel: NaiveRows,
    execution: Execution::Threads,
};

impl RowKernel for NaiveRows {
    type Prepared = ();

    fn prepare(&self, _scene: &Scene) {}

    fn row(
        &self,
        scene: &Scene,
        _prepared: &(),
        j: usize,
        incident_row: &mut [Complex32],
        scattered_row: &mut [Complex32],
    ) {
        fill_row_by_node(scene, j, incident_row, scattered_row, |x, y| {
            let point = vec![x, y];
            if is_inside_contour(&point, &scene.points) {
                return None;
            }
            Some((
                incident(&scene.k, &point),
                compute_scattered_wave(&scene.k, &scene.points, &point),
            ))
        });
    }
}

#[inline(never)]
fn is_inside_contour(point: &[f64], points: &[[f64; 2]]) -> bool {
    is_inside(points, [point[0], point[1]])
}

/// `exp(i k.p)`
#[inline(never)]
fn incident(kvec: &[f64; 2], point: &[f64]) -> Complex64 {
    Complex64::new(0.0, kvec[0] * point[0] + kvec[1] * point[1]).exp()
}

/// `i (n.k) exp(i k.p)`: the normal derivative of the incident wave.
#[inline(never)]
fn grad_incident(nvec: &[f64], kvec: &[f64; 2], point: &[f64]) -> Complex64 {
    Complex64::new(0.0, nvec[0] * kvec[0] + nvec[1] * kvec[1]) * incident(kvec, point)
}

/// The sum over segments, in order, of each segment's contribution.
#[inline(never)]
fn compute_scattered_wave(kvec: &[f64; 2], points: &[[f64; 2]], point: &[f64]) -> Complex64 {
    let mut sum = Complex64::new(0.0, 0.0);
    for w in points.windows(2) {
        sum += compute_scattered_wave_element(kvec, &w[0], &w[1], point);
    }
    sum
}

/// One segment's contribution, recomputing the segment's geometry as the original does.
///
/// The little vectors live on the heap on purpose: the original builds a small
/// NumPy array for each, and that allocation cost is part of what it measures.
#[inline(never)]
#[allow(clippy::useless_vec)]
fn compute_scattered_wave_element(
    kvec: &[f64; 2],
    p0: &[f64; 2],
    p1: &[f64; 2],
    point: &[f64],
) -> Complex64 {
    let xm = vec![0.5 * (p0[0] + p1[0]), 0.5 * (p0[1] + p1[1])];
    let dx = vec![p1[0] - p0[0], p1[1] - p0[1]];
    let dsdt = (dx[0] * dx[0] + dx[1] * dx[1]).sqrt();
    let nvec = vec![-dx[1] / dsdt, dx[0] / dsdt];
    let rvec = vec![point[0] - xm[0], point[1] - xm[1]];
    let r = (rvec[0] * rvec[0] + rvec[1] * rvec[1]).sqrt();
    let kmod = (kvec[0] * kvec[0] + kvec[1] * kvec[1]).sqrt();
    let (h0, h1) = hankel_functions(kmod * r);
    let green = Complex64::new(0.0, 0.25) * h0;
    let ndotr = nvec[0] * rvec[0] + nvec[1] * rvec[1];
    let green_normal_derivative = Complex64::new(0.0, -0.25) * h1 * kmod * ndotr / r;
    let kdotn = kvec[0] * nvec[0] + kvec[1] * nvec[1];
    let shadow = if kdotn > 0.0 { 1.0 } else { -1.0 };
    let e = incident(kvec, &xm);
    -dsdt * green * grad_incident(&nvec, kvec, &xm) + shadow * dsdt * green_normal_derivative * e
}

/// `black_box` keeps this from compiling to a tail jump into the library
/// call, which would leave no frame of its own for a profiler to show.
#[inline(never)]
fn hankel_functions(x: f64) -> (Complex64, Complex64) {
    std::hint::black_box(hankel::reference(x))
}
