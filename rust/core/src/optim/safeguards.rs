//! Safeguards around an update (Lecture 6, "Gradient Clipping, Scaling and
//! Gradient Boosting"; Lecture 4, "Ratios of Weights to Updates"): weight
//! capping, gradient scaling and boosting by the L2 norm of the whole
//! gradient, L1/L2 regularisation of the weights' gradients, and the
//! update/weight ratio. Pure functions on flat slices in the plan's parameter
//! layout; norms accumulate in f64 in a fixed order (8 lanes by index mod 8,
//! then summed lane by lane), so results never depend on threads.

use crate::bail;
use crate::error::Result;
use crate::real::Real;
use std::ops::Range;

fn check_len(what: &str, a: usize, b: usize) -> Result<()> {
    if a != b {
        bail!(Shape, "{what}: {a} parameters but {b} entries");
    }
    Ok(())
}

/// Checks that every span lies inside `n` parameters.
fn check_spans(what: &str, n: usize, spans: &[Range<usize>]) -> Result<()> {
    if let Some(r) = spans.iter().find(|r| r.start > r.end || r.end > n) {
        bail!(Shape, "{what}: span {r:?} is outside the {n} parameters");
    }
    Ok(())
}

fn check_threshold(what: &str, t: f64) -> Result<()> {
    if !(t > 0.0 && t.is_finite()) {
        bail!(Config, "{what} threshold = {t} must be positive and finite");
    }
    Ok(())
}

/// The notes' weight capping, applied after the update to trainable
/// parameters only (the ranges `trainable`, from
/// `ParamGroups::trainable_spans`):
/// `w = −s·t if w < −t;  s·t if w > t;  w otherwise`,
/// with threshold t > 0 and scale s in (0, 1] ("setting it to 0.9 ·
/// threshold ... gives the weight the ability to move a bit after being
/// capped"). NaN weights are left as they are.
pub fn cap_weights<T: Real>(params: &mut [T], trainable: &[Range<usize>], threshold: f64, scale: f64) -> Result<()> {
    check_spans("cap_weights", params.len(), trainable)?;
    check_threshold("weight capping", threshold)?;
    if !(scale > 0.0 && scale <= 1.0) {
        bail!(Config, "weight capping scale = {scale} must be in (0, 1]");
    }
    let (t, cap) = (T::from_f64(threshold), T::from_f64(scale * threshold));
    for r in trainable {
        for w in &mut params[r.clone()] {
            if *w < -t {
                *w = -cap;
            } else if *w > t {
                *w = cap;
            }
        }
    }
    Ok(())
}

/// Σ at(i)² over i < n, in f64, 8 lanes by index mod 8 summed in order.
fn sum_squares(n: usize, at: impl Fn(usize) -> f64) -> f64 {
    let mut acc = [0.0f64; 8];
    for i in 0..n {
        let v = at(i);
        acc[i % 8] += v * v;
    }
    acc.iter().sum()
}

/// √Σ at(i)², rescaled by the largest magnitude when the plain sum overflows.
fn norm_of(n: usize, at: impl Fn(usize) -> f64) -> f64 {
    let s = sum_squares(n, &at);
    if s.is_finite() {
        return s.sqrt();
    }
    let m = (0..n).fold(0.0f64, |m, i| m.max(at(i).abs()));
    if !m.is_finite() {
        return s.sqrt(); // an entry is ±∞ or NaN: ∞ or NaN
    }
    m * sum_squares(n, |i| at(i) / m).sqrt()
}

/// Values per piece of the norm's sum: each piece sums its squares in 8
/// f64 lanes (by index mod 8), and the pieces' lanes are added in piece
/// order — the same on one thread or many.
const NORM_PIECE: usize = 1 << 15;
/// From this many values the pieces are summed on the pool.
const NORM_PARALLEL_MIN: usize = 1 << 21;

/// The L2 norm of the whole vector, `L2(g) = √Σ g_i²`, accumulated in f64 in
/// a fixed order (pieces of [`NORM_PIECE`] values, in parallel for large
/// vectors, combined in order). ∞ or NaN if an entry is.
pub fn l2_norm<T: Real>(grads: &[T]) -> f64 {
    let pieces: Vec<&[T]> = grads.chunks(NORM_PIECE).collect();
    let sums = crate::exec::threads_map_if(
        pieces.len(),
        grads.len() >= crate::exec::parallel_threshold(NORM_PARALLEL_MIN),
        |k| {
            crate::kernels::vector::simd(|| {
                let mut acc = [0.0f64; 8];
                let chunks = pieces[k].chunks_exact(8);
                let rest = chunks.remainder();
                for c in chunks {
                    for i in 0..8 {
                        let v = c[i].to_f64();
                        acc[i] += v * v;
                    }
                }
                for (i, &g) in rest.iter().enumerate() {
                    let v = g.to_f64();
                    acc[i] += v * v;
                }
                acc
            })
        },
    );
    let s = match sums {
        Ok(sums) => {
            let mut lanes = [0.0f64; 8];
            for piece in sums {
                for (l, v) in lanes.iter_mut().zip(piece) {
                    *l += v;
                }
            }
            lanes.iter().sum::<f64>()
        }
        Err(_) => f64::NAN, // no pool: fall back below
    };
    if s.is_finite() {
        return s.sqrt();
    }
    norm_of(grads.len(), |i| grads[i].to_f64())
}

/// Multiplies every entry by `factor` (in f64, one rounding).
fn rescale<T: Real>(grads: &mut [T], factor: f64) {
    for g in grads.iter_mut() {
        *g = T::from_f64(g.to_f64() * factor);
    }
}

/// Gradient scaling: `g_i = g_i · t / L2(g), if L2(g) > t`, with L2 the norm
/// of the entire gradient vector (the notes and Pascanu et al. suggest
/// t = 1.0). Returns L2(g) before scaling. A non-finite norm leaves the
/// gradient unchanged (and is returned, for the caller to act on).
pub fn scale_gradient<T: Real>(grads: &mut [T], threshold: f64) -> Result<f64> {
    check_threshold("gradient scaling", threshold)?;
    let norm = l2_norm(grads);
    if norm.is_finite() && norm > threshold {
        rescale(grads, threshold / norm);
    }
    Ok(norm)
}

/// Gradient boosting: `g_i = g_i · t / L2(g), if L2(g) < t` (the notes use
/// t = 0.05), against vanishing gradients. A zero gradient stays zero
/// (0 < L2(g) is required). Returns L2(g) before boosting.
pub fn boost_gradient<T: Real>(grads: &mut [T], threshold: f64) -> Result<f64> {
    check_threshold("gradient boosting", threshold)?;
    let norm = l2_norm(grads);
    if norm > 0.0 && norm < threshold {
        rescale(grads, threshold / norm);
    }
    Ok(norm)
}

/// Adds the gradient of L1/L2 weight penalties to `grads`, for the entries
/// in `weights` (trainable weights, from `ParamGroups::weight_spans`; biases
/// and fixed parameters are not regularised):
/// `g_i += l1 · sign(w_i) + l2 · w_i`.
/// Conventions: the L2 penalty is (l2/2)·Σw², whose gradient is l2·w; the L1
/// penalty is l1·Σ|w|, with d|w|/dw = sign(w) and 0 at w = 0 (the notes' convention for |x|).
pub fn regularise<T: Real>(params: &[T], grads: &mut [T], weights: &[Range<usize>], l1: f64, l2: f64) -> Result<()> {
    check_len("regularise gradients", params.len(), grads.len())?;
    check_spans("regularise", params.len(), weights)?;
    for (name, c) in [("l1", l1), ("l2", l2)] {
        if !(c >= 0.0 && c.is_finite()) {
            bail!(Config, "regularisation {name} = {c} must be non-negative and finite");
        }
    }
    if l1 == 0.0 && l2 == 0.0 {
        return Ok(());
    }
    let (a, b) = (T::from_f64(l1), T::from_f64(l2));
    for i in weights.iter().flat_map(|r| r.clone()) {
        let w = params[i];
        let sign = if w > T::ZERO {
            T::ONE
        } else if w < T::ZERO {
            -T::ONE
        } else {
            T::ZERO
        };
        grads[i] += a * sign + b * w;
    }
    Ok(())
}

fn check_ratio_len(before: usize, after: usize) -> Result<()> {
    if before != after {
        bail!(Shape, "update ratio: {before} parameters before the update, {after} after");
    }
    Ok(())
}

/// ‖Δw‖ / ‖w‖ when both are 0 is 0; with ‖w‖ = 0 and Δw ≠ 0 it is ∞.
fn ratio(update: f64, param: f64) -> f64 {
    if update == 0.0 && param == 0.0 {
        0.0
    } else {
        update / param
    }
}

/// The update/weight ratio of Lecture 4 ("Ratios of Weights to Updates"):
/// `ratio = updateScale / paramScale = ‖w_after − w_before‖₂ / ‖w_before‖₂`
/// (for vanilla SGD the update is −learningRate·gradient, as in the notes'
/// pseudo-code; here it is whatever the optimiser did). The notes recommend
/// watching it: "a good ratio is ~1e-3"; lower suggests a learning rate that
/// is too low, higher one that is too high. The notes' pseudo-code remarks
/// "usually L1 norm" for paramScale; this uses L2 for both norms (see
/// [`update_ratio_l1`] for L1). Differences are taken in f64.
pub fn update_ratio<T: Real>(params_before: &[T], params_after: &[T]) -> Result<f64> {
    check_ratio_len(params_before.len(), params_after.len())?;
    let n = params_before.len();
    let delta = norm_of(n, |i| params_after[i].to_f64() - params_before[i].to_f64());
    Ok(ratio(delta, l2_norm(params_before)))
}

/// [`update_ratio`] with L1 norms: `Σ|w_after − w_before| / Σ|w_before|`.
pub fn update_ratio_l1<T: Real>(params_before: &[T], params_after: &[T]) -> Result<f64> {
    check_ratio_len(params_before.len(), params_after.len())?;
    let (mut d, mut w) = (0.0f64, 0.0f64);
    for (&a, &b) in params_before.iter().zip(params_after) {
        d += (b.to_f64() - a.to_f64()).abs();
        w += a.to_f64().abs();
    }
    Ok(ratio(d, w))
}

#[cfg(test)]
mod tests;
