"""Results are bitwise identical on 1, 2 and 3 threads with the pool really
in use (issue 13, item 18). The engine hands work to the pool only above a
size threshold (MIN_PARALLEL_WORK, ~2.1M units), which the small networks
of most tests never reach; here a test-only setting lowers every such
threshold, and the pool's job counter proves each compared run used it."""

from __future__ import annotations

import numpy as np
import pytest

import nervenet as nv
from nervenet import threads as nv_threads

THREADS = (1, 2, 3)


@pytest.fixture(autouse=True)
def small_work_on_the_pool():
    threads_before = nv.get_num_threads()
    before = nv_threads._set_min_parallel_work(1)
    try:
        yield
    finally:
        nv_threads._set_min_parallel_work(before)
        nv.set_num_threads(threads_before)


def across_threads(run):
    """``run()`` on 1, 2 and 3 threads; asserts the pool was used on 2 and 3
    and that every result (a tuple of arrays/floats) has the same bits."""
    results = []
    for n in THREADS:
        nv.set_num_threads(n)
        jobs = nv_threads._pool_runs()
        results.append(run())
        used = nv_threads._pool_runs() - jobs
        if n > 1:
            assert used > 0, f"{n} threads: the run never used the pool"
        else:
            assert used == 0, "one thread must not use the pool"
    for n, r in zip(THREADS[1:], results[1:]):
        for a, b in zip(results[0], r):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=f"1 vs {n} threads")
    return results[0]


def cnn() -> nv.Graph:
    """Conv (padded) + identity residual + max pool + avg pool + flatten."""
    g = nv.Graph()
    x = g.add_feature_map(2, 10, 10, role="input")
    c1 = g.add_feature_map(4, 10, 10, activation="tanh")
    c2 = g.add_feature_map(4, 10, 10, activation="relu")
    c3 = g.add_feature_map(4, 10, 10, activation="tanh")
    p = g.add_feature_map(4, 5, 5, activation="identity")
    q = g.add_feature_map(4, 1, 1, activation="identity", bias=False)
    g.connect_filter(x, c1, 3, padding=1)
    g.connect_filter(c1, c2, 3, padding=1)
    g.connect_filter(c2, c3, 1)
    g.identity(c1, c3)
    g.connect_pool(c3, p, "max", 2)
    g.connect_pool(p, q, "avg", 5)
    y = g.add_outputs(3)
    g.connect_all([p], y)
    g.connect_all([q], y)
    return g


def test_cnn_forward_and_gradients() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(70, 2, 10, 10))
    Y = rng.normal(size=(70, 3))
    net = nv.Network(cnn(), dtype="float64", seed=2)

    def run():
        loss, grad = net.loss_and_gradient(X, Y)
        return net.forward(X), loss, grad, net.backward(X, np.ones((70, 3)), input_grads=True)[1]

    out, loss, grad, _ = across_threads(run)
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0


@pytest.mark.parametrize("kind", ["lstm", "gru", "mgu", "ugrnn", "delta"])
def test_memory_cells(kind: str) -> None:
    rng = np.random.default_rng(3)
    g = nv.Graph()
    x = g.add_inputs(3)
    c = g.add_cells(5, kind)
    y = g.add_outputs(2)
    g.connect_all(x, c)
    g.connect_all(c, c, time_skip=1)
    g.connect_all(c, y)
    net = nv.Network(g, dtype="float64", seed=4)
    X = rng.normal(size=(80, 7, 3))
    Y = rng.normal(size=(80, 7, 2))

    def run():
        loss, grad = net.loss_and_gradient(X, Y)
        return net.forward(X), loss, grad

    across_threads(run)


def test_standard_units() -> None:
    rng = np.random.default_rng(5)
    g = nv.Graph()
    x = g.add_inputs(3)
    h = g.add_lstm_layer(4, x)
    h2 = g.add_gru_layer(3, h)
    g.connect_all(h2, g.add_outputs(2))
    net = nv.Network(g, dtype="float64", seed=6)
    X = rng.normal(size=(64, 5, 3))
    Y = rng.normal(size=(64, 5, 2))
    across_threads(lambda: (net.forward(X),) + tuple(net.loss_and_gradient(X, Y)))


def test_whole_fit_runs_cnn_and_lstm() -> None:
    rng = np.random.default_rng(7)
    Xc = rng.normal(size=(64, 2, 10, 10)).astype(np.float32)
    yc = rng.integers(0, 3, 64)
    Xr = rng.normal(size=(64, 6, 3)).astype(np.float32)
    Yr = rng.normal(size=(64, 6, 2)).astype(np.float32)

    def run():
        a = nv.Network(cnn(), seed=8)
        ha = a.fit(Xc, yc, loss="softmax", optimizer=nv.optim.Adam(1e-2), batch_size=32, epochs=2, verbose=0,
                   l2=1e-4, dropout=0.1)
        g = nv.Graph()
        x = g.add_inputs(3)
        c = g.add_cells(4, "lstm")
        g.connect_all(x, c)
        g.connect_all(c, g.add_outputs(2))
        b = nv.Network(g, seed=9)
        hb = b.fit(Xr, Yr, optimizer=nv.optim.Adam(1e-2), batch_size=32, epochs=2, verbose=0)
        return a.parameters, b.parameters, ha["loss"], hb["loss"]

    across_threads(run)
