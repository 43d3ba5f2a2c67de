//! Arguments and results of `nervenet._core.Graph`: names parsed into core
//! values (ConfigError naming the argument otherwise), and nodes and edges
//! as the dicts Python sees.

use crate::errors::{raise, Kind};
use nervenet_core::{Activation, Edge, EdgeKind, Node, NodeKind, PoolOp, Role};
use pyo3::prelude::*;
use pyo3::types::PyDict;

const ACTIVATIONS: &str = "identity, linear, relu, relu6, leaky_relu, sigmoid, tanh, softsign";
pub const CELLS: &str = "lstm, gru, mgu, ugrnn, delta, lstm_unit, gru_unit";

/// Parses an activation name with its optional parameter (relu6's cap,
/// leaky_relu's slope).
pub fn parse_activation(py: Python<'_>, name: &str, cap: Option<f64>, slope: Option<f64>) -> PyResult<Activation> {
    if cap.is_some() && name != "relu6" {
        return Err(raise(py, Kind::Config, format!("cap applies to relu6 only, not to activation {name:?}")));
    }
    if slope.is_some() && name != "leaky_relu" {
        return Err(raise(py, Kind::Config, format!("slope applies to leaky_relu only, not to activation {name:?}")));
    }
    Activation::parse(name, cap.or(slope))
        .ok_or_else(|| raise(py, Kind::Config, format!("unknown activation {name:?}; expected one of {ACTIVATIONS}")))
}

pub fn parse_role(py: Python<'_>, name: &str) -> PyResult<Role> {
    match name {
        "input" => Ok(Role::Input),
        "hidden" => Ok(Role::Hidden),
        "output" => Ok(Role::Output),
        _ => Err(raise(py, Kind::Config, format!("unknown node role {name:?}; expected input, hidden or output"))),
    }
}

pub fn parse_edge_kind(py: Python<'_>, name: &str) -> PyResult<EdgeKind> {
    match name {
        "weight" => Ok(EdgeKind::Weight),
        "identity" => Ok(EdgeKind::Identity),
        "filter" | "pool" => Err(raise(
            py,
            Kind::Config,
            format!("{name} edges take sizes: build them with Graph.connect_{name}(src, dst, ...)"),
        )),
        _ => Err(raise(py, Kind::Config, format!("unknown edge kind {name:?}; expected \"weight\" or \"identity\""))),
    }
}

pub fn time_skip(py: Python<'_>, value: i64) -> PyResult<u32> {
    u32::try_from(value)
        .map_err(|_| raise(py, Kind::Config, format!("time_skip must be an integer in 0..2**32, got {value}")))
}

pub fn port(py: Python<'_>, value: i64) -> PyResult<u8> {
    u8::try_from(value).map_err(|_| raise(py, Kind::Config, format!("port must be an integer in 0..4, got {value}")))
}

/// A size argument: an integer in 1..2**32.
pub fn positive(py: Python<'_>, value: i64, name: &str) -> PyResult<u32> {
    u32::try_from(value)
        .ok()
        .filter(|&v| v > 0)
        .ok_or_else(|| raise(py, Kind::Config, format!("{name} must be a positive integer, got {value}")))
}

/// A padding: an integer in 0..2**32.
pub fn non_negative(py: Python<'_>, value: i64, name: &str) -> PyResult<u32> {
    u32::try_from(value).map_err(|_| raise(py, Kind::Config, format!("{name} must be an integer >= 0, got {value}")))
}

pub fn parse_pool_op(py: Python<'_>, name: &str) -> PyResult<PoolOp> {
    match name {
        "max" => Ok(PoolOp::Max),
        "avg" | "average" => Ok(PoolOp::Avg),
        "fractional_max" => Ok(PoolOp::FractionalMax),
        _ => Err(raise(py, Kind::Config, format!("unknown pool op {name:?}; expected max, avg or fractional_max"))),
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Input => "input",
        Role::Hidden => "hidden",
        Role::Output => "output",
    }
}

pub fn node_dict<'py>(py: Python<'py>, n: &Node) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", n.id.0)?;
    d.set_item("role", role_name(n.role))?;
    d.set_item("kind", n.kind.name())?;
    match n.kind {
        NodeKind::Simple { activation } => {
            d.set_item("activation", activation.name())?;
            match activation {
                Activation::Relu6 { cap } => d.set_item("cap", cap)?,
                Activation::LeakyRelu { slope } => d.set_item("slope", slope)?,
                _ => {}
            }
        }
        NodeKind::FeatureMap { channels, height, width, activation, untied_bias } => {
            d.set_item("activation", activation.name())?;
            match activation {
                Activation::Relu6 { cap } => d.set_item("cap", cap)?,
                Activation::LeakyRelu { slope } => d.set_item("slope", slope)?,
                _ => {}
            }
            d.set_item("shape", (channels, height, width))?;
            d.set_item("channels", channels)?;
            d.set_item("height", height)?;
            d.set_item("width", width)?;
            d.set_item("untied_bias", untied_bias)?;
        }
        _ => d.set_item("activation", py.None())?,
    }
    d.set_item("bias", n.bias)?;
    d.set_item("bias_value", n.bias_value)?;
    d.set_item("enabled", n.enabled)?;
    Ok(d)
}

pub fn edge_dict<'py>(py: Python<'py>, e: &Edge) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", e.id.0)?;
    d.set_item("src", e.src.0)?;
    d.set_item("dst", e.dst.0)?;
    d.set_item("kind", e.kind.name())?;
    match e.kind {
        EdgeKind::Filter { kh, kw, kc, stride, padding } => {
            d.set_item("size", (kh, kw))?;
            d.set_item("depth", kc)?;
            d.set_item("kh", kh)?;
            d.set_item("kw", kw)?;
            d.set_item("kc", kc)?;
            d.set_item("stride", stride)?;
            d.set_item("padding", padding)?;
        }
        EdgeKind::Pool { op, height, width, stride_h, stride_w, overlapping, pseudorandom } => {
            let op = match op {
                PoolOp::Max => "max",
                PoolOp::Avg => "avg",
                PoolOp::FractionalMax => "fractional_max",
            };
            d.set_item("op", op)?;
            d.set_item("size", (height, width))?;
            d.set_item("stride", (stride_h, stride_w))?;
            d.set_item("overlapping", overlapping)?;
            d.set_item("pseudorandom", pseudorandom)?;
        }
        EdgeKind::Weight | EdgeKind::Identity => {}
    }
    d.set_item("time_skip", e.time_skip)?;
    d.set_item("port", e.port)?;
    d.set_item("trainable", e.trainable)?;
    d.set_item("weight", e.weight)?;
    d.set_item("enabled", e.enabled)?;
    Ok(d)
}
