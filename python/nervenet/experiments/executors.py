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

import multiprocessing
import os
import pickle
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Optional

from .._checks import _short, integer, text
from ..errors import ConfigError, InvalidConfig, NervenetError

__all__ = ["BACKENDS", "Done", "backend_name", "InProcess", "ProcessPool", "RayPool", "executor", "run_all"]

BACKENDS = ("process", "inprocess", "ray")
RAY_INSTALL = 'pip install "nervenet[ray]"'
# one engine thread per task: a worker is one core (rayon reads its own variable)
ONE_THREAD = {"NERVENET_NUM_THREADS": "1", "RAYON_NUM_THREADS": "1"}


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


def _initialise(driver: int) -> None:
    from .. import threads

    os.environ.update(ONE_THREAD)
    threads.set_num_threads(1)
    threading.Thread(target=_exit_with, args=(driver,), daemon=True).start()


def _exit_with(driver: int) -> None:
    """Ends this worker when the driver is gone (killed, say), instead of
    letting it finish a trial nobody will record."""
    while os.getppid() == driver:
        time.sleep(1.0)
    os._exit(1)


def sendable(fn: Any, what: str) -> None:
    """Raises a ConfigError unless ``fn`` pickles (a process or Ray worker
    must receive it): lambdas and functions defined inside functions do not."""
    try:
        pickle.dumps(fn)
    except (pickle.PicklingError, AttributeError, TypeError) as e:
        raise ConfigError(f"{what} cannot be sent to worker processes ({e}); define it at the top level of a "
                          "module, or use backend='inprocess'") from None


class ProcessPool:
    """``workers`` spawned processes (fresh interpreters: nothing of the
    parent's threads or locks leaks in), one engine thread each."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._running: dict[Future, Hashable] = {}
        try:
            self._pool: Optional[ProcessPoolExecutor] = ProcessPoolExecutor(
                workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_initialise, initargs=(os.getpid(),),
            )
        except (OSError, ValueError) as e:
            raise ConfigError(f"could not start {workers} worker processes: {e}") from e

    def submit(self, key: Hashable, fn: Callable[..., Any], *args: Any) -> None:
        assert self._pool is not None, "closed"
        self._running[self._pool.submit(timed, fn, *args)] = key

    def wait(self) -> list[Done]:
        if not self._running:
            return []
        done, _ = wait_futures(list(self._running), return_when=FIRST_COMPLETED)
        out = []
        for future in done:
            key = self._running.pop(future)
            try:
                out.append(Done(key, *future.result()))
            except BrokenProcessPool as e:
                raise NervenetError(
                    f"a worker process died while running {key} ({e}); the log keeps every finished trial: "
                    "run again to resume. (A script that starts an experiment at import time must guard it "
                    "with `if __name__ == '__main__':`: each spawned worker imports it.)"
                ) from e
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._running.clear()


class RayPool:
    """Each call a Ray task of one CPU whose engine runs one thread (set
    through the task's runtime environment). ``address`` joins an existing
    cluster (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``); without
    one a local Ray with ``workers`` CPUs is started, and shut down by
    :meth:`close`. ``workers`` None: the cluster's CPU count."""

    def __init__(self, workers: Optional[int], address: Optional[str] = None) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError(f"backend 'ray' needs Ray, which is not installed: {RAY_INSTALL}") from None
        self._ray = ray
        self._owns = False
        if not ray.is_initialized():
            if address is not None:
                _reachable(address)
            try:
                if address is not None:
                    ray.init(address=address, log_to_driver=False)
                else:
                    ray.init(num_cpus=workers or os.cpu_count() or 1, include_dashboard=False, log_to_driver=False)
            except Exception as e:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ValueError...
                where = f"the Ray cluster at {address!r}" if address is not None else "a local Ray instance"
                raise ConfigError(f"could not connect to {where}: {type(e).__name__}: {e}") from None
            self._owns = True
        self.workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._remote = ray.remote(num_cpus=1, runtime_env={"env_vars": dict(ONE_THREAD)})(timed)
        self._running: dict[Any, Hashable] = {}

    def submit(self, key: Hashable, fn: Callable[..., Any], *args: Any) -> None:
        self._running[self._remote.remote(fn, *args)] = key

    def wait(self) -> list[Done]:
        if not self._running:
            return []
        ray = self._ray
        ready, _ = ray.wait(list(self._running), num_returns=1)
        more, _ = ray.wait([r for r in self._running if r not in ready], num_returns=len(self._running) - 1,
                           timeout=0) if len(self._running) > 1 else ([], [])
        out = []
        for ref in [*ready, *more]:
            key = self._running.pop(ref)
            try:
                out.append(Done(key, *ray.get(ref)))
            except ray.exceptions.RayError as e:  # the worker died, the task was lost
                out.append(Done(key, None, f"{type(e).__name__}: {e}", 0.0))  # run again on resume
        return out

    def close(self) -> None:
        for ref in self._running:
            self._ray.cancel(ref, force=True)
        self._running.clear()
        if self._owns:
            self._ray.shutdown()
            self._owns = False


def _reachable(address: str) -> None:
    """Fails fast, naming the address, when nothing listens at a
    ``host:port`` address (Ray itself retries for minutes)."""
    import socket

    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto", "local": Ray finds the cluster
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()
    except OSError as e:
        raise ConfigError(f"could not connect to the Ray cluster at {address!r}: {e}") from None


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
        workers = max(1, min(os.cpu_count() or 1, most or os.cpu_count() or 1))
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
