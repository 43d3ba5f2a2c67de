"""Local worker processes: ``workers`` spawned interpreters (nothing of the
parent's threads or locks leaks in), each with one engine thread and its
own copy of the shared data, sent once when it starts. A worker ends
itself when the driver dies, and a worker that dies mid-call is a
NervenetError naming the call and how to resume.

>>> from operator import add
>>> pool = WorkerProcesses(2, what="sum", resume="nothing to resume")
>>> pool.open(add, 10)                   # each call runs add(arg, 10)
>>> pool.submit_call("a", 1); pool.submit_call("b", 2)
>>> results = {}
>>> while len(results) < 2:              # each wait: every call finished so far
...     results.update(pool.wait_calls())
>>> sorted(results.items())
[('a', 11), ('b', 12)]
>>> pool.close()
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Hashable, Optional

from ..errors import ConfigError, NervenetError
from . import ONE_THREAD

__all__ = ["WorkerProcesses"]

# A worker process's function and shared data, set once by _start_worker.
_WORKER: dict[str, Any] = {}


def _start_worker(driver: int, fn: Callable[..., Any], shared: tuple[Any, ...]) -> None:
    from .. import threads

    os.environ.update(ONE_THREAD)  # for anything the call starts (rayon reads its own variable)
    threads.set_num_threads(1)  # one engine thread per worker: workers fill the cores
    _WORKER["fn"], _WORKER["shared"] = fn, shared
    threading.Thread(target=_exit_with, args=(driver,), daemon=True).start()


def _exit_with(driver: int) -> None:
    """Ends this worker when the driver is gone (killed, say), instead of
    letting it finish a call nobody will take in."""
    while os.getppid() == driver:
        time.sleep(1.0)
    os._exit(1)


def _call(*args: Any) -> Any:
    return _WORKER["fn"](*args, *_WORKER["shared"])


class WorkerProcesses:
    """``workers`` spawned processes running ``fn(*args, *shared)`` (see
    the module). ``what`` names a call in errors (``"genome"``, ``"trial"``);
    ``resume`` says what keeps the finished calls and how to go on."""

    def __init__(self, workers: int, what: str = "call", resume: str = "run again") -> None:
        self.workers = workers
        self.what, self.resume = what, resume
        self._pool: Optional[ProcessPoolExecutor] = None
        self._running: dict[Future, Hashable] = {}

    def open(self, fn: Callable[..., Any], *shared: Any) -> None:
        """Starts the workers; ``fn`` and ``shared`` must pickle (module-level)."""
        try:
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker, initargs=(os.getpid(), fn, shared),
            )
        except (OSError, ValueError) as e:
            raise ConfigError(f"could not start {self.workers} worker processes: {e}") from e

    def submit_call(self, key: Hashable, *args: Any) -> None:
        assert self._pool is not None, "open() first"
        self._running[self._pool.submit(_call, *args)] = key

    def wait_calls(self) -> list[tuple[Hashable, Any]]:
        if not self._running:
            return []
        done, _ = wait_futures(list(self._running), return_when=FIRST_COMPLETED)
        out = []
        for future in done:
            key = self._running.pop(future)
            try:
                out.append((key, future.result()))
            except BrokenProcessPool as e:
                raise NervenetError(
                    f"a worker process died while running {self.what} {key} ({e}); {self.resume}. (A script "
                    "that starts a run at import time must guard it with `if __name__ == '__main__':`: each "
                    "spawned worker imports it.)"
                ) from e
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._running.clear()
