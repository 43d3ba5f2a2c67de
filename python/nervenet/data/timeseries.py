"""Multivariate time series from EXAMM-style CSV files (lecture 5 of the notes).

The format is the one the EXAMM neuroevolution project reads (its coal-plant
and NGAFID flight data): a header row of column names, then one row of
numeric values per time step, comma separated, no index column::

    Conditioner_Inlet_Temp,Conditioner_Outlet_Temp,...,Main_Flm_Int
    0.59995,0.371572,...,0.73803

Each file is one sequence. :func:`load_timeseries` picks input and output
columns by name and shifts the outputs ``time_offset`` steps ahead, as
EXAMM's ``--time_offset`` does, so that step ``t`` of X holds the inputs at
time ``t`` and step ``t`` of Y the outputs at time ``t + time_offset``.
Files of different lengths are padded at the end and masked.

EXAMM's reference coal run (``scripts/base_run/coal_mt.sh``)::

    coal = data_root / "timeseries" / "2018_coal"
    train = load_timeseries([coal / f"burner_{i}.csv" for i in range(10)], outputs="Main_Flm_Int")
    test = load_timeseries([coal / f"burner_{i}.csv" for i in (10, 11)], outputs="Main_Flm_Int")
    train.X.shape, train.Y.shape  # (10, 14400, 12), (10, 14400, 1): all 12 columns in, 1 out
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np

from .._checks import integer
from ..errors import ConfigError, DataError, DataFileNotFoundError, DTypeError, FormatError
from .files import decode_text, read_data

__all__ = ["TimeSeriesData", "load_timeseries", "read_timeseries_csv"]

PathLike = Union[str, "os.PathLike[str]"]

_FLOAT_DTYPES = ("float32", "float64")


@dataclass
class TimeSeriesData:
    """Padded sequences, one per file.

    ``X`` is (files, T_max, inputs) and ``Y`` (files, T_max, outputs); step
    ``t`` of ``Y`` holds the output columns ``time_offset`` steps after step
    ``t`` of ``X``. ``mask`` (files, T_max) is 1 for the ``lengths[i]`` real
    steps of file ``i`` and 0 for the zero padding after them; pass it as
    ``mask=`` to the network's losses and ``fit``.
    """

    X: np.ndarray
    Y: np.ndarray
    mask: np.ndarray
    lengths: np.ndarray
    input_names: list[str]
    output_names: list[str]
    files: list[Path]
    time_offset: int

    def __len__(self) -> int:
        return len(self.lengths)


def _float_dtype(dtype: Any) -> np.dtype:
    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise DTypeError(f"dtype: unknown dtype {dtype!r}; time series load as float32 or float64") from None
    if name not in _FLOAT_DTYPES:
        raise DTypeError(f"dtype: time series load as float32 or float64, not {name}")
    return np.dtype(name)


def _names(value: Union[None, str, Sequence[str]], arg: str) -> Optional[list[str]]:
    if value is None:
        return None
    names = [value] if isinstance(value, str) else list(value)
    if not names:
        raise ConfigError(f"{arg}: give at least one column name")
    for n in names:
        if not isinstance(n, str):
            raise ConfigError(f"{arg}: column names must be strings, got {n!r}")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"{arg}: column {dup[0]!r} is named twice")
    return names


def _paths(paths: Union[PathLike, Sequence[PathLike]]) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        out = [Path(paths)]
    else:
        try:
            out = [Path(p) for p in paths]
        except TypeError:
            raise ConfigError(f"paths: expected a file path or a list of them, got {type(paths).__name__}") from None
    if not out:
        raise ConfigError("paths: no files given")
    for p in out:
        if not p.is_file():
            raise DataFileNotFoundError(f"no such time series file: {p}")
    return out


def _read_text(path: Path) -> str:
    return decode_text(read_data(path, "time series file"), path, "utf-8-sig")


def _header_cells(path: Path, line: str, lineno: int) -> list[str]:
    """The header row's names (csv quoting rules); a malformed row, such as a
    cell past csv's field size limit, is a FormatError naming the line."""
    try:
        return [h.strip() for h in next(csv.reader(io.StringIO(line)))]
    except csv.Error as e:
        raise FormatError(f"{path}, line {lineno}: the header row is not valid CSV ({e})") from None


def _cell_problem(cell: str) -> Optional[str]:
    """Why a CSV cell is not a number, or None when it is one."""
    s = cell.strip()
    if not s:
        return "is empty"
    try:
        float(s)
    except ValueError:
        return f"holds {s!r}, not a number"
    if "_" in s:  # Python's float() takes 1_000, numpy's parser does not
        return f"holds {s!r}, not a plain number"
    return None


def read_timeseries_csv(path: PathLike, columns: Optional[Sequence[str]] = None) -> tuple[np.ndarray, list[str]]:
    """One EXAMM-style CSV file as a float64 array (rows, columns) and the
    header's column names. ``columns`` (names) picks and orders the columns
    returned; cells of other columns are not parsed.

    Raises FormatError naming the file, line (1 = the header) and column for
    a missing header, a row with the wrong number of values or a cell that is
    not a number; DataError for NaN or Inf; ConfigError for an unknown
    column name (the message lists the file's columns).
    """
    return _read_csv(Path(path), None if columns is None else list(columns), None)


def _read_csv(
    p: Path, columns: Optional[list[str]], roles: Optional[dict[str, str]]
) -> tuple[np.ndarray, list[str]]:
    """read_timeseries_csv; ``roles`` maps column names to the argument that
    asked for them, for the message about an unknown one."""
    if not p.is_file():
        raise DataFileNotFoundError(f"no such time series file: {p}")
    lines = _read_text(p).splitlines()
    header_at = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_at is None:
        raise FormatError(f"{p}: empty file, expected a header row of column names")
    header = _header_cells(p, lines[header_at], header_at + 1)
    for j, h in enumerate(header):
        if not h:
            raise FormatError(f"{p}, line {header_at + 1}: column {j + 1} of the header has no name")
        try:
            float(h)
        except ValueError:
            pass
        else:
            raise FormatError(
                f"{p}, line {header_at + 1}: the first row holds numbers ({h!r} in column {j + 1}); "
                "EXAMM-style files start with a header row of column names"
            )
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise FormatError(f"{p}, line {header_at + 1}: column {dup[0]!r} appears twice in the header")
    if columns is None:
        wanted = list(range(len(header)))
    else:
        unknown = [c for c in columns if c not in header]
        if unknown:
            arg = f"{roles[unknown[0]]}: " if roles and unknown[0] in roles else ""
            raise ConfigError(f"{arg}{p} has no column named {unknown[0]!r}; its columns are {header}")
        wanted = [header.index(c) for c in columns]

    numbers = [i for i in range(header_at + 1, len(lines)) if lines[i].strip()]
    if not numbers:
        raise FormatError(f"{p}: no data rows after the header")
    rows = [lines[i] for i in numbers]
    width = len(header)
    commas = np.fromiter((r.count(",") for r in rows), dtype=np.int64, count=len(rows))
    bad = np.flatnonzero(commas != width - 1)
    if bad.size:
        k = int(bad[0])
        raise FormatError(
            f"{p}, line {numbers[k] + 1}: {commas[k] + 1} values, but the header names {width} columns"
        )
    use = sorted(set(wanted))
    try:
        table = np.loadtxt(rows, delimiter=",", comments=None, usecols=use, dtype=np.float64, ndmin=2)
    except ValueError:
        table = None
    if table is None or table.shape != (len(rows), len(use)):
        # Find the first offending cell to name it.
        for k, r in enumerate(rows):
            cells = r.split(",")
            for j in use:
                problem = _cell_problem(cells[j])
                if problem is not None:
                    raise FormatError(f"{p}, line {numbers[k] + 1}, column {j + 1} ({header[j]!r}) {problem}")
        raise FormatError(f"{p}: could not read the values as numbers")
    out = table[:, [use.index(j) for j in wanted]]
    finite = np.isfinite(out)
    if not finite.all():
        k, c = (int(v) for v in np.argwhere(~finite)[0])
        j = wanted[c]
        raise DataError(
            f"{p}, line {numbers[k] + 1}, column {j + 1} ({header[j]!r}) is {out[k, c]}; "
            "nervenet rejects NaN and Inf in data"
        )
    return out, [header[j] for j in wanted]


def load_timeseries(
    paths: Union[PathLike, Sequence[PathLike]],
    *,
    inputs: Union[None, str, Sequence[str]] = None,
    outputs: Union[str, Sequence[str]],
    time_offset: int = 1,
    dtype: Any = "float32",
) -> TimeSeriesData:
    """EXAMM-style CSV files as padded (file, time, feature) sequences.

    ``inputs``: the input column names (default: every column of the first
    file, in its order; the outputs stay among the inputs, as in EXAMM's
    coal runs). ``outputs``: the output column name(s). Columns are matched
    by name in each file, so files may order them differently.

    A file of ``n`` rows becomes a sequence of ``n - time_offset`` steps:
    inputs from rows ``0 .. n-1-time_offset``, outputs from rows
    ``time_offset .. n-1`` (``time_offset=1`` predicts one step ahead, EXAMM's
    ``--time_offset 1``; 0 pairs each row with itself). Shorter files are
    zero-padded at the end; ``mask`` marks the real steps.

    Raises ConfigError for unknown column names (listing the file's columns)
    and bad arguments, FormatError naming the file, line and column for a
    malformed file or a non-numeric cell, DataError for NaN/Inf values or a
    file with no more than ``time_offset`` rows, DTypeError for a dtype
    other than float32/float64, DataFileNotFoundError (a FileNotFoundError) for a missing file.
    """
    files = _paths(paths)
    out_names = _names(outputs, "outputs")
    assert out_names is not None
    in_names = _names(inputs, "inputs")
    offset = integer(time_offset, "time_offset")
    dt = _float_dtype(dtype)

    if in_names is None:
        in_names = _header(files[0])
    columns = list(dict.fromkeys(in_names + out_names))
    roles = {**{n: "inputs" for n in in_names}, **{n: "outputs" for n in out_names}}
    col_in = [columns.index(n) for n in in_names]
    col_out = [columns.index(n) for n in out_names]

    seqs: list[tuple[np.ndarray, np.ndarray]] = []
    for f in files:
        table, _ = _read_csv(f, columns, roles)
        n = len(table)
        if n <= offset:
            raise DataError(f"{f}: {n} data rows leave no step to predict with time_offset={offset}")
        seqs.append((table[: n - offset, col_in], table[offset:, col_out]))

    lengths = np.array([len(x) for x, _ in seqs], dtype=np.int64)
    t_max = int(lengths.max())
    X = np.zeros((len(files), t_max, len(in_names)), dtype=dt)
    Y = np.zeros((len(files), t_max, len(out_names)), dtype=dt)
    mask = np.zeros((len(files), t_max), dtype=dt)
    for i, (x, y) in enumerate(seqs):
        X[i, : len(x)] = x
        Y[i, : len(y)] = y
        mask[i, : len(x)] = 1
    return TimeSeriesData(X, Y, mask, lengths, list(in_names), list(out_names), files, offset)


def _header(path: Path) -> list[str]:
    """The column names of a file's header row."""
    for lineno, line in enumerate(_read_text(path).splitlines(), 1):
        if line.strip():
            return _header_cells(path, line, lineno)
    raise FormatError(f"{path}: empty file, expected a header row of column names")
