//! Update-gate RNN with scalar parameters:
//!   c = tanh(cw x + ch h' + cb)   g = σ(gw x + gh h' + gb)
//!   h = g h' + (1 − g) c

use super::{sigmoid, CellParams, Grads, Inputs, ParamGrads, Saved};
use crate::real::Real;

#[inline(always)]
fn gates<T: Real, P: CellParams<T>>(p: P, b: usize, x: T, hp: T) -> (T, T) {
    let c = (p.at(0, b) * x + p.at(1, b) * hp + p.at(2, b)).tanh();
    let g = sigmoid(p.at(3, b) * x + p.at(4, b) * hp + p.at(5, b));
    (c, g)
}

#[inline(always)]
pub(super) fn forward<T: Real, P: CellParams<T>>(x: Inputs<'_, T, P>, h: &mut [T]) {
    let n = h.len();
    let (xs, hps, p) = (&x.ports[0][..n], &x.prev_h[..n], x.p);
    for b in 0..n {
        let hp = hps[b];
        let (c, g) = gates(p, b, xs[b], hp);
        h[b] = g * hp + (T::ONE - g) * c;
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
        let (c, gt) = gates(p, b, xt, hp);
        let ac = dh * (T::ONE - gt) * (T::ONE - c * c);
        let ag = dh * (hp - c) * gt * (T::ONE - gt);
        dx[b] = ac * p.at(0, b) + ag * p.at(3, b);
        dhp[b] += dh * gt + ac * p.at(1, b) + ag * p.at(4, b);
        dp.add(0, b, ac * xt);
        dp.add(1, b, ac * hp);
        dp.add(2, b, ac);
        dp.add(3, b, ag * xt);
        dp.add(4, b, ag * hp);
        dp.add(5, b, ag);
    }
}
