//! `vectorised`: the NumPy step, whole-array operations that each make a temporary array.
//!
//! For every node the segment arrays are processed the way array code does
//! it: each operation (a difference, a product, the Hankel "ufunc") walks
//! whole arrays and allocates its result. The interpretive per-pair overhead
//! of the original is gone, but the memory traffic and allocations of the
//! temporaries remain, which is what the profile of this variant shows.

use num_complex::{Complex32, Complex64};

use crate::scatter::geometry::{INSIDE_THRESHOLD, Scene};
use crate::scatter::hankel;
use crate::scatter::variants::rows::{
    Execution, RowKernel, RowVariant, VariantInfo, fill_row_by_node,
};

/// Whole-array operations over the segments for each node.
#[derive(Debug, Clone, Copy)]
pub struct VectorisedRows;

pub static VECTORISED: RowVariant<VectorisedRows> = RowVariant {
    info: VariantInfo {
        name: "vectorised",
        summary: "array-at-a-time operations over the segments, a temporary array per operation",
        python_analogue: "NumPy whole-array expressions (scipy.special.hankel1 on arrays)",
        needs: "nothing",
        nominal_ns_per_pair: 60.0,
        bytes_per_pair: 1096.0,
    },
    kernel: VectorisedRows,
    execution: Execution::Serial,
};

fn map(a: &[f64], f: impl Fn(f64) -> f64) -> Vec<f64> {
    a.iter().map(|&v| f(v)).collect()
}

fn zip_map(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    a.iter().zip(b).map(|(&u, &v)| f(u, v)).collect()
}

fn zip_map_complex(
    a: &[Complex64],
    b: &[Complex64],
    f: impl Fn(Complex64, Complex64) -> Complex64,
) -> Vec<Complex64> {
    a.iter().zip(b).map(|(&u, &v)| f(u, v)).collect()
}

impl RowKernel for VectorisedRows {
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
            if is_inside_contour(scene, x, y) {
                return None;
            }
            let (inc_re, inc_im) = scene.incident(x, y);
            Some((
                Complex64::new(inc_re, inc_im),
                compute_scattered_wave(scene, x, y),
            ))
        });
    }
}

/// All cross products at once, then one reduction: `all((a x b) > INSIDE_THRESHOLD)`.
#[inline(never)]
fn is_inside_contour(scene: &Scene, px: f64, py: f64) -> bool {
    let n = scene.points_x.len() - 1;
    let (xc, yc) = (&scene.points_x, &scene.points_y);
    let ax = map(&xc[..n], |v| v - px);
    let ay = map(&yc[..n], |v| v - py);
    let bx = map(&xc[1..], |v| v - px);
    let by = map(&yc[1..], |v| v - py);
    let cross = zip_map(
        &zip_map(&ax, &by, |a, b| a * b),
        &zip_map(&ay, &bx, |a, b| a * b),
        |a, b| a - b,
    );
    cross.iter().all(|&c| c > INSIDE_THRESHOLD)
}

/// The scattered wave at one node, computed array by array as NumPy code would.
#[inline(never)]
fn compute_scattered_wave(scene: &Scene, px: f64, py: f64) -> Complex64 {
    let n = scene.points_x.len() - 1;
    let (xc, yc) = (&scene.points_x, &scene.points_y);
    let (kx, ky, kmod) = (scene.k[0], scene.k[1], scene.kmod);
    // segment geometry, recomputed per call as array code does
    let dx = zip_map(&xc[1..], &xc[..n], |b, a| b - a);
    let dy = zip_map(&yc[1..], &yc[..n], |b, a| b - a);
    let xm = zip_map(&xc[1..], &xc[..n], |b, a| 0.5 * (a + b));
    let ym = zip_map(&yc[1..], &yc[..n], |b, a| 0.5 * (a + b));
    let ds = zip_map(&dx, &dy, |a, b| (a * a + b * b).sqrt());
    let nx = zip_map(&dy, &ds, |d, s| -d / s);
    let ny = zip_map(&dx, &ds, |d, s| d / s);
    // distances and the Hankel "ufunc"
    let rx = map(&xm, |m| px - m);
    let ry = map(&ym, |m| py - m);
    let r = zip_map(&rx, &ry, |a, b| (a * a + b * b).sqrt());
    let kr = map(&r, |v| kmod * v);
    let bessel: Vec<hankel::Bessel01> = kr.iter().map(|&v| hankel::approx(v)).collect();
    let h0: Vec<Complex64> = bessel.iter().map(|b| Complex64::new(b.j0, b.y0)).collect();
    let h1: Vec<Complex64> = bessel.iter().map(|b| Complex64::new(b.j1, b.y1)).collect();
    // Green's function and its normal derivative
    let ndotr = zip_map(
        &zip_map(&nx, &rx, |a, b| a * b),
        &zip_map(&ny, &ry, |a, b| a * b),
        |a, b| a + b,
    );
    let green: Vec<Complex64> = h0.iter().map(|&h| Complex64::new(0.0, 0.25) * h).collect();
    let dgdn_scale = zip_map(&ndotr, &r, |d, r| kmod * d / r);
    let dgdn: Vec<Complex64> = h1
        .iter()
        .zip(&dgdn_scale)
        .map(|(&h, &c)| Complex64::new(0.0, -0.25) * h * c)
        .collect();
    // incident wave and its gradient at the midpoints
    let kdotn = zip_map(&map(&nx, |v| v * kx), &map(&ny, |v| v * ky), |a, b| a + b);
    let e: Vec<Complex64> = zip_map(&xm, &ym, |a, b| kx * a + ky * b)
        .iter()
        .map(|&phase| Complex64::new(0.0, phase).exp())
        .collect();
    let grad: Vec<Complex64> = e
        .iter()
        .zip(&kdotn)
        .map(|(&e, &kn)| Complex64::new(0.0, kn) * e)
        .collect();
    let shadow = map(&kdotn, |kn| if kn > 0.0 { 1.0 } else { -1.0 });
    // contributions, then the sum in segment order
    let single: Vec<Complex64> = zip_map_complex(&green, &grad, |g, gr| g * gr)
        .iter()
        .zip(&ds)
        .map(|(&v, &d)| -d * v)
        .collect();
    let double: Vec<Complex64> = zip_map_complex(&dgdn, &e, |g, e| g * e)
        .iter()
        .zip(ds.iter().zip(&shadow))
        .map(|(&v, (&d, &s))| s * d * v)
        .collect();
    zip_map_complex(&single, &double, |a, b| a + b).iter().sum()
}
