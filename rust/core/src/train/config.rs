//! The training configuration as JSON (what the Python API, the TOML
//! config files and checkpoints exchange). Unknown keys and bad values are
//! errors that name the key.

use super::{NonFinite, Safeguards, TrainConfig};
use crate::error::{Error, Result};
use crate::loss::{Loss, Reduction};
use crate::optim::{MomentumAnnealing, Optimizer, Schedule};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigJson {
    loss: String,
    #[serde(default = "default_reduction")]
    reduction: String,
    #[serde(default)]
    batch_size: usize,
    #[serde(default = "yes")]
    shuffle: bool,
    #[serde(default)]
    truncate: usize,
    #[serde(default)]
    seed: u64,
    optimizer: OptimizerJson,
    learning_rate: f64,
    #[serde(default)]
    schedule: Option<ScheduleJson>,
    #[serde(default)]
    momentum_annealing: Option<AnnealingJson>,
    #[serde(default)]
    safeguards: SafeguardsJson,
    #[serde(default = "default_non_finite")]
    non_finite: String,
}

fn default_reduction() -> String {
    "mean".into()
}
fn default_non_finite() -> String {
    "fail".into()
}
fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
enum OptimizerJson {
    Vanilla,
    Momentum { mu: f64 },
    Nesterov { mu: f64 },
    Adagrad { eps: f64 },
    Rmsprop { decay: f64, eps: f64 },
    Adam { beta1: f64, beta2: f64, eps: f64, bias_correction: bool },
}

#[derive(Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
enum ScheduleJson {
    Constant,
    Step { every: u32, factor: f64 },
    Exponential { k: f64 },
    InverseTime { k: f64 },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnnealingJson {
    start: f64,
    end: f64,
    epochs: u32,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SafeguardsJson {
    #[serde(default)]
    clip_deltas: Option<(f64, f64)>,
    #[serde(default)]
    gradient_scale: Option<f64>,
    #[serde(default)]
    gradient_boost: Option<f64>,
    #[serde(default)]
    weight_cap: Option<(f64, f64)>,
    #[serde(default)]
    l1: f64,
    #[serde(default)]
    l2: f64,
    #[serde(default)]
    dropout: f64,
}

impl TrainConfig {
    /// Reads the JSON form; `deny_unknown_fields` makes a misspelt key an
    /// error that names it.
    pub fn from_json(text: &str) -> Result<TrainConfig> {
        let c: ConfigJson =
            serde_json::from_str(text).map_err(|e| Error::Config(format!("invalid training configuration: {e}")))?;
        let optimizer = match c.optimizer {
            OptimizerJson::Vanilla => Optimizer::Vanilla,
            OptimizerJson::Momentum { mu } => Optimizer::Momentum { mu },
            OptimizerJson::Nesterov { mu } => Optimizer::Nesterov { mu },
            OptimizerJson::Adagrad { eps } => Optimizer::Adagrad { eps },
            OptimizerJson::Rmsprop { decay, eps } => Optimizer::RmsProp { decay, eps },
            OptimizerJson::Adam { beta1, beta2, eps, bias_correction } => {
                Optimizer::Adam { beta1, beta2, eps, bias_correction }
            }
        };
        let schedule = match c.schedule {
            None | Some(ScheduleJson::Constant) => Schedule::Constant,
            Some(ScheduleJson::Step { every, factor }) => Schedule::Step { every, factor },
            Some(ScheduleJson::Exponential { k }) => Schedule::Exponential { k },
            Some(ScheduleJson::InverseTime { k }) => Schedule::InverseTime { k },
        };
        let non_finite = match c.non_finite.as_str() {
            "fail" => NonFinite::Fail,
            "rollback" => NonFinite::Rollback,
            other => return Err(Error::Config(format!("non_finite must be \"fail\" or \"rollback\", got {other:?}"))),
        };
        let s = c.safeguards;
        Ok(TrainConfig {
            loss: Loss::parse(&c.loss)?,
            reduction: Reduction::parse(&c.reduction)?,
            batch_size: c.batch_size,
            shuffle: c.shuffle,
            truncate: c.truncate,
            seed: c.seed,
            optimizer,
            learning_rate: c.learning_rate,
            schedule,
            momentum_annealing: c.momentum_annealing.map(|a| MomentumAnnealing {
                start: a.start,
                end: a.end,
                epochs: a.epochs,
            }),
            safeguards: Safeguards {
                clip_deltas: s.clip_deltas,
                gradient_scale: s.gradient_scale,
                gradient_boost: s.gradient_boost,
                weight_cap: s.weight_cap,
                l1: s.l1,
                l2: s.l2,
                dropout: s.dropout,
            },
            non_finite,
        })
    }
}
