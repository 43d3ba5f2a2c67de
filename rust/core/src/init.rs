//! Weight initialisers (lecture 4 and 6 of the notes) and the seeded RNG.
//! Weights are drawn from one ChaCha8 stream in edge-id order (not the
//! plan's layout order), one draw per weight whether or not the graph
//! presets it, so a seed gives the same values to the same edges whatever
//! blocks the plan chose.

use crate::bail;
use crate::error::Result;
use crate::plan::{ParamInfo, ParamKind};
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

/// Initial values for `params`, in f64; presets from the graph win.
pub fn initial_values(params: &[ParamInfo], init: &Init, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Edge weights first (by edge id), then cells' own weights (by node id
    // and index), so the draws do not depend on the plan's layout.
    let mut weights: Vec<((u8, u32, u8), usize)> = params
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match p.kind {
            ParamKind::Weight { edge, .. } => Some(((0, edge.0, 0), i)),
            ParamKind::CellWeight { node, index } => Some(((1, node.0, index), i)),
            ParamKind::Bias { .. } => None,
        })
        .collect();
    weights.sort_unstable();
    let mut values: Vec<f64> = params.iter().map(|_| init.bias).collect();
    for (_, i) in weights {
        values[i] = match params[i].kind {
            ParamKind::CellWeight { .. } => draw_cell(init.weights, &mut rng),
            _ => draw(init.weights, &params[i], &mut rng),
        };
    }
    for (v, p) in values.iter_mut().zip(params) {
        if let Some(preset) = p.preset {
            *v = preset;
        }
    }
    values
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

fn draw(kind: WeightInit, p: &ParamInfo, rng: &mut ChaCha8Rng) -> f64 {
    let fan_in = f64::from(p.fan_in.max(1));
    let fan_out = f64::from(p.fan_out.max(1));
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
