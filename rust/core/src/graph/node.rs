//! Nodes of the graph IR: what a node is (its kind and activation), what role
//! it plays (input / hidden / output), and whether it carries a bias.

pub use crate::kernels::cells::CellKind;
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
    /// Parses the names the Python API accepts ("relu6" and "leaky_relu" take
    /// their parameter separately).
    pub fn parse(name: &str, param: Option<f64>) -> Option<Activation> {
        Some(match name {
            "identity" | "linear" => Activation::Identity,
            "relu" => Activation::Relu,
            "relu6" => Activation::Relu6 { cap: param.unwrap_or(6.0) },
            "leaky_relu" => Activation::LeakyRelu { slope: param.unwrap_or(0.01) },
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "softsign" => Activation::Softsign,
            _ => return None,
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

/// What a node computes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeKind {
    /// A neuron: g(bias + Σ incoming edge contributions).
    Simple {
        activation: Activation,
    },
    /// Peephole LSTM cell with scalar parameters (DESIGN.md equations).
    Lstm,
    Gru,
    Mgu,
    Ugrnn,
    Delta,
    /// One unit of a standard (torch.nn.LSTM) layer: four input ports
    /// i, f, g, o, each with its own incoming edges and bias; state c.
    LstmUnit,
    /// One unit of a standard (torch.nn.GRU) layer: ports r, z, n_x, n_h
    /// (the candidate's input and recurrent parts, kept apart because r
    /// multiplies only the recurrent part).
    GruUnit,
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
}

impl NodeKind {
    pub fn simple(activation: Activation) -> NodeKind {
        NodeKind::Simple { activation }
    }

    /// The memory cell this node runs, if it is one.
    pub fn cell(&self) -> Option<CellKind> {
        Some(match self {
            NodeKind::Lstm => CellKind::Lstm,
            NodeKind::Gru => CellKind::Gru,
            NodeKind::Mgu => CellKind::Mgu,
            NodeKind::Ugrnn => CellKind::Ugrnn,
            NodeKind::Delta => CellKind::Delta,
            NodeKind::LstmUnit => CellKind::LstmUnit,
            NodeKind::GruUnit => CellKind::GruUnit,
            _ => return None,
        })
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

    /// Parses the kind names the Python API accepts for non-simple nodes.
    pub fn parse_cell(name: &str) -> Option<NodeKind> {
        Some(match name {
            "lstm" => NodeKind::Lstm,
            "gru" => NodeKind::Gru,
            "mgu" => NodeKind::Mgu,
            "ugrnn" => NodeKind::Ugrnn,
            "delta" => NodeKind::Delta,
            "lstm_unit" => NodeKind::LstmUnit,
            "gru_unit" => NodeKind::GruUnit,
            _ => return None,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::Simple { .. } => "simple",
            NodeKind::Lstm => "lstm",
            NodeKind::Gru => "gru",
            NodeKind::Mgu => "mgu",
            NodeKind::Ugrnn => "ugrnn",
            NodeKind::Delta => "delta",
            NodeKind::LstmUnit => "lstm_unit",
            NodeKind::GruUnit => "gru_unit",
            NodeKind::FeatureMap { .. } => "feature_map",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub id: NodeId,
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
