//! Edges of the graph IR: scalar weights (feed-forward or recurrent with any
//! time skip), identity (residual) links, filters and pooling between maps.

use super::node::NodeId;
use crate::bail;
use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Stable edge id; never reused after removal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EdgeId(pub u32);

impl fmt::Display for EdgeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "edge {}", self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolOp {
    Max,
    Avg,
    FractionalMax,
}

impl PoolOp {
    pub const ALL: [PoolOp; 3] = [PoolOp::Max, PoolOp::Avg, PoolOp::FractionalMax];

    pub fn name(self) -> &'static str {
        match self {
            PoolOp::Max => "max",
            PoolOp::Avg => "avg",
            PoolOp::FractionalMax => "fractional_max",
        }
    }

    /// The op called `name` ([`PoolOp::name`], or "average").
    pub fn parse(name: &str) -> Result<PoolOp> {
        match PoolOp::ALL.into_iter().find(|op| op.name() == name) {
            Some(op) => Ok(op),
            None if name == "average" => Ok(PoolOp::Avg),
            None => bail!(Config, "unknown pool op {name:?}; expected max, avg or fractional_max"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EdgeKind {
    /// One scalar weight: dst += w · src.
    Weight,
    /// A fixed link of weight 1 (residual / skip connection); no parameter.
    Identity,
    /// A convolution filter from every channel of the source map to every
    /// channel of the destination: `kh × kw` (× `kc` for the notes' 3D
    /// filters, which also slide over channels), stride and zero padding.
    Filter { kh: u32, kw: u32, kc: Option<u32>, stride: u32, padding: u32 },
    /// Pooling channel by channel between maps of equal channel counts.
    /// Max and average pool `height × width` windows moved by the strides;
    /// fractional max pooling draws regions fitting the two maps' sizes on
    /// every forward pass (sizes and strides unused).
    Pool {
        op: PoolOp,
        height: u32,
        width: u32,
        stride_h: u32,
        stride_w: u32,
        /// Fractional only: regions share their boundary cells.
        #[serde(default, skip_serializing_if = "is_false")]
        overlapping: bool,
        /// Fractional only: pseudorandom instead of random boundaries.
        #[serde(default, skip_serializing_if = "is_false")]
        pseudorandom: bool,
    },
}

impl EdgeKind {
    pub fn name(&self) -> &'static str {
        match self {
            EdgeKind::Weight => "weight",
            EdgeKind::Identity => "identity",
            EdgeKind::Filter { .. } => "filter",
            EdgeKind::Pool { .. } => "pool",
        }
    }

    /// The edge kinds that take no sizes, by name.
    pub fn parse_scalar(name: &str) -> Result<EdgeKind> {
        match name {
            "weight" => Ok(EdgeKind::Weight),
            "identity" => Ok(EdgeKind::Identity),
            "filter" | "pool" => {
                bail!(Config, "{name} edges take sizes: build them with Graph.connect_{name}(src, dst, ...)")
            }
            _ => bail!(Config, "unknown edge kind {name:?}; expected \"weight\" or \"identity\""),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    pub id: EdgeId,
    /// Run-wide name of the edge in evolution (see `innovation.rs`);
    /// unique among the graph's edges. Missing in JSON: the id.
    #[serde(default = "super::innovation::unset")]
    pub innovation: u64,
    pub src: NodeId,
    pub dst: NodeId,
    pub kind: EdgeKind,
    /// 0: feed-forward; d ≥ 1: reads `src` at t − d (0 before the sequence starts).
    #[serde(default)]
    pub time_skip: u32,
    /// Fixed edges keep their weight (e.g. a NARX feedback weight of 1).
    #[serde(default = "super::node::yes", skip_serializing_if = "super::node::is_true")]
    pub trainable: bool,
    /// Initial (or, for fixed edges, permanent) weight; `None` lets the
    /// initialiser choose (fixed edges then default to 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    #[serde(default = "super::node::yes", skip_serializing_if = "super::node::is_true")]
    pub enabled: bool,
    /// Which input of `dst` the edge feeds: 0 for simple nodes and scalar
    /// cells; a gate of a standard LSTM/GRU unit (see `CellKind::ports`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub port: u8,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(p: &u8) -> bool {
    *p == 0
}

impl Edge {
    pub fn is_recurrent(&self) -> bool {
        self.time_skip > 0
    }
}
