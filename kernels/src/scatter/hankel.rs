//! Hankel functions H0 and H1 of the first kind: the library reference and a fast approximation.
//!
//! The reference evaluates `Hn = Jn + i Yn` with the `libm` crate (the
//! FreeBSD msun routines). The fast form is the classical one (rational
//! approximations for `x < 8`, the asymptotic P/Q expansion for `x >= 8`,
//! coefficients as in Numerical Recipes / Abramowitz & Stegun 9.4) in which
//! all four functions share one sine/cosine of `x - pi/4` on the large
//! branch. The SIMD variant evaluates the same coefficients lane-wise.
//! Accuracy against `libm` is tested below over `0 < x < 200`.

use num_complex::Complex64;

/// `(H0(x), H1(x))` from `libm`'s `j0`, `y0`, `j1`, `y1`.
#[inline(never)]
pub fn reference(x: f64) -> (Complex64, Complex64) {
    (
        Complex64::new(libm::j0(x), libm::y0(x)),
        Complex64::new(libm::j1(x), libm::y1(x)),
    )
}

/// `J0, Y0, J1, Y1` at one argument; the order every approximation returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bessel01 {
    pub j0: f64,
    pub y0: f64,
    pub j1: f64,
    pub y1: f64,
}

/// Where the fast approximation switches from the rational to the asymptotic form.
pub const SWITCH: f64 = 8.0;
/// `2 / pi`.
pub const TWO_OVER_PI: f64 = std::f64::consts::FRAC_2_PI;

/// Rational approximations for `x < 8`: numerator and denominator coefficients in `y = x^2`,
/// lowest power first.
pub mod small {
    pub const J0_NUM: [f64; 6] = [
        57568490574.0,
        -13362590354.0,
        651619640.7,
        -11214424.18,
        77392.33017,
        -184.9052456,
    ];
    pub const J0_DEN: [f64; 6] = [
        57568490411.0,
        1029532985.0,
        9494680.718,
        59272.64853,
        267.8532712,
        1.0,
    ];
    pub const Y0_NUM: [f64; 6] = [
        -2957821389.0,
        7062834065.0,
        -512359803.6,
        10879881.29,
        -86327.92757,
        228.4622733,
    ];
    pub const Y0_DEN: [f64; 6] = [
        40076544269.0,
        745249964.8,
        7189466.438,
        47447.26470,
        226.1030244,
        1.0,
    ];
    /// J1 = x * num / den.
    pub const J1_NUM: [f64; 6] = [
        72362614232.0,
        -7895059235.0,
        242396853.1,
        -2972611.439,
        15704.48260,
        -30.16036606,
    ];
    pub const J1_DEN: [f64; 6] = [
        144725228442.0,
        2300535178.0,
        18583304.74,
        99447.43394,
        376.9991397,
        1.0,
    ];
    /// Y1 = x * num / den + (2/pi) (J1 ln x - 1/x).
    pub const Y1_NUM: [f64; 6] = [
        -0.4900604943e13,
        0.1275274390e13,
        -0.5153438139e11,
        0.7349264551e9,
        -0.4237922726e7,
        0.8511937935e4,
    ];
    pub const Y1_DEN: [f64; 7] = [
        0.2499580570e14,
        0.4244419664e12,
        0.3733650367e10,
        0.2245904002e8,
        0.1020426050e6,
        0.3549632885e3,
        1.0,
    ];
}

/// Asymptotic P/Q polynomials for `x >= 8` in `y = (8/x)^2`, lowest power first.
pub mod large {
    pub const P0: [f64; 5] = [
        1.0,
        -0.1098628627e-2,
        0.2734510407e-4,
        -0.2073370639e-5,
        0.2093887211e-6,
    ];
    pub const Q0: [f64; 5] = [
        -0.1562499995e-1,
        0.1430488765e-3,
        -0.6911147651e-5,
        0.7621095161e-6,
        -0.934945152e-7,
    ];
    pub const P1: [f64; 5] = [
        1.0,
        0.183105e-2,
        -0.3516396496e-4,
        0.2457520174e-5,
        -0.240337019e-6,
    ];
    pub const Q1: [f64; 5] = [
        0.04687499995,
        -0.2002690873e-3,
        0.8449199096e-5,
        -0.88228987e-6,
        0.105787412e-6,
    ];
}

/// The two operations Horner's rule needs, so scalar and SIMD code evaluate the same tables the same way.
pub trait HornerArithmetic: Copy {
    type Value: Copy;
    /// The coefficient `c` as a value (broadcast to every lane for SIMD).
    fn splat(self, c: f64) -> Self::Value;
    /// `a * b + c`: fused by the SIMD levels, a separate multiply and add in [`ScalarArithmetic`].
    fn mul_add(self, a: Self::Value, b: Self::Value, c: Self::Value) -> Self::Value;
}

/// Plain `f64` arithmetic: a multiply and a separate add, never fused (see its `mul_add`).
#[derive(Debug, Clone, Copy)]
pub struct ScalarArithmetic;

impl HornerArithmetic for ScalarArithmetic {
    type Value = f64;
    #[inline(always)]
    fn splat(self, c: f64) -> f64 {
        c
    }
    /// A separate multiply and add: `f64::mul_add` is a call into a software
    /// `fma` on builds without the FMA target feature (the default x86-64
    /// baseline), which cost the fused variant a fifth of its time.
    #[inline(always)]
    fn mul_add(self, a: f64, b: f64, c: f64) -> f64 {
        a * b + c
    }
}

/// Horner evaluation in any [`HornerArithmetic`], highest power last in `coefficients`.
#[inline(always)]
pub fn horner<A: HornerArithmetic, const N: usize>(
    arithmetic: A,
    y: A::Value,
    coefficients: &[f64; N],
) -> A::Value {
    const { assert!(N > 0, "a polynomial has at least one coefficient") };
    // A plain loop, not a fold: in SIMD code a closure LLVM does not inline
    // loses the dispatched level's target features.
    let mut acc = arithmetic.splat(coefficients[N - 1]);
    for &c in coefficients[..N - 1].iter().rev() {
        acc = arithmetic.mul_add(acc, y, arithmetic.splat(c));
    }
    acc
}

/// Horner evaluation of `f64`, highest power last in `coefficients`.
#[inline(always)]
pub fn polynomial<const N: usize>(y: f64, coefficients: &[f64; N]) -> f64 {
    horner(ScalarArithmetic, y, coefficients)
}

/// `J0, Y0, J1, Y1` by the classical fast approximation (scalar).
#[inline]
pub fn approx(x: f64) -> Bessel01 {
    if x < SWITCH {
        let y = x * x;
        let j0 = polynomial(y, &small::J0_NUM) / polynomial(y, &small::J0_DEN);
        let j1 = x * polynomial(y, &small::J1_NUM) / polynomial(y, &small::J1_DEN);
        let ln_x = x.ln();
        let y0 =
            polynomial(y, &small::Y0_NUM) / polynomial(y, &small::Y0_DEN) + TWO_OVER_PI * j0 * ln_x;
        let y1 = x * polynomial(y, &small::Y1_NUM) / polynomial(y, &small::Y1_DEN)
            + TWO_OVER_PI * (j1 * ln_x - 1.0 / x);
        Bessel01 { j0, y0, j1, y1 }
    } else {
        let z = SWITCH / x;
        let y = z * z;
        let amplitude = (TWO_OVER_PI / x).sqrt();
        // One sine/cosine of x - pi/4 serves all four: x - 3pi/4 is a quarter turn back.
        let (s, c) = (x - std::f64::consts::FRAC_PI_4).sin_cos();
        let (p0, q0) = (polynomial(y, &large::P0), z * polynomial(y, &large::Q0));
        let (p1, q1) = (polynomial(y, &large::P1), z * polynomial(y, &large::Q1));
        Bessel01 {
            j0: amplitude * (c * p0 - s * q0),
            y0: amplitude * (s * p0 + c * q0),
            // cos(x - 3pi/4) = s, sin(x - 3pi/4) = -c
            j1: amplitude * (s * p1 + c * q1),
            y1: amplitude * (-c * p1 + s * q1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Largest absolute error of the fast form against libm on `0 < x < 200`.
    fn worst_error(lo: f64, hi: f64, steps: usize) -> f64 {
        (1..=steps)
            .map(|i| lo + (hi - lo) * i as f64 / steps as f64)
            .map(|x| {
                let fast = approx(x);
                let (h0, h1) = reference(x);
                // Y diverges near zero: compare relative to the value's size there.
                let scale = h0.norm().max(h1.norm()).max(1.0);
                [
                    fast.j0 - h0.re,
                    fast.y0 - h0.im,
                    fast.j1 - h1.re,
                    fast.y1 - h1.im,
                ]
                .iter()
                .map(|e| e.abs() / scale)
                .fold(0.0, f64::max)
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn approximation_matches_libm_over_the_problem_range() {
        let small = worst_error(1e-6, SWITCH, 200_000);
        let large = worst_error(SWITCH, 200.0, 400_000);
        assert!(small < 2e-8, "x < 8: {small:e}");
        assert!(large < 2e-8, "x >= 8: {large:e}");
    }
}
