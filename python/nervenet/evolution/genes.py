"""Copying one node or edge of a genome into another graph, as it is.

Crossover brings the other parent's nodes and edges into the child, and
split / merge node re-create a node's edges at new ends; each needs a
node or edge "like" one it read from a graph (``Graph.node`` /
``Graph.edge`` dicts). The caller numbers what these return (the other
parent's innovation number, or the run's next).

>>> import nervenet as nv
>>> from nervenet.evolution.genes import add_node_like, add_edge_like
>>> g = nv.mlp([2, 3, 1]); h = nv.Graph()
>>> ids = {n: add_node_like(h, g.node(n)) for n in g.node_ids()}
>>> for e in g.edge_ids():
...     d = g.edge(e); _ = add_edge_like(h, d, ids[d["src"]], ids[d["dst"]])
>>> h.to_json() == g.to_json()
True
"""

from __future__ import annotations

from typing import Any, Optional

from ..graph import Graph


def add_node_like(g: Graph, node: dict[str, Any]) -> int:
    """Adds a node with ``node``'s role, kind, activation (cap, slope), bias
    flag and preset bias, and enabled flag; returns its id."""
    if node["kind"] == "simple":
        extra = {k: node[k] for k in ("cap", "slope") if k in node}
        new = g.add_node(node["role"], node["activation"], bias=node["bias"], **extra)
        if node["bias_value"] is not None:
            g.set_bias(new, node["bias_value"])
    else:
        new = g.add_cells(1, node["kind"], role=node["role"])[0]
    if not node["enabled"]:
        g.set_node_enabled(new, False)
    return new


def add_edge_like(g: Graph, edge: dict[str, Any], src: int, dst: int, *, port: Optional[int] = None) -> int:
    """Adds an edge src -> dst with ``edge``'s kind, time skip, port (unless
    ``port`` is given: a new end that is no standard unit has port 0 only),
    trainable flag, preset weight and enabled flag; returns its id.

    A same-step edge that would close a cycle raises GraphError, as
    ``Graph.connect`` does."""
    skip = edge["time_skip"]
    if edge["kind"] == "identity":
        new = g.identity(src, dst, time_skip=skip)
    else:  # a scalar weight: genomes have no feature maps, hence no filter or pool edges
        new = g.connect(
            src, dst, time_skip=skip, weight=edge["weight"], trainable=edge["trainable"],
            port=edge["port"] if port is None else port,
        )
    if not edge["enabled"]:
        g.set_edge_enabled(new, False)
    return new
