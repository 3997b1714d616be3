//! The advice as a plan: the options the walk called for, in the tree's order, each with the gain it adds on top of the steps before it.
//!
//! The walk ([`super::walk`]) says which options the machine's answers call
//! for; this module turns them into what a reader acts on. Each step's gain is
//! *marginal*: the ratio of two measurements of this run that differ by that
//! step alone (threads+simd over simd, not threads+simd over naive), so the
//! gains multiply to the plan's running total, and the total of a plan that
//! follows the ladder is the ladder's own speedup. Prerequisites (a noisy
//! measurement, an algorithm growing too fast, a program waiting on I/O) come
//! first whatever their gain; a measured step that gains less than the
//! worth-it threshold, or that the intervals cannot tell from noise, is not a
//! step but a ruled-out option with that reason. Every option of the tree is
//! in exactly one of the two lists. Nothing here measures or prints.

use serde::{Deserialize, Serialize};

use super::facts::{Agreement, Facts, Technique, VariantMeasurement};
use super::named::{FactId, FactSource, passing};
use super::python::{PythonGain, gains_for};
use super::reading::Unit;
use super::tree::{
    ActionTemplate, GainRule, Level, Marginal, STABLE_SPREAD, Tree, WORTHWHILE_GAIN,
};
use super::walk::{Answer, Step};
use crate::fact::Fact;

/// What to do on this machine, in order, with what each step buys and what is not worth doing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// One or two sentences: the first step, its measured gain, the total, what not to bother with.
    pub verdict: String,
    pub confidence: Confidence,
    /// The steps in the order to take them.
    pub steps: Vec<PlanStep>,
    /// Speedup over the naive loop after every step: the product of the measured step gains.
    pub total: f64,
    /// Every option of the tree that is not a step, with the measured or decided reason.
    pub ruled_out: Vec<RuledOut>,
    /// The Python ladder measured here, in one paragraph; unknown when it did not run.
    #[serde(default = "python_summary_not_recorded")]
    pub python_summary: Fact<String>,
}

fn python_summary_not_recorded() -> Fact<String> {
    Fact::unknown("this plan was made before hpc-advisor measured the Python ladder")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanStep {
    /// The tree's option id, e.g. `threads`.
    pub option: String,
    pub title: String,
    pub level: Level,
    /// The node whose answer called for it.
    pub node: String,
    /// What this step adds on top of the steps before it; unknown for what no ladder can measure.
    pub gain: Fact<StepGain>,
    /// Speedup over the naive loop once this step is taken (the product of the gains so far).
    pub running_total: f64,
    pub cost: String,
    pub rust_c: String,
    pub python: String,
    /// The Python ladder's measurements of this step's Python forms, here; empty when none.
    #[serde(default)]
    pub python_measured: Vec<PythonGain>,
}

/// A step's own gain: one measurement over another, both of this run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepGain {
    pub times: f64,
    /// [low, high] from the two measurements' intervals; unknown when either has none.
    pub interval: Fact<[f64; 2]>,
    /// e.g. "`threads+simd` over `simd`, 2 workers".
    pub measured_as: String,
    /// Set when the measured ratio was capped by what the step can have, saying why.
    pub capped: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuledOut {
    pub option: String,
    pub title: String,
    /// A short name for sentences: "the GPU", "MPI".
    pub name: String,
    pub why: RuledOutWhy,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuledOutWhy {
    /// Measured here, and its own gain is below the worth-it threshold.
    TooSmall,
    /// Measured here, but its interval cannot tell it from no gain at all.
    WithinNoise,
    /// The tree's answers on this machine do not call for it.
    NotCalledFor,
    /// The node that would call for it could not be decided.
    Undecided,
}

impl RuledOutWhy {
    /// The few words a reader sees before the reason: "too small", "within noise".
    pub fn label(self) -> &'static str {
        match self {
            RuledOutWhy::TooSmall => "too small",
            RuledOutWhy::WithinNoise => "within noise",
            RuledOutWhy::NotCalledFor => "not called for",
            RuledOutWhy::Undecided => "undecided",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Confidence {
    pub level: ConfidenceLevel,
    /// Why the ranking may not hold; empty when it does.
    pub reasons: Vec<String>,
    /// How to get a measurement the plan can rest on; set when the level is low.
    pub remedy: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConfidenceLevel {
    High,
    Low,
}

/// An option a node's answer called for, in walk order.
#[derive(Clone, Copy)]
pub struct Called {
    pub template: &'static ActionTemplate,
    pub node: &'static str,
}

/// How to get a clean measurement, in the words of the verdict.
pub const REMEDY: &str = "re-run `hpc-advisor analyse` without --quick on a quiet machine (an exclusive node or an idle laptop, nothing else running) before acting on the ranking";

/// The plan for the called options, with every other option of `tree` ruled out.
pub fn plan(facts: &Facts, tree: &Tree, path: &[Step], called: &[Called]) -> Plan {
    let mut ordered = called.to_vec();
    ordered.sort_by_key(|c| c.template.level);
    let mut chain = Chain::start(facts);
    let mut steps = Vec::new();
    let mut ruled_out = Vec::new();
    for call in ordered {
        match evaluate(facts, &mut chain, call) {
            Ok(step) => steps.push(step),
            Err(out) => ruled_out.push(out),
        }
    }
    rank_within_levels(&mut steps);
    let mut total = 1.0;
    for step in &mut steps {
        if let Fact::Known(gain) = &step.gain {
            total *= gain.times;
        }
        step.running_total = total;
    }
    for template in options(tree) {
        let taken = steps.iter().any(|s| s.option == template.id)
            || ruled_out.iter().any(|r| r.option == template.id);
        if !taken {
            ruled_out.push(not_called_for(facts, tree, path, template));
        }
    }
    let confidence = confidence(facts, &steps, &ruled_out);
    let verdict = verdict(tree, &steps, total, &ruled_out, &confidence);
    Plan {
        verdict,
        confidence,
        steps,
        total,
        ruled_out,
        python_summary: super::python::summary(facts),
    }
}

/// Every option the tree can call for, once, in the order the tree names them.
pub fn options(tree: &Tree) -> Vec<&'static ActionTemplate> {
    let mut found: Vec<&'static ActionTemplate> = Vec::new();
    for branch in tree.nodes.iter().flat_map(|node| node.branches) {
        for action in branch.actions {
            if !found.iter().any(|a| a.id == action.id) {
                found.push(action);
            }
        }
    }
    found
}

/// Where the plan stands on the ladder: the measured variant its steps so far amount to.
struct Chain<'a> {
    /// `None` once a step's gain was measured on another kernel and carried over.
    at: Option<&'a VariantMeasurement>,
}

impl<'a> Chain<'a> {
    fn start(facts: &'a Facts) -> Chain<'a> {
        Chain {
            at: passing(facts).find(|v| v.name == "naive"),
        }
    }
}

/// One measurement of the ladder as a speedup over naive, with its interval, and the
/// interval of its median time when the run recorded one.
struct Point<'a> {
    name: &'a str,
    workers: u32,
    speedup: f64,
    interval: Option<[f64; 2]>,
    seconds: Option<[f64; 2]>,
}

impl<'a> Point<'a> {
    fn of(variant: &'a VariantMeasurement) -> Option<Point<'a>> {
        let speedup = variant.speedup_over_naive.known()?;
        let interval = match &speedup.interval {
            Fact::Known(interval) => Some(*interval),
            // The reference is exact by definition: its interval is the point itself.
            Fact::Unknown(_) if variant.name == "naive" => Some([speedup.estimate; 2]),
            Fact::Unknown(_) => None,
        };
        Some(Point {
            name: &variant.name,
            workers: variant.workers,
            speedup: speedup.estimate,
            interval,
            seconds: variant.median_interval_seconds.known().copied(),
        })
    }
}

/// `target` over `base`, with the widest interval their intervals allow: from the two
/// medians' own intervals when both were recorded (naive's uncertainty then cancels),
/// else from the two speedups' intervals.
fn ratio(target: &Point, base: &Point, capped: Option<String>) -> StepGain {
    let positive = |[low, high]: [f64; 2]| low > 0.0 && high > 0.0;
    let interval = match (target.seconds, base.seconds, target.interval, base.interval) {
        (Some(t), Some([b_low, b_high]), _, _) if positive(t) => {
            Fact::Known([b_low / t[1], b_high / t[0]])
        }
        (_, _, Some([t_low, t_high]), Some(b)) if positive(b) => {
            Fact::Known([t_low / b[1], t_high / b[0]])
        }
        _ => Fact::unknown(format!(
            "`{}` or `{}` has no confidence interval",
            target.name, base.name
        )),
    };
    StepGain {
        times: target.speedup / base.speedup,
        interval,
        measured_as: format!(
            "`{}` over `{}`, {}",
            target.name,
            base.name,
            match target.workers {
                1 => "one core".to_string(),
                n => format!("{n} workers"),
            }
        ),
        capped,
    }
}

/// The techniques of a variant that change its loop, not how many cores run it.
fn kernel(variant: &VariantMeasurement) -> Vec<Technique> {
    let mut loop_techniques: Vec<Technique> = variant
        .techniques
        .iter()
        .copied()
        .filter(|t| !t.is_parallel())
        .collect();
    loop_techniques.sort_by_key(|t| *t as u8);
    loop_techniques
}

fn one_core(variant: &VariantMeasurement) -> bool {
    !variant.techniques.iter().any(|t| t.is_parallel())
}

/// The fastest variant that passed agreement and matches `wanted`.
fn fastest(
    facts: &Facts,
    wanted: impl Fn(&VariantMeasurement) -> bool,
) -> Option<&VariantMeasurement> {
    passing(facts)
        .filter(|v| wanted(v) && v.speedup_over_naive.known().is_some())
        .min_by(|a, b| a.median_seconds.total_cmp(&b.median_seconds))
}

fn number(facts: &Facts, id: FactId) -> Option<f64> {
    facts.read(id).known().and_then(|r| r.as_number())
}

/// The variant using `technique` as its only parallel one, with the one-core variant of its kernel;
/// the pair on the plan's own kernel if the ladder has it, else the fastest such pair.
fn parallel_pair<'a>(
    facts: &'a Facts,
    technique: Technique,
    plan_kernel: Option<&VariantMeasurement>,
) -> Option<(&'a VariantMeasurement, &'a VariantMeasurement)> {
    let mut pairs: Vec<(&VariantMeasurement, &VariantMeasurement)> = passing(facts)
        .filter(|v| {
            v.techniques.contains(&technique)
                && v.techniques
                    .iter()
                    .all(|t| !t.is_parallel() || *t == technique)
                && v.speedup_over_naive.known().is_some()
        })
        .filter_map(|parallel| {
            fastest(facts, |v| one_core(v) && kernel(v) == kernel(parallel))
                .map(|base| (parallel, base))
        })
        .collect();
    pairs.sort_by(|a, b| a.0.median_seconds.total_cmp(&b.0.median_seconds));
    let own = plan_kernel.and_then(|at| pairs.iter().find(|(_, base)| base.name == at.name));
    own.or(pairs.first()).copied()
}

/// Caps a parallel gain at what `units` of parallelism can give, saying why.
fn cap(gain: StepGain, limit: Option<(f64, String)>) -> StepGain {
    match limit {
        Some((limit, what)) if gain.times > limit => StepGain {
            capped: Some(format!(
                "measured {}, more than {what} can give: capped at {}",
                Unit::Times.format(gain.times),
                Unit::Times.format(limit)
            )),
            times: limit,
            interval: gain
                .interval
                .map(|[low, high]| [low.min(limit), high.min(limit)]),
            ..gain
        },
        _ => gain,
    }
}

/// The largest gain `workers` parallel units can honestly give: the usable cores (times the
/// measured efficiency when asked), and never more than the independent work items.
fn core_limit(facts: &Facts, with_efficiency: bool) -> Option<(f64, String)> {
    let cores = number(facts, FactId::CoresUsable)?;
    let mut limit = (cores, format!("{} usable cores", cores));
    if with_efficiency && let Some(efficiency) = number(facts, FactId::ThreadsEfficiency) {
        limit = (
            cores * efficiency,
            format!(
                "{cores} usable cores at the measured efficiency of {}",
                Unit::Fraction.format(efficiency)
            ),
        );
    }
    if let Some(items) = number(facts, FactId::IndependentItems)
        && items < limit.0
    {
        limit = (items, format!("{items} independent work items"));
    }
    Some(limit)
}

/// The gain of one called option on this run's measurements; moves the chain when it is taken.
fn measure<'a>(
    facts: &'a Facts,
    chain: &mut Chain<'a>,
    rule: Marginal,
) -> Result<StepGain, String> {
    let at = || {
        chain
            .at
            .ok_or("the plan's earlier steps were measured on other kernels")
    };
    match rule {
        Marginal::CompiledLoop | Marginal::ExplicitSimd => {
            let simd = rule == Marginal::ExplicitSimd;
            let target = fastest(facts, |v| {
                one_core(v) && v.name != "naive" && v.techniques.contains(&Technique::Simd) == simd
            })
            .ok_or_else(|| {
                format!(
                    "no one-core {} variant was measured and passed the agreement check",
                    if simd { "SIMD" } else { "compiled" }
                )
            })?;
            let gain = ratio(&point(target)?, &point(at()?)?, None);
            chain.at = Some(target);
            Ok(gain)
        }
        Marginal::Threads | Marginal::Processes => {
            let (technique, with_efficiency) = match rule {
                Marginal::Threads => (Technique::Threads, false),
                _ => (Technique::Processes, true),
            };
            let at = chain.at;
            let (parallel, base) = parallel_pair(facts, technique, at).ok_or_else(|| {
                format!(
                    "no {} variant and its one-core kernel both passed the agreement check",
                    if technique == Technique::Threads {
                        "threaded"
                    } else {
                        "worker-process"
                    }
                )
            })?;
            let gain = cap(
                ratio(&point(parallel)?, &point(base)?, None),
                core_limit(facts, with_efficiency),
            );
            let on_plan_kernel = at.is_some_and(|at| at.name == base.name);
            chain.at = (on_plan_kernel && gain.capped.is_none()).then_some(parallel);
            Ok(gain)
        }
        Marginal::Gpu => {
            let offload = facts
                .measurements
                .gpu_offload
                .known()
                .ok_or("the GPU offload was not measured")?;
            let gpu = passing(facts)
                .find(|v| v.name == offload.variant)
                .ok_or_else(|| format!("`{}` did not pass the agreement check", offload.variant))?;
            let naive = passing(facts)
                .find(|v| v.name == "naive")
                .ok_or("naive was not measured")?;
            let cpu = fastest(facts, |v| !v.techniques.contains(&Technique::Gpu))
                .ok_or("no CPU variant passed the agreement check")?;
            let kernel_only = point(gpu)?;
            let with_transfers = naive.median_seconds / offload.seconds_with_transfers;
            let scale = with_transfers / kernel_only.speedup;
            let target = Point {
                name: &offload.variant,
                workers: gpu.workers,
                speedup: with_transfers,
                interval: kernel_only.interval.map(|[l, h]| [l * scale, h * scale]),
                seconds: None,
            };
            let mut gain = ratio(&target, &point(cpu)?, None);
            gain.measured_as = format!(
                "`{}` on {} with transfers over `{}`",
                offload.variant, offload.device, cpu.name
            );
            if let Fact::Known(pairs) = offload.crossover_pairs {
                gain.measured_as.push_str(&format!(
                    "; it loses below {}",
                    Unit::Pairs.format(pairs as f64)
                ));
            }
            chain.at = None;
            Ok(gain)
        }
        Marginal::Mpi => {
            let mpi = fastest(facts, |v| v.techniques.contains(&Technique::Mpi))
                .ok_or("no MPI variant passed the agreement check")?;
            let node = fastest(facts, |v| {
                !v.techniques.contains(&Technique::Mpi) && !v.techniques.contains(&Technique::Gpu)
            })
            .ok_or("no single-node CPU variant passed the agreement check")?;
            let nodes = number(facts, FactId::AllocatedNodes);
            let limit = nodes.map(|n| (n, format!("{n} nodes")));
            let mut gain = cap(ratio(&point(mpi)?, &point(node)?, None), limit);
            if let Some(nodes) = nodes.filter(|n| *n > 1.0) {
                gain.measured_as.push_str(&format!(
                    " over {nodes} nodes: {} of linear per node added",
                    Unit::Fraction.format(gain.times / nodes)
                ));
            }
            chain.at = (gain.capped.is_none()).then_some(mpi);
            Ok(gain)
        }
    }
}

fn point(variant: &VariantMeasurement) -> Result<Point<'_>, String> {
    Point::of(variant).ok_or_else(|| format!("`{}` has no speedup over naive", variant.name))
}

/// A called option as a plan step, or ruled out when its own gain is too small or within noise.
fn evaluate<'a>(
    facts: &'a Facts,
    chain: &mut Chain<'a>,
    call: Called,
) -> Result<PlanStep, RuledOut> {
    let template = call.template;
    let gain = match &template.gain {
        GainRule::NotMeasurable(because) => Fact::unknown(*because),
        GainRule::Marginal(rule) => {
            let before = chain.at;
            match measure(facts, chain, *rule) {
                Ok(gain) => {
                    if let Some((why, reason)) = not_worth_it(&gain) {
                        chain.at = before;
                        return Err(ruled_out(template, why, reason));
                    }
                    Fact::Known(gain)
                }
                Err(because) => Fact::Unknown(because),
            }
        }
    };
    Ok(PlanStep {
        option: template.id.to_string(),
        title: template.title.to_string(),
        level: template.level,
        node: call.node.to_string(),
        gain,
        running_total: 1.0,
        cost: template.cost.to_string(),
        rust_c: template.rust_c.to_string(),
        python: template.python.to_string(),
        python_measured: gains_for(facts, template.id),
    })
}

/// Why a measured gain is not a step: below the worth-it threshold, or within noise.
fn not_worth_it(gain: &StepGain) -> Option<(RuledOutWhy, String)> {
    if gain.times < WORTHWHILE_GAIN {
        return Some((
            RuledOutWhy::TooSmall,
            format!(
                "adds only {} ({}{}), under the {} worth a code change",
                Unit::Times.format(gain.times),
                gain.measured_as,
                interval_text(&gain.interval),
                Unit::Times.format(WORTHWHILE_GAIN)
            ),
        ));
    }
    if let Fact::Known([low, high]) = gain.interval
        && low <= 1.0
    {
        return Some((
            RuledOutWhy::WithinNoise,
            format!(
                "{} ({}), but its interval {}-{} reaches no gain at all: not distinguishable from noise",
                Unit::Times.format(gain.times),
                gain.measured_as,
                Unit::Times.format(low),
                Unit::Times.format(high)
            ),
        ));
    }
    None
}

/// ", interval 1.8x-2.0x", or nothing when there is none.
pub fn interval_text(interval: &Fact<[f64; 2]>) -> String {
    match interval {
        Fact::Known([low, high]) => format!(
            ", interval {}-{}",
            Unit::Times.format(*low),
            Unit::Times.format(*high)
        ),
        Fact::Unknown(_) => String::new(),
    }
}

fn ruled_out(template: &ActionTemplate, why: RuledOutWhy, reason: String) -> RuledOut {
    RuledOut {
        option: template.id.to_string(),
        title: template.title.to_string(),
        name: template.name.to_string(),
        why,
        reason,
    }
}

/// An option no answer called for, with the answer that rules it out.
fn not_called_for(
    facts: &Facts,
    tree: &Tree,
    path: &[Step],
    template: &'static ActionTemplate,
) -> RuledOut {
    let node = tree
        .nodes
        .iter()
        .find(|n| {
            n.branches
                .iter()
                .any(|b| b.actions.iter().any(|a| a.id == template.id))
        })
        .map(|n| n.id)
        .unwrap_or_default();
    let (why, mut reason) = answer_at(tree, path, node);
    if let Some(untrusted) = untrusted(facts, template) {
        reason = format!("{untrusted}; {reason}");
    }
    if template.id == "gpu"
        && let Some(measured) = software_gpu(facts)
    {
        reason.push_str("; ");
        reason.push_str(&measured);
    }
    ruled_out(template, why, reason)
}

/// The answer of `node`, or of the visited node above it whose answer kept the walk away.
fn answer_at(tree: &Tree, path: &[Step], node: &str) -> (RuledOutWhy, String) {
    if let Some(step) = path.iter().find(|s| s.node == node) {
        return match &step.answer {
            Answer::Decided { text, .. } => {
                (RuledOutWhy::NotCalledFor, format!("{}: {text}", step.title))
            }
            Answer::Unknown { because } => (
                RuledOutWhy::Undecided,
                format!("{} could not be decided: {because}", step.title),
            ),
        };
    }
    let parent = tree
        .nodes
        .iter()
        .find(|n| n.branches.iter().any(|b| b.then == Some(node)));
    match parent {
        Some(parent) => answer_at(tree, path, parent.id),
        None => (RuledOutWhy::Undecided, format!("`{node}` was not visited")),
    }
}

/// "every `simd` variant failed the agreement check (...)" when that is why an option has no evidence.
fn untrusted(facts: &Facts, template: &ActionTemplate) -> Option<String> {
    let GainRule::Marginal(rule) = template.gain else {
        return None;
    };
    let technique = match rule {
        Marginal::CompiledLoop => return None,
        Marginal::ExplicitSimd => Technique::Simd,
        Marginal::Threads => Technique::Threads,
        Marginal::Processes => Technique::Processes,
        Marginal::Gpu => Technique::Gpu,
        Marginal::Mpi => Technique::Mpi,
    };
    let with = |v: &&VariantMeasurement| v.techniques.contains(&technique);
    if passing(facts).any(|v| with(&v)) {
        return None;
    }
    let failed: Vec<String> = facts
        .measurements
        .variants
        .iter()
        .filter(with)
        .filter_map(|v| match &v.agreement {
            Fact::Known(Agreement::Fail { reason }) => Some(format!("`{}`: {reason}", v.name)),
            Fact::Known(Agreement::Pass) => None,
            Fact::Unknown(because) => Some(format!("`{}`: not checked ({because})", v.name)),
        })
        .collect();
    (!failed.is_empty()).then(|| {
        format!(
            "failed the agreement check, so its timing is not evidence ({})",
            failed.join("; ")
        )
    })
}

/// What the GPU variant did on a software renderer, against the best CPU variant.
fn software_gpu(facts: &Facts) -> Option<String> {
    let offload = facts.measurements.gpu_offload.known()?;
    if !offload.software || !passing(facts).any(|v| v.name == offload.variant) {
        return None;
    }
    let cpu = fastest(facts, |v| !v.techniques.contains(&Technique::Gpu))?;
    let over_cpu = cpu.median_seconds / offload.seconds_with_transfers;
    let comparison = if over_cpu < 1.0 {
        format!("{} slower than", Unit::Times.format(1.0 / over_cpu))
    } else {
        format!("{} faster than", Unit::Times.format(over_cpu))
    };
    Some(format!(
        "the GPU variant ran on {} (software, on the CPU): {comparison} `{}` here, which says nothing about a real GPU",
        offload.device, cpu.name
    ))
}

/// Within a level, the larger measured gain first; levels keep the tree's order.
fn rank_within_levels(steps: &mut [PlanStep]) {
    let gain = |s: &PlanStep| s.gain.known().map_or(0.0, |g| g.times);
    steps.sort_by(|a, b| {
        a.level
            .cmp(&b.level)
            .then_with(|| gain(b).total_cmp(&gain(a)))
    });
}

fn confidence(facts: &Facts, steps: &[PlanStep], ruled_out: &[RuledOut]) -> Confidence {
    let mut reasons = Vec::new();
    match facts.read(FactId::RunSpread) {
        Fact::Known(reading) => {
            if let Some(spread) = reading.as_number().filter(|s| *s > STABLE_SPREAD) {
                reasons.push(format!(
                    "repeated runs spread by {}, more than the {} that lets a {} gain stand out",
                    Unit::Fraction.format(spread),
                    Unit::Fraction.format(STABLE_SPREAD),
                    Unit::Times.format(WORTHWHILE_GAIN)
                ));
            }
        }
        Fact::Unknown(because) => {
            reasons.push(format!("the run-to-run spread is unknown ({because})"));
        }
    }
    for step in steps {
        if let Fact::Known(StepGain {
            times,
            interval: Fact::Known([low, _]),
            ..
        }) = &step.gain
            && *low < WORTHWHILE_GAIN
        {
            reasons.push(format!(
                "`{}` gains {}, but its interval reaches down to {}, under the {} threshold",
                step.option,
                Unit::Times.format(*times),
                Unit::Times.format(*low),
                Unit::Times.format(WORTHWHILE_GAIN)
            ));
        }
    }
    for out in ruled_out {
        if out.why == RuledOutWhy::WithinNoise {
            reasons.push(format!("`{}` is within noise", out.option));
        }
    }
    let level = if reasons.is_empty() {
        ConfidenceLevel::High
    } else {
        ConfidenceLevel::Low
    };
    Confidence {
        level,
        remedy: (level == ConfidenceLevel::Low).then(|| REMEDY.to_string()),
        reasons,
    }
}

/// How many steps the verdict names before "and N more".
const VERDICT_STEPS: usize = 4;

fn verdict(
    tree: &Tree,
    steps: &[PlanStep],
    total: f64,
    ruled_out: &[RuledOut],
    confidence: &Confidence,
) -> String {
    let mut out = String::new();
    if let (ConfidenceLevel::Low, Some(reason)) = (confidence.level, confidence.reasons.first()) {
        out.push_str(&format!(
            "Low confidence: {reason}; {}. ",
            confidence.remedy.as_deref().unwrap_or(REMEDY)
        ));
    }
    if steps.is_empty() {
        out.push_str("On this machine: no option of the tree pays for this work.");
    } else {
        let mut parts = Vec::new();
        let mut measured_before = false;
        for (index, step) in steps.iter().take(VERDICT_STEPS).enumerate() {
            let phrase = options(tree)
                .into_iter()
                .find(|t| t.id == step.option)
                .map_or(step.title.as_str(), |t| t.phrase);
            let gain = match &step.gain {
                Fact::Known(gain) if measured_before => {
                    format!("{} more", Unit::Times.format(gain.times))
                }
                Fact::Known(gain) => format!("{} measured", Unit::Times.format(gain.times)),
                Fact::Unknown(_) => "no ladder measures its gain".to_string(),
            };
            measured_before |= step.gain.known().is_some();
            let lead = if index == 0 { "" } else { "then " };
            let first = if index == 0 { " first" } else { "" };
            parts.push(format!("{lead}{phrase}{first} ({gain})"));
        }
        out.push_str("On this machine: ");
        out.push_str(&parts.join(", "));
        if steps.len() > VERDICT_STEPS {
            out.push_str(&format!(", and {} more", steps.len() - VERDICT_STEPS));
        }
        if measured_before {
            out.push_str(&format!(
                ": {} over the naive loop in all",
                Unit::Times.format(total)
            ));
        }
        out.push('.');
    }
    let measurable: Vec<&str> = options(tree)
        .into_iter()
        .filter(|t| matches!(t.gain, GainRule::Marginal(_)))
        .map(|t| t.id)
        .collect();
    let measured_out = |undecided: bool| -> Vec<&str> {
        ruled_out
            .iter()
            .filter(|r| measurable.contains(&r.option.as_str()))
            .filter(|r| (r.why == RuledOutWhy::Undecided) == undecided)
            .map(|r| r.name.as_str())
            .collect()
    };
    let not_here = measured_out(false);
    if !not_here.is_empty() {
        out.push_str(&format!(" Not worth it here: {}.", not_here.join(", ")));
    }
    let undecided = measured_out(true);
    if !undecided.is_empty() {
        out.push_str(&format!(
            " Not decided, for want of a fact: {} (see why below).",
            undecided.join(", ")
        ));
    }
    out
}
