"""Crossover of two genomes of one run, aligned by innovation number (EXAMM's).

The child is the fitter parent's graph (every node and edge, enabled or
not, with its ids) plus the edges only the less fit parent has, each
brought in with the nodes it needs under their innovation numbers and
enabled with probability ``less_fit_rate`` (EXAMM's 0.5), otherwise
disabled; with ``less_fit_rate=0`` the child computes what the fitter
parent computes. Nothing depends on islands: parents from two islands
align like parents from one.

Weights are dicts from parameter keys to floats: ``"e<innovation>"`` for an
edge's weight, ``"n<innovation>:<name>"`` for a node's parameter, where
``<name>`` is what follows ``node:<id>:`` in ``Network.parameter_names``
(``"n5:bias"``, ``"n8:lstm.w_f"``). A key both parents have becomes
w1 + c·(w1 − w2), c drawn from U(``c_range``) for each key (EXAMM's
(−0.5, 1.5); w1 the fitter parent's); a key one parent has keeps that
value. So a genome crossed with itself is itself, weights included.

>>> import numpy as np, nervenet as nv
>>> from nervenet.evolution import crossover
>>> g = nv.mlp([2, 1])
>>> child, weights = crossover(g, g, np.random.default_rng(0), better_weights={"e0": 0.5}, other_weights={"e0": 0.5})
>>> child.to_json() == g.to_json(), weights
(True, {'e0': 0.5})
"""

from __future__ import annotations

import math
from typing import Mapping, Optional, Sequence, Union

import numpy as np

from .._checks import real
from ..errors import ConfigError, DataError, GraphError
from ..graph import Graph
from .genes import add_edge_like, add_node_like
from .operators import Skip, _scalar_nodes
from .weights import Weights, owner_of

__all__ = ["crossover"]


def crossover(
    better: Graph,
    other: Graph,
    rng: np.random.Generator,
    *,
    better_weights: Optional[Mapping[str, float]] = None,
    other_weights: Optional[Mapping[str, float]] = None,
    c_range: Sequence[float] = (-0.5, 1.5),
    less_fit_rate: float = 0.5,
) -> Union[tuple[Graph, Optional[Weights]], Skip]:
    """The child of ``better`` (the fitter parent) and ``other``, and its
    weights (None when neither parent's are given); a :class:`Skip` when
    the parents' inputs or outputs differ. Neither parent is changed.

    What EXAMM does and this follows: edges align by innovation number; an
    edge only in the less fit parent comes with its nodes, enabled with
    probability ``less_fit_rate``; one joining two nodes the child already
    joins (same ends, skip and port) is left out. Where this differs:
    EXAMM enables every shared edge and disables edges off an input-output
    path; here every node and edge of the fitter parent keeps its enabled
    flag, so a genome crossed with itself is itself. An edge of the less
    fit parent that would close a same-step cycle with the fitter parent's
    edges is left out.

    >>> import numpy as np, nervenet as nv
    >>> from nervenet.evolution import Innovations, add_node, crossover
    >>> g = nv.mlp([2, 1]); run = Innovations.after(g)
    >>> other = add_node(g, np.random.default_rng(1), run, kinds=("simple",))
    >>> child, _ = crossover(g, other, np.random.default_rng(0), less_fit_rate=1.0)
    >>> child.num_nodes, child.num_edges, child.structural_hash() == other.structural_hash()
    (4, 4, True)
    """
    graph, generator = (Graph, "nervenet.Graph"), (np.random.Generator, "numpy.random.Generator")
    for name, value, (kind, called) in (("better", better, graph), ("other", other, graph), ("rng", rng, generator)):
        if not isinstance(value, kind):
            raise ConfigError(f"{name} must be a {called}, got {type(value).__name__}")
    for name, value in (("better_weights", better_weights), ("other_weights", other_weights)):
        if value is not None and not isinstance(value, Mapping):
            raise ConfigError(f"{name} must be None or a dict of parameter keys to floats, got {type(value).__name__}")
    if not isinstance(c_range, Sequence) or len(c_range) != 2:
        raise ConfigError(f"c_range must be (low, high), got {c_range!r}")
    low, high = real(c_range[0], "c_range[0]"), real(c_range[1], "c_range[1]")
    if low > high:
        raise ConfigError(f"c_range must be (low, high) with low <= high, got {tuple(c_range)}")
    rate = real(less_fit_rate, "less_fit_rate", 0.0, 1.0)
    for parent in (better, other):
        _scalar_nodes(parent)  # feature maps are refused
    for ends in ("inputs", "outputs"):
        if _innovations(better, getattr(better, ends)()) != _innovations(other, getattr(other, ends)()):
            return Skip("crossover", f"the parents' {ends} differ (by innovation number)")
    child = better.copy()
    _bring_in(child, other, rng, rate)
    if better_weights is None and other_weights is None:
        return child, None
    return child, _crossed(child, dict(better_weights or {}), dict(other_weights or {}), rng, low, high)


def _innovations(g: Graph, nodes: list[int]) -> list[int]:
    return [g.node(n)["innovation"] for n in nodes]


def _bring_in(child: Graph, other: Graph, rng: np.random.Generator, rate: float) -> None:
    """Adds the edges of ``other`` the child lacks, in innovation order,
    with the nodes they need, each under its innovation number."""
    edges = sorted((other.edge(e) for e in other.edge_ids()), key=lambda d: d["innovation"])
    for d in edges:
        if child.find_edge_by_innovation(d["innovation"]) is not None:
            continue  # shared: the fitter parent's
        enabled = rng.random() < rate and d["enabled"]
        src, dst = (other.node(d[end]) for end in ("src", "dst"))
        ids = [child.find_node_by_innovation(n["innovation"]) for n in (src, dst)]
        if None not in ids:
            if child.find_edge(ids[0], ids[1], time_skip=d["time_skip"], port=d["port"]) is not None:
                continue  # the child joins these nodes already
            try:
                edge = add_edge_like(child, {**d, "enabled": enabled}, ids[0], ids[1])
            except GraphError:  # it would close a same-step cycle with the child's edges
                continue
        else:  # a new end has no other edge yet, so no cycle can close
            for k, node in enumerate((src, dst)):
                # looked up again: a self-loop's two ends are one node, added once
                ids[k] = child.find_node_by_innovation(node["innovation"])
                if ids[k] is None:
                    ids[k] = add_node_like(child, node)
                    child.set_node_innovation(ids[k], node["innovation"])
            edge = add_edge_like(child, {**d, "enabled": enabled}, ids[0], ids[1])
        child.set_edge_innovation(edge, d["innovation"])


def _crossed(child: Graph, w1: Weights, w2: Weights, rng: np.random.Generator, low: float, high: float) -> Weights:
    """The child's weights: shared keys crossed (one c per key, keys in
    sorted order), the others as their parent had them; keys of nodes and
    edges the child lacks are left out."""
    for name, weights in (("better_weights", w1), ("other_weights", w2)):
        for key, value in weights.items():
            if not isinstance(value, (int, float, np.floating, np.integer)) or not math.isfinite(value):
                raise DataError(f"{name}[{key!r}] must be a finite number, got {value!r}")
    out: Weights = {}
    for key in sorted(w1.keys() | w2.keys()):
        if not _in_child(child, key):
            continue
        if key in w1 and key in w2:
            a, b = float(w1[key]), float(w2[key])
            out[key] = a + float(rng.uniform(low, high)) * (a - b)
        else:
            out[key] = float(w1[key] if key in w1 else w2[key])
    return out


def _in_child(child: Graph, key: str) -> bool:
    kind, innovation = owner_of(key)
    if kind == "edge":
        return child.find_edge_by_innovation(innovation) is not None
    return child.find_node_by_innovation(innovation) is not None
