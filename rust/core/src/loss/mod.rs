//! Losses on one sample's outputs z, each computed with its gradient dL/dz
//! side by side (in f64, whatever the network's dtype). Definitions follow
//! the lecture notes and are written on each variant below: L2 is the norm
//! itself, not its square, and the default reduction sums over samples and
//! time steps.

use crate::bail;
use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum Loss {
    /// Σ|z − y|
    L1,
    /// ‖z − y‖₂ = √Σ(z − y)², gradient (z − y)/‖z − y‖ (0 where the norm is 0)
    L2,
    /// (1/n) Σ(z − y)²
    Mse,
    /// (1/n) Σ|z − y|
    Mae,
    /// Σ_{j≠y} max(0, z_j − z_y + 1)
    Hinge,
    /// Σ_{j≠y} max(0, z_j − z_y + 1)²
    SquaredHinge,
    /// −log softmax(z)_y, computed with the max subtracted
    Softmax,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum Reduction {
    /// Sum over samples and time steps (the notes' convention).
    Sum,
    /// Sum divided by the number of counted (sample, step) pairs.
    Mean,
}

/// What the loss compares the outputs with, for one sample and step.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    Values(&'a [f64]),
    Class(usize),
}

impl Loss {
    pub const ALL: [Loss; 7] =
        [Loss::L1, Loss::L2, Loss::Mse, Loss::Mae, Loss::Hinge, Loss::SquaredHinge, Loss::Softmax];

    /// Parses a loss name ([`Loss::name`]) or one of the notes' aliases
    /// (svm, cross_entropy).
    pub fn parse(name: &str) -> Result<Loss> {
        match name {
            "svm" => Ok(Loss::Hinge),
            "cross_entropy" => Ok(Loss::Softmax),
            _ => match Loss::ALL.into_iter().find(|l| l.name() == name) {
                Some(loss) => Ok(loss),
                None => {
                    bail!(Config, "unknown loss {name:?}; expected one of {}", Loss::ALL.map(Loss::name).join(", "))
                }
            },
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Loss::L1 => "l1",
            Loss::L2 => "l2",
            Loss::Mse => "mse",
            Loss::Mae => "mae",
            Loss::Hinge => "hinge",
            Loss::SquaredHinge => "squared_hinge",
            Loss::Softmax => "softmax",
        }
    }

    /// Classification losses take one class index per sample and step;
    /// regression losses take one target value per output.
    pub fn takes_classes(self) -> bool {
        matches!(self, Loss::Hinge | Loss::SquaredHinge | Loss::Softmax)
    }

    /// Loss of one sample's outputs `z`; writes dL/dz into `grad`.
    pub fn eval(self, z: &[f64], target: Target<'_>, grad: &mut [f64]) -> f64 {
        let n = z.len() as f64;
        match (self, target) {
            (Loss::L1 | Loss::Mae, Target::Values(y)) => {
                let scale = if self == Loss::Mae { 1.0 / n } else { 1.0 };
                let mut total = 0.0;
                for ((g, &zi), &yi) in grad.iter_mut().zip(z).zip(y) {
                    let d = zi - yi;
                    total += d.abs();
                    *g = scale * sign(d);
                }
                scale * total
            }
            (Loss::L2, Target::Values(y)) => {
                let norm = z.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
                for ((g, &zi), &yi) in grad.iter_mut().zip(z).zip(y) {
                    *g = if norm > 0.0 { (zi - yi) / norm } else { 0.0 };
                }
                norm
            }
            (Loss::Mse, Target::Values(y)) => {
                let mut total = 0.0;
                for ((g, &zi), &yi) in grad.iter_mut().zip(z).zip(y) {
                    let d = zi - yi;
                    total += d * d;
                    *g = 2.0 * d / n;
                }
                total / n
            }
            (Loss::Hinge | Loss::SquaredHinge, Target::Class(c)) => {
                let squared = self == Loss::SquaredHinge;
                let mut total = 0.0;
                let mut gy = 0.0;
                for (j, (g, &zj)) in grad.iter_mut().zip(z).enumerate() {
                    *g = 0.0;
                    if j == c {
                        continue;
                    }
                    let m = zj - z[c] + 1.0;
                    if m > 0.0 {
                        let (l, d) = if squared { (m * m, 2.0 * m) } else { (m, 1.0) };
                        total += l;
                        *g = d;
                        gy -= d;
                    }
                }
                grad[c] = gy;
                total
            }
            (Loss::Softmax, Target::Class(c)) => {
                let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let mut sum = 0.0;
                for (g, &zj) in grad.iter_mut().zip(z) {
                    *g = (zj - max).exp();
                    sum += *g;
                }
                for g in grad.iter_mut() {
                    *g /= sum;
                }
                grad[c] -= 1.0;
                -(z[c] - max - sum.ln())
            }
            (loss, _) => unreachable!("target kind checked before evaluation for loss {}", loss.name()),
        }
    }
}

/// d|x|/dx with the notes' convention of 0 at 0.
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// softmax(z), max-subtracted (for predictions and the notes' example).
pub fn softmax(z: &[f64]) -> Vec<f64> {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

impl std::str::FromStr for Loss {
    type Err = Error;
    fn from_str(s: &str) -> Result<Loss> {
        Loss::parse(s)
    }
}

/// For serde: a loss in the training configuration is its name.
impl TryFrom<String> for Loss {
    type Error = Error;
    fn try_from(s: String) -> Result<Loss> {
        Loss::parse(&s)
    }
}

impl TryFrom<String> for Reduction {
    type Error = Error;
    fn try_from(s: String) -> Result<Reduction> {
        Reduction::parse(&s)
    }
}

impl Reduction {
    pub const ALL: [Reduction; 2] = [Reduction::Mean, Reduction::Sum];

    pub fn name(self) -> &'static str {
        match self {
            Reduction::Sum => "sum",
            Reduction::Mean => "mean",
        }
    }

    pub fn parse(name: &str) -> Result<Reduction> {
        match Reduction::ALL.into_iter().find(|r| r.name() == name) {
            Some(reduction) => Ok(reduction),
            None => bail!(Config, "unknown reduction {name:?}; expected \"sum\" or \"mean\""),
        }
    }
}

#[cfg(test)]
mod tests;
