//! Lane-wise elementary functions for the SIMD kernel: polynomials, sine/cosine with range reduction, ln.
//!
//! Everything here is generic over pulp's [`Simd`] and `#[inline(always)]`,
//! so it compiles into the caller under the dispatched level's target
//! features. The sine and cosine polynomials are fitted for this kernel
//! (`kernels/tools/fit-sin-cos.py`): they run once per pair and the
//! multiply-add pipes bound the kernel, so each is one Horner chain, as
//! short as the Hankel approximation allows: 3.4e-12 and 5.6e-14 on
//! `|r| <= pi/4`, against the approximation's own 4.3e-11 (x >= 8) and
//! 1.7e-8 (x < 8). The logarithm is FreeBSD msun's `log` (as ported by the
//! `libm` crate), accurate to about one unit in the last place.

// The msun constants keep their published digits, so they can be checked against the source.
#![allow(clippy::excessive_precision)]

use pulp::Simd;

use super::division::Division;
use crate::scatter::hankel::{HornerArithmetic, horner};

/// pulp's lane-wise arithmetic as a [`HornerArithmetic`], so the Hankel tables are evaluated by the shared [`horner`].
#[derive(Debug, Clone, Copy)]
pub struct Lanes<S>(pub S);

impl<S: Simd> HornerArithmetic for Lanes<S> {
    type Value = S::f64s;
    #[inline(always)]
    fn splat(self, c: f64) -> S::f64s {
        self.0.splat_f64s(c)
    }
    #[inline(always)]
    fn mul_add(self, a: S::f64s, b: S::f64s, c: S::f64s) -> S::f64s {
        self.0.mul_add_e_f64s(a, b, c)
    }
}

/// Lane-wise polynomial in `y`, lowest power first in `coefficients`.
#[inline(always)]
pub fn polynomial<S: Simd, const N: usize>(
    simd: S,
    y: S::f64s,
    coefficients: &[f64; N],
) -> S::f64s {
    horner(Lanes(simd), y, coefficients)
}

/// `sin(r) = r * SIN(r^2)` on `|r| <= pi/4`, worst absolute error 3.4e-12
/// (fitted for this kernel by `kernels/tools/fit-sin-cos.py`).
const SIN: [f64; 5] = [
    0.999999999995673,
    -0.16666666631591023,
    0.008333328782445271,
    -0.00019839202208113353,
    2.7173456459690426e-06,
];
/// `cos(r) = COS(r^2)` on `|r| <= pi/4`, worst absolute error 5.6e-14 (same fit).
const COS: [f64; 6] = [
    0.9999999999999444,
    -0.49999999999351113,
    0.0416666665439107,
    -0.0013888880393751017,
    2.4798928750028925e-05,
    -2.7173429459569574e-07,
];
/// `pi/2` split Cody-Waite style: the first 33 bits (so `m * PIO2_HI` is exact for `|m| < 2^20`) and the rest.
const PIO2_HI: f64 = 1.57079632673412561417e+00;
const PIO2_LO: f64 = 6.07710050650619224932e-11;
/// Adding `1.5 * 2^52` rounds a double with `|t| < 2^51` to the nearest integer, left in the low mantissa bits.
const ROUNDING_MAGIC: f64 = 6755399441055744.0;

/// An angle added to the argument of [`sin_cos_of_sum`]: in radians and in quarter turns (`radians * 2/pi`).
///
/// Both forms are kept so the reduction needs no multiplication for the
/// shift: the kernel stores them per segment, constants splat them.
#[derive(Debug, Clone, Copy)]
pub struct Shift<V> {
    pub radians: V,
    pub quarter_turns: V,
}

impl<V: Copy> Shift<V> {
    /// The same shift `radians` in every lane.
    #[inline(always)]
    pub fn splat<S: Simd<f64s = V>>(simd: S, radians: f64) -> Shift<V> {
        Shift {
            radians: simd.splat_f64s(radians),
            quarter_turns: simd.splat_f64s(radians * std::f64::consts::FRAC_2_PI),
        }
    }
}

/// `(sin(x), cos(x))`, accurate for `|x| < 2^19` (the argument range of the incident wave).
#[inline(always)]
pub fn sin_cos<S: Simd>(simd: S, x: S::f64s) -> (S::f64s, S::f64s) {
    sin_cos_of_sum(simd, x, Shift::splat(simd, 0.0))
}

/// `sin` and `cos` of `x + shift`, for `|x| < 2^19` and `|shift| <= 2 pi`.
///
/// Reduction: `n = round((x + shift) 2/pi)`, `r = x - n pi/2` in two FMA
/// steps (Cody-Waite: `n * PIO2_HI` is exact), then `r += shift`, so
/// `|r| <= pi/4` up to rounding and the result is `sin/cos(r + n pi/2)`:
/// the quadrant `n mod 4` swaps and negates. Adding the shift after the
/// reduction keeps `x` exact, so a large `x` loses nothing to it.
#[inline(always)]
pub fn sin_cos_of_sum<S: Simd>(simd: S, x: S::f64s, shift: Shift<S::f64s>) -> (S::f64s, S::f64s) {
    let t = simd.mul_add_e_f64s(
        x,
        simd.splat_f64s(std::f64::consts::FRAC_2_PI),
        shift.quarter_turns,
    );
    let rounded = simd.add_f64s(t, simd.splat_f64s(ROUNDING_MAGIC));
    let n = simd.sub_f64s(rounded, simd.splat_f64s(ROUNDING_MAGIC));
    let r = simd.mul_add_e_f64s(n, simd.splat_f64s(-PIO2_HI), x);
    let r = simd.mul_add_e_f64s(n, simd.splat_f64s(-PIO2_LO), r);
    let r = simd.add_f64s(r, shift.radians);
    let r2 = simd.mul_f64s(r, r);
    let sin_r = simd.mul_f64s(r, polynomial(simd, r2, &SIN));
    let cos_r = polynomial(simd, r2, &COS);
    // n mod 4, two's complement, from the low bits of the rounded value.
    let quadrant = simd.transmute_u64s_f64s(rounded);
    let odd = bits_set(simd, quadrant, 1);
    let sin_negative = bits_set(simd, quadrant, 2);
    let cos_negative = bits_set(simd, simd.add_u64s(quadrant, simd.splat_u64s(1)), 2);
    let sin_v = simd.select_f64s(odd, cos_r, sin_r);
    let cos_v = simd.select_f64s(odd, sin_r, cos_r);
    (
        simd.select_f64s(sin_negative, simd.neg_f64s(sin_v), sin_v),
        simd.select_f64s(cos_negative, simd.neg_f64s(cos_v), cos_v),
    )
}

/// The lanes of `value` in which all bits of `mask` are set.
#[inline(always)]
fn bits_set<S: Simd>(simd: S, value: S::u64s, mask: u64) -> S::m64s {
    let mask = simd.splat_u64s(mask);
    simd.equal_u64s(simd.and_u64s(value, mask), mask)
}

/// `ln(x) = k ln2 + ln(1 + f)`, `1 + f` in `[sqrt(2)/2, sqrt(2))` (msun `log`), for positive normal `x`.
const LN: [f64; 7] = [
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
];
const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const MANTISSA_BITS: u64 = 0x000F_FFFF_FFFF_FFFF;
const ONE_BITS: u64 = 0x3FF0_0000_0000_0000;

/// Natural logarithm, lane-wise, for positive normal `x` (the small-argument Hankel branch).
#[inline(always)]
pub fn ln<D: Division, S: Simd>(simd: S, x: S::f64s) -> S::f64s {
    let bits = simd.transmute_u64s_f64s(x);
    let biased_exponent = exponent_field(simd, bits);
    let mantissa = simd.transmute_f64s_u64s(simd.or_u64s(
        simd.and_u64s(bits, simd.splat_u64s(MANTISSA_BITS)),
        simd.splat_u64s(ONE_BITS),
    ));
    // Centre the mantissa on 1: [sqrt(2)/2, sqrt(2)).
    let high = simd.greater_than_or_equal_f64s(mantissa, simd.splat_f64s(std::f64::consts::SQRT_2));
    let mantissa = simd.select_f64s(
        high,
        simd.mul_f64s(mantissa, simd.splat_f64s(0.5)),
        mantissa,
    );
    let k = simd.sub_f64s(
        biased_exponent,
        simd.select_f64s(high, simd.splat_f64s(1022.0), simd.splat_f64s(1023.0)),
    );
    let f = simd.sub_f64s(mantissa, simd.splat_f64s(1.0));
    // f + 2 lies in [1.7, 2.5].
    let s = D::quotient(simd, f, simd.add_f64s(f, simd.splat_f64s(2.0)));
    let z = simd.mul_f64s(s, s);
    let r = simd.mul_f64s(z, polynomial(simd, z, &LN));
    let half_f2 = simd.mul_f64s(simd.splat_f64s(0.5), simd.mul_f64s(f, f));
    // k ln2_hi - ((hfsq - (s (hfsq + R) + k ln2_lo)) - f)
    let tail = simd.mul_add_e_f64s(
        s,
        simd.add_f64s(half_f2, r),
        simd.mul_f64s(k, simd.splat_f64s(LN2_LO)),
    );
    let low = simd.sub_f64s(simd.sub_f64s(half_f2, tail), f);
    simd.mul_add_e_f64s(k, simd.splat_f64s(LN2_HI), simd.neg_f64s(low))
}

/// The biased exponent field (bits 52..63) of each lane, as an f64.
///
/// pulp has no 64-bit shift, so each 32-bit half is shifted right by 20,
/// which leaves the field in bits 32..43 of the 64-bit lane (whatever the
/// byte order); OR-ing it into the mantissa of `2^52` and subtracting `2^52`
/// converts it exactly. The one-lane fallback shifts in a general register.
#[inline(always)]
fn exponent_field<S: Simd>(simd: S, bits: S::u64s) -> S::f64s {
    const TWO_52: f64 = 4503599627370496.0;
    if size_of::<S::u32s>() == size_of::<S::u64s>() {
        let words: S::u32s = pulp::bytemuck::cast(bits);
        let shifted = simd.wrapping_dyn_shr_u32s(words, simd.splat_u32s(20));
        let field = simd.and_u64s(pulp::bytemuck::cast(shifted), simd.splat_u64s(0x7FF << 32));
        let biased =
            simd.transmute_f64s_u64s(simd.or_u64s(field, simd.splat_u64s(TWO_52.to_bits())));
        simd.mul_f64s(
            simd.sub_f64s(biased, simd.splat_f64s(TWO_52)),
            simd.splat_f64s(1.0 / 4294967296.0),
        )
    } else {
        let lane: u64 = pulp::bytemuck::cast(bits);
        pulp::bytemuck::cast(((lane >> 52) & 0x7FF) as f64)
    }
}

#[cfg(test)]
mod tests {
    use pulp::WithSimd;

    use super::*;
    use crate::scatter::variants::simd::division::{HardwareDivision, RefinedDivision};
    use crate::scatter::variants::simd::isa::Isa;
    use crate::scatter::variants::simd::lanewise;

    /// `(sin x, cos x, sin(x - pi/4), cos(x - pi/4))` and `ln |x|` (in each formulation of
    /// its division) at every input, per level.
    struct Elementary<'a>(&'a [f64]);

    impl WithSimd for Elementary<'_> {
        type Output = Vec<[f64; 6]>;
        fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
            lanewise(simd, self.0, |x| {
                let (s, c) = sin_cos(simd, x);
                let quarter_back = Shift::splat(simd, -std::f64::consts::FRAC_PI_4);
                let (s4, c4) = sin_cos_of_sum(simd, x, quarter_back);
                let magnitude = simd.abs_f64s(x);
                [
                    s,
                    c,
                    s4,
                    c4,
                    ln::<HardwareDivision, _>(simd, magnitude),
                    ln::<RefinedDivision, _>(simd, magnitude),
                ]
            })
        }
    }

    fn worst(isa: Isa, inputs: &[f64], column: usize, exact: impl Fn(f64) -> f64) -> f64 {
        isa.run(Elementary(inputs))
            .iter()
            .zip(inputs)
            .map(|(got, &x)| (got[column] - exact(x)).abs() / exact(x).abs().max(1.0))
            .fold(0.0, f64::max)
    }

    #[test]
    fn sine_and_cosine_match_std_over_the_problem_range() {
        // Both signs (the incident wave's phase is negative left of the origin), every lane position.
        let inputs: Vec<f64> = (-400_000..=400_000)
            .map(|i| i as f64 * 5e-4 + 1e-7)
            .collect();
        let quarter = std::f64::consts::FRAC_PI_4;
        for isa in Isa::available() {
            let errors = [
                worst(isa, &inputs, 0, f64::sin),
                worst(isa, &inputs, 1, f64::cos),
                worst(isa, &inputs, 2, |x| (x - quarter).sin()),
                worst(isa, &inputs, 3, |x| (x - quarter).cos()),
            ];
            // The sine polynomial's own 3.4e-12 (the kernel needs no more), plus the
            // rounding of x - pi/4 in the reference itself (2e-14 at |x| = 200).
            for (name, error) in ["sin", "cos", "sin(x-pi/4)", "cos(x-pi/4)"]
                .iter()
                .zip(errors)
            {
                assert!(error < 4e-12, "{isa}: {name} off by {error:e}");
            }
        }
    }

    /// `(sin(x + shift), cos(x + shift), shift)` with a different shift in every lane.
    struct ShiftedByLane<'a>(&'a [f64]);

    impl WithSimd for ShiftedByLane<'_> {
        type Output = Vec<[f64; 3]>;
        fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
            lanewise(simd, self.0, |x| {
                // Any shift in [-2 pi, 2 pi], varying quickly from lane to lane.
                let (wobble, _) = sin_cos(simd, simd.mul_f64s(x, simd.splat_f64s(13.7)));
                let radians = simd.mul_f64s(wobble, simd.splat_f64s(std::f64::consts::TAU));
                let shift = Shift {
                    radians,
                    quarter_turns: simd
                        .mul_f64s(radians, simd.splat_f64s(std::f64::consts::FRAC_2_PI)),
                };
                let (s, c) = sin_cos_of_sum(simd, x, shift);
                [s, c, radians]
            })
        }
    }

    #[test]
    fn a_shift_per_lane_is_added_to_the_argument() {
        // The kernel's use: x = kmod R in [0, 200], each segment's own phase.
        let inputs: Vec<f64> = (0..=400_000).map(|i| i as f64 * 5e-4).collect();
        for isa in Isa::available() {
            let worst = isa
                .run(ShiftedByLane(&inputs))
                .iter()
                .zip(&inputs)
                .map(|(&[s, c, shift], &x)| {
                    let (sin, cos) = (x + shift).sin_cos();
                    f64::max((s - sin).abs(), (c - cos).abs())
                })
                .fold(0.0, f64::max);
            // The sine polynomial's 3.4e-12, plus the reference's rounding of x + shift.
            assert!(worst < 4e-12, "{isa}: off by {worst:e}");
        }
    }

    #[test]
    fn logarithm_matches_std_from_tiny_to_huge() {
        let inputs: Vec<f64> = (0..20_000)
            .map(|i| 10f64.powf(-300.0 + 600.0 * i as f64 / 20_000.0))
            .chain((1..20_000).map(|i| 8.0 * i as f64 / 20_000.0))
            .chain([1.0, std::f64::consts::SQRT_2, f64::MIN_POSITIVE, f64::MAX])
            .collect();
        for isa in Isa::available() {
            let results = isa.run(Elementary(&inputs));
            for (column, division) in [(4, "hardware"), (5, "refined")] {
                let error = results
                    .iter()
                    .zip(&inputs)
                    .map(|(got, &x)| (got[column] - x.ln()).abs() / x.ln().abs().max(1.0))
                    .fold(0.0, f64::max);
                assert!(
                    error < 4e-16,
                    "{isa}, {division} division: ln off by {error:e}"
                );
            }
        }
    }
}
