"""Ray workers: a laptop's cores or a cluster's, with the shape of
:class:`~nervenet.parallel.processes.WorkerProcesses`.

Each call is one Ray task of one CPU whose engine runs one thread (set
through the task's runtime environment, :data:`~nervenet.parallel.ONE_THREAD`),
so tasks fill the cores without oversubscribing them. The shared data go
into Ray's object store once (``ray.put``); a task carries only its own
arguments. Results come back as they finish (``ray.wait``). A task whose
worker process or node dies is submitted again (at most :data:`RETRIES`
times, then :meth:`RayWorkers.lost` gives its value), so a lost worker
costs at most the call it was running.

Without ``address`` a local Ray instance of ``workers`` CPUs is started and
shut down at ``close``; with one (``"head-node:6379"``, ``"ray://..."``,
``"auto"``) the workers connect to that cluster and use all its CPUs unless
``workers`` says otherwise. Where this process is connected to Ray already
(``ray.init`` called by the user), that connection is used and left open.
Every node needs nervenet (the same version) installed.

>>> from operator import add
>>> tasks = RayWorkers(2)                    # doctest: +SKIP
>>> tasks.open(add, 10)                      # doctest: +SKIP
>>> tasks.submit_call("a", 1)                # doctest: +SKIP
>>> tasks.wait_calls()                       # doctest: +SKIP
[('a', 11)]
>>> tasks.close()                            # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import site
import socket
import warnings
from pathlib import Path
from typing import Any, Callable, Hashable, Optional

from .._checks import integer, text
from ..errors import ConfigError, NervenetError, NervenetWarning
from . import ONE_THREAD, cores

__all__ = ["RayWorkers", "import_ray", "RETRIES", "CONNECT_SECONDS", "INSTALL"]

#: Times a call is submitted again after its worker or node died.
RETRIES = 3
#: Seconds to wait for a cluster's address to answer before giving up
#: (``ray.init`` itself waits minutes on an address nobody answers).
CONNECT_SECONDS = 5.0

INSTALL = 'backend="ray" needs Ray, which is not installed: pip install "nervenet[ray]"'


def import_ray() -> Any:
    """The ``ray`` module, or a ConfigError saying how to install it."""
    try:
        import ray
    except ImportError as e:
        raise ConfigError(INSTALL) from e
    return ray


def check_reachable(address: str) -> None:
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


class RayWorkers:
    """Calls as Ray tasks, ``workers`` at a time (see the module). ``what``
    names a call in warnings (``"genome"``, ``"trial"``)."""

    what = "call"

    def __init__(self, workers: Optional[int] = None, address: Optional[str] = None) -> None:
        self._workers = None if workers is None else integer(workers, "workers", 1)
        self.address = None if address is None else text(address, "ray_address")
        self.resubmitted = 0  # tasks submitted again after their worker died
        self._ray: Any = import_ray()  # not installed: a ConfigError now, before a run begins
        self._owned = False  # this object called ray.init, so close() shuts it down
        self._remote: Any = None
        self._shared_refs: tuple[Any, ...] = ()
        self._running: dict[Any, tuple[Hashable, tuple[Any, ...]]] = {}
        self._tries: dict[Hashable, int] = {}

    @property
    def workers(self) -> int:
        """``workers`` if given, else this machine's cores (local) or the
        cluster's CPUs (connecting to find out)."""
        if self._workers is None:
            if self.address is None:
                self._workers = cores()
            else:
                ray = self.connect()
                cpus = int(ray.cluster_resources().get("CPU", 0))
                if cpus < 1:
                    raise ConfigError(f"the Ray cluster at {self.address!r} has no CPUs")
                self._workers = cpus
        return self._workers

    def connect(self) -> Any:
        """The ``ray`` module, connected: to the cluster at ``address``
        (checked to answer first), to a local Ray started now, or to the
        connection this process has already."""
        ray = self._ray
        if ray.is_initialized():
            return ray
        quiet = {"log_to_driver": False, "logging_level": logging.ERROR}  # progress bars stay readable
        if self.address is None:
            try:
                ray.init(num_cpus=self.workers, include_dashboard=False, **quiet)
            except (RuntimeError, ValueError, OSError) as e:
                raise ConfigError(f"could not start a local Ray instance of {self.workers} CPUs: {e}") from e
        else:
            check_reachable(self.address)
            try:
                ray.init(address=self.address, **quiet)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise ConfigError(f"could not connect to the Ray cluster at {self.address!r}: {e}") from e
        self._owned = True
        return ray

    def open(self, fn: Callable[..., Any], *shared: Any) -> None:
        """Connects, and makes ``fn`` (module-level; its name is the Ray
        task's) a task of one CPU and one engine thread; ``shared`` goes
        into the object store once."""
        ray = self.connect()
        env = dict(ONE_THREAD)
        here = str(Path(__file__).resolve().parents[2])  # the folder this nervenet is imported from
        if self._owned and self.address is None and here not in _installed():
            # our own local workers import this nervenet (a source checkout), not another one installed
            env["PYTHONPATH"] = os.pathsep.join([here, *filter(None, [os.environ.get("PYTHONPATH")])])
        self._remote = ray.remote(num_cpus=1, max_retries=0)(fn).options(runtime_env={"env_vars": env})
        self._shared_refs = tuple(ray.put(value) for value in shared)

    def submit_call(self, key: Hashable, *args: Any) -> None:
        assert self._remote is not None, "open() first"
        self._running[self._remote.remote(*args, *self._shared_refs)] = (key, args)

    def wait_calls(self) -> list[tuple[Hashable, Any]]:
        """Every finished call, in submission order, once at least one is
        done; a call whose worker died is submitted again instead."""
        if not self._running:
            return []
        ray = self._ray
        refs = list(self._running)
        first, _ = ray.wait(refs, num_returns=1)
        rest, _ = ray.wait(refs, num_returns=len(refs), timeout=0)  # and whatever else is done already
        done = set(first) | set(rest)
        out = []
        for ref in [r for r in refs if r in done]:
            key, args = self._running.pop(ref)
            try:
                out.append((key, ray.get(ref)))
            except ray.exceptions.RayTaskError as e:  # the call raised (a bug): as in a process
                raise e.as_instanceof_cause() from None
            except ray.exceptions.RuntimeEnvSetupError as e:
                raise NervenetError(f"Ray could not set up a worker's environment: {e}") from e
            except ray.exceptions.TaskCancelledError:
                raise
            except ray.exceptions.RayError as e:  # its worker or node died: the call runs again
                reason = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                tries = self._tries.get(key, 0) + 1
                self._tries[key] = tries
                if tries > RETRIES:
                    out.append((key, self.lost(key, args, f"its Ray worker died {tries} times (the last: {reason})")))
                    continue
                warnings.warn(f"{self.what} {key}: its Ray worker died ({reason}); running it again "
                              f"({tries} of {RETRIES})", NervenetWarning, stacklevel=3)
                self.resubmitted += 1
                self.submit_call(key, *args)
        return out

    def lost(self, key: Hashable, args: tuple[Any, ...], reason: str) -> Any:
        """The value of a call given up on after :data:`RETRIES` resubmissions
        (subclasses record it as failed); here, a NervenetError."""
        raise NervenetError(f"{self.what} {key}: {reason}")

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
        self._remote = None
        self._shared_refs = ()
