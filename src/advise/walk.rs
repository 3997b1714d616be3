//! The pure walk: facts in, recommendation out, following the tree's data and never guessing.
//!
//! The walk answers each node from the facts and collects the options the
//! answers call for; [`super::plan`] turns those into the measured plan.

use serde::{Deserialize, Serialize};

use super::condition::Truth;
use super::facts::{Agreement, Facts};
use super::named::{FactId, FactSource, INDEPENDENT_RUN_FLOOR_SECONDS, OVERHEAD_SHARE};
use super::plan::{Called, Plan, plan};
use super::reading::{Reading, Unit, duration};
use super::tree::{ActionTemplate, Node, TREE, Tree};
use crate::fact::Fact;

/// The advice: the plan with its verdict, and the path through the tree with the evidence behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Recommendation {
    /// The machine, as the facts describe it.
    pub machine: String,
    /// The workload the measurements were taken on.
    pub problem: String,
    /// What to do, in the tree's order, each step with its own measured gain; what not to do.
    pub plan: Plan,
    pub path: Vec<Step>,
    /// Which parallel mechanism fits which work-item size, from the measured overheads.
    pub crossover: Fact<Crossover>,
    /// Variants left out of every recommendation because their results were not trusted.
    pub excluded_variants: Vec<ExcludedVariant>,
}

/// One node visited: its question, the answer and the evidence behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Step {
    pub node: String,
    pub title: String,
    pub question: String,
    pub answer: Answer,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Decided { branch: String, text: String },
    Unknown { because: String },
}

/// A fact a node read, by name, with its value and source or the reason it is unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Evidence {
    pub fact: String,
    pub reading: Fact<Reading>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Crossover {
    /// The rule the thresholds follow.
    pub rule: String,
    pub threads_min_item_seconds: f64,
    pub processes_min_item_seconds: f64,
    pub independent_runs_min_item_seconds: f64,
    /// The bands in words: "items under 0.3 ms: batch them; ...".
    pub statement: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExcludedVariant {
    pub name: String,
    pub because: String,
}

/// Walks the decision tree over the facts.
pub fn advise(facts: &Facts) -> Recommendation {
    let (path, called) = walk(&TREE, facts);
    let plan = plan(facts, &TREE, &path, &called);
    let excluded_variants = facts
        .measurements
        .variants
        .iter()
        .filter_map(|v| {
            let because = match &v.agreement {
                Fact::Known(Agreement::Pass) => return None,
                Fact::Known(Agreement::Fail { reason }) => {
                    format!("failed the agreement check: {reason}")
                }
                Fact::Unknown(because) => format!("agreement not checked: {because}"),
            };
            Some(ExcludedVariant {
                name: v.name.clone(),
                because,
            })
        })
        .collect();
    Recommendation {
        machine: facts.machine.description.clone(),
        problem: facts.problem.description.clone(),
        plan,
        path,
        crossover: crossover(facts),
        excluded_variants,
    }
}

/// Visits every root and its follow-ups; returns the path and the options its answers called for.
pub fn walk(tree: &'static Tree, facts: &dyn FactSource) -> (Vec<Step>, Vec<Called>) {
    let mut path = Vec::new();
    let mut called: Vec<Called> = Vec::new();
    for root in tree.roots {
        let mut next = Some(*root);
        while let Some(id) = next {
            let node = tree
                .node(id)
                .unwrap_or_else(|| panic!("the tree names node `{id}` but does not define it"));
            let (answer, templates, follow) = decide(node, facts);
            for template in templates {
                if !called.iter().any(|c| c.template.id == template.id) {
                    called.push(Called {
                        template,
                        node: node.id,
                    });
                }
            }
            path.push(Step {
                node: node.id.to_string(),
                title: node.title.to_string(),
                question: node.question.to_string(),
                answer,
                evidence: node
                    .reads
                    .iter()
                    .map(|fact| Evidence {
                        fact: fact.name().to_string(),
                        reading: facts.read(*fact),
                    })
                    .collect(),
            });
            next = follow;
        }
    }
    (path, called)
}

/// The first branch whose condition holds; an undecidable condition before it makes the answer unknown.
fn decide(
    node: &'static Node,
    facts: &dyn FactSource,
) -> (
    Answer,
    &'static [&'static ActionTemplate],
    Option<&'static str>,
) {
    for branch in node.branches {
        match branch.when.evaluate(facts) {
            Truth::True => {
                let answer = Answer::Decided {
                    branch: branch.id.to_string(),
                    text: fill(branch.answer, facts),
                };
                return (answer, branch.actions, branch.then);
            }
            Truth::False => {}
            Truth::Unknown { because } => return (Answer::Unknown { because }, &[], None),
        }
    }
    let because = format!("no branch of `{}` applies", node.id);
    (Answer::Unknown { because }, &[], None)
}

/// Replaces every `{fact.name}` with the fact's value, or "unknown".
pub fn fill(template: &str, facts: &dyn FactSource) -> String {
    substitute(template, |id| match facts.read(id) {
        Fact::Known(reading) => Some(reading.value.to_string()),
        Fact::Unknown(_) => None,
    })
    .0
}

/// The placeholders of a template that do not name a fact: mistakes in the tree's data.
#[cfg(test)]
pub fn unknown_placeholders(template: &str) -> Vec<String> {
    placeholders(template)
        .filter(|name| FactId::from_name(name).is_none())
        .map(str::to_string)
        .collect()
}

/// The fact names a template's `{...}` placeholders refer to.
#[cfg(test)]
pub fn placeholders(template: &str) -> impl Iterator<Item = &str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

fn substitute(template: &str, value: impl Fn(FactId) -> Option<String>) -> (String, bool) {
    let mut out = String::with_capacity(template.len());
    let mut complete = true;
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(length) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + length];
        match FactId::from_name(name).and_then(&value) {
            Some(text) => out.push_str(&text),
            None => {
                complete = false;
                out.push_str("unknown");
            }
        }
        rest = &rest[start + length + 1..];
    }
    out.push_str(rest);
    (out, complete)
}

fn crossover(facts: &dyn FactSource) -> Fact<Crossover> {
    let seconds = |id: FactId| {
        facts.read(id).and_then(|r| {
            Fact::from_option(r.as_number(), || format!("{} is not a number", id.name()))
        })
    };
    seconds(FactId::CrossoverThreads).and_then(|threads| {
        seconds(FactId::CrossoverProcesses).and_then(|processes| {
            seconds(FactId::CrossoverIndependentRuns).map(|runs| {
                let statement = format!(
                    "items under {t}: batch them into larger tasks; {t} to {p}: threads \
                     (rayon, OpenMP; Python: Numba prange); {p} to {r}: a process pool \
                     (multiprocessing, Pathos); above {r}: independent runs with GNU Parallel",
                    t = duration(threads),
                    p = duration(processes),
                    r = duration(runs),
                );
                Crossover {
                    rule: format!(
                        "a mechanism pays for a work item when its measured per-item overhead is at most {} of the item's time; independent runs need at least {} (seed 001)",
                        Unit::Fraction.format(OVERHEAD_SHARE),
                        duration(INDEPENDENT_RUN_FLOOR_SECONDS)
                    ),
                    threads_min_item_seconds: threads,
                    processes_min_item_seconds: processes,
                    independent_runs_min_item_seconds: runs,
                    statement,
                }
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::advise::condition::{Condition, Op};
    use crate::advise::named::FactTable;
    use crate::advise::tree::Branch;

    const fn node(id: &'static str, branches: &'static [Branch]) -> Node {
        Node {
            id,
            title: id,
            question: "?",
            reads: &[FactId::CoresUsable, FactId::SimdLanes],
            branches,
            sources: &[],
        }
    }

    const fn branch(id: &'static str, when: Condition, then: Option<&'static str>) -> Branch {
        Branch {
            id,
            when,
            why: "",
            answer: "{cores.usable} and {simd.f64_lanes}",
            actions: &[],
            then,
        }
    }

    /// "first" cannot be decided (lanes unknown), so its follow-up is skipped; "second" can.
    static SMALL_TREE: Tree = Tree {
        roots: &["first", "second"],
        nodes: &[
            node(
                "first",
                &[
                    branch(
                        "lanes",
                        Condition::compare(FactId::SimdLanes, Op::AtLeast, 2.0),
                        Some("follow"),
                    ),
                    branch("otherwise", Condition::Always, Some("follow")),
                ],
            ),
            node("follow", &[branch("any", Condition::Always, None)]),
            node(
                "second",
                &[
                    branch(
                        "cores",
                        Condition::compare(FactId::CoresUsable, Op::AtLeast, 2.0),
                        Some("follow"),
                    ),
                    branch("otherwise", Condition::Always, None),
                ],
            ),
        ],
    };

    #[test]
    fn an_unknown_condition_stops_its_node_and_the_walk_goes_on() {
        let facts = FactTable(BTreeMap::from([(
            FactId::CoresUsable,
            Fact::Known(Reading::number(4.0, Unit::Cores, "test")),
        )]));
        let (path, actions) = walk(&SMALL_TREE, &facts);
        let visited: Vec<(&str, &Answer)> =
            path.iter().map(|s| (s.node.as_str(), &s.answer)).collect();
        assert_eq!(
            visited,
            [
                (
                    "first",
                    &Answer::Unknown {
                        because: "simd.f64_lanes: not in the table".into()
                    }
                ),
                (
                    "second",
                    &Answer::Decided {
                        branch: "cores".into(),
                        text: "4 cores and unknown".into()
                    }
                ),
                (
                    "follow",
                    &Answer::Decided {
                        branch: "any".into(),
                        text: "4 cores and unknown".into()
                    }
                ),
            ]
        );
        assert!(actions.is_empty());
        assert_eq!(
            path[0].evidence[1].reading,
            Fact::unknown("not in the table"),
            "the evidence shows the unknown fact with its reason"
        );
    }

    #[test]
    fn templates_are_filled_from_the_facts() {
        let facts = FactTable(BTreeMap::from([(
            FactId::ThreadsSpeedup,
            Fact::Known(Reading::number(1.92, Unit::Times, "test")),
        )]));
        assert_eq!(fill("{scaling.speedup} here", &facts), "1.92x here");
        assert_eq!(fill("{scaling.threads} threads", &facts), "unknown threads");
        assert_eq!(
            unknown_placeholders("{scaling.speedup} {no.such}"),
            ["no.such"]
        );
    }
}
