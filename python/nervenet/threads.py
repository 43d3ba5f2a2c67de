"""The compute thread pool.

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

__all__ = ["set_num_threads", "get_num_threads", "set_inference_memory", "ENV_VAR"]

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
