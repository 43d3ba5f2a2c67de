//! Safeguards: hand-computed capping, norms, scaling, boosting,
//! regularisation and ratios in f32 and f64, and bad arguments.

// Spans are lists of ranges; a list of one span is what these tests mean.
#![allow(clippy::single_range_in_vec_init)]

use super::*;
use crate::error::Error;

fn config_err<R: std::fmt::Debug>(r: Result<R>, word: &str) {
    match r {
        Err(Error::Config(m)) => assert!(m.contains(word), "'{m}' does not name {word}"),
        other => panic!("expected Config error naming {word}, got {other:?}"),
    }
}

#[test]
fn cap_weights_caps_trainable_only() {
    let mut w = [2.5, -3.0, 0.5, -0.5, 2.0, 9.0, f64::NAN];
    let tr = [0..5, 6..7];
    cap_weights(&mut w, &tr, 2.0, 0.9).unwrap();
    assert_eq!(&w[..6], &[1.8, -1.8, 0.5, -0.5, 2.0, 9.0]);
    assert!(w[6].is_nan());
    let mut w32 = [2.5f32, -3.0, 1.0];
    cap_weights(&mut w32, &[0..3], 2.0, 1.0).unwrap();
    assert_eq!(w32, [2.0, -2.0, 1.0]);
    config_err(cap_weights(&mut w32, &[0..3], 0.0, 0.9), "threshold");
    config_err(cap_weights(&mut w32, &[0..3], f64::NAN, 0.9), "threshold");
    for s in [0.0, 1.5, f64::NAN] {
        config_err(cap_weights(&mut w32, &[0..3], 1.0, s), "scale");
    }
    assert!(matches!(cap_weights(&mut w32, &[0..4], 1.0, 0.9), Err(Error::Shape(_))));
}

#[test]
fn l2_norm_values() {
    assert_eq!(l2_norm::<f64>(&[3.0, 4.0]), 5.0);
    assert_eq!(l2_norm::<f32>(&[3.0, 4.0, 0.0, 12.0]), 13.0);
    assert_eq!(l2_norm::<f64>(&[]), 0.0);
    // f32 squares accumulate in f64: no overflow at 1e30.
    assert!((l2_norm::<f32>(&[1e30, 1e30]) / (2f64.sqrt() * 1e30f32 as f64) - 1.0).abs() < 1e-15);
    // f64 overflow of the plain sum is rescaled.
    let big = l2_norm::<f64>(&[3e200, 4e200]);
    assert!((big / 5e200 - 1.0).abs() < 1e-15, "{big}");
    assert_eq!(l2_norm::<f64>(&[1.0, f64::INFINITY]), f64::INFINITY);
    assert!(l2_norm::<f64>(&[1.0, f64::NAN]).is_nan());
    // Fixed order: the same value however long the vector (19 = 2·8 + 3).
    let v: Vec<f64> = (0..19).map(|i| (i as f64 * 0.37).sin()).collect();
    let direct = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    assert!((l2_norm(&v) - direct).abs() < 1e-14);
    assert_eq!(l2_norm(&v).to_bits(), l2_norm(&v.clone()).to_bits());
}

#[test]
fn scale_gradient_above_threshold() {
    let mut g = [3.0, -4.0];
    assert_eq!(scale_gradient(&mut g, 1.0).unwrap(), 5.0);
    assert!((g[0] - 0.6).abs() < 1e-15 && (g[1] + 0.8).abs() < 1e-15, "{g:?}");
    // Below the threshold: unchanged.
    let mut g = [0.3f32, -0.4];
    assert!((scale_gradient(&mut g, 1.0).unwrap() - 0.5).abs() < 1e-7);
    assert_eq!(g, [0.3, -0.4]);
    // Non-finite norms are reported, not applied.
    let mut g = [1.0, f64::INFINITY];
    assert_eq!(scale_gradient(&mut g, 1.0).unwrap(), f64::INFINITY);
    assert_eq!(g, [1.0, f64::INFINITY]);
    let mut g32 = [30.0f32, 40.0];
    scale_gradient(&mut g32, 1.0).unwrap();
    assert_eq!(g32, [0.6, 0.8]);
    config_err(scale_gradient(&mut g32, -1.0), "threshold");
}

#[test]
fn boost_gradient_below_threshold() {
    // The notes' boosting threshold 0.05.
    let mut g = [0.003, 0.004];
    assert!((boost_gradient(&mut g, 0.05).unwrap() - 0.005).abs() < 1e-18);
    assert!((g[0] - 0.03).abs() < 1e-15 && (g[1] - 0.04).abs() < 1e-15, "{g:?}");
    assert!((l2_norm(&g) - 0.05).abs() < 1e-15);
    // Zero stays zero; above the threshold is unchanged.
    let mut z = [0.0f32; 5];
    assert_eq!(boost_gradient(&mut z, 0.05).unwrap(), 0.0);
    assert_eq!(z, [0.0; 5]);
    let mut g32 = [0.3f32, 0.4];
    boost_gradient(&mut g32, 0.05).unwrap();
    assert_eq!(g32, [0.3, 0.4]);
    let mut g32 = [0.0f32, 0.001, 0.0];
    boost_gradient(&mut g32, 0.05).unwrap();
    assert_eq!(g32, [0.0, 0.05, 0.0]);
    config_err(boost_gradient(&mut g32, 0.0), "threshold");
}

#[test]
fn regularise_weights_only() {
    let w = [0.5, -2.0, 0.0, 3.0, 1.0];
    let mut g = [1.0, 1.0, 1.0, 1.0, 1.0];
    // Entry 3 is a bias (or fixed), entry 4 too.
    let on = [0..3];
    regularise(&w, &mut g, &on, 0.1, 0.01).unwrap();
    // g += 0.1·sign(w) + 0.01·w ; sign(0) = 0.
    let want = [1.0 + 0.1 + 0.005, 1.0 - 0.1 - 0.02, 1.0, 1.0, 1.0];
    for (a, b) in g.iter().zip(want) {
        assert!((a - b).abs() < 1e-15, "{g:?}");
    }
    let w32 = [2.0f32, -1.0];
    let mut g32 = [0.0f32; 2];
    regularise(&w32, &mut g32, &[0..2], 0.0, 0.5).unwrap();
    assert_eq!(g32, [1.0, -0.5]);
    // No penalty: the gradients are untouched bit for bit.
    let mut g0 = [-0.0f64, 2.0];
    regularise(&[1.0, 1.0], &mut g0, &[0..2], 0.0, 0.0).unwrap();
    assert_eq!(g0[0].to_bits(), (-0.0f64).to_bits());
    config_err(regularise(&w32, &mut g32, &[0..2], -0.1, 0.0), "l1");
    config_err(regularise(&w32, &mut g32, &[0..2], 0.0, f64::NAN), "l2");
    assert!(matches!(regularise(&w32, &mut g32, &[1..3], 0.1, 0.0), Err(Error::Shape(_))));
    assert!(matches!(regularise(&w32, &mut [0.0f32; 3], &[0..2], 0.1, 0.0), Err(Error::Shape(_))));
}

#[test]
fn update_ratio_values() {
    // Δ = [0.003, 0.004] → ‖Δ‖ = 0.005; ‖w‖ = 5 → 1e-3, the notes' "good ratio".
    let r = update_ratio(&[3.0, 4.0], &[3.003, 4.004]).unwrap();
    assert!((r - 1e-3).abs() < 1e-12, "{r}");
    let r32 = update_ratio(&[3.0f32, 4.0], &[3.003, 4.004]).unwrap();
    assert!((r32 - 1e-3).abs() < 1e-6, "{r32}");
    // L1: (0.003 + 0.004) / 7 = 1e-3.
    let r1 = update_ratio_l1(&[3.0, -4.0], &[3.003, -4.004]).unwrap();
    assert!((r1 - 1e-3).abs() < 1e-12, "{r1}");
    assert_eq!(update_ratio::<f64>(&[0.0, 0.0], &[0.0, 0.0]).unwrap(), 0.0);
    assert_eq!(update_ratio::<f64>(&[0.0], &[1.0]).unwrap(), f64::INFINITY);
    assert_eq!(update_ratio::<f64>(&[2.0], &[2.0]).unwrap(), 0.0);
    assert!(matches!(update_ratio::<f64>(&[1.0], &[1.0, 2.0]), Err(Error::Shape(_))));
    assert!(matches!(update_ratio_l1::<f32>(&[1.0], &[]), Err(Error::Shape(_))));
}

#[test]
fn large_norms_are_the_same_on_any_number_of_threads() {
    let v: Vec<f32> = (0..(1usize << 21) + 5).map(|i| ((i as f32) * 0.001).sin()).collect();
    crate::exec::set_num_threads(1).unwrap();
    let one = l2_norm(&v);
    crate::exec::set_num_threads(2).unwrap();
    let two = l2_norm(&v);
    assert_eq!(one.to_bits(), two.to_bits());
    let direct = v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
    assert!((one - direct).abs() < 1e-9 * direct);
}
