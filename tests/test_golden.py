"""The lecture notes' worked examples (lectures 1-6) through the Python API.

Each test builds the notes' network with explicit weights, runs it in
float64 and compares with the numbers printed in the notes (to the notes'
rounding) and with the same equations evaluated independently in numpy.
"""

from __future__ import annotations

import numpy as np
import pytest

import nervenet as nv


def _sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))


def _grad(net: nv.Network, grad: np.ndarray, name: str) -> float:
    return float(grad[net.parameter_names.index(name)])


# ---- Lecture 2: the chain rule --------------------------------------------------


def test_chain_rule_circuit() -> None:
    """f(x, y, z) = z (x + 3y) at (4, 5, 2): f = 38, df/dx = 2, df/dy = 6, df/dz = 19."""
    g = nv.Graph()
    x, y = g.add_inputs(2)
    q = g.add_node("hidden", "identity", bias=False)
    f = g.add_outputs(1, "identity")[0]
    g.connect(x, q, weight=1.0, trainable=False)
    g.connect(y, q, weight=3.0, trainable=False)
    z = g.connect(q, f, weight=2.0)
    net = nv.Network(g, dtype="float64")
    X = np.array([[4.0, 5.0]])

    assert net.forward(X).tolist() == [[38.0]]
    grad, dx = net.backward(X, np.ones((1, 1)), input_grads=True)
    assert dx is not None
    assert dx.tolist() == [[2.0, 6.0]]  # df/dx = z, df/dy = 3z
    assert _grad(net, grad, f"edge:{z}") == 19.0  # df/dz = x + 3y
    # The fixed weights 1 and 3 do not train and get no gradient.
    assert net.trainable.tolist().count(False) == 2
    assert np.count_nonzero(grad) == 1


def test_sigmoid_derivative_at_four() -> None:
    """sigmoid'(4) = sigmoid(4)(1 - sigmoid(4)) = 0.0176627.

    The notes print 0.017676, computed from the rounded sigmoid(4) = 0.982.
    """
    g = nv.Graph()
    x = g.add_inputs(1)[0]
    y = g.add_outputs(1, "sigmoid")[0]
    g.connect(x, y, weight=1.0)
    net = nv.Network(g, dtype="float64")
    X = np.array([[4.0]])
    s = net.forward(X)[0, 0]
    assert s == pytest.approx(0.98201, abs=5e-6)
    _, dx = net.backward(X, np.ones((1, 1)), input_grads=True)
    assert dx is not None
    assert dx[0, 0] == pytest.approx(0.017676, abs=2e-5)  # the notes' rounded value
    assert dx[0, 0] == pytest.approx(0.0176627, abs=1e-7)
    assert dx[0, 0] == pytest.approx(_sigmoid(4.0) * (1 - _sigmoid(4.0)), rel=1e-13)


def test_xor_backward_pass() -> None:
    """Lecture 2's xor network at inputs (1, 1).

    Hidden sums 0.5 + 0.1 + 0.3 = 0.9 and 0.6 + 0.2 + 0.4 = 1.2 (tanh), the
    output sigmoid(0.6 tanh 0.9 + 0.7 tanh 1.2) = 0.7337 (the notes: 0.733),
    the delta through the sigmoid 0.196, the deltas into the hidden sums
    0.057 and 0.042 (which are the bias gradients) and the deltas arriving
    at the inputs 0.0141 and 0.0339.
    """
    g = nv.Graph()
    y0, y1 = g.add_inputs(2)
    h0, h1 = g.add_nodes(2, "tanh")
    out = g.add_outputs(1, "sigmoid", bias=False)[0]
    g.set_bias(h0, 0.5)
    g.set_bias(h1, 0.6)
    g.connect(y0, h0, weight=0.1)
    g.connect(y0, h1, weight=0.2)
    g.connect(y1, h0, weight=0.3)
    g.connect(y1, h1, weight=0.4)
    w6 = g.connect(h0, out, weight=0.6)
    w7 = g.connect(h1, out, weight=0.7)
    net = nv.Network(g, dtype="float64")
    X = np.array([[1.0, 1.0]])

    o = net.forward(X)[0, 0]
    assert o == pytest.approx(0.7337, abs=1e-4)
    assert o == pytest.approx(0.733, abs=1e-3)
    assert o == pytest.approx(_sigmoid(0.6 * np.tanh(0.9) + 0.7 * np.tanh(1.2)), rel=1e-14)
    d_out = o * (1 - o)
    assert d_out == pytest.approx(0.196, abs=1e-3)

    grad, dx = net.backward(X, np.ones((1, 1)), input_grads=True)
    assert dx is not None
    d_h0 = _grad(net, grad, f"node:{h0}:bias")
    d_h1 = _grad(net, grad, f"node:{h1}:bias")
    assert d_h0 == pytest.approx(0.057, abs=5e-4)  # 0.118 * 0.487
    assert d_h1 == pytest.approx(0.042, abs=5e-4)  # 0.137 * 0.305
    assert d_h0 == pytest.approx(d_out * 0.6 * (1 - np.tanh(0.9) ** 2), rel=1e-13)
    assert d_h1 == pytest.approx(d_out * 0.7 * (1 - np.tanh(1.2) ** 2), rel=1e-13)
    assert _grad(net, grad, f"edge:{w6}") == pytest.approx(d_out * np.tanh(0.9), rel=1e-13)
    assert _grad(net, grad, f"edge:{w7}") == pytest.approx(d_out * np.tanh(1.2), rel=1e-13)
    # The notes chain rounded deltas (0.057 * 0.1 + 0.042 * 0.2, 0.057 * 0.3 + 0.042 * 0.4).
    assert dx[0, 0] == pytest.approx(0.0141, abs=1e-4)
    assert dx[0, 1] == pytest.approx(0.0339, abs=1e-4)
    assert dx[0, 0] == pytest.approx(0.1 * d_h0 + 0.2 * d_h1, rel=1e-13)
    assert dx[0, 1] == pytest.approx(0.3 * d_h0 + 0.4 * d_h1, rel=1e-13)


# ---- Lecture 1: the forward pass and layer sizes --------------------------------


def test_lecture1_forward_pass() -> None:
    """Inputs 3, 0.7, -1.2, tanh everywhere, the notes' sparse topology:

        X¹₀ = g(B¹₀ + X⁰₀ W + X⁰₁ W)    X¹₁ = g(B¹₁ + X⁰₀ W + X⁰₂ W)
        X¹₂ = g(B¹₂ + X⁰₁ W + X⁰₂ W)    X²₀, X²₁ = g(X¹₀ W + X¹₂ W)

    The slide's weights are only in its images; these are chosen, and the
    expected outputs are the equations evaluated with numpy.
    """
    g = nv.Graph()
    x = g.add_inputs(3)
    h = g.add_nodes(3, "tanh")
    o = g.add_outputs(2, "tanh")
    b = [0.1, -0.2, 0.3]
    for node, value in zip(h, b):
        g.set_bias(node, value)
    W1 = {(0, 0): 0.5, (1, 0): -0.6, (0, 1): 0.2, (2, 1): 0.8, (1, 2): -0.9, (2, 2): 0.4}
    W2 = {(0, 0): 1.1, (2, 0): -0.7, (0, 1): 0.3, (2, 1): 0.6}
    for (i, j), w in W1.items():
        g.connect(x[i], h[j], weight=w)
    for (i, j), w in W2.items():
        g.connect(h[i], o[j], weight=w)
    net = nv.Network(g, dtype="float64")
    assert net.n_params == len(W1) + len(W2) + 3

    X0 = np.array([3.0, 0.7, -1.2])
    X1 = np.tanh(
        np.array(
            [
                b[0] + X0[0] * W1[0, 0] + X0[1] * W1[1, 0],
                b[1] + X0[0] * W1[0, 1] + X0[2] * W1[2, 1],
                b[2] + X0[1] * W1[1, 2] + X0[2] * W1[2, 2],
            ]
        )
    )
    X2 = np.tanh(
        np.array(
            [
                X1[0] * W2[0, 0] + X1[2] * W2[2, 0],
                X1[0] * W2[0, 1] + X1[2] * W2[2, 1],
            ]
        )
    )
    np.testing.assert_allclose(net.forward(X0[None, :])[0], X2, rtol=1e-14, atol=0)


def test_notes_layer_sizes_parameter_count() -> None:
    """layer_sizes = [5, 5, 4, 3, 4, 2]: 5·5 + 5·4 + 4·3 + 3·4 + 4·2 = 77 weights
    and 5 + 4 + 3 + 4 = 16 hidden biases (output nodes have none)."""
    net = nv.Network(nv.mlp([5, 5, 4, 3, 4, 2]), dtype="float64")
    names = net.parameter_names
    assert net.n_params == 93
    assert sum(n.startswith("edge:") for n in names) == 77
    assert sum(n.endswith(":bias") for n in names) == 16
    assert net.n_inputs == 5 and net.n_outputs == 2
    assert net.forward(np.zeros((1, 5))).shape == (1, 2)


# ---- Lecture 3: softmax ----------------------------------------------------------


def test_softmax_example() -> None:
    """softmax(8, 2, 5) = (0.9503, 0.0023, 0.0473); the softmax loss gradient
    at the outputs is p - onehot(y). With input 1 each output weight's
    gradient is that output's delta."""
    g = nv.Graph()
    x = g.add_inputs(1)[0]
    outs = g.add_outputs(3, "identity")
    edges = [g.connect(x, o, weight=w) for o, w in zip(outs, [8.0, 2.0, 5.0])]
    net = nv.Network(g, dtype="float64")
    X = np.array([[1.0]])
    z = net.forward(X)[0]
    assert z.tolist() == [8.0, 2.0, 5.0]
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    # The notes truncate to 4 places (0.002356 is printed 0.0023).
    np.testing.assert_allclose(p, [0.9503, 0.0023, 0.0473], rtol=0, atol=1e-4)

    for label in range(3):
        loss, grad = net.loss_and_gradient(X, np.array([label]), loss="softmax")
        assert loss == pytest.approx(-np.log(p[label]), rel=1e-13)
        want = p - np.eye(3)[label]
        got = np.array([_grad(net, grad, f"edge:{e}") for e in edges])
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    loss0, _ = net.loss_and_gradient(X, np.array([0]), loss="softmax")
    assert loss0 == pytest.approx(-np.log(0.9503), abs=1e-4)


# ---- Lectures 5 and 6: backpropagation through time ---------------------------------


def test_elman_bptt() -> None:
    """The sequence 1, 2, 3, 4 with targets 2, 4, 8, 16 (the notes call the
    data f(x) = x²; their table is 2^x), linear activations, w0 = 0.5 input -> hidden,
    w1 = 0.7 hidden -> hidden one step back, w2 = 0.9 hidden -> output, no
    biases, an L2 loss on every step, summed over the steps.

    The slides' intermediate values are in their images (the text keeps only
    fragments such as "-3.663 + -4.554"), so the expected values are the
    unrolled recurrence and a hand-written BPTT in numpy.
    """
    g = nv.Graph()
    x = g.add_inputs(1)[0]
    h = g.add_nodes(1, "identity", bias=False)[0]
    y = g.add_outputs(1, "identity")[0]
    w = np.array([0.5, 0.7, 0.9])
    ids = [
        g.connect(x, h, weight=w[0]),
        g.connect(h, h, weight=w[1], time_skip=1),
        g.connect(h, y, weight=w[2]),
    ]
    net = nv.Network(g, dtype="float64")
    assert net.n_params == 3 and net.max_skip == 1
    xs = np.array([1.0, 2.0, 3.0, 4.0])
    ys = np.array([2.0, 4.0, 8.0, 16.0])
    X, Y = xs.reshape(1, 4, 1), ys.reshape(1, 4, 1)

    # The unrolled recurrence: h_t = w0 x_t + w1 h_{t-1} (h_{-1} = 0), o_t = w2 h_t.
    hs = np.zeros(4)
    for t in range(4):
        hs[t] = w[0] * xs[t] + (w[1] * hs[t - 1] if t > 0 else 0.0)
    os_ = w[2] * hs
    np.testing.assert_allclose(net.forward(X).ravel(), os_, rtol=1e-15)
    np.testing.assert_allclose(hs, [0.5, 1.35, 2.445, 3.7115], rtol=1e-14)

    # BPTT by hand. L2 of one value is |o - y|, so dL/do_t = sign(o_t - y_t).
    loss = np.abs(os_ - ys).sum()
    d_o = np.sign(os_ - ys)
    dw = np.zeros(3)
    dh_next = 0.0
    for t in reversed(range(4)):
        dw[2] += d_o[t] * hs[t]
        dh = d_o[t] * w[2] + dh_next * w[1]
        dw[0] += dh * xs[t]
        if t > 0:
            dw[1] += dh * hs[t - 1]
        dh_next = dh
    value, grad = net.loss_and_gradient(X, Y, loss="l2")
    assert value == pytest.approx(loss, rel=1e-14)
    got = np.array([_grad(net, grad, f"edge:{e}") for e in ids])
    np.testing.assert_allclose(got, dw, rtol=1e-12)

    report = nv.check_gradients(net, X, Y, loss="l2")
    assert report.max_error < 1e-7, str(report)


def test_jordan_bptt() -> None:
    """Lecture 6's Jordan network: inputs (0.5, 0.2), (0.3, 0.4), (0.4, 0.1),
    targets 2, 4, 3; two tanh hidden nodes without bias (w0 i1->h0 0.3,
    w1 i1->h1 -0.4, w2 i2->h0 -0.5, w3 i2->h1 0.2), an identity output
    without bias (w4 h0->o -0.1, w5 h1->o -0.6) fed back to the hidden nodes
    one step later (w6 o->h0 0.1, w7 o->h1 0.3), an L2 loss per step, summed.

    (The first slide's table lists target 3 at t = 1; the later slides, and
    this test, use 4.) Only t = 0 is compared with the notes' table, h = (0.05, -0.16) and
    O = 0.091: its later rows carry arithmetic slips (at t = 1 the product
    0.4 · -0.5 is written -0.04, and the "L2 d" column is evaluated at O
    rather than at O - y), so the whole backward pass is checked against the
    notes' BPTT recipe re-derived in numpy, and against finite differences.
    """
    g = nv.Graph()
    i1, i2 = g.add_inputs(2)
    h0, h1 = g.add_nodes(2, "tanh", bias=False)
    o = g.add_outputs(1, "identity", bias=False)[0]
    w = np.array([0.3, -0.4, -0.5, 0.2, -0.1, -0.6, 0.1, 0.3])
    ids = [
        g.connect(i1, h0, weight=w[0]),
        g.connect(i1, h1, weight=w[1]),
        g.connect(i2, h0, weight=w[2]),
        g.connect(i2, h1, weight=w[3]),
        g.connect(h0, o, weight=w[4]),
        g.connect(h1, o, weight=w[5]),
        g.connect(o, h0, weight=w[6], time_skip=1),
        g.connect(o, h1, weight=w[7], time_skip=1),
    ]
    net = nv.Network(g, dtype="float64")
    assert net.n_params == 8
    xs = np.array([[0.5, 0.2], [0.3, 0.4], [0.4, 0.1]])
    ys = np.array([2.0, 4.0, 3.0])
    X, Y = xs[None], ys.reshape(1, 3, 1)

    # Forward, keeping H and O per step (O of the previous step feeds back).
    W_in = np.array([[w[0], w[1]], [w[2], w[3]]])  # [input, hidden]
    w_out, w_back = w[4:6], w[6:8]
    H, O = np.zeros((3, 2)), np.zeros(3)
    for t in range(3):
        prev = O[t - 1] if t > 0 else 0.0
        H[t] = np.tanh(xs[t] @ W_in + prev * w_back)
        O[t] = H[t] @ w_out
    out = net.forward(X).ravel()
    np.testing.assert_allclose(out, O, rtol=1e-14)
    # The notes' first row: tanh(0.05) = 0.05, tanh(-0.16) = -0.16, O = 0.091.
    assert H[0, 0] == pytest.approx(0.05, abs=5e-4)
    assert H[0, 1] == pytest.approx(-0.16, abs=5e-3)
    assert out[0] == pytest.approx(0.091, abs=1e-3)

    # Backward from the last step; the recurrent deltas land on the previous
    # step's output node, added to that step's loss delta.
    d = np.zeros(8)
    from_next = 0.0
    for t in reversed(range(3)):
        d_o = np.sign(O[t] - ys[t]) + from_next
        d[4:6] += d_o * H[t]
        d_h = d_o * w_out * (1 - H[t] ** 2)  # deltas into the hidden sums
        d[[0, 2]] += d_h[0] * xs[t]
        d[[1, 3]] += d_h[1] * xs[t]
        if t > 0:
            d[6:8] += d_h * O[t - 1]
        from_next = float(d_h @ w_back)
    value, grad = net.loss_and_gradient(X, Y, loss="l2")
    assert value == pytest.approx(np.abs(O - ys).sum(), rel=1e-14)
    got = np.array([_grad(net, grad, f"edge:{e}") for e in ids])
    np.testing.assert_allclose(got, d, rtol=1e-12, atol=1e-15)

    report = nv.check_gradients(net, X, Y, loss="l2")
    assert report.max_error < 1e-7, str(report)
