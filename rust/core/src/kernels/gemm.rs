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
    if n <= SMALL_N || m * n * a.cols <= SMALL_WORK {
        return small(dst, dst_stride, accumulate, a, b);
    }
    let beta = if accumulate { Accum::Add } else { Accum::Replace };
    matmul(out, beta, a.mat(), b.mat(), T::ONE, Par::Seq);
}

/// Products this small (or this narrow: a batch of one or two samples) run
/// as plain loops: faer's setup costs more than the arithmetic here, and
/// recurrent networks at batch 1 do thousands of them per sequence.
/// dst (+)= a · b where dst is m × n with element (i, j) at
/// `i·row_stride + j·col_stride` — e.g. one row range of every time step
/// of the engine's buffers at one sample per chunk. For large products
/// (one call per run, not per step), so always faer.
pub fn gemm_strided<T: Real>(
    dst: &mut [T],
    row_stride: usize,
    col_stride: usize,
    accumulate: bool,
    a: View<'_, T>,
    b: View<'_, T>,
) {
    let (m, n) = (a.rows, b.cols);
    assert_eq!(a.cols, b.rows, "inner dimensions");
    if m == 0 || n == 0 {
        return;
    }
    assert!((m - 1) * row_stride + (n - 1) * col_stride < dst.len(), "gemm destination out of bounds");
    let mut out: MatMut<'_, T> =
        unsafe { MatMut::from_raw_parts_mut(dst.as_mut_ptr(), m, n, row_stride as isize, col_stride as isize) };
    let beta = if accumulate { Accum::Add } else { Accum::Replace };
    if a.cols == 0 {
        if !accumulate {
            out.fill(T::ZERO);
        }
        return;
    }
    matmul(out, beta, a.mat(), b.mat(), T::ONE, Par::Seq);
}

const SMALL_N: usize = 2;
const SMALL_WORK: usize = 2048;

/// dst = [dst +] a · b by loops, vectorised along whichever operand is
/// contiguous: dot products when a's rows are, axpys when its columns are.
fn small<T: Real>(dst: &mut [T], ds: usize, accumulate: bool, a: View<'_, T>, b: View<'_, T>) {
    let (m, n, k) = (a.rows, b.cols, a.cols);
    let last_a = (m - 1) * a.row_stride + (k - 1) * a.col_stride;
    let last_b = (k - 1) * b.row_stride + (n - 1) * b.col_stride;
    assert!(last_a < a.data.len() && last_b < b.data.len(), "matrix view out of bounds");
    super::vector::simd(
        #[inline(always)]
        || {
            if !accumulate {
                for i in 0..m {
                    dst[i * ds..i * ds + n].fill(T::ZERO);
                }
            }
            if a.row_stride == 1 && a.col_stride != 1 {
                // Columns of a are contiguous: dst[:, j] += a[:, p] · b[p, j].
                for j in 0..n {
                    for p in 0..k {
                        let bp = b.data[p * b.row_stride + j * b.col_stride];
                        let col = &a.data[p * a.col_stride..p * a.col_stride + m];
                        if ds == 1 {
                            super::vector::axpy_inline(bp, col, &mut dst[j..j + m]);
                        } else {
                            for (i, &v) in col.iter().enumerate() {
                                dst[i * ds + j] += v * bp;
                            }
                        }
                    }
                }
            } else if a.col_stride == 1 && b.row_stride == 1 {
                // Rows of a and columns of b are contiguous: dot products.
                for i in 0..m {
                    let row = &a.data[i * a.row_stride..i * a.row_stride + k];
                    for j in 0..n {
                        let col = &b.data[j * b.col_stride..j * b.col_stride + k];
                        dst[i * ds + j] += super::vector::dot_inline(row, col);
                    }
                }
            } else {
                for i in 0..m {
                    let row = &a.data[i * a.row_stride..];
                    for j in 0..n {
                        let mut acc = T::ZERO;
                        for p in 0..k {
                            acc += row[p * a.col_stride] * b.data[p * b.row_stride + j * b.col_stride];
                        }
                        dst[i * ds + j] += acc;
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both paths (faer and the small loops) against the naive product, with
    /// strides, transposes and the narrow shapes of batch-1 recurrences.
    #[test]
    fn every_path_matches_naive() {
        for (m, k, n) in [(5, 7, 3), (12, 12, 1), (3, 40, 2), (40, 30, 20), (1, 9, 1), (40, 20, 1)] {
            let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.11).cos()).collect();
            for (accumulate, transposed) in [(false, false), (true, false), (false, true), (true, true)] {
                let av = if transposed {
                    // the same matrix stored column-major, viewed through .t()
                    let at: Vec<f64> = (0..k * m).map(|q| a[(q % m) * k + q / m]).collect();
                    (at, true)
                } else {
                    (a.clone(), false)
                };
                let view = if av.1 { View::row_major(&av.0, k, m).t() } else { View::row_major(&av.0, m, k) };
                let mut c = vec![0.5; m * n];
                gemm(&mut c, n, accumulate, view, View::row_major(&b, k, n));
                for i in 0..m {
                    for j in 0..n {
                        let want: f64 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum::<f64>();
                        let want = want + if accumulate { 0.5 } else { 0.0 };
                        assert!((c[i * n + j] - want).abs() < 1e-12, "{m}x{k}x{n} acc {accumulate} t {transposed}");
                    }
                }
            }
        }
    }

    #[test]
    fn strided_destination_matches_naive() {
        let (m, k, n, rs, cs) = (7, 5, 9, 1, 11);
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.11).cos()).collect();
        for accumulate in [false, true] {
            let mut c = vec![0.5; (n - 1) * cs + m];
            gemm_strided(&mut c, rs, cs, accumulate, View::row_major(&a, m, k), View::row_major(&b, k, n));
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum::<f64>();
                    let want = want + if accumulate { 0.5 } else { 0.0 };
                    assert!((c[i * rs + j * cs] - want).abs() < 1e-12);
                }
            }
            // untouched between the columns
            assert!(c.iter().enumerate().filter(|(q, _)| q % cs >= m).all(|(_, &v)| v == 0.5));
        }
    }

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
