//! `nervenet._core.Graph`: the graph IR (nodes, edges, stable ids) exposed to
//! Python. A thin wrapper: every check lives in the core, whose errors become
//! GraphError / ConfigError / ... naming the node or edge at fault.

use crate::errors::{raise, Kind, OrRaise};
use crate::graph_args::{edge_dict, node_dict};
use crate::ids::{EdgeArg, NodeArg};
use nervenet_core::graph::args::{padding, port, size, time_skip};
use nervenet_core::{Activation, CellKind, EdgeKind, EdgeSpec, Graph, NodeKind, PoolOp, Role};
use pyo3::prelude::*;
use pyo3::types::PyDict;

#[pyclass(name = "Graph", module = "nervenet._core", eq)]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PyGraph {
    pub inner: Graph,
}

impl PyGraph {
    /// Adds a node asked for by name, refusing kinds its role cannot have.
    fn add_named(&mut self, py: Python<'_>, role: Role, kind: NodeKind, bias: Option<bool>) -> PyResult<u32> {
        role.check_kind(&kind).or_raise(py)?;
        Ok(self.inner.add_node(role, kind, bias).or_raise(py)?.0)
    }

    /// Adds one edge after the shape check of edges touching feature maps,
    /// so a bad size fails here, at its cause.
    fn add_checked(&mut self, py: Python<'_>, src: NodeArg, dst: NodeArg, spec: EdgeSpec) -> PyResult<u32> {
        self.inner.check_edge_shape(src.0, dst.0, &spec).or_raise(py)?;
        Ok(self.inner.add_edge(src.0, dst.0, spec).or_raise(py)?.0)
    }
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
        let role = Role::parse(role).or_raise(py)?;
        let kind = NodeKind::simple(Activation::parse(activation, cap, slope).or_raise(py)?);
        self.add_named(py, role, kind, bias)
    }

    /// Adds `n` nodes alike and returns their ids; refused whole (before
    /// anything is added) if they would not fit the id range or the memory
    /// budget. `kind` is a cell kind, or None for simple nodes.
    #[pyo3(signature = (n, role, activation = "identity", cap = None, slope = None, bias = None, kind = None))]
    fn add_nodes(
        &mut self,
        py: Python<'_>,
        n: u64,
        role: &str,
        activation: &str,
        cap: Option<f64>,
        slope: Option<f64>,
        bias: Option<bool>,
        kind: Option<&str>,
    ) -> PyResult<Vec<u32>> {
        let role = Role::parse(role).or_raise(py)?;
        let (kind, bias) = match kind {
            Some(k) => (NodeKind::Cell(CellKind::parse(k).or_raise(py)?), Some(false)),
            None => (NodeKind::simple(Activation::parse(activation, cap, slope).or_raise(py)?), bias),
        };
        role.check_kind(&kind).or_raise(py)?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        let ids = self.inner.add_nodes(n, role, kind, bias).or_raise(py)?;
        Ok(ids.into_iter().map(|id| id.0).collect())
    }

    /// Adds a memory cell (lstm, gru, mgu, ugrnn, delta, lstm_unit,
    /// gru_unit) and returns its id; cells carry their own biases.
    #[pyo3(signature = (role, kind))]
    fn add_cell(&mut self, py: Python<'_>, role: &str, kind: &str) -> PyResult<u32> {
        let role = Role::parse(role).or_raise(py)?;
        let kind = NodeKind::Cell(CellKind::parse(kind).or_raise(py)?);
        self.add_named(py, role, kind, Some(false))
    }

    /// Adds a feature map of `channels × height × width` values and returns
    /// its id. Input maps apply no activation and have no bias;
    /// `activation = None` means relu for hidden and output maps.
    #[pyo3(signature = (channels, height, width, role = "hidden", activation = None, cap = None, slope = None,
                        bias = None, untied_bias = true))]
    fn add_feature_map(
        &mut self,
        py: Python<'_>,
        channels: i64,
        height: i64,
        width: i64,
        role: &str,
        activation: Option<&str>,
        cap: Option<f64>,
        slope: Option<f64>,
        bias: Option<bool>,
        untied_bias: bool,
    ) -> PyResult<u32> {
        let role = Role::parse(role).or_raise(py)?;
        let name = activation.unwrap_or(if role == Role::Input { "identity" } else { "relu" });
        let kind = NodeKind::FeatureMap {
            channels: size(channels, "channels").or_raise(py)?,
            height: size(height, "height").or_raise(py)?,
            width: size(width, "width").or_raise(py)?,
            activation: Activation::parse(name, cap, slope).or_raise(py)?,
            untied_bias,
        };
        self.add_named(py, role, kind, bias)
    }

    /// Adds a filter edge between two maps (kh × kw, depth `depth` for the
    /// notes' 3D filters, else the source's channels) after checking that
    /// the sizes fit; returns its id.
    #[pyo3(signature = (src, dst, kh, kw, stride = 1, padding = 0, depth = None))]
    fn connect_filter(
        &mut self,
        py: Python<'_>,
        src: NodeArg,
        dst: NodeArg,
        kh: i64,
        kw: i64,
        stride: i64,
        padding: i64,
        depth: Option<i64>,
    ) -> PyResult<u32> {
        let kind = EdgeKind::Filter {
            kh: size(kh, "filter height").or_raise(py)?,
            kw: size(kw, "filter width").or_raise(py)?,
            kc: depth.map(|d| size(d, "depth")).transpose().or_raise(py)?,
            stride: size(stride, "stride").or_raise(py)?,
            padding: self::padding(padding, "padding").or_raise(py)?,
        };
        self.add_checked(py, src, dst, EdgeSpec { kind, ..EdgeSpec::default() })
    }

    /// Adds a pool edge between two maps of equal channel counts after
    /// checking that the windows tile the source; returns its id.
    #[pyo3(signature = (src, dst, op = "max", height = 2, width = 2, stride_h = 2, stride_w = 2,
                        overlapping = false, pseudorandom = false))]
    fn connect_pool(
        &mut self,
        py: Python<'_>,
        src: NodeArg,
        dst: NodeArg,
        op: &str,
        height: i64,
        width: i64,
        stride_h: i64,
        stride_w: i64,
        overlapping: bool,
        pseudorandom: bool,
    ) -> PyResult<u32> {
        let kind = EdgeKind::Pool {
            op: PoolOp::parse(op).or_raise(py)?,
            height: size(height, "pool height").or_raise(py)?,
            width: size(width, "pool width").or_raise(py)?,
            stride_h: size(stride_h, "pool stride").or_raise(py)?,
            stride_w: size(stride_w, "pool stride").or_raise(py)?,
            overlapping,
            pseudorandom,
        };
        self.add_checked(py, src, dst, EdgeSpec { kind, trainable: false, ..EdgeSpec::default() })
    }

    /// Checks the shapes of every edge touching a feature map (ShapeError,
    /// GraphError or UnsupportedError naming the edge and the numbers).
    fn check_shapes(&self, py: Python<'_>) -> PyResult<()> {
        self.inner.check_shapes().or_raise(py)
    }

    /// Trainable parameters as a network lays them out (counted analytically).
    fn count_params(&self, py: Python<'_>) -> PyResult<usize> {
        self.inner.count_params().or_raise(py)
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
            kind: EdgeKind::parse_scalar(kind).or_raise(py)?,
            time_skip: self::time_skip(time_skip).or_raise(py)?,
            trainable,
            weight,
            port: self::port(port).or_raise(py)?,
        };
        self.add_checked(py, src, dst, spec)
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
            time_skip: self::time_skip(time_skip).or_raise(py)?,
            trainable,
            port: self::port(port).or_raise(py)?,
            ..EdgeSpec::default()
        };
        // Refused before the list of pairs is built (10^5 × 10^5 would not fit).
        self.inner.reserve_edges(srcs.len().saturating_mul(dsts.len())).or_raise(py)?;
        let edges: Vec<_> = srcs.iter().flat_map(|s| dsts.iter().map(move |d| (s.0, d.0, spec))).collect();
        for (s, d, spec) in &edges {
            self.inner.check_edge_shape(*s, *d, spec).or_raise(py)?;
        }
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
        let act = Activation::parse(activation, None, None).or_raise(py)?;
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
        let (skip, port) = (self::time_skip(time_skip).or_raise(py)?, self::port(port).or_raise(py)?);
        Ok(self.inner.find_edge_at(src.0, dst.0, skip, port).map(|e| e.0))
    }

    /// Gives a node its (run-wide) innovation number; unique among the nodes.
    fn set_node_innovation(&mut self, py: Python<'_>, node: NodeArg, innovation: u64) -> PyResult<()> {
        self.inner.set_node_innovation(node.0, innovation).or_raise(py)
    }

    /// Gives an edge its (run-wide) innovation number; unique among the edges.
    fn set_edge_innovation(&mut self, py: Python<'_>, edge: EdgeArg, innovation: u64) -> PyResult<()> {
        self.inner.set_edge_innovation(edge.0, innovation).or_raise(py)
    }

    /// The id of the node with this innovation number, or None.
    fn find_node_by_innovation(&self, innovation: u64) -> Option<u32> {
        self.inner.node_by_innovation(innovation).map(|n| n.0)
    }

    /// The id of the edge with this innovation number, or None.
    fn find_edge_by_innovation(&self, innovation: u64) -> Option<u32> {
        self.inner.edge_by_innovation(innovation).map(|e| e.0)
    }

    /// The largest innovation number among the nodes, or None.
    fn max_node_innovation(&self) -> Option<u64> {
        self.inner.max_node_innovation()
    }

    /// The largest innovation number among the edges, or None.
    fn max_edge_innovation(&self) -> Option<u64> {
        self.inner.max_edge_innovation()
    }

    /// Hash of the enabled structure by innovation numbers (duplicate genomes).
    fn structural_hash(&self) -> u64 {
        self.inner.structural_hash()
    }

    /// Input node ids in id order (the order of input features).
    fn inputs(&self) -> Vec<u32> {
        self.inner.inputs().iter().map(|n| n.0).collect()
    }

    /// Output node ids in id order (the order of network outputs).
    fn outputs(&self) -> Vec<u32> {
        self.inner.outputs().iter().map(|n| n.0).collect()
    }

    /// Enabled output nodes no enabled edge feeds (they give only their bias).
    fn unfed_outputs(&self) -> Vec<u32> {
        self.inner.unfed_outputs().iter().map(|n| n.0).collect()
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
