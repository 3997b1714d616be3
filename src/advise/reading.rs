//! A measured or detected value as the advisor shows it: number and unit, or flag, or name, plus where it came from.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One value a node read, with its provenance ("bench: `simd` over `naive`").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Reading {
    pub value: Value,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Number {
        value: f64,
        unit: Unit,
        /// Confidence interval [low, high] where the measurement has one.
        interval: Option<[f64; 2]>,
    },
    Flag(bool),
    Text(String),
}

/// The three shapes of value a named fact can take; the tree's tests check its conditions against them.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Number,
    Flag,
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Cores,
    Threads,
    Lanes,
    Gpus,
    Nodes,
    Tasks,
    Items,
    Pairs,
    /// A speedup: "41x".
    Times,
    /// A share, shown as a percentage.
    Fraction,
    Seconds,
    Bytes,
    BytesPerPair,
    Exponent,
    GflopsPerSecond,
    GbytesPerSecond,
}

impl Reading {
    pub fn number(value: f64, unit: Unit, source: impl Into<String>) -> Reading {
        Reading {
            value: Value::Number {
                value,
                unit,
                interval: None,
            },
            source: source.into(),
        }
    }

    pub fn flag(value: bool, source: impl Into<String>) -> Reading {
        Reading {
            value: Value::Flag(value),
            source: source.into(),
        }
    }

    pub fn text(value: impl Into<String>, source: impl Into<String>) -> Reading {
        Reading {
            value: Value::Text(value.into()),
            source: source.into(),
        }
    }

    /// The number, if this reading is one.
    pub fn as_number(&self) -> Option<f64> {
        match self.value {
            Value::Number { value, .. } => Some(value),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number {
                value,
                unit,
                interval,
            } => {
                write!(f, "{}", unit.format(*value))?;
                if let Some([low, high]) = interval {
                    write!(f, " [{} to {}]", unit.format(*low), unit.format(*high))?;
                }
                Ok(())
            }
            Value::Flag(true) => f.write_str("yes"),
            Value::Flag(false) => f.write_str("no"),
            Value::Text(text) => f.write_str(text),
        }
    }
}

impl Unit {
    /// The value with its unit, rounded for reading.
    pub fn format(self, value: f64) -> String {
        let count = |singular: &str, plural: &str| {
            let noun = if value == 1.0 { singular } else { plural };
            format!("{} {noun}", trim(value))
        };
        match self {
            Unit::Cores => count("core", "cores"),
            Unit::Threads => count("thread", "threads"),
            Unit::Lanes => count("f64 lane", "f64 lanes"),
            Unit::Gpus => count("GPU", "GPUs"),
            Unit::Nodes => count("node", "nodes"),
            Unit::Tasks => count("task", "tasks"),
            Unit::Items => count("item", "items"),
            Unit::Pairs => format!("{} pairs", engineering(value)),
            Unit::Times => format!("{}x", significant(value)),
            Unit::Fraction => format!("{}%", significant(value * 100.0)),
            Unit::Seconds => duration(value),
            Unit::Bytes => bytes(value),
            Unit::BytesPerPair => format!("{} B/pair", significant(value)),
            Unit::Exponent => format!("{value:.2}"),
            Unit::GflopsPerSecond => format!("{} GFLOP/s", significant(value)),
            Unit::GbytesPerSecond => format!("{} GB/s", significant(value)),
        }
    }
}

/// Whole numbers without decimals, others with two significant decimals.
fn trim(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        significant(value)
    }
}

/// Up to three significant digits, without trailing zeros: 231, 41.5, 1.9, 0.061.
pub fn significant(value: f64) -> String {
    let magnitude = value.abs();
    let decimals = if magnitude >= 100.0 || magnitude == 0.0 {
        0
    } else if magnitude >= 10.0 {
        1
    } else if magnitude >= 1.0 {
        2
    } else {
        (-magnitude.log10()).ceil() as usize + 1
    };
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

fn engineering(value: f64) -> String {
    match value {
        v if v >= 1e9 => format!("{}G", significant(v / 1e9)),
        v if v >= 1e6 => format!("{}M", significant(v / 1e6)),
        v if v >= 1e3 => format!("{}k", significant(v / 1e3)),
        v => trim(v),
    }
}

/// Seconds in the unit that reads best: ns, µs, ms, s, min, h or days.
pub fn duration(seconds: f64) -> String {
    match seconds {
        s if s >= 2.0 * 86400.0 => format!("{} days", significant(s / 86400.0)),
        s if s >= 7200.0 => format!("{} h", significant(s / 3600.0)),
        s if s >= 120.0 => format!("{} min", significant(s / 60.0)),
        s if s >= 1.0 => format!("{} s", significant(s)),
        s if s >= 1e-3 => format!("{} ms", significant(s * 1e3)),
        s if s >= 1e-6 => format!("{} µs", significant(s * 1e6)),
        s => format!("{} ns", significant(s * 1e9)),
    }
}

fn bytes(value: f64) -> String {
    const KIB: f64 = 1024.0;
    match value {
        v if v >= KIB * KIB * KIB => format!("{} GiB", significant(v / (KIB * KIB * KIB))),
        v if v >= KIB * KIB => format!("{} MiB", significant(v / (KIB * KIB))),
        v if v >= KIB => format!("{} KiB", significant(v / KIB)),
        v => format!("{} B", trim(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_read_naturally() {
        assert_eq!(Unit::Times.format(230.77), "231x");
        assert_eq!(Unit::Times.format(1.92), "1.92x");
        assert_eq!(Unit::Times.format(1.9), "1.9x");
        assert_eq!(Unit::Fraction.format(0.034), "3.4%");
        assert_eq!(Unit::Fraction.format(0.01), "1%");
        assert_eq!(Unit::Seconds.format(0.0031), "3.1 ms");
        assert_eq!(Unit::Seconds.format(150.0), "2.5 min");
        assert_eq!(Unit::Seconds.format(2.5e-6), "2.5 µs");
        assert_eq!(Unit::Seconds.format(60.0), "60 s");
        assert_eq!(Unit::Seconds.format(3.0 * 3600.0), "3 h");
        assert_eq!(Unit::Seconds.format(10.0 * 86400.0), "10 days");
        assert_eq!(Unit::Cores.format(1.0), "1 core");
        assert_eq!(Unit::Cores.format(0.98), "0.98 cores");
        assert_eq!(Unit::Bytes.format(3.0 * 1024.0 * 1024.0), "3 MiB");
        assert_eq!(Unit::Bytes.format(1536.0), "1.5 KiB");
        assert_eq!(Unit::Bytes.format(512.0), "512 B");
        assert_eq!(Unit::Pairs.format(1_944_448.0), "1.94M pairs");
        assert_eq!(Unit::Fraction.format(0.0004), "0.04%");
        assert_eq!(Unit::Exponent.format(1.0), "1.00");
    }

    #[test]
    fn intervals_are_shown_with_the_value() {
        let value = Value::Number {
            value: 41.0,
            unit: Unit::Times,
            interval: Some([39.5, 42.3]),
        };
        assert_eq!(value.to_string(), "41x [39.5x to 42.3x]");
    }
}
