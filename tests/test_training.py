"""Training: fit / evaluate / predict, optimisers, schedules, safeguards,
non-finite handling, callbacks, history — and real results on small data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nervenet as nv

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float64)
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.parametrize("seed", range(10))
def test_xor_is_learned_from_every_seed(seed: int) -> None:
    net = nv.Network(nv.mlp([2, 3, 1], "tanh", "sigmoid"), dtype="float64", seed=seed)
    history = net.fit(XOR_X, XOR_Y, loss="mse", optimizer=nv.optim.Adam(0.05), batch_size=4, epochs=600,
                      seed=seed, verbose=0)
    pred = net.predict(XOR_X)
    assert np.array_equal(pred > 0.5, XOR_Y > 0.5), (seed, pred.ravel(), history["loss"][-1])


def test_fit_is_deterministic_and_thread_independent() -> None:
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((150, 4)), rng.standard_normal((150, 2))
    runs = []
    for threads in (1, 2, 2):
        nv.set_num_threads(threads)
        net = nv.Network(nv.mlp([4, 16, 2], "tanh"), dtype="float32", seed=3)
        net.fit(X, Y, loss="mse", optimizer=nv.optim.Momentum(0.01), batch_size=16, epochs=3, seed=9, verbose=0)
        runs.append(net.parameters)
    assert np.array_equal(runs[0], runs[1]) and np.array_equal(runs[1], runs[2])


def test_history_records_every_quantity(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(np.int64)
    net = nv.Network(nv.mlp([3, 8, 2], "tanh"), dtype="float64", seed=0)
    h = net.fit(X, y, loss="softmax", optimizer=nv.optim.SGD(0.1), batch_size=7, epochs=4,
                validation=(X[:10], y[:10]), schedule=nv.optim.ExponentialDecay(0.5), verbose=0)
    for key in ("loss", "accuracy", "learning_rate", "gradient_norm", "update_ratio", "val_loss", "val_accuracy"):
        assert len(h[key]) == 4, key
    assert h["learning_rate"] == pytest.approx([0.1 * np.exp(-0.5 * t) for t in range(4)])
    assert h["loss"][-1] < h["loss"][0]
    assert 0 < h["update_ratio"][0] < 1
    png = h.plot(tmp_path / "curves.png")
    assert png.stat().st_size > 1000
    assert nv.History.from_json(h.to_json()).values == h.values


@pytest.mark.parametrize(
    "optimizer",
    [nv.optim.SGD(0.05), nv.optim.Momentum(0.02), nv.optim.Nesterov(0.02), nv.optim.Adagrad(0.1),
     nv.optim.RMSprop(0.01), nv.optim.Adam(0.01), nv.optim.Adam(0.01, bias_correction=False)],
)
def test_every_optimizer_reduces_the_loss(optimizer: nv.optim.Optimizer) -> None:
    rng = np.random.default_rng(2)
    X = rng.standard_normal((64, 3))
    Y = X @ np.array([[0.5], [-1.0], [0.25]])
    net = nv.Network(nv.mlp([3, 1], output_activation="identity"), dtype="float64", seed=0)
    before = net.evaluate(X, Y, "mse")["loss"]
    net.fit(X, Y, loss="mse", optimizer=optimizer, batch_size=8, epochs=20, verbose=0)
    after = net.evaluate(X, Y, "mse")
    assert after["loss"] < 0.5 * before
    assert set(after) == {"loss", "mse", "mae", "count"}


def test_remainder_batch_and_no_sampling_with_replacement() -> None:
    # With lr 0 nothing changes, so each epoch's loss is exactly the mean
    # over every sample once, whatever the batch split.
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((10, 2)), rng.standard_normal((10, 1))
    net = nv.Network(nv.mlp([2, 1]), dtype="float64", seed=0)
    full = net.evaluate(X, Y, "mse")["loss"]
    h = net.fit(X, Y, loss="mse", optimizer=nv.optim.SGD(1e-300), batch_size=3, epochs=2, verbose=0)
    assert h["loss"] == pytest.approx([full, full], rel=1e-12)


@pytest.mark.parametrize("bad_batch", [0, 2, 3])
def test_non_finite_step_fails_naming_epoch_and_batch_and_keeps_weights(bad_batch: int) -> None:
    # Unshuffled batches of 2: only the batch holding the huge sample
    # overflows float32 (its gradient ~1e40), so the error must name exactly
    # that batch and its samples, and the weights are those the epoch began with.
    X = np.tile([[0.5, -0.25]], (8, 1))
    X[2 * bad_batch + 1] = [1e20, -1e20]
    Y = np.full((8, 1), 0.5)
    net = nv.Network(nv.mlp([2, 4, 1], "identity"), dtype="float32", seed=0)
    start = net.parameters
    lo = 2 * bad_batch
    with pytest.raises(
        nv.DataError, match=rf"non-finite .* at epoch 0, batch {bad_batch} \(samples {lo}\.\.{lo + 2} of the epoch's order\)"
    ):
        net.fit(X, Y, loss="mse", optimizer=nv.optim.SGD(1e-3), batch_size=2, epochs=5, shuffle=False, verbose=0)
    assert np.array_equal(net.parameters, start)


def test_rollback_halves_the_learning_rate() -> None:
    # Rollback replays the epoch from its starting weights; a learning rate
    # of 1e8 overflows float32 until it has been halved a few times.
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((16, 2)), rng.standard_normal((16, 1))
    net = nv.Network(nv.mlp([2, 8, 1], "tanh"), dtype="float32", seed=0)
    h = net.fit(X, Y, loss="mse", optimizer=nv.optim.SGD(1e8), batch_size=4, epochs=1,
                on_non_finite="rollback", verbose=0)
    assert h["rollbacks"][0] >= 1
    assert h["learning_rate"][0] == 1e8 / 2 ** h["rollbacks"][0]
    assert np.all(np.isfinite(net.parameters))


def test_safeguards_and_regularisation_run() -> None:
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((32, 3)), rng.standard_normal((32, 1))
    net = nv.Network(nv.mlp([3, 6, 1], "tanh"), dtype="float64", seed=0)
    h = net.fit(X, Y, loss="mse", optimizer=nv.optim.SGD(0.5), batch_size=8, epochs=3, verbose=0,
                clip_deltas=(100, 10), gradient_scale=1.0, weight_cap=(0.5, 0.9), l2=1e-3, l1=1e-4)
    weights = [v for k, v in net.named_parameters().items() if k.startswith("edge:")]
    assert max(abs(w) for w in weights) <= 0.5
    assert np.isfinite(h["loss"][-1])
    with pytest.raises(nv.ConfigError, match="gradient_scale"):
        net.fit(X, Y, gradient_scale=-1.0, verbose=0)
    # Types and finiteness are checked before the configuration crosses (JSON
    # has no NaN), the values by the core; both name the key.
    with pytest.raises(nv.ConfigError, match=r"^safeguards.gradient_scale must be a finite number, got nan$"):
        net.fit(X, Y, gradient_scale=float("nan"), verbose=0)
    with pytest.raises(nv.ConfigError, match=r"^batch_size must be an integer >= 0, got -1$"):
        net.fit(X, Y, batch_size=-1, verbose=0)
    with pytest.raises(nv.ConfigError, match="non_finite: unknown variant `retry`"):
        net.fit(X, Y, on_non_finite="retry", verbose=0)
    with pytest.raises(nv.ConfigError, match="mu"):
        net.fit(X, Y, optimizer=nv.optim.Momentum(0.1, mu=1.5), verbose=0)


def test_early_stopping_stops_and_restores_the_best() -> None:
    rng = np.random.default_rng(6)
    X, Y = rng.standard_normal((32, 2)), rng.standard_normal((32, 1))
    net = nv.Network(nv.mlp([2, 4, 1], "tanh"), dtype="float64", seed=0)
    stop = nv.callbacks.EarlyStopping(monitor="val_loss", patience=2)
    h = net.fit(X, Y, loss="mse", optimizer=nv.optim.SGD(2.0), batch_size=4, epochs=200, verbose=0,
                validation=(X, Y), callbacks=[stop])
    assert len(h["loss"]) < 200
    assert net.evaluate(X, Y, "mse")["loss"] == pytest.approx(stop.best, rel=1e-9)


def _iris() -> tuple[np.ndarray, np.ndarray]:
    rows = [r.split(",") for r in (DATA / "uci" / "iris" / "iris.data").read_text().split("\n") if r.strip()]
    names = sorted({r[4] for r in rows})
    X = np.array([[float(v) for v in r[:4]] for r in rows])
    y = np.array([names.index(r[4]) for r in rows], dtype=np.int64)
    return X, y


def test_iris_reaches_96_percent_test_accuracy() -> None:
    X, y = _iris()
    order = np.random.default_rng(0).permutation(len(y))
    train, test = order[:100], order[100:]
    mean, std = X[train].mean(0), X[train].std(0)  # fitted on training data only
    X = (X - mean) / std
    net = nv.Network(nv.mlp([4, 8, 3], "tanh"), dtype="float32", seed=0)
    net.fit(X[train], y[train], loss="softmax", optimizer=nv.optim.Adam(0.01), batch_size=8, epochs=150, verbose=0)
    assert net.evaluate(X[test], y[test], "softmax")["accuracy"] >= 0.96


def test_batch_events_reach_callbacks_that_want_them() -> None:
    class Recorder(nv.callbacks.Callback):
        wants_batches = True

        def __init__(self) -> None:
            self.events: list[tuple[str, int]] = []

        def on_batch_begin(self, batch: int, logs: dict) -> None:
            self.events.append(("begin", batch))

        def on_batch_end(self, batch: int, logs: dict) -> None:
            assert np.isfinite(logs["loss"]) and logs["size"] in (4, 2)
            self.events.append(("end", batch))

    class Boom(nv.callbacks.Callback):
        wants_batches = True

        def on_batch_end(self, batch: int, logs: dict) -> None:
            if batch == 1:
                raise RuntimeError("stop at batch 1")

    rng = np.random.default_rng(7)
    X, Y = rng.standard_normal((10, 2)), rng.standard_normal((10, 1))
    net = nv.Network(nv.mlp([2, 3, 1], "tanh"), dtype="float64", seed=0)
    rec = Recorder()
    net.fit(X, Y, batch_size=4, epochs=2, callbacks=[rec], verbose=0)
    assert rec.events == [(p, b) for _ in range(2) for b in range(3) for p in ("begin", "end")]
    with pytest.raises(RuntimeError, match="stop at batch 1"):
        net.fit(X, Y, batch_size=4, epochs=1, callbacks=[Boom()], verbose=0)


def test_population_evaluation_matches_single_evaluations() -> None:
    rng = np.random.default_rng(8)
    X, Y = rng.standard_normal((20, 3)), rng.standard_normal((20, 1))
    net = nv.Network(nv.mlp([3, 4, 1], "tanh"), dtype="float64", seed=0)
    candidates = rng.standard_normal((7, net.n_params))
    candidates[3] = 1e200  # overflows: scores inf instead of failing the population
    scores = nv.engine.evaluate_candidates(net, candidates, nv.engine.prepare(net, X, Y, "mse"))
    for c, score in zip(candidates, scores):
        if np.all(np.abs(c) < 1e100):
            net.parameters = c
            assert score == pytest.approx(net.evaluate(X, Y, "mse")["loss"], rel=1e-12)
    assert scores[3] == np.inf


def test_dropout_trains_and_is_deterministic() -> None:
    rng = np.random.default_rng(9)
    X = rng.standard_normal((64, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    runs = []
    for _ in range(2):
        net = nv.Network(nv.mlp([4, 16, 2], "relu"), dtype="float32", seed=1)
        h = net.fit(X, y, loss="softmax", optimizer=nv.optim.Adam(0.01), batch_size=16, epochs=30,
                    dropout=0.3, verbose=0)
        runs.append(net.parameters)
    assert np.array_equal(runs[0], runs[1])
    assert net.evaluate(X, y, "softmax")["accuracy"] > 0.9
    assert h["loss"][-1] < h["loss"][0]
    with pytest.raises(nv.ConfigError, match="dropout"):
        net.fit(X, y, loss="softmax", dropout=1.0, verbose=0)


def test_reduce_on_plateau_and_scheduler_callbacks() -> None:
    rng = np.random.default_rng(10)
    X, Y = rng.standard_normal((16, 2)), rng.standard_normal((16, 1))
    net = nv.Network(nv.mlp([2, 3, 1], "tanh"), dtype="float64", seed=0)
    plateau = nv.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0)
    h = net.fit(X, Y, optimizer=nv.optim.SGD(0.1), batch_size=4, epochs=5, callbacks=[plateau], verbose=0)
    # No epoch improves by 10, so the rate halves every epoch after the first.
    assert h["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.025, 0.0125])
    sched = nv.callbacks.LearningRateScheduler(lambda epoch: 0.2 / (epoch + 1))
    h = net.fit(X, Y, optimizer=nv.optim.SGD(0.1), batch_size=4, epochs=3, callbacks=[sched], verbose=0)
    assert h["learning_rate"] == pytest.approx([0.2, 0.1, 0.2 / 3])


def test_zeros_init_warns_about_symmetry() -> None:
    with pytest.warns(RuntimeWarning, match="symmetry"):
        nv.Network(nv.mlp([2, 3, 1]), init="zeros")
