//! The lecture notes' worked examples as golden tests.

mod common;
use common::*;
use nervenet_core::*;

/// Lecture 2: the circuit f(x, y, z) = z (x + 3y) at (4, 5, 2): f = 38,
/// df/dx = z = 2, df/dy = 3z = 6, and (z as a weight) df/dz = x + 3y = 19.
#[test]
fn chain_rule_circuit() {
    let mut g = Graph::new();
    let (x, y) = (input(&mut g), input(&mut g));
    let q = node(&mut g, Role::Hidden, "identity", false);
    let f = node(&mut g, Role::Output, "identity", false);
    g.add_edge(x, q, EdgeSpec { trainable: false, weight: Some(1.0), ..EdgeSpec::default() }).unwrap();
    g.add_edge(y, q, EdgeSpec { trainable: false, weight: Some(3.0), ..EdgeSpec::default() }).unwrap();
    let z = edge(&mut g, q, f, 2.0);
    let net = net64(g);
    let xs = [4.0, 5.0];
    let batch = Sequences::new(&xs, 1, 1, 2);
    assert_eq!(net.forward(&batch).unwrap(), vec![38.0]);
    let grads = net.gradient(&batch, &Seed::OutputGrad(&[1.0]), true).unwrap();
    assert_eq!(grads.inputs.unwrap(), vec![2.0, 6.0]);
    assert_eq!(grads.params[net.param_index(&format!("edge:{}", z.0)).unwrap()], 19.0);
    // The fixed weights 1 and 3 get no gradient.
    assert_eq!(grads.params.iter().filter(|&&v| v == 0.0).count(), 2);
}

/// Lecture 2: sigmoid'(4) = sigmoid(4)(1 − sigmoid(4)) = 0.017676.
#[test]
fn sigmoid_derivative_at_four() {
    let mut g = Graph::new();
    let x = input(&mut g);
    let y = node(&mut g, Role::Output, "sigmoid", false);
    edge(&mut g, x, y, 1.0);
    let net = net64(g);
    let batch = Sequences::new(&[4.0], 1, 1, 1);
    assert_close(net.forward(&batch).unwrap()[0], 0.98201, 5e-6);
    let grads = net.gradient(&batch, &Seed::OutputGrad(&[1.0]), true).unwrap();
    // The notes get 0.017676 from the rounded 0.982 · (1 − 0.982); exactly it is 0.0176627.
    let dx = grads.inputs.unwrap()[0];
    assert_close(dx, 0.017676, 2e-5);
    assert_close(dx, 0.98201379 * (1.0 - 0.98201379), 1e-8);
}

/// Lecture 2's xor network: inputs (1, 1), tanh hidden nodes with biases
/// 0.5 and 0.6, a sigmoid output; weights 0.1 … 0.7. The notes find the
/// output 0.733, the delta 0.196 through the sigmoid, 0.057 and 0.042 into
/// the hidden sums, and 0.0141 and 0.0339 into the inputs.
#[test]
fn xor_backward_pass() {
    let mut g = Graph::new();
    let (y0, y1) = (input(&mut g), input(&mut g));
    let h0 = node(&mut g, Role::Hidden, "tanh", true);
    let h1 = node(&mut g, Role::Hidden, "tanh", true);
    let out = node(&mut g, Role::Output, "sigmoid", false);
    g.set_bias_value(h0, 0.5).unwrap();
    g.set_bias_value(h1, 0.6).unwrap();
    edge(&mut g, y0, h0, 0.1);
    edge(&mut g, y0, h1, 0.2);
    edge(&mut g, y1, h0, 0.3);
    edge(&mut g, y1, h1, 0.4);
    let w6 = edge(&mut g, h0, out, 0.6);
    let w7 = edge(&mut g, h1, out, 0.7);
    let net = net64(g);
    let batch = Sequences::new(&[1.0, 1.0], 1, 1, 2);
    let o = net.forward(&batch).unwrap()[0];
    assert_close(o, 0.733, 1e-3); // 0.73367, written 0.733 in the notes
    assert_close(o * (1.0 - o), 0.196, 1e-3);

    let grads = net.gradient(&batch, &Seed::OutputGrad(&[1.0]), true).unwrap();
    let p = &grads.params;
    // Biases receive exactly the deltas into the hidden sums.
    assert_close(grad_of(&net, &format!("node:{}:bias", h0.0), p), 0.057, 5e-4);
    assert_close(grad_of(&net, &format!("node:{}:bias", h1.0), p), 0.042, 5e-4);
    // Output weights: delta 0.196 times tanh(0.9) and tanh(1.2).
    assert_close(grad_of(&net, &format!("edge:{}", w6.0), p), o * (1.0 - o) * 0.9f64.tanh(), 1e-15);
    assert_close(grad_of(&net, &format!("edge:{}", w7.0), p), o * (1.0 - o) * 1.2f64.tanh(), 1e-15);
    // Sum of deltas arriving at each input node.
    let dx = grads.inputs.unwrap();
    // The notes chain rounded deltas (0.057·0.3 + 0.042·0.4 = 0.0339).
    assert_close(dx[0], 0.0141, 1e-4);
    assert_close(dx[1], 0.0339, 1e-4);
}

/// Lecture 1's forward-pass example: inputs 3, 0.7, −1.2, tanh everywhere,
/// hidden biases, the sparse topology of the notes' equations
/// (X¹₀ ← X⁰₀,X⁰₁; X¹₁ ← X⁰₀,X⁰₂; X¹₂ ← X⁰₁,X⁰₂; X²₀ and X²₁ ← X¹₀,X¹₂).
/// The slide's edge weights are only in its images, so the weights here are
/// chosen and the expected values are the notes' equations evaluated by hand.
#[test]
fn lecture1_forward_pass() {
    let mut g = Graph::new();
    let x: Vec<NodeId> = (0..3).map(|_| input(&mut g)).collect();
    let h: Vec<NodeId> = (0..3).map(|_| node(&mut g, Role::Hidden, "tanh", true)).collect();
    let o: Vec<NodeId> = (0..2).map(|_| node(&mut g, Role::Output, "tanh", false)).collect();
    let b = [0.1, -0.2, 0.3];
    for (n, &v) in h.iter().zip(&b) {
        g.set_bias_value(*n, v).unwrap();
    }
    let w = |g: &mut Graph, s: NodeId, d: NodeId, v: f64| edge(g, s, d, v);
    w(&mut g, x[0], h[0], 0.5);
    w(&mut g, x[1], h[0], -0.6);
    w(&mut g, x[0], h[1], 0.2);
    w(&mut g, x[2], h[1], 0.8);
    w(&mut g, x[1], h[2], -0.9);
    w(&mut g, x[2], h[2], 0.4);
    w(&mut g, h[0], o[0], 1.1);
    w(&mut g, h[2], o[0], -0.7);
    w(&mut g, h[0], o[1], 0.3);
    w(&mut g, h[2], o[1], 0.6);
    let net = net64(g);
    let inputs = [3.0, 0.7, -1.2];
    let out = net.forward(&Sequences::new(&inputs, 1, 1, 3)).unwrap();
    let x10 = (0.1 + 3.0 * 0.5 + 0.7 * -0.6f64).tanh();
    let x12 = (0.3 + 0.7 * -0.9 + -1.2 * 0.4f64).tanh();
    assert_close(out[0], (x10 * 1.1 + x12 * -0.7).tanh(), 1e-15);
    assert_close(out[1], (x10 * 0.3 + x12 * 0.6).tanh(), 1e-15);
}

/// Lecture 1's layer sizes [5, 5, 4, 3, 4, 2]: 5·5 + 5·4 + 4·3 + 3·4 + 4·2
/// = 77 weights and 5 + 4 + 3 + 4 = 16 hidden biases.
#[test]
fn notes_layer_sizes_parameter_count() {
    let sizes = [5usize, 5, 4, 3, 4, 2];
    let mut g = Graph::new();
    let mut prev: Vec<NodeId> = (0..sizes[0]).map(|_| input(&mut g)).collect();
    for (i, &n) in sizes.iter().enumerate().skip(1) {
        let role = if i + 1 == sizes.len() { Role::Output } else { Role::Hidden };
        let layer: Vec<NodeId> =
            (0..n).map(|_| g.add_node(role, NodeKind::simple(Activation::Tanh), None).unwrap()).collect();
        for &s in &prev {
            for &d in &layer {
                g.add_edge(s, d, EdgeSpec::default()).unwrap();
            }
        }
        prev = layer;
    }
    let net = net64(g);
    assert_eq!(net.params().len(), 77 + 16);
    assert_eq!(net.param_names().iter().filter(|n| n.ends_with(":bias")).count(), 16);
}

/// Lecture 5/6's Elman example: the sequence 1, 2, 3, 4 with targets
/// 2, 4, 8, 16, linear activations, w0 = 0.5 (input → hidden),
/// w1 = 0.7 (hidden → hidden, one step back), w2 = 0.9 (hidden → output),
/// an L2 loss on every step, summed. The slides' intermediate numbers are
/// in their images; the expected values below are the unrolled equations
/// and the BPTT recursion written out by hand.
#[test]
fn elman_bptt() {
    let mut g = Graph::new();
    let x = input(&mut g);
    let h = node(&mut g, Role::Hidden, "identity", false);
    let y = node(&mut g, Role::Output, "identity", false);
    let w0 = edge(&mut g, x, h, 0.5);
    let w1 = rec(&mut g, h, h, 1, 0.7);
    let w2 = edge(&mut g, h, y, 0.9);
    let net = net64(g);
    let xs = [1.0, 2.0, 3.0, 4.0];
    let ys = [2.0, 4.0, 8.0, 16.0];
    let batch = Sequences::new(&xs, 1, 4, 1);

    // Unrolled forward: h_t = 0.5 x_t + 0.7 h_{t-1}, o_t = 0.9 h_t.
    let mut hs = [0.0; 4];
    for t in 0..4 {
        hs[t] = 0.5 * xs[t] + if t > 0 { 0.7 * hs[t - 1] } else { 0.0 };
    }
    let out = net.forward(&batch).unwrap();
    for t in 0..4 {
        assert_close(out[t], 0.9 * hs[t], 1e-15);
    }
    // L2 per step on one output is |o − y|; every o_t < y_t, so dL/do_t = −1.
    let grads = net.gradient(&batch, &values_seed(Loss::L2, &ys), false).unwrap();
    let loss: f64 = (0..4).map(|t| (ys[t] - 0.9 * hs[t]).abs()).sum();
    assert_close(grads.loss, loss, 1e-12);
    let (mut d0, mut d1, mut d2, mut dh_next) = (0.0, 0.0, 0.0, 0.0);
    for t in (0..4).rev() {
        let do_t = -1.0;
        d2 += do_t * hs[t];
        let dh = do_t * 0.9 + dh_next * 0.7;
        d0 += dh * xs[t];
        if t > 0 {
            d1 += dh * hs[t - 1];
        }
        dh_next = dh;
    }
    let p = &grads.params;
    assert_close(grad_of(&net, &format!("edge:{}", w0.0), p), d0, 1e-12);
    assert_close(grad_of(&net, &format!("edge:{}", w1.0), p), d1, 1e-12);
    assert_close(grad_of(&net, &format!("edge:{}", w2.0), p), d2, 1e-12);
    let report = check_gradients(&net, &batch, &values_seed(Loss::L2, &ys), 1e-5).unwrap();
    assert!(report.max_error < 1e-7, "{report:?}");
}

/// Lecture 6's Jordan network: inputs (0.5, 0.2), (0.3, 0.4), (0.4, 0.1),
/// two tanh hidden nodes (w0..w3), one identity output (w4, w5) fed back to
/// the hidden nodes one step later (w6 = 0.1, w7 = 0.3), L2 loss per step.
///
/// The slides' first step matches exactly: h = (tanh 0.05, tanh −0.16) and
/// O = 0.091. Their later rows carry arithmetic slips (0.4 · −0.5 written as
/// −0.04 at t = 1, the t = 2 sums, 0.159 · 0.1 written as 0.0016, and the
/// "L2 d" column evaluated at O instead of O − y), so the table's final
/// deltas cannot be reproduced; the test checks the first step against the
/// table and the whole backward pass against the notes' BPTT recipe written
/// out by hand, plus finite differences.
#[test]
fn jordan_bptt() {
    let mut g = Graph::new();
    let (i1, i2) = (input(&mut g), input(&mut g));
    let h0 = node(&mut g, Role::Hidden, "tanh", false);
    let h1 = node(&mut g, Role::Hidden, "tanh", false);
    let o = node(&mut g, Role::Output, "identity", false);
    let w = [0.3, -0.4, -0.5, 0.2, -0.1, -0.6, 0.1, 0.3];
    let ids = [
        edge(&mut g, i1, h0, w[0]),
        edge(&mut g, i1, h1, w[1]),
        edge(&mut g, i2, h0, w[2]),
        edge(&mut g, i2, h1, w[3]),
        edge(&mut g, h0, o, w[4]),
        edge(&mut g, h1, o, w[5]),
        rec(&mut g, o, h0, 1, w[6]),
        rec(&mut g, o, h1, 1, w[7]),
    ];
    let net = net64(g);
    let xs = [0.5, 0.2, 0.3, 0.4, 0.4, 0.1];
    let ys = [2.0, 4.0, 3.0];
    let batch = Sequences::new(&xs, 1, 3, 2);
    let out = net.forward(&batch).unwrap();
    assert_close(out[0], 0.091, 1e-3); // the table's O at t = 0 (0.0902 from unrounded h)

    // The recipe: forward keeping H, H', O per step; backward from t = 2,
    // adding the recurrent deltas into the previous step's output node.
    let (mut hh, mut oo) = ([[0.0; 2]; 3], [0.0; 3]);
    for t in 0..3 {
        let prev = if t > 0 { oo[t - 1] } else { 0.0 };
        let (a, b) = (xs[2 * t], xs[2 * t + 1]);
        hh[t][0] = (a * w[0] + b * w[2] + prev * w[6]).tanh();
        hh[t][1] = (a * w[1] + b * w[3] + prev * w[7]).tanh();
        oo[t] = hh[t][0] * w[4] + hh[t][1] * w[5];
    }
    assert_close(hh[0][0], 0.05, 5e-4);
    assert_close(hh[0][1], -0.16, 5e-3);
    let mut delta = [0.0; 8];
    let mut from_next = 0.0;
    for t in (0..3).rev() {
        let d_o = (oo[t] - ys[t]).signum() + from_next; // L2' of one value is its sign
        delta[4] += d_o * hh[t][0];
        delta[5] += d_o * hh[t][1];
        let dh0 = d_o * w[4] * (1.0 - hh[t][0] * hh[t][0]);
        let dh1 = d_o * w[5] * (1.0 - hh[t][1] * hh[t][1]);
        let (a, b) = (xs[2 * t], xs[2 * t + 1]);
        delta[0] += dh0 * a;
        delta[1] += dh1 * a;
        delta[2] += dh0 * b;
        delta[3] += dh1 * b;
        if t > 0 {
            delta[6] += dh0 * oo[t - 1];
            delta[7] += dh1 * oo[t - 1];
        }
        from_next = dh0 * w[6] + dh1 * w[7];
    }
    let grads = net.gradient(&batch, &values_seed(Loss::L2, &ys), false).unwrap();
    for (k, id) in ids.iter().enumerate() {
        assert_close(grad_of(&net, &format!("edge:{}", id.0), &grads.params), delta[k], 1e-12);
    }
    let report = check_gradients(&net, &batch, &values_seed(Loss::L2, &ys), 1e-5).unwrap();
    assert!(report.max_error < 1e-7, "{report:?}");
}

/// Lecture 3: softmax of (8, 2, 5) is (0.9503, 0.0023, 0.0473), and the
/// loss gradient at the outputs is p − onehot(y).
#[test]
fn softmax_example_through_a_network() {
    let mut g = Graph::new();
    let x = input(&mut g);
    let outs: Vec<NodeId> = (0..3).map(|_| node(&mut g, Role::Output, "identity", false)).collect();
    for (o, v) in outs.iter().zip([8.0, 2.0, 5.0]) {
        edge(&mut g, x, *o, v);
    }
    let net = net64(g);
    let batch = Sequences::new(&[1.0], 1, 1, 1);
    let seed =
        Seed::Loss { loss: Loss::Softmax, targets: Targets::Classes(&[0]), reduction: Reduction::Sum, mask: None };
    let grads = net.gradient(&batch, &seed, false).unwrap();
    assert_close(grads.loss, -(0.9503f64.ln()), 1e-4);
    // With input 1, each weight's gradient is dL/dz_j.
    for (k, want) in [0.9503 - 1.0, 0.0023, 0.0473].iter().enumerate() {
        assert_close(grads.params[k], *want, 1e-4); // the notes round to 4 places
    }
}
