//! Wilson score confidence interval for a binomial proportion, as R's
//! `prop.test(x, n, correct = FALSE)$conf.int`.

use super::dist::qnorm;
use super::CONFIDENCE_LEVEL;

/// 95% Wilson score interval `(low, high)` for `x` successes out of `n`
/// trials; `None` when `n = 0` or `x > n`.
///
/// # Formula
///
/// With `p̂ = x/n`, `z = Φ⁻¹((1 + 0.95)/2)` and `c = z²/(2n)`:
/// `(p̂ + c ∓ z √(p̂(1 - p̂)/n + c/(2n))) / (1 + 2c)`;
/// the lower end is exactly 0 when `x = 0` and the upper end exactly 1 when
/// `x = n`, as R sets them.
///
/// # References
///
/// Wilson, E. B. (1927). Probable inference, the law of succession, and
/// statistical inference. *JASA* 22(158), 209–212. Newcombe, R. G. (1998).
/// Two-sided confidence intervals for the single proportion. *Statistics in
/// Medicine* 17, 857–872 (method 3).
///
/// R: `prop.test(x, n, correct = FALSE)$conf.int`.
pub fn wilson(x: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 || x > n {
        return None;
    }
    let nf = n as f64;
    let estimate = x as f64 / nf;
    let z = qnorm((1.0 + CONFIDENCE_LEVEL) / 2.0);
    let z22n = z * z / (2.0 * nf);
    let half_width = |p: f64| z * (p * (1.0 - p) / nf + z22n / (2.0 * nf)).sqrt();
    let upper = if estimate >= 1.0 {
        1.0
    } else {
        (estimate + z22n + half_width(estimate)) / (1.0 + 2.0 * z22n)
    };
    let lower = if estimate <= 0.0 {
        0.0
    } else {
        (estimate + z22n - half_width(estimate)) / (1.0 + 2.0 * z22n)
    };
    Some((lower.max(0.0), upper.min(1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::tolerance::agrees_with_reference;

    #[test]
    fn matches_r_prop_test() {
        // prop.test(7, 20, correct = FALSE)$conf.int, digits = 17.
        let (low, high) = wilson(7, 20).unwrap();
        assert!(agrees_with_reference(low, 0.18119182410108206), "{low}");
        assert!(agrees_with_reference(high, 0.5671457233147637), "{high}");
    }

    #[test]
    fn boundaries_are_exact() {
        let (low, high) = wilson(0, 10).unwrap();
        assert_eq!(low, 0.0);
        let z2 = qnorm(0.975).powi(2);
        assert!(agrees_with_reference(high, z2 / (10.0 + z2)));
        let (low, high) = wilson(10, 10).unwrap();
        assert_eq!(high, 1.0);
        assert!(agrees_with_reference(low, 10.0 / (10.0 + z2)));
        assert_eq!(wilson(0, 0), None);
        assert_eq!(wilson(3, 2), None);
    }
}
