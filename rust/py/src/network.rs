//! `nervenet._core.Network`: a compiled graph with its parameters, in float32
//! or float64. The dtype is chosen at construction; every method dispatches
//! once on it (`with_net!`) into the generic code of `ops.rs`.

use crate::arrays::to_numpy;
use crate::errors::{detach_guarded, raise, Kind, OrRaise};
use crate::graph::PyGraph;
use crate::ops;
use nervenet_core::{GroupKind, Init, Network, ParamGroup, Plan, PlanOptions, WeightInit};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError};
use std::thread::ThreadId;

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

/// A network shared by Python threads. Forward-only calls hold the lock
/// shared, so any number run at once (each run takes its own buffers from
/// the core's workspace); calls that change parameters (a training epoch,
/// `set_parameters`, `sgd_step`, ...) hold it alone, waiting — with the GIL
/// released — for running calls to finish. A call that would have to wait
/// for a change instead raises BusyError at once: a change can last an
/// epoch, and a thread changing the network from a callback must not wait
/// for itself. Sizes that never change are kept outside the lock.
#[pyclass(name = "Network", module = "nervenet._core", frozen)]
pub struct PyNetwork {
    net: RwLock<Net>,
    /// The thread holding the lock alone, while it does.
    writer: Mutex<Option<ThreadId>>,
    meta: Meta,
}

/// What a network's calls report without reading its parameters.
struct Meta {
    dtype: &'static str,
    n_inputs: usize,
    n_outputs: usize,
    n_params: usize,
    plan_bytes: usize,
    max_skip: usize,
    state_rows: usize,
    memory: usize,
}

/// The network held alone; dropping it lets other calls in again.
pub(crate) struct Changing<'a> {
    guard: RwLockWriteGuard<'a, Net>,
    writer: &'a Mutex<Option<ThreadId>>,
}

impl std::ops::Deref for Changing<'_> {
    type Target = Net;
    fn deref(&self) -> &Net {
        &self.guard
    }
}

impl std::ops::DerefMut for Changing<'_> {
    fn deref_mut(&mut self) -> &mut Net {
        &mut self.guard
    }
}

impl Drop for Changing<'_> {
    fn drop(&mut self) {
        *self.writer.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

impl PyNetwork {
    fn wrap(net: Net) -> PyNetwork {
        let meta = with_net!(&net, n => Meta {
            dtype: if matches!(net, Net::F32(_)) { "float32" } else { "float64" },
            n_inputs: n.n_inputs(),
            n_outputs: n.n_outputs(),
            n_params: n.params().len(),
            plan_bytes: n.plan().heap_bytes(),
            max_skip: n.plan().max_skip,
            state_rows: n.plan().n_rows(),
            memory: n.plan().memory,
        });
        PyNetwork { net: RwLock::new(net), writer: Mutex::new(None), meta }
    }

    fn writer(&self) -> Option<ThreadId> {
        *self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The network for a call that only reads it (any number at once), or
    /// BusyError while a change runs or waits.
    pub(crate) fn read(&self, py: Python<'_>) -> PyResult<RwLockReadGuard<'_, Net>> {
        match self.net.try_read() {
            Ok(guard) => Ok(guard),
            // Only a panic poisons the lock, and the core's passes never
            // leave parameters half written: the values stand.
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(raise(
                py,
                Kind::Busy,
                "the network is being changed by another call (a fit epoch, set_parameters, sgd_step, ...); \
                 call it again when that has finished",
            )),
        }
    }

    /// The network for a call that changes it (`what`), alone: waits, with
    /// the GIL released, for running calls to finish; BusyError if this
    /// thread is already changing it (a callback inside a fit epoch).
    pub(crate) fn write(&self, py: Python<'_>, what: &str) -> PyResult<Changing<'_>> {
        let me = std::thread::current().id();
        if self.writer() == Some(me) {
            return Err(raise(
                py,
                Kind::Busy,
                format!(
                    "{what}: this thread is changing the network already (a fit epoch is running); \
                         change it between epochs"
                ),
            ));
        }
        loop {
            let guard = match self.net.try_write() {
                Ok(guard) => guard,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                Err(TryLockError::WouldBlock) => {
                    // Wait for the running calls without the GIL (a guard
                    // cannot leave this thread's frame, so take it again).
                    py.detach(|| drop(self.net.write()));
                    continue;
                }
            };
            *self.writer.lock().unwrap_or_else(|e| e.into_inner()) = Some(me);
            return Ok(Changing { guard, writer: &self.writer });
        }
    }
}

/// `(name, kind, owner id, shape, start, stop, trainable)` of a group.
type GroupTuple = (String, &'static str, u32, Vec<u32>, usize, usize, bool);

fn group_tuple(g: &ParamGroup) -> GroupTuple {
    let (kind, owner) = match g.kind {
        GroupKind::Edge(e) => ("edge", e.0),
        GroupKind::Bias(n) => ("bias", n.0),
        GroupKind::GateBias(n, _) => ("gate_bias", n.0),
        GroupKind::Cell(n, _) => ("cell", n.0),
    };
    (g.name(), kind, owner, g.shape.dims().to_vec(), g.params.start, g.params.end, g.trainable)
}

/// Compiles `graph`'s plan alone (no parameters): `(seconds, heap bytes of
/// the bookkeeping, parameter groups, parameters)`, for benchmarks.
#[pyfunction]
pub fn plan_stats(py: Python<'_>, graph: PyRef<'_, PyGraph>) -> PyResult<(f64, usize, usize, usize)> {
    let graph = graph.inner.clone();
    let (seconds, plan) = py.detach(|| {
        let start = std::time::Instant::now();
        let plan = Plan::compile(&graph);
        (start.elapsed().as_secs_f64(), plan)
    });
    let plan = plan.or_raise(py)?;
    Ok((seconds, plan.heap_bytes(), plan.groups.len(), plan.n_params()))
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
            ..defaults
        };
        let graph = graph.inner.clone();
        let net = match dtype {
            "float32" => Net::F32(detach_guarded(py, || Network::with_options(graph, &init, seed, options))?),
            "float64" => Net::F64(detach_guarded(py, || Network::with_options(graph, &init, seed, options))?),
            _ => return Err(raise(py, Kind::DType, format!("networks run in float32 or float64, not {dtype:?}"))),
        };
        Ok(PyNetwork::wrap(net))
    }

    /// "float32" or "float64".
    #[getter]
    fn dtype(&self) -> &'static str {
        self.meta.dtype
    }

    #[getter]
    fn n_inputs(&self) -> usize {
        self.meta.n_inputs
    }

    #[getter]
    fn n_outputs(&self) -> usize {
        self.meta.n_outputs
    }

    #[getter]
    fn n_params(&self) -> usize {
        self.meta.n_params
    }

    /// Stable parameter names (`edge:17`, `node:5:bias`) in flat-buffer order.
    #[getter]
    fn param_names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        Ok(with_net!(&*self.read(py)?, n => n.param_names()))
    }

    /// The name of parameter `i`.
    fn param_name(&self, py: Python<'_>, i: usize) -> PyResult<String> {
        Ok(with_net!(&*self.read(py)?, n => n.param_name(i)))
    }

    /// The flat index of the parameter named `name`.
    fn param_index(&self, py: Python<'_>, name: &str) -> PyResult<usize> {
        with_net!(&*self.read(py)?, n => n.param_index(name)).or_raise(py)
    }

    /// Whether each parameter is trainable (fixed ones get zero gradient).
    #[getter]
    fn trainable<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (len, spans) = with_net!(&*self.read(py)?, n => (n.params().len(), n.groups().trainable_spans()));
        let mut flags = vec![false; len];
        for r in spans {
            flags[r].fill(true);
        }
        to_numpy(py, flags, &[len])
    }

    /// Every parameter group in flat-buffer order, as
    /// `(name, kind, owner id, shape, start, stop, trainable)`; kind is
    /// "edge", "bias", "gate_bias" or "cell", the owner an edge or node id.
    fn groups(&self, py: Python<'_>) -> PyResult<Vec<GroupTuple>> {
        Ok(with_net!(&*self.read(py)?, n => n.groups().iter().map(group_tuple).collect()))
    }

    /// A copy of one group's values, shaped.
    fn get_group<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        with_net!(&*self.read(py)?, n => {
            let (g, values) = n.group_values(name).or_raise(py)?;
            let shape: Vec<usize> = g.shape.dims().iter().map(|&d| d as usize).collect();
            to_numpy(py, values.to_vec(), &shape)
        })
    }

    /// Replaces one group's values (any shape with the group's size).
    fn set_group(&self, py: Python<'_>, name: &str, values: &Bound<'_, PyAny>) -> PyResult<()> {
        with_net!(&mut *self.write(py, "set_group")?, n => ops::set_group(py, n, name, values))
    }

    /// Heap bytes of the compiled plan's bookkeeping.
    #[getter]
    fn plan_bytes(&self) -> usize {
        self.meta.plan_bytes
    }

    /// The largest time skip of any edge (0 for feed-forward networks).
    #[getter]
    fn max_skip(&self) -> usize {
        self.meta.max_skip
    }

    /// A copy of the flat parameter vector, in the network's dtype.
    fn get_parameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        with_net!(&*self.read(py)?, n => ops::get_parameters(py, n))
    }

    /// Replaces every parameter (fixed ones must keep their values).
    fn set_parameters(&self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        with_net!(&mut *self.write(py, "set_parameters")?, n => ops::set_parameters(py, n, values))
    }

    fn get_param(&self, py: Python<'_>, name: &str) -> PyResult<f64> {
        with_net!(&*self.read(py)?, n => ops::get_param(py, n, name))
    }

    fn set_param(&self, py: Python<'_>, name: &str, value: f64) -> PyResult<()> {
        with_net!(&mut *self.write(py, "set_param")?, n => ops::set_param(py, n, name, value))
    }

    /// A copy of the network's graph.
    fn graph(&self, py: Python<'_>) -> PyResult<PyGraph> {
        Ok(PyGraph { inner: with_net!(&*self.read(py)?, n => n.graph().clone()) })
    }

    /// Outputs (batch, steps, n_outputs) for inputs (batch, steps, n_inputs).
    fn forward<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        with_net!(&*self.read(py)?, n => ops::forward(py, n, x))
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
        with_net!(&*self.read(py)?, n => ops::loss_and_gradient(py, n, x, &objective, input_grads))
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
        with_net!(&*self.read(py)?, n => ops::run_stateful(py, n, x, state.as_ref(), objective.as_ref()))
    }

    /// Rows of a state: every node's value, then memory cells' ports and states.
    #[getter]
    fn state_rows(&self) -> usize {
        self.meta.state_rows
    }

    /// Steps of history a state holds (the longest time skip, at least 1
    /// with memory cells).
    #[getter]
    fn memory(&self) -> usize {
        self.meta.memory
    }

    /// One vanilla gradient-descent step (θ ← θ − lr·∇L); returns the loss before it.
    fn sgd_step(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        objective: ops::Objective<'_>,
        learning_rate: f64,
    ) -> PyResult<f64> {
        with_net!(&mut *self.write(py, "sgd_step")?, n => ops::sgd_step(py, n, x, &objective, learning_rate))
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
        with_net!(&*self.read(py)?, n => ops::backward(py, n, x, output_grad, input_grads))
    }

    /// Central-difference gradient of the loss (float64).
    fn numeric_gradient<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        objective: ops::Objective<'py>,
        step: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        with_net!(&*self.read(py)?, n => ops::numeric_gradient(py, n, x, &objective, step))
    }

    /// Backprop against finite differences, per parameter.
    fn check_gradients<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        objective: ops::Objective<'py>,
        step: f64,
    ) -> PyResult<Bound<'py, PyDict>> {
        with_net!(&*self.read(py)?, n => ops::check_gradients(py, n, x, &objective, step))
    }

    /// What the compiled plan runs: levels, dense / masked / sparse blocks.
    fn plan_summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = with_net!(&*self.read(py)?, n => n.plan().summary());
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

    /// Test-only: the most bytes of run buffers out at once since the
    /// last reset (`reset` starts a new measurement).
    #[pyo3(signature = (reset = false))]
    fn _workspace_peak(&self, py: Python<'_>, reset: bool) -> PyResult<usize> {
        Ok(with_net!(&*self.read(py)?, n => n.workspace_peak_bytes(reset)))
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
