//! Pooling on the engine's rows layout: each scalar of a feature map holds
//! its values for the n samples of a chunk, so a map of C×H×W is
//! `[C·H·W][n]`, sample innermost. The [`Regions`] of `pool`, and the same
//! numbers as the plain definition in [`crate::kernels::reference::pool`],
//! vectorised over the samples: every inner loop runs along one cell's n
//! contiguous values. Single-threaded (the engine parallelises over
//! chunks), allocation-free, always accumulating.

use crate::kernels::pool::Regions;
use crate::kernels::vector;
use crate::real::Real;

/// Samples per pass: a pass keeps its running max, sum or winners on the
/// stack (the engine's chunks are at most this wide, so usually one pass).
const BLOCK: usize = 64;

/// y += max over each region, per sample. A NaN wins (the first one, as in
/// `reference::pool::max_forward`, so it propagates).
pub fn max_pool_rows_forward<T: Real>(r: &Regions, channels: usize, n: usize, x: &[T], y: &mut [T]) {
    check(r, channels, n, x.len(), y.len());
    let mut best = [T::ZERO; BLOCK];
    vector::simd(|| {
        each_region(r, channels, n, |out, reg, s0, b| {
            let best = &mut best[..b];
            region_max(x, n, reg, s0, best);
            add(&mut y[out * n + s0..][..b], best);
        })
    })
}

/// best = the max over the region's cells, per sample (the first NaN wins).
#[inline(always)]
fn region_max<T: Real>(x: &[T], n: usize, reg: Region, s0: usize, best: &mut [T]) {
    let b = best.len();
    best.copy_from_slice(&x[reg.first() * n + s0..][..b]);
    reg.for_cells(|cell| {
        for (m, &v) in best.iter_mut().zip(&x[cell * n + s0..][..b]) {
            *m = if wins(v, *m) { v } else { *m };
        }
    });
}

/// dx += dy routed to each region's winner, recomputed from x with the tie
/// rule of `reference::pool::max_forward` (the first max in row-major
/// order; NaN wins).
pub fn max_pool_rows_backward<T: Real>(r: &Regions, channels: usize, n: usize, x: &[T], dy: &[T], dx: &mut [T]) {
    check(r, channels, n, x.len(), dy.len());
    assert_eq!(dx.len(), x.len(), "pooling input gradient length");
    let (mut best, mut left) = ([T::ZERO; BLOCK], [T::ZERO; BLOCK]);
    vector::simd(|| {
        each_region(r, channels, n, |out, reg, s0, b| {
            let (best, left) = (&mut best[..b], &mut left[..b]);
            region_max(x, n, reg, s0, best);
            // The gradient still to route, per sample: it goes to the first
            // cell equal to the max (NaN matching NaN), then is spent.
            // Branch-free, so it runs as vector selects.
            left.copy_from_slice(&dy[out * n + s0..][..b]);
            #[allow(clippy::eq_op)] // m != m: NaN
            let nan = best.iter().any(|&m| m != m);
            reg.for_cells(|cell| {
                let (xs, ds) = (&x[cell * n + s0..][..b], &mut dx[cell * n + s0..][..b]);
                if nan {
                    for (((d, l), &v), &m) in ds.iter_mut().zip(left.iter_mut()).zip(xs).zip(best.iter()) {
                        #[allow(clippy::eq_op)]
                        let hit = v == m || (v != v && m != m);
                        *d += if hit { *l } else { T::ZERO };
                        *l = if hit { T::ZERO } else { *l };
                    }
                } else {
                    route(ds, left, xs, best);
                }
            });
        })
    })
}

/// dx += the gradient still left where x equals the max; that gradient is
/// then spent. Plain selects on equal-length slices, so it vectorises.
#[inline(always)]
fn route<T: Real>(dx: &mut [T], left: &mut [T], x: &[T], best: &[T]) {
    let b = dx.len();
    let (left, x, best) = (&mut left[..b], &x[..b], &best[..b]);
    for s in 0..b {
        let hit = x[s] == best[s];
        let g = left[s];
        dx[s] += if hit { g } else { T::ZERO };
        left[s] = if hit { T::ZERO } else { g };
    }
}

/// y += mean over each region, per sample.
pub fn avg_pool_rows_forward<T: Real>(r: &Regions, channels: usize, n: usize, x: &[T], y: &mut [T]) {
    check(r, channels, n, x.len(), y.len());
    vector::simd(|| {
        each_region(r, channels, n, |out, reg, s0, b| {
            let mut sum = [T::ZERO; BLOCK];
            let sum = &mut sum[..b];
            reg.for_cells(|cell| add(sum, &x[cell * n + s0..][..b]));
            // sum / size, not sum · (1/size): the reference's rounding
            let size = reg.size::<T>();
            for (v, &s) in y[out * n + s0..][..b].iter_mut().zip(sum.iter()) {
                *v += s / size;
            }
        })
    })
}

/// dx += dy / |region| over every cell of each region.
pub fn avg_pool_rows_backward<T: Real>(r: &Regions, channels: usize, n: usize, dy: &[T], dx: &mut [T]) {
    check(r, channels, n, dx.len(), dy.len());
    vector::simd(|| {
        each_region(r, channels, n, |out, reg, s0, b| {
            let mut g = [T::ZERO; BLOCK];
            let g = &mut g[..b];
            let size = reg.size::<T>();
            for (gv, &d) in g.iter_mut().zip(&dy[out * n + s0..][..b]) {
                *gv = d / size;
            }
            reg.for_cells(|cell| add(&mut dx[cell * n + s0..][..b], g));
        })
    })
}

/// One pooling region of one channel: input cells `rows × cols` of the
/// plane starting at cell `base`.
#[derive(Clone, Copy)]
struct Region {
    base: usize,
    in_w: usize,
    rows: (usize, usize),
    cols: (usize, usize),
}

impl Region {
    #[inline(always)]
    fn first(&self) -> usize {
        self.base + self.rows.0 * self.in_w + self.cols.0
    }

    #[inline(always)]
    fn size<T: Real>(&self) -> T {
        T::from_f64(((self.rows.1 - self.rows.0) * (self.cols.1 - self.cols.0)) as f64)
    }

    /// `f(cell)` for the region's input cells in row-major order.
    #[inline(always)]
    fn for_cells(&self, mut f: impl FnMut(usize)) {
        for row in self.rows.0..self.rows.1 {
            for col in self.cols.0..self.cols.1 {
                f(self.base + row * self.in_w + col);
            }
        }
    }
}

/// `f(out, region, s0, b)` for every output cell `out` of every channel and
/// every block of samples s0..s0 + b.
#[inline(always)]
fn each_region(r: &Regions, channels: usize, n: usize, mut f: impl FnMut(usize, Region, usize, usize)) {
    let ((in_h, in_w), (oh, ow)) = (r.input_size(), r.output_size());
    let mut out = 0;
    for c in 0..channels {
        for &rows in r.rows() {
            for &cols in r.cols() {
                let reg = Region { base: c * in_h * in_w, in_w, rows, cols };
                for s0 in (0..n).step_by(BLOCK) {
                    f(out, reg, s0, BLOCK.min(n - s0));
                }
                out += 1;
            }
        }
    }
    debug_assert_eq!(out, channels * oh * ow);
}

/// Whether v replaces the running max m: larger, or the first NaN.
#[inline(always)]
#[allow(clippy::eq_op)] // v != v is the NaN test, and it vectorises
fn wins<T: Real>(v: T, m: T) -> bool {
    v > m || (v != v && m == m)
}

#[inline(always)]
fn add<T: Real>(dst: &mut [T], src: &[T]) {
    dst.iter_mut().zip(src).for_each(|(a, &b)| *a += b);
}

fn check(r: &Regions, channels: usize, n: usize, input: usize, output: usize) {
    let ((in_h, in_w), (oh, ow)) = (r.input_size(), r.output_size());
    assert_eq!(input, channels * in_h * in_w * n, "pooling input length");
    assert_eq!(output, channels * oh * ow * n, "pooling output length");
}
