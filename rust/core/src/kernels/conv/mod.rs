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

    /// dIn, dW and dBias (each optional, each accumulated) from dOut.
    pub fn backward<T: Real>(
        &self,
        batch: usize,
        input: &[T],
        weights: &[T],
        d_out: &[T],
        grads: ConvGrads<'_, T>,
    ) -> Result<()> {
        let d = self.dims()?;
        check_len("input", input.len(), batch, d.in_len)?;
        check_len("output gradient", d_out.len(), batch, d.out_len)?;
        check_len("weights", weights.len(), 1, d.w_len)?;
        let ConvGrads { d_input, d_weights, d_bias } = grads;
        if let Some(g) = &d_input {
            check_len("input gradient", g.len(), batch, d.in_len)?;
        }
        if let Some(g) = &d_weights {
            check_len("weight gradient", g.len(), 1, d.w_len)?;
        }
        let c_out = self.out_channels * d.slices;
        let bias_len = match &d_bias {
            BiasGrad::Tied(g) => check_len("tied bias gradient", g.len(), 1, c_out).map(|_| c_out)?,
            BiasGrad::Untied(g) => check_len("untied bias gradient", g.len(), 1, d.out_len).map(|_| d.out_len)?,
            BiasGrad::None => 0,
        };
        if batch == 0 {
            return Ok(());
        }
        let w = self.masked(weights);
        let flipped = d_input.as_ref().and_then(|_| self.flipped(&d, &w));
        let tied = matches!(d_bias, BiasGrad::Tied(_));
        let job = Job { d, w: &w, want_dw: d_weights.is_some(), bias_len, tied, dx: d_input.is_some(), flipped };
        let (ci, co) = (CHUNK * d.in_len, CHUNK * d.out_len);
        let leaf = |scratch: &mut Scratch<T>, c: usize, dx: Option<&mut [T]>| {
            let x = &input[c * ci..((c + 1) * ci).min(input.len())];
            let dy = &d_out[c * co..((c + 1) * co).min(d_out.len())];
            self.backward_leaf(&job, x, dy, dx, scratch)
        };
        // scratch per rayon job, not per chunk: no page-fault or zeroing cost per chunk
        let init = || self.scratch(&job);
        let parts: Vec<Partial<T>> = match d_input {
            Some(g) => g.par_chunks_mut(ci).enumerate().map_init(init, |s, (c, dx)| leaf(s, c, Some(dx))).collect(),
            None => (0..batch.div_ceil(CHUNK)).into_par_iter().map_init(init, |s, c| leaf(s, c, None)).collect(),
        };
        let total = pairwise(parts);
        if let Some(g) = d_weights {
            let k = d.k;
            for (i, (gv, pv)) in g.iter_mut().zip(&total.dw).enumerate() {
                // disconnected slices get exactly nothing
                if self.table.as_ref().is_none_or(|t| t[i / k]) {
                    *gv += *pv;
                }
            }
        }
        match d_bias {
            BiasGrad::Tied(g) | BiasGrad::Untied(g) => g.iter_mut().zip(&total.db).for_each(|(a, &b)| *a += b),
            BiasGrad::None => {}
        }
        Ok(())
    }

    /// Column buffers for one worker; every use overwrites what it reads.
    fn scratch<T: Real>(&self, job: &Job<'_, T>) -> Scratch<T> {
        let d = &job.d;
        let tile = self.in_channels * d.k * d.tile_rows_dw * d.ow;
        let scatter = job.dx && job.flipped.is_none();
        Scratch {
            col: vec![T::ZERO; if d.direct || !job.want_dw { 0 } else { tile }],
            dcol: vec![T::ZERO; if d.direct || !scatter { 0 } else { tile }],
            fcol: match &job.flipped {
                Some((f, fd, _)) if !fd.direct => vec![T::ZERO; f.in_channels * fd.k * fd.tile_rows * fd.ow],
                _ => Vec::new(),
            },
        }
    }

    /// One chunk of samples: its dIn, and its share of dW and dBias.
    fn backward_leaf<T: Real>(
        &self,
        job: &Job<'_, T>,
        x: &[T],
        dy: &[T],
        mut dx: Option<&mut [T]>,
        scratch: &mut Scratch<T>,
    ) -> Partial<T> {
        let d = &job.d;
        let (k, ck, o) = (d.k, self.kc * d.k, self.out_channels);
        let rows = self.in_channels * k;
        let mut part =
            Partial { dw: vec![T::ZERO; if job.want_dw { d.w_len } else { 0 }], db: vec![T::ZERO; job.bias_len] };
        let scatter = dx.is_some() && job.flipped.is_none();
        let Scratch { col, dcol, fcol } = scratch;
        let wv = View::row_major(job.w, o, ck);
        for (i, (xs, ys)) in x.chunks(d.in_len).zip(dy.chunks(d.out_len)).enumerate() {
            let mut dxs = dx.as_deref_mut().map(|g| &mut g[i * d.in_len..(i + 1) * d.in_len]);
            if let (Some(g), Some((f, fd, fw))) = (dxs.as_deref_mut(), &job.flipped) {
                f.forward_sample(fd, ys, fw, g, true, fcol);
            }
            for oh0 in (0..d.oh).step_by(d.tile_rows_dw) {
                let oh1 = (oh0 + d.tile_rows_dw).min(d.oh);
                let (t0, nt) = (oh0 * d.ow, (oh1 - oh0) * d.ow);
                // dOut rows of slice s: channel o·slices + s, columns of this tile
                let dys = |s: usize| View {
                    data: &ys[s * d.p + t0..],
                    rows: o,
                    cols: nt,
                    row_stride: d.slices * d.p,
                    col_stride: 1,
                };
                if job.want_dw {
                    let b = self.im2col(d, xs, oh0, oh1, col);
                    for s in 0..d.slices {
                        gemm(&mut part.dw, ck, true, dys(s), sub_rows(b, s * k, ck).t());
                    }
                }
                let Some(g) = dxs.as_deref_mut().filter(|_| scatter) else { continue };
                if d.direct {
                    // 1×1 filters: the GEMM lands in dIn itself
                    for s in 0..d.slices {
                        gemm(&mut g[s * d.p + t0..], d.p, true, wv.t(), dys(s));
                    }
                    continue;
                }
                if d.slices > 1 {
                    // 3D slices overlap in channels: all of them add
                    dcol[..rows * nt].fill(T::ZERO);
                }
                for s in 0..d.slices {
                    gemm(&mut dcol[s * k * nt..], nt, d.slices > 1, wv.t(), dys(s));
                }
                self.col2im(d, &dcol[..rows * nt], oh0, oh1, g);
            }
            if job.bias_len > 0 {
                if job.tied {
                    for (acc, row) in part.db.iter_mut().zip(ys.chunks(d.p)) {
                        *acc += vector::sum(row);
                    }
                } else {
                    part.db.iter_mut().zip(ys).for_each(|(a, &b)| *a += b);
                }
            }
        }
        part
    }
}

/// What one backward call computes, shared by all chunks.
struct Job<'a, T> {
    d: Dims,
    w: &'a [T],
    want_dw: bool,
    bias_len: usize,
    tied: bool,
    /// dIn wanted
    dx: bool,
    /// the transposed convolution computing dIn, when there is one
    flipped: Option<(Conv2d, Dims, Vec<T>)>,
}

/// A worker's column buffers: im2col of the input (dW), of dOut (dIn by
/// the transposed convolution) and dIn's column matrix (scatter path).
struct Scratch<T> {
    col: Vec<T>,
    dcol: Vec<T>,
    fcol: Vec<T>,
}

/// One chunk range's weight and bias gradient.
struct Partial<T> {
    dw: Vec<T>,
    db: Vec<T>,
}

/// Σ parts in a tree fixed by their number, ((p0 + p1) + (p2 + p3)) + …,
/// whatever thread computed which part.
fn pairwise<T: Real>(mut parts: Vec<Partial<T>>) -> Partial<T> {
    while parts.len() > 1 {
        let mut it = parts.into_iter();
        let mut next = Vec::new();
        while let Some(mut a) = it.next() {
            if let Some(b) = it.next() {
                a.dw.iter_mut().zip(&b.dw).for_each(|(u, &v)| *u += v);
                a.db.iter_mut().zip(&b.db).for_each(|(u, &v)| *u += v);
            }
            next.push(a);
        }
        parts = next;
    }
    parts.pop().unwrap_or(Partial { dw: Vec::new(), db: Vec::new() })
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
