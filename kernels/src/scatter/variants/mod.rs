//! The rungs of the ladder, one module each, and the row drivers they share.

pub mod fused;
pub mod mpi;
pub mod naive;
pub mod processes;
pub mod rows;
pub mod vectorised;

/// The fastest single-node row kernel: what `processes` and `mpi` run inside each worker or rank.
///
/// The one place to change when a faster row kernel lands (e.g. `simd::SimdRows`).
pub type BestRows = fused::FusedRows;
/// The instance of [`BestRows`] the multi-process variants use.
pub const BEST_ROWS: BestRows = fused::FusedRows;
