"""CMA-ES (Hansen's covariance matrix adaptation evolution strategy) through
the ``cma`` package's ask/tell interface: cma proposes each generation, the
whole population is scored in one call into Rust."""

from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from ..errors import ConfigError
from .._checks import integer, real, seed as seed_of
from .objective import Objective
from .result import Best, SearchResult

__all__ = ["cma_es"]


def cma_es(
    net: Any,
    X: Any,
    Y: Any,
    loss: str = "mse",
    *,
    sigma: float = 0.5,
    generations: int = 100,
    population: Optional[int] = None,
    seed: int = 0,
    include_start: bool = True,
    stop_early: bool = True,
    options: Optional[Mapping[str, Any]] = None,
    params: Optional[Sequence[str]] = None,
    mask: Any = None,
    apply: bool = True,
) -> SearchResult:
    """CMA-ES started at the network's current parameters with step size
    ``sigma``, for up to ``generations`` generations of ``population``
    candidates (default cma's 4 + ⌊3 ln n⌋). With ``include_start`` the
    start itself is scored once too (so the result is never worse than it).
    With ``stop_early`` the run ends when cma's own termination criteria
    fire (tolfun, tolx, ...), so ``history`` may be shorter. ``options`` are
    passed on to ``cma.CMAEvolutionStrategy`` (e.g. ``{"CMA_diagonal":
    True}`` for many parameters). The samples come from a numpy Generator
    seeded with ``seed``; numpy's global random state is left as it was.
    With ``apply`` the network takes the best parameters.
    """
    import cma  # imported here: importing nervenet should not pay for it

    step = real(sigma, "sigma", 0.0, open_low=True)
    n_gen = integer(generations, "generations", 0)
    rng = np.random.default_rng(seed_of(seed))
    objective = Objective(net, X, Y, loss, mask=mask, params=params)
    opts: dict[str, Any] = {"verbose": -9, "seed": np.nan}
    if population is not None:
        opts["popsize"] = integer(population, "population", 2)
    for key, value in dict(options or {}).items():
        if key in ("seed", "randn"):
            raise ConfigError(f"options may not set {key!r}: cma_es seeds its own sampler (use seed=...)")
        opts[key] = value
    opts["randn"] = lambda *shape: rng.standard_normal(shape)

    best = Best(objective)
    state = np.random.get_state()  # cma may touch numpy's global generator; put it back
    try:
        np.random.seed(seed_of(seed) % 2**32)
        try:
            es = cma.CMAEvolutionStrategy(objective.start, step, opts)
        except (ValueError, TypeError, KeyError) as e:
            raise ConfigError(f"cma rejected the options: {e}") from None
        if include_start:
            start = objective.start[None, :]
            best.offer(start, objective(start))
        for _ in range(n_gen):
            if stop_early and es.stop():
                break
            population_ = np.asarray(es.ask(), dtype=np.float64)
            scores = objective(population_)
            best.offer(population_, scores)
            best.end_generation()
            es.tell(list(population_), _finite_for_cma(scores))
    finally:
        np.random.set_state(state)
    return best.result("cma_es", apply)


def _finite_for_cma(scores: np.ndarray) -> list[float]:
    """Overflowing candidates (inf) ranked last, as a finite value cma can sort."""
    finite = scores[np.isfinite(scores)]
    worst = float(finite.max()) if finite.size else 0.0
    big = worst + 1.0 + abs(worst) if math.isfinite(worst + 1.0 + abs(worst)) else np.finfo(np.float64).max
    return np.where(np.isfinite(scores), scores, big).tolist()
