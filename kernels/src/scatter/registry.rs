//! The one list of variants: listing, benchmarks, profiles, tests and docs all iterate it.
//!
//! Adding a variant is one module plus one line here.

use super::variant::Variant;
use super::variants::{fused, gpu, mpi, naive, processes, simd, vectorised};

static VARIANTS: &[&dyn Variant] = &[
    &naive::NAIVE,
    &vectorised::VECTORISED,
    &fused::FUSED,
    &simd::SIMD,
    &naive::THREADS,
    &fused::THREADS_FUSED,
    &simd::THREADS_SIMD,
    &processes::PROCESSES,
    &mpi::MPI,
    &gpu::GPU,
];

/// Every registered variant, in ladder order (slowest expected first).
pub fn all() -> &'static [&'static dyn Variant] {
    VARIANTS
}

/// The variant called `name`, if registered.
pub fn find(name: &str) -> Option<&'static dyn Variant> {
    VARIANTS.iter().copied().find(|v| v.name() == name)
}

/// The variant every other is checked against.
pub fn reference() -> &'static dyn Variant {
    &naive::NAIVE
}

/// All registered names, for error messages.
pub fn names() -> Vec<&'static str> {
    VARIANTS.iter().map(|v| v.name()).collect()
}
