//! `Fact<T>`: a detected value, or the reason it could not be determined.
//!
//! Detection never guesses silently: every field that may be missing on some
//! machine is a `Fact`. In JSON a known fact is the plain value and an
//! unknown one is `{"unknown": "reason"}` (see docs/machine.md).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value detected on this machine, or why it is unknown.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact<T> {
    Known(T),
    Unknown(String),
}

impl<T> Fact<T> {
    /// An unknown fact with the reason, e.g. "`nvidia-smi` not found on PATH".
    pub fn unknown(reason: impl Into<String>) -> Self {
        Fact::Unknown(reason.into())
    }

    /// The value, if known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Fact::Known(value) => Some(value),
            Fact::Unknown(_) => None,
        }
    }

    /// Turns an `Option` into a fact, with the reason used when it is `None`.
    pub fn from_option(value: Option<T>, reason: impl FnOnce() -> String) -> Self {
        value.map_or_else(|| Fact::Unknown(reason()), Fact::Known)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Fact<U> {
        match self {
            Fact::Known(value) => Fact::Known(f(value)),
            Fact::Unknown(reason) => Fact::Unknown(reason),
        }
    }

    pub fn and_then<U>(self, f: impl FnOnce(T) -> Fact<U>) -> Fact<U> {
        match self {
            Fact::Known(value) => f(value),
            Fact::Unknown(reason) => Fact::Unknown(reason),
        }
    }

    /// This fact if known, otherwise the fallback (whose reason is kept if it is unknown too).
    pub fn or_else(self, fallback: impl FnOnce(String) -> Fact<T>) -> Fact<T> {
        match self {
            Fact::Known(value) => Fact::Known(value),
            Fact::Unknown(reason) => fallback(reason),
        }
    }

    pub fn as_ref(&self) -> Fact<&T> {
        match self {
            Fact::Known(value) => Fact::Known(value),
            Fact::Unknown(reason) => Fact::Unknown(reason.clone()),
        }
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
            Fact::Unknown(reason) => write!(f, "unknown ({reason})"),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnknownRepr {
    unknown: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FactRepr<T> {
    Unknown(UnknownRepr),
    Known(T),
}

impl<T: Serialize> Serialize for Fact<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Fact::Known(value) => value.serialize(serializer),
            Fact::Unknown(reason) => UnknownRepr {
                unknown: reason.clone(),
            }
            .serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Fact<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match FactRepr::deserialize(deserializer)? {
            FactRepr::Unknown(repr) => Fact::Unknown(repr.unknown),
            FactRepr::Known(value) => Fact::Known(value),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_is_the_plain_value_and_unknown_a_tagged_reason() {
        let known: Fact<u32> = Fact::Known(2);
        let unknown: Fact<u32> = Fact::unknown("no sysfs");
        assert_eq!(serde_json::to_string(&known).unwrap(), "2");
        assert_eq!(
            serde_json::to_string(&unknown).unwrap(),
            r#"{"unknown":"no sysfs"}"#
        );
        assert_eq!(serde_json::from_str::<Fact<u32>>("2").unwrap(), known);
        assert_eq!(
            serde_json::from_str::<Fact<u32>>(r#"{"unknown":"no sysfs"}"#).unwrap(),
            unknown
        );
    }

    #[test]
    fn optional_values_round_trip_through_null() {
        let none: Fact<Option<u64>> = Fact::Known(None);
        assert_eq!(serde_json::to_string(&none).unwrap(), "null");
        assert_eq!(
            serde_json::from_str::<Fact<Option<u64>>>("null").unwrap(),
            none
        );
    }

    #[test]
    fn display_names_the_reason() {
        assert_eq!(Fact::<u8>::unknown("why").to_string(), "unknown (why)");
        assert_eq!(Fact::Known(7).to_string(), "7");
    }
}
