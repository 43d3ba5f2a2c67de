//! Loss values and gradients: the notes' examples and central differences.

use super::*;

fn target_for(loss: Loss) -> (Vec<f64>, usize) {
    let _ = loss;
    (vec![0.3, -1.1, 2.0, 0.45], 2)
}

#[test]
fn gradients_match_central_differences() {
    let z = [0.9, -0.4, 1.7, 0.2];
    let h = 1e-6;
    for loss in Loss::ALL {
        let (y, c) = target_for(loss);
        let t = if loss.takes_classes() { Target::Class(c) } else { Target::Values(&y) };
        let mut g = [0.0; 4];
        loss.eval(&z, t, &mut g);
        for i in 0..4 {
            let mut zp = z;
            zp[i] += h;
            let mut zm = z;
            zm[i] -= h;
            let mut tmp = [0.0; 4];
            let num = (loss.eval(&zp, t, &mut tmp) - loss.eval(&zm, t, &mut tmp)) / (2.0 * h);
            assert!((num - g[i]).abs() < 1e-6, "{loss:?} d/dz{i}: {} vs {num}", g[i]);
        }
    }
}

#[test]
fn notes_softmax_example() {
    // Lecture 3: z = (8, 2, 5) -> 0.9503, 0.0023, 0.0473.
    let p = softmax(&[8.0, 2.0, 5.0]);
    for (got, want) in p.iter().zip([0.9503, 0.0023, 0.0473]) {
        assert!((got - want).abs() < 1e-4, "{got} vs {want}"); // the notes round to 4 places
    }
    let mut g = [0.0; 3];
    let l = Loss::Softmax.eval(&[8.0, 2.0, 5.0], Target::Class(0), &mut g);
    assert!((l - -(0.9503f64).ln()).abs() < 1e-4);
    // d z_y = p_y - 1, d z_i = p_i
    assert!((g[0] - (p[0] - 1.0)).abs() < 1e-12 && (g[1] - p[1]).abs() < 1e-12);
}

#[test]
fn softmax_is_stable_for_huge_outputs() {
    let mut g = [0.0; 3];
    let l = Loss::Softmax.eval(&[1000.0, 0.0, -1000.0], Target::Class(0), &mut g);
    assert!(l.is_finite() && l.abs() < 1e-12);
    assert!(g.iter().all(|v| v.is_finite()));
}

#[test]
fn notes_norm_and_hinge_definitions() {
    let mut g = [0.0; 2];
    // L1 = |1-0| + |-2-1| = 4 ; L2 = sqrt(1 + 9)
    assert_eq!(Loss::L1.eval(&[1.0, -2.0], Target::Values(&[0.0, 1.0]), &mut g), 4.0);
    assert_eq!(g, [1.0, -1.0]);
    assert_eq!(Loss::L2.eval(&[1.0, -2.0], Target::Values(&[0.0, 1.0]), &mut g), 10f64.sqrt());
    // L2 gradient is 0 where the norm is 0; |x|' at 0 is 0.
    assert_eq!(Loss::L2.eval(&[1.0, 1.0], Target::Values(&[1.0, 1.0]), &mut g), 0.0);
    assert_eq!(g, [0.0, 0.0]);
    Loss::L1.eval(&[1.0, 1.0], Target::Values(&[1.0, 1.0]), &mut g);
    assert_eq!(g, [0.0, 0.0]);
    // hinge: z = (3, 1, 2.5), y = 1 -> max(0, 3-1+1) + max(0, 2.5-1+1) = 3 + 2.5
    let mut g3 = [0.0; 3];
    assert_eq!(Loss::Hinge.eval(&[3.0, 1.0, 2.5], Target::Class(1), &mut g3), 5.5);
    assert_eq!(g3, [1.0, -2.0, 1.0]);
    assert_eq!(Loss::SquaredHinge.eval(&[3.0, 1.0, 2.5], Target::Class(1), &mut g3), 9.0 + 6.25);
    assert_eq!(g3, [6.0, -11.0, 5.0]);
    // mse / mae average over outputs
    assert_eq!(Loss::Mse.eval(&[1.0, -2.0], Target::Values(&[0.0, 1.0]), &mut g), 5.0);
    assert_eq!(g, [1.0, -3.0]);
    assert_eq!(Loss::Mae.eval(&[1.0, -2.0], Target::Values(&[0.0, 1.0]), &mut g), 2.0);
    assert_eq!(g, [0.5, -0.5]);
}

#[test]
fn parse_names_and_reject_unknown() {
    for loss in Loss::ALL {
        assert_eq!(Loss::parse(loss.name()).unwrap(), loss);
    }
    let err = Loss::parse("l3").unwrap_err();
    assert!(matches!(err, Error::Config(ref m) if m.contains(r#"unknown loss "l3"; expected one of l1, l2, mse"#)));
    assert_eq!(Loss::parse("svm").unwrap(), Loss::Hinge);
    assert_eq!(Loss::parse("cross_entropy").unwrap(), Loss::Softmax);
    for reduction in Reduction::ALL {
        assert_eq!(Reduction::parse(reduction.name()).unwrap(), reduction);
    }
    let err = Reduction::parse("avg").unwrap_err();
    assert!(matches!(err, Error::Config(ref m) if m.contains(r#"unknown reduction "avg""#)));
}
