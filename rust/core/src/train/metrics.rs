//! Metrics of a network's outputs against targets: the loss (mean per
//! counted sample and step), accuracy for class targets, MSE and MAE for
//! values. The trainer accumulates them batch by batch as it trains (no
//! extra pass); `evaluate` runs one forward pass for held-out data.

use super::Dataset;
use crate::error::Result;
use crate::exec::{Seed, Targets, Want};
use crate::loss::{Loss, Reduction};
use crate::network::Network;
use crate::real::Real;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Metrics {
    /// Loss per counted (sample, step).
    pub loss: f64,
    /// Fraction of counted steps whose largest output is the target class.
    pub accuracy: Option<f64>,
    /// Mean squared error over counted steps and outputs.
    pub mse: Option<f64>,
    /// Mean absolute error over counted steps and outputs.
    pub mae: Option<f64>,
    /// Counted (sample, step) pairs (the mask's sum).
    pub count: f64,
}

/// Running sums from which [`Metrics`] are formed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MetricSums {
    pub loss: f64,
    pub count: f64,
    pub correct: f64,
    pub squared: f64,
    pub absolute: f64,
}

impl MetricSums {
    /// Adds the outputs `z` (batch, steps, n_out) of a batch against its
    /// targets; `loss` is the batch's summed loss.
    pub fn add<T: Real>(&mut self, z: &[T], targets: &Targets<'_, T>, mask: Option<&[T]>, n_out: usize, loss: f64) {
        let pairs = z.len() / n_out.max(1);
        let weight = |i: usize| mask.map_or(1.0, |m| m[i].to_f64());
        self.loss += loss;
        for i in 0..pairs {
            let w = weight(i);
            self.count += w;
            let row = &z[i * n_out..(i + 1) * n_out];
            match targets {
                Targets::Classes(c) => {
                    let best = (0..n_out).fold(0, |b, k| if row[k] > row[b] { k } else { b });
                    if best as i64 == c[i] {
                        self.correct += w;
                    }
                }
                Targets::Values(y) => {
                    for (k, &zk) in row.iter().enumerate() {
                        let d = zk.to_f64() - y[i * n_out + k].to_f64();
                        self.squared += w * d * d;
                        self.absolute += w * d.abs();
                    }
                }
            }
        }
    }

    pub fn merge(&mut self, other: &MetricSums) {
        self.loss += other.loss;
        self.count += other.count;
        self.correct += other.correct;
        self.squared += other.squared;
        self.absolute += other.absolute;
    }

    pub fn metrics(&self, classes: bool, n_out: usize) -> Metrics {
        let per = |v: f64| if self.count > 0.0 { v / self.count } else { 0.0 };
        Metrics {
            loss: per(self.loss),
            accuracy: classes.then(|| per(self.correct)),
            mse: (!classes).then(|| per(self.squared) / n_out as f64),
            mae: (!classes).then(|| per(self.absolute) / n_out as f64),
            count: self.count,
        }
    }
}

/// Forward pass and loss in one run, then metrics from the outputs.
pub fn evaluate<T: Real>(net: &Network<T>, data: &Dataset<'_, T>, loss: Loss) -> Result<Metrics> {
    let seed = Seed::Loss { loss, targets: data.targets, reduction: Reduction::Sum, mask: data.mask };
    let want = Want { outputs: true, parallel: true, ..Want::default() };
    let out = net.run(net.params(), &data.x, Some(&seed), want)?;
    let mut sums = MetricSums::default();
    let z = out.outputs.unwrap_or_default();
    sums.add(&z, &data.targets, data.mask, net.n_outputs(), out.loss);
    Ok(sums.metrics(matches!(data.targets, Targets::Classes(_)), net.n_outputs()))
}
