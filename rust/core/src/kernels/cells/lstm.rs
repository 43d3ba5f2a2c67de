//! The notes' peephole LSTM (σ_h = identity):
//!   f = σ(w_f x + u_f c' + b_f)   i = σ(w_i x + u_i c' + b_i)
//!   o = σ(w_o x + u_o c' + b_o)   C = tanh(w_c x + b_c)
//!   c = f c' + i C                h = o c
//! Backward follows the notes' delta equations with d = Δ_c + Δ_h·o.

use super::{sigmoid, Grads, Inputs, Saved};
use crate::real::Real;

pub(super) const PARAMS: [&str; 11] = ["w_f", "u_f", "b_f", "w_i", "u_i", "b_i", "w_o", "u_o", "b_o", "w_c", "b_c"];

pub(super) fn forward<T: Real>(x: Inputs<'_, T>, h: &mut [T], c: &mut [T]) {
    let p = x.p;
    for b in 0..h.len() {
        let (xt, cp) = (x.ports[b], x.prev_c[b]);
        let f = sigmoid(p[0] * xt + p[1] * cp + p[2]);
        let i = sigmoid(p[3] * xt + p[4] * cp + p[5]);
        let o = sigmoid(p[6] * xt + p[7] * cp + p[8]);
        let cc = (p[9] * xt + p[10]).tanh();
        let ct = f * cp + i * cc;
        c[b] = ct;
        h[b] = o * ct;
    }
}

pub(super) fn backward<T: Real>(x: Inputs<'_, T>, s: Saved<'_, T>, g: Grads<'_, T>) {
    let p = x.p;
    let mut acc = [T::ZERO; 11];
    for b in 0..s.h.len() {
        let (xt, cp, ct) = (x.ports[b], x.prev_c[b], s.c[b]);
        let f = sigmoid(p[0] * xt + p[1] * cp + p[2]);
        let i = sigmoid(p[3] * xt + p[4] * cp + p[5]);
        let o = sigmoid(p[6] * xt + p[7] * cp + p[8]);
        let cc = (p[9] * xt + p[10]).tanh();
        let dh = s.dh[b];
        let d = s.dc[b] + dh * o;
        // Pre-activation deltas: these are the notes' Δ_b of each gate.
        let ai = d * cc * i * (T::ONE - i);
        let af = d * cp * f * (T::ONE - f);
        let ao = dh * ct * o * (T::ONE - o);
        let ac = d * i * (T::ONE - cc * cc);
        g.ports[b] = ac * p[9] + ai * p[3] + af * p[0] + ao * p[6];
        g.prev_c[b] += d * f + ai * p[4] + af * p[1] + ao * p[7];
        acc[0] += af * xt;
        acc[1] += af * cp;
        acc[2] += af;
        acc[3] += ai * xt;
        acc[4] += ai * cp;
        acc[5] += ai;
        acc[6] += ao * xt;
        acc[7] += ao * cp;
        acc[8] += ao;
        acc[9] += ac * xt;
        acc[10] += ac;
    }
    for (gp, a) in g.p.iter_mut().zip(acc) {
        *gp += a;
    }
}
