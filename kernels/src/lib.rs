//! The reference kernel of hpc-advisor and its ladder of optimised variants.
//!
//! The kernel is "scatter": a plane wave scattered by a 2D obstacle, the
//! problem the training material behind hpc-advisor optimises step by step
//! (seed `000`). This crate holds the problem definition, the exact
//! reference conventions (see `kernel-spec.md`), and every variant of the
//! ladder, from the faithful unoptimised port to explicit SIMD with threads.
//!
//! # A tour
//!
//! ```
//! use hpc_kernels::scatter::{Problem, RunSettings, registry};
//!
//! // The default problem is 128 x 128 cells and 128 segments; take a smaller one.
//! let problem = Problem::builder().cells(32, 32).segments(32).build()?;
//! let fused = registry::find("fused").expect("fused is always registered");
//! let output = fused.run(&problem, &RunSettings::default())?;
//! let field = output.field.expect("single-process variants always return the field");
//! assert!((field.checksum() - 326.47528735635234).abs() < 1e-3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Every variant implements [`scatter::Variant`] and is listed once in
//! [`scatter::registry`]; tests, benchmarks and the advisor iterate that list.

pub mod gpu;
pub mod scatter;
