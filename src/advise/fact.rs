//! A fact the advisor reads: known, or unknown together with the reason why.
//!
//! The advisor never guesses. Every input it reads and every figure it
//! derives is a [`Fact`], so a missing measurement travels with its reason
//! ("perf not permitted", "no GPU variant was built") into the answer of the
//! node that needed it.

use serde::{Deserialize, Serialize};

/// A value that is either known or unknown for a stated reason.
///
/// In JSON: `{"known": VALUE}` or `{"unknown": "REASON"}`. The explicit
/// `known` tag keeps serde's error path pointing into the value, so a
/// mistyped field is named exactly (`machine.cores.known.usable`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact<T> {
    Known(T),
    Unknown(String),
}

impl<T> Fact<T> {
    /// An unknown fact with its reason.
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

    /// Turns `Some` into a known value and `None` into an unknown one with `because`.
    pub fn from_option(value: Option<T>, because: impl FnOnce() -> String) -> Self {
        match value {
            Some(value) => Fact::Known(value),
            None => Fact::unknown(because()),
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
    }

    #[test]
    fn derivations_keep_the_reason() {
        let unknown: Fact<u32> = Fact::unknown("no scheduler");
        assert_eq!(unknown.map(|n| n * 2), Fact::unknown("no scheduler"));
        assert_eq!(
            Fact::Known(3).and_then(|n: u32| Fact::Known(n + 1)),
            Fact::Known(4)
        );
    }
}
