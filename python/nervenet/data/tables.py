"""Feature/target tables from a user's file: a CSV (optionally gzipped) or
an NPZ file, as a config's ``[data] train`` / ``test`` name them."""

from __future__ import annotations

import csv
import io
import math
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from ..errors import ConfigError, DataFileNotFoundError, FormatError
from .files import decode_text, read_data

__all__ = ["read_table"]

PathLike = Union[str, "os.PathLike[str]"]


def _npz(p: Path, targets: bool) -> tuple[np.ndarray, np.ndarray, None]:
    """X and y of an .npz file; without ``targets`` (``target=[]``) y may be
    missing, and comes back with no columns."""
    with open(p, "rb") as f:
        if f.read(2) != b"PK":  # else np.load would read an .npy array or refuse a pickle
            raise FormatError(f"{p}: not a readable .npz file (an .npz file is a zip archive, starting with 'PK')")
    try:
        with np.load(p, allow_pickle=False) as z:
            keys = list(z.keys())
            xk = next((k for k in ("X", "x") if k in z), None)
            yk = next((k for k in ("y", "Y") if k in z), None)
            if xk is None or (yk is None and targets):
                raise FormatError(f"{p}: an .npz data file needs arrays 'X' and 'y'; it has {keys}")
            for k in (xk, yk):
                if k is not None:
                    _check_npy_size(p, z.zip, k)
            X = np.asarray(z[xk])
            y = np.asarray(z[yk]) if yk is not None else np.empty((len(X), 0))
    except FormatError:
        raise
    # what zipfile and numpy raise for damaged archives (NotImplementedError and RuntimeError: odd flags, encryption)
    except (OSError, EOFError, ValueError, KeyError, NotImplementedError, RuntimeError, struct.error, zlib.error,
            zipfile.BadZipFile) as e:
        raise FormatError(f"{p}: not a readable .npz file ({type(e).__name__}: {e})") from None
    if X.ndim != 2 or len(X) != len(y):
        raise FormatError(f"{p}: X must be (samples, features) and y have as many rows; got {X.shape} and {y.shape}")
    return X, y, None


def _check_npy_size(p: Path, zf: zipfile.ZipFile, key: str) -> None:
    """The array ``key``'s header must not declare more bytes than its member
    holds (numpy allocates the declared size before reading)."""
    info = zf.getinfo(f"{key}.npy")
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(f)
    need = math.prod(shape) * dtype.itemsize
    if need > info.file_size:
        raise FormatError(
            f"{p}: array {key!r} declares shape {shape} of {dtype} ({need} bytes) but its member holds "
            f"{info.file_size} bytes"
        )


def _csv(p: Path, header: bool, delimiter: str) -> tuple[np.ndarray, Optional[list[str]]]:
    """The non-blank rows as an object array of stripped strings (Python
    strings, not a fixed-width table that pads every cell to the longest),
    and the header's names. Problems are FormatErrors naming the line."""
    text = decode_text(read_data(p, "data file"), p)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for r in reader:
            if r and any(v.strip() for v in r):
                rows.append([v.strip() for v in r])
                lines.append(reader.line_num)
    except csv.Error as e:
        raise FormatError(f"{p}, line {reader.line_num}: not valid CSV ({e})") from None
    names: Optional[list[str]] = None
    if header:
        if not rows:
            raise FormatError(f"{p}: empty file, expected a header row of column names")
        names, name_line = rows.pop(0), lines.pop(0)
        for j, n in enumerate(names):
            if not n:
                raise FormatError(f"{p}, line {name_line}, column {j + 1}: the header names no column here")
            if names.index(n) != j:
                raise FormatError(f"{p}, line {name_line}, column {j + 1}: column {n!r} appears twice in the header")
    if not rows:
        raise FormatError(f"{p}: no data rows")
    width = len(names) if names is not None else len(rows[0])
    for r, line in zip(rows, lines):
        if len(r) != width:
            first = f"the header (line {name_line}) names" if names is not None else f"line {lines[0]} has"
            column = f", column {width + 1}" if len(r) > width else f", column {len(r) + 1}"
            raise FormatError(f"{p}, line {line}{column}: {len(r)} values, but {first} {width} columns")
    table = np.empty((len(rows), width), dtype=object)
    table[:] = rows
    return table, names


def read_table(
    path: PathLike, *, target: Union[int, str, Sequence[Union[int, str]]] = -1, header: bool = False, delimiter: str = ","
) -> tuple[np.ndarray, np.ndarray, Optional[list[str]]]:
    """Reads features and targets from a file.

    ``.npz``: arrays ``X`` and ``y`` (y may be missing when ``target=[]``). CSV (``.csv``, ``.csv.gz``, any other
    text): ``target`` is the column (index or header name, or a list of them)
    holding the targets; the other columns are features. Values stay strings
    (an object array of them; :class:`~nervenet.data.ColumnPreprocessor`
    decides which columns are numeric). Returns (features, targets, feature
    names or None). A ``target`` the file does not have is a ConfigError
    naming it; a file that is not UTF-8 CSV, a header with an empty or
    repeated name, or a row with more or fewer values than the header (or
    the first row) has is a FormatError naming the file, line and column; so
    is an unreadable ``.npz`` file.
    """
    p = Path(path)
    if not p.is_file():
        raise DataFileNotFoundError(f"no such data file: {p}")
    if p.suffix == ".npz":
        return _npz(p, target != [])
    table, names = _csv(p, header, delimiter)
    width = table.shape[1]
    wanted = list(target) if isinstance(target, (list, tuple)) else [target]
    cols = []
    for t in wanted:
        if isinstance(t, str):
            if names is None or t not in names:
                raise ConfigError(f"no column named {t!r} in {p}" + (f"; columns: {names}" if names else " (header = false)"))
            cols.append(names.index(t))
        elif -width <= t < width:
            cols.append(t % width)
        else:
            raise ConfigError(f"column {t} is out of range for {p}, which has {width} columns")
    keep = [j for j in range(width) if j not in cols]
    y = table[:, cols] if isinstance(target, (list, tuple)) else table[:, cols[0]]
    return table[:, keep], y, None if names is None else [names[j] for j in keep]
