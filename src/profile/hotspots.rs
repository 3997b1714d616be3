//! The hotspot table: which functions hold the samples, by self and by inclusive share.
//!
//! This is the reading the training makes of a gprof2dot graph: a function's
//! self share (samples where it is the innermost frame) says where the time is
//! spent, its inclusive share (samples where it is anywhere on the stack)
//! says what it costs with everything it calls. A sampling profiler cannot
//! count calls; for the kernel functions whose call pattern the algorithm
//! fixes (once per row, node, outside node or pair), the exact count follows
//! from the problem and is shown, and every other function shows none.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::external::StackSampling;
use super::folded::FoldedStacks;

/// How often a function runs per run of a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallsPer {
    Row,
    Node,
    OutsideNode,
    Pair,
}

/// Kernel functions (not inlined) whose number of calls the algorithm fixes.
const KNOWN_CALLS: [(&str, CallsPer); 9] = [
    (
        "hpc_kernels::scatter::variants::naive::is_inside_contour",
        CallsPer::Node,
    ),
    (
        "hpc_kernels::scatter::variants::naive::compute_scattered_wave",
        CallsPer::OutsideNode,
    ),
    (
        "hpc_kernels::scatter::variants::naive::compute_scattered_wave_element",
        CallsPer::Pair,
    ),
    (
        "hpc_kernels::scatter::variants::naive::grad_incident",
        CallsPer::Pair,
    ),
    (
        "hpc_kernels::scatter::variants::naive::hankel_functions",
        CallsPer::Pair,
    ),
    (
        "hpc_kernels::scatter::variants::vectorised::is_inside_contour",
        CallsPer::Node,
    ),
    (
        "hpc_kernels::scatter::variants::vectorised::compute_scattered_wave",
        CallsPer::OutsideNode,
    ),
    (
        "hpc_kernels::scatter::variants::fused::scattered_at",
        CallsPer::OutsideNode,
    ),
    ("::row", CallsPer::Row),
];

/// The size of the sampled work, from which known call counts follow.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    pub rows: u64,
    pub nodes: u64,
    pub outside_nodes: u64,
    pub pairs: u64,
    /// Runs of the variant while sampling.
    pub repetitions: u64,
}

impl Workload {
    /// Calls of `function` during the sampled runs, when the algorithm fixes them.
    pub fn calls(&self, function: &str) -> Option<u64> {
        let (_, per) = KNOWN_CALLS.iter().find(|(name, per)| match per {
            // `<...NaiveRows as ...RowKernel>::row` (full debug info) or
            // `hpc_kernels::scatter::variants::naive::row` (line tables only)
            CallsPer::Row => {
                function.ends_with(name)
                    && (function.starts_with("<hpc_kernels::scatter::variants::")
                        || function.starts_with("hpc_kernels::scatter::variants::"))
            }
            _ => function == *name,
        })?;
        let per_run = match per {
            CallsPer::Row => self.rows,
            CallsPer::Node => self.nodes,
            CallsPer::OutsideNode => self.outside_nodes,
            CallsPer::Pair => self.pairs,
        };
        Some(per_run * self.repetitions)
    }
}

/// Rows of a hotspot table: this many by self share, and as many by inclusive share.
pub const HOTSPOT_ROWS: usize = 10;

/// Functions holding more than this share of the samples lie on one call path.
pub const HOT_PATH_SHARE: f64 = 0.5;

/// The hotspot to optimise first: the deepest function on the hot path, not the drivers above
/// it (which hold every sample).
///
/// Every function holding over [`HOT_PATH_SHARE`] of the samples lies on one
/// call path, and the one with the smallest share of those is the deepest.
/// Without such a path, the function with the largest share.
pub fn hottest_on_path<'a>(
    candidates: impl Iterator<Item = &'a Hotspot> + Clone,
) -> Option<&'a Hotspot> {
    candidates
        .clone()
        .filter(|h| h.inclusive_share > HOT_PATH_SHARE)
        // Callers whose every sample is in one callee share its inclusive share: the one with
        // the most self samples of those is the deepest.
        .min_by(|a, b| {
            a.inclusive_share
                .total_cmp(&b.inclusive_share)
                .then(b.self_samples.cmp(&a.self_samples))
        })
        .or_else(|| candidates.max_by(|a, b| a.inclusive_share.total_cmp(&b.inclusive_share)))
}

/// The hotspot table of a command's stacks, by function. py-spy names a Python frame by its
/// current line (`relax (loop.py:16)`), which splits one function over its lines; here those
/// frames count as their function (`relax (loop.py)`), so a function whose time is spread over
/// a loop of several lines is still seen whole. The flamegraph keeps the lines.
pub fn command_hotspots(stacks: &FoldedStacks, sampling: &StackSampling) -> Vec<Hotspot> {
    if !matches!(sampling, StackSampling::Sampled { tool } if tool == "py-spy") {
        return hotspots(stacks, HOTSPOT_ROWS, None);
    }
    hotspots(&stacks.renamed(without_line), HOTSPOT_ROWS, None)
}

/// A py-spy frame `function (file.py:LINE)`, taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PythonFrame<'a> {
    pub function: &'a str,
    /// The file as py-spy names it (a short name, relative to its module path).
    pub file: &'a str,
    pub line: usize,
}

/// The parts of a py-spy frame; `None` for a frame of another shape (a native one).
pub fn python_frame(frame: &str) -> Option<PythonFrame<'_>> {
    let (function, location) = frame.strip_suffix(')')?.rsplit_once(" (")?;
    let (file, line) = location.rsplit_once(':')?;
    Some(PythonFrame {
        function,
        file,
        line: line.parse().ok()?,
    })
}

/// `function (file.py)` for a py-spy frame `function (file.py:LINE)`; other frames unchanged.
fn without_line(frame: &str) -> String {
    match python_frame(frame) {
        Some(PythonFrame { function, file, .. }) => format!("{function} ({file})"),
        None => frame.to_string(),
    }
}

/// One function's share of the samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Hotspot {
    pub function: String,
    /// Samples with this function as the innermost frame.
    pub self_samples: u64,
    /// Samples with this function anywhere on the stack (counted once per sample).
    pub inclusive_samples: u64,
    pub self_share: f64,
    pub inclusive_share: f64,
    /// Exact calls during the sampled runs, when the algorithm fixes them.
    pub calls: Option<u64>,
}

/// The `limit` functions with the most self samples together with the `limit`
/// with the most inclusive samples, by inclusive share. The first frame of each
/// stack (the thread) is not a function and is left out.
pub fn hotspots(stacks: &FoldedStacks, limit: usize, workload: Option<&Workload>) -> Vec<Hotspot> {
    let total = stacks.total().max(1) as f64;
    let mut counts: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (frames, samples) in stacks.stacks() {
        let frames: Vec<&str> = frames.skip(1).collect();
        let mut seen = HashSet::new();
        for &frame in &frames {
            if seen.insert(frame) {
                counts.entry(frame).or_default().1 += samples;
            }
        }
        if let Some(&leaf) = frames.last() {
            counts.entry(leaf).or_default().0 += samples;
        }
    }
    let mut by_self: Vec<_> = counts.iter().collect();
    by_self.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    let mut by_inclusive = by_self.clone();
    by_inclusive.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(b.0)));
    let chosen: HashSet<&str> = by_self
        .iter()
        .take(limit)
        .chain(by_inclusive.iter().take(limit))
        .filter(|(_, (self_samples, inclusive))| *self_samples + *inclusive > 0)
        .map(|(name, _)| **name)
        .collect();
    by_inclusive
        .into_iter()
        .filter(|(name, _)| chosen.contains(**name))
        .map(|(&function, &(self_samples, inclusive_samples))| Hotspot {
            function: function.to_string(),
            self_samples,
            inclusive_samples,
            self_share: self_samples as f64 / total,
            inclusive_share: inclusive_samples as f64 / total,
            calls: workload.and_then(|w| w.calls(function)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_frames_count_as_their_function_and_other_frames_stay() {
        let stacks = FoldedStacks::parse(
            "main (x.py:9);relax (x.py:15) 3\nmain (x.py:9);relax (x.py:16) 4\nmain (x.py:9) 3\n",
        )
        .unwrap();
        let py_spy = StackSampling::Sampled {
            tool: "py-spy".into(),
        };
        let table = command_hotspots(&stacks, &py_spy);
        let relax = table.iter().find(|h| h.function == "relax (x.py)").unwrap();
        assert_eq!((relax.self_samples, relax.inclusive_samples), (7, 7));
        assert_eq!(without_line("PMPI_Barrier"), "PMPI_Barrier");
        assert_eq!(without_line("f (<frozen x>:241)"), "f (<frozen x>)");
        let perf = StackSampling::Sampled {
            tool: "perf".into(),
        };
        assert!(
            command_hotspots(&stacks, &perf)
                .iter()
                .any(|h| h.function == "relax (x.py:16)")
        );
        // Every sample of `<module>` and `main` is in `relax`: the deepest of the three is hottest.
        let nested =
            FoldedStacks::parse("<module> (x.py:30);main (x.py:9);relax (x.py:15) 8\n").unwrap();
        let table = command_hotspots(&nested, &py_spy);
        assert_eq!(
            hottest_on_path(table.iter()).unwrap().function,
            "relax (x.py)"
        );
    }

    #[test]
    fn shares_count_each_sample_once_per_function() {
        let stacks = FoldedStacks::parse(
            "main;run;element;hankel 6\nmain;run;element 2\nmain;run;run 1\nworker;run;inside 1\n",
        )
        .unwrap();
        let table = hotspots(&stacks, 10, None);
        let find = |name: &str| table.iter().find(|h| h.function == name).unwrap();
        assert_eq!(find("run").inclusive_samples, 10, "recursion counted once");
        assert_eq!(find("run").self_samples, 1);
        assert_eq!(find("element").inclusive_samples, 8);
        assert!((find("hankel").self_share - 0.6).abs() < 1e-12);
        assert!(
            table
                .iter()
                .all(|h| h.function != "main" && h.function != "worker")
        );
        assert_eq!(table[0].function, "run", "sorted by inclusive share");
    }

    #[test]
    fn the_limit_keeps_top_self_and_top_inclusive() {
        let stacks = FoldedStacks::parse("main;a;b;c 5\nmain;a;d 3\nmain;e 1\n").unwrap();
        let names: Vec<_> = hotspots(&stacks, 1, None)
            .into_iter()
            .map(|h| h.function)
            .collect();
        assert_eq!(names, ["a", "c"]);
    }

    #[test]
    fn known_functions_get_exact_call_counts() {
        let workload = Workload {
            rows: 3,
            nodes: 9,
            outside_nodes: 8,
            pairs: 32,
            repetitions: 2,
        };
        assert_eq!(
            workload.calls("hpc_kernels::scatter::variants::naive::hankel_functions"),
            Some(64)
        );
        assert_eq!(
            workload.calls(
                "<hpc_kernels::scatter::variants::fused::FusedRows as hpc_kernels::scatter::variants::rows::RowKernel>::row"
            ),
            Some(6)
        );
        assert_eq!(
            workload.calls("hpc_kernels::scatter::variants::naive::row"),
            Some(6)
        );
        assert_eq!(workload.calls("libm::math::j0::j0"), None);
    }
}
