"""CIFAR-10, binary version: ``data_batch_*.bin`` / ``test_batch*.bin``, read in place.

Each file is a sequence of 3,073-byte records: one label byte (0..9), then
the 1,024 red, 1,024 green and 1,024 blue pixels of a 32x32 image, each plane
row-major. There is no header, so the checks are that the file holds a whole,
non-zero number of records and that every label byte is below 10.

Class names come from ``batches.meta.txt`` (one name per line) beside the batches.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence, Union

import numpy as np

from ..errors import ConfigError, DataError, DataFileNotFoundError, FormatError
from .mnist import _require_file

__all__ = ["load_cifar10", "read_cifar10_label_names", "CIFAR10_RECORD_BYTES", "CIFAR10_CLASSES"]

PathLike = Union[str, "os.PathLike[str]"]

#: Bytes per record: 1 label byte + 3 x 32 x 32 pixel bytes.
CIFAR10_RECORD_BYTES = 1 + 3 * 32 * 32
#: The class names in label order (as in the official ``batches.meta.txt``).
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def _batch_files(paths: Union[PathLike, Sequence[PathLike]]) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        p = Path(paths)
        if p.is_dir():
            def number(f: Path) -> tuple[int, str]:
                tail = f.stem.rsplit("_", 1)[-1]
                return (int(tail) if tail.isdigit() else 1 << 30, f.name)

            files = sorted(p.glob("data_batch_*.bin"), key=number)
            if not files:
                raise DataFileNotFoundError(f"{p}: no CIFAR-10 training batches (data_batch_*.bin) in this directory")
            return files
        return [_require_file(p, "CIFAR-10 batch file")]
    files = [_require_file(f, "CIFAR-10 batch file") for f in paths]
    if not files:
        raise ConfigError("load_cifar10 needs at least one batch file")
    return files


def read_cifar10_label_names(path: PathLike) -> list[str]:
    """The 10 class names from ``batches.meta.txt`` (or the folder holding it),
    one per line; blank lines and surrounding whitespace are ignored.
    Raises :class:`nervenet.FormatError` unless there are exactly 10, all distinct."""
    p = Path(path)
    if p.is_dir():
        p = p / "batches.meta.txt"
    p = _require_file(p, "CIFAR-10 label names file (batches.meta.txt)")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"{p}: not UTF-8 text (byte offset {e.start})") from None
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if len(names) != 10:
        raise FormatError(f"{p}: expected 10 class names, one per line, found {len(names)}")
    if len(set(names)) != 10:
        dup = next(n for n in names if names.count(n) > 1)
        raise FormatError(f"{p}: class name {dup!r} appears more than once")
    return names


def load_cifar10(
    paths: Union[PathLike, Sequence[PathLike]], *, label_names: bool = False
) -> Union[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, list[str]]]:
    """CIFAR-10 binary batches concatenated in the order given:
    ``(images, labels)`` with images ``uint8 (n, 3, 32, 32)`` (channels R, G,
    B; rows; columns) and labels ``uint8 (n,)`` in 0..9.

    ``paths`` is one batch file, a list of them, or a folder (then every
    ``data_batch_<k>.bin`` in it, by ``k``). With ``label_names=True`` the
    result has a third element, the class names read from
    ``batches.meta.txt`` in the folder of the first batch.

    Raises :class:`nervenet.FormatError` for a missing or empty file or one
    whose size is not a whole number of 3,073-byte records (the message gives
    the byte offset of the incomplete record), and :class:`nervenet.DataError`
    for a label byte of 10 or more (the record and its byte offset).
    """
    files = _batch_files(paths)
    sizes = []
    for f in files:
        size = f.stat().st_size
        if size == 0:
            raise FormatError(f"{f}: empty file, no CIFAR-10 records")
        whole, rest = divmod(size, CIFAR10_RECORD_BYTES)
        if rest:
            raise FormatError(
                f"{f}: {size} bytes is not a whole number of {CIFAR10_RECORD_BYTES}-byte CIFAR-10 records: "
                f"the record at byte offset {whole * CIFAR10_RECORD_BYTES} (record {whole}) has only {rest} bytes"
            )
        sizes.append(whole)
    total = sum(sizes)
    images = np.empty((total, 3, 32, 32), dtype=np.uint8)
    labels = np.empty(total, dtype=np.uint8)
    start = 0
    for f, n in zip(files, sizes):
        records = np.fromfile(f, dtype=np.uint8)
        if records.size != n * CIFAR10_RECORD_BYTES:  # the file changed under us
            raise FormatError(f"{f}: read {records.size} bytes, expected {n * CIFAR10_RECORD_BYTES}")
        records = records.reshape(n, CIFAR10_RECORD_BYTES)
        bad = np.flatnonzero(records[:, 0] > 9)
        if len(bad):
            i = int(bad[0])
            raise DataError(
                f"{f}: record {i} (byte offset {i * CIFAR10_RECORD_BYTES}) has label {int(records[i, 0])}, "
                f"CIFAR-10 labels are 0..9 ({len(bad)} such record(s))"
            )
        labels[start : start + n] = records[:, 0]
        images[start : start + n] = records[:, 1:].reshape(n, 3, 32, 32)
        start += n
    if label_names:
        return images, labels, read_cifar10_label_names(files[0].parent)
    return images, labels
