//! The rungs of the ladder, one module each, and the row drivers they share.

pub mod children;
pub mod fused;
pub mod gpu;
pub mod mpi;
pub mod naive;
pub mod processes;
pub mod python;
pub mod rows;
pub mod simd;
pub mod vectorised;

/// The fastest single-node row kernel: what `processes` and `mpi` run inside each worker or rank.
///
/// The one place to change when a faster row kernel lands.
pub type BestRows = simd::SimdRows;
/// The instance of [`BestRows`] the multi-process variants use: explicit SIMD at the best level this CPU has.
pub const BEST_ROWS: BestRows = simd::SimdRows::DETECTED;
/// The registered description of [`BEST_ROWS`]'s serial variant: its cost per pair
/// is what a worker or rank of `processes` and `mpi` pays.
pub(crate) const BEST_ROWS_INFO: rows::VariantInfo = simd::INFO;
