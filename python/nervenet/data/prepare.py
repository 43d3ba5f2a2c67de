"""A config's ``[data]`` section -> network-ready training, validation and
test arrays: a built-in dataset or the user's files, split by
:func:`~nervenet.data.train_validation_test_indices` (stratified by class
for a class loss), preprocessed by a :class:`~nervenet.data.ColumnPreprocessor`
fitted on the training rows only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from ..errors import FormatError
from .builtin import load_builtin
from .columns import ColumnPreprocessor
from .splits import train_validation_test_indices
from .tables import read_table

__all__ = ["Prepared", "prepare", "raw_splits"]

Pair = tuple[np.ndarray, np.ndarray]


@dataclass
class Prepared:
    """Network-ready training, validation (or None) and test arrays, the
    preprocessing fitted on the training rows and, for class targets, the
    label of each class index (a built-in set's class names, a file's text
    labels, else the integers 0..k-1)."""

    train: Pair
    validation: Optional[Pair]
    test: Pair
    preprocessor: ColumnPreprocessor
    classes: Optional[list[Any]] = None


def _rows(spec: dict[str, Any]) -> tuple[Pair, Optional[Pair], Optional[list[str]]]:
    """All rows, the fixed test rows (mnist's test set, ``test``) or None,
    and a built-in set's class names (None for files)."""
    if spec.get("dataset") is not None:
        rows, test = load_builtin(spec["dataset"], spec.get("root"))
        return (rows.X, rows.y), None if test is None else (test.X, test.y), rows.classes
    opts = {k: spec[k] for k in ("target", "header", "delimiter") if k in spec}
    X, y, names = read_table(spec["train"], **opts)
    if spec.get("test") is None:
        return (X, y), None, None
    Xt, yt, test_names = read_table(spec["test"], **opts)
    if names is not None and test_names is not None and test_names != names:
        Xt = Xt[:, _same_columns(names, test_names, spec["train"], spec["test"])]
    return (X, y), (Xt, yt), None


def raw_splits(spec: dict[str, Any], classify: bool) -> tuple[Pair, Optional[Pair], Pair, Optional[list[str]]]:
    """The raw (unprocessed) training, validation (or None) and test rows of
    a config's ``[data]`` keys, cut as :func:`prepare` cuts them, and a
    built-in set's class names."""
    (X, y), fixed_test, names = _rows(spec)
    test_fraction = 0.0 if fixed_test is not None else spec.get("test_fraction", 0.2)
    labels = np.asarray(y).reshape(len(y)) if classify else False  # a class column may come as (n, 1)
    train, val, test = train_validation_test_indices(
        y, validation=spec.get("validation_fraction", 0.0), test=test_fraction, stratify=labels, seed=spec.get("seed", 0)
    )
    return (
        (X[train], y[train]),
        (X[val], y[val]) if len(val) else None,
        fixed_test if fixed_test is not None else (X[test], y[test]),
        names,
    )


def _same_columns(names: list[str], test_names: list[str], train: Any, test: Any) -> list[int]:
    """Where each training column is in the test file (columns are matched by
    their header names); a training column the test file lacks is a FormatError."""
    missing = [n for n in names if n not in test_names]
    if missing:
        raise FormatError(
            f"{test}: the header has no column {missing[0]!r}, which the training file {train} has "
            f"(the test file's columns: {test_names})"
        )
    return [test_names.index(n) for n in names]


def prepare(spec: dict[str, Any], classify: bool, preprocessor: Optional[ColumnPreprocessor] = None) -> Prepared:
    """The arrays for a config's ``[data]`` keys: ``dataset`` + ``root``, or
    ``train`` (+ ``test``) files read with ``target``, ``header``,
    ``delimiter``; ``test_fraction`` and ``validation_fraction`` are of all
    rows, cut with ``seed``. The preprocessing is fitted on the training rows
    (``normalize`` chooses the scaling) unless a fitted ``preprocessor`` is given."""
    train, val, test, names = raw_splits(spec, classify)
    if preprocessor is None:
        preprocessor = ColumnPreprocessor(spec.get("normalize", "standard"), classify).fit(*train)

    def apply(rows: np.ndarray, targets: np.ndarray) -> Pair:
        return preprocessor.features(rows), preprocessor.targets(targets)

    classes: Optional[list[Any]] = None
    if classify:
        classes = preprocessor.classes or list(range(preprocessor.n_classes))
        # a built-in set's names, unless they are just the indices ("0".."9" of digits)
        if names is not None and len(names) == preprocessor.n_classes and names != [str(c) for c in classes]:
            classes = list(names)
    return Prepared(apply(*train), None if val is None else apply(*val), apply(*test), preprocessor, classes)
