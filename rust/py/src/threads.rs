//! `set_num_threads` / `get_num_threads`: the size of the compute pool.
//! Results are bitwise identical for any size (see the core's exec module).

use crate::errors::{raise, Kind, OrRaise};
use pyo3::prelude::*;

/// Sets the number of compute threads (at least 1).
#[pyfunction]
pub fn set_num_threads(py: Python<'_>, n: i64) -> PyResult<()> {
    let n = usize::try_from(n)
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| raise(py, Kind::Config, format!("number of threads must be at least 1, got {n}")))?;
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
pub fn set_inference_memory(py: Python<'_>, bytes: i64) -> PyResult<()> {
    let bytes = usize::try_from(bytes)
        .ok()
        .filter(|&b| b >= 1)
        .ok_or_else(|| raise(py, Kind::Config, format!("inference memory must be at least 1 byte, got {bytes}")))?;
    nervenet_core::set_inference_memory(bytes);
    Ok(())
}
