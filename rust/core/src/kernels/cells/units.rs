//! Units of the standard fully connected layers, as torch.nn.LSTM and
//! torch.nn.GRU define them. Each gate's pre-activation (input weights,
//! recurrent weights and bias) arrives on its own port from ordinary edges:
//!   LSTM  i, f, o = σ(·)  g = tanh(·)  c = f c' + i g   h = o tanh(c)
//!   GRU   r, z = σ(·)  n = tanh(n_x + r n_h)   h = (1 − z) n + z h'

use super::{sigmoid, CellParams, Grads, Inputs, Saved};
use crate::real::Real;

#[inline(always)]
pub(super) fn lstm_forward<T: Real, P: CellParams<T>>(x: Inputs<'_, T, P>, h: &mut [T], c: &mut [T]) {
    let w = h.len();
    let (ai, af, ag, ao) = (&x.ports[0][..w], &x.ports[1][..w], &x.ports[2][..w], &x.ports[3][..w]);
    let (cp, h, c) = (&x.prev_c[..w], &mut h[..w], &mut c[..w]);
    for b in 0..w {
        let ct = sigmoid(af[b]) * cp[b] + sigmoid(ai[b]) * ag[b].tanh();
        c[b] = ct;
        h[b] = sigmoid(ao[b]) * ct.tanh();
    }
}

#[inline(always)]
pub(super) fn lstm_backward<T: Real, P: CellParams<T>>(x: Inputs<'_, T, P>, s: Saved<'_, T>, g: Grads<'_, T>) {
    let w = s.h.len();
    let (pi, pf, pg, po) = (&x.ports[0][..w], &x.ports[1][..w], &x.ports[2][..w], &x.ports[3][..w]);
    let [di, df, dg, d_o] = g.ports;
    let (di, df, dg, d_o) = (&mut di[..w], &mut df[..w], &mut dg[..w], &mut d_o[..w]);
    let (cp, cs, dhs, dcs, dcp) = (&x.prev_c[..w], &s.c[..w], &s.dh[..w], &s.dc[..w], &mut g.prev_c[..w]);
    for b in 0..w {
        let (i, f, gg, o) = (sigmoid(pi[b]), sigmoid(pf[b]), pg[b].tanh(), sigmoid(po[b]));
        let tc = cs[b].tanh();
        let dc = dhs[b] * o * (T::ONE - tc * tc) + dcs[b];
        di[b] = dc * gg * i * (T::ONE - i);
        df[b] = dc * cp[b] * f * (T::ONE - f);
        dg[b] = dc * i * (T::ONE - gg * gg);
        d_o[b] = dhs[b] * tc * o * (T::ONE - o);
        dcp[b] += dc * f;
    }
}

#[inline(always)]
pub(super) fn gru_forward<T: Real, P: CellParams<T>>(x: Inputs<'_, T, P>, h: &mut [T]) {
    let w = h.len();
    let (ar, az, nx, nh) = (&x.ports[0][..w], &x.ports[1][..w], &x.ports[2][..w], &x.ports[3][..w]);
    let (hp, h) = (&x.prev_h[..w], &mut h[..w]);
    for b in 0..w {
        let (r, z) = (sigmoid(ar[b]), sigmoid(az[b]));
        let n = (nx[b] + r * nh[b]).tanh();
        h[b] = (T::ONE - z) * n + z * hp[b];
    }
}

#[inline(always)]
pub(super) fn gru_backward<T: Real, P: CellParams<T>>(x: Inputs<'_, T, P>, s: Saved<'_, T>, g: Grads<'_, T>) {
    let w = s.h.len();
    let (ar, az, nx, nh) = (&x.ports[0][..w], &x.ports[1][..w], &x.ports[2][..w], &x.ports[3][..w]);
    let [dr, dz, dnx, dnh] = g.ports;
    let (dr, dz, dnx, dnh) = (&mut dr[..w], &mut dz[..w], &mut dnx[..w], &mut dnh[..w]);
    let (hp, dhs, dhp) = (&x.prev_h[..w], &s.dh[..w], &mut g.prev_h[..w]);
    for b in 0..w {
        let (r, z) = (sigmoid(ar[b]), sigmoid(az[b]));
        let n = (nx[b] + r * nh[b]).tanh();
        let dh = dhs[b];
        let an = dh * (T::ONE - z) * (T::ONE - n * n);
        dnx[b] = an;
        dnh[b] = an * r;
        dr[b] = an * nh[b] * r * (T::ONE - r);
        dz[b] = dh * (hp[b] - n) * z * (T::ONE - z);
        dhp[b] += dh * z;
    }
}
