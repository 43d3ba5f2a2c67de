//! Weight initialisers (lecture 4 and 6 of the notes) and the seeded RNG.
//! Weights are drawn from one ChaCha8 stream in edge-id order (not the
//! plan's layout order), one draw per weight whether or not the graph
//! presets it, so a seed gives the same values to the same edges whatever
//! blocks the plan chose.

use crate::bail;
use crate::error::Result;
use crate::plan::{GroupKind, ParamGroup, ParamGroups};
use crate::real::Real;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WeightInit {
    /// All zeros (every hidden node then computes the same thing).
    Zeros,
    /// 0.01 · N(0, 1)
    Small,
    /// N(0, 1) / √fan_in
    FanIn,
    /// U[−√6/√(fan_in + fan_out), +√6/√(fan_in + fan_out)] (Glorot's normalised initialisation)
    Xavier,
    /// N(0, 1) · √2 / √fan_in (He et al.)
    Kaiming,
    /// U[−1, 1] / √fan_in
    Uniform,
}

impl WeightInit {
    pub fn parse(name: &str) -> Result<WeightInit> {
        Ok(match name {
            "zeros" => WeightInit::Zeros,
            "small" => WeightInit::Small,
            "fan_in" => WeightInit::FanIn,
            "xavier" => WeightInit::Xavier,
            "kaiming" => WeightInit::Kaiming,
            "uniform" => WeightInit::Uniform,
            _ => bail!(Config, "unknown init {name:?}; expected one of zeros, small, fan_in, xavier, kaiming, uniform"),
        })
    }
}

/// How to fill a new network's parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Init {
    pub weights: WeightInit,
    /// Every bias starts at this constant (0 unless asked otherwise).
    pub bias: f64,
}

impl Default for Init {
    fn default() -> Self {
        Init { weights: WeightInit::Xavier, bias: 0.0 }
    }
}

impl Init {
    pub fn validate(&self) -> Result<()> {
        if !self.bias.is_finite() {
            bail!(Config, "bias_init must be finite, got {}", self.bias);
        }
        Ok(())
    }
}

/// Initial values of every group, in the network's type; presets from the
/// graph win. The buffer is checked against the memory budget and
/// allocated fallibly (`limits`): a network too large for memory is an
/// error naming the bytes it needs, not an abort.
pub fn initial_values<T: Real>(groups: &ParamGroups, init: &Init, seed: u64) -> Result<Vec<T>> {
    let n = groups.n_params();
    let mut values = crate::limits::try_vec(format_args!("the network's {n} parameters"), n, T::from_f64(init.bias))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Edge weights first (by edge id), then cells' own weights (by node id),
    // so the draws do not depend on the plan's layout.
    let mut drawn: Vec<((u8, u32), &ParamGroup)> = groups
        .iter()
        .filter_map(|g| match g.kind {
            GroupKind::Edge(e) => Some(((0, e.0), g)),
            GroupKind::Cell(node, _) => Some(((1, node.0), g)),
            GroupKind::Bias(_) | GroupKind::GateBias(..) => None,
        })
        .collect();
    drawn.sort_unstable_by_key(|&(key, _)| key);
    for (_, g) in drawn {
        let cell = matches!(g.kind, GroupKind::Cell(..));
        for k in (0..g.params.len()).filter(|&k| g.is_weight(k)) {
            let v = if cell {
                draw_cell(init.weights, &mut rng)
            } else {
                draw(init.weights, g.fan_in, g.fan_out, &mut rng)
            };
            values[g.params.start + k] = T::from_f64(v);
        }
    }
    for g in groups.iter() {
        match g.kind {
            GroupKind::Cell(..) | GroupKind::GateBias(..) => {
                for k in 0..g.params.len() {
                    if let Some(preset) = g.preset_at(k) {
                        values[g.params.start + k] = T::from_f64(preset);
                    }
                }
            }
            _ => {
                if let Some(preset) = g.preset {
                    values[g.params.clone()].fill(T::from_f64(preset));
                }
            }
        }
    }
    Ok(values)
}

/// A memory cell's own scalar weights multiply one input each (fan 1), so
/// the fan-based schemes would draw them from ~unit ranges; they start in
/// U[−0.5, 0.5] instead (zeros and small keep their meaning).
fn draw_cell(kind: WeightInit, rng: &mut ChaCha8Rng) -> f64 {
    match kind {
        WeightInit::Zeros => 0.0,
        WeightInit::Small => 0.01 * rng.sample::<f64, _>(StandardNormal),
        _ => rng.random_range(-0.5..0.5),
    }
}

fn draw(kind: WeightInit, fan_in: u32, fan_out: u32, rng: &mut ChaCha8Rng) -> f64 {
    let fan_in = f64::from(fan_in.max(1));
    let fan_out = f64::from(fan_out.max(1));
    let normal = |rng: &mut ChaCha8Rng| -> f64 { rng.sample(StandardNormal) };
    let uniform = |rng: &mut ChaCha8Rng| -> f64 { rng.random_range(-1.0..1.0) };
    match kind {
        WeightInit::Zeros => 0.0,
        WeightInit::Small => 0.01 * normal(rng),
        WeightInit::FanIn => normal(rng) / fan_in.sqrt(),
        WeightInit::Xavier => uniform(rng) * 6f64.sqrt() / (fan_in + fan_out).sqrt(),
        WeightInit::Kaiming => normal(rng) * 2f64.sqrt() / fan_in.sqrt(),
        WeightInit::Uniform => uniform(rng) / fan_in.sqrt(),
    }
}
