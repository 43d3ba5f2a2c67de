"""Oracles for the gradient checks that do not come from the code under test.

The property tests judge backprop with ``check_gradients``' own relative
errors and the core's own finite differences. Here (1) the relative error is
pinned to the notes' formula |a − n| / max(|a|, |n|) on hand-computed values,
and (2) a network's forward pass, loss and central differences are written
out in numpy and compared with ``loss_and_gradient``, so a bug shared by the
engine's forward pass and its finite differences cannot hide.
"""

from __future__ import annotations

import numpy as np
import pytest

import nervenet as nv


def notes_relative_error(a: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The notes' |a − n| / max(|a|, |n|), 0 where both are 0."""
    scale = np.maximum(np.abs(a), np.abs(n))
    return np.divide(np.abs(a - n), scale, out=np.zeros_like(scale), where=scale > 0)


def test_relative_error_is_the_notes_formula_on_hand_values() -> None:
    # out = relu(w0·x0 + w1·x1 + w2·x2), l1 loss against y = −1, so
    # L = Σ_samples relu(z) + 1. Sample A sits exactly on relu's kink
    # (z = 0.5·1 − 0.25·2 = 0), sample B above it (z = 0.5·2 − 0.25·1 = 0.75);
    # x2 is always 0.
    #   dL/dw0: backprop takes relu'(0) = 0, so a = 0·1 + 1·2 = 2; central
    #     differences see relu(±h) = h, 0: n = 1/2 + 2 = 2.5; error 0.5/2.5 = 0.2.
    #   dL/dw1: a = 0·2 + 1·1 = 1; n = 2/2 + 1 = 2; error 1/2 = 0.5.
    #   dL/dw2: a = n = 0 (x2 = 0): error 0, not NaN.
    # Other denominators give other numbers: |a| → 0.25, 1; |a| + |n| → 1/9, 1/3.
    g = nv.Graph()
    x = g.add_inputs(3)
    (y,) = g.add_outputs(1, activation="relu")
    e = [g.connect(x[0], y, weight=0.5), g.connect(x[1], y, weight=-0.25), g.connect(x[2], y, weight=0.3)]
    net = nv.Network(g, dtype="float64")
    X = np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0]])
    Y = np.full((2, 1), -1.0)
    report = nv.check_gradients(net, X, Y, loss="l1")
    at = {name: i for i, name in enumerate(report.names)}
    i0, i1, i2 = (at[f"edge:{k}"] for k in e)
    assert report.analytic[[i0, i1, i2]].tolist() == [2.0, 1.0, 0.0]
    np.testing.assert_allclose(report.numeric[[i0, i1]], [2.5, 2.0], rtol=1e-9)
    assert report.numeric[i2] == 0.0
    np.testing.assert_allclose(report.relative_errors[[i0, i1]], [0.2, 0.5], rtol=1e-9)
    assert report.relative_errors[i2] == 0.0
    assert report.max_error == pytest.approx(0.5, rel=1e-9)
    assert report.worst == f"edge:{e[1]}"
    # And on every entry of the report, the formula as written above.
    np.testing.assert_array_equal(report.relative_errors, notes_relative_error(report.analytic, report.numeric))


# ---- a finite-difference path written here ----------------------------------------------------

ACTIVATIONS = {
    "identity": lambda v: v,
    "tanh": np.tanh,
    "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
}


def numpy_forward(net: nv.Network, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
    """A graph of simple nodes evaluated in numpy from the flat parameter
    vector ``theta`` (read by name): value = g(bias + Σ w · src(t − skip)),
    inputs as given, nodes in id order (the graphs below are built in
    topological order). X is (batch, steps, inputs); returns the outputs."""
    g = net.graph
    index = {name: i for i, name in enumerate(net.parameter_names)}
    batch, steps, _ = X.shape
    ids = g.node_ids()
    values = {n: np.zeros((steps, batch)) for n in ids}
    incoming: dict[int, list[tuple[int, int, int]]] = {n: [] for n in ids}
    for e in g.edge_ids():
        d = g.edge(e)
        incoming[d["dst"]].append((d["src"], d["time_skip"], index[f"edge:{e}"]))
    inputs = g.inputs()
    for t in range(steps):
        for n in ids:
            if n in inputs:
                values[n][t] = X[:, t, inputs.index(n)]
                continue
            node = g.node(n)
            z = np.full(batch, theta[index[f"node:{n}:bias"]] if node["bias"] else 0.0)
            for src, skip, w in incoming[n]:
                if t - skip >= 0:
                    z = z + theta[w] * values[src][t - skip]
            values[n][t] = ACTIVATIONS[node["activation"]](z)
    return np.stack([values[o].T for o in g.outputs()], axis=-1)


def numpy_mse(net: nv.Network, theta: np.ndarray, X: np.ndarray, Y: np.ndarray) -> float:
    """The notes' mse per sample and step (mean over outputs), summed."""
    return float(((numpy_forward(net, theta, X) - Y) ** 2).mean(axis=-1).sum())


@pytest.mark.parametrize("kind", ["mlp", "recurrent"])
def test_gradient_matches_central_differences_written_in_numpy(kind: str, small_graph: nv.Graph) -> None:
    if kind == "mlp":
        graph = nv.mlp([3, 4, 2], "tanh", "sigmoid")
    else:
        # small_graph (2 inputs, tanh 2 and 3 with a self loop on 2, sigmoid
        # output 4) plus a skip of two steps, feedback from the output and a
        # skipped layer.
        graph = small_graph
        graph.connect(3, 2, time_skip=2)
        graph.connect(4, 3, time_skip=1)
        graph.connect(1, 4)
    net = nv.Network(graph, dtype="float64", seed=3)
    rng = np.random.default_rng(5)
    n_in, n_out = net.n_inputs, net.n_outputs
    X, Y = rng.uniform(-1.5, 1.5, (4, 5, n_in)), rng.uniform(0, 1, (4, 5, n_out))
    theta = net.parameters
    # The numpy forward pass is the engine's, to rounding.
    np.testing.assert_allclose(numpy_forward(net, theta, X), net.forward(X), rtol=1e-13, atol=1e-15)
    loss, grad = net.loss_and_gradient(X, Y, "mse")
    assert loss == pytest.approx(numpy_mse(net, theta, X, Y), rel=1e-13)
    h = 1e-5
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = h
        numeric[i] = (numpy_mse(net, theta + step, X, Y) - numpy_mse(net, theta - step, X, Y)) / (2 * h)
    big = np.maximum(np.abs(grad), np.abs(numeric)) >= 1e-2  # see gradient_checks.split_errors
    assert big.sum() > theta.size // 2
    assert notes_relative_error(grad, numeric)[big].max() < 1e-7
    assert np.abs(grad - numeric)[~big].max(initial=0.0) < 1e-9
