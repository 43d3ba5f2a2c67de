"""One network used from several Python threads (issue 13, item 8):
forward-only calls run concurrently and give the single-threaded results;
a change (fit, set_parameters, sgd_step) while other calls run waits for
them or raises BusyError — never PyO3's bare "Already borrowed"
RuntimeError — and never leaves the parameters corrupted."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import nervenet as nv

FORWARD_THREADS = 4


def network() -> nv.Network:
    return nv.Network(nv.mlp([6, 32, 32, 2]), seed=3)


def data():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(256, 6)).astype(np.float32)
    Y = np.stack([X[:, 0] * X[:, 1], np.sin(X[:, 2])], axis=1).astype(np.float32)
    return X, Y


def run_threads(targets) -> list:
    """Runs each callable on its own thread, started together; returns
    what each raised (None when it returned)."""
    start = threading.Barrier(len(targets))
    raised: list = [None] * len(targets)

    def body(i, f):
        start.wait()
        try:
            f()
        except BaseException as e:  # noqa: BLE001 - PanicException is a BaseException
            raised[i] = e

    threads = [threading.Thread(target=body, args=(i, f)) for i, f in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return raised


def test_concurrent_forward_predict_evaluate_agree_with_one_thread() -> None:
    net = network()
    X, Y = data()
    want_out = net.forward(X)
    want_eval = net.evaluate(X, Y)
    got_out: list = []
    got_eval: list = []

    def infer():
        for _ in range(20):
            got_out.append(net.forward(X))
            got_out.append(net.predict(X))
            got_eval.append(net.evaluate(X, Y))

    raised = run_threads([infer] * FORWARD_THREADS)
    assert raised == [None] * FORWARD_THREADS, raised
    assert len(got_out) == FORWARD_THREADS * 40
    for out in got_out:
        np.testing.assert_array_equal(out, want_out)
    assert all(e == want_eval for e in got_eval)


def test_fit_while_forward_threads_run() -> None:
    X, Y = data()
    alone = network()
    alone.fit(X, Y, epochs=4, batch_size=16, verbose=0)

    net = network()
    start = net.parameters.copy()
    outputs: list = []
    stop = threading.Event()

    def infer():
        while not stop.is_set():
            try:
                outputs.append(net.forward(X))
            except nv.BusyError:
                outputs.append(None)  # a change was running: allowed

    def train():
        try:
            net.fit(X, Y, epochs=4, batch_size=16, verbose=0)
        finally:
            stop.set()

    raised = run_threads([infer] * FORWARD_THREADS + [train])
    for e in raised:
        assert e is None or isinstance(e, nv.BusyError), f"{type(e).__name__}: {e}"
    params = net.parameters
    assert np.isfinite(params).all()
    if raised[-1] is None:  # fit succeeded: exactly what it does alone
        np.testing.assert_array_equal(params, alone.parameters)
    else:
        np.testing.assert_array_equal(params, start)  # refused before it changed anything
    for out in outputs:
        if out is not None:
            assert out.shape == (256, 2) and np.isfinite(out).all()


def test_changes_while_forward_threads_run_are_whole() -> None:
    """set_parameters and sgd_step from one thread while others infer: each
    forward sees one parameter vector or the other, never a mix."""
    net = network()
    X, Y = data()
    a = net.parameters.copy()
    b = a * 0.5
    want = {}
    for name, p in (("a", a), ("b", b)):
        net.parameters = p
        want[name] = net.forward(X)
    stop = threading.Event()
    seen: list = []

    def infer():
        while not stop.is_set():
            try:
                seen.append(net.forward(X))
            except nv.BusyError:
                pass

    def change():
        try:
            for i in range(40):
                net.parameters = a if i % 2 else b
        finally:
            stop.set()

    raised = run_threads([infer] * FORWARD_THREADS + [change])
    for e in raised:
        assert e is None or isinstance(e, nv.BusyError), f"{type(e).__name__}: {e}"
    for out in seen:
        assert np.array_equal(out, want["a"]) or np.array_equal(out, want["b"])


def test_changing_the_network_from_inside_its_own_epoch_is_a_busy_error() -> None:
    """A batch callback runs while the epoch holds the network: changing it
    there (or reading it) must not deadlock, and says why."""
    net = network()
    X, Y = data()
    seen: list = []

    class Meddle(nv.callbacks.Callback):
        wants_batches = True

        def on_batch_end(self, batch, logs=None):
            for call in (lambda: net.forward(X), lambda: setattr(net, "parameters", net.parameters)):
                try:
                    call()
                except nv.BusyError as e:
                    seen.append(str(e))

    net.fit(X, Y, epochs=1, batch_size=128, verbose=0, callbacks=[Meddle()])
    assert len(seen) == 2 * 2, seen  # two batches, two calls each
    assert all("being changed" in m for m in seen), seen
    assert np.isfinite(net.parameters).all()


def test_busy_error_is_a_nervenet_and_runtime_error() -> None:
    assert issubclass(nv.BusyError, nv.NervenetError)
    assert issubclass(nv.BusyError, RuntimeError)
