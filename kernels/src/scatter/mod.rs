//! The scatter problem: definition, geometry, special functions and variants.
//!
//! Conventions follow `kernel-spec.md` exactly: the wave vector points along
//! +x, the contour runs anticlockwise, the grid is stored row-major `[j][i]`,
//! fields are single-precision complex and the checksum is the sum of
//! `|scattered|^2` over all nodes.

mod contour;
pub mod cost;
mod field;
mod geometry;
pub mod hankel;
mod problem;
pub mod registry;
mod variant;
pub mod variants;

pub use contour::{Contour, ContourError, Orientation};
pub use field::{Agreement, Field};
pub use geometry::{Grid, INSIDE_THRESHOLD, Scene, SegmentTable, is_inside};
pub use problem::{Problem, ProblemBuilder, ProblemError, WorkEstimate};
pub use variant::{Availability, OwnTiming, Phase, RunOutput, RunSettings, Variant, VariantError};
