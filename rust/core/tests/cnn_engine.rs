//! Feature maps in the execution engine: filter, pool, identity and
//! flattening edges compiled into a plan, checked against the notes' worked
//! example and by finite differences (f64) through every kind of edge;
//! results are bitwise identical for 1 and 2 threads.

mod common;
use common::*;
use nervenet_core::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn fmap(g: &mut Graph, role: Role, (c, h, w): (u32, u32, u32), act: &str, untied: bool, bias: bool) -> NodeId {
    let kind =
        NodeKind::FeatureMap { channels: c, height: h, width: w, activation: common::act(act), untied_bias: untied };
    g.add_node(role, kind, Some(bias)).unwrap()
}

fn add_filter(g: &mut Graph, src: NodeId, dst: NodeId, k: u32, stride: u32, padding: u32) -> EdgeId {
    g.add_edge(src, dst, filter(k, stride, padding)).unwrap()
}

fn add_pool(g: &mut Graph, src: NodeId, dst: NodeId, op: PoolOp, size: u32, stride: u32) -> EdgeId {
    g.add_edge(src, dst, pool(op, size, stride)).unwrap()
}

fn random(seed: u64, n: usize) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

#[test]
fn notes_x_image_through_a_filter_edge() {
    let mut g = Graph::new();
    let x = fmap(&mut g, Role::Input, (1, 5, 5), "identity", false, false);
    let y = fmap(&mut g, Role::Output, (1, 3, 3), "identity", false, false);
    add_filter(&mut g, x, y, 3, 1, 0);
    let mut net = net64(g);
    let w = [-1.0, -1.0, -1.0, -1.0, 2.0, -1.0, -1.0, -1.0, -1.0];
    net.set_params(&w).unwrap();
    let img: Vec<f64> = (0..25).map(|i| if i / 5 == i % 5 || i / 5 + i % 5 == 4 { 255.0 } else { 0.0 }).collect();
    let out = net.forward(&Sequences::new(&img, 1, 1, 25)).unwrap();
    assert_eq!(out, vec![0.0, -765.0, 0.0, -765.0, -510.0, -765.0, 0.0, -765.0, 0.0]);
}

/// Two input channels → conv (untied, tanh) → avg pool (tied, sigmoid);
/// a strided conv → max pool; three one-channel maps into two through a
/// partial table; a residual identity; everything flattened into 3 outputs.
fn mixed_cnn() -> Graph {
    let mut g = Graph::new();
    let x = fmap(&mut g, Role::Input, (2, 6, 6), "identity", false, false);
    let c1 = fmap(&mut g, Role::Hidden, (3, 6, 6), "tanh", true, true);
    add_filter(&mut g, x, c1, 3, 1, 1);
    let p1 = fmap(&mut g, Role::Hidden, (3, 3, 3), "sigmoid", false, true);
    add_pool(&mut g, c1, p1, PoolOp::Avg, 2, 2);
    let c2 = fmap(&mut g, Role::Hidden, (2, 3, 3), "tanh", true, true);
    add_filter(&mut g, x, c2, 2, 2, 0); // 6 → (6 − 2)/2 + 1 = 3
    let m2 = fmap(&mut g, Role::Hidden, (2, 2, 2), "identity", false, false);
    add_pool(&mut g, c2, m2, PoolOp::Max, 2, 1);
    // one-channel maps with a partial connection table
    let s: Vec<NodeId> = (0..3).map(|_| fmap(&mut g, Role::Hidden, (1, 3, 3), "tanh", true, true)).collect();
    for (k, &m) in s.iter().enumerate() {
        add_filter(&mut g, x, m, 4, 1, 0);
        let _ = k;
    }
    let t: Vec<NodeId> = (0..2).map(|_| fmap(&mut g, Role::Hidden, (1, 2, 2), "sigmoid", false, true)).collect();
    add_filter(&mut g, s[0], t[0], 2, 1, 0);
    add_filter(&mut g, s[1], t[0], 2, 1, 0);
    add_filter(&mut g, s[2], t[1], 2, 1, 0);
    add_filter(&mut g, s[1], t[1], 2, 1, 0);
    // residual block: r = tanh(conv(q) + p1), q = tanh(conv(p1))
    let q = fmap(&mut g, Role::Hidden, (3, 3, 3), "tanh", false, true);
    add_filter(&mut g, p1, q, 3, 1, 1);
    let r = fmap(&mut g, Role::Hidden, (3, 3, 3), "tanh", true, true);
    add_filter(&mut g, q, r, 3, 1, 1);
    g.add_edge(p1, r, EdgeSpec { kind: EdgeKind::Identity, ..EdgeSpec::default() }).unwrap();
    let outs: Vec<NodeId> = (0..3).map(|_| node(&mut g, Role::Output, "identity", false)).collect();
    for &o in &outs {
        for src in [r, m2, t[0], t[1]] {
            g.add_edge(src, o, EdgeSpec::default()).unwrap();
        }
    }
    g
}

#[test]
fn cnn_gradients_match_finite_differences() {
    let g = mixed_cnn();
    for seed in 0..4 {
        let net: Network<f64> = Network::new(g.clone(), &Init::default(), seed).unwrap();
        let batch = 5;
        let x = random(seed + 10, batch * 72);
        let y = random(seed + 20, batch * 3);
        let xs = Sequences::new(&x, batch, 1, 72);
        let report = check_gradients(&net, &xs, &values_seed(Loss::Mse, &y), 1e-5).unwrap();
        let worst = checked_error(&report, 1e-8);
        assert!(worst < 1e-7, "seed {seed}: max relative error {worst} at {:?}", report.worst);
        // input gradients too
        let grads = net.gradient(&xs, &values_seed(Loss::Mse, &y), true).unwrap();
        let dx = grads.inputs.unwrap();
        for &i in &[0usize, 17, 40, 71, 72 + 35] {
            let h = 1e-6;
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp[i] += h;
            xm[i] -= h;
            let loss = |v: &[f64]| {
                let out = net.forward(&Sequences::new(v, batch, 1, 72)).unwrap();
                out.iter().zip(&y).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / 3.0
                // MSE: mean over outputs
            };
            let num = (loss(&xp) - loss(&xm)) / (2.0 * h);
            assert!((num - dx[i]).abs() <= 1e-6 * (1.0 + num.abs()), "input {i}: {} vs {num}", dx[i]);
        }
    }
}

#[test]
fn partial_tables_compile_to_one_masked_convolution() {
    let net = net64(mixed_cnn());
    let plan = net.plan();
    let convs: Vec<&ConvBlock> = plan.levels.iter().flat_map(|l| &l.convs).collect();
    // x→c1, x→c2, x→s (one conv of 3 maps), s→t (masked), p1→q, q→r
    assert_eq!(convs.len(), 6);
    let masked: Vec<_> = convs.iter().filter(|c| !c.full_index.is_empty()).collect();
    assert_eq!(masked.len(), 1);
    assert_eq!(masked[0].params.len(), 4 * 4);
    assert_eq!(masked[0].full_len(), 2 * 3 * 4);
    // tied biases: one per channel
    assert!(net.param_names().contains(&"node:2:bias[2]".to_string()));
    assert!(!net.param_names().contains(&"node:2:bias[3]".to_string()));
}

#[test]
fn cnn_results_do_not_depend_on_threads() {
    let net: Network<f32> = Network::new(mixed_cnn(), &Init::default(), 3).unwrap();
    let batch = 37;
    let x: Vec<f32> = random(1, batch * 72).iter().map(|&v| v as f32).collect();
    let y: Vec<f32> = random(2, batch * 3).iter().map(|&v| v as f32).collect();
    let xs = Sequences::new(&x, batch, 1, 72);
    let runs = outputs_and_gradients_on_1_and_2_threads(&net, &xs, &y);
    assert_eq!(runs[0], runs[1]);
}

#[test]
fn bad_map_edges_are_named() {
    let mut g = Graph::new();
    let x = fmap(&mut g, Role::Input, (1, 5, 5), "identity", false, false);
    let y = fmap(&mut g, Role::Output, (1, 4, 4), "identity", false, false);
    let e = add_filter(&mut g, x, y, 3, 1, 0);
    let err = format!("{}", Plan::compile(&g).unwrap_err());
    assert!(err.contains(&format!("edge {}", e.0)) && err.contains("3×3"), "{err}");
    let mut g = Graph::new();
    let x = fmap(&mut g, Role::Input, (1, 4, 4), "identity", false, false);
    let y = node(&mut g, Role::Output, "identity", false);
    let m = fmap(&mut g, Role::Hidden, (1, 4, 4), "relu", true, true);
    g.add_edge(x, m, EdgeSpec::default()).unwrap();
    g.add_edge(m, y, EdgeSpec::default()).unwrap();
    let err = Plan::compile(&g).unwrap_err();
    assert!(matches!(err, Error::Unsupported(ref m) if m.contains("filter")), "{err}");
}

#[test]
fn fractional_max_pooling_draws_regions_per_seed() {
    let mut g = Graph::new();
    let x = fmap(&mut g, Role::Input, (2, 7, 7), "identity", false, false);
    let c = fmap(&mut g, Role::Hidden, (2, 7, 7), "tanh", true, true);
    add_filter(&mut g, x, c, 3, 1, 1);
    let p = fmap(&mut g, Role::Hidden, (2, 5, 5), "identity", true, true);
    g.add_edge(c, p, fractional(true, false)).unwrap();
    let y = node(&mut g, Role::Output, "identity", false);
    g.add_edge(p, y, EdgeSpec::default()).unwrap();
    let net: Network<f64> = Network::new(g, &Init::default(), 1).unwrap();
    let (batch, n) = (3, 98);
    let xv = random(5, batch * n);
    let yv = random(6, batch);
    let xs = Sequences::new(&xv, batch, 1, n);
    let report = check_gradients(&net, &xs, &values_seed(Loss::Mse, &yv), 1e-5).unwrap();
    for i in 0..report.analytic.len() {
        let (a, num) = (report.analytic[i], report.numeric[i]);
        assert!((a - num).abs() <= 1e-7 * (1.0 + a.abs()), "{}: {a} vs {num}", report.names[i]);
    }
    let out = |seed| {
        let want = Want { outputs: true, pool_seed: seed, ..Want::default() };
        net.run(net.params(), &xs, None, want).unwrap().outputs.unwrap()
    };
    assert_eq!(out(7), out(7));
    assert_ne!(out(7), out(8));
}

#[test]
fn notes_3d_filter_through_a_filter_edge() {
    // The notes' 4×4×3 input and one 3×3×2 filter sliding over channels:
    // a filter edge with depth 2 into a 2×2×2 map.
    let mut g = Graph::new();
    let x = fmap(&mut g, Role::Input, (3, 4, 4), "identity", false, false);
    let y = fmap(&mut g, Role::Output, (2, 2, 2), "identity", false, false);
    let kind = EdgeKind::Filter { kh: 3, kw: 3, kc: Some(2), stride: 1, padding: 0 };
    g.add_edge(x, y, EdgeSpec { kind, ..EdgeSpec::default() }).unwrap();
    let mut net = net64(g);
    #[rustfmt::skip]
    let w = [-1.0, -1.0, -1.0, -1.0, 2.0, -1.0, -1.0, -1.0, -1.0,  -2.0, 1.0, -2.0, 1.0, 2.0, 1.0, -2.0, 1.0, -2.0];
    net.set_params(&w).unwrap();
    #[rustfmt::skip]
    let img = [
        1.0, 4.0, 3.0, 2.0,  6.0, -2.0, -3.0, 5.0,  7.0, 8.0, -1.0, 0.0,  4.0, 3.0, 2.0, 1.0,
        3.0, 2.0, 3.0, 1.0,  4.0, 5.0, 4.0, 2.0,  -2.0, 3.0, -3.0, 1.0,  -1.0, -1.0, 2.0, 4.0,
        -5.0, -3.0, 2.0, 3.0,  -4.0, -1.0, -2.0, -3.0,  3.0, 6.0, 3.0, 2.0,  2.0, 5.0, 4.0, 2.0,
    ];
    let out = net.forward(&Sequences::new(&img, 1, 1, 48)).unwrap();
    assert_eq!(out, vec![-8.0, -24.0, -13.0, -32.0, -15.0, -25.0, 20.0, -16.0]);
    assert_eq!(net.param_names().len(), 18);
}

#[test]
fn forward_only_runs_in_waves_give_the_same_results() {
    let net: Network<f32> = Network::new(mixed_cnn(), &Init::default(), 3).unwrap();
    let batch = 70; // chunks of 24, 24, 22
    let x: Vec<f32> = random(1, batch * 72).iter().map(|&v| v as f32).collect();
    let y: Vec<f32> = random(2, batch * 3).iter().map(|&v| v as f32).collect();
    let xs = Sequences::new(&x, batch, 1, 72);
    let run = || {
        let want = Want { outputs: true, parallel: true, ..Want::default() };
        let out = net.run(net.params(), &xs, Some(&values_seed(Loss::Mse, &y)), want).unwrap();
        (out.outputs.unwrap(), out.loss)
    };
    let whole = run();
    set_inference_memory(1).unwrap(); // one chunk per wave
    let waves = run();
    set_inference_memory(256 << 20).unwrap();
    assert_eq!(whole.0, waves.0);
    assert_eq!(whole.1.to_bits(), waves.1.to_bits());
}
