//! The convolution of a [`Conv2d`] geometry by its definition:
//! `y[b, o·slices + s, i, j] = Σ_{c, p, q} w[o, c, p, q] ·
//! x[b, s + c, i·stride_h + p − pad_h, j·stride_w + q − pad_w]`, where taps
//! that land in the zero padding contribute nothing. `x` is `[batch,
//! in_channels, in_h, in_w]`, `w` is `[out_channels, kc, kh, kw]`, `y` is
//! `[batch, output_channels(), out_h, out_w]`.

use crate::kernels::conv::Conv2d;
use crate::real::Real;

/// y = conv(x) for `batch` samples (no bias).
pub fn forward<T: Real>(g: &Conv2d, batch: usize, x: &[T], w: &[T]) -> Vec<T> {
    let mut y = vec![T::ZERO; batch * out_len(g)];
    each_tap(g, batch, x.len(), w.len(), |yi, xi, wi| y[yi] += x[xi] * w[wi]);
    y
}

/// (dx, dw): the gradients of Σ dy·y with respect to x and w, the adjoint
/// of [`forward`] tap by tap.
pub fn backward<T: Real>(g: &Conv2d, batch: usize, x: &[T], w: &[T], dy: &[T]) -> (Vec<T>, Vec<T>) {
    assert_eq!(dy.len(), batch * out_len(g), "output gradient length");
    let (mut dx, mut dw) = (vec![T::ZERO; x.len()], vec![T::ZERO; w.len()]);
    each_tap(g, batch, x.len(), w.len(), |yi, xi, wi| {
        dx[xi] += w[wi] * dy[yi];
        dw[wi] += x[xi] * dy[yi];
    });
    (dx, dw)
}

/// Output cells per sample.
fn out_len(g: &Conv2d) -> usize {
    let (oh, ow) = g.output_size().expect("valid convolution geometry");
    g.output_channels() * oh * ow
}

/// `f(y index, x index, w index)` for every product of the convolution, in
/// the order of the output cells and, within one, of the filter taps.
fn each_tap(g: &Conv2d, batch: usize, x_len: usize, w_len: usize, mut f: impl FnMut(usize, usize, usize)) {
    let (oh, ow) = g.output_size().expect("valid convolution geometry");
    assert_eq!(x_len, batch * g.in_channels * g.in_h * g.in_w, "input length");
    assert_eq!(w_len, g.weight_len(), "weights length");
    let slices = g.in_channels - g.kc + 1;
    let mut yi = 0;
    for b in 0..batch {
        for o in 0..g.out_channels {
            for s in 0..slices {
                for i in 0..oh {
                    for j in 0..ow {
                        for c in 0..g.kc {
                            for p in 0..g.kh {
                                for q in 0..g.kw {
                                    // input row and column, before the padding is taken off
                                    let (row, col) = (i * g.stride_h + p, j * g.stride_w + q);
                                    if row < g.pad_h || col < g.pad_w {
                                        continue;
                                    }
                                    let (row, col) = (row - g.pad_h, col - g.pad_w);
                                    if row >= g.in_h || col >= g.in_w {
                                        continue;
                                    }
                                    let xi = ((b * g.in_channels + s + c) * g.in_h + row) * g.in_w + col;
                                    f(yi, xi, ((o * g.kc + c) * g.kh + p) * g.kw + q);
                                }
                            }
                        }
                        yi += 1;
                    }
                }
            }
        }
    }
}
