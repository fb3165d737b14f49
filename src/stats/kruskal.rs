//! Kruskal–Wallis rank sum test across groups, tie-corrected, as R's
//! `kruskal.test`.

use super::dist::{pchisq, Tail};
use super::rank::{r_table_runs, tie_cubes};

/// Result of a Kruskal–Wallis test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KruskalWallis {
    /// Tie-corrected statistic H ("Kruskal-Wallis chi-squared").
    pub statistic: f64,
    /// Degrees of freedom: non-empty groups minus 1.
    pub df: usize,
    /// Upper-tail chi-square p-value.
    pub p: f64,
}

/// Kruskal–Wallis test that all groups come from the same distribution.
///
/// NaN values are dropped (R drops `NA`), then empty groups. `None` when
/// fewer than two non-empty groups remain, or when the statistic is not
/// finite (all values equal: R gives NaN).
///
/// # Formula
///
/// With all `n` values ranked together (average ranks), `R_g` the rank sum
/// and `n_g` the size of group `g`, and tie groups of sizes `t` (as R's
/// `table(x)` forms them: values equal to 15 significant digits, see
/// [`super::rank::r_table_counts`], while the ranks use exact equality):
/// `H = (12 / (n(n+1)) · Σ R_g² / n_g - 3(n+1)) / (1 - Σ(t³ - t)/(n³ - n))`,
/// referred to chi-square with `k - 1` degrees of freedom.
///
/// # References
///
/// Kruskal, W. H. & Wallis, W. A. (1952). Use of ranks in one-criterion
/// variance analysis. *JASA* 47(260), 583–621. Hollander, Wolfe & Chicken
/// (2014), *Nonparametric Statistical Methods*, 3rd ed., §6.1.
///
/// R: `kruskal.test(x, g)` (`$statistic`, `$parameter`, `$p.value`).
pub fn kruskal_wallis(groups: &[Vec<f64>]) -> Option<KruskalWallis> {
    // Each group's size without its NaN values, counted once; empty groups are dropped.
    let sizes: Vec<usize> = (groups.iter())
        .map(|g| g.iter().filter(|v| !v.is_nan()).count())
        .collect();
    let kept = sizes.iter().filter(|&&n| n > 0).count();
    if kept < 2 {
        return None;
    }
    // Every value sorted once; each run of equal values is one rank, their average. A value's
    // rank is then looked up by a binary search among the distinct values, rather than every
    // value sorted with its position and ranked where it lies (the sums are the same: ranks
    // are halves, and their sums below 2^53 are exact in any order).
    let mut all: Vec<f64> = groups
        .iter()
        .flatten()
        .copied()
        .filter(|v| !v.is_nan())
        .collect();
    all.sort_unstable_by(f64::total_cmp);
    let (mut values, mut ranks, mut runs) = (Vec::new(), Vec::new(), Vec::new());
    let mut start = 0;
    for run in all.chunk_by(|a, b| a == b) {
        // Sorted places start + 1 ..= start + len share their average.
        values.push(run[0]);
        ranks.push((start + 1 + start + run.len()) as f64 / 2.0);
        runs.push(run.len());
        start += run.len();
    }
    let rank_of = |v: f64| ranks[values.partition_point(|&d| d < v)];
    let sum_of_squares: f64 = (groups.iter().zip(&sizes))
        .filter(|(_, &n)| n > 0)
        .map(|(g, &n)| {
            let rank_sum: f64 = g.iter().filter(|v| !v.is_nan()).map(|&v| rank_of(v)).sum();
            rank_sum * rank_sum / n as f64
        })
        .sum();
    let n = all.len() as f64;
    let statistic = (12.0 * sum_of_squares / (n * (n + 1.0)) - 3.0 * (n + 1.0))
        / (1.0 - tie_cubes(&r_table_runs(&values, &runs)) / (n * n * n - n));
    if !statistic.is_finite() {
        return None;
    }
    let df = kept - 1;
    Some(KruskalWallis {
        statistic,
        df,
        p: pchisq(statistic, df as f64, Tail::Upper),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::tolerance::agrees_with_reference;

    #[test]
    fn matches_hand_computation() {
        // Ranks: a = {1, 2}, b = {3, 4, 5}; n = 5.
        // H = 12/30 · (9/2 + 144/3) - 18 = 3.
        let r = kruskal_wallis(&[vec![1.0, 2.0], vec![3.0, 4.0, 5.0]]).unwrap();
        assert!(agrees_with_reference(r.statistic, 3.0));
        assert_eq!(r.df, 1);
        assert!(agrees_with_reference(r.p, pchisq(3.0, 1.0, Tail::Upper)));
    }

    #[test]
    fn ties_are_corrected() {
        // R: kruskal.test(c(1, 1, 2, 3), c("a", "a", "b", "b"))
        // ranks a = {1.5, 1.5}, b = {3, 4}; Σ R²/n = 4.5 + 24.5 = 29;
        // H = (12·29/20 - 15) / (1 - 6/60) = 2.4 / 0.9.
        let r = kruskal_wallis(&[vec![1.0, 1.0], vec![2.0, 3.0]]).unwrap();
        assert!(agrees_with_reference(r.statistic, 2.4 / 0.9));
    }

    #[test]
    fn tie_term_uses_r_table_grouping() {
        // R: kruskal.test(c(0.1 + 0.2, 0.3, 0.3, 0.1 + 0.2, 0.6, 0.5),
        //                 c("a", "b", "a", "b", "a", "b"))$statistic
        // = 0.06666666666666643: ranked apart, but one tie group of 4.
        let r = kruskal_wallis(&[vec![0.1 + 0.2, 0.3, 0.6], vec![0.3, 0.1 + 0.2, 0.5]]).unwrap();
        assert!(agrees_with_reference(r.statistic, 0.06666666666666643));
    }

    /// The statistic, to the bit, as ranking every value where it lies gives it (the way this
    /// was computed before): random groups heavy with ties, -0 beside 0, and NaN.
    #[test]
    fn the_statistic_is_that_of_ranking_every_value() {
        use crate::stats::rank::{r_table_counts, rank_average};
        let by_ranking = |groups: &[Vec<f64>]| {
            let groups: Vec<Vec<f64>> = (groups.iter())
                .map(|g| {
                    g.iter()
                        .copied()
                        .filter(|v| !v.is_nan())
                        .collect::<Vec<_>>()
                })
                .filter(|g| !g.is_empty())
                .collect();
            let all: Vec<f64> = groups.iter().flatten().copied().collect();
            let ranking = rank_average(&all);
            let mut ranks = ranking.ranks.iter();
            let sum: f64 = (groups.iter())
                .map(|g| {
                    let r: f64 = ranks.by_ref().take(g.len()).sum();
                    r * r / g.len() as f64
                })
                .sum();
            let n = all.len() as f64;
            (12.0 * sum / (n * (n + 1.0)) - 3.0 * (n + 1.0))
                / (1.0 - tie_cubes(&r_table_counts(&all)) / (n * n * n - n))
        };
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for case in 0..300 {
            let k = 2 + (next() % 6) as usize;
            let levels = 1 + next() % if case % 2 == 0 { 12 } else { 5000 };
            let groups: Vec<Vec<f64>> = (0..k)
                .map(|_| {
                    (0..next() % 400)
                        .map(|_| match next() % 50 {
                            0 => f64::NAN,
                            1 => -0.0,
                            _ => (next() % levels) as f64 / 2.0 - 3.0,
                        })
                        .collect()
                })
                .collect();
            let want = by_ranking(&groups);
            match kruskal_wallis(&groups) {
                Some(r) => assert_eq!(r.statistic.to_bits(), want.to_bits(), "case {case}"),
                None => assert!(
                    !want.is_finite()
                        || groups
                            .iter()
                            .filter(|g| g.iter().any(|v| !v.is_nan()))
                            .count()
                            < 2,
                    "case {case}: {want}"
                ),
            }
        }
    }

    #[test]
    fn degenerate_inputs_are_none() {
        assert_eq!(kruskal_wallis(&[vec![1.0, 2.0]]), None);
        assert_eq!(kruskal_wallis(&[vec![1.0, 2.0], vec![]]), None);
        assert_eq!(kruskal_wallis(&[vec![3.0, 3.0], vec![3.0]]), None);
        assert!(kruskal_wallis(&[vec![1.0], vec![2.0], vec![]]).is_some());
    }
}
