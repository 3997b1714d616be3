//! The report of a run: one data model, rendered to the terminal, Markdown, JSON and HTML.

pub mod charts;
