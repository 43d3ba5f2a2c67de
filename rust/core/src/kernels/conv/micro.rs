//! The register-tiled GEMM of the Winograd convolution: c [+]= a · b with
//! a's entries broadcast and b's rows loaded as vectors, an MR × NR block of
//! c in registers over all k products. Its sizes are small (K = channels,
//! 16–512; N = a panel of 32–256 columns), where faer's packing and
//! dispatch cost more than they save. f32 on AVX-512 runs in intrinsics
//! (the compiler's vectorisation of the generic loop keeps its accumulators
//! on the stack in some builds); other types and CPUs run the generic loop.

use crate::real::Real;
use std::any::TypeId;

/// Rows of a register block; callers pad a's rows to a multiple of it.
pub(super) const MR: usize = 8;
/// Callers pad b's columns to a multiple of this (the widest block, 32 f32
/// = two AVX-512 vectors).
pub(super) const NR_PAD: usize = 32;

/// One product's sizes: c (m × nc, rows ldc apart) [+]= a (m × k, rows lda
/// apart) · b (k × nc, rows ldb apart); m a multiple of MR, nc of NR_PAD.
#[derive(Clone, Copy)]
pub(super) struct Shape {
    pub m: usize,
    pub nc: usize,
    pub k: usize,
    pub lda: usize,
    pub ldb: usize,
    pub ldc: usize,
    pub accumulate: bool,
}

/// c [+]= a · b (see [`Shape`]), bounds checked once.
#[inline(always)]
pub(super) fn gemm<T: Real>(s: Shape, a: &[T], b: &[T], c: &mut [T]) {
    assert!(s.m.is_multiple_of(MR) && s.nc.is_multiple_of(NR_PAD), "gemm block multiples");
    if s.m == 0 || s.nc == 0 {
        return;
    }
    let k = s.k;
    assert!(k == 0 || ((s.m - 1) * s.lda + k <= a.len() && (k - 1) * s.ldb + s.nc <= b.len()), "gemm operands");
    assert!((s.m - 1) * s.ldc + s.nc <= c.len(), "gemm destination");
    #[cfg(target_arch = "x86_64")]
    if TypeId::of::<T>() == TypeId::of::<f32>() && std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: T is f32, the bounds are checked above, the CPU has AVX-512F
        unsafe {
            return avx512::gemm_f32(s, a.as_ptr().cast(), b.as_ptr().cast(), c.as_mut_ptr().cast());
        }
    }
    // two AVX-512 vectors of accumulators per row, whatever the type
    if size_of::<T>() == 4 {
        gemm_nr::<T, 32>(s, a, b, c)
    } else {
        gemm_nr::<T, 16>(s, a, b, c)
    }
}

#[inline(always)]
fn gemm_nr<T: Real, const NR: usize>(s: Shape, a: &[T], b: &[T], c: &mut [T]) {
    for j in (0..s.nc).step_by(NR) {
        for i in (0..s.m).step_by(MR) {
            // SAFETY: the bounds asserted in `gemm` cover rows i..i+MR,
            // columns j..j+NR and k products.
            unsafe {
                let (a, b, c) = (a.as_ptr().add(i * s.lda), b.as_ptr().add(j), c.as_mut_ptr().add(i * s.ldc + j));
                block::<T, NR>(s, a, b, c)
            }
        }
    }
}

/// One MR × NR block of c, kept in registers over the k products.
///
/// # Safety
/// a, b and c address MR × k, k × NR and MR × NR elements with the strides of `s`.
#[inline(always)]
unsafe fn block<T: Real, const NR: usize>(s: Shape, a: *const T, b: *const T, c: *mut T) {
    let mut acc = [[T::ZERO; NR]; MR];
    if s.accumulate {
        for (i, row) in acc.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = *c.add(i * s.ldc + j);
            }
        }
    }
    for p in 0..s.k {
        let bp = b.add(p * s.ldb);
        let bv: [T; NR] = std::array::from_fn(|j| *bp.add(j));
        for (i, row) in acc.iter_mut().enumerate() {
            let ai = *a.add(i * s.lda + p);
            for (v, &bj) in row.iter_mut().zip(&bv) {
                *v = fma(ai, bj, *v);
            }
        }
    }
    for (i, row) in acc.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            *c.add(i * s.ldc + j) = v;
        }
    }
}

/// a·b + c fused (one rounding) for f32 and f64, which compile to FMA
/// instructions inside `vector::simd`; Rust never contracts `a * b + c`.
#[inline(always)]
fn fma<T: Real>(a: T, b: T, c: T) -> T {
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: T is f32
        unsafe {
            let r =
                f32::mul_add(std::mem::transmute_copy(&a), std::mem::transmute_copy(&b), std::mem::transmute_copy(&c));
            std::mem::transmute_copy(&r)
        }
    } else if TypeId::of::<T>() == TypeId::of::<f64>() {
        // SAFETY: T is f64
        unsafe {
            let r =
                f64::mul_add(std::mem::transmute_copy(&a), std::mem::transmute_copy(&b), std::mem::transmute_copy(&c));
            std::mem::transmute_copy(&r)
        }
    } else {
        a * b + c
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{Shape, MR};
    use std::arch::x86_64::*;

    /// [`super::gemm`] for f32, 8 × 32 blocks of c in 16 registers.
    ///
    /// # Safety
    /// The CPU has AVX-512F; the operands cover the sizes as `gemm` checks.
    #[target_feature(enable = "avx512f,fma")]
    pub(super) unsafe fn gemm_f32(s: Shape, a: *const f32, b: *const f32, c: *mut f32) {
        let (lda, ldb, ldc) = (s.lda, s.ldb, s.ldc);
        for j in (0..s.nc).step_by(32) {
            for i in (0..s.m).step_by(MR) {
                let (a, b, c) = (a.add(i * lda), b.add(j), c.add(i * ldc + j));
                let mut lo = [_mm512_setzero_ps(); MR];
                let mut hi = [_mm512_setzero_ps(); MR];
                if s.accumulate {
                    for r in 0..MR {
                        lo[r] = _mm512_loadu_ps(c.add(r * ldc));
                        hi[r] = _mm512_loadu_ps(c.add(r * ldc + 16));
                    }
                }
                for p in 0..s.k {
                    let b0 = _mm512_loadu_ps(b.add(p * ldb));
                    let b1 = _mm512_loadu_ps(b.add(p * ldb + 16));
                    for r in 0..MR {
                        let ar = _mm512_set1_ps(*a.add(r * lda + p));
                        lo[r] = _mm512_fmadd_ps(ar, b0, lo[r]);
                        hi[r] = _mm512_fmadd_ps(ar, b1, hi[r]);
                    }
                }
                for r in 0..MR {
                    _mm512_storeu_ps(c.add(r * ldc), lo[r]);
                    _mm512_storeu_ps(c.add(r * ldc + 16), hi[r]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every block path (the f32 intrinsics, the generic f32 and f64
    /// blocks) against the naive product, accumulating or not.
    #[test]
    fn matches_naive() {
        let (m, nc, k, lda, ldb, ldc) = (16, 64, 37, 40, 70, 66);
        let a: Vec<f64> = (0..m * lda).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * ldb).map(|i| (i as f64 * 0.11).cos()).collect();
        for accumulate in [false, true] {
            let s = Shape { m, nc, k, lda, ldb, ldc, accumulate };
            let want = |i: usize, j: usize, c0: f64| {
                (0..k).map(|p| a[i * lda + p] * b[p * ldb + j]).sum::<f64>() + if accumulate { c0 } else { 0.0 }
            };
            let mut c = vec![0.5; m * ldc];
            gemm(s, &a, &b, &mut c);
            let (af, bf): (Vec<f32>, Vec<f32>) =
                (a.iter().map(|&v| v as f32).collect(), b.iter().map(|&v| v as f32).collect());
            let mut cf = vec![0.5f32; m * ldc];
            gemm(s, &af, &bf, &mut cf);
            let mut cg = vec![0.5f32; m * ldc];
            gemm_nr::<f32, 32>(s, &af, &bf, &mut cg);
            for i in 0..m {
                for j in 0..ldc {
                    let w = if j < nc { want(i, j, 0.5) } else { 0.5 };
                    assert!((c[i * ldc + j] - w).abs() < 1e-12, "f64 [{i}][{j}]");
                    assert!((cf[i * ldc + j] as f64 - w).abs() < 1e-4, "f32 [{i}][{j}]");
                    assert!((cg[i * ldc + j] as f64 - w).abs() < 1e-4, "f32 generic [{i}][{j}]");
                }
            }
        }
    }
}
