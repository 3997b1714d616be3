//! Grid, wave vector and per-segment constants shared by the optimised variants.
//!
//! The naive variant recomputes all of this per pair, as the original
//! program does; every other variant builds one [`Scene`] per run, so the
//! factors that depend only on a segment are computed once, not once per pair.

use std::f64::consts::PI;

use super::contour::linspace;
use super::problem::Problem;

/// Node coordinates: `x[i]` for `i in 0..=nx`, `y[j]` for `j in 0..=ny`.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

impl Grid {
    /// The reference grid: x from `min(xc) - 5 lambda` to `max(xc) + 3 lambda`,
    /// y from `min(yc) - 3 lambda` to `max(yc) + 4 lambda`, both ends included.
    pub fn new(problem: &Problem) -> Grid {
        let points = problem.contour_points();
        let lambda = problem.wavelength();
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in points {
            for axis in 0..2 {
                lo[axis] = lo[axis].min(p[axis]);
                hi[axis] = hi[axis].max(p[axis]);
            }
        }
        Grid {
            x: linspace(lo[0] - 5.0 * lambda, hi[0] + 3.0 * lambda, problem.nx()).collect(),
            y: linspace(lo[1] - 3.0 * lambda, hi[1] + 4.0 * lambda, problem.ny()).collect(),
        }
    }
}

/// Per-segment constants in structure-of-arrays form.
///
/// For segment `k` from `P_k` to `P_k+1`: midpoint `m`, length `ds`, unit left
/// normal `n`, `n.k`, the sign `s` (+1 when `n.k > 0`), and
/// `a = (ds / 4) exp(i k.m)`, so that the contribution at a node is
/// `a * (nk H0 - i s kmod (n.r)/R H1)`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SegmentTable {
    pub mid_x: Vec<f64>,
    pub mid_y: Vec<f64>,
    pub normal_x: Vec<f64>,
    pub normal_y: Vec<f64>,
    /// `n . k`
    pub n_dot_k: Vec<f64>,
    /// `s * kmod`: the shadow sign folded into the wavenumber.
    pub signed_kmod: Vec<f64>,
    /// Real and imaginary parts of `(ds / 4) exp(i k.m)`.
    pub weight_re: Vec<f64>,
    pub weight_im: Vec<f64>,
}

impl SegmentTable {
    pub fn new(points: &[[f64; 2]], k: [f64; 2]) -> SegmentTable {
        let kmod = k[0].hypot(k[1]);
        let mut table = SegmentTable::default();
        for w in points.windows(2) {
            let (p0, p1) = (w[0], w[1]);
            let (dx, dy) = (p1[0] - p0[0], p1[1] - p0[1]);
            let ds = dx.hypot(dy);
            let (nx, ny) = (-dy / ds, dx / ds);
            let (mx, my) = (0.5 * (p0[0] + p1[0]), 0.5 * (p0[1] + p1[1]));
            let nk = nx * k[0] + ny * k[1];
            let (sin_km, cos_km) = (k[0] * mx + k[1] * my).sin_cos();
            table.mid_x.push(mx);
            table.mid_y.push(my);
            table.normal_x.push(nx);
            table.normal_y.push(ny);
            table.n_dot_k.push(nk);
            table.signed_kmod.push(if nk > 0.0 { kmod } else { -kmod });
            table.weight_re.push(0.25 * ds * cos_km);
            table.weight_im.push(0.25 * ds * sin_km);
        }
        table
    }

    pub fn len(&self) -> usize {
        self.mid_x.len()
    }

    pub fn is_empty(&self) -> bool {
        self.mid_x.is_empty()
    }
}

/// Everything a variant needs, computed once per run.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    pub grid: Grid,
    /// Contour points, `nc + 1`, anticlockwise.
    pub points: Vec<[f64; 2]>,
    /// Contour point coordinates split for vector loads (`nc + 1` each).
    pub points_x: Vec<f64>,
    pub points_y: Vec<f64>,
    /// Wave vector `(2 pi / lambda, 0)`.
    pub k: [f64; 2],
    pub kmod: f64,
    pub segments: SegmentTable,
}

impl Scene {
    pub fn new(problem: &Problem) -> Scene {
        let points = problem.contour_points().to_vec();
        let k = [2.0 * PI / problem.wavelength(), 0.0];
        Scene {
            grid: Grid::new(problem),
            points_x: points.iter().map(|p| p[0]).collect(),
            points_y: points.iter().map(|p| p[1]).collect(),
            segments: SegmentTable::new(&points, k),
            kmod: k[0].hypot(k[1]),
            k,
            points,
        }
    }

    pub fn nodes_x(&self) -> usize {
        self.grid.x.len()
    }

    pub fn nodes_y(&self) -> usize {
        self.grid.y.len()
    }

    /// The incident wave `exp(i k.p)` at a node.
    pub fn incident(&self, x: f64, y: f64) -> (f64, f64) {
        let (s, c) = (self.k[0] * x + self.k[1] * y).sin_cos();
        (c, s)
    }
}

/// The cross product every edge must strictly exceed for a node to be inside ([`is_inside`]).
///
/// Every variant's inside test uses it, the GPU shader included, so all agree on every node.
pub const INSIDE_THRESHOLD: f64 = 1e-10;

/// The reference inside test: `p` is inside only if every cross product
/// `(P_k - p) x (P_k+1 - p)` is strictly greater than [`INSIDE_THRESHOLD`].
pub fn is_inside(points: &[[f64; 2]], p: [f64; 2]) -> bool {
    points.windows(2).all(|w| {
        let (ax, ay) = (w[0][0] - p[0], w[0][1] - p[1]);
        let (bx, by) = (w[1][0] - p[0], w[1][1] - p[1]);
        ax * by - ay * bx > INSIDE_THRESHOLD
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_counts_match_the_spec() {
        for (cells, inside) in [(128, 1450), (64, 360), (32, 89)] {
            let problem = Problem::builder()
                .cells(cells, cells)
                .segments(cells)
                .build()
                .unwrap();
            let scene = Scene::new(&problem);
            let count = scene
                .grid
                .y
                .iter()
                .flat_map(|&y| scene.grid.x.iter().map(move |&x| [x, y]))
                .filter(|&p| is_inside(&scene.points, p))
                .count();
            assert_eq!(count, inside, "{cells}^3");
        }
    }

    #[test]
    fn normals_point_into_the_obstacle() {
        let problem = Problem::builder()
            .contour(super::super::Contour::Circle)
            .segments(16)
            .build()
            .unwrap();
        let scene = Scene::new(&problem);
        for k in 0..scene.segments.len() {
            let inward = -(scene.segments.mid_x[k] * scene.segments.normal_x[k]
                + scene.segments.mid_y[k] * scene.segments.normal_y[k]);
            assert!(inward > 0.9, "segment {k}");
        }
    }
}
