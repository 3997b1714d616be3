//! How the SIMD kernel divides and takes square roots: the hardware's instructions, or estimates refined by FMAs.
//!
//! A pair of the kernel needs `x = sqrt(x^2)`, `8 / x` and `sqrt(2 / (pi x))`
//! ([`Reciprocals`]), and the rare pairs near the contour five quotients
//! more. Two formulations ([`Division`]) compute them:
//!
//! - [`HardwareDivision`]: `vsqrtpd` and `vdivpd`, two square roots and a
//!   division per pair. Cheapest where the divider is pipelined (AMD Zen 4
//!   issues them often enough to hide behind the kernel's FMAs), but Intel
//!   cores share one slow unpipelined unit between both (a 512-bit
//!   `vdivpd` or `vsqrtpd` about once per 16 cycles), which then bounds the
//!   whole kernel.
//! - [`RefinedDivision`]: no division and no square root. The estimate
//!   instructions (`vrsqrt14pd` and `vrcp14pd` on AVX-512: relative error
//!   below 2^-14, pipelined like a multiplication) are refined to full
//!   precision by one fourth-order Newton step, six or four FMAs on the
//!   pipes the kernel is bound by anyway. On AVX2 the single-precision
//!   12-bit estimates (`vrsqrtps`, `vrcpps`) of the lanes converted to f32
//!   take one extra second-order step; every other level (the scalar
//!   fallback, NEON) starts from the exact value, which the step keeps.
//!
//! Which one is faster is a property of the core, so it is measured, not
//! assumed ([`super::plan`]). Both are accurate to a few units in the last
//! place. Arguments must be positive, and normal in f32 on AVX2 (about
//! `1.2e-38 < a < 3.4e38`), as the kernel's distances and denominators are.

use std::any::Any;

use pulp::Simd;

use super::bessel::Reciprocals;
use crate::scatter::hankel::{SWITCH, TWO_OVER_PI};

/// Which [`Division`] a run uses: a value, so it can be measured and chosen at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formulation {
    /// [`HardwareDivision`].
    Hardware,
    /// [`RefinedDivision`].
    Refined,
}

impl Formulation {
    pub const ALL: [Formulation; 2] = [Formulation::Hardware, Formulation::Refined];

    /// A one-word key, for benchmark ids and file names.
    pub fn key(self) -> &'static str {
        match self {
            Formulation::Hardware => "hardware",
            Formulation::Refined => "divide-free",
        }
    }

    /// How it is named in notes and reports.
    pub fn name(self) -> &'static str {
        match self {
            Formulation::Hardware => "hardware sqrt/div",
            Formulation::Refined => "divide-free (estimates + Newton)",
        }
    }
}

/// The kernel's divisions and square roots, in one of two formulations.
pub trait Division: Copy + Send + Sync + 'static {
    /// `x`, `8 / x` and `sqrt(2 / (pi x))` from `x^2`.
    fn reciprocals<S: Simd>(simd: S, squared: S::f64s) -> Reciprocals<S::f64s>;
    /// `n / d` for positive `d`.
    fn quotient<S: Simd>(simd: S, n: S::f64s, d: S::f64s) -> S::f64s;
}

/// The hardware's square root and division instructions.
#[derive(Debug, Clone, Copy)]
pub struct HardwareDivision;

impl Division for HardwareDivision {
    #[inline(always)]
    fn reciprocals<S: Simd>(simd: S, squared: S::f64s) -> Reciprocals<S::f64s> {
        let x = simd.sqrt_f64s(squared);
        let z = simd.div_f64s(simd.splat_f64s(SWITCH), x);
        // sqrt(2 / (pi x)) = sqrt(z (2/pi) / 8)
        let amplitude = simd.sqrt_f64s(simd.mul_f64s(z, simd.splat_f64s(TWO_OVER_PI / SWITCH)));
        Reciprocals { x, z, amplitude }
    }

    #[inline(always)]
    fn quotient<S: Simd>(simd: S, n: S::f64s, d: S::f64s) -> S::f64s {
        simd.div_f64s(n, d)
    }
}

/// Estimates refined by Newton steps: no division, no square root.
#[derive(Debug, Clone, Copy)]
pub struct RefinedDivision;

impl Division for RefinedDivision {
    /// `1/x = 1/sqrt(x^2)`, `x = x^2 (1/x)`, then `sqrt(2/pi) / sqrt(x)`.
    #[inline(always)]
    fn reciprocals<S: Simd>(simd: S, squared: S::f64s) -> Reciprocals<S::f64s> {
        let inverse = inverse_sqrt(simd, squared);
        let x = simd.mul_f64s(squared, inverse);
        let z = simd.mul_f64s(inverse, simd.splat_f64s(SWITCH));
        let amplitude = simd.mul_f64s(inverse_sqrt(simd, x), simd.splat_f64s(TWO_OVER_PI.sqrt()));
        Reciprocals { x, z, amplitude }
    }

    #[inline(always)]
    fn quotient<S: Simd>(simd: S, n: S::f64s, d: S::f64s) -> S::f64s {
        simd.mul_f64s(n, reciprocal(simd, d))
    }
}

/// `1 / sqrt(a)` for positive `a`, to within a few units in the last place, divide-free.
#[inline(always)]
fn inverse_sqrt<S: Simd>(simd: S, a: S::f64s) -> S::f64s {
    refine_inverse_sqrt(simd, a, inverse_sqrt_estimate(simd, a))
}

/// `1 / d` for positive `d`, to within a few units in the last place, divide-free.
#[inline(always)]
fn reciprocal<S: Simd>(simd: S, d: S::f64s) -> S::f64s {
    refine_reciprocal(simd, d, reciprocal_estimate(simd, d))
}

/// One fourth-order step for `y ~ a^(-1/2)`: with `e = 1 - a y^2`,
/// `a^(-1/2) = y (1 - e)^(-1/2) = y (1 + e/2 + 3e^2/8 + 5e^3/16 + ...)`,
/// so truncating after `e^3` leaves a relative error of `35 e^4 / 128`
/// (below 2^-57 from a 14-bit estimate: the rounding of the steps dominates).
#[inline(always)]
fn refine_inverse_sqrt<S: Simd>(simd: S, a: S::f64s, y: S::f64s) -> S::f64s {
    let e = simd.negate_mul_add_e_f64s(simd.mul_f64s(a, y), y, simd.splat_f64s(1.0));
    let series = simd.mul_add_e_f64s(
        simd.mul_add_e_f64s(e, simd.splat_f64s(5.0 / 16.0), simd.splat_f64s(3.0 / 8.0)),
        e,
        simd.splat_f64s(0.5),
    );
    simd.mul_add_e_f64s(simd.mul_f64s(y, e), series, y)
}

/// One fourth-order step for `y ~ 1/d`: with `e = 1 - d y`,
/// `1/d = y / (1 - e) = y (1 + e)(1 + e^2) + O(e^4)`.
#[inline(always)]
fn refine_reciprocal<S: Simd>(simd: S, d: S::f64s, y: S::f64s) -> S::f64s {
    let e = simd.negate_mul_add_e_f64s(d, y, simd.splat_f64s(1.0));
    let second_order = simd.mul_add_e_f64s(y, e, y);
    simd.mul_add_e_f64s(second_order, simd.mul_f64s(e, e), second_order)
}

/// This level's estimate of `1 / sqrt(a)`, at least 14 bits.
#[inline(always)]
fn inverse_sqrt_estimate<S: Simd>(simd: S, a: S::f64s) -> S::f64s {
    #[cfg(target_arch = "x86_64")]
    {
        if let Some(v4) = level::<S, pulp::x86::V4>(simd) {
            return pulp::bytemuck::cast(v4.avx512f._mm512_rsqrt14_pd(pulp::bytemuck::cast(a)));
        }
        if let Some(v3) = level::<S, pulp::x86::V3>(simd) {
            let single = v3.avx._mm256_cvtpd_ps(pulp::bytemuck::cast(a));
            let estimate: S::f64s =
                pulp::bytemuck::cast(v3.avx._mm256_cvtps_pd(v3.sse._mm_rsqrt_ps(single)));
            // 12 bits to 23 (`y (1 + e/2)`), so the final step reaches full precision.
            let e = simd.negate_mul_add_e_f64s(
                simd.mul_f64s(a, estimate),
                estimate,
                simd.splat_f64s(1.0),
            );
            return simd.mul_add_e_f64s(simd.mul_f64s(estimate, e), simd.splat_f64s(0.5), estimate);
        }
    }
    simd.div_f64s(simd.splat_f64s(1.0), simd.sqrt_f64s(a))
}

/// This level's estimate of `1 / d`, at least 14 bits.
#[inline(always)]
fn reciprocal_estimate<S: Simd>(simd: S, d: S::f64s) -> S::f64s {
    #[cfg(target_arch = "x86_64")]
    {
        if let Some(v4) = level::<S, pulp::x86::V4>(simd) {
            return pulp::bytemuck::cast(v4.avx512f._mm512_rcp14_pd(pulp::bytemuck::cast(d)));
        }
        if let Some(v3) = level::<S, pulp::x86::V3>(simd) {
            let single = v3.avx._mm256_cvtpd_ps(pulp::bytemuck::cast(d));
            let estimate: S::f64s =
                pulp::bytemuck::cast(v3.avx._mm256_cvtps_pd(v3.sse._mm_rcp_ps(single)));
            // 12 bits to 24 (`y (1 + e)`).
            let e = simd.negate_mul_add_e_f64s(d, estimate, simd.splat_f64s(1.0));
            return simd.mul_add_e_f64s(estimate, e, estimate);
        }
    }
    simd.div_f64s(simd.splat_f64s(1.0), d)
}

/// `simd` as the level `L`, when it is that level (decided at compile time after monomorphisation).
#[inline(always)]
fn level<S: Simd, L: Simd>(simd: S) -> Option<L> {
    (&simd as &dyn Any).downcast_ref::<L>().copied()
}

#[cfg(test)]
mod tests {
    use pulp::WithSimd;

    use super::*;
    use crate::scatter::variants::simd::isa::Isa;
    use crate::scatter::variants::simd::lanewise;

    /// `1/sqrt(a)` and `1/a` at every input, per level.
    struct Inverses<'a>(&'a [f64]);

    impl WithSimd for Inverses<'_> {
        type Output = Vec<[f64; 2]>;
        fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
            lanewise(simd, self.0, |a| {
                [inverse_sqrt(simd, a), reciprocal(simd, a)]
            })
        }
    }

    /// Relative errors in units of 2^-52, worst over `inputs`.
    fn worst_in_ulps(isa: Isa, inputs: &[f64]) -> [f64; 2] {
        let epsilon = f64::EPSILON;
        isa.run(Inverses(inputs)).iter().zip(inputs).fold(
            [0.0, 0.0],
            |[worst_sqrt, worst_reciprocal], (&[s, r], &a)| {
                let exact_sqrt = 1.0 / a.sqrt();
                let exact_reciprocal = 1.0 / a;
                [
                    f64::max(worst_sqrt, ((s - exact_sqrt) / exact_sqrt).abs() / epsilon),
                    f64::max(
                        worst_reciprocal,
                        ((r - exact_reciprocal) / exact_reciprocal).abs() / epsilon,
                    ),
                ]
            },
        )
    }

    #[test]
    fn refined_estimates_are_within_a_few_ulps_on_every_level() {
        // The kernel's range: squared scaled distances from 1e-8 to 1e6, and the
        // rational forms' denominators up to 1e25; every lane position, many mantissas.
        let inputs: Vec<f64> = (0..300_001)
            .map(|i| 10f64.powf(-8.0 + 33.0 * i as f64 / 300_000.0) * (1.0 + 1e-9 * i as f64))
            .collect();
        for isa in Isa::available() {
            let [sqrt_ulps, reciprocal_ulps] = worst_in_ulps(isa, &inputs);
            eprintln!(
                "{isa}: 1/sqrt within {sqrt_ulps:.2} ulp, 1/d within {reciprocal_ulps:.2} ulp"
            );
            // Measured (AMD EPYC Zen 4): 1.18 and 1.00 on AVX-512, 1.17 and 1.00 on AVX2, 1.00 on the scalar level.
            assert!(sqrt_ulps <= 2.0, "{isa}: 1/sqrt off by {sqrt_ulps} ulp");
            assert!(
                reciprocal_ulps <= 2.0,
                "{isa}: 1/d off by {reciprocal_ulps} ulp"
            );
        }
    }
}
