"""Where genomes train. The run generates genomes in one place and hands
each to a backend as a :class:`~nervenet.evolution.fitness.Job`; the
backend trains it and gives back a :class:`~nervenet.evolution.fitness.Trained`.

A backend has four methods: ``start(task, config)`` (ship the data once),
``submit(job)``, ``wait()`` (block until at least one job is done; return
every finished one, in any order) and ``close()``, and says how many jobs
it runs at once (``workers``). :class:`~nervenet.evolution.ray_backend.RayBackend`
is one more class with these methods.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from typing import Optional

from ..errors import ConfigError, NervenetError
from .config import EvolutionConfig
from .fitness import Job, Task, Trained, train


class InProcess:
    """Trains each job in this process when ``wait`` is called, in the
    order submitted (tests, debugging, one-core machines)."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self._queue: list[Job] = []
        self._task: Optional[Task] = None
        self._config: Optional[EvolutionConfig] = None

    def start(self, task: Task, config: EvolutionConfig) -> None:
        self._task, self._config = task, config

    def submit(self, job: Job) -> None:
        self._queue.append(job)

    def wait(self) -> list[Trained]:
        assert self._task is not None and self._config is not None, "start() first"
        if not self._queue:
            return []
        return [train(self._queue.pop(0), self._task, self._config)]

    def close(self) -> None:
        self._queue.clear()


# The worker processes' copy of the data and config, set once by _initialise.
_WORKER: dict[str, object] = {}


def _initialise(task: Task, config: EvolutionConfig, driver: int) -> None:
    from .. import threads

    threads.set_num_threads(1)  # one engine thread per worker: workers fill the cores
    _WORKER["task"], _WORKER["config"] = task, config
    threading.Thread(target=_exit_with, args=(driver,), daemon=True).start()


def _exit_with(driver: int) -> None:
    """Ends this worker when the driver is gone (killed, say), instead of
    letting it finish a genome nobody will take in."""
    while os.getppid() == driver:
        time.sleep(1.0)
    os._exit(1)


def _train_here(job: Job) -> Trained:
    return train(job, _WORKER["task"], _WORKER["config"])  # type: ignore[arg-type]


class ProcessPool:
    """``workers`` spawned processes (a fresh interpreter each, so nothing
    of the parent's threads or locks leaks in), each with one engine thread
    and its own copy of the data, sent once when the pool starts."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: Optional[ProcessPoolExecutor] = None
        self._running: dict[Future, int] = {}

    def start(self, task: Task, config: EvolutionConfig) -> None:
        try:
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_initialise, initargs=(task, config, os.getpid()),
            )
        except (OSError, ValueError) as e:
            raise ConfigError(f"could not start {self.workers} worker processes: {e}") from e

    def submit(self, job: Job) -> None:
        assert self._pool is not None, "start() first"
        self._running[self._pool.submit(_train_here, job)] = job.id

    def wait(self) -> list[Trained]:
        if not self._running:
            return []
        done, _ = wait_futures(list(self._running), return_when=FIRST_COMPLETED)
        out = []
        for future in done:
            genome = self._running.pop(future)
            try:
                out.append(future.result())
            except BrokenProcessPool as e:
                raise NervenetError(
                    f"a worker process died while training genome {genome} ({e}); the run's checkpoint "
                    "keeps every finished genome: resume it. (A script that starts a run at import time "
                    "must guard it with `if __name__ == '__main__':`: each spawned worker imports it.)"
                ) from e
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._running.clear()


def backend_for(config: EvolutionConfig):
    """The backend ``config.backend`` names, with ``config.worker_count``
    workers (Ray: ``config.workers``, else its CPUs)."""
    if config.backend == "inprocess":
        return InProcess(config.worker_count)
    if config.backend == "ray":
        from .ray_backend import RayBackend  # Ray is optional, and slow to import

        return RayBackend(config.workers, config.ray_address)
    return ProcessPool(config.worker_count)
