//! The documented work of one pair evaluation, so measured speeds can be placed against a machine's peak.
//!
//! Counted on the `simd` variant's formulation (segment constants
//! precomputed, the classical Hankel approximation on its large-argument
//! branch, which holds nearly all pairs; the quadrant fix-up of the sine and
//! cosine is bit selection and not counted). An addition, subtraction or
//! multiplication counts one, a fused multiply-add two, a division or square
//! root one:
//!
//! | part | flops |
//! |---|---|
//! | offset `r'`, `x = sqrt(r'.r')` | 6 |
//! | `z = 8/x`, amplitude `sqrt(z 2/(8 pi))`, `y = z^2` | 4 |
//! | `sin`, `cos` of `x - pi/4 + phi` (reduction 9, `r^2` 1, polynomials 19) | 29 |
//! | `v = (m . p' - m . mid') z` | 5 |
//! | `A` (blended coefficients 9, Horner 8), `B` (10, 8, times `z` 1) | 36 |
//! | `a cos`, `a sin`, term `= a e^{i(...)} (A + iB)` | 8 |
//! | `sum += term` | 2 |
//! | total | 90 |
//!
//! The same table, with the instruction counts and the resulting bounds, is in `docs/kernel.md`.

/// Floating-point operations per pair evaluation (see the module docs and `docs/kernel.md`).
pub const FLOPS_PER_PAIR: f64 = 90.0;
