"""Running many independent calls on many cores: the one layer the
evolution backends (:mod:`nervenet.evolution.backends`) and the
experiments' executors (:mod:`nervenet.experiments.executors`) stand on.

Both kinds of workers have the same shape: ``open(fn, *shared)`` starts
them (``shared``, the data every call needs, travels once: to each worker
process, or into Ray's object store), ``submit_call(key, *args)`` runs
``fn(*args, *shared)`` on a free worker, ``wait_calls()`` blocks until at
least one call is done and returns every finished ``(key, value)``, and
``close()`` ends them. Every worker runs the engine on one thread, so
``workers`` calls fill ``workers`` cores without oversubscribing them.

- :class:`~nervenet.parallel.processes.WorkerProcesses`: spawned
  local processes.
- :class:`~nervenet.parallel.ray.RayWorkers`: one Ray task of one
  CPU per call, on a local Ray or a cluster (Ray is optional and imported
  only there).
"""

from __future__ import annotations

import os

__all__ = ["BACKENDS", "cores", "ONE_THREAD"]

#: Where calls can run: worker processes, this process (one at a time), Ray.
BACKENDS = ("process", "inprocess", "ray")

#: The environment of every worker: one engine (and rayon, OpenMP) thread.
ONE_THREAD = {"NERVENET_NUM_THREADS": "1", "RAYON_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
