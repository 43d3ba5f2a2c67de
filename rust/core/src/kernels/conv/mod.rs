//! Convolution for filter edges between feature maps (lecture "CNNs and
//! the forward pass"): cross-correlation with zero padding and strides, and
//! the notes' 3D filters that also slide over channels. This module holds
//! the geometry, [`Conv2d`], which the plan builds and checks; the engine's
//! kernels (forward, and backward to dIn and dW) work on its rows layout and
//! live in `rows`. The plain definition they are tested against is
//! [`crate::kernels::reference::conv`].

use crate::bail;
use crate::error::Result;

mod micro;
mod rows;
mod winograd;

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
    /// input and output cells per sample, and the weights
    in_len: usize,
    out_len: usize,
    w_len: usize,
    /// 1×1 filter, stride 1, no padding: the input already is the im2col matrix
    direct: bool,
}

impl Conv2d {
    /// An ordinary filter bank: stride 1, no padding, full depth.
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
        let k = self.kh * self.kw;
        let direct = k == 1 && self.stride_h == 1 && self.stride_w == 1 && self.pad_h == 0 && self.pad_w == 0;
        Ok(Dims { oh, ow, p, k, slices, in_len, out_len, w_len, direct })
    }
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
