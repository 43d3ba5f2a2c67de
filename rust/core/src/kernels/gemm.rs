//! Row-major GEMM on slices through faer, single-threaded: the executor
//! parallelises over batch chunks and gradient tasks, one level at a time.

use crate::real::Real;
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// A row-major matrix view: `rows × cols`, rows `stride` elements apart.
#[derive(Clone, Copy)]
pub struct View<'a, T> {
    pub data: &'a [T],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a, T: Real> View<'a, T> {
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        View { data, rows, cols, row_stride: cols, col_stride: 1 }
    }

    fn mat(&self) -> MatRef<'a, T> {
        if self.rows == 0 || self.cols == 0 {
            return MatRef::from_row_major_slice(&[], self.rows, self.cols);
        }
        let last = (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
        assert!(last < self.data.len(), "matrix view out of bounds");
        // SAFETY: every addressed element (≤ `last`) lies inside `data`,
        // which outlives the returned view.
        unsafe {
            MatRef::from_raw_parts(
                self.data.as_ptr(),
                self.rows,
                self.cols,
                self.row_stride as isize,
                self.col_stride as isize,
            )
        }
    }

    /// The transpose, sharing the data.
    pub fn t(self) -> Self {
        View { rows: self.cols, cols: self.rows, row_stride: self.col_stride, col_stride: self.row_stride, ..self }
    }
}

/// dst (rows × cols, row-major with `dst_stride`) = [dst +] a · b.
pub fn gemm<T: Real>(dst: &mut [T], dst_stride: usize, accumulate: bool, a: View<'_, T>, b: View<'_, T>) {
    let (m, n) = (a.rows, b.cols);
    assert_eq!(a.cols, b.rows, "inner dimensions");
    if m == 0 || n == 0 {
        return;
    }
    assert!(n <= dst_stride && (m - 1) * dst_stride + n <= dst.len(), "gemm destination out of bounds");
    // Built by hand: faer 0.24's `from_row_major_slice_with_stride_mut`
    // swaps the strides (a column-major view), which the tests caught.
    // SAFETY: rows are `dst_stride ≥ n` apart and the last element
    // (m−1)·dst_stride + n − 1 lies inside `dst`, borrowed mutably here.
    let out: MatMut<'_, T> = unsafe { MatMut::from_raw_parts_mut(dst.as_mut_ptr(), m, n, dst_stride as isize, 1) };
    if a.cols == 0 {
        if !accumulate {
            for i in 0..m {
                dst[i * dst_stride..i * dst_stride + n].fill(T::ZERO);
            }
        }
        return;
    }
    let beta = if accumulate { Accum::Add } else { Accum::Replace };
    matmul(out, beta, a.mat(), b.mat(), T::ONE, Par::Seq);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_naive_with_strides_and_transpose() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f64> = (0..m * k).map(|i| i as f64 * 0.1 - 1.0).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64).sin()).collect();
        let mut c = vec![1.0; m * 4];
        gemm(&mut c, 4, true, View::row_major(&a, m, k), View::row_major(&b, k, n));
        for i in 0..m {
            for j in 0..n {
                let want: f64 = 1.0 + (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum::<f64>();
                assert!((c[i * 4 + j] - want).abs() < 1e-12);
            }
            assert_eq!(c[i * 4 + 3], 1.0, "padding column untouched");
        }
        // a^T (k × m) times a (m × k)
        let mut g = vec![0.0; k * k];
        gemm(&mut g, k, false, View::row_major(&a, m, k).t(), View::row_major(&a, m, k));
        for i in 0..k {
            for j in 0..k {
                let want: f64 = (0..m).map(|p| a[p * k + i] * a[p * k + j]).sum();
                assert!((g[i * k + j] - want).abs() < 1e-12);
            }
        }
    }
}
