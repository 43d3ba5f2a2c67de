//! Batch-vector primitives for sparse blocks and reductions, compiled for
//! the best instruction set the CPU offers (pulp runtime dispatch). Sums use
//! a fixed lane structure, so a result depends on the data only, never on
//! threads.

use crate::real::Real;

const LANES: usize = 8;

/// The CPU's instruction set, detected once: detection tests some fifteen
/// features, and a step of a small recurrent network at batch 1 dispatches
/// a few dozen times.
static ARCH: std::sync::LazyLock<pulp::Arch> = std::sync::LazyLock::new(pulp::Arch::new);

/// Runs `f` compiled for the best instruction set of this CPU. Callers put
/// whole loops of [`axpy_inline`] / [`dot_inline`] inside one dispatch, so
/// the per-call cost is paid once per block, not once per edge.
#[inline(always)]
#[allow(clippy::redundant_closure)] // the #[inline(always)] wrapper is the point
pub fn simd<R>(f: impl FnOnce() -> R) -> R {
    ARCH.dispatch(
        #[inline(always)]
        || f(),
    )
}

/// y += a · x (to be inlined inside [`simd`]).
#[inline(always)]
pub fn axpy_inline<T: Real>(a: T, x: &[T], y: &mut [T]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// Σ x[i] · y[i] in LANES independent lanes, then summed (to be inlined
/// inside [`simd`]).
#[inline(always)]
pub fn dot_inline<T: Real>(x: &[T], y: &[T]) -> T {
    let mut acc = [T::ZERO; LANES];
    let xc = x.chunks_exact(LANES);
    let yc = y.chunks_exact(LANES);
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (a, b) in xc.zip(yc) {
        for k in 0..LANES {
            acc[k] += a[k] * b[k];
        }
    }
    let mut s = T::ZERO;
    for (&a, &b) in xr.iter().zip(yr) {
        s += a * b;
    }
    let mut total = T::ZERO;
    for a in acc {
        total += a;
    }
    total + s
}

/// y += a · x
#[inline]
pub fn axpy<T: Real>(a: T, x: &[T], y: &mut [T]) {
    debug_assert_eq!(x.len(), y.len());
    simd(|| axpy_inline(a, x, y))
}

/// Σ x[i] · y[i], accumulated in LANES independent lanes then summed.
#[inline]
pub fn dot<T: Real>(x: &[T], y: &[T]) -> T {
    debug_assert_eq!(x.len(), y.len());
    simd(|| dot_inline(x, y))
}

/// Σ x[i], in LANES lanes.
#[inline]
pub fn sum<T: Real>(x: &[T]) -> T {
    simd(|| sum_inline(x))
}

/// Σ x[i] in LANES lanes (to be inlined inside [`simd`]).
#[inline(always)]
pub fn sum_inline<T: Real>(x: &[T]) -> T {
    if x.len() < LANES {
        let mut s = T::ZERO;
        for &a in x {
            s += a;
        }
        return s;
    }
    let mut acc = [T::ZERO; LANES];
    let xc = x.chunks_exact(LANES);
    let mut s = T::ZERO;
    for &a in xc.remainder() {
        s += a;
    }
    for a in xc {
        for k in 0..LANES {
            acc[k] += a[k];
        }
    }
    let mut total = T::ZERO;
    for a in acc {
        total += a;
    }
    total + s
}

/// Whether every value is finite: one vectorised pass summing |x| in f64
/// lanes (NaN and ±∞ propagate into the sum). A sum that overflows from
/// finite values (magnitudes near 1e300) reports false; callers confirm
/// element by element before acting on it.
pub fn all_finite<T: Real>(x: &[T]) -> bool {
    simd(|| {
        let mut acc = [0.0f64; LANES];
        let chunks = x.chunks_exact(LANES);
        let mut s = 0.0f64;
        for &a in chunks.remainder() {
            s += a.to_f64().abs();
        }
        for c in chunks {
            for k in 0..LANES {
                acc[k] += c[k].to_f64().abs();
            }
        }
        acc.iter().fold(s, |t, a| t + a).is_finite()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_match_naive() {
        for n in [1usize, 3, 8, 13, 64, 100] {
            let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin()).collect();
            let y: Vec<f64> = (0..n).map(|i| (i as f64 * 0.3).cos()).collect();
            let naive: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
            assert!((dot(&x, &y) - naive).abs() < 1e-12);
            assert!((sum(&x) - x.iter().sum::<f64>()).abs() < 1e-12);
            assert!(all_finite(&x));
            let mut bad = x.clone();
            bad[n / 2] = f64::NAN;
            assert!(!all_finite(&bad));
            bad[n / 2] = f64::NEG_INFINITY;
            assert!(!all_finite(&bad));
            let mut z = y.clone();
            axpy(2.5, &x, &mut z);
            for i in 0..n {
                assert_eq!(z[i], y[i] + 2.5 * x[i]);
            }
        }
    }
}
