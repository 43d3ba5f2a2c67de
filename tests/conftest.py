"""Shared fixtures: small graphs and data, and the process-wide settings put
back after every test."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pytest

import nervenet as nv

# set_inference_memory has no getter: a test that changes it gets the
# documented default back.
INFERENCE_MEMORY_DEFAULT = 256 << 20


def _settings() -> list[tuple[str, object]]:
    """Every process-wide setting nervenet exposes as a get_X / set_X pair
    (thread count, and any added later), with its current value."""
    return [(n[4:], getattr(nv, n)()) for n in dir(nv) if n.startswith("get_") and hasattr(nv, "set_" + n[4:])]


@contextlib.contextmanager
def restored_settings() -> Iterator[None]:
    """Puts back the thread count, the inference-memory cap, every other
    get_/set_ setting and numpy's global random state on leaving, however
    the block ends."""
    before, random_state = _settings(), np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(random_state)
        for name, value in before:
            if getattr(nv, "get_" + name)() != value:  # setting the pool size again rebuilds it
                getattr(nv, "set_" + name)(value)
        if not hasattr(nv, "get_inference_memory"):
            nv.set_inference_memory(INFERENCE_MEMORY_DEFAULT)


@pytest.fixture(autouse=True)
def global_settings() -> Iterator[None]:
    """Every test runs inside :func:`restored_settings`, so no test sees
    another's settings whatever order they run in."""
    with restored_settings():
        yield


@pytest.fixture
def small_graph() -> nv.Graph:
    """2 inputs -> 2 tanh hidden (one with a recurrent self edge) -> 1 sigmoid output."""
    g = nv.Graph()
    x = g.add_inputs(2)
    h = g.add_nodes(2, activation="tanh")
    y = g.add_outputs(1, activation="sigmoid")
    g.connect_all(x, h)
    g.connect_all(h, y)
    g.connect(h[0], h[0], time_skip=1)
    return g


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
