//! The training configuration and its one schema: the JSON the Python API,
//! the TOML config files and checkpoints exchange deserialises straight into
//! these types, and [`TrainConfig::validate`] checks the values. Every error
//! names its key (`safeguards.l1`, `optimizer.mu`).

use crate::bail;
use crate::error::{Error, Result};
use crate::loss::{Loss, Reduction};
use crate::optim::{MomentumAnnealing, Optimizer, Schedule};
use serde::{Deserialize, Deserializer};

/// What to do when a loss, gradient or parameter turns NaN or infinite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NonFinite {
    /// Stop with an error; the network keeps the weights of the last good epoch.
    #[default]
    Fail,
    /// Restore the weights of the last good epoch, halve the learning rate
    /// and replay the epoch (at most `MAX_ROLLBACKS` times in a row).
    Rollback,
}

/// The notes' numerical safeguards (lecture 6) and regularisation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Safeguards {
    /// Clip node deltas to ±(output, hidden), e.g. Pascanu's (100, 10).
    pub clip_deltas: Option<(f64, f64)>,
    /// Scale the gradient down to this L2 norm when it is larger.
    pub gradient_scale: Option<f64>,
    /// Scale the gradient up to this L2 norm when it is smaller (not zero).
    pub gradient_boost: Option<f64>,
    /// Weight capping (threshold t, scale s): |w| > t becomes s·t.
    pub weight_cap: Option<(f64, f64)>,
    /// L1 penalty l1·Σ|w| on weights (not biases).
    pub l1: f64,
    /// L2 penalty (l2/2)·Σw² on weights (not biases).
    pub l2: f64,
    /// Dropout rate on hidden nodes, in [0, 1).
    pub dropout: f64,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub loss: Loss,
    #[serde(default = "mean")]
    pub reduction: Reduction,
    /// Samples per batch: 1 stochastic, n mini-batch, 0 the whole set.
    #[serde(default)]
    pub batch_size: usize,
    #[serde(default = "yes")]
    pub shuffle: bool,
    /// Truncated BPTT: `None` trains on whole sequences; `Some(k)` cuts
    /// each batch of sequences into windows of k steps, trained one after
    /// the other, each starting from the state the previous window ended
    /// in (zero at the start of each sequence).
    #[serde(default)]
    pub truncate: Option<usize>,
    #[serde(default)]
    pub seed: u64,
    pub optimizer: Optimizer,
    /// The initial learning rate; `schedule` anneals it per epoch.
    pub learning_rate: f64,
    #[serde(default, deserialize_with = "null_is_default")]
    pub schedule: Schedule,
    /// Anneals momentum's mu (momentum and Nesterov only).
    #[serde(default)]
    pub momentum_annealing: Option<MomentumAnnealing>,
    #[serde(default)]
    pub safeguards: Safeguards,
    #[serde(default)]
    pub non_finite: NonFinite,
}

fn mean() -> Reduction {
    Reduction::Mean
}

fn yes() -> bool {
    true
}

/// `null` (Python's None) means the default.
fn null_is_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> std::result::Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// What is wrong with a training configuration, and under which key
/// (dotted: `safeguards.l1`; empty for the document as a whole).
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub key: String,
    pub problem: String,
}

impl TrainConfig {
    /// Reads the JSON form (values are checked by [`TrainConfig::validate`]).
    pub fn from_json(text: &str) -> Result<TrainConfig> {
        TrainConfig::parse(text).map_err(|p| {
            let key = if p.key.is_empty() { String::new() } else { format!("{}: ", p.key) };
            Error::Config(format!("invalid training configuration: {key}{}", p.problem))
        })
    }

    /// Reads and checks the JSON form, for callers that name the key at
    /// fault their own way (the TOML config files).
    pub fn check_json(text: &str) -> std::result::Result<TrainConfig, Problem> {
        let config = TrainConfig::parse(text)?;
        match config.validate() {
            // validate's messages start with the key.
            Err(e) => {
                let message = e.to_string();
                let (key, problem) = message.split_once(' ').unwrap_or(("", &message));
                Err(Problem { key: key.into(), problem: problem.into() })
            }
            Ok(()) => Ok(config),
        }
    }

    fn parse(text: &str) -> std::result::Result<TrainConfig, Problem> {
        serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            let position = format!(" at line {} column {}", e.line(), e.column());
            let line_start: usize = text.split_inclusive('\n').take(e.line().saturating_sub(1)).map(str::len).sum();
            let at = (line_start + e.column()).min(text.len());
            // Python's json writes NaN and infinities, which JSON lacks.
            let rest = &text.as_bytes()[at.saturating_sub(1)..];
            let rest = rest.strip_prefix(b"-").unwrap_or(rest);
            let problem = match ["NaN", "Infinity"].into_iter().find(|t| rest.starts_with(t.as_bytes())) {
                Some(token) => format!("must be a finite number, got {token}"),
                None => message.strip_suffix(&position).unwrap_or(&message).to_string(),
            };
            Problem { key: key_path(&text.as_bytes()[..at]), problem }
        })
    }

    /// Checks every value, naming its key.
    pub fn validate(&self) -> Result<()> {
        self.optimizer.validate()?;
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            bail!(Config, "learning_rate must be a positive number, got {}", self.learning_rate);
        }
        self.schedule.validate()?;
        if let Some(a) = &self.momentum_annealing {
            a.validate()?;
        }
        if self.truncate == Some(0) {
            bail!(Config, "truncate must be a number of steps >= 1 (absent: whole sequences), got 0");
        }
        let s = &self.safeguards;
        for (key, v) in [("gradient_scale", s.gradient_scale), ("gradient_boost", s.gradient_boost)] {
            if let Some(t) = v.filter(|t| !(t.is_finite() && *t > 0.0)) {
                bail!(Config, "safeguards.{key} must be a positive number, got {t}");
            }
        }
        if let Some((o, h)) = s.clip_deltas.filter(|&(o, h)| !(o > 0.0 && h > 0.0)) {
            bail!(Config, "safeguards.clip_deltas must be two positive ranges (output, hidden), got ({o}, {h})");
        }
        if !(0.0..1.0).contains(&s.dropout) {
            bail!(Config, "safeguards.dropout must be in [0, 1), got {}", s.dropout);
        }
        for (key, c) in [("l1", s.l1), ("l2", s.l2)] {
            if !(c >= 0.0 && c.is_finite()) {
                bail!(Config, "safeguards.{key} must be a finite number >= 0, got {c}");
            }
        }
        Ok(())
    }
}

/// The dotted key path (`safeguards.l1`) of the value at the end of `text`
/// (the JSON up to where serde_json stopped): its errors say what was
/// wrong, not where.
fn key_path(s: &[u8]) -> String {
    // Per open object its current key; None per open array.
    let mut open: Vec<Option<String>> = Vec::new();
    let mut expect_key = false;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'{' => {
                open.push(Some(String::new()));
                expect_key = true;
            }
            b'[' => open.push(None),
            b'}' | b']' => {
                open.pop();
            }
            b',' => expect_key = matches!(open.last(), Some(Some(_))),
            b'"' => {
                let from = i + 1;
                i += 1;
                while i < s.len() && s[i] != b'"' {
                    i += if s[i] == b'\\' { 2 } else { 1 };
                }
                if let (true, Some(Some(key))) = (expect_key, open.last_mut()) {
                    *key = String::from_utf8_lossy(&s[from..i.min(s.len())]).into_owned();
                    expect_key = false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    open.into_iter().flatten().filter(|k| !k.is_empty()).collect::<Vec<_>>().join(".")
}

#[cfg(test)]
mod tests;
