//! Whether two runs' timings of one variant differ beyond noise: the Mann-Whitney rank test on the saved samples.
//!
//! Timings are skewed (a loaded core makes a run slower, never faster), so
//! the test compares ranks, not means: the Mann-Whitney U test, two-sided,
//! exact for small samples (the distribution of U counted by recursion) and
//! by the normal approximation with a tie correction beyond
//! [`EXACT_LIMIT`]. With so few runs that no arrangement could reach the
//! significance level (four runs each are needed at 5 %), the test is not
//! used: the medians' confidence intervals decide instead, and the verdict
//! says which rule decided.

use serde::{Deserialize, Serialize};

use crate::bench::stats::median;

/// The two-sided significance level.
pub const ALPHA: f64 = 0.05;
/// Largest `n1 * n2` whose U distribution is counted exactly.
const EXACT_LIMIT: usize = 900;

/// The outcome of the rank test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankTest {
    /// U of the first sample: how often one of its values exceeds one of the second's.
    pub u: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// The smallest two-sided p-value samples of these sizes can give.
    pub smallest_possible_p: f64,
}

/// Mann-Whitney U of `a` against `b`, two-sided; `None` when a sample is empty.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Option<RankTest> {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let ranks = midranks(a.iter().chain(b).copied().collect());
    let rank_sum: f64 = ranks[..n1].iter().sum();
    let u = rank_sum - (n1 * (n1 + 1)) as f64 / 2.0;
    let total = (n1 * n2) as f64;
    let (p_value, smallest_possible_p) = if n1 * n2 <= EXACT_LIMIT {
        let counts = u_distribution(n1, n2);
        let all: f64 = counts.iter().sum();
        // U may be a half-integer with ties: count the arrangements at least as extreme.
        let below: f64 = counts
            .iter()
            .enumerate()
            .filter(|(k, _)| (*k as f64) <= u + 1e-9)
            .map(|(_, c)| c)
            .sum();
        let above: f64 = counts
            .iter()
            .enumerate()
            .filter(|(k, _)| (*k as f64) >= u - 1e-9)
            .map(|(_, c)| c)
            .sum();
        (
            (2.0 * below.min(above) / all).min(1.0),
            (2.0 * counts[0] / all).min(1.0),
        )
    } else {
        let mean = total / 2.0;
        let n = (n1 + n2) as f64;
        let ties = tie_term(&ranks);
        let variance = total / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
        let z = ((u - mean).abs() - 0.5).max(0.0) / variance.sqrt().max(f64::MIN_POSITIVE);
        (2.0 * normal_upper_tail(z), 0.0)
    };
    Some(RankTest {
        u,
        p_value,
        smallest_possible_p,
    })
}

/// Ranks 1..=n of `values`, tied values sharing the mean of their ranks.
fn midranks(values: Vec<f64>) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let rank = (start + end + 1) as f64 / 2.0;
        for &index in &order[start..end] {
            ranks[index] = rank;
        }
        start = end;
    }
    ranks
}

/// `sum (t^3 - t)` over groups of tied ranks.
fn tie_term(ranks: &[f64]) -> f64 {
    let mut sorted = ranks.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
        .chunk_by(|a, b| a == b)
        .map(|group| {
            let t = group.len() as f64;
            t * t * t - t
        })
        .sum()
}

/// How many orderings of `n1` and `n2` distinct values give U = 0, 1, ..., n1 n2.
fn u_distribution(n1: usize, n2: usize) -> Vec<f64> {
    // ways[i][j][u]: orderings of i values of the first sample and j of the second with U = u;
    // the largest value is either the first sample's (adding j to U) or the second's.
    let size = n1 * n2 + 1;
    let mut previous: Vec<Vec<f64>> = vec![vec![0.0; size]; n2 + 1];
    for row in previous.iter_mut() {
        row[0] = 1.0;
    }
    for _ in 1..=n1 {
        let mut current: Vec<Vec<f64>> = vec![vec![0.0; size]; n2 + 1];
        current[0][0] = 1.0;
        for j in 1..=n2 {
            for u in 0..size {
                let from_first = if u >= j { previous[j][u - j] } else { 0.0 };
                current[j][u] = from_first + current[j - 1][u];
            }
        }
        previous = current;
    }
    previous.swap_remove(n2)
}

/// `P(Z > z)` of a standard normal (Abramowitz and Stegun 7.1.26, error below 1.5e-7).
fn normal_upper_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    0.5 * poly * (-x * x).exp()
}

/// How two runs of one variant compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Faster,
    Slower,
    NoSignificantDifference,
    /// One run each: nothing can be told from noise.
    TooFewRuns,
}

/// Which rule gave the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The Mann-Whitney U test on the runs' samples, two-sided at [`ALPHA`].
    RankTest,
    /// Too few runs for the rank test to reach [`ALPHA`]: the medians' intervals, overlapping or not.
    Intervals,
    None,
}

/// The verdict on `new` against `old` (per-pair samples), with the rule and the p-value used.
pub fn compare_samples(
    old: &[f64],
    new: &[f64],
    intervals: Option<([f64; 2], [f64; 2])>,
) -> (Verdict, Rule, Option<f64>) {
    if old.is_empty() || new.is_empty() {
        return (Verdict::TooFewRuns, Rule::None, None);
    }
    let slower = median(new) > median(old);
    let direction = if slower {
        Verdict::Slower
    } else {
        Verdict::Faster
    };
    if let Some(test) = mann_whitney(new, old)
        && test.smallest_possible_p < ALPHA
    {
        let verdict = if test.p_value < ALPHA {
            direction
        } else {
            Verdict::NoSignificantDifference
        };
        return (verdict, Rule::RankTest, Some(test.p_value));
    }
    match intervals {
        Some(([old_low, old_high], [new_low, new_high])) => {
            let apart = new_low > old_high || new_high < old_low;
            let verdict = if apart {
                direction
            } else {
                Verdict::NoSignificantDifference
            };
            (verdict, Rule::Intervals, None)
        }
        None => (Verdict::TooFewRuns, Rule::None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exact_distribution_of_u_is_the_textbook_one() {
        // n1 = n2 = 2: the 6 orderings give U = 0, 1, 2, 2, 3, 4.
        assert_eq!(u_distribution(2, 2), vec![1.0, 1.0, 2.0, 1.0, 1.0]);
        // Every ordering is counted once: C(7, 3) = 35.
        assert_eq!(u_distribution(3, 4).iter().sum::<f64>(), 35.0);
    }

    #[test]
    fn separated_samples_of_four_are_significant_and_of_three_cannot_be() {
        let fast = [1.0, 1.1, 1.2, 1.3];
        let slow = [2.0, 2.1, 2.2, 2.3];
        let test = mann_whitney(&slow, &fast).unwrap();
        assert_eq!(test.u, 16.0);
        // Only 2 of the C(8, 4) = 70 orderings are as extreme: p = 2/70.
        assert!((test.p_value - 2.0 / 70.0).abs() < 1e-12);
        let three = mann_whitney(&slow[..3], &fast[..3]).unwrap();
        assert!((three.smallest_possible_p - 0.1).abs() < 1e-12);
    }

    #[test]
    fn interleaved_samples_show_no_difference() {
        let a = [1.0, 1.2, 1.4, 1.6, 1.8, 2.0];
        let b = [1.1, 1.3, 1.5, 1.7, 1.9, 2.1];
        let (verdict, rule, p) = compare_samples(&a, &b, None);
        assert_eq!(
            (verdict, rule),
            (Verdict::NoSignificantDifference, Rule::RankTest)
        );
        assert!(p.unwrap() > 0.5);
    }

    #[test]
    fn the_normal_approximation_agrees_with_the_exact_count_on_large_samples() {
        let a: Vec<f64> = (0..40).map(|i| f64::from(i) * 1.0).collect();
        let b: Vec<f64> = (0..40).map(|i| f64::from(i) * 1.0 + 6.5).collect();
        let approximate = mann_whitney(&a, &b).unwrap();
        assert!(
            approximate.p_value > 0.01 && approximate.p_value < 0.2,
            "{approximate:?}"
        );
    }

    #[test]
    fn few_runs_fall_back_to_the_intervals_and_one_run_tells_nothing() {
        let (verdict, rule, _) =
            compare_samples(&[1.0, 1.1], &[2.0, 2.1], Some(([0.9, 1.2], [1.9, 2.2])));
        assert_eq!((verdict, rule), (Verdict::Slower, Rule::Intervals));
        let (verdict, _, _) =
            compare_samples(&[1.0, 1.1], &[1.05, 1.15], Some(([0.9, 1.2], [1.0, 1.2])));
        assert_eq!(verdict, Verdict::NoSignificantDifference);
        assert_eq!(compare_samples(&[1.0], &[2.0], None).0, Verdict::TooFewRuns);
    }
}
