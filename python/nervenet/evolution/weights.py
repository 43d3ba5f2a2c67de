"""Weights by innovation number, so they pass from parent to child.

A network names its parameters by node and edge id (``edge:17``,
``node:8:gru.zw``); ids differ between genomes, innovation numbers do not.
A genome's weights are therefore a dict keyed ``e<edge innovation>`` and
``n<node innovation>:<rest>`` (``n8:gru.zw``, ``n3:bias``).

Lamarckian inheritance (EXAMM): a child starts from its parents' trained
weights; a parameter new to it is drawn from N(μ, σ), the mean (of values
clipped to ±10) and sample standard deviation of the inherited ones
(0 and 0.25 when there are fewer than two), and clipped to ±10.

>>> import nervenet as nv
>>> g = nv.mlp([2, 1])
>>> net = nv.Network(g, dtype="float64", seed=0)
>>> w = weights_of(net, g)
>>> sorted(w)
['e0', 'e1']
>>> child = nv.Network(g, dtype="float64", seed=5)
>>> start(child, g, w, rng=None, mode="lamarckian")
>>> bool((child.parameters == net.parameters).all())
True
"""

from __future__ import annotations

import re
from typing import Mapping, Optional

import numpy as np

from ..errors import ConfigError
from ..graph import Graph
from ..network import Network

Weights = dict[str, float]

_KEY = re.compile(r"e(\d+)(?:\[\d+\])?|n(\d+):.+")

#: EXAMM's bound on a drawn weight.
BOUND = 10.0


def keys_of(net: Network, g: Graph) -> list[str]:
    """The innovation key of each of ``net``'s parameters, in flat-vector order."""
    keys = []
    for name in net.parameter_names:
        kind, _, rest = name.partition(":")
        if kind == "edge":  # edge:<id> or edge:<id>[<index>] (a block of weights)
            edge, bracket, index = rest.partition("[")
            keys.append(f"e{g.edge(int(edge))['innovation']}{bracket}{index}")
        else:  # node:<id>:<what>
            node, _, what = rest.partition(":")
            keys.append(f"n{g.node(int(node))['innovation']}:{what}")
    return keys


def owner_of(key: str) -> tuple[str, int]:
    """``("edge" | "node", innovation)`` of a weight key; ConfigError if it is not one."""
    m = _KEY.fullmatch(key) if isinstance(key, str) else None
    if m is None:
        raise ConfigError(f"weight key {key!r} is neither 'e<edge innovation>[...]' nor 'n<node innovation>:<name>'")
    return ("edge", int(m.group(1))) if m.group(1) is not None else ("node", int(m.group(2)))


def weights_of(net: Network, g: Graph, keys: Optional[list[str]] = None) -> Weights:
    """``net``'s parameters (``net`` compiled from ``g``) by innovation key
    (``keys``: :func:`keys_of` when already known)."""
    return dict(zip(keys or keys_of(net, g), net.parameters.astype(np.float64).tolist()))


def start(net: Network, g: Graph, inherited: Optional[Mapping[str, float]], rng: Optional[np.random.Generator], mode: str,
          keys: Optional[list[str]] = None) -> None:
    """Sets ``net``'s starting weights: ``"lamarckian"`` takes every
    parameter found in ``inherited`` and draws the others from
    N(mean, std) of the inherited values; a fresh mode (``"xavier"``,
    ``"kaiming"``: the network was built with that init) keeps the
    network's own. Fixed parameters keep their values. ``keys``:
    :func:`keys_of` when already known."""
    if mode != "lamarckian" or not inherited:
        return
    keys = keys or keys_of(net, g)
    own, trainable = net.parameters, net.trainable
    values = own.astype(np.float64)
    known = np.array([k in inherited for k in keys], dtype=bool)
    values[known] = [inherited[k] for k, hit in zip(keys, known) if hit]
    fresh = ~known & trainable
    if fresh.any():
        pool = np.fromiter(inherited.values(), dtype=np.float64, count=len(inherited))
        mean, std = (float(np.clip(pool, -BOUND, BOUND).mean()), float(pool.std(ddof=1))) if len(pool) > 1 else (0.0, 0.25)
        assert rng is not None, "new parameters need a random generator"
        values[fresh] = np.clip(rng.normal(mean, std, size=int(fresh.sum())), -BOUND, BOUND)
    values[~trainable] = own[~trainable]
    net.parameters = values
