"""What one trial runs: a ``nervenet train`` config (its metrics are what
:func:`nervenet.training.configured.run_config` reports) or a Python
function ``f(seed) -> dict of metrics``, with the trial's seed.

A config trial sets ``network.seed`` (the initial weights) and
``training.seed`` (batch order, dropout) to the trial's seed; the data
split (``data.seed``) stays as configured, so every trial, and every
contender of a comparison, sees the same training, validation and test
rows. A built-in set read from files gets the data root this process
sees (``$NERVENET_DATA`` or ``../shared/data``), whatever folder a worker
runs in. ``training.threads`` is left to the executor (one engine thread per
worker; the engine's results do not depend on it).
"""

from __future__ import annotations

import copy
import numbers
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Union

from ..config import read_toml, validate
from ..data.builtin import _FILES as FILE_DATASETS  # the built-in sets read from files under a root
from ..data.builtin import data_root
from ..errors import ConfigError
from ..evolution.fitness import derived_seed

__all__ = ["Work", "work_of", "trial_seed", "set_key", "configured", "SEEDED"]

# the purposes a trial's seeds are derived for (derived_seed's third argument)
SEED_TRIAL, SEED_SAMPLE = 0, 1


def trial_seed(run_seed: int, trial: int) -> int:
    """Trial ``trial``'s 64-bit seed, derived from the experiment's seed
    (numpy's SeedSequence): the same whatever order trials run in."""
    return derived_seed(run_seed, trial, SEED_TRIAL)


def set_key(raw: dict[str, Any], key: str, value: Any) -> None:
    """Sets the dotted ``key`` (``optimizer.lr``) of a TOML dict, making
    the tables on the way."""
    *tables, last = key.split(".")
    node = raw
    for name in tables:
        if not isinstance(node.get(name), dict):
            node[name] = {}
        node = node[name]
    node[last] = value


# the keys a trial's seed sets
SEEDED = ("network.seed", "training.seed")


def configured(config: dict[str, Any], params: dict[str, Any], seed: Optional[int]) -> dict[str, Any]:
    """A copy of ``config`` with ``params`` (dotted keys) and, unless None,
    the trial's ``seed`` set."""
    raw = copy.deepcopy(config)
    for key, value in params.items():
        set_key(raw, key, value)
    for key in SEEDED if seed is not None else ():
        set_key(raw, key, seed)
    return raw


@dataclass(frozen=True)
class Work:
    """A trial's work: a checked config as a dict (``config``, with
    absolute paths) or a picklable ``function``."""

    config: Optional[dict[str, Any]] = None
    function: Optional[Callable[[int], Any]] = None

    @property
    def name(self) -> str:
        if self.function is not None:
            return f"{getattr(self.function, '__module__', '?')}.{getattr(self.function, '__qualname__', '?')}"
        return self.config.get("description") or "config"  # type: ignore[union-attr]

    def identity(self) -> dict[str, Any]:
        """What makes two experiments the same (for the log's header)."""
        return {"function": self.name} if self.function is not None else {"config": self.config}

    def run(self, seed: int, params: Optional[dict[str, Any]] = None) -> dict[str, float]:
        """The trial's metrics; ``params`` (dotted keys) change the config first."""
        if self.function is not None:
            return _checked(self.function(seed), self.name)
        from ..training.configured import run_config

        assert self.config is not None
        cfg = validate(configured(self.config, params or {}, seed))
        cfg.training["threads"] = None
        with tempfile.TemporaryDirectory(prefix="nervenet-trial-") as out:  # where checkpoints, if any, go
            return run_config(cfg, out).metrics()


def run_trial(work: Work, seed: int, params: Optional[dict[str, Any]] = None) -> dict[str, float]:
    """``work.run`` as a module-level function, for worker processes."""
    return work.run(seed, params)


def _checked(metrics: Any, name: str) -> dict[str, float]:
    if not isinstance(metrics, dict) or not metrics:
        raise ConfigError(f"{name} must return a non-empty dict of metric names to numbers, "
                          f"got {type(metrics).__name__}")
    out = {}
    for key, value in metrics.items():
        if not isinstance(key, str) or isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError(f"{name} returned {key!r}: {value!r}; metrics are names (strings) with numbers")
        out[key] = float(value)
    return out


def work_of(source: Union[str, "os.PathLike[str]", dict, Callable[[int], Any]],
            drop: tuple[str, ...] = ()) -> tuple[Work, dict[str, Any]]:
    """The work of a TOML config's path, a config dict (paths relative to
    the working folder) or a function, and the config's raw top-level
    tables named in ``drop`` (e.g. ``search``), taken out before the rest
    is checked."""
    if callable(source) and not isinstance(source, (str, os.PathLike)):
        return Work(function=source), {}
    if isinstance(source, (str, os.PathLike)):
        raw, base = read_toml(source), Path(source).resolve().parent
    elif isinstance(source, dict):
        raw, base = copy.deepcopy(source), Path.cwd()
    else:
        raise ConfigError(f"an experiment runs a TOML config (a path or a dict) or a function f(seed) -> dict "
                          f"of metrics, got {type(source).__name__}")
    taken = {k: raw.pop(k) for k in drop if k in raw}
    config = validate(raw, base).to_dict()
    data = config["data"]
    if data.get("dataset") in FILE_DATASETS and data.get("root") is None:
        # the data root as this process sees it: a worker's working folder (Ray's) differs
        data["root"] = str(data_root().resolve())
    return Work(config=config), taken

