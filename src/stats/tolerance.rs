//! Every numerical tolerance and threshold the `stats` module uses, in one
//! place, each with the R constant it mirrors.

/// Relative tolerance to which results are required to agree with R.
pub const REFERENCE_RELATIVE: f64 = 1e-9;

/// Absolute tolerance used instead of [`REFERENCE_RELATIVE`] near zero.
pub const REFERENCE_ABSOLUTE: f64 = 1e-12;

/// R's `sqrt(.Machine$double.eps)` (exactly 2^-26), the tolerance that
/// `survival:::quantile.survfit` and `survival:::survmean` use to decide that
/// a survival curve equals a probability such as 0.5.
pub const SURVFIT_QUANTILE: f64 = 1.490_116_119_384_765_6e-8;

/// R's `t.test` stops with "data are essentially constant" when
/// `stderr < 10 * .Machine$double.eps * abs(mean)`; this is that factor.
pub const TTEST_ESSENTIALLY_CONSTANT: f64 = 10.0 * f64::EPSILON;

/// Relative step size below which the Newton refinement of a quantile
/// (e.g. `qt`) is considered converged.
pub const QUANTILE_NEWTON_RELATIVE: f64 = 4.0 * f64::EPSILON;

/// Maximum number of Newton steps when refining a quantile.
pub const QUANTILE_NEWTON_MAX_STEPS: usize = 100;

/// R's `solve(a, b)` stops ("system is computationally singular") when the
/// reciprocal 1-norm condition number of `a` is below its `tol`, by default
/// `.Machine$double.eps`; `survdiff` inherits that through `solve`.
pub const SOLVE_RECIPROCAL_CONDITION: f64 = f64::EPSILON;

/// Relative size of the last term (or last continued-fraction factor's
/// distance from 1) at which a series or continued fraction is truncated.
pub const SERIES_RELATIVE: f64 = f64::EPSILON / 2.0;

/// Upper bound on the number of terms of a series or continued fraction
/// (a guard; convergence normally takes far fewer).
pub const SERIES_MAX_TERMS: f64 = 1e6;

/// `true` when `actual` agrees with `expected` within [`REFERENCE_RELATIVE`]
/// relative or [`REFERENCE_ABSOLUTE`] absolute error (for values near 0).
/// Two infinities of the same sign agree; NaN never agrees.
pub fn agrees_with_reference(actual: f64, expected: f64) -> bool {
    if actual == expected {
        return true;
    }
    let diff = (actual - expected).abs();
    diff <= REFERENCE_ABSOLUTE || diff <= REFERENCE_RELATIVE * expected.abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survfit_tolerance_is_sqrt_machine_epsilon() {
        assert_eq!(SURVFIT_QUANTILE, f64::EPSILON.sqrt());
    }

    #[test]
    fn agreement_is_relative_or_absolute_near_zero() {
        assert!(agrees_with_reference(1.0 + 5e-10, 1.0));
        assert!(!agrees_with_reference(1.0 + 5e-9, 1.0));
        assert!(agrees_with_reference(5e-13, 0.0));
        assert!(!agrees_with_reference(5e-12, 0.0));
        assert!(agrees_with_reference(f64::INFINITY, f64::INFINITY));
        assert!(!agrees_with_reference(f64::NAN, f64::NAN));
    }
}
