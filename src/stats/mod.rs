//! Pure numerical statistics for `prolo`, written to agree with R (`stats`
//! and `survival`) to 1e-9 relative.
//!
//! Every method lives in its own file and documents its formula, its
//! references and the R call it reproduces. Numerical tolerances live in
//! [`tolerance`]; distribution functions (normal, Student t, chi-squared) are
//! wrapped in [`dist`] so that tails are computed directly rather than as
//! `1 - cdf`.

pub mod describe;
pub mod dist;
pub mod kaplan_meier;
pub mod kruskal;
pub mod logrank;
pub mod rank;
pub mod tolerance;
pub mod ttest;
pub mod wilcoxon;
pub mod wilson;

/// Confidence level of every interval in this module (R's default
/// `conf.level = 0.95`).
pub const CONFIDENCE_LEVEL: f64 = 0.95;

/// `Some(x)` when `x` is finite, `None` for NaN and ±infinity.
///
/// This is the bridge from R's `NA`/`NaN`/`Inf` results to `Option`.
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

#[cfg(test)]
mod tests {
    use super::finite;

    #[test]
    fn finite_filters_nan_and_infinity() {
        assert_eq!(finite(1.5), Some(1.5));
        assert_eq!(finite(0.0), Some(0.0));
        assert_eq!(finite(f64::NAN), None);
        assert_eq!(finite(f64::INFINITY), None);
        assert_eq!(finite(f64::NEG_INFINITY), None);
    }
}
