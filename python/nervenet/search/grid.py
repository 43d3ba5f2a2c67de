"""Grid search (Lecture 2): every combination of a few values per parameter,
keeping the best. The notes' way *not* to train: with 21 values per parameter
the cost is 21^n, so it refuses grids larger than ``max_evaluations``."""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from ..errors import ConfigError, ShapeError
from .._checks import integer
from .objective import Objective
from .result import Best, SearchResult

__all__ = ["grid_search"]

_CHUNK = 4096  # candidates per call into Rust


def grid_search(
    net: Any,
    X: Any,
    Y: Any,
    loss: str = "mse",
    *,
    values: Any = None,
    params: Optional[Sequence[str]] = None,
    max_evaluations: int = 1_000_000,
    mask: Any = None,
    apply: bool = True,
) -> SearchResult:
    """Evaluates every combination of ``values`` (default ``np.linspace(-1,
    1, 21)``, the notes' grid) for the parameters named in ``params``
    (default: every trainable one) and keeps the best; the other parameters
    keep their values. Ties go to the first combination in row-major order
    (the last parameter varies fastest). ConfigError, naming the count,
    when ``len(values) ** len(params)`` exceeds ``max_evaluations``.
    Combinations run in chunks of 4096 (one history entry per chunk).
    With ``apply`` the network takes the best parameters.
    """
    grid = np.linspace(-1.0, 1.0, 21) if values is None else np.asarray(values, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0:
        raise ShapeError(f"values must be a non-empty 1-D sequence of numbers, got shape {grid.shape}")
    if not np.isfinite(grid).all():
        raise ConfigError("values must all be finite")
    limit = integer(max_evaluations, "max_evaluations", 1)
    objective = Objective(net, X, Y, loss, mask=mask, params=params)
    n, v = objective.dim, grid.size
    total = v**n  # Python int: exact however large
    if total > limit:
        size = str(total) if n * math.log10(v) < 30 else f"about 10^{n * math.log10(v):.0f}"
        raise ConfigError(
            f"grid search over {n} parameters with {v} values each needs {v}^{n} = {size} evaluations, "
            f"more than max_evaluations={limit}; search fewer parameters (params=...), use fewer values, "
            f"or use random search or an evolutionary method"
        )
    best = Best(objective)
    shape = (v,) * n
    for start in range(0, total, _CHUNK):
        flat = np.arange(start, min(start + _CHUNK, total), dtype=np.int64)
        digits = np.unravel_index(flat, shape)
        population = np.stack([grid[d] for d in digits], axis=1)
        best.offer(population, objective(population))
        best.end_generation()
    return best.result("grid_search", apply)
