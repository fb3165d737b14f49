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

/// Hashes a number's bits for tables keyed by them (splitmix64's final mix: the bits of
/// whole numbers differ only at the top).
#[derive(Default, Clone, Copy)]
pub(crate) struct BuildBits;

impl std::hash::BuildHasher for BuildBits {
    type Hasher = BitsHasher;
    fn build_hasher(&self) -> BitsHasher {
        BitsHasher(0)
    }
}

pub(crate) struct BitsHasher(u64);

impl std::hash::Hasher for BitsHasher {
    // Tables here are keyed by `u64` (`write_u64`); other input is folded in byte by byte.
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0 << 8 | u64::from(b));
        }
    }
    fn write_u64(&mut self, x: u64) {
        let mut h = x;
        h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        self.0 = h ^ (h >> 31);
    }
    fn finish(&self) -> u64 {
        self.0
    }
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
