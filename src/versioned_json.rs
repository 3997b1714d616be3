//! Reading a versioned JSON document (facts, reports) so that a bad file names the offending field.

use serde::de::DeserializeOwned;
use thiserror::Error;

/// Why a versioned JSON document could not be read.
#[derive(Debug, Error)]
pub enum DocumentError {
    #[error("not valid JSON: {0}")]
    NotJson(serde_json::Error),
    #[error("`schema_version` is {found}, but this build reads version {expected}")]
    UnknownSchemaVersion { found: String, expected: String },
    #[error("field `{path}`: {message}")]
    Field { path: String, message: String },
}

/// Parses `text`, checks `schema_version` first, then deserialises with the failing field's path.
pub fn from_versioned_json<T: DeserializeOwned>(
    text: &str,
    expected_version: u32,
) -> Result<T, DocumentError> {
    from_any_versioned_json(text, &[expected_version])
}

/// As [`from_versioned_json`], for a type that reads every version in `readable` (the later
/// ones only added fields, with defaults for the earlier documents that lack them).
pub fn from_any_versioned_json<T: DeserializeOwned>(
    text: &str,
    readable: &[u32],
) -> Result<T, DocumentError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(DocumentError::NotJson)?;
    match value.get("schema_version") {
        Some(version)
            if version
                .as_u64()
                .is_some_and(|v| readable.iter().any(|r| u64::from(*r) == v)) => {}
        Some(version) => {
            let names: Vec<String> = readable.iter().map(u32::to_string).collect();
            return Err(DocumentError::UnknownSchemaVersion {
                found: version.to_string(),
                expected: names.join(" or "),
            });
        }
        None => {
            return Err(DocumentError::Field {
                path: "schema_version".into(),
                message: "missing field `schema_version`".into(),
            });
        }
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let parent = error.path().to_string();
        let message = error.into_inner().to_string();
        // serde reports a missing field at its parent: name the field itself.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'));
        let path = match (missing, parent.as_str()) {
            (Some(field), ".") => field.to_string(),
            (Some(field), parent) => format!("{parent}.{field}"),
            (None, _) => parent,
        };
        DocumentError::Field { path, message }
    })
}
