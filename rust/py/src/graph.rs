//! `nervenet._core.Graph`: the graph IR (nodes, edges, stable ids) exposed to
//! Python. A thin wrapper: every check lives in the core, whose errors become
//! GraphError / ConfigError / ... naming the node or edge at fault.

use crate::errors::{raise, Kind, OrRaise};
use crate::ids::{EdgeArg, NodeArg};
use nervenet_core::{Activation, Edge, EdgeKind, EdgeSpec, Graph, Node, NodeKind, PoolOp, Role};
use pyo3::prelude::*;
use pyo3::types::PyDict;

const ACTIVATIONS: &str = "identity, linear, relu, relu6, leaky_relu, sigmoid, tanh, softsign";
const CELLS: &str = "lstm, gru, mgu, ugrnn, delta, lstm_unit, gru_unit";

#[pyclass(name = "Graph", module = "nervenet._core", eq)]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PyGraph {
    pub inner: Graph,
}

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

fn parse_role(py: Python<'_>, name: &str) -> PyResult<Role> {
    match name {
        "input" => Ok(Role::Input),
        "hidden" => Ok(Role::Hidden),
        "output" => Ok(Role::Output),
        _ => Err(raise(py, Kind::Config, format!("unknown node role {name:?}; expected input, hidden or output"))),
    }
}

fn parse_edge_kind(py: Python<'_>, name: &str) -> PyResult<EdgeKind> {
    match name {
        "weight" => Ok(EdgeKind::Weight),
        "identity" => Ok(EdgeKind::Identity),
        "filter" | "pool" => Err(raise(
            py,
            Kind::Unsupported,
            format!("{name} edges cannot be built from Python yet; use kind \"weight\" or \"identity\""),
        )),
        _ => Err(raise(py, Kind::Config, format!("unknown edge kind {name:?}; expected \"weight\" or \"identity\""))),
    }
}

fn time_skip(py: Python<'_>, value: i64) -> PyResult<u32> {
    u32::try_from(value)
        .map_err(|_| raise(py, Kind::Config, format!("time_skip must be an integer in 0..2**32, got {value}")))
}

fn port(py: Python<'_>, value: i64) -> PyResult<u8> {
    u8::try_from(value).map_err(|_| raise(py, Kind::Config, format!("port must be an integer in 0..4, got {value}")))
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Input => "input",
        Role::Hidden => "hidden",
        Role::Output => "output",
    }
}

fn node_dict<'py>(py: Python<'py>, n: &Node) -> PyResult<Bound<'py, PyDict>> {
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

fn edge_dict<'py>(py: Python<'py>, e: &Edge) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", e.id.0)?;
    d.set_item("src", e.src.0)?;
    d.set_item("dst", e.dst.0)?;
    d.set_item("kind", e.kind.name())?;
    match e.kind {
        EdgeKind::Filter { kh, kw, kc, stride, padding } => {
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

#[pymethods]
impl PyGraph {
    #[classattr]
    const __hash__: Option<Py<PyAny>> = None;

    #[new]
    fn new() -> Self {
        PyGraph::default()
    }

    /// Adds a node and returns its id.
    #[pyo3(signature = (role, activation = "identity", cap = None, slope = None, bias = None))]
    fn add_node(
        &mut self,
        py: Python<'_>,
        role: &str,
        activation: &str,
        cap: Option<f64>,
        slope: Option<f64>,
        bias: Option<bool>,
    ) -> PyResult<u32> {
        let role = parse_role(py, role)?;
        let act = parse_activation(py, activation, cap, slope)?;
        if role == Role::Input && act != Activation::Identity {
            return Err(raise(py, Kind::Config, format!("input nodes apply no activation; got {activation:?}")));
        }
        Ok(self.inner.add_node(role, NodeKind::simple(act), bias).or_raise(py)?.0)
    }

    /// Adds a memory cell (lstm, gru, mgu, ugrnn, delta, lstm_unit,
    /// gru_unit) and returns its id; cells carry their own biases.
    #[pyo3(signature = (role, kind))]
    fn add_cell(&mut self, py: Python<'_>, role: &str, kind: &str) -> PyResult<u32> {
        let role = parse_role(py, role)?;
        if role == Role::Input {
            return Err(raise(py, Kind::Config, "input nodes cannot be memory cells"));
        }
        let kind = NodeKind::parse_cell(kind)
            .ok_or_else(|| raise(py, Kind::Config, format!("unknown cell kind {kind:?}; expected one of {CELLS}")))?;
        Ok(self.inner.add_node(role, kind, Some(false)).or_raise(py)?.0)
    }

    /// Sets a node's initial bias value (and turns its bias on).
    fn set_bias(&mut self, py: Python<'_>, node: NodeArg, value: f64) -> PyResult<()> {
        // The core checks this only when a network is built; fail here, at the cause.
        if !value.is_finite() {
            self.inner.node(node.0).or_raise(py)?;
            return Err(raise(py, Kind::Data, format!("{}: bias value must be finite, got {value}", node.0)));
        }
        self.inner.set_bias_value(node.0, value).or_raise(py)
    }

    /// Sets an edge's initial (or, if fixed, permanent) weight.
    fn set_weight(&mut self, py: Python<'_>, edge: EdgeArg, value: f64) -> PyResult<()> {
        self.inner.set_edge_weight(edge.0, value).or_raise(py)
    }

    /// Connects src to dst and returns the new edge's id.
    #[pyo3(signature = (src, dst, time_skip = 0, trainable = true, weight = None, kind = "weight", port = 0))]
    #[allow(clippy::too_many_arguments)]
    fn add_edge(
        &mut self,
        py: Python<'_>,
        src: NodeArg,
        dst: NodeArg,
        time_skip: i64,
        trainable: bool,
        weight: Option<f64>,
        kind: &str,
        port: i64,
    ) -> PyResult<u32> {
        let spec = EdgeSpec {
            kind: parse_edge_kind(py, kind)?,
            time_skip: self::time_skip(py, time_skip)?,
            trainable,
            weight,
            port: self::port(py, port)?,
        };
        Ok(self.inner.add_edge(src.0, dst.0, spec).or_raise(py)?.0)
    }

    /// Connects every src to every dst (src-major order). All or nothing: on
    /// error the graph is left as it was.
    #[pyo3(signature = (srcs, dsts, time_skip = 0, trainable = true, port = 0))]
    fn connect_all(
        &mut self,
        py: Python<'_>,
        srcs: Vec<NodeArg>,
        dsts: Vec<NodeArg>,
        time_skip: i64,
        trainable: bool,
        port: i64,
    ) -> PyResult<Vec<u32>> {
        let spec = EdgeSpec {
            time_skip: self::time_skip(py, time_skip)?,
            trainable,
            port: self::port(py, port)?,
            ..EdgeSpec::default()
        };
        let edges: Vec<_> = srcs.iter().flat_map(|s| dsts.iter().map(move |d| (s.0, d.0, spec))).collect();
        let ids = self.inner.add_edges(&edges).or_raise(py)?;
        Ok(ids.into_iter().map(|e| e.0).collect())
    }

    /// Removes a node and every edge touching it.
    fn remove_node(&mut self, py: Python<'_>, node: NodeArg) -> PyResult<()> {
        self.inner.remove_node(node.0).or_raise(py).map(|_| ())
    }

    fn remove_edge(&mut self, py: Python<'_>, edge: EdgeArg) -> PyResult<()> {
        self.inner.remove_edge(edge.0).or_raise(py).map(|_| ())
    }

    /// Splits src -> dst into src -> new -> dst; returns (new node, first edge, second edge).
    #[pyo3(signature = (edge, activation = "identity"))]
    fn split_edge(&mut self, py: Python<'_>, edge: EdgeArg, activation: &str) -> PyResult<(u32, u32, u32)> {
        let act = parse_activation(py, activation, None, None)?;
        let (n, a, b) = self.inner.split_edge(edge.0, NodeKind::simple(act)).or_raise(py)?;
        Ok((n.0, a.0, b.0))
    }

    fn set_node_enabled(&mut self, py: Python<'_>, node: NodeArg, enabled: bool) -> PyResult<()> {
        self.inner.set_node_enabled(node.0, enabled).or_raise(py)
    }

    fn set_edge_enabled(&mut self, py: Python<'_>, edge: EdgeArg, enabled: bool) -> PyResult<()> {
        self.inner.set_edge_enabled(edge.0, enabled).or_raise(py)
    }

    /// The id of the edge src -> dst with this time skip, or None.
    #[pyo3(signature = (src, dst, time_skip = 0, port = 0))]
    fn find_edge(
        &self,
        py: Python<'_>,
        src: NodeArg,
        dst: NodeArg,
        time_skip: i64,
        port: i64,
    ) -> PyResult<Option<u32>> {
        Ok(self.inner.find_edge_at(src.0, dst.0, self::time_skip(py, time_skip)?, self::port(py, port)?).map(|e| e.0))
    }

    /// Input node ids in id order (the order of input features).
    fn inputs(&self) -> Vec<u32> {
        self.inner.inputs().iter().map(|n| n.0).collect()
    }

    /// Output node ids in id order (the order of network outputs).
    fn outputs(&self) -> Vec<u32> {
        self.inner.outputs().iter().map(|n| n.0).collect()
    }

    fn node<'py>(&self, py: Python<'py>, node: NodeArg) -> PyResult<Bound<'py, PyDict>> {
        node_dict(py, self.inner.node(node.0).or_raise(py)?)
    }

    fn edge<'py>(&self, py: Python<'py>, edge: EdgeArg) -> PyResult<Bound<'py, PyDict>> {
        edge_dict(py, self.inner.edge(edge.0).or_raise(py)?)
    }

    fn node_ids(&self) -> Vec<u32> {
        self.inner.nodes().map(|n| n.id.0).collect()
    }

    fn edge_ids(&self) -> Vec<u32> {
        self.inner.edges().map(|e| e.id.0).collect()
    }

    #[getter]
    fn num_nodes(&self) -> usize {
        self.inner.num_nodes()
    }

    #[getter]
    fn num_edges(&self) -> usize {
        self.inner.num_edges()
    }

    /// Checks every invariant (graphs from JSON may break some).
    fn validate(&self, py: Python<'_>) -> PyResult<()> {
        self.inner.validate().or_raise(py)
    }

    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<PyGraph> {
        Ok(PyGraph { inner: Graph::from_json(text).or_raise(py)? })
    }

    fn copy(&self) -> PyGraph {
        self.clone()
    }

    fn __repr__(&self) -> String {
        format!("Graph(nodes={}, edges={})", self.inner.num_nodes(), self.inner.num_edges())
    }
}
