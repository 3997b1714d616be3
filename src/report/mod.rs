//! The report of a run: one data model, rendered to the terminal, Markdown, JSON and HTML.

pub mod charts;
pub mod model;

pub use model::{
    Artefact, ArtefactKind, GpuRun, MpiRun, REPORT_SCHEMA_VERSION, Report, RunSummary, Stage,
    StageOutcome,
};
