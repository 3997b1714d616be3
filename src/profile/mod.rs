//! Profiling: where the time and the memory go, for the kernel's variants and for any command.
//!
//! The training starts every optimisation with a profile. For a variant of
//! the reference kernel, [`sampler`] samples it in-process with pprof into
//! [`folded`] stacks, [`flamegraph`] draws them, [`hotspots`] ranks the
//! functions and [`memory`] counts its heap use. For the user's own program,
//! [`external`] measures the command as a child process and samples it with
//! `perf` or `py-spy` when they are usable, and [`program`] studies it for the
//! decision tree (repeated runs, thread counts, sizes).

pub mod external;
pub mod flamegraph;
pub mod folded;
pub mod hotspots;
pub mod lines;
pub mod memory;
pub mod program;
pub mod ranks;
pub mod record;
pub mod sampler;
