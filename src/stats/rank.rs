//! Ranks with average ties (R's `rank(x)`, `ties.method = "average"`), the
//! sizes of the tie groups, and R's `table(x)` counts of a double sample,
//! shared by the rank-based tests.

use std::collections::BTreeMap;

/// Ranks of a sample together with the sizes of its groups of equal values.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// Rank of each value, in input order, 1-based; tied values share the
    /// average of the ranks they span.
    pub ranks: Vec<f64>,
    /// Size of every group of equal values (including groups of size 1), in
    /// increasing order of value: the counts of R's `table(x)`.
    pub tie_sizes: Vec<usize>,
}

impl Ranking {
    /// `Σ (t³ - t)` over the tie groups, the tie term of rank tests, in
    /// floating point as R computes `sum(TIES^3 - TIES)`.
    pub fn tie_cubes(&self) -> f64 {
        tie_cubes(&self.tie_sizes)
    }

    /// `true` when at least two values are equal.
    pub fn has_ties(&self) -> bool {
        self.tie_sizes.iter().any(|&t| t > 1)
    }
}

/// Average ranks of `x`.
///
/// # Formula
///
/// Sort the values; a run of `t` equal values occupying sorted positions
/// `i+1, …, i+t` gets rank `i + (t + 1)/2`. Values are equal when they
/// compare equal as `f64` (so `-0.0 == 0.0`). NaN values are sorted last and
/// never tie; callers are expected to pass finite values.
///
/// # References
///
/// Hollander, Wolfe & Chicken (2014), *Nonparametric Statistical Methods*,
/// 3rd ed., §1.
///
/// R: `rank(x)` and `table(x)`.
pub fn rank_average(x: &[f64]) -> Ranking {
    // (value, position) pairs sort without looking values up elsewhere; the order within a
    // run of equal values does not matter, as they share one rank.
    let mut order: Vec<(f64, usize)> = x.iter().copied().zip(0..).collect();
    order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut ranks = vec![0.0; x.len()];
    let mut tie_sizes = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let value = order[start].0;
        let mut end = start + 1;
        while end < order.len() && order[end].0 == value {
            end += 1;
        }
        // Positions start+1 ..= end (1-based) share their average.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &(_, i) in &order[start..end] {
            ranks[i] = rank;
        }
        tie_sizes.push(end - start);
        start = end;
    }
    Ranking { ranks, tie_sizes }
}

/// Sizes of the groups of values that R's `table(x)` counts together for a
/// double vector `x`, in no particular order.
///
/// `table` (through `factor`) groups values by `as.character(x)`, which
/// keeps 15 significant digits: values that differ only beyond that, such as
/// `0.1 + 0.2` and `0.3`, form one group here although `rank` ranks them
/// apart. `kruskal.test` takes its tie correction from this table.
/// (R 4.2 writes some doubles of 1e15 and above in fixed notation with more
/// digits; those are grouped by 15 significant digits here all the same.)
///
/// # Formula
///
/// Group by the decimal rounding of `x` to 15 significant digits (`-0` as
/// `0`); NaN values form one group.
///
/// # References
///
/// R: `table(x)`, `factor(x)`, `as.character(x)`.
pub fn r_table_counts(x: &[f64]) -> Vec<usize> {
    // Equal values first (by their bits; -0 is 0), then each distinct value formatted once.
    let mut distinct: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    for &v in x {
        *distinct.entry((v + 0.0).to_bits()).or_default() += 1;
    }
    let (values, counts): (Vec<f64>, Vec<usize>) = (distinct.into_iter())
        .map(|(bits, n)| (f64::from_bits(bits), n))
        .unzip();
    r_table_runs(&values, &counts)
}

/// [`r_table_counts`] of a sample given as its distinct values (equal as `f64`: `-0` and `0`
/// are one) and how many times each occurs, in any order: the counts in the same order as
/// [`r_table_counts`] gives them.
pub fn r_table_runs(values: &[f64], counts: &[usize]) -> Vec<usize> {
    let mut table: BTreeMap<String, usize> = BTreeMap::new();
    for (&v, &n) in values.iter().zip(counts) {
        *table.entry(format!("{:.14e}", v + 0.0)).or_default() += n;
    }
    table.into_values().collect()
}

/// `Σ (t³ - t)` over group sizes `t`, in floating point as R computes
/// `sum(TIES^3 - TIES)`: the tie correction of rank statistics.
///
/// # Formula
///
/// `Σ_g (t_g³ - t_g)`.
///
/// # References
///
/// Hollander, Wolfe & Chicken (2014), §3.1 and §6.1.
///
/// R: `sum(TIES^3 - TIES)` in `wilcox.test` and `kruskal.test`.
pub fn tie_cubes(sizes: &[usize]) -> f64 {
    sizes
        .iter()
        .map(|&t| {
            let t = t as f64;
            t * t * t - t
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_table_groups_by_fifteen_digits() {
        let mut counts = r_table_counts(&[0.1 + 0.2, 0.3, 0.6, -0.0, 0.0, 1.0 / 3.0]);
        counts.sort_unstable();
        assert_eq!(counts, vec![1, 1, 2, 2]);
        assert_eq!(tie_cubes(&[4, 1]), 60.0);
    }

    #[test]
    fn average_ranks_for_ties() {
        let r = rank_average(&[3.0, 1.0, 4.0, 1.0, 5.0, -0.0, 0.0]);
        assert_eq!(r.ranks, vec![5.0, 3.5, 6.0, 3.5, 7.0, 1.5, 1.5]);
        assert_eq!(r.tie_sizes, vec![2, 2, 1, 1, 1]);
        assert!(r.has_ties());
        assert_eq!(r.tie_cubes(), 12.0);
    }

    #[test]
    fn empty_and_distinct() {
        let r = rank_average(&[]);
        assert!(r.ranks.is_empty() && r.tie_sizes.is_empty());
        let r = rank_average(&[2.0, 1.0]);
        assert_eq!(r.ranks, vec![2.0, 1.0]);
        assert!(!r.has_ties());
    }
}
