//! Dropout on hidden nodes (inverted: kept values are scaled by 1/(1 − p)).
//! Each (sample, step, row) draws its keep/drop from a counter-based hash of
//! the seed and those indices, so the mask depends on neither the chunking
//! nor the thread count, and backward recomputes it instead of storing it.

use crate::real::Real;

/// Dropout rate p in [0, 1) and the seed of this batch's masks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    pub rate: f64,
    pub seed: u64,
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash.
#[inline(always)]
pub(super) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Dropout {
    /// The factor a value is multiplied by: 0 (dropped) or 1/(1 − p).
    #[inline(always)]
    pub fn factor<T: Real>(&self, sample: usize, step: usize, row: usize) -> T {
        let h = mix(self.seed ^ mix((sample as u64) ^ mix(((step as u64) << 32) ^ row as u64)));
        let u = (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        if u < self.rate {
            T::ZERO
        } else {
            T::from_f64(1.0 / (1.0 - self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_about_the_rate_and_is_reproducible() {
        let d = Dropout { rate: 0.3, seed: 42 };
        let n = 100_000;
        let dropped = (0..n).filter(|&i| d.factor::<f64>(i, i % 7, i % 13) == 0.0).count();
        assert!((dropped as f64 / n as f64 - 0.3).abs() < 0.01);
        assert_eq!(d.factor::<f32>(5, 2, 9), d.factor::<f32>(5, 2, 9));
        let kept: f64 = (0..n).map(|i| d.factor::<f64>(i, 0, 1)).sum::<f64>() / n as f64;
        assert!((kept - 1.0).abs() < 0.02, "inverted dropout keeps the mean");
    }
}
