"""Input-node padding for CNNs (lecture 8, "CNN Nodes - Input Node
Padding"): grow images to the size an architecture expects, with zeros or,
as some works found to predict better, Gaussian noise.

    >>> import numpy as np, nervenet as nv
    >>> X = np.ones((2, 1, 28, 28), dtype=np.float32)
    >>> nv.data.pad_images(X, 2).shape            # MNIST 28x28 -> LeNet-5's 32x32
    (2, 1, 32, 32)
    >>> P = nv.data.pad_images(X, 2, mode="noise", std=0.5, seed=0)
    >>> bool((P[:, :, 2:-2, 2:-2] == 1).all())    # the image itself is unchanged
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import integer, real, seed as seed_of, text
from ..errors import ConfigError, DTypeError, ShapeError
from .._budget import _shape, allocate, nbytes, output, read

__all__ = ["pad_images"]


def pad_images(X: Any, pad: int, mode: str = "zeros", *, std: float = 1.0, mean: float = 0.0, seed: int = 0) -> np.ndarray:
    """Images ``(..., height, width)`` with ``pad`` cells added on every side.

    ``mode="zeros"`` fills the border with 0; ``mode="noise"`` with draws
    from N(mean, std²), seeded (the same seed gives the same border). The
    result keeps X's float dtype (float32 for integer images).
    """
    pad = integer(pad, "pad")
    seed = seed_of(seed)
    if text(mode, "mode") not in ("zeros", "noise"):
        raise ConfigError(f"mode must be 'zeros' or 'noise', got {mode!r}")
    std, mean = real(std, "std", 0), real(mean, "mean")
    arr = read(X, "X")
    if arr.ndim < 2:
        raise ShapeError(f"images X must have at least 2 dimensions (height, width), got shape {_shape(arr.shape)}")
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"images X must hold numbers, got dtype {arr.dtype}")
    dtype = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float32)
    h, w = arr.shape[-2:]
    shape = arr.shape[:-2] + (h + 2 * pad, w + 2 * pad)
    noise = mode == "noise" and pad > 0
    # the noise is drawn in float64, then stored in X's dtype
    output(shape, dtype, "the padded images", extra=nbytes(shape, np.float64) if noise else 0,
           also="the noise drawn in float64" if noise else "")
    out = allocate(lambda: np.zeros(shape, dtype=dtype), nbytes(shape, dtype), "the padded images")
    if noise:
        rng = np.random.default_rng(seed)
        out[...] = rng.normal(mean, std, size=out.shape)
    out[..., pad:pad + h, pad:pad + w] = arr
    return out
