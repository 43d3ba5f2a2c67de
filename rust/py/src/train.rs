//! `nervenet._core.Trainer` and `evaluate`: whole epochs of training, and
//! evaluation of held-out data, run in Rust with the GIL released.

use crate::arrays::{read, to_numpy};
use crate::errors::{detach_guarded, raise, Kind, OrRaise};
use crate::network::{Net, PyNetwork};
use crate::ops::{Float, Inputs, LossArgs, Objective};
use nervenet_core::{evaluate_population, BatchEvent, Error, Metrics, Network, TrainConfig, Trainer};
use pyo3::prelude::*;
use pyo3::types::PyDict;

enum AnyTrainer {
    F32(Trainer<f32>),
    F64(Trainer<f64>),
}

/// Runs `$body` with `$t` bound to the trainer, whatever its dtype.
macro_rules! with_trainer {
    ($trainer:expr, $t:ident => $body:expr) => {
        match $trainer {
            AnyTrainer::F32($t) => $body,
            AnyTrainer::F64($t) => $body,
        }
    };
}

/// Optimiser state and settings across the epochs of one `fit`.
#[pyclass(name = "Trainer", module = "nervenet._core")]
pub struct PyTrainer {
    inner: AnyTrainer,
}

#[pymethods]
impl PyTrainer {
    /// `config` is the JSON training configuration (see `TrainConfig::from_json`).
    #[new]
    fn new(py: Python<'_>, network: PyRef<'_, PyNetwork>, config: &str) -> PyResult<Self> {
        let config = TrainConfig::from_json(config).or_raise(py)?;
        let inner = match &*network.read(py)? {
            Net::F32(n) => AnyTrainer::F32(Trainer::new(config, n.params().len()).or_raise(py)?),
            Net::F64(n) => AnyTrainer::F64(Trainer::new(config, n.params().len()).or_raise(py)?),
        };
        Ok(PyTrainer { inner })
    }

    /// Trains one epoch; returns its report (loss, metrics, learning rate,
    /// gradient norm, update/weight ratio, batches, rollbacks). `on_batch`,
    /// if given, is called as `on_batch(batch, size, end, loss, gradient_norm)`
    /// before (end = False) and after (end = True) every batch, with the
    /// GIL, so only when a callback wants batch events.
    #[pyo3(signature = (network, x, objective, epoch, on_batch = None))]
    fn epoch<'py>(
        &mut self,
        py: Python<'py>,
        network: PyRef<'_, PyNetwork>,
        x: &Bound<'py, PyAny>,
        objective: Objective<'py>,
        epoch: u64,
        on_batch: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let mut net = network.write(py, "fit")?;
        match (&mut self.inner, &mut *net) {
            (AnyTrainer::F32(t), Net::F32(n)) => run_epoch(py, t, n, x, &objective, epoch, on_batch),
            (AnyTrainer::F64(t), Net::F64(n)) => run_epoch(py, t, n, x, &objective, epoch, on_batch),
            _ => Err(raise(py, Kind::DType, "the trainer was made for a network of another dtype")),
        }
    }

    /// The learning rate an epoch trains at (schedule × factor).
    fn learning_rate(&self, epoch: u64) -> f64 {
        with_trainer!(&self.inner, t => t.learning_rate(epoch))
    }

    /// Multiplies every later learning rate by `factor` (reduce on plateau).
    fn scale_learning_rate(&mut self, py: Python<'_>, factor: f64) -> PyResult<()> {
        with_trainer!(&mut self.inner, t => t.scale_learning_rate(factor)).or_raise(py)
    }

    /// The optimiser state, for checkpoints: `{"buffers": {name: array},
    /// "step_count": int, "lr_factor": float}`.
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        with_trainer!(&self.inner, t => state_dict(py, t))
    }

    /// Restores what [`state`] returned (a resumed run then continues
    /// bit for bit).
    fn set_state(
        &mut self,
        py: Python<'_>,
        buffers: &Bound<'_, PyDict>,
        step_count: u64,
        lr_factor: f64,
    ) -> PyResult<()> {
        with_trainer!(&mut self.inner, t => restore_state(py, t, buffers, step_count, lr_factor))
    }
}

/// The key at fault in a JSON training configuration and what is wrong
/// with it, or None: for callers that name keys their own way (TOML files).
#[pyfunction]
pub fn train_config_problem(config: &str) -> Option<(String, String)> {
    TrainConfig::check_json(config).err().map(|p| (p.key, p.problem))
}

fn state_dict<'py, T: Float>(py: Python<'py>, t: &Trainer<T>) -> PyResult<Bound<'py, PyDict>> {
    let buffers = PyDict::new(py);
    for (name, values) in t.state.buffers() {
        buffers.set_item(name, to_numpy(py, values.to_vec(), &[values.len()])?)?;
    }
    let d = PyDict::new(py);
    d.set_item("buffers", buffers)?;
    d.set_item("step_count", t.state.step_count())?;
    d.set_item("lr_factor", t.lr_factor)?;
    Ok(d)
}

fn restore_state<T: Float>(
    py: Python<'_>,
    t: &mut Trainer<T>,
    buffers: &Bound<'_, PyDict>,
    step_count: u64,
    lr_factor: f64,
) -> PyResult<()> {
    for (name, values) in buffers.iter() {
        let values = read::<T>(&values, "optimiser buffer", 1)?;
        t.state.set_buffer(&name.extract::<String>()?, values.as_slice()).or_raise(py)?;
    }
    t.state.set_step_count(step_count);
    t.lr_factor = lr_factor;
    Ok(())
}

fn run_epoch<'py, T: Float>(
    py: Python<'py>,
    trainer: &mut Trainer<T>,
    net: &mut Network<T>,
    x: &Bound<'py, PyAny>,
    objective: &Objective<'py>,
    epoch: u64,
    on_batch: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let x = Inputs::<T>::read(x)?;
    let args = LossArgs::read(net.n_outputs(), &x, objective)?;
    let (data, _) = args.dataset(&x);
    // A callback's exception is kept here and re-raised as it was.
    let mut raised: Option<PyErr> = None;
    let result = detach_guarded(py, || {
        let mut hook = |e: BatchEvent| -> nervenet_core::Result<()> {
            let Some(cb) = &on_batch else { return Ok(()) };
            Python::attach(|py| cb.call1(py, (e.batch, e.size, e.end, e.loss, e.gradient_norm)).map(|_| ())).map_err(
                |err| {
                    raised = Some(err);
                    Error::Config("a batch callback raised".into())
                },
            )
        };
        trainer.epoch_with_hook(net, &data, epoch, &mut hook)
    });
    if let Some(err) = raised {
        return Err(err);
    }
    let report = result?;
    let d = metrics_dict(py, &report.metrics)?;
    d.set_item("epoch", report.epoch)?;
    d.set_item("learning_rate", report.learning_rate)?;
    d.set_item("gradient_norm", report.gradient_norm)?;
    d.set_item("update_ratio", report.update_ratio)?;
    d.set_item("batches", report.batches)?;
    d.set_item("rollbacks", report.rollbacks)?;
    Ok(d)
}

fn metrics_dict<'py>(py: Python<'py>, m: &Metrics) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("loss", m.loss)?;
    d.set_item("accuracy", m.accuracy)?;
    d.set_item("mse", m.mse)?;
    d.set_item("mae", m.mae)?;
    d.set_item("count", m.count)?;
    Ok(d)
}

/// Loss per counted sample and step, plus accuracy or mse and mae.
#[pyfunction]
pub fn evaluate<'py>(
    py: Python<'py>,
    network: PyRef<'_, PyNetwork>,
    x: &Bound<'py, PyAny>,
    objective: Objective<'py>,
) -> PyResult<Bound<'py, PyDict>> {
    match &*network.read(py)? {
        Net::F32(n) => evaluate_with(py, n, x, &objective),
        Net::F64(n) => evaluate_with(py, n, x, &objective),
    }
}

fn evaluate_with<'py, T: Float>(
    py: Python<'py>,
    net: &Network<T>,
    x: &Bound<'py, PyAny>,
    objective: &Objective<'py>,
) -> PyResult<Bound<'py, PyDict>> {
    let x = Inputs::<T>::read(x)?;
    let args = LossArgs::read(net.n_outputs(), &x, objective)?;
    let (data, loss) = args.dataset(&x);
    let metrics = detach_guarded(py, || nervenet_core::train::evaluate(net, &data, loss))?;
    metrics_dict(py, &metrics)
}

/// Mean loss per counted sample and step of each candidate parameter vector
/// (rows of a 2-D array), evaluated in parallel; overflowing candidates
/// score inf.
#[pyfunction]
pub fn evaluate_candidates<'py>(
    py: Python<'py>,
    network: PyRef<'_, PyNetwork>,
    candidates: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    objective: Objective<'py>,
) -> PyResult<Vec<f64>> {
    match &*network.read(py)? {
        Net::F32(n) => population_with(py, n, candidates, x, &objective),
        Net::F64(n) => population_with(py, n, candidates, x, &objective),
    }
}

fn population_with<'py, T: Float>(
    py: Python<'py>,
    net: &Network<T>,
    candidates: &Bound<'py, PyAny>,
    x: &Bound<'py, PyAny>,
    objective: &Objective<'py>,
) -> PyResult<Vec<f64>> {
    let candidates = read::<T>(candidates, "candidates", 2)?;
    let x = Inputs::<T>::read(x)?;
    let args = LossArgs::read(net.n_outputs(), &x, objective)?;
    let (data, loss) = args.dataset(&x);
    let candidates = candidates.as_slice();
    detach_guarded(py, || evaluate_population(net, candidates, &data, loss))
}

/// The reduce-on-plateau rule of the core (lower metrics are better): after
/// `patience` epochs without an improvement of more than `min_delta`, the
/// learning rate is multiplied by `factor`, never below `min_lr`.
#[pyclass(name = "ReduceOnPlateau", module = "nervenet._core")]
pub struct PyReduceOnPlateau {
    inner: nervenet_core::ReduceOnPlateau,
}

#[pymethods]
impl PyReduceOnPlateau {
    #[new]
    fn new(py: Python<'_>, factor: f64, patience: u32, min_delta: f64, min_lr: f64) -> PyResult<Self> {
        let inner = nervenet_core::ReduceOnPlateau::new(factor, patience, min_delta, min_lr).or_raise(py)?;
        Ok(PyReduceOnPlateau { inner })
    }

    /// Records this epoch's metric; returns the learning rate to use next.
    fn observe(&mut self, metric: f64, learning_rate: f64) -> f64 {
        self.inner.observe(metric, learning_rate)
    }
}
