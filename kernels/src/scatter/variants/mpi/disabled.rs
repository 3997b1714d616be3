//! The `mpi` variant in a build without the `mpi` feature: it only says how to enable it.

use super::{ENABLE_HINT, NAME};
use crate::scatter::problem::Problem;
use crate::scatter::variant::{Availability, RunOutput, RunSettings, VariantError};

const REASON: &str = "this build has no MPI support (the `mpi` cargo feature is off)";

pub fn availability() -> Availability {
    Availability::Unavailable {
        reason: REASON.into(),
        hint: ENABLE_HINT.into(),
    }
}

pub fn run(_problem: &Problem, _settings: &RunSettings) -> Result<RunOutput, VariantError> {
    Err(VariantError::Unavailable {
        variant: NAME,
        reason: REASON.into(),
        hint: ENABLE_HINT.into(),
    })
}

/// The linked MPI library's version string; this build links none.
pub fn linked_library_version() -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_how_to_enable_mpi() {
        let problem = Problem::builder().cells(4, 4).segments(4).build().unwrap();
        let error = run(&problem, &RunSettings::default()).unwrap_err();
        assert!(error.hint().unwrap().contains("--features mpi"));
        assert!(error.hint().unwrap().contains("libopenmpi-dev"));
        assert!(matches!(availability(), Availability::Unavailable { .. }));
    }
}
