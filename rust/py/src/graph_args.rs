//! Nodes and edges of `nervenet._core.Graph` as the dicts Python sees.

use nervenet_core::{Activation, Edge, EdgeKind, Node, NodeKind};
use pyo3::prelude::*;
use pyo3::types::PyDict;

pub fn node_dict<'py>(py: Python<'py>, n: &Node) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", n.id.0)?;
    d.set_item("innovation", n.innovation)?;
    d.set_item("role", n.role.name())?;
    d.set_item("kind", n.kind.name())?;
    match n.kind {
        NodeKind::Simple { activation } => set_activation(&d, activation)?,
        NodeKind::FeatureMap { channels, height, width, activation, untied_bias } => {
            set_activation(&d, activation)?;
            d.set_item("shape", (channels, height, width))?;
            d.set_item("channels", channels)?;
            d.set_item("height", height)?;
            d.set_item("width", width)?;
            d.set_item("untied_bias", untied_bias)?;
        }
        NodeKind::Cell(_) => d.set_item("activation", py.None())?,
    }
    d.set_item("bias", n.bias)?;
    d.set_item("bias_value", n.bias_value)?;
    d.set_item("enabled", n.enabled)?;
    Ok(d)
}

/// The activation's name, and its parameter under its own key.
fn set_activation(d: &Bound<'_, PyDict>, activation: Activation) -> PyResult<()> {
    d.set_item("activation", activation.name())?;
    match activation {
        Activation::Relu6 { cap } => d.set_item("cap", cap),
        Activation::LeakyRelu { slope } => d.set_item("slope", slope),
        _ => Ok(()),
    }
}

pub fn edge_dict<'py>(py: Python<'py>, e: &Edge) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", e.id.0)?;
    d.set_item("innovation", e.innovation)?;
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
            d.set_item("op", op.name())?;
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
