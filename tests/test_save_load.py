"""Saving and loading: safetensors model files and checkpoints — round
trips, atomic writes, corrupt files, resumed training bit for bit, and the
ModelCheckpoint callback."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import save as st_save

import nervenet as nv
from nervenet import io as nvio


def recurrent_graph() -> nv.Graph:
    """Sparse, recurrent (skips 1 and 2, a self loop), with a fixed edge and a preset bias."""
    g = nv.Graph()
    x = g.add_inputs(3)
    h = g.add_nodes(4, activation="tanh")
    y = g.add_outputs(2)
    g.connect_all(x, h)
    g.connect_all(h, y)
    g.connect(h[0], h[0], time_skip=1)
    g.connect(h[1], h[2], time_skip=2)
    g.connect(y[0], h[3], time_skip=1, trainable=False, weight=1.0)
    g.connect(x[0], y[1])  # skips the hidden layer
    g.set_bias(h[2], 0.25)
    return g


def data(seed: int = 0, n: int = 40, steps: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    shape = (n, steps) if steps else (n,)
    return rng.standard_normal(shape + (3,)), rng.standard_normal(shape + (2,))


def saved_file(tmp_path: Path, dtype: str = "float32") -> Path:
    net = nv.Network(recurrent_graph(), dtype=dtype, seed=4)
    path = tmp_path / "model.safetensors"
    net.save(path)
    return path


def rewrite(path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str], *, fix_checksum: bool = True) -> None:
    """Writes tensors and metadata back to path (with a valid checksum, so
    that only the intended fault remains)."""
    if fix_checksum:
        path.write_bytes(nvio.encode(tensors, metadata))
    else:
        path.write_bytes(st_save(tensors, metadata=metadata))


def contents(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    saved = nvio.read(path)
    return dict(saved.tensors), dict(saved.metadata)


# ---- round trips ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_gives_identical_outputs(tmp_path: Path, dtype: str) -> None:
    net = nv.Network(recurrent_graph(), dtype=dtype, seed=7)
    X, Y = data(steps=5)
    net.fit(X, Y, optimizer=nv.optim.Adam(0.01), batch_size=8, epochs=2, verbose=0)
    path = tmp_path / "net.safetensors"
    net.save(path)
    loaded = nv.Network.load(path)
    assert loaded.dtype == net.dtype
    assert loaded.graph == net.graph
    assert loaded.parameter_names == net.parameter_names
    assert np.array_equal(loaded.parameters, net.parameters)
    assert np.array_equal(loaded.forward(X), net.forward(X))
    assert np.array_equal(loaded.forward(X[:, 0]), net.forward(X[:, 0]))


def test_round_trip_of_builders_and_random_graphs(tmp_path: Path) -> None:
    X = np.random.default_rng(1).standard_normal((6, 4, 3))
    graphs = [nv.mlp([3, 5, 2], "relu"), nv.random_graph(3, 12, 2, density=0.4, recurrent=4, max_skip=3,
                                                         fixed_probability=0.2, seed=5)]
    for i, g in enumerate(graphs):
        net = nv.Network(g, dtype="float64", seed=i)
        net.save(tmp_path / f"{i}.safetensors")
        loaded = nv.Network.load(tmp_path / f"{i}.safetensors")
        assert np.array_equal(loaded.forward(X), net.forward(X))


def test_parameters_are_matched_by_name_across_plan_layouts(tmp_path: Path) -> None:
    """A network compiled with other dense/sparse choices lays its flat vector
    out differently; loading matches parameters by name."""
    g = nv.random_graph(3, 10, 2, density=0.5, recurrent=3, seed=1)
    dense = nv.Network(g, dtype="float64", seed=2, dense_min_density=0.0, dense_min_edges=0)
    assert dense.parameter_names != nv.Network(g).parameter_names
    dense.save(tmp_path / "d.safetensors")
    loaded = nv.Network.load(tmp_path / "d.safetensors")
    assert loaded.named_parameters() == dense.named_parameters()
    X = np.random.default_rng(0).standard_normal((5, 4, 3))
    np.testing.assert_allclose(loaded.forward(X), dense.forward(X), rtol=1e-12, atol=1e-12)


def test_history_is_saved_with_the_network(tmp_path: Path) -> None:
    net = nv.Network(nv.mlp([3, 4, 2]), seed=0)
    X, Y = data()
    history = net.fit(X, Y, epochs=3, verbose=0)
    net.save(tmp_path / "h.safetensors", history=history)
    saved = nvio.read(tmp_path / "h.safetensors")
    assert saved.history is not None and saved.history.values == history.values
    assert not saved.is_checkpoint


# ---- atomic writes --------------------------------------------------------------------


def test_save_leaves_no_temporary_files(tmp_path: Path) -> None:
    net = nv.Network(recurrent_graph(), seed=0)
    for _ in range(3):
        net.save(tmp_path / "m.safetensors")
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_interrupted_write_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.safetensors"
    old = nv.Network(recurrent_graph(), seed=0)
    old.save(path)
    before = path.read_bytes()

    def fail(src: Any, dst: Any) -> None:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", fail)
    new = nv.Network(recurrent_graph(), seed=1)
    with pytest.raises(OSError, match="simulated"):
        new.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]
    assert np.array_equal(nv.Network.load(path).parameters, old.parameters)


# ---- bad files ---------------------------------------------------------------------------


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing.safetensors"):
        nv.Network.load(tmp_path / "nothing.safetensors")


@pytest.mark.parametrize("keep", [0, 4, 8, 9, 40, 0.5, -8, -1])
def test_truncated_file_raises_format_error(tmp_path: Path, keep: Any) -> None:
    path = saved_file(tmp_path)
    raw = path.read_bytes()
    n = int(len(raw) * keep) if isinstance(keep, float) else (keep if keep >= 0 else len(raw) + keep)
    path.write_bytes(raw[:n])
    with pytest.raises(nv.FormatError, match=r"model\.safetensors: .*(truncated|corrupted)"):
        nv.Network.load(path)


def test_every_flipped_header_byte_is_detected(tmp_path: Path) -> None:
    path = saved_file(tmp_path)
    raw = path.read_bytes()
    header_end = 8 + int.from_bytes(raw[:8], "little")
    bad = tmp_path / "bad.safetensors"
    for i in range(header_end):
        for mask in (0x01, 0xFF) if i % 4 == 0 else (0x01,):
            flipped = bytearray(raw)
            flipped[i] ^= mask
            bad.write_bytes(bytes(flipped))
            with pytest.raises(nv.FormatError, match="bad.safetensors: "):
                nv.Network.load(bad)


def test_flipped_parameter_byte_fails_the_checksum(tmp_path: Path) -> None:
    path = saved_file(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0x10
    path.write_bytes(bytes(raw))
    with pytest.raises(nv.FormatError, match="checksum does not match"):
        nv.Network.load(path)


def test_tampered_metadata_fails_the_checksum(tmp_path: Path) -> None:
    path = saved_file(tmp_path)
    tensors, metadata = contents(path)
    metadata["graph"] = metadata["graph"].replace('"tanh"', '"relu"')
    rewrite(path, tensors, metadata, fix_checksum=False)
    with pytest.raises(nv.FormatError, match="checksum does not match"):
        nv.Network.load(path)


def test_files_that_are_not_nervenet_models(tmp_path: Path) -> None:
    p = tmp_path / "other.safetensors"
    p.write_bytes(st_save({"weight": np.zeros(3, np.float32)}))
    with pytest.raises(nv.FormatError, match="not a nervenet model file"):
        nv.Network.load(p)
    p.write_bytes(st_save({"weight": np.zeros(3, np.float32)}, metadata={"format": "pt"}))
    with pytest.raises(nv.FormatError, match="format is 'pt'"):
        nv.Network.load(p)
    p.write_text('{"format": "nervenet.graph"}')
    with pytest.raises(nv.FormatError, match="other.safetensors"):
        nv.Network.load(p)
    p.write_bytes(os.urandom(256))
    with pytest.raises(nv.FormatError, match="other.safetensors"):
        nv.Network.load(p)


class _Tripwire:
    ran = False

    def __reduce__(self) -> Any:
        return (_set_tripwire, ())


def _set_tripwire() -> None:
    _Tripwire.ran = True


def test_loading_never_executes_code(tmp_path: Path) -> None:
    p = tmp_path / "pickle.safetensors"
    p.write_bytes(pickle.dumps(_Tripwire()))
    with pytest.raises(nv.FormatError):
        nv.Network.load(p)
    assert not _Tripwire.ran


def test_wrong_format_version(tmp_path: Path) -> None:
    path = saved_file(tmp_path)
    tensors, metadata = contents(path)
    metadata["format_version"] = "99"
    rewrite(path, tensors, metadata)
    with pytest.raises(nv.FormatError, match="format_version '99'"):
        nv.Network.load(path)


def test_parameter_group_mismatch_names_the_group(tmp_path: Path) -> None:
    path = saved_file(tmp_path)
    tensors, metadata = contents(path)
    ids = tensors["edges.ids"].copy()
    renamed, ids[3] = int(ids[3]), 999
    rewrite(path, {**tensors, "edges.ids": ids}, metadata)
    with pytest.raises(nv.FormatError, match=rf"model\.safetensors: .*one-value edge groups; it lacks edge {renamed}"):
        nv.Network.load(path)
    last = int(tensors["edges.ids"][-1])
    rewrite(path, {**tensors, "edges.ids": tensors["edges.ids"][:-1], "edges": tensors["edges"][:-1]}, metadata)
    with pytest.raises(nv.FormatError, match=f"lacks edge {last}"):
        nv.Network.load(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_parameters(tmp_path: Path, bad: float) -> None:
    path = saved_file(tmp_path)
    tensors, metadata = contents(path)
    tensors["edges"] = tensors["edges"].copy()
    tensors["edges"][2] = bad
    rewrite(path, tensors, metadata)
    edge = int(tensors["edges.ids"][2])
    with pytest.raises(nv.FormatError, match=f"non-finite value .* index 2 \\(parameter 'edge:{edge}'\\)"):
        nv.Network.load(path)


def test_tensor_dtype_and_shape_mismatch(tmp_path: Path) -> None:
    path = saved_file(tmp_path)
    tensors, metadata = contents(path)
    rewrite(path, {**tensors, "edges": tensors["edges"].astype(np.float64)}, metadata)
    with pytest.raises(nv.FormatError, match="'edges' is float64, but the network is float32"):
        nv.Network.load(path)
    rewrite(path, {**tensors, "edges": tensors["edges"].reshape(1, -1)}, metadata)
    with pytest.raises(nv.FormatError, match="'edges' / 'edges.ids' do not match"):
        nv.Network.load(path)
    rewrite(path, {**tensors, "extra": np.zeros(2, np.float32)}, metadata)
    with pytest.raises(nv.FormatError, match="tensor 'extra' is not a parameter group"):
        nv.Network.load(path)
    rewrite(path, {**tensors, "extra.ids": np.zeros(2, np.uint32)}, metadata)
    with pytest.raises(nv.FormatError, match="unexpected tensor 'extra.ids'"):
        nv.Network.load(path)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("graph", "{not json", "graph does not build"),
        ("graph", json.dumps({"format": "nervenet.graph", "version": 1}), "graph does not build"),
        ("dtype", "float16", "dtype must be float32 or float64"),
        ("history", "{}", "not a valid History"),
        ("graph", None, "lacks 'graph'"),
        ("epoch", "3", "incomplete checkpoint"),
    ],
)
def test_bad_metadata(tmp_path: Path, key: str, value: Any, message: str) -> None:
    path = saved_file(tmp_path)
    tensors, metadata = contents(path)
    if value is None:
        del metadata[key]
    else:
        metadata[key] = value
    rewrite(path, tensors, metadata)
    with pytest.raises(nv.FormatError, match=message):
        nv.Network.load(path)


def test_graph_that_is_not_a_dag(tmp_path: Path) -> None:
    path = saved_file(tmp_path)
    tensors, metadata = contents(path)
    g = json.loads(metadata["graph"])
    edge = dict(g["edges"][0])
    edge.update(id=g["next_edge_id"], src=edge["dst"], dst=edge["src"])
    g["edges"].append(edge)  # an edge into an input node / a cycle
    g["next_edge_id"] += 1
    metadata["graph"] = json.dumps(g)
    rewrite(path, tensors, metadata)
    with pytest.raises(nv.FormatError, match="model.safetensors: the saved graph does not build"):
        nv.Network.load(path)


# ---- checkpoints and resumed training -----------------------------------------------------


FIT = dict(loss="mse", batch_size=7, seed=11, verbose=0)


@pytest.mark.parametrize("optimizer", [nv.optim.Adam(0.01), nv.optim.Momentum(0.02)], ids=["adam", "momentum"])
def test_resumed_training_is_bitwise_identical(tmp_path: Path, optimizer: nv.optim.Optimizer) -> None:
    X, Y = data(n=45)
    val = data(seed=1, n=10)
    opts = dict(FIT, optimizer=optimizer, validation=val, schedule=nv.optim.ExponentialDecay(0.1))

    straight = nv.Network(nv.mlp([3, 8, 2], "tanh"), dtype="float32", seed=5)
    full = straight.fit(X, Y, epochs=6, **opts)

    first = nv.Network(nv.mlp([3, 8, 2], "tanh"), dtype="float32", seed=5)
    path = tmp_path / "ckpt.safetensors"
    first.fit(X, Y, epochs=3, callbacks=[nv.callbacks.ModelCheckpoint(path)], **opts)
    saved = nvio.read(path)
    assert saved.epoch == 3 and saved.step_count == 3 * 7 and saved.optimizer_buffers

    fresh = nv.Network(nv.mlp([3, 8, 2], "tanh"), dtype="float32", seed=123)  # other initial weights
    resumed = fresh.fit(X, Y, epochs=6, resume=path, **opts)
    assert np.array_equal(fresh.parameters, straight.parameters)
    assert resumed.epochs == list(range(6))
    assert resumed.values == full.values


def test_resumed_recurrent_training_is_bitwise_identical(tmp_path: Path) -> None:
    X, Y = data(n=20, steps=6)
    opts = dict(FIT, optimizer=nv.optim.Nesterov(0.01), clip_deltas=(100.0, 10.0), gradient_scale=5.0, dropout=0.2)
    straight = nv.Network(recurrent_graph(), dtype="float64", seed=2)
    straight.fit(X, Y, epochs=5, **opts)
    first = nv.Network(recurrent_graph(), dtype="float64", seed=2)
    path = tmp_path / "r.safetensors"
    first.fit(X, Y, epochs=2, callbacks=[nv.callbacks.ModelCheckpoint(path)], **opts)
    fresh = nv.Network(recurrent_graph(), dtype="float64", seed=9)
    fresh.fit(X, Y, epochs=5, resume=path, **opts)
    assert np.array_equal(fresh.parameters, straight.parameters)


def test_resume_checks_the_configuration(tmp_path: Path) -> None:
    X, Y = data()
    path = tmp_path / "c.safetensors"
    net = nv.Network(nv.mlp([3, 4, 2]), seed=0)
    net.fit(X, Y, optimizer=nv.optim.Momentum(0.01, mu=0.9), epochs=2,
            callbacks=[nv.callbacks.ModelCheckpoint(path)], **FIT)
    before = net.parameters
    with pytest.raises(nv.ConfigError, match=r"c\.safetensors: .*optimizer\.mu: checkpoint 0.9, this call 0.5"):
        net.fit(X, Y, optimizer=nv.optim.Momentum(0.01, mu=0.5), epochs=4, resume=path, **FIT)
    with pytest.raises(nv.ConfigError, match="learning_rate"):
        net.fit(X, Y, optimizer=nv.optim.Momentum(0.02), epochs=4, resume=path, **FIT)
    with pytest.raises(nv.ConfigError, match="seed: checkpoint 11, this call 12"):
        net.fit(X, Y, optimizer=nv.optim.Momentum(0.01), epochs=4, resume=path, **dict(FIT, seed=12))
    with pytest.raises(nv.ConfigError, match="float32 network, this one is float64"):
        nv.Network(nv.mlp([3, 4, 2]), dtype="float64").fit(
            X, Y, optimizer=nv.optim.Momentum(0.01), epochs=4, resume=path, **FIT)
    with pytest.raises(nv.ConfigError, match="different graph"):
        nv.Network(nv.mlp([3, 5, 2])).fit(X, Y, optimizer=nv.optim.Momentum(0.01), epochs=4, resume=path, **FIT)
    assert np.array_equal(net.parameters, before)  # failed resumes change nothing

    plain = tmp_path / "plain.safetensors"
    net.save(plain)
    with pytest.raises(nv.FormatError, match="not a checkpoint"):
        net.fit(X, Y, optimizer=nv.optim.Momentum(0.01), epochs=4, resume=plain, **FIT)


def test_resume_with_no_epochs_left(tmp_path: Path) -> None:
    X, Y = data()
    path = tmp_path / "done.safetensors"
    net = nv.Network(nv.mlp([3, 4, 2]), seed=0)
    h = net.fit(X, Y, epochs=3, callbacks=[nv.callbacks.ModelCheckpoint(path)], **FIT)
    fresh = nv.Network(nv.mlp([3, 4, 2]), seed=1)
    again = fresh.fit(X, Y, epochs=3, resume=path, **FIT)
    assert again.values == h.values
    assert np.array_equal(fresh.parameters, net.parameters)


def test_checkpoint_loads_as_a_network(tmp_path: Path) -> None:
    X, Y = data()
    path = tmp_path / "c.safetensors"
    net = nv.Network(nv.mlp([3, 4, 2]), seed=0)
    net.fit(X, Y, optimizer=nv.optim.Adam(0.01), epochs=2, callbacks=[nv.callbacks.ModelCheckpoint(path)], **FIT)
    assert np.array_equal(nv.Network.load(path).parameters, net.parameters)
    saved = nvio.read(path)
    assert saved.training is not None and saved.training["optimizer"]["name"] == "adam"
    assert saved.optimizer_buffers == ["m", "v"]


def test_model_checkpoint_every_and_file_names(tmp_path: Path) -> None:
    X, Y = data()
    cb = nv.callbacks.ModelCheckpoint(tmp_path / "e{epoch:02d}.safetensors", every=2)
    nv.Network(nv.mlp([3, 4, 2]), seed=0).fit(X, Y, epochs=5, callbacks=[cb], **FIT)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e02.safetensors", "e04.safetensors"]
    assert [nvio.read(p).epoch for p in cb.saved] == [2, 4]


class _Recorder(nv.callbacks.Callback):
    def __init__(self) -> None:
        self.parameters: list[np.ndarray] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        assert self.network is not None
        self.parameters.append(self.network.parameters)


def test_model_checkpoint_save_best_only(tmp_path: Path) -> None:
    X, Y = data(n=60)
    val = data(seed=3, n=15)
    path = tmp_path / "best.safetensors"
    named = nv.callbacks.ModelCheckpoint(tmp_path / "all" / "b{epoch}.safetensors", save_best_only=True)
    (tmp_path / "all").mkdir()
    best = nv.callbacks.ModelCheckpoint(path, save_best_only=True, monitor="val_loss")
    recorder = _Recorder()
    h = nv.Network(nv.mlp([3, 6, 2], "tanh"), seed=0).fit(
        X, Y, optimizer=nv.optim.SGD(0.3), epochs=12, validation=val, callbacks=[recorder, best, named], **FIT)
    val_loss = h["val_loss"]
    improved = [e for e in range(12) if val_loss[e] < min(val_loss[:e], default=np.inf)]
    assert 0 < len(improved) < 12, val_loss  # the test needs some epochs that do not improve
    assert [nvio.read(p).epoch for p in named.saved] == [e + 1 for e in improved]
    best_epoch = int(np.argmin(val_loss))
    assert nvio.read(path).epoch == best_epoch + 1
    assert np.array_equal(nv.Network.load(path).parameters, recorder.parameters[best_epoch])
    assert best.best == val_loss[best_epoch]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all", "best.safetensors"]  # no temp files left


def test_model_checkpoint_save_best_only_needs_the_monitored_value(tmp_path: Path) -> None:
    X, Y = data()
    cb = nv.callbacks.ModelCheckpoint(tmp_path / "x.safetensors", save_best_only=True)
    with pytest.raises(nv.ConfigError, match="monitors 'val_loss'"):
        nv.Network(nv.mlp([3, 4, 2])).fit(X, Y, epochs=2, callbacks=[cb], **FIT)
    with pytest.raises(nv.ConfigError, match="every"):
        nv.callbacks.ModelCheckpoint(tmp_path / "x.safetensors", every=0)
    with pytest.raises(nv.ConfigError, match=r"unknown field \{step\}"):
        nv.callbacks.ModelCheckpoint(tmp_path / "x{step}.safetensors")
    cb = nv.callbacks.ModelCheckpoint(tmp_path / "x{val_loss}.safetensors")  # no validation: not logged
    with pytest.raises(nv.ConfigError, match="field fit cannot fill"):
        nv.Network(nv.mlp([3, 4, 2])).fit(X, Y, epochs=1, callbacks=[cb], **FIT)


def test_interrupted_checkpoint_keeps_the_previous_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    X, Y = data()
    path = tmp_path / "c.safetensors"
    net = nv.Network(nv.mlp([3, 4, 2]), seed=0)
    net.fit(X, Y, epochs=2, callbacks=[nv.callbacks.ModelCheckpoint(path)], **FIT)
    before = path.read_bytes()

    def fail(src: Any, dst: Any) -> None:
        raise OSError("power cut (simulated)")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="simulated"):
        net.fit(X, Y, epochs=4, resume=path, callbacks=[nv.callbacks.ModelCheckpoint(path)], **FIT)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.safetensors"]
