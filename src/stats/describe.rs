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

/// The count, sum and sum of squares of values written with at most one decimal place (as
/// scores are), in tenths: integers, so exact whatever the order the values come in, and two
/// tables of them add up exactly (the parts of a walk on two threads).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TenthSums {
    n: u64,
    /// Σ 10x.
    sum: i64,
    /// Σ (10x)².
    squares: u128,
}

/// Values a [`TenthSums`] takes are below this in magnitude (2^19: every score of a clinical
/// scale), so that 2^32 of them sum to less than 2^55 tenths and their squares to less than
/// 2^79.
const TENTH_SUMS_MAX: f64 = (1u64 << 19) as f64;

impl TenthSums {
    /// `10x` when `x` is the double nearest a number of tenths (a number written with at most
    /// one decimal place, as 6.3) of magnitude below 2^19; None otherwise (NaN and infinities
    /// too). That number, not the double near it, is what the sums hold: the two differ by
    /// less than half a unit in the double's last place.
    pub fn tenths(x: f64) -> Option<i64> {
        // 10x to the nearest whole number: adding and taking away 1.5·2^52 leaves no bit
        // below the units (|10x| < 2^23 here), a call to `round` fewer on every score.
        const SHIFT: f64 = 6_755_399_441_055_744.0;
        let t = (x * 10.0 + SHIFT) - SHIFT;
        (x.abs() < TENTH_SUMS_MAX && t / 10.0 == x).then_some(t as i64)
    }

    /// Adds a value given as its [`TenthSums::tenths`].
    pub fn add(&mut self, tenths: i64) {
        self.n += 1;
        self.sum += tenths;
        self.squares += u128::from(tenths.unsigned_abs()).pow(2);
    }

    /// Adds the values `other` holds.
    pub fn merge(&mut self, other: &TenthSums) {
        self.n += other.n;
        self.sum += other.sum;
        self.squares += other.squares;
    }

    /// Adds each of `from` to the one at the same place of `to` (made longer as needed).
    pub fn merge_all(to: &mut Vec<TenthSums>, from: &[TenthSums]) {
        if to.len() < from.len() {
            to.resize(from.len(), TenthSums::default());
        }
        for (a, b) in to.iter_mut().zip(from) {
            a.merge(b);
        }
    }

    /// How many values were added.
    pub fn n(&self) -> usize {
        self.n as usize
    }

    /// The mean and variance of the values: the exact ones (`Σ10x / 10n`, and `(n·Σ(10x)² −
    /// (Σ10x)²) / 100n(n − 1)` in integers), each rounded once to the nearest double. R's
    /// `mean` of the doubles read is within a unit or two in the last place of the mean;
    /// its `var` differs from the variance of the numbers as written by about |x|·2⁻⁵³
    /// over their spread, relatively (1.1e-14 for `var(c(6.3, 6.4))`: the two doubles are
    /// 0.10000000000000053 apart).
    pub fn moments(&self) -> Moments {
        let n = u128::from(self.n);
        let mean = (n > 0).then(|| {
            let m = ratio(u128::from(self.sum.unsigned_abs()), 10 * n);
            if self.sum < 0 {
                -m
            } else {
                m
            }
        });
        let var = (n >= 2).then(|| {
            // n·Σ(10x)² ≥ (Σ10x)² (Cauchy–Schwarz), both exact in 128 bits.
            let deviations = n * self.squares - u128::from(self.sum.unsigned_abs()).pow(2);
            ratio(deviations, 100 * n * (n - 1))
        });
        Moments {
            n: self.n as usize,
            mean,
            var,
        }
    }
}

/// `num / den` rounded once to the nearest double (ties to even): the quotient worked out to
/// 56 or 57 bits in integers, the bits beyond the double's 53 and whether anything remained
/// deciding the rounding. (A denominator of 2^71 or more, which no count of values here
/// reaches, is divided as doubles instead: within 1.5 units in the last place.)
fn ratio(num: u128, den: u128) -> f64 {
    let bits = |x: u128| 128 - i64::from(x.leading_zeros());
    if num == 0 || den == 0 || bits(den) > 71 {
        return num as f64 / den as f64;
    }
    // Scale so that the quotient has 56 or 57 bits: q = ⌊num·2^shift / den⌋ (or ⌊num /
    // (den·2^−shift)⌋), from 2^55 to below 2^57.
    let shift = 56 - (bits(num) - bits(den));
    let (n, d) = if shift >= 0 {
        (num << shift, den)
    } else {
        (num, den << -shift)
    };
    let (mut q, rest) = (n / d, n % d);
    let extra = bits(q) - 53;
    let dropped = q & ((1 << extra) - 1);
    let half = 1u128 << (extra - 1);
    q >>= extra;
    if dropped > half || (dropped == half && (rest != 0 || q & 1 == 1)) {
        q += 1;
    }
    // q < 2^54 is exact as a double, and so is a power of two in this range: the product is
    // the rounded quotient.
    q as f64 * 2f64.powi((extra - shift) as i32)
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
        /// The quotient rounded once: what a double division gives where it is exact in
        /// its operands (both below 2^53), and the same for the operands scaled up alike.
        #[test]
        fn ratio_is_the_quotient_rounded_once(
            num in 0u64..(1 << 53),
            den in 1u64..(1 << 53),
            up in 0u32..19,
            more in 0u32..75,
        ) {
            let expected = num as f64 / den as f64;
            prop_assert_eq!(ratio(u128::from(num), u128::from(den)).to_bits(), expected.to_bits());
            // Both scaled alike (up to the largest denominators it takes), and the
            // numerator alone (the quotient scaled by a power of two, exactly).
            let scaled = ratio(u128::from(num) << up, u128::from(den) << up);
            prop_assert_eq!(scaled.to_bits(), expected.to_bits());
            let larger = ratio(u128::from(num) << more, u128::from(den));
            prop_assert_eq!(larger.to_bits(), (expected * 2f64.powi(more as i32)).to_bits());
        }

        /// Exact halfway cases round to even; a remainder past the halfway point rounds up;
        /// a denominator of 2^71 or more is divided as doubles.
        #[test]
        fn ratio_rounds_ties_to_even(k in 0u32..60) {
            let two53 = 1u128 << 53;
            let at = |num: u128, den: u128| ratio(num << k, den << k);
            prop_assert_eq!(at(two53 + 1, 1), 2f64.powi(53));
            prop_assert_eq!(at(two53 + 3, 1), 2f64.powi(53) + 4.0);
            prop_assert_eq!(at(2 * two53 + 3, 2), 2f64.powi(53) + 2.0);
            prop_assert_eq!(at(4 * two53 + 5, 4), 2f64.powi(53) + 2.0);
            prop_assert_eq!(ratio(1u128 << 120, 1u128 << (71 + k % 40)), 2f64.powi(49 - (k % 40) as i32));
        }

        /// Exact sums give the two-pass mean and variance (to 1e-9: the two-pass ones lose
        /// digits where large values cancel, as ±524,287.5 here), whatever the order of the
        /// values, and the sums of two parts add up to those of the whole.
        #[test]
        fn tenth_sums_give_the_moments(
            x in prop::collection::vec(prop_oneof![
                (0i32..=100).prop_map(|k| f64::from(k) / 10.0),
                (-200i32..=200).prop_map(f64::from),
                Just(524_287.9), Just(-524_287.5),
            ], 0..300),
            cut in any::<prop::sample::Index>(),
        ) {
            let sums = |x: &[f64]| {
                let mut s = TenthSums::default();
                for &v in x {
                    s.add(TenthSums::tenths(v).unwrap_or(i64::MAX / 4));
                }
                s
            };
            let whole = sums(&x);
            let at = if x.is_empty() { 0 } else { cut.index(x.len()) };
            let mut parts = sums(&x[..at]);
            parts.merge(&sums(&x[at..]));
            prop_assert_eq!(parts, whole);
            let mut reversed = x.clone();
            reversed.reverse();
            prop_assert_eq!(sums(&reversed), whole);
            let (exact, two_pass) = (whole.moments(), moments(&x));
            prop_assert_eq!(exact.n, two_pass.n);
            let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
                (a, b) => a.is_none() && b.is_none(),
            };
            prop_assert!(close(exact.mean, two_pass.mean), "{:?} {:?}", exact, two_pass);
            prop_assert!(close(exact.var, two_pass.var), "{:?} {:?}", exact, two_pass);
        }

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
    fn tenth_sums_take_numbers_of_tenths_only() {
        assert_eq!(TenthSums::tenths(3.5), Some(35));
        assert_eq!(TenthSums::tenths(6.3), Some(63));
        assert_eq!(TenthSums::tenths(-2.0), Some(-20));
        assert_eq!(
            TenthSums::tenths(0.1 + 0.2),
            None,
            "0.30000000000000004 is not 0.3"
        );
        assert_eq!(TenthSums::tenths(0.0), Some(0));
        assert_eq!(TenthSums::tenths(-0.0), Some(0));
        for x in [0.25, 6.35, f64::NAN, f64::INFINITY, 524_288.0, -524_288.0] {
            assert_eq!(TenthSums::tenths(x), None, "{x}");
        }
        // Known moments: 0.1, 0.2, 0.4 (mean 7/30, variance 7/300); one value has none.
        let mut s = TenthSums::default();
        [1, 2, 4].into_iter().for_each(|t| s.add(t));
        assert_eq!(s.moments().mean, Some(7.0 / 30.0));
        assert_eq!(s.moments().var, Some(7.0 / 300.0));
        let mut one = TenthSums::default();
        one.add(-15);
        assert_eq!((one.moments().mean, one.moments().var), (Some(-1.5), None));
        assert_eq!(TenthSums::default().moments().mean, None);
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
