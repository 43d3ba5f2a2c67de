"""Hyperparameter search over a ``nervenet train`` config: its ``[search]``
section says what to vary and how (``nervenet train`` ignores it)::

    [search]
    sampler = "random"        # "random" (default), "grid", or "tpe" (Optuna)
    trials = 20               # default: the grid's size for "grid", else 20
    seed = 0                  # trial i's seed and random point derive from it
    metric = "val_loss"       # what is optimised (never a test_* metric: the test split judges the winner)
    direction = "minimize"    # default: from the metric's name
    grid_points = 5           # per continuous dimension of a grid
    storage = "sqlite:///search.db"  # "tpe": Optuna's storage (its dashboard reads it); default in memory
    study = "digits-lr"       # "tpe": the study's name in the storage

    [search.space]            # see nervenet.experiments.space
    "optimizer.lr" = { loguniform = [1e-4, 1e-1] }
    "network.hidden" = { choice = [[16], [32, 16]] }

Trials run in parallel on any executor (:mod:`nervenet.experiments.executors`);
each trial's parameters, whole config, seed and metrics go to a JSON-lines
log (an interrupted search resumes from it), and the best trial's config is
a runnable TOML file (:meth:`SearchResult.write_best`).

>>> r = search("examples/search_digits.toml", trials=8, backend="process")  # doctest: +SKIP
>>> r.write_best("best.toml")  # then: nervenet train best.toml  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np

from .._checks import path_of
from ..config import REQUIRED, Key, _table, validate
from ..errors import ConfigError, InvalidConfig
from ..evolution.fitness import derived_seed
from .repeated import MAX_TRIALS_BITS, run_trials
from .space import Space, check_against, parse_space
from .stats import lower_is_better
from .toml_text import to_toml
from .work import SEED_SAMPLE, SEEDED, configured, trial_seed, work_of

__all__ = ["SearchResult", "search", "SAMPLERS", "OPTUNA_INSTALL"]

SAMPLERS = ("random", "grid", "tpe")
OPTUNA_INSTALL = 'pip install "nervenet[optuna]"'
DEFAULT_TRIALS = 20
_SETTINGS = {
    "sampler": Key("str", "random", SAMPLERS), "trials": Key("every"), "seed": Key("seed", 0),
    "metric": Key("str", "val_loss"), "direction": Key("str", None, ("minimize", "maximize")),
    "grid_points": Key("every", 5), "storage": Key("str"), "study": Key("str"), "space": Key("table", REQUIRED),
}


def _settings(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidConfig("search", "a search needs a [search] table with a [search.space] of keys to vary")
    s = _table("search", raw, _SETTINGS)
    if s["trials"] is not None and s["trials"] >= 2**MAX_TRIALS_BITS:
        raise InvalidConfig("search.trials", f"expected an integer in [1, 2**{MAX_TRIALS_BITS}), got {s['trials']}")
    if s["grid_points"] < 2 or s["grid_points"] >= 2**MAX_TRIALS_BITS:
        raise InvalidConfig("search.grid_points",
                            f"expected an integer in [2, 2**{MAX_TRIALS_BITS}), got {s['grid_points']}")
    for key in ("storage", "study"):
        if s[key] is not None and s["sampler"] != "tpe":
            raise InvalidConfig(f"search.{key}", f"is Optuna's, for sampler = 'tpe' (the sampler is {s['sampler']!r})")
    if s["metric"].startswith("test_"):
        raise InvalidConfig("search.metric", f"{s['metric']!r} would choose hyperparameters on the test split; "
                            "optimise a validation metric (val_loss, val_accuracy) and keep the test for the winner")
    if s["direction"] is None:
        try:
            s["direction"] = "minimize" if lower_is_better(s["metric"]) else "maximize"
        except ConfigError as e:
            raise InvalidConfig("search.direction", str(e)) from None
    return s


def _apply(config: dict[str, Any], params: dict[str, Any], seed: Optional[int] = None) -> dict[str, Any]:
    """The checked config (as a dict) with ``params`` and the trial's seed set."""
    return validate(configured(config, params, seed)).to_dict()


class _Grid:
    def __init__(self, space: Space, points: int) -> None:
        self.points = space.grid(points)

    def params(self, i: int) -> dict[str, Any]:
        return self.points[i]

    def told(self, record: dict[str, Any], value: Optional[float]) -> None:
        pass


class _Random:
    def __init__(self, space: Space, seed: int) -> None:
        self.space, self.seed = space, seed

    def params(self, i: int) -> dict[str, Any]:
        # trial i's own generator: the same point whatever order trials run in
        return self.space.sample(np.random.default_rng(derived_seed(self.seed, i, SEED_SAMPLE)))

    def told(self, record: dict[str, Any], value: Optional[float]) -> None:
        pass


class _TPE:
    """Optuna's TPE sampler on Optuna's own study (in ``storage``, so its
    dashboard shows the search); the log's finished trials are added to
    the study when it does not hold them (resuming on in-memory storage)."""

    def __init__(self, space: Space, s: dict[str, Any], name: str, finished: list[tuple[int, dict, float]]) -> None:
        try:
            import optuna
        except ImportError:
            raise InvalidConfig("search.sampler", f"'tpe' needs Optuna, which is not installed: {OPTUNA_INSTALL}") from None
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna, self.space = optuna, space
        self.distributions = space.optuna()
        try:
            self.study = optuna.create_study(
                study_name=s["study"] or name, storage=s["storage"], load_if_exists=True, direction=s["direction"],
                sampler=optuna.samplers.TPESampler(seed=s["seed"] % 2**32))
        except Exception as e:  # noqa: BLE001 - bad URLs, unreachable databases, a study of another direction
            raise InvalidConfig("search.storage", f"Optuna could not open the study {s['study'] or name!r} in "
                                f"{s['storage'] or 'memory'}: {type(e).__name__}: {e}") from None
        held = {t.user_attrs.get("nervenet_trial") for t in self.study.trials
                if t.state == optuna.trial.TrialState.COMPLETE}
        for i, params, value in finished:
            if i not in held:
                self.study.add_trial(optuna.trial.create_trial(
                    params={d.key: d.to_optuna(params[d.key]) for d in space.dimensions},
                    distributions=self.distributions, value=value, user_attrs={"nervenet_trial": i}))
        self.asked: dict[int, Any] = {}

    def params(self, i: int) -> dict[str, Any]:
        trial = self.study.ask(self.distributions)
        trial.set_user_attr("nervenet_trial", i)
        self.asked[i] = trial
        return {d.key: d.from_optuna(trial.params[d.key]) for d in self.space.dimensions}

    def told(self, record: dict[str, Any], value: Optional[float]) -> None:
        trial = self.asked.pop(record["trial"])
        if value is None:
            self.study.tell(trial, state=self.optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(trial, value)


@dataclass
class SearchResult:
    """A finished search: every trial's ``records`` (``trial``, ``seed``,
    ``params``, ``config``, ``metrics`` or ``error``, ``seconds``), the
    ``metric`` and its ``direction``, and the ``best`` record (None if no
    trial reported the metric)."""

    records: list[dict[str, Any]]
    metric: str
    direction: str
    best: Optional[dict[str, Any]]

    def write_best(self, path: Union[str, "os.PathLike[str]"]) -> Path:
        """Writes the best trial's config (its parameters and seed set, no
        [search]) as a TOML file ``nervenet train`` runs; returns its path."""
        from ..io import write_atomic

        if self.best is None:
            raise ConfigError(f"no trial reported {self.metric!r}: there is no best config to write")
        b = self.best
        head = (f"# the best of {len(self.records)} trials of a nervenet search ({self.direction} {self.metric}): "
                f"trial {b['trial']}, {self.metric} = {b['metrics'][self.metric]:.6g}\n"
                f"# parameters: {', '.join(f'{k} = {v!r}' for k, v in b['params'].items())}\n")
        return write_atomic(path, (head + to_toml(b["config"])).encode("utf-8"))

    def table(self, most: int = 10) -> str:
        """The ``most`` best trials, best first, with their parameters."""
        ranked = sorted((r for r in self.records if _objective(r, self.metric) is not None),
                        key=lambda r: _objective(r, self.metric), reverse=self.direction == "maximize")
        lines = [f"trial  {self.metric:>10}  parameters"]
        for r in ranked[:most]:
            params = ", ".join(f"{k} = {_short(v)}" for k, v in r["params"].items())
            lines.append(f"{r['trial']:>5}  {r['metrics'][self.metric]:>10.4g}  {params}")
        failed = [r for r in self.records if r.get("error") is not None]
        if failed:
            lines.append(f"{len(failed)} failed: " + "; ".join(f"trial {r['trial']}: {r['error']}" for r in failed[:3]))
        return "\n".join(lines)


def _short(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else repr(v)


def _objective(record: dict[str, Any], metric: str) -> Optional[float]:
    value = (record.get("metrics") or {}).get(metric)
    return value if isinstance(value, float) and math.isfinite(value) else None


def search(config: Union[str, "os.PathLike[str]", dict], trials: Optional[int] = None, *,
           backend: str = "process", workers: Optional[int] = None,
           log: Union[str, "os.PathLike[str]", None] = "search.jsonl", seed: Optional[int] = None,
           sampler: Optional[str] = None, ray_address: Optional[str] = None,
           progress: Optional[Callable[[dict[str, Any]], None]] = None) -> SearchResult:
    """Searches the ``[search.space]`` of ``config`` (a TOML path or dict)
    as its ``[search]`` says; ``trials``, ``seed`` and ``sampler`` override
    the section's. Trials run on ``backend`` like
    :func:`~nervenet.experiments.trials`, logged to ``log`` (resumed if it
    holds this search). Every problem of the section is an InvalidConfig
    naming its key (``search.space.optimizer.lr``)."""
    if log is not None:
        log = path_of(log, "log file")
    work, taken = work_of(config, drop=("search",))
    raw = taken.get("search")
    if isinstance(raw, dict):
        raw = {**raw, **{k: v for k, v in (("trials", trials), ("seed", seed), ("sampler", sampler)) if v is not None}}
    s = _settings(raw)
    space = parse_space(s["space"])
    for key in space.keys:
        if key in SEEDED:  # each trial sets them: a search over them would be overwritten
            raise InvalidConfig(f"search.space.{key}", "is set by each trial's seed (derived from search.seed)")
    assert work.config is not None
    check_against(space, lambda params: _apply(work.config, params))  # type: ignore[arg-type]
    grid = _Grid(space, s["grid_points"]) if s["sampler"] == "grid" else None
    n = s["trials"] or (len(grid.points) if grid is not None else DEFAULT_TRIALS)
    if grid is not None:
        n = min(n, len(grid.points))
    metric = s["metric"]
    header = {"kind": "search", **work.identity(),
              "search": {k: v for k, v in s.items() if k not in ("trials", "storage")}}
    name = Path(config).stem if isinstance(config, (str, os.PathLike)) else work.name
    pick: Any = grid
    if s["sampler"] == "random":
        pick = _Random(space, s["seed"])
    elif s["sampler"] == "tpe":
        pick = _TPE(space, s, name, _finished(log, header, metric))

    def prepare(i: int) -> tuple[int, dict[str, Any], dict[str, Any]]:
        seed_i = trial_seed(s["seed"], i)
        params = pick.params(i)
        return seed_i, params, {"params": params, "config": _apply(work.config, params, seed_i)}  # type: ignore[arg-type]

    def told(record: dict[str, Any]) -> None:
        if record.get("error") is None and metric not in record["metrics"]:
            raise InvalidConfig("search.metric", f"the trials report no {metric!r}; they report "
                                f"{', '.join(record['metrics'])}")
        pick.told(record, _objective(record, metric))
        if progress is not None:
            progress(record)

    records = run_trials(work, range(n), header, prepare, backend=backend, workers=workers, log=log,
                         ray_address=ray_address, progress=told)
    ranked = [r for r in records.values() if _objective(r, metric) is not None]
    best = (min if s["direction"] == "minimize" else max)(ranked, key=lambda r: _objective(r, metric)) \
        if ranked else None
    return SearchResult(sorted(records.values(), key=lambda r: r["trial"]), metric, s["direction"], best)


def _finished(log: Any, header: dict[str, Any], metric: str) -> list[tuple[int, dict, float]]:
    """The log's finished trials as (index, params, objective), for Optuna."""
    if log is None or not Path(log).is_file():
        return []
    from .log import TrialLog

    journal = TrialLog(log, header)
    try:
        done = journal.open()
    finally:
        journal.close()
    return [(i, r["params"], v) for i, r in sorted(done.items()) if (v := _objective(r, metric)) is not None]
