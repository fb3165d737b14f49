//! One-sample Student t test of mean 0 with its 95% confidence interval for
//! the mean, as R's `t.test(x)`.

use super::describe::{moments, Moments};
use super::dist::{pt_two_sided, qt};
use super::tolerance::TTEST_ESSENTIALLY_CONSTANT;
use super::{finite, CONFIDENCE_LEVEL};

/// Result of a one-sample t test against mean 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OneSampleT {
    /// Number of observations.
    pub n: usize,
    /// Sample mean.
    pub mean: f64,
    /// Sample standard deviation (`n - 1` denominator); `None` for `n < 2`.
    pub sd: Option<f64>,
    /// Lower end of the 95% confidence interval for the mean; `None` for
    /// `n < 2`.
    pub ci_low: Option<f64>,
    /// Upper end of the 95% confidence interval for the mean; `None` for
    /// `n < 2`.
    pub ci_high: Option<f64>,
    /// t statistic `mean / (sd / √n)`; `None` for `n < 2` or constant data.
    pub t: Option<f64>,
    /// Two-sided p-value; `None` for `n < 2` or constant data.
    pub p: Option<f64>,
}

/// One-sample t test of `H0: μ = 0`, two-sided, with a 95% confidence
/// interval. `None` when `x` is empty or holds a non-finite value.
///
/// With `n = 1` only `mean` is given. When the data are constant (R's
/// "essentially constant": `sd/√n < 10 ε |mean|`, or `sd = 0`) the p-value
/// and t are `None` and the interval is `[mean, mean]`; R stops with an
/// error there (or gives NaN when the mean is 0 too).
///
/// # Formula
///
/// `se = √(s²/n)`, `t = x̄ / se`, `p = 2 · P(T_{n-1} > |t|)`,
/// `CI = (t ∓ q) · se` with `q = qt(1 - (1 - 0.95)/2, n - 1)`.
///
/// # References
///
/// Student (1908). The probable error of a mean. *Biometrika* 6(1), 1–25.
///
/// R: `t.test(x)` (`$estimate`, `$conf.int`, `$p.value`, `$statistic`).
pub fn one_sample(x: &[f64]) -> Option<OneSampleT> {
    from_moments(&moments(x))
}

/// [`one_sample`] from the sample's [`Moments`], for callers that need them too.
///
/// A sample with a non-finite value has no finite mean, so `None` for it as for an empty one.
pub fn from_moments(m: &Moments) -> Option<OneSampleT> {
    let n = m.n;
    let mx = m.mean?;
    let Some(vx) = m.var else {
        return Some(OneSampleT {
            n,
            mean: mx,
            sd: None,
            ci_low: None,
            ci_high: None,
            t: None,
            p: None,
        });
    };
    let nx = n as f64;
    let df = nx - 1.0;
    let stderr = (vx / nx).sqrt();
    let sd = Some(vx.sqrt());
    if stderr == 0.0 || stderr < TTEST_ESSENTIALLY_CONSTANT * mx.abs() {
        return Some(OneSampleT {
            n,
            mean: mx,
            sd,
            ci_low: Some(mx),
            ci_high: Some(mx),
            t: None,
            p: None,
        });
    }
    let t = mx / stderr;
    let alpha = 1.0 - CONFIDENCE_LEVEL;
    let q = qt(1.0 - alpha / 2.0, df);
    Some(OneSampleT {
        n,
        mean: mx,
        sd,
        ci_low: finite((t - q) * stderr),
        ci_high: finite((t + q) * stderr),
        t: finite(t),
        p: finite(pt_two_sided(t, df)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::tolerance::agrees_with_reference;

    fn close(actual: Option<f64>, expected: f64) {
        let actual = actual.expect("value present");
        assert!(
            agrees_with_reference(actual, expected),
            "actual {actual:e} expected {expected:e}"
        );
    }

    #[test]
    fn matches_r_t_test() {
        // t.test(c(1, 2, 3, 4, 6)), printed with digits = 17.
        let r = one_sample(&[1.0, 2.0, 3.0, 4.0, 6.0]).unwrap();
        assert_eq!(r.n, 5);
        assert_eq!(r.mean, 3.2);
        close(r.sd, 3.7f64.sqrt());
        close(r.t, 3.7199244398022175);
        close(r.p, 0.020475874420910676);
        close(r.ci_low, 0.8116116119000202);
        close(r.ci_high, 5.588388388099981);
    }

    #[test]
    fn degenerate_samples() {
        assert_eq!(one_sample(&[]), None);
        let one = one_sample(&[4.0]).unwrap();
        assert_eq!(
            (one.mean, one.sd, one.ci_low, one.p),
            (4.0, None, None, None)
        );
        let constant = one_sample(&[2.0, 2.0, 2.0]).unwrap();
        assert_eq!(constant.sd, Some(0.0));
        assert_eq!((constant.ci_low, constant.ci_high), (Some(2.0), Some(2.0)));
        assert_eq!(constant.p, None);
        let zeros = one_sample(&[0.0, 0.0]).unwrap();
        assert_eq!((zeros.ci_low, zeros.p), (Some(0.0), None));
    }
}
