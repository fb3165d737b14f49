//! Kaplan–Meier survival curve with Greenwood standard errors, log-scale
//! 95% confidence bands and the median survival time with its confidence
//! interval, as R's `survival::survfit(Surv(time, event) ~ 1)`.
//!
//! Also owns [`tie_nearly_equal_times`], R's `survival::aeqSurv`, which both
//! `survfit` and `survdiff` apply to the times first.

use std::collections::HashSet;

use super::dist::qnorm;
use super::tolerance::SURVFIT_QUANTILE;
use super::BuildBits;
use super::{finite, CONFIDENCE_LEVEL};

/// One row of a Kaplan–Meier curve: a time at which at least one event or
/// censoring happened.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KmPoint {
    /// The time.
    pub time: f64,
    /// Number at risk just before `time` (time ≥ `time`).
    pub n_risk: usize,
    /// Number of events at `time`.
    pub n_event: usize,
    /// Number censored at `time` (counted after the events).
    pub n_censor: usize,
    /// Survival probability S(t) just after `time`.
    pub surv: f64,
    /// Greenwood standard error of `-log S(t)` (R's `survfit()$std.err`);
    /// `None` where it is infinite (once S has reached 0).
    pub std_err: Option<f64>,
    /// Lower 95% confidence limit (log scale); `None` where S = 0 (R: NA).
    pub lower: Option<f64>,
    /// Upper 95% confidence limit (log scale, at most 1); `None` where
    /// S = 0 (R: NA).
    pub upper: Option<f64>,
}

/// A fitted Kaplan–Meier curve.
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    /// One point per distinct time with an event or a censoring, ascending.
    pub points: Vec<KmPoint>,
    /// Number of observations used.
    pub n: usize,
    /// Total number of events.
    pub events: usize,
}

/// Median survival time with its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MedianCi {
    /// Median survival time; `None` when the curve does not reach 0.5.
    pub median: Option<f64>,
    /// Lower confidence limit, from the lower confidence curve; `None` when
    /// that curve does not reach 0.5 (R: NA).
    pub lower: Option<f64>,
    /// Upper confidence limit, from the upper confidence curve; `None` when
    /// that curve does not reach 0.5 (R: NA).
    pub upper: Option<f64>,
}

/// Which of R's two (slightly different) median rules to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MedianRule {
    /// `quantile(fit, 0.5)` (`survival:::quantile.survfit`, via
    /// `survival:::findq`). The default.
    #[default]
    Quantile,
    /// The `median`, `0.95LCL`, `0.95UCL` columns of `print(fit)`
    /// (`survival:::survmean`, inner function `minmin`).
    Print,
}

impl KaplanMeier {
    /// Fits the Kaplan–Meier estimator to right-censored data; `events[i]`
    /// is `true` for an event (death) and `false` for a censoring.
    /// Observations with a NaN time are dropped (R drops `NA`). Times closer
    /// than R's tolerance are first merged as [`tie_nearly_equal_times`]
    /// does.
    ///
    /// # Formula
    ///
    /// At each distinct time `t` with `n` at risk and `d` events:
    /// `S(t) = Π (n - d)/n`, Greenwood `se(t)² = Σ d / (n (n - d))` (the
    /// standard error of `-log S`), and the log-scale interval
    /// `exp(log S ∓ z · se)` with `z = Φ⁻¹(1 - (1 - 0.95)/2)`, the upper limit
    /// capped at 1. At tied times events precede censorings.
    ///
    /// # References
    ///
    /// Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from
    /// incomplete observations. *JASA* 53(282), 457–481. Greenwood, M.
    /// (1926). The natural duration of cancer. *Reports on Public Health and
    /// Medical Subjects* 33. Therneau, T. M. & Grambsch, P. M. (2000),
    /// *Modeling Survival Data*, §2.1.
    ///
    /// R: `survival::survfit(Surv(time, event) ~ 1)` (`conf.type = "log"`,
    /// `conf.int = 0.95`, `timefix = TRUE`).
    ///
    /// # Panics
    ///
    /// If `times` and `events` differ in length.
    pub fn fit(times: &[f64], events: &[bool]) -> KaplanMeier {
        assert_eq!(
            times.len(),
            events.len(),
            "times and events must have the same length"
        );
        // Only how many observations, and events, each time has matters.
        let tally = TimeTally::of(times);
        let mut at = vec![0usize; tally.times.len()];
        let mut events_at = vec![0usize; tally.times.len()];
        for (&t, &event) in tally.of.iter().zip(events) {
            if t != NO_TIME {
                at[t as usize] += 1;
                events_at[t as usize] += usize::from(event);
            }
        }
        let n = at.iter().sum::<usize>();

        let z = qnorm(1.0 - (1.0 - CONFIDENCE_LEVEL) / 2.0);
        let mut points = Vec::new();
        let mut km = 1.0_f64;
        let mut greenwood = 0.0_f64;
        let mut before = 0;
        for (k, &time) in tally.times.iter().enumerate() {
            let n_risk = n - before;
            let n_event = events_at[k];
            let n_censor = at[k] - n_event;
            before += at[k];
            if n_event > 0 {
                let n = n_risk as f64;
                let d = n_event as f64;
                km *= (n - d) / n;
                greenwood += d / (n * (n - d));
            }
            let se = greenwood.sqrt();
            let (lower, upper) = if km == 0.0 {
                (None, None)
            } else {
                let log_s = km.ln();
                (
                    finite((log_s - z * se).exp()),
                    finite((log_s + z * se).exp().min(1.0)),
                )
            };
            points.push(KmPoint {
                time,
                n_risk,
                n_event,
                n_censor,
                surv: km,
                std_err: finite(se),
                lower,
                upper,
            });
        }
        let events_total = points.iter().map(|p| p.n_event).sum();
        KaplanMeier {
            points,
            n,
            events: events_total,
        }
    }

    /// Survival probability at time `t`: the right-continuous step function,
    /// 1 before the first time (NaN for a NaN `t`).
    ///
    /// # Formula
    ///
    /// `S(t) = Π_{tᵢ ≤ t} (nᵢ - dᵢ)/nᵢ`, the `surv` of the last point at or
    /// before `t`.
    ///
    /// # References
    ///
    /// Kaplan & Meier (1958), as for [`KaplanMeier::fit`].
    ///
    /// R: `summary(fit, times = t, extend = TRUE)$surv`.
    pub fn surv_at(&self, t: f64) -> f64 {
        if t.is_nan() {
            return f64::NAN;
        }
        let after = self.points.partition_point(|p| p.time <= t);
        if after == 0 {
            1.0
        } else {
            self.points[after - 1].surv
        }
    }

    /// Median survival time and its 95% confidence interval by R's
    /// `quantile(fit, 0.5)`: [`KaplanMeier::median_by`] with
    /// [`MedianRule::Quantile`], where the formula is given.
    ///
    /// # Formula
    ///
    /// See [`KaplanMeier::median_by`].
    ///
    /// # References
    ///
    /// Brookmeyer & Crowley (1982), as for [`KaplanMeier::median_by`].
    ///
    /// R: `quantile(fit, 0.5)`.
    pub fn median(&self) -> MedianCi {
        self.median_by(MedianRule::Quantile)
    }

    /// Median survival time and its 95% confidence interval.
    ///
    /// # Formula
    ///
    /// The same rule is applied to the survival curve (median), the lower
    /// confidence curve (lower limit) and the upper confidence curve (upper
    /// limit); points where a curve is NA (S = 0) are ignored. With
    /// `tol = sqrt(.Machine$double.eps)`:
    ///
    /// * [`MedianRule::Quantile`] (`survival:::findq` on the points
    ///   `(0, 0), (tᵢ, 1 - Sᵢ)`): points repeating an earlier value of the
    ///   curve are dropped; `i₁` is the point with the smallest `1 - Sᵢ`
    ///   that is `≥ 0.5 - tol` and `i₂` the one with the smallest
    ///   `1 - Sᵢ ≥ 0.5 + tol` (R's `approx(..., method = "constant", f = 1)`,
    ///   which orders the points by value); the result is `(t_{i₁} + t_{i₂})/2`,
    ///   so the first time with S ≤ 0.5 or, when S = 0.5 on an interval,
    ///   the midpoint of that interval. If the last distinct value is
    ///   within `tol` of 0.5 the result is `(t_{i₁} + t_last)/2` with `t_last`
    ///   the last time of the curve. `None` when the curve never reaches
    ///   0.5 (`max(1 - S) < 0.5`) or an index does not exist.
    /// * [`MedianRule::Print`] (`minmin` of `survival:::survmean`): among the
    ///   points with `S < 0.5 + tol`, the first time; if its S is within
    ///   `tol` of 0.5 and a later point is lower, the midpoint between it and
    ///   the first lower point.
    ///
    /// # References
    ///
    /// Brookmeyer, R. & Crowley, J. (1982). A confidence interval for the
    /// median survival time. *Biometrics* 38(1), 29–41.
    ///
    /// R: `quantile(fit, 0.5)` (`$quantile`, `$lower`, `$upper`) or
    /// `summary(fit)$table[c("median", "0.95LCL", "0.95UCL")]`.
    pub fn median_by(&self, rule: MedianRule) -> MedianCi {
        let times: Vec<f64> = self.points.iter().map(|p| p.time).collect();
        let surv: Vec<Option<f64>> = self.points.iter().map(|p| Some(p.surv)).collect();
        let lower: Vec<Option<f64>> = self.points.iter().map(|p| p.lower).collect();
        let upper: Vec<Option<f64>> = self.points.iter().map(|p| p.upper).collect();
        let rule_fn = match rule {
            MedianRule::Quantile => findq_median,
            MedianRule::Print => minmin_median,
        };
        MedianCi {
            median: rule_fn(&times, &surv),
            lower: rule_fn(&times, &lower),
            upper: rule_fn(&times, &upper),
        }
    }
}

/// `survival:::findq(c(0, time), c(0, 1 - curve), 0.5, tol)`.
fn findq_median(times: &[f64], curve: &[Option<f64>]) -> Option<f64> {
    const P: f64 = 0.5;
    let tol = SURVFIT_QUANTILE;
    let x: Vec<f64> = std::iter::once(0.0).chain(times.iter().copied()).collect();
    let y: Vec<Option<f64>> = std::iter::once(Some(0.0))
        .chain(curve.iter().map(|s| s.map(|s| 1.0 - s)))
        .collect();
    let max_y = y
        .iter()
        .flatten()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    if max_y < P {
        return None;
    }
    let x_max = *x.last()?;
    // Drop points whose value repeats an earlier one (R's `duplicated`).
    let mut seen = HashSet::new();
    let (x, y): (Vec<f64>, Vec<Option<f64>>) = x
        .iter()
        .zip(&y)
        .filter(|(_, yi)| seen.insert(yi.map(|v| (v + 0.0).to_bits())))
        .map(|(&xi, &yi)| (xi, yi))
        .unzip();
    let index1 = approx_constant_right(&y, tol, P);
    let index2 = approx_constant_right(&y, -tol, P);
    let mut quantile = match (index1, index2) {
        (Some(i), Some(j)) => Some((x[i] + x[j]) / 2.0),
        _ => None,
    };
    if let Some(Some(y_last)) = y.last() {
        if (P - y_last).abs() < tol {
            quantile = index1.map(|i| (x[i] + x_max) / 2.0);
        }
    }
    quantile
}

/// `approx(y + shift, seq_along(y), v, method = "constant", f = 1)$y` as a
/// 0-based index: NA values of `y` are dropped, the rest ordered by value,
/// and the index of the smallest `y + shift ≥ v` is returned; `None` when
/// `v` is outside the range of the values.
fn approx_constant_right(y: &[Option<f64>], shift: f64, v: f64) -> Option<usize> {
    let mut nodes: Vec<(f64, usize)> = y
        .iter()
        .enumerate()
        .filter_map(|(i, yi)| yi.map(|yi| (yi + shift, i)))
        .collect();
    nodes.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (first, last) = (nodes.first()?, nodes.last()?);
    if v < first.0 || v > last.0 {
        return None;
    }
    nodes.iter().find(|(node, _)| *node >= v).map(|&(_, i)| i)
}

/// `minmin(curve, time)` of `survival:::survmean`.
fn minmin_median(times: &[f64], curve: &[Option<f64>]) -> Option<f64> {
    let tol = SURVFIT_QUANTILE;
    let kept: Vec<(f64, f64)> = times
        .iter()
        .zip(curve)
        .filter_map(|(&t, s)| s.filter(|&s| s < 0.5 + tol).map(|s| (t, s)))
        .collect();
    let &(x1, y1) = kept.first()?;
    if (y1 - 0.5).abs() < tol {
        if let Some(&(x_lower, _)) = kept.iter().find(|&&(_, y)| y < y1) {
            return Some((x1 + x_lower) / 2.0);
        }
    }
    Some(x1)
}

/// Merges times that differ by no more than R's tolerance, as
/// `survival::aeqSurv` does before `survfit` and `survdiff`.
///
/// # Formula
///
/// With the sorted distinct finite times `y₁ < … < y_m` and gaps
/// `dᵢ = yᵢ₊₁ - yᵢ`, a gap is tied when `dᵢ ≤ tol` or
/// `dᵢ / mean(|y|) ≤ tol` (`tol = sqrt(.Machine$double.eps)`). The cut points
/// are `y₁` and every `yᵢ₊₁` whose gap is not tied; each finite time is
/// replaced by the largest cut point not above it. Non-finite times are
/// left as they are.
///
/// # References
///
/// Therneau, T. M. (2023). *A Package for Survival Analysis in R*, vignette
/// "Roundoff error and tied times".
///
/// R: `survival::aeqSurv(Surv(time, event))[, 1]`.
pub fn tie_nearly_equal_times(times: &[f64]) -> Vec<f64> {
    let mut distinct: Vec<f64> = times.iter().copied().filter(|t| t.is_finite()).collect();
    // Values equal under total_cmp have the same bits: an unstable sort gives the same order.
    distinct.sort_unstable_by(f64::total_cmp);
    distinct.dedup_by(|a, b| a == b);
    let Some(cuts) = cut_points(&distinct) else {
        return times.to_vec();
    };
    times.iter().map(|&t| merged(&cuts, t)).collect()
}

/// The cut points of [`tie_nearly_equal_times`] for the sorted distinct finite times
/// `distinct`; None when no gap is tied (every time stays as it is).
fn cut_points(distinct: &[f64]) -> Option<Vec<f64>> {
    let tol = SURVFIT_QUANTILE;
    if distinct.len() < 2 {
        return None;
    }
    let mean_abs = distinct.iter().map(|y| y.abs()).sum::<f64>() / distinct.len() as f64;
    let mut cuts = vec![distinct[0]];
    let mut any_tied = false;
    for pair in distinct.windows(2) {
        let gap = pair[1] - pair[0];
        if gap <= tol || gap / mean_abs <= tol {
            any_tied = true;
        } else {
            cuts.push(pair[1]);
        }
    }
    any_tied.then_some(cuts)
}

/// Time `t` moved onto the largest cut point not above it (a non-finite time stays).
fn merged(cuts: &[f64], t: f64) -> f64 {
    if t.is_finite() {
        cuts[cuts.partition_point(|&c| c <= t) - 1]
    } else {
        t
    }
}

/// Marks an observation without a time (NaN) in [`TimeTally::of`].
pub(crate) const NO_TIME: u32 = u32::MAX;

/// Observations numbered by their time as `survfit` and `survdiff` group them: NaN left
/// out, nearly equal times merged ([`tie_nearly_equal_times`]), values equal under `==`
/// one time.
pub(crate) struct TimeTally {
    /// The distinct times, ascending (each written as the first of its values by
    /// `f64::total_cmp`: -0 before 0).
    pub times: Vec<f64>,
    /// Each observation's time (index into `times`), or [`NO_TIME`].
    pub of: Vec<u32>,
}

impl TimeTally {
    /// Numbers `times`. The distinct values are found with a table, not by sorting every
    /// observation: times are mostly a few distinct values (numbers of injections), and
    /// the sort cost more than the rest of the fit.
    pub fn of(times: &[f64]) -> TimeTally {
        let mut slots: std::collections::HashMap<u64, u32, BuildBits> = Default::default();
        let mut values: Vec<f64> = Vec::new();
        let of: Vec<u32> = (times.iter())
            .map(|&t| {
                if t.is_nan() {
                    return NO_TIME;
                }
                // -0 and 0 are one time (they are ==): one key.
                let key = if t == 0.0 { 0 } else { t.to_bits() };
                let slot = *slots.entry(key).or_insert_with(|| {
                    values.push(t);
                    (values.len() - 1) as u32
                });
                let value = &mut values[slot as usize];
                if t.total_cmp(value).is_lt() {
                    *value = t;
                }
                slot
            })
            .collect();
        let mut order: Vec<u32> = (0..values.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| values[a as usize].total_cmp(&values[b as usize]));
        let finite: Vec<f64> = (order.iter())
            .map(|&s| values[s as usize])
            .filter(|t| t.is_finite())
            .collect();
        let cuts = cut_points(&finite);
        // In ascending order; values merged onto one time share its number.
        let mut number = vec![0u32; values.len()];
        let mut distinct: Vec<f64> = Vec::new();
        for &slot in &order {
            let value = values[slot as usize];
            let t = cuts.as_ref().map_or(value, |c| merged(c, value));
            if distinct.last() != Some(&t) {
                distinct.push(t);
            }
            number[slot as usize] = (distinct.len() - 1) as u32;
        }
        TimeTally {
            times: distinct,
            of: (of.into_iter())
                .map(|s| if s == NO_TIME { s } else { number[s as usize] })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::tolerance::agrees_with_reference;
    use proptest::prelude::*;

    /// A time drawn from whole numbers, nearly equal neighbours (merged), both zeros,
    /// infinities and NaN.
    fn a_time() -> impl Strategy<Value = f64> {
        prop_oneof![
            (0u32..12).prop_map(f64::from),
            (0u32..4).prop_map(|k| f64::from(k) + 1e-10),
            (0u32..4).prop_map(|k| f64::from(k) * 1e6 + 1e-4),
            Just(0.0),
            Just(-0.0),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(f64::NAN),
            (-1e3f64..1e3),
        ]
    }

    proptest! {
        /// The table numbers times as sorting the merged times and grouping equal ones does.
        #[test]
        fn the_tally_groups_times_as_sorting_them_does(times in prop::collection::vec(a_time(), 0..60)) {
            let merged = tie_nearly_equal_times(&times);
            let mut sorted: Vec<f64> = merged.iter().copied().filter(|t| !t.is_nan()).collect();
            sorted.sort_by(f64::total_cmp);
            let mut expected: Vec<f64> = Vec::new();
            for t in sorted {
                if expected.last() != Some(&t) {
                    expected.push(t);
                }
            }
            let tally = TimeTally::of(&times);
            let bits = |v: &[f64]| v.iter().map(|t| t.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&tally.times), bits(&expected));
            for (i, &t) in merged.iter().enumerate() {
                if t.is_nan() {
                    prop_assert_eq!(tally.of[i], NO_TIME);
                } else {
                    prop_assert!(tally.times[tally.of[i] as usize] == t);
                }
            }
        }
    }

    fn close(actual: Option<f64>, expected: f64) {
        let actual = actual.expect("value present");
        assert!(
            agrees_with_reference(actual, expected),
            "actual {actual:e} expected {expected:e}"
        );
    }

    // R: t <- c(1,2,2,3,4,4,5,6); e <- c(1,1,0,1,0,1,1,1)
    //    f <- survfit(Surv(t, e) ~ 1)
    fn example() -> KaplanMeier {
        KaplanMeier::fit(
            &[1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0, 6.0],
            &[true, true, false, true, false, true, true, true],
        )
    }

    #[test]
    fn curve_matches_survfit() {
        let km = example();
        assert_eq!(km.n, 8);
        assert_eq!(km.events, 6);
        let times: Vec<f64> = km.points.iter().map(|p| p.time).collect();
        assert_eq!(times, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let p = km.points[1];
        assert_eq!((p.n_risk, p.n_event, p.n_censor), (7, 1, 1));
        close(Some(p.surv), 0.75);
        close(p.std_err, 0.2041241452319315);
        close(p.lower, 0.5027018412940469);
        assert_eq!(p.upper, Some(1.0));
        close(km.points[4].lower, 0.04496235899050287);
        let last = km.points[5];
        assert_eq!(last.surv, 0.0);
        assert_eq!((last.std_err, last.lower, last.upper), (None, None, None));
    }

    #[test]
    fn step_function() {
        let km = example();
        assert_eq!(km.surv_at(0.5), 1.0);
        assert_eq!(km.surv_at(1.0), 0.875);
        assert_eq!(km.surv_at(2.5), 0.75);
        assert_eq!(km.surv_at(100.0), 0.0);
    }

    #[test]
    fn median_matches_quantile_survfit() {
        // quantile(f, 0.5): 4 (lower 3, upper NA)
        let m = example().median();
        assert_eq!((m.median, m.lower, m.upper), (Some(4.0), Some(3.0), None));
    }

    #[test]
    fn median_on_a_flat_half() {
        // survfit(Surv(1:4, rep(1, 4)) ~ 1): S = 0.5 on [2, 3); median 2.5,
        // lower 1, upper NA.
        let km = KaplanMeier::fit(&[1.0, 2.0, 3.0, 4.0], &[true; 4]);
        let m = km.median();
        assert_eq!((m.median, m.lower, m.upper), (Some(2.5), Some(1.0), None));
        assert_eq!(km.median_by(MedianRule::Print), m);
    }

    #[test]
    fn median_when_half_is_the_last_value() {
        // survfit(Surv(c(2, 5), c(1, 0)) ~ 1): S reaches exactly 0.5 at
        // t = 2 and stays there to the last (censored) time 5.
        // quantile(f, 0.5): 3.5 (lower 2, upper NA); print(f): 2 (2, NA).
        let km = KaplanMeier::fit(&[2.0, 5.0], &[true, false]);
        let m = km.median();
        assert_eq!((m.median, m.lower, m.upper), (Some(3.5), Some(2.0), None));
        let m = km.median_by(MedianRule::Print);
        assert_eq!((m.median, m.lower, m.upper), (Some(2.0), Some(2.0), None));
    }

    #[test]
    fn no_median_when_not_reached() {
        let km = KaplanMeier::fit(&[1.0, 2.0, 3.0], &[true, false, false]);
        assert_eq!(km.median().median, None);
        let empty = KaplanMeier::fit(&[], &[]);
        assert!(empty.points.is_empty());
        assert_eq!(empty.median().median, None);
        assert_eq!(empty.surv_at(1.0), 1.0);
    }

    #[test]
    fn nearly_equal_times_are_merged() {
        let merged = tie_nearly_equal_times(&[0.1 + 0.2, 0.3, 1.0, f64::INFINITY]);
        assert_eq!(merged, vec![0.3, 0.3, 1.0, f64::INFINITY]);
        assert_eq!(tie_nearly_equal_times(&[1.0, 2.0]), vec![1.0, 2.0]);
    }
}
