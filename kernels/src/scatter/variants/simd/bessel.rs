//! J0, Y0, J1, Y1 lane-wise: the classical approximations of [`crate::scatter::hankel`], vectorised.
//!
//! Same coefficient tables, same switch point, same structure as the scalar
//! [`hankel::approx`](crate::scatter::hankel::approx): rational functions of
//! `x^2` below [`SWITCH`], the asymptotic P/Q form with one shared sine and
//! cosine of `x - pi/4` from it on. The kernel uses the asymptotic pieces
//! directly ([`Asymptotic`]) and evaluates [`small`] only for vectors where
//! some lane lies below the switch. The tests assemble both into the four
//! functions, lane by lane on its own branch, and check them against `libm`
//! and the scalar form.

use pulp::Simd;

use super::division::Division;
use super::maths::{Shift, ln, polynomial, sin_cos_of_sum};
use crate::scatter::hankel::{SWITCH, TWO_OVER_PI, large, small as tables};

/// `J0, Y0, J1, Y1` of every lane.
#[derive(Debug, Clone, Copy)]
pub struct BesselLanes<V> {
    pub j0: V,
    pub y0: V,
    pub j1: V,
    pub y1: V,
}

/// The ingredients of the asymptotic form at `x >= 8`:
/// `J0 = a (cos p0 - sin q0)`, `Y0 = a (sin p0 + cos q0)`,
/// `J1 = a (sin p1 + cos q1)`, `Y1 = a (sin q1 - cos p1)`,
/// with `a = sqrt(2 / (pi x))`, `sin`, `cos` of `x - pi/4`, `q = z * q_series`
/// and the P and Q series in `y = z^2` ([`blended`]).
/// The kernel asks for the sine and cosine of `x - pi/4 + phi` instead, to
/// fold a phase `phi` of its own into them ([`asymptotic`]).
#[derive(Debug, Clone, Copy)]
pub struct Asymptotic<V> {
    pub amplitude: V,
    pub sin: V,
    pub cos: V,
    /// `8 / x`: the factor of the q terms, which the kernel also reuses for `1 / R`.
    pub z: V,
    /// `z^2`, the variable of the P and Q series.
    pub y: V,
}

/// Terms of the P and Q series of [`large`].
pub const SERIES_TERMS: usize = 5;

/// `u P0(y) + v P1(y)` and `u Q0(y) + v Q1(y)` (the q series, without their factor `z`),
/// each as one Horner chain over the blended coefficients `u P0_i + v P1_i`.
///
/// The products `u P0_i` and `u Q0_i` are given (`u_p0`, `u_q0`): the kernel
/// stores them per segment, since its `u = |w| n.k` depends on the segment
/// alone, so each blended coefficient costs one FMA and the pair saves the
/// separate chains of the four series.
#[inline(always)]
pub fn blended<S: Simd>(
    simd: S,
    y: S::f64s,
    u_p0: [S::f64s; SERIES_TERMS],
    u_q0: [S::f64s; SERIES_TERMS],
    v: S::f64s,
) -> (S::f64s, S::f64s) {
    (
        blended_series(simd, y, u_p0, v, &large::P1),
        blended_series(simd, y, u_q0, v, &large::Q1),
    )
}

/// `sum_i (u_first[i] + v second[i]) y^i` by Horner's rule (a loop, not closures:
/// a closure LLVM does not inline loses the level's target features).
#[inline(always)]
fn blended_series<S: Simd>(
    simd: S,
    y: S::f64s,
    u_first: [S::f64s; SERIES_TERMS],
    v: S::f64s,
    second: &[f64; SERIES_TERMS],
) -> S::f64s {
    let last = SERIES_TERMS - 1;
    let mut acc = simd.mul_add_e_f64s(v, simd.splat_f64s(second[last]), u_first[last]);
    for i in (0..last).rev() {
        let coefficient = simd.mul_add_e_f64s(v, simd.splat_f64s(second[i]), u_first[i]);
        acc = simd.mul_add_e_f64s(acc, y, coefficient);
    }
    acc
}

/// The distance and its reciprocals: `x`, `z = 8 / x` and `a = sqrt(2 / (pi x))`,
/// computed by a [`Division`] from `x^2`. Split out so the kernel can start
/// them two vectors ahead of the rest (software pipelining).
#[derive(Debug, Clone, Copy)]
pub struct Reciprocals<V> {
    pub x: V,
    pub z: V,
    pub amplitude: V,
}

/// The asymptotic ingredients of every lane (meaningful where `x >= 8`, finite for any `x > 0`),
/// with the sine and cosine taken of `x + shift`; `shift = -pi/4` gives the functions themselves.
#[inline(always)]
pub fn asymptotic<S: Simd>(
    simd: S,
    reciprocals: Reciprocals<S::f64s>,
    shift: Shift<S::f64s>,
) -> Asymptotic<S::f64s> {
    let Reciprocals { x, z, amplitude } = reciprocals;
    let (sin, cos) = sin_cos_of_sum(simd, x, shift);
    Asymptotic {
        amplitude,
        sin,
        cos,
        z,
        y: simd.mul_f64s(z, z),
    }
}

/// `num(y) / den(y)` (every denominator of [`tables`] is positive for `y >= 0`).
#[inline(always)]
fn rational<D: Division, S: Simd, const N: usize, const M: usize>(
    simd: S,
    y: S::f64s,
    numerator: &[f64; N],
    denominator: &[f64; M],
) -> S::f64s {
    D::quotient(
        simd,
        polynomial(simd, y, numerator),
        polynomial(simd, y, denominator),
    )
}

/// The rational forms for `0 < x < 8` in every lane (meaningless, but harmless, elsewhere),
/// from `x` and its reciprocals (whose `z / 8` is `1 / x`), with the quotients of `D`.
#[inline(always)]
pub fn small<D: Division, S: Simd>(
    simd: S,
    reciprocals: Reciprocals<S::f64s>,
) -> BesselLanes<S::f64s> {
    let Reciprocals { x, z, .. } = reciprocals;
    let y = simd.mul_f64s(x, x);
    let j0 = rational::<D, _, _, _>(simd, y, &tables::J0_NUM, &tables::J0_DEN);
    let j1 = simd.mul_f64s(
        x,
        rational::<D, _, _, _>(simd, y, &tables::J1_NUM, &tables::J1_DEN),
    );
    let two_over_pi = simd.splat_f64s(TWO_OVER_PI);
    let ln_x = ln::<D, _>(simd, x);
    let y0 = simd.mul_add_e_f64s(
        simd.mul_f64s(two_over_pi, j0),
        ln_x,
        rational::<D, _, _, _>(simd, y, &tables::Y0_NUM, &tables::Y0_DEN),
    );
    // Y1 = x num/den + (2/pi) (J1 ln x - 1/x)
    let minus_inverse_x = simd.mul_f64s(z, simd.splat_f64s(-1.0 / SWITCH));
    let singular = simd.mul_add_e_f64s(j1, ln_x, minus_inverse_x);
    let y1 = simd.mul_add_e_f64s(
        two_over_pi,
        singular,
        simd.mul_f64s(
            x,
            rational::<D, _, _, _>(simd, y, &tables::Y1_NUM, &tables::Y1_DEN),
        ),
    );
    BesselLanes { j0, y0, j1, y1 }
}

#[cfg(test)]
mod tests {
    //! The documented accuracy of the SIMD Hankel functions (see `docs/kernel.md`).

    use std::marker::PhantomData;

    use pulp::WithSimd;

    use super::*;
    use crate::scatter::hankel::{self, reference};
    use crate::scatter::variants::simd::division::{HardwareDivision, RefinedDivision};
    use crate::scatter::variants::simd::isa::Isa;
    use crate::scatter::variants::simd::{any_lane, lanewise};

    /// `J0, Y0, J1, Y1` of every lane, each lane on its own branch.
    #[inline(always)]
    fn bessel01<D: Division, S: Simd>(simd: S, x: S::f64s) -> BesselLanes<S::f64s> {
        let quarter_back = Shift::splat(simd, -std::f64::consts::FRAC_PI_4);
        let reciprocals = D::reciprocals(simd, simd.mul_f64s(x, x));
        let large = from_asymptotic(simd, asymptotic(simd, reciprocals, quarter_back));
        let below = simd.less_than_f64s(x, simd.splat_f64s(SWITCH));
        if !any_lane::<S>(below) {
            return large;
        }
        let small = small::<D, _>(simd, reciprocals);
        BesselLanes {
            j0: simd.select_f64s(below, small.j0, large.j0),
            y0: simd.select_f64s(below, small.y0, large.y0),
            j1: simd.select_f64s(below, small.j1, large.j1),
            y1: simd.select_f64s(below, small.y1, large.y1),
        }
    }

    /// The four functions from the asymptotic ingredients, the series from [`blended`] as the kernel evaluates them.
    #[inline(always)]
    fn from_asymptotic<S: Simd>(simd: S, a: Asymptotic<S::f64s>) -> BesselLanes<S::f64s> {
        let (zero, one) = (simd.splat_f64s(0.0), simd.splat_f64s(1.0));
        let (p0_table, q0_table) = (large::P0, large::Q0);
        let p0_splat = std::array::from_fn(|i| simd.splat_f64s(p0_table[i]));
        let q0_splat = std::array::from_fn(|i| simd.splat_f64s(q0_table[i]));
        let (p0, q0_series) = blended(simd, a.y, p0_splat, q0_splat, zero);
        let (p1, q1_series) = blended(simd, a.y, [zero; SERIES_TERMS], [zero; SERIES_TERMS], one);
        let (a_sin, a_cos) = (
            simd.mul_f64s(a.amplitude, a.sin),
            simd.mul_f64s(a.amplitude, a.cos),
        );
        let (q0, q1) = (simd.mul_f64s(a.z, q0_series), simd.mul_f64s(a.z, q1_series));
        BesselLanes {
            j0: simd.negate_mul_add_e_f64s(a_sin, q0, simd.mul_f64s(a_cos, p0)),
            y0: simd.mul_add_e_f64s(a_sin, p0, simd.mul_f64s(a_cos, q0)),
            j1: simd.mul_add_e_f64s(a_sin, p1, simd.mul_f64s(a_cos, q1)),
            y1: simd.negate_mul_add_e_f64s(a_cos, p1, simd.mul_f64s(a_sin, q1)),
        }
    }

    struct Bessel<'a, D>(&'a [f64], PhantomData<D>);

    impl<D: Division> WithSimd for Bessel<'_, D> {
        type Output = Vec<[f64; 4]>;
        fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
            lanewise(simd, self.0, |x| {
                let b = bessel01::<D, S>(simd, x);
                [b.j0, b.y0, b.j1, b.y1]
            })
        }
    }

    /// Largest error over `inputs`, relative to `max(|H0|, |H1|, 1)` as in the scalar test,
    /// against libm and against the scalar approximation, in each formulation of the divisions.
    fn worst_errors(isa: Isa, inputs: &[f64]) -> [(&'static str, f64, f64); 2] {
        [
            (
                "hardware division",
                worst_errors_with::<HardwareDivision>(isa, inputs),
            ),
            (
                "refined division",
                worst_errors_with::<RefinedDivision>(isa, inputs),
            ),
        ]
        .map(|(division, (libm, scalar))| (division, libm, scalar))
    }

    fn worst_errors_with<D: Division>(isa: Isa, inputs: &[f64]) -> (f64, f64) {
        let lanes = isa.run(Bessel::<D>(inputs, PhantomData));
        inputs
            .iter()
            .zip(&lanes)
            .map(|(&x, got)| {
                let (h0, h1) = reference(x);
                let scalar = hankel::approx(x);
                let scale = h0.norm().max(h1.norm()).max(1.0);
                let error = |expected: [f64; 4]| {
                    got.iter()
                        .zip(expected)
                        .map(|(g, e)| (g - e).abs() / scale)
                        .fold(0.0, f64::max)
                };
                (
                    error([h0.re, h0.im, h1.re, h1.im]),
                    error([scalar.j0, scalar.y0, scalar.j1, scalar.y1]),
                )
            })
            .fold((0.0, 0.0), |(a, b), (c, d)| {
                (f64::max(a, c), f64::max(b, d))
            })
    }

    #[test]
    fn simd_hankel_matches_libm_over_the_problem_range_on_every_level() {
        // 0 < x < 200 in steps that do not divide the lane count, so every lane position
        // sees both branches; the same bounds as the scalar approximation's test.
        let small: Vec<f64> = (1..=200_003).map(|i| 8.0 * i as f64 / 200_004.0).collect();
        let large: Vec<f64> = (0..400_003)
            .map(|i| 8.0 + 192.0 * i as f64 / 400_003.0)
            .collect();
        for isa in Isa::available() {
            // Measured: 1.7e-8 below the switch (the rational forms), 4.3e-11 above (P/Q).
            // The scalar form takes std's sine and cosine, the SIMD form the kernel's
            // shorter polynomials (3.4e-12): up to 8.6e-13 apart, 50 times below the
            // approximation's own error.
            for (label, inputs, bound) in [("x < 8", &small, 2e-8), ("8 <= x < 200", &large, 1e-10)]
            {
                for (division, libm, scalar) in worst_errors(isa, inputs) {
                    let case = format!("{isa}, {division}, {label}");
                    eprintln!("{case}: {libm:.2e} from libm, {scalar:.2e} from the scalar form");
                    assert!(libm < bound, "{case}: {libm:e} from libm");
                    assert!(scalar < 1e-12, "{case}: {scalar:e} from the scalar form");
                }
            }
        }
    }

    #[test]
    fn mixed_vectors_take_each_lane_down_its_own_branch() {
        // Around the switch and at the extremes, one lane at a time on the other side.
        let values = [1e-6, 0.5, 7.999999, 8.0, 8.000001, 150.0, 199.9];
        for isa in Isa::available() {
            let lanes = isa.lanes();
            let mut inputs = Vec::new();
            for &odd in &values {
                for &background in &values {
                    for position in 0..lanes {
                        inputs.extend(
                            (0..lanes).map(|i| if i == position { odd } else { background }),
                        );
                    }
                }
            }
            for (division, libm, scalar) in worst_errors(isa, &inputs) {
                assert!(libm < 2e-8, "{isa}, {division}: {libm:e} from libm");
                assert!(
                    scalar < 1e-12,
                    "{isa}, {division}: {scalar:e} from the scalar form"
                );
            }
        }
    }
}
