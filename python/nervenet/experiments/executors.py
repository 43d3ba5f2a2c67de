"""Where trials run: in this process, in a local pool of processes, or on
Ray. An executor has ``submit(key, fn, *args)``, ``wait()`` (block until at
least one submitted call is done; return every finished one as a
:class:`Done`, in any order) and ``close()``, like the evolution's backends
(:mod:`nervenet.evolution.backends`); :func:`run_all` keeps every worker
busy with the calls a caller hands out one by one.

Each call runs with one engine thread (workers fill the cores; the engine's
results do not depend on the thread count) and comes back as its value or
the error it raised, so one failed trial does not end an experiment.
"""

from __future__ import annotations

import os
import pickle
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Optional

from .._checks import _short, integer, text
from ..errors import ConfigError, InvalidConfig
from ..parallel import BACKENDS, cores
from ..parallel.processes import WorkerProcesses
from ..parallel.ray import RayWorkers

__all__ = ["BACKENDS", "Done", "backend_name", "InProcess", "ProcessPool", "RayPool", "executor", "run_all"]

# what keeps an experiment's finished trials when a worker process dies
RESUME = "the log keeps every finished trial: run again to resume"


@dataclass(frozen=True)
class Done:
    """A finished call: its key, its value (None if it failed), the error
    it raised as text (None if it succeeded), the seconds it took, and,
    when the error was an InvalidConfig, its key and problem (a config
    at fault fails every trial: the caller stops)."""

    key: Hashable
    value: Any
    error: Optional[str]
    seconds: float
    invalid: Optional[tuple[str, str]] = None


def timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, Optional[str], float, Optional[tuple[str, str]]]:
    """Runs ``fn(*args)``: (value, None, seconds, None), or (None, the
    error, seconds, an InvalidConfig's key and problem), plain data that
    crosses to the driver whatever the exception."""
    began = time.perf_counter()
    try:
        return fn(*args), None, time.perf_counter() - began, None
    except Exception as e:  # noqa: BLE001 - a failed trial is recorded, not fatal
        where = traceback.extract_tb(e.__traceback__)[-1]
        invalid = (e.key, e.problem) if isinstance(e, InvalidConfig) else None
        return None, f"{type(e).__name__}: {e} ({os.path.basename(where.filename)}:{where.lineno})", \
            time.perf_counter() - began, invalid


class InProcess:
    """Runs each call in this process when ``wait`` is called, in the order
    submitted (tests, debugging, one-core machines)."""

    workers = 1

    def __init__(self) -> None:
        self._queue: list[tuple[Hashable, Callable[..., Any], tuple[Any, ...]]] = []

    def submit(self, key: Hashable, fn: Callable[..., Any], *args: Any) -> None:
        self._queue.append((key, fn, args))

    def wait(self) -> list[Done]:
        if not self._queue:
            return []
        key, fn, args = self._queue.pop(0)
        return [Done(key, *timed(fn, *args))]

    def close(self) -> None:
        self._queue.clear()


def sendable(fn: Any, what: str) -> None:
    """Raises a ConfigError unless ``fn`` pickles (a process or Ray worker
    must receive it): lambdas and functions defined inside functions do not."""
    try:
        pickle.dumps(fn)
    except (pickle.PicklingError, AttributeError, TypeError) as e:
        raise ConfigError(f"{what} cannot be sent to worker processes ({e}); define it at the top level of a "
                          "module, or use backend='inprocess'") from None


class _Executor:
    """The executor interface on workers (:mod:`nervenet.parallel`) that
    run :func:`timed`: ``submit(key, fn, *args)``, ``wait() -> [Done]``."""

    def submit(self, key: Hashable, fn: Callable[..., Any], *args: Any) -> None:
        self.submit_call(key, fn, *args)

    def wait(self) -> list[Done]:
        return [Done(key, *result) for key, result in self.wait_calls()]


class ProcessPool(_Executor, WorkerProcesses):
    """``workers`` spawned processes (fresh interpreters: nothing of the
    parent's threads or locks leaks in), one engine thread each
    (:class:`nervenet.parallel.processes.WorkerProcesses`)."""

    def __init__(self, workers: int) -> None:
        super().__init__(workers, "trial", RESUME)
        self.open(timed)


class RayPool(_Executor, RayWorkers):
    """Each call a Ray task of one CPU whose engine runs one thread (set
    through the task's runtime environment); see
    :class:`nervenet.parallel.ray.RayWorkers`. ``address`` joins an existing
    cluster (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``); without
    one a local Ray with ``workers`` CPUs is started, and shut down by
    :meth:`close`. ``workers`` None: the cluster's CPU count (local: this
    machine's cores). A call whose worker died is run again, at most
    :data:`~nervenet.parallel.ray.RETRIES` times, then recorded as failed."""

    what = "trial"

    def __init__(self, workers: Optional[int], address: Optional[str] = None) -> None:
        super().__init__(workers, address)
        self.open(timed)

    def lost(self, key: Hashable, args: tuple[Any, ...], reason: str) -> tuple[None, str, float, None]:
        return None, reason, 0.0, None  # as timed's failed call: run again on resume


def backend_name(backend: Any) -> str:
    """``backend`` if it is one of :data:`BACKENDS`, else a ConfigError."""
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {_short(backend)}")
    return backend


def executor(backend: str, workers: Optional[int] = None, ray_address: Optional[str] = None,
             most: Optional[int] = None) -> Any:
    """The executor ``backend`` names. ``workers`` None: the cores of this
    machine (process; at most ``most``, the calls there are) or of the Ray
    cluster; in-process runs one call at a time."""
    backend = backend_name(backend)
    if workers is not None:
        workers = integer(workers, "workers", 1)
    text(ray_address, "ray_address", optional=True)
    if ray_address is not None and backend != "ray":
        raise ConfigError(f"ray_address is for backend 'ray', not {backend!r}")
    if backend == "inprocess":
        return InProcess()
    if backend == "ray":
        return RayPool(workers, ray_address)
    if workers is None:
        workers = max(1, min(cores(), most or cores()))
    return ProcessPool(workers)


def run_all(pool: Any, next_call: Callable[[], Optional[tuple[Hashable, Callable[..., Any], tuple[Any, ...]]]],
            on_done: Callable[[Done], None]) -> None:
    """Submits ``next_call()``'s calls, ``pool.workers`` at a time, until it
    returns None, handing each finished one to ``on_done`` as it arrives
    (``next_call`` is asked again after every result, so an adaptive
    sampler sees the results so far)."""
    running = 0
    while True:
        while running < pool.workers:
            call = next_call()
            if call is None:
                break
            key, fn, args = call
            pool.submit(key, fn, *args)
            running += 1
        if running == 0:
            return
        for done in pool.wait():
            running -= 1
            on_done(done)
