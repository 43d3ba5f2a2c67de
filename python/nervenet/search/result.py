"""What a search returns (:class:`SearchResult`), and the best-so-far
bookkeeping every algorithm shares."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .objective import Objective

__all__ = ["SearchResult"]


@dataclass
class SearchResult:
    """The outcome of a gradient-free search.

    ``parameters`` is the best complete flat parameter vector (network dtype;
    fixed and unsearched parameters at their values), ready for
    ``net.parameters = result.parameters``. ``score`` is its mean loss per
    sample, ``evaluations`` the number of candidates scored, ``history`` the
    best score found up to and including each generation (for grid and
    random search, each chunk of candidates), and ``names`` the searched
    parameters, whose best values ``x`` holds (float64, in ``names`` order).
    """

    method: str
    parameters: np.ndarray
    score: float
    evaluations: int
    history: np.ndarray
    names: list[str] = field(default_factory=list)
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def generations(self) -> int:
        return int(self.history.size)

    def values(self) -> dict[str, float]:
        """The searched parameters' best values by name."""
        return dict(zip(self.names, self.x.tolist()))

    def __repr__(self) -> str:
        return (
            f"SearchResult(method={self.method!r}, score={self.score:.6g}, "
            f"evaluations={self.evaluations}, generations={self.generations}, searched={len(self.names)})"
        )


class Best:
    """The best candidate seen so far and the per-generation history."""

    def __init__(self, objective: Objective) -> None:
        self.objective = objective
        self.x = objective.start
        self.score = np.inf
        self.history: list[float] = []
        self.seen = False

    def offer(self, population: np.ndarray, scores: np.ndarray) -> None:
        """Considers one scored batch (the first minimum wins ties; candidates
        scoring inf are never taken, so the start stays if nothing is finite)."""
        if scores.size:
            i = int(np.argmin(scores))
            if np.isfinite(scores[i]) and (not self.seen or scores[i] < self.score):
                self.x, self.score, self.seen = np.array(population[i], dtype=np.float64), float(scores[i]), True

    def end_generation(self) -> None:
        self.history.append(self.score)

    def result(self, method: str, apply: bool) -> SearchResult:
        obj = self.objective
        if apply:
            obj.apply(self.x)
        return SearchResult(
            method=method,
            parameters=obj.full(self.x),
            score=self.score,
            evaluations=obj.evaluations,
            history=np.array(self.history, dtype=np.float64),
            names=obj.names,
            x=np.array(self.x, dtype=np.float64),
        )
