//! Training: epochs of batch, mini-batch or stochastic gradient descent run
//! entirely in Rust. Each batch: gradient (optionally with clipped node
//! deltas), L1/L2 regularisation, gradient scaling / boosting on the whole
//! gradient's L2 norm, the optimiser step, weight capping — and a check for
//! NaN/Inf on the step it appears, which either fails naming the epoch,
//! batch and parameters, or rolls back to the weights at the start of the
//! epoch and replays it with the learning rate halved.

mod batches;
mod config;
mod metrics;
mod population;

pub use batches::{batch_ranges, epoch_order, Dataset};
pub use config::{NonFinite, Problem, Safeguards, TrainConfig};
pub use metrics::{evaluate, MetricSums, Metrics};
pub use population::evaluate_population;

use crate::bail;
use crate::error::{Error, Result};
use crate::exec::{Dropout, Seed, Sequences, Want};
use crate::loss::{Loss, Reduction};
use crate::network::Network;
use crate::optim::{self, OptimizerState};
use crate::real::Real;
use batches::Batch;
use std::ops::Range;

/// Rollbacks allowed for one epoch before giving up.
pub const MAX_ROLLBACKS: u32 = 10;

/// One epoch's numbers; the loss and metrics are means per counted
/// (sample, step), accumulated over the epoch's batches as they trained.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EpochReport {
    pub epoch: u64,
    pub metrics: Metrics,
    pub learning_rate: f64,
    /// Mean over batches of the loss gradient's L2 norm (before
    /// regularisation, scaling and boosting).
    pub gradient_norm: f64,
    /// ‖Δw‖ / ‖w‖ of the epoch's last batch (the notes suggest ~1e-3).
    pub update_ratio: f64,
    pub batches: usize,
    /// Times the epoch was replayed after a non-finite step.
    pub rollbacks: u32,
}

/// What a per-batch hook sees before (`end = false`, loss and norm NaN)
/// and after (`end = true`) each batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchEvent {
    pub batch: usize,
    pub size: usize,
    pub end: bool,
    /// The batch's loss per counted (sample, step).
    pub loss: f64,
    pub gradient_norm: f64,
}

/// Optimiser state and settings that persist across epochs.
#[derive(Clone, Debug)]
pub struct Trainer<T: Real> {
    pub config: TrainConfig,
    pub state: OptimizerState<T>,
    /// Learning-rate factor left by rollbacks (halved each time) and by
    /// reduce-on-plateau callbacks.
    pub lr_factor: f64,
    /// Ranges of trainable parameters and of trainable weights (for
    /// capping and regularisation), taken from the network's groups at
    /// the start of each epoch.
    trainable: Vec<Range<usize>>,
    weights: Vec<Range<usize>>,
}

impl<T: Real> Trainer<T> {
    pub fn new(config: TrainConfig, n_params: usize) -> Result<Self> {
        config.validate()?;
        let state = OptimizerState::new(&config.optimizer, n_params)?;
        Ok(Trainer { config, state, lr_factor: 1.0, trainable: Vec::new(), weights: Vec::new() })
    }

    /// The learning rate epoch `epoch` trains at.
    pub fn learning_rate(&self, epoch: u64) -> f64 {
        let t = u32::try_from(epoch).unwrap_or(u32::MAX);
        self.config.schedule.learning_rate(self.config.learning_rate, t) * self.lr_factor
    }

    /// Multiplies every later learning rate by `factor` (reduce on plateau).
    pub fn scale_learning_rate(&mut self, factor: f64) -> Result<()> {
        if !(factor.is_finite() && factor > 0.0) {
            bail!(Config, "learning-rate factor must be a positive number, got {factor}");
        }
        self.lr_factor *= factor;
        Ok(())
    }

    /// One epoch over `data`: the scheduled learning rate, annealed
    /// momentum, every batch of the epoch's order.
    pub fn epoch(&mut self, net: &mut Network<T>, data: &Dataset<'_, T>, epoch: u64) -> Result<EpochReport> {
        self.epoch_with_hook(net, data, epoch, &mut |_| Ok(()))
    }

    /// [`Trainer::epoch`], calling `hook` after every batch (for callbacks
    /// that want batch events); an error from the hook stops the epoch.
    pub fn epoch_with_hook(
        &mut self,
        net: &mut Network<T>,
        data: &Dataset<'_, T>,
        epoch: u64,
        hook: &mut dyn FnMut(BatchEvent) -> Result<()>,
    ) -> Result<EpochReport> {
        check_data(net, data, self.config.loss)?;
        self.trainable = net.groups().trainable_spans();
        self.weights = net.groups().weight_spans();
        let t = u32::try_from(epoch).unwrap_or(u32::MAX);
        let mu = self.config.momentum_annealing.as_ref().map(|a| a.mu(t));
        let start_params = net.params().to_vec();
        let start_state = self.state.clone();
        let mut rollbacks = 0;
        loop {
            match self.try_epoch(net, data, epoch, self.learning_rate(epoch), mu, hook) {
                Ok(mut report) => {
                    report.rollbacks = rollbacks;
                    return Ok(report);
                }
                Err(e) => {
                    net.params_mut().copy_from_slice(&start_params);
                    self.state = start_state.clone();
                    let Error::Value(message) = e else { return Err(e) };
                    let kept = "the network keeps the weights from the start of the epoch";
                    match self.config.non_finite {
                        NonFinite::Fail => bail!(Value, "{message}; {kept}"),
                        NonFinite::Rollback if rollbacks == MAX_ROLLBACKS => {
                            bail!(
                                Value,
                                "{message}; gave up after {MAX_ROLLBACKS} rollbacks halving the learning rate; {kept}"
                            )
                        }
                        NonFinite::Rollback => {}
                    }
                    rollbacks += 1;
                    self.lr_factor *= 0.5;
                }
            }
        }
    }

    fn try_epoch(
        &mut self,
        net: &mut Network<T>,
        data: &Dataset<'_, T>,
        epoch: u64,
        learning_rate: f64,
        mu: Option<f64>,
        hook: &mut dyn FnMut(BatchEvent) -> Result<()>,
    ) -> Result<EpochReport> {
        let n = data.x.batch;
        let order = epoch_order(n, self.config.shuffle, self.config.seed, epoch);
        let ranges = batch_ranges(n, self.config.batch_size);
        let (mut sums, mut norm_sum, mut ratio) = (MetricSums::default(), 0.0, 0.0);
        let steps = data.x.steps;
        let window = self.config.truncate.unwrap_or(steps.max(1));
        let windows: Vec<(usize, usize)> = (0..steps).step_by(window).map(|t| (t, (t + window).min(steps))).collect();
        // (batch of sequences, window): one gradient step each, in time order.
        let work: Vec<(usize, usize)> =
            (0..ranges.len()).flat_map(|r| (0..windows.len()).map(move |w| (r, w))).collect();
        let mut whole = None;
        let mut state: Option<Vec<T>> = None;
        for (b, &(r, w)) in work.iter().enumerate() {
            let range = &ranges[r];
            let last = b + 1 == work.len();
            if w == 0 {
                whole = Some(Batch::gather(data, &order[range.clone()], net.n_outputs()));
                state = None; // every sequence starts from zeros
            }
            let full = whole.as_ref().expect("gathered at the first window");
            let cut;
            let batch = if windows.len() == 1 {
                full
            } else {
                cut = full.window(windows[w].0, windows[w].1, data.x.features, net.n_outputs());
                &cut
            };
            hook(BatchEvent { batch: b, size: batch.size, end: false, loss: f64::NAN, gradient_norm: f64::NAN })?;
            let dropout = (self.config.safeguards.dropout > 0.0).then(|| Dropout {
                rate: self.config.safeguards.dropout,
                seed: batch_seed(self.config.seed, epoch, b),
            });
            // Fractional max pooling draws fresh regions for every batch.
            let pool_seed = batch_seed(self.config.seed, epoch, b) ^ 0x5f0f_a11e;
            let carry = windows.len() > 1 && w + 1 < windows.len();
            let settings = StepSettings { learning_rate, mu, measure_ratio: last, dropout, pool_seed };
            let step = self.step(net, data, batch, settings, state.as_deref(), carry);
            match step {
                Err(Error::Value(m)) => {
                    bail!(
                        Value,
                        "non-finite values at epoch {epoch}, batch {b} (samples {}..{} of the epoch's order): {m}",
                        range.start,
                        range.end
                    )
                }
                Err(e) => return Err(e),
                Ok(mut s) => {
                    state = s.final_state.take();
                    let mut one = MetricSums::default();
                    let targets = batch.targets(&data.targets);
                    one.add(&s.outputs, &targets, batch.mask.as_deref(), net.n_outputs(), s.loss_sum);
                    let loss = if one.count > 0.0 { one.loss / one.count } else { 0.0 };
                    hook(BatchEvent { batch: b, size: batch.size, end: true, loss, gradient_norm: s.gradient_norm })?;
                    sums.merge(&one);
                    norm_sum += s.gradient_norm;
                    ratio = s.update_ratio.unwrap_or(ratio);
                }
            }
        }
        Ok(EpochReport {
            epoch,
            metrics: sums.metrics(matches!(data.targets, crate::exec::Targets::Classes(_)), net.n_outputs()),
            learning_rate,
            gradient_norm: norm_sum / work.len().max(1) as f64,
            update_ratio: ratio,
            batches: work.len(),
            rollbacks: 0,
        })
    }

    /// Gradient, safeguards, optimiser step and checks for one batch.
    fn step(
        &mut self,
        net: &mut Network<T>,
        data: &Dataset<'_, T>,
        batch: &Batch<T>,
        settings: StepSettings,
        state: Option<&[T]>,
        carry: bool,
    ) -> Result<StepReport<T>> {
        let StepSettings { learning_rate, mu, measure_ratio, dropout, pool_seed } = settings;
        let cfg = &self.config;
        // check_data found every value finite before the epoch
        let mut x = Sequences::new(&batch.x, batch.size, batch.steps, data.x.features).known_finite();
        if let Some(s) = state {
            x = x.with_state(s);
        }
        let seed = Seed::Loss {
            loss: cfg.loss,
            targets: batch.targets(&data.targets),
            reduction: cfg.reduction,
            mask: batch.mask.as_deref(),
        };
        let want = Want {
            outputs: true,
            param_grads: true,
            parallel: true,
            clip_deltas: cfg.safeguards.clip_deltas,
            dropout,
            pool_seed,
            final_state: carry,
            ..Want::default()
        };
        let crate::exec::RunOutput { loss, outputs, param_grads, final_state, .. } =
            net.run(net.params(), &x, Some(&seed), want)?;
        let count = match &batch.mask {
            Some(m) => m.iter().map(|v| v.to_f64()).sum(),
            None => (batch.size * batch.steps) as f64,
        };
        let loss_sum = match cfg.reduction {
            Reduction::Sum => loss,
            Reduction::Mean => loss * count,
        };
        let mut grads = param_grads.unwrap_or_default();
        if !loss_sum.is_finite() {
            bail!(Value, "loss is {loss_sum}");
        }
        // The norm is finite exactly when every entry is: one pass for both.
        let gradient_norm = optim::l2_norm(&grads);
        if !gradient_norm.is_finite() {
            non_finite_check(net, &grads, "gradient")?;
        }
        let s = cfg.safeguards;
        if s.l1 > 0.0 || s.l2 > 0.0 {
            optim::regularise(net.params(), &mut grads, &self.weights, s.l1, s.l2)?;
        }
        if let Some(t) = s.gradient_scale {
            optim::scale_gradient(&mut grads, t)?;
        }
        if let Some(t) = s.gradient_boost {
            optim::boost_gradient(&mut grads, t)?;
        }
        let before = measure_ratio.then(|| net.params().to_vec());
        let finite = {
            let params = net.params_mut();
            let finite = self.state.step(&self.config.optimizer, params, &grads, learning_rate, mu)?;
            if let Some((t, scale)) = s.weight_cap {
                optim::cap_weights(params, &self.trainable, t, scale)?;
            }
            finite
        };
        if !finite {
            non_finite_check(net, net.params(), "parameter")?;
        }
        let update_ratio = match before {
            Some(b) => Some(optim::update_ratio(&b, net.params())?),
            None => None,
        };
        net.recycle(grads);
        Ok(StepReport { loss_sum, gradient_norm, update_ratio, outputs: outputs.unwrap_or_default(), final_state })
    }
}

/// What varies from batch to batch.
#[derive(Clone, Copy)]
struct StepSettings {
    learning_rate: f64,
    mu: Option<f64>,
    /// Measure the update/weight ratio (costs a copy of the parameters).
    measure_ratio: bool,
    dropout: Option<Dropout>,
    pool_seed: u64,
}

/// The dropout seed of one batch: a function of (seed, epoch, batch), so a
/// resumed run draws the same masks.
fn batch_seed(seed: u64, epoch: u64, batch: usize) -> u64 {
    seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ epoch.rotate_left(32)
        ^ (batch as u64).wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
}

struct StepReport<T> {
    loss_sum: f64,
    gradient_norm: f64,
    update_ratio: Option<f64>,
    /// The batch's outputs as it was trained on (for the epoch's metrics).
    outputs: Vec<T>,
    /// The state after the batch's last step, when the next window continues.
    final_state: Option<Vec<T>>,
}

/// Fails naming (up to five of) the parameters whose values are not finite.
fn non_finite_check<T: Real>(net: &Network<T>, values: &[T], what: &str) -> Result<()> {
    let bad: Vec<usize> = values.iter().enumerate().filter(|(_, v)| !v.is_finite()).map(|(i, _)| i).collect();
    if !bad.is_empty() {
        let more = if bad.len() > 5 { format!(" and {} more", bad.len() - 5) } else { String::new() };
        let names: Vec<String> = bad.iter().take(5).map(|&i| net.param_name(i)).collect();
        bail!(Value, "{what} of {}{more} is NaN or infinite", names.join(", "));
    }
    Ok(())
}

/// Shapes and values of the whole set, checked once before an epoch.
fn check_data<T: Real>(net: &Network<T>, data: &Dataset<'_, T>, loss: Loss) -> Result<()> {
    if data.x.batch == 0 {
        bail!(Shape, "the training set is empty");
    }
    let seed = Seed::Loss { loss, targets: data.targets, reduction: Reduction::Sum, mask: data.mask };
    data.x.check(net.plan())?;
    seed.check(net.plan(), &data.x)
}
