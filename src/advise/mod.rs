//! The advisor: the decision tree as data, and a pure walk from measured facts to a recommendation.
//!
//! ```text
//! Facts (machine + measurements + profile) ──advise──► Recommendation (plan + path + evidence)
//! ```
//!
//! [`Facts`] is what detection, benchmarks and profiling found, each value
//! possibly "unknown, because ...". [`tree::TREE`] holds the nodes of
//! docs/decision-tree.md with their conditions, thresholds, advice and
//! sources; [`advise`] walks it. Nothing here measures or prints: the same
//! walk serves `hpc-advisor advise --facts`, `analyse` and the reports.

pub mod condition;
pub mod document;
pub mod facts;
pub mod named;
pub mod plan;
pub mod python;
pub mod reading;
pub mod render;
pub mod tree;
pub mod walk;

pub use crate::fact::Fact;
pub use facts::{FACTS_SCHEMA_VERSION, Facts};
pub use plan::{Plan, PlanStep, RuledOut};
pub use walk::{Answer, Crossover, Evidence, Recommendation, Step, advise};
