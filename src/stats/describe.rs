//! Descriptive statistics: mean, standard deviation and type-7 quantiles
//! (quartiles), as R's `mean`, `sd` and `quantile`.

use super::{finite, BuildBits};

/// Sum with Neumaier's compensation, standing in for the extended precision
/// (`long double`) accumulator that R uses in `mean` and `var`; one value at a time, so that
/// a caller can add values as it gathers them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sum {
    sum: f64,
    compensation: f64,
}

impl Sum {
    /// Adds `v` after the values added so far.
    pub fn add(&mut self, v: f64) {
        let t = self.sum + v;
        if self.sum.abs() >= v.abs() {
            self.compensation += (self.sum - t) + v;
        } else {
            self.compensation += (v - t) + self.sum;
        }
        self.sum = t;
    }

    /// The sum of the values added.
    pub fn total(self) -> f64 {
        self.sum + self.compensation
    }

    /// The [`Sum`] of `values`, in order.
    pub fn of(values: impl Iterator<Item = f64>) -> Sum {
        let mut sum = Sum::default();
        for v in values {
            sum.add(v);
        }
        sum
    }
}

/// Arithmetic mean; `None` for an empty slice or a non-finite result.
///
/// # Formula
///
/// `m₀ = Σxᵢ / n`, then one refinement pass `m = m₀ + Σ(xᵢ - m₀) / n`.
///
/// # References
///
/// R's `src/main/summary.c` (`rsum`/`real_mean`).
///
/// R: `mean(x)`.
pub fn mean(x: &[f64]) -> Option<f64> {
    mean_with(x, Sum::of(x.iter().copied()))
}

/// [`mean`] of `x`, given the [`Sum`] of its values in order (added while they were
/// gathered: the same number, one pass fewer).
pub fn mean_with(x: &[f64], sum: Sum) -> Option<f64> {
    let mut passes = Passes::after_first(x.len(), sum);
    if passes.first.is_some() {
        x.iter().for_each(|&v| passes.second(v));
    }
    passes.end_second();
    passes.mean
}

/// Sample variance with denominator `n - 1`; `None` for `n < 2`.
///
/// # Formula
///
/// `s² = Σ(xᵢ - x̄)² / (n - 1)` (two-pass, with the mean of [`mean`]).
///
/// # References
///
/// R's `src/library/stats/src/cov.c`.
///
/// R: `var(x)`.
pub fn var(x: &[f64]) -> Option<f64> {
    moments(x).var
}

/// The mean and variance of a sample, computed once for callers that need both.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// Number of values.
    pub n: usize,
    /// As [`mean`].
    pub mean: Option<f64>,
    /// As [`var`].
    pub var: Option<f64>,
}

/// [`mean`] and [`var`] of `x`, with the mean computed once (the same values as the two
/// functions give).
pub fn moments(x: &[f64]) -> Moments {
    moments_with(x, Sum::of(x.iter().copied()))
}

/// [`moments`] of `x`, given the [`Sum`] of its values in order (as [`mean_with`]).
pub fn moments_with(x: &[f64], sum: Sum) -> Moments {
    let mut passes = Passes::after_first(x.len(), sum);
    if passes.first.is_some() {
        x.iter().for_each(|&v| passes.second(v));
    }
    passes.end_second();
    if passes.mean.is_some() && x.len() >= 2 {
        x.iter().for_each(|&v| passes.third(v));
    }
    passes.moments()
}

/// [`moments`] of values that are walked three times instead of held (each walk giving the
/// values in the same order): `first` on every value, `end_first`, `second` on every value,
/// `end_second`, `third` on every value, then `moments` gives what [`moments`] gives for
/// them, to the bit. [`mean_with`] and [`moments_with`] are these passes over a slice.
#[derive(Debug, Clone, Copy, Default)]
pub struct Passes {
    n: usize,
    sum: Sum,
    /// `Σx / n` once the first walk is over; None for no value or a sum that is not finite.
    first: Option<f64>,
    correction: Sum,
    mean: Option<f64>,
    squares: Sum,
}

impl Passes {
    /// After a first walk that counted `n` values and added them to `sum`.
    pub fn after_first(n: usize, sum: Sum) -> Passes {
        let mut passes = Passes {
            n,
            sum,
            ..Passes::default()
        };
        passes.end_first();
        passes
    }

    /// The first walk: counts and adds `v`.
    pub fn first(&mut self, v: f64) {
        self.n += 1;
        self.sum.add(v);
    }

    pub fn end_first(&mut self) {
        self.first = Some(self.sum.total() / self.n as f64).filter(|f| self.n > 0 && f.is_finite());
    }

    /// The second walk: the refinement of the mean.
    pub fn second(&mut self, v: f64) {
        if let Some(first) = self.first {
            self.correction.add(v - first);
        }
    }

    pub fn end_second(&mut self) {
        self.mean =
            (self.first).and_then(|first| finite(first + self.correction.total() / self.n as f64));
    }

    /// The third walk: the squared deviations from the mean.
    pub fn third(&mut self, v: f64) {
        if let Some(m) = self.mean {
            self.squares.add((v - m) * (v - m));
        }
    }

    /// How many values the first walk counted.
    pub fn n(&self) -> usize {
        self.n
    }

    pub fn moments(&self) -> Moments {
        let var = (self.mean)
            .filter(|_| self.n >= 2)
            .and_then(|_| finite(self.squares.total() / (self.n - 1) as f64));
        Moments {
            n: self.n,
            mean: self.mean,
            var,
        }
    }
}

/// Sample standard deviation with denominator `n - 1`; `None` for `n < 2`.
///
/// # Formula
///
/// `s = √(Σ(xᵢ - x̄)² / (n - 1))`.
///
/// # References
///
/// R's `src/library/stats/src/cov.c`.
///
/// R: `sd(x)`.
pub fn sd(x: &[f64]) -> Option<f64> {
    var(x).map(f64::sqrt)
}

/// Quantile of an ascending-sorted sample by Hyndman & Fan's type 7 (R's
/// default); `None` when the sample is empty, contains NaN, or `p` is not in
/// `[0, 1]`.
///
/// # Formula
///
/// `h = 1 + (n - 1)p`, `lo = ⌊h⌋`, `hi = ⌈h⌉`;
/// `Q(p) = (1 - (h - lo)) · x₍lo₎ + (h - lo) · x₍hi₎` (1-based order
/// statistics), written in that form as R does.
///
/// # References
///
/// Hyndman, R. J. & Fan, Y. (1996). Sample quantiles in statistical
/// packages. *The American Statistician* 50(4), 361–365.
///
/// R: `quantile(x, p, type = 7)`.
pub fn quantile_type7(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.iter().any(|v| v.is_nan()) {
        return None;
    }
    quantile_type7_at(sorted.len(), p, |i| sorted[i])
}

/// [`quantile_type7`] of `n` sorted values, none NaN, without the values themselves: `at(i)`
/// gives the one at (0-based) place `i` in order. The same arithmetic on the same values,
/// so the same bits (for values counted rather than sorted).
pub fn quantile_type7_at(n: usize, p: f64, at: impl Fn(usize) -> f64) -> Option<f64> {
    if n == 0 || !(0.0..=1.0).contains(&p) {
        return None;
    }
    let index = 1.0 + (n - 1) as f64 * p;
    let lo = index.floor();
    let hi = index.ceil();
    // 1-based lo/hi are in 1..=n because p is in [0, 1].
    let x_lo = at(lo as usize - 1);
    let x_hi = at(hi as usize - 1);
    if index > lo && x_hi != x_lo {
        let h = index - lo;
        Some((1.0 - h) * x_lo + h * x_hi)
    } else {
        Some(x_lo)
    }
}

/// First quartile, median and third quartile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quartiles {
    /// 25% quantile.
    pub q1: f64,
    /// 50% quantile.
    pub median: f64,
    /// 75% quantile.
    pub q3: f64,
}

/// Type-7 quartiles of an unsorted sample (sorts a copy); `None` when the
/// sample is empty or contains NaN.
///
/// # Formula
///
/// [`quantile_type7`] at `p = 0.25, 0.5, 0.75`.
///
/// # References
///
/// Hyndman & Fan (1996), as for [`quantile_type7`].
///
/// R: `quantile(x, c(0.25, 0.5, 0.75))`.
pub fn quartiles(x: &[f64]) -> Option<Quartiles> {
    let mut sorted = x.to_vec();
    sort_total(&mut sorted);
    quartiles_sorted(&sorted)
}

/// Sorts `x` by `f64::total_cmp`: the order `x.sort_unstable_by(f64::total_cmp)` gives
/// (values equal under total_cmp have the same bits, so any such sort gives the same
/// numbers). Scores and their changes take few distinct values: halves (whole and half
/// points) are counted in a table indexed by the value, other values in a hash table while
/// there are at most 256 of them, and written back in order, one pass instead of a sort's
/// many; past 256 distinct values it sorts.
pub fn sort_total(x: &mut [f64]) {
    if !count_halves(x) {
        count_few(x);
    }
}

/// Halves of magnitude below 256 (every score and change of a whole-number or half-point
/// scale is one) take this many places: slot `2v + HALVES / 2`.
const HALVES: usize = 1024;

/// [`sort_total`] of values that are all halves of magnitude below 256 (-0 counted apart):
/// counted in a table indexed by the value, no hashing. False, leaving `x` as it was, when
/// any value is not such a half.
fn count_halves(x: &mut [f64]) -> bool {
    let mut counts = vec![0usize; HALVES];
    let mut negative_zeros = 0;
    for &v in x.iter() {
        let twice = v * 2.0;
        // (false for NaN too)
        if !(twice.abs() < (HALVES / 2) as f64 && twice == twice.trunc()) {
            return false;
        }
        let slot = twice as i64 + (HALVES / 2) as i64;
        if v == 0.0 && v.is_sign_negative() {
            negative_zeros += 1;
        } else {
            counts[slot as usize] += 1;
        }
    }
    // -0 sorts before 0 (total_cmp), after every negative value.
    let zero = HALVES / 2;
    let mut at = 0;
    let mut fill = |v: f64, n: usize| {
        x[at..at + n].fill(v);
        at += n;
    };
    for (slot, &n) in counts.iter().enumerate().take(zero) {
        fill((slot as f64 - zero as f64) / 2.0, n);
    }
    fill(-0.0, negative_zeros);
    for (slot, &n) in counts.iter().enumerate().skip(zero) {
        fill((slot - zero) as f64 / 2.0, n);
    }
    true
}

/// [`sort_total`] by counting the distinct values in a table when there are few of them
/// (a sort otherwise).
fn count_few(x: &mut [f64]) {
    const FEW: usize = 256;
    let mut counts: std::collections::HashMap<u64, usize, BuildBits> = Default::default();
    for v in x.iter() {
        *counts.entry(v.to_bits()).or_insert(0) += 1;
        if counts.len() > FEW {
            x.sort_unstable_by(f64::total_cmp);
            return;
        }
    }
    let mut distinct: Vec<(f64, usize)> = (counts.into_iter())
        .map(|(bits, n)| (f64::from_bits(bits), n))
        .collect();
    distinct.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut at = 0;
    for (v, n) in distinct {
        x[at..at + n].fill(v);
        at += n;
    }
}

/// [`quartiles`] of a sample already sorted by `f64::total_cmp`.
pub fn quartiles_sorted(sorted: &[f64]) -> Option<Quartiles> {
    if sorted.iter().any(|v| v.is_nan()) {
        return None;
    }
    quartiles_at(sorted.len(), |i| sorted[i])
}

/// [`quartiles_sorted`] of `n` sorted values, none NaN, read at their places by `at` (as
/// [`quantile_type7_at`] reads them).
pub fn quartiles_at(n: usize, at: impl Fn(usize) -> f64) -> Option<Quartiles> {
    Some(Quartiles {
        q1: quantile_type7_at(n, 0.25, &at)?,
        median: quantile_type7_at(n, 0.5, &at)?,
        q3: quantile_type7_at(n, 0.75, &at)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Counting few distinct values gives the very bits a sort gives: halves (both
        /// zeros, up to and past the table's ±256), other values, past 256 distinct values
        /// (where it sorts), infinities and NaNs.
        #[test]
        fn sort_total_gives_what_sorting_gives(
            few in prop::collection::vec(prop_oneof![
                (-10i32..=10).prop_map(|k| f64::from(k) / 2.0),
                Just(0.0), Just(-0.0), Just(f64::INFINITY), Just(f64::NEG_INFINITY),
                Just(f64::NAN), Just(-f64::NAN),
            ], 0..400),
            many in prop::collection::vec(any::<f64>(), 0..400),
            halves in prop::collection::vec(prop_oneof![
                (-520i32..=520).prop_map(|k| f64::from(k) / 2.0),
                Just(-0.0), Just(0.0),
            ], 0..400),
        ) {
            let more = [few.clone(), (0..300).map(f64::from).collect()].concat();
            for x in [few, many, more, halves] {
                let mut expected = x.clone();
                expected.sort_unstable_by(f64::total_cmp);
                let mut sorted = x;
                sort_total(&mut sorted);
                let bits = |v: &[f64]| v.iter().map(|t| t.to_bits()).collect::<Vec<_>>();
                prop_assert_eq!(bits(&sorted), bits(&expected));
            }
        }
    }

    #[test]
    fn mean_and_sd_of_small_samples() {
        assert_eq!(mean(&[]), None);
        assert_eq!(mean(&[2.0, 4.0, 9.0]), Some(5.0));
        assert_eq!(sd(&[1.0]), None);
        assert_eq!(
            sd(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]),
            Some((32.0f64 / 7.0).sqrt())
        );
        assert_eq!(sd(&[3.0, 3.0]), Some(0.0));
    }

    #[test]
    fn mean_is_accurate_with_large_offset() {
        let x = [1e9 + 0.1, 1e9 + 0.2, 1e9 + 0.3];
        assert!((mean(&x).unwrap() - (1e9 + 0.2)).abs() < 1e-6);
        assert!((sd(&x).unwrap() - 0.1).abs() < 1e-6);
    }

    #[test]
    fn type7_quantiles_match_r() {
        // quantile(c(1, 2, 3, 4)) -> 1.75 2.5 3.25
        let q = quartiles(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((q.q1, q.median, q.q3), (1.75, 2.5, 3.25));
        // quantile(c(7)) -> 7 7 7
        let q = quartiles(&[7.0]).unwrap();
        assert_eq!((q.q1, q.median, q.q3), (7.0, 7.0, 7.0));
        assert_eq!(quantile_type7(&[1.0, 2.0], 0.0), Some(1.0));
        assert_eq!(quantile_type7(&[1.0, 2.0], 1.0), Some(2.0));
        assert_eq!(quantile_type7(&[1.0, 2.0], 1.5), None);
        assert_eq!(quartiles(&[]), None);
        assert_eq!(quartiles(&[1.0, f64::NAN]), None);
    }
}
