//! Convolution on the engine's rows layout: each scalar of a feature map is
//! a row holding its values for the n samples of a chunk, so a C×H×W map is
//! `[C·H·W][n]`, sample innermost. im2col and one GEMM per tile of output
//! cells; the column matrix is `[C·kh·kw][cells·n]`, so every im2col entry
//! is a run of n samples, and for stride 1 a whole output row's runs are one
//! contiguous copy. dIn of stride-1 filters runs as the transposed
//! convolution, otherwise as a GEMM into a column matrix scattered back
//! (col2im). Single-threaded (the engine parallelises over chunks) and
//! allocation-free once the caller's scratch vector has grown.

use super::winograd::Wino;
use super::{Conv2d, Dims};
use crate::kernels::gemm::{gemm, View};
use crate::kernels::vector;
use crate::real::Real;

/// Elements of one forward im2col tile (2 MB in f32). The GEMMs are
/// compute-bound: at n = 32, tiles of 1–4 MB time the same (64→64 3×3 on
/// 32×32); at n = 1, 1 MB tiles are 5% slower.
const TILE_FORWARD: usize = 512 << 10;
/// The same for the backward pass, where dW reads the tile transposed: 1 MB
/// tiles are 10% faster there than 4 MB ones at n = 1.
const TILE_BACKWARD: usize = 256 << 10;

/// A convolution's sizes plus the cells per im2col tile.
struct Plan {
    d: Dims,
    /// output cells per tile
    tile: usize,
}

impl Conv2d {
    /// y += conv(x): x is `[in_channels·in_h·in_w][n]`, y is
    /// `[output_channels()·oh·ow][n]`, sample innermost. `w` is the filter
    /// tensor `[out_channels][kc][kh][kw]`, every filter slice connected (for
    /// a partial connection table the caller passes zeros).
    pub fn forward_rows<T: Real>(&self, n: usize, x: &[T], w: &[T], y: &mut [T], scratch: &mut Vec<T>) {
        let pl = self.plan_rows(n, TILE_FORWARD);
        let d = &pl.d;
        assert_eq!(x.len(), d.in_len * n, "convolution input length");
        assert_eq!(w.len(), d.w_len, "convolution weights length");
        assert_eq!(y.len(), d.out_len * n, "convolution output length");
        if n == 0 {
            return;
        }
        if let Some(wg) = Wino::new(self, n) {
            return wg.forward(n, x, w, y, grow(scratch, wg.forward_len(n)));
        }
        let col = grow(scratch, self.col_len(&pl, n));
        self.forward_tiles(&pl, n, x, w, y, col);
    }

    /// dx += ∂/∂x and dw += ∂/∂w of Σ dy·y (either may be None), in the
    /// layouts of [`Conv2d::forward_rows`]. Every weight gets its gradient,
    /// disconnected ones too, for the caller to drop.
    #[allow(clippy::too_many_arguments)] // the engine's signature: data, two optional outputs, scratch
    pub fn backward_rows<T: Real>(
        &self,
        n: usize,
        x: &[T],
        w: &[T],
        dy: &[T],
        mut dx: Option<&mut [T]>,
        mut dw: Option<&mut [T]>,
        scratch: &mut Vec<T>,
    ) {
        let pl = self.plan_rows(n, TILE_BACKWARD);
        let d = &pl.d;
        assert_eq!(x.len(), d.in_len * n, "convolution input length");
        assert_eq!(w.len(), d.w_len, "convolution weights length");
        assert_eq!(dy.len(), d.out_len * n, "convolution output gradient length");
        assert!(dx.as_ref().is_none_or(|g| g.len() == d.in_len * n), "convolution input gradient length");
        assert!(dw.as_ref().is_none_or(|g| g.len() == d.w_len), "convolution weight gradient length");
        if n == 0 || (dx.is_none() && dw.is_none()) {
            return;
        }
        if let Some(wg) = Wino::new(self, n) {
            return self.backward_winograd(&wg, n, x, w, dy, dx, dw, scratch);
        }
        let flip = dx.as_ref().and_then(|_| self.flipped_rows(d, n));
        let scatter = dx.is_some() && flip.is_none() && !d.direct;
        let col_len = if dw.is_some() { self.col_len(&pl, n) } else { 0 };
        let dcol_len = if scatter { self.col_len(&pl, n) } else { 0 };
        let (fw_len, fcol_len) = flip.as_ref().map_or((0, 0), |(f, fp)| (d.w_len, f.col_len(fp, n)));
        let buf = grow(scratch, fw_len + fcol_len + col_len + dcol_len);
        let (fw, buf) = buf.split_at_mut(fw_len);
        let (fcol, buf) = buf.split_at_mut(fcol_len);
        let (col, dcol) = buf.split_at_mut(col_len);
        if let (Some((f, fp)), Some(g)) = (&flip, dx.as_deref_mut()) {
            self.flip_weights(w, fw);
            f.forward_tiles(fp, n, dy, fw, g, fcol);
        }
        let (k, ck, o) = (d.k, self.kc * d.k, self.out_channels);
        let wv = View::row_major(w, o, ck);
        for q0 in (0..d.p).step_by(pl.tile) {
            let q1 = (q0 + pl.tile).min(d.p);
            let m = (q1 - q0) * n;
            // dOut of slice s (output channels o·slices + s) over this tile
            let dys = |s: usize| View {
                data: &dy[(s * d.p + q0) * n..],
                rows: o,
                cols: m,
                row_stride: d.slices * d.p * n,
                col_stride: 1,
            };
            if let Some(g) = dw.as_deref_mut() {
                let b = self.im2col_rows(d, n, x, q0, q1, col);
                for s in 0..d.slices {
                    gemm(g, ck, true, dys(s), sub_rows(b, s * k, ck).t());
                }
            }
            let Some(g) = dx.as_deref_mut().filter(|_| flip.is_none()) else { continue };
            if d.direct {
                // 1×1 filters: x's rows are the column matrix, so dIn is one GEMM
                for s in 0..d.slices {
                    gemm(&mut g[(s * d.p + q0) * n..], d.p * n, true, wv.t(), dys(s));
                }
                continue;
            }
            let dcol = &mut dcol[..self.in_channels * k * m];
            // 3D slices overlap in channels: all of them add
            if d.slices > 1 {
                dcol.fill(T::ZERO);
            }
            for s in 0..d.slices {
                gemm(&mut dcol[s * k * m..], m, d.slices > 1, wv.t(), dys(s));
            }
            self.col2im_rows(d, n, dcol, q0, q1, g);
        }
    }

    /// [`Conv2d::backward_rows`] by Winograd: dIn as the forward of the
    /// flipped convolution (stride 1, padding 2 − p: a Winograd one too).
    #[allow(clippy::too_many_arguments)]
    fn backward_winograd<T: Real>(
        &self,
        wg: &Wino,
        n: usize,
        x: &[T],
        w: &[T],
        dy: &[T],
        dx: Option<&mut [T]>,
        dw: Option<&mut [T]>,
        scratch: &mut Vec<T>,
    ) {
        let (oh, ow) = self.output_size().expect("convolution geometry is validated at plan time");
        let f = Conv2d::new(self.out_channels, self.in_channels, (3, 3), (oh, ow))
            .with_padding(2 - self.pad_h, 2 - self.pad_w);
        let fg = Wino::new(&f, n).expect("the flipped convolution of a Winograd one is one");
        let w_len = w.len();
        let len = dx.as_ref().map_or(0, |_| w_len + fg.forward_len(n)).max(dw.as_ref().map_or(0, |_| wg.grad_len(n)));
        let buf = grow(scratch, len);
        if let Some(g) = dx {
            let (fw, rest) = buf.split_at_mut(w_len);
            self.flip_weights(w, fw);
            fg.forward(n, dy, fw, g, rest);
        }
        if let Some(g) = dw {
            wg.weight_grad(n, x, dy, g, buf);
        }
    }

    fn plan_rows(&self, n: usize, tile_elements: usize) -> Plan {
        let d = self.dims().expect("convolution geometry is validated at plan time");
        let rows = self.in_channels * d.k;
        // 1×1 filters need no column buffer, so nothing bounds their tile
        let tile = if d.direct { d.p } else { (tile_elements / (rows * n).max(1)).clamp(1, d.p.max(1)) };
        Plan { d, tile }
    }

    fn col_len(&self, pl: &Plan, n: usize) -> usize {
        if pl.d.direct {
            0
        } else {
            self.in_channels * pl.d.k * pl.tile * n
        }
    }

    fn forward_tiles<T: Real>(&self, pl: &Plan, n: usize, x: &[T], w: &[T], y: &mut [T], col: &mut [T]) {
        let d = &pl.d;
        let ck = self.kc * d.k;
        let wv = View::row_major(w, self.out_channels, ck);
        for q0 in (0..d.p).step_by(pl.tile) {
            let q1 = (q0 + pl.tile).min(d.p);
            let b = self.im2col_rows(d, n, x, q0, q1, col);
            for s in 0..d.slices {
                // filter o at depth offset s writes output channel o·slices + s
                gemm(&mut y[(s * d.p + q0) * n..], d.slices * d.p * n, true, wv, sub_rows(b, s * d.k, ck));
            }
        }
    }

    /// dIn of a stride-1 convolution is itself one: dOut padded by
    /// k − 1 − p, correlated with the filters flipped and transposed. This
    /// is that convolution, when it is the faster path: dOut's im2col then
    /// has out_channels·k rows, worth it when that is no more than the
    /// input's (64→64 3×3, n = 32: 10% faster than the GEMM into a column
    /// matrix and col2im).
    fn flipped_rows(&self, d: &Dims, n: usize) -> Option<(Conv2d, Plan)> {
        let unit = self.stride_h == 1 && self.stride_w == 1 && d.slices == 1 && !d.direct;
        if !unit || self.pad_h >= self.kh || self.pad_w >= self.kw || self.out_channels > self.in_channels {
            return None;
        }
        let f = Conv2d::new(self.out_channels, self.in_channels, (self.kh, self.kw), (d.oh, d.ow))
            .with_padding(self.kh - 1 - self.pad_h, self.kw - 1 - self.pad_w);
        let fp = f.plan_rows(n, TILE_FORWARD);
        Some((f, fp))
    }

    /// W[o, c, i, j] → F[c, o, kh−1−i, kw−1−j], into `fw`.
    fn flip_weights<T: Real>(&self, w: &[T], fw: &mut [T]) {
        let (c, o, k) = (self.in_channels, self.out_channels, self.kh * self.kw);
        for (q, taps) in w.chunks(k).enumerate() {
            // reversing the flat tap index flips both axes
            let (oo, cc) = (q / c, q % c);
            fw[(cc * o + oo) * k..][..k].iter_mut().zip(taps.iter().rev()).for_each(|(a, &b)| *a = b);
        }
    }

    /// Every (filter tap, output row) piece of the output cells [q0, q1):
    /// `f(r, at, len, run)` for column-matrix row r, tile cells at..at+len;
    /// `run = Some((src, lo, hi))` when cells at+lo..at+hi read input cells
    /// src, src + stride_w, … (the rest is padding).
    #[inline(always)]
    fn taps_rows(&self, d: &Dims, q0: usize, q1: usize, mut f: impl FnMut(usize, usize, usize, RunOf)) {
        for c in 0..self.in_channels {
            for i in 0..self.kh {
                for j in 0..self.kw {
                    let r = (c * self.kh + i) * self.kw + j;
                    let (lo, hi) = valid(d.ow, self.stride_w, j, self.pad_w, self.in_w);
                    let mut q = q0;
                    while q < q1 {
                        let (oh, a) = (q / d.ow, q % d.ow);
                        let b = d.ow.min(a + q1 - q);
                        let ih = (oh * self.stride_h + i).wrapping_sub(self.pad_h);
                        let (la, lb) = (lo.max(a), hi.min(b));
                        let run = (ih < self.in_h && la < lb).then(|| {
                            ((c * self.in_h + ih) * self.in_w + la * self.stride_w + j - self.pad_w, la - a, lb - a)
                        });
                        f(r, q - q0, b - a, run);
                        q += b - a;
                    }
                }
            }
        }
    }

    /// The column matrix `[in_channels·kh·kw][(q1−q0)·n]` of output cells
    /// [q0, q1); 1×1 unpadded stride-1 filters read x itself.
    fn im2col_rows<'a, T: Real>(
        &self,
        d: &Dims,
        n: usize,
        x: &'a [T],
        q0: usize,
        q1: usize,
        col: &'a mut [T],
    ) -> View<'a, T> {
        let m = (q1 - q0) * n;
        if d.direct {
            return View { data: &x[q0 * n..], rows: self.in_channels, cols: m, row_stride: d.p * n, col_stride: 1 };
        }
        let (rows, sw) = (self.in_channels * d.k, self.stride_w);
        let col = &mut col[..rows * m];
        if self.stride_h == 1 && sw == 1 && d.ow == self.in_w {
            self.im2col_same_rows(d, n, x, q0, q1, col);
            return View::row_major(col, rows, m);
        }
        self.taps_rows(d, q0, q1, |r, at, len, run| {
            let dst = &mut col[r * m + at * n..][..len * n];
            let Some((src, lo, hi)) = run else { return dst.fill(T::ZERO) };
            dst[..lo * n].fill(T::ZERO);
            dst[hi * n..].fill(T::ZERO);
            let (dst, src) = (&mut dst[lo * n..hi * n], &x[src * n..]);
            if sw == 1 {
                // the whole piece is one run of the input row
                dst.copy_from_slice(&src[..dst.len()]);
            } else if n == 1 {
                dst.iter_mut().enumerate().for_each(|(q, v)| *v = src[q * sw]);
            } else {
                for (q, run) in dst.chunks_exact_mut(n).enumerate() {
                    run.copy_from_slice(&src[q * sw * n..][..n]);
                }
            }
        });
        View::row_major(col, rows, m)
    }

    /// [`Conv2d::im2col_rows`] for stride 1 and output as wide as the input
    /// (the usual "same" padding): output cell q reads input cell q + shift,
    /// so a tap's whole tile is one shifted run of the input, copied at once
    /// (copies of one output row, ow·n values, cost 20% of a 64→64 3×3 pass
    /// at n = 1); cells that wrapped around a row edge are zeroed after.
    fn im2col_same_rows<T: Real>(&self, d: &Dims, n: usize, x: &[T], q0: usize, q1: usize, col: &mut [T]) {
        let (w, hw, m) = (self.in_w, self.in_h * self.in_w, (q1 - q0) * n);
        for (r, row) in col.chunks_exact_mut(m).enumerate() {
            let (c, i, j) = (r / d.k, r % d.k / self.kw, r % self.kw);
            let (lo, hi) = valid(w, 1, j, self.pad_w, w);
            let shift = (i * w + j) as isize - (self.pad_h * w + self.pad_w) as isize;
            // cells whose input row lies inside the map, clipped to the channel
            let qa = (self.pad_h.saturating_sub(i) * w).clamp(q0, q1);
            let qb = ((self.in_h + self.pad_h).saturating_sub(i) * w).clamp(qa, q1);
            let ca = ((-shift).max(0) as usize).clamp(qa, qb);
            let cb = ((hw as isize - shift).max(0) as usize).clamp(ca, qb);
            row[..(ca - q0) * n].fill(T::ZERO);
            row[(cb - q0) * n..].fill(T::ZERO);
            if ca == cb {
                continue;
            }
            let src = (c * hw + ca).wrapping_add_signed(shift) * n;
            row[(ca - q0) * n..(cb - q0) * n].copy_from_slice(&x[src..src + (cb - ca) * n]);
            if lo == 0 && hi == w {
                continue;
            }
            for start in (ca / w * w..cb).step_by(w) {
                // columns [0, lo) and [hi, w) of this output row read padding
                for (a, b) in [(start, start + lo), (start + hi, start + w)] {
                    let (a, b) = (a.clamp(ca, cb), b.clamp(ca, cb));
                    row[(a - q0) * n..(b - q0) * n].fill(T::ZERO);
                }
            }
        }
    }

    /// The adjoint of [`Conv2d::im2col_rows`]: adds each entry back onto the
    /// input cell it was read from.
    fn col2im_rows<T: Real>(&self, d: &Dims, n: usize, dcol: &[T], q0: usize, q1: usize, dx: &mut [T]) {
        let (m, sw) = ((q1 - q0) * n, self.stride_w);
        vector::simd(|| {
            self.taps_rows(d, q0, q1, |r, at, _, run| {
                let Some((src, lo, hi)) = run else { return };
                let g = &dcol[r * m + (at + lo) * n..][..(hi - lo) * n];
                let dst = &mut dx[src * n..];
                if sw == 1 {
                    dst[..g.len()].iter_mut().zip(g).for_each(|(a, &v)| *a += v);
                } else {
                    for (q, run) in g.chunks_exact(n).enumerate() {
                        dst[q * sw * n..][..n].iter_mut().zip(run).for_each(|(a, &v)| *a += v);
                    }
                }
            })
        });
    }
}

/// (input cell of the first read, first and end tile cell reading it), relative to the piece
type RunOf = Option<(usize, usize, usize)>;

/// The first `len` elements of the scratch vector, grown if it is shorter.
fn grow<T: Real>(v: &mut Vec<T>, len: usize) -> &mut [T] {
    if v.len() < len {
        v.resize(len, T::ZERO);
    }
    &mut v[..len]
}

/// Rows [r0, r0 + n) of a view.
fn sub_rows<T: Real>(v: View<'_, T>, r0: usize, n: usize) -> View<'_, T> {
    View { data: &v.data[r0 * v.row_stride..], rows: n, ..v }
}

/// Output columns [lo, hi) whose tap `j` lands inside the unpadded input.
fn valid(out: usize, stride: usize, j: usize, pad: usize, len: usize) -> (usize, usize) {
    // ow·stride + j − pad ∈ [0, len)
    let hi = if len + pad > j { (len + pad - j).div_ceil(stride).min(out) } else { 0 };
    let lo = pad.saturating_sub(j).div_ceil(stride).min(hi);
    (lo, hi)
}
