//! Units of the standard fully connected layers, as torch.nn.LSTM and
//! torch.nn.GRU define them. Each gate's pre-activation (input weights,
//! recurrent weights and bias) arrives on its own port from ordinary edges:
//!   LSTM  i, f, o = σ(·)  g = tanh(·)  c = f c' + i g   h = o tanh(c)
//!   GRU   r, z = σ(·)  n = tanh(n_x + r n_h)   h = (1 − z) n + z h'

use super::{sigmoid, Grads, Inputs, Saved};
use crate::real::Real;

pub(super) fn lstm_forward<T: Real>(x: Inputs<'_, T>, h: &mut [T], c: &mut [T]) {
    let w = h.len();
    let (ai, af, ag, ao) = (&x.ports[..w], &x.ports[w..2 * w], &x.ports[2 * w..3 * w], &x.ports[3 * w..4 * w]);
    for b in 0..w {
        let ct = sigmoid(af[b]) * x.prev_c[b] + sigmoid(ai[b]) * ag[b].tanh();
        c[b] = ct;
        h[b] = sigmoid(ao[b]) * ct.tanh();
    }
}

pub(super) fn lstm_backward<T: Real>(x: Inputs<'_, T>, s: Saved<'_, T>, g: Grads<'_, T>) {
    let w = s.h.len();
    let (pi, pf, pg, po) = (&x.ports[..w], &x.ports[w..2 * w], &x.ports[2 * w..3 * w], &x.ports[3 * w..4 * w]);
    let (di, rest) = g.ports.split_at_mut(w);
    let (df, rest) = rest.split_at_mut(w);
    let (dg, d_o) = rest.split_at_mut(w);
    for b in 0..w {
        let (i, f, gg, o) = (sigmoid(pi[b]), sigmoid(pf[b]), pg[b].tanh(), sigmoid(po[b]));
        let tc = s.c[b].tanh();
        let dc = s.dh[b] * o * (T::ONE - tc * tc) + s.dc[b];
        di[b] = dc * gg * i * (T::ONE - i);
        df[b] = dc * x.prev_c[b] * f * (T::ONE - f);
        dg[b] = dc * i * (T::ONE - gg * gg);
        d_o[b] = s.dh[b] * tc * o * (T::ONE - o);
        g.prev_c[b] += dc * f;
    }
}

pub(super) fn gru_forward<T: Real>(x: Inputs<'_, T>, h: &mut [T]) {
    let w = h.len();
    let (ar, az, nx, nh) = (&x.ports[..w], &x.ports[w..2 * w], &x.ports[2 * w..3 * w], &x.ports[3 * w..4 * w]);
    for b in 0..w {
        let (r, z) = (sigmoid(ar[b]), sigmoid(az[b]));
        let n = (nx[b] + r * nh[b]).tanh();
        h[b] = (T::ONE - z) * n + z * x.prev_h[b];
    }
}

pub(super) fn gru_backward<T: Real>(x: Inputs<'_, T>, s: Saved<'_, T>, g: Grads<'_, T>) {
    let w = s.h.len();
    let (ar, az, nx, nh) = (&x.ports[..w], &x.ports[w..2 * w], &x.ports[2 * w..3 * w], &x.ports[3 * w..4 * w]);
    let (dr, rest) = g.ports.split_at_mut(w);
    let (dz, rest) = rest.split_at_mut(w);
    let (dnx, dnh) = rest.split_at_mut(w);
    for b in 0..w {
        let (r, z) = (sigmoid(ar[b]), sigmoid(az[b]));
        let n = (nx[b] + r * nh[b]).tanh();
        let dh = s.dh[b];
        let an = dh * (T::ONE - z) * (T::ONE - n * n);
        dnx[b] = an;
        dnh[b] = an * r;
        dr[b] = an * nh[b] * r * (T::ONE - r);
        dz[b] = dh * (x.prev_h[b] - n) * z * (T::ONE - z);
        g.prev_h[b] += dh * z;
    }
}
