"""Training configuration: a TOML file describing data, network, loss,
optimiser, schedule and callbacks, checked key by key.

    [data]       dataset = "digits" | "iris" | "mushroom" | "mnist", or train = "file.csv" / "file.npz"
    [network]    layers = [64, 32, 10] | hidden = [32] | graph = "graph.json" | architecture = "lenet5";
                 activation, dtype, init, seed
    [loss]       name = "softmax" (or just loss = "softmax"); reduction
    [optimizer]  name = "adam"; lr = 0.003; the rule's own keys (beta1, mu, ...)
    [schedule]   name = "step"; every = 5; factor = 0.5
    [training]   epochs, batch_size, seed, l1, l2, clip_deltas, weight_cap, ...
    [callbacks.early_stopping]  monitor, patience, min_delta, mode, restore_best
    [callbacks.checkpoint]      path (a file name template inside the output folder), every, save_best_only,
                                monitor, mode
    [search]     what `nervenet search` varies (nervenet.experiments.tuning); `nervenet train` ignores it

Every problem is an :class:`InvalidConfig` (a ``ConfigError``) whose ``key``
is the dotted path of the bad key (``optimizer.lr``): unknown keys, values of
the wrong type or out of range, missing required keys. Relative paths are
read from the config file's folder. ``DEFAULT_CONFIG`` is the built-in
example of ``nervenet train`` (scikit-learn's digits).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import sys
from pathlib import Path
from typing import Any, Optional, Union

from . import _core
from .data.builtin import BUILTIN_DATASETS
from .errors import ConfigError, InvalidConfig
from .training import optim

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Config", "DEFAULT_CONFIG", "load_config", "parse_config", "validate"]

DEFAULT_CONFIG = """\
# The built-in example of `nervenet train`: scikit-learn's 8x8 digits,
# a 64-32-10 MLP trained with softmax cross-entropy and Adam.
[data]
dataset = "digits"
test_fraction = 0.2
validation_fraction = 0.1
seed = 0

[network]
layers = [64, 32, 10]
activation = "tanh"
seed = 0

[loss]
name = "softmax"

[optimizer]
name = "adam"
lr = 0.003

[training]
epochs = 20
batch_size = 32
"""

# nv.cnn builders a config can name (images flattened by the loaders go in as is)
ARCHITECTURES = ("small_mnist", "small_mnist_pooled", "small_cifar", "small_cifar_pooled", "lenet5", "small_vgg")
LOSSES = tuple(_core.losses())
CLASS_LOSSES = tuple(_core.class_losses())
REDUCTIONS = tuple(_core.reductions())
OPTIMIZERS: dict[str, type] = {
    "sgd": optim.SGD, "vanilla": optim.SGD, "momentum": optim.Momentum, "nesterov": optim.Nesterov,
    "adagrad": optim.Adagrad, "rmsprop": optim.RMSprop, "adam": optim.Adam,
}
SCHEDULES: dict[str, type] = {
    "constant": optim.Constant, "step": optim.StepDecay, "exponential": optim.ExponentialDecay,
    "inverse_time": optim.InverseTimeDecay,
}


REQUIRED = object()


@dataclasses.dataclass(frozen=True)
class Key:
    kind: str  # see _KINDS
    default: Any = None
    choices: tuple[str, ...] = ()
    schema: Optional[dict[str, "Key"]] = None  # for kind "table"


def _toml_type(v: Any) -> str:
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a float"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, dict):
        return "a table"
    return f"a {type(v).__name__}"


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v)


# kind -> (test, what the value must be)
_KINDS: dict[str, tuple[Any, str]] = {
    "count": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "every": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "int": (_is_int, "an integer"),
    "seed": (lambda v: _is_int(v) and 0 <= v < 2**64, "an integer in [0, 2**64)"),
    "float": (_is_num, "a number"),
    "nonneg": (lambda v: _is_num(v) and v >= 0, "a number >= 0"),
    "fraction": (lambda v: _is_num(v) and 0 <= v < 1, "a number in [0, 1)"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "sizes": (lambda v: isinstance(v, list) and all(_is_int(s) and s >= 1 for s in v), "an array of integers >= 1"),
    "pair": (lambda v: isinstance(v, list) and len(v) == 2 and all(_is_num(s) for s in v), "an array of two numbers"),
    "target": (
        lambda v: _is_int(v) or isinstance(v, str)
        or (isinstance(v, list) and len(v) > 0 and all(_is_int(s) or isinstance(s, str) for s in v)),
        "a column index or name, or an array of them",
    ),
    "table": (lambda v: isinstance(v, dict), "a table"),
    "names": (lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v), "an array of strings"),
    "columns": (
        lambda v: isinstance(v, str) or (isinstance(v, list) and len(v) > 0 and all(isinstance(s, str) for s in v)),
        "a column name or a non-empty array of them",
    ),
}

_ANNEALING = {"start": Key("float", REQUIRED), "end": Key("float", REQUIRED), "epochs": Key("count", REQUIRED)}
_EARLY_STOPPING = {
    "monitor": Key("str", "val_loss"), "patience": Key("count", 5), "min_delta": Key("nonneg", 0.0),
    "mode": Key("str", "auto", ("auto", "min", "max")), "restore_best": Key("bool", True),
}
_CHECKPOINT = {
    "path": Key("str", "checkpoint.safetensors"), "every": Key("every", 1), "save_best_only": Key("bool", False),
    "monitor": Key("str", "val_loss"), "mode": Key("str", "auto", ("auto", "min", "max")),
}
SCHEMA: dict[str, dict[str, Key]] = {
    "data": {
        "dataset": Key("str", None, BUILTIN_DATASETS), "root": Key("str"), "train": Key("str"), "test": Key("str"),
        "test_fraction": Key("fraction", 0.2), "validation_fraction": Key("fraction", 0.0), "seed": Key("seed", 0),
        "target": Key("target", -1), "header": Key("bool", False), "delimiter": Key("str", ","),
        "normalize": Key("str", "standard", ("standard", "minmax", "none")),
    },
    "network": {
        "layers": Key("sizes"), "hidden": Key("sizes"), "graph": Key("str"),
        "architecture": Key("str", None, ARCHITECTURES), "activation": Key("str", "tanh"),
        "output_activation": Key("str", "identity"), "bias": Key("bool"),
        "dtype": Key("str", "float32", ("float32", "float64")), "init": Key("str", "xavier"),
        "bias_init": Key("float", 0.0), "seed": Key("seed", 0),
    },
    "loss": {"name": Key("str", REQUIRED, LOSSES), "reduction": Key("str", "mean", REDUCTIONS)},
    "training": {
        "epochs": Key("count", 10), "batch_size": Key("count", 32), "shuffle": Key("bool", True),
        "seed": Key("seed", 0), "l1": Key("float", 0.0), "l2": Key("float", 0.0), "dropout": Key("float", 0.0),
        "clip_deltas": Key("pair"),
        "gradient_scale": Key("float"), "gradient_boost": Key("float"), "weight_cap": Key("pair"),
        "on_non_finite": Key("str", "fail"),
        "momentum_annealing": Key("table", None, schema=_ANNEALING), "threads": Key("count"),
    },
    "callbacks": {
        "early_stopping": Key("table", None, schema=_EARLY_STOPPING),
        "checkpoint": Key("table", None, schema=_CHECKPOINT),
    },
}
TOP: dict[str, Key] = {
    "description": Key("str"), "data": Key("table", REQUIRED), "network": Key("table", REQUIRED),
    "loss": Key("table", REQUIRED), "optimizer": Key("table", REQUIRED), "schedule": Key("table"),
    "training": Key("table", {}), "callbacks": Key("table", {}),
    "search": Key("table"),  # `nervenet search`'s (nervenet.experiments.tuning); training ignores it
}


def _path(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _unknown(path: str, key: str, allowed: Any, what: str = "") -> InvalidConfig:
    near = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    return InvalidConfig(path, f"unknown key{what}{hint} (allowed: {', '.join(allowed)})")


def _value(path: str, value: Any, spec: Key) -> Any:
    test, what = _KINDS[spec.kind]
    if not test(value):
        shown = repr(value) if not isinstance(value, (dict, list)) else _toml_type(value)
        raise InvalidConfig(path, f"expected {what}, got {shown} ({_toml_type(value)})")
    if spec.choices and value not in spec.choices:
        raise InvalidConfig(path, f"{value!r} is not one of {', '.join(spec.choices)}")
    if spec.kind in ("float", "nonneg", "fraction"):
        return float(value)
    if spec.kind == "pair":
        return [float(v) for v in value]
    if spec.kind == "table" and spec.schema is not None:
        return _table(path, value, spec.schema)
    return value


def _table(prefix: str, raw: dict[str, Any], schema: dict[str, Key], what: str = "") -> dict[str, Any]:
    for key in raw:
        if key not in schema:
            raise _unknown(_path(prefix, key), key, schema, what)
    out: dict[str, Any] = {}
    for key, spec in schema.items():
        path = _path(prefix, key)
        if key in raw:
            out[key] = _value(path, raw[key], spec)
        elif spec.default is REQUIRED:
            raise InvalidConfig(path, "required key is missing")
        else:
            out[key] = spec.default
    return out


# Keys of the training configuration (as the core names them) -> keys of a
# config file; the others are optimizer.*, schedule.* or training.*.
_FILE_KEYS = {"learning_rate": "optimizer.lr", "loss": "loss.name", "reduction": "loss.reduction",
              "non_finite": "training.on_non_finite"}


def _file_key(key: str) -> str:
    head, _, rest = key.partition(".")
    if key in _FILE_KEYS or head in ("optimizer", "schedule"):
        return _FILE_KEYS.get(key, key)
    return f"training.{rest if head == 'safeguards' else key}"


def _rule(prefix: str, raw: dict[str, Any], rules: dict[str, type], extra: dict[str, Key]) -> dict[str, Any]:
    """An optimiser or schedule table: ``name`` picks the rule, whose dataclass
    fields are its other keys (their values are checked by the core)."""
    if "name" not in raw:
        raise InvalidConfig(f"{prefix}.name", f"required key is missing (one of {', '.join(rules)})")
    name = _value(f"{prefix}.name", raw["name"], Key("str", REQUIRED, tuple(rules)))
    schema: dict[str, Key] = {"name": Key("str", REQUIRED), **extra}
    for f in dataclasses.fields(rules[name]):
        if f.name == "learning_rate":
            continue
        kind = {"int": "int", "bool": "bool"}.get(getattr(f.type, "__name__", str(f.type)), "float")
        schema[f.name] = Key(kind, REQUIRED if f.default is dataclasses.MISSING else f.default)
    return _table(prefix, raw, schema, f" for {prefix} {name!r}")


def validate(raw: dict[str, Any], base_dir: Union[str, Path, None] = None) -> "Config":
    """Checks a parsed TOML document (or a stored config dict) and fills in
    defaults; relative paths are resolved against ``base_dir``."""
    if not isinstance(raw, dict):
        raise InvalidConfig("", f"a config is a table of sections, got {_toml_type(raw)}")
    raw = dict(raw)
    if isinstance(raw.get("loss"), str):
        raw["loss"] = {"name": raw["loss"]}
    top = _table("", raw, TOP)
    sections: dict[str, Any] = {}
    for name in ("data", "network", "loss", "training", "callbacks"):
        sections[name] = _table(name, top[name], SCHEMA[name])
    sections["optimizer"] = _rule("optimizer", top["optimizer"], OPTIMIZERS, {"lr": Key("float", REQUIRED)})
    sections["schedule"] = None if top["schedule"] is None else _rule("schedule", top["schedule"], SCHEDULES, {})
    cfg = Config(description=top["description"], **sections)
    cfg._check(raw, Path(base_dir) if base_dir is not None else Path.cwd())
    return cfg


def parse_toml(text: str) -> dict[str, Any]:
    """TOML text as a dict (syntax errors are InvalidConfig too)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InvalidConfig("", f"invalid TOML: {e}") from None


def read_toml(path: Union[str, Path]) -> dict[str, Any]:
    """A TOML file as a dict; an unreadable file, text that is not UTF-8 or
    invalid TOML is an InvalidConfig."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise InvalidConfig("", f"cannot read config file {p}: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")  # TOML is UTF-8 whatever the locale says
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise InvalidConfig("", f"line {line} (byte offset {e.start}): not UTF-8 text; TOML files are UTF-8") from None
    return parse_toml(text)


def parse_config(text: str, base_dir: Union[str, Path, None] = None) -> "Config":
    """A config from TOML text (syntax errors are InvalidConfig too)."""
    return validate(parse_toml(text), base_dir)


def load_config(path: Union[str, Path]) -> "Config":
    return validate(read_toml(path), Path(path).resolve().parent)


@dataclasses.dataclass
class Config:
    """A checked config: one dict per section, defaults filled in, paths absolute."""

    data: dict[str, Any]
    network: dict[str, Any]
    loss: dict[str, Any]
    optimizer: dict[str, Any]
    schedule: Optional[dict[str, Any]]
    training: dict[str, Any]
    callbacks: dict[str, Any]
    description: Optional[str] = None

    @property
    def classify(self) -> bool:
        """Whether the loss takes class labels (softmax, hinge, squared_hinge)."""
        return self.loss["name"] in CLASS_LOSSES

    def _check(self, raw: dict[str, Any], base: Path) -> None:
        d, n = self.data, self.network
        if d["dataset"] is None and d["train"] is None:
            raise InvalidConfig("data.dataset", "required key is missing (a built-in set: digits, iris, mushroom, "
                                "mnist), or give data.train (a .csv or .npz file)")
        if d["dataset"] is not None:
            for key in ("train", "test"):
                if d[key] is not None:
                    raise InvalidConfig(f"data.{key}", f"cannot be used with data.dataset ({d['dataset']!r})")
        if "test_fraction" in raw["data"] and (d["test"] is not None or d["dataset"] == "mnist"):
            raise InvalidConfig("data.test_fraction", "cannot be used here: the test set is "
                                + ("data.test" if d["test"] is not None else "mnist's official test set"))
        for key in ("root", "train", "test"):
            if d[key] is not None:
                d[key] = str((base / d[key]).resolve())
        if d["validation_fraction"] + (0 if d["test"] or d["dataset"] == "mnist" else d["test_fraction"]) >= 1:
            raise InvalidConfig("data.validation_fraction", "with data.test_fraction leaves no training data")
        if self.classify and isinstance(d["target"], list) and len(d["target"]) != 1:
            raise InvalidConfig("data.target", f"loss {self.loss['name']!r} takes one column of class labels")
        given = [k for k in ("layers", "hidden", "graph", "architecture") if n[k] is not None]
        if len(given) != 1:
            raise InvalidConfig("network.layers", "give exactly one of network.layers, network.hidden, network.graph, "
                                "network.architecture"
                                + (f" (got {', '.join('network.' + k for k in given)})" if given else ""))
        if n["layers"] is not None and len(n["layers"]) < 2:
            raise InvalidConfig("network.layers", "needs at least an input and an output size")
        if n["graph"] is not None:
            n["graph"] = str((base / n["graph"]).resolve())
        from .graph import Graph

        for key in ("activation", "output_activation"):
            try:
                Graph().add_nodes(1, n[key])
            except ConfigError as e:
                raise InvalidConfig(f"network.{key}", str(e)) from None
        if self.callbacks["checkpoint"] is not None:
            from .training.checkpoint import check_template

            try:
                check_template(self.callbacks["checkpoint"]["path"])
            except ConfigError as e:
                raise InvalidConfig("callbacks.checkpoint.path", str(e)) from None
        for name, cb in self.callbacks.items():
            monitored = cb is not None and (name == "early_stopping" or cb["save_best_only"])
            if monitored and cb["monitor"].startswith("val_") and d["validation_fraction"] == 0:
                raise InvalidConfig(f"callbacks.{name}.monitor",
                                    f"monitors {cb['monitor']!r} but data.validation_fraction is 0 (no validation set)")
        if self.training["momentum_annealing"] is not None and self.optimizer["name"] not in ("momentum", "nesterov"):
            raise InvalidConfig("training.momentum_annealing", "needs optimizer.name = 'momentum' or 'nesterov'")
        from .training.fit import train_config

        problem = _core.train_config_problem(json.dumps(train_config(**self._train_kwargs())))
        if problem is not None:
            raise InvalidConfig(_file_key(problem[0]), problem[1])

    def to_dict(self) -> dict[str, Any]:
        """JSON-able; ``validate(cfg.to_dict())`` gives the same config back."""
        out = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        fixed_test = self.data["test"] is not None or self.data["dataset"] == "mnist"
        out["data"] = {k: v for k, v in out["data"].items() if v is not None and not (k == "test_fraction" and fixed_test)}
        for section in ("network", "training"):
            out[section] = {k: v for k, v in out[section].items() if v is not None}
        out["callbacks"] = {k: v for k, v in out["callbacks"].items() if v is not None}
        return out

    # ---- building -------------------------------------------------------------

    def build_optimizer(self) -> optim.Optimizer:
        o = dict(self.optimizer)
        return OPTIMIZERS[o.pop("name")](learning_rate=o.pop("lr"), **o)

    def build_schedule(self) -> Optional[optim.Schedule]:
        if self.schedule is None:
            return None
        s = dict(self.schedule)
        return SCHEDULES[s.pop("name")](**s)

    def build_callbacks(self, out: Union[str, Path, None] = None, *, outside: bool = False) -> list[Any]:
        """EarlyStopping and ModelCheckpoint as configured; the checkpoint
        path is read from the ``out`` folder and must stay inside it (not
        absolute, no ``..``) unless ``outside``."""
        from .training.callbacks import EarlyStopping, ModelCheckpoint

        es, cp = self.callbacks["early_stopping"], self.callbacks["checkpoint"]
        out_cbs: list[Any] = [] if es is None else [EarlyStopping(**es)]
        if cp is not None:
            cp = dict(cp)
            path = Path(cp.pop("path"))
            if not outside and (path.is_absolute() or path.drive or ".." in path.parts):
                raise InvalidConfig("callbacks.checkpoint.path", f"{str(path)!r} leads outside the output folder "
                                    f"{str(out or '.')!r}; name a file inside it, or pass --checkpoint-outside-out")
            out_cbs.append(ModelCheckpoint(Path(out or ".") / path, **cp))
        return out_cbs

    def fit_kwargs(self, out: Union[str, Path, None] = None, *, outside: bool = False) -> dict[str, Any]:
        """Keyword arguments for :meth:`Network.fit` (all but data and
        validation); checkpoints are written under ``out`` (see
        :meth:`build_callbacks`)."""
        return {**self._train_kwargs(), "epochs": self.training["epochs"],
                "callbacks": self.build_callbacks(out, outside=outside)}

    def _train_kwargs(self) -> dict[str, Any]:
        """The file's training settings, as the arguments of ``train_config``."""
        t = self.training
        ma = t["momentum_annealing"]
        return {
            "loss": self.loss["name"], "reduction": self.loss["reduction"], "optimizer": self.build_optimizer(),
            "schedule": self.build_schedule(), "batch_size": t["batch_size"],
            "shuffle": t["shuffle"], "seed": t["seed"], "l1": t["l1"], "l2": t["l2"],
            "dropout": t["dropout"],
            "clip_deltas": None if t["clip_deltas"] is None else tuple(t["clip_deltas"]),
            "gradient_scale": t["gradient_scale"], "gradient_boost": t["gradient_boost"],
            "weight_cap": None if t["weight_cap"] is None else tuple(t["weight_cap"]),
            "on_non_finite": t["on_non_finite"],
            "momentum_annealing": None if ma is None else optim.MomentumAnnealing(**ma),
        }

    def build_network(self, n_inputs: int, n_outputs: int) -> Any:
        """The network for data with ``n_inputs`` features and ``n_outputs``
        outputs (classes for a class loss); a mismatch names the key."""
        from .builders import mlp
        from .graph import Graph
        from .network import Network

        n = self.network
        what = "classes" if self.classify else "target columns"
        if n["graph"] is not None or n["architecture"] is not None:
            key = "network.graph" if n["graph"] is not None else "network.architecture"
            if n["graph"] is not None:
                try:
                    graph = Graph.load(n["graph"])
                except (OSError, ConfigError, ValueError) as e:
                    raise InvalidConfig(key, f"cannot load {n['graph']}: {e}") from None
            else:
                from . import cnn

                name = n["architecture"]
                build = getattr(cnn, name.removesuffix("_pooled"))
                graph = build(pooling=True) if name.endswith("_pooled") else build()
            # an input feature map takes C·H·W features
            inputs = sum(math.prod(graph.node(i).get("shape") or (1,)) for i in graph.inputs())
            if inputs != n_inputs or len(graph.outputs()) != n_outputs:
                raise InvalidConfig(key, f"has {inputs} input values and {len(graph.outputs())} "
                                    f"outputs; the data has {n_inputs} features and {n_outputs} {what}")
        else:
            sizes = n["layers"] if n["layers"] is not None else [n_inputs, *n["hidden"], n_outputs]
            if sizes[0] != n_inputs:
                raise InvalidConfig("network.layers", f"starts with {sizes[0]} inputs but the data has {n_inputs} features")
            if sizes[-1] != n_outputs:
                raise InvalidConfig("network.layers", f"ends with {sizes[-1]} outputs but the data has {n_outputs} {what}")
            graph = mlp(sizes, n["activation"], n["output_activation"], bias=n["bias"])
        try:
            return Network(graph, dtype=n["dtype"], init=n["init"], seed=n["seed"], bias_init=n["bias_init"])
        except ConfigError as e:
            raise InvalidConfig("network.init", str(e)) from None

    def load_data(self, preprocessor: Any = None, dataset: Optional[str] = None) -> Any:
        """:func:`nervenet.data.prepare` for the ``[data]`` section (or
        for the built-in ``dataset`` instead); missing files and columns name
        the data key at fault."""
        from .data import prepare
        from .errors import DataError, FormatError

        spec = dict(self.data) if dataset is None else {**self.data, "dataset": dataset, "train": None, "test": None}
        try:
            return prepare(spec, self.classify, preprocessor)
        except (FormatError, DataError) as e:
            raise InvalidConfig(self._data_key(spec, str(e)), str(e)) from None
        except ConfigError as e:
            raise InvalidConfig("data.target", str(e)) from None

    @staticmethod
    def _data_key(spec: dict[str, Any], message: str) -> str:
        if spec.get("dataset") is not None:
            return "data.root" if spec["dataset"] != "digits" else "data.dataset"
        return "data.test" if spec.get("test") and spec["test"] in message else "data.train"
