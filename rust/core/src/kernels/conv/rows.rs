//! TEMPORARY reference adapter (replaced by the real rows kernels): rows
//! layout [C·H·W][n] <-> [n][C·H·W] around the batch kernels.

use super::{Bias, BiasGrad, Conv2d, ConvGrads};
use crate::real::Real;

fn to_batch<T: Real>(x: &[T], n: usize) -> Vec<T> {
    let per = x.len() / n;
    let mut out = vec![T::ZERO; x.len()];
    for r in 0..per {
        for b in 0..n {
            out[b * per + r] = x[r * n + b];
        }
    }
    out
}

fn add_rows<T: Real>(xb: &[T], n: usize, dst: &mut [T]) {
    let per = xb.len() / n;
    for r in 0..per {
        for b in 0..n {
            dst[r * n + b] += xb[b * per + r];
        }
    }
}

impl Conv2d {
    pub fn forward_rows<T: Real>(&self, n: usize, x: &[T], w: &[T], y: &mut [T], _scratch: &mut Vec<T>) {
        let xb = to_batch(x, n);
        let mut yb = vec![T::ZERO; y.len()];
        self.forward(n, &xb, w, Bias::None, &mut yb, false).expect("rows geometry");
        add_rows(&yb, n, y);
    }

    #[allow(clippy::too_many_arguments)]
    pub fn backward_rows<T: Real>(
        &self,
        n: usize,
        x: &[T],
        w: &[T],
        dy: &[T],
        dx: Option<&mut [T]>,
        dw: Option<&mut [T]>,
        _scratch: &mut Vec<T>,
    ) {
        let xb = to_batch(x, n);
        let dyb = to_batch(dy, n);
        let mut dxb = vec![T::ZERO; if dx.is_some() { x.len() } else { 0 }];
        let mut dwb = vec![T::ZERO; if dw.is_some() { w.len() } else { 0 }];
        let grads = ConvGrads {
            d_input: dx.is_some().then_some(&mut dxb[..]),
            d_weights: dw.is_some().then_some(&mut dwb[..]),
            d_bias: BiasGrad::None,
        };
        self.backward(n, &xb, w, &dyb, grads).expect("rows geometry");
        if let Some(dx) = dx {
            add_rows(&dxb, n, dx);
        }
        if let Some(dw) = dw {
            dw.iter_mut().zip(&dwb).for_each(|(a, &b)| *a += b);
        }
    }
}
