"""Class imbalance: per-epoch up-sampling and down-sampling (lecture 4 of
the notes).

With 10000 samples of class 1 and 100 of class 2, a network that always
answers class 1 is 99% accurate and has learnt nothing. The notes give two
remedies, both implemented here as samplers that choose each epoch's
sample indices (pass one to ``Network.fit(..., sampler=...)``):

* :class:`UpSampler` -- every class is repeated up to the size of the
  largest: each epoch holds the whole data set plus enough extra copies of
  the minority samples to balance it (100 copies of class 2 "shuffled in
  with everything else").
* :class:`DownSampler` -- smaller epochs: all of the smallest class and an
  equally sized subset of each larger class. The subsets walk through the
  larger class in a shuffled order, reshuffling only after every sample
  has been used once ("shuffle class 1 every pass through all of class 1,
  not after every pass through 100").

Both are deterministic: ``indices(epoch)`` depends only on the labels, the
seed and the epoch number (so a resumed run sees the same epochs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import integer, seed as seed_of
from ..errors import ConfigError, ShapeError

__all__ = ["UpSampler", "DownSampler"]

_PASS, _SHUFFLE = 1, 2  # stream tags for the seeded generators


class _ClassSampler:
    """Each epoch draws ``per_class`` samples of every class: as many whole
    copies of the class as fit, then the remainder from an endless stream
    that walks the class in a reshuffled order, pass after pass."""

    def __init__(self, y: Any, *, seed: int = 0) -> None:
        labels = np.asarray(y)
        if labels.ndim != 1:
            raise ShapeError(
                f"{type(self).__name__} needs one class label per sample, a 1-D array, got shape {tuple(labels.shape)} "
                f"(for one-hot targets pass Y.argmax(axis=1))"
            )
        if labels.shape[0] == 0:
            raise ShapeError(f"{type(self).__name__} needs at least one sample")
        if labels.dtype.kind == "f" and not (np.isfinite(labels).all() and np.array_equal(labels, np.round(labels))):
            raise ConfigError(f"{type(self).__name__} balances classes, but y holds non-integer floats")
        self.seed = seed_of(seed)
        self.classes_, inverse, self.counts_ = np.unique(labels, return_inverse=True, return_counts=True)
        order = np.argsort(inverse, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(self.counts_)])
        self._members = [order[bounds[k] : bounds[k + 1]].astype(np.int64) for k in range(len(self.classes_))]
        self.n_samples = int(labels.shape[0])
        self.per_class = int(self._per_class())

    def _per_class(self) -> int:
        raise NotImplementedError

    def __len__(self) -> int:
        """Samples per epoch: ``per_class`` times the number of classes."""
        return self.per_class * len(self.classes_)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(classes={len(self.classes_)}, per_class={self.per_class}, "
            f"epoch_size={len(self)}, seed={self.seed})"
        )

    def _rng(self, *words: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, *words])

    def _stream(self, k: int, start: int, size: int) -> np.ndarray:
        """Positions [start, start + size) of class k's stream: pass p is a
        fresh permutation of the class, so every run of ``count`` positions
        from a multiple of ``count`` holds each sample exactly once."""
        members = self._members[k]
        count = members.shape[0]
        pos = np.arange(start, start + size, dtype=np.int64)
        passes, offsets = np.divmod(pos, count)
        out = np.empty(size, dtype=np.int64)
        for p in np.unique(passes):  # at most two passes per epoch
            sel = passes == p
            out[sel] = members[self._rng(_PASS, k, int(p)).permutation(count)[offsets[sel]]]
        return out

    def indices(self, epoch: int) -> np.ndarray:
        """This epoch's sample indices (int64, shuffled, ``len(self)`` of them)."""
        epoch = integer(epoch, "epoch")
        parts = []
        for k, members in enumerate(self._members):
            copies, extra = divmod(self.per_class, members.shape[0])
            if copies:
                parts.append(np.tile(members, copies))
            if extra:
                parts.append(self._stream(k, int(epoch) * extra, extra))
        out = np.concatenate(parts)
        return out[self._rng(_SHUFFLE, int(epoch)).permutation(out.shape[0])]


class UpSampler(_ClassSampler):
    """Up-sampling: every epoch holds ``per_class`` = the largest class's
    count of each class, so all classes are equally frequent.

    The largest class appears once, in full. A smaller class of c samples
    appears ``per_class // c`` times in full, and the remaining
    ``per_class % c`` copies come from a shuffled walk through the class
    that continues from epoch to epoch -- so over the epochs every minority
    sample is repeated equally often. ``indices(epoch)`` is shuffled and
    deterministic for the labels, ``seed`` and ``epoch``.

    ``y``: one class label per sample (integers or strings).
    """

    def _per_class(self) -> int:
        return int(self.counts_.max())


class DownSampler(_ClassSampler):
    """Down-sampling: smaller epochs of ``per_class`` = the smallest class's
    count of each class.

    The smallest class appears in full every epoch; every larger class
    contributes a subset of that size, taken by walking through the class
    in a shuffled order: successive epochs take successive slices, and the
    class is reshuffled only once every one of its samples has been used,
    so each full pass covers every sample exactly once (a pass that does
    not end at an epoch boundary finishes inside an epoch, and the next
    pass starts in the same epoch). ``indices(epoch)`` is shuffled and
    deterministic for the labels, ``seed`` and ``epoch``;
    ``epochs_per_pass(k)`` tells how many epochs one pass through class
    ``classes_[k]`` takes.

    ``y``: one class label per sample (integers or strings).
    """

    def _per_class(self) -> int:
        return int(self.counts_.min())

    def epochs_per_pass(self, k: int) -> float:
        """Epochs one pass through class ``classes_[k]`` takes (count / per_class)."""
        return float(self.counts_[k]) / self.per_class
