//! `nervenet._core.random_graph`: seeded random graphs (feed-forward DAG with
//! layer skips plus recurrent edges), for property tests, benchmarks and as
//! seeds for evolution. The core checks the arguments, so that no bad value
//! can reach a panic inside the random number generator.

use crate::errors::OrRaise;
use crate::graph::PyGraph;
use nervenet_core::{random_graph as core_random_graph, Activation, RandomGraphSpec};
use pyo3::prelude::*;

/// A random graph; see `nervenet.random_graph` for the meaning of each argument.
#[pyfunction]
#[pyo3(signature = (
    inputs, hidden, outputs, density = 0.3, recurrent = 0, max_skip = 1,
    activations = vec!["tanh".to_string()], bias_probability = 0.5, fixed_probability = 0.0, seed = 0
))]
pub fn random_graph(
    py: Python<'_>,
    inputs: usize,
    hidden: usize,
    outputs: usize,
    density: f64,
    recurrent: usize,
    max_skip: u32,
    activations: Vec<String>,
    bias_probability: f64,
    fixed_probability: f64,
    seed: u64,
) -> PyResult<PyGraph> {
    let activations = activations
        .iter()
        .map(|name| Activation::parse(name, None, None))
        .collect::<Result<Vec<_>, _>>()
        .or_raise(py)?;
    let spec = RandomGraphSpec {
        inputs,
        hidden,
        outputs,
        density,
        recurrent,
        max_skip,
        activations,
        bias_probability,
        fixed_probability,
        seed,
        ..RandomGraphSpec::default()
    };
    let inner = py.detach(|| core_random_graph(&spec)).or_raise(py)?;
    Ok(PyGraph { inner })
}
