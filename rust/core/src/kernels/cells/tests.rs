//! Each cell unrolled alone over a few steps with a linear loss on h:
//! analytic gradients (inputs and own parameters) against central
//! differences in f64, and the LSTM against the notes' delta equations.

use super::*;

const W: usize = 3;
const STEPS: usize = 4;

/// Deterministic pseudo-random values in [-1, 1).
fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

struct Run {
    h: Vec<Vec<f64>>,
    c: Vec<Vec<f64>>,
}

fn unroll(kind: CellKind, p: &[f64], ports: &[f64]) -> Run {
    let np = kind.ports().len();
    let mut h = vec![vec![0.0; W]; STEPS + 1];
    let mut c = vec![vec![0.0; W]; STEPS + 1];
    for t in 0..STEPS {
        let (prev_h, prev_c) = (h[t].clone(), c[t].clone());
        let x = Inputs { p: Shared::new(p), ports: port_slices(ports, t, np), prev_h: &prev_h, prev_c: &prev_c };
        let (mut ht, mut ct) = (vec![0.0; W], vec![0.0; W]);
        forward(kind, x, &mut ht, &mut ct);
        h[t + 1] = ht;
        c[t + 1] = ct;
    }
    Run { h, c }
}

/// Port slices of step t (each port W values, ports of a step contiguous).
fn port_slices(ports: &[f64], t: usize, np: usize) -> [&[f64]; 4] {
    let at = |q: usize| if q < np { &ports[(t * np + q) * W..(t * np + q + 1) * W] } else { &ports[..0] };
    [at(0), at(1), at(2), at(3)]
}

fn loss(kind: CellKind, p: &[f64], ports: &[f64], coef: &[f64]) -> f64 {
    let run = unroll(kind, p, ports);
    (0..STEPS).flat_map(|t| (0..W).map(move |b| (t, b))).map(|(t, b)| coef[t * W + b] * run.h[t + 1][b]).sum()
}

/// Analytic gradients of `loss` w.r.t. parameters and ports (BPTT).
fn analytic(kind: CellKind, p: &[f64], ports: &[f64], coef: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let np = kind.ports().len();
    let run = unroll(kind, p, ports);
    let mut dp = vec![0.0; p.len()];
    let mut dports = vec![0.0; ports.len()];
    let mut dh_next = vec![0.0; W]; // dL/dh_t carried from t+1
    let mut dc_next = vec![0.0; W];
    for t in (0..STEPS).rev() {
        let dh: Vec<f64> = (0..W).map(|b| coef[t * W + b] + dh_next[b]).collect();
        let x = Inputs { p: Shared::new(p), ports: port_slices(ports, t, np), prev_h: &run.h[t], prev_c: &run.c[t] };
        let s = Saved { h: &run.h[t + 1], c: &run.c[t + 1], dh: &dh, dc: &dc_next };
        let (mut prev_h, mut prev_c) = (vec![0.0; W], vec![0.0; W]);
        let mut acc = SharedGrads::new();
        let mut step_ports = dports[t * np * W..(t + 1) * np * W].chunks_exact_mut(W);
        let mut empty: [[f64; 0]; 4] = [[]; 4];
        let [e0, e1, e2, e3] = &mut empty;
        let dps: [&mut [f64]; 4] = [
            step_ports.next().unwrap_or(e0),
            step_ports.next().unwrap_or(e1),
            step_ports.next().unwrap_or(e2),
            step_ports.next().unwrap_or(e3),
        ];
        backward(kind, x, s, Grads { ports: dps, prev_h: &mut prev_h, prev_c: &mut prev_c }, &mut acc);
        for (d, a) in dp.iter_mut().zip(acc.acc) {
            *d += a;
        }
        dh_next = prev_h;
        dc_next = prev_c;
    }
    (dp, dports)
}

fn rel(a: f64, n: f64) -> f64 {
    if a == n {
        0.0
    } else {
        (a - n).abs() / a.abs().max(n.abs())
    }
}

#[test]
fn every_cell_matches_finite_differences() {
    for (k, kind) in CellKind::ALL.into_iter().enumerate() {
        let np = kind.ports().len();
        let p = values(kind.params().len(), 10 + k as u64);
        let ports: Vec<f64> = values(STEPS * np * W, 20 + k as u64).iter().map(|v| 1.5 * v).collect();
        let coef = values(STEPS * W, 30 + k as u64);
        let (dp, dports) = analytic(kind, &p, &ports, &coef);
        let h = 1e-5;
        let numeric = |f: &dyn Fn(f64) -> f64| (f(h) - f(-h)) / (2.0 * h);
        for i in 0..p.len() {
            let n = numeric(&|e| {
                let mut q = p.clone();
                q[i] += e;
                loss(kind, &q, &ports, &coef)
            });
            assert!(rel(dp[i], n) < 1e-7 || (dp[i] - n).abs() < 1e-10, "{} param {}: {} vs {n}", kind.name(), i, dp[i]);
        }
        for i in 0..ports.len() {
            let n = numeric(&|e| {
                let mut q = ports.clone();
                q[i] += e;
                loss(kind, &p, &q, &coef)
            });
            let a = dports[i];
            assert!(rel(a, n) < 1e-7 || (a - n).abs() < 1e-10, "{} port value {i}: {a} vs {n}", kind.name());
        }
    }
}

/// The notes' peephole-LSTM backward, written out literally (bias deltas,
/// weight deltas, Δ_{c_{t-1}}, Δ_{x_t}) for one step.
#[test]
fn lstm_backward_is_the_notes_delta_equations() {
    let sig = |a: f64| 1.0 / (1.0 + (-a).exp());
    let p = values(11, 7);
    let (wf, uf, bf, wi, ui, bi, wo, uo, bo, wc, bc) =
        (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10]);
    let (x, c_prev, delta_h, delta_c) = (0.7, -0.4, 0.9, -0.3);
    let f = sig(wf * x + uf * c_prev + bf);
    let i = sig(wi * x + ui * c_prev + bi);
    let o = sig(wo * x + uo * c_prev + bo);
    let cap_c = (wc * x + bc).tanh();
    let c = f * c_prev + i * cap_c;
    let d = delta_c + delta_h * o;
    let expected_params = [
        d * c_prev * f * (1.0 - f) * x,
        d * c_prev * f * (1.0 - f) * c_prev,
        d * c_prev * f * (1.0 - f),
        d * cap_c * i * (1.0 - i) * x,
        d * cap_c * i * (1.0 - i) * c_prev,
        d * cap_c * i * (1.0 - i),
        delta_h * c * o * (1.0 - o) * x,
        delta_h * c * o * (1.0 - o) * c_prev,
        delta_h * c * o * (1.0 - o),
        d * i * (1.0 - cap_c * cap_c) * x,
        d * i * (1.0 - cap_c * cap_c),
    ];
    let delta_c_prev =
        d * f + d * cap_c * i * (1.0 - i) * ui + d * c_prev * f * (1.0 - f) * uf + delta_h * c * o * (1.0 - o) * uo;
    let delta_x = d * i * (1.0 - cap_c * cap_c) * wc
        + d * cap_c * i * (1.0 - i) * wi
        + d * c_prev * f * (1.0 - f) * wf
        + delta_h * c * o * (1.0 - o) * wo;

    let (mut h_out, mut c_out) = ([0.0], [0.0]);
    let x_in = Inputs { p: Shared::new(&p[..]), ports: [&[x], &[], &[], &[]], prev_h: &[0.0], prev_c: &[c_prev] };
    forward(CellKind::Lstm, x_in, &mut h_out, &mut c_out);
    assert!((c_out[0] - c).abs() < 1e-15 && (h_out[0] - o * c).abs() < 1e-15);
    let (mut dx, mut dh_prev, mut dc_prev, mut acc) = ([0.0], [0.0], [0.0], SharedGrads::new());
    let s = Saved { h: &h_out, c: &c_out, dh: &[delta_h], dc: &[delta_c] };
    let grads = Grads { ports: [&mut dx, &mut [], &mut [], &mut []], prev_h: &mut dh_prev, prev_c: &mut dc_prev };
    backward(CellKind::Lstm, x_in, s, grads, &mut acc);
    let dp = acc.acc;
    for (k, (a, e)) in dp.iter().zip(expected_params).enumerate() {
        assert!((a - e).abs() < 1e-15, "{}: {a} vs notes {e}", CellKind::Lstm.params()[k]);
    }
    assert!((dc_prev[0] - delta_c_prev).abs() < 1e-15);
    assert!((dx[0] - delta_x).abs() < 1e-15);
    assert_eq!(dh_prev[0], 0.0, "the peephole LSTM does not read h'");
}
