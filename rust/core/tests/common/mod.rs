//! Helpers shared by the integration tests: terse graph building and
//! gradient evaluation.
#![allow(dead_code)]

use nervenet_core::*;

pub fn act(name: &str) -> Activation {
    Activation::parse(name, None, None).expect("activation name")
}

pub fn node(g: &mut Graph, role: Role, a: &str, bias: bool) -> NodeId {
    g.add_node(role, NodeKind::simple(act(a)), Some(bias)).unwrap()
}

pub fn input(g: &mut Graph) -> NodeId {
    g.add_node(Role::Input, NodeKind::simple(Activation::Identity), None).unwrap()
}

pub fn edge(g: &mut Graph, src: NodeId, dst: NodeId, w: f64) -> EdgeId {
    g.add_edge(src, dst, EdgeSpec { weight: Some(w), ..EdgeSpec::default() }).unwrap()
}

/// The smallest network: one input, one identity output without a bias,
/// joined by an edge of weight 1.
pub fn one_edge() -> (Graph, NodeId, NodeId, EdgeId) {
    let mut g = Graph::new();
    let x = input(&mut g);
    let y = node(&mut g, Role::Output, "identity", false);
    let e = edge(&mut g, x, y, 1.0);
    (g, x, y, e)
}

pub fn rec(g: &mut Graph, src: NodeId, dst: NodeId, skip: u32, w: f64) -> EdgeId {
    g.add_edge(src, dst, EdgeSpec { weight: Some(w), time_skip: skip, ..EdgeSpec::default() }).unwrap()
}

pub fn net64(g: Graph) -> Network<f64> {
    Network::new(g, &Init::default(), 0).unwrap()
}

pub fn grad_of(net: &Network<f64>, name: &str, grads: &[f64]) -> f64 {
    grads[net.param_index(name).unwrap()]
}

pub fn values_seed<'a, T: Real>(loss: Loss, y: &'a [T]) -> Seed<'a, T> {
    Seed::Loss { loss, targets: Targets::Values(y), reduction: Reduction::Sum, mask: None }
}

pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[track_caller]
pub fn assert_close(got: f64, want: f64, tol: f64) {
    assert!(close(got, want, tol), "got {got}, want {want} (tolerance {tol})");
}

/// Deterministic pseudo-random values in [-1, 1).
pub fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

/// Distinct values (a shuffled ramp with spacing 0.01), so max pooling has no ties.
pub fn distinct(n: usize, seed: u64) -> Vec<f64> {
    let keys = values(n, seed);
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| keys[a].total_cmp(&keys[b]));
    let mut out = vec![0.0; n];
    for (rank, &i) in idx.iter().enumerate() {
        out[i] = rank as f64 * 0.01 - n as f64 * 0.005;
    }
    out
}

/// Max relative error over parameters whose gradient is at least 1e-2.
/// A central difference with h = 1e-5 carries its own truncation error
/// h²·f'''/6 and rounding error (together ~1e-10 absolute on these losses),
/// which alone exceeds a relative 1e-7 for gradients much below 1e-2; those
/// must agree to an absolute `abs_tol` instead.
pub fn checked_error(report: &GradientReport, abs_tol: f64) -> f64 {
    let mut worst = 0.0f64;
    for i in 0..report.analytic.len() {
        let (a, n) = (report.analytic[i], report.numeric[i]);
        if a.abs().max(n.abs()) >= 1e-2 {
            worst = worst.max(report.relative_errors[i]);
        } else {
            assert!((a - n).abs() < abs_tol, "{}: {a} vs {n}", report.names[i]);
        }
    }
    worst
}

/// A c×h×w feature map with no activation and tied biases.
pub fn linear_map(c: u32, h: u32, w: u32) -> NodeKind {
    NodeKind::FeatureMap { channels: c, height: h, width: w, activation: Activation::Identity, untied_bias: false }
}

/// A k×k filter edge.
pub fn filter(k: u32, stride: u32, padding: u32) -> EdgeSpec {
    EdgeSpec { kind: EdgeKind::Filter { kh: k, kw: k, kc: None, stride, padding }, ..EdgeSpec::default() }
}

/// A fractional max pooling edge (its sizes come from the two maps).
pub fn fractional(overlapping: bool, pseudorandom: bool) -> EdgeSpec {
    let kind = EdgeKind::Pool {
        op: PoolOp::FractionalMax,
        height: 0,
        width: 0,
        stride_h: 0,
        stride_w: 0,
        overlapping,
        pseudorandom,
    };
    EdgeSpec { kind, ..EdgeSpec::default() }
}

/// A size×size pooling edge.
pub fn pool(op: PoolOp, size: u32, stride: u32) -> EdgeSpec {
    let kind = EdgeKind::Pool {
        op,
        height: size,
        width: size,
        stride_h: stride,
        stride_w: stride,
        overlapping: false,
        pseudorandom: false,
    };
    EdgeSpec { kind, ..EdgeSpec::default() }
}

/// Finite-difference step of the kernel tests.
pub const H: f64 = 1e-5;

/// Central differences of L = Σ f(x)·r, taken output by output so the
/// rounding of a large L does not swamp small gradients.
pub fn numeric(f: &dyn Fn(&[f64]) -> Vec<f64>, x: &[f64], r: &[f64]) -> Vec<f64> {
    let mut p = x.to_vec();
    (0..x.len())
        .map(|i| {
            p[i] = x[i] + H;
            let plus = f(&p);
            p[i] = x[i] - H;
            let minus = f(&p);
            p[i] = x[i];
            plus.iter().zip(&minus).zip(r).map(|((a, b), w)| (a - b) * w).sum::<f64>() / (2.0 * H)
        })
        .collect()
}

/// The 6×6 feature map of the notes' pooling slides.
#[rustfmt::skip]
pub const POOL_GRID: [f64; 36] = [
    -5.0, -3.0, 2.0, 3.0, 5.0, 3.0,
    -4.0, -1.0, -2.0, -3.0, 4.0, 1.0,
    3.0, 6.0, 3.0, 2.0, -2.0, -1.0,
    2.0, 5.0, 4.0, 2.0, 6.0, -4.0,
    1.0, 3.0, 4.0, -1.0, 2.0, -3.0,
    2.0, 7.0, 5.0, -2.0, -9.0, 3.0,
];

/// The 7×7 grid of the notes' average pooling slides.
#[rustfmt::skip]
pub const AVG_POOL_GRID: [f64; 49] = [
    -5.0, -3.0, 2.0, 3.0, 5.0, 3.0, 2.0,
    -4.0, -1.0, -2.0, -3.0, 4.0, 1.0, 3.0,
    3.0, 6.0, 3.0, 2.0, -2.0, -1.0, 4.0,
    2.0, 5.0, 4.0, 2.0, 6.0, -4.0, 5.0,
    1.0, 3.0, 4.0, -1.0, 2.0, -3.0, 6.0,
    2.0, 7.0, 5.0, -2.0, -9.0, 3.0, 2.0,
    5.0, -2.0, 3.0, 8.0, -2.0, -1.0, -1.0,
];

/// Outputs and parameter gradients (MSE against `y`) of one parallel run on
/// 1 thread, then on 2.
pub fn outputs_and_gradients_on_1_and_2_threads<T: Real>(
    net: &Network<T>,
    xs: &Sequences<'_, T>,
    y: &[T],
) -> Vec<(Vec<T>, Vec<T>)> {
    [1, 2]
        .into_iter()
        .map(|threads| {
            set_num_threads(threads).unwrap();
            let want = Want { outputs: true, param_grads: true, parallel: true, ..Want::default() };
            let out = net.run(net.params(), xs, Some(&values_seed(Loss::Mse, y)), want).unwrap();
            (out.outputs.unwrap(), out.param_grads.unwrap())
        })
        .collect()
}
