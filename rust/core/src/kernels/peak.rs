//! The machine's measured f32 FMA ceiling on one core: the yardstick that
//! benchmark reports hold kernels against ("GEMM at 80% of peak"). Runs
//! independent chains of fused multiply-adds at the widest vector width the
//! CPU offers (the same pulp dispatch the kernels use), enough chains to
//! hide the FMA latency on every current x86 and ARM core.

use pulp::{Simd, WithSimd};
use std::time::Instant;

/// Independent accumulators: latency (4–5 cycles) × FMA pipes (2) rounded up.
const CHAINS: usize = 16;

struct Chains {
    rounds: usize,
}

impl WithSimd for Chains {
    /// (flops done, lanes per vector, checksum that keeps the work alive)
    type Output = (f64, usize, f32);

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        let mut acc = [simd.splat_f32s(0.0); CHAINS];
        let a = simd.splat_f32s(0.999_999);
        let b = simd.splat_f32s(1e-7);
        for _ in 0..self.rounds {
            for x in acc.iter_mut() {
                *x = simd.mul_add_f32s(*x, a, b);
            }
        }
        let check = acc.iter().map(|&x| simd.reduce_sum_f32s(x)).sum();
        let lanes = S::F32_LANES;
        let flops = 2.0 * (self.rounds * CHAINS * lanes) as f64;
        (flops, lanes, check)
    }
}

/// The f32 FMA rate of the calling thread in GFLOP/s, measured for about
/// `seconds` (the best of several short runs, so a preempted run does not
/// count), with the vector width in f32 lanes.
pub fn fma_ceiling(seconds: f64) -> (f64, usize) {
    let arch = pulp::Arch::new();
    let mut rounds = 1 << 12;
    let mut best = 0.0f64;
    let mut lanes;
    let start = Instant::now();
    loop {
        let t = Instant::now();
        let (flops, l, check) = arch.dispatch(Chains { rounds });
        let elapsed = t.elapsed().as_secs_f64();
        std::hint::black_box(check);
        lanes = l;
        if elapsed < 2e-3 {
            rounds *= 2; // too short to time
            continue;
        }
        best = best.max(flops / elapsed / 1e9);
        if start.elapsed().as_secs_f64() >= seconds {
            return (best, lanes);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ceiling_is_a_positive_rate() {
        let (gflops, lanes) = super::fma_ceiling(0.01);
        assert!(gflops > 0.1 && gflops.is_finite(), "{gflops}");
        assert!(lanes >= 1);
    }
}
