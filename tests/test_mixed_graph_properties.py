"""Property tests on random graphs with every node kind together.

``tests/mixed_graphs.py`` draws graphs of scalar inputs or an input feature
map (filters, residual identities, pooling, flattening), simple nodes with
every activation including softsign, memory cells of every kind, layer skips,
fixed weights and recurrent edges of several skips, with wider layers and
more inputs and outputs than test_engine_properties.py. Checked: backprop
through time against central differences (the notes' 1e-7 on smooth graphs,
1e-4 where there are kinks), and batches that cross the engine's chunk size
(one chunk below 32 samples, chunks of at most 64 above) giving each sample
what it gets alone, gradients that add up over the samples, and dense and
sparse plans that agree.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nervenet as nv
from gradient_checks import assert_kinked_gradients, assert_smooth_gradients, loss_scale
from mixed_graphs import mixed_graph

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def specs(hidden: tuple[int, int], min_outputs: int = 1, max_recurrent: int = 10) -> st.SearchStrategy[dict]:
    """mixed_graph's shape arguments: scalar inputs or a C×H×W input map,
    up to 8 inputs and 5 outputs, ``hidden`` nodes."""
    return st.fixed_dictionaries(
        {
            "image": st.none() | st.tuples(st.integers(1, 2), st.integers(2, 6), st.integers(2, 6)),
            "inputs": st.integers(1, 8),
            "hidden": st.integers(*hidden),
            "outputs": st.integers(min_outputs, 5),
            "recurrent": st.integers(0, max_recurrent),
        }
    )


def examples(n: int) -> settings:
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def network(g: nv.Graph, rng: np.random.Generator, seed: int, **kw: object) -> nv.Network:
    """A float64 network whose biases are all drawn away from 0, so no
    pre-activation sits exactly on a kink (a relu map cell that sees only
    padding would otherwise have pre-activation 0)."""
    net = nv.Network(g, dtype="float64", seed=seed % 2**16, **kw)
    theta = net.parameters
    for group in net.groups:
        if group.kind == "bias" and group.trainable:
            n = group.stop - group.start
            theta[group.start : group.stop] = rng.uniform(0.05, 0.5, n) * rng.choice([-1.0, 1.0], n)
    net.parameters = theta
    return net


def data(
    net: nv.Network, image: Optional[tuple[int, int, int]], rng: np.random.Generator, batch: int, steps: int, loss: str
) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-1.5, 1.5, size=(batch, steps, *(image or (net.n_inputs,))))
    if loss in ("softmax", "hinge"):
        return X, rng.integers(0, net.n_outputs, size=(batch, steps))
    return X, rng.uniform(-1.0, 1.0, size=(batch, steps, net.n_outputs))


# ---- backprop against central differences ----------------------------------------------------


@examples(200)
@given(seed=seeds, spec=specs((1, 24)), steps=st.integers(1, 4))
def test_smooth_mixed_graphs_match_finite_differences(seed: int, spec: dict, steps: int) -> None:
    rng = np.random.default_rng(seed)
    net = network(mixed_graph(rng, **spec, kinks=False), rng, seed)
    X, Y = data(net, spec["image"], rng, 2, steps, "mse")
    scale = loss_scale(net.loss_and_gradient(X, Y, "mse")[0])
    fine = lambda step: net.numeric_gradient(X, Y, "mse", step=step)  # noqa: E731
    assert_smooth_gradients(nv.check_gradients(net, X, Y, loss="mse"), scale, fine)


@examples(300)
@given(seed=seeds, spec=specs((1, 24), min_outputs=2), loss=st.sampled_from(["mse", "l1", "softmax", "hinge"]))
def test_mixed_graphs_with_kinks_match_finite_differences(seed: int, spec: dict, loss: str) -> None:
    rng = np.random.default_rng(seed)
    net = network(mixed_graph(rng, **spec), rng, seed)
    X, Y = data(net, spec["image"], rng, 2, 3, loss)
    scale = loss_scale(net.loss_and_gradient(X, Y, loss)[0])
    assert_kinked_gradients(net, X, Y, loss, nv.check_gradients(net, X, Y, loss=loss), scale)


# ---- batches that cross the chunk size --------------------------------------------------------


@examples(100)
@given(seed=seeds, spec=specs((8, 60), max_recurrent=20), batch=st.integers(33, 130), steps=st.integers(1, 3))
def test_batches_across_chunks_are_invisible_to_each_sample(seed: int, spec: dict, batch: int, steps: int) -> None:
    rng = np.random.default_rng(seed)
    g = mixed_graph(rng, **spec, density=0.5)
    net = network(g, rng, seed)
    X, Y = data(net, spec["image"], rng, batch, steps, "mse")
    out = net.forward(X)
    assert out.shape == (batch, steps, net.n_outputs)
    # Samples on both sides of every chunk boundary (31|32 and 63|64 for
    # batches chunked by up to 64, the last one), plus one drawn at random.
    # To rounding: one sample alone runs the one-sample kernels.
    for b in sorted({0, 31, 32, 63, 64, 127, 128, batch - 1, int(rng.integers(batch))} & set(range(batch))):
        np.testing.assert_allclose(out[b], net.forward(X[b : b + 1])[0], rtol=1e-12, atol=1e-13, err_msg=f"sample {b}")
    # The batch's loss and gradient are the sums over any split of it.
    loss, grad = net.loss_and_gradient(X, Y, "mse")
    cut = int(rng.integers(1, batch))
    l1, g1 = net.loss_and_gradient(X[:cut], Y[:cut], "mse")
    l2, g2 = net.loss_and_gradient(X[cut:], Y[cut:], "mse")
    assert loss == pytest.approx(l1 + l2, rel=1e-12)
    np.testing.assert_allclose(grad, g1 + g2, rtol=1e-10, atol=1e-11 * max(1.0, float(np.abs(grad).max())))
    # Every block dense or every block sparse: the same outputs and gradient
    # (each plan lays the flat vector out its own way: match by name).
    for plan in ({"dense_min_density": 0.0, "dense_min_edges": 0}, {"dense_min_density": float("inf")}):
        other = nv.Network(g, dtype="float64", **plan)
        order = [net.parameter_index(name) for name in other.parameter_names]
        other.parameters = net.parameters[order]
        np.testing.assert_allclose(other.forward(X), out, rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(other.loss_and_gradient(X, Y, "mse")[1], grad[order], rtol=1e-10, atol=1e-11)
