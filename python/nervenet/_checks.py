"""Argument checks shared across the package: integers, seeds, numbers and
flags, each raising a ConfigError that names the argument and what it must be."""

from __future__ import annotations

import math
import numbers
import operator
import os
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from .errors import ConfigError, FormatError, MissingFileError

# The core's seeds are u64.
SEED_BITS = 64


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


def whole(value: Any, name: str, what: str = "an integer") -> int:
    """An integer of any sign or size, for arguments whose range the core
    checks (ids, time skips, ports); bools and floats are refused."""
    try:
        if isinstance(value, (bool, np.bool_)):
            raise TypeError
        return operator.index(value)
    except TypeError:
        raise ConfigError(f"{name} must be {what}, got {_short(value)}") from None


def number(value: Any, name: str) -> float:
    """A real number, for arguments whose value the core checks (NaN is
    let through for the core to name); bools and strings are refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be a number, got {_short(value)}")
    try:
        return float(value)
    except OverflowError:  # an integer past float range
        raise ConfigError(f"{name} must be a number within float range, got {_short(value)}") from None


def text(value: Any, name: str, *, optional: bool = False) -> Optional[str]:
    """A string (a name: role, activation, cell kind, pool op, loss); None as
    well when ``optional``. The core then says whether the name is known."""
    if optional and value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be {'None or ' if optional else ''}a string, got {_short(value)}")
    return value


def _short(value: Any) -> str:
    """``repr(value)`` cut to a line: a hostile argument may be huge."""
    shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def seed(value: Any, name: str = "seed") -> int:
    """A seed: an integer in [0, 2**64)."""
    return integer(value, name, 0, bits=SEED_BITS)


def real(
    value: Any, name: str, low: float = -math.inf, high: float = math.inf, *, open_low: bool = False,
    open_high: bool = False,
) -> float:
    """A finite number in [low, high] (``open_low`` / ``open_high`` leave an end
    out); bools and strings are refused."""
    allowed = "a finite number"
    if math.isfinite(low) and math.isfinite(high):
        allowed += f" in {'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
    elif math.isfinite(low):
        allowed += f" {'>' if open_low else '>='} {low:g}"
    elif math.isfinite(high):
        allowed += f" {'<' if open_high else '<='} {high:g}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be {allowed}, got {value!r}")
    try:
        v = float(value)
    except OverflowError:  # an integer past float range
        raise ConfigError(f"{name} must be {allowed}, got {_short(value)}") from None
    below = v <= low if open_low else v < low
    above = v >= high if open_high else v > high
    if not math.isfinite(v) or below or above:
        raise ConfigError(f"{name} must be {allowed}, got {value!r}")
    return v


def interval(low: Any, high: Any) -> tuple[float, float]:
    """Bounds ``low < high``, both finite numbers."""
    lo, hi = real(low, "low"), real(high, "high")
    if not lo < hi:
        raise ConfigError(f"low must be below high, got low={lo}, high={hi}")
    return lo, hi


def flag(value: Any, name: str, *, optional: bool = False) -> Optional[bool]:
    """True or False (numpy's bools too); None as well when ``optional``."""
    if optional and value is None:
        return None
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{name} must be {'None, ' if optional else ''}True or False, got {value!r}")
    return bool(value)


def path_of(value: Any, what: str) -> Path:
    """``value`` (a str, bytes or os.PathLike) as a Path; ConfigError naming
    ``what`` ("model file", "checkpoint path", ...) for anything else."""
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise ConfigError(f"the {what} must be a path (a string or os.PathLike), got {_short(value)}")
    return Path(os.fsdecode(value))


def existing_file(path: Union[str, "os.PathLike[str]"], what: str) -> Path:
    """``path`` as a Path when it names a file; MissingFileError naming it
    (``what``: "model file", "data file", ...) when nothing is there or it
    is a folder; FormatError for a device, socket or pipe."""
    p = path_of(path, what)
    if p.is_dir():
        raise MissingFileError(f"{p} is a folder, not a {what}")
    if not p.exists():
        raise MissingFileError(f"no such {what}: {p}")
    if not p.is_file():  # a device, socket or pipe
        raise FormatError(f"{p} is not a regular file, so not a {what}")
    return p
