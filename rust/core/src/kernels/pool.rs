//! Pooling kernels for pool edges (lecture "CNNs and the forward pass"): max
//! and average pooling with any pool size and stride (non-square allowed),
//! and Graham's fractional max pooling (arXiv 1412.6071, cited by the notes)
//! with disjoint or overlapping regions from a random or pseudorandom
//! sequence drawn from a seed. Every pooling is a set of rectangular
//! [`Regions`] applied to each `height × width` plane of a
//! `[batch, channels, height, width]` tensor; forward and backward side by
//! side. Planes are independent, so results do not depend on threads.

use crate::bail;
use crate::error::Result;
use crate::real::Real;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Planes per parallel task.
const PLANES: usize = 16;

/// Rectangular pooling regions: output cell (i, j) pools input rows
/// `rows[i].0 .. rows[i].1` and columns `cols[j].0 .. cols[j].1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Regions {
    in_h: usize,
    in_w: usize,
    rows: Vec<(usize, usize)>,
    cols: Vec<(usize, usize)>,
}

impl Regions {
    /// (out_h, out_w)
    pub fn output_size(&self) -> (usize, usize) {
        (self.rows.len(), self.cols.len())
    }

    /// (in_h, in_w)
    pub fn input_size(&self) -> (usize, usize) {
        (self.in_h, self.in_w)
    }

    /// Input row ranges, one per output row (half-open).
    pub fn rows(&self) -> &[(usize, usize)] {
        &self.rows
    }

    /// Input column ranges, one per output column (half-open).
    pub fn cols(&self) -> &[(usize, usize)] {
        &self.cols
    }

    fn check<T>(&self, planes: usize, input: &[T], output: usize, what: (&str, &str)) -> Result<()> {
        let (in_len, out_len) = (self.in_h * self.in_w, self.rows.len() * self.cols.len());
        if planes.checked_mul(in_len) != Some(input.len()) {
            bail!(Shape, "pooling {} has length {}, expected {planes} × {in_len}", what.0, input.len());
        }
        if planes.checked_mul(out_len) != Some(output) {
            bail!(Shape, "pooling {} has length {output}, expected {planes} × {out_len}", what.1);
        }
        Ok(())
    }
}

/// Ordinary pooling: a `ph × pw` window moved by `sh`, `sw`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2d {
    pub ph: usize,
    pub pw: usize,
    pub sh: usize,
    pub sw: usize,
    pub in_h: usize,
    pub in_w: usize,
}

impl Pool2d {
    pub fn new(pool: (usize, usize), stride: (usize, usize), input: (usize, usize)) -> Self {
        Pool2d { ph: pool.0, pw: pool.1, sh: stride.0, sw: stride.1, in_h: input.0, in_w: input.1 }
    }

    /// ((in − pool) / stride + 1) per axis; windows that do not tile the
    /// input exactly are an error (as for filters, sizes must fit).
    pub fn output_size(&self) -> Result<(usize, usize)> {
        Ok((axis("height", self.in_h, self.ph, self.sh)?, axis("width", self.in_w, self.pw, self.sw)?))
    }

    pub fn regions(&self) -> Result<Regions> {
        let (oh, ow) = self.output_size()?;
        let ranges = |n: usize, p: usize, s: usize| (0..n).map(|i| (i * s, i * s + p)).collect();
        Ok(Regions {
            in_h: self.in_h,
            in_w: self.in_w,
            rows: ranges(oh, self.ph, self.sh),
            cols: ranges(ow, self.pw, self.sw),
        })
    }
}

fn axis(name: &str, len: usize, pool: usize, stride: usize) -> Result<usize> {
    if len == 0 || pool == 0 || stride == 0 {
        bail!(Shape, "pooling input {name}, pool {name} and stride must be positive (got {len}, {pool}, {stride})");
    }
    if pool > len || !(len - pool).is_multiple_of(stride) {
        bail!(Shape, "pool {name} {pool} with stride {stride} does not tile the input {name} {len}");
    }
    Ok((len - pool) / stride + 1)
}

/// How fractional max pooling draws its sequence of region boundaries
/// 0 = a₀ < a₁ < … < a_out = in, whose increments are ⌊α⌋ or ⌈α⌉, α = in / out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FmpSequence {
    /// The increments in a uniformly random order.
    Random,
    /// a_i = ⌈α(i + u)⌉ − ⌈αu⌉ for one uniform u ∈ (0, 1).
    Pseudorandom,
}

/// Fractional max pooling from `in_h × in_w` down to `out_h × out_w`
/// (1 ≤ out ≤ in), rows and columns drawn independently. Disjoint regions
/// are [a_i, a_{i+1}); overlapping ones also take the next boundary cell,
/// [a_i, a_{i+1}] (clipped to the input), as in Graham's paper. The notes'
/// point is fresh regions on every forward pass: pass a new seed each time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FractionalPool {
    pub in_h: usize,
    pub in_w: usize,
    pub out_h: usize,
    pub out_w: usize,
    pub sequence: FmpSequence,
    pub overlapping: bool,
}

impl FractionalPool {
    pub fn new(
        input: (usize, usize),
        output: (usize, usize),
        sequence: FmpSequence,
        overlapping: bool,
    ) -> Result<Self> {
        let f =
            FractionalPool { in_h: input.0, in_w: input.1, out_h: output.0, out_w: output.1, sequence, overlapping };
        f.check().map(|_| f)
    }

    fn check(&self) -> Result<()> {
        for (name, i, o) in [("height", self.in_h, self.out_h), ("width", self.in_w, self.out_w)] {
            if o == 0 || o > i {
                bail!(Shape, "fractional pooling output {name} {o} must be in 1..={i} (the input {name})");
            }
        }
        Ok(())
    }

    /// Output ⌊in / α⌋ (at least 1) per axis, for a ratio α ≥ 1 (√2 in the notes' figures).
    pub fn with_ratio(input: (usize, usize), alpha: f64, sequence: FmpSequence, overlapping: bool) -> Result<Self> {
        if !(alpha.is_finite() && alpha >= 1.0) {
            bail!(Config, "fractional pooling ratio must be a number ≥ 1, got {alpha}");
        }
        let out = |n: usize| ((n as f64 / alpha).floor() as usize).max(1).min(n);
        Self::new(input, (out(input.0), out(input.1)), sequence, overlapping)
    }

    /// The regions for one forward pass; the same seed gives the same regions.
    pub fn regions(&self, seed: u64) -> Result<Regions> {
        self.check()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let rows = self.ranges(self.in_h, self.out_h, &mut rng);
        let cols = self.ranges(self.in_w, self.out_w, &mut rng);
        Ok(Regions { in_h: self.in_h, in_w: self.in_w, rows, cols })
    }

    fn ranges(&self, n_in: usize, n_out: usize, rng: &mut ChaCha8Rng) -> Vec<(usize, usize)> {
        let bounds: Vec<usize> = match self.sequence {
            FmpSequence::Random => {
                let (q, r) = (n_in / n_out, n_in % n_out);
                let mut inc: Vec<usize> = (0..n_out).map(|i| if i < r { q + 1 } else { q }).collect();
                for i in (1..n_out).rev() {
                    inc.swap(i, rng.random_range(0..=i));
                }
                std::iter::once(0)
                    .chain(inc.iter().scan(0, |a, &d| {
                        *a += d;
                        Some(*a)
                    }))
                    .collect()
            }
            FmpSequence::Pseudorandom => {
                // u = j / 2³² in exact integer arithmetic, so a_out = in exactly
                const DEN: u128 = 1 << 32;
                let j = u128::from(rng.random_range(1..u32::MAX));
                let (n, m) = (n_in as u128, n_out as u128);
                let ceil = |i: u128| (n * (i * DEN + j)).div_ceil(m * DEN);
                (0..=n_out).map(|i| (ceil(i as u128) - ceil(0)) as usize).collect()
            }
        };
        let extra = usize::from(self.overlapping);
        bounds.windows(2).map(|w| (w[0], (w[1] + extra).min(n_in))).collect()
    }
}

/// Max over each region of each plane; `argmax` gets the winner's index
/// within its plane (`row · in_w + col`), the first in row-major order on
/// ties. A NaN in a region wins (it propagates).
pub fn max_pool_forward<T: Real>(
    r: &Regions,
    planes: usize,
    input: &[T],
    out: &mut [T],
    argmax: &mut [u32],
) -> Result<()> {
    r.check(planes, input, out.len(), ("input", "output"))?;
    r.check(planes, input, argmax.len(), ("input", "argmax"))?;
    let (in_len, out_len) = (r.in_h * r.in_w, r.rows.len() * r.cols.len());
    if u32::try_from(in_len).is_err() {
        bail!(Shape, "pooling plane of {in_len} cells is too large for u32 argmax indices");
    }
    if out_len == 0 {
        return Ok(());
    }
    out.par_chunks_mut(PLANES * out_len)
        .zip(argmax.par_chunks_mut(PLANES * out_len))
        .zip(input.par_chunks(PLANES * in_len))
        .for_each(|((y, idx), x)| {
            for ((yp, ip), xp) in y.chunks_mut(out_len).zip(idx.chunks_mut(out_len)).zip(x.chunks(in_len)) {
                let mut o = 0;
                for &(r0, r1) in &r.rows {
                    for &(c0, c1) in &r.cols {
                        let (mut best, mut at) = (xp[r0 * r.in_w + c0], r0 * r.in_w + c0);
                        for row in r0..r1 {
                            for (c, &v) in xp[row * r.in_w..][c0..c1].iter().enumerate() {
                                // a NaN wins (the first one) and propagates
                                if v > best || (is_nan(v) && !is_nan(best)) {
                                    (best, at) = (v, row * r.in_w + c0 + c);
                                }
                            }
                        }
                        (yp[o], ip[o]) = (best, at as u32);
                        o += 1;
                    }
                }
            }
        });
    Ok(())
}

/// dIn[argmax] += dOut: each output's gradient goes to the cell that won.
pub fn max_pool_backward<T: Real>(
    r: &Regions,
    planes: usize,
    d_out: &[T],
    argmax: &[u32],
    d_in: &mut [T],
) -> Result<()> {
    r.check(planes, d_in, d_out.len(), ("input gradient", "output gradient"))?;
    r.check(planes, d_in, argmax.len(), ("input gradient", "argmax"))?;
    let (in_len, out_len) = (r.in_h * r.in_w, r.rows.len() * r.cols.len());
    if let Some(&bad) = argmax.iter().find(|&&i| i as usize >= in_len) {
        bail!(Shape, "argmax index {bad} is outside the {in_len}-cell pooling plane");
    }
    if out_len == 0 {
        return Ok(());
    }
    d_in.par_chunks_mut(PLANES * in_len)
        .zip(d_out.par_chunks(PLANES * out_len))
        .zip(argmax.par_chunks(PLANES * out_len))
        .for_each(|((gx, gy), idx)| {
            for ((gxp, gyp), ip) in gx.chunks_mut(in_len).zip(gy.chunks(out_len)).zip(idx.chunks(out_len)) {
                for (&g, &i) in gyp.iter().zip(ip) {
                    gxp[i as usize] += g;
                }
            }
        });
    Ok(())
}

/// Mean over each region of each plane (divided by the region's size).
pub fn avg_pool_forward<T: Real>(r: &Regions, planes: usize, input: &[T], out: &mut [T]) -> Result<()> {
    r.check(planes, input, out.len(), ("input", "output"))?;
    let (in_len, out_len) = (r.in_h * r.in_w, r.rows.len() * r.cols.len());
    if out_len == 0 {
        return Ok(());
    }
    out.par_chunks_mut(PLANES * out_len).zip(input.par_chunks(PLANES * in_len)).for_each(|(y, x)| {
        for (yp, xp) in y.chunks_mut(out_len).zip(x.chunks(in_len)) {
            let mut o = 0;
            for &(r0, r1) in &r.rows {
                for &(c0, c1) in &r.cols {
                    let mut s = T::ZERO;
                    for row in r0..r1 {
                        for &v in &xp[row * r.in_w..][c0..c1] {
                            s += v;
                        }
                    }
                    yp[o] = s / T::from_f64(((r1 - r0) * (c1 - c0)) as f64);
                    o += 1;
                }
            }
        }
    });
    Ok(())
}

/// dIn += dOut / |region| over every cell of each region.
pub fn avg_pool_backward<T: Real>(r: &Regions, planes: usize, d_out: &[T], d_in: &mut [T]) -> Result<()> {
    r.check(planes, d_in, d_out.len(), ("input gradient", "output gradient"))?;
    let (in_len, out_len) = (r.in_h * r.in_w, r.rows.len() * r.cols.len());
    if out_len == 0 {
        return Ok(());
    }
    d_in.par_chunks_mut(PLANES * in_len).zip(d_out.par_chunks(PLANES * out_len)).for_each(|(gx, gy)| {
        for (gxp, gyp) in gx.chunks_mut(in_len).zip(gy.chunks(out_len)) {
            let mut o = 0;
            for &(r0, r1) in &r.rows {
                for &(c0, c1) in &r.cols {
                    let g = gyp[o] / T::from_f64(((r1 - r0) * (c1 - c0)) as f64);
                    for row in r0..r1 {
                        gxp[row * r.in_w..][c0..c1].iter_mut().for_each(|v| *v += g);
                    }
                    o += 1;
                }
            }
        }
    });
    Ok(())
}

fn is_nan<T: PartialOrd>(v: T) -> bool {
    v.partial_cmp(&v).is_none()
}
