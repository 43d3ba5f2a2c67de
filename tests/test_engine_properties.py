"""Property tests of the engine on seeded random graphs (``nv.random_graph``).

Hypothesis draws the graph's shape and a seed; the seed then fixes the
graph, the initial parameters and the data, so every failure is replayable.
Checked: backprop through time against central differences (smooth and
kinked activations, every loss), agreement of the dense and sparse kernels,
bitwise determinism across thread counts, float32 against float64, masks
for sequences of different lengths, and batching that is invisible to each
sample.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nervenet as nv
from gradient_checks import assert_kinked_gradients, assert_smooth_gradients

# Smooth enough for a 1e-7 central-difference check: softsign is left out,
# because its second derivative jumps at 0 (a pre-activation near 0 makes
# h = 1e-5 differences err by ~1e-6); it is checked with the kinked ones.
SMOOTH = ["identity", "sigmoid", "tanh"]
ALL_ACTIVATIONS = SMOOTH + ["relu", "relu6", "leaky_relu", "softsign"]
VALUE_LOSSES = ["l1", "l2", "mse", "mae"]
CLASS_LOSSES = ["hinge", "squared_hinge", "softmax"]
N_IN, N_OUT = 3, 2

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def examples(n: int) -> settings:
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_graph(
    seed: int, hidden: int, recurrent: int, activations: list[str], *, density: float = 0.35, max_skip: int = 5
) -> nv.Graph:
    g = nv.random_graph(
        N_IN,
        hidden,
        N_OUT,
        density=density,
        recurrent=recurrent,
        max_skip=max_skip,
        activations=activations,
        bias_probability=0.6,
        fixed_probability=0.1,
        seed=seed,
    )
    return with_tight_kinks(g)


def with_tight_kinks(g: nv.Graph) -> nv.Graph:
    """relu6 with cap 1.5 and leaky_relu with slope 0.1, so values reach the
    cap and the slope matters. random_graph takes activation names only
    (cap 6, slope 0.01), so the parameters are set through the graph JSON."""
    data = json.loads(g.to_json())
    for node in data["nodes"]:
        act = node["kind"].get("activation", {})
        if act.get("name") == "relu6":
            act["cap"] = 1.5
        elif act.get("name") == "leaky_relu":
            act["slope"] = 0.1
    return nv.Graph.from_json(json.dumps(data))


def random_biases(g: nv.Graph, rng: np.random.Generator) -> None:
    """Gives every hidden and output node a nonzero bias, so no pre-activation
    sits exactly on a kink (e.g. a dead relu feeding a bias-free relu)."""
    for node in g.node_ids():
        if g.node(node)["role"] != "input":
            g.set_bias(node, float(rng.uniform(0.05, 0.5) * rng.choice([-1.0, 1.0])))


def targets(loss: str, rng: np.random.Generator, batch: int, steps: int) -> np.ndarray:
    if loss in CLASS_LOSSES:
        return rng.integers(0, N_OUT, size=(batch, steps))
    return rng.uniform(-1.0, 1.0, size=(batch, steps, N_OUT))


def reference_loss(loss: str, z: np.ndarray, y: np.ndarray) -> float:
    """The notes' per-sample losses in numpy, summed over samples and steps.

    z: (batch, steps, outputs); y: values of z's shape or (batch, steps) labels.
    """
    if loss in CLASS_LOSSES:
        zy = np.take_along_axis(z, y[..., None], axis=-1)
        others = np.arange(z.shape[-1]) != y[..., None]
        if loss == "softmax":
            m = z.max(axis=-1, keepdims=True)
            return float((np.log(np.exp(z - m).sum(axis=-1, keepdims=True)) + m - zy).sum())
        margins = np.where(others, np.maximum(0.0, z - zy + 1.0), 0.0)
        return float((margins**2 if loss == "squared_hinge" else margins).sum())
    d = z - y
    per_sample = {
        "l1": np.abs(d).sum(axis=-1),
        "l2": np.sqrt((d**2).sum(axis=-1)),
        "mse": (d**2).mean(axis=-1),
        "mae": np.abs(d).mean(axis=-1),
    }[loss]
    return float(per_sample.sum())


def python_numeric_gradient(
    net: nv.Network, X: np.ndarray, Y: np.ndarray, loss: str, index: int, h: float = 1e-5, **kw: Any
) -> float:
    """A central difference through the public API only (set parameters, read the loss)."""
    theta = net.parameters
    try:
        values = []
        for sign in (1.0, -1.0):
            p = theta.copy()
            p[index] += sign * h
            net.parameters = p
            values.append(net.loss_and_gradient(X, Y, loss=loss, **kw)[0])
    finally:
        net.parameters = theta
    return (values[0] - values[1]) / (2 * h)


# ---- (a) smooth graphs: relative error < 1e-7 -------------------------------------------


@examples(500)
@given(
    seed=seeds,
    hidden=st.integers(1, 12),
    recurrent=st.integers(0, 10),
    max_skip=st.integers(1, 5),
    steps=st.integers(1, 7),
    loss=st.sampled_from(["mse", "softmax"]),
)
def test_gradients_match_finite_differences(
    seed: int, hidden: int, recurrent: int, max_skip: int, steps: int, loss: str
) -> None:
    rng = np.random.default_rng(seed)
    g = make_graph(seed, hidden, recurrent, SMOOTH, max_skip=max_skip)
    net = nv.Network(g, dtype="float64", seed=seed % 2**16)
    assert net.max_skip <= max_skip
    X = rng.uniform(-1.5, 1.5, size=(3, steps, N_IN))
    Y = targets(loss, rng, 3, steps)
    reduction = "mean" if loss == "softmax" else "sum"
    report = nv.check_gradients(net, X, Y, loss=loss, reduction=reduction)
    assert_smooth_gradients(report)
    # The core's own finite differences, recomputed through the public API
    # for a few trainable parameters.
    assert report.names == net.parameter_names
    trainable = np.flatnonzero(net.trainable)
    for i in rng.choice(trainable, size=min(3, trainable.size), replace=False):
        n = python_numeric_gradient(net, X, Y, loss, int(i), reduction=reduction)
        assert n == pytest.approx(report.numeric[i], rel=1e-6, abs=1e-9)


# ---- (b) every activation and loss: the notes' 1e-4 bound for kinks ----------------------


@examples(800)
@given(
    seed=seeds,
    hidden=st.integers(1, 12),
    recurrent=st.integers(0, 8),
    loss=st.sampled_from(VALUE_LOSSES + CLASS_LOSSES),
)
def test_gradients_with_kinked_activations_and_every_loss(seed: int, hidden: int, recurrent: int, loss: str) -> None:
    rng = np.random.default_rng(seed)
    g = make_graph(seed, hidden, recurrent, ALL_ACTIVATIONS)
    random_biases(g, rng)
    net = nv.Network(g, dtype="float64", seed=seed % 2**16)
    X = rng.uniform(-1.5, 1.5, size=(2, 4, N_IN))
    Y = targets(loss, rng, 2, 4)
    # The loss value itself against the notes' definitions.
    value, _ = net.loss_and_gradient(X, Y, loss=loss)
    assert value == pytest.approx(reference_loss(loss, net.forward(X), Y), rel=1e-12, abs=1e-12)
    assert_kinked_gradients(net, X, Y, loss, nv.check_gradients(net, X, Y, loss=loss))


# ---- (c) dense, sparse and default plans agree -------------------------------------------


def _named_results(net: nv.Network, X: np.ndarray, Y: np.ndarray) -> tuple[Any, ...]:
    out = net.forward(X)
    loss, grad = net.loss_and_gradient(X, Y, loss="mse")
    vjp, dx = net.backward(X, np.ones_like(out), input_grads=True)
    names = net.parameter_names
    order = np.argsort(names)
    return out, loss, [names[i] for i in order], grad[order], vjp[order], dx


@examples(200)
@given(seed=seeds, hidden=st.integers(4, 30), recurrent=st.integers(0, 20), batch=st.integers(1, 70))
def test_dense_and_sparse_plans_agree(seed: int, hidden: int, recurrent: int, batch: int) -> None:
    rng = np.random.default_rng(seed)
    g = make_graph(seed, hidden, recurrent, ALL_ACTIVATIONS, density=0.6)
    X = rng.uniform(-1.0, 1.0, size=(batch, 3, N_IN))
    Y = rng.uniform(-1.0, 1.0, size=(batch, 3, N_OUT))
    plans = [
        {},
        {"dense_min_density": 0.0, "dense_min_edges": 0},  # every block dense
        {"dense_min_density": float("inf")},  # every block sparse
    ]
    results = [_named_results(nv.Network(g, dtype="float64", seed=7, **kw), X, Y) for kw in plans]
    ref = results[0]
    for r in results[1:]:
        np.testing.assert_allclose(r[0], ref[0], rtol=1e-10, atol=1e-13)
        assert r[1] == pytest.approx(ref[1], rel=1e-10)
        assert r[2] == ref[2]  # same parameter names
        np.testing.assert_allclose(r[3], ref[3], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(r[4], ref[4], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(r[5], ref[5], rtol=1e-10, atol=1e-13)


# ---- (d) thread count does not change a single bit ----------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_threads_do_not_change_results(dtype: str) -> None:
    g = with_tight_kinks(
        nv.random_graph(20, 300, 4, density=0.2, recurrent=40, max_skip=5, activations=ALL_ACTIVATIONS, seed=5)
    )
    rng = np.random.default_rng(3)
    batch, steps = 200, 3
    X = rng.uniform(-1.0, 1.0, size=(batch, steps, 20))
    Y = rng.uniform(-1.0, 1.0, size=(batch, steps, 4))
    net = nv.Network(g, dtype=dtype, seed=3)
    # The core only uses the thread pool above ~2M (parameters + nodes) x
    # samples x steps; make sure this test is above it.
    assert (net.n_params + g.num_nodes) * batch * steps >= 1 << 21

    def run() -> tuple[Any, ...]:
        loss, grad = net.loss_and_gradient(X, Y, loss="mse", reduction="mean")
        vjp, dx = net.backward(X, Y, input_grads=True)
        return net.forward(X), loss, grad, vjp, dx

    nv.set_num_threads(1)
    one = run()
    nv.set_num_threads(2)
    two = run()
    assert one[1] == two[1]
    for a, b in zip(one[:1] + one[2:], two[:1] + two[2:]):
        assert a.dtype == np.dtype(dtype)
        assert np.array_equal(a, b)


# ---- (e) float32 tracks float64 ------------------------------------------------------------


@examples(200)
@given(seed=seeds, hidden=st.integers(1, 20), recurrent=st.integers(0, 10), steps=st.integers(1, 5))
def test_float32_tracks_float64(seed: int, hidden: int, recurrent: int, steps: int) -> None:
    rng = np.random.default_rng(seed)
    g = make_graph(seed, hidden, recurrent, ALL_ACTIVATIONS)
    n64 = nv.Network(g, dtype="float64", seed=1)
    n32 = nv.Network(g, dtype="float32", seed=1)
    # The same trainable parameters in both: the float32 values, which float64
    # represents exactly. Fixed weights cannot be assigned, so each network
    # keeps its own (float32-rounded in n32).
    trainable = n64.trainable
    assert np.array_equal(trainable, n32.trainable)
    p32 = np.where(trainable, n64.parameters.astype(np.float32), n32.parameters)
    n32.parameters = p32
    n64.parameters = np.where(trainable, p32.astype(np.float64), n64.parameters)
    X = rng.uniform(-1.0, 1.0, size=(5, steps, N_IN)).astype(np.float32).astype(np.float64)
    Y = rng.uniform(-1.0, 1.0, size=(5, steps, N_OUT)).astype(np.float32).astype(np.float64)
    out64, out32 = n64.forward(X), n32.forward(X)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, out64, rtol=1e-4, atol=1e-5)
    l64, g64 = n64.loss_and_gradient(X, Y, loss="mse")
    l32, g32 = n32.loss_and_gradient(X, Y, loss="mse")
    assert l32 == pytest.approx(l64, rel=1e-4, abs=1e-5)
    scale = max(1.0, float(np.abs(g64).max()))
    assert n32.parameter_names == n64.parameter_names
    np.testing.assert_allclose(g32, g64, rtol=0, atol=1e-4 * scale)


# ---- (f) masks: padded sequences of different lengths ---------------------------------------


@examples(200)
@given(
    seed=seeds,
    lengths=st.lists(st.integers(1, 6), min_size=1, max_size=5),
    loss=st.sampled_from(["l2", "mse", "softmax"]),
)
def test_masked_batch_equals_sum_of_sequences(seed: int, lengths: list[int], loss: str) -> None:
    rng = np.random.default_rng(seed)
    net = nv.Network(make_graph(seed, 8, 8, SMOOTH), dtype="float64", seed=2)
    batch, steps = len(lengths), max(lengths)
    # Padding holds junk, not zeros: the mask alone must leave it out.
    X = rng.uniform(-1.0, 1.0, size=(batch, steps, N_IN))
    Y = targets(loss, rng, batch, steps)
    mask = np.zeros((batch, steps))
    for b, n in enumerate(lengths):
        mask[b, :n] = 1.0

    loss_all, grad_all = net.loss_and_gradient(X, Y, loss=loss, mask=mask)
    loss_sum, grad_sum = 0.0, np.zeros(net.n_params)
    for b, n in enumerate(lengths):
        one_loss, one_grad = net.loss_and_gradient(X[b : b + 1, :n], Y[b : b + 1, :n], loss=loss)
        loss_sum += one_loss
        grad_sum += one_grad
    assert loss_all == pytest.approx(loss_sum, rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(grad_all, grad_sum, rtol=1e-10, atol=1e-13)
    # The mean divides by the number of counted steps.
    loss_mean, grad_mean = net.loss_and_gradient(X, Y, loss=loss, mask=mask, reduction="mean")
    assert loss_mean == pytest.approx(loss_sum / sum(lengths), rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(grad_mean, grad_sum / sum(lengths), rtol=1e-10, atol=1e-13)
    # Outputs of the real steps do not depend on the padding (to rounding: a
    # single sequence runs one-sample kernels, whose sums go in another order).
    out = net.forward(X)
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(out[b, :n], net.forward(X[b : b + 1, :n])[0], rtol=1e-12, atol=1e-14)


# ---- (g) batching is invisible to each sample ------------------------------------------------


@examples(50)
@given(seed=seeds, hidden=st.integers(1, 30), recurrent=st.integers(0, 12), steps=st.integers(1, 3))
def test_batch_forward_equals_each_sample_alone(seed: int, hidden: int, recurrent: int, steps: int) -> None:
    rng = np.random.default_rng(seed)
    g = make_graph(seed, hidden, recurrent, ALL_ACTIVATIONS, density=0.5)
    net = nv.Network(g, dtype="float64", seed=4)
    batch = 130  # crosses the 64-sample chunk boundary twice
    X = rng.uniform(-1.0, 1.0, size=(batch, steps, N_IN))
    out = net.forward(X)
    assert out.shape == (batch, steps, N_OUT)
    # To rounding: one sample alone runs the one-sample kernels (Wᵀ columns,
    # GEMMs over the steps), whose sums go in another order.
    for b in range(batch):
        np.testing.assert_allclose(out[b], net.forward(X[b : b + 1])[0], rtol=1e-12, atol=1e-14, err_msg=f"sample {b}")
