//! Log-rank (Mantel–Haenszel) test comparing survival between groups, as
//! R's `survival::survdiff(Surv(time, event) ~ group)`.

use super::dist::{pchisq, Tail};
use super::kaplan_meier::{TimeTally, NO_TIME};
use super::tolerance::SOLVE_RECIPROCAL_CONDITION;

/// Result of a log-rank test.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRank {
    /// Chi-square statistic.
    pub chisq: f64,
    /// Degrees of freedom: groups with a positive expected count, minus 1.
    pub df: usize,
    /// Upper-tail chi-square p-value.
    pub p: f64,
    /// Observed events per group index (`0..=max(groups)`).
    pub observed: Vec<f64>,
    /// Expected events per group index under the null hypothesis.
    pub expected: Vec<f64>,
}

/// Log-rank test (`rho = 0`) of equal survival across groups.
///
/// `groups[i]` is the group index (0-based) of observation `i`; `events[i]`
/// is `true` for an event. Observations with a NaN time are dropped, and
/// nearly equal times are merged as R's `aeqSurv` does
/// ([`tie_nearly_equal_times`]). Groups whose expected count is 0 (no one
/// at risk at any event time, e.g. an unused index) are left out of the
/// test, as `survdiff` does. With exactly one group left (and two or more
/// compared) the result is survdiff's "no test": chi-square 0 on 0 df, p 1.
/// `None` when there is no event, fewer than two groups are compared, or
/// when the variance matrix is singular (R: an error from `solve`, which
/// also refuses a reciprocal condition number below machine epsilon).
///
/// # Formula
///
/// At each distinct event time with `n` at risk (`n_k` in group `k`) and
/// `d` events: `E_k += d n_k / n` and, for `n > 1`,
/// `V_kl += d (n - d) / (n (n - 1)) · n_k (δ_kl - n_l / n)`.
/// With `U = O - E` restricted to the groups with `E_k > 0`, dropping the
/// first of them (which makes `V` invertible; the result equals
/// `U' V⁻ U` with a generalized inverse), `χ² = U' V⁻¹ U` on
/// `(#groups with E_k > 0) - 1` degrees of freedom. Above 200 groups with
/// few event times `V` is solved by the Woodbury identity ([`LowRank`]).
///
/// # References
///
/// Mantel, N. (1966). Evaluation of survival data and two new rank order
/// statistics arising in its consideration. *Cancer Chemotherapy Reports*
/// 50(3), 163–170. Peto, R. & Peto, J. (1972). Asymptotically efficient rank
/// invariant test procedures. *JRSS A* 135(2), 185–207.
///
/// R: `survival::survdiff(Surv(time, event) ~ group)` (`$chisq`, and
/// `pchisq(chisq, df, lower.tail = FALSE)` as `print.survdiff` shows).
///
/// # Panics
///
/// If `times`, `events` and `groups` differ in length.
pub fn logrank(times: &[f64], events: &[bool], groups: &[usize]) -> Option<LogRank> {
    assert!(
        times.len() == events.len() && times.len() == groups.len(),
        "times, events and groups must have the same length"
    );
    let tally = TimeTally::of(times);
    let kept = || (0..times.len()).filter(|&i| tally.of[i] != NO_TIME);
    let n_groups = kept().map(|i| groups[i]).max()? + 1;
    // The observations in order of time: counted by time, then placed (no comparison sort).
    let mut ends = vec![0usize; tally.times.len() + 1];
    for i in kept() {
        ends[tally.of[i] as usize + 1] += 1;
    }
    for t in 1..ends.len() {
        ends[t] += ends[t - 1];
    }
    let mut next = ends.clone();
    let mut order = vec![0usize; ends[ends.len() - 1]];
    for i in kept() {
        let t = tally.of[i] as usize;
        order[next[t]] = i;
        next[t] += 1;
    }

    let mut observed = vec![0.0; n_groups];
    let mut expected = vec![0.0; n_groups];
    // Every event time adds c (diag(r) − r rᵀ / n) to the variance matrix (r: the groups'
    // numbers at risk). With hundreds of groups and few such times (a registry's
    // conditions; injections as time) the matrix is kept as those terms and solved by the
    // Woodbury identity ([`LowRank`]), not built and factored (groups³ work, groups² memory).
    let terms = {
        let mut deaths = vec![0usize; tally.times.len()];
        kept()
            .filter(|&i| events[i])
            .for_each(|i| deaths[tally.of[i] as usize] += 1);
        (0..deaths.len())
            .filter(|&t| {
                let n = order.len() - ends[t];
                deaths[t] > 0 && n > 1 && n > deaths[t]
            })
            .count()
    };
    let low_rank = n_groups > EXACT_INVERSE_NORM + 1 && terms * LOW_RANK <= n_groups;
    let mut var = vec![vec![0.0; if low_rank { 0 } else { n_groups }]; n_groups];
    let mut factors: Vec<Term> = Vec::new();
    let mut risk = vec![0.0; n_groups];
    // Walk the distinct times from the last to the first, as survdiff2.c.
    for t in (0..tally.times.len()).rev() {
        let (start, end) = (ends[t], ends[t + 1]);
        let mut deaths = 0.0;
        for &i in &order[start..end] {
            risk[groups[i]] += 1.0;
            if events[i] {
                deaths += 1.0;
                observed[groups[i]] += 1.0;
            }
        }
        let n_risk = (order.len() - start) as f64;
        if deaths == 0.0 {
            continue;
        }
        for k in 0..n_groups {
            expected[k] += deaths * risk[k] / n_risk;
        }
        if n_risk == 1.0 {
            continue;
        }
        if low_rank {
            if n_risk > deaths {
                factors.push(Term {
                    deaths,
                    n: n_risk,
                    risk: risk.clone(),
                });
            }
            continue;
        }
        for j in 0..n_groups {
            let tmp = deaths * risk[j] * (n_risk - deaths) / (n_risk * (n_risk - 1.0));
            var[j][j] += tmp;
            for k in 0..n_groups {
                var[j][k] -= tmp * risk[k] / n_risk;
            }
        }
    }

    let tested: Vec<usize> = (0..n_groups).filter(|&k| expected[k] > 0.0).collect();
    if tested.len() < 2 {
        // survdiff: with fewer than two groups expecting an event it reports chi-square 0
        // ("no test") on (such groups − 1) df: p 1 with one such group, NaN with none (no
        // event at all).
        let mut present = vec![false; n_groups];
        kept().for_each(|i| present[groups[i]] = true);
        let compared = present.iter().filter(|p| **p).count() >= 2;
        return (tested.len() == 1 && compared).then_some(LogRank {
            chisq: 0.0,
            df: 0,
            p: 1.0,
            observed,
            expected,
        });
    }
    let df = tested.len() - 1;
    let u: Vec<f64> = tested[1..]
        .iter()
        .map(|&k| observed[k] - expected[k])
        .collect();
    let set = &tested[1..];
    let solution =
        if low_rank && set.len() > EXACT_INVERSE_NORM && factors.len() * LOW_RANK <= set.len() {
            LowRank::new(&factors, set)?.solve_checked(&u)?
        } else if low_rank {
            // Fewer groups expect an event than the indices suggested: the matrix from the terms,
            // entry by entry as the loop above builds it.
            let v: Vec<Vec<f64>> = (set.iter())
                .map(|&j| {
                    (set.iter())
                        .map(|&k| {
                            let mut v = 0.0;
                            for t in &factors {
                                let tmp =
                                    t.deaths * t.risk[j] * (t.n - t.deaths) / (t.n * (t.n - 1.0));
                                if j == k {
                                    v += tmp;
                                }
                                v -= tmp * t.risk[k] / t.n;
                            }
                            v
                        })
                        .collect()
                })
                .collect();
            solve(v, &u)?
        } else {
            let v: Vec<Vec<f64>> = tested[1..]
                .iter()
                .map(|&j| tested[1..].iter().map(|&k| var[j][k]).collect())
                .collect();
            solve(v, &u)?
        };
    let chisq: f64 = solution.iter().zip(&u).map(|(s, u)| s * u).sum();
    if !chisq.is_finite() {
        return None;
    }
    Some(LogRank {
        chisq,
        df,
        p: pchisq(chisq, df as f64, Tail::Upper),
        observed,
        expected,
    })
}

/// LU factorization with partial pivoting, `P A = L U` (the factorization
/// LAPACK's `dgesv` uses behind R's `solve`), stored in one matrix.
struct Lu {
    factors: Vec<Vec<f64>>,
    /// `rows[i]` is the row of `A` that ended up in row `i`.
    rows: Vec<usize>,
}

impl Lu {
    /// `None` when a pivot is exactly zero (R: "exactly singular").
    fn factor(mut a: Vec<Vec<f64>>) -> Option<Lu> {
        let n = a.len();
        let mut rows: Vec<usize> = (0..n).collect();
        for col in 0..n {
            let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
            if a[pivot][col] == 0.0 {
                return None;
            }
            a.swap(col, pivot);
            rows.swap(col, pivot);
            let (done, rest) = a.split_at_mut(col + 1);
            let pivot_row = &done[col];
            for row in rest.iter_mut() {
                let factor = row[col] / pivot_row[col];
                row[col] = factor;
                for (target, &p) in row[col + 1..].iter_mut().zip(&pivot_row[col + 1..]) {
                    *target -= factor * p;
                }
            }
        }
        Some(Lu { factors: a, rows })
    }

    /// Solves `Aᵀ z = b` (`P A = L U`, so `Aᵀ = Uᵀ Lᵀ P`).
    fn solve_transpose(&self, b: &[f64]) -> Vec<f64> {
        let n = b.len();
        let lu = &self.factors;
        let mut w = b.to_vec();
        for i in 0..n {
            let before: f64 = (0..i).map(|k| lu[k][i] * w[k]).sum();
            w[i] = (w[i] - before) / lu[i][i];
        }
        for i in (0..n).rev() {
            let after: f64 = (i + 1..n).map(|k| lu[k][i] * w[k]).sum();
            w[i] -= after;
        }
        let mut z = vec![0.0; n];
        for (i, &r) in self.rows.iter().enumerate() {
            z[r] = w[i];
        }
        z
    }

    /// Hager's estimate of the 1-norm of `A⁻¹` ([`inverse_norm_estimate`]).
    fn inverse_norm_estimate(&self) -> f64 {
        inverse_norm_estimate(
            self.rows.len(),
            |b| self.solve(b),
            |b| self.solve_transpose(b),
        )
    }

    /// Solves `A x = b`.
    fn solve(&self, b: &[f64]) -> Vec<f64> {
        let n = b.len();
        let lu = &self.factors;
        let mut y: Vec<f64> = self.rows.iter().map(|&r| b[r]).collect();
        for row in 0..n {
            let below: f64 = (0..row).map(|k| lu[row][k] * y[k]).sum();
            y[row] -= below;
        }
        for row in (0..n).rev() {
            let beyond: f64 = (row + 1..n).map(|k| lu[row][k] * y[k]).sum();
            y[row] = (y[row] - beyond) / lu[row][row];
        }
        y
    }
}

/// Hager's (1984) estimate of the 1-norm of `A⁻¹` (`n` × `n`), a lower bound, usually exact:
/// at most five steps of two solves each, `A x = b` and `Aᵀ z = b` (Higham 1988, the method
/// of LAPACK's `dlacon`).
fn inverse_norm_estimate(
    n: usize,
    solve: impl Fn(&[f64]) -> Vec<f64>,
    solve_transpose: impl Fn(&[f64]) -> Vec<f64>,
) -> f64 {
    let mut x = vec![1.0 / n as f64; n];
    let mut estimate = 0.0;
    for _ in 0..5 {
        let y = solve(&x);
        estimate = y.iter().map(|v| v.abs()).sum::<f64>();
        let signs: Vec<f64> = y
            .iter()
            .map(|v| if *v >= 0.0 { 1.0 } else { -1.0 })
            .collect();
        let z = solve_transpose(&signs);
        let zx: f64 = z.iter().zip(&x).map(|(a, b)| a * b).sum();
        let (j, largest) = (z.iter().enumerate())
            .map(|(j, v)| (j, v.abs()))
            .fold((0, f64::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
        if largest <= zx {
            break;
        }
        x = vec![0.0; n];
        x[j] = 1.0;
    }
    estimate
}

/// One event time's term of the variance matrix: `c (diag(r) − r rᵀ / n)`, with
/// `c = d (n − d) / (n (n − 1))`, `n` at risk, `d` events and `r` the groups' numbers at risk.
struct Term {
    deaths: f64,
    n: f64,
    risk: Vec<f64>,
}

impl Term {
    fn c(&self) -> f64 {
        self.deaths * (self.n - self.deaths) / (self.n * (self.n - 1.0))
    }
}

/// The low-rank path is taken when the groups number at least this many times the event
/// times with a term (and more than [`EXACT_INVERSE_NORM`]).
const LOW_RANK: usize = 8;

/// The variance matrix of the groups `set`, `V = D − R W Rᵀ` (`D = Σ c diag(r)`, `R` the
/// times' numbers at risk as columns, `W = diag(c / n)`), solved by the Woodbury identity
/// `V⁻¹ = D⁻¹ + D⁻¹ R (W⁻¹ − Rᵀ D⁻¹ R)⁻¹ Rᵀ D⁻¹`: a solve costs groups × times, and the
/// times × times matrix `S = W⁻¹ − Rᵀ D⁻¹ R` is factored once.
struct LowRank {
    d: Vec<f64>,
    /// `r[t][j]`: at risk in group `set[j]` at the `t`-th term's time.
    r: Vec<Vec<f64>>,
    w: Vec<f64>,
    s: Lu,
}

impl LowRank {
    /// `None` when `V` is singular: a group with no term (a row of zeros), or `S` singular
    /// (`det V = det D · det W · det S`).
    fn new(terms: &[Term], set: &[usize]) -> Option<LowRank> {
        let r: Vec<Vec<f64>> = (terms.iter())
            .map(|t| set.iter().map(|&k| t.risk[k]).collect())
            .collect();
        let mut d = vec![0.0; set.len()];
        for (t, rt) in terms.iter().zip(&r) {
            for (dj, rj) in d.iter_mut().zip(rt) {
                *dj += t.c() * rj;
            }
        }
        if d.iter().any(|dj| *dj <= 0.0) {
            return None;
        }
        let w: Vec<f64> = terms.iter().map(|t| t.c() / t.n).collect();
        let s: Vec<Vec<f64>> = (0..terms.len())
            .map(|a| {
                (0..terms.len())
                    .map(|b| {
                        let cross: f64 = (r[a].iter().zip(&r[b]).zip(&d))
                            .map(|((x, y), dj)| x * y / dj)
                            .sum();
                        if a == b {
                            1.0 / w[a] - cross
                        } else {
                            -cross
                        }
                    })
                    .collect()
            })
            .collect();
        Some(LowRank {
            s: Lu::factor(s)?,
            d,
            r,
            w,
        })
    }

    /// `V x = b`.
    fn solve(&self, b: &[f64]) -> Vec<f64> {
        let mut x: Vec<f64> = b.iter().zip(&self.d).map(|(b, d)| b / d).collect();
        let z: Vec<f64> = (self.r.iter())
            .map(|rt| rt.iter().zip(&x).map(|(r, x)| r * x).sum())
            .collect();
        let q = self.s.solve(&z);
        for (j, (xj, dj)) in x.iter_mut().zip(&self.d).enumerate() {
            let back: f64 = self.r.iter().zip(&q).map(|(rt, q)| rt[j] * q).sum();
            *xj += back / dj;
        }
        x
    }

    /// `‖V‖₁`: the diagonal `D − Σ w r²` is ≥ 0 and every other entry `−Σ w r r'` ≤ 0, so a
    /// column's absolute sum is its diagonal plus `Σ w r_j (Σ_k r_k − r_j)`.
    fn norm_1(&self) -> f64 {
        let totals: Vec<f64> = self.r.iter().map(|rt| rt.iter().sum()).collect();
        (0..self.d.len())
            .map(|j| {
                let (mut diagonal, mut off) = (self.d[j], 0.0);
                for ((rt, w), total) in self.r.iter().zip(&self.w).zip(&totals) {
                    diagonal -= w * rt[j] * rt[j];
                    off += w * rt[j] * (total - rt[j]);
                }
                diagonal.abs() + off
            })
            .fold(0.0, f64::max)
    }

    /// Solves `V x = b` as [`solve`] does, with the same test of the condition number (the
    /// inverse's norm estimated; `V` is symmetric).
    fn solve_checked(&self, b: &[f64]) -> Option<Vec<f64>> {
        let inverse_norm = inverse_norm_estimate(b.len(), |x| self.solve(x), |x| self.solve(x));
        let reciprocal_condition = 1.0 / (self.norm_1() * inverse_norm);
        if reciprocal_condition.is_nan() || reciprocal_condition < SOLVE_RECIPROCAL_CONDITION {
            return None;
        }
        Some(self.solve(b))
    }
}

/// Largest matrix whose inverse's 1-norm is computed exactly (n solves, n³ work); above it
/// (hundreds of conditions) Hager's estimate is used, as LAPACK's `dgecon` (which R's `solve`
/// calls) does at every size.
const EXACT_INVERSE_NORM: usize = 200;

/// Maximum absolute column sum.
fn norm_1(columns: impl Iterator<Item = Vec<f64>>) -> f64 {
    columns
        .map(|c| c.iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max)
}

/// Solves `a x = b` as R's `solve(a, b)`: `None` when `a` is exactly
/// singular or its reciprocal 1-norm condition number is below
/// [`SOLVE_RECIPROCAL_CONDITION`] (R: "system is computationally singular").
fn solve(a: Vec<Vec<f64>>, b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    let a_norm = norm_1((0..n).map(|j| a.iter().map(|row| row[j]).collect()));
    let lu = Lu::factor(a)?;
    let inverse_norm = if n <= EXACT_INVERSE_NORM {
        norm_1((0..n).map(|j| {
            let mut unit = vec![0.0; n];
            unit[j] = 1.0;
            lu.solve(&unit)
        }))
    } else {
        lu.inverse_norm_estimate()
    };
    let reciprocal_condition = 1.0 / (a_norm * inverse_norm);
    if reciprocal_condition.is_nan() || reciprocal_condition < SOLVE_RECIPROCAL_CONDITION {
        return None;
    }
    Some(lu.solve(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::tolerance::agrees_with_reference;

    #[test]
    fn two_groups_match_hand_computation() {
        // Group 0 dies at 1 and 3, group 1 at 2 and 4 (no censoring).
        // Times 1..4: n = 4,3,2,1; group-0 at risk 2,1,1,0.
        // E0 = 2/4 + 1/3 + 1/2 + 0 = 4/3, O0 = 2.
        // V00 = 1·3/(4·3)·2·(1 - 2/4) + 1·2/(3·2)·1·(1 - 1/3)
        //     + 1·1/(2·1)·1·(1 - 1/2) = 1/4 + 2/9 + 1/4 = 13/18.
        let r = logrank(
            &[1.0, 2.0, 3.0, 4.0],
            &[true, true, true, true],
            &[0, 1, 0, 1],
        )
        .unwrap();
        assert_eq!(r.df, 1);
        let u: f64 = 2.0 - 4.0 / 3.0;
        assert!(agrees_with_reference(r.chisq, u * u / (13.0 / 18.0)));
        assert!(agrees_with_reference(r.expected[0], 4.0 / 3.0));
        assert_eq!(r.observed, vec![2.0, 2.0]);
    }

    #[test]
    fn the_inverse_norm_estimate_is_a_lower_bound_and_exact_on_these() {
        // Matrices like a log-rank variance matrix (symmetric, diagonally heavy) and a
        // non-symmetric one; the exact 1-norm of the inverse from n solves.
        let mut seed = 12345u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for n in [3, 8, 40] {
            for symmetric in [true, false] {
                let mut a: Vec<Vec<f64>> = (0..n)
                    .map(|i| {
                        let mut row: Vec<f64> = (0..n).map(|_| next() - 0.5).collect();
                        row[i] += n as f64 / 2.0;
                        row
                    })
                    .collect();
                if symmetric {
                    let upper = a.clone();
                    for (i, row) in a.iter_mut().enumerate() {
                        row[..i].copy_from_slice(&(0..i).map(|j| upper[j][i]).collect::<Vec<_>>());
                    }
                }
                let lu = Lu::factor(a.clone()).unwrap();
                let exact = norm_1((0..n).map(|j| {
                    let mut unit = vec![0.0; n];
                    unit[j] = 1.0;
                    lu.solve(&unit)
                }));
                let estimate = lu.inverse_norm_estimate();
                assert!(
                    estimate <= exact * (1.0 + 1e-12),
                    "{n}: {estimate} > {exact}"
                );
                assert!(estimate >= exact * 0.3, "{n}: {estimate} ≪ {exact}");
                // Aᵀ z = b solved: check against the transpose.
                let b: Vec<f64> = (0..n).map(|i| i as f64 - 1.0).collect();
                let z = lu.solve_transpose(&b);
                for (j, bj) in b.iter().enumerate() {
                    let row: f64 = (0..n).map(|i| a[i][j] * z[i]).sum();
                    assert!((row - bj).abs() < 1e-9, "{n}: {row} vs {bj}");
                }
            }
        }
    }

    #[test]
    fn unused_groups_are_dropped() {
        let with_gap = logrank(&[1.0, 2.0, 3.0, 4.0], &[true; 4], &[0, 2, 0, 2]).unwrap();
        assert_eq!(with_gap.df, 1);
        assert_eq!(with_gap.expected[1], 0.0);
    }

    /// Group indices beyond 200 with few groups used: the matrix is built from the kept
    /// terms entry by entry as the loop builds it, so the result is the compact one to the bit.
    #[test]
    fn sparse_indices_above_200_give_the_compact_result() {
        let times = [1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 5.0, 1.0, 2.0, 4.0, 6.0, 3.0];
        let events = [
            true, true, false, true, true, false, true, true, true, true, false, true,
        ];
        let compact = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2];
        let sparse: Vec<usize> = compact.iter().map(|g| [0, 150, 299][*g]).collect();
        let a = logrank(&times, &events, &compact).unwrap();
        let b = logrank(&times, &events, &sparse).unwrap();
        assert_eq!((a.chisq.to_bits(), a.df), (b.chisq.to_bits(), b.df));
    }

    #[test]
    fn one_group_is_none() {
        assert_eq!(logrank(&[1.0, 2.0], &[true, true], &[0, 0]), None);
        assert_eq!(logrank(&[], &[], &[]), None);
    }

    #[test]
    fn one_group_expecting_events_is_no_test_with_p_1() {
        // R: survdiff(Surv(c(1, 2), c(0, 1)) ~ c("a", "b")): "Chisq= 0 on 0 degrees of
        // freedom, p= 1" (a is censored before b's event; only b expects an event).
        let lr = logrank(&[1.0, 2.0], &[false, true], &[0, 1]).unwrap();
        assert_eq!((lr.chisq, lr.df, lr.p), (0.0, 0, 1.0));
        assert_eq!(lr.expected, [0.0, 1.0]);
        // No event at all: R's p is NaN (on -1 df).
        assert_eq!(logrank(&[1.0, 2.0], &[false, false], &[0, 1]), None);
    }

    #[test]
    fn solve_small_system() {
        let x = solve(vec![vec![0.0, 2.0], vec![4.0, 1.0]], &[2.0, 9.0]).unwrap();
        assert_eq!(x, vec![2.0, 1.0]);
        assert_eq!(
            solve(vec![vec![1.0, 2.0], vec![2.0, 4.0]], &[1.0, 2.0]),
            None
        );
    }

    /// Seeded uniform numbers in [0, 1) (a 64-bit LCG, Knuth's MMIX constants), for the
    /// random test data below.
    fn uniform(mut seed: u64) -> impl FnMut() -> f64 {
        move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// `logrank` itself on 250 groups with at most 12 event times (the Woodbury path: more
    /// than 200 groups, at least 8 per event time) against the statistic computed here the
    /// plain way: the variance matrix built in full as survdiff's formula gives it, solved
    /// by the dense LU.
    #[test]
    fn logrank_across_250_groups_equals_the_full_matrix() {
        let mut next = uniform(4242);
        let groups = 250;
        let (mut times, mut events, mut group) = (Vec::new(), Vec::new(), Vec::new());
        for g in 0..groups {
            let rate = next();
            for _ in 0..1 + (next() * 6.0) as usize {
                times.push(1.0 + (next() * 12.0).floor());
                events.push(next() < rate);
                group.push(g);
            }
        }
        let event_times: std::collections::BTreeSet<u64> = (0..times.len())
            .filter(|&i| events[i])
            .map(|i| times[i] as u64)
            .collect();
        assert!(event_times.len() * LOW_RANK < groups);
        let (mut observed, mut expected) = (vec![0.0; groups], vec![0.0; groups]);
        let mut var = vec![vec![0.0; groups]; groups];
        for &t in &event_times {
            let t = t as f64;
            let risk: Vec<f64> = (0..groups)
                .map(|g| {
                    (0..times.len())
                        .filter(|&i| group[i] == g && times[i] >= t)
                        .count() as f64
                })
                .collect();
            let dead: Vec<f64> = (0..groups)
                .map(|g| {
                    let here = |i: &usize| group[*i] == g && times[*i] == t && events[*i];
                    (0..times.len()).filter(here).count() as f64
                })
                .collect();
            let (n, d): (f64, f64) = (risk.iter().sum(), dead.iter().sum());
            let c = if n > 1.0 {
                d * (n - d) / (n * (n - 1.0))
            } else {
                0.0
            };
            for j in 0..groups {
                observed[j] += dead[j];
                expected[j] += d * risk[j] / n;
                for k in 0..groups {
                    let diagonal = if j == k { risk[j] } else { 0.0 };
                    var[j][k] += c * (diagonal - risk[j] * risk[k] / n);
                }
            }
        }
        let tested: Vec<usize> = (0..groups).filter(|&g| expected[g] > 0.0).collect();
        let u: Vec<f64> = tested[1..]
            .iter()
            .map(|&k| observed[k] - expected[k])
            .collect();
        let v: Vec<Vec<f64>> = (tested[1..].iter())
            .map(|&j| tested[1..].iter().map(|&k| var[j][k]).collect())
            .collect();
        let x = solve(v, &u).unwrap();
        let chisq: f64 = x.iter().zip(&u).map(|(x, u)| x * u).sum();
        let got = logrank(&times, &events, &group).unwrap();
        assert_eq!(got.df, tested.len() - 1);
        assert!(
            (got.chisq - chisq).abs() <= 1e-12 * chisq,
            "{} vs {chisq}",
            got.chisq
        );
    }

    /// The Woodbury path solves what the dense path solves: random terms as a log-rank test
    /// of 250 groups over 12 event times makes them; solutions, the 1-norm and the inverse's
    /// norm agree to rounding, and a group never at risk at a term's time makes `V` singular.
    #[test]
    fn the_low_rank_solve_equals_the_dense_one() {
        let mut next = uniform(777);
        let groups = 250;
        let terms: Vec<Term> = (0..12)
            .map(|_| {
                let risk: Vec<f64> = (0..groups).map(|_| (next() * 40.0).floor()).collect();
                let n: f64 = risk.iter().sum();
                let d = (next() * n / 3.0).floor().max(1.0);
                Term { deaths: d, n, risk }
            })
            .collect();
        let set: Vec<usize> = (1..groups).collect();
        // The dense matrix, as logrank builds it.
        let dense: Vec<Vec<f64>> = (set.iter())
            .map(|&j| {
                (set.iter())
                    .map(|&k| {
                        (terms.iter())
                            .map(|t| {
                                let diagonal = if j == k { t.c() * t.risk[j] } else { 0.0 };
                                diagonal - t.c() * t.risk[j] * t.risk[k] / t.n
                            })
                            .sum()
                    })
                    .collect()
            })
            .collect();
        let low = LowRank::new(&terms, &set).unwrap();
        let b: Vec<f64> = (0..set.len()).map(|_| next() * 10.0 - 5.0).collect();
        let x = low.solve(&b);
        let y = solve(dense.clone(), &b).unwrap();
        let chisq = |s: &[f64]| s.iter().zip(&b).map(|(s, b)| s * b).sum::<f64>();
        assert!(
            (chisq(&x) - chisq(&y)).abs() <= 1e-12 * chisq(&y).abs(),
            "{} vs {}",
            chisq(&x),
            chisq(&y)
        );
        for (xi, yi) in x.iter().zip(&y) {
            assert!((xi - yi).abs() <= 1e-10 * yi.abs().max(1.0), "{xi} vs {yi}");
        }
        let norm = norm_1((0..dense.len()).map(|j| dense.iter().map(|r| r[j]).collect()));
        assert!(
            (low.norm_1() - norm).abs() <= 1e-12 * norm,
            "{} vs {norm}",
            low.norm_1()
        );
        let lu = Lu::factor(dense).unwrap();
        let n = set.len();
        let inverse = |solve: &dyn Fn(&[f64]) -> Vec<f64>| inverse_norm_estimate(n, solve, solve);
        let (a, e) = (inverse(&|v| low.solve(v)), inverse(&|v| lu.solve(v)));
        assert!((a - e).abs() <= 1e-9 * e, "{a} vs {e}");
        assert!(low.solve_checked(&b).is_some());
        // A group at risk at none of the terms' times: a row of zeros.
        let mut never = terms;
        for t in &mut never {
            t.risk[7] = 0.0;
        }
        assert!(LowRank::new(&never, &set).is_none());
    }
}
