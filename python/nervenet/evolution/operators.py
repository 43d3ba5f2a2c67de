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
from .genes import add_edge_like

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
    "enable_node",
    "disable_node",
    "split_node",
    "merge_nodes",
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


def _toggle(g: Graph, rng: np.random.Generator, enabled: bool, name: str, *, nodes: bool = False) -> Outcome:
    """Sets a random edge's (or, with ``nodes``, hidden node's) enabled flag
    to ``enabled`` where it is not; inputs and outputs are never disabled."""
    if nodes:
        _scalar_nodes(g)
        ids = [n for n in g.node_ids() if (d := g.node(n))["role"] == "hidden" and d["enabled"] != enabled]
    else:
        ids = [e for e in g.edge_ids() if g.edge(e)["enabled"] != enabled]
    if not ids:
        return Skip(name, f"no {'disabled' if enabled else 'enabled'} {'hidden node' if nodes else 'edge'}")
    child = g.copy()
    (child.set_node_enabled if nodes else child.set_edge_enabled)(int(rng.choice(ids)), enabled)
    return child


def enable_edge(g: Graph, rng: np.random.Generator, run: Innovations) -> Outcome:
    """Enables a random disabled edge."""
    return _toggle(g, rng, True, "enable_edge")


def disable_edge(g: Graph, rng: np.random.Generator, run: Innovations) -> Outcome:
    """Disables a random enabled edge."""
    return _toggle(g, rng, False, "disable_edge")


def _draw_kind(rng: np.random.Generator, kinds: Sequence[str]) -> str:
    if isinstance(kinds, str) or len(kinds) == 0:
        raise ConfigError(f"kinds must be a non-empty sequence of node kinds of {NODE_KINDS}, got {kinds!r}")
    return str(rng.choice(list(kinds)))


def _numbered_node(child: Graph, run: Innovations, kind: str, activation: str) -> int:
    node = child.add_nodes(1, activation)[0] if kind == "simple" else child.add_cells(1, kind)[0]
    return run.node_of(child, node)


def _new_node(child: Graph, rng: np.random.Generator, run: Innovations, kinds: Sequence[str], activation: str) -> int:
    return _numbered_node(child, run, _draw_kind(rng, kinds), activation)


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


def enable_node(g: Graph, rng: np.random.Generator, run: Innovations) -> Outcome:
    """Enables a random disabled hidden node (inputs and outputs are never disabled)."""
    return _toggle(g, rng, True, "enable_node", nodes=True)


def disable_node(g: Graph, rng: np.random.Generator, run: Innovations) -> Outcome:
    """Disables a random enabled hidden node: it and its edges leave the network."""
    return _toggle(g, rng, False, "disable_node", nodes=True)


def _live_edges(g: Graph, live: set[int]) -> list[dict]:
    """The enabled edges between enabled nodes, in id order."""
    return [d for e in g.edge_ids() if (d := g.edge(e))["enabled"] and d["src"] in live and d["dst"] in live]


def _halves(rng: np.random.Generator, edges: list[dict], *, at_least_one: bool) -> tuple[list[dict], list[dict]]:
    """EXAMM's division of a split node's edges: each edge goes to each of
    the two new nodes with probability 1/2 (so to one, both or neither), and
    a side left empty gets one edge at random when ``at_least_one``."""
    picks = rng.random((len(edges), 2)) < 0.5
    sides = []
    for side in range(2):
        chosen = [d for d, pick in zip(edges, picks[:, side]) if pick]
        if not chosen and at_least_one and edges:
            chosen = [edges[int(rng.integers(len(edges)))]]
        sides.append(chosen)
    return sides[0], sides[1]


def _rewire(child: Graph, run: Innovations, edges: list[dict], ends: dict[int, int], made: set) -> None:
    """Re-creates ``edges`` with their ends mapped by ``ends`` (old node -> new
    node), keeping each edge's skip, kind and flags, numbered from the run.
    An edge whose (src, dst, skip, port) was made already is merged into it;
    a same-step edge that would close a cycle (a self-loop included) is
    dropped: the graph refuses it and nothing is numbered."""
    for d in edges:
        src, dst = ends.get(d["src"], d["src"]), ends.get(d["dst"], d["dst"])
        port = 0 if d["dst"] in ends else d["port"]  # a new node is no standard unit: port 0 only
        key = (src, dst, d["time_skip"], port)
        if key in made:
            continue
        try:
            run.edge_of(child, add_edge_like(child, d, src, dst, port=port))
        except GraphError:
            continue
        made.add(key)


def _retire(child: Graph, nodes: Sequence[int], edges: list[dict]) -> None:
    """Disables replaced nodes and the edges they had (as EXAMM does), so
    crossover still aligns on them and re-enabling a node does not bring
    its old connections back next to its replacements."""
    for d in edges:
        child.set_edge_enabled(d["id"], False)
    for node in nodes:
        child.set_node_enabled(node, False)


def split_node(
    g: Graph, rng: np.random.Generator, run: Innovations, *, kinds: Sequence[str] = NODE_KINDS, activation: str = "tanh"
) -> Outcome:
    """EXAMM's split node: a random enabled hidden node with incoming and
    outgoing edges is replaced by two new nodes of one kind drawn from
    ``kinds`` (EXAMM draws one node type per mutation).

    As EXAMM does, each of the node's incoming edges goes to each new node
    with probability 1/2 — to one, both or neither, so the two can share an
    input even when the node had only one — and a new node left without an
    incoming edge gets one at random; outgoing edges likewise. A recurrent
    self-loop goes to each new node with probability 1/2, with no such
    guarantee (EXAMM's recurrent edges). Every edge keeps its time skip
    (EXAMM redraws recurrent edges' skips; keeping them keeps the timing the
    parent was selected for). The old node and its edges are disabled, and
    every new node and edge is numbered from the run. The new edges mirror
    the old node's, so the graph stays acyclic at skip 0. (EXAMM also adds
    recurrent edges to a new Jordan or Elman node; nervenet's cells keep
    their state themselves and have no such kinds.)

    >>> import numpy as np, nervenet as nv
    >>> g = nv.mlp([2, 1, 1]); run = Innovations.after(g)
    >>> child = split_node(g, np.random.default_rng(0), run, kinds=("simple",))
    >>> [child.node(n)["enabled"] for n in child.node_ids()]
    [True, True, False, True, True, True]
    """
    nodes = _scalar_nodes(g)
    edges = _live_edges(g, {n["id"] for n in nodes})
    ins: dict[int, list[dict]] = {n["id"]: [] for n in nodes}
    outs: dict[int, list[dict]] = {n["id"]: [] for n in nodes}
    for d in edges:
        if d["src"] != d["dst"]:
            ins[d["dst"]].append(d)
            outs[d["src"]].append(d)
    candidates = [n["id"] for n in nodes if n["role"] == "hidden" and ins[n["id"]] and outs[n["id"]]]
    if not candidates:
        return Skip("split_node", "no enabled hidden node with incoming and outgoing edges")
    old = int(rng.choice(candidates))
    loops = [d for d in edges if d["src"] == d["dst"] == old]
    child = g.copy()
    kind = _draw_kind(rng, kinds)
    new = [_numbered_node(child, run, kind, activation) for _ in range(2)]
    halves = zip(
        _halves(rng, ins[old], at_least_one=True),
        _halves(rng, outs[old], at_least_one=True),
        _halves(rng, loops, at_least_one=False),
    )
    made: set = set()
    for node, (incoming, outgoing, loop) in zip(new, halves):
        _rewire(child, run, incoming + outgoing + loop, {old: node}, made)
    _retire(child, [old], ins[old] + outs[old] + loops)
    return child


def merge_nodes(
    g: Graph, rng: np.random.Generator, run: Innovations, *, kinds: Sequence[str] = NODE_KINDS, activation: str = "tanh"
) -> Outcome:
    """EXAMM's merge node: two random enabled hidden nodes are replaced by
    one new node (kind drawn from ``kinds``) that takes all their enabled
    edges, each re-created with its time skip and numbered from the run.

    Edges that become the same (src, dst, skip, port) are merged into one;
    one that would close a same-step cycle — an edge between the two nodes
    becomes a self-loop, and a path a -> c -> b becomes new -> c -> new — is
    dropped (EXAMM instead reverses a same-step edge by the nodes' depths,
    which would turn a connection around). The two old nodes and their
    edges are disabled.

    >>> import numpy as np, nervenet as nv
    >>> g = nv.mlp([2, 2, 1]); run = Innovations.after(g)
    >>> child = merge_nodes(g, np.random.default_rng(0), run, kinds=("simple",))
    >>> child.num_nodes, child.num_edges, run.edge - g.num_edges   # 2 inputs and 1 output edge
    (6, 9, 3)
    >>> merge_nodes(nv.mlp([2, 1]), np.random.default_rng(0), run)
    Skip(operator='merge_nodes', reason='fewer than two enabled hidden nodes')
    """
    nodes = _scalar_nodes(g)
    hidden = [n["id"] for n in nodes if n["role"] == "hidden"]
    if len(hidden) < 2:
        return Skip("merge_nodes", "fewer than two enabled hidden nodes")
    pair = [int(n) for n in rng.choice(hidden, 2, replace=False)]
    touching = [d for d in _live_edges(g, {n["id"] for n in nodes}) if d["src"] in pair or d["dst"] in pair]
    child = g.copy()
    merged = _new_node(child, rng, run, kinds, activation)
    _rewire(child, run, touching, dict.fromkeys(pair, merged), set())
    _retire(child, pair, touching)
    return child


def clone(g: Graph, rng: np.random.Generator, run: Innovations) -> Outcome:
    """The parent's structure, unchanged."""
    return g.copy()


#: Every operator by name, as a run draws them.
OPERATORS: dict[str, Callable[..., Outcome]] = {
    f.__name__: f
    for f in (
        add_edge, add_recurrent_edge, enable_edge, disable_edge, split_edge, add_node,
        enable_node, disable_node, split_node, merge_nodes, clone,
    )
}
