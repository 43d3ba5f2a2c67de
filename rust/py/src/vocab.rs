//! The core's vocabulary for Python: the names Python lists in its
//! signatures, checks and config schema come from here, not from copies.

use crate::errors::OrRaise;
use nervenet_core::{Activation, CellKind, Loss, PoolOp, Reduction};
use pyo3::prelude::*;

/// Loss names (the aliases svm and cross_entropy left out).
#[pyfunction]
pub fn losses() -> Vec<&'static str> {
    Loss::ALL.map(Loss::name).to_vec()
}

/// The losses that take class labels rather than target values.
#[pyfunction]
pub fn class_losses() -> Vec<&'static str> {
    Loss::ALL.into_iter().filter(|l| l.takes_classes()).map(Loss::name).collect()
}

/// Reductions of the loss over samples and steps.
#[pyfunction]
pub fn reductions() -> Vec<&'static str> {
    Reduction::ALL.map(Reduction::name).to_vec()
}

/// Activation names ("linear" is identity).
#[pyfunction]
pub fn activations() -> Vec<&'static str> {
    Activation::NAMES.to_vec()
}

/// Memory-cell kinds; `units = False` leaves out the units of standard
/// (torch-style) layers, whose weights are edges.
#[pyfunction]
#[pyo3(signature = (units = true))]
pub fn cell_kinds(units: bool) -> Vec<&'static str> {
    CellKind::ALL.into_iter().filter(|c| units || !c.is_unit()).map(CellKind::name).collect()
}

/// The input ports of a cell kind, in port order.
#[pyfunction]
pub fn cell_ports(py: Python<'_>, kind: &str) -> PyResult<Vec<&'static str>> {
    Ok(CellKind::parse(kind).or_raise(py)?.ports().to_vec())
}

/// Pooling ops ("average" is avg).
#[pyfunction]
pub fn pool_ops() -> Vec<&'static str> {
    PoolOp::ALL.map(PoolOp::name).to_vec()
}
