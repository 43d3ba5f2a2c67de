"""Feature/target tables from a user's file: a CSV (optionally gzipped) or
an NPZ file, as a config's ``[data] train`` / ``test`` name them."""

from __future__ import annotations

import csv
import gzip
import os
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from ..errors import ConfigError, DataFileNotFoundError, FormatError

__all__ = ["read_table"]

PathLike = Union[str, "os.PathLike[str]"]


def _npz(p: Path) -> tuple[np.ndarray, np.ndarray, None]:
    with np.load(p, allow_pickle=False) as z:
        keys = list(z.keys())
        xk = next((k for k in ("X", "x") if k in z), None)
        yk = next((k for k in ("y", "Y") if k in z), None)
        if xk is None or yk is None:
            raise FormatError(f"{p}: an .npz data file needs arrays 'X' and 'y'; it has {keys}")
        X, y = np.asarray(z[xk]), np.asarray(z[yk])
    if X.ndim != 2 or len(X) != len(y):
        raise FormatError(f"{p}: X must be (samples, features) and y have as many rows; got {X.shape} and {y.shape}")
    return X, y, None


def read_table(
    path: PathLike, *, target: Union[int, str, Sequence[Union[int, str]]] = -1, header: bool = False, delimiter: str = ","
) -> tuple[np.ndarray, np.ndarray, Optional[list[str]]]:
    """Reads features and targets from a file.

    ``.npz``: arrays ``X`` and ``y``. CSV (``.csv``, ``.csv.gz``, any other
    text): ``target`` is the column (index or header name, or a list of them)
    holding the targets; the other columns are features. Values stay strings
    (:class:`~nervenet.data.ColumnPreprocessor` decides which columns are
    numeric). Returns (features, targets, feature names or None).
    A ``target`` the file does not have is a ConfigError naming it.
    """
    p = Path(path)
    if not p.is_file():
        raise DataFileNotFoundError(f"no such data file: {p}")
    if p.suffix == ".npz":
        return _npz(p)
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "rt", newline="") as f:  # type: ignore[operator]
        rows = [r for r in csv.reader(f, delimiter=delimiter) if r and any(v.strip() for v in r)]
    names: Optional[list[str]] = None
    if header:
        if not rows:
            raise FormatError(f"{p}: empty file")
        names, rows = [v.strip() for v in rows[0]], rows[1:]
    if not rows:
        raise FormatError(f"{p}: no data rows")
    width = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != width:
            raise FormatError(f"{p}: row {i + 1 + int(header)} has {len(r)} values, the first row {width}")
    table = np.array([[v.strip() for v in r] for r in rows], dtype=str)
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
