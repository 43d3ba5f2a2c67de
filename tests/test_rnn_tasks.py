"""Recurrent networks on small real tasks, and text generation.

* the coal plant (../shared/data/timeseries/2018_coal): the networks of
  benches/coal_plant.py; the residual ones start as the naive forecast, a
  short EXAMM-shape LSTM run beats its untrained self on the test burner;
* many-to-one classification: the loss only on the last step (a mask),
  "is the sum of the sequence positive";
* next-character prediction on a tiny repeated string down to near-zero loss;
* ``generate`` (python/nervenet/generate.py): seeded determinism, argmax at
  temperature 0, the sliding window, ConfigError for bad arguments.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import numpy as np
import pytest

import nervenet as nv
from nervenet.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def _module(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _generate() -> Callable[..., str]:
    """nervenet.generate.generate; the repository's file by path until the
    installed package carries it."""
    try:
        from nervenet.generate import generate
    except ImportError:
        generate = _module("nervenet.generate", ROOT / "python" / "nervenet" / "generate.py").generate
    return generate


generate = _generate()
coal = _module("_bench_coal_plant", ROOT / "benches" / "coal_plant.py")


# ---- coal plant -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def coal_data() -> dict[str, Any]:
    """Burners 0-1 in 500-step chunks (the first 40), burner 10 whole for testing."""
    return coal.load(DATA, 500, train_burners=range(2), test_burners=(10,), max_chunks=40)


def test_coal_data_layout(coal_data: dict[str, Any]) -> None:
    X, Y, test = coal_data["X"], coal_data["Y"], coal_data["test"]
    assert X.shape == (40, 500, 12) and Y.shape == (40, 500, 1) and X.dtype == np.float32
    assert test.X.shape == (1, 14400, 12)
    j = coal_data["target_input"]
    assert coal_data["input_names"][j] == "Main_Flm_Int"
    np.testing.assert_array_equal(X[0, 1:, j], Y[0, :-1, 0])  # Y is Main_Flm_Int one step ahead


@pytest.mark.parametrize("kind", ["lstm", "gru", "mgu", "ugrnn", "delta", "simple", "lstm_layer", "gru_layer"])
def test_coal_residual_network_starts_as_the_naive_forecast(coal_data: dict[str, Any], kind: str) -> None:
    g = coal.build(kind, 12, 4, coal_data["target_input"])
    net = nv.Network(g, dtype="float32", seed=0)
    test = coal_data["test"]
    j = coal_data["target_input"]
    np.testing.assert_array_equal(net.predict(test.X)[..., 0], test.X[..., j])
    assert coal.test_mse(net.predict(test.X), test.Y, test.mask) == pytest.approx(coal.naive_mse(test, j))


def test_coal_examm_shape() -> None:
    g = coal.build("examm_lstm")
    edges = [g.edge(e) for e in g.edge_ids()]
    assert sum(e["time_skip"] == 0 for e in edges) == 12 * 12 + 12
    assert sum(e["time_skip"] == 1 for e in edges) == 12 * 12 + 12
    assert all(e["trainable"] for e in edges)
    out = g.node(g.outputs()[0])
    assert out["activation"] == "tanh" and out["bias"]


def test_coal_short_run_improves_test_mse(coal_data: dict[str, Any]) -> None:
    d, test = coal_data, coal_data["test"]
    net = nv.Network(coal.build("examm_lstm", 12, 12, d["target_input"]), dtype="float32", seed=0)
    before = coal.test_mse(net.predict(test.X), test.Y, test.mask)
    net.fit(d["X"], d["Y"], loss="mse", optimizer=nv.optim.Adam(1e-2), batch_size=8, epochs=2, seed=0, verbose=0)
    after = coal.test_mse(net.predict(test.X), test.Y, test.mask)
    assert after < 0.25 * before, (before, after)
    assert net.evaluate(test.X, test.Y, "mse")["mse"] == pytest.approx(after, rel=1e-4)


# ---- many-to-one classification -------------------------------------------------------------------------


def test_sequence_classification_with_loss_on_the_last_step_only() -> None:
    rng = np.random.default_rng(0)
    n, T = 600, 8
    X = rng.uniform(-1, 1, (n, T, 1)).astype(np.float32)
    label = (X.sum(axis=(1, 2)) > 0).astype(np.int64)
    Y = np.repeat(label[:, None], T, axis=1)  # (batch, time) labels; only the last step counts
    mask = np.zeros((n, T), dtype=np.float32)
    mask[:, -1] = 1
    train, test = slice(0, 500), slice(500, None)
    net = nv.Network(nv.rnn.gru_layers(1, 8, 2), dtype="float32", seed=0)
    net.fit(X[train], Y[train], loss="softmax", optimizer=nv.optim.Adam(0.02), batch_size=25, epochs=40,
            mask=mask[train], seed=0, verbose=0)
    result = net.evaluate(X[test], Y[test], "softmax", mask=mask[test])
    assert result["count"] == 100  # one counted step per sequence
    assert result["accuracy"] >= 0.93, result
    last = net.predict(X[test])[:, -1].argmax(axis=1)
    assert np.mean(last == label[test]) == pytest.approx(result["accuracy"])


# ---- next-character prediction -------------------------------------------------------------------------


TEXT = "hello world! "


@pytest.fixture(scope="module")
def char_model() -> tuple[nv.Network, nv.data.Vocabulary, float]:
    """A GRU layer trained on sequences of "hello world! hello world! " (all
    starting at the same phase, so every next character is determined)."""
    vocab = nv.data.Vocabulary.build(TEXT, level="char")
    V = len(vocab)
    ids = vocab.encode(TEXT * 3)
    L = 2 * len(TEXT)
    X = nv.data.one_hot_ids(np.tile(ids[:L], (16, 1)), V)
    Y = np.tile(ids[1 : L + 1], (16, 1))
    net = nv.Network(nv.rnn.gru_layers(V, 16, V), dtype="float32", seed=0)
    net.fit(X, Y, loss="softmax", optimizer=nv.optim.Adam(0.03), batch_size=4, epochs=40, seed=0, verbose=0)
    return net, vocab, net.evaluate(X, Y, "softmax")["loss"]


def test_character_prediction_reaches_near_zero_loss(char_model: tuple[nv.Network, nv.data.Vocabulary, float]) -> None:
    _, _, loss = char_model
    assert loss < 0.02, loss


def test_generate_continues_the_memorised_text(char_model: tuple[nv.Network, nv.data.Vocabulary, float]) -> None:
    net, vocab, _ = char_model
    assert generate(net, vocab, "hello", 20, temperature=0) == (TEXT * 3)[5:25]
    assert generate(net, vocab, "hello", 20, temperature=0.05, seed=3) == (TEXT * 3)[5:25]


# ---- generate --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def untrained() -> tuple[nv.Network, nv.data.Vocabulary]:
    vocab = nv.data.Vocabulary.build("abcdefgh", level="char")
    return nv.Network(nv.rnn.lstm_layers(len(vocab), 6, len(vocab)), dtype="float32", seed=1), vocab


def _argmax_loop(net: nv.Network, vocab: nv.data.Vocabulary, prime: str, length: int, window: Any = None) -> str:
    ids = list(vocab.encode(prime))
    for _ in range(length):
        seq = ids if window is None else ids[-window:]
        ids.append(int(net.forward(nv.data.one_hot_ids(np.array([seq]), len(vocab)))[0, -1].argmax()))
    return vocab.decode(np.array(ids[len(prime):]))


def test_generate_is_deterministic_for_a_seed(untrained: tuple[nv.Network, nv.data.Vocabulary]) -> None:
    net, vocab = untrained
    a = generate(net, vocab, "abc", 40, temperature=1.0, seed=7)
    assert len(a) == 40 and set(a) <= set("abcdefgh")
    assert generate(net, vocab, "abc", 40, temperature=1.0, seed=7) == a
    assert generate(net, vocab, "abc", 40, temperature=1.0, seed=8) != a
    assert generate(net, vocab, np.array(vocab.encode("abc")), 40, temperature=1.0, seed=7) == a
    assert generate(net, vocab, "abc", 0) == ""


def test_generate_at_temperature_zero_is_argmax(untrained: tuple[nv.Network, nv.data.Vocabulary]) -> None:
    net, vocab = untrained
    expected = _argmax_loop(net, vocab, "ab", 15)
    assert generate(net, vocab, "ab", 15, temperature=0, seed=0) == expected
    assert generate(net, vocab, "ab", 15, temperature=0.0, seed=123) == expected  # no randomness used
    assert generate(net, vocab, "ab", 15, temperature=0, window=4) == _argmax_loop(net, vocab, "ab", 15, window=4)


def test_generate_samples_from_the_softmax(untrained: tuple[nv.Network, nv.data.Vocabulary]) -> None:
    """One step, many seeds: the frequencies follow softmax(z / T)."""
    net, vocab = untrained
    z = net.forward(nv.data.one_hot_ids(np.array([vocab.encode("ab")]), len(vocab)))[0, -1].astype(np.float64)
    T = 0.5
    p = np.exp((z - z.max()) / T)
    p /= p.sum()
    draws = [generate(net, vocab, "ab", 1, temperature=T, seed=s) for s in range(2000)]
    freq = np.array([draws.count(c) for c in vocab.tokens]) / len(draws)
    assert np.abs(freq - p).max() < 0.04, (freq, p)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"prime": ""}, "prime is empty"),
        ({"prime": "abz"}, "'z'"),
        ({"prime": [0, 99]}, "prime[1] = 99"),
        ({"prime": [[0, 1]]}, "1-D"),
        ({"length": -1}, "length"),
        ({"length": 2.5}, "length"),
        ({"length": True}, "length"),
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": math.nan}, "temperature"),
        ({"temperature": math.inf}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"window": 0}, "window"),
        ({"net": "net"}, "nervenet.Network"),
        ({"vocab": ["a", "b"]}, "Vocabulary"),
    ],
)
def test_generate_rejects_bad_arguments(untrained: tuple[nv.Network, nv.data.Vocabulary], change: dict[str, Any],
                                        message: str) -> None:
    net, vocab = untrained
    args: dict[str, Any] = {"net": net, "vocab": vocab, "prime": "ab", "length": 3, "temperature": 1.0, "seed": 0}
    args.update(change)
    with pytest.raises(ConfigError, match=re.escape(message)):
        generate(**args)


def test_generate_rejects_a_network_of_another_vocabulary(untrained: tuple[nv.Network, nv.data.Vocabulary]) -> None:
    net, _ = untrained
    other = nv.data.Vocabulary.build("abc", level="char")
    with pytest.raises(ConfigError, match="8 inputs and 8 outputs but the vocabulary has 3 tokens"):
        generate(net, other, "ab", 3)
