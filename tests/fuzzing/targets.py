"""What the fuzzer attacks: per target, small valid seed files (written
here, deterministic) and the loader call that reads one. Every target's
rule is the same: the call returns, or raises a NervenetError."""

from __future__ import annotations

import gzip
import io
import json
import random
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

import nervenet as nv
from nervenet import io as nvio
from nervenet.config import load_config
from nervenet.data.tables import read_table
from nervenet.evolution.report import read_log
from nervenet.evolution.settings import load_evolution_config

from .mutators import mutate, mutate_numbers

__all__ = ["Target", "TARGETS"]


@dataclass(frozen=True)
class Target:
    name: str
    seeds: Callable[[Path], list[Path]]  # writes valid files into the folder, returns them
    load: Callable[[Path], object]
    mutate: Callable[[bytes, random.Random], bytes] = mutate


def _write(folder: Path, name: str, data: bytes) -> Path:
    p = folder / name
    p.write_bytes(data)
    return p


def _idx(type_code: int, dims: list[int], payload: bytes) -> bytes:
    return bytes([0, 0, type_code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims) + payload


def _idx_seeds(folder: Path) -> list[Path]:
    pixels = np.random.default_rng(0).integers(0, 256, size=(2, 28, 28), dtype=np.uint8).tobytes()
    files = {
        "train-images-idx3-ubyte": _idx(0x08, [2, 28, 28], pixels),
        "train-labels-idx1-ubyte": _idx(0x08, [10], bytes(range(10))),
        "floats-idx2": _idx(0x0D, [3, 4], np.arange(12, dtype=">f4").tobytes()),
    }
    out = [_write(folder, n, d) for n, d in files.items()]
    out += [_write(folder, n + ".gz", gzip.compress(d, mtime=0)) for n, d in files.items()]
    return out


def _cifar_seeds(folder: Path) -> list[Path]:
    rng = np.random.default_rng(1)
    records = [bytes([label]) + rng.integers(0, 256, 3072, dtype=np.uint8).tobytes() for label in (3, 7)]
    return [_write(folder, "data_batch_1.bin", b"".join(records))]


def _series_text() -> bytes:
    rows = ["a,b,c"] + [f"{0.1 * i:.3f},{np.sin(i):.5f},{i % 7}" for i in range(30)]
    return ("\n".join(rows) + "\n").encode()


def _series_seeds(folder: Path) -> list[Path]:
    return [_write(folder, "series.csv", _series_text()), _write(folder, "series.csv.gz", gzip.compress(_series_text(), mtime=0))]


def _uci_seeds(folder: Path) -> list[Path]:
    rows = [f"{['x', 'y', 'z'][i % 3]},{1.5 * i:.1f},{'?' if i % 5 == 0 else 'q'},{'yes' if i % 2 else 'no'}" for i in range(20)]
    return [_write(folder, "table.data", ("\n".join(rows) + "\n").encode())]


_NAMES = b"""1. Title: tiny

7. Attribute Information: (classes: edible=e, poisonous=p)
     1. cap-shape:                bell=b,conical=c,convex=x
     2. odor:                     almond=a,anise=l,
                                  none=n
     3. stalk-root:               bulbous=b,missing=?

8. Missing Attribute Values: none
"""


def _names_seeds(folder: Path) -> list[Path]:
    return [_write(folder, "tiny.names", _NAMES)]


def _text_seeds(folder: Path) -> list[Path]:
    text = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n"
    return [_write(folder, "input.txt", text.encode())]


def _load_text(p: Path) -> object:
    return nv.data.load_text(p, level="char"), nv.data.load_text(p, level="word")


_CONFIG = b"""description = "fuzz seed"
[data]
dataset = "digits"
test_fraction = 0.2
validation_fraction = 0.1
[network]
hidden = [16, 8]
activation = "tanh"
[loss]
name = "softmax"
[optimizer]
name = "adam"
lr = 0.01
[schedule]
name = "step"
every = 5
factor = 0.5
[training]
epochs = 3
batch_size = 32
seed = 1
"""


def _config_seeds(folder: Path) -> list[Path]:
    return [_write(folder, "config.toml", _CONFIG)]


def _evolve_seeds(folder: Path) -> list[Path]:
    """Settings of `nervenet evolve` naming three series files and a seed
    graph in ``folder`` (absolute: the mutated copy is read elsewhere)."""
    for k in range(3):
        _write(folder, f"s{k}.csv", _series_text())
    g = nv.Graph()
    g.connect_all(g.add_inputs(3), g.add_outputs(1, "identity", bias=True))
    g.save(folder / "seed.json")
    text = f"""[evolution]
islands = 2
island_size = 2
genomes = 8
epochs = 1
node_kinds = ["simple", "lstm"]
recurrent_skips = [1, 3]
extinction_every = false
operator_rates = {{ add_edge = 2.0, clone = 0.5 }}
[data]
folder = {json.dumps(str(folder))}
train = ["s0.csv", "s1.csv"]
validation = ["s2.csv"]
test = []
outputs = "b"
inputs = ["a", "b", "c"]
time_offset = 1
chunk = 10
normalize = true
[seed]
graph = {json.dumps(str(folder / "seed.json"))}
"""
    return [_write(folder, "evolve.toml", text.encode())]


def _evolve_log_seeds(folder: Path) -> list[Path]:
    records = [{"id": i, "parents": [i - 1] if i else [], "operator": "add_edge", "island": i % 2, "nodes": {"tanh": i},
                "edges": {"forward": 2 + i}, "epochs": 1, "best_epoch": 0, "fitness": None if i == 3 else 1.0 / (i + 1),
                "seconds": 0.01, "entered": True} for i in range(6)]
    return [_write(folder, "genomes.jsonl", "".join(json.dumps(r) + "\n" for r in records).encode())]


def _table_seeds(folder: Path) -> list[Path]:
    rows = ["a,b,colour,label"] + [f"{i},{0.5 * i},{['red', 'blue'][i % 2]},{['cat', 'dog', 'cow'][i % 3]}" for i in range(12)]
    text = ("\n".join(rows) + "\n").encode()
    buf = io.BytesIO()
    np.savez(buf, X=np.arange(12.0).reshape(4, 3), y=np.array([0, 1, 0, 1]))
    return [_write(folder, "table.csv", text), _write(folder, "table.csv.gz", gzip.compress(text, mtime=0)),
            _write(folder, "data.npz", buf.getvalue())]


def _load_table(p: Path) -> object:
    return read_table(p, target="label", header=True)


def _graphs() -> dict[str, nv.Graph]:
    maps = nv.Graph()
    m = maps.add_feature_map(1, 6, 6, role="input")
    f = maps.add_feature_map(2, 4, 4)
    maps.connect_filter(m, f, 3)
    maps.connect_all([f], maps.add_outputs(2))
    return {"mlp": nv.mlp([3, 4, 2]), "lstm": nv.rnn.stacked(2, [3], 1, kind="lstm"), "elman": nv.rnn.elman(2, 3, 1),
            "maps": maps}


def _graph_seeds(folder: Path) -> list[Path]:
    out = []
    for name, g in _graphs().items():
        g.save(folder / f"{name}.json")
        out.append(folder / f"{name}.json")
    return out


def _load_graph(p: Path) -> object:
    """What a user does with graph JSON: read it, then build a network."""
    return nv.Network(nv.Graph.load(p))


def _model_seeds(folder: Path) -> list[Path]:
    out = []
    for name, g in _graphs().items():
        nv.Network(g, seed=0).save(folder / f"{name}.safetensors")
        out.append(folder / f"{name}.safetensors")
    return out


def _resign(data: bytes, rng: random.Random) -> bytes:
    """Mutates the graph JSON inside a model file, then writes the file
    again with a valid checksum: the damage reaches the graph reader
    instead of stopping at the checksum."""
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    metadata = header.pop("__metadata__")
    from safetensors.numpy import load

    tensors = load(data)
    graph = mutate_numbers(metadata["graph"].encode(), rng).decode("utf-8", errors="replace")
    return nvio.encode(tensors, {**metadata, "graph": graph})


TARGETS: dict[str, Target] = {t.name: t for t in [
    Target("idx", _idx_seeds, nv.data.read_idx),
    Target("cifar", _cifar_seeds, nv.data.load_cifar10),
    Target("timeseries", _series_seeds, lambda p: nv.data.load_timeseries(p, outputs="b")),
    Target("uci", _uci_seeds, nv.data.load_uci),
    Target("uci-names", _names_seeds, nv.data.read_names),
    Target("text", _text_seeds, _load_text),
    Target("config", _config_seeds, load_config),
    Target("table", _table_seeds, _load_table),
    Target("model", _model_seeds, nv.Network.load),
    Target("model-resigned", _model_seeds, nv.Network.load, _resign),
    Target("graph-json", _graph_seeds, _load_graph, mutate_numbers),
    Target("evolve-settings", _evolve_seeds, load_evolution_config),
    Target("evolve-log", _evolve_log_seeds, read_log),
]}
