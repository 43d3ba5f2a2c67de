//! Annealing (Lecture 4, "Annealing the Learning Rate"): learning-rate
//! schedules (step, exponential and 1/t decay), a linear ramp of momentum's
//! μ ("anneal the μ parameter ... smaller at the beginning ... then increase
//! it"), and reducing the learning rate when the validation error stops
//! improving. Epochs are counted from t = 0.

use super::optimizer::check_mu;
use crate::bail;
use crate::error::Result;

/// The learning rate as a function of the epoch t = 0, 1, 2, ...
#[derive(Clone, Copy, Debug, PartialEq, Default, serde::Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// The initial rate throughout.
    #[default]
    Constant,
    /// Step decay: "every `ew` epochs reduce the learning rate",
    /// `learningRate *= annealingRate`. Epoch t uses
    /// `initial · factor^⌊t / every⌋`: epochs 0 .. every−1 run at the initial
    /// rate and the first reduction applies from epoch t = every on (the
    /// notes' `if ((epoch % step) == 0) learningRate *= annealingRate`, run
    /// after each completed epoch counted from 1). E.g. "half every 5 epochs"
    /// is `Step { every: 5, factor: 0.5 }`.
    Step { every: u32, factor: f64 },
    /// `learningRate = initialRate · e^(−k·t)`; the first value of t is 0.
    Exponential { k: f64 },
    /// `learningRate = initialRate / (1 + k·t)`.
    InverseTime { k: f64 },
}

impl Schedule {
    /// Checks `every ≥ 1`, `factor > 0` (finite) and `k ≥ 0` (finite).
    pub fn validate(&self) -> Result<()> {
        match *self {
            Schedule::Constant => {}
            Schedule::Step { every, factor } => {
                if every == 0 {
                    bail!(Config, "schedule.every must be at least 1 epoch, got 0");
                }
                if !(factor > 0.0 && factor.is_finite()) {
                    bail!(Config, "schedule.factor must be a positive finite number, got {factor}");
                }
            }
            Schedule::Exponential { k } | Schedule::InverseTime { k } => {
                if !(k >= 0.0 && k.is_finite()) {
                    bail!(Config, "schedule.k must be a finite number >= 0, got {k}");
                }
            }
        }
        Ok(())
    }

    /// The learning rate of epoch `epoch` (t, from 0) given the initial rate.
    /// Step decay multiplies `factor` in once per completed period, as the
    /// notes' loop does (so the value is bitwise what that loop produces); an
    /// invalid `every = 0` (see [`Schedule::validate`]) never decays.
    pub fn learning_rate(&self, initial: f64, epoch: u32) -> f64 {
        let t = epoch as f64;
        match *self {
            Schedule::Constant => initial,
            Schedule::Step { every, factor } => {
                let mut lr = initial;
                for _ in 0..epoch.checked_div(every).unwrap_or(0) {
                    let next = lr * factor;
                    if next == lr || next.is_nan() {
                        break; // reached 0, ∞ or a fixed point: further periods change nothing
                    }
                    lr = next;
                }
                lr
            }
            Schedule::Exponential { k } => initial * (-k * t).exp(),
            Schedule::InverseTime { k } => initial / (1.0 + k * t),
        }
    }
}

/// Momentum annealing: μ rises linearly from `start` (epoch 0) to `end`
/// (epoch `epochs`), then stays at `end`:
/// `μ(t) = start + (end − start) · min(t, epochs) / epochs` (`end` at once
/// when `epochs` = 0). Pass `mu(epoch)` as the `mu_override` of
/// `OptimizerState::step`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MomentumAnnealing {
    pub start: f64,
    pub end: f64,
    pub epochs: u32,
}

impl MomentumAnnealing {
    /// Checks 0 ≤ start < 1 and 0 ≤ end < 1 ("keep the momentum < 1").
    pub fn validate(&self) -> Result<()> {
        check_mu(self.start, "momentum_annealing.start")?;
        check_mu(self.end, "momentum_annealing.end")
    }

    /// μ for epoch `epoch` (from 0).
    pub fn mu(&self, epoch: u32) -> f64 {
        if epoch >= self.epochs {
            return self.end;
        }
        self.start + (self.end - self.start) * (epoch as f64 / self.epochs as f64)
    }
}

/// Reduce the learning rate "when the validation error stops improving":
/// after `patience` consecutive observations without an improvement of more
/// than `min_delta` over the best metric so far (lower is better: pass a loss
/// or an error, or −accuracy), multiply the rate by `factor`, never going
/// below `min_lr` (a rate already below `min_lr` is left as it is; patience 0
/// acts as 1, reducing on every non-improving observation). The count
/// restarts after each reduction and each improvement; the best metric is
/// kept. NaN never counts as an improvement. Deterministic.
#[derive(Clone, Debug, PartialEq)]
pub struct ReduceOnPlateau {
    pub factor: f64,
    pub patience: u32,
    pub min_delta: f64,
    pub min_lr: f64,
    best: Option<f64>,
    wait: u32,
}

impl ReduceOnPlateau {
    /// A validated state machine with no observation yet.
    pub fn new(factor: f64, patience: u32, min_delta: f64, min_lr: f64) -> Result<Self> {
        let r = ReduceOnPlateau { factor, patience, min_delta, min_lr, best: None, wait: 0 };
        r.validate()?;
        Ok(r)
    }

    /// Checks 0 < factor < 1, min_delta ≥ 0 and min_lr ≥ 0 (all finite).
    pub fn validate(&self) -> Result<()> {
        if !(self.factor > 0.0 && self.factor < 1.0) {
            bail!(Config, "plateau factor = {} must be in (0, 1)", self.factor);
        }
        if !(self.min_delta >= 0.0 && self.min_delta.is_finite()) {
            bail!(Config, "plateau min_delta = {} must be non-negative and finite", self.min_delta);
        }
        if !(self.min_lr >= 0.0 && self.min_lr.is_finite()) {
            bail!(Config, "plateau min_lr = {} must be non-negative and finite", self.min_lr);
        }
        Ok(())
    }

    /// Records this epoch's metric and returns the learning rate to use next
    /// (`lr` itself unless a reduction is due).
    pub fn observe(&mut self, metric: f64, lr: f64) -> f64 {
        let improved = match self.best {
            None => !metric.is_nan(),
            Some(best) => metric < best - self.min_delta,
        };
        if improved {
            self.best = Some(metric);
            self.wait = 0;
            return lr;
        }
        self.wait = self.wait.saturating_add(1);
        if self.wait < self.patience.max(1) {
            return lr;
        }
        self.wait = 0;
        (lr * self.factor).max(self.min_lr).min(lr)
    }

    /// Best metric seen so far.
    pub fn best(&self) -> Option<f64> {
        self.best
    }

    /// Observations since the last improvement or reduction.
    pub fn wait(&self) -> u32 {
        self.wait
    }

    /// Restores `best` and `wait` (from a checkpoint).
    pub fn restore(&mut self, best: Option<f64>, wait: u32) {
        self.best = best;
        self.wait = wait;
    }
}

#[cfg(test)]
mod tests;
