"""Small dataset readers and the preprocessing the CLI applies.

Readers (numpy arrays, nothing cached, nothing downloaded):

- :func:`load_digits`: scikit-learn's 8x8 digits (ships with scikit-learn,
  so the CLI's built-in example runs on a fresh machine).
- :func:`load_iris`, :func:`load_mushroom` (one-hot encoded), :func:`load_mnist`
  (the IDX ``.gz`` files): the real data in ``../shared/data`` (or ``$NERVENET_DATA``).
- :func:`read_table`: a CSV (optionally gzipped) or NPZ file, for a config's ``[data]``.

:class:`Preprocessor` turns raw columns into network inputs: numeric columns
are normalised with statistics of the training rows, text columns are one-hot
encoded, class labels become integers 0..k-1. It round-trips through JSON so
``nervenet evaluate`` applies exactly what training applied.
"""

from __future__ import annotations

import csv
import gzip
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np

from .errors import DataError, FormatError

__all__ = [
    "Dataset",
    "Preprocessor",
    "data_root",
    "load_digits",
    "load_iris",
    "load_mnist",
    "load_mushroom",
    "one_hot",
    "read_idx",
    "read_table",
    "split_indices",
]

PathLike = Union[str, "os.PathLike[str]"]


@dataclass
class Dataset:
    """Features ``X`` (samples, features), targets ``y`` and, for class
    targets, the class names in label order."""

    X: np.ndarray
    y: np.ndarray
    classes: Optional[list[str]] = None
    feature_names: Optional[list[str]] = None


def data_root() -> Path:
    """``$NERVENET_DATA`` if set, else ``../shared/data`` from the working directory."""
    env = os.environ.get("NERVENET_DATA")
    return Path(env) if env else Path.cwd().parent / "shared" / "data"


def _file(path: Optional[PathLike], default: str) -> Path:
    p = Path(path) if path is not None else data_root() / default
    if not p.is_file():
        raise FileNotFoundError(f"no such data file: {p} (set NERVENET_DATA to the folder holding {default})")
    return p


def load_digits() -> Dataset:
    """scikit-learn's digits: 1797 images of 8x8 pixels valued 0..16, labels 0..9."""
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    return Dataset(np.asarray(d.data, dtype=np.float64), np.asarray(d.target, dtype=np.int64), [str(c) for c in range(10)])


def load_iris(path: Optional[PathLike] = None) -> Dataset:
    """UCI iris (``uci/iris/iris.data``): 4 measurements in cm, 3 classes (sorted names)."""
    from .data import uci  # the checked reader; imported here to avoid an import cycle

    table = uci.load_iris(_file(path, "uci/iris/iris.data"))
    return Dataset(table.X, table.y, list(table.classes), list(table.feature_names))


def load_mushroom(path: Optional[PathLike] = None) -> Dataset:
    """UCI mushroom (``uci/mushroom/agaricus-lepiota.data``), the 22 nominal
    attributes one-hot encoded (a missing ``?`` is a category of its own);
    labels 0 = edible (``e``), 1 = poisonous (``p``)."""
    text = _file(path, "uci/mushroom/agaricus-lepiota.data").read_text()
    rows = np.array([r.split(",") for r in text.splitlines() if r.strip()])
    if rows.ndim != 2 or rows.shape[1] != 23:
        raise FormatError(f"mushroom rows must have 23 comma-separated values, got shape {rows.shape}")
    classes = ["e", "p"]
    y = np.array([classes.index(v) for v in rows[:, 0]], dtype=np.int64)
    X, categories = one_hot(rows[:, 1:])
    names = [f"a{j + 1}={c}" for j, cats in enumerate(categories) for c in cats]
    return Dataset(X, y, classes, names)


def one_hot(columns: np.ndarray, categories: Optional[Sequence[Sequence[str]]] = None) -> tuple[np.ndarray, list[list[str]]]:
    """One-hot encodes every column of a 2-D string array. Categories are the
    sorted values seen in each column unless given; unseen values encode as all zeros."""
    columns = np.asarray(columns).astype(str)
    if columns.ndim != 2:
        raise DataError(f"one_hot needs a 2-D array of values, got shape {columns.shape}")
    cats = [sorted(set(columns[:, j].tolist())) for j in range(columns.shape[1])] if categories is None else [
        list(c) for c in categories
    ]
    blocks = [(columns[:, j : j + 1] == np.array(c)[None, :]).astype(np.float64) for j, c in enumerate(cats)]
    X = np.concatenate(blocks, axis=1) if blocks else np.zeros((len(columns), 0))
    return X, cats


def read_idx(path: PathLike) -> np.ndarray:
    """An IDX file (gzipped or not; big-endian): the data with its dimensions.
    (:func:`nervenet.data.mnist.read_idx`, which checks the magic number,
    the header and the data length, raising FormatError.)"""
    from .data.mnist import read_idx as _read_idx

    return _read_idx(path)


def load_mnist(root: Optional[PathLike] = None) -> tuple[Dataset, Dataset]:
    """MNIST's official 60,000 training and 10,000 test images, flattened to
    784 values in [0, 1] (float32), from ``mnist/*.gz`` under ``root``
    (read and checked by :func:`nervenet.data.mnist.load_mnist`)."""
    from .data.mnist import load_mnist as _load_mnist

    base = Path(root) if root is not None else data_root() / "mnist"
    out = []
    for prefix in ("train", "t10k"):
        images, labels = _load_mnist(
            (_file(base / f"{prefix}-images-idx3-ubyte.gz", "mnist"), _file(base / f"{prefix}-labels-idx1-ubyte.gz", "mnist"))
        )
        X = images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)
        out.append(Dataset(X, labels.astype(np.int64), [str(c) for c in range(10)]))
    return out[0], out[1]


def read_table(
    path: PathLike, *, target: Union[int, str, Sequence[Union[int, str]]] = -1, header: bool = False, delimiter: str = ","
) -> tuple[np.ndarray, np.ndarray, Optional[list[str]]]:
    """Reads features and targets from a file.

    ``.npz``: arrays ``X`` and ``y``. CSV (``.csv``, ``.csv.gz``, any other
    text): ``target`` is the column (index or header name, or a list of them)
    holding the targets; the other columns are features. Values stay strings;
    :class:`Preprocessor` decides which columns are numeric.
    Returns (features, targets, feature names or None).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such data file: {p}")
    if p.suffix == ".npz":
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
                raise KeyError(f"no column named {t!r} in {p}" + (f"; columns: {names}" if names else " (header = false)"))
            cols.append(names.index(t))
        elif -width <= t < width:
            cols.append(t % width)
        else:
            raise KeyError(f"column {t} is out of range for {p}, which has {width} columns")
    keep = [j for j in range(width) if j not in cols]
    y = table[:, cols] if isinstance(target, (list, tuple)) else table[:, cols[0]]
    return table[:, keep], y, None if names is None else [names[j] for j in keep]


def split_indices(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded shuffle of range(n) cut into (rest, held out ``fraction``)."""
    order = np.random.default_rng(seed).permutation(n)
    held = int(round(n * fraction))
    return order[held:], order[:held]


def _numeric(col: np.ndarray) -> Optional[np.ndarray]:
    if col.dtype.kind in "fiub":
        return col.astype(np.float64)
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
class Preprocessor:
    """Columns -> network inputs, labels -> class indices, fitted on training rows.

    ``normalize``: "standard" (zero mean, unit variance), "minmax" ([0, 1]) or
    "none"; it applies to numeric columns (one-hot columns stay 0/1)."""

    normalize: str = "standard"
    classify: bool = True
    columns: list[Any] = field(default_factory=list)  # per raw column: None (numeric) or its categories
    shift: list[float] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)
    classes: Optional[list[str]] = None  # label names, or None for integer labels
    n_classes: int = 0

    def fit(self, X: np.ndarray, y: np.ndarray) -> "Preprocessor":
        X = np.asarray(X)
        self.columns = []
        for j in range(X.shape[1]):
            num = _numeric(X[:, j])
            self.columns.append(None if num is not None else sorted(set(X[:, j].astype(str).tolist())))
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
                self.classes = sorted(set(y.astype(str).tolist()))
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

    @property
    def n_features(self) -> int:
        return sum(1 if c is None else len(c) for c in self.columns)

    def features(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != len(self.columns):
            raise DataError(f"expected {len(self.columns)} feature columns, got an array of shape {X.shape}")
        numeric = (self._numeric_block(X) - np.array(self.shift)) / np.array(self.scale)
        blocks, k = [], 0
        for j, cats in enumerate(self.columns):
            if cats is None:
                blocks.append(numeric[:, k : k + 1])
                k += 1
            else:
                blocks.append(one_hot(X[:, j : j + 1], [cats])[0])
        out = np.concatenate(blocks, axis=1) if blocks else np.zeros((len(X), 0))
        if not np.all(np.isfinite(out)):
            raise DataError("the features hold NaN or infinite values")
        return out

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
        names = y.astype(str).tolist()
        for i, v in enumerate(names):
            if v not in index:
                raise DataError(f"label {v!r} at row {i} is not one of the training classes {self.classes}")
        return np.array([index[v] for v in names], dtype=np.int64)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Preprocessor":
        return cls(**d)



# ---- a config's [data] section -> arrays ---------------------------------------

Pair = tuple[np.ndarray, np.ndarray]


@dataclass
class Splits:
    """Network-ready training, validation (or None) and test arrays, and the
    preprocessing fitted on the training rows."""

    train: Pair
    validation: Optional[Pair]
    test: Pair
    preprocessor: Preprocessor


def load_builtin(name: str, root: Optional[PathLike] = None) -> Union[Dataset, tuple[Dataset, Dataset]]:
    """A dataset by name: digits (scikit-learn), iris, mushroom, mnist (files under ``root``)."""
    base = Path(root) if root is not None else None
    if name == "digits":
        return load_digits()
    if name == "iris":
        return load_iris(None if base is None else base / "uci" / "iris" / "iris.data")
    if name == "mushroom":
        return load_mushroom(None if base is None else base / "uci" / "mushroom" / "agaricus-lepiota.data")
    if name == "mnist":
        return load_mnist(None if base is None else base / "mnist")
    raise KeyError(f"no built-in dataset {name!r}; there are digits, iris, mushroom, mnist")


def raw_splits(spec: dict[str, Any]) -> dict[str, Optional[Pair]]:
    """Raw (unpreprocessed) train / validation / test rows for a config's
    ``[data]`` keys: ``dataset`` + ``root``, or ``train`` (+ ``test``) files
    read with ``target``, ``header``, ``delimiter``; the test and validation
    fractions are of all rows, cut by a shuffle seeded with ``seed``."""
    seed, vf = spec.get("seed", 0), spec.get("validation_fraction", 0.0)
    fixed_test: Optional[Pair] = None
    if spec.get("dataset") is not None:
        ds = load_builtin(spec["dataset"], spec.get("root"))
        if isinstance(ds, tuple):
            (X, y), fixed_test = (ds[0].X, ds[0].y), (ds[1].X, ds[1].y)
        else:
            X, y = ds.X, ds.y
    else:
        opts = {k: spec[k] for k in ("target", "header", "delimiter") if k in spec}
        X, y, _ = read_table(spec["train"], **opts)
        if spec.get("test") is not None:
            Xt, yt, _ = read_table(spec["test"], **opts)
            fixed_test = (Xt, yt)
    if fixed_test is None:
        tf = spec.get("test_fraction", 0.2)
        rest, held = split_indices(len(y), tf, seed)
        test: Pair = (X[held], y[held])
        X, y, vf = X[rest], y[rest], vf / (1.0 - tf)
    else:
        test = fixed_test
    train, val = split_indices(len(y), vf, seed)
    return {"train": (X[train], y[train]), "validation": (X[val], y[val]) if len(val) else None, "test": test}


def prepare(spec: dict[str, Any], classify: bool, preprocessor: Optional[Preprocessor] = None) -> Splits:
    """:func:`raw_splits`, preprocessed (fitted on the training rows unless a
    fitted ``preprocessor`` is given; ``spec["normalize"]`` chooses the scaling)."""
    raw = raw_splits(spec)
    train = raw["train"]
    assert train is not None and raw["test"] is not None
    if len(train[1]) == 0:
        raise DataError("no training rows are left after the test and validation splits")
    if preprocessor is None:
        preprocessor = Preprocessor(spec.get("normalize", "standard"), classify).fit(*train)

    def apply(pair: Optional[Pair]) -> Optional[Pair]:
        return None if pair is None else (preprocessor.features(pair[0]), preprocessor.targets(pair[1]))

    t, v, te = apply(train), apply(raw["validation"]), apply(raw["test"])
    assert t is not None and te is not None
    return Splits(t, v, te, preprocessor)
