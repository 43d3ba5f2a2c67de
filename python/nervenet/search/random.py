"""Random search (Lecture 2): draw every parameter uniformly at random,
evaluate, keep the best. Embarrassingly parallel: each batch of draws is
scored in one call into Rust."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from .._checks import integer, interval, seed as seed_of
from .objective import Objective
from .result import Best, SearchResult

__all__ = ["random_search"]


def random_search(
    net: Any,
    X: Any,
    Y: Any,
    loss: str = "mse",
    *,
    evaluations: int,
    low: float = -1.0,
    high: float = 1.0,
    seed: int = 0,
    batch: int = 256,
    include_start: bool = True,
    params: Optional[Sequence[str]] = None,
    mask: Any = None,
    apply: bool = True,
) -> SearchResult:
    """Scores ``evaluations`` candidates whose searched parameters are drawn
    uniformly from [low, high) and keeps the best. With ``include_start``
    the first candidate is the network's current parameters (so the result
    is never worse than the start); it counts as one of the evaluations.
    Candidates are scored ``batch`` at a time (one history entry per
    batch); the draws, and so the result, do not depend on ``batch``.
    The same seed gives the same result. With ``apply`` the network takes
    the best parameters.
    """
    total = integer(evaluations, "evaluations", 1)
    lo, hi = interval(low, high)
    size = integer(batch, "batch", 1)
    rng = np.random.default_rng(seed_of(seed))
    objective = Objective(net, X, Y, loss, mask=mask, params=params)
    best = Best(objective)
    done = 0
    while done < total:
        k = min(size, total - done)
        if done == 0 and include_start:
            population = np.vstack([objective.start[None, :], rng.uniform(lo, hi, (k - 1, objective.dim))])
        else:
            population = rng.uniform(lo, hi, (k, objective.dim))
        best.offer(population, objective(population))
        best.end_generation()
        done += k
    return best.result("random_search", apply)
