//! The Python ladder's evidence in the plan: each step's Python words with the gain its Python rung measured here.
//!
//! The tree's options say what to do in Rust/C and in Python terms; the
//! Python ladder measured the Python forms of most of them on this machine.
//! [`gains_for`] gives the measurements behind one option (NumPy and Numba
//! for "vectorise", Numba's prange for "threads", the process pool and its
//! break-even for "process pool", mpi4py and its launch for "MPI", and the gap
//! from Numba to compiled Rust with explicit SIMD for "explicit SIMD");
//! [`summary`] gives the whole ladder in one paragraph. Every ratio is of
//! median costs per pair, with the range the two medians' intervals allow,
//! so rungs measured on problems of different sizes still compare.

use serde::{Deserialize, Serialize};

use super::facts::{Facts, PythonLadderFacts, PythonRungFacts, Technique};
use super::named::passing;
use super::reading::Unit;
use crate::fact::Fact;

/// One measured Python gain, quoted beside a step's Python words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PythonGain {
    /// The faster of the two: a Python rung (`py-numba`) or, for the Rust gap, a Rust variant.
    pub rung: String,
    /// What it is measured over, e.g. `py-pure`.
    pub over: String,
    /// Median cost per pair of `over` divided by that of `rung`.
    pub times: f64,
    /// [low, high] from the two medians' intervals; unknown when either has none.
    pub interval: Fact<[f64; 2]>,
    /// The sentence a reader sees, e.g. "Numba @njit: 87x over pure Python".
    pub sentence: String,
}

const PURE: &str = "py-pure";
const NUMPY: &str = "py-numpy";
const NUMBA: &str = "py-numba";
const PRANGE: &str = "py-numba-prange";
const POOL: &str = "py-pool";
const MPI4PY: &str = "py-mpi4py";

/// `(median, interval)` nanoseconds per pair of a rung that was measured.
fn cost(rung: &PythonRungFacts) -> Option<(f64, Fact<[f64; 2]>)> {
    rung.ns_per_pair
        .known()
        .map(|&ns| (ns, rung.ns_per_pair_interval.clone()))
}

/// `slower / faster`, with the interval `slower_low / faster_high` to `slower_high / faster_low`.
fn ratio(faster: (f64, Fact<[f64; 2]>), slower: (f64, Fact<[f64; 2]>)) -> (f64, Fact<[f64; 2]>) {
    let interval = match (faster.1, slower.1) {
        (Fact::Known([f_low, f_high]), Fact::Known([s_low, s_high])) => {
            Fact::Known([s_low / f_high, s_high / f_low])
        }
        _ => Fact::unknown("one of the two has no interval"),
    };
    (slower.0 / faster.0, interval)
}

/// The gain of rung `faster` over rung `slower`, when both were measured, in `words`.
fn rung_gain(
    ladder: &PythonLadderFacts,
    faster: &str,
    slower: &str,
    words: impl FnOnce(&PythonRungFacts, f64) -> String,
) -> Option<PythonGain> {
    let (fast, slow) = (ladder.rung(faster)?, ladder.rung(slower)?);
    let (times, interval) = ratio(cost(fast)?, cost(slow)?);
    Some(PythonGain {
        rung: faster.to_string(),
        over: slower.to_string(),
        times,
        sentence: words(fast, times),
        interval,
    })
}

fn times(value: f64) -> String {
    Unit::Times.format(value)
}

/// "2 threads", "2 worker processes", "2 ranks".
fn workers(rung: &PythonRungFacts, unit: &str) -> String {
    format!(
        "{} {unit}{}",
        rung.workers,
        if rung.workers == 1 { "" } else { "s" }
    )
}

/// Seconds of one-core NumPy work per call above which `parallel` (with a fixed cost per
/// call of `fixed` seconds on `n` workers) beats NumPy on one core: `fixed * n / (n - 1)`.
fn break_even_seconds(fixed: f64, n: u32) -> Option<f64> {
    (n > 1 && fixed > 0.0).then(|| fixed * f64::from(n) / f64::from(n - 1))
}

/// The process pool's fixed cost per call: its measured time minus NumPy's work shared
/// perfectly over its workers, on the pool's own problem.
fn pool_fixed_seconds(ladder: &PythonLadderFacts) -> Option<f64> {
    let pool = ladder.rung(POOL)?;
    let numpy_ns = *ladder.rung(NUMPY)?.ns_per_pair.known()?;
    let pool_ns = *pool.ns_per_pair.known()?;
    let pairs = pool.pairs? as f64;
    Some(pairs * (pool_ns - numpy_ns / f64::from(pool.workers.max(1))) * 1e-9)
}

/// The fastest passing Rust variant on one core that is not naive, with its cost per pair.
fn best_rust_single_core(facts: &Facts) -> Option<(&str, f64, Fact<[f64; 2]>)> {
    passing(facts)
        .filter(|v| v.name != "naive" && !v.techniques.iter().any(|t| t.is_parallel()))
        .filter(|v| {
            v.techniques.contains(&Technique::Simd) || v.techniques.contains(&Technique::Fused)
        })
        .min_by(|a, b| a.ns_per_pair.total_cmp(&b.ns_per_pair))
        .map(|v| {
            let per_pair = v.ns_per_pair / v.median_seconds.max(f64::MIN_POSITIVE);
            let interval = v
                .median_interval_seconds
                .clone()
                .map(|[low, high]| [low * per_pair, high * per_pair]);
            (v.name.as_str(), v.ns_per_pair, interval)
        })
}

/// The measured Python gains behind the tree option `option`.
pub fn gains_for(facts: &Facts, option: &str) -> Vec<PythonGain> {
    let Fact::Known(ladder) = &facts.measurements.python_ladder else {
        return Vec::new();
    };
    match option {
        "vectorise" => [
            rung_gain(ladder, NUMPY, PURE, |_, t| {
                format!("NumPy whole-array code: {} over pure Python here", times(t))
            }),
            rung_gain(ladder, NUMBA, PURE, |rung, t| {
                let compile = rung
                    .compile_seconds
                    .map(|s| format!(", after a compile of {} once per process", Unit::Seconds.format(s)))
                    .unwrap_or_default();
                format!("Numba @njit: {} over pure Python{compile}", times(t))
            }),
        ]
        .into_iter()
        .flatten()
        .collect(),
        "explicit_simd" => rust_gap(facts, ladder).into_iter().collect(),
        "threads" => rung_gain(ladder, PRANGE, NUMBA, |rung, t| {
            format!(
                "Numba prange on {}: {} over @njit on one",
                workers(rung, "thread"),
                times(t)
            )
        })
        .into_iter()
        .collect(),
        "process_pool" | "independent_runs" => rung_gain(ladder, POOL, NUMPY, |rung, t| {
            let break_even = pool_fixed_seconds(ladder)
                .and_then(|fixed| break_even_seconds(fixed, rung.workers).map(|b| (fixed, b)))
                .map(|(fixed, b)| {
                    format!(
                        "; starting it and moving the rows cost {} per call, so it loses below {} of NumPy work per call",
                        Unit::Seconds.format(fixed),
                        Unit::Seconds.format(b)
                    )
                })
                .unwrap_or_default();
            format!(
                "a process pool of {} (NumPy in each): {} over NumPy on one core{break_even}",
                workers(rung, "worker"),
                times(t)
            )
        })
        .into_iter()
        .collect(),
        "mpi" => rung_gain(ladder, MPI4PY, NUMPY, |rung, t| {
            let launch = rung
                .overhead_seconds
                .map(|s| {
                    let pays = break_even_seconds(s, rung.workers)
                        .map(|b| format!(", so it pays only above {} of NumPy work per job", Unit::Seconds.format(b)))
                        .unwrap_or_default();
                    format!("; each job's launch and start-up cost {}{pays}", Unit::Seconds.format(s))
                })
                .unwrap_or_default();
            format!(
                "mpi4py on {}: {} over NumPy on one core in its computation{launch}",
                workers(rung, "rank"),
                times(t)
            )
        })
        .into_iter()
        .collect(),
        _ => Vec::new(),
    }
}

/// How much faster compiled Rust with explicit SIMD is per pair than Numba here.
fn rust_gap(facts: &Facts, ladder: &PythonLadderFacts) -> Option<PythonGain> {
    let numba = ladder.rung(NUMBA)?;
    let (rust, ns, interval) = best_rust_single_core(facts)?;
    let (times_faster, interval) = ratio((ns, interval), cost(numba)?);
    Some(PythonGain {
        rung: rust.to_string(),
        over: NUMBA.to_string(),
        times: times_faster,
        interval,
        sentence: format!(
            "compiled Rust (`{rust}`) is {} faster per pair than Numba here: what a compiled extension for the hot loop (PyO3, pybind11) buys if Numba is not enough",
            times(times_faster)
        ),
    })
}

/// The whole Python ladder in one paragraph, or why it was not measured.
pub fn summary(facts: &Facts) -> Fact<String> {
    let ladder = match &facts.measurements.python_ladder {
        Fact::Known(ladder) => ladder,
        Fact::Unknown(why) => return Fact::Unknown(why.clone()),
    };
    let mut parts: Vec<String> = [
        "vectorise",
        "threads",
        "process_pool",
        "mpi",
        "explicit_simd",
    ]
    .iter()
    .flat_map(|option| gains_for(facts, option))
    .map(|gain| gain.sentence)
    .collect();
    parts.dedup();
    let not_run: Vec<String> = ladder
        .rungs
        .iter()
        .filter_map(|rung| match &rung.ns_per_pair {
            Fact::Unknown(why) => Some(format!("`{}` {why}", rung.name)),
            Fact::Known(_) => None,
        })
        .collect();
    if parts.is_empty() && not_run.is_empty() {
        return Fact::unknown("the Python ladder measured no rung");
    }
    let mut text = format!("Python ladder ({}), per pair: ", ladder.interpreter);
    text.push_str(&parts.join("; "));
    if !not_run.is_empty() {
        if !parts.is_empty() {
            text.push_str(". ");
        }
        text.push_str(&format!("Not measured: {}", not_run.join("; ")));
    }
    text.push('.');
    Fact::Known(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_pays_above_its_fixed_cost_shared_by_the_workers_it_adds() {
        // 2 workers, 0.1 s fixed: W/2 + 0.1 < W once W > 0.2 s.
        assert_eq!(break_even_seconds(0.1, 2), Some(0.2));
        // 4 workers: W/4 + 0.3 < W once W > 0.4 s.
        assert!((break_even_seconds(0.3, 4).unwrap() - 0.4).abs() < 1e-12);
        assert_eq!(break_even_seconds(0.1, 1), None);
        assert_eq!(break_even_seconds(-0.1, 2), None);
    }
}
