"""Particle swarm optimisation (Kennedy & Eberhart; global-best topology
with inertia weight). Each iteration moves every particle with numpy and
scores the whole swarm in one call into Rust."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from .._checks import integer, interval, real, seed as seed_of
from .objective import Objective
from .result import Best, SearchResult

__all__ = ["particle_swarm"]


def particle_swarm(
    net: Any,
    X: Any,
    Y: Any,
    loss: str = "mse",
    *,
    particles: int = 50,
    iterations: int = 100,
    inertia: float = 0.7,
    cognitive: float = 1.5,
    social: float = 1.5,
    seed: int = 0,
    low: float = -1.0,
    high: float = 1.0,
    max_velocity: Optional[float] = None,
    include_start: bool = True,
    params: Optional[Sequence[str]] = None,
    mask: Any = None,
    apply: bool = True,
) -> SearchResult:
    """Global-best PSO over the searched parameters.

    Positions start uniform in [low, high) (with ``include_start`` the
    first particle sits at the network's current parameters), velocities
    uniform in ±(high − low). Each iteration
    ``v ← inertia·v + cognitive·r1·(personal best − x) + social·r2·(swarm best − x)``
    with r1, r2 uniform in [0, 1) per coordinate, each velocity component
    clipped to ±``max_velocity`` (default high − low), then ``x ← x + v``.
    ``particles * (iterations + 1)`` evaluations; the same seed gives the
    same result. With ``apply`` the network takes the best parameters.
    """
    n = integer(particles, "particles", 1)
    n_iter = integer(iterations, "iterations", 0)
    w = real(inertia, "inertia", 0.0)
    c1 = real(cognitive, "cognitive", 0.0)
    c2 = real(social, "social", 0.0)
    lo, hi = interval(low, high)
    vmax = hi - lo if max_velocity is None else real(max_velocity, "max_velocity", 0.0, open_low=True)
    rng = np.random.default_rng(seed_of(seed))
    objective = Objective(net, X, Y, loss, mask=mask, params=params)
    d = objective.dim

    x = rng.uniform(lo, hi, (n, d))
    if include_start:
        x[0] = objective.start
    v = rng.uniform(-(hi - lo), hi - lo, (n, d))
    np.clip(v, -vmax, vmax, out=v)
    scores = objective(x)
    own, own_scores = x.copy(), scores.copy()
    best = Best(objective)
    best.offer(x, scores)
    best.end_generation()
    for _ in range(n_iter):
        g = best.x
        r1, r2 = rng.random((n, d)), rng.random((n, d))
        v = w * v + c1 * r1 * (own - x) + c2 * r2 * (g - x)
        np.clip(v, -vmax, vmax, out=v)
        x = x + v
        scores = objective(x)
        better = scores < own_scores
        own[better], own_scores[better] = x[better], scores[better]
        best.offer(x, scores)
        best.end_generation()
    return best.result("particle_swarm", apply)
