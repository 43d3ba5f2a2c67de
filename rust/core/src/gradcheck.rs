//! Numeric gradients by central differences and the notes' relative-error
//! report, to prove the backward pass right.

use crate::error::Result;
use crate::exec::{self, Seed, Sequences};
use crate::network::Network;
use crate::real::Real;

/// Default finite-difference step in f64 (the 1e-5).
pub const DEFAULT_STEP: f64 = 1e-5;

/// (f(θ + h e_i) − f(θ − h e_i)) / 2h for every trainable parameter i
/// (0 for fixed ones). Parameters are perturbed in parallel; each loss
/// evaluation runs on one thread.
pub fn numeric_gradient<T: Real>(
    net: &Network<T>,
    x: &Sequences<'_, T>,
    seed: &Seed<'_, T>,
    step: f64,
) -> Result<Vec<f64>> {
    if !(step.is_finite() && step > 0.0) {
        crate::bail!(Config, "finite-difference step must be a positive number, got {step}");
    }
    let base = net.params();
    let groups = net.groups();
    let results = exec::threads_map(base.len(), |i| -> Result<f64> {
        if !groups.is_trainable(i) {
            return Ok(0.0);
        }
        let mut p = base.to_vec();
        p[i] = T::from_f64(base[i].to_f64() + step);
        let plus = net.loss_at(&p, x, seed, false)?;
        p[i] = T::from_f64(base[i].to_f64() - step);
        let minus = net.loss_at(&p, x, seed, false)?;
        Ok((plus - minus) / (2.0 * step))
    })?;
    results.into_iter().collect()
}

/// |a − n| / max(|a|, |n|), and 0 when both are 0.
pub fn relative_error(analytic: f64, numeric: f64) -> f64 {
    let scale = analytic.abs().max(numeric.abs());
    if scale == 0.0 {
        0.0
    } else {
        (analytic - numeric).abs() / scale
    }
}

/// Per-parameter comparison of backprop against finite differences.
#[derive(Clone, Debug)]
pub struct GradientReport {
    pub names: Vec<String>,
    pub analytic: Vec<f64>,
    pub numeric: Vec<f64>,
    pub relative_errors: Vec<f64>,
    pub max_error: f64,
    /// Name of the parameter with the largest error.
    pub worst: Option<String>,
}

pub fn check_gradients<T: Real>(
    net: &Network<T>,
    x: &Sequences<'_, T>,
    seed: &Seed<'_, T>,
    step: f64,
) -> Result<GradientReport> {
    let analytic: Vec<f64> = net.gradient(x, seed, false)?.params.iter().map(|v| v.to_f64()).collect();
    let numeric = numeric_gradient(net, x, seed, step)?;
    let relative_errors: Vec<f64> = analytic.iter().zip(&numeric).map(|(&a, &n)| relative_error(a, n)).collect();
    let names = net.param_names();
    let (worst, max_error) = relative_errors.iter().enumerate().fold((None, 0.0f64), |(w, m), (i, &e)| {
        if e > m || w.is_none() {
            (Some(i), e.max(m))
        } else {
            (w, m)
        }
    });
    Ok(GradientReport { worst: worst.map(|i| names[i].clone()), names, analytic, numeric, relative_errors, max_error })
}
