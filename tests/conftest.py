"""Shared fixtures: small graphs and data."""

from __future__ import annotations

import numpy as np
import pytest

import nervenet as nv


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
