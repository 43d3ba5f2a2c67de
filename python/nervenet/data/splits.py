"""Training, validation and test splits (lecture 4 of the notes).

Train on the training set, watch the validation set while training and
tuning hyperparameters, and look at the test set only once, at the end.
With imbalanced classes a purely random split can leave a rare class out of
the validation or test set entirely, so the split is stratified by class by
default: every class keeps (as nearly as whole samples allow) its share of
the data in each set.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Optional, Union

import numpy as np

from .._checks import real, seed as seed_of
from ..errors import ConfigError, DataError, DTypeError, ShapeError
from .._budget import read

__all__ = ["Split", "train_validation_test_split", "train_validation_test_indices"]


class Split(NamedTuple):
    """Three ``(X, y)`` pairs: ``train``, ``validation`` and ``test``.

    Unpack it (``train, val, test = split``) or pass the pairs on:
    ``net.fit(*split.train, validation=split.validation)``.
    """

    train: tuple[Any, Any]
    validation: tuple[Any, Any]
    test: tuple[Any, Any]


def _labels(y: Any, stratify: Union[bool, Any], n: int) -> Optional[np.ndarray]:
    """The labels to stratify by, or None."""
    if stratify is False or stratify is None:
        return None
    if stratify is True:
        labels, what = read(y, "y"), "y"
    else:
        labels, what = read(stratify, "stratify"), "stratify"
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ShapeError(
            f"stratifying needs one class label per sample, a 1-D array of length {n}, but {what} has shape "
            f"{tuple(labels.shape)}; pass stratify=labels (e.g. Y.argmax(axis=1) for one-hot targets) or stratify=False"
        )
    if labels.dtype.kind == "f":
        if not np.isfinite(labels).all() or not np.array_equal(labels, np.round(labels)):
            raise ConfigError(
                f"stratify=True splits by class, but {what} holds non-integer floats (regression targets?); "
                f"pass stratify=False, or stratify=labels with class labels"
            )
    return labels


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _classes(labels: np.ndarray, **kwargs: Any) -> Any:
    """``np.unique(labels)``; DTypeError for labels that do not compare (a dict among strings)."""
    try:
        return np.unique(labels, **kwargs)
    except TypeError as e:
        raise DTypeError(f"the class labels cannot be sorted into classes ({e}); pass labels of one type") from None


def _check_rare(labels: np.ndarray, needed: int, where: str) -> None:
    classes, counts = _classes(labels, return_counts=True)
    rare = counts < needed
    if rare.any():
        shown = ", ".join(f"class {_plain(c)!r} has {int(k)}" for c, k in zip(classes[rare][:10], counts[rare][:10]))
        more = f" (and {int(rare.sum()) - 10} more)" if rare.sum() > 10 else ""
        raise DataError(
            f"cannot stratify the split {where}: {shown}{more} sample(s), fewer than the {needed} needed; "
            f"collect more samples of that class, merge or drop it, or pass stratify=False"
        )


def _cut(index: np.ndarray, size: int, labels: Optional[np.ndarray], seed: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(rest, taken): ``size`` of ``index`` taken out, stratified by ``labels[index]``."""
    if size == 0:
        return index, index[:0]
    strat = None if labels is None else labels[index]
    if strat is not None:
        _check_rare(strat, 2, f"off the {what} set")
        n_classes = len(_classes(strat))
        if size < n_classes or index.shape[0] - size < n_classes:
            small = min(size, index.shape[0] - size)
            raise DataError(
                f"cannot stratify the {what} split: one side would hold {small} sample(s), fewer than the "
                f"{n_classes} classes; use a larger fraction, more data, or stratify=False"
            )
    from sklearn.model_selection import train_test_split  # imported on first use: nervenet imports fast

    rest, taken = train_test_split(index, test_size=size, stratify=strat, random_state=seed, shuffle=True)
    return np.asarray(rest), np.asarray(taken)


def train_validation_test_indices(
    y: Any,
    *,
    validation: float = 0.1,
    test: float = 0.2,
    stratify: Union[bool, Any] = True,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sample indices of the three sets (each sorted), for splitting
    several aligned arrays alike; see :func:`train_validation_test_split`."""
    ya = read(y, "y")
    if ya.ndim == 0:
        raise ShapeError(f"y must hold one entry per sample, got a scalar ({ya.dtype})")
    n = int(ya.shape[0])
    validation = real(validation, "validation (a fraction of the samples)", 0, 1, open_high=True)
    test = real(test, "test (a fraction of the samples)", 0, 1, open_high=True)
    if validation + test >= 1:
        raise ConfigError(f"validation + test must leave some training data, got {validation} + {test} >= 1")
    # scikit-learn takes 32-bit seeds: one for each cut, drawn from the u64 seed
    test_state, validation_state = (int(s) for s in np.random.SeedSequence(seed_of(seed)).generate_state(2))
    n_test = math.floor(test * n + 0.5)
    n_val = math.floor(validation * n + 0.5)
    if n - n_test - n_val < 1:
        raise DataError(f"{n} samples leave none for training with validation={validation} and test={test}")
    labels = _labels(ya, stratify, n)
    if labels is not None:
        needed = 1 + (n_test > 0) + (n_val > 0)
        if needed > 1:
            _check_rare(labels, needed, "into training, validation and test sets" if needed == 3 else "in two")
    index = np.arange(n)
    rest, test_idx = _cut(index, n_test, labels, test_state, "test")
    train_idx, val_idx = _cut(rest, n_val, labels, validation_state, "validation")
    return np.sort(train_idx), np.sort(val_idx), np.sort(test_idx)


def train_validation_test_split(
    X: Any,
    y: Any,
    *,
    validation: float = 0.1,
    test: float = 0.2,
    stratify: Union[bool, Any] = True,
    seed: int = 0,
) -> Split:
    """Splits ``X`` and ``y`` (aligned on their first axis) into training,
    validation and test sets; returns a :class:`Split` of ``(X, y)`` pairs.

    ``validation`` and ``test`` are fractions of all samples (either may be
    0 for an empty set; the rest trains). With ``stratify=True`` the
    split is stratified by the class labels ``y`` (via
    :func:`sklearn.model_selection.train_test_split`), so each class keeps
    its ratio in every set -- what the notes ask for when classes are
    imbalanced; pass ``stratify=labels`` to stratify by other labels (one
    per sample), or ``stratify=False`` for a plain random split (e.g.
    regression targets). A class with too few samples to appear in every
    set raises DataError naming it. The same seed gives the same split;
    each set keeps the samples' original order.
    """
    Xa, ya = read(X, "X"), read(y, "y")
    if Xa.ndim == 0 or ya.ndim == 0 or Xa.shape[0] != ya.shape[0]:
        raise ShapeError(
            f"X and y must have the same number of samples (first axis), got shapes {tuple(Xa.shape)} and {tuple(ya.shape)}"
        )
    tr, va, te = train_validation_test_indices(ya, validation=validation, test=test, stratify=stratify, seed=seed)
    return Split((Xa[tr], ya[tr]), (Xa[va], ya[va]), (Xa[te], ya[te]))
