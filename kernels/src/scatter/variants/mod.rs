//! The rungs of the ladder, one module each, and the row drivers they share.

pub mod fused;
pub mod gpu;
pub mod naive;
pub mod rows;
pub mod vectorised;
