"""MNIST: IDX files (gzip-compressed or raw), read in place and checked.

The IDX format (LeCun's, big-endian): a 4-byte magic number ``0x00 0x00 <type>
<ndim>``, then ``ndim`` 4-byte dimension sizes, then the data, row-major. MNIST
uses type ``0x08`` (unsigned byte), so image files start with magic 2051
(``0x00000803``: 3 dimensions, count x rows x cols) and label files with 2049
(``0x00000801``: 1 dimension, count).

:func:`read_idx` reads any IDX file; :func:`load_mnist` reads a matching
images/labels pair and checks it is MNIST: uint8 images ``(n, 28, 28)``, uint8
labels ``(n,)`` in 0..9, the same ``n`` in both files.

Every problem raises :class:`nervenet.FormatError` (a missing file raises
:class:`nervenet.DataFileNotFoundError`, which is both a ``FormatError`` and a
``FileNotFoundError``; a label out of range raises :class:`nervenet.DataError`).
The message names the file and the byte offset; for a ``.gz`` file the offsets
are in the decompressed stream, which the message says.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence, Union

import numpy as np

from ..errors import ConfigError, DataError, DataFileNotFoundError, FormatError
from .files import DataStream
from .files import require_file as _require_file

__all__ = ["read_idx", "load_mnist", "IDX_IMAGES_MAGIC", "IDX_LABELS_MAGIC"]

PathLike = Union[str, "os.PathLike[str]"]

#: Magic number of an IDX file of unsigned-byte images (3 dimensions).
IDX_IMAGES_MAGIC = 2051
#: Magic number of an IDX file of unsigned-byte labels (1 dimension).
IDX_LABELS_MAGIC = 2049

# IDX type byte -> numpy dtype (big-endian where it matters).
# Extra bytes after the data counted for the message, at most.
_EXTRA_COUNTED = 1 << 20

_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

def read_idx(path: PathLike) -> np.ndarray:
    """Reads an IDX file (gzip-compressed or raw, recognised by content) into
    an array of its dimensions and type (``uint8`` for MNIST).

    Checks the magic number (two zero bytes, a known type code, a dimension
    count of at least 1), that the header is complete, and that the data are
    exactly as long as the dimensions say (neither truncated nor followed by
    extra bytes). The header is read first and the data size it declares is
    checked against what the file can hold before anything is allocated; a
    gzip file is decompressed only up to that size (plus one byte, to see
    extra data). Raises :class:`nervenet.FormatError` naming the file and the
    byte offset. The array is a writable copy, independent of the file.
    """
    p = _require_file(path, "IDX file")
    src = DataStream(p)
    stream = " (offsets in the decompressed gzip stream)" if src.gz else ""
    head = src.read(4)
    if len(head) < 4:
        raise FormatError(
            f"{p}: not an IDX file: {len(head)} bytes, shorter than the 4-byte magic number at byte offset 0{stream}"
        )
    magic = int.from_bytes(head, "big")
    if head[0] != 0 or head[1] != 0 or head[2] not in _IDX_TYPES or head[3] == 0:
        raise FormatError(
            f"{p}: not an IDX file: magic number 0x{magic:08x} ({magic}) at byte offset 0 is not "
            f"0x0000TTNN with a known type TT and NN >= 1 dimensions (MNIST images are {IDX_IMAGES_MAGIC}, "
            f"labels {IDX_LABELS_MAGIC}){stream}"
        )
    dtype, ndim = _IDX_TYPES[head[2]], head[3]
    start = 4 + 4 * ndim
    sizes = src.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise FormatError(
            f"{p}: truncated IDX header: magic {magic} announces {ndim} dimension sizes ending at byte "
            f"offset {start}, but the file ends at byte offset {4 + len(sizes)}{stream}"
        )
    dims = [int.from_bytes(sizes[4 * k : 4 * k + 4], "big") for k in range(ndim)]
    expected = math.prod(dims) * dtype.itemsize  # exact: Python integers do not wrap
    shape = "x".join(map(str, dims))
    declared = (
        f"header says {shape} values of {dtype.itemsize} byte(s) = {expected} bytes of data from byte offset {start}"
    )
    if expected == 0 and math.prod(d for d in dims if d) * dtype.itemsize > np.iinfo(np.intp).max:
        # an empty array (a 0 among the sizes) whose other sizes numpy cannot represent
        raise FormatError(f"{p}: IDX header: dimensions {shape} at byte offsets 4-{start - 1} describe an array too big "
                          f"for any machine (the sizes other than 0 multiply past {np.iinfo(np.intp).max} bytes){stream}")
    if src.gz and start + expected > src.max_content:  # checked before decompressing or allocating any of it
        raise FormatError(
            f"{p}: IDX file truncated: {declared}, but a {src.size}-byte gzip file holds at most "
            f"{src.max_content} bytes{stream}"
        )
    data = src.read(expected + 1)  # one byte more shows extra data
    if len(data) != expected:
        if len(data) < expected:
            how, held, end = "truncated", str(len(data)), str(start + len(data))
        else:  # count what follows, up to a bound: a gzip stream may expand without one
            more = len(src.read(_EXTRA_COUNTED))
            most = "at least " if more == _EXTRA_COUNTED else ""
            held, end = f"{most}{expected + 1 + more}", f"{most}{start + expected + 1 + more}"
            how = "has extra bytes"
        raise FormatError(
            f"{p}: IDX file {how}: {declared}, but it holds {held} bytes of data "
            f"(the data should end at byte offset {start + expected}, the file ends at {end}){stream}"
        )
    out = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize).reshape(dims)
    return out.astype(dtype.newbyteorder("="), copy=True)


def _magic(path: Path) -> int:
    return int.from_bytes(DataStream(path).read(4), "big")


def _mnist_files(path_or_dir: Union[PathLike, Sequence[PathLike]], kind: str) -> tuple[Path, Path]:
    if not isinstance(path_or_dir, (str, os.PathLike)):
        pair = list(path_or_dir)
        if len(pair) != 2:
            raise ConfigError(f"load_mnist takes a directory or an (images, labels) pair of paths; got {len(pair)} paths")
        return _require_file(pair[0], "MNIST images file"), _require_file(pair[1], "MNIST labels file")
    if kind not in ("train", "test"):
        raise ConfigError(f"kind must be 'train' or 'test', not {kind!r}")
    base = Path(path_or_dir)
    if not base.is_dir():
        if base.is_file():
            raise ConfigError(f"{base} is a file: give load_mnist the directory, or an (images, labels) pair of paths")
        raise DataFileNotFoundError(f"{base}: MNIST directory does not exist")
    prefix = "train" if kind == "train" else "t10k"
    found = []
    for what, idx in (("images", "idx3"), ("labels", "idx1")):
        names = [f"{prefix}-{what}-{idx}-ubyte.gz", f"{prefix}-{what}-{idx}-ubyte",
                 f"{prefix}-{what}.{idx}-ubyte.gz", f"{prefix}-{what}.{idx}-ubyte"]
        hit = next((base / n for n in names if (base / n).is_file()), None)
        if hit is None:
            raise DataFileNotFoundError(f"{base}: no MNIST {kind} {what} file (looked for {', '.join(names)})")
        found.append(hit)
    return found[0], found[1]


def load_mnist(
    path_or_dir: Union[PathLike, Sequence[PathLike]], *, kind: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images and labels, as stored: ``(images, labels)`` with images
    ``uint8 (n, 28, 28)`` (0 = background) and labels ``uint8 (n,)`` in 0..9.

    ``path_or_dir`` is the folder holding the official files (``kind="train"``:
    ``train-images-idx3-ubyte[.gz]`` and ``train-labels-idx1-ubyte[.gz]``;
    ``kind="test"``: the ``t10k-*`` files), or an ``(images_path,
    labels_path)`` pair (``kind`` is then ignored). Gzip or raw files both work.

    Raises :class:`nervenet.FormatError` for a missing file, a wrong magic
    number (2051 images, 2049 labels), images that are not 28x28, a length
    that disagrees with the header, or different image and label counts; and
    :class:`nervenet.DataError` for a label above 9.
    """
    images_path, labels_path = _mnist_files(path_or_dir, kind)
    images = read_idx(images_path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise FormatError(
            f"{images_path}: magic number {_magic(images_path)} at byte offset 0 is not {IDX_IMAGES_MAGIC} "
            f"(an IDX file of uint8 images, 3 dimensions): got {images.dtype} with {images.ndim} dimension(s)"
        )
    if images.shape[1:] != (28, 28):
        raise FormatError(
            f"{images_path}: MNIST images are 28x28, the header (byte offsets 8-15) says "
            f"{images.shape[1]}x{images.shape[2]}"
        )
    labels = read_idx(labels_path)
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise FormatError(
            f"{labels_path}: magic number {_magic(labels_path)} at byte offset 0 is not {IDX_LABELS_MAGIC} "
            f"(an IDX file of uint8 labels, 1 dimension): got {labels.dtype} with {labels.ndim} dimension(s)"
        )
    if len(images) != len(labels):
        raise FormatError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels "
            f"(the counts at byte offset 4 of each file must agree)"
        )
    bad = np.flatnonzero(labels > 9)
    if len(bad):
        i = int(bad[0])
        raise DataError(
            f"{labels_path}: label {int(labels[i])} of sample {i} (byte offset {8 + i}) is not a digit 0..9"
            f" ({len(bad)} such label(s))"
        )
    return images, labels
