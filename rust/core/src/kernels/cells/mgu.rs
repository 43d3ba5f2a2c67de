//! Minimal gated unit with scalar parameters:
//!   f = σ(fw x + fu h' + fb)
//!   n = tanh(hw x + hu f h' + hb)   h = (1 − f) h' + f n

use super::{sigmoid, CellParams, Grads, Inputs, ParamGrads, Saved};
use crate::real::Real;

#[inline(always)]
fn gates<T: Real, P: CellParams<T>>(p: P, b: usize, x: T, hp: T) -> (T, T) {
    let f = sigmoid(p.at(0, b) * x + p.at(1, b) * hp + p.at(2, b));
    let n = (p.at(3, b) * x + p.at(4, b) * f * hp + p.at(5, b)).tanh();
    (f, n)
}

#[inline(always)]
pub(super) fn forward<T: Real, P: CellParams<T>>(x: Inputs<'_, T, P>, h: &mut [T]) {
    let n = h.len();
    let (xs, hps, p) = (&x.ports[0][..n], &x.prev_h[..n], x.p);
    for b in 0..n {
        let hp = hps[b];
        let (f, n) = gates(p, b, xs[b], hp);
        h[b] = (T::ONE - f) * hp + f * n;
    }
}

#[inline(always)]
pub(super) fn backward<T: Real, P: CellParams<T>, G: ParamGrads<T>>(
    x: Inputs<'_, T, P>,
    s: Saved<'_, T>,
    g: Grads<'_, T>,
    dp: &mut G,
) {
    let p = x.p;
    let n = s.h.len();
    let (xs, hps, dhs) = (&x.ports[0][..n], &x.prev_h[..n], &s.dh[..n]);
    let (dx, dhp) = (&mut g.ports[0][..n], &mut g.prev_h[..n]);
    for b in 0..n {
        let (xt, hp, dh) = (xs[b], hps[b], dhs[b]);
        let (f, n) = gates(p, b, xt, hp);
        let an = dh * f * (T::ONE - n * n);
        let af = (dh * (n - hp) + an * p.at(4, b) * hp) * f * (T::ONE - f);
        dx[b] = af * p.at(0, b) + an * p.at(3, b);
        dhp[b] += dh * (T::ONE - f) + af * p.at(1, b) + an * p.at(4, b) * f;
        dp.add(0, b, af * xt);
        dp.add(1, b, af * hp);
        dp.add(2, b, af);
        dp.add(3, b, an * xt);
        dp.add(4, b, an * f * hp);
        dp.add(5, b, an);
    }
}
