"""Training on Ray: a laptop's cores or a cluster's, behind the backend
interface of :mod:`~nervenet.evolution.backends`.

Each genome is one Ray task of one CPU and one engine thread; the task's
data go into Ray's object store once per run, a task carries only its
genome (graph JSON, starting weights, seed), and results stream back as
they finish — :class:`nervenet.parallel.ray.RayWorkers` does all that,
this class only says what a task is. A genome whose worker process or
node dies is trained again (at most :data:`~nervenet.parallel.ray.RETRIES`
times, then it is logged as failed with the reason), so a lost worker
costs at most the genome it was training and, in the reproducible mode,
changes nothing.

``address`` None starts a local Ray of ``workers`` CPUs for the run (shut
down at ``close``); an address joins that cluster, whose CPUs are the
workers unless ``workers`` says otherwise; a connection this process made
already is used and left open (the rules:
:class:`~nervenet.parallel.ray.RayWorkers`). Every node needs nervenet
(the same version) installed.

>>> from nervenet.evolution import EvolutionConfig
>>> laptop = EvolutionConfig(backend="ray", workers=2)             # a local Ray of 2 CPUs
>>> cluster = EvolutionConfig(backend="ray", ray_address="10.0.0.1:6379")
"""

from __future__ import annotations

import math
from typing import Any, Hashable

from ..parallel.ray import RayWorkers
from .config import EvolutionConfig
from .fitness import Job, Task, Trained, train

__all__ = ["RayBackend", "train_genome"]


def train_genome(job: Job, task: Task, config: EvolutionConfig) -> Trained:
    """The Ray task (named so in a worker's process title): one genome's
    training (``task`` and ``config`` come from the object store)."""
    return train(job, task, config)


class RayBackend(RayWorkers):
    """Genomes as Ray tasks, ``workers`` at a time (see the module)."""

    what = "genome"

    def start(self, task: Task, config: EvolutionConfig) -> None:
        self.open(train_genome, task, config)

    def submit(self, job: Job) -> None:
        self.submit_call(job.id, job)

    def wait(self) -> list[Trained]:
        return [trained for _, trained in self.wait_calls()]

    def lost(self, key: Hashable, args: tuple[Any, ...], reason: str) -> Trained:
        return Trained(key, math.inf, None, 0, -1, 0.0, reason)  # type: ignore[arg-type]
