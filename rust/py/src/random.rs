//! `nervenet._core.random_graph`: seeded random graphs (feed-forward DAG with
//! layer skips plus recurrent edges), for property tests, benchmarks and as
//! seeds for evolution. Arguments are checked here so that no bad value can
//! reach a panic inside the random number generator.

use crate::errors::{raise, Kind, OrRaise};
use crate::graph::{parse_activation, PyGraph};
use nervenet_core::{random_graph as core_random_graph, RandomGraphSpec};
use pyo3::prelude::*;

fn probability(py: Python<'_>, name: &str, p: f64) -> PyResult<f64> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(raise(py, Kind::Config, format!("{name} must be a probability in [0, 1], got {p}")))
    }
}

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
    if inputs == 0 {
        return Err(raise(py, Kind::Config, "random_graph needs at least one input node"));
    }
    if max_skip == 0 && recurrent > 0 {
        return Err(raise(py, Kind::Config, "max_skip must be at least 1 when recurrent edges are asked for"));
    }
    let activations =
        activations.iter().map(|name| parse_activation(py, name, None, None)).collect::<PyResult<Vec<_>>>()?;
    if activations.is_empty() {
        return Err(raise(py, Kind::Config, "activations must name at least one activation"));
    }
    let spec = RandomGraphSpec {
        inputs,
        hidden,
        outputs,
        density: probability(py, "density", density)?,
        recurrent,
        max_skip,
        activations,
        bias_probability: probability(py, "bias_probability", bias_probability)?,
        fixed_probability: probability(py, "fixed_probability", fixed_probability)?,
        seed,
        ..RandomGraphSpec::default()
    };
    let inner = py.detach(|| core_random_graph(&spec)).or_raise(py)?;
    Ok(PyGraph { inner })
}
