//! Errors the user can act on, with a `hint:` line, and the exit codes they map to.
//!
//! Exit 0 is success (a closed pipe on stdout counts as success, as in
//! ripgrep), 1 a user or environment problem, 2 an internal failure.

use std::io;
use std::path::Path;
use std::process::ExitCode;

use thiserror::Error;

use crate::versioned_json::DocumentError;

/// A problem with the input or the environment, and how to fix it.
#[derive(Debug, Error)]
#[error("{message}")]
pub struct UserError {
    pub message: String,
    pub hint: Option<String>,
}

/// A failure that is our fault, not the user's: exit code 2.
#[derive(Debug, Error)]
#[error("internal error: {0}")]
pub struct InternalError(pub String);

/// A user error with a hint saying how to fix it.
pub fn user_error(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    UserError {
        message: message.into(),
        hint: Some(hint.into()),
    }
    .into()
}

/// A versioned JSON document the user gives (a facts file, a report): its name
/// in messages, and the hint for each way it can be wrong.
pub struct DocumentHints<'a> {
    /// As the messages name it: "report", "facts file".
    pub what: &'a str,
    pub unreadable: &'a str,
    pub not_json: &'a str,
    pub unknown_version: &'a str,
    pub bad_field: &'a str,
}

/// The largest facts or report file read (a report with every sample of a long run is a
/// few MiB): a bigger one is refused before it is read.
pub const MAX_DOCUMENT_BYTES: u64 = 256 << 20;

/// Reads and parses the document at `path`, or says what is wrong with it and how to fix it.
pub fn read_document<T>(
    path: &Path,
    parse: impl FnOnce(&str) -> Result<T, DocumentError>,
    hints: &DocumentHints,
) -> anyhow::Result<T> {
    if let Ok(metadata) = std::fs::metadata(path)
        && metadata.len() > MAX_DOCUMENT_BYTES
    {
        return Err(user_error(
            format!(
                "the {} {} is {} MiB, more than the {} MiB such a file ever needs",
                hints.what,
                path.display(),
                metadata.len() >> 20,
                MAX_DOCUMENT_BYTES >> 20
            ),
            hints.unreadable,
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        user_error(
            format!("cannot read the {} {}: {e}", hints.what, path.display()),
            hints.unreadable,
        )
    })?;
    parse(&text).map_err(|error| {
        let hint = match &error {
            DocumentError::NotJson(_) => hints.not_json,
            DocumentError::UnknownSchemaVersion { .. } => hints.unknown_version,
            DocumentError::Field { .. } => hints.bad_field,
        };
        user_error(
            format!("invalid {} {}: {error}", hints.what, path.display()),
            hint,
        )
    })
}

/// Prints the error chain and its hint to stderr and returns the exit code.
pub fn report(error: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(error) {
        return ExitCode::SUCCESS;
    }
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    if let Some(hint) = error
        .chain()
        .find_map(|e| e.downcast_ref::<UserError>())
        .and_then(|e| e.hint.as_deref())
    {
        eprintln!("hint: {hint}");
    }
    ExitCode::from(exit_code(error))
}

/// 2 for internal failures, 1 for everything the user or the environment can fix.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    if error.chain().any(|e| e.is::<InternalError>()) {
        2
    } else {
        1
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_exit_2_and_the_rest_1() {
        let internal = anyhow::Error::new(InternalError("bug".into())).context("while running");
        assert_eq!(exit_code(&internal), 2);
        assert_eq!(exit_code(&user_error("bad", "fix it")), 1);
        assert_eq!(exit_code(&anyhow::anyhow!("plain")), 1);
    }

    #[test]
    fn broken_pipe_is_success() {
        let error =
            anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe)).context("printing");
        assert!(is_broken_pipe(&error));
    }
}
