"""Initial state handling: zero by default (every call resets each series),
carried across chunks of one long series when passed on, checked shapes."""

from __future__ import annotations

import numpy as np
import pytest

import nervenet as nv


def _net(dtype: str = "float64") -> nv.Network:
    g = nv.Graph()
    x = g.add_inputs(2)
    c = g.add_cells(3, "lstm")
    h = g.add_nodes(2, "tanh")
    y = g.add_outputs(1)
    g.connect_all(x, c)
    g.connect_all(c, h)
    g.connect_all(h, c, time_skip=2)  # recurrent edges reaching two steps back
    g.connect_all(h, y)
    return nv.Network(g, dtype=dtype, seed=3)


def test_chunks_with_carried_state_equal_one_long_run() -> None:
    net = _net()
    X = np.random.default_rng(0).normal(size=(2, 11, 2))
    whole = net.forward(X)
    out1, s1 = net.forward(X[:, :4], return_state=True)
    out2, s2 = net.forward(X[:, 4:9], state=s1, return_state=True)
    out3 = net.forward(X[:, 9:], state=s2)
    np.testing.assert_allclose(np.concatenate([out1, out2, out3], axis=1), whole, rtol=1e-12, atol=1e-14)
    assert s1.shape == (2, net.memory, s1.shape[2]) and net.memory == 2
    # Not passing the state resets: the second chunk alone differs.
    assert not np.allclose(net.forward(X[:, 4:9]), out2)


def test_truncated_bptt_gradient_with_state() -> None:
    net = _net()
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(2, 6, 2)), rng.normal(size=(2, 6, 1))
    _, state = net.forward(X[:, :3], return_state=True)
    loss, grad, after = net.loss_and_gradient(X[:, 3:], Y[:, 3:], "mse", state=state, return_state=True)
    # The gradient holds the state fixed: compare with central differences.
    h, params = 1e-6, net.parameters
    for i in range(0, len(params), 7):
        p = params.copy()
        p[i] += h
        net.parameters = p
        plus, _ = net.loss_and_gradient(X[:, 3:], Y[:, 3:], "mse", state=state)
        p[i] -= 2 * h
        net.parameters = p
        minus, _ = net.loss_and_gradient(X[:, 3:], Y[:, 3:], "mse", state=state)
        net.parameters = params
        assert grad[i] == pytest.approx((plus - minus) / (2 * h), rel=1e-6, abs=1e-9)
    _, expected = net.forward(X, return_state=True)
    np.testing.assert_allclose(after, expected, rtol=1e-12, atol=1e-14)
    assert loss == pytest.approx(net.loss_and_gradient(X[:, 3:], Y[:, 3:], "mse", state=state)[0])


def test_state_shape_is_checked() -> None:
    net = _net()
    X = np.zeros((2, 3, 2))
    _, state = net.forward(X, return_state=True)
    with pytest.raises(nv.ShapeError, match=r"state has shape \(1, 2, .*expected \(2, 2, "):
        net.forward(X, state=state[:1])
    with pytest.raises(nv.DataError, match="state"):
        bad = state.copy()
        bad[0, 0, 0] = np.nan
        net.forward(X, state=bad)
