//! Update-gate RNN with scalar parameters:
//!   c = tanh(cw x + ch h' + cb)   g = σ(gw x + gh h' + gb)
//!   h = g h' + (1 − g) c

use super::{sigmoid, Grads, Inputs, Saved};
use crate::real::Real;

pub(super) const PARAMS: [&str; 6] = ["cw", "ch", "cb", "gw", "gh", "gb"];

#[inline(always)]
fn gates<T: Real>(p: &[T], x: T, hp: T) -> (T, T) {
    let c = (p[0] * x + p[1] * hp + p[2]).tanh();
    let g = sigmoid(p[3] * x + p[4] * hp + p[5]);
    (c, g)
}

pub(super) fn forward<T: Real>(x: Inputs<'_, T>, h: &mut [T]) {
    for b in 0..h.len() {
        let hp = x.prev_h[b];
        let (c, g) = gates(x.p, x.ports[b], hp);
        h[b] = g * hp + (T::ONE - g) * c;
    }
}

pub(super) fn backward<T: Real>(x: Inputs<'_, T>, s: Saved<'_, T>, g: Grads<'_, T>) {
    let p = x.p;
    let mut acc = [T::ZERO; 6];
    for b in 0..s.h.len() {
        let (xt, hp, dh) = (x.ports[b], x.prev_h[b], s.dh[b]);
        let (c, gt) = gates(p, xt, hp);
        let ac = dh * (T::ONE - gt) * (T::ONE - c * c);
        let ag = dh * (hp - c) * gt * (T::ONE - gt);
        g.ports[b] = ac * p[0] + ag * p[3];
        g.prev_h[b] += dh * gt + ac * p[1] + ag * p[4];
        acc[0] += ac * xt;
        acc[1] += ac * hp;
        acc[2] += ac;
        acc[3] += ag * xt;
        acc[4] += ag * hp;
        acc[5] += ag;
    }
    for (gp, a) in g.p.iter_mut().zip(acc) {
        *gp += a;
    }
}
