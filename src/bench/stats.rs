//! Statistics of repeated measurements: what a number is worth on a noisy machine.
//!
//! A timing is summarised the way hyperfine and criterion summarise theirs:
//! median, mean, standard deviation, extremes, a distribution-free confidence
//! interval of the median (from order statistics, so no normality is
//! assumed), outliers flagged by their modified Z-score (distance from the
//! median in units of the median absolute deviation, hyperfine's threshold),
//! and warnings when the spread makes comparisons unreliable.

use serde::{Deserialize, Serialize};

/// The confidence the median's interval aims for.
pub const TARGET_CONFIDENCE: f64 = 0.95;

/// Modified Z-score above which a sample is an outlier (hyperfine: 1.4826 x 10).
pub const OUTLIER_THRESHOLD: f64 = 1.4826 * 10.0;

/// Coefficient of variation above which repeated runs "spread by more than a few percent" (seed 001).
pub const SPREAD_WARNING: f64 = 0.05;

/// Share of the requested CPU below which other processes evidently took our cores.
pub const CPU_SHARE_WARNING: f64 = 0.8;

/// What to do about any reliability warning.
pub const QUIET_MACHINE_ADVICE: &str =
    "timings with warnings are unreliable for comparisons: re-run on a quiet machine";

/// An interval `[low, high]` that holds the true value with probability `confidence`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
    /// Coverage actually achieved (exact for order statistics; below the target with few samples).
    pub confidence: f64,
}

/// Summary of one series of samples (seconds, or a rate such as GB/s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    pub samples: Vec<f64>,
    pub min: f64,
    pub max: f64,
    pub median: f64,
    pub mean: f64,
    /// Sample standard deviation (n - 1); 0 for a single sample.
    pub standard_deviation: f64,
    /// Interval of the median from order statistics; `None` below two samples.
    pub median_interval: Option<Interval>,
    /// Indices into `samples` whose modified Z-score exceeds [`OUTLIER_THRESHOLD`].
    pub outliers: Vec<usize>,
    /// Why these numbers should not be trusted for comparisons; empty when they can be.
    pub warnings: Vec<String>,
}

impl Summary {
    /// Summarises `samples`; `None` when there are none or one is not finite.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() || samples.iter().any(|x| !x.is_finite()) {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let mean = sorted.iter().sum::<f64>() / n as f64;
        let standard_deviation = if n > 1 {
            (sorted.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let outliers = outliers(samples);
        let mut warnings = Vec::new();
        if !outliers.is_empty() {
            warnings.push(format!(
                "{} of {n} runs are statistical outliers",
                outliers.len()
            ));
        }
        if n == 1 {
            warnings.push("a single run: no spread and no interval".to_string());
        }
        let variation = if mean > 0.0 {
            standard_deviation / mean
        } else {
            0.0
        };
        if variation > SPREAD_WARNING {
            warnings.push(format!(
                "runs spread by {:.0}% (standard deviation over mean, more than {:.0}%)",
                variation * 100.0,
                SPREAD_WARNING * 100.0
            ));
        }
        Some(Summary {
            samples: samples.to_vec(),
            min: sorted[0],
            max: sorted[n - 1],
            median: median_of_sorted(&sorted),
            mean,
            standard_deviation,
            median_interval: median_interval(&sorted, TARGET_CONFIDENCE),
            outliers,
            warnings,
        })
    }

    /// True when nothing argues against comparing these numbers.
    pub fn is_reliable(&self) -> bool {
        self.warnings.is_empty()
    }
}

/// The median of already sorted values (mean of the middle two for an even count).
fn median_of_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    }
}

/// The median of `values` in any order.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    median_of_sorted(&sorted)
}

/// The median absolute deviation: the median of `|x - median|` over `samples`.
pub fn median_absolute_deviation(samples: &[f64]) -> f64 {
    let center = median(samples);
    let deviations: Vec<f64> = samples.iter().map(|x| (x - center).abs()).collect();
    median(&deviations)
}

/// Modified Z-scores `(x - median) / MAD`, as hyperfine computes them.
pub fn modified_z_scores(samples: &[f64]) -> Vec<f64> {
    let center = median(samples);
    let mad = median_absolute_deviation(samples).max(f64::EPSILON);
    samples.iter().map(|x| (x - center) / mad).collect()
}

/// Indices of the samples whose modified Z-score exceeds [`OUTLIER_THRESHOLD`].
pub fn outliers(samples: &[f64]) -> Vec<usize> {
    modified_z_scores(samples)
        .iter()
        .enumerate()
        .filter(|(_, z)| z.abs() > OUTLIER_THRESHOLD)
        .map(|(i, _)| i)
        .collect()
}

/// Distribution-free interval of the median: `[x(l), x(n + 1 - l)]` of the sorted samples.
///
/// The number of samples below the true median is Binomial(n, 1/2), so the
/// interval between the l-th and (n+1-l)-th order statistics covers it with
/// probability `P(l <= B <= n - l)`. The narrowest symmetric interval reaching
/// `confidence` is chosen; with too few samples for that (n < 6 at 95%) the
/// full range is returned with the lower coverage it really has.
pub fn median_interval(sorted: &[f64], confidence: f64) -> Option<Interval> {
    let n = sorted.len();
    if n < 2 {
        return None;
    }
    let pmf = binomial_half_pmf(n);
    let coverage = |l: usize| -> f64 { pmf[l..=n - l].iter().sum() };
    // l is 1-based; coverage shrinks as l grows, so keep the largest l that still reaches the target.
    let mut l = 1;
    while l < n / 2 && coverage(l + 1) >= confidence {
        l += 1;
    }
    Some(Interval {
        low: sorted[l - 1],
        high: sorted[n - l],
        confidence: coverage(l),
    })
}

/// `P(B = i)` for B ~ Binomial(n, 1/2), i = 0..=n, computed in log space (no underflow for large n).
fn binomial_half_pmf(n: usize) -> Vec<f64> {
    let mut log_p = -(n as f64) * std::f64::consts::LN_2;
    let mut pmf = Vec::with_capacity(n + 1);
    for i in 0..=n {
        pmf.push(log_p.exp());
        log_p += ((n - i) as f64).ln() - ((i + 1) as f64).ln();
    }
    pmf
}

/// Least-squares line `y = intercept + slope * x`; `None` with fewer than two distinct x.
pub fn linear_fit(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx <= f64::EPSILON * mean_x.abs().max(1.0) {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let slope = sxy / sxx;
    Some((mean_y - slope * mean_x, slope))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_a_fixed_sample() {
        let s = Summary::of(&[3.0, 1.0, 2.0, 5.0, 4.0]).unwrap();
        assert_eq!((s.min, s.max, s.median, s.mean), (1.0, 5.0, 3.0, 3.0));
        assert!((s.standard_deviation - 2.5f64.sqrt()).abs() < 1e-12);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(Summary::of(&[]).is_none());
        assert!(!Summary::of(&[1.0]).unwrap().is_reliable());
        assert!(Summary::of(&[1.0, f64::NAN]).is_none());
    }

    #[test]
    fn median_absolute_deviation_ignores_one_wild_sample() {
        // Median 3; deviations 2, 1, 0, 1, 97: their median is 1.
        assert_eq!(median_absolute_deviation(&[1.0, 2.0, 3.0, 4.0, 100.0]), 1.0);
        assert_eq!(median_absolute_deviation(&[5.0]), 0.0);
        // The modified Z-score is the distance from the median in these units.
        assert_eq!(modified_z_scores(&[1.0, 2.0, 3.0, 4.0, 100.0])[4], 97.0);
    }

    #[test]
    fn median_interval_from_order_statistics() {
        // n = 10: P(2 <= B <= 8) = 1 - 2 * (1 + 10) / 1024 = 0.979 >= 0.95; P(3 <= B <= 7) = 0.891 < 0.95.
        let sorted: Vec<f64> = (1..=10).map(f64::from).collect();
        let interval = median_interval(&sorted, 0.95).unwrap();
        assert_eq!((interval.low, interval.high), (2.0, 9.0));
        assert!((interval.confidence - (1.0 - 2.0 * 11.0 / 1024.0)).abs() < 1e-12);
        // Too few samples for 95%: the full range, with its true (lower) coverage.
        let small = median_interval(&[1.0, 2.0, 3.0], 0.95).unwrap();
        assert_eq!((small.low, small.high), (1.0, 3.0));
        assert!((small.confidence - 0.75).abs() < 1e-12);
        assert!(median_interval(&[1.0], 0.95).is_none());
        // Large n stays finite and narrows around the middle.
        let many: Vec<f64> = (0..2000).map(f64::from).collect();
        let wide = median_interval(&many, 0.95).unwrap();
        assert!(wide.low > 900.0 && wide.high < 1100.0 && wide.confidence >= 0.95);
    }

    #[test]
    fn outliers_are_flagged_by_median_absolute_deviation() {
        let samples = [1.00, 1.01, 0.99, 1.02, 0.98, 1.00, 3.00];
        assert_eq!(outliers(&samples), vec![6]);
        assert!(outliers(&[1.00, 1.01, 0.99, 1.02, 0.98]).is_empty());
        let summary = Summary::of(&samples).unwrap();
        assert!(!summary.is_reliable());
        assert!(summary.warnings[0].contains("1 of 7 runs are statistical outliers"));
    }

    #[test]
    fn a_tight_sample_is_reliable_and_a_wide_one_is_not() {
        assert!(
            Summary::of(&[1.00, 1.01, 0.99, 1.00])
                .unwrap()
                .is_reliable()
        );
        let wide = Summary::of(&[1.0, 1.3, 0.8, 1.1]).unwrap();
        assert!(wide.outliers.is_empty());
        assert!(wide.warnings.iter().any(|w| w.contains("spread")));
    }

    #[test]
    fn linear_fit_recovers_a_line() {
        let (a, b) = linear_fit(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]).unwrap();
        assert!((a - 1.0).abs() < 1e-12 && (b - 2.0).abs() < 1e-12);
        assert!(linear_fit(&[(1.0, 1.0), (1.0, 2.0)]).is_none());
        assert!(linear_fit(&[(1.0, 1.0)]).is_none());
    }
}
