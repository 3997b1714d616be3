//! The one list of variants: listing, benchmarks, profiles, tests and docs all iterate it.
//!
//! Adding a variant is one module plus one line here.

use super::variant::Variant;
use super::variants::{fused, gpu, mpi, naive, processes, python, simd, vectorised};

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

/// The Python ladder (`kernels/python/`), in ladder order: run on its own, on problem
/// sizes its slow first rung allows, and compared with the Rust ladder per pair.
pub fn python() -> impl Iterator<Item = &'static dyn Variant> {
    python::RUNGS
        .iter()
        .map(|rung| *rung as &'static dyn Variant)
}

/// The variant called `name`, Rust or Python, if registered.
pub fn find(name: &str) -> Option<&'static dyn Variant> {
    VARIANTS
        .iter()
        .copied()
        .chain(python())
        .find(|v| v.name() == name)
}

/// The variant every other is checked against.
pub fn reference() -> &'static dyn Variant {
    &naive::NAIVE
}

/// All registered names, Rust then Python, for error messages.
pub fn names() -> Vec<&'static str> {
    VARIANTS
        .iter()
        .copied()
        .chain(python())
        .map(|v| v.name())
        .collect()
}
