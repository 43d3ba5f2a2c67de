"""EXAMM's mutation operators on genomes (graphs of scalar nodes and cells).

Each operator takes a parent graph, a numpy ``Generator`` and the run's
:class:`Innovations`, and returns a new graph or, when it cannot apply (no
disabled edge to enable, every candidate edge would close a same-step
cycle...), a :class:`Skip` saying why. The parent is never changed, and every
node and edge an operator creates gets the run's next innovation number, so
genomes of one run align edge by edge.

>>> import numpy as np, nervenet as nv
>>> from nervenet.evolution import Innovations, add_recurrent_edge
>>> g = nv.mlp([2, 1])
>>> run = Innovations.after(g)
>>> child = add_recurrent_edge(g, np.random.default_rng(0), run, skips=(1, 10))
>>> child.num_edges, g.num_edges
(3, 2)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence, Union

import numpy as np

from ..errors import ConfigError, GraphError
from ..graph import Graph
from ..rnn import CELL_KINDS

__all__ = [
    "Innovations",
    "Skip",
    "NODE_KINDS",
    "add_edge",
    "add_recurrent_edge",
    "enable_edge",
    "disable_edge",
    "split_edge",
    "add_node",
    "clone",
    "OPERATORS",
]

#: What a new node may be: a simple node (with an activation) or a memory cell.
NODE_KINDS = ("simple", *CELL_KINDS)

#: Random pairs an operator tries before it gives up on a graph.
ATTEMPTS = 20


@dataclass
class Innovations:
    """The run-wide innovation counters: the next number for a node and for an edge."""

    node: int = 0
    edge: int = 0

    @classmethod
    def after(cls, *graphs: Graph) -> "Innovations":
        """Counters past every number the ``graphs`` (a run's seeds) use."""
        nodes = [g.max_node_innovation() for g in graphs]
        edges = [g.max_edge_innovation() for g in graphs]
        return cls(
            max((n + 1 for n in nodes if n is not None), default=0),
            max((e + 1 for e in edges if e is not None), default=0),
        )

    def node_of(self, g: Graph, node: int) -> int:
        g.set_node_innovation(node, self.node)
        self.node += 1
        return node

    def edge_of(self, g: Graph, edge: int) -> int:
        g.set_edge_innovation(edge, self.edge)
        self.edge += 1
        return edge


@dataclass(frozen=True)
class Skip:
    """Why an operator did not apply."""

    operator: str
    reason: str


Outcome = Union[Graph, Skip]


def _scalar_nodes(g: Graph) -> list[dict]:
    nodes = [g.node(n) for n in g.node_ids()]
    if any("shape" in n for n in nodes):
        raise ConfigError("evolution mutates graphs of scalar nodes and memory cells; this graph has feature maps")
    return [n for n in nodes if n["enabled"]]


def _try_edges(g: Graph, rng: np.random.Generator, run: Innovations, name: str, skip_of: Callable[[], int]) -> Outcome:
    """Connects a random (source, destination) pair new to the graph; a
    same-step edge that would close a cycle is refused by the graph."""
    nodes = _scalar_nodes(g)
    sources = [n["id"] for n in nodes]
    targets = [n["id"] for n in nodes if n["role"] != "input"]
    if not targets:
        return Skip(name, "no node can take an incoming edge")
    for _ in range(ATTEMPTS):
        src, dst, skip = int(rng.choice(sources)), int(rng.choice(targets)), skip_of()
        if (skip == 0 and src == dst) or g.find_edge(src, dst, time_skip=skip) is not None:
            continue
        child = g.copy()
        try:
            edge = child.connect(src, dst, time_skip=skip)
        except GraphError:  # it would close a same-step cycle
            continue
        run.edge_of(child, edge)
        return child
    return Skip(name, f"no new edge found in {ATTEMPTS} random pairs")


def add_edge(g: Graph, rng: np.random.Generator, run: Innovations) -> Outcome:
    """A new same-step (feed-forward) edge between two nodes it keeps acyclic."""
    return _try_edges(g, rng, run, "add_edge", lambda: 0)


def add_recurrent_edge(g: Graph, rng: np.random.Generator, run: Innovations, *, skips: Sequence[int] = (1, 10)) -> Outcome:
    """A new recurrent edge whose time skip is drawn uniformly from
    ``skips = (low, high)``, both included (EXAMM's default 1-10)."""
    low, high = int(skips[0]), int(skips[1])
    if not 1 <= low <= high:
        raise ConfigError(f"skips must be (low, high) with 1 <= low <= high, got {tuple(skips)}")
    return _try_edges(g, rng, run, "add_recurrent_edge", lambda: int(rng.integers(low, high + 1)))


def _toggle(g: Graph, rng: np.random.Generator, enabled: bool, name: str) -> Outcome:
    edges = [e for e in g.edge_ids() if g.edge(e)["enabled"] != enabled]
    if not edges:
        return Skip(name, f"no {'disabled' if enabled else 'enabled'} edge")
    child = g.copy()
    child.set_edge_enabled(int(rng.choice(edges)), enabled)
    return child


def enable_edge(g: Graph, rng: np.random.Generator, run: Innovations) -> Outcome:
    """Enables a random disabled edge."""
    return _toggle(g, rng, True, "enable_edge")


def disable_edge(g: Graph, rng: np.random.Generator, run: Innovations) -> Outcome:
    """Disables a random enabled edge."""
    return _toggle(g, rng, False, "disable_edge")


def _new_node(child: Graph, rng: np.random.Generator, run: Innovations, kinds: Sequence[str], activation: str) -> int:
    kind = str(rng.choice(list(kinds)))
    node = child.add_nodes(1, activation)[0] if kind == "simple" else child.add_cells(1, kind)[0]
    return run.node_of(child, node)


def split_edge(
    g: Graph, rng: np.random.Generator, run: Innovations, *, kinds: Sequence[str] = NODE_KINDS, activation: str = "tanh"
) -> Outcome:
    """Replaces a random enabled weight edge src -> dst (skip k) by src -> new
    (skip k) -> dst, the new node's kind drawn from ``kinds``; the old edge is
    disabled, as EXAMM does, so crossover still aligns on it."""
    edges = [e for e in g.edge_ids() if (d := g.edge(e))["enabled"] and d["kind"] == "weight"]
    if not edges:
        return Skip("split_edge", "no enabled weight edge")
    _scalar_nodes(g)
    child = g.copy()
    old = child.edge(int(rng.choice(edges)))
    node = _new_node(child, rng, run, kinds, activation)
    run.edge_of(child, child.connect(old["src"], node, time_skip=old["time_skip"]))
    run.edge_of(child, child.connect(node, old["dst"]))
    child.set_edge_enabled(old["id"], False)
    return child


def add_node(
    g: Graph, rng: np.random.Generator, run: Innovations, *, kinds: Sequence[str] = NODE_KINDS, activation: str = "tanh"
) -> Outcome:
    """A new node (kind drawn from ``kinds``) fed by one random node and
    feeding another, placed so the graph stays acyclic (the engine refuses
    same-step cycles as the edges are added)."""
    nodes = _scalar_nodes(g)
    sources = [n["id"] for n in nodes]
    targets = [n["id"] for n in nodes if n["role"] != "input"]
    for _ in range(ATTEMPTS if targets else 0):
        src, dst = int(rng.choice(sources)), int(rng.choice(targets))
        child, before = g.copy(), Innovations(run.node, run.edge)
        node = _new_node(child, rng, run, kinds, activation)
        try:
            run.edge_of(child, child.connect(src, node))
            run.edge_of(child, child.connect(node, dst))
        except GraphError:  # dst already reaches src: the path would close a cycle
            run.node, run.edge = before.node, before.edge  # the numbers go unused
            continue
        return child
    return Skip("add_node", f"no place found in {ATTEMPTS} random pairs")


def clone(g: Graph, rng: np.random.Generator, run: Innovations) -> Outcome:
    """The parent's structure, unchanged."""
    return g.copy()


#: Every operator by name, as a run draws them.
OPERATORS: dict[str, Callable[..., Outcome]] = {
    f.__name__: f for f in (add_edge, add_recurrent_edge, enable_edge, disable_edge, split_edge, add_node, clone)
}
