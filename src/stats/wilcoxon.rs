//! Wilcoxon signed rank test of location 0, exact or by normal
//! approximation, as R's `wilcox.test(x)` with its defaults.

use super::dist::{pnorm, Tail};
use super::finite;
use super::rank::tie_cubes;

/// R uses the exact null distribution when there are fewer than this many
/// non-zero values (and no ties and no zeros).
pub const EXACT_MAX_N: usize = 50;

/// How the p-value of a signed rank test was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WilcoxonMethod {
    /// Exact null distribution of V (R's "Wilcoxon signed rank exact test").
    Exact,
    /// Normal approximation with continuity and tie correction (R's
    /// "Wilcoxon signed rank test with continuity correction").
    NormalApprox,
}

/// Result of a Wilcoxon signed rank test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WilcoxonResult {
    /// Two-sided p-value.
    pub p: f64,
    /// How `p` was computed.
    pub method: WilcoxonMethod,
    /// Statistic V: the sum of the ranks of `|x|` over the positive values.
    pub v: f64,
    /// Number of non-zero values that were ranked.
    pub n: usize,
}

/// Two-sided Wilcoxon signed rank test of `H0: location = 0`.
///
/// NaN values are dropped (R drops `NA`), then zeros are dropped. The exact
/// p-value is used when fewer than [`EXACT_MAX_N`] non-zero values remain
/// and there were no ties (equal `|x|`, exact `f64` equality) and no zeros;
/// otherwise the normal approximation with continuity correction. `None`
/// when no non-zero value remains (R: error or NaN).
///
/// # Formula
///
/// `V = Σ_{xᵢ > 0} rank(|xᵢ|)` (average ranks for ties), `n` non-zero values.
///
/// Exact: `p = min(1, 2 · min(P(V' ≤ V), P(V' ≥ V)))`, where the null
/// distribution of `V'` counts the subsets of `{1, …, n}` with each sum,
/// each of the `2ⁿ` subsets equally likely; the lower tail is used when
/// `V ≤ n(n+1)/4`, the upper tail otherwise, as R does.
///
/// Normal: `z = V - n(n+1)/4`,
/// `σ = √(n(n+1)(2n+1)/24 - Σ(t³ - t)/48)` over the tie groups `t`,
/// `z' = (z - sign(z)/2) / σ`, `p = 2 · min(Φ(z'), 1 - Φ(z'))`.
///
/// # References
///
/// Wilcoxon, F. (1945). Individual comparisons by ranking methods.
/// *Biometrics Bulletin* 1(6), 80–83. Hollander, Wolfe & Chicken (2014),
/// *Nonparametric Statistical Methods*, 3rd ed., §3.1.
///
/// R: `wilcox.test(x)` (`mu = 0`, `exact = NULL`, `correct = TRUE`).
pub fn signed_rank(x: &[f64]) -> Option<WilcoxonResult> {
    let mut sorted = x.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    signed_rank_sorted(&sorted)
}

/// [`signed_rank`] of a sample already sorted by `f64::total_cmp` (so that one sort serves
/// this test and the quartiles).
///
/// The values in order of `|x|` are the negative ones from the last to the first merged with
/// the positive ones, so the ranks of `|x|` and their tie groups, in increasing order of
/// `|x|` as R's `rank` and `table` give them, come from one walk without another sort.
pub fn signed_rank_sorted(sorted: &[f64]) -> Option<WilcoxonResult> {
    // total_cmp puts NaNs with the sign bit first and the others last.
    let first = sorted.iter().position(|v| !v.is_nan())?;
    let last = sorted.iter().rposition(|v| !v.is_nan())?;
    let present = &sorted[first..=last];
    let negative = &present[..present.partition_point(|&v| v < 0.0)];
    let positive = &present[present.partition_point(|&v| v <= 0.0)..];
    let n = negative.len() + positive.len();
    let zeros = n < present.len();
    if n == 0 {
        return None;
    }
    // Walk |x| upwards: negatives from the end of their run, positives from the start.
    let (mut i, mut j) = (negative.len(), 0);
    let mut below = 0; // values ranked so far
    let mut v = 0.0;
    let mut tie_sizes = Vec::new();
    while below < n {
        let a = match (i.checked_sub(1).map(|k| -negative[k]), positive.get(j)) {
            (Some(a), Some(&b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => unreachable!("below < n leaves a value"),
        };
        let mut t = 0;
        while i > 0 && -negative[i - 1] == a {
            i -= 1;
            t += 1;
        }
        let mut up = 0;
        while j < positive.len() && positive[j] == a {
            j += 1;
            up += 1;
        }
        t += up;
        // Ranks below+1 ..= below+t share their average (a half-integer: sums are exact).
        let rank = (2 * below + t + 1) as f64 / 2.0;
        v += rank * up as f64;
        tie_sizes.push(t);
        below += t;
    }
    let ties = tie_sizes.iter().any(|&t| t > 1);
    let nf = n as f64;
    if n < EXACT_MAX_N && !ties && !zeros {
        let p = exact_two_sided(v, n);
        return Some(WilcoxonResult {
            p,
            method: WilcoxonMethod::Exact,
            v,
            n,
        });
    }
    let z = v - nf * (nf + 1.0) / 4.0;
    let sigma = (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - tie_cubes(&tie_sizes) / 48.0).sqrt();
    let correction = if z > 0.0 {
        0.5
    } else if z < 0.0 {
        -0.5
    } else {
        0.0
    };
    let z = (z - correction) / sigma;
    let p = 2.0 * pnorm(z, Tail::Lower).min(pnorm(z, Tail::Upper));
    finite(p).map(|p| WilcoxonResult {
        p,
        method: WilcoxonMethod::NormalApprox,
        v,
        n,
    })
}

/// Number of subsets of `{1, …, n}` with each sum `0 ..= n(n+1)/2`
/// (R's `csignrank`). Exact in `u64` for `n < 64`.
fn signed_rank_counts(n: usize) -> Vec<u64> {
    let max_sum = n * (n + 1) / 2;
    let mut counts = vec![0_u64; max_sum + 1];
    counts[0] = 1;
    for k in 1..=n {
        let reachable = k * (k + 1) / 2;
        for s in (k..=reachable).rev() {
            counts[s] += counts[s - k];
        }
    }
    counts
}

/// Exact two-sided p-value for an integer statistic `v` with `n < 64`.
fn exact_two_sided(v: f64, n: usize) -> f64 {
    let counts = signed_rank_counts(n);
    let total = 2f64.powi(n as i32);
    let nf = n as f64;
    // V has no ties here, so it is an integer in 0..=n(n+1)/2.
    let v = v.round() as usize;
    let tail: u64 = if (v as f64) > nf * (nf + 1.0) / 4.0 {
        counts[v..].iter().sum()
    } else {
        counts[..=v].iter().sum()
    };
    (2.0 * (tail as f64 / total)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rank::rank_average;
    use crate::stats::tolerance::agrees_with_reference;
    use proptest::prelude::*;

    /// V, n, ties and zeros by the definition: rank |x| of the non-zero values.
    fn by_definition(x: &[f64]) -> Option<(f64, usize, f64, bool, bool)> {
        let present: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
        let nonzero: Vec<f64> = present.iter().copied().filter(|&v| v != 0.0).collect();
        if nonzero.is_empty() {
            return None;
        }
        let abs: Vec<f64> = nonzero.iter().map(|v| v.abs()).collect();
        let ranking = rank_average(&abs);
        let v = (nonzero.iter().zip(&ranking.ranks))
            .filter(|(&xi, _)| xi > 0.0)
            .map(|(_, &r)| r)
            .sum();
        let zeros = nonzero.len() < present.len();
        Some((
            v,
            nonzero.len(),
            ranking.tie_cubes(),
            ranking.has_ties(),
            zeros,
        ))
    }

    proptest! {
        // The walk over the sorted values gives the statistic, the tie term and the method
        // that ranking |x| gives, on samples with ties, zeros (also -0), NaN and infinities.
        #[test]
        fn sorted_walk_ranks_as_the_definition(
            x in prop::collection::vec(prop_oneof![
                8 => (-6i32..7).prop_map(|v| f64::from(v) / 2.0),
                1 => Just(-0.0),
                1 => Just(f64::NAN),
                1 => prop_oneof![Just(f64::INFINITY), Just(f64::NEG_INFINITY)],
                2 => -1e3f64..1e3,
            ], 0..80)
        ) {
            let got = signed_rank(&x);
            match by_definition(&x) {
                None => prop_assert_eq!(got, None),
                Some((v, n, cubes, ties, zeros)) => {
                    let got = got.unwrap();
                    prop_assert_eq!(got.v, v);
                    prop_assert_eq!(got.n, n);
                    let exact = n < EXACT_MAX_N && !ties && !zeros;
                    prop_assert_eq!(got.method == WilcoxonMethod::Exact, exact);
                    if !exact {
                        let nf = n as f64;
                        let z = v - nf * (nf + 1.0) / 4.0;
                        let sigma = (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - cubes / 48.0).sqrt();
                        let z = (z - 0.5 * z.signum() * f64::from(u8::from(z != 0.0))) / sigma;
                        let p = 2.0 * pnorm(z, Tail::Lower).min(pnorm(z, Tail::Upper));
                        prop_assert_eq!(got.p, p);
                    }
                }
            }
        }
    }

    #[test]
    fn subset_counts() {
        // Subsets of {1, 2, 3}: sums 0,1,2,3,3,4,5,6.
        assert_eq!(signed_rank_counts(3), vec![1, 1, 1, 2, 1, 1, 1]);
        assert_eq!(signed_rank_counts(10).iter().sum::<u64>(), 1024);
    }

    #[test]
    fn exact_small_sample() {
        // wilcox.test(c(1.5, -0.5, 2, 3, 4)): V = 14, p-value = 0.125
        let r = signed_rank(&[1.5, -0.5, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(r.method, WilcoxonMethod::Exact);
        assert_eq!(r.v, 14.0);
        assert_eq!(r.p, 0.125);
        // All positive: p = 2 / 2^5.
        assert_eq!(signed_rank(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap().p, 0.0625);
    }

    #[test]
    fn ties_or_zeros_use_normal_approximation() {
        // wilcox.test(c(0, 1, 2, 2, -3)): V = 6, p-value = 0.8539232992870668
        let r = signed_rank(&[0.0, 1.0, 2.0, 2.0, -3.0]).unwrap();
        assert_eq!(r.method, WilcoxonMethod::NormalApprox);
        assert_eq!(r.v, 6.0);
        assert_eq!(r.n, 4);
        assert!(agrees_with_reference(r.p, 0.8539232992870668));
    }

    #[test]
    fn all_zeros_is_none() {
        assert_eq!(signed_rank(&[0.0, 0.0]), None);
        assert_eq!(signed_rank(&[]), None);
    }
}
