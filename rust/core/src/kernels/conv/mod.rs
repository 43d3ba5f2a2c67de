//! Convolution kernels for filter edges between feature maps (lecture "CNNs
//! and the forward pass"): cross-correlation with zero padding and strides,
//! tied or untied bias, an optional connection table (LeNet-5's C3), and the
//! notes' 3D filters that also slide over channels. Forward and backward
//! (dIn, dW, dBias) side by side, through im2col + GEMM on tiles of output
//! rows (dIn of stride-1 filters as the transposed convolution). Activations
//! are `[batch, channels, height, width]`, weights `[out_channels, kc, kh,
//! kw]`. Work is split into fixed chunks of samples and gradients are
//! reduced pairwise over chunks in a fixed order, so the results are bitwise
//! identical for any number of threads.

use crate::bail;
use crate::error::Result;
use crate::kernels::gemm::{gemm, View};
use crate::kernels::vector;
use crate::real::Real;
use rayon::prelude::*;

mod backward;
mod im2col;
mod rows;

/// Samples per parallel task. A constant, not a function of the thread
/// count, so every floating-point sum is the same with 1 or 64 threads.
pub const CHUNK: usize = 4;

/// Elements of one im2col tile (whole output rows, at least one) in the
/// forward pass: large, since a long GEMM beats an L2-resident tile there
/// (64→64 3×3 on 32×32 maps: 5% faster whole than in 2-row tiles).
const TILE_FORWARD: usize = 1 << 20;
/// The same for the weight gradient, where a tile that stays in L2 (with
/// its transposed GEMM operand) is 7% faster than the whole map.
const TILE_WEIGHTS: usize = 192 << 10;

/// The geometry of one convolution: `out_channels` filters of
/// `kc × kh × kw` over an input of `in_channels × in_h × in_w`.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kh: usize,
    pub kw: usize,
    /// Filter depth: `in_channels` for ordinary filters; smaller for 3D
    /// filters, which slide over channels with stride 1 and no channel
    /// padding, giving `in_channels − kc + 1` output slices per filter.
    pub kc: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pad_h: usize,
    pub pad_w: usize,
    pub in_h: usize,
    pub in_w: usize,
    /// `out_channels × kc`, true = connected. Disconnected filter slices act
    /// as zeros and get exactly zero gradient.
    pub table: Option<Vec<bool>>,
}

/// Bias added to the output: one per output channel (tied) or one per
/// output cell (untied).
#[derive(Clone, Copy, Debug)]
pub enum Bias<'a, T> {
    None,
    Tied(&'a [T]),
    Untied(&'a [T]),
}

/// Where the bias gradient goes (accumulated, `+=`).
#[derive(Debug)]
pub enum BiasGrad<'a, T> {
    None,
    Tied(&'a mut [T]),
    Untied(&'a mut [T]),
}

/// Gradients wanted from [`Conv2d::backward`]; each is accumulated (`+=`),
/// since a feature map may feed, or be fed by, several edges.
#[derive(Debug)]
pub struct ConvGrads<'a, T> {
    pub d_input: Option<&'a mut [T]>,
    pub d_weights: Option<&'a mut [T]>,
    pub d_bias: BiasGrad<'a, T>,
}

/// Sizes derived from a validated geometry.
#[derive(Clone, Copy, Debug)]
struct Dims {
    oh: usize,
    ow: usize,
    /// output cells per channel
    p: usize,
    /// kh · kw
    k: usize,
    /// output slices per filter (1 for ordinary filters)
    slices: usize,
    in_len: usize,
    out_len: usize,
    w_len: usize,
    /// output rows per im2col tile, forward and for dW
    tile_rows: usize,
    tile_rows_dw: usize,
    /// 1×1 filter, stride 1, no padding: the input already is the im2col matrix
    direct: bool,
}

impl Conv2d {
    /// An ordinary filter bank: stride 1, no padding, full depth, no table.
    pub fn new(in_channels: usize, out_channels: usize, kernel: (usize, usize), input: (usize, usize)) -> Self {
        let (kh, kw) = kernel;
        let (in_h, in_w) = input;
        Conv2d {
            in_channels,
            out_channels,
            kh,
            kw,
            kc: in_channels,
            stride_h: 1,
            stride_w: 1,
            pad_h: 0,
            pad_w: 0,
            in_h,
            in_w,
            table: None,
        }
    }

    pub fn with_stride(self, stride_h: usize, stride_w: usize) -> Self {
        Conv2d { stride_h, stride_w, ..self }
    }

    pub fn with_padding(self, pad_h: usize, pad_w: usize) -> Self {
        Conv2d { pad_h, pad_w, ..self }
    }

    /// A 3D filter of depth `kc` (see [`Conv2d::kc`]).
    pub fn with_depth(self, kc: usize) -> Self {
        Conv2d { kc, ..self }
    }

    /// A connection table, `out_channels × kc`, row-major.
    pub fn with_table(self, table: Vec<bool>) -> Self {
        Conv2d { table: Some(table), ..self }
    }

    /// (out_h, out_w) = ((in − k + 2p) / s + 1) per axis. Sizes that do not
    /// come out whole are an error: the notes leave picking maps and filters
    /// "that connect together properly" to the designer, so a mismatch is a
    /// design mistake to report, not to round away.
    pub fn output_size(&self) -> Result<(usize, usize)> {
        let d = self.dims()?;
        Ok((d.oh, d.ow))
    }

    /// Output channels: `out_channels · (in_channels − kc + 1)`; output
    /// channel `o · slices + d` is filter `o` at channel offset `d`.
    pub fn output_channels(&self) -> usize {
        self.out_channels.saturating_mul((self.in_channels + 1).saturating_sub(self.kc))
    }

    /// Number of weights, `out_channels · kc · kh · kw`.
    pub fn weight_len(&self) -> usize {
        [self.kc, self.kh, self.kw].iter().fold(self.out_channels, |a, &b| a.saturating_mul(b))
    }

    fn dims(&self) -> Result<Dims> {
        let named = [
            ("in_channels", self.in_channels),
            ("out_channels", self.out_channels),
            ("kernel height", self.kh),
            ("kernel width", self.kw),
            ("filter depth", self.kc),
            ("stride height", self.stride_h),
            ("stride width", self.stride_w),
            ("input height", self.in_h),
            ("input width", self.in_w),
        ];
        if let Some((name, _)) = named.iter().find(|(_, v)| *v == 0) {
            bail!(Shape, "convolution {name} must be positive");
        }
        if self.kc > self.in_channels {
            bail!(Shape, "filter depth {} exceeds the {} input channels", self.kc, self.in_channels);
        }
        let oh = axis_output("height", self.in_h, self.kh, self.pad_h, self.stride_h)?;
        let ow = axis_output("width", self.in_w, self.kw, self.pad_w, self.stride_w)?;
        let slices = self.in_channels - self.kc + 1;
        let size = |f: &[usize]| f.iter().try_fold(1usize, |a, &b| a.checked_mul(b));
        let (c, o) = (self.in_channels, self.out_channels);
        let sizes = [[oh, ow, 1, 1], [c, self.in_h, self.in_w, 1], [o, self.kc, self.kh, self.kw], [o, slices, oh, ow]];
        let [Some(p), Some(in_len), Some(w_len), Some(out_len)] = sizes.map(|f| size(&f)) else {
            bail!(Shape, "convolution sizes overflow");
        };
        if let Some(t) = &self.table {
            if t.len() != self.out_channels * self.kc {
                bail!(Shape, "connection table has {} entries, expected {} × {}", t.len(), self.out_channels, self.kc);
            }
        }
        let k = self.kh * self.kw;
        let rows = self.in_channels * k;
        let tile = |elements: usize| (elements / (rows * ow).max(1)).clamp(1, oh);
        let (tile_rows, tile_rows_dw) = (tile(TILE_FORWARD), tile(TILE_WEIGHTS));
        let direct = k == 1 && self.stride_h == 1 && self.stride_w == 1 && self.pad_h == 0 && self.pad_w == 0;
        Ok(Dims { oh, ow, p, k, slices, in_len, out_len, w_len, tile_rows, tile_rows_dw, direct })
    }

    /// The weights with disconnected slices zeroed (borrowed when no table).
    fn masked<'a, T: Real>(&self, w: &'a [T]) -> std::borrow::Cow<'a, [T]> {
        let Some(table) = &self.table else { return w.into() };
        let k = self.kh * self.kw;
        let mut m = w.to_vec();
        for (slice, &on) in m.chunks_mut(k).zip(table) {
            if !on {
                slice.fill(T::ZERO);
            }
        }
        m.into()
    }

    /// dIn of a stride-1 convolution is itself one: dOut padded by k − 1 − p,
    /// correlated with the filters flipped and transposed. It then runs on
    /// the forward path (im2col + GEMM straight into dIn) instead of a GEMM
    /// into a column matrix and a scatter back (col2im), which is slower.
    fn flipped<T: Real>(&self, d: &Dims, w: &[T]) -> Option<(Conv2d, Dims, Vec<T>)> {
        let unit = self.stride_h == 1 && self.stride_w == 1 && d.slices == 1;
        // dOut's im2col has out_channels·k rows: worth it when that is no
        // bigger than the input's (measured, 3×3: 1.3x faster at 64→64, 1.6x
        // at 128→64, even at 64→128; 3x slower at 1→6 and 3→32)
        if !unit || self.pad_h >= self.kh || self.pad_w >= self.kw || self.out_channels > self.in_channels {
            return None;
        }
        let (c, o, k) = (self.in_channels, self.out_channels, d.k);
        let f = Conv2d::new(o, c, (self.kh, self.kw), (d.oh, d.ow))
            .with_padding(self.kh - 1 - self.pad_h, self.kw - 1 - self.pad_w);
        let fd = f.dims().ok()?;
        let mut fw = vec![T::ZERO; w.len()];
        for (n, taps) in w.chunks(k).enumerate() {
            // W[o, c, i, j] → F[c, o, kh−1−i, kw−1−j]: reversing the flat tap index flips both axes
            let (oo, cc) = (n / c, n % c);
            fw[(cc * o + oo) * k..][..k].iter_mut().zip(taps.iter().rev()).for_each(|(a, &b)| *a = b);
        }
        Some((f, fd, fw))
    }

    /// out = [out +] Σ_c W[o, c] ⋆ in[b, c] (+ bias) for `batch` samples:
    /// `input` is `[batch, in_channels, in_h, in_w]`, `out` is `[batch,
    /// output_channels(), out_h, out_w]`, overwritten unless `accumulate`
    /// (a map fed by several filter edges sums them).
    pub fn forward<T: Real>(
        &self,
        batch: usize,
        input: &[T],
        weights: &[T],
        bias: Bias<'_, T>,
        out: &mut [T],
        accumulate: bool,
    ) -> Result<()> {
        let d = self.dims()?;
        check_len("input", input.len(), batch, d.in_len)?;
        check_len("output", out.len(), batch, d.out_len)?;
        check_len("weights", weights.len(), 1, d.w_len)?;
        let c_out = self.out_channels * d.slices;
        match bias {
            Bias::Tied(b) => check_len("tied bias", b.len(), 1, c_out)?,
            Bias::Untied(b) => check_len("untied bias", b.len(), 1, d.out_len)?,
            Bias::None => {}
        }
        if batch == 0 {
            return Ok(());
        }
        let w = self.masked(weights);
        let col_len = if d.direct { 0 } else { self.in_channels * d.k * d.tile_rows * d.ow };
        out.par_chunks_mut(CHUNK * d.out_len).zip(input.par_chunks(CHUNK * d.in_len)).for_each_init(
            || vec![T::ZERO; col_len],
            |col, (y, x)| {
                for (ys, xs) in y.chunks_mut(d.out_len).zip(x.chunks(d.in_len)) {
                    self.forward_sample(&d, xs, &w, ys, accumulate, col);
                    vector::simd(|| match bias {
                        Bias::Tied(b) => {
                            for (row, &bv) in ys.chunks_mut(d.p).zip(b) {
                                row.iter_mut().for_each(|v| *v += bv);
                            }
                        }
                        Bias::Untied(b) => ys.iter_mut().zip(b).for_each(|(v, &bv)| *v += bv),
                        Bias::None => {}
                    });
                }
            },
        );
        Ok(())
    }

    fn forward_sample<T: Real>(&self, d: &Dims, x: &[T], w: &[T], y: &mut [T], accumulate: bool, col: &mut [T]) {
        let ck = self.kc * d.k;
        for oh0 in (0..d.oh).step_by(d.tile_rows) {
            let oh1 = (oh0 + d.tile_rows).min(d.oh);
            let t0 = oh0 * d.ow;
            let b = self.im2col(d, x, oh0, oh1, col);
            for s in 0..d.slices {
                // filter o at depth offset s writes output channel o·slices + s
                let dst = &mut y[s * d.p + t0..];
                gemm(
                    dst,
                    d.slices * d.p,
                    accumulate,
                    View::row_major(w, self.out_channels, ck),
                    sub_rows(b, s * d.k, ck),
                );
            }
        }
    }
}

/// Rows [r0, r0 + n) of a view.
fn sub_rows<T: Real>(v: View<'_, T>, r0: usize, n: usize) -> View<'_, T> {
    View { data: &v.data[r0 * v.row_stride..], rows: n, ..v }
}

fn axis_output(axis: &str, len: usize, k: usize, pad: usize, stride: usize) -> Result<usize> {
    let span = len + 2 * pad;
    if span < k {
        bail!(Shape, "filter {axis} {k} exceeds the padded input {axis} {span}");
    }
    if !(span - k).is_multiple_of(stride) {
        bail!(
            Shape,
            "filter {axis} {k} with stride {stride} does not fit the input {axis} {len} with padding {pad}: \
             ({len} − {k} + 2·{pad}) / {stride} + 1 is not whole"
        );
    }
    Ok((span - k) / stride + 1)
}

fn check_len(what: &str, got: usize, batch: usize, per: usize) -> Result<()> {
    match batch.checked_mul(per) {
        Some(want) if want == got => Ok(()),
        _ => bail!(Shape, "convolution {what} has length {got}, expected {batch} × {per}"),
    }
}
