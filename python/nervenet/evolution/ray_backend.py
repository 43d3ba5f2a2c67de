"""Training on Ray: a laptop's cores or a cluster's, behind the backend
interface of :mod:`~nervenet.evolution.backends`.

Each genome is one Ray task of one CPU whose engine runs one thread (set
through the task's runtime environment, ``NERVENET_NUM_THREADS=1``), so
tasks fill the cores without oversubscribing them. The task's data go into
Ray's object store once per run (``ray.put``); a task carries only its
genome (graph JSON, starting weights, seed). Results come back as they
finish (``ray.wait``). A task whose worker process or node dies is
submitted again (at most :data:`RETRIES` times, then the genome is logged
as failed with the reason), so a lost worker costs at most the genome it
was training and, in the reproducible mode, changes nothing.

Without ``address`` a local Ray instance of ``workers`` CPUs is started and
shut down at ``close``; with one (``"head-node:6379"``, ``"ray://..."``,
``"auto"``) the run connects to that cluster and uses all its CPUs unless
``workers`` says otherwise. Where this process is connected to Ray already
(``ray.init`` called by the user), that connection is used and left open.
Every node needs nervenet (the same version) installed.

>>> from nervenet.evolution import EvolutionConfig
>>> laptop = EvolutionConfig(backend="ray", workers=2)             # a local Ray of 2 CPUs
>>> cluster = EvolutionConfig(backend="ray", ray_address="10.0.0.1:6379")
"""

from __future__ import annotations

import logging
import math
import os
import site
import socket
import warnings
from pathlib import Path
from typing import Any, Optional

from .._checks import integer, text
from ..errors import ConfigError, NervenetError, NervenetWarning
from .config import EvolutionConfig, cores
from .fitness import Job, Task, Trained, train

#: Times a genome is submitted again after its worker or node died.
RETRIES = 3
#: Seconds to wait for a cluster's address to answer before giving up
#: (``ray.init`` itself waits minutes on an address nobody answers).
CONNECT_SECONDS = 5.0
#: The environment of every task: one engine (and rayon, OpenMP) thread.
TASK_ENV = {"NERVENET_NUM_THREADS": "1", "RAYON_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}

INSTALL = 'backend="ray" needs Ray, which is not installed: pip install "nervenet[ray]"'


def import_ray() -> Any:
    """The ``ray`` module, or a ConfigError saying how to install it."""
    try:
        import ray
    except ImportError as e:
        raise ConfigError(INSTALL) from e
    return ray


def train_genome(job: Job, task: Task, config: EvolutionConfig) -> Trained:
    """The Ray task: one genome's training (``task`` comes from the object store)."""
    return train(job, task, config)


def _probe(address: str) -> None:
    """Fails fast, naming ``address``, when nothing listens there."""
    if address in ("auto", "local"):
        return
    where = address.split("://", 1)[-1]
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"ray_address {address!r} is not host:port (or ray://host:port, auto)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as e:
        raise ConfigError(f"cannot reach the Ray cluster at {address!r}: {e}") from None


def _installed() -> set[str]:
    """The folders installed packages are imported from."""
    return {str(Path(p).resolve()) for p in [*site.getsitepackages(), site.getusersitepackages()]}


class RayBackend:
    """Genomes as Ray tasks, ``workers`` at a time (see the module)."""

    def __init__(self, workers: Optional[int] = None, address: Optional[str] = None) -> None:
        self._workers = None if workers is None else integer(workers, "workers", 1)
        self.address = None if address is None else text(address, "ray_address")
        self.resubmitted = 0  # tasks submitted again after their worker died
        self._ray: Any = import_ray()  # not installed: a ConfigError now, before a run begins
        self._owned = False  # this backend called ray.init, so close() shuts it down
        self._remote: Any = None
        self._task_ref: Any = None
        self._config_ref: Any = None
        self._running: dict[Any, Job] = {}
        self._tries: dict[int, int] = {}

    @property
    def workers(self) -> int:
        """``workers`` if given, else this machine's cores (local) or the
        cluster's CPUs (connecting to find out)."""
        if self._workers is None:
            if self.address is None:
                self._workers = cores()
            else:
                ray = self._connect()
                cpus = int(ray.cluster_resources().get("CPU", 0))
                if cpus < 1:
                    raise ConfigError(f"the Ray cluster at {self.address!r} has no CPUs")
                self._workers = cpus
        return self._workers

    def _connect(self) -> Any:
        ray = self._ray
        if ray.is_initialized():
            return ray
        quiet = {"log_to_driver": False, "logging_level": logging.ERROR}  # the progress bar stays readable
        if self.address is None:
            try:
                ray.init(num_cpus=self.workers, include_dashboard=False, **quiet)
            except (RuntimeError, ValueError, OSError) as e:
                raise ConfigError(f"could not start a local Ray instance of {self.workers} CPUs: {e}") from e
        else:
            _probe(self.address)
            try:
                ray.init(address=self.address, **quiet)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise ConfigError(f"could not connect to the Ray cluster at {self.address!r}: {e}") from e
        self._owned = True
        return ray

    def start(self, task: Task, config: EvolutionConfig) -> None:
        ray = self._connect()
        env = dict(TASK_ENV)
        here = str(Path(__file__).resolve().parents[2])  # the folder this nervenet is imported from
        if self._owned and self.address is None and here not in _installed():
            # our own local workers import this nervenet (a source checkout), not another one installed
            env["PYTHONPATH"] = os.pathsep.join([here, *filter(None, [os.environ.get("PYTHONPATH")])])
        self._remote = ray.remote(num_cpus=1, max_retries=0)(train_genome).options(runtime_env={"env_vars": env})
        self._task_ref, self._config_ref = ray.put(task), ray.put(config)  # once per run

    def submit(self, job: Job) -> None:
        assert self._remote is not None, "start() first"
        self._running[self._remote.remote(job, self._task_ref, self._config_ref)] = job

    def wait(self) -> list[Trained]:
        if not self._running:
            return []
        ray = self._ray
        refs = list(self._running)
        first, _ = ray.wait(refs, num_returns=1)
        rest, _ = ray.wait(refs, num_returns=len(refs), timeout=0)  # and whatever else is done already
        done = set(first) | set(rest)
        out = []
        for ref in [r for r in refs if r in done]:  # in submission order
            job = self._running.pop(ref)
            result = self._result(ref, job)
            if result is not None:
                out.append(result)
        return out

    def _result(self, ref: Any, job: Job) -> Optional[Trained]:
        """The task's result; None when it was submitted again."""
        ray = self._ray
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as e:  # the training raised (a bug): as the other backends
            raise e.as_instanceof_cause() from None
        except ray.exceptions.RuntimeEnvSetupError as e:
            raise NervenetError(f"Ray could not set up a worker's environment: {e}") from e
        except ray.exceptions.TaskCancelledError:
            raise
        except ray.exceptions.RayError as e:  # its worker or node died: the genome is trained again
            tries = self._tries.get(job.id, 0) + 1
            self._tries[job.id] = tries
            reason = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            if tries > RETRIES:
                return Trained(job.id, math.inf, None, 0, -1, 0.0,
                               f"its Ray worker died {tries} times (the last: {reason})")
            warnings.warn(f"genome {job.id}: its Ray worker died ({reason}); training it again "
                          f"({tries} of {RETRIES})", NervenetWarning, stacklevel=3)
            self.resubmitted += 1
            self.submit(job)
            return None

    def close(self) -> None:
        ray = self._ray
        if ray is not None and ray.is_initialized():
            for ref in self._running:  # nobody takes these in: free their CPUs
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - finished meanwhile, or its node is gone
                    pass
            if self._owned:
                ray.shutdown()
        self._owned = False
        self._running.clear()
        self._tries.clear()
        self._remote = self._task_ref = self._config_ref = None
