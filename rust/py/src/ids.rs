//! Node and edge ids as Python arguments. Ids are u32 in the core; a Python
//! int that is negative or too large cannot name anything, so it raises
//! GraphError ("unknown node id -1") instead of OverflowError.

use crate::errors::{raise, Kind};
use nervenet_core::{EdgeId, NodeId};
use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;
use pyo3::Borrowed;

/// Extracts a Python int as a u32 id; `what` is "node" or "edge".
fn extract_id(obj: Borrowed<'_, '_, PyAny>, what: &str) -> PyResult<u32> {
    let py = obj.py();
    match obj.extract::<i64>() {
        Ok(v) => u32::try_from(v).map_err(|_| raise(py, Kind::Graph, format!("unknown {what} id {v}"))),
        Err(e) if e.is_instance_of::<PyOverflowError>(py) => {
            let repr = obj.repr().map(|r| r.to_string()).unwrap_or_else(|_| "(too large)".into());
            Err(raise(py, Kind::Graph, format!("unknown {what} id {repr}")))
        }
        Err(e) => Err(e),
    }
}

/// A node id argument.
#[derive(Clone, Copy, Debug)]
pub struct NodeArg(pub NodeId);

/// An edge id argument.
#[derive(Clone, Copy, Debug)]
pub struct EdgeArg(pub EdgeId);

impl<'a, 'py> FromPyObject<'a, 'py> for NodeArg {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        extract_id(obj, "node").map(|v| NodeArg(NodeId(v)))
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for EdgeArg {
    type Error = PyErr;
    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        extract_id(obj, "edge").map(|v| EdgeArg(EdgeId(v)))
    }
}
