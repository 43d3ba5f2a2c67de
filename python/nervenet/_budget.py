"""User arrays and output sizes checked against the memory budget before
anything is allocated or computed (the arrays crossing to the engine, the
data functions).

A broadcast or strided view (``np.broadcast_to``) holds a few bytes but
stands for as many as its shape says: converting it, copying it or even
``np.isfinite`` on it allocates all of them. Output shapes come from user
arguments (a length, a pad, a number of classes). Both are measured in
bytes with Python integers (no overflow) and refused with
:class:`~nervenet.UnsupportedError` past ``nervenet.get_memory_budget()``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence, TypeVar

import numpy as np

from . import _core
from ._checks import _short
from .errors import ConfigError, DTypeError, ShapeError, UnsupportedError

T = TypeVar("T")


def _shape(shape: Sequence[Any]) -> str:
    return "(" + ", ".join(str(int(d)) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def check_bytes(need: int, what: str) -> None:
    """UnsupportedError naming ``what`` and ``need`` when it is over the budget."""
    budget = _core.get_memory_budget()
    if need > budget:
        raise UnsupportedError(
            f"{what} needs {need} bytes, more than the memory budget of {budget} bytes "
            "(nervenet.set_memory_budget changes it)"
        )


def nbytes(shape: Sequence[Any], dtype: Any) -> int:
    """The bytes of an array of ``shape`` in ``dtype`` (exact, any size)."""
    return math.prod(int(d) for d in shape) * np.dtype(dtype).itemsize


def output(shape: Sequence[Any], dtype: Any, what: str, extra: int = 0, also: str = "") -> None:
    """Checks an output of ``shape`` in ``dtype`` (plus ``extra`` bytes for
    ``also``: a mask, scratch) against the budget before it is allocated."""
    with_also = f" with {also}" if also else ""
    check_bytes(nbytes(shape, dtype) + extra, f"{what} of shape {_shape(shape)} in {np.dtype(dtype)}{with_also}")


def within(arr: np.ndarray, name: str, itemsize: int = 0) -> np.ndarray:
    """``arr``, after checking the memory it stands for (``itemsize``: per
    element, when it is to be converted to a wider dtype)."""
    need = int(arr.size) * max(arr.dtype.itemsize, itemsize)
    check_bytes(need, f"{name} of shape {_shape(arr.shape)} (as a broadcast view does, it stands for every element)")
    return arr


def read(values: Any, name: str, itemsize: int = 0) -> np.ndarray:
    """``np.asarray(values)``: ShapeError naming ``name`` for ragged input,
    UnsupportedError when it stands for more memory than the budget."""
    try:
        arr = np.asarray(values)
    except (ValueError, TypeError) as e:  # ragged nested lists, objects numpy cannot read
        raise ShapeError(f"{name} is not a rectangular array ({e})") from None
    except MemoryError:
        raise UnsupportedError(f"{name} cannot be read as an array: out of memory") from None
    return within(arr, name, itemsize)


def allocate(make: Callable[[], T], need: int, what: str) -> T:
    """``make()``, with a MemoryError (the budget allowed it, the machine
    did not) turned into UnsupportedError."""
    try:
        return make()
    except MemoryError:
        raise UnsupportedError(f"{what} ({need} bytes) cannot be allocated") from None


def numeric_dtype(value: Any, name: str = "dtype") -> np.dtype:
    """A user's ``dtype`` argument: a bool, integer or float dtype."""
    try:
        dt = np.dtype(value)
    except (TypeError, ValueError, SyntaxError):
        raise ConfigError(f"{name} must be a numpy dtype (e.g. 'float32'), got {_short(value)}") from None
    if dt.kind not in "biuf":
        raise DTypeError(f"{name} must be a bool, integer or float dtype, got {dt}")
    return dt
