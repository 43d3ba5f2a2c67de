//! What a run consumes: the input sequences, and the seed of the backward
//! pass (a loss with its targets, or explicit output gradients). Shapes and
//! values are checked here, with errors that name the position at fault.

use super::transpose::{self, Strided};
use super::Geometry;
use crate::bail;
use crate::error::Result;
use crate::loss::{Loss, Reduction, Target};
use crate::plan::Plan;
use crate::real::Real;
use std::ops::Range;

/// Inputs `(batch, steps, features)` in sample-major, C order. A plain
/// `(batch, features)` batch is `steps = 1`.
#[derive(Clone, Copy, Debug)]
pub struct Sequences<'a, T> {
    pub data: &'a [T],
    pub batch: usize,
    pub steps: usize,
    pub features: usize,
    /// The state to start from, `(batch, plan.memory, plan.n_rows())`: every
    /// row's value at the `memory` steps before step 0, as a previous run's
    /// `final_state` returned it. `None` starts from zeros.
    pub initial: Option<&'a [T]>,
    /// The inputs and the seed's targets were already found finite (the
    /// trainer checks its whole data set once per epoch), so the checks
    /// look at their shapes only.
    pub finite: bool,
}

impl<'a, T: Real> Sequences<'a, T> {
    pub fn new(data: &'a [T], batch: usize, steps: usize, features: usize) -> Self {
        Sequences { data, batch, steps, features, initial: None, finite: false }
    }

    /// The same inputs, known to be finite (checked by the caller already).
    pub(crate) fn known_finite(self) -> Self {
        Sequences { finite: true, ..self }
    }

    /// The same inputs, continuing from `state` (a previous final state).
    pub fn with_state(self, state: &'a [T]) -> Self {
        Sequences { initial: Some(state), ..self }
    }

    pub(crate) fn check(&self, plan: &Plan) -> Result<()> {
        if self.features != plan.n_inputs {
            bail!(Shape, "inputs have {} features but the network has {} input nodes", self.features, plan.n_inputs);
        }
        if self.steps == 0 {
            bail!(Shape, "inputs have 0 time steps; sequences need at least one");
        }
        if Some(self.data.len()) != product(&[self.batch, self.steps, self.features]) {
            bail!(
                Shape,
                "input buffer holds {} values, expected batch {} x steps {} x features {}",
                self.data.len(),
                self.batch,
                self.steps,
                self.features
            );
        }
        if !self.finite {
            check_finite("inputs", self.data, &[self.batch, self.steps, self.features])?;
        }
        if let Some(s) = self.initial {
            let want = [self.batch, plan.memory, plan.n_rows()];
            if Some(s.len()) != product(&want) {
                bail!(
                    Shape,
                    "initial state holds {} values, expected batch {} x memory {} x rows {} (a final state of this \
                     network at the same batch size)",
                    s.len(),
                    want[0],
                    want[1],
                    want[2]
                );
            }
            check_finite("initial state", s, &want)?;
        }
        Ok(())
    }
}

/// Targets of a loss: one value per output, or one class per sample and step.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a, T> {
    /// `(batch, steps, n_outputs)`
    Values(&'a [T]),
    /// `(batch, steps)` class indices
    Classes(&'a [i64]),
}

/// Where the backward pass starts.
#[derive(Clone, Copy, Debug)]
pub enum Seed<'a, T> {
    /// A loss on the outputs, summed over samples and steps (or averaged).
    /// `mask` `(batch, steps)` weights each (sample, step): 0 leaves it out,
    /// which is how sequences of different lengths share a padded batch.
    Loss { loss: Loss, targets: Targets<'a, T>, reduction: Reduction, mask: Option<&'a [T]> },
    /// dL/d(outputs) `(batch, steps, n_outputs)`, given directly.
    OutputGrad(&'a [T]),
}

impl<'a, T: Real> Seed<'a, T> {
    pub(crate) fn check(&self, plan: &Plan, x: &Sequences<'_, T>) -> Result<()> {
        let (b, s, o) = (x.batch, x.steps, plan.n_outputs());
        match *self {
            Seed::OutputGrad(g) => {
                if Some(g.len()) != product(&[b, s, o]) {
                    bail!(Shape, "output gradient holds {} values, expected {b} x {s} x {o}", g.len());
                }
                check_finite("output gradient", g, &[b, s, o])
            }
            Seed::Loss { loss, targets, mask, .. } => {
                match targets {
                    Targets::Values(y) => {
                        if loss.takes_classes() {
                            bail!(Value, "loss {:?} takes integer class labels, not float targets", loss.name());
                        }
                        if Some(y.len()) != product(&[b, s, o]) {
                            bail!(
                                Shape,
                                "targets hold {} values, expected batch {b} x steps {s} x outputs {o}",
                                y.len()
                            );
                        }
                        if !x.finite {
                            check_finite("targets", y, &[b, s, o])?;
                        }
                    }
                    Targets::Classes(c) => {
                        if !loss.takes_classes() {
                            bail!(Value, "loss {:?} takes float targets, not class labels", loss.name());
                        }
                        if Some(c.len()) != product(&[b, s]) {
                            bail!(Shape, "class labels hold {} values, expected batch {b} x steps {s}", c.len());
                        }
                        if let Some(i) = c.iter().position(|&k| k < 0 || k as usize >= o) {
                            bail!(
                                Value,
                                "class label {} at {} is out of range for {o} outputs",
                                c[i],
                                position(i, &[b, s])
                            );
                        }
                    }
                }
                if let Some(m) = mask {
                    if Some(m.len()) != product(&[b, s]) {
                        bail!(Shape, "mask holds {} values, expected batch {b} x steps {s}", m.len());
                    }
                    if let Some(i) = m.iter().position(|&v| !(v.is_finite() && v >= T::ZERO)) {
                        bail!(Value, "mask value {:?} at {} must be finite and >= 0", m[i], position(i, &[b, s]));
                    }
                }
                Ok(())
            }
        }
    }

    /// Factor applied to the summed loss (and its gradient).
    pub(crate) fn loss_scale(&self, x: &Sequences<'_, T>) -> f64 {
        match *self {
            Seed::Loss { reduction: Reduction::Mean, mask, .. } => {
                let count = match mask {
                    Some(m) => m.iter().map(|v| v.to_f64()).sum::<f64>(),
                    None => (x.batch * x.steps) as f64,
                };
                if count > 0.0 {
                    1.0 / count
                } else {
                    0.0
                }
            }
            _ => 1.0,
        }
    }

    /// Evaluates the seed on one chunk: adds dL/d(outputs) into `deltas`
    /// and returns the chunk's unscaled loss.
    pub(crate) fn apply(
        &self,
        plan: &Plan,
        x: &Sequences<'_, T>,
        samples: Range<usize>,
        g: Geometry,
        values: &[T],
        deltas: &mut [T],
    ) -> f64 {
        let n_out = plan.n_outputs();
        let backward = !deltas.is_empty();
        if let Seed::OutputGrad(grad) = *self {
            if backward {
                for t in 0..x.steps {
                    // row by row: each output row's deltas are written contiguously
                    for (k, &row) in plan.output_rows.iter().enumerate() {
                        let at = g.at(t, row);
                        for (b, d) in deltas[at..at + g.width].iter_mut().enumerate() {
                            *d += grad[((samples.start + b) * x.steps + t) * n_out + k];
                        }
                    }
                }
            }
            return 0.0;
        }
        let Seed::Loss { loss, targets, mask, .. } = *self else { unreachable!() };
        let scale = self.loss_scale(x);
        let mut z = vec![0.0f64; n_out];
        let mut y = vec![0.0f64; n_out];
        let mut dz = vec![0.0f64; n_out];
        let mut total = 0.0;
        for t in 0..x.steps {
            for (b, sample) in samples.clone().enumerate() {
                let idx = sample * x.steps + t;
                let m = mask.map_or(1.0, |m| m[idx].to_f64());
                if m == 0.0 {
                    continue;
                }
                for (k, &row) in plan.output_rows.iter().enumerate() {
                    z[k] = values[g.at(t, row) + b].to_f64();
                }
                let target = match targets {
                    Targets::Values(v) => {
                        for k in 0..n_out {
                            y[k] = v[idx * n_out + k].to_f64();
                        }
                        Target::Values(&y)
                    }
                    Targets::Classes(c) => Target::Class(c[idx] as usize),
                };
                total += m * loss.eval(&z, target, &mut dz);
                if backward {
                    for (k, &row) in plan.output_rows.iter().enumerate() {
                        deltas[g.at(t, row) + b] += T::from_f64(scale * m * dz[k]);
                    }
                }
            }
        }
        total
    }
}

/// Copies the input rows' deltas into `(samples, steps, n_inputs)`.
pub(crate) fn write_input_grads<T: Real>(plan: &Plan, steps: usize, g: Geometry, deltas: &[T], out: &mut [T]) {
    let n_in = plan.n_inputs;
    for t in 0..steps {
        // (sample b, feature f): deltas[row f][b] -> out[b][t][f]
        let rows = Strided { offset: g.at(t, 0), row_stride: 1, col_stride: g.width };
        let user = Strided { offset: t * n_in, row_stride: steps * n_in, col_stride: 1 };
        transpose::copy(g.width, n_in, deltas, rows, out, user, |o, v| *o = v);
    }
}

/// Fails naming the first NaN or infinite value and its position.
pub fn check_finite<T: Real>(what: &str, data: &[T], shape: &[usize]) -> Result<()> {
    // Blocks without an early exit inside vectorise; the position is only
    // looked for once a block has a bad value.
    if data.chunks(256).all(|block| block.iter().fold(true, |ok, v| ok & v.is_finite())) {
        return Ok(());
    }
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        bail!(
            Value,
            "{what} contain a non-finite value ({:?}) at {}; nervenet rejects NaN and Inf in data",
            data[i],
            position(i, shape)
        );
    }
    Ok(())
}

/// "[b, t, f]" for a flat index into a C-order array of `shape`.
fn position(mut flat: usize, shape: &[usize]) -> String {
    let mut idx = vec![0; shape.len()];
    for (d, &n) in shape.iter().enumerate().rev() {
        idx[d] = flat % n.max(1);
        flat /= n.max(1);
    }
    let parts: Vec<String> = idx.iter().map(|i| i.to_string()).collect();
    format!("index [{}]", parts.join(", "))
}

/// The product of `dims`, or None where it overflows (so a wrapped size
/// never matches a buffer's length).
fn product(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
}
