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
//! | offset `r'` (twice: once ahead for the distance, once for the terms), `x = sqrt(r'.r')` | 4 + 4 |
//! | `z = 8/x`, amplitude `sqrt(z 2/(8 pi))`, `y = z^2` | 4 |
//! | `sin`, `cos` of `x - pi/4` (reduction 9, polynomials 29) | 38 |
//! | P0, Q0, P1, Q1 (four FMAs each) | 32 |
//! | `-c = (m.r') z` | 4 |
//! | `A = nk p0 - c p1`, `B = z (nk Q0 - c Q1)` | 7 |
//! | `a cos`, `a sin`, term `= a e^{i(x - pi/4)} (A + iB)` | 8 |
//! | `sum += w * term` (four FMAs) | 8 |
//! | total | 109 |
//!
//! The same table, with the instruction counts and the resulting bounds, is in `docs/kernel.md`.

/// Floating-point operations per pair evaluation (see the module docs and `docs/kernel.md`).
pub const FLOPS_PER_PAIR: f64 = 109.0;
