//! Pooling geometry for pool edges (lecture "CNNs and the forward pass"):
//! max and average pooling with any pool size and stride (non-square
//! allowed), and Graham's fractional max pooling (arXiv 1412.6071, cited by
//! the notes) with disjoint or overlapping regions from a random or
//! pseudorandom sequence drawn from a seed. Every pooling is a set of
//! rectangular [`Regions`] applied to each `height × width` plane; the
//! engine's kernels over them are in `pool_rows`, and the plain definition
//! they are tested against is [`crate::kernels::reference::pool`].

use crate::bail;
use crate::error::Result;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

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
        crate::limits::values("pooling windows (one per output row and column)", &[oh + ow], 16)?;
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
        let windows = self.out_h + self.out_w;
        crate::limits::values("fractional pooling windows (one per output row and column)", &[windows], 32)?;
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
