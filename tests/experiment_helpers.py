"""Small things the experiments tests share: a tiny digits config (one
hidden layer of 4, one epoch: a trial takes a fraction of a second) and
trial functions defined at module level, so that worker processes can
import them."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

TINY: dict[str, Any] = {
    "data": {"dataset": "digits", "test_fraction": 0.2, "validation_fraction": 0.2},
    "network": {"hidden": [4]},
    "loss": {"name": "softmax"},
    "optimizer": {"name": "adam", "lr": 0.01},
    "training": {"epochs": 1, "batch_size": 64},
}


def tiny(**changes: Any) -> dict[str, Any]:
    """TINY with dotted keys changed: tiny(**{"optimizer.lr": 0.1})."""
    cfg = copy.deepcopy(TINY)
    for key, value in changes.items():
        section, name = key.split(".")
        cfg.setdefault(section, {})[name] = value
    return cfg


def noisy(seed: int) -> dict[str, float]:
    """Seeded random metrics."""
    rng = np.random.default_rng(seed)
    return {"loss": float(rng.normal(1.0, 0.1)), "accuracy": float(rng.uniform())}


CALLS: list[int] = []  # the seeds `counted` was called with
INTERRUPT_AFTER: list[int] = []  # [k]: the call after k calls raises KeyboardInterrupt


def counted(seed: int) -> dict[str, float]:
    """noisy, recording its calls, interrupted (Ctrl-C) when told."""
    if INTERRUPT_AFTER and len(CALLS) == INTERRUPT_AFTER[0]:
        raise KeyboardInterrupt
    CALLS.append(seed)
    return noisy(seed)


FAIL_SEEDS: set[int] = set()


def failing(seed: int) -> dict[str, float]:
    """noisy, but raises for the seeds in FAIL_SEEDS."""
    if seed in FAIL_SEEDS:
        raise ValueError(f"no luck with seed {seed}")
    return noisy(seed)


def not_metrics(seed: int) -> Any:
    return [seed]
