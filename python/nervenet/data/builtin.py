"""The datasets a config names (``[data] dataset = ...``): ``digits`` ships
with scikit-learn; ``iris``, ``mushroom`` and ``mnist`` are the files under a
data root (``$NERVENET_DATA``, else ``../shared/data`` from the working
directory), read by this package's checked loaders."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

import numpy as np

from ..errors import ConfigError, DataFileNotFoundError
from .digits import load_digits
from .mnist import load_mnist
from .uci import Table, load_iris, load_mushroom

__all__ = ["BUILTIN_DATASETS", "data_root", "load_builtin"]

PathLike = Union[str, "os.PathLike[str]"]

BUILTIN_DATASETS = ("digits", "iris", "mushroom", "mnist")

# where each file-based set lies under the data root
_FILES = {"iris": "uci/iris/iris.data", "mushroom": "uci/mushroom/agaricus-lepiota.data", "mnist": "mnist"}


def data_root() -> Path:
    """``$NERVENET_DATA`` if set, else ``../shared/data`` from the working directory."""
    env = os.environ.get("NERVENET_DATA")
    return Path(env) if env else Path.cwd().parent / "shared" / "data"


def _mnist(folder: Path, kind: str) -> Table:
    """MNIST flattened to 784 values in [0, 1] (float32), as an MLP takes them."""
    images, labels = load_mnist(folder, kind=kind)
    X = images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)
    return Table(X, labels.astype(np.int64), [str(c) for c in range(10)], [f"pixel{i}" for i in range(X.shape[1])])


def load_builtin(name: str, root: Optional[PathLike] = None) -> tuple[Table, Optional[Table]]:
    """The dataset ``name`` (one of :data:`BUILTIN_DATASETS`) as (rows, test
    rows): the test rows are MNIST's official test set, None for the others.
    Files are read under ``root`` (default :func:`data_root`); mushroom is
    one-hot encoded over its ``.names`` lists (126 inputs)."""
    if name not in BUILTIN_DATASETS:
        raise ConfigError(f"no built-in dataset {name!r}; there are {', '.join(BUILTIN_DATASETS)}")
    if name == "digits":
        return load_digits(), None
    path = (Path(root) if root is not None else data_root()) / _FILES[name]
    if not path.exists():
        raise DataFileNotFoundError(f"no such data file: {path} (set NERVENET_DATA to the folder holding {_FILES[name]})")
    if name == "mnist":
        return _mnist(path, "train"), _mnist(path, "test")
    return (load_iris(path) if name == "iris" else load_mushroom(path)), None
