//! Winograd F(2×2, 3×3) (Lavin & Gray, 2015) for 3×3 stride-1 filters on
//! the rows layout. Each 2×2 block of output cells (a *tile*) comes from a
//! 4×4 input patch through 16 elementwise products instead of 36 taps, so
//! all three passes do 2.25× fewer multiplies than im2col + GEMM. Summed
//! over channels, the products are 16 GEMMs, one per point ξ of the 4×4
//! transform, over a panel of tiles small enough to stay in L2:
//!
//! - forward: M_ξ = U_ξ · V_ξ with U = G g Gᵀ (filters) and V = Bᵀ d B
//!   (patches), then y += Aᵀ M A;
//! - dIn: the forward of dOut with the flipped, transposed filters
//!   (padding 2 − p), as for im2col;
//! - dW: dU_ξ += dM_ξ · V_ξᵀ with dM = A dY Aᵀ, then dw += Gᵀ dU G.
//!
//! A GEMM column is a (tile, sample) pair, samples innermost as in the rows
//! layout, so every transform is a loop over the n contiguous samples of a
//! cell. The GEMMs are the register-tiled kernel of `micro`.

use super::micro::{gemm, Shape, MR, NR_PAD};
use super::Conv2d;
use crate::kernels::vector;
use crate::real::Real;
use std::any::TypeId;

/// The 16 matrices of a panel (one per ξ) lie this many elements further
/// apart than their size: at a multiple of 4 KiB apart, the 16 rows a
/// transform reads or writes per tile would share one L1 set (8 ways).
fn skew(len: usize) -> usize {
    len + 16
}

/// A convolution Winograd handles, with its tile grid.
pub(super) struct Wino {
    c: usize,
    o: usize,
    o_pad: usize,
    h: usize,
    w: usize,
    ph: usize,
    pw: usize,
    oh: usize,
    ow: usize,
    tw: usize,
    tiles: usize,
}

impl Wino {
    /// Some for 3×3, stride 1, full-depth filters with padding ≤ 2 (so dIn
    /// is one too), enough channels on both sides that the transforms are
    /// small beside the GEMMs, and two samples or more (one sample's
    /// transforms cannot use vectors: 64→64 on 32×32 at n = 1 is 20% slower
    /// than im2col, 20% faster from n = 2); None leaves it to im2col.
    pub(super) fn new(g: &Conv2d, n: usize) -> Option<Wino> {
        let fits = g.kh == 3 && g.kw == 3 && g.stride_h == 1 && g.stride_w == 1 && g.kc == g.in_channels;
        if !fits || n < 2 || g.pad_h > 2 || g.pad_w > 2 || g.in_channels < 16 || g.out_channels < 16 {
            return None;
        }
        let (oh, ow) = g.output_size().ok()?;
        let (th, tw) = (oh.div_ceil(2), ow.div_ceil(2));
        Some(Wino {
            c: g.in_channels,
            o: g.out_channels,
            o_pad: g.out_channels.next_multiple_of(MR),
            h: g.in_h,
            w: g.in_w,
            ph: g.pad_h,
            pw: g.pad_w,
            oh,
            ow,
            tw,
            tiles: th * tw,
        })
    }

    /// Tiles per panel: V and M (or VT and dM) together about 512 KiB of
    /// f32, half of a Zen 4 core's L2, with U_ξ beside them.
    fn panel_tiles(&self, n: usize) -> usize {
        let cols = (1 << 17) / (16 * (self.c.next_multiple_of(NR_PAD) + self.o_pad));
        (cols / n).clamp(1, self.tiles)
    }

    /// Scratch elements of [`Wino::forward`].
    pub(super) fn forward_len(&self, n: usize) -> usize {
        let pc = (self.panel_tiles(n) * n).next_multiple_of(NR_PAD);
        16 * (self.o_pad * self.c + skew(self.c * pc) + skew(self.o_pad * pc) + n)
    }

    /// Scratch elements of [`Wino::weight_grad`].
    pub(super) fn grad_len(&self, n: usize) -> usize {
        let pc = (self.panel_tiles(n) * n).next_multiple_of(NR_PAD);
        let cp = self.c.next_multiple_of(NR_PAD);
        16 * (self.o_pad * cp + skew(pc * cp) + skew(self.o_pad * pc) + 8 * n)
    }

    /// y += conv(x) with the filters `w` `[o][c][3][3]`.
    pub(super) fn forward<T: Real>(&self, n: usize, x: &[T], w: &[T], y: &mut [T], buf: &mut [T]) {
        let (c, op) = (self.c, self.o_pad);
        let pt = self.panel_tiles(n);
        let pc = (pt * n).next_multiple_of(NR_PAD);
        let (u, rest) = buf.split_at_mut(16 * op * c);
        let (vs, ms) = (skew(c * pc), skew(op * pc));
        let (v, rest) = rest.split_at_mut(16 * vs);
        let (m, patch) = rest.split_at_mut(16 * ms);
        vector::simd(
            #[inline(always)]
            || {
                self.filter_transform(w, u);
                for t0 in (0..self.tiles).step_by(pt) {
                    let t1 = (t0 + pt).min(self.tiles);
                    self.input_transform(n, x, t0, t1, v, (vs, pc, 1), patch);
                    let cols = ((t1 - t0) * n).next_multiple_of(NR_PAD);
                    let next = self.panel_region((t1 < self.tiles).then(|| (t1, (t1 + pt).min(self.tiles))), false);
                    let out = self.panel_region(Some((t0, t1)), true);
                    for xi in 0..16 {
                        // while the GEMMs run, the next panel's input and this one's output
                        prefetch(x, n, (self.h, self.w), next, (xi * c / 16, (xi + 1) * c / 16));
                        prefetch(y, n, (self.oh, self.ow), out, (xi * self.o / 16, (xi + 1) * self.o / 16));
                        let (a, b) = (&u[xi * op * c..][..op * c], &v[xi * vs..][..c * pc]);
                        let shape = Shape { m: op, nc: cols, k: c, lda: c, ldb: pc, ldc: pc, accumulate: false };
                        gemm(shape, a, b, &mut m[xi * ms..][..op * pc]);
                    }
                    self.output_transform(n, m, pc, t0, t1, y);
                }
            },
        )
    }

    /// dw += ∂/∂w of Σ dy·conv(x).
    pub(super) fn weight_grad<T: Real>(&self, n: usize, x: &[T], dy: &[T], dw: &mut [T], buf: &mut [T]) {
        let (c, op) = (self.c, self.o_pad);
        let cp = c.next_multiple_of(NR_PAD);
        let pt = self.panel_tiles(n);
        let pc = (pt * n).next_multiple_of(NR_PAD);
        let (du, rest) = buf.split_at_mut(16 * op * cp);
        let (vs, ms) = (skew(pc * cp), skew(op * pc));
        let (vt, rest) = rest.split_at_mut(16 * vs);
        let (dm, patch) = rest.split_at_mut(16 * ms);
        // padded channels of VT and padded filters of dM stay zero
        du.fill(T::ZERO);
        vt.fill(T::ZERO);
        dm.fill(T::ZERO);
        vector::simd(
            #[inline(always)]
            || {
                for t0 in (0..self.tiles).step_by(pt) {
                    let t1 = (t0 + pt).min(self.tiles);
                    let k = (t1 - t0) * n;
                    self.input_transform(n, x, t0, t1, vt, (vs, 1, cp), patch);
                    patch[..n].fill(T::ZERO);
                    self.grad_transform(n, dy, pc, t0, t1, dm, &patch[..n]);
                    let next = (t1 < self.tiles).then(|| (t1, (t1 + pt).min(self.tiles)));
                    let (next_in, next_out) = (self.panel_region(next, false), self.panel_region(next, true));
                    for xi in 0..16 {
                        // while the GEMMs run, the next panel's input and output gradient
                        prefetch(x, n, (self.h, self.w), next_in, (xi * c / 16, (xi + 1) * c / 16));
                        prefetch(dy, n, (self.oh, self.ow), next_out, (xi * self.o / 16, (xi + 1) * self.o / 16));
                        let (a, b) = (&dm[xi * ms..][..op * pc], &vt[xi * vs..][..pc * cp]);
                        let shape = Shape { m: op, nc: cp, k, lda: pc, ldb: cp, ldc: cp, accumulate: true };
                        gemm(shape, a, b, &mut du[xi * op * cp..][..op * cp]);
                    }
                }
                self.filter_grad(du, cp, dw);
            },
        )
    }

    /// The cells tiles [t0, t1) read (`out` false: rows and columns of the
    /// input) or write (`out`: of the output), as (r0, r1, c0, c1) clipped to
    /// the map; empty for None.
    fn panel_region(&self, tiles: Option<(usize, usize)>, out: bool) -> (usize, usize, usize, usize) {
        let Some((t0, t1)) = tiles else { return (0, 0, 0, 0) };
        let (ty0, ty1) = (t0 / self.tw, (t1 - 1) / self.tw);
        let (tx0, tx1) = if ty0 == ty1 { (t0 % self.tw, (t1 - 1) % self.tw) } else { (0, self.tw - 1) };
        if out {
            (2 * ty0, (2 * ty1 + 2).min(self.oh), 2 * tx0, (2 * tx1 + 2).min(self.ow))
        } else {
            let (r1, c1) = ((2 * ty1 + 4).saturating_sub(self.ph), (2 * tx1 + 4).saturating_sub(self.pw));
            ((2 * ty0).saturating_sub(self.ph), r1.min(self.h), (2 * tx0).saturating_sub(self.pw), c1.min(self.w))
        }
    }

    /// U_ξ[o][c] = (G g G^T)[ξ] for each filter slice g, rows ≥ o zero.
    #[inline(always)]
    fn filter_transform<T: Real>(&self, w: &[T], u: &mut [T]) {
        let (c, op) = (self.c, self.o_pad);
        let half = T::from_f64(0.5);
        // G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1] on a column of three
        let g = |a: T, b: T, d: T| [a, (a + b + d) * half, (a - b + d) * half, d];
        for o in 0..op {
            for ci in 0..c {
                let mut t = [[T::ZERO; 4]; 4];
                if o < self.o {
                    let f = &w[(o * c + ci) * 9..][..9];
                    let cols = [0, 1, 2].map(|j| g(f[j], f[3 + j], f[6 + j]));
                    for (a, row) in t.iter_mut().enumerate() {
                        *row = g(cols[0][a], cols[1][a], cols[2][a]);
                    }
                }
                for (xi, &val) in t.iter().flatten().enumerate() {
                    u[(xi * op + o) * c + ci] = val;
                }
            }
        }
    }

    /// dw[o][c] += G^T dU[o][c] G.
    #[inline(always)]
    fn filter_grad<T: Real>(&self, du: &[T], cp: usize, dw: &mut [T]) {
        let (c, op) = (self.c, self.o_pad);
        let half = T::from_f64(0.5);
        // G^T = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1] on a column of four
        let gt = |a: T, b: T, d: T, e: T| [a + (b + d) * half, (b - d) * half, (b + d) * half + e];
        for o in 0..self.o {
            for ci in 0..c {
                let at = |xi: usize| du[(xi * op + o) * cp + ci];
                let cols = [0, 1, 2, 3].map(|b| gt(at(b), at(4 + b), at(8 + b), at(12 + b)));
                let f = &mut dw[(o * c + ci) * 9..][..9];
                for i in 0..3 {
                    let r = gt(cols[0][i], cols[1][i], cols[2][i], cols[3][i]);
                    for j in 0..3 {
                        f[i * 3 + j] += r[j];
                    }
                }
            }
        }
    }

    /// V = B^T d B of every channel's patch of tiles [t0, t1): value ξ of
    /// channel ci at panel column q goes to `v[ξ·s0 + ci·s1 + q·s2]`
    /// (`[ξ][c][column]` for the forward, `[ξ][column][c]` for dW).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn input_transform<T: Real>(
        &self,
        n: usize,
        x: &[T],
        t0: usize,
        t1: usize,
        v: &mut [T],
        (s0, s1, s2): (usize, usize, usize),
        patch: &mut [T],
    ) {
        let last = 15 * s0 + (self.c - 1) * s1 + ((t1 - t0) * n - 1) * s2;
        assert!(last < v.len(), "winograd panel");
        assert_eq!(x.len(), self.c * self.h * self.w * n, "winograd input");
        // dW's [ξ][column][c]: eight channels at a time, whose 8 × 8 blocks
        // of (channel, sample) transpose in registers into runs of VT's rows
        let c8 = if s1 == 1 && n >= LANES { self.c / 8 * 8 } else { 0 };
        for ci in (0..c8).step_by(8) {
            for t in t0..t1 {
                let mut rows: [[&[T]; 4]; 8] = [[&[]; 4]; 8];
                for (k, piece) in patch.chunks_exact_mut(16 * n).take(8).enumerate() {
                    rows[k] = self.patch_rows(n, x, ci + k, t, piece);
                }
                let col = (t - t0) * n;
                let mut q = 0;
                while q + LANES <= n {
                    // [ξ][channel][sample]: each block is stored and reloaded
                    // whole vectors at a time (a wider reload of narrower
                    // stores would stall on store forwarding)
                    let mut stage = [[[T::ZERO; 8]; 8]; 16];
                    for (k, r) in rows.iter().enumerate() {
                        for (xi, val) in b_transform::<T, LANES>(r, n, q).iter().enumerate() {
                            stage[xi][k] = val.0;
                        }
                    }
                    for (xi, blk) in stage.iter_mut().enumerate() {
                        transpose8(blk);
                        for (l, run) in blk.iter().enumerate() {
                            let at = xi * s0 + (col + q + l) * s2 + ci;
                            v[at..at + 8].copy_from_slice(run);
                        }
                    }
                    q += LANES;
                }
                for q in q..n {
                    for (k, r) in rows.iter().enumerate() {
                        // SAFETY: as below, the channel and column inside the panel
                        unsafe { store_v(v, &b_transform::<T, 1>(r, n, q), (ci + k) * s1 + col * s2, (s0, s2), q) };
                    }
                }
            }
        }
        let patch = &mut patch[..16 * n];
        for ci in c8..self.c {
            for t in t0..t1 {
                let rows = self.patch_rows(n, x, ci, t, patch);
                let base = ci * s1 + (t - t0) * n * s2;
                let mut q = 0;
                while q + LANES <= n {
                    // SAFETY: ci < c and column < (t1 − t0)·n: at most `last`, checked above
                    unsafe { store_v(v, &b_transform::<T, LANES>(&rows, n, q), base, (s0, s2), q) };
                    q += LANES;
                }
                for q in q..n {
                    // SAFETY: as above
                    unsafe { store_v(v, &b_transform::<T, 1>(&rows, n, q), base, (s0, s2), q) };
                }
            }
        }
    }

    /// The four rows (4 cells of n samples) of channel ci's patch for tile
    /// t: read in place where whole, else gathered into `patch` with zeros
    /// for the padding.
    #[inline(always)]
    fn patch_rows<'a, T: Real>(&self, n: usize, x: &'a [T], ci: usize, t: usize, patch: &'a mut [T]) -> [&'a [T]; 4] {
        let (h, w) = (self.h, self.w);
        let (ty, tx) = (t / self.tw, t % self.tw);
        let (r0, c0) = ((2 * ty) as isize - self.ph as isize, (2 * tx) as isize - self.pw as isize);
        let inside = c0 >= 0 && c0 as usize + 4 <= w;
        let whole = |a: usize| {
            let r = r0 + a as isize;
            inside && r >= 0 && (r as usize) < h
        };
        for (a, pr) in patch[..16 * n].chunks_exact_mut(4 * n).enumerate() {
            if whole(a) {
                continue;
            }
            pr.fill(T::ZERO);
            let r = r0 + a as isize;
            if r < 0 || r as usize >= h {
                continue;
            }
            for b in 0..4 {
                let col = c0 + b as isize;
                if col >= 0 && (col as usize) < w {
                    let src = ((ci * h + r as usize) * w + col as usize) * n;
                    pr[b * n..][..n].copy_from_slice(&x[src..src + n]);
                }
            }
        }
        let patch: &'a [T] = patch;
        std::array::from_fn(|a| {
            if whole(a) {
                let src = ((ci * h + (r0 + a as isize) as usize) * w + c0 as usize) * n;
                &x[src..src + 4 * n]
            } else {
                &patch[a * 4 * n..][..4 * n]
            }
        })
    }

    /// y += A^T M A of every filter's tiles [t0, t1), clipped to the map.
    #[inline(always)]
    fn output_transform<T: Real>(&self, n: usize, m: &[T], pc: usize, t0: usize, t1: usize, y: &mut [T]) {
        let (op, oh, ow) = (self.o_pad, self.oh, self.ow);
        assert_eq!(y.len(), self.o * oh * ow * n, "winograd output");
        let ms = skew(op * pc);
        assert!(16 * ms <= m.len() && (t1 - t0) * n <= pc, "winograd panel");
        for o in 0..self.o {
            for t in t0..t1 {
                let (oy, ox) = (2 * (t / self.tw), 2 * (t % self.tw));
                let col = (t - t0) * n;
                let (two_rows, two_cols) = (oy + 1 < oh, ox + 1 < ow);
                // rows oy and oy+1 of the tile, each its cells' 2n values
                let at0 = ((o * oh + oy) * ow + ox) * n;
                let (top, bottom) = if two_rows {
                    let (a, b) = y[at0..].split_at_mut(ow * n);
                    (a, Some(b))
                } else {
                    (&mut y[at0..], None)
                };
                let width = if two_cols { 2 * n } else { n };
                let top = &mut top[..width];
                let mut bottom = bottom.map(|b| &mut b[..width]);
                let mut q = 0;
                while q + LANES <= n {
                    // SAFETY: o < o_pad and col + q + W ≤ pc, in the panel as checked above
                    let out = unsafe { a_transform::<T, LANES>(m, o * pc + col + q, ms) };
                    add_y(top, bottom.as_deref_mut(), two_cols, n, q, &out);
                    q += LANES;
                }
                for q in q..n {
                    // SAFETY: as above
                    let out = unsafe { a_transform::<T, 1>(m, o * pc + col + q, ms) };
                    add_y(top, bottom.as_deref_mut(), two_cols, n, q, &out);
                }
            }
        }
    }

    /// dM = A dY A^T of every filter's tiles [t0, t1) into `dm[ξ][o][column]`
    /// (cells outside the map read as zero).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn grad_transform<T: Real>(&self, n: usize, dy: &[T], pc: usize, t0: usize, t1: usize, dm: &mut [T], zeros: &[T]) {
        let (op, oh, ow) = (self.o_pad, self.oh, self.ow);
        assert_eq!(dy.len(), self.o * oh * ow * n, "winograd output gradient");
        let ms = skew(op * pc);
        assert!(16 * ms <= dm.len() && (t1 - t0) * n <= pc, "winograd panel");
        assert_eq!(zeros.len(), n, "winograd zeros");
        for o in 0..self.o {
            for t in t0..t1 {
                let (oy, ox) = (2 * (t / self.tw), 2 * (t % self.tw));
                let col = (t - t0) * n;
                let cell = |i: usize, j: usize| -> &[T] {
                    if oy + i < oh && ox + j < ow {
                        &dy[((o * oh + oy + i) * ow + ox + j) * n..][..n]
                    } else {
                        zeros
                    }
                };
                let g = [cell(0, 0), cell(0, 1), cell(1, 0), cell(1, 1)];
                let at = o * pc + col;
                let mut q = 0;
                while q + LANES <= n {
                    // SAFETY: o < o_pad and col + q + W ≤ pc: inside the 16 matrices, checked above
                    unsafe { store_v(dm, &at_transform::<T, LANES>(&g, q), at, (ms, 1), q) };
                    q += LANES;
                }
                for q in q..n {
                    // SAFETY: as above
                    unsafe { store_v(dm, &at_transform::<T, 1>(&g, q), at, (ms, 1), q) };
                }
            }
        }
    }
}

/// Asks for channels [k0, k1) of the cells `(r0, r1, c0, c1)` of a map
/// (hh × ww cells of n samples) to be brought into L2. A panel's input and
/// output are a few hundred runs of a few cache lines each, one per channel
/// and row, too scattered for the hardware prefetchers: without this the
/// transforms wait on L3.
#[inline(always)]
fn prefetch<T>(
    map: &[T],
    n: usize,
    (hh, ww): (usize, usize),
    cells: (usize, usize, usize, usize),
    (k0, k1): (usize, usize),
) {
    let (r0, r1, c0, c1) = cells;
    if r0 >= r1 || c0 >= c1 {
        return;
    }
    let line = (64 / size_of::<T>()).max(1);
    for k in k0..k1 {
        for r in r0..r1 {
            let (a, b) = (((k * hh + r) * ww + c0) * n, ((k * hh + r) * ww + c1) * n);
            for at in (a..b.min(map.len())).step_by(line) {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: a prefetch of an address inside `map`; it reads nothing
                unsafe {
                    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T1};
                    _mm_prefetch::<_MM_HINT_T1>(map.as_ptr().add(at).cast());
                }
            }
        }
    }
}

/// Samples per step of the transforms: one AVX vector of f32 (the engine's
/// chunks are multiples of 8 samples); a tail goes one sample at a time.
const LANES: usize = 8;

/// One value of the transforms for W consecutive samples.
#[derive(Clone, Copy)]
struct Lanes<T, const W: usize>([T; W]);

impl<T: Real, const W: usize> Lanes<T, W> {
    /// `src[at..at + W]`, unchecked: the transforms' loops keep in bounds
    /// by construction and their callers assert the slices' lengths once.
    ///
    /// # Safety
    /// at + W ≤ src.len()
    #[inline(always)]
    unsafe fn load(src: &[T], at: usize) -> Self {
        debug_assert!(at + W <= src.len());
        Lanes(src.as_ptr().add(at).cast::<[T; W]>().read_unaligned())
    }

    #[inline(always)]
    fn zero() -> Self {
        Lanes([T::ZERO; W])
    }
}

impl<T: Real, const W: usize> std::ops::Add for Lanes<T, W> {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Lanes(std::array::from_fn(|l| self.0[l] + o.0[l]))
    }
}

impl<T: Real, const W: usize> std::ops::Sub for Lanes<T, W> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Lanes(std::array::from_fn(|l| self.0[l] - o.0[l]))
    }
}

impl<T: Real, const W: usize> std::ops::Neg for Lanes<T, W> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Lanes(std::array::from_fn(|l| -self.0[l]))
    }
}

/// B^T d B of samples q..q+W of a patch, whose rows are `rows` (4 cells of n).
#[inline(always)]
#[allow(clippy::needless_range_loop)] // indices as in the matrices
fn b_transform<T: Real, const W: usize>(rows: &[&[T]; 4], n: usize, q: usize) -> [Lanes<T, W>; 16] {
    assert!(q + W <= n && rows.iter().all(|r| r.len() == 4 * n));
    // SAFETY: b·n + q + W ≤ 4n, each row's length
    let d = |a: usize, b: usize| unsafe { Lanes::<T, W>::load(rows[a], b * n + q) };
    // B^T = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], down the columns…
    let mut t = [[Lanes::zero(); 4]; 4];
    for b in 0..4 {
        let (d0, d1, d2, d3) = (d(0, b), d(1, b), d(2, b), d(3, b));
        t[0][b] = d0 - d2;
        t[1][b] = d1 + d2;
        t[2][b] = d2 - d1;
        t[3][b] = d1 - d3;
    }
    // …then along the rows
    let mut out = [Lanes::zero(); 16];
    for (a, r) in t.iter().enumerate() {
        out[4 * a..4 * a + 4].copy_from_slice(&[r[0] - r[2], r[1] + r[2], r[2] - r[1], r[1] - r[3]]);
    }
    out
}

/// Transposes an 8 × 8 block in place.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // indices as in the matrices
fn transpose8<T: Real>(m: &mut [[T; 8]; 8]) {
    #[cfg(target_arch = "x86_64")]
    if TypeId::of::<T>() == TypeId::of::<f32>() && std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: T is f32 and the CPU has AVX
        return unsafe { avx::transpose8(&mut *(m as *mut [[T; 8]; 8] as *mut [[f32; 8]; 8])) };
    }
    for i in 0..8 {
        for j in i + 1..8 {
            let t = m[i][j];
            m[i][j] = m[j][i];
            m[j][i] = t;
        }
    }
}

/// A^T M A (2×2) of samples q..q+W: value ξ of M at `m[at + ξ·stride..]`.
///
/// # Safety
/// at + 15·stride + W ≤ m.len()
#[inline(always)]
#[allow(clippy::needless_range_loop)] // indices as in the matrices
unsafe fn a_transform<T: Real, const W: usize>(m: &[T], at: usize, stride: usize) -> [[Lanes<T, W>; 2]; 2] {
    let m = |xi: usize| Lanes::<T, W>::load(m, at + xi * stride);
    // A^T = [1 1 1 0; 0 1 −1 −1], down the columns…
    let mut t = [[Lanes::zero(); 4]; 2];
    for b in 0..4 {
        let (m0, m1, m2, m3) = (m(b), m(4 + b), m(8 + b), m(12 + b));
        t[0][b] = m0 + m1 + m2;
        t[1][b] = m1 - m2 - m3;
    }
    // …then along the rows
    t.map(|r| [r[0] + r[1] + r[2], r[1] - r[2] - r[3]])
}

/// A dY A^T (4×4) of samples q..q+W of a tile's four cells of dOut.
#[inline(always)]
fn at_transform<T: Real, const W: usize>(g: &[&[T]; 4], q: usize) -> [Lanes<T, W>; 16] {
    assert!(g.iter().all(|r| r.len() >= q + W));
    // SAFETY: just checked
    let y = |k: usize| unsafe { Lanes::<T, W>::load(g[k], q) };
    let (y00, y01, y10, y11) = (y(0), y(1), y(2), y(3));
    // A = [1 0; 1 1; 1 −1; 0 −1], down the columns…
    let c0 = [y00, y00 + y10, y00 - y10, -y10];
    let c1 = [y01, y01 + y11, y01 - y11, -y11];
    // …then along the rows
    let mut out = [Lanes::zero(); 16];
    for a in 0..4 {
        out[4 * a..4 * a + 4].copy_from_slice(&[c0[a], c0[a] + c1[a], c0[a] - c1[a], -c1[a]]);
    }
    out
}

/// Value ξ of samples q..q+W to `v[ξ·s0 + base + (q + l)·s2]`: one copy
/// when samples are contiguous (s2 = 1), else a scatter.
///
/// # Safety
/// 15·s0 + base + (q + W − 1)·s2 < v.len()
#[inline(always)]
unsafe fn store_v<T: Real, const W: usize>(
    v: &mut [T],
    out: &[Lanes<T, W>; 16],
    base: usize,
    (s0, s2): (usize, usize),
    q: usize,
) {
    debug_assert!(15 * s0 + base + (q + W - 1) * s2 < v.len());
    let vp = v.as_mut_ptr();
    for (xi, val) in out.iter().enumerate() {
        let at = xi * s0 + base + q * s2;
        if s2 == 1 {
            vp.add(at).cast::<[T; W]>().write_unaligned(val.0);
        } else {
            for (l, &x) in val.0.iter().enumerate() {
                *vp.add(at + l * s2) = x;
            }
        }
    }
}

/// Adds a tile's 2×2 outputs for samples q..q+W into its rows of y (the
/// second column and row only where they lie inside the map).
#[inline(always)]
#[allow(clippy::needless_range_loop)] // indices as in the matrices
fn add_y<T: Real, const W: usize>(
    top: &mut [T],
    bottom: Option<&mut [T]>,
    two_cols: bool,
    n: usize,
    q: usize,
    out: &[[Lanes<T, W>; 2]; 2],
) {
    let add = |dst: &mut [T], v: Lanes<T, W>| {
        let dst = &mut dst[..W];
        for l in 0..W {
            dst[l] += v.0[l];
        }
    };
    add(&mut top[q..], out[0][0]);
    if two_cols {
        add(&mut top[n + q..], out[0][1]);
    }
    if let Some(bt) = bottom {
        add(&mut bt[q..], out[1][0]);
        if two_cols {
            add(&mut bt[n + q..], out[1][1]);
        }
    }
}

/// The 8 × 8 f32 transpose in AVX shuffles (24 for 64 values).
#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    /// # Safety
    /// The CPU has AVX.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn transpose8(m: &mut [[f32; 8]; 8]) {
        let r: [__m256; 8] = std::array::from_fn(|i| _mm256_loadu_ps(m[i].as_ptr()));
        let t = [
            _mm256_unpacklo_ps(r[0], r[1]),
            _mm256_unpackhi_ps(r[0], r[1]),
            _mm256_unpacklo_ps(r[2], r[3]),
            _mm256_unpackhi_ps(r[2], r[3]),
            _mm256_unpacklo_ps(r[4], r[5]),
            _mm256_unpackhi_ps(r[4], r[5]),
            _mm256_unpacklo_ps(r[6], r[7]),
            _mm256_unpackhi_ps(r[6], r[7]),
        ];
        let u = [
            _mm256_shuffle_ps::<0x44>(t[0], t[2]),
            _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
            _mm256_shuffle_ps::<0x44>(t[1], t[3]),
            _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
            _mm256_shuffle_ps::<0x44>(t[4], t[6]),
            _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
            _mm256_shuffle_ps::<0x44>(t[5], t[7]),
            _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
        ];
        for i in 0..4 {
            _mm256_storeu_ps(m[i].as_mut_ptr(), _mm256_permute2f128_ps::<0x20>(u[i], u[i + 4]));
            _mm256_storeu_ps(m[i + 4].as_mut_ptr(), _mm256_permute2f128_ps::<0x31>(u[i], u[i + 4]));
        }
    }
}
