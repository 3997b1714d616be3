//! The rungs of the ladder, one module each, and the row drivers they share.

pub mod fused;
pub mod naive;
pub mod rows;
pub mod simd;
pub mod vectorised;
