"""Builders that return graphs: fully connected MLPs and seeded random graphs."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from . import _core
from ._checks import integer, number, text
from ._checks import seed as seed_of
from .errors import ConfigError
from .graph import Graph

__all__ = ["mlp", "random_graph"]


def mlp(
    layer_sizes: Sequence[int],
    activation: str = "tanh",
    output_activation: str = "identity",
    *,
    bias: Optional[bool] = None,
) -> Graph:
    """A fully connected multi-layer perceptron.

    ``layer_sizes[0]`` inputs, ``layer_sizes[-1]`` outputs, hidden layers in
    between; every node of a layer feeds every node of the next. The notes'
    example is ``mlp([5, 5, 4, 3, 4, 2])``. ``bias=None`` keeps the defaults
    (hidden nodes have a bias, outputs do not); True/False sets it for every
    hidden and output node.
    """
    if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, (Sequence, np.ndarray)):
        raise ConfigError(f"layer_sizes must be a sequence of layer sizes, e.g. [4, 8, 1], got {type(layer_sizes).__name__}")
    sizes = [integer(s, f"layer_sizes[{i}]") for i, s in enumerate(layer_sizes)]
    if len(sizes) < 2:
        raise ConfigError(f"mlp needs at least an input and an output layer, got layer_sizes={sizes}")
    if any(s < 1 for s in sizes):
        raise ConfigError(f"every layer needs at least one node, got layer_sizes={sizes}")
    g = Graph()
    layers = [g.add_inputs(sizes[0])]
    for size in sizes[1:-1]:
        layers.append(g.add_nodes(size, activation, bias=bias))
    layers.append(g.add_outputs(sizes[-1], output_activation, bias=bias))
    for src, dst in zip(layers, layers[1:]):
        g.connect_all(src, dst)
    return g


def random_graph(
    inputs: int,
    hidden: int,
    outputs: int,
    *,
    density: float = 0.3,
    recurrent: int = 0,
    max_skip: int = 1,
    activations: Sequence[str] = ("tanh",),
    bias_probability: float = 0.5,
    fixed_probability: float = 0.0,
    seed: int = 0,
) -> Graph:
    """A seeded random graph: a feed-forward DAG plus recurrent edges.

    Each possible feed-forward edge i -> j (i before j; layer skips included)
    exists with probability ``density``, and every hidden/output node gets at
    least one incoming edge. ``recurrent`` extra edges with skips drawn from
    1..``max_skip`` point anywhere (self loops, backward, forward in depth).
    Activations are drawn from ``activations``; each hidden/output node has a
    bias with probability ``bias_probability``; each feed-forward edge is fixed
    (or an identity link) with probability ``fixed_probability``. The same
    seed always gives the same graph.
    """
    if isinstance(activations, str):
        activations = [activations]
    if not isinstance(activations, Sequence):
        raise ConfigError(f"activations must be a name or a list of names, e.g. ['tanh', 'relu'], got {type(activations).__name__}")
    names = [text(a, f"activations[{i}]") for i, a in enumerate(activations)]
    return Graph._wrap(
        _core.random_graph(
            integer(inputs, "inputs", 0, bits=63),
            integer(hidden, "hidden", 0, bits=63),
            integer(outputs, "outputs", 0, bits=63),
            number(density, "density"),
            integer(recurrent, "recurrent", 0, bits=63),
            integer(max_skip, "max_skip", 0, bits=32),
            names,
            number(bias_probability, "bias_probability"),
            number(fixed_probability, "fixed_probability"),
            seed_of(seed),
        )
    )
