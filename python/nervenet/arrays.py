"""Normalising user arrays for the extension.

Users pass X as (batch, features) or (batch, time, features), targets and
masks with the matching leading shape. The extension takes (batch, steps, ...)
arrays in the network's dtype; this module reshapes (views, never copies an
array that is already C-contiguous and of the right dtype), converts dtypes
when needed, and raises ShapeError / DTypeError with the user's own shapes.
When the core reports a bad value (DataError), :func:`explain` restates it in
the user's coordinates (a 2-D X has no time axis).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from ._budget import allocate, check_bytes
from .errors import DataError, DTypeError, ShapeError

_NUMERIC = "fiub"  # float, signed, unsigned, bool
_INTEGER = "iu"


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(int(d) for d in shape))


def as_array(values: Any, what: str) -> np.ndarray:
    """``np.asarray`` with nervenet errors for ragged or non-numeric input."""
    try:
        arr = np.asarray(values)
    except (ValueError, TypeError) as e:
        raise ShapeError(f"{what} cannot be read as an array: {e}") from None
    return arr


def as_float(values: Any, what: str, dtype: np.dtype) -> np.ndarray:
    """A numeric array in ``dtype`` (a no-op for arrays already in it)."""
    arr = as_array(values, what)
    if arr.dtype.kind not in _NUMERIC:
        raise DTypeError(f"{what} has dtype {arr.dtype}; nervenet needs a float, integer or bool array")
    if arr.dtype != dtype:
        arr = _copied(arr, what, np.dtype(dtype), lambda: arr.astype(dtype))
    return arr


def _copied(arr: np.ndarray, what: str, dtype: np.dtype, make: Any) -> np.ndarray:
    """``make()``, a copy of ``arr`` in ``dtype``, after checking its bytes
    against the memory budget: a broadcast or strided view (np.broadcast_to)
    can stand for far more memory than it holds."""
    need, copy = int(arr.size) * dtype.itemsize, f"{what}: a copy of shape {_shape(arr.shape)} in {dtype}"
    check_bytes(need, copy)
    return allocate(make, need, copy)


def _contiguous(arr: np.ndarray, what: str = "the array") -> np.ndarray:
    if arr.flags.c_contiguous:
        return arr
    return _copied(arr, what, arr.dtype, lambda: np.ascontiguousarray(arr))


@dataclass(frozen=True)
class Batch:
    """X as the extension wants it, and how to give results back."""

    x: np.ndarray  # (batch, steps, features), C-contiguous, network dtype
    user: np.ndarray  # X in the user's shape (images flattened) and the network dtype
    sequences: bool  # whether the user passed (batch, time, features)
    given: tuple[int, ...] = ()  # X's shape as passed, images unflattened (when it differs from user's)

    @property
    def batch(self) -> int:
        return int(self.x.shape[0])

    @property
    def steps(self) -> int:
        return int(self.x.shape[1])

    @property
    def leading(self) -> tuple[int, ...]:
        """(batch,) or (batch, time): the shape every per-sample array starts with."""
        return tuple(self.user.shape[:-1])

    def restore(self, arr: np.ndarray) -> np.ndarray:
        """(batch, steps, k) -> the user's layout: (batch, k) for 2-D X."""
        return arr if self.sequences else arr.reshape(arr.shape[0], arr.shape[2])

    def like_x(self, arr: np.ndarray) -> np.ndarray:
        """(batch, steps, features), e.g. dL/dX, in X's shape as passed
        (images as (batch, C, H, W) or (batch, time, C, H, W))."""
        return arr.reshape(self.given) if self.given else self.restore(arr)


def inputs(X: Any, n_inputs: int, dtype: np.dtype, image: Optional[tuple[int, int, int]] = None) -> Batch:
    """X as (batch, features) or (batch, time, features); a network whose
    input is one feature map of shape ``image`` = (C, H, W) also takes
    (batch, C, H, W) or (batch, time, C, H, W) images (flattened, no copy)."""
    arr = as_float(X, "X", dtype)
    given = tuple(arr.shape)
    if image is not None and arr.ndim in (4, 5):
        if tuple(arr.shape[-3:]) != tuple(image):
            raise ShapeError(_image_mismatch(arr.shape, image))
        arr = arr.reshape(arr.shape[:-3] + (n_inputs,))
    if arr.ndim == 2:
        x = arr.reshape(arr.shape[0], 1, arr.shape[1])
    elif arr.ndim == 3:
        x = arr
    else:
        images = f", or (batch, {', '.join(map(str, image))}) images" if image is not None else ""
        raise ShapeError(
            f"X must be 2-D (batch, features) or 3-D (batch, time, features){images}, got shape {_shape(arr.shape)}"
        )
    if arr.shape[-1] != n_inputs and image is not None:
        raise ShapeError(_image_mismatch(arr.shape, image))
    if arr.shape[-1] != n_inputs:
        expected = tuple(arr.shape[:-1]) + (n_inputs,)
        raise ShapeError(
            f"X has shape {_shape(arr.shape)} but the network has {n_inputs} inputs; "
            f"expected shape {_shape(expected)}"
        )
    return Batch(_contiguous(x, "X"), arr, arr.ndim == 3, given if given != arr.shape else ())


def _image_mismatch(shape: tuple[int, ...], image: tuple[int, int, int]) -> str:
    """What is wrong with X of ``shape`` for a network whose input is a
    feature map ``image`` = (C, H, W), with the call that fixes it when the
    samples hold the right number of values (MNIST as loaded, (N, 28, 28),
    for a (1, 28, 28) input: ``X.reshape(N, 1, 28, 28)``)."""
    c, h, w = image
    n = int(shape[0]) if shape else 0
    said = (
        f"X has shape {_shape(shape)} but the network's input is a feature map of {_shape(image)} (channels, "
        f"height, width): pass images of shape {_shape((n, c, h, w))}, or flattened rows {_shape((n, c * h * w))}"
    )
    if len(shape) == 4 and tuple(shape[1:]) == (h, w, c) and c != h:
        return f"{said}; X looks channels-last: X.transpose(0, 3, 1, 2)"
    if len(shape) >= 2 and int(np.prod(shape[1:], dtype=np.int64)) == c * h * w:
        return f"{said}; here: X.reshape({', '.join(map(str, (n, c, h, w)))})"
    return said


def per_output(values: Any, what: str, batch: Batch, n_outputs: int, dtype: np.dtype) -> np.ndarray:
    """Float targets or output gradients: the batch's leading shape + (n_outputs,).

    A 1-D array is accepted for a single-output network fed 2-D X.
    """
    arr = as_float(values, what, dtype)
    expected = batch.leading + (n_outputs,)
    if arr.ndim == 1 and not batch.sequences and n_outputs == 1:
        arr = arr.reshape(-1, 1)
    if arr.shape != expected:
        raise ShapeError(
            f"{what} has shape {_shape(arr.shape)}, expected {_shape(expected)} "
            f"(X has shape {_shape(batch.user.shape)}, the network {n_outputs} outputs)"
        )
    return _contiguous(arr.reshape(batch.batch, batch.steps, n_outputs), what)


def labels(values: Any, loss: str, batch: Batch, n_classes: int) -> np.ndarray:
    """Integer class labels of shape (batch,) or (batch, time), as int64 (batch, steps)."""
    arr = as_array(values, "Y")
    if arr.shape == batch.leading + (n_classes,) and n_classes > 1:
        raise ShapeError(
            f"Y has shape {_shape(arr.shape)}, one column per output: one-hot rows? loss {loss!r} takes class "
            f"labels, one integer per sample{' and time step' if batch.sequences else ''}, of shape "
            f"{_shape(batch.leading)}: pass Y.argmax(axis=-1)"
        )
    if arr.dtype.kind not in _INTEGER:
        raise DTypeError(
            f"loss {loss!r} takes integer class labels, but Y has dtype {arr.dtype}; "
            f"pass integer labels (e.g. Y.astype(np.int64))"
        )
    if arr.shape != batch.leading:
        raise ShapeError(
            f"class labels Y have shape {_shape(arr.shape)}, expected {_shape(batch.leading)} "
            f"(one label per sample{' and time step' if batch.sequences else ''}; X has shape "
            f"{_shape(batch.user.shape)})"
        )
    if arr.dtype != np.int64:
        arr = arr.astype(np.int64)
    return _contiguous(arr.reshape(batch.batch, batch.steps))


def mask(values: Any, batch: Batch, dtype: np.dtype) -> np.ndarray:
    """A per-(sample, step) weight of shape (batch,) or (batch, time)."""
    arr = as_float(values, "mask", dtype)
    if arr.shape != batch.leading:
        raise ShapeError(
            f"mask has shape {_shape(arr.shape)}, expected {_shape(batch.leading)} "
            f"(X has shape {_shape(batch.user.shape)})"
        )
    return _contiguous(arr.reshape(batch.batch, batch.steps))


def _first(bad: np.ndarray) -> Optional[tuple[int, ...]]:
    if not bad.any():
        return None
    return tuple(int(i) for i in np.argwhere(bad)[0])


def explain(
    err: DataError,
    batch: Batch,
    y: Optional[np.ndarray] = None,
    n_classes: Optional[int] = None,
    mask: Optional[np.ndarray] = None,
) -> DataError:
    """The core's DataError restated with the user's array names and indices.

    Arrays are the normalised ones (batch, steps, ...); indices are given
    back without the steps axis when the user passed 2-D X. ``n_classes`` is
    set when ``y`` holds class labels. Returns ``err`` itself if nothing is found.
    """
    checks: list[tuple[str, np.ndarray, np.ndarray, str]] = [
        ("X", batch.x, ~np.isfinite(batch.x), "a non-finite value"),
    ]
    if y is not None and n_classes is None:
        checks.append(("Y", y, ~np.isfinite(y), "a non-finite value"))
    if y is not None and n_classes is not None:
        checks.append(("Y", y, (y < 0) | (y >= n_classes), f"a class label out of range for {n_classes} outputs"))
    if mask is not None:
        checks.append(("mask", mask, ~(np.isfinite(mask) & (mask >= 0)), "a value that is not finite and >= 0"))
    for name, arr, bad, problem in checks:
        suffix = "; nervenet rejects NaN and Inf in data" if problem == "a non-finite value" else ""
        index = _first(bad)
        if index is not None:
            value = arr[index].item()
            shown = index if batch.sequences else index[:1] + index[2:]
            return DataError(f"{name} contains {problem} ({value!r}) at index {list(shown)}{suffix}")
    return err
