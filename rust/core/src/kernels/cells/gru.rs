//! GRU with scalar parameters:
//!   z = σ(zw x + zu h' + zb)   r = σ(rw x + ru h' + rb)
//!   n = tanh(hw x + hu r h' + hb)   h = z h' + (1 − z) n

use super::{sigmoid, CellParams, Grads, Inputs, ParamGrads, Saved};
use crate::real::Real;

#[inline(always)]
fn gates<T: Real, P: CellParams<T>>(p: P, b: usize, x: T, hp: T) -> (T, T, T) {
    let z = sigmoid(p.at(0, b) * x + p.at(1, b) * hp + p.at(2, b));
    let r = sigmoid(p.at(3, b) * x + p.at(4, b) * hp + p.at(5, b));
    let n = (p.at(6, b) * x + p.at(7, b) * r * hp + p.at(8, b)).tanh();
    (z, r, n)
}

#[inline(always)]
pub(super) fn forward<T: Real, P: CellParams<T>>(x: Inputs<'_, T, P>, h: &mut [T]) {
    let n = h.len();
    let (xs, hps, p) = (&x.ports[0][..n], &x.prev_h[..n], x.p);
    for b in 0..n {
        let hp = hps[b];
        let (z, _, n) = gates(p, b, xs[b], hp);
        h[b] = z * hp + (T::ONE - z) * n;
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
        let (z, r, n) = gates(p, b, xt, hp);
        let an = dh * (T::ONE - z) * (T::ONE - n * n);
        let az = dh * (hp - n) * z * (T::ONE - z);
        let ar = an * p.at(7, b) * hp * r * (T::ONE - r);
        dx[b] = az * p.at(0, b) + ar * p.at(3, b) + an * p.at(6, b);
        dhp[b] += dh * z + az * p.at(1, b) + ar * p.at(4, b) + an * p.at(7, b) * r;
        dp.add(0, b, az * xt);
        dp.add(1, b, az * hp);
        dp.add(2, b, az);
        dp.add(3, b, ar * xt);
        dp.add(4, b, ar * hp);
        dp.add(5, b, ar);
        dp.add(6, b, an * xt);
        dp.add(7, b, an * r * hp);
        dp.add(8, b, an);
    }
}
