//! Schedules: the notes' tables for exponential and 1/t decay, step decay's
//! first reduction, momentum annealing and the plateau state machine.

use super::*;
use crate::error::Error;

/// The notes print the rates truncated to 4 decimals.
fn matches_table(got: f64, want: f64) {
    assert!((got - want).abs() < 1e-4, "{got} vs {want}");
    assert_eq!((got * 1e4).floor(), (want * 1e4).round(), "{got} does not truncate to {want}");
}

#[test]
fn exponential_decay_matches_notes_table() {
    let s = Schedule::Exponential { k: 0.9 };
    s.validate().unwrap();
    for (t, want) in [1.0, 0.4065, 0.1652, 0.0672, 0.0273, 0.0111].into_iter().enumerate() {
        matches_table(s.learning_rate(1.0, t as u32), want);
    }
    assert_eq!(s.learning_rate(1.0, 0), 1.0);
}

#[test]
fn inverse_time_decay_matches_notes_table() {
    let s = Schedule::InverseTime { k: 0.9 };
    s.validate().unwrap();
    for (t, want) in [2.0, 1.0526, 0.7142, 0.5405, 0.4347, 0.3636].into_iter().enumerate() {
        matches_table(s.learning_rate(2.0, t as u32), want);
    }
}

#[test]
fn step_decay_first_reduction_at_epoch_every() {
    // "reducing the learning rate by half every 5 epochs"
    let s = Schedule::Step { every: 5, factor: 0.5 };
    s.validate().unwrap();
    let lrs: Vec<f64> = (0..16).map(|t| s.learning_rate(0.8, t)).collect();
    assert!(lrs[..5].iter().all(|&x| x == 0.8));
    assert!(lrs[5..10].iter().all(|&x| x == 0.4));
    assert!(lrs[10..15].iter().all(|&x| x == 0.2));
    assert_eq!(lrs[15], 0.1);
    // Bitwise the notes' loop: learningRate *= annealingRate at each period.
    let s = Schedule::Step { every: 20, factor: 0.1 };
    let mut lr = 0.3f64;
    for t in 0..200u32 {
        if t > 0 && t % 20 == 0 {
            lr *= 0.1;
        }
        assert_eq!(s.learning_rate(0.3, t).to_bits(), lr.to_bits(), "epoch {t}");
    }
    // Huge epochs terminate and reach 0.
    assert_eq!(Schedule::Step { every: 1, factor: 0.5 }.learning_rate(1.0, u32::MAX), 0.0);
    assert_eq!(Schedule::Step { every: 1, factor: 1.0 }.learning_rate(0.25, u32::MAX), 0.25);
    // every = 0 is invalid, but never panics.
    assert_eq!(Schedule::Step { every: 0, factor: 0.5 }.learning_rate(0.25, 7), 0.25);
}

#[test]
fn constant_schedule() {
    assert_eq!(Schedule::default().learning_rate(0.01, 1000), 0.01);
}

#[test]
fn invalid_schedules_are_config_errors() {
    let err = |s: Schedule, word: &str| match s.validate() {
        Err(Error::Config(m)) => assert!(m.contains(word), "{m}"),
        other => panic!("{s:?}: {other:?}"),
    };
    err(Schedule::Step { every: 0, factor: 0.5 }, "every");
    for f in [0.0, -0.5, f64::NAN, f64::INFINITY] {
        err(Schedule::Step { every: 3, factor: f }, "factor");
    }
    for k in [-0.1, f64::NAN, f64::INFINITY] {
        err(Schedule::Exponential { k }, "k");
        err(Schedule::InverseTime { k }, "k");
    }
}

#[test]
fn momentum_annealing_ramps_then_holds() {
    let a = MomentumAnnealing { start: 0.5, end: 0.9, epochs: 4 };
    a.validate().unwrap();
    let mus: Vec<f64> = (0..7).map(|t| a.mu(t)).collect();
    for (m, want) in mus.iter().zip([0.5, 0.6, 0.7, 0.8, 0.9, 0.9, 0.9]) {
        assert!((m - want).abs() < 1e-15, "{mus:?}");
    }
    assert_eq!(a.mu(4), 0.9);
    assert_eq!(MomentumAnnealing { start: 0.5, end: 0.99, epochs: 0 }.mu(0), 0.99);
    for (start, end, word) in [(0.5, 1.0, "end"), (1.0, 0.9, "start"), (-0.1, 0.9, "start"), (0.5, f64::NAN, "end")] {
        match (MomentumAnnealing { start, end, epochs: 3 }).validate() {
            Err(Error::Config(m)) => assert!(m.contains(word) && m.contains("explode"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn plateau_reduces_after_patience() {
    let mut p = ReduceOnPlateau::new(0.5, 2, 0.01, 0.1).unwrap();
    let mut lr = 1.0;
    let metrics = [1.0, 0.9, 0.895, 0.899, 0.85, 0.86, 0.87, 0.88, 0.849, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6];
    let mut lrs = Vec::new();
    for m in metrics {
        lr = p.observe(m, lr);
        lrs.push(lr);
    }
    // 0.895 and 0.899 do not beat 0.9 by more than 0.01 → reduce at the 2nd;
    // 0.85 improves; 0.86, 0.87 → reduce; 0.88, 0.849 (not > 0.01 better) → reduce;
    // 0.5 improves; then pairs of 0.6 reduce to 0.125 and stop at min_lr 0.1.
    let want = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.125, 0.1, 0.1, 0.1, 0.1, 0.1];
    assert_eq!(lrs, want);
    assert_eq!(p.best(), Some(0.5));
    // Deterministic: a restored copy continues identically.
    let mut q = ReduceOnPlateau::new(0.5, 2, 0.01, 0.1).unwrap();
    q.restore(p.best(), p.wait());
    assert_eq!(q, p);
    // A rate below min_lr is not raised; NaN never improves.
    let mut r = ReduceOnPlateau::new(0.5, 1, 0.0, 0.1).unwrap();
    assert_eq!(r.observe(f64::NAN, 0.05), 0.05);
    assert_eq!(r.best(), None);
    assert_eq!(r.observe(1.0, 0.4), 0.4);
    assert_eq!(r.observe(f64::NAN, 0.4), 0.2);
    // patience 0 reduces on every non-improving observation.
    let mut z = ReduceOnPlateau::new(0.5, 0, 0.0, 0.0).unwrap();
    assert_eq!(z.observe(1.0, 1.0), 1.0);
    assert_eq!(z.observe(1.0, 1.0), 0.5);
    assert_eq!(z.observe(2.0, 0.5), 0.25);
}

#[test]
fn invalid_plateau_is_config_error() {
    for (f, d, m, word) in [
        (1.0, 0.0, 0.0, "factor"),
        (0.0, 0.0, 0.0, "factor"),
        (f64::NAN, 0.0, 0.0, "factor"),
        (0.5, -1.0, 0.0, "min_delta"),
        (0.5, 0.0, -1e-3, "min_lr"),
        (0.5, 0.0, f64::INFINITY, "min_lr"),
    ] {
        match ReduceOnPlateau::new(f, 3, d, m) {
            Err(Error::Config(msg)) => assert!(msg.contains(word), "{msg}"),
            other => panic!("{other:?}"),
        }
    }
}
