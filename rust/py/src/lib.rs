//! nervenet-py: the `nervenet._core` extension module. It exposes the core's
//! Graph and Network, random graphs and the thread pool to Python; the
//! `nervenet` package wraps these in the user-facing API. Every failure is a
//! `nervenet.NervenetError` subclass (see `errors.rs`), never a panic, and all
//! compute runs with the GIL released.

// Python-facing functions mirror keyword-rich Python signatures.
#![allow(clippy::too_many_arguments)]

mod arrays;
mod errors;
mod graph;
mod graph_args;
mod ids;
mod network;
mod ops;
mod random;
mod threads;
mod train;
mod vocab;

use pyo3::prelude::*;

/// Whether `array` would be read in place (no copy) by a network of `dtype`.
#[pyfunction]
fn _reads_in_place(py: Python<'_>, array: &Bound<'_, PyAny>, dtype: &str) -> PyResult<bool> {
    let ndim = array.getattr("ndim")?.extract::<usize>()?;
    match dtype {
        "float32" => Ok(arrays::read::<f32>(array, "array", ndim)?.in_place()),
        "float64" => Ok(arrays::read::<f64>(array, "array", ndim)?.in_place()),
        _ => Err(errors::raise(py, errors::Kind::DType, format!("unknown dtype {dtype:?}"))),
    }
}

/// Test-only: panics inside a core call, to prove that the binding turns
/// a panic into InternalError (see `errors::detach_guarded`).
#[pyfunction]
fn _panic_for_tests(py: Python<'_>) -> PyResult<()> {
    errors::detach_guarded(py, || -> nervenet_core::Result<()> { panic!("a deliberate test panic") })
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<graph::PyGraph>()?;
    m.add_class::<network::PyNetwork>()?;
    m.add_class::<train::PyTrainer>()?;
    m.add_class::<train::PyReduceOnPlateau>()?;
    m.add_function(wrap_pyfunction!(train::evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(train::train_config_problem, m)?)?;
    m.add_function(wrap_pyfunction!(train::evaluate_candidates, m)?)?;
    m.add_function(wrap_pyfunction!(random::random_graph, m)?)?;
    m.add_function(wrap_pyfunction!(network::plan_stats, m)?)?;
    m.add_function(wrap_pyfunction!(threads::set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(threads::set_inference_memory, m)?)?;
    m.add_function(wrap_pyfunction!(threads::get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(threads::set_memory_budget, m)?)?;
    m.add_function(wrap_pyfunction!(threads::get_memory_budget, m)?)?;
    m.add_function(wrap_pyfunction!(threads::_set_min_parallel_work, m)?)?;
    m.add_function(wrap_pyfunction!(threads::_pool_runs, m)?)?;
    m.add_function(wrap_pyfunction!(threads::fma_ceiling, m)?)?;
    m.add_function(wrap_pyfunction!(ops::loss_takes_classes, m)?)?;
    m.add_function(wrap_pyfunction!(_reads_in_place, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    m.add_function(wrap_pyfunction!(vocab::losses, m)?)?;
    m.add_function(wrap_pyfunction!(vocab::class_losses, m)?)?;
    m.add_function(wrap_pyfunction!(vocab::reductions, m)?)?;
    m.add_function(wrap_pyfunction!(vocab::activations, m)?)?;
    m.add_function(wrap_pyfunction!(vocab::cell_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(vocab::cell_ports, m)?)?;
    m.add_function(wrap_pyfunction!(vocab::pool_ops, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
