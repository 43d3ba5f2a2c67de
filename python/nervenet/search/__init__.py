"""Gradient-free training over the flat parameter vector (Lecture 2): grid
search, random search, differential evolution, particle swarm optimisation
and CMA-ES.

Every method scores whole populations at once: :class:`Objective` hands a
``(k, n)`` matrix of candidate parameter vectors to the Rust population
evaluator, which runs the k forward passes in parallel (rayon) with the GIL
released; the algorithms' bookkeeping is numpy. Only trainable parameters
are searched (fixed ones keep their values). Every method is seeded and
deterministic, returns a :class:`SearchResult`, and by default (``apply=True``)
leaves the network at the best parameters found::

    import nervenet as nv
    res = nv.search.cma_es(net, X, Y, "mse", sigma=0.5, generations=200, seed=0)
    res.score, res.evaluations, res.history
"""

from __future__ import annotations

from .cma_es import cma_es
from .differential_evolution import differential_evolution
from .grid import grid_search
from .objective import Objective
from .particle_swarm import particle_swarm
from .random import random_search
from .result import SearchResult

__all__ = [
    "Objective",
    "SearchResult",
    "grid_search",
    "random_search",
    "differential_evolution",
    "particle_swarm",
    "cma_es",
]
