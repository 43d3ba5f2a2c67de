//! Delta-RNN with scalar parameters (EXAMM's form):
//!   d = v h'
//!   z = tanh((α+2) d x + (β1+1) d + (β2+1) x + bz)
//!   r = σ(x + br)      h = tanh(z (1 − r) + r h')

use super::{sigmoid, CellParams, Grads, Inputs, ParamGrads, Saved};
use crate::real::Real;

#[inline(always)]
fn gates<T: Real, P: CellParams<T>>(p: P, b: usize, x: T, hp: T) -> (T, T, T) {
    let two = T::ONE + T::ONE;
    let d = p.at(0, b) * hp;
    let z = ((p.at(1, b) + two) * d * x + (p.at(2, b) + T::ONE) * d + (p.at(3, b) + T::ONE) * x + p.at(4, b)).tanh();
    let r = sigmoid(x + p.at(5, b));
    (d, z, r)
}

#[inline(always)]
pub(super) fn forward<T: Real, P: CellParams<T>>(x: Inputs<'_, T, P>, h: &mut [T]) {
    let n = h.len();
    let (xs, hps, p) = (&x.ports[0][..n], &x.prev_h[..n], x.p);
    for b in 0..n {
        let hp = hps[b];
        let (_, z, r) = gates(p, b, xs[b], hp);
        h[b] = (z * (T::ONE - r) + r * hp).tanh();
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
    let two = T::ONE + T::ONE;
    let n = s.h.len();
    let (xs, hps, hs, dhs) = (&x.ports[0][..n], &x.prev_h[..n], &s.h[..n], &s.dh[..n]);
    let (dx, dhp) = (&mut g.ports[0][..n], &mut g.prev_h[..n]);
    for b in 0..n {
        let (xt, hp, ht) = (xs[b], hps[b], hs[b]);
        let (d, z, r) = gates(p, b, xt, hp);
        let ah = dhs[b] * (T::ONE - ht * ht);
        let az = ah * (T::ONE - r) * (T::ONE - z * z);
        let ar = ah * (hp - z) * r * (T::ONE - r);
        let dd = az * ((p.at(1, b) + two) * xt + p.at(2, b) + T::ONE);
        dx[b] = az * ((p.at(1, b) + two) * d + p.at(3, b) + T::ONE) + ar;
        dhp[b] += ah * r + dd * p.at(0, b);
        dp.add(0, b, dd * hp);
        dp.add(1, b, az * d * xt);
        dp.add(2, b, az * d);
        dp.add(3, b, az * xt);
        dp.add(4, b, az);
        dp.add(5, b, ar);
    }
}
