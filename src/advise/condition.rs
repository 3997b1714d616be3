//! Branch conditions as data, and the small evaluator that decides them over named facts.
//!
//! A condition compares a named fact with a constant or with another fact
//! (scaled and shifted), tests a flag, or combines conditions. Evaluation is
//! three-valued (Kleene logic): a condition over an unknown fact is itself
//! unknown, with the fact's reason, unless the known parts already decide it
//! (`false and unknown` is false, `true or unknown` is true).

use std::fmt;

use super::named::{FactId, FactSource};
#[cfg(test)]
use super::reading::Kind;
use super::reading::Value;
use crate::fact::Fact;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Condition {
    /// Holds always: the last branch of a node.
    Always,
    /// `fact op threshold` over numbers.
    Compare {
        fact: FactId,
        op: Op,
        threshold: Threshold,
    },
    /// The flag fact is `expected`.
    Flag {
        fact: FactId,
        expected: bool,
    },
    All(&'static [Condition]),
    Any(&'static [Condition]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Less,
    AtMost,
    AtLeast,
    Greater,
}

/// What a fact is compared with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    Value(f64),
    /// `times * fact + plus`.
    Fact {
        fact: FactId,
        times: f64,
        plus: f64,
    },
}

/// The outcome of evaluating a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Truth {
    True,
    False,
    Unknown { because: String },
}

impl Condition {
    /// `fact op value`.
    pub const fn compare(fact: FactId, op: Op, value: f64) -> Condition {
        Condition::Compare {
            fact,
            op,
            threshold: Threshold::Value(value),
        }
    }

    /// The flag fact is `expected`.
    pub const fn flag(fact: FactId, expected: bool) -> Condition {
        Condition::Flag { fact, expected }
    }

    /// `fact op other` (another fact, unscaled).
    pub const fn compare_facts(fact: FactId, op: Op, other: FactId) -> Condition {
        Condition::Compare {
            fact,
            op,
            threshold: Threshold::Fact {
                fact: other,
                times: 1.0,
                plus: 0.0,
            },
        }
    }

    /// Decides the condition from the facts.
    pub fn evaluate(&self, facts: &dyn FactSource) -> Truth {
        match self {
            Condition::Always => Truth::True,
            Condition::Compare {
                fact,
                op,
                threshold,
            } => {
                let left = match number(facts, *fact) {
                    Ok(value) => value,
                    Err(because) => return Truth::Unknown { because },
                };
                let right = match threshold {
                    Threshold::Value(value) => *value,
                    Threshold::Fact { fact, times, plus } => match number(facts, *fact) {
                        Ok(value) => times * value + plus,
                        Err(because) => return Truth::Unknown { because },
                    },
                };
                Truth::from(op.holds(left, right))
            }
            Condition::Flag { fact, expected } => match facts.read(*fact) {
                Fact::Known(reading) => match reading.value {
                    Value::Flag(value) => Truth::from(value == *expected),
                    _ => Truth::Unknown {
                        because: format!("{} is not a yes/no fact", fact.name()),
                    },
                },
                Fact::Unknown(because) => Truth::Unknown {
                    because: format!("{}: {because}", fact.name()),
                },
            },
            Condition::All(parts) => combine(parts, facts, Truth::False),
            Condition::Any(parts) => combine(parts, facts, Truth::True),
        }
    }

    /// Every fact the condition reads, in order of appearance.
    #[cfg(test)]
    pub fn facts(&self) -> Vec<FactId> {
        match self {
            Condition::Always => Vec::new(),
            Condition::Compare {
                fact,
                threshold: Threshold::Fact { fact: other, .. },
                ..
            } => vec![*fact, *other],
            Condition::Compare { fact, .. } | Condition::Flag { fact, .. } => vec![*fact],
            Condition::All(parts) | Condition::Any(parts) => {
                parts.iter().flat_map(Condition::facts).collect()
            }
        }
    }

    /// Conditions that compare a non-number or test a non-flag: mistakes in the tree's data.
    #[cfg(test)]
    pub fn kind_mistakes(&self) -> Vec<String> {
        let expect = |fact: FactId, kind: Kind| {
            (fact.kind() != kind).then(|| format!("{} is not a {kind:?}", fact.name()))
        };
        match self {
            Condition::Always => Vec::new(),
            Condition::Compare {
                fact, threshold, ..
            } => {
                let mut mistakes: Vec<String> = expect(*fact, Kind::Number).into_iter().collect();
                if let Threshold::Fact { fact, .. } = threshold {
                    mistakes.extend(expect(*fact, Kind::Number));
                }
                mistakes
            }
            Condition::Flag { fact, .. } => expect(*fact, Kind::Flag).into_iter().collect(),
            Condition::All(parts) | Condition::Any(parts) => {
                parts.iter().flat_map(Condition::kind_mistakes).collect()
            }
        }
    }
}

/// `All` stops at the first false part, `Any` at the first true one (`decisive`);
/// otherwise an unknown part makes the whole unknown.
fn combine(parts: &[Condition], facts: &dyn FactSource, decisive: Truth) -> Truth {
    let mut unknown = None;
    for part in parts {
        match part.evaluate(facts) {
            truth if truth == decisive => return decisive,
            Truth::Unknown { because } => {
                unknown.get_or_insert(because);
            }
            _ => {}
        }
    }
    match unknown {
        Some(because) => Truth::Unknown { because },
        None if decisive == Truth::False => Truth::True,
        None => Truth::False,
    }
}

fn number(facts: &dyn FactSource, fact: FactId) -> Result<f64, String> {
    match facts.read(fact) {
        Fact::Known(reading) => reading
            .as_number()
            .ok_or_else(|| format!("{} is not a number", fact.name())),
        Fact::Unknown(because) => Err(format!("{}: {because}", fact.name())),
    }
}

impl From<bool> for Truth {
    fn from(value: bool) -> Truth {
        if value { Truth::True } else { Truth::False }
    }
}

impl Op {
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Op::Less => left < right,
            Op::AtMost => left <= right,
            Op::AtLeast => left >= right,
            Op::Greater => left > right,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Less => "<",
            Op::AtMost => "<=",
            Op::AtLeast => ">=",
            Op::Greater => ">",
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Always => f.write_str("otherwise"),
            Condition::Compare {
                fact,
                op,
                threshold,
            } => {
                write!(f, "{} {} ", fact.name(), op.symbol())?;
                match threshold {
                    Threshold::Value(value) => write!(f, "{value}"),
                    Threshold::Fact { fact, times, plus } => {
                        if *times != 1.0 {
                            write!(f, "{times} * ")?;
                        }
                        write!(f, "{}", fact.name())?;
                        if *plus != 0.0 {
                            write!(f, " + {plus}")?;
                        }
                        Ok(())
                    }
                }
            }
            Condition::Flag { fact, expected } => {
                write!(
                    f,
                    "{} is {}",
                    fact.name(),
                    if *expected { "yes" } else { "no" }
                )
            }
            Condition::All(parts) | Condition::Any(parts) => {
                let joiner = if matches!(self, Condition::All(_)) {
                    " and "
                } else {
                    " or "
                };
                let parts: Vec<String> = parts.iter().map(|p| format!("({p})")).collect();
                f.write_str(&parts.join(joiner))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::advise::named::FactTable;
    use crate::advise::reading::{Reading, Unit};

    fn table() -> FactTable {
        FactTable(BTreeMap::from([
            (
                FactId::CoresUsable,
                Fact::Known(Reading::number(2.0, Unit::Cores, "test")),
            ),
            (
                FactId::IndependentItems,
                Fact::Known(Reading::number(129.0, Unit::Items, "test")),
            ),
            (
                FactId::MpiCanLaunch,
                Fact::Known(Reading::flag(true, "test")),
            ),
            (FactId::PerfPermitted, Fact::unknown("perf not installed")),
        ]))
    }

    const TWO_CORES: Condition = Condition::compare(FactId::CoresUsable, Op::AtLeast, 2.0);
    const ONE_CORE: Condition = Condition::compare(FactId::CoresUsable, Op::AtMost, 1.0);
    const PERF: Condition = Condition::Flag {
        fact: FactId::PerfPermitted,
        expected: true,
    };

    #[test]
    fn comparisons_with_constants_and_facts() {
        let facts = table();
        assert_eq!(TWO_CORES.evaluate(&facts), Truth::True);
        assert_eq!(ONE_CORE.evaluate(&facts), Truth::False);
        assert_eq!(
            Condition::compare(FactId::CoresUsable, Op::Greater, 2.0).evaluate(&facts),
            Truth::False
        );
        let items_per_core = Condition::Compare {
            fact: FactId::IndependentItems,
            op: Op::AtLeast,
            threshold: Threshold::Fact {
                fact: FactId::CoresUsable,
                times: 64.0,
                plus: 1.0,
            },
        };
        assert_eq!(items_per_core.evaluate(&facts), Truth::True); // 129 >= 64 * 2 + 1
        let too_many = Condition::compare_facts(FactId::CoresUsable, Op::Less, FactId::CoresUsable);
        assert_eq!(too_many.evaluate(&facts), Truth::False);
    }

    #[test]
    fn flags() {
        let facts = table();
        let launches = Condition::Flag {
            fact: FactId::MpiCanLaunch,
            expected: true,
        };
        assert_eq!(launches.evaluate(&facts), Truth::True);
        let cannot = Condition::Flag {
            fact: FactId::MpiCanLaunch,
            expected: false,
        };
        assert_eq!(cannot.evaluate(&facts), Truth::False);
    }

    #[test]
    fn unknown_facts_carry_their_reason() {
        let facts = table();
        assert_eq!(
            PERF.evaluate(&facts),
            Truth::Unknown {
                because: "perf.permitted: perf not installed".into()
            }
        );
        let missing = Condition::compare(FactId::SimdLanes, Op::AtLeast, 2.0);
        assert_eq!(
            missing.evaluate(&facts),
            Truth::Unknown {
                because: "simd.f64_lanes: not in the table".into()
            }
        );
        let against_missing =
            Condition::compare_facts(FactId::CoresUsable, Op::Less, FactId::SimdLanes);
        assert!(matches!(
            against_missing.evaluate(&facts),
            Truth::Unknown { .. }
        ));
    }

    #[test]
    fn kleene_logic_decides_when_the_known_part_suffices() {
        let facts = table();
        assert_eq!(
            Condition::All(&[ONE_CORE, PERF]).evaluate(&facts),
            Truth::False
        );
        assert_eq!(
            Condition::Any(&[TWO_CORES, PERF]).evaluate(&facts),
            Truth::True
        );
        assert!(matches!(
            Condition::All(&[TWO_CORES, PERF]).evaluate(&facts),
            Truth::Unknown { .. }
        ));
        assert!(matches!(
            Condition::Any(&[ONE_CORE, PERF]).evaluate(&facts),
            Truth::Unknown { .. }
        ));
        assert_eq!(
            Condition::All(&[TWO_CORES, Condition::Always]).evaluate(&facts),
            Truth::True
        );
        assert_eq!(Condition::Any(&[ONE_CORE]).evaluate(&facts), Truth::False);
    }

    #[test]
    fn type_mistakes_are_unknown_and_found_by_the_check() {
        let facts = table();
        let wrong = Condition::compare(FactId::MpiCanLaunch, Op::AtLeast, 1.0);
        assert!(matches!(wrong.evaluate(&facts), Truth::Unknown { .. }));
        assert_eq!(wrong.kind_mistakes().len(), 1);
        assert!(TWO_CORES.kind_mistakes().is_empty());
    }

    #[test]
    fn conditions_print_as_written() {
        assert_eq!(TWO_CORES.to_string(), "cores.usable >= 2");
        assert_eq!(
            Condition::All(&[TWO_CORES, PERF]).to_string(),
            "(cores.usable >= 2) and (perf.permitted is yes)"
        );
        assert_eq!(Condition::Always.to_string(), "otherwise");
    }
}
