"""The compute thread pool and the memory limits.

Its size defaults to the environment variable NERVENET_NUM_THREADS, or all
cores when unset. Results are bitwise identical for any number of threads:
the batch is split into fixed-size chunks and gradients are reduced in a
fixed order.
"""

from __future__ import annotations

import os
import warnings

from . import _core
from ._checks import integer

__all__ = [
    "set_num_threads",
    "get_num_threads",
    "set_inference_memory",
    "set_memory_budget",
    "get_memory_budget",
    "ENV_VAR",
]

ENV_VAR = "NERVENET_NUM_THREADS"


def set_num_threads(n: int) -> None:
    """Sets the number of compute threads (at least 1)."""
    _core.set_num_threads(integer(n, "number of threads", 1, bits=63))


def get_num_threads() -> int:
    """The number of compute threads."""
    return _core.get_num_threads()


def set_inference_memory(nbytes: int) -> None:
    """Caps the activation memory of forward-only runs (``forward``,
    ``predict``, ``evaluate``) at about ``nbytes`` (default 256 MB): a large
    batch, e.g. 10,000 images through a CNN, then runs in waves of chunks
    reusing one buffer. Results do not depend on it."""
    _core.set_inference_memory(integer(nbytes, "inference memory (bytes)", 1, bits=63))


def set_memory_budget(nbytes: int) -> None:
    """Sets the most bytes one request may allocate (default: half the
    machine's physical memory, or 8 GiB where it cannot be read).

    Every size that comes from a call or a file — a graph's nodes and edges,
    a network's parameters, a run's activations, outputs and gradients
    (batch × steps × rows), a converted input array — is checked against it
    before anything is allocated; a request over it raises
    :class:`~nervenet.UnsupportedError` naming the bytes and what asked for
    them, instead of ending the process.

    >>> import nervenet as nv
    >>> g = nv.mlp([1000, 1000, 1])
    >>> old = nv.get_memory_budget()
    >>> nv.set_memory_budget(1 << 20)
    >>> try:
    ...     nv.Network(g)
    ... except nv.UnsupportedError as e:
    ...     print(str(e).split(":")[0])
    ... finally:
    ...     nv.set_memory_budget(old)
    the network's 1002000 parameters
    """
    _core.set_memory_budget(integer(nbytes, "memory budget (bytes)", 1, bits=63))


def get_memory_budget() -> int:
    """The most bytes one request may allocate (see :func:`set_memory_budget`)."""
    return _core.get_memory_budget()


def _set_min_parallel_work(work: int) -> int:
    """Test-only: every "large enough for the pool" threshold becomes
    ``work`` (0 restores the defaults), so small networks run on the pool;
    returns the previous setting. Results do not depend on it."""
    return _core._set_min_parallel_work(integer(work, "work", 0, bits=63))


def _pool_runs() -> int:
    """Test-only: how many times work has been handed to the pool."""
    return _core._pool_runs()


def _check_environment() -> None:
    """Warns (once, at import) when NERVENET_NUM_THREADS is set but unusable."""
    value = os.environ.get(ENV_VAR)
    if value is None:
        return
    try:
        ok = int(value.strip()) > 0
    except ValueError:
        ok = False
    if not ok:
        warnings.warn(
            f"{ENV_VAR}={value!r} is not a positive integer and is ignored; "
            f"nervenet uses all {os.cpu_count() or 1} cores",
            RuntimeWarning,
            stacklevel=3,
        )


_check_environment()
