//! The notes' peephole LSTM (σ_h = identity):
//!   f = σ(w_f x + u_f c' + b_f)   i = σ(w_i x + u_i c' + b_i)
//!   o = σ(w_o x + u_o c' + b_o)   C = tanh(w_c x + b_c)
//!   c = f c' + i C                h = o c
//! Backward follows the notes' delta equations with d = Δ_c + Δ_h·o.

use super::{sigmoid, CellParams, Grads, Inputs, ParamGrads, Saved};
use crate::real::Real;

#[inline(always)]
pub(super) fn forward<T: Real, P: CellParams<T>>(x: Inputs<'_, T, P>, h: &mut [T], c: &mut [T]) {
    let p = x.p;
    let n = h.len();
    let (xs, cps, c) = (&x.ports[0][..n], &x.prev_c[..n], &mut c[..n]);
    for b in 0..n {
        let (xt, cp) = (xs[b], cps[b]);
        let f = sigmoid(p.at(0, b) * xt + p.at(1, b) * cp + p.at(2, b));
        let i = sigmoid(p.at(3, b) * xt + p.at(4, b) * cp + p.at(5, b));
        let o = sigmoid(p.at(6, b) * xt + p.at(7, b) * cp + p.at(8, b));
        let cc = (p.at(9, b) * xt + p.at(10, b)).tanh();
        let ct = f * cp + i * cc;
        c[b] = ct;
        h[b] = o * ct;
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
    let (xs, cps, cs, dhs, dcs) = (&x.ports[0][..n], &x.prev_c[..n], &s.c[..n], &s.dh[..n], &s.dc[..n]);
    let (dx, dcp) = (&mut g.ports[0][..n], &mut g.prev_c[..n]);
    for b in 0..n {
        let (xt, cp, ct) = (xs[b], cps[b], cs[b]);
        let f = sigmoid(p.at(0, b) * xt + p.at(1, b) * cp + p.at(2, b));
        let i = sigmoid(p.at(3, b) * xt + p.at(4, b) * cp + p.at(5, b));
        let o = sigmoid(p.at(6, b) * xt + p.at(7, b) * cp + p.at(8, b));
        let cc = (p.at(9, b) * xt + p.at(10, b)).tanh();
        let dh = dhs[b];
        let d = dcs[b] + dh * o;
        // Pre-activation deltas: these are the notes' Δ_b of each gate.
        let ai = d * cc * i * (T::ONE - i);
        let af = d * cp * f * (T::ONE - f);
        let ao = dh * ct * o * (T::ONE - o);
        let ac = d * i * (T::ONE - cc * cc);
        dx[b] = ac * p.at(9, b) + ai * p.at(3, b) + af * p.at(0, b) + ao * p.at(6, b);
        dcp[b] += d * f + ai * p.at(4, b) + af * p.at(1, b) + ao * p.at(7, b);
        dp.add(0, b, af * xt);
        dp.add(1, b, af * cp);
        dp.add(2, b, af);
        dp.add(3, b, ai * xt);
        dp.add(4, b, ai * cp);
        dp.add(5, b, ai);
        dp.add(6, b, ao * xt);
        dp.add(7, b, ao * cp);
        dp.add(8, b, ao);
        dp.add(9, b, ac * xt);
        dp.add(10, b, ac);
    }
}
