//! The generic (f32 / f64) work behind `nervenet._core.Network`: reading the
//! arrays of one call, building the backward seed, running the core with the
//! GIL released, and turning the results into numpy arrays. `network.rs`
//! dispatches on the network's dtype and calls these once per dtype.

use crate::arrays::{expect_shape, read, to_numpy, ArrayIn, Wanted};
use crate::errors::{detach_guarded, OrRaise};
use nervenet_core::{Dataset, Loss, Network, Real, Reduction, Seed, Sequences, Targets, Want};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The element types a network runs in.
pub trait Float: Real + Wanted {}
impl<T: Real + Wanted> Float for T {}

/// The inputs of one call: `(batch, steps, features)`.
pub struct Inputs<'py, T: Float> {
    array: ArrayIn<'py, T>,
}

impl<'py, T: Float> Inputs<'py, T> {
    pub fn read(x: &Bound<'py, PyAny>) -> PyResult<Self> {
        Ok(Inputs { array: read::<T>(x, "inputs", 3)? })
    }

    pub fn batch(&self) -> usize {
        self.array.shape[0]
    }

    pub fn steps(&self) -> usize {
        self.array.shape[1]
    }

    pub fn sequences(&self) -> Sequences<'_, T> {
        let s = &self.array.shape;
        Sequences::new(self.array.as_slice(), s[0], s[1], s[2])
    }
}

enum TargetArray<'py, T: Float> {
    Values(ArrayIn<'py, T>),
    Classes(ArrayIn<'py, i64>),
}

/// What a loss-based call optimises, as Python passes it:
/// `(targets, loss name, reduction, mask or None)`.
#[derive(FromPyObject)]
pub struct Objective<'py>(Bound<'py, PyAny>, String, String, Option<Bound<'py, PyAny>>);

/// A loss with its targets and optional mask, read and shape-checked.
pub struct LossArgs<'py, T: Float> {
    loss: Loss,
    reduction: Reduction,
    targets: TargetArray<'py, T>,
    mask: Option<ArrayIn<'py, T>>,
}

impl<'py, T: Float> LossArgs<'py, T> {
    pub fn read(n_outputs: usize, x: &Inputs<'py, T>, objective: &Objective<'py>) -> PyResult<Self> {
        let Objective(targets, loss, reduction, mask) = objective;
        let py = targets.py();
        let loss = Loss::parse(loss).or_raise(py)?;
        let reduction = Reduction::parse(reduction).or_raise(py)?;
        let (b, s, o) = (x.batch(), x.steps(), n_outputs);
        let targets = if loss.takes_classes() {
            let labels = read::<i64>(targets, "class labels", 2)?;
            expect_shape(py, "class labels", &labels, &[b, s])?;
            TargetArray::Classes(labels)
        } else {
            let values = read::<T>(targets, "targets", 3)?;
            expect_shape(py, "targets", &values, &[b, s, o])?;
            TargetArray::Values(values)
        };
        let mask = match mask {
            Some(m) => {
                let m = read::<T>(m, "mask", 2)?;
                expect_shape(py, "mask", &m, &[b, s])?;
                Some(m)
            }
            None => None,
        };
        Ok(LossArgs { loss, reduction, targets, mask })
    }

    fn targets(&self) -> Targets<'_, T> {
        match &self.targets {
            TargetArray::Values(v) => Targets::Values(v.as_slice()),
            TargetArray::Classes(c) => Targets::Classes(c.as_slice()),
        }
    }

    pub fn seed(&self) -> Seed<'_, T> {
        Seed::Loss {
            loss: self.loss,
            targets: self.targets(),
            reduction: self.reduction,
            mask: self.mask.as_ref().map(|m| m.as_slice()),
        }
    }

    /// The inputs with these targets and mask, as the trainer and the
    /// evaluators take them, and the loss.
    pub fn dataset<'a>(&'a self, x: &'a Inputs<'py, T>) -> (Dataset<'a, T>, Loss) {
        let data =
            Dataset { x: x.sequences(), targets: self.targets(), mask: self.mask.as_ref().map(|m| m.as_slice()) };
        (data, self.loss)
    }
}

/// Whether a loss takes integer class labels (and not float targets).
#[pyfunction]
pub fn loss_takes_classes(py: Python<'_>, loss: &str) -> PyResult<bool> {
    Ok(Loss::parse(loss).or_raise(py)?.takes_classes())
}

pub fn forward<'py, T: Float>(py: Python<'py>, net: &Network<T>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let x = Inputs::<T>::read(x)?;
    let seq = x.sequences();
    let out = detach_guarded(py, || net.forward(&seq))?;
    to_numpy(py, out, &[x.batch(), x.steps(), net.n_outputs()])
}

/// (loss, dL/dθ, dL/dx or None)
pub type GradResult<'py> = (f64, Bound<'py, PyAny>, Option<Bound<'py, PyAny>>);

fn run_gradient<'py, T: Float>(
    py: Python<'py>,
    net: &Network<T>,
    x: &Inputs<'py, T>,
    seed: &Seed<'_, T>,
    input_grads: bool,
) -> PyResult<GradResult<'py>> {
    let seq = x.sequences();
    let grads = detach_guarded(py, || net.gradient(&seq, seed, input_grads))?;
    let n = grads.params.len();
    let params = to_numpy(py, grads.params, &[n])?;
    let inputs = match grads.inputs {
        Some(dx) => Some(to_numpy(py, dx, &[x.batch(), x.steps(), net.n_inputs()])?),
        None => None,
    };
    Ok((grads.loss, params, inputs))
}

pub fn loss_and_gradient<'py, T: Float>(
    py: Python<'py>,
    net: &Network<T>,
    x: &Bound<'py, PyAny>,
    objective: &Objective<'py>,
    input_grads: bool,
) -> PyResult<GradResult<'py>> {
    let x = Inputs::<T>::read(x)?;
    let args = LossArgs::read(net.n_outputs(), &x, objective)?;
    run_gradient(py, net, &x, &args.seed(), input_grads)
}

/// (outputs, loss, dL/dθ or None, final state): a run that starts from a
/// given state (or zeros) and returns the state after its last step, with
/// the gradient of `objective` if given (truncated at the start: the state
/// is held fixed).
pub type StatefulResult<'py> = (Bound<'py, PyAny>, f64, Option<Bound<'py, PyAny>>, Bound<'py, PyAny>);

pub fn run_stateful<'py, T: Float>(
    py: Python<'py>,
    net: &Network<T>,
    x: &Bound<'py, PyAny>,
    state: Option<&Bound<'py, PyAny>>,
    objective: Option<&Objective<'py>>,
) -> PyResult<StatefulResult<'py>> {
    let x = Inputs::<T>::read(x)?;
    let shape = [x.batch(), net.plan().memory, net.plan().n_rows()];
    let state = match state {
        Some(s) => {
            let s = read::<T>(s, "state", 3)?;
            expect_shape(py, "state", &s, &shape)?;
            Some(s)
        }
        None => None,
    };
    let args = match objective {
        Some(o) => Some(LossArgs::read(net.n_outputs(), &x, o)?),
        None => None,
    };
    let mut seq = x.sequences();
    if let Some(s) = &state {
        seq = seq.with_state(s.as_slice());
    }
    let seed = args.as_ref().map(|a| a.seed());
    let want =
        Want { outputs: true, param_grads: seed.is_some(), parallel: true, final_state: true, ..Want::default() };
    let out = detach_guarded(py, || net.run(net.params(), &seq, seed.as_ref(), want))?;
    let outputs = to_numpy(py, out.outputs.unwrap_or_default(), &[x.batch(), x.steps(), net.n_outputs()])?;
    let grads = match out.param_grads {
        Some(g) => {
            let n = g.len();
            Some(to_numpy(py, g, &[n])?)
        }
        None => None,
    };
    let state = to_numpy(py, out.final_state.unwrap_or_default(), &shape)?;
    Ok((outputs, out.loss, grads, state))
}

/// One vanilla gradient-descent step on the batch; returns the loss before it.
pub fn sgd_step<T: Float>(
    py: Python<'_>,
    net: &mut Network<T>,
    x: &Bound<'_, PyAny>,
    objective: &Objective<'_>,
    learning_rate: f64,
) -> PyResult<f64> {
    let x = Inputs::<T>::read(x)?;
    let args = LossArgs::read(net.n_outputs(), &x, objective)?;
    let (seq, seed) = (x.sequences(), args.seed());
    detach_guarded(py, || net.sgd_step(&seq, &seed, learning_rate))
}

/// Vector-Jacobian product: (dL/dθ, dL/dx or None) for dL/d(outputs) given.
pub fn backward<'py, T: Float>(
    py: Python<'py>,
    net: &Network<T>,
    x: &Bound<'py, PyAny>,
    output_grad: &Bound<'py, PyAny>,
    input_grads: bool,
) -> PyResult<(Bound<'py, PyAny>, Option<Bound<'py, PyAny>>)> {
    let x = Inputs::<T>::read(x)?;
    let g = read::<T>(output_grad, "output gradient", 3)?;
    expect_shape(py, "output gradient", &g, &[x.batch(), x.steps(), net.n_outputs()])?;
    let (_, params, inputs) = run_gradient(py, net, &x, &Seed::OutputGrad(g.as_slice()), input_grads)?;
    Ok((params, inputs))
}

/// Runs a finite-difference computation (the core checks the step) with
/// the GIL released, after reading the arrays.
fn finite_differences<'py, T: Float, R: Send>(
    py: Python<'py>,
    net: &Network<T>,
    x: &Bound<'py, PyAny>,
    objective: &Objective<'py>,
    step: f64,
    f: impl FnOnce(&Network<T>, &Sequences<'_, T>, &Seed<'_, T>, f64) -> nervenet_core::Result<R> + Send,
) -> PyResult<R> {
    let x = Inputs::<T>::read(x)?;
    let args = LossArgs::read(net.n_outputs(), &x, objective)?;
    let (seq, seed) = (x.sequences(), args.seed());
    detach_guarded(py, || f(net, &seq, &seed, step))
}

pub fn numeric_gradient<'py, T: Float>(
    py: Python<'py>,
    net: &Network<T>,
    x: &Bound<'py, PyAny>,
    objective: &Objective<'py>,
    step: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let grad = finite_differences(py, net, x, objective, step, nervenet_core::numeric_gradient)?;
    let n = grad.len();
    to_numpy(py, grad, &[n])
}

pub fn check_gradients<'py, T: Float>(
    py: Python<'py>,
    net: &Network<T>,
    x: &Bound<'py, PyAny>,
    objective: &Objective<'py>,
    step: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let report = finite_differences(py, net, x, objective, step, nervenet_core::check_gradients)?;
    let n = report.names.len();
    let d = PyDict::new(py);
    d.set_item("names", report.names)?;
    d.set_item("analytic", to_numpy(py, report.analytic, &[n])?)?;
    d.set_item("numeric", to_numpy(py, report.numeric, &[n])?)?;
    d.set_item("relative_errors", to_numpy(py, report.relative_errors, &[n])?)?;
    d.set_item("max_error", report.max_error)?;
    d.set_item("worst", report.worst)?;
    Ok(d)
}

pub fn get_parameters<'py, T: Float>(py: Python<'py>, net: &Network<T>) -> PyResult<Bound<'py, PyAny>> {
    let values = net.params().to_vec();
    let n = values.len();
    to_numpy(py, values, &[n])
}

pub fn set_parameters<T: Float>(py: Python<'_>, net: &mut Network<T>, values: &Bound<'_, PyAny>) -> PyResult<()> {
    let values = read::<T>(values, "parameters", 1)?;
    net.set_params(values.as_slice()).or_raise(py)
}

pub fn get_param<T: Float>(py: Python<'_>, net: &Network<T>, name: &str) -> PyResult<f64> {
    Ok(net.get_param(name).or_raise(py)?.to_f64())
}

pub fn set_param<T: Float>(py: Python<'_>, net: &mut Network<T>, name: &str, value: f64) -> PyResult<()> {
    net.set_param(name, T::from_f64(value)).or_raise(py)
}

pub fn set_group<T: Float>(
    py: Python<'_>,
    net: &mut Network<T>,
    name: &str,
    values: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let ndim = values.getattr("ndim").and_then(|d| d.extract::<usize>()).unwrap_or(1);
    let values = read::<T>(values, "group values", ndim)?;
    net.set_group(name, values.as_slice()).or_raise(py)
}
