//! Delta-RNN with scalar parameters (EXAMM's form):
//!   d = v h'
//!   z = tanh((α+2) d x + (β1+1) d + (β2+1) x + bz)
//!   r = σ(x + br)      h = tanh(z (1 − r) + r h')

use super::{sigmoid, Grads, Inputs, Saved};
use crate::real::Real;

pub(super) const PARAMS: [&str; 6] = ["v", "alpha", "beta1", "beta2", "bz", "br"];

#[inline(always)]
fn gates<T: Real>(p: &[T], x: T, hp: T) -> (T, T, T) {
    let two = T::ONE + T::ONE;
    let d = p[0] * hp;
    let z = ((p[1] + two) * d * x + (p[2] + T::ONE) * d + (p[3] + T::ONE) * x + p[4]).tanh();
    let r = sigmoid(x + p[5]);
    (d, z, r)
}

pub(super) fn forward<T: Real>(x: Inputs<'_, T>, h: &mut [T]) {
    for b in 0..h.len() {
        let hp = x.prev_h[b];
        let (_, z, r) = gates(x.p, x.ports[b], hp);
        h[b] = (z * (T::ONE - r) + r * hp).tanh();
    }
}

pub(super) fn backward<T: Real>(x: Inputs<'_, T>, s: Saved<'_, T>, g: Grads<'_, T>) {
    let p = x.p;
    let two = T::ONE + T::ONE;
    let mut acc = [T::ZERO; 6];
    for b in 0..s.h.len() {
        let (xt, hp, ht) = (x.ports[b], x.prev_h[b], s.h[b]);
        let (d, z, r) = gates(p, xt, hp);
        let ah = s.dh[b] * (T::ONE - ht * ht);
        let az = ah * (T::ONE - r) * (T::ONE - z * z);
        let ar = ah * (hp - z) * r * (T::ONE - r);
        let dd = az * ((p[1] + two) * xt + p[2] + T::ONE);
        g.ports[b] = az * ((p[1] + two) * d + p[3] + T::ONE) + ar;
        g.prev_h[b] += ah * r + dd * p[0];
        acc[0] += dd * hp;
        acc[1] += az * d * xt;
        acc[2] += az * d;
        acc[3] += az * xt;
        acc[4] += az;
        acc[5] += ar;
    }
    for (gp, a) in g.p.iter_mut().zip(acc) {
        *gp += a;
    }
}
