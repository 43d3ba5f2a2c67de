//! Nodes of the graph IR: what a node is (its kind and activation), what role
//! it plays (input / hidden / output), and whether it carries a bias.

use super::CellKind;
use crate::bail;
use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Stable node id; never reused after removal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node {}", self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Set from the input data; applies no activation and has no incoming edges.
    Input,
    Hidden,
    /// Read by the loss; may also feed other nodes (e.g. Jordan recurrence).
    Output,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Input, Role::Hidden, Role::Output];

    pub fn name(self) -> &'static str {
        match self {
            Role::Input => "input",
            Role::Hidden => "hidden",
            Role::Output => "output",
        }
    }

    pub fn parse(name: &str) -> Result<Role> {
        match Role::ALL.into_iter().find(|r| r.name() == name) {
            Some(role) => Ok(role),
            None => bail!(Config, "unknown node role {name:?}; expected input, hidden or output"),
        }
    }

    /// Refuses a kind that makes no sense for the role: the engine ignores
    /// an input's activation and runs no input cell, so asking for either
    /// is a mistake (checked where nodes are asked for by name).
    pub fn check_kind(self, kind: &NodeKind) -> Result<()> {
        if self != Role::Input {
            return Ok(());
        }
        match *kind {
            NodeKind::Cell(_) => bail!(Config, "input nodes cannot be memory cells"),
            NodeKind::Simple { activation } | NodeKind::FeatureMap { activation, .. }
                if activation != Activation::Identity =>
            {
                let what = if kind.map_shape().is_some() { "maps" } else { "nodes" };
                bail!(Config, "input {what} apply no activation; got {:?}", activation.name())
            }
            _ => Ok(()),
        }
    }

    /// The notes' default: hidden nodes have a bias, input and output nodes do not.
    pub fn default_bias(self) -> bool {
        matches!(self, Role::Hidden)
    }
}

/// Activation function g of a simple node: value = g(bias + Σ incoming).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Activation {
    Identity,
    Relu,
    /// min(max(0, x), cap); the notes' ReLU-6 has cap = 6.
    Relu6 {
        cap: f64,
    },
    /// x for x > 0, slope·x otherwise; the notes use slope = 0.01.
    LeakyRelu {
        slope: f64,
    },
    Sigmoid,
    Tanh,
    /// x / (1 + |x|)
    Softsign,
}

impl Activation {
    /// The names [`Activation::parse`] accepts ("linear" is identity).
    pub const NAMES: [&'static str; 8] =
        ["identity", "linear", "relu", "relu6", "leaky_relu", "sigmoid", "tanh", "softsign"];

    /// Parses an activation name with its optional parameter: relu6's `cap`
    /// (default 6) or leaky_relu's `slope` (default 0.01).
    pub fn parse(name: &str, cap: Option<f64>, slope: Option<f64>) -> Result<Activation> {
        if cap.is_some() && name != "relu6" {
            bail!(Config, "cap applies to relu6 only, not to activation {name:?}");
        }
        if slope.is_some() && name != "leaky_relu" {
            bail!(Config, "slope applies to leaky_relu only, not to activation {name:?}");
        }
        Ok(match name {
            "identity" | "linear" => Activation::Identity,
            "relu" => Activation::Relu,
            "relu6" => Activation::Relu6 { cap: cap.unwrap_or(6.0) },
            "leaky_relu" => Activation::LeakyRelu { slope: slope.unwrap_or(0.01) },
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "softsign" => Activation::Softsign,
            _ => bail!(Config, "unknown activation {name:?}; expected one of {}", Activation::NAMES.join(", ")),
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::Relu6 { .. } => "relu6",
            Activation::LeakyRelu { .. } => "leaky_relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softsign => "softsign",
        }
    }

    /// Whether the function is smooth enough for a tight finite-difference
    /// check (softsign is differentiable, but its second derivative jumps at 0).
    pub fn is_smooth(&self) -> bool {
        matches!(self, Activation::Identity | Activation::Sigmoid | Activation::Tanh)
    }
}

fn identity() -> Activation {
    Activation::Identity
}

/// What a node computes. In JSON every kind is `{"type": name, ...}`; a
/// cell's type is its cell name (`{"type": "lstm"}`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeKind {
    /// A neuron: g(bias + Σ incoming edge contributions).
    Simple { activation: Activation },
    /// A CNN feature map [channels, height, width]: g(bias + Σ incoming)
    /// cell by cell; `untied_bias` gives one bias per cell instead of one
    /// per channel.
    FeatureMap {
        channels: u32,
        height: u32,
        width: u32,
        #[serde(default = "identity")]
        activation: Activation,
        untied_bias: bool,
    },
    /// A memory cell (untagged: its own name is the type).
    #[serde(untagged, with = "cell_type")]
    Cell(CellKind),
}

/// A cell kind as `{"type": "<cell name>"}`.
mod cell_type {
    use super::CellKind;
    use serde::de::Error;
    use serde::ser::SerializeStruct;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(cell: &CellKind, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_struct("NodeKind", 1)?;
        t.serialize_field("type", cell.name())?;
        t.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<CellKind, D::Error> {
        #[derive(Deserialize)]
        struct Tagged {
            #[serde(rename = "type")]
            name: String,
        }
        CellKind::parse(&Tagged::deserialize(d)?.name).map_err(D::Error::custom)
    }
}

impl NodeKind {
    pub fn simple(activation: Activation) -> NodeKind {
        NodeKind::Simple { activation }
    }

    /// The memory cell this node runs, if it is one.
    pub fn cell(&self) -> Option<CellKind> {
        match *self {
            NodeKind::Cell(c) => Some(c),
            _ => None,
        }
    }

    /// `(channels, height, width)` of a feature map.
    pub fn map_shape(&self) -> Option<(usize, usize, usize)> {
        match *self {
            NodeKind::FeatureMap { channels, height, width, .. } => {
                Some((channels as usize, height as usize, width as usize))
            }
            _ => None,
        }
    }

    /// Values the node holds per sample and step: 1, or a map's C·H·W.
    pub fn size(&self) -> usize {
        self.map_shape().map_or(1, |(c, h, w)| c * h * w)
    }

    /// Input ports: edges into port p sum into the p-th input of the node.
    pub fn n_ports(&self) -> usize {
        self.cell().map_or(1, |c| c.ports().len())
    }

    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::Simple { .. } => "simple",
            NodeKind::FeatureMap { .. } => "feature_map",
            NodeKind::Cell(c) => c.name(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub id: NodeId,
    /// Run-wide name of the node in evolution (see `innovation.rs`);
    /// unique among the graph's nodes. Missing in JSON: the id.
    #[serde(default = "super::innovation::unset")]
    pub innovation: u64,
    pub role: Role,
    pub kind: NodeKind,
    /// Whether the node has a trainable bias.
    pub bias: bool,
    /// Initial bias value; `None` lets the network's initialiser choose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias_value: Option<f64>,
    /// Disabled nodes (and their edges) are left out of the execution plan.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
}

pub(crate) fn yes() -> bool {
    true
}
pub(crate) fn is_true(b: &bool) -> bool {
    *b
}
