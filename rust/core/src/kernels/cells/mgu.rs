//! Minimal gated unit with scalar parameters:
//!   f = σ(fw x + fu h' + fb)
//!   n = tanh(hw x + hu f h' + hb)   h = (1 − f) h' + f n

use super::{sigmoid, Grads, Inputs, Saved};
use crate::real::Real;

pub(super) const PARAMS: [&str; 6] = ["fw", "fu", "fb", "hw", "hu", "hb"];

#[inline(always)]
fn gates<T: Real>(p: &[T], x: T, hp: T) -> (T, T) {
    let f = sigmoid(p[0] * x + p[1] * hp + p[2]);
    let n = (p[3] * x + p[4] * f * hp + p[5]).tanh();
    (f, n)
}

pub(super) fn forward<T: Real>(x: Inputs<'_, T>, h: &mut [T]) {
    for b in 0..h.len() {
        let hp = x.prev_h[b];
        let (f, n) = gates(x.p, x.ports[b], hp);
        h[b] = (T::ONE - f) * hp + f * n;
    }
}

pub(super) fn backward<T: Real>(x: Inputs<'_, T>, s: Saved<'_, T>, g: Grads<'_, T>) {
    let p = x.p;
    let mut acc = [T::ZERO; 6];
    for b in 0..s.h.len() {
        let (xt, hp, dh) = (x.ports[b], x.prev_h[b], s.dh[b]);
        let (f, n) = gates(p, xt, hp);
        let an = dh * f * (T::ONE - n * n);
        let af = (dh * (n - hp) + an * p[4] * hp) * f * (T::ONE - f);
        g.ports[b] = af * p[0] + an * p[3];
        g.prev_h[b] += dh * (T::ONE - f) + af * p[1] + an * p[4] * f;
        acc[0] += af * xt;
        acc[1] += af * hp;
        acc[2] += af;
        acc[3] += an * xt;
        acc[4] += an * f * hp;
        acc[5] += an;
    }
    for (gp, a) in g.p.iter_mut().zip(acc) {
        *gp += a;
    }
}
