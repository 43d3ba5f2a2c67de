"""Raw table columns -> network inputs, fitted on the training rows and
stored as JSON, so ``nervenet evaluate`` applies exactly what training did.

Numeric columns are normalised with statistics of the training rows, text
columns are one-hot encoded (:class:`~nervenet.data.OneHotEncoder`), class
labels become integers 0..k-1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from ..errors import DataError

if TYPE_CHECKING:
    from .preprocessing import OneHotEncoder

__all__ = ["ColumnPreprocessor"]


def _numeric(col: np.ndarray) -> Optional[np.ndarray]:
    """The column as float64, or None if a value is not a number."""
    try:
        return col.astype(np.float64)
    except ValueError:
        return None


def _labels(y: np.ndarray) -> np.ndarray:
    """Class labels as a 1-D array (a single target column may come as (n, 1))."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        return y[:, 0]
    if y.ndim != 1:
        raise DataError(f"class labels must be one column, got an array of shape {y.shape}")
    return y


@dataclass
class ColumnPreprocessor:
    """Columns -> network inputs, labels -> class indices, fitted on training rows.

    ``normalize``: "standard" (zero mean, unit variance), "minmax" ([0, 1]) or
    "none"; it applies to numeric columns (one-hot columns stay 0/1). A text
    value that training did not see is a DataError naming its column and row."""

    normalize: str = "standard"
    classify: bool = True
    columns: list[Any] = field(default_factory=list)  # per raw column: None (numeric) or its categories
    shift: list[float] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)
    classes: Optional[list[str]] = None  # label names, or None for integer labels
    n_classes: int = 0

    def fit(self, X: np.ndarray, y: np.ndarray) -> "ColumnPreprocessor":
        X = np.asarray(X)
        self.columns = []
        for j in range(X.shape[1]):
            num = _numeric(X[:, j])
            self.columns.append(None if num is not None else sorted(set(map(str, X[:, j].tolist()))))
        numeric = self._numeric_block(X)
        if self.normalize == "standard" and len(numeric):
            shift, scale = numeric.mean(0), numeric.std(0)
        elif self.normalize == "minmax" and len(numeric):
            shift, scale = numeric.min(0), numeric.max(0) - numeric.min(0)
        else:
            shift, scale = np.zeros(numeric.shape[1]), np.ones(numeric.shape[1])
        scale = np.where(scale > 0, scale, 1.0)
        self.shift, self.scale = shift.tolist(), scale.tolist()
        if self.classify:
            y = _labels(y)
            num = _numeric(y)
            if num is not None and np.all(num == np.round(num)) and np.all(num >= 0):
                self.classes, self.n_classes = None, int(num.max()) + 1 if len(num) else 0
            else:
                self.classes = sorted(set(map(str, y.tolist())))
                self.n_classes = len(self.classes)
        return self

    def _numeric_block(self, X: np.ndarray) -> np.ndarray:
        cols = [j for j, c in enumerate(self.columns) if c is None]
        out = np.empty((len(X), len(cols)))
        for k, j in enumerate(cols):
            num = _numeric(X[:, j])
            if num is None:
                raise DataError(f"feature column {j} holds values that are not numbers (it was numeric in training)")
            out[:, k] = num
        return out

    def _encoder(self) -> "OneHotEncoder":
        """The one-hot encoder of the text columns, built from the stored
        categories (so a preprocessor read back from JSON encodes alike)."""
        from .preprocessing import OneHotEncoder  # scikit-learn, imported on first use

        text = [j for j, c in enumerate(self.columns) if c is not None]
        template = np.array([[0.0 if c is None else c[0] for c in self.columns]], dtype=object)
        return OneHotEncoder([self.columns[j] for j in text], columns=text).fit(template)

    @property
    def n_features(self) -> int:
        return sum(1 if c is None else len(c) for c in self.columns)

    def features(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != len(self.columns):
            raise DataError(f"expected {len(self.columns)} feature columns, got an array of shape {X.shape}")
        out = (self._numeric_block(X) - np.array(self.shift)) / np.array(self.scale)
        if any(c is not None for c in self.columns):
            table = X.astype(object)
            table[:, [j for j, c in enumerate(self.columns) if c is None]] = out
            out = self._encoder().transform(table)
        if not np.all(np.isfinite(out)):
            raise DataError("the features hold NaN or infinite values")
        return out

    def transform(self, X: np.ndarray) -> np.ndarray:
        """The network inputs of raw rows X (same as :meth:`features`), so a
        ColumnPreprocessor can be a model's ``preprocessing``."""
        return self.features(X)

    def targets(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y)
        if not self.classify:
            num = _numeric(y)
            if num is None:
                raise DataError("the targets hold values that are not numbers (a value loss needs numeric targets)")
            return num.reshape(len(num), -1)
        y = _labels(y)
        if self.classes is None:
            num = _numeric(y)
            if num is None or not np.all(num == np.round(num)):
                raise DataError("class labels must be integers here (training saw integer labels)")
            labels = num.astype(np.int64)
            bad = np.flatnonzero((labels < 0) | (labels >= self.n_classes))
            if len(bad):
                raise DataError(f"label {labels[bad[0]]} at row {bad[0]} is not one of the {self.n_classes} classes")
            return labels
        index = {c: i for i, c in enumerate(self.classes)}
        names = [str(v) for v in y.tolist()]
        for i, v in enumerate(names):
            if v not in index:
                raise DataError(f"label {v!r} at row {i} is not one of the training classes {self.classes}")
        return np.array([index[v] for v in names], dtype=np.int64)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ColumnPreprocessor":
        return cls(**d)
