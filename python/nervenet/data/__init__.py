"""Data: loaders for the real formats, preprocessing fitted on training data
only, splits, class imbalance and sequences (lecture 4 of the notes).

Loaders read files in place and raise ``nv.FormatError`` naming the file and
position when a file is truncated, corrupt or inconsistent.
"""

from typing import Any

# -- loaders: images and tables (mnist, cifar, uci, digits, the user's CSV/NPZ files) --
from ..errors import DataFileNotFoundError
from .mnist import load_mnist, read_idx
from .cifar import CIFAR10_CLASSES, load_cifar10, read_cifar10_label_names
from .uci import MUSHROOM_INPUTS, Table, UCINames, load_iris, load_mushroom, load_uci, read_names
from .digits import load_digits
from .tables import read_table
from .builtin import BUILTIN_DATASETS, data_root, load_builtin
# -- loaders: time series, text, sequences --
from .timeseries import TimeSeriesData, load_timeseries, read_timeseries_csv
from .text import TextData, Vocabulary, load_ptb, load_text
from .sequences import chunk_series, lagged_windows, next_step_targets, one_hot_ids, pad_sequences
# -- splits, sampling --
from .images import pad_images
from .splits import Split, train_validation_test_indices, train_validation_test_split
from .sampling import DownSampler, UpSampler
# -- a config's [data] section -> network-ready arrays --
from .columns import ColumnPreprocessor
from .prepare import Prepared, prepare

# -- preprocessing: built on scikit-learn, whose import costs most of a
# second, so imported on first use (as is NotFittedError, which derives
# from scikit-learn's)
_PREPROCESSING = (
    "Chain", "MeanSubtraction", "MinMaxScale", "OneHotEncoder", "PCA", "Standardize", "Whitening", "chain",
)


def __getattr__(name: str) -> Any:
    if name == "NotFittedError":
        from .. import errors

        return errors.NotFittedError
    if name in _PREPROCESSING:
        from . import preprocessing

        return getattr(preprocessing, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"NotFittedError", *_PREPROCESSING})


__all__ = [
    "BUILTIN_DATASETS", "ColumnPreprocessor", "Prepared", "data_root", "load_builtin", "load_digits", "prepare",
    "read_table",
    "CIFAR10_CLASSES", "Chain", "DataFileNotFoundError", "DownSampler", "MUSHROOM_INPUTS", "MeanSubtraction",
    "MinMaxScale", "NotFittedError", "OneHotEncoder", "PCA", "Split", "Standardize", "Table", "TextData",
    "TimeSeriesData", "UCINames", "UpSampler", "Vocabulary", "Whitening", "chain", "chunk_series", "lagged_windows",
    "load_cifar10", "load_iris", "load_mnist", "load_mushroom", "load_ptb", "load_text", "load_timeseries",
    "load_uci", "next_step_targets", "one_hot_ids", "pad_images", "pad_sequences", "read_cifar10_label_names",
    "read_idx",
    "read_names", "read_timeseries_csv", "train_validation_test_indices", "train_validation_test_split",
]
