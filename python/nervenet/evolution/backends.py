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

from typing import Optional

from ..parallel.processes import WorkerProcesses
from .config import EvolutionConfig
from .fitness import Job, Task, Trained, train


# what keeps a run's finished genomes when a worker process dies
RESUME = "the run's checkpoint keeps every finished genome: resume it"


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


class ProcessPool:
    """``workers`` spawned processes (a fresh interpreter each, so nothing
    of the parent's threads or locks leaks in), each with one engine thread
    and its own copy of the data, sent once when the pool starts
    (:class:`nervenet.parallel.processes.WorkerProcesses`)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._processes: Optional[WorkerProcesses] = None

    def start(self, task: Task, config: EvolutionConfig) -> None:
        self._processes = WorkerProcesses(self.workers, "genome", RESUME)
        self._processes.open(train, task, config)

    def submit(self, job: Job) -> None:
        assert self._processes is not None, "start() first"
        self._processes.submit_call(job.id, job)

    def wait(self) -> list[Trained]:
        return [] if self._processes is None else [trained for _, trained in self._processes.wait_calls()]

    def close(self) -> None:
        if self._processes is not None:
            self._processes.close()
            self._processes = None


def backend_for(config: EvolutionConfig):
    """The backend ``config.backend`` names, with ``config.worker_count``
    workers (Ray: ``config.workers``, else its CPUs)."""
    if config.backend == "inprocess":
        return InProcess(config.worker_count)
    if config.backend == "ray":
        from .ray_backend import RayBackend  # Ray is optional, and slow to import

        return RayBackend(config.workers, config.ray_address)
    return ProcessPool(config.worker_count)
