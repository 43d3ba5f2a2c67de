"""Search tasks from EXAMM-style time-series CSV files.

:func:`timeseries_task` builds a :class:`~nervenet.evolution.Task` from
three lists of files (training, validation, test): training series are cut
into sequences of ``chunk`` steps (state starts at zero in each, as EXAMM's
training sequences do), validation and test series stay whole (state
carried through each file, as EXAMM evaluates). :func:`coal_task` is
EXAMM's coal-plant benchmark.

>>> import nervenet as nv
>>> task = nv.evolution.coal_task(chunk=500)          # doctest: +SKIP
>>> task.X.shape, task.X_val.shape, task.X_test.shape  # doctest: +SKIP
((224, 500, 12), (2, 14400, 12), (2, 14400, 12))
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from ..data.builtin import data_root
from ..data.sequences import chunk_series
from ..data.timeseries import load_timeseries
from ..errors import ConfigError
from .fitness import Task

PathLike = Union[str, "os.PathLike[str]"]

COAL_TARGET = "Main_Flm_Int"


def _min_max(data: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column minimum and range over the real (unmasked) steps."""
    rows = data[mask.astype(bool)]
    lo, hi = rows.min(axis=0), rows.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)  # a constant column maps to 0
    return lo, span


def timeseries_task(
    train: Sequence[PathLike],
    validation: Sequence[PathLike],
    test: Sequence[PathLike] = (),
    *,
    outputs: Union[str, Sequence[str]],
    inputs: Union[None, str, Sequence[str]] = None,
    time_offset: int = 1,
    chunk: Optional[int] = None,
    normalize: bool = False,
    name: str = "timeseries",
) -> Task:
    """A task from CSV files (``load_timeseries``'s format: a header, one
    row per step). ``normalize=True`` min-max scales every column with the
    training files' minimum and maximum (EXAMM's ``--normalize min_max``),
    for data in raw units. Masks mark the real steps of files of different
    lengths, so padding never counts in a loss."""
    if not train or not validation:
        raise ConfigError("a task needs at least one training file and one validation file")
    splits = [load_timeseries(list(files), inputs=inputs, outputs=outputs, time_offset=time_offset, dtype="float64")
              if files else None for files in (train, validation, test)]
    tr, va, te = splits
    assert tr is not None and va is not None
    if normalize:
        (xlo, xspan), (ylo, yspan) = _min_max(tr.X, tr.mask), _min_max(tr.Y, tr.mask)
        for s in splits:
            if s is not None:
                s.X = (s.X - xlo) / xspan * s.mask[..., None]
                s.Y = (s.Y - ylo) / yspan * s.mask[..., None]
    X, Y, M = tr.X, tr.Y, tr.mask
    if chunk is not None:
        X, _ = chunk_series(tr.X, chunk, lengths=tr.lengths)
        Y, _ = chunk_series(tr.Y, chunk, lengths=tr.lengths)
        M = np.ones(X.shape[:2])
    if len(X) == 0:
        raise ConfigError(f"chunk={chunk} is longer than every training series: no training sequence")

    def mask(m: np.ndarray) -> Optional[np.ndarray]:
        return None if m.all() else m

    return Task(
        X, Y, va.X, va.Y, None if te is None else te.X, None if te is None else te.Y,
        mask=mask(M), mask_val=mask(va.mask), mask_test=None if te is None else mask(te.mask),
        name=name, input_names=tuple(tr.input_names), output_names=tuple(tr.output_names),
    )


def coal_task(
    root: Optional[PathLike] = None,
    *,
    train: Sequence[int] = range(8),
    validation: Sequence[int] = (8, 9),
    test: Sequence[int] = (10, 11),
    chunk: Optional[int] = 500,
) -> Task:
    """EXAMM's coal-plant benchmark: the 12 columns of ``2018_coal``'s
    burners predict ``Main_Flm_Int`` one step ahead; burners 0-7 train (cut
    into ``chunk``-step sequences), 8-9 validate (fitness), 10-11 test.
    ``root``: the folder of ``burner_*.csv`` (default: the data root's
    ``timeseries/2018_coal``; the data are already min-max normalised)."""
    folder = Path(root) if root is not None else data_root() / "timeseries" / "2018_coal"

    def files(ids: Sequence[int]) -> list[Path]:
        return [folder / f"burner_{i}.csv" for i in ids]

    return timeseries_task(files(train), files(validation), files(test), outputs=COAL_TARGET, chunk=chunk,
                           name="coal")
