//! TEMPORARY reference adapter (replaced by the real rows kernels).

use crate::kernels::pool::{self, Regions};
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

pub fn max_pool_rows_forward<T: Real>(r: &Regions, channels: usize, n: usize, x: &[T], y: &mut [T]) {
    let xb = to_batch(x, n);
    let mut yb = vec![T::ZERO; y.len()];
    let mut am = vec![0u32; y.len()];
    pool::max_pool_forward(r, channels * n, &xb, &mut yb, &mut am).expect("pool");
    add_rows(&yb, n, y);
}

pub fn max_pool_rows_backward<T: Real>(r: &Regions, channels: usize, n: usize, x: &[T], dy: &[T], dx: &mut [T]) {
    let xb = to_batch(x, n);
    let mut yb = vec![T::ZERO; dy.len()];
    let mut am = vec![0u32; dy.len()];
    pool::max_pool_forward(r, channels * n, &xb, &mut yb, &mut am).expect("pool");
    let dyb = to_batch(dy, n);
    let mut dxb = vec![T::ZERO; dx.len()];
    pool::max_pool_backward(r, channels * n, &dyb, &am, &mut dxb).expect("pool");
    add_rows(&dxb, n, dx);
}

pub fn avg_pool_rows_forward<T: Real>(r: &Regions, channels: usize, n: usize, x: &[T], y: &mut [T]) {
    let xb = to_batch(x, n);
    let mut yb = vec![T::ZERO; y.len()];
    pool::avg_pool_forward(r, channels * n, &xb, &mut yb).expect("pool");
    add_rows(&yb, n, y);
}

pub fn avg_pool_rows_backward<T: Real>(r: &Regions, channels: usize, n: usize, dy: &[T], dx: &mut [T]) {
    let dyb = to_batch(dy, n);
    let mut dxb = vec![T::ZERO; dx.len()];
    pool::avg_pool_backward(r, channels * n, &dyb, &mut dxb).expect("pool");
    add_rows(&dxb, n, dx);
}
