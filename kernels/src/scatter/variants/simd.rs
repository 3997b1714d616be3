//! `simd`: explicit SIMD with runtime dispatch, the step a hand-vectorised C++ extension gives.
//!
//! Each node's sum over segments runs several segments per instruction
//! (8 f64 lanes with AVX-512, 4 with AVX2+FMA, 2 with NEON, 1 in the scalar
//! fallback), with our own lane-wise Hankel functions ([`bessel`]) and
//! elementary functions ([`maths`]). The instruction set is chosen at run
//! time ([`isa::Isa`]), so one binary is fast on every machine and never
//! executes an instruction the CPU lacks. So is the way it divides and takes
//! square roots ([`division`]): with the hardware's instructions, or
//! divide-free where the divider is the bottleneck, whichever [`plan`]
//! measures faster on this core. The inside test and the incident
//! wave are vectorised too: the former costs nodes x segments, the same
//! order as the pairs.
//!
//! The per-pair formulation folds the asymptotic Hankel form into the
//! contribution: with `c = s kmod (n.r) / R` and the segment's weight
//! `w = |w| e^{i phi}`,
//! `w (nk H0 - i c H1) = a e^{i(x - pi/4 + phi)} (A + i B)`,
//! `A = |w| (nk p0 - c p1)`, `B = |w| (nk q0 - c q1)`: the weight's modulus
//! is folded into the segment's constants and its phase into the sine and
//! cosine the Hankel form needs anyway, so a pair adds its term to the sum
//! without a complex multiplication. Its operation count is in
//! [`crate::scatter::cost`] and `docs/kernel.md`.

pub mod bessel;
pub mod division;
pub mod isa;
pub mod maths;
pub mod plan;

use std::marker::PhantomData;

use num_complex::Complex32;
use pulp::{Simd, WithSimd};

use self::bessel::{Reciprocals, SERIES_TERMS, asymptotic, blended, small};
use self::division::{Division, Formulation, HardwareDivision, RefinedDivision};
use self::isa::Isa;
use self::maths::{Shift, sin_cos};
use crate::scatter::geometry::{INSIDE_THRESHOLD, Scene};
use crate::scatter::hankel::{SWITCH, large};
use crate::scatter::variants::rows::{Execution, RowKernel, RowVariant, VariantInfo};

/// The row kernel, on the best instruction set of this CPU and the faster
/// division formulation measured here ([`plan`]), or on chosen ones.
#[derive(Debug, Clone, Copy)]
pub struct SimdRows {
    forced: Option<(Isa, Formulation)>,
}

impl SimdRows {
    /// Runs on the best level this CPU supports, with the formulation [`plan::fastest`] measures for it.
    pub const DETECTED: SimdRows = SimdRows { forced: None };

    /// Runs on `isa` (any [`Isa`] is supported by this CPU by construction) with `formulation`.
    pub fn on(isa: Isa, formulation: Formulation) -> SimdRows {
        SimdRows {
            forced: Some((isa, formulation)),
        }
    }

    /// The level rows are computed with.
    pub fn isa(&self) -> Isa {
        self.forced.map_or_else(Isa::detect, |(isa, _)| isa)
    }

    /// How the rows divide and take square roots (measured once per process for [`SimdRows::DETECTED`]).
    pub fn formulation(&self) -> Formulation {
        self.forced.map_or_else(
            || plan::fastest(Isa::detect()).formulation,
            |(_, formulation)| formulation,
        )
    }
}

pub(crate) const INFO: VariantInfo = VariantInfo {
    name: "simd",
    summary: "explicit SIMD over the segments, instruction set chosen at run time, own vector Hankel",
    python_analogue: "a hand-vectorised C++ extension (intrinsics or xsimd) called from Python",
    needs: "nothing (fastest with AVX-512 or AVX2+FMA)",
    nominal_ns_per_pair: 2.4,
    bytes_per_pair: 152.0,
};

pub static SIMD: RowVariant<SimdRows> = RowVariant {
    info: INFO,
    kernel: SimdRows::DETECTED,
    execution: Execution::Serial,
};

pub static THREADS_SIMD: RowVariant<SimdRows> = RowVariant {
    info: VariantInfo {
        name: "threads+simd",
        summary: "the SIMD kernel with rows spread over a rayon pool",
        python_analogue: "the C++ extension with OpenMP threads (the training's fastest step)",
        needs: "more than one usable core to pay off",
        ..INFO
    },
    kernel: SimdRows::DETECTED,
    execution: Execution::Threads,
};

impl RowKernel for SimdRows {
    type Prepared = KernelSegments;

    /// Also settles the formulation (the first call of a process measures it), so the
    /// rows read it from the table instead of asking the plan each time.
    fn prepare(&self, scene: &Scene) -> KernelSegments {
        KernelSegments::new(scene, self.isa().lanes(), self.formulation())
    }

    fn row(
        &self,
        scene: &Scene,
        segments: &KernelSegments,
        j: usize,
        incident: &mut [Complex32],
        scattered: &mut [Complex32],
    ) {
        let isa = self.isa();
        match segments.formulation {
            Formulation::Hardware => isa.run(Row::<HardwareDivision>::new(
                scene, segments, j, incident, scattered,
            )),
            Formulation::Refined => isa.run(Row::<RefinedDivision>::new(
                scene, segments, j, incident, scattered,
            )),
        }
    }

    /// The level and the formulation, with the measured margin when it was chosen here,
    /// e.g. `AVX-512 (x86-v4), 8 f64 lanes, hardware sqrt/div (1.21x faster here)`.
    fn describe(&self) -> Option<String> {
        let isa = self.isa();
        Some(match self.forced {
            Some((_, formulation)) => format!("{isa}, {}", formulation.name()),
            None => {
                let plan = plan::fastest(isa);
                format!(
                    "{isa}, {} ({:.2}x faster here)",
                    plan.formulation.name(),
                    plan.margin()
                )
            }
        })
    }
}

/// One row of the field, as a pulp operation, dividing as `D` does.
struct Row<'a, D> {
    scene: &'a Scene,
    segments: &'a KernelSegments,
    j: usize,
    incident: &'a mut [Complex32],
    scattered: &'a mut [Complex32],
    division: PhantomData<D>,
}

impl<'a, D> Row<'a, D> {
    fn new(
        scene: &'a Scene,
        segments: &'a KernelSegments,
        j: usize,
        incident: &'a mut [Complex32],
        scattered: &'a mut [Complex32],
    ) -> Self {
        Row {
            scene,
            segments,
            j,
            incident,
            scattered,
            division: PhantomData,
        }
    }
}

impl<D: Division> WithSimd for Row<'_, D> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let scene = self.scene;
        let y = scene.grid.y[self.j];
        let edges = Edges::<S>::new(&scene.points_x, &scene.points_y);
        let lanes = S::F64_LANES;
        for (chunk, xs) in scene.grid.x.chunks(lanes).enumerate() {
            // The incident wave of a whole vector of nodes at once.
            let phase = simd.mul_add_e_f64s(
                simd.partial_load_f64s(xs),
                simd.splat_f64s(scene.k[0]),
                simd.splat_f64s(scene.k[1] * y),
            );
            let (sin, cos) = sin_cos(simd, phase);
            let (sin, cos) = (as_lanes::<S>(&sin), as_lanes::<S>(&cos));
            for (lane, &x) in xs.iter().enumerate() {
                if !edges.contain(simd, x, y) {
                    self.incident[chunk * lanes + lane] =
                        Complex32::new(cos[lane] as f32, sin[lane] as f32);
                }
            }
        }
        // The outside nodes are now those with an incident wave (of modulus 1;
        // inside nodes keep exactly zero). Each node starts the distances and
        // reciprocals of the next one's first segment vectors during its own
        // last two, so the pipeline stays full from node to node.
        let incident = &*self.incident;
        let scaled = |i: usize| [scene.kmod * scene.grid.x[i], scene.kmod * y];
        let mut outside = (0..incident.len())
            .filter(|&i| incident[i] != Complex32::ZERO)
            .peekable();
        let Some(&first) = outside.peek() else {
            return;
        };
        let blocks = self.segments.blocks::<S>();
        let mut started = start::<D, S>(simd, blocks, scaled(first));
        while let Some(i) = outside.next() {
            // The row's last node starts itself again, for nothing.
            let following = scaled(*outside.peek().unwrap_or(&i));
            let ((re, im), carried) =
                scattered_at::<D, S>(simd, blocks, scaled(i), started, following);
            self.scattered[i] = Complex32::new(re as f32, im as f32);
            started = carried;
        }
    }
}

/// The lanes of a vector as a slice.
#[inline(always)]
fn as_lanes<S: Simd>(v: &S::f64s) -> &[f64] {
    pulp::bytemuck::cast_slice(std::slice::from_ref(v))
}

/// Whether any lane of `mask` is set (any level: AVX-512 bit masks, vector masks, `bool`).
#[inline(always)]
pub(crate) fn any_lane<S: Simd>(mask: S::m64s) -> bool {
    pulp::bytemuck::bytes_of(&mask)
        .iter()
        .any(|&byte| byte != 0)
}

/// The contour's edges `P_k -> P_k+1` as whole vectors plus a short tail.
struct Edges<'a, S: Simd> {
    whole: [&'a [S::f64s]; 4],
    tail: [&'a [f64]; 4],
}

impl<'a, S: Simd> Edges<'a, S> {
    fn new(points_x: &'a [f64], points_y: &'a [f64]) -> Self {
        let n = points_x.len() - 1;
        let split = [
            &points_x[..n],
            &points_y[..n],
            &points_x[1..],
            &points_y[1..],
        ]
        .map(S::as_simd_f64s);
        Edges {
            whole: split.map(|(whole, _)| whole),
            tail: split.map(|(_, tail)| tail),
        }
    }

    /// The reference inside test, lane-wise: every cross product
    /// `(P_k - p) x (P_k+1 - p)` strictly above [`INSIDE_THRESHOLD`], with the same
    /// roundings as [`crate::scatter::is_inside`] (no fused operations), so
    /// both agree on every node. Stops at the first vector with a failing edge.
    #[inline(always)]
    fn contain(&self, simd: S, px: f64, py: f64) -> bool {
        // Loops and indexing, not closures: a closure LLVM does not inline
        // loses the level's target features.
        let (px, py) = (simd.splat_f64s(px), simd.splat_f64s(py));
        let [start_x, start_y, end_x, end_y] = self.whole;
        // All four columns have the first one's length: saying so drops the bounds checks.
        let n = start_x.len();
        let (start_y, end_x, end_y) = (&start_y[..n], &end_x[..n], &end_y[..n]);
        for k in 0..n {
            let edges = [start_x[k], start_y[k], end_x[k], end_y[k]];
            if any_lane::<S>(failing_edges(simd, px, py, edges)) {
                return false;
            }
        }
        let [start_x, start_y, end_x, end_y] = self.tail;
        let tail_len = start_x.len();
        if tail_len == 0 {
            return true;
        }
        let tail = [
            simd.partial_load_f64s(start_x),
            simd.partial_load_f64s(start_y),
            simd.partial_load_f64s(end_x),
            simd.partial_load_f64s(end_y),
        ];
        // Lanes past the last edge do not count.
        let valid = simd.less_than_f64s(lane_index(simd), simd.splat_f64s(tail_len as f64));
        !any_lane::<S>(simd.and_m64s(failing_edges(simd, px, py, tail), valid))
    }
}

/// The lanes whose edge `(start, end)` fails the inside test at `p`:
/// not `(start - p) x (end - p) > INSIDE_THRESHOLD`.
#[inline(always)]
fn failing_edges<S: Simd>(
    simd: S,
    px: S::f64s,
    py: S::f64s,
    [start_x, start_y, end_x, end_y]: [S::f64s; 4],
) -> S::m64s {
    let (ax, ay) = (simd.sub_f64s(start_x, px), simd.sub_f64s(start_y, py));
    let (bx, by) = (simd.sub_f64s(end_x, px), simd.sub_f64s(end_y, py));
    let cross = simd.sub_f64s(simd.mul_f64s(ax, by), simd.mul_f64s(ay, bx));
    simd.not_m64s(simd.greater_than_f64s(cross, simd.splat_f64s(INSIDE_THRESHOLD)))
}

/// `0, 1, 2, ...` in the lanes.
#[inline(always)]
fn lane_index<S: Simd>(simd: S) -> S::f64s {
    const INDEX: [f64; 8] = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
    simd.partial_load_f64s(&INDEX[..S::F64_LANES])
}

/// Where each quantity sits in a block of [`KernelSegments`] (a series takes [`SERIES_TERMS`] places).
mod column {
    use super::SERIES_TERMS;
    pub const MID_X: usize = 0;
    pub const MID_Y: usize = 1;
    pub const NORMAL_X: usize = 2;
    pub const NORMAL_Y: usize = 3;
    pub const MINUS_NORMAL_DOT_MID: usize = 4;
    pub const SHIFT_RADIANS: usize = 5;
    pub const SHIFT_QUARTER_TURNS: usize = 6;
    pub const DIRECTION_RE: usize = 7;
    pub const DIRECTION_IM: usize = 8;
    pub const U_P0: usize = 9;
    pub const U_Q0: usize = U_P0 + SERIES_TERMS;
    pub const COUNT: usize = U_Q0 + SERIES_TERMS;
}

/// One segment vector's constants: a vector per quantity, in [`column`] order.
type Block<V> = [V; column::COUNT];

/// The segment table in the kernel's own layout, so that a pair needs no work that depends on the segment alone.
///
/// Coordinates are scaled by `kmod` (then `x = kmod R` is a plain distance).
/// The normal carries `-s kmod |w| / 8`, so `v = -c |w| = (m . r') z` with
/// `r' = kmod r` and `z = 8 / x`; `m . r'` is taken as `m . p' - m . mid'`,
/// the latter stored. With `u = |w| n.k`, the products `u P0_i` and `u Q0_i`
/// of the asymptotic series are stored, so a pair blends them with `v P1_i`,
/// `v Q1_i` in one FMA each ([`blended`]); `u P0_0 = u` serves the
/// small-argument branch. The weight's phase is kept with the Hankel form's
/// `-pi/4` added (in radians and in quarter turns, see [`Shift`]), and its
/// direction `w / |w|` serves the rare pairs on the small-argument branch.
///
/// Layout: one [`Block`] per vector of `lanes` segments, the vectors of a
/// block consecutive and the blocks aligned to 64 bytes, so a pair's 19
/// loads come from one base address at fixed offsets and never straddle a
/// cache line (separate columns needed a register per column and spilled).
/// Padded to whole vectors (at least two) with zero-weight copies of the
/// last segment, which add exactly nothing. Built once per run
/// ([`RowKernel::prepare`]) for the run's instruction set.
pub struct KernelSegments {
    /// `start` f64 of padding to reach 64-byte alignment, then the blocks.
    values: Vec<f64>,
    start: usize,
    lanes: usize,
    /// How the rows of this run divide (settled by [`RowKernel::prepare`]).
    formulation: Formulation,
}

impl KernelSegments {
    fn new(scene: &Scene, lanes: usize, formulation: Formulation) -> KernelSegments {
        let s = &scene.segments;
        // At least two vectors, so that a node always has two to start the next one with.
        let vectors = s.len().div_ceil(lanes).max(2);
        // Each segment's quantities, computed once (prepare is the serial part of a threaded run).
        let segment = |k: usize| -> [f64; column::COUNT] {
            let modulus = s.weight_re[k].hypot(s.weight_im[k]);
            let mid = [scene.kmod * s.mid_x[k], scene.kmod * s.mid_y[k]];
            let scale = -s.signed_kmod[k] * modulus / SWITCH;
            let normal = [s.normal_x[k] * scale, s.normal_y[k] * scale];
            let u = s.n_dot_k[k] * modulus;
            let shift = s.weight_im[k].atan2(s.weight_re[k]) - std::f64::consts::FRAC_PI_4;
            // A zero-length segment has no direction and adds nothing.
            let direction = |part: f64| if modulus == 0.0 { 0.0 } else { part / modulus };
            let mut values = [0.0; column::COUNT];
            values[column::MID_X] = mid[0];
            values[column::MID_Y] = mid[1];
            values[column::NORMAL_X] = normal[0];
            values[column::NORMAL_Y] = normal[1];
            values[column::MINUS_NORMAL_DOT_MID] = -(normal[0] * mid[0] + normal[1] * mid[1]);
            values[column::SHIFT_RADIANS] = shift;
            values[column::SHIFT_QUARTER_TURNS] = shift * std::f64::consts::FRAC_2_PI;
            values[column::DIRECTION_RE] = direction(s.weight_re[k]);
            values[column::DIRECTION_IM] = direction(s.weight_im[k]);
            for (i, (p0, q0)) in large::P0.iter().zip(large::Q0).enumerate() {
                values[column::U_P0 + i] = u * p0;
                values[column::U_Q0 + i] = u * q0;
            }
            values
        };
        let segments: Vec<[f64; column::COUNT]> = (0..s.len()).map(segment).collect();
        // The padding repeats the last midpoint (a finite distance) with zero weight.
        let last = segments[s.len() - 1];
        let mut padding = [0.0; column::COUNT];
        padding[column::MID_X] = last[column::MID_X];
        padding[column::MID_Y] = last[column::MID_Y];
        let len = vectors * column::COUNT * lanes;
        let mut values: Vec<f64> = Vec::with_capacity(len + 8);
        let start = values.as_ptr().align_offset(64).min(8);
        values.resize(start, 0.0);
        for vector in 0..vectors {
            let lanes_of = |k: usize| segments.get(k).unwrap_or(&padding);
            for quantity in 0..column::COUNT {
                values.extend((0..lanes).map(|lane| lanes_of(vector * lanes + lane)[quantity]));
            }
        }
        KernelSegments {
            values,
            start,
            lanes,
            formulation,
        }
    }

    /// The blocks, one per segment vector of `S`.
    #[inline(always)]
    fn blocks<S: Simd>(&self) -> &[Block<S::f64s>] {
        assert_eq!(
            self.lanes,
            S::F64_LANES,
            "segments laid out for another level"
        );
        let (vectors, tail) = S::as_simd_f64s(&self.values[self.start..]);
        debug_assert!(tail.is_empty(), "whole vectors");
        let (blocks, rest) = vectors.as_chunks::<{ column::COUNT }>();
        debug_assert!(rest.is_empty(), "whole blocks");
        blocks
    }
}

/// The distances and reciprocals of a node's first two segment vectors.
type Started<V> = [Reciprocals<V>; 2];

/// Issues the first two segment vectors of the scaled node `kmod p` (the first outside node of a row).
#[inline(always)]
fn start<D: Division, S: Simd>(
    simd: S,
    blocks: &[Block<S::f64s>],
    [scaled_px, scaled_py]: [f64; 2],
) -> Started<S::f64s> {
    let (px, py) = (simd.splat_f64s(scaled_px), simd.splat_f64s(scaled_py));
    [
        reciprocals_at::<D, S>(simd, px, py, &blocks[0]),
        reciprocals_at::<D, S>(simd, px, py, &blocks[1]),
    ]
}

/// The scattered wave at the scaled node `kmod p`: lane `l` accumulates
/// segments `l, l + lanes, ...`, then the lanes are summed.
///
/// `started` holds this node's first two vectors, issued by the previous
/// node (or [`start`]); the last two vectors issue those of the `following`
/// node and return them.
#[inline(always)]
fn scattered_at<D: Division, S: Simd>(
    simd: S,
    blocks: &[Block<S::f64s>],
    [scaled_px, scaled_py]: [f64; 2],
    started: Started<S::f64s>,
    [following_x, following_y]: [f64; 2],
) -> ((f64, f64), Started<S::f64s>) {
    let n = blocks.len();
    let (px, py) = (simd.splat_f64s(scaled_px), simd.splat_f64s(scaled_py));
    let (fx, fy) = (simd.splat_f64s(following_x), simd.splat_f64s(following_y));
    // The distance of each vector and its division and square roots are issued
    // two vectors ahead, so that their latency overlaps the polynomial work of
    // the vectors in between (software pipelining; LLVM places them at the end
    // of the loop body, hence two ahead rather than one). The last two vectors
    // issue the following node's first two.
    let zero = simd.splat_f64s(0.0);
    let (mut sum_re, mut sum_im) = (zero, zero);
    let [mut current, mut next] = started;
    let pipelined = n - 2;
    for k in 0..n {
        let (ahead_x, ahead_y, ahead) = if k < pipelined {
            (px, py, k + 2)
        } else {
            (fx, fy, k - pipelined)
        };
        let after_next = reciprocals_at::<D, S>(simd, ahead_x, ahead_y, &blocks[ahead]);
        let (term_re, term_im) =
            pair_terms::<D, S>(simd, px, py, current, SegmentVector::of(&blocks[k]));
        sum_re = simd.add_f64s(sum_re, term_re);
        sum_im = simd.add_f64s(sum_im, term_im);
        current = next;
        next = after_next;
    }
    (
        (simd.reduce_sum_f64s(sum_re), simd.reduce_sum_f64s(sum_im)),
        [current, next],
    )
}

/// `x = |r'|` for the scaled offsets `r' = kmod (p - mid)`, and the reciprocals of `x`, from `|r'|^2`.
#[inline(always)]
fn reciprocals_at<D: Division, S: Simd>(
    simd: S,
    px: S::f64s,
    py: S::f64s,
    block: &Block<S::f64s>,
) -> Reciprocals<S::f64s> {
    let rx = simd.sub_f64s(px, block[column::MID_X]);
    let ry = simd.sub_f64s(py, block[column::MID_Y]);
    D::reciprocals(simd, simd.mul_add_e_f64s(rx, rx, simd.mul_f64s(ry, ry)))
}

/// `u P0_0 = u`: the small-argument branch reads `u` from the first series column.
const _: () = assert!(large::P0[0] == 1.0);

/// One vector of segments' constants from [`KernelSegments`], as a pair needs them.
struct SegmentVector<V> {
    /// `m = -s kmod |w| n / 8`.
    normal_x: V,
    normal_y: V,
    /// `-(m . mid')`.
    minus_normal_dot_mid: V,
    /// `u P0_i` and `u Q0_i`, `u = |w| n.k`.
    u_p0: [V; SERIES_TERMS],
    u_q0: [V; SERIES_TERMS],
    /// `phi - pi/4`, `phi` the weight's phase.
    shift: Shift<V>,
    /// `w / |w|`.
    direction_re: V,
    direction_im: V,
}

impl<V: Copy> SegmentVector<V> {
    /// The constants of one block.
    #[inline(always)]
    fn of(block: &Block<V>) -> SegmentVector<V> {
        SegmentVector {
            normal_x: block[column::NORMAL_X],
            normal_y: block[column::NORMAL_Y],
            minus_normal_dot_mid: block[column::MINUS_NORMAL_DOT_MID],
            u_p0: series(block, column::U_P0),
            u_q0: series(block, column::U_Q0),
            shift: Shift {
                radians: block[column::SHIFT_RADIANS],
                quarter_turns: block[column::SHIFT_QUARTER_TURNS],
            },
            direction_re: block[column::DIRECTION_RE],
            direction_im: block[column::DIRECTION_IM],
        }
    }
}

/// The [`SERIES_TERMS`] vectors of a block from column `first` on.
///
/// A function, not a closure: a closure LLVM does not inline loses the level's target features.
#[inline(always)]
fn series<V: Copy>(block: &Block<V>, first: usize) -> [V; SERIES_TERMS] {
    *block[first..]
        .first_chunk()
        .expect("a series lies inside its block")
}

/// `w (nk H0(x) - i c H1(x))` for a vector of pairs, from the scaled node
/// `p' = kmod p` and the segments' constants.
#[inline(always)]
fn pair_terms<D: Division, S: Simd>(
    simd: S,
    px: S::f64s,
    py: S::f64s,
    reciprocals: Reciprocals<S::f64s>,
    segments: SegmentVector<S::f64s>,
) -> (S::f64s, S::f64s) {
    let SegmentVector {
        normal_x,
        normal_y,
        minus_normal_dot_mid,
        u_p0,
        u_q0,
        shift,
        direction_re,
        direction_im,
    } = segments;
    let x = reciprocals.x;
    let a = asymptotic(simd, reciprocals, shift);
    // v = -c |w| = -s kmod |w| (n.r) / R = (m . r') z, m . r' = m . p' - m . mid'
    let minus_c = simd.mul_f64s(
        simd.mul_add_e_f64s(
            normal_x,
            px,
            simd.mul_add_e_f64s(normal_y, py, minus_normal_dot_mid),
        ),
        a.z,
    );
    // w (nk H0 - i c H1) = a e^{i(x - pi/4 + phi)} (A + i B),
    // A = u P0 + v P1, B = z (u Q0 + v Q1)
    let (big_a, b_series) = blended(simd, a.y, u_p0, u_q0, minus_c);
    let big_b = simd.mul_f64s(a.z, b_series);
    let (a_cos, a_sin) = (
        simd.mul_f64s(a.amplitude, a.cos),
        simd.mul_f64s(a.amplitude, a.sin),
    );
    let term_re = simd.negate_mul_add_e_f64s(a_sin, big_b, simd.mul_f64s(a_cos, big_a));
    let term_im = simd.mul_add_e_f64s(a_sin, big_a, simd.mul_f64s(a_cos, big_b));
    let below = simd.less_than_f64s(x, simd.splat_f64s(SWITCH));
    if !any_lane::<S>(below) {
        return (term_re, term_im);
    }
    // Some segment is within 8 / kmod of the node: those lanes take the rational forms,
    // |w| (nk H0 - i c H1), turned by the weight's direction.
    let b = small::<D, S>(simd, reciprocals);
    let n_dot_k = u_p0[0];
    let near_re = simd.negate_mul_add_e_f64s(minus_c, b.y1, simd.mul_f64s(n_dot_k, b.j0));
    let near_im = simd.mul_add_e_f64s(minus_c, b.j1, simd.mul_f64s(n_dot_k, b.y0));
    let turned_re =
        simd.negate_mul_add_e_f64s(direction_im, near_im, simd.mul_f64s(direction_re, near_re));
    let turned_im =
        simd.mul_add_e_f64s(direction_im, near_re, simd.mul_f64s(direction_re, near_im));
    (
        simd.select_f64s(below, turned_re, term_re),
        simd.select_f64s(below, turned_im, term_im),
    )
}

/// Evaluates a lane-wise function over `inputs`, consecutive inputs in consecutive lanes (tests only).
#[cfg(test)]
pub(crate) fn lanewise<S: Simd, const K: usize>(
    simd: S,
    inputs: &[f64],
    f: impl Fn(S::f64s) -> [S::f64s; K],
) -> Vec<[f64; K]> {
    let mut out = Vec::with_capacity(inputs.len());
    for chunk in inputs.chunks(S::F64_LANES) {
        // Pad a short last vector with its first value, so every lane holds a valid argument.
        let mut padded = [chunk[0]; 8];
        padded[..chunk.len()].copy_from_slice(chunk);
        let results = f(simd.partial_load_f64s(&padded[..S::F64_LANES]));
        for lane in 0..chunk.len() {
            out.push(std::array::from_fn(|k| as_lanes::<S>(&results[k])[lane]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scatter::registry;
    use crate::scatter::variant::{RunSettings, Variant};
    use crate::scatter::{Contour, Problem};

    /// The registry test runs the detected level and formulation; this runs every other
    /// level this CPU has (on this AVX-512 machine: AVX2+FMA and the scalar fallback),
    /// in both formulations of the divisions, against `naive`.
    #[test]
    fn every_instruction_set_agrees_with_naive() {
        let problems = [
            Problem::builder()
                .cells(24, 20)
                .segments(37)
                .build()
                .unwrap(),
            Problem::builder()
                .cells(20, 20)
                .segments(16)
                .contour(Contour::Circle)
                .wavelength(0.3)
                .build()
                .unwrap(),
        ];
        for problem in &problems {
            let reference = registry::reference()
                .run(problem, &RunSettings::default())
                .unwrap()
                .field
                .unwrap();
            let levels = Isa::available().into_iter();
            for (isa, formulation) in
                levels.flat_map(|isa| Formulation::ALL.map(|formulation| (isa, formulation)))
            {
                let variant = RowVariant {
                    info: INFO,
                    kernel: SimdRows::on(isa, formulation),
                    execution: Execution::Serial,
                };
                let output = variant.run(problem, &RunSettings::default()).unwrap();
                let isa = format!("{isa}, {}", formulation.name());
                assert_eq!(output.notes, vec![isa.clone()]);
                let field = output.field.unwrap();
                assert_eq!(field.incident.len(), reference.incident.len());
                let agreement = field.agreement(&reference);
                assert!(
                    agreement.within(1e-6, 1e-7),
                    "{isa} on {problem}: {agreement:?}"
                );
                // Inside nodes are exactly the reference's, incident wave included.
                for (ours, theirs) in field.incident.iter().zip(&reference.incident) {
                    assert_eq!(
                        ours.re == 0.0 && ours.im == 0.0,
                        theirs.re == 0.0 && theirs.im == 0.0
                    );
                    assert!(
                        (ours - theirs).norm() < 1e-6,
                        "{isa}: incident {ours} vs {theirs}"
                    );
                }
            }
        }
    }
}
