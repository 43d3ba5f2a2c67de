//! Memory cells inside random graphs: finite-difference checks (f64,
//! relative error < 1e-7) with cells of every kind mixed with simple nodes
//! and recurrent edges of skips 1..5; dense, masked and sparse kernels
//! agree; results are bitwise identical for 1 and 2 threads; inference with
//! a ring of states equals the full history.

mod common;
use common::*;
use nervenet_core::*;
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_data(seed: u64, n: usize, scale: f64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}

fn spec(seed: u64, hidden: usize, recurrent: usize, cells: Vec<CellKind>) -> RandomGraphSpec {
    RandomGraphSpec {
        inputs: 3,
        hidden,
        outputs: 2,
        density: 0.4,
        recurrent,
        max_skip: 5,
        activations: vec![Activation::Identity, Activation::Sigmoid, Activation::Tanh],
        bias_probability: 0.6,
        fixed_probability: 0.1,
        cell_probability: 0.6,
        cells,
        seed,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn cell_gradients_match_finite_differences(seed in 0u64..10_000, hidden in 1usize..10, recurrent in 0usize..10,
                                               kind in 0usize..8, steps in 1usize..7, softmax in any::<bool>()) {
        // kind 7: every kind mixed in one graph.
        let cells = if kind == 7 { CellKind::ALL.to_vec() } else { vec![CellKind::ALL[kind]] };
        let g = random_graph(&spec(seed, hidden, recurrent, cells)).unwrap();
        let net: Network<f64> = Network::new(g, &Init::default(), seed).unwrap();
        let batch = 3;
        let x = random_data(seed + 1, batch * steps * 3, 1.5);
        let y = random_data(seed + 2, batch * steps * 2, 1.0);
        let classes: Vec<i64> = (0..batch * steps).map(|i| (i % 2) as i64).collect();
        let xs = Sequences::new(&x, batch, steps, 3);
        let seed_ = if softmax {
            Seed::Loss { loss: Loss::Softmax, targets: Targets::Classes(&classes), reduction: Reduction::Mean, mask: None }
        } else {
            values_seed(Loss::Mse, &y)
        };
        let report = check_gradients(&net, &xs, &seed_, 1e-5).unwrap();
        let err = checked_error(&report, 1e-9);
        prop_assert!(err < 1e-7, "max relative error {} at {:?}", err, report.worst);
    }

    /// Dense, masked-dense and sparse blocks into cell ports agree.
    #[test]
    fn cell_kernels_agree(seed in 0u64..10_000, hidden in 4usize..24, recurrent in 0usize..16, batch in 1usize..70) {
        let g = random_graph(&RandomGraphSpec { density: 0.7, ..spec(seed, hidden, recurrent, CellKind::ALL.to_vec()) })
            .unwrap();
        let steps = 3;
        let x = random_data(seed + 1, batch * steps * 3, 1.0);
        let y = random_data(seed + 2, batch * steps * 2, 1.0);
        let xs = Sequences::new(&x, batch, steps, 3);
        let mut results = Vec::new();
        for opts in [PlanOptions::default(), PlanOptions::all_sparse(), PlanOptions::all_dense()] {
            let net: Network<f64> = Network::with_options(g.clone(), &Init::default(), seed, opts).unwrap();
            let out = net.forward(&xs).unwrap();
            let grads = net.gradient(&xs, &values_seed(Loss::Mse, &y), true).unwrap();
            let mut named: Vec<(String, f64)> = net.param_names().iter().map(|s| s.to_string()).zip(grads.params).collect();
            named.sort_by(|a, b| a.0.cmp(&b.0));
            results.push((out, named, grads.inputs.unwrap()));
        }
        for r in &results[1..] {
            for (a, b) in r.0.iter().zip(&results[0].0) {
                prop_assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()));
            }
            for ((na, a), (nb, b)) in r.1.iter().zip(&results[0].1) {
                prop_assert_eq!(na, nb);
                prop_assert!((a - b).abs() <= 1e-10 * (1.0 + b.abs()), "{}: {} vs {}", na, a, b);
            }
            for (a, b) in r.2.iter().zip(&results[0].2) {
                prop_assert!((a - b).abs() <= 1e-10 * (1.0 + b.abs()));
            }
        }
    }
}

fn cell_graph(seed: u64) -> Graph {
    random_graph(&RandomGraphSpec {
        inputs: 6,
        hidden: 60,
        outputs: 3,
        density: 0.3,
        recurrent: 30,
        max_skip: 3,
        cell_probability: 0.7,
        seed,
        ..RandomGraphSpec::default()
    })
    .unwrap()
}

/// Bitwise identical gradients for 1 and 2 threads, several chunks.
#[test]
fn threads_do_not_change_cell_results() {
    let g = cell_graph(3);
    let (batch, steps) = (150, 4);
    let x = random_data(1, batch * steps * 6, 1.0);
    let y = random_data(2, batch * steps * 3, 1.0);
    let run = |threads: usize| {
        set_num_threads(threads).unwrap();
        let net: Network<f32> = Network::new(g.clone(), &Init::default(), 3).unwrap();
        let x: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let y: Vec<f32> = y.iter().map(|&v| v as f32).collect();
        let xs = Sequences::new(&x, batch, steps, 6);
        let seed = Seed::Loss { loss: Loss::Mse, targets: Targets::Values(&y), reduction: Reduction::Mean, mask: None };
        let gr = net.gradient(&xs, &seed, true).unwrap();
        (gr.params, gr.loss)
    };
    let (one, two) = (run(1), run(2));
    assert!(one.0.iter().zip(&two.0).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_eq!(one.1.to_bits(), two.1.to_bits());
    assert!(one.0.iter().any(|v| *v != 0.0));
}

/// Inference keeps a ring of states; cells read their own previous state
/// from it, and the outputs equal the ones with every step stored.
#[test]
fn ring_inference_with_cells_matches_full_history() {
    let g = cell_graph(5);
    let net: Network<f64> = Network::new(g, &Init::default(), 1).unwrap();
    let (batch, steps) = (5, 13);
    let x = random_data(3, batch * steps * 6, 1.0);
    let y = random_data(4, batch * steps * 3, 1.0);
    let xs = Sequences::new(&x, batch, steps, 6);
    let ring = net.forward(&xs).unwrap();
    let full = net
        .run(net.params(), &xs, Some(&values_seed(Loss::Mse, &y)), Want { outputs: true, ..Want::default() })
        .unwrap()
        .outputs
        .unwrap();
    assert_eq!(ring, full);
}

/// Cell parameters have stable names; the LSTM's forget-gate bias starts at
/// +1; standard units get gate biases; a port that does not exist is an error.
#[test]
fn cell_parameters_are_named_and_initialised() {
    let mut g = Graph::new();
    let x = g.add_node(Role::Input, NodeKind::simple(Activation::Identity), None).unwrap();
    let c = g.add_node(Role::Hidden, NodeKind::Cell(CellKind::Lstm), None).unwrap();
    let u = g.add_node(Role::Hidden, NodeKind::Cell(CellKind::GruUnit), None).unwrap();
    let y = g.add_node(Role::Output, NodeKind::simple(Activation::Identity), None).unwrap();
    g.add_edge(x, c, EdgeSpec::default()).unwrap();
    for port in 0..4 {
        g.add_edge(x, u, EdgeSpec { port, ..EdgeSpec::default() }).unwrap();
    }
    g.add_edge(c, y, EdgeSpec::default()).unwrap();
    g.add_edge(u, y, EdgeSpec::default()).unwrap();
    let err = g.add_edge(x, c, EdgeSpec { port: 1, ..EdgeSpec::default() }).unwrap_err();
    assert!(err.to_string().contains("port 1") && err.to_string().contains("lstm"), "{err}");
    let net: Network<f64> = Network::new(g, &Init::default(), 0).unwrap();
    let names = net.param_names();
    for p in ["w_f", "u_f", "b_f", "w_i", "u_i", "b_i", "w_o", "u_o", "b_o", "w_c", "b_c"] {
        assert!(names.iter().any(|n| *n == format!("node:{}:lstm.{p}", c.0)), "missing lstm.{p}");
    }
    for p in ["r", "z", "n_x", "n_h"] {
        assert!(names.iter().any(|n| *n == format!("node:{}:bias.{p}", u.0)), "missing bias.{p}");
    }
    assert_eq!(net.get_param(&format!("node:{}:lstm.b_f", c.0)).unwrap(), 1.0);
    assert_eq!(net.get_param(&format!("node:{}:lstm.b_i", c.0)).unwrap(), 0.0);
    assert_ne!(net.get_param(&format!("node:{}:lstm.w_f", c.0)).unwrap(), 0.0);
}

/// At batch size 1 the cells of a group run as one vector (one cell per
/// element); batched, each cell runs over the samples. Both give each
/// sample the same outputs, loss and gradients.
#[test]
fn batch_of_one_matches_batched_cells() {
    let g = cell_graph(9);
    let net: Network<f64> = Network::new(g, &Init::default(), 2).unwrap();
    let (batch, steps) = (4, 7);
    let x = random_data(5, batch * steps * 6, 1.0);
    let y = random_data(6, batch * steps * 3, 1.0);
    let all = net.gradient(&Sequences::new(&x, batch, steps, 6), &values_seed(Loss::Mse, &y), false).unwrap();
    let mut loss = 0.0;
    let mut grad = vec![0.0; net.params().len()];
    for b in 0..batch {
        let xb = &x[b * steps * 6..(b + 1) * steps * 6];
        let yb = &y[b * steps * 3..(b + 1) * steps * 3];
        let one = net.gradient(&Sequences::new(xb, 1, steps, 6), &values_seed(Loss::Mse, yb), false).unwrap();
        loss += one.loss;
        for (g, v) in grad.iter_mut().zip(one.params) {
            *g += v;
        }
    }
    assert_close(all.loss, loss, 1e-12);
    for (a, b) in all.params.iter().zip(&grad) {
        assert_close(*a, *b, 1e-11);
    }
}

/// A long series run in two chunks, the second continuing from the first's
/// final state, gives the outputs of one run over the whole series; a
/// gradient with the state held fixed (truncated BPTT) passes the
/// finite-difference check.
#[test]
fn state_carries_across_chunks() {
    let g = cell_graph(21);
    let net: Network<f64> = Network::new(g, &Init::default(), 4).unwrap();
    let (batch, steps, split) = (3, 12, 5);
    let x = random_data(8, batch * steps * 6, 1.0);
    let full = net.forward(&Sequences::new(&x, batch, steps, 6)).unwrap();
    let chunk = |from: usize, to: usize| -> Vec<f64> {
        (0..batch).flat_map(|b| x[(b * steps + from) * 6..(b * steps + to) * 6].to_vec()).collect()
    };
    let (x1, x2) = (chunk(0, split), chunk(split, steps));
    let want = Want { outputs: true, final_state: true, ..Want::default() };
    let first = net.run(net.params(), &Sequences::new(&x1, batch, split, 6), None, want).unwrap();
    let state = first.final_state.unwrap();
    assert_eq!(state.len(), batch * net.plan().memory * net.plan().n_rows());
    let xs2 = Sequences::new(&x2, batch, steps - split, 6).with_state(&state);
    let second = net.run(net.params(), &xs2, None, want).unwrap();
    let (o1, o2) = (first.outputs.unwrap(), second.outputs.unwrap());
    for b in 0..batch {
        for t in 0..steps {
            let got = if t < split {
                &o1[(b * split + t) * 3..][..3]
            } else {
                &o2[(b * (steps - split) + t - split) * 3..][..3]
            };
            for k in 0..3 {
                assert_close(got[k], full[(b * steps + t) * 3 + k], 1e-12);
            }
        }
    }
    // The state after the whole series equals the state after both chunks.
    let whole = net.run(net.params(), &Sequences::new(&x, batch, steps, 6), None, want).unwrap();
    for (a, b) in whole.final_state.unwrap().iter().zip(second.final_state.as_ref().unwrap()) {
        assert_close(*a, *b, 1e-12);
    }
    // Truncated BPTT: exact gradient of the second chunk's loss given the state.
    let y = random_data(9, batch * (steps - split) * 3, 1.0);
    let report = check_gradients(&net, &xs2, &values_seed(Loss::Mse, &y), 1e-5).unwrap();
    assert!(checked_error(&report, 1e-9) < 1e-7, "{:?}", report.worst);
    // A state of the wrong size is a shape error naming what was expected.
    let bad = Sequences::new(&x2, batch, steps - split, 6).with_state(&state[1..]);
    let err = net.forward(&bad).unwrap_err().to_string();
    assert!(err.contains("initial state holds") && err.contains("memory"), "{err}");
}

/// A memory cell in the same topological level as a feature map takes the
/// row the layout gave it, after the map's C·H·W rows. (It once took "level
/// start + its index in the level", a row inside the map, so a cell that
/// feeds nothing changed the map's values and the outputs.)
#[test]
fn cells_beside_feature_maps_keep_their_own_rows() {
    for kind in [CellKind::Lstm, CellKind::Gru, CellKind::Mgu, CellKind::Ugrnn, CellKind::Delta] {
        let map = |g: &mut Graph, role: Role| {
            let kind =
                NodeKind::FeatureMap { channels: 1, height: 2, width: 2, activation: act("tanh"), untied_bias: true };
            g.add_node(role, kind, None).unwrap()
        };
        // input map -> m1 -> m2 -> output, and m1 -> cell -> second output:
        // m2 and the cell share a level.
        let mut g = Graph::new();
        let x = map(&mut g, Role::Input);
        let m1 = map(&mut g, Role::Hidden);
        let m2 = map(&mut g, Role::Hidden);
        g.add_edge(x, m1, filter(1, 1, 0)).unwrap();
        g.add_edge(m1, m2, filter(1, 1, 0)).unwrap();
        let cell = g.add_node(Role::Hidden, NodeKind::Cell(kind), None).unwrap();
        g.add_edge(m1, cell, EdgeSpec::default()).unwrap();
        let y = node(&mut g, Role::Output, "identity", false);
        let z = node(&mut g, Role::Output, "identity", false);
        g.add_edge(m2, y, EdgeSpec::default()).unwrap();
        g.add_edge(cell, z, EdgeSpec::default()).unwrap();
        let mut net: Network<f64> = Network::new(g, &Init::default(), 1).unwrap();
        let x_data = random_data(3, 2 * 3 * 4, 1.5);
        let xs = Sequences::new(&x_data, 2, 3, 4);
        let before = net.forward(&xs).unwrap();
        // The cell's own parameters move its output (z) and nothing else (y).
        let mut p = net.params().to_vec();
        for name in kind.params() {
            p[net.param_index(&format!("node:{}:{}.{name}", cell.0, kind.name())).unwrap()] += 0.5;
        }
        net.set_params(&p).unwrap();
        let after = net.forward(&xs).unwrap();
        for (i, (a, b)) in before.iter().zip(&after).enumerate() {
            if i % 2 == 0 {
                assert_eq!(a.to_bits(), b.to_bits(), "{}: output y moved with the cell's parameters", kind.name());
            } else {
                assert_ne!(a, b, "{}: the cell's output did not move with its parameters", kind.name());
            }
        }
        let y_data = random_data(4, 2 * 3 * 2, 1.0);
        let report = check_gradients(&net, &xs, &values_seed(Loss::Mse, &y_data), 1e-5).unwrap();
        assert!(checked_error(&report, 1e-9) < 1e-7, "{}: {:?}", kind.name(), report.worst);
    }
}
