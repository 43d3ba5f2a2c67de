"""The search objective: a network and its data as a vectorised function
``f(population) -> scores`` over the searched (trainable) parameters, scored
by the Rust population evaluator in one call per chunk of candidates.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from .. import engine
from ..errors import ConfigError, ParameterError, ShapeError

__all__ = ["Objective"]

# Candidate rows per call into Rust are capped so that one chunk of the
# population matrix stays under this many bytes.
_CHUNK_BYTES = 64 * 2**20


class Objective:
    """Scores candidate parameter vectors of ``net`` on ``(X, Y)``.

    A candidate is a vector over the searched parameters: ``params`` (names,
    default every trainable parameter), in the network's flat order (see
    :attr:`names`). Every other parameter keeps the value it had when the
    objective was made. ``objective(population)`` takes a ``(k, dim)`` array
    and returns the ``k`` scores as float64: the mean loss per sample (and
    time step, counted by ``mask``), computed for all rows in parallel in
    Rust. Rows that are not finite, or that overflow the network's dtype or
    the loss, score ``inf``.
    """

    def __init__(
        self,
        net: Any,
        X: Any,
        Y: Any,
        loss: str = "mse",
        *,
        mask: Any = None,
        params: Optional[Sequence[str]] = None,
    ) -> None:
        self.net = net
        self._prepared = engine.prepare(net, X, Y, loss, mask)
        self._base = np.array(net.parameters, dtype=net.dtype)
        self._index = _searched(net, params)
        self._names = [net.parameter_names[i] for i in self._index]
        self.evaluations = 0

    @property
    def dim(self) -> int:
        """The number of searched parameters."""
        return int(self._index.size)

    @property
    def names(self) -> list[str]:
        """The searched parameters' names, in candidate-column order."""
        return list(self._names)

    @property
    def start(self) -> np.ndarray:
        """The searched parameters' values when the objective was made (float64)."""
        return self._base[self._index].astype(np.float64)

    def full(self, candidates: Any) -> np.ndarray:
        """Complete parameter vectors (network dtype) for a candidate ``(dim,)``
        or a population ``(k, dim)``: the fixed and unsearched values filled in."""
        pop = np.asarray(candidates, dtype=np.float64)
        single = pop.ndim == 1
        pop = self._population(pop[None, :] if single else pop, "candidates")
        out = np.tile(self._base, (pop.shape[0], 1))
        with np.errstate(over="ignore", invalid="ignore"):
            out[:, self._index] = pop
        return out[0] if single else out

    def __call__(self, population: Any) -> np.ndarray:
        pop = self._population(np.asarray(population, dtype=np.float64), "population")
        k = pop.shape[0]
        scores = np.full(k, np.inf)
        n = max(self._base.size, 1)
        chunk = max(1, _CHUNK_BYTES // (n * self._base.itemsize))
        for start in range(0, k, chunk):
            full = self.full(pop[start : start + chunk])
            ok = np.isfinite(full).all(axis=1)
            if ok.any():
                rows = np.ascontiguousarray(full[ok])
                scores[start : start + chunk][ok] = self._evaluate(rows)
        scores[~np.isfinite(scores)] = np.inf
        self.evaluations += k
        return scores

    def apply(self, candidate: Any) -> None:
        """Sets the network's parameters to ``candidate`` (a ``(dim,)`` vector)."""
        self.net.parameters = self.full(candidate)

    def _evaluate(self, rows: np.ndarray) -> np.ndarray:
        return engine.evaluate_candidates(self.net, rows, self._prepared)

    def _population(self, pop: np.ndarray, what: str) -> np.ndarray:
        if pop.ndim != 2 or pop.shape[1] != self.dim:
            raise ShapeError(
                f"{what} must have shape (k, {self.dim}) (one row per candidate over the searched "
                f"parameters), got shape {pop.shape}"
            )
        return pop


def _searched(net: Any, params: Optional[Sequence[str]]) -> np.ndarray:
    """Flat indices of the searched parameters (sorted, trainable only)."""
    trainable = np.asarray(net.trainable, dtype=bool)
    if params is None:
        index = np.flatnonzero(trainable)
    else:
        if isinstance(params, str):
            params = [params]
        chosen = []
        for name in params:
            try:
                i = net.parameter_index(name)
            except ParameterError:
                raise ParameterError(f"params: the network has no parameter named {name!r}") from None
            if not trainable[i]:
                raise ParameterError(f"params: parameter {name!r} is fixed and cannot be searched")
            chosen.append(i)
        if len(set(chosen)) != len(chosen):
            raise ConfigError(f"params names a parameter more than once: {list(params)}")
        index = np.array(sorted(chosen), dtype=np.intp)
    if index.size == 0:
        raise ConfigError("there are no trainable parameters to search")
    return index
