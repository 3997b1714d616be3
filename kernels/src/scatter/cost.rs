//! The documented work of one pair evaluation, so measured speeds can be placed against a machine's peak.
//!
//! Counted on the fast formulation (segment constants precomputed, the
//! classical Hankel approximation on its large-argument branch, which holds
//! nearly all pairs): an add, multiply or FMA counts as one operation per
//! lane result for additions and multiplications (an FMA is two), a square
//! root and a division one each. The breakdown is in `docs/kernel.md`.

/// Floating-point operations per pair evaluation (see the module docs and `docs/kernel.md`).
pub const FLOPS_PER_PAIR: f64 = 100.0;
