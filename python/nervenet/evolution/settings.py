"""The TOML files of ``nervenet evolve``: what to search and on which data.

    description = "..."                                   (optional)
    [evolution]  EvolutionConfig's keys: islands, island_size, genomes, epochs,
                 mutation_rate, node_kinds = ["simple", "lstm"], recurrent_skips = [1, 10],
                 operator_rates = { add_edge = 2.0, clone = 0.5 }, backend ("process",
                 "inprocess", "ray"), ray_address = "head:6379", workers, seed, ...
                 (missing keys keep EXAMM's defaults; `false` turns off a key that may be
                 None: extinction_every, truncate, gradient_scale, gradient_boost,
                 weight_cap, workers, ray_address)
    [data]       folder = "data:timeseries/2018_coal"     (see below; default: the TOML file's folder)
                 train = ["burner_0.csv", ...]            (file names in folder; at least one)
                 validation = ["burner_8.csv", ...]       (at least one: the fitness)
                 test = ["burner_10.csv", ...]            (optional: reported for the best genome only)
                 outputs = "Main_Flm_Int"                 (a column name or an array of them)
                 inputs = ["a", "b"]                      (default: every column of the first file)
                 time_offset = 1                          (predict this many steps ahead)
                 chunk = 500                              (cut training series into sequences of this
                                                           many steps; default: whole series)
                 normalize = false                        (true: min-max scale every column with the
                                                           training files' minimum and maximum)
    [seed]       graph = "seed.json"                      (a Graph JSON file as the seed genome;
                                                           default: EXAMM's, inputs wired to outputs)

``data.folder``: ``"data:PATH"`` is PATH inside the data root
(``$NERVENET_DATA``, else ``../shared/data`` from the working directory);
any other folder is read from the TOML file's folder (or is absolute).
Validation and test files are evaluated whole, state carried through each
file, as EXAMM does. Without a file, ``nervenet evolve`` runs
:data:`DEFAULT_SETTINGS`: EXAMM's coal-plant benchmark
(:func:`~nervenet.evolution.coal_task`) with EXAMM's settings.

Every problem is an :class:`~nervenet.errors.InvalidConfig` naming its key
(``evolution.islands``, ``data.train``, ``seed.graph``).

>>> from nervenet.evolution.settings import parse_settings
>>> s = parse_settings('''
... [evolution]
... islands = 2
... island_size = 3
... extinction_every = false
... [data]
... folder = "data:timeseries/2018_coal"
... train = ["burner_0.csv"]
... validation = ["burner_1.csv"]
... outputs = "Main_Flm_Int"
... ''')
>>> s.config.islands, s.config.extinction_every, s.data["test"]
(2, None, [])
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from ..config import REQUIRED, Key, _table, _unknown, parse_toml, read_toml
from ..errors import ConfigError, DataError, FormatError, InvalidConfig, ShapeError
from .config import EvolutionConfig
from .fitness import Task

PathLike = Union[str, Path]

#: The prefix of a ``data.folder`` inside the data root.
DATA_ROOT_PREFIX = "data:"

DEFAULT_SETTINGS = """\
# The built-in run of `nervenet evolve`: EXAMM's coal-plant benchmark (the
# 12 columns of 2018_coal predict Main_Flm_Int one step ahead; burners 0-7
# train, 8-9 validate, 10-11 test) with the settings of EXAMM's published
# coal run (scripts/base_run/coal_mt.sh: 10 islands of 10, 2,000 genomes,
# 5 epochs each, 2 mutations a child; the rest EvolutionConfig's defaults).
# examples/evolve_coal.toml spells every setting out.
[evolution]
epochs = 5
mutations = 2

[data]
folder = "data:timeseries/2018_coal"
train = ["burner_0.csv", "burner_1.csv", "burner_2.csv", "burner_3.csv",
         "burner_4.csv", "burner_5.csv", "burner_6.csv", "burner_7.csv"]
validation = ["burner_8.csv", "burner_9.csv"]
test = ["burner_10.csv", "burner_11.csv"]
outputs = "Main_Flm_Int"
time_offset = 1
chunk = 500
normalize = false
"""

_DATA = {
    "folder": Key("str", "."), "train": Key("names", REQUIRED), "validation": Key("names", REQUIRED),
    "test": Key("names", ()), "outputs": Key("columns", REQUIRED), "inputs": Key("columns"),
    "time_offset": Key("count", 1), "chunk": Key("every"), "normalize": Key("bool", False),
}
_SEED = {"graph": Key("str", REQUIRED)}
_TOP = {
    "description": Key("str"), "evolution": Key("table", {}), "data": Key("table", REQUIRED),
    "seed": Key("table", None, schema=_SEED),
}
_FIELDS = {f.name: f for f in dataclasses.fields(EvolutionConfig)}
# Keys whose value may be None; a TOML file, which has no null, says false.
_OPTIONAL = {name for name, f in _FIELDS.items() if str(f.type).startswith("Optional")}


@dataclass(frozen=True)
class Settings:
    """A checked settings file: the search (``config``), the ``[data]``
    table (defaults filled in, a plain folder made absolute) and the seed
    genome's file (absolute), if any."""

    config: EvolutionConfig
    data: dict[str, Any]
    seed_file: Optional[str] = None
    description: Optional[str] = None

    def folder(self) -> Path:
        """The data folder, ``data:`` read in the data root as it is now."""
        from ..data.builtin import data_root

        folder = self.data["folder"]
        if folder.startswith(DATA_ROOT_PREFIX):
            return data_root() / folder[len(DATA_ROOT_PREFIX):]
        return Path(folder)

    def task(self) -> Task:
        """Loads the data files as :func:`~nervenet.evolution.timeseries_task`
        does; a missing or malformed file or an unknown column is an
        InvalidConfig naming the ``data`` key."""
        from .tasks import timeseries_task

        d, folder = self.data, self.folder()
        files = {split: [folder / name for name in d[split]] for split in ("train", "validation", "test")}
        try:
            return timeseries_task(files["train"], files["validation"], files["test"], outputs=d["outputs"],
                                   inputs=d["inputs"], time_offset=d["time_offset"], chunk=d["chunk"],
                                   normalize=d["normalize"], name=folder.name)
        except (FormatError, DataError) as e:  # a missing file is a FormatError too
            split = next((s for s, paths in files.items() if any(str(p) in str(e) for p in paths)), "folder")
            raise InvalidConfig(f"data.{split}", str(e)) from None
        except ShapeError as e:  # a chunk longer than every training series
            raise InvalidConfig("data.chunk", str(e)) from None
        except ConfigError as e:  # an unknown column ("inputs: ...")
            problem = str(e)
            key = next((k for k in ("inputs", "outputs") if problem.startswith(f"{k}: ")), "chunk")
            raise InvalidConfig(f"data.{key}", problem) from None

    def seed_genome(self, task: Optional[Task] = None) -> Optional[Any]:
        """The seed genome (a Graph), or None for EXAMM's minimal one; with
        ``task``, its inputs and outputs are checked against the task's."""
        if self.seed_file is None:
            return None
        from ..graph import Graph

        try:
            graph = Graph.load(self.seed_file)
        except (OSError, ConfigError, FormatError, ValueError) as e:
            raise InvalidConfig("seed.graph", f"cannot load {self.seed_file}: {e}") from None
        if task is not None and (len(graph.inputs()), len(graph.outputs())) != (task.n_inputs, task.n_outputs):
            raise InvalidConfig("seed.graph", f"{self.seed_file} has {len(graph.inputs())} inputs and "
                                f"{len(graph.outputs())} outputs; the data have {task.n_inputs} input and "
                                f"{task.n_outputs} output columns")
        return graph

    def replace(self, **evolution: Any) -> "Settings":
        """The settings with these ``[evolution]`` keys changed (the
        command line's overrides); a bad value is a ConfigError."""
        return dataclasses.replace(self, config=EvolutionConfig.from_dict({**self.config.to_dict(), **evolution}))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able; ``validate_settings(s.to_dict())`` gives ``s`` back."""
        out: dict[str, Any] = {"evolution": self.config.to_dict(),
                               "data": {k: v for k, v in self.data.items() if v is not None}}
        if self.seed_file is not None:
            out["seed"] = {"graph": self.seed_file}
        if self.description is not None:
            out["description"] = self.description
        return out


def _evolution(raw: dict[str, Any]) -> EvolutionConfig:
    """The ``[evolution]`` table, each key checked alone first so that a
    bad value names its key."""
    values = {}
    for key, value in raw.items():
        if key not in _FIELDS:
            raise _unknown(f"evolution.{key}", key, _FIELDS)
        if value is False and key in _OPTIONAL:
            value = None
        try:
            EvolutionConfig.from_dict({key: value})
        except (ConfigError, TypeError) as e:
            raise InvalidConfig(f"evolution.{key}", str(e)) from None
        values[key] = value
    try:
        return EvolutionConfig.from_dict(values)
    except ConfigError as e:  # keys fine alone, not together (every rate 0)
        raise InvalidConfig("evolution", str(e)) from None


def validate_settings(raw: Any, base_dir: Optional[PathLike] = None) -> Settings:
    """Checks a parsed settings file (or ``Settings.to_dict()``'s dict) and
    fills in defaults; relative paths are read from ``base_dir`` (default:
    the working directory)."""
    if not isinstance(raw, dict):
        raise InvalidConfig("", f"a settings file is a table of sections, got {type(raw).__name__}")
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    top = _table("", raw, _TOP)
    config = _evolution(top["evolution"])
    data = _table("data", top["data"], _DATA)
    for split in ("train", "validation"):
        if not data[split]:
            raise InvalidConfig(f"data.{split}", "give at least one file")
    data["test"] = list(data["test"])
    if not data["folder"].startswith(DATA_ROOT_PREFIX):
        data["folder"] = str((base / data["folder"]).resolve())
    elif not data["folder"][len(DATA_ROOT_PREFIX):].strip():
        raise InvalidConfig("data.folder", f"{data['folder']!r} names no folder inside the data root")
    seed = None
    if top["seed"] is not None:
        seed = str((base / top["seed"]["graph"]).resolve())
    return Settings(config, data, seed, top["description"])


def parse_settings(text: str, base_dir: Optional[PathLike] = None) -> Settings:
    """Settings from TOML text (syntax errors are InvalidConfig too)."""
    return validate_settings(parse_toml(text), base_dir)


def read_settings(path: PathLike) -> Settings:
    """Settings from a TOML file; relative paths are read from its folder."""
    return validate_settings(read_toml(path), Path(path).resolve().parent)


def default_settings() -> Settings:
    """:data:`DEFAULT_SETTINGS`: EXAMM's coal benchmark with EXAMM's settings."""
    return parse_settings(DEFAULT_SETTINGS)


def load_evolution_config(path: Optional[PathLike] = None) -> tuple[EvolutionConfig, Task, Optional[Any]]:
    """What a settings file describes, loaded: the config, the task (its
    data read) and the seed genome (None: EXAMM's minimal one). Without
    ``path``, :data:`DEFAULT_SETTINGS`.

    >>> import nervenet as nv
    >>> config, task, seed = nv.evolution.load_evolution_config("examples/evolve_coal.toml")  # doctest: +SKIP
    >>> nv.evolution.evolve(config, task, seed, out="coal-run")                              # doctest: +SKIP
    """
    settings = default_settings() if path is None else read_settings(path)
    task = settings.task()
    return settings.config, task, settings.seed_genome(task)

