//! The parameter-update rules of the notes (Lecture 4, "Training Tricks"):
//! vanilla, momentum, Nesterov momentum (reformulated), Adagrad, RMSprop and
//! Adam with and without bias correction, each applied to the flat parameter
//! buffer as one vector loop. Optimiser state (velocity, cache, m, v) uses the
//! same flat layout as the parameters and gradients.
//!
//! Invariant: an index whose gradient has been zero at every step so far
//! (a fixed parameter, or one unreached by the loss) is left bit-identical by
//! every optimiser. Its state stays exactly +0, so its update is exactly 0,
//! and a zero update is never applied (adding +0 would turn a weight of −0.0
//! into +0.0).

use crate::bail;
use crate::error::Result;
use crate::kernels::vector::simd;
use crate::real::Real;

/// Momentum's μ when none is given ("typically 0.9").
pub const DEFAULT_MU: f64 = 0.9;
/// ε of Adagrad, RMSprop and Adam (the notes recommend 1e-8 for Adam; Adagrad's
/// "typically small (1e-4 to 1e-8)").
pub const DEFAULT_EPS: f64 = 1e-8;
/// RMSprop's decay rate.
pub const DEFAULT_DECAY: f64 = 0.99;
/// Adam's β1 ("recommended ... β1 = 0.9").
pub const DEFAULT_BETA1: f64 = 0.9;
/// Adam's β2 ("recommended ... β2 = 0.999").
pub const DEFAULT_BETA2: f64 = 0.999;

/// An update rule and its hyperparameters (the learning rate is passed to
/// each [`OptimizerState::step`], so that a schedule can change it).
#[derive(Clone, Copy, Debug, PartialEq, Default, serde::Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum Optimizer {
    /// `weights -= learningRate * gradient`
    #[default]
    Vanilla,
    /// `velocity = mu * velocityPrev - learningRate * gradient; weights += velocity`
    Momentum { mu: f64 },
    /// The notes' reformulated Nesterov update:
    /// `velocityPrev = velocity; velocity = mu * velocity - learningRate * gradient;`
    /// `weights += (-mu * velocityPrev) + ((1 + mu) * velocity)`
    Nesterov { mu: f64 },
    /// `cache[i] += gradient[i]^2;`
    /// `weight[i] -= (learningRate / (sqrt(cache[i]) + eps)) * gradient[i]`
    Adagrad { eps: f64 },
    /// `cache[i] = decayRate * cache[i] + (1 - decayRate) * gradient[i]^2;`
    /// `weight[i] -= (learningRate / (sqrt(cache[i]) + eps)) * gradient[i]`
    #[serde(rename = "rmsprop")]
    RmsProp { decay: f64, eps: f64 },
    /// `m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;` then without bias correction
    /// `w −= lr·m / (√v + ε)`, with it `mt = m/(1−β1^t), vt = v/(1−β2^t),`
    /// `w −= lr·mt / (√vt + ε)` (t = 1 for the first update).
    Adam { beta1: f64, beta2: f64, eps: f64, bias_correction: bool },
}

impl Optimizer {
    /// Momentum with μ = 0.9.
    pub fn momentum() -> Self {
        Optimizer::Momentum { mu: DEFAULT_MU }
    }

    /// Nesterov momentum with μ = 0.9.
    pub fn nesterov() -> Self {
        Optimizer::Nesterov { mu: DEFAULT_MU }
    }

    /// Adagrad with ε = 1e-8.
    pub fn adagrad() -> Self {
        Optimizer::Adagrad { eps: DEFAULT_EPS }
    }

    /// RMSprop with decay 0.99 and ε = 1e-8.
    pub fn rmsprop() -> Self {
        Optimizer::RmsProp { decay: DEFAULT_DECAY, eps: DEFAULT_EPS }
    }

    /// Adam with the notes' recommended β1 = 0.9, β2 = 0.999, ε = 1e-8, and
    /// bias correction ("the full adam update").
    pub fn adam() -> Self {
        Optimizer::Adam { beta1: DEFAULT_BETA1, beta2: DEFAULT_BETA2, eps: DEFAULT_EPS, bias_correction: true }
    }

    /// Lower-case name: vanilla, momentum, nesterov, adagrad, rmsprop, adam.
    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Vanilla => "vanilla",
            Optimizer::Momentum { .. } => "momentum",
            Optimizer::Nesterov { .. } => "nesterov",
            Optimizer::Adagrad { .. } => "adagrad",
            Optimizer::RmsProp { .. } => "rmsprop",
            Optimizer::Adam { .. } => "adam",
        }
    }

    /// Names of the per-parameter state buffers this optimiser keeps.
    pub fn buffer_names(&self) -> &'static [&'static str] {
        match self {
            Optimizer::Vanilla => &[],
            Optimizer::Momentum { .. } | Optimizer::Nesterov { .. } => &["velocity"],
            Optimizer::Adagrad { .. } | Optimizer::RmsProp { .. } => &["cache"],
            Optimizer::Adam { .. } => &["m", "v"],
        }
    }

    /// Checks the hyperparameters: 0 ≤ μ < 1 ("otherwise your gradients will
    /// explode"), ε > 0 and finite, RMSprop's decay and Adam's β1, β2 in [0, 1).
    pub fn validate(&self) -> Result<()> {
        match *self {
            Optimizer::Vanilla => Ok(()),
            Optimizer::Momentum { mu } | Optimizer::Nesterov { mu } => check_mu(mu, "optimizer.mu"),
            Optimizer::Adagrad { eps } => check_eps(eps),
            Optimizer::RmsProp { decay, eps } => {
                check_unit(decay, "optimizer.decay")?;
                check_eps(eps)
            }
            Optimizer::Adam { beta1, beta2, eps, .. } => {
                check_unit(beta1, "optimizer.beta1")?;
                check_unit(beta2, "optimizer.beta2")?;
                check_eps(eps)
            }
        }
    }
}

/// `key` names the value in the training configuration.
pub(super) fn check_mu(mu: f64, key: &str) -> Result<()> {
    if !(0.0..1.0).contains(&mu) {
        bail!(Config, "{key} must satisfy 0 <= mu < 1 (otherwise your gradients will explode), got {mu}");
    }
    Ok(())
}

fn check_eps(eps: f64) -> Result<()> {
    if !(eps > 0.0 && eps.is_finite()) {
        bail!(Config, "optimizer.eps must be a positive finite number, got {eps}");
    }
    Ok(())
}

fn check_unit(x: f64, key: &str) -> Result<()> {
    if !(0.0..1.0).contains(&x) {
        bail!(Config, "{key} must be in [0, 1), got {x}");
    }
    Ok(())
}

/// Per-parameter optimiser state in the flat parameter layout, plus the
/// number of updates applied so far.
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerState<T> {
    kind: &'static str,
    names: &'static [&'static str],
    /// velocity (momentum, Nesterov), cache (Adagrad, RMSprop) or m (Adam).
    first: Vec<T>,
    /// v (Adam); empty otherwise.
    second: Vec<T>,
    n: usize,
    steps: u64,
}

impl<T: Real> OptimizerState<T> {
    /// Zeroed state for `n_params` parameters (velocity, cache, m and v all
    /// start at 0, as in the notes) and a step count of 0.
    pub fn new(optimizer: &Optimizer, n_params: usize) -> Result<Self> {
        optimizer.validate()?;
        let names = optimizer.buffer_names();
        let len = |k: usize| if names.len() > k { n_params } else { 0 };
        Ok(OptimizerState {
            kind: optimizer.name(),
            names,
            // As large as the network: checked and fallible (`limits`).
            first: crate::limits::try_vec("the optimiser's state", len(0), T::ZERO)?,
            second: crate::limits::try_vec("the optimiser's state", len(1), T::ZERO)?,
            n: n_params,
            steps: 0,
        })
    }

    /// Number of parameters the state is laid out for.
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The optimiser ([`Optimizer::name`]) this state belongs to.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// Updates applied so far. Update number k (1-based) uses t = k in Adam's
    /// bias correction, so the first update has t = 1.
    pub fn step_count(&self) -> u64 {
        self.steps
    }

    /// Restores the step count (from a checkpoint).
    pub fn set_step_count(&mut self, steps: u64) {
        self.steps = steps;
    }

    /// The state buffers by name ("velocity", "cache", "m", "v"), for saving.
    pub fn buffers(&self) -> Vec<(&'static str, &[T])> {
        let bufs = [&self.first[..], &self.second[..]];
        self.names.iter().zip(bufs).map(|(&n, b)| (n, b)).collect()
    }

    /// Overwrites one state buffer (restoring a checkpoint exactly).
    pub fn set_buffer(&mut self, name: &str, values: &[T]) -> Result<()> {
        let Some(k) = self.names.iter().position(|&n| n == name) else {
            bail!(Config, "{} optimizer state has no buffer '{name}' (it has: {})", self.kind, self.names.join(", "));
        };
        if values.len() != self.n {
            bail!(Shape, "optimizer buffer '{name}' has {} values, expected {}", values.len(), self.n);
        }
        let buf = if k == 0 { &mut self.first } else { &mut self.second };
        buf.copy_from_slice(values);
        Ok(())
    }

    /// Applies one update of `opt` to `params` given `grads`, then counts the
    /// step. `mu_override` replaces μ of momentum and Nesterov (an annealed μ,
    /// see `MomentumAnnealing`); other optimisers ignore it. Errors: invalid
    /// hyperparameters or learning rate (`Config`), a state made for another
    /// optimiser (`Config`), slices of the wrong length (`Shape`). Returns
    /// whether every updated parameter is finite (checked in the same pass).
    pub fn step(
        &mut self,
        opt: &Optimizer,
        params: &mut [T],
        grads: &[T],
        learning_rate: f64,
        mu_override: Option<f64>,
    ) -> Result<bool> {
        opt.validate()?;
        if !(learning_rate >= 0.0 && learning_rate.is_finite()) {
            bail!(Config, "learning_rate = {learning_rate} must be non-negative and finite");
        }
        if let Some(mu) = mu_override {
            check_mu(mu, "mu_override")?;
        }
        if opt.name() != self.kind {
            bail!(Config, "optimizer state was created for {}, not {}", self.kind, opt.name());
        }
        if params.len() != self.n || grads.len() != self.n {
            bail!(
                Shape,
                "optimizer step: {} parameters and {} gradients, expected {}",
                params.len(),
                grads.len(),
                self.n
            );
        }
        let t = self.steps.saturating_add(1);
        let lr = T::from_f64(learning_rate);
        let (first, second) = (&mut self.first, &mut self.second);
        let finite = match *opt {
            Optimizer::Vanilla => chunked(params, grads, first, second, |w, g, _, _| vanilla(w, g, lr))?,
            Optimizer::Momentum { mu } => {
                let mu = T::from_f64(mu_override.unwrap_or(mu));
                chunked(params, grads, first, second, |w, g, vel, _| momentum(w, g, vel, lr, mu))?
            }
            Optimizer::Nesterov { mu } => {
                let mu = mu_override.unwrap_or(mu);
                let (mu, mu1) = (T::from_f64(mu), T::from_f64(1.0 + mu));
                chunked(params, grads, first, second, |w, g, vel, _| nesterov(w, g, vel, lr, mu, mu1))?
            }
            Optimizer::Adagrad { eps } => {
                let eps = eps_in::<T>(eps, lr)?;
                chunked(params, grads, first, second, |w, g, cache, _| adagrad(w, g, cache, lr, eps))?
            }
            Optimizer::RmsProp { decay, eps } => {
                let eps = eps_in::<T>(eps, lr)?;
                let (d, d1) = (T::from_f64(decay), T::from_f64(1.0 - decay));
                chunked(params, grads, first, second, |w, g, cache, _| rmsprop(w, g, cache, lr, d, d1, eps))?
            }
            Optimizer::Adam { beta1, beta2, eps, bias_correction } => {
                let c = AdamCoef {
                    lr,
                    eps: eps_in::<T>(eps, lr)?,
                    b1: T::from_f64(beta1),
                    b1c: T::from_f64(1.0 - beta1),
                    b2: T::from_f64(beta2),
                    b2c: T::from_f64(1.0 - beta2),
                    // 1 − β^t, in f64 (t ≥ 1 and β < 1, so both are > 0).
                    corr: bias_correction.then(|| (T::from_f64(1.0 - pow(beta1, t)), T::from_f64(1.0 - pow(beta2, t)))),
                };
                chunked(params, grads, first, second, |w, g, m, v| adam(w, g, m, v, &c))?
            }
        };
        self.steps = t;
        Ok(finite)
    }
}

/// Elements per chunk of an update; updates are element-wise, so chunks
/// run on any thread with bitwise the same result.
const CHUNK: usize = 1 << 15;
/// Below this many parameters an update stays on the calling thread: waking
/// the pool costs more than the second core's bandwidth saves (measured: a
/// 670k-parameter SGD step, 0.32 ms on one thread, 0.44 ms on two).
const PARALLEL_MIN: usize = 1 << 21;

/// Runs `update` over matching chunks of the parameters, gradients and the
/// (possibly empty) state buffers, in parallel for large vectors — an
/// update is memory-bound, and one core's bandwidth is the limit. Each
/// chunk's parameters are checked for NaN/Inf right after its update,
/// while they are in cache: true when all are finite.
fn chunked<T: Real>(
    w: &mut [T],
    g: &[T],
    a: &mut [T],
    b: &mut [T],
    update: impl Fn(&mut [T], &[T], &mut [T], &mut [T]) + Sync + Send,
) -> Result<bool> {
    let w_len = w.len();
    let mut jobs = Vec::with_capacity(w_len.div_ceil(CHUNK));
    let (mut w, mut g, mut a, mut b) = (w, g, a, b);
    while !w.is_empty() {
        let k = CHUNK.min(w.len());
        let (w0, w1) = w.split_at_mut(k);
        let (g0, g1) = g.split_at(k);
        let (a0, a1) = a.split_at_mut(if a.is_empty() { 0 } else { k });
        let (b0, b1) = b.split_at_mut(if b.is_empty() { 0 } else { k });
        jobs.push((w0, g0, a0, b0, true));
        (w, g, a, b) = (w1, g1, a1, b1);
    }
    let parallel = w_len >= crate::exec::parallel_threshold(PARALLEL_MIN);
    crate::exec::for_each_mut(&mut jobs, parallel, |(w, g, a, b, finite)| {
        *finite = simd(|| {
            update(w, g, a, b);
            all_finite_inline(w)
        })
    })?;
    Ok(jobs.iter().all(|j| j.4))
}

/// Whether every value is finite, as one vectorisable pass (no early exit:
/// the bad case is the rare one).
#[inline(always)]
fn all_finite_inline<T: Real>(xs: &[T]) -> bool {
    let mut bad = 0u32;
    for x in xs {
        bad |= (!x.is_finite()) as u32;
    }
    bad == 0
}

/// θ ← θ − lr·g in place unless some result would be NaN or infinite: then
/// nothing changes and the first such index is returned. The check is a
/// separate read-only pass, so a refused step leaves θ bit-identical.
pub fn descend<T: Real>(params: &mut [T], grads: &[T], lr: T) -> Result<Option<usize>> {
    if params.len() != grads.len() {
        bail!(Shape, "gradient descent: {} parameters and {} gradients", params.len(), grads.len());
    }
    let pieces: Vec<(&[T], &[T])> = params.chunks(CHUNK).zip(grads.chunks(CHUNK)).collect();
    let ok = crate::exec::threads_map_if(
        pieces.len(),
        params.len() >= crate::exec::parallel_threshold(PARALLEL_MIN),
        |k| {
            let (w, g) = pieces[k];
            simd(|| {
                let mut bad = 0u32;
                for (&w, &g) in w.iter().zip(g) {
                    bad |= (!(w - lr * g).is_finite()) as u32;
                }
                bad == 0
            })
        },
    )?;
    if ok.iter().any(|&ok| !ok) {
        return Ok(params.iter().zip(grads).position(|(&w, &g)| !(w - lr * g).is_finite()));
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    chunked(params, grads, &mut a, &mut b, |w, g, _, _| {
        for (w, &g) in w.iter_mut().zip(g) {
            *w = *w - lr * g;
        }
    })?;
    Ok(None)
}

/// β^t for t ≥ 1 (β in [0, 1)).
fn pow(beta: f64, t: u64) -> f64 {
    beta.powf(t as f64)
}

/// ε in the working precision; rejects an ε that rounds to 0 or makes
/// lr / ε overflow there (which would turn a zero gradient's update into NaN).
fn eps_in<T: Real>(eps: f64, lr: T) -> Result<T> {
    let e = T::from_f64(eps);
    if !(e > T::ZERO && (lr / e).is_finite()) {
        bail!(Config, "optimizer eps = {eps} is too small for {} (learning_rate / eps overflows)", T::NAME);
    }
    Ok(e)
}

/// `w += delta`, leaving w bit-identical when delta is ±0.
#[inline(always)]
fn add<T: Real>(w: &mut T, delta: T) {
    *w = if delta != T::ZERO { *w + delta } else { *w };
}

/// `w -= delta`, leaving w bit-identical when delta is ±0.
#[inline(always)]
fn sub<T: Real>(w: &mut T, delta: T) {
    *w = if delta != T::ZERO { *w - delta } else { *w };
}

#[inline(always)]
fn sqrt<T: Real>(x: T) -> T {
    Real::sqrt(x)
}

#[inline(always)]
fn vanilla<T: Real>(w: &mut [T], g: &[T], lr: T) {
    for (w, &g) in w.iter_mut().zip(g) {
        sub(w, lr * g);
    }
}

#[inline(always)]
fn momentum<T: Real>(w: &mut [T], g: &[T], vel: &mut [T], lr: T, mu: T) {
    for ((w, &g), v) in w.iter_mut().zip(g).zip(vel) {
        *v = mu * *v - lr * g;
        add(w, *v);
    }
}

#[inline(always)]
fn nesterov<T: Real>(w: &mut [T], g: &[T], vel: &mut [T], lr: T, mu: T, one_plus_mu: T) {
    for ((w, &g), v) in w.iter_mut().zip(g).zip(vel) {
        let prev = *v;
        *v = mu * *v - lr * g;
        add(w, (-mu * prev) + (one_plus_mu * *v));
    }
}

#[inline(always)]
fn adagrad<T: Real>(w: &mut [T], g: &[T], cache: &mut [T], lr: T, eps: T) {
    for ((w, &g), c) in w.iter_mut().zip(g).zip(cache) {
        *c += g * g;
        sub(w, (lr / (sqrt(*c) + eps)) * g);
    }
}

#[inline(always)]
fn rmsprop<T: Real>(w: &mut [T], g: &[T], cache: &mut [T], lr: T, decay: T, one_minus_decay: T, eps: T) {
    for ((w, &g), c) in w.iter_mut().zip(g).zip(cache) {
        *c = decay * *c + one_minus_decay * (g * g);
        sub(w, (lr / (sqrt(*c) + eps)) * g);
    }
}

struct AdamCoef<T> {
    lr: T,
    eps: T,
    b1: T,
    /// 1 − β1
    b1c: T,
    b2: T,
    /// 1 − β2
    b2c: T,
    /// (1 − β1^t, 1 − β2^t) with bias correction.
    corr: Option<(T, T)>,
}

#[inline(always)]
fn adam<T: Real>(w: &mut [T], g: &[T], m: &mut [T], v: &mut [T], c: &AdamCoef<T>) {
    let it = w.iter_mut().zip(g).zip(m.iter_mut().zip(v.iter_mut()));
    match c.corr {
        None => {
            for ((w, &g), (m, v)) in it {
                *m = c.b1 * *m + c.b1c * g;
                *v = c.b2 * *v + c.b2c * (g * g);
                sub(w, c.lr * *m / (sqrt(*v) + c.eps));
            }
        }
        Some((c1, c2)) => {
            for ((w, &g), (m, v)) in it {
                *m = c.b1 * *m + c.b1c * g;
                *v = c.b2 * *v + c.b2c * (g * g);
                let (mt, vt) = (*m / c1, *v / c2);
                sub(w, c.lr * mt / (sqrt(vt) + c.eps));
            }
        }
    }
}

#[cfg(test)]
mod tests;
