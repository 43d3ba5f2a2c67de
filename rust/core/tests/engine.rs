//! Property tests of the engine on random graphs: finite-difference
//! gradient checks (skip edges, sparse and dense blocks, self / backward /
//! forward recurrent edges with skips 1..5, every activation), agreement of
//! the dense, masked and sparse kernels, bitwise determinism across thread
//! counts, masks for sequences of different lengths.

mod common;
use common::*;
use nervenet_core::*;
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Smooth enough for a 1e-7 central-difference check. Softsign is not: its
/// second derivative jumps at 0, so a pre-activation near 0 makes h = 1e-5
/// differences err by ~1e-6; it is checked with the kinked activations.
const SMOOTH: [Activation; 3] = [Activation::Identity, Activation::Sigmoid, Activation::Tanh];

fn all_activations() -> Vec<Activation> {
    vec![
        Activation::Identity,
        Activation::Relu,
        Activation::Relu6 { cap: 1.5 },
        Activation::LeakyRelu { slope: 0.1 },
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Softsign,
    ]
}

fn random_data(seed: u64, n: usize, scale: f64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}

fn spec(seed: u64, hidden: usize, recurrent: usize, acts: Vec<Activation>) -> RandomGraphSpec {
    RandomGraphSpec {
        inputs: 3,
        hidden,
        outputs: 2,
        density: 0.35,
        recurrent,
        max_skip: 5,
        activations: acts,
        bias_probability: 0.6,
        fixed_probability: 0.1,
        seed,
        ..RandomGraphSpec::default()
    }
}

/// Gives every non-input node a random bias of magnitude 0.1..0.5, so no
/// pre-activation sits exactly on a kink (a dead relu feeding a bias-free
/// relu would).
fn random_biases(g: &mut Graph, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let ids: Vec<NodeId> =
        g.nodes().filter(|n| n.role != Role::Input && n.kind.cell().is_none()).map(|n| n.id).collect();
    for id in ids {
        let magnitude = rng.random_range(0.1..0.5);
        g.set_bias_value(id, if rng.random_bool(0.5) { magnitude } else { -magnitude }).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Smooth activations and smooth losses: backprop through time agrees
    /// with central differences to a relative 1e-7.
    #[test]
    fn gradients_match_finite_differences(seed in 0u64..10_000, hidden in 1usize..12, recurrent in 0usize..10,
                                          loss_i in 0usize..2, steps in 1usize..7) {
        let g = random_graph(&spec(seed, hidden, recurrent, SMOOTH.to_vec())).unwrap();
        let net: Network<f64> = Network::new(g, &Init::default(), seed).unwrap();
        let batch = 3;
        let x = random_data(seed + 1, batch * steps * 3, 1.5);
        let y = random_data(seed + 2, batch * steps * 2, 1.0);
        let classes: Vec<i64> = (0..batch * steps).map(|i| (i % 2) as i64).collect();
        let xs = Sequences::new(&x, batch, steps, 3);
        let seed_ = match loss_i {
            0 => values_seed(Loss::Mse, &y),
            _ => Seed::Loss { loss: Loss::Softmax, targets: Targets::Classes(&classes), reduction: Reduction::Mean, mask: None },
        };
        let report = check_gradients(&net, &xs, &seed_, 1e-5).unwrap();
        let err = checked_error(&report, 1e-9);
        prop_assert!(err < 1e-7, "max relative error {} at {:?}", err, report.worst);
    }

    /// Every activation and every loss, kinks included (relu family, the
    /// norms' |x| and the hinges' max): the notes' 1e-4 bound for functions
    /// with kinks or sharp curvature.
    #[test]
    fn gradients_with_kinked_activations(seed in 0u64..10_000, hidden in 1usize..12, recurrent in 0usize..8,
                                         loss_i in 0usize..7) {
        let mut g = random_graph(&spec(seed, hidden, recurrent, all_activations())).unwrap();
        random_biases(&mut g, seed);
        let net: Network<f64> = Network::new(g, &Init::default(), seed).unwrap();
        let x = random_data(seed + 1, 2 * 4 * 3, 1.5);
        let y = random_data(seed + 2, 2 * 4 * 2, 1.0);
        let classes: Vec<i64> = (0..8).map(|i| (i % 2) as i64).collect();
        let loss = [Loss::L1, Loss::L2, Loss::Mse, Loss::Mae, Loss::Hinge, Loss::SquaredHinge, Loss::Softmax][loss_i];
        let targets = if loss.takes_classes() { Targets::Classes(&classes) } else { Targets::Values(&y) };
        let seed_ = Seed::Loss { loss, targets, reduction: Reduction::Sum, mask: None };
        let xs = Sequences::new(&x, 2, 4, 3);
        let report = check_gradients(&net, &xs, &seed_, 1e-5).unwrap();
        if checked_error(&report, 1e-8) >= 1e-4 {
            // A pre-activation within h of a kink makes the difference straddle
            // it (seen: a leaky relu at 2e-6 from 0). A wrong backward pass
            // stays wrong at a smaller step; a straddled kink does not.
            let finer = numeric_gradient(&net, &xs, &seed_, 1e-8).unwrap();
            for (i, &n) in finer.iter().enumerate() {
                let a = report.analytic[i];
                prop_assert!(
                    relative_error(a, n) < 1e-4 || (a - n).abs() < 1e-6,
                    "{}: analytic {} vs numeric {} (h = 1e-5: {})", report.names[i], a, n, report.numeric[i]
                );
            }
        }
    }

    /// Dense, masked-dense and sparse blocks compute the same thing.
    #[test]
    fn kernels_agree(seed in 0u64..10_000, hidden in 4usize..30, recurrent in 0usize..20, batch in 1usize..70) {
        let g = random_graph(&RandomGraphSpec { density: 0.6, ..spec(seed, hidden, recurrent, all_activations()) }).unwrap();
        let steps = 3;
        let x = random_data(seed + 1, batch * steps * 3, 1.0);
        let y = random_data(seed + 2, batch * steps * 2, 1.0);
        let xs = Sequences::new(&x, batch, steps, 3);
        let mut results = Vec::new();
        for opts in [PlanOptions::default(), PlanOptions::all_sparse(), PlanOptions::all_dense()] {
            let net: Network<f64> = Network::with_options(g.clone(), &Init::default(), seed, opts).unwrap();
            let out = net.forward(&xs).unwrap();
            let grads = net.gradient(&xs, &values_seed(Loss::Mse, &y), true).unwrap();
            // Map gradients back to names: layouts differ between plans.
            let mut named: Vec<(String, f64)> = net.param_names().iter().map(|s| s.to_string()).zip(grads.params).collect();
            named.sort_by(|a, b| a.0.cmp(&b.0));
            results.push((out, named, grads.inputs.unwrap(), grads.loss));
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
            prop_assert!((r.3 - results[0].3).abs() <= 1e-10 * (1.0 + results[0].3.abs()));
        }
    }
}

/// Levels and blocks taken out of the step loop (time-parallel hoisting)
/// compute what stepping everything computes: outputs, loss, parameter
/// and input gradients, with and without a given initial state.
#[test]
fn hoisting_agrees_with_stepping() {
    let mut hoisted_any = 0;
    for seed in 0..60u64 {
        let cells = if seed % 3 == 0 { 0.0 } else { 0.3 };
        let g = random_graph(&RandomGraphSpec {
            inputs: 3,
            hidden: 6 + (seed as usize % 9),
            outputs: 2,
            density: 0.5,
            recurrent: (seed as usize % 4) * 2,
            max_skip: 3,
            activations: all_activations(),
            bias_probability: 0.5,
            cell_probability: cells,
            cells: CellKind::ALL.to_vec(),
            seed,
            ..RandomGraphSpec::default()
        })
        .unwrap();
        let stepped = PlanOptions { time_parallel: false, ..PlanOptions::default() };
        let a: Network<f64> = Network::with_options(g.clone(), &Init::default(), seed, PlanOptions::default()).unwrap();
        let b: Network<f64> = Network::with_options(g.clone(), &Init::default(), seed, stepped).unwrap();
        hoisted_any += usize::from(a.plan().phases.any());
        for (batch, steps) in [(1, 6), (1, 1), (3, 5), (2, 2)] {
            let x = random_data(seed + 1, batch * steps * 3, 1.0);
            let y = random_data(seed + 2, batch * steps * 2, 1.0);
            let state = random_data(seed + 3, batch * a.plan().memory * a.plan().n_rows(), 0.5);
            for with_state in [false, true] {
                let mut xs = Sequences::new(&x, batch, steps, 3);
                if with_state {
                    xs = xs.with_state(&state);
                }
                let ga = a.gradient(&xs, &values_seed(Loss::Mse, &y), true).unwrap();
                let gb = b.gradient(&xs, &values_seed(Loss::Mse, &y), true).unwrap();
                let close =
                    |p: &[f64], q: &[f64]| p.iter().zip(q).all(|(u, v)| (u - v).abs() <= 1e-11 * (1.0 + v.abs()));
                assert!(close(&a.forward(&xs).unwrap(), &b.forward(&xs).unwrap()), "outputs, seed {seed}");
                assert!((ga.loss - gb.loss).abs() <= 1e-11 * (1.0 + gb.loss.abs()), "loss, seed {seed}");
                assert!(close(&ga.params, &gb.params), "parameter gradients, seed {seed}, batch {batch}");
                assert!(
                    close(ga.inputs.as_ref().unwrap(), gb.inputs.as_ref().unwrap()),
                    "input gradients, seed {seed}"
                );
            }
        }
    }
    assert!(hoisted_any >= 20, "only {hoisted_any} of 60 random graphs had anything to hoist");
}

/// Gradients are bitwise identical for 1 and 2 threads, in both dtypes,
/// with several chunks and a dense layer big enough for several tasks.
#[test]
fn threads_do_not_change_results() {
    let g = random_graph(&RandomGraphSpec {
        inputs: 20,
        hidden: 300,
        outputs: 4,
        density: 0.2,
        recurrent: 40,
        max_skip: 5,
        activations: all_activations(),
        ..RandomGraphSpec::default()
    })
    .unwrap();
    let (batch, steps) = (200, 3);
    let x = random_data(1, batch * steps * 20, 1.0);
    let y = random_data(2, batch * steps * 4, 1.0);
    fn run<T: Real>(g: &Graph, x: &[f64], y: &[f64], batch: usize, steps: usize) -> (Vec<T>, Vec<T>, f64) {
        let net: Network<T> = Network::new(g.clone(), &Init::default(), 3).unwrap();
        let x: Vec<T> = x.iter().map(|&v| T::from_f64(v)).collect();
        let y: Vec<T> = y.iter().map(|&v| T::from_f64(v)).collect();
        let xs = Sequences::new(&x, batch, steps, 20);
        let seed = Seed::Loss { loss: Loss::Mse, targets: Targets::Values(&y), reduction: Reduction::Mean, mask: None };
        let gr = net.gradient(&xs, &seed, true).unwrap();
        (gr.params, gr.inputs.unwrap(), gr.loss)
    }
    set_num_threads(1).unwrap();
    let one64 = run::<f64>(&g, &x, &y, batch, steps);
    let one32 = run::<f32>(&g, &x, &y, batch, steps);
    set_num_threads(2).unwrap();
    let two64 = run::<f64>(&g, &x, &y, batch, steps);
    let two32 = run::<f32>(&g, &x, &y, batch, steps);
    assert!(one64.0.iter().zip(&two64.0).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert!(one64.1.iter().zip(&two64.1).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_eq!(one64.2.to_bits(), two64.2.to_bits());
    assert!(one32.0.iter().zip(&two32.0).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_eq!(one32.2.to_bits(), two32.2.to_bits());
    // And f32 tracks f64.
    let scale = one64.0.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (a, b) in one32.0.iter().zip(&one64.0) {
        assert!((f64::from(*a) - b).abs() <= 1e-4 * scale.max(1.0));
    }
}

/// Inference keeps only a ring of (at least) max_skip + 1 steps; its outputs equal the
/// ones computed with every step stored.
#[test]
fn ring_inference_matches_full_history() {
    let g = random_graph(&spec(7, 10, 12, SMOOTH.to_vec())).unwrap();
    let net: Network<f64> = Network::new(g, &Init::default(), 1).unwrap();
    let (batch, steps) = (5, 17);
    let x = random_data(3, batch * steps * 3, 1.0);
    let y = random_data(4, batch * steps * 2, 1.0);
    let xs = Sequences::new(&x, batch, steps, 3);
    let ring = net.forward(&xs).unwrap();
    let full = net
        .run(net.params(), &xs, Some(&values_seed(Loss::Mse, &y)), Want { outputs: true, ..Want::default() })
        .unwrap()
        .outputs
        .unwrap();
    assert_eq!(ring, full);
}

/// Sequences of different lengths in one padded batch: with a mask, the
/// loss and gradient equal the sums over each sequence run on its own.
#[test]
fn masks_handle_different_lengths() {
    let g = random_graph(&spec(11, 8, 8, SMOOTH.to_vec())).unwrap();
    let net: Network<f64> = Network::new(g, &Init::default(), 2).unwrap();
    let lengths = [5usize, 2, 4];
    let steps = 5;
    let x = random_data(5, lengths.len() * steps * 3, 1.0);
    let y = random_data(6, lengths.len() * steps * 2, 1.0);
    let mut mask = vec![0.0; lengths.len() * steps];
    for (b, &len) in lengths.iter().enumerate() {
        for t in 0..len {
            mask[b * steps + t] = 1.0;
        }
    }
    let seed =
        Seed::Loss { loss: Loss::L2, targets: Targets::Values(&y), reduction: Reduction::Sum, mask: Some(&mask) };
    let batched = net.gradient(&Sequences::new(&x, 3, steps, 3), &seed, false).unwrap();
    let mut loss = 0.0;
    let mut grad = vec![0.0; net.params().len()];
    for (b, &len) in lengths.iter().enumerate() {
        let xb: Vec<f64> = x[b * steps * 3..][..len * 3].to_vec();
        let yb: Vec<f64> = y[b * steps * 2..][..len * 2].to_vec();
        let one = net.gradient(&Sequences::new(&xb, 1, len, 3), &values_seed(Loss::L2, &yb), false).unwrap();
        loss += one.loss;
        for (g, v) in grad.iter_mut().zip(one.params) {
            *g += v;
        }
    }
    assert_close(batched.loss, loss, 1e-12);
    for (a, b) in batched.params.iter().zip(&grad) {
        assert_close(*a, *b, 1e-12);
    }
    // Mean reduction divides by the number of counted steps (11).
    let mean =
        Seed::Loss { loss: Loss::L2, targets: Targets::Values(&y), reduction: Reduction::Mean, mask: Some(&mask) };
    let m = net.gradient(&Sequences::new(&x, 3, steps, 3), &mean, false).unwrap();
    assert_close(m.loss, loss / 11.0, 1e-12);
}

/// A batch split across chunks gives each sample the same outputs as
/// running it alone.
#[test]
fn chunking_is_invisible() {
    let g = random_graph(&spec(13, 12, 6, all_activations())).unwrap();
    let net: Network<f64> = Network::new(g, &Init::default(), 4).unwrap();
    let (batch, steps) = (131, 2);
    let x = random_data(8, batch * steps * 3, 1.0);
    let all = net.forward(&Sequences::new(&x, batch, steps, 3)).unwrap();
    for b in [0usize, 63, 64, 65, 127, 128, 130] {
        let one = net.forward(&Sequences::new(&x[b * steps * 3..(b + 1) * steps * 3], 1, steps, 3)).unwrap();
        assert_eq!(&all[b * steps * 2..(b + 1) * steps * 2], &one[..]);
    }
}

#[test]
fn bad_network_options_are_config_errors() {
    let g = random_graph(&spec(1, 3, 0, vec![Activation::Tanh])).unwrap();
    let bad_bias = Init { bias: f64::NAN, ..Init::default() };
    let Err(Error::Config(m)) = Network::<f64>::new(g.clone(), &bad_bias, 0) else { panic!("NaN bias_init accepted") };
    assert!(m.contains("bias_init must be finite, got NaN"), "{m}");
    let options = PlanOptions { dense_min_density: -1.0, ..PlanOptions::default() };
    let Err(Error::Config(m)) = Network::<f64>::with_options(g, &Init::default(), 0, options) else {
        panic!("a negative density was accepted")
    };
    assert!(m.contains("dense_min_density must be a number >= 0, got -1"), "{m}");
}
