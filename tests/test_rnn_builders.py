"""nv.rnn: the recurrent architectures of lectures 5 and 7 as graph builders.

Counts from the notes (Elman 3-3: 9 recurrent edges, Jordan: 3), fixed
feedback weights that stay fixed, forward passes against the same equations
unrolled by hand in numpy with the network's own parameters, float64
gradient checks, and NARX / NBJ learning a sine one step ahead. The memory
cell stacks and torch-style layers are checked for structure only.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

import nervenet as nv
from nervenet import rnn

# ---- helpers --------------------------------------------------------------------------------------


def _recurrent(g: nv.Graph) -> list[dict]:
    return [g.edge(e) for e in g.edge_ids() if g.edge(e)["time_skip"] >= 1]


def _hidden(g: nv.Graph) -> list[int]:
    return [n for n in g.node_ids() if g.node(n)["role"] == "hidden"]


def _randomise(net: nv.Network, seed: int = 0, scale: float = 0.8) -> None:
    """Every trainable parameter (biases included) uniform in [-scale, scale]."""
    rng = np.random.default_rng(seed)
    p, tr = net.parameters, net.trainable
    p[tr] = rng.uniform(-scale, scale, int(tr.sum()))
    net.parameters = p


def _W(net: nv.Network, g: nv.Graph, srcs: list[int], dsts: list[int], skip: int = 0) -> np.ndarray:
    """W[i, j] = weight of srcs[i] -> dsts[j] at this skip (0 where there is no edge)."""
    W = np.zeros((len(srcs), len(dsts)))
    for i, s in enumerate(srcs):
        for j, d in enumerate(dsts):
            e = g.find_edge(s, d, time_skip=skip)
            if e is not None:
                W[i, j] = net.get_parameter(f"edge:{e}")
    return W


def _b(net: nv.Network, g: nv.Graph, nodes: list[int]) -> np.ndarray:
    return np.array([net.get_parameter(f"node:{n}:bias") if g.node(n)["bias"] else 0.0 for n in nodes])


def _sequences(batch: int, T: int, features: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (batch, T, features))


# ---- Elman and Jordan --------------------------------------------------------------------------


def test_elman_3_3_has_the_notes_nine_recurrent_edges() -> None:
    g = rnn.elman(3, 3, 1)
    x, y = g.inputs(), g.outputs()
    h = _hidden(g)
    assert (len(x), len(h), len(y)) == (3, 3, 1)
    rec = _recurrent(g)
    assert len(rec) == 9
    assert {(e["src"], e["dst"]) for e in rec} == {(a, b) for a in h for b in h}
    assert all(e["time_skip"] == 1 and e["trainable"] for e in rec)
    assert g.num_edges == 9 + 9 + 3
    net = nv.Network(g, dtype="float64")
    assert net.n_params == 21 + 3  # edges + hidden biases (outputs have none)
    assert net.max_skip == 1
    assert len(_recurrent(rnn.elman(2, 5, 2))) == 25


def test_jordan_3_3_has_the_notes_three_recurrent_edges() -> None:
    g = rnn.jordan(3, 3, 1)
    h, y = _hidden(g), g.outputs()
    rec = _recurrent(g)
    assert len(rec) == 3
    assert {(e["src"], e["dst"]) for e in rec} == {(y[0], n) for n in h}
    assert all(e["time_skip"] == 1 and e["trainable"] for e in rec)
    assert g.num_edges == 9 + 3 + 3
    assert len(_recurrent(rnn.jordan(2, 4, 2))) == 8


def test_jordan_reproduces_lecture6_first_row() -> None:
    """jordan(2, 2, 1, bias=False) is lecture 6's worked example: with its
    weights, t = 0 gives h = (0.05, -0.16) and O = 0.091."""
    g = rnn.jordan(2, 2, 1, bias=False)
    (i1, i2), (h0, h1), (o,) = g.inputs(), _hidden(g), g.outputs()
    weights = {(i1, h0, 0): 0.3, (i1, h1, 0): -0.4, (i2, h0, 0): -0.5, (i2, h1, 0): 0.2,
               (h0, o, 0): -0.1, (h1, o, 0): -0.6, (o, h0, 1): 0.1, (o, h1, 1): 0.3}
    for (s, d, k), w in weights.items():
        e = g.find_edge(s, d, time_skip=k)
        assert e is not None
        g.set_weight(e, w)
    net = nv.Network(g, dtype="float64")
    assert net.n_params == 8
    out = net.forward(np.array([[[0.5, 0.2], [0.3, 0.4], [0.4, 0.1]]]))
    assert out[0, 0, 0] == pytest.approx(0.091, abs=1e-3)


def _elman_ref(net: nv.Network, g: nv.Graph, X: np.ndarray) -> np.ndarray:
    x, h, y = g.inputs(), _hidden(g), g.outputs()
    Win, Wrec, Wout = _W(net, g, x, h), _W(net, g, h, h, 1), _W(net, g, h, y)
    b, bo = _b(net, g, h), _b(net, g, y)
    H = np.zeros((X.shape[0], len(h)))
    out = []
    for t in range(X.shape[1]):
        H = np.tanh(X[:, t] @ Win + H @ Wrec + b)
        out.append(H @ Wout + bo)
    return np.stack(out, axis=1)


def _jordan_ref(net: nv.Network, g: nv.Graph, X: np.ndarray) -> np.ndarray:
    x, h, y = g.inputs(), _hidden(g), g.outputs()
    Win, Wback, Wout = _W(net, g, x, h), _W(net, g, y, h, 1), _W(net, g, h, y)
    b, bo = _b(net, g, h), _b(net, g, y)
    O = np.zeros((X.shape[0], len(y)))
    out = []
    for t in range(X.shape[1]):
        H = np.tanh(X[:, t] @ Win + O @ Wback + b)
        O = np.tanh(H @ Wout + bo)  # output_activation="tanh" below
        out.append(O)
    return np.stack(out, axis=1)


def _noe_ref(net: nv.Network, g: nv.Graph, X: np.ndarray) -> np.ndarray:
    x, h, y = g.inputs(), _hidden(g), g.outputs()
    return np.tanh(X @ _W(net, g, x, h) + _b(net, g, h)) @ _W(net, g, h, y) + _b(net, g, y)


def _feedback_ref(kind: str, skips: list[int], cols: list[int]) -> Callable[..., np.ndarray]:
    """NARX: p_jk(t) = out_j(t-k). NBJ: e_jk(t) = X[t-k+1, cols[j]] - out_j(t-k)."""

    def ref(net: nv.Network, g: nv.Graph, X: np.ndarray) -> np.ndarray:
        x, y = g.inputs(), g.outputs()
        hid = _hidden(g)
        f, h = hid[: len(y) * len(skips)], hid[len(y) * len(skips):]
        Win, Wf, Wout = _W(net, g, x, h), _W(net, g, f, h), _W(net, g, h, y)
        b, bo = _b(net, g, h), _b(net, g, y)
        B, T, _ = X.shape
        outs: list[np.ndarray] = []
        for t in range(T):
            F = np.zeros((B, len(f)))
            for j in range(len(y)):
                for i, k in enumerate(skips):
                    pred = outs[t - k][:, j] if t - k >= 0 else 0.0
                    if kind == "narx":
                        F[:, j * len(skips) + i] = pred
                    else:
                        actual = X[:, t - k + 1, cols[j]] if t - k + 1 >= 0 else 0.0
                        F[:, j * len(skips) + i] = actual - pred
            H = np.tanh(X[:, t] @ Win + F @ Wf + b)
            outs.append(H @ Wout + bo)
        return np.stack(outs, axis=1)

    return ref


def _stack_ref(net: nv.Network, g: nv.Graph, X: np.ndarray) -> np.ndarray:
    """stacked(3, [3, 2], 2, kind="simple", recurrent=True): two Elman layers."""
    x, y = g.inputs(), g.outputs()
    hid = _hidden(g)
    l1, l2 = hid[:3], hid[3:]
    W1, R1, W2, R2, Wo = (_W(net, g, x, l1), _W(net, g, l1, l1, 1), _W(net, g, l1, l2), _W(net, g, l2, l2, 1),
                          _W(net, g, l2, y))
    H1, H2 = np.zeros((X.shape[0], 3)), np.zeros((X.shape[0], 2))
    out = []
    for t in range(X.shape[1]):
        H1 = np.tanh(X[:, t] @ W1 + H1 @ R1 + _b(net, g, l1))
        H2 = np.tanh(H1 @ W2 + H2 @ R2 + _b(net, g, l2))
        out.append(H2 @ Wo + _b(net, g, y))
    return np.stack(out, axis=1)


SIMPLE = {
    "elman": (lambda: rnn.elman(3, 4, 2), 3, _elman_ref),
    "elman_output_bias": (lambda: rnn.elman(2, 3, 1, bias=True), 2, _elman_ref),
    "jordan": (lambda: rnn.jordan(3, 3, 2, output_activation="tanh"), 3, _jordan_ref),
    "noe": (lambda: rnn.noe(2, 4, 1, lags=2), 6, _noe_ref),
    "narx": (lambda: rnn.narx(2, 4, 1, lags=1), 4, _feedback_ref("narx", [1], [])),
    "narx_skips": (lambda: rnn.narx(1, 3, 2, lags=0, skips=[1, 3]), 1, _feedback_ref("narx", [1, 3], [])),
    "nbj": (lambda: rnn.nbj(2, 4, 1, lags=1, skips=2), 4, _feedback_ref("nbj", [1, 2], [0])),
    "nbj_targets": (lambda: rnn.nbj(3, 3, 2, lags=0, skips=[1, 3], targets=[2, 0]), 3,
                    _feedback_ref("nbj", [1, 3], [2, 0])),
    "stacked_simple": (lambda: rnn.stacked(3, [3, 2], 2, kind="simple", recurrent=True), 3, _stack_ref),
}


@pytest.mark.parametrize("name", SIMPLE)
def test_forward_matches_hand_unrolled_numpy(name: str) -> None:
    build, n_in, ref = SIMPLE[name]
    g = build()
    net = nv.Network(g, dtype="float64", seed=3)
    _randomise(net, seed=4)
    X = _sequences(4, 7, n_in)
    assert net.n_inputs == n_in
    np.testing.assert_allclose(net.forward(X), ref(net, g, X), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", SIMPLE)
def test_gradient_check(name: str) -> None:
    build, n_in, _ = SIMPLE[name]
    net = nv.Network(build(), dtype="float64", seed=5)
    _randomise(net, seed=6, scale=0.6)
    X = _sequences(3, 5, n_in, seed=7)
    Y = np.random.default_rng(8).normal(size=(3, 5, net.n_outputs))
    report = nv.check_gradients(net, X, Y, loss="mse")
    assert report.max_error < 1e-7, str(report)


# ---- NOE, NARX, NBJ structure ----------------------------------------------------------------------


def test_noe_is_feed_forward_over_lagged_windows() -> None:
    g = rnn.noe(4, 5, 1, lags=2)
    assert len(g.inputs()) == 12 and len(_hidden(g)) == 5
    assert _recurrent(g) == []
    net = nv.Network(g)
    assert net.max_skip == 0
    series = np.sin(np.arange(30.0))[:, None] * np.ones((1, 4))
    X, Y = nv.data.lagged_windows(series, 2, targets=[0])
    assert net.forward(X).shape == Y.shape == (27, 1)
    assert len(rnn.noe(3, 2, 1, lags=0).inputs()) == 3


def test_narx_feedback_edges_are_fixed_weight_one() -> None:
    g = rnn.narx(3, 4, 2, lags=2)  # default skips 1..lags
    x, y = g.inputs(), g.outputs()
    hid = _hidden(g)
    p, h = hid[:4], hid[4:]
    assert len(x) == 9 and len(h) == 4
    rec = _recurrent(g)
    assert len(rec) == 4
    assert [(e["src"], e["dst"], e["time_skip"]) for e in rec] == [
        (y[0], p[0], 1), (y[0], p[1], 2), (y[1], p[2], 1), (y[1], p[3], 2)]
    assert all(e["weight"] == 1.0 and not e["trainable"] for e in rec)
    for n in p:
        assert g.node(n)["activation"] == "identity" and not g.node(n)["bias"]
        assert all(g.find_edge(n, m) is not None for m in h)  # fed in like an input
    assert g.num_edges == (9 + 4) * 4 + 4 * 2 + 4
    assert [e["time_skip"] for e in _recurrent(rnn.narx(1, 2, 1, lags=0))] == [1]
    assert [e["time_skip"] for e in _recurrent(rnn.narx(1, 2, 1, skips=3))] == [1, 2, 3]
    assert [e["time_skip"] for e in _recurrent(rnn.narx(1, 2, 1, skips=[2, 5]))] == [2, 5]


def test_nbj_error_nodes() -> None:
    g = rnn.nbj(3, 4, 1, lags=1, skips=2)
    x, (y,) = g.inputs(), g.outputs()
    e1, e2 = _hidden(g)[:2]
    fixed = sorted((e["src"], e["dst"], e["time_skip"], e["weight"])
                   for e in (g.edge(i) for i in g.edge_ids()) if not e["trainable"])
    assert fixed == sorted([(x[0], e1, 0, 1.0), (y, e1, 1, -1.0), (x[0], e2, 1, 1.0), (y, e2, 2, -1.0)])
    g2 = rnn.nbj(3, 2, 2, lags=0, skips=1, targets=[2, 1])
    o0, o1 = g2.outputs()
    a, b = _hidden(g2)[:2]
    assert g2.find_edge(2, a) is not None and g2.find_edge(1, b) is not None
    assert g2.find_edge(o0, a, time_skip=1) is not None and g2.find_edge(o1, b, time_skip=1) is not None


@pytest.mark.parametrize("build", [lambda: rnn.narx(2, 3, 1, lags=1, skips=2),
                                   lambda: rnn.nbj(2, 3, 1, lags=1, skips=2)])
def test_fixed_feedback_weights_stay_fixed(build: Callable[[], nv.Graph]) -> None:
    g = build()
    net = nv.Network(g, dtype="float64")
    fixed = ~net.trainable
    assert fixed.sum() == len([e for e in g.edge_ids() if not g.edge(e)["trainable"]]) > 0
    X = _sequences(8, 10, 4)
    Y = np.random.default_rng(2).normal(size=(8, 10, 1))
    _, grad = net.loss_and_gradient(X, Y, loss="mse")
    assert np.all(grad[fixed] == 0) and np.any(grad[~fixed] != 0)
    before = net.parameters
    net.fit(X, Y, loss="mse", optimizer=nv.optim.Adam(0.05), epochs=2, batch_size=4, verbose=0)
    after = net.parameters
    assert np.array_equal(after[fixed], before[fixed])
    assert not np.allclose(after[~fixed], before[~fixed])
    assert sorted(after[fixed].tolist()) == sorted(g.edge(e)["weight"] for e in g.edge_ids()
                                                    if not g.edge(e)["trainable"])


# ---- NARX and NBJ learn a sine one step ahead --------------------------------------------------------


def _sine(batch: int, T: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(batch, T + 1) sines of period 20 with random phase and amplitude, and their cosines."""
    rng = np.random.default_rng(seed)
    t = np.arange(T + 1) * (2 * np.pi / 20)
    phase, amp = rng.uniform(0, 2 * np.pi, (batch, 1)), rng.uniform(0.5, 1.0, (batch, 1))
    return amp * np.sin(t + phase), amp * np.cos(t + phase)


@pytest.mark.parametrize("model", ["narx", "nbj"])
def test_learns_sine_one_step_ahead_better_than_naive(model: str) -> None:
    """NBJ sees the sine itself (its actual values); NARX sees only the cosine
    as exogenous input (the sine is never an input, only its own predictions)."""
    T = 40
    results = []
    for seed in (0, 1):
        s, c = _sine(64, T, seed)
        series = (s if model == "nbj" else c)[:, :T, None]
        X = nv.data.lagged_windows(series, 1, start="pad")
        Y = s[:, 1:, None]
        results.append((X, Y, s))
    (X, Y, _), (Xv, Yv, sv) = results
    g = rnn.narx(1, 6, 1, lags=1) if model == "narx" else rnn.nbj(1, 6, 1, lags=1)
    net = nv.Network(g, dtype="float64", seed=0)
    net.fit(X, Y, loss="mse", optimizer=nv.optim.Adam(0.02), epochs=500, batch_size=16, verbose=0)
    # From step 1 on (at step 0 neither model has a past to read): held-out sines.
    mse = float(np.mean((net.forward(Xv)[:, 1:] - Yv[:, 1:]) ** 2))
    naive = float(np.mean((sv[:, 1:T] - sv[:, 2:]) ** 2))  # predict s(t + 1) = s(t)
    assert mse < 0.2 * naive, (mse, naive)


# ---- stacked layers -------------------------------------------------------------------------------


def test_stacked_simple_is_an_elman_stack() -> None:
    g = rnn.stacked(3, [4, 5], 2, kind="simple", activation="relu")
    hid = _hidden(g)
    assert len(hid) == 9 and all(g.node(n)["activation"] == "relu" for n in hid)
    assert g.num_edges == 3 * 4 + 4 * 5 + 5 * 2 and _recurrent(g) == []
    gr = rnn.stacked(3, [4, 5], 2, kind="simple", recurrent=True)
    rec = _recurrent(gr)
    assert len(rec) == 16 + 25
    l1, l2 = set(_hidden(gr)[:4]), set(_hidden(gr)[4:])
    assert all({e["src"], e["dst"]} <= l1 or {e["src"], e["dst"]} <= l2 for e in rec)
    assert len(_hidden(rnn.stacked(2, 3, 1, kind="simple"))) == 3


@pytest.mark.parametrize("kind", ["lstm", "gru", "mgu", "ugrnn", "delta"])
@pytest.mark.parametrize("recurrent", [False, True])
def test_stacked_cells_structure(kind: str, recurrent: bool) -> None:
    """Needs Graph.add_cells (the memory-cell node kinds)."""
    assert hasattr(nv.Graph, "add_cells"), "Graph.add_cells does not exist yet"
    g = rnn.stacked(3, [4, 2], 1, kind=kind, recurrent=recurrent)
    x, y = g.inputs(), g.outputs()
    cells = _hidden(g)
    assert (len(x), len(cells), len(y)) == (3, 6, 1)
    assert all(g.node(n)["kind"] == kind for n in cells)
    l1, l2 = cells[:4], cells[4:]
    pairs = [(i, c) for i in x for c in l1] + [(c, d) for c in l1 for d in l2]
    assert all(g.find_edge(a, b) is not None for a, b in pairs)
    assert all(g.find_edge(c, y[0]) is not None for c in l2)
    assert len(_recurrent(g)) == (16 + 4 if recurrent else 0)
    assert g.num_edges == 3 * 4 + 4 * 2 + 2 + (20 if recurrent else 0)
    g.validate()


@pytest.mark.parametrize("builder,method", [(rnn.lstm_layers, "add_lstm_layer"), (rnn.gru_layers, "add_gru_layer")])
def test_torch_style_layers_structure(builder: Callable[..., nv.Graph], method: str) -> None:
    """Needs Graph.add_lstm_layer / add_gru_layer."""
    assert hasattr(nv.Graph, method), f"Graph.{method} does not exist yet"
    g = builder(3, [5, 4], 2)
    x, y = g.inputs(), g.outputs()
    assert len(x) == 3 and len(y) == 2
    assert all(g.node(o)["bias"] for o in y)
    head = [g.edge(e) for e in g.edge_ids() if g.edge(e)["dst"] in y]
    assert len(head) == 4 * 2 and all(e["time_skip"] == 0 and e["trainable"] for e in head)
    units = sorted({e["src"] for e in head})
    assert len(units) == 4 and not set(units) & set(x)
    g.validate()
    one = builder(2, 6, 1, output_bias=False)
    assert len([e for e in one.edge_ids() if one.edge(e)["dst"] in one.outputs()]) == 6
    assert not one.node(one.outputs()[0])["bias"]


# ---- add_recurrent_edges ------------------------------------------------------------------------


def test_add_recurrent_edges_directions_and_skips() -> None:
    g = rnn.elman(2, 3, 1)
    x, h, y = g.inputs(), _hidden(g), g.outputs()
    n0 = g.num_edges
    back = rnn.add_recurrent_edges(g, y, h, skip=[2, 3], direction="backward")
    assert len(back) == 6 and [g.edge(e)["time_skip"] for e in back] == [2, 2, 2, 3, 3, 3]
    self_ = rnn.add_recurrent_edges(g, y, skip=5, direction="self", weight=0.5, trainable=False)
    assert [(g.edge(e)["src"], g.edge(e)["dst"], g.edge(e)["weight"], g.edge(e)["trainable"]) for e in self_] == [
        (y[0], y[0], 0.5, False)]
    fwd = rnn.add_recurrent_edges(g, x, y, skip=4, direction="forward")
    assert len(fwd) == 2 and all(g.edge(e)["time_skip"] == 4 for e in fwd)
    anyd = rnn.add_recurrent_edges(g, h, skip=2)  # dsts=None: srcs to srcs
    assert len(anyd) == 9
    assert g.num_edges == n0 + 6 + 1 + 2 + 9
    net = nv.Network(g, dtype="float64")
    assert net.max_skip == 5
    X = _sequences(2, 6, 2)
    report = nv.check_gradients(net, X, np.ones((2, 6, 1)), loss="mse")
    assert report.max_error < 1e-7, str(report)


def test_add_recurrent_edges_errors_name_the_bad_value() -> None:
    g = rnn.elman(2, 3, 1)
    x, h, y = g.inputs(), _hidden(g), g.outputs()
    n0 = g.num_edges
    with pytest.raises(nv.ConfigError, match="skip must be an integer >= 1, got 0"):
        rnn.add_recurrent_edges(g, h, h, skip=0)
    with pytest.raises(nv.ConfigError, match=r"skip entry .* got -1"):
        rnn.add_recurrent_edges(g, h, h, skip=[1, -1])
    with pytest.raises(nv.ConfigError, match="repeats a time skip"):
        rnn.add_recurrent_edges(g, h, h, skip=[2, 2])
    with pytest.raises(nv.ConfigError, match="'sideways'"):
        rnn.add_recurrent_edges(g, h, h, direction="sideways")
    with pytest.raises(nv.ConfigError, match=rf"edge {h[0]} -> {y[0]} goes from depth 1 to depth 2, not shallower"):
        rnn.add_recurrent_edges(g, h, y, direction="backward")
    with pytest.raises(nv.ConfigError, match="not deeper"):
        rnn.add_recurrent_edges(g, h, h, direction="forward")
    with pytest.raises(nv.ConfigError, match="direction='self'"):
        rnn.add_recurrent_edges(g, h, y, direction="self")
    with pytest.raises(nv.GraphError, match="dsts: unknown node id 99"):
        rnn.add_recurrent_edges(g, h, [99])
    with pytest.raises(nv.ConfigError, match="srcs entry"):
        rnn.add_recurrent_edges(g, [True], h)
    with pytest.raises(nv.ConfigError, match="at least one node"):
        rnn.add_recurrent_edges(g, [], h)
    with pytest.raises(nv.ConfigError, match="nervenet.Graph"):
        rnn.add_recurrent_edges("graph", h, h)  # type: ignore[arg-type]
    # All or nothing: the duplicate (h -> h at skip 1, already Elman's) comes after new edges.
    with pytest.raises(nv.GraphError, match="duplicate edge"):
        rnn.add_recurrent_edges(g, h, h, skip=[3, 1])
    with pytest.raises(nv.GraphError, match="input node"):
        rnn.add_recurrent_edges(g, y, x + h)
    assert g.num_edges == n0


# ---- argument validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: rnn.elman(0, 3, 1), "n_inputs must be an integer >= 1, got 0"),
        (lambda: rnn.elman(3, 0, 1), "n_hidden must be an integer >= 1, got 0"),
        (lambda: rnn.jordan(3, 3, -2), "n_outputs must be an integer >= 1, got -2"),
        (lambda: rnn.jordan(3, True, 1), "n_hidden must be an integer >= 1, got True"),
        (lambda: rnn.elman(3, 2.5, 1), "n_hidden must be an integer >= 1, got 2.5"),
        (lambda: rnn.elman(3, 3, 1, activation="tanhh"), 'activation: unknown activation "tanhh"'),
        (lambda: rnn.jordan(3, 3, 1, output_activation="soft"), 'output_activation: unknown activation "soft"'),
        (lambda: rnn.elman(3, 3, 1, activation=None), "activation must be an activation name"),
        (lambda: rnn.elman(3, 3, 1, bias="yes"), "bias must be None, True or False"),
        (lambda: rnn.noe(3, 3, 1, lags=-1), "lags must be an integer >= 0, got -1"),
        (lambda: rnn.narx(3, 3, 1, skips=0), "skips must be an integer >= 1, got 0"),
        (lambda: rnn.narx(3, 3, 1, skips=[]), "skips must list at least one time skip"),
        (lambda: rnn.narx(3, 3, 1, skips=[1, 1]), r"skips repeats a time skip: \[1, 1\]"),
        (lambda: rnn.nbj(3, 3, 1, skips=[0, 1]), "skips entry must be an integer >= 1, got 0"),
        (lambda: rnn.nbj(3, 3, 1, targets=3), "targets: column 3 is out of range for n_inputs=3"),
        (lambda: rnn.nbj(3, 3, 2, targets=[0]), "targets must name one column per output"),
        (lambda: rnn.nbj(1, 3, 2), "targets: give the target column of each of the 2 outputs"),
        (lambda: rnn.nbj(3, 3, 1, targets=[-1]), "targets entry must be an integer >= 0, got -1"),
        (lambda: rnn.nbj(3, 3, 1, targets=1.5), "targets entry must be an integer >= 0, got 1.5"),
        (lambda: rnn.stacked(3, [4], 1, kind="rnn"), "unknown kind 'rnn'"),
        (lambda: rnn.stacked(3, [4], 1, kind="lstm", activation="relu"), "applies to kind='simple' only"),
        (lambda: rnn.stacked(3, [], 1), "layers must list at least one layer size"),
        (lambda: rnn.stacked(3, [4, 0], 1), "layers entry must be an integer >= 1, got 0"),
        (lambda: rnn.stacked(3, [4], 1, kind="simple", recurrent="yes"), "recurrent must be True or False"),
        (lambda: rnn.lstm_layers(3, [], 1), "hidden_sizes must list at least one layer size"),
        (lambda: rnn.gru_layers(3, 0, 1), "hidden_sizes must be an integer >= 1, got 0"),
        (lambda: rnn.gru_layers(3, 4, 1, output_bias=None), "output_bias must be True or False"),
    ],
)
def test_bad_arguments_raise_config_error_naming_them(call: Callable[[], object], match: str) -> None:
    with pytest.raises(nv.ConfigError, match=match):
        call()


def test_exposed_as_nv_rnn() -> None:
    assert nv.rnn is rnn
    assert set(rnn.__all__) == {"elman", "jordan", "noe", "narx", "nbj", "stacked", "lstm_layers", "gru_layers",
                                "add_recurrent_edges"}
    assert all("lecture" in getattr(rnn, name).__doc__.lower()
               for name in ("elman", "jordan", "noe", "narx", "nbj", "stacked", "add_recurrent_edges"))
