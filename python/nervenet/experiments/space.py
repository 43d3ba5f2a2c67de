"""A search space: the ``[search.space]`` table of a config, one dotted
config key per dimension with its distribution::

    [search.space]
    "optimizer.lr" = { loguniform = [1e-4, 1e-1] }    # floats, uniform in log
    "training.l2" = { uniform = [0.0, 0.01] }         # floats
    "training.batch_size" = { int = [16, 128], step = 16 }  # integers, ends included
    "network.hidden" = { choice = [[16], [32, 16]] }  # any TOML values

(unquoted, ``optimizer.lr = {...}`` is the same key to TOML). A space draws
random points (:meth:`Space.sample`), lists a grid (:meth:`Space.grid`:
every choice, every integer when they are at most ``points``, else
``points`` values spaced evenly, in log for log-uniform) and names its
dimensions for Optuna (:meth:`Space.optuna`).

>>> space = parse_space({"optimizer.lr": {"loguniform": [1e-3, 1e-1]}, "network.hidden": {"choice": [[8], [16]]}})
>>> len(space.grid(3))
6
>>> space.grid(3)[0]
{'optimizer.lr': 0.001, 'network.hidden': [8]}
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import _is_int, _is_num
from ..errors import InvalidConfig

__all__ = ["Dimension", "Space", "parse_space", "DISTRIBUTIONS"]

DISTRIBUTIONS = ("loguniform", "uniform", "int", "choice")


@dataclass(frozen=True)
class Dimension:
    """One dotted config ``key`` and its distribution: ``kind`` one of
    :data:`DISTRIBUTIONS`, ``low``/``high`` (and ``step`` for ``int``) or
    ``choices``."""

    key: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    step: int = 1
    choices: tuple[Any, ...] = ()

    def sample(self, rng: np.random.Generator) -> Any:
        if self.kind == "choice":
            return self.choices[int(rng.integers(len(self.choices)))]
        if self.kind == "int":
            return int(self.low) + self.step * int(rng.integers((int(self.high) - int(self.low)) // self.step + 1))
        if self.kind == "loguniform":
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    def points(self, n: int) -> list[Any]:
        """The dimension's grid values (``n`` per continuous range)."""
        if self.kind == "choice":
            return list(self.choices)
        if self.kind == "int":
            every = list(range(int(self.low), int(self.high) + 1, self.step))
            if len(every) <= n:
                return every
            return sorted({every[round(j)] for j in np.linspace(0, len(every) - 1, n)})
        if self.kind == "loguniform":
            return [float(v) for v in np.geomspace(self.low, self.high, n)]
        return [float(v) for v in np.linspace(self.low, self.high, n)]

    def corners(self) -> list[Any]:
        """The values that bound the dimension (each choice; both ends)."""
        return list(self.choices) if self.kind == "choice" else [self.points(2)[0], self.points(2)[-1]]

    # ---- Optuna: choices that are not scalars travel as JSON text ---------

    def _scalar_choices(self) -> bool:
        return all(c is None or isinstance(c, (bool, int, float, str)) for c in self.choices)

    def optuna(self) -> Any:
        import optuna.distributions as d

        if self.kind == "choice":
            return d.CategoricalDistribution(
                list(self.choices) if self._scalar_choices() else [json.dumps(c) for c in self.choices])
        if self.kind == "int":
            return d.IntDistribution(int(self.low), int(self.high), step=self.step)
        return d.FloatDistribution(self.low, self.high, log=self.kind == "loguniform")

    def from_optuna(self, value: Any) -> Any:
        return json.loads(value) if self.kind == "choice" and not self._scalar_choices() else value

    def to_optuna(self, value: Any) -> Any:
        return json.dumps(value) if self.kind == "choice" and not self._scalar_choices() else value


@dataclass(frozen=True)
class Space:
    dimensions: tuple[Dimension, ...]

    @property
    def keys(self) -> list[str]:
        return [d.key for d in self.dimensions]

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """A random point, each dimension drawn in turn from ``rng``."""
        return {d.key: d.sample(rng) for d in self.dimensions}

    def grid(self, points: int) -> list[dict[str, Any]]:
        """Every combination of the dimensions' grid values, the last
        dimension changing fastest."""
        return [dict(zip(self.keys, combo)) for combo in itertools.product(*(d.points(points) for d in self.dimensions))]

    def optuna(self) -> dict[str, Any]:
        return {d.key: d.optuna() for d in self.dimensions}


def _flatten(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Dotted keys and their specs; a table of tables none named after a
    distribution is a level of keys (``optimizer.lr = {...}``)."""
    out: list[tuple[str, Any]] = []
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value and not set(value) & set(DISTRIBUTIONS) \
                and all(isinstance(v, dict) for v in value.values()):
            out.extend(_flatten(value, path))
        else:
            out.append((path, value))
    return out


def _range(where: str, kind: str, value: Any) -> tuple[float, float]:
    if not (isinstance(value, list) and len(value) == 2 and all(_is_num(v) for v in value)):
        raise InvalidConfig(where, f"{kind} takes an array of two numbers [low, high], got {value!r}")
    low, high = float(value[0]), float(value[1])
    if not low < high:
        raise InvalidConfig(where, f"{kind} needs low < high, got [{value[0]}, {value[1]}]")
    if kind == "loguniform" and low <= 0:
        raise InvalidConfig(where, f"loguniform needs low > 0 (a logarithm is taken), got {value[0]}")
    return low, high


def _dimension(key: str, spec: Any, section: str) -> Dimension:
    where = f"{section}.{key}"
    if not isinstance(spec, dict):
        raise InvalidConfig(where, "expected a distribution table, e.g. { loguniform = [1e-4, 1e-1] }, "
                                   "{ uniform = [0, 1] }, { int = [1, 8] } or { choice = [...] }")
    kinds = [k for k in spec if k in DISTRIBUTIONS]
    extra = [k for k in spec if k not in DISTRIBUTIONS and not (k == "step" and kinds == ["int"])]
    if len(kinds) != 1 or extra:
        raise InvalidConfig(where, f"give exactly one of {', '.join(DISTRIBUTIONS)} (and step with int); "
                                   f"got {', '.join(spec) or 'an empty table'}")
    kind, value = kinds[0], spec[kinds[0]]
    if kind == "choice":
        if not isinstance(value, list) or not value:
            raise InvalidConfig(where, f"choice takes a non-empty array of values, got {value!r}")
        return Dimension(key, kind, choices=tuple(value))
    if kind == "int":
        if not (isinstance(value, list) and len(value) == 2 and all(_is_int(v) for v in value)) \
                or value[0] > value[1]:
            raise InvalidConfig(where, f"int takes an array of two integers [low, high] with low <= high, got {value!r}")
        step = spec.get("step", 1)
        if not _is_int(step) or step < 1:
            raise InvalidConfig(f"{where}.step", f"expected an integer >= 1, got {step!r}")
        if (value[1] - value[0]) % step:
            raise InvalidConfig(f"{where}.step", f"{step} does not divide high - low = {value[1] - value[0]}")
        return Dimension(key, kind, float(value[0]), float(value[1]), step=step)
    low, high = _range(where, kind, value)
    return Dimension(key, kind, low, high)


def parse_space(table: Any, section: str = "search.space") -> Space:
    """The :class:`Space` of a ``[search.space]`` table; each problem is an
    InvalidConfig naming the key."""
    if not isinstance(table, dict) or not table:
        raise InvalidConfig(section, "expected a table of dotted config keys and their distributions, e.g. "
                                     '"optimizer.lr" = { loguniform = [1e-4, 1e-1] }')
    dims = [_dimension(key, spec, section) for key, spec in _flatten(table)]
    return Space(tuple(dims))


def check_against(space: Space, check: Any, section: str = "search.space") -> None:
    """Calls ``check(params)`` (which raises InvalidConfig for a config that
    is not valid) with each dimension's bounding values in turn, the others
    at their first; a failure names the dimension and the value."""
    base = {d.key: d.corners()[0] for d in space.dimensions}
    for d in space.dimensions:
        for value in d.corners():
            try:
                check({**base, d.key: value})
            except InvalidConfig as e:
                raise InvalidConfig(f"{section}.{d.key}", f"the value {value!r} makes an invalid config: {e}") from None

