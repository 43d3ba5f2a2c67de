//! Activation functions over a batch vector: forward in place, and the
//! backward step dz = dv · g'(z) computed from the saved output v = g(z).
//! Every derivative is written next to its function.

use super::vector;
use crate::graph::Activation;
use crate::real::Real;
use std::ops::Range;

/// Scalar g(x).
#[inline(always)]
pub fn forward<T: Real>(act: Activation, x: T) -> T {
    match act {
        Activation::Identity => x,
        Activation::Relu => {
            if x > T::ZERO {
                x
            } else {
                T::ZERO
            }
        }
        Activation::Relu6 { cap } => {
            let cap = T::from_f64(cap);
            if x <= T::ZERO {
                T::ZERO
            } else if x >= cap {
                cap
            } else {
                x
            }
        }
        Activation::LeakyRelu { slope } => {
            if x > T::ZERO {
                x
            } else {
                T::from_f64(slope) * x
            }
        }
        Activation::Sigmoid => T::ONE / (T::ONE + (-x).exp()),
        Activation::Tanh => x.tanh(),
        Activation::Softsign => x / (T::ONE + x.abs()),
    }
}

/// Scalar g'(x) expressed through y = g(x). Kinks take the notes' convention
/// (the derivative of relu at 0 is 0; leaky relu at 0 is its slope).
#[inline(always)]
pub fn derivative_from_output<T: Real>(act: Activation, y: T) -> T {
    match act {
        Activation::Identity => T::ONE,
        Activation::Relu => {
            if y > T::ZERO {
                T::ONE
            } else {
                T::ZERO
            }
        }
        Activation::Relu6 { cap } => {
            if y > T::ZERO && y < T::from_f64(cap) {
                T::ONE
            } else {
                T::ZERO
            }
        }
        Activation::LeakyRelu { slope } => {
            if y > T::ZERO {
                T::ONE
            } else {
                T::from_f64(slope)
            }
        }
        Activation::Sigmoid => y * (T::ONE - y),
        Activation::Tanh => T::ONE - y * y,
        Activation::Softsign => {
            let s = T::ONE - y.abs();
            s * s
        }
    }
}

/// Expands to one loop per activation, so each loop body is free of the
/// `match` and vectorises.
macro_rules! per_activation {
    ($act:expr, $a:ident => $body:expr) => {
        match $act {
            Activation::Identity => {}
            $a @ Activation::Relu => $body,
            $a @ Activation::Relu6 { .. } => $body,
            $a @ Activation::LeakyRelu { .. } => $body,
            $a @ Activation::Sigmoid => $body,
            $a @ Activation::Tanh => $body,
            $a @ Activation::Softsign => $body,
        }
    };
}

/// v[i] = g(v[i]) in place.
pub fn apply<T: Real>(act: Activation, v: &mut [T]) {
    vector::simd(|| {
        per_activation!(act, a => {
            for x in v.iter_mut() {
                *x = forward(a, *x);
            }
        })
    })
}

/// Rows `r` of `v` (rows of length `w`) = g(row) for each run `(r, g)`, one
/// SIMD dispatch for all runs: at batch 1 a dispatch per row cost more
/// than the row.
pub fn apply_runs<T: Real>(runs: impl IntoIterator<Item = (Range<usize>, Activation)> + Clone, v: &mut [T], w: usize) {
    apply_runs_steps(runs, v, w, 1, 0)
}

/// [`apply_runs`] on `steps` copies of the rows, `stride` values apart
/// (the same rows at every time step), still one SIMD dispatch.
pub fn apply_runs_steps<T: Real>(
    runs: impl IntoIterator<Item = (Range<usize>, Activation)> + Clone,
    v: &mut [T],
    w: usize,
    steps: usize,
    stride: usize,
) {
    vector::simd(
        #[inline(always)]
        || {
            for t in 0..steps {
                let v = &mut v[t * stride..];
                for (rows, act) in runs.clone() {
                    per_activation!(act, a => {
                        for x in v[rows.start * w..rows.end * w].iter_mut() {
                            *x = forward(a, *x);
                        }
                    })
                }
            }
        },
    )
}

/// Rows `r` of `d` *= g'(z) given rows `r` of `v` = g(z), for each run
/// `(r, g)`, one dispatch.
pub fn backprop_runs<T: Real>(
    runs: impl IntoIterator<Item = (Range<usize>, Activation)>,
    v: &[T],
    d: &mut [T],
    w: usize,
) {
    vector::simd(
        #[inline(always)]
        || {
            for (rows, act) in runs {
                let r = rows.start * w..rows.end * w;
                per_activation!(act, a => {
                    for (dx, &y) in d[r.clone()].iter_mut().zip(&v[r]) {
                        *dx *= derivative_from_output(a, y);
                    }
                })
            }
        },
    )
}

/// d[i] *= g'(z[i]) given v[i] = g(z[i]).
pub fn backprop<T: Real>(act: Activation, v: &[T], d: &mut [T]) {
    vector::simd(|| {
        per_activation!(act, a => {
            for (dx, &y) in d.iter_mut().zip(v) {
                *dx *= derivative_from_output(a, y);
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Activation; 7] = [
        Activation::Identity,
        Activation::Relu,
        Activation::Relu6 { cap: 6.0 },
        Activation::LeakyRelu { slope: 0.01 },
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Softsign,
    ];

    #[test]
    fn derivative_matches_central_difference_away_from_kinks() {
        let h = 1e-6;
        for act in ALL {
            for &x in &[-7.3f64, -2.0, -0.4, 0.3, 1.7, 5.2, 8.9] {
                let numeric = (forward(act, x + h) - forward(act, x - h)) / (2.0 * h);
                let analytic = derivative_from_output(act, forward(act, x));
                let err = (numeric - analytic).abs() / numeric.abs().max(analytic.abs()).max(1e-300);
                assert!(err < 1e-7 || (numeric - analytic).abs() < 1e-9, "{act:?} at {x}: {analytic} vs {numeric}");
            }
        }
    }

    #[test]
    fn notes_values() {
        // Lecture 2: sigmoid(4) = 0.98201; its derivative, 0.017676 in the
        // notes (from the rounded 0.982), is 0.0176627.
        let s: f64 = forward(Activation::Sigmoid, 4.0);
        assert!((s - 0.98201).abs() < 5e-6);
        assert!((derivative_from_output(Activation::Sigmoid, s) - 0.017676).abs() < 2e-5);
        // Lecture 1: relu6 caps at 6, leaky relu scales negatives by 0.01.
        assert_eq!(forward(Activation::Relu6 { cap: 6.0 }, 9.0f64), 6.0);
        assert_eq!(forward(Activation::LeakyRelu { slope: 0.01 }, -2.0f64), -0.02);
        // Kinks: relu'(0) = 0, leaky'(0) = slope.
        assert_eq!(derivative_from_output(Activation::Relu, 0.0f64), 0.0);
        assert_eq!(derivative_from_output(Activation::LeakyRelu { slope: 0.01 }, 0.0f64), 0.01);
    }

    #[test]
    fn row_kernels_match_slice_kernels() {
        let w = 5;
        let xs: Vec<f64> = (0..ALL.len() * w).map(|i| (i as f64 - 17.0) * 0.29).collect();
        let (mut rows, mut one) = (xs.clone(), xs.clone());
        let runs = || ALL.iter().enumerate().map(|(i, &a)| (i..i + 1, a));
        apply_runs(runs(), &mut rows, w);
        for (act, chunk) in ALL.iter().zip(one.chunks_exact_mut(w)) {
            apply(*act, chunk);
        }
        assert_eq!(rows, one);
        let (mut dr, mut d1) = (vec![0.7; xs.len()], vec![0.7; xs.len()]);
        backprop_runs(runs(), &rows, &mut dr, w);
        for ((act, v), d) in ALL.iter().zip(rows.chunks_exact(w)).zip(d1.chunks_exact_mut(w)) {
            backprop(*act, v, d);
        }
        assert_eq!(dr, d1);
    }

    #[test]
    fn slice_kernels_match_scalar() {
        for act in ALL {
            let xs: Vec<f32> = (0..37).map(|i| (i as f32 - 18.0) * 0.37).collect();
            let mut v = xs.clone();
            apply(act, &mut v);
            let mut d = vec![1.5f32; xs.len()];
            backprop(act, &v, &mut d);
            for i in 0..xs.len() {
                assert_eq!(v[i], forward(act, xs[i]));
                assert_eq!(d[i], 1.5 * derivative_from_output(act, v[i]));
            }
        }
    }
}
