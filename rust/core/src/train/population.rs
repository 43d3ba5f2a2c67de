//! Scoring many parameter vectors on one data set at once, for
//! gradient-free training (grid and random search, differential evolution,
//! particle swarms, CMA-ES): candidates are spread over the thread pool,
//! each evaluated on one thread, results in candidate order.

use super::Dataset;
use crate::bail;
use crate::error::Result;
use crate::exec::{self, Seed};
use crate::loss::{Loss, Reduction};
use crate::network::Network;
use crate::real::Real;

/// Loss per counted (sample, step) of each candidate; `candidates` holds
/// `k` parameter vectors back to back (k × n_params). A candidate whose
/// outputs overflow scores +inf rather than failing the population.
pub fn evaluate_population<T: Real>(
    net: &Network<T>,
    candidates: &[T],
    data: &Dataset<'_, T>,
    loss: Loss,
) -> Result<Vec<f64>> {
    let n = net.params().len();
    if n == 0 || !candidates.len().is_multiple_of(n) {
        bail!(Shape, "candidates hold {} values, not a whole number of {n}-parameter vectors", candidates.len());
    }
    let seed = Seed::Loss { loss, targets: data.targets, reduction: Reduction::Sum, mask: data.mask };
    data.x.check(net.plan())?;
    seed.check(net.plan(), &data.x)?;
    let count: f64 = match data.mask {
        Some(m) => m.iter().map(|v| v.to_f64()).sum(),
        None => (data.x.batch * data.x.steps) as f64,
    };
    let k = candidates.len() / n;
    let losses = exec::threads_map(k, |c| net.loss_at(&candidates[c * n..(c + 1) * n], &data.x, &seed, false))?;
    losses
        .into_iter()
        .map(|l| l.map(|v| if v.is_finite() { v / count.max(f64::MIN_POSITIVE) } else { f64::INFINITY }))
        .collect()
}
