"""Differential evolution, DE/rand/1/bin (Storn & Price; Lecture 2's
"evolutionary / nature inspired" methods). Each generation's trial vectors
are built with numpy and scored in one call into Rust."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from .._checks import integer, interval, real, seed as seed_of
from .objective import Objective
from .result import Best, SearchResult

__all__ = ["differential_evolution"]


def differential_evolution(
    net: Any,
    X: Any,
    Y: Any,
    loss: str = "mse",
    *,
    population: int = 50,
    generations: int = 100,
    F: float = 0.8,
    CR: float = 0.9,
    seed: int = 0,
    low: float = -1.0,
    high: float = 1.0,
    include_start: bool = True,
    params: Optional[Sequence[str]] = None,
    mask: Any = None,
    apply: bool = True,
) -> SearchResult:
    """DE/rand/1/bin over the searched parameters.

    The population starts uniform in [low, high) (with ``include_start``
    its first member is the network's current parameters). Each generation,
    member i gets the mutant ``a + F (b - c)`` from three distinct other
    members, a binomial crossover with rate ``CR`` (at least one gene from
    the mutant), and the trial replaces i when it scores no worse.
    ``population * (generations + 1)`` evaluations; the same seed gives the
    same result. With ``apply`` the network takes the best parameters.
    """
    n_pop = integer(population, "population", 4)
    n_gen = integer(generations, "generations", 0)
    f = real(F, "F", 0.0, 2.0, open_low=True)
    cr = real(CR, "CR", 0.0, 1.0)
    lo, hi = interval(low, high)
    rng = np.random.default_rng(seed_of(seed))
    objective = Objective(net, X, Y, loss, mask=mask, params=params)
    d = objective.dim

    pop = rng.uniform(lo, hi, (n_pop, d))
    if include_start:
        pop[0] = objective.start
    scores = objective(pop)
    best = Best(objective)
    best.offer(pop, scores)
    best.end_generation()
    rows = np.arange(n_pop)
    for _ in range(n_gen):
        # three distinct partners per member, none the member itself
        keys = rng.random((n_pop, n_pop))
        keys[rows, rows] = np.inf
        partners = np.argpartition(keys, 3, axis=1)[:, :3]
        partners = np.take_along_axis(partners, np.argsort(np.take_along_axis(keys, partners, 1), 1), 1)
        a, b, c = (pop[partners[:, j]] for j in range(3))
        mutant = a + f * (b - c)
        cross = rng.random((n_pop, d)) < cr
        cross[rows, rng.integers(0, d, n_pop)] = True
        trial = np.where(cross, mutant, pop)
        trial_scores = objective(trial)
        better = trial_scores <= scores
        pop[better], scores[better] = trial[better], trial_scores[better]
        best.offer(trial, trial_scores)
        best.end_generation()
    return best.result("differential_evolution", apply)
