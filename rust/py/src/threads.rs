//! `set_num_threads` / `get_num_threads`: the size of the compute pool;
//! `fma_ceiling`: what one of its cores can do at most.
//! Results are bitwise identical for any size (see the core's exec module).

use crate::errors::OrRaise;
use pyo3::prelude::*;

/// Sets the number of compute threads (the core refuses 0; the Python
/// wrapper has checked the argument's type and range).
#[pyfunction]
pub fn set_num_threads(py: Python<'_>, n: usize) -> PyResult<()> {
    nervenet_core::set_num_threads(n).or_raise(py)
}

/// The number of compute threads.
#[pyfunction]
pub fn get_num_threads() -> usize {
    nervenet_core::num_threads()
}

/// Caps the activation memory of forward-only runs at about `bytes` (the
/// batch then runs in waves of chunks; results are the same).
#[pyfunction]
pub fn set_inference_memory(py: Python<'_>, bytes: usize) -> PyResult<()> {
    nervenet_core::set_inference_memory(bytes).or_raise(py)
}

/// The calling core's measured f32 FMA rate (GFLOP/s) and vector width in
/// f32 lanes, measured for about `seconds` with the GIL released.
#[pyfunction]
pub fn fma_ceiling(py: Python<'_>, seconds: f64) -> (f64, usize) {
    py.detach(|| nervenet_core::kernels::peak::fma_ceiling(seconds))
}

/// Sets the most bytes one request may allocate (see the core's `limits`).
#[pyfunction]
pub fn set_memory_budget(py: Python<'_>, bytes: u64) -> PyResult<()> {
    nervenet_core::set_memory_budget(bytes).or_raise(py)
}

/// The most bytes one request may allocate.
#[pyfunction]
pub fn get_memory_budget() -> u64 {
    nervenet_core::memory_budget()
}

/// Test-only: every pool threshold becomes `work` (0: the defaults);
/// returns the previous setting.
#[pyfunction]
pub fn _set_min_parallel_work(work: usize) -> usize {
    nervenet_core::set_min_parallel_work(work)
}

/// Test-only: how many times work has been handed to the pool.
#[pyfunction]
pub fn _pool_runs() -> usize {
    nervenet_core::pool_runs()
}
