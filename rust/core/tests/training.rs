//! The trainer: learning, determinism across threads and resumption,
//! non-finite handling, delta clipping.

mod common;
use common::*;
use nervenet_core::*;

fn xor_data() -> (Vec<f64>, Vec<f64>) {
    (vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], vec![0.0, 1.0, 1.0, 0.0])
}

fn xor_net(seed: u64) -> Network<f64> {
    dense_net(seed, Activation::Tanh)
}

fn dense_net(seed: u64, activation: Activation) -> Network<f64> {
    let g = random_graph(&RandomGraphSpec {
        inputs: 2,
        hidden: 3,
        outputs: 1,
        density: 1.0,
        activations: vec![activation],
        bias_probability: 1.0,
        seed,
        ..RandomGraphSpec::default()
    })
    .unwrap();
    Network::new(g, &Init::default(), seed).unwrap()
}

fn config(optimizer: Optimizer, learning_rate: f64, batch_size: usize) -> TrainConfig {
    TrainConfig {
        truncate: None,
        loss: Loss::Mse,
        reduction: Reduction::Mean,
        batch_size,
        shuffle: true,
        seed: 5,
        optimizer,
        learning_rate,
        schedule: Schedule::Constant,
        momentum_annealing: None,
        safeguards: Safeguards::default(),
        non_finite: NonFinite::Fail,
    }
}

#[test]
fn adam_learns_xor() {
    let (x, y) = xor_data();
    let mut net = xor_net(1);
    let data = Dataset { x: Sequences::new(&x, 4, 1, 2), targets: Targets::Values(&y), mask: None };
    let mut trainer = Trainer::new(config(Optimizer::adam(), 0.05, 2), net.params().len()).unwrap();
    let first = trainer.epoch(&mut net, &data, 0).unwrap().metrics.loss;
    let mut last = first;
    for e in 1..500 {
        last = trainer.epoch(&mut net, &data, e).unwrap().metrics.loss;
    }
    assert!(last < 0.01 && last < first, "{first} -> {last}");
}

#[test]
fn resumed_training_matches_uninterrupted() {
    let (x, y) = xor_data();
    let data = Dataset { x: Sequences::new(&x, 4, 1, 2), targets: Targets::Values(&y), mask: None };
    let cfg = config(Optimizer::adam(), 0.05, 1);
    let mut net = xor_net(2);
    let mut trainer = Trainer::new(cfg.clone(), net.params().len()).unwrap();
    for e in 0..3 {
        trainer.epoch(&mut net, &data, e).unwrap();
    }
    // A "checkpoint": parameters and optimiser state, restored elsewhere.
    let (saved_params, saved_state) = (net.params().to_vec(), trainer.state.clone());
    for e in 3..6 {
        trainer.epoch(&mut net, &data, e).unwrap();
    }
    let mut resumed = xor_net(2);
    resumed.set_params(&saved_params).unwrap();
    let mut again = Trainer::new(cfg, resumed.params().len()).unwrap();
    again.state = saved_state;
    for e in 3..6 {
        again.epoch(&mut resumed, &data, e).unwrap();
    }
    assert!(net.params().iter().zip(resumed.params()).all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn non_finite_steps_fail_or_roll_back() {
    let x = vec![1e3, -1e3, 2e3, 1e3, -1e3, 5e2, 3e3, -2e3];
    let y = vec![1e3, -2e3, 5e2, 1e3];
    let data = Dataset { x: Sequences::new(&x, 4, 1, 2), targets: Targets::Values(&y), mask: None };
    let mut net = dense_net(3, Activation::Identity);
    let start = net.params().to_vec();
    let mut trainer = Trainer::new(config(Optimizer::Vanilla, 1e200, 2), net.params().len()).unwrap();
    let err = trainer.epoch(&mut net, &data, 0).unwrap_err();
    assert!(matches!(err, Error::Value(ref m) if m.contains("epoch 0, batch") && m.contains("non-finite")), "{err}");
    assert_eq!(net.params(), &start[..], "weights from the start of the epoch are kept");
    // A learning rate no number of halvings tames: rollback gives up after
    // MAX_ROLLBACKS replays and keeps the starting weights.
    let mut cfg = config(Optimizer::Vanilla, 1e200, 2);
    cfg.non_finite = NonFinite::Rollback;
    let mut trainer = Trainer::new(cfg, net.params().len()).unwrap();
    let err = trainer.epoch(&mut net, &data, 0).unwrap_err().to_string();
    assert!(
        err.contains(&format!("gave up after {} rollbacks", train::MAX_ROLLBACKS)) && err.contains("non-finite"),
        "{err}"
    );
    assert_eq!(net.params(), &start[..]);
}

/// One weight w = 1, x = 1, y = 0, mean squared error: the step is
/// w − 2·lr. At lr = 1e308, 2·lr overflows to inf; one halving makes the
/// step finite, so rollback must succeed with exactly one replay.
#[test]
fn rollback_halves_the_learning_rate_until_the_step_is_finite() {
    let (g, _, _, w) = one_edge();
    let mut net = net64(g);
    let data = Dataset { x: Sequences::new(&[1.0], 1, 1, 1), targets: Targets::Values(&[0.0]), mask: None };
    let mut cfg = config(Optimizer::Vanilla, 1e308, 1);
    cfg.non_finite = NonFinite::Rollback;
    let mut trainer = Trainer::new(cfg, net.params().len()).unwrap();
    let report = trainer.epoch(&mut net, &data, 0).unwrap();
    assert_eq!(report.rollbacks, 1);
    assert_eq!(report.learning_rate, 5e307);
    assert_eq!(net.params()[net.param_index(&format!("edge:{}", w.0)).unwrap()], 1.0 - 1e308);
    // The halving persists: the next epoch steps at 5e307 without a rollback.
    assert_eq!(trainer.learning_rate(1), 5e307);
}

#[test]
fn delta_clipping_bounds_output_and_hidden_deltas() {
    let mut g = Graph::new();
    let x = input(&mut g);
    let h = node(&mut g, Role::Hidden, "identity", false);
    let o = node(&mut g, Role::Output, "identity", false);
    edge(&mut g, x, h, 1.0);
    let w = edge(&mut g, h, o, 1.0);
    let net = net64(g);
    let xs = Sequences::new(&[2.0], 1, 1, 1);
    let want = Want { param_grads: true, input_grads: true, clip_deltas: Some((100.0, 10.0)), ..Want::default() };
    let out = net.run(net.params(), &xs, Some(&Seed::OutputGrad(&[1000.0])), want).unwrap();
    // Output delta 1000 -> 100; its weight's gradient is 100 · h = 200.
    assert_eq!(out.param_grads.as_ref().unwrap()[net.param_index(&format!("edge:{}", w.0)).unwrap()], 200.0);
    // Hidden delta 100 · 1 -> 10, reaching the input as 10.
    assert_eq!(out.input_grads.unwrap(), vec![10.0]);
}

#[test]
fn training_configuration_reads_json_and_names_bad_keys() {
    let ok = r#"{"loss":"mse","optimizer":{"name":"adam","beta1":0.9,"beta2":0.999,"eps":1e-8,"bias_correction":true},
                 "learning_rate":0.01,"batch_size":8,"schedule":{"name":"step","every":5,"factor":0.5}}"#;
    let cfg = TrainConfig::from_json(ok).unwrap();
    assert_eq!(cfg.batch_size, 8);
    let bad = r#"{"loss":"mse","optimizer":{"name":"vanilla"},"learning_rate":0.1,"batch_sise":8}"#;
    let err = TrainConfig::from_json(bad).unwrap_err().to_string();
    assert!(err.contains("batch_sise"), "{err}");
    let bad_loss = r#"{"loss":"mse2","optimizer":{"name":"vanilla"},"learning_rate":0.1}"#;
    assert!(TrainConfig::from_json(bad_loss).unwrap_err().to_string().contains("mse2"));
}

/// With a fixed dropout mask the network is a deterministic function, so
/// its gradient must match central differences under the same mask; the
/// mask must also differ from no dropout and be the same for 1 and 2 threads.
#[test]
fn dropout_gradients_match_finite_differences() {
    let g = random_graph(&RandomGraphSpec {
        inputs: 3,
        hidden: 12,
        outputs: 2,
        density: 0.5,
        recurrent: 4,
        max_skip: 2,
        activations: vec![Activation::Tanh, Activation::Sigmoid, Activation::Softsign],
        bias_probability: 1.0,
        seed: 11,
        ..RandomGraphSpec::default()
    })
    .unwrap();
    let net: Network<f64> = Network::new(g, &Init::default(), 2).unwrap();
    let (b, t) = (70, 3);
    let x: Vec<f64> = (0..b * t * 3).map(|i| ((i * 37) % 17) as f64 / 8.0 - 1.0).collect();
    let y: Vec<f64> = (0..b * t * 2).map(|i| ((i * 13) % 11) as f64 / 5.0 - 1.0).collect();
    let xs = Sequences::new(&x, b, t, 3);
    let seed = values_seed(Loss::Mse, &y);
    let dropout = Some(Dropout { rate: 0.3, seed: 99 });
    let want = Want { param_grads: true, dropout, ..Want::default() };
    let loss_at = |p: &[f64]| net.run(p, &xs, Some(&seed), Want { dropout, ..Want::default() }).unwrap().loss;
    let out = net.run(net.params(), &xs, Some(&seed), want).unwrap();
    let grads = out.param_grads.unwrap();
    let plain = net.run(net.params(), &xs, Some(&seed), Want::default()).unwrap().loss;
    assert!((plain - out.loss).abs() > 1e-6, "dropout changes the loss");
    let h = 1e-5;
    let mut p = net.params().to_vec();
    for i in 0..p.len() {
        let w = p[i];
        p[i] = w + h;
        let plus = loss_at(&p);
        p[i] = w - h;
        let minus = loss_at(&p);
        p[i] = w;
        let numeric = (plus - minus) / (2.0 * h);
        assert!(
            // The loss sums 210 terms, so differences carry ~1e-7 absolute noise.
            relative_error(grads[i], numeric) < 1e-6 || (grads[i] - numeric).abs() < 2e-7,
            "{}: {} vs {}",
            net.param_names()[i],
            grads[i],
            numeric
        );
    }
    set_num_threads(1).unwrap();
    let one = net.run(net.params(), &xs, Some(&seed), Want { parallel: true, ..want }).unwrap().param_grads.unwrap();
    set_num_threads(2).unwrap();
    let two = net.run(net.params(), &xs, Some(&seed), Want { parallel: true, ..want }).unwrap().param_grads.unwrap();
    assert!(one.iter().zip(&two).all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn learning_rate_factor_must_be_positive() {
    let mut trainer = Trainer::<f64>::new(config(Optimizer::Vanilla, 0.1, 2), 3).unwrap();
    let Err(Error::Config(m)) = trainer.scale_learning_rate(-2.0) else { panic!("a negative factor was accepted") };
    assert!(m.contains("learning-rate factor must be a positive number, got -2"), "{m}");
    trainer.scale_learning_rate(0.5).unwrap();
    assert_eq!(trainer.learning_rate(0), 0.05);
}
