"""The compute thread pool.

Its size defaults to the environment variable NERVENET_NUM_THREADS, or all
cores when unset. Results are bitwise identical for any number of threads:
the batch is split into fixed-size chunks and gradients are reduced in a
fixed order.
"""

from __future__ import annotations

import operator
import os
import warnings

from . import _core
from .errors import ConfigError

__all__ = ["set_num_threads", "get_num_threads", "ENV_VAR"]

ENV_VAR = "NERVENET_NUM_THREADS"


def set_num_threads(n: int) -> None:
    """Sets the number of compute threads (at least 1)."""
    n = operator.index(n)
    if not 1 <= n < 2**63:
        raise ConfigError(f"number of threads must be at least 1, got {n}")
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """The number of compute threads."""
    return _core.get_num_threads()


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
