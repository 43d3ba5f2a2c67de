//! The im2col matrix of a convolution and its adjoint col2im: the copies
//! that turn a convolution into one GEMM per tile of output rows.

use super::{Conv2d, Dims};
use crate::kernels::gemm::View;
use crate::kernels::vector;
use crate::real::Real;

impl Conv2d {
    /// Every (filter tap, output row) pair of the tile of output rows
    /// [oh0, oh1): `f(at, src, lo, hi)` where im2col entries `at + lo .. at + hi`
    /// read the input at `src, src + stride_w, …` (`src` is None for a row of
    /// padding). Entries outside [lo, hi) are padding.
    #[inline(always)]
    fn taps(&self, d: &Dims, oh0: usize, oh1: usize, mut f: impl FnMut(usize, Option<usize>, usize, usize)) {
        let nt = (oh1 - oh0) * d.ow;
        for c in 0..self.in_channels {
            for i in 0..self.kh {
                for j in 0..self.kw {
                    let r = (c * self.kh + i) * self.kw + j;
                    let (lo, hi) = valid(d.ow, self.stride_w, j, self.pad_w, self.in_w);
                    for (t, oh) in (oh0..oh1).enumerate() {
                        let ih = (oh * self.stride_h + i).wrapping_sub(self.pad_h);
                        let src = (ih < self.in_h && lo < hi)
                            .then(|| (c * self.in_h + ih) * self.in_w + lo * self.stride_w + j - self.pad_w);
                        f(r * nt + t * d.ow, src, lo, hi);
                    }
                }
            }
        }
    }

    /// The im2col matrix of output rows [oh0, oh1): row `(c·kh + i)·kw + j`,
    /// column `t` holds the input under filter tap (i, j) for output cell t.
    /// Rows of one channel window are contiguous, which is what lets 3D
    /// filters take row ranges of it.
    pub(super) fn im2col<'a, T: Real>(
        &self,
        d: &Dims,
        x: &'a [T],
        oh0: usize,
        oh1: usize,
        col: &'a mut [T],
    ) -> View<'a, T> {
        let (nt, sw) = ((oh1 - oh0) * d.ow, self.stride_w);
        if d.direct {
            return View { data: &x[oh0 * d.ow..], rows: self.in_channels, cols: nt, row_stride: d.p, col_stride: 1 };
        }
        let rows = self.in_channels * d.k;
        if self.stride_h == 1 && sw == 1 && d.ow == self.in_w {
            self.im2col_same(d, x, oh0, oh1, &mut col[..rows * nt]);
            return View::row_major(&col[..rows * nt], rows, nt);
        }
        self.taps(d, oh0, oh1, |at, src, lo, hi| {
            let dst = &mut col[at..at + d.ow];
            let Some(src) = src else { return dst.fill(T::ZERO) };
            dst[..lo].fill(T::ZERO);
            dst[hi..].fill(T::ZERO);
            if sw == 1 {
                dst[lo..hi].copy_from_slice(&x[src..src + hi - lo]);
            } else {
                dst[lo..hi].iter_mut().enumerate().for_each(|(n, v)| *v = x[src + n * sw]);
            }
        });
        View::row_major(&col[..rows * nt], rows, nt)
    }

    /// [`Conv2d::im2col`] for stride 1 and output as wide as the input (the
    /// usual "same" padding): a tap's entries over all rows of the tile are
    /// one shifted run of the input, copied at once (per-row copies of ~32
    /// values cost 20% of a 64→64 3×3 pass); only the cells that wrapped
    /// around a row edge are zeroed after.
    fn im2col_same<T: Real>(&self, d: &Dims, x: &[T], oh0: usize, oh1: usize, col: &mut [T]) {
        let (n_rows, w, nt) = (oh1 - oh0, self.in_w, (oh1 - oh0) * d.ow);
        for (r, row) in col.chunks_mut(nt).enumerate() {
            let (c, i, j) = (r / d.k, r % d.k / self.kw, r % self.kw);
            let (lo, hi) = valid(w, 1, j, self.pad_w, w);
            // tile rows whose input row oh0 + t + i − pad_h lies inside the map
            let t_lo = self.pad_h.saturating_sub(oh0 + i).min(n_rows);
            let t_hi = (self.in_h + self.pad_h).saturating_sub(oh0 + i).clamp(t_lo, n_rows);
            row[..t_lo * w].fill(T::ZERO);
            row[t_hi * w..].fill(T::ZERO);
            if t_lo == t_hi || lo == hi {
                row[t_lo * w..t_hi * w].fill(T::ZERO);
                continue;
            }
            let first = (c * self.in_h + oh0 + t_lo + i - self.pad_h) * w + lo + j - self.pad_w;
            let len = (t_hi - t_lo) * w - lo - (w - hi);
            row[t_lo * w + lo..][..len].copy_from_slice(&x[first..first + len]);
            for edge in row[t_lo * w..t_hi * w].chunks_mut(w) {
                let (head, tail) = edge.split_at_mut(hi);
                head[..lo].iter_mut().chain(tail).for_each(|v| *v = T::ZERO);
            }
        }
    }

    /// The adjoint of [`Conv2d::im2col`]: adds each entry back onto the
    /// input cell it was read from.
    pub(super) fn col2im<T: Real>(&self, d: &Dims, dcol: &[T], oh0: usize, oh1: usize, dx: &mut [T]) {
        let sw = self.stride_w;
        vector::simd(|| {
            self.taps(d, oh0, oh1, |at, src, lo, hi| {
                let (Some(src), g) = (src, &dcol[at + lo..at + hi]) else { return };
                if sw == 1 {
                    dx[src..src + hi - lo].iter_mut().zip(g).for_each(|(a, &v)| *a += v);
                } else {
                    g.iter().enumerate().for_each(|(n, &v)| dx[src + n * sw] += v);
                }
            })
        });
    }
}

/// Output columns [lo, hi) whose tap `j` lands inside the unpadded input.
pub(super) fn valid(out: usize, stride: usize, j: usize, pad: usize, len: usize) -> (usize, usize) {
    // ow·stride + j − pad ∈ [0, len)
    let hi = if len + pad > j { (len + pad - j).div_ceil(stride).min(out) } else { 0 };
    let lo = pad.saturating_sub(j).div_ceil(stride).min(hi);
    (lo, hi)
}
