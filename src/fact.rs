//! `Fact<T>`: a value that is known, or unknown together with the reason why.
//!
//! hpc-advisor never guesses silently. Detection records every value it
//! could not determine as a [`Fact`] with its reason ("`nvidia-smi` not
//! found on PATH"), and the advisor carries that reason into the answer of
//! the node that needed it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A value that is either known or unknown for a stated reason.
///
/// In JSON: `{"known": VALUE}` or `{"unknown": "REASON"}`. The explicit
/// `known` tag keeps serde's error path pointing into the value, so a
/// mistyped field is named exactly (`machine.cores.known.usable`); a known
/// "none" is `{"known": null}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fact<T> {
    Known(T),
    Unknown(String),
}

impl<T> Fact<T> {
    /// An unknown fact with its reason, e.g. "`nvidia-smi` not found on PATH".
    pub fn unknown(because: impl Into<String>) -> Self {
        Fact::Unknown(because.into())
    }

    /// The value, if known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Fact::Known(value) => Some(value),
            Fact::Unknown(_) => None,
        }
    }

    /// Borrows the value, keeping the reason when unknown.
    pub fn as_ref(&self) -> Fact<&T> {
        match self {
            Fact::Known(value) => Fact::Known(value),
            Fact::Unknown(because) => Fact::unknown(because.clone()),
        }
    }

    /// Transforms a known value; an unknown one keeps its reason.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Fact<U> {
        match self {
            Fact::Known(value) => Fact::Known(f(value)),
            Fact::Unknown(because) => Fact::Unknown(because),
        }
    }

    /// Chains a derivation that may itself be unknown.
    pub fn and_then<U>(self, f: impl FnOnce(T) -> Fact<U>) -> Fact<U> {
        match self {
            Fact::Known(value) => f(value),
            Fact::Unknown(because) => Fact::Unknown(because),
        }
    }

    /// This fact if known, otherwise the fallback (whose reason is kept if it is unknown too).
    pub fn or_else(self, fallback: impl FnOnce(String) -> Fact<T>) -> Fact<T> {
        match self {
            Fact::Known(value) => Fact::Known(value),
            Fact::Unknown(because) => fallback(because),
        }
    }

    /// Turns `Some` into a known value and `None` into an unknown one with `because`.
    pub fn from_option(value: Option<T>, because: impl FnOnce() -> String) -> Self {
        value.map_or_else(|| Fact::Unknown(because()), Fact::Known)
    }
}

impl<T, E: fmt::Display> From<Result<T, E>> for Fact<T> {
    fn from(result: Result<T, E>) -> Self {
        match result {
            Ok(value) => Fact::Known(value),
            Err(error) => Fact::Unknown(error.to_string()),
        }
    }
}

/// Known values print as themselves, unknown ones as `unknown (reason)`.
impl<T: fmt::Display> fmt::Display for Fact<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fact::Known(value) => value.fmt(f),
            Fact::Unknown(because) => write!(f, "unknown ({because})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_spells_known_and_unknown_explicitly() {
        let known: Fact<u32> = Fact::Known(2);
        let unknown: Fact<u32> = Fact::unknown("perf not permitted");
        assert_eq!(serde_json::to_string(&known).unwrap(), r#"{"known":2}"#);
        assert_eq!(
            serde_json::to_string(&unknown).unwrap(),
            r#"{"unknown":"perf not permitted"}"#
        );
        assert_eq!(
            serde_json::from_str::<Fact<u32>>(r#"{"known":2}"#).unwrap(),
            known
        );
    }

    #[test]
    fn optional_values_round_trip_through_null() {
        let none: Fact<Option<u64>> = Fact::Known(None);
        assert_eq!(serde_json::to_string(&none).unwrap(), r#"{"known":null}"#);
        assert_eq!(
            serde_json::from_str::<Fact<Option<u64>>>(r#"{"known":null}"#).unwrap(),
            none
        );
    }

    #[test]
    fn derivations_keep_the_reason() {
        let unknown: Fact<u32> = Fact::unknown("no scheduler");
        assert_eq!(
            unknown.clone().map(|n| n * 2),
            Fact::unknown("no scheduler")
        );
        assert_eq!(
            Fact::Known(3).and_then(|n: u32| Fact::Known(n + 1)),
            Fact::Known(4)
        );
        assert_eq!(
            unknown.or_else(|why| Fact::unknown(format!("{why}; no fallback"))),
            Fact::unknown("no scheduler; no fallback")
        );
        assert_eq!(
            Fact::<u32>::from(Err::<u32, _>("boom")).to_string(),
            "unknown (boom)"
        );
    }
}
