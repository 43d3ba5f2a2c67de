//! `nervenet._core.Network`: a compiled graph with its parameters, in float32
//! or float64. The dtype is chosen at construction; every method dispatches
//! once on it (`with_net!`) into the generic code of `ops.rs`.

use crate::arrays::to_numpy;
use crate::errors::{raise, Kind, OrRaise};
use crate::graph::PyGraph;
use crate::ops;
use nervenet_core::{Init, Network, PlanOptions, WeightInit};
use pyo3::prelude::*;
use pyo3::types::PyDict;

pub(crate) enum Net {
    F32(Network<f32>),
    F64(Network<f64>),
}

/// Runs `$body` with `$n` bound to the network, whatever its dtype.
macro_rules! with_net {
    ($net:expr, $n:ident => $body:expr) => {
        match $net {
            Net::F32($n) => $body,
            Net::F64($n) => $body,
        }
    };
}

#[pyclass(name = "Network", module = "nervenet._core")]
pub struct PyNetwork {
    pub(crate) net: Net,
}

#[pymethods]
impl PyNetwork {
    #[new]
    #[pyo3(signature = (
        graph, dtype = "float32", init = "xavier", bias_init = 0.0, seed = 0,
        dense_min_density = None, dense_min_edges = None
    ))]
    fn new(
        py: Python<'_>,
        graph: PyRef<'_, PyGraph>,
        dtype: &str,
        init: &str,
        bias_init: f64,
        seed: u64,
        dense_min_density: Option<f64>,
        dense_min_edges: Option<usize>,
    ) -> PyResult<Self> {
        let init = Init { weights: WeightInit::parse(init).or_raise(py)?, bias: bias_init };
        let defaults = PlanOptions::default();
        let options = PlanOptions {
            dense_min_density: dense_min_density.unwrap_or(defaults.dense_min_density),
            dense_min_edges: dense_min_edges.unwrap_or(defaults.dense_min_edges),
        };
        let graph = graph.inner.clone();
        let net = match dtype {
            "float32" => Net::F32(py.detach(|| Network::with_options(graph, &init, seed, options)).or_raise(py)?),
            "float64" => Net::F64(py.detach(|| Network::with_options(graph, &init, seed, options)).or_raise(py)?),
            _ => return Err(raise(py, Kind::DType, format!("networks run in float32 or float64, not {dtype:?}"))),
        };
        Ok(PyNetwork { net })
    }

    /// "float32" or "float64".
    #[getter]
    fn dtype(&self) -> &'static str {
        match self.net {
            Net::F32(_) => "float32",
            Net::F64(_) => "float64",
        }
    }

    #[getter]
    fn n_inputs(&self) -> usize {
        with_net!(&self.net, n => n.n_inputs())
    }

    #[getter]
    fn n_outputs(&self) -> usize {
        with_net!(&self.net, n => n.n_outputs())
    }

    #[getter]
    fn n_params(&self) -> usize {
        with_net!(&self.net, n => n.params().len())
    }

    /// Stable parameter names (`edge:17`, `node:5:bias`) in flat-buffer order.
    #[getter]
    fn param_names(&self) -> Vec<String> {
        with_net!(&self.net, n => n.param_names().into_iter().map(String::from).collect())
    }

    /// Whether each parameter is trainable (fixed ones get zero gradient).
    #[getter]
    fn trainable<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let flags: Vec<bool> = with_net!(&self.net, n => n.plan().params.iter().map(|p| p.trainable).collect());
        let len = flags.len();
        to_numpy(py, flags, &[len])
    }

    /// The largest time skip of any edge (0 for feed-forward networks).
    #[getter]
    fn max_skip(&self) -> usize {
        with_net!(&self.net, n => n.plan().max_skip)
    }

    /// A copy of the flat parameter vector, in the network's dtype.
    fn get_parameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        with_net!(&self.net, n => ops::get_parameters(py, n))
    }

    /// Replaces every parameter (fixed ones must keep their values).
    fn set_parameters(&mut self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        with_net!(&mut self.net, n => ops::set_parameters(py, n, values))
    }

    fn get_param(&self, py: Python<'_>, name: &str) -> PyResult<f64> {
        with_net!(&self.net, n => ops::get_param(py, n, name))
    }

    fn set_param(&mut self, py: Python<'_>, name: &str, value: f64) -> PyResult<()> {
        with_net!(&mut self.net, n => ops::set_param(py, n, name, value))
    }

    /// A copy of the network's graph.
    fn graph(&self) -> PyGraph {
        PyGraph { inner: with_net!(&self.net, n => n.graph().clone()) }
    }

    /// Outputs (batch, steps, n_outputs) for inputs (batch, steps, n_inputs).
    fn forward<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        with_net!(&self.net, n => ops::forward(py, n, x))
    }

    /// (loss, dL/dθ, dL/dx or None). `objective` is
    /// `(targets, loss, reduction, mask or None)`.
    #[pyo3(signature = (x, objective, input_grads = false))]
    fn loss_and_gradient<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        objective: ops::Objective<'py>,
        input_grads: bool,
    ) -> PyResult<ops::GradResult<'py>> {
        with_net!(&self.net, n => ops::loss_and_gradient(py, n, x, &objective, input_grads))
    }

    /// (outputs, loss, dL/dθ or None, final state) starting from `state`
    /// (batch, memory, rows) or zeros; `objective` as for loss_and_gradient.
    #[pyo3(signature = (x, state = None, objective = None))]
    fn run_stateful<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        state: Option<Bound<'py, PyAny>>,
        objective: Option<ops::Objective<'py>>,
    ) -> PyResult<ops::StatefulResult<'py>> {
        with_net!(&self.net, n => ops::run_stateful(py, n, x, state.as_ref(), objective.as_ref()))
    }

    /// Rows of a state: every node's value, then memory cells' ports and states.
    #[getter]
    fn state_rows(&self) -> usize {
        with_net!(&self.net, n => n.plan().n_rows())
    }

    /// Steps of history a state holds (the longest time skip, at least 1
    /// with memory cells).
    #[getter]
    fn memory(&self) -> usize {
        with_net!(&self.net, n => n.plan().memory)
    }

    /// One vanilla gradient-descent step (θ ← θ − lr·∇L); returns the loss before it.
    fn sgd_step(
        &mut self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        objective: ops::Objective<'_>,
        learning_rate: f64,
    ) -> PyResult<f64> {
        with_net!(&mut self.net, n => ops::sgd_step(py, n, x, &objective, learning_rate))
    }

    /// Vector-Jacobian product: (dL/dθ, dL/dx or None) for dL/d(outputs).
    #[pyo3(signature = (x, output_grad, input_grads = false))]
    fn backward<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        output_grad: &Bound<'py, PyAny>,
        input_grads: bool,
    ) -> PyResult<(Bound<'py, PyAny>, Option<Bound<'py, PyAny>>)> {
        with_net!(&self.net, n => ops::backward(py, n, x, output_grad, input_grads))
    }

    /// Central-difference gradient of the loss (float64).
    fn numeric_gradient<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        objective: ops::Objective<'py>,
        step: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        with_net!(&self.net, n => ops::numeric_gradient(py, n, x, &objective, step))
    }

    /// Backprop against finite differences, per parameter.
    fn check_gradients<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        objective: ops::Objective<'py>,
        step: f64,
    ) -> PyResult<Bound<'py, PyDict>> {
        with_net!(&self.net, n => ops::check_gradients(py, n, x, &objective, step))
    }

    /// What the compiled plan runs: levels, dense / masked / sparse blocks.
    fn plan_summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = with_net!(&self.net, n => n.plan().summary());
        let d = PyDict::new(py);
        d.set_item("levels", s.levels)?;
        d.set_item("max_skip", s.max_skip)?;
        d.set_item("dense_blocks", s.dense_blocks)?;
        d.set_item("masked_blocks", s.masked_blocks)?;
        d.set_item("sparse_blocks", s.sparse_blocks)?;
        d.set_item("dense_params", s.dense_params)?;
        d.set_item("sparse_params", s.sparse_params)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Network(inputs={}, outputs={}, params={}, dtype={:?})",
            self.n_inputs(),
            self.n_outputs(),
            self.n_params(),
            self.dtype()
        )
    }
}
