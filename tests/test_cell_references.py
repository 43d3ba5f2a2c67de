"""Memory cells against scalar references written from DESIGN.md's equations.

The finite-difference checks elsewhere only prove that each cell's backward
pass matches its own forward pass; a wrong gate formula would pass them. Here
every cell kind runs inside a small graph (inputs, recurrent edges between
cells of several skips, cells as outputs) and its outputs over several steps
are compared with a plain-Python, one-scalar-at-a-time evaluation of the
published equations, reading the same parameters by name. Carrying the state
across calls is checked against the same reference.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nervenet as nv


def sig(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


# Each step takes the cell's own parameters (a dict by name), its input x
# (the sum of its incoming edges), h' and c' (c' only for the LSTM) and
# returns (h, c). The formulas are DESIGN.md's, symbol for symbol.


def lstm(p: dict[str, float], x: float, hp: float, cp: float) -> tuple[float, float]:
    # Peephole LSTM with σ_h = identity: the gates read c' (not h').
    f = sig(p["w_f"] * x + p["u_f"] * cp + p["b_f"])
    i = sig(p["w_i"] * x + p["u_i"] * cp + p["b_i"])
    o = sig(p["w_o"] * x + p["u_o"] * cp + p["b_o"])
    c = f * cp + i * math.tanh(p["w_c"] * x + p["b_c"])
    return o * c, c


def gru(p: dict[str, float], x: float, hp: float, cp: float) -> tuple[float, float]:
    z = sig(p["zw"] * x + p["zu"] * hp + p["zb"])
    r = sig(p["rw"] * x + p["ru"] * hp + p["rb"])
    return z * hp + (1 - z) * math.tanh(p["hw"] * x + p["hu"] * r * hp + p["hb"]), 0.0


def mgu(p: dict[str, float], x: float, hp: float, cp: float) -> tuple[float, float]:
    f = sig(p["fw"] * x + p["fu"] * hp + p["fb"])
    return (1 - f) * hp + f * math.tanh(p["hw"] * x + p["hu"] * f * hp + p["hb"]), 0.0


def ugrnn(p: dict[str, float], x: float, hp: float, cp: float) -> tuple[float, float]:
    c = math.tanh(p["cw"] * x + p["ch"] * hp + p["cb"])
    g = sig(p["gw"] * x + p["gh"] * hp + p["gb"])
    return g * hp + (1 - g) * c, 0.0


def delta(p: dict[str, float], x: float, hp: float, cp: float) -> tuple[float, float]:
    d = p["v"] * hp
    z = math.tanh((p["alpha"] + 2) * d * x + (p["beta1"] + 1) * d + (p["beta2"] + 1) * x + p["bz"])
    r = sig(x + p["br"])
    return math.tanh(z * (1 - r) + r * hp), 0.0


Step = Callable[[dict[str, float], float, float, float], tuple[float, float]]
CELLS: dict[str, tuple[Step, tuple[str, ...]]] = {
    "lstm": (lstm, ("w_f", "u_f", "b_f", "w_i", "u_i", "b_i", "w_o", "u_o", "b_o", "w_c", "b_c")),
    "gru": (gru, ("zw", "zu", "zb", "rw", "ru", "rb", "hw", "hu", "hb")),
    "mgu": (mgu, ("fw", "fu", "fb", "hw", "hu", "hb")),
    "ugrnn": (ugrnn, ("cw", "ch", "cb", "gw", "gh", "gb")),
    "delta": (delta, ("v", "alpha", "beta1", "beta2", "bz", "br")),
}
N_IN, N_CELLS = 2, 3
# (src cell, dst cell, time skip): a chain, a self loop two steps back, a
# long skip back to the first cell.
RECURRENT = [(0, 1, 1), (1, 1, 2), (2, 0, 3)]


def build(kind: str) -> tuple[nv.Graph, list[int], list[tuple[int, int, int, int]]]:
    """Inputs -> cells (all pairs) plus RECURRENT; the cells are the outputs.

    Returns the graph, the cell ids and every edge as (id, src, dst, skip).
    """
    g = nv.Graph()
    x = g.add_inputs(N_IN)
    cells = g.add_cells(N_CELLS, kind, role="output")
    edges = [(g.connect(s, d), s, d, 0) for s in x for d in cells]
    edges += [(g.connect(cells[s], cells[d], time_skip=k), cells[s], cells[d], k) for s, d, k in RECURRENT]
    return g, cells, edges


def reference(
    kind: str,
    net: nv.Network,
    cells: list[int],
    edges: list[tuple[int, int, int, int]],
    X: np.ndarray,
    step: Step | None = None,
) -> np.ndarray:
    """The cells' h for every sample and step, one scalar at a time
    (``step`` replaces the kind's equations)."""
    step = step or CELLS[kind][0]
    names = CELLS[kind][1]
    own = {c: {n: net.get_parameter(f"node:{c}:{kind}.{n}") for n in names} for c in cells}
    weight = {e: net.get_parameter(f"edge:{e}") for e, *_ in edges}
    batch, steps, _ = X.shape
    out = np.zeros((batch, steps, len(cells)))
    for b in range(batch):
        h: dict[tuple[int, int], float] = {}  # (node, step) -> value; inputs too
        c_state = {c: 0.0 for c in cells}
        for t in range(steps):
            for i in range(N_IN):
                h[(i, t)] = float(X[b, t, i])
            # Every cell reads only inputs of this step and values of earlier
            # steps, so the order among cells does not matter.
            new = {}
            for c in cells:
                x = sum(weight[e] * h.get((s, t - k), 0.0) for e, s, d, k in edges if d == c)
                new[c] = step(own[c], x, h.get((c, t - 1), 0.0), c_state[c])
            for k, c in enumerate(cells):
                h[(c, t)], c_state[c] = new[c]
                out[b, t, k] = h[(c, t)]
    return out


def random_network(kind: str, rng: np.random.Generator) -> tuple[nv.Network, list[int], list]:
    g, cells, edges = build(kind)
    net = nv.Network(g, dtype="float64", seed=int(rng.integers(2**16)))
    # Parameters well away from the initialiser's: every gate in its
    # non-linear range, none close to 0.
    net.parameters = rng.uniform(0.2, 1.5, net.n_params) * rng.choice([-1.0, 1.0], net.n_params)
    assert net.n_params == len(edges) + N_CELLS * len(CELLS[kind][1])
    return net, cells, edges


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), batch=st.sampled_from([1, 3, 33]))
@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_outputs_match_the_scalar_reference(kind: str, seed: int, batch: int) -> None:
    rng = np.random.default_rng(seed)
    net, cells, edges = random_network(kind, rng)
    X = rng.uniform(-2.0, 2.0, size=(batch, 7, N_IN))
    np.testing.assert_allclose(net.forward(X), reference(kind, net, cells, edges, X), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("kind", list(CELLS))
def test_carried_state_continues_the_reference(kind: str) -> None:
    rng = np.random.default_rng(len(kind))
    net, cells, edges = random_network(kind, rng)
    X = rng.uniform(-2.0, 2.0, size=(4, 9, N_IN))
    want = reference(kind, net, cells, edges, X)
    first, state = net.forward(X[:, :2], return_state=True)
    second, state = net.forward(X[:, 2:6], state=state, return_state=True)
    third = net.forward(X[:, 6:], state=state)
    np.testing.assert_allclose(np.concatenate([first, second, third], axis=1), want, rtol=1e-13, atol=1e-14)
    # Without the state the second chunk restarts from zero, which differs.
    assert not np.allclose(net.forward(X[:, 2:6]), want[:, 2:6], rtol=1e-6)


def test_reference_is_not_a_copy_of_the_engine() -> None:
    """A reference that swapped two gates (GRU's z as reset) would disagree:
    the comparison above can fail."""
    rng = np.random.default_rng(7)
    net, cells, edges = random_network("gru", rng)
    X = rng.uniform(-2.0, 2.0, size=(2, 5, N_IN))

    def swapped(p: dict[str, float], x: float, hp: float, cp: float) -> tuple[float, float]:
        q = dict(p, zw=p["rw"], zu=p["ru"], zb=p["rb"], rw=p["zw"], ru=p["zu"], rb=p["zb"])
        return gru(q, x, hp, cp)

    assert not np.allclose(net.forward(X), reference("gru", net, cells, edges, X, swapped), rtol=1e-6)


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("batch", [1, 2, 7])
def test_gradients_of_cell_vectors_of_any_length(kind: str, batch: int) -> None:
    """A level of 3 cells runs as one vector of 3 × batch elements: 3, 6
    and 21 take the kernels' scalar, 4-wide and 16-wide loops in different
    mixes (in float32; 2- and 8-wide ones in float64). Backprop must equal
    central differences in each, the outputs the scalar reference, and
    float32 must equal float64 to its precision."""
    rng = np.random.default_rng(batch)
    net, cells, edges = random_network(kind, rng)
    X = rng.uniform(-2.0, 2.0, size=(batch, 6, N_IN))
    Y = rng.uniform(-1.0, 1.0, size=(batch, 6, N_CELLS))
    report = nv.check_gradients(net, X, Y)
    assert report.max_error < 1e-6, str(report)
    np.testing.assert_allclose(net.forward(X), reference(kind, net, cells, edges, X), rtol=1e-13, atol=1e-14)
    single = nv.Network(net.graph, dtype="float32")
    single.parameters = net.parameters.astype(np.float32)
    loss64, grad64 = net.loss_and_gradient(X, Y, "mse")
    loss32, grad32 = single.loss_and_gradient(X.astype(np.float32), Y.astype(np.float32), "mse")
    np.testing.assert_allclose(single.forward(X.astype(np.float32)), net.forward(X), rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(grad32, grad64, rtol=5e-3, atol=5e-4 * np.abs(grad64).max())


def test_a_skip_longer_than_the_sequence_at_batch_one() -> None:
    """The cells' skip-3 edge reaches before the start of every step of a
    2-step sequence: its weight gets no gradient, and the one-sample
    weight-gradient path must not read the steps it never reaches."""
    rng = np.random.default_rng(5)
    net, _, edges = random_network("gru", rng)
    X = rng.uniform(-2.0, 2.0, size=(1, 2, N_IN))
    Y = rng.uniform(-1.0, 1.0, size=(1, 2, N_CELLS))
    report = nv.check_gradients(net, X, Y)
    assert report.max_error < 1e-6, str(report)
    (skip3,) = [e for e, _, _, k in edges if k == 3]
    assert report.analytic[list(report.names).index(f"edge:{skip3}")] == 0.0
