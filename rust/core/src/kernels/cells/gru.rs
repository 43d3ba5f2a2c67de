//! GRU with scalar parameters:
//!   z = σ(zw x + zu h' + zb)   r = σ(rw x + ru h' + rb)
//!   n = tanh(hw x + hu r h' + hb)   h = z h' + (1 − z) n

use super::{sigmoid, Grads, Inputs, Saved};
use crate::real::Real;

pub(super) const PARAMS: [&str; 9] = ["zw", "zu", "zb", "rw", "ru", "rb", "hw", "hu", "hb"];

#[inline(always)]
fn gates<T: Real>(p: &[T], x: T, hp: T) -> (T, T, T) {
    let z = sigmoid(p[0] * x + p[1] * hp + p[2]);
    let r = sigmoid(p[3] * x + p[4] * hp + p[5]);
    let n = (p[6] * x + p[7] * r * hp + p[8]).tanh();
    (z, r, n)
}

pub(super) fn forward<T: Real>(x: Inputs<'_, T>, h: &mut [T]) {
    for b in 0..h.len() {
        let hp = x.prev_h[b];
        let (z, _, n) = gates(x.p, x.ports[b], hp);
        h[b] = z * hp + (T::ONE - z) * n;
    }
}

pub(super) fn backward<T: Real>(x: Inputs<'_, T>, s: Saved<'_, T>, g: Grads<'_, T>) {
    let p = x.p;
    let mut acc = [T::ZERO; 9];
    for b in 0..s.h.len() {
        let (xt, hp, dh) = (x.ports[b], x.prev_h[b], s.dh[b]);
        let (z, r, n) = gates(p, xt, hp);
        let an = dh * (T::ONE - z) * (T::ONE - n * n);
        let az = dh * (hp - n) * z * (T::ONE - z);
        let ar = an * p[7] * hp * r * (T::ONE - r);
        g.ports[b] = az * p[0] + ar * p[3] + an * p[6];
        g.prev_h[b] += dh * z + az * p[1] + ar * p[4] + an * p[7] * r;
        acc[0] += az * xt;
        acc[1] += az * hp;
        acc[2] += az;
        acc[3] += ar * xt;
        acc[4] += ar * hp;
        acc[5] += ar;
        acc[6] += an * xt;
        acc[7] += an * r * hp;
        acc[8] += an;
    }
    for (gp, a) in g.p.iter_mut().zip(acc) {
        *gp += a;
    }
}
