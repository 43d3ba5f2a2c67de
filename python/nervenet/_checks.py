"""Argument checks shared across the package: integers and seeds, with
ConfigError messages that name the argument."""

from __future__ import annotations

import operator
from typing import Any, Optional

import numpy as np

from .errors import ConfigError


def integer(value: Any, name: str, minimum: int = 0, bits: Optional[int] = None) -> int:
    """An integer >= minimum (and < 2**bits when given); bools are refused."""
    allowed = f">= {minimum}" if bits is None else f"in [{minimum}, 2**{bits})"
    if isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{name} must be an integer {allowed}, got {value!r}")
    try:
        v = operator.index(value)
    except TypeError:
        raise ConfigError(f"{name} must be an integer {allowed}, got {value!r}") from None
    if v < minimum or (bits is not None and v >= 2**bits):
        raise ConfigError(f"{name} must be an integer {allowed}, got {v}")
    return v


def seed(value: Any, name: str = "seed") -> int:
    """A seed: an integer in [0, 2**64)."""
    return integer(value, name, 0, bits=64)
