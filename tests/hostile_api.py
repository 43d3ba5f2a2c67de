"""The public API walked with hostile arguments.

Every public call is first made once with good arguments (which must
succeed), then once per (parameter, hostile value) with that one argument
replaced. The rule: every outcome is a success or a ``NervenetError`` —
never another exception type, a panic, an abort or an allocation past the
memory limit the runner sets (``tests/test_hostile_api.py`` runs this file
in a child process under ``RLIMIT_AS``, so a crash fails the test instead of
killing the suite).

Run directly to see every outcome::

    python tests/hostile_api.py            # one JSON line per failure, then a summary
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

import nervenet as nv

NAN, INF = math.nan, math.inf

#: Values that are wrong for almost every parameter: wrong types, non-finite
#: and huge numbers, negative sizes, empty and ragged containers.
HOSTILE: dict[str, Any] = {
    "None": None,
    "str": "x",
    "bytes": b"\xff\xfe",
    "-1": -1,
    "0": 0,
    "1.5": 1.5,
    "nan": NAN,
    "inf": INF,
    "-inf": -INF,
    "2**31": 2**31,
    "2**40": 2**40,
    "2**64": 2**64,
    "-2**63": -(2**63),
    "10**100": 10**100,
    "10**400": 10**400,  # past float range
    "list": [],
    "ragged": [[1, 2], [3]],
    "dict": {},
    "object": object(),
    "bool-array": np.array([True, False]),
    "nan-array": np.full((2, 3), NAN),
    "complex": 1 + 2j,
    "empty-array": np.empty((0, 3)),
    "huge-view": np.broadcast_to(np.zeros(3, np.float32), (2**40, 3)),
}


@dataclass
class Case:
    """One public call: ``make()`` returns ``(function, good keyword arguments)``
    on fresh state (graphs are mutated by the calls)."""

    name: str
    make: Callable[[], tuple[Callable[..., Any], dict[str, Any]]]
    #: parameters not walked (a legitimate value of them may run for ever, e.g. epochs)
    spare: frozenset[str] = field(default_factory=frozenset)


def _xy(n: int = 8, features: int = 3, outputs: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, features)), rng.normal(size=(n, outputs))


def _graph() -> tuple[nv.Graph, list[int], list[int], list[int]]:
    """A 3-4-2 MLP and its input, hidden and output ids."""
    g = nv.mlp([3, 4, 2])
    x, y = g.inputs(), g.outputs()
    return g, x, [n for n in g.node_ids() if n not in x and n not in y], y


def _net(dtype: str = "float64") -> nv.Network:
    return nv.Network(nv.mlp([3, 4, 2]), dtype=dtype, seed=0)


def _maps() -> tuple[nv.Graph, int, int]:
    g = nv.Graph()
    a = g.add_feature_map(1, 6, 6, role="input")
    b = g.add_feature_map(2, 4, 4, activation="relu")
    return g, a, b


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="nv-hostile-"))


def _saved_model() -> str:
    path = _tmp() / "m.safetensors"
    _net().save(path)
    return str(path)


def _cases() -> list[Case]:
    X, Y = _xy()
    cases: list[Case] = []

    def case(name: str, spare: tuple[str, ...] = ()) -> Callable[[Callable[[], Any]], None]:
        def register(make: Callable[[], Any]) -> None:
            cases.append(Case(name, make, frozenset(spare)))

        return register

    # --- graph building -------------------------------------------------
    @case("Graph.add_inputs")
    def _():
        return nv.Graph().add_inputs, {"n": 3}

    @case("Graph.add_nodes")
    def _():
        return nv.Graph().add_nodes, {"n": 2, "activation": "tanh", "bias": True, "cap": None, "slope": None}

    @case("Graph.add_node")
    def _():
        return nv.Graph().add_node, {"role": "hidden", "activation": "leaky_relu", "bias": True, "slope": 0.1}

    @case("Graph.add_outputs")
    def _():
        return nv.Graph().add_outputs, {"n": 2, "activation": "sigmoid"}

    @case("Graph.add_cells")
    def _():
        return nv.Graph().add_cells, {"n": 2, "kind": "gru"}

    @case("Graph.add_feature_map")
    def _():
        return nv.Graph().add_feature_map, {"channels": 2, "height": 5, "width": 5, "role": "hidden", "activation": "relu"}

    @case("Graph.connect")
    def _():
        g, x, h, _ = _graph()
        return g.connect, {"src": h[0], "dst": h[1], "time_skip": 2, "weight": 0.5, "trainable": True, "port": 0}

    @case("Graph.connect_all")
    def _():
        g, x, h, _ = _graph()
        return g.connect_all, {"srcs": h, "dsts": h, "time_skip": 1, "trainable": False}

    @case("Graph.connect_filter")
    def _():
        g, a, b = _maps()
        return g.connect_filter, {"src": a, "dst": b, "size": 3, "stride": 1, "padding": 0}

    @case("Graph.connect_pool")
    def _():
        g, a, _ = _maps()
        c = g.add_feature_map(1, 3, 3)
        return g.connect_pool, {"src": a, "dst": c, "op": "max", "size": 2, "stride": 2}

    @case("Graph.identity")
    def _():
        g, x, h, _ = _graph()
        return g.identity, {"src": x[0], "dst": h[0], "time_skip": 1}

    @case("Graph.set_weight")
    def _():
        g, *_ = _graph()
        return g.set_weight, {"edge": g.edge_ids()[0], "value": 0.25}

    @case("Graph.set_bias")
    def _():
        g, x, h, _ = _graph()
        return g.set_bias, {"node": h[0], "value": 0.25}

    @case("Graph.split_edge")
    def _():
        g, *_ = _graph()
        return g.split_edge, {"edge": g.edge_ids()[0], "activation": "relu"}

    @case("Graph.remove_edge")
    def _():
        g, *_ = _graph()
        return g.remove_edge, {"edge": g.edge_ids()[0]}

    @case("Graph.remove_node")
    def _():
        g, x, h, _ = _graph()
        return g.remove_node, {"node": h[0]}

    @case("Graph.set_edge_enabled")
    def _():
        g, *_ = _graph()
        return g.set_edge_enabled, {"edge": g.edge_ids()[0], "enabled": False}

    @case("Graph.node")
    def _():
        g, x, *_ = _graph()
        return g.node, {"node": x[0]}

    @case("Graph.map_shape")
    def _():
        g, a, _ = _maps()
        return g.map_shape, {"node": a}

    @case("Graph.find_edge")
    def _():
        g, x, h, _ = _graph()
        return g.find_edge, {"src": x[0], "dst": h[0], "time_skip": 0, "port": 0}

    @case("Graph.from_json")
    def _():
        return nv.Graph.from_json, {"text": _graph()[0].to_json()}

    @case("Graph.load")
    def _():
        path = _tmp() / "g.json"
        _graph()[0].save(path)
        return nv.Graph.load, {"path": str(path)}

    @case("drawing.to_dot")
    def _():
        return nv.drawing.to_dot, {"graph": nv.random_graph(2, 3, 1, recurrent=2, max_skip=3), "rankdir": "LR"}

    @case("drawing.draw_graph")
    def _():
        from matplotlib.figure import Figure  # not pyplot: nothing keeps the figures of the walk

        ax = Figure().add_subplot()
        return nv.drawing.draw_graph, {"graph": nv.rnn.elman(1, 2, 1), "ax": ax, "labels": True, "legend": True,
                                       "arrows": 5}

    # --- builders -------------------------------------------------------
    @case("mlp")
    def _():
        return nv.mlp, {"layer_sizes": [3, 4, 2], "activation": "relu", "output_activation": "identity"}

    @case("random_graph")
    def _():
        return nv.random_graph, {"inputs": 2, "hidden": 3, "outputs": 1, "density": 0.5, "recurrent": 1, "max_skip": 2, "seed": 1}

    @case("rnn.elman")
    def _():
        return nv.rnn.elman, {"n_inputs": 2, "n_hidden": 3, "n_outputs": 1}

    @case("rnn.lstm_layers")
    def _():
        return nv.rnn.lstm_layers, {"n_inputs": 2, "hidden_sizes": [3, 2], "n_outputs": 1}

    @case("rnn.narx")
    def _():
        return nv.rnn.narx, {"n_inputs": 2, "n_hidden": 3, "n_outputs": 1, "lags": 2}

    @case("rnn.stacked")
    def _():
        return nv.rnn.stacked, {"n_inputs": 2, "layers": [3], "n_outputs": 1, "kind": "mgu"}

    @case("cnn.small_mnist")
    def _():
        return nv.cnn.small_mnist, {"pooling": True, "activation": "relu"}

    @case("cnn.vgg16")
    def _():
        return nv.cnn.vgg16, {"n_classes": 10, "input_size": 32}

    # --- networks -------------------------------------------------------
    @case("Network")
    def _():
        return nv.Network, {"graph": nv.mlp([3, 4, 2]), "dtype": "float32", "init": "kaiming", "seed": 3, "bias_init": 0.1}

    @case("Network.forward")
    def _():
        return _net().forward, {"X": X}

    @case("Network.predict")
    def _():
        return _net().predict, {"X": X}

    @case("Network.evaluate")
    def _():
        return _net().evaluate, {"X": X, "Y": Y, "loss": "mse"}

    @case("Network.loss_and_gradient")
    def _():
        return _net().loss_and_gradient, {"X": X, "Y": Y, "loss": "l2", "reduction": "mean"}

    @case("Network.backward")
    def _():
        return _net().backward, {"X": X, "output_grad": Y, "input_grads": True}

    @case("Network.sgd_step")
    def _():
        return _net().sgd_step, {"X": X, "Y": Y, "loss": "mse", "learning_rate": 0.01}

    @case("Network.numeric_gradient")
    def _():
        return _net().numeric_gradient, {"X": X[:2], "Y": Y[:2], "step": 1e-5}

    @case("Network.fit", spare=("epochs",))
    def _():
        good = {
            "X": X, "Y": Y, "loss": "mse", "optimizer": nv.optim.Adam(1e-3), "epochs": 2, "batch_size": 4,
            "shuffle": True, "seed": 1, "validation": (X, Y), "l1": 0.0, "l2": 1e-4, "dropout": 0.1,
            "gradient_scale": 1.0, "weight_cap": (10.0, 1.0), "clip_deltas": (5.0, 5.0),
            "on_non_finite": "rollback", "callbacks": [], "verbose": 0,
        }
        return _net().fit, good

    @case("Network.set_parameter")
    def _():
        net = _net()
        return net.set_parameter, {"name": list(net.named_parameters())[0], "value": 0.5}

    @case("Network.get_parameter")
    def _():
        net = _net()
        return net.get_parameter, {"name": list(net.named_parameters())[0]}

    @case("Network.set_group")
    def _():
        net = _net()
        name, values = next(iter(net.parameters_by_group().items()))
        return net.set_group, {"name": name, "values": values}

    @case("Network.save")
    def _():
        return _net().save, {"path": str(_tmp() / "m.safetensors")}

    @case("Network.to_onnx")
    def _():
        return _net().to_onnx, {"path": str(_tmp() / "m.onnx"), "preprocessing": True, "dense_min_density": 0.05}

    @case("Network.load")
    def _():
        return nv.Network.load, {"path": _saved_model()}

    # --- training pieces -----------------------------------------------
    @case("optim.Adam")
    def _():
        return nv.optim.Adam, {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8}

    @case("optim.Momentum")
    def _():
        return nv.optim.Momentum, {"learning_rate": 0.1, "mu": 0.9}

    @case("optim.RMSprop")
    def _():
        return nv.optim.RMSprop, {"learning_rate": 0.1, "decay": 0.9}

    @case("optim.StepDecay")
    def _():
        return nv.optim.StepDecay, {"every": 2, "factor": 0.5}

    @case("callbacks.EarlyStopping")
    def _():
        return nv.callbacks.EarlyStopping, {"monitor": "val_loss", "patience": 2, "min_delta": 0.0, "mode": "min"}

    @case("callbacks.ModelCheckpoint")
    def _():
        return nv.callbacks.ModelCheckpoint, {"path": str(_tmp() / "c{epoch}.safetensors"), "every": 1}

    @case("callbacks.ReduceLROnPlateau")
    def _():
        return nv.callbacks.ReduceLROnPlateau, {"factor": 0.5, "patience": 1, "min_lr": 0.0}

    # --- data -----------------------------------------------------------
    @case("data.chunk_series")
    def _():
        return nv.data.chunk_series, {"X": np.zeros((20, 2)), "length": 5, "stride": 2}

    @case("data.lagged_windows")
    def _():
        return nv.data.lagged_windows, {"series": np.zeros((20, 2)), "lags": 3, "offset": 1}

    @case("data.one_hot_ids")
    def _():
        return nv.data.one_hot_ids, {"ids": np.array([0, 2, 1]), "n_classes": 3}

    @case("data.pad_sequences")
    def _():
        return nv.data.pad_sequences, {"sequences": [np.zeros((2, 3)), np.zeros((4, 3))], "length": 5, "value": 0}

    @case("data.pad_images")
    def _():
        return nv.data.pad_images, {"X": np.zeros((2, 1, 4, 4)), "pad": 1, "mode": "zeros"}

    @case("data.train_validation_test_split")
    def _():
        y = np.array([0, 1] * 10)
        return nv.data.train_validation_test_split, {"X": np.zeros((20, 2)), "y": y, "validation": 0.2, "test": 0.2, "seed": 0}

    @case("data.Standardize.fit")
    def _():
        return nv.data.Standardize().fit, {"X": np.arange(12.0).reshape(4, 3)}

    @case("data.MinMaxScale.fit")
    def _():
        return nv.data.MinMaxScale((0.0, 1.0)).fit, {"X": np.arange(12.0).reshape(4, 3)}

    @case("data.OneHotEncoder.fit")
    def _():
        return nv.data.OneHotEncoder().fit, {"X": np.array([["a"], ["b"], ["a"]])}

    @case("data.PCA")
    def _():
        return nv.data.PCA, {"n_components": 2}

    # --- experiments ----------------------------------------------------
    @case("experiments.summarize")
    def _():
        return nv.experiments.summarize, {"values": [0.1, 0.2, 0.4], "confidence": 0.95}

    @case("experiments.compare")
    def _():
        return nv.experiments.compare, {"a": [0.1, 0.2, 0.4], "b": [0.3, 0.5, 0.4], "metric": "loss", "alpha": 0.05,
                                        "lower_is_better": True, "names": ("a", "b")}

    @case("experiments.plot", spare=("path",))  # a hostile string would name a file to write
    def _():
        return nv.experiments.plot, {"contenders": {"a": [0.1, 0.2]}, "metric": "loss",
                                     "path": str(Path(tempfile.mkdtemp()) / "p.png")}

    @case("experiments.trials", spare=("log",))  # a hostile string would name a file to write
    def _():
        from experiment_helpers import noisy

        return nv.experiments.trials, {"source": noisy, "n": 2, "seed": 0, "backend": "inprocess", "workers": 1,
                                       "log": None, "name": "t", "progress": None, "ray_address": None}

    # --- settings -------------------------------------------------------
    @case("set_num_threads")
    def _():
        return nv.set_num_threads, {"n": nv.get_num_threads()}

    @case("set_inference_memory")
    def _():
        return nv.set_inference_memory, {"nbytes": 256 << 20}

    return cases


def _outcome(function: Callable[..., Any], kwargs: dict[str, Any]) -> str | None:
    """None for an allowed outcome, else a description of the offence."""
    try:
        function(**kwargs)
    except nv.NervenetError:
        return None
    except BaseException as error:  # noqa: BLE001 - the point is to catch everything, panics included
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        last = traceback.extract_tb(error.__traceback__)[-1]
        return f"{type(error).__module__}.{type(error).__qualname__}: {str(error)[:200]} (at {Path(last.filename).name}:{last.lineno})"
    return None


def attempts(only: str | None = None) -> list[tuple[Case, str | None, str | None]]:
    """Every call of the walk in order: ``(case, parameter, hostile label)``,
    the good call of a case first (parameter and label None)."""
    out: list[tuple[Case, str | None, str | None]] = []
    for case in _cases():
        if only and not case.name.startswith(only):
            continue
        _, good = case.make()
        out.append((case, None, None))
        out += [(case, param, label) for param in good if param not in case.spare for label in HOSTILE]
    return out


def walk(start: int = 0, only: str | None = None) -> int:
    """Makes the calls from index ``start`` on, printing one JSON line before
    each (``{"i": ...}``: the last one names a crash's culprit) and one per
    offence. Returns the number of offences."""
    threads, memory = nv.get_num_threads(), 256 << 20
    offences = 0
    try:
        for i, (case, param, label) in enumerate(attempts(only)):
            if i < start:
                continue
            print(json.dumps({"i": i, "call": case.name, "param": param, "value": label}), flush=True)
            function, kwargs = case.make()
            if param is None:
                function(**kwargs)  # the good call must succeed: the walk would test nothing otherwise
                continue
            kwargs[param] = HOSTILE[label]
            offence = _outcome(function, kwargs)
            if offence:
                offences += 1
                print(json.dumps({"offence": i, "call": case.name, "param": param, "value": label, "error": offence}), flush=True)
    finally:
        nv.set_num_threads(threads)
        nv.set_inference_memory(memory)
    return offences


def main() -> int:
    """``python tests/hostile_api.py [START] [PREFIX]``"""
    start = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    offences = walk(start, sys.argv[2] if len(sys.argv) > 2 else None)
    print(json.dumps({"done": True, "offences": offences}), flush=True)
    return 1 if offences else 0


if __name__ == "__main__":
    sys.exit(main())
