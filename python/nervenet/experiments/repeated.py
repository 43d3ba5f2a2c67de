"""Repeated trials: one config or function run n times with seeds derived
from one run seed, in parallel on an executor, each finished trial written
to a JSON-lines log at once, so that an interrupted experiment resumes with
its finished trials kept.

>>> import numpy as np, nervenet as nv
>>> def noisy(seed):
...     return {"loss": float(np.random.default_rng(seed).normal(1.0, 0.1))}
>>> t = nv.experiments.trials(noisy, n=3, backend="inprocess", log=None)
>>> t.summary()["loss"].n
3
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Union

import numpy as np

from .._checks import _short, integer, path_of, text
from .._checks import seed as checked_seed
from ..errors import ConfigError, InvalidConfig
from .executors import Done, backend_name, executor, run_all, sendable
from .log import TrialLog
from .stats import Summary, summarize
from .work import Work, run_trial, trial_seed, work_of

__all__ = ["Trials", "trials", "MAX_TRIALS_BITS"]

MAX_TRIALS_BITS = 24  # at most 2**24 - 1 trials: a larger count is a mistake, not an experiment


class Trials:
    """The trials of one experiment, by trial index: ``records`` (dicts with
    ``trial``, ``seed``, ``metrics``, ``seconds``, and ``error`` instead of
    metrics for a trial that failed)."""

    def __init__(self, name: str, records: list[dict[str, Any]]) -> None:
        self.name = name
        self.records = sorted(records, key=lambda r: r["trial"])

    @property
    def succeeded(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("error") is None]

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("error") is not None]

    @property
    def metrics(self) -> list[str]:
        """The metric names, in the order the trials report them."""
        return list(dict.fromkeys(k for r in self.succeeded for k in r["metrics"]))

    def values(self, metric: str) -> np.ndarray:
        """``metric`` of every successful trial that reports it, by trial."""
        if metric not in self.metrics:
            raise ConfigError(f"{self.name}: no metric {metric!r}; the trials report "
                              f"{', '.join(self.metrics) or 'nothing (every trial failed)'}")
        return np.array([r["metrics"][metric] for r in self.succeeded if metric in r["metrics"]], dtype=np.float64)

    def summary(self) -> dict[str, Summary]:
        """Each metric's :class:`~nervenet.experiments.stats.Summary`."""
        return {m: summarize(self.values(m)) for m in self.metrics}

    def table(self) -> str:
        """The summary as a text table, one metric a row."""
        rows = [("metric", "mean", "std", "95% CI", "min", "max", "n")]
        for m, s in self.summary().items():
            rows.append((m, f"{s.mean:.4g}", f"{s.std:.3g}", f"{s.low:.4g} .. {s.high:.4g}", f"{s.min:.4g}",
                         f"{s.max:.4g}", str(s.n)))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                 for r in rows]
        if self.failed:
            lines.append(f"{len(self.failed)} trial{'s' if len(self.failed) > 1 else ''} failed: "
                         + "; ".join(f"trial {r['trial']}: {r['error']}" for r in self.failed[:3]))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Trials({self.name!r}: {len(self.succeeded)} succeeded, {len(self.failed)} failed)"


def trials(source: Union[str, "os.PathLike[str]", dict, Callable[[int], Any]], n: int = 10, *, seed: int = 0,
           backend: str = "process", workers: Optional[int] = None,
           log: Union[str, "os.PathLike[str]", None] = "trials.jsonl", ray_address: Optional[str] = None,
           name: Optional[str] = None, progress: Optional[Callable[[dict[str, Any]], None]] = None) -> Trials:
    """Runs ``source`` — a ``nervenet train`` TOML config (a path or a
    dict) or a function ``f(seed) -> dict of metrics`` — ``n`` times, trial
    i with seed ``trial_seed(seed, i)``, on ``backend`` ("process": a local
    pool of ``workers`` processes, default one per core; "inprocess"; "ray":
    Ray tasks, on the cluster at ``ray_address`` or a local Ray). Each
    finished trial is appended to ``log`` (None: no file); a log that holds
    trials of this experiment resumes it (they are not run again; a failed
    one is), one of another is refused. ``progress`` gets each record as it
    is written. A config trial reports the metrics of ``nervenet train``
    (see :mod:`nervenet.experiments.work` for how its seed is used). A
    trial that raises is logged with its error and left out of the
    summary, except an InvalidConfig (a missing data file, say), which
    stops the experiment: every trial would fail the same way.

    >>> t = trials("examples/digits.toml", n=10, backend="process")  # doctest: +SKIP
    >>> print(t.table())  # doctest: +SKIP
    """
    n = integer(n, "n", 1, bits=MAX_TRIALS_BITS)
    seed = checked_seed(seed)
    text(name, "name", optional=True)
    work, _ = work_of(source)
    if name is None:
        name = Path(source).stem if isinstance(source, (str, os.PathLike)) else work.name
    header = {"kind": "trials", **work.identity(), "seed": seed}
    records = run_trials(work, range(n), header, lambda i: (trial_seed(seed, i), None, {}), backend=backend,
                         workers=workers, log=log, ray_address=ray_address, progress=progress)
    return Trials(name, list(records.values()))


# a trial's (seed, config changes by dotted key, more keys for its record)
Prepared = tuple[int, Optional[dict[str, Any]], dict[str, Any]]


def run_trials(work: Work, indexes: Iterable[int], header: dict[str, Any], prepare: Callable[[int], Prepared], *,
               backend: str, workers: Optional[int], log: Any, ray_address: Optional[str],
               progress: Optional[Callable[[dict[str, Any]], None]] = None) -> dict[int, dict[str, Any]]:
    """Runs the trials ``indexes`` not already in ``log``; returns each
    one's record by index. ``prepare(i)`` is called as trial i is
    submitted (an adaptive sampler sees every result handed to
    ``progress`` before)."""
    if progress is not None and not callable(progress):
        raise ConfigError(f"progress must be None or a function of a trial's record, got {_short(progress)}")
    if log is not None:
        log = path_of(log, "log file")
    if backend_name(backend) != "inprocess" and work.function is not None:
        sendable(work.function, f"the function {work.name}")
    wanted = list(indexes)
    wanted_set = set(wanted)
    journal = TrialLog(log, header) if log is not None else None
    records: dict[int, dict[str, Any]] = {}
    if journal is not None:
        records = {i: r for i, r in journal.open().items() if i in wanted_set}
    pending = iter([i for i in wanted if i not in records])
    started: dict[int, Prepared] = {}

    def next_call() -> Optional[tuple[int, Any, tuple[Any, ...]]]:
        i = next(pending, None)
        if i is None:
            return None
        started[i] = prepare(i)
        return i, run_trial, (work, started[i][0], started[i][1])

    def on_done(done: Done) -> None:
        i = int(done.key)  # type: ignore[call-overload]
        if done.invalid is not None:  # the config is at fault, not the trial: every trial would fail
            raise InvalidConfig(done.invalid[0], f"{done.invalid[1]} (in trial {i})")
        seed, _, extra = started.pop(i)
        record: dict[str, Any] = {"trial": i, "seed": seed, **extra}
        record.update({"metrics": done.value} if done.error is None else {"error": done.error})
        record["seconds"] = round(done.seconds, 3)
        if journal is not None:
            journal.append(record)
        records[i] = record
        if progress is not None:
            progress(record)

    try:
        left = len(wanted) - len(records)
        if left:
            pool = executor(backend, workers, ray_address, most=left)
            try:
                run_all(pool, next_call, on_done)
            finally:
                pool.close()
    finally:
        if journal is not None:
            journal.close()
    return records
