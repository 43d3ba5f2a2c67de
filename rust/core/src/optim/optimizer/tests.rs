//! Optimiser updates: the notes' momentum example, hand-computed steps of
//! every rule, the zero-gradient invariant, f32/f64, checkpoint round trips
//! and invalid hyperparameters.

use super::*;
use crate::error::Error;

fn all() -> Vec<Optimizer> {
    vec![
        Optimizer::Vanilla,
        Optimizer::momentum(),
        Optimizer::nesterov(),
        Optimizer::adagrad(),
        Optimizer::rmsprop(),
        Optimizer::adam(),
        Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8, bias_correction: false },
    ]
}

/// Runs `opt` from `w0` through the gradient sequence; returns the weights
/// after each step.
fn run<T: Real>(opt: Optimizer, lr: f64, w0: &[T], grads: &[&[T]]) -> Vec<Vec<T>> {
    let mut st = OptimizerState::<T>::new(&opt, w0.len()).unwrap();
    let mut w = w0.to_vec();
    let mut out = Vec::new();
    for g in grads {
        st.step(&opt, &mut w, g, lr, None).unwrap();
        out.push(w.clone());
    }
    out
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// Deltas between consecutive weight vectors (starting from `w0`).
fn deltas(w0: &[f64], ws: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut prev = w0.to_vec();
    ws.iter()
        .map(|w| {
            let d = w.iter().zip(&prev).map(|(a, b)| a - b).collect();
            prev = w.clone();
            d
        })
        .collect()
}

#[test]
fn notes_momentum_example() {
    // Lecture 4, "Momentum Update": mu = 0.9, lr = 0.3, gradients [1,1,1],
    // [1,1,1], [1,-1,1]; updates [-0.3]*3, [-0.57]*3, then [-0.813, -0.213, ...].
    // The notes print the third component of the last update as -0.85 (from
    // "-0.57 - 0.3", i.e. v2 instead of mu·v2); by the formula it is -0.813.
    let opt = Optimizer::Momentum { mu: 0.9 };
    let g: [&[f64]; 3] = [&[1.0, 1.0, 1.0], &[1.0, 1.0, 1.0], &[1.0, -1.0, 1.0]];
    let w0 = [0.5, -0.25, 2.0];
    let ws = run(opt, 0.3, &w0, &g);
    let want = [[-0.3, -0.3, -0.3], [-0.57, -0.57, -0.57], [-0.813, -0.213, -0.813]];
    for (d, w) in deltas(&w0, &ws).iter().zip(want) {
        for (a, b) in d.iter().zip(w) {
            assert!(close(*a, b, 1e-12), "{d:?} vs {w:?}");
        }
    }
    // The velocity is the last update.
    let mut st = OptimizerState::<f64>::new(&opt, 3).unwrap();
    let mut w = w0.to_vec();
    for gi in g {
        st.step(&opt, &mut w, gi, 0.3, None).unwrap();
    }
    let v = st.buffers()[0].1.to_vec();
    assert_eq!(st.buffers()[0].0, "velocity");
    assert!(v.iter().zip([-0.813, -0.213, -0.813]).all(|(a, b)| close(*a, b, 1e-12)), "{v:?}");
    // f32 too.
    let g32: [&[f32]; 3] = [&[1.0, 1.0, 1.0], &[1.0, 1.0, 1.0], &[1.0, -1.0, 1.0]];
    let ws = run(opt, 0.3, &[0.0f32; 3], &g32);
    for (a, b) in ws[2].iter().zip([-1.683, -1.083, -1.683]) {
        assert!(close(*a as f64, b, 1e-6), "{a} vs {b}");
    }
}

#[test]
fn vanilla_steps() {
    let ws = run(Optimizer::Vanilla, 0.1, &[1.0, -2.0], &[&[0.5, -1.0], &[0.5, -1.0]]);
    assert!(close(ws[0][0], 0.95, 1e-15) && close(ws[0][1], -1.9, 1e-15));
    assert!(close(ws[1][0], 0.9, 1e-15) && close(ws[1][1], -1.8, 1e-15));
}

#[test]
fn nesterov_steps_by_hand() {
    // mu 0.9, lr 0.1, g = 1 twice: v1 = -0.1, Δ1 = -0.9·0 + 1.9·(-0.1) = -0.19;
    // v2 = -0.19, Δ2 = -0.9·(-0.1) + 1.9·(-0.19) = 0.09 - 0.361 = -0.271.
    let ws = run(Optimizer::Nesterov { mu: 0.9 }, 0.1, &[0.0], &[&[1.0], &[1.0]]);
    assert!(close(ws[0][0], -0.19, 1e-15) && close(ws[1][0], -0.461, 1e-15), "{ws:?}");
}

#[test]
fn nesterov_reformulation_tracks_lookahead_weights() {
    // On f(w) = w²/2 (gradient w) the notes' original form evaluates the
    // gradient at weightsNext = weights + mu·velocity; the reformulated
    // update's parameters are exactly those look-ahead weights.
    let (mu, lr) = (0.9, 0.05);
    let (mut w, mut v) = (3.0f64, 0.0f64);
    let opt = Optimizer::Nesterov { mu };
    let mut st = OptimizerState::<f64>::new(&opt, 1).unwrap();
    let mut x = [w + mu * v];
    for _ in 0..20 {
        let g_next = w + mu * v;
        v = mu * v - lr * g_next;
        w += v;
        let g = [x[0]];
        st.step(&opt, &mut x, &g, lr, None).unwrap();
        assert!(close(x[0], w + mu * v, 1e-12), "{} vs {}", x[0], w + mu * v);
    }
}

#[test]
fn adagrad_steps_by_hand() {
    // cache 4 → Δ = 0.1/(2+ε)·2 ≈ 0.1; cache 5 → Δ = 0.1/√5 ≈ 0.0447213595.
    let ws = run(Optimizer::Adagrad { eps: 1e-8 }, 0.1, &[0.0], &[&[2.0], &[1.0]]);
    let d = deltas(&[0.0], &ws);
    assert!(close(d[0][0], -0.1, 1e-9) && close(d[1][0], -0.044721359549995794, 1e-9), "{d:?}");
}

#[test]
fn rmsprop_steps_by_hand() {
    // decay 0.9: cache 0.1 → Δ = 0.01/√0.1; cache 0.09 + 0.4 = 0.49 → Δ = 0.01/0.7·2.
    let ws = run(Optimizer::RmsProp { decay: 0.9, eps: 1e-8 }, 0.01, &[0.0], &[&[1.0], &[2.0]]);
    let d = deltas(&[0.0], &ws);
    assert!(close(d[0][0], -0.03162277660168379, 1e-9) && close(d[1][0], -0.028571428571428574, 1e-9), "{d:?}");
}

#[test]
fn adam_steps_by_hand() {
    let g: [&[f64]; 2] = [&[1.0], &[-2.0]];
    // With bias correction the first step is lr·g/|g| (mt = g, vt = g²), t = 1.
    let ws = run(Optimizer::adam(), 0.1, &[0.0], &g);
    assert!(close(ws[0][0], -0.09999999900000002, 1e-15), "{ws:?}");
    assert!(close(ws[1][0], -0.06338964652792518, 1e-12), "{ws:?}");
    let plain = Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8, bias_correction: false };
    let ws = run(plain, 0.1, &[0.0], &g);
    assert!(close(ws[0][0], -0.31622766601686936, 1e-12), "{ws:?}");
    assert!(close(ws[1][0], -0.16064863747719932, 1e-12), "{ws:?}");
}

#[test]
fn adam_restored_step_count_drives_bias_correction() {
    let opt = Optimizer::adam();
    let mut a = OptimizerState::<f64>::new(&opt, 1).unwrap();
    let mut wa = [0.0];
    for g in [1.0, -2.0, 0.5] {
        a.step(&opt, &mut wa, &[g], 0.1, None).unwrap();
    }
    assert_eq!(a.step_count(), 3);
    // Copies of the buffers: with the step count restored the next update is
    // identical; left at 0 (t = 1) it is not.
    let restore = |steps: Option<u64>| {
        let mut b = OptimizerState::<f64>::new(&opt, 1).unwrap();
        for (name, values) in a.buffers() {
            b.set_buffer(name, values).unwrap();
        }
        if let Some(s) = steps {
            b.set_step_count(s);
        }
        b
    };
    let (mut b, mut c) = (restore(None), restore(Some(3)));
    let (mut wb, mut wc) = (wa, wa);
    b.step(&opt, &mut wb, &[0.7], 0.1, None).unwrap();
    c.step(&opt, &mut wc, &[0.7], 0.1, None).unwrap();
    a.step(&opt, &mut wa, &[0.7], 0.1, None).unwrap();
    assert_eq!(wa[0].to_bits(), wc[0].to_bits());
    assert_ne!(wa[0].to_bits(), wb[0].to_bits());
}

fn zero_gradient_invariant<T: Real>(to_bits: impl Fn(T) -> u64) {
    let n = 37; // not a multiple of any SIMD width
    let specials = [0.0, -0.0, 1.5, -3.25, 1e-310, f64::NAN, 7.0];
    let fixed = |i: usize| i.is_multiple_of(3);
    let w0: Vec<T> =
        (0..n).map(|i| T::from_f64(if fixed(i) { specials[(i / 3) % 7] } else { i as f64 * 0.1 - 1.0 })).collect();
    for opt in all() {
        let mut st = OptimizerState::<T>::new(&opt, n).unwrap();
        let mut w = w0.clone();
        for s in 0..6 {
            let g: Vec<T> = (0..n)
                .map(|i| match (fixed(i), i % 2) {
                    (true, 0) => T::ZERO,
                    (true, _) => -T::ZERO,
                    _ => T::from_f64(((i * 7 + s * 3) % 11) as f64 - 5.0),
                })
                .collect();
            let mu = (s % 2 == 1).then_some(0.5 + 0.05 * s as f64);
            st.step(&opt, &mut w, &g, 0.01 * (s + 1) as f64, mu).unwrap();
        }
        for i in (0..n).filter(|&i| fixed(i)) {
            assert_eq!(to_bits(w[i]), to_bits(w0[i]), "{} moved fixed parameter {i}", opt.name());
            for (name, b) in st.buffers() {
                assert_eq!(to_bits(b[i]), 0, "{} {name}[{i}] is not +0", opt.name());
            }
        }
        assert!((0..n).filter(|&i| !fixed(i)).any(|i| to_bits(w[i]) != to_bits(w0[i])), "{}", opt.name());
    }
}

#[test]
fn zero_gradient_leaves_parameters_bit_identical() {
    zero_gradient_invariant::<f64>(f64::to_bits);
    zero_gradient_invariant::<f32>(|x: f32| x.to_bits() as u64);
}

#[test]
fn f32_matches_f64() {
    let w0 = [0.3, -1.2, 2.5, 0.0, -0.7];
    let gs: Vec<Vec<f64>> = (0..8).map(|s| w0.iter().map(|w| (w * 1.3 + s as f64 * 0.37).sin()).collect()).collect();
    for opt in all() {
        let g64: Vec<&[f64]> = gs.iter().map(|g| &g[..]).collect();
        let g32v: Vec<Vec<f32>> = gs.iter().map(|g| g.iter().map(|&x| x as f32).collect()).collect();
        let g32: Vec<&[f32]> = g32v.iter().map(|g| &g[..]).collect();
        let w32: Vec<f32> = w0.iter().map(|&x| x as f32).collect();
        let a = run(opt, 0.05, &w0, &g64);
        let b = run(opt, 0.05, &w32, &g32);
        for (x, y) in a.last().unwrap().iter().zip(b.last().unwrap()) {
            assert!(close(*x, *y as f64, 1e-5), "{}: {x} vs {y}", opt.name());
        }
    }
}

#[test]
fn mu_override_replaces_mu() {
    for (slow, fast) in [
        (Optimizer::Momentum { mu: 0.5 }, Optimizer::Momentum { mu: 0.95 }),
        (Optimizer::Nesterov { mu: 0.5 }, Optimizer::Nesterov { mu: 0.95 }),
    ] {
        let mut a = OptimizerState::<f64>::new(&slow, 2).unwrap();
        let mut b = OptimizerState::<f64>::new(&fast, 2).unwrap();
        let (mut wa, mut wb) = ([1.0, 2.0], [1.0, 2.0]);
        for g in [[0.3, -0.1], [0.2, 0.4], [-0.5, 0.1]] {
            a.step(&slow, &mut wa, &g, 0.1, Some(0.95)).unwrap();
            b.step(&fast, &mut wb, &g, 0.1, None).unwrap();
        }
        assert_eq!(wa, wb);
    }
}

#[test]
fn checkpoint_round_trip_is_exact() {
    for opt in all() {
        let n = 5;
        let mut a = OptimizerState::<f32>::new(&opt, n).unwrap();
        let mut w = vec![0.1f32, -0.2, 0.3, -0.4, 0.5];
        let g = |s: usize| -> Vec<f32> { (0..n).map(|i| ((i + s) as f32 * 0.7).cos()).collect() };
        for s in 0..3 {
            a.step(&opt, &mut w, &g(s), 0.01, None).unwrap();
        }
        let mut b = OptimizerState::<f32>::new(&opt, n).unwrap();
        for (name, values) in a.buffers() {
            b.set_buffer(name, values).unwrap();
        }
        b.set_step_count(a.step_count());
        assert_eq!(a, b);
        let mut w2 = w.clone();
        for s in 3..5 {
            a.step(&opt, &mut w, &g(s), 0.01, None).unwrap();
            b.step(&opt, &mut w2, &g(s), 0.01, None).unwrap();
        }
        assert_eq!(w, w2, "{}", opt.name());
        let names: Vec<_> = a.buffers().iter().map(|(n, _)| *n).collect();
        assert_eq!(names, opt.buffer_names());
    }
}

fn config_err<R: std::fmt::Debug>(r: Result<R>, word: &str) {
    match r {
        Err(Error::Config(m)) => assert!(m.contains(word), "'{m}' does not name {word}"),
        other => panic!("expected Config error naming {word}, got {other:?}"),
    }
}

#[test]
fn invalid_hyperparameters_are_config_errors() {
    for mu in [1.0, 1.5, -0.1, f64::NAN] {
        config_err(Optimizer::Momentum { mu }.validate(), "mu");
        config_err(Optimizer::Nesterov { mu }.validate(), "explode");
    }
    for eps in [0.0, -1e-8, f64::INFINITY, f64::NAN] {
        config_err(Optimizer::Adagrad { eps }.validate(), "eps");
        config_err(Optimizer::RmsProp { decay: 0.9, eps }.validate(), "eps");
        config_err(Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps, bias_correction: true }.validate(), "eps");
    }
    for x in [1.0, -0.5, f64::NAN] {
        config_err(Optimizer::RmsProp { decay: x, eps: 1e-8 }.validate(), "decay");
        config_err(Optimizer::Adam { beta1: x, beta2: 0.999, eps: 1e-8, bias_correction: true }.validate(), "beta1");
        config_err(Optimizer::Adam { beta1: 0.9, beta2: x, eps: 1e-8, bias_correction: false }.validate(), "beta2");
    }
    for opt in all() {
        opt.validate().unwrap();
    }
    assert!(matches!(OptimizerState::<f64>::new(&Optimizer::Momentum { mu: 1.0 }, 3), Err(Error::Config(_))));

    let opt = Optimizer::momentum();
    let mut st = OptimizerState::<f64>::new(&opt, 2).unwrap();
    let mut w = [0.0; 2];
    for lr in [-0.1, f64::NAN, f64::INFINITY] {
        config_err(st.step(&opt, &mut w, &[1.0, 1.0], lr, None), "learning_rate");
    }
    config_err(st.step(&opt, &mut w, &[1.0, 1.0], 0.1, Some(1.0)), "mu_override");
    config_err(st.step(&Optimizer::adam(), &mut w, &[1.0, 1.0], 0.1, None), "momentum");
    assert!(matches!(st.step(&opt, &mut w, &[1.0], 0.1, None), Err(Error::Shape(_))));
    assert!(matches!(st.step(&opt, &mut [0.0; 3], &[1.0; 3], 0.1, None), Err(Error::Shape(_))));
    config_err(st.set_buffer("cache", &[0.0, 0.0]), "cache");
    assert!(matches!(st.set_buffer("velocity", &[0.0]), Err(Error::Shape(_))));
    assert_eq!(st.step_count(), 0, "failed steps must not count");
    assert_eq!(w, [0.0; 2]);

    // An eps that vanishes (or makes lr/eps overflow) in f32 is rejected.
    let tiny = Optimizer::Adagrad { eps: 1e-50 };
    let mut st = OptimizerState::<f32>::new(&tiny, 1).unwrap();
    config_err(st.step(&tiny, &mut [0.0f32], &[0.0], 0.1, None), "eps");
    let mut st = OptimizerState::<f64>::new(&tiny, 1).unwrap();
    st.step(&tiny, &mut [0.0f64], &[0.0], 0.1, None).unwrap();
}

#[test]
fn defaults_and_names() {
    assert_eq!(Optimizer::default(), Optimizer::Vanilla);
    assert_eq!(Optimizer::momentum(), Optimizer::Momentum { mu: 0.9 });
    assert_eq!(Optimizer::rmsprop(), Optimizer::RmsProp { decay: 0.99, eps: 1e-8 });
    assert_eq!(Optimizer::adam(), Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8, bias_correction: true });
    let st = OptimizerState::<f32>::new(&Optimizer::Vanilla, 4).unwrap();
    assert!(st.buffers().is_empty());
    assert_eq!((st.len(), st.kind()), (4, "vanilla"));
}

#[test]
fn step_reports_non_finite_parameters() {
    let opt = Optimizer::Vanilla;
    let mut st = OptimizerState::<f32>::new(&opt, 3).unwrap();
    let mut w = [1.0f32, 2.0, 3.0];
    assert!(st.step(&opt, &mut w, &[0.5, 0.5, 0.5], 0.1, None).unwrap());
    assert!(!st.step(&opt, &mut w, &[0.5, f32::INFINITY, 0.5], 0.1, None).unwrap());
    let mut big = vec![1.0f32; 100_000];
    let mut g = vec![0.0f32; 100_000];
    g[77_777] = f32::NAN;
    let mut st = OptimizerState::<f32>::new(&Optimizer::adam(), big.len()).unwrap();
    assert!(!st.step(&Optimizer::adam(), &mut big, &g, 0.1, None).unwrap());
}

#[test]
fn descend_refuses_a_step_to_non_finite_values_unchanged() {
    let mut w = vec![1.0f64; 70_000];
    let mut g = vec![0.5f64; 70_000];
    assert_eq!(super::descend(&mut w, &g, 0.1).unwrap(), None);
    assert!(w.iter().all(|&v| v == 1.0 - 0.1 * 0.5));
    let before = w.clone();
    g[69_999] = f64::MAX;
    g[40_000] = f64::NAN;
    assert_eq!(super::descend(&mut w, &g, -1e300).unwrap(), Some(40_000));
    assert_eq!(w, before);
    assert!(matches!(super::descend(&mut w, &g[..3], 0.1), Err(Error::Shape(_))));
}
