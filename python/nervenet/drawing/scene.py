"""A graph read once for drawing: nodes and edges as small records, their
topological levels and the styles both renderers share (DOT and matplotlib
draw the same picture, so the kind-to-colour table lives here, once).

Levels count ``time_skip = 0`` edges (disabled ones included, so that
toggling an edge does not move the picture): inputs and nodes fed only
through recurrent edges are level 0, every other node one more than its
deepest same-step predecessor, and outputs without same-step successors go
to the last column. A graph with a cycle among same-step edges is invalid,
but is still drawn: the cycle is broken at its smallest node id.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any, Optional

from .. import _core

__all__ = ["NodeStyle", "Node", "Edge", "Scene", "read", "levels", "node_style", "EDGE_COLOURS", "RECURRENT_COLOUR",
           "INACTIVE_COLOUR"]


@dataclass(frozen=True)
class NodeStyle:
    """How one group of nodes looks: legend text, fill colour, Graphviz
    shape and matplotlib marker."""

    legend: str
    colour: str
    shape: str
    marker: str


#: styles by group: the role for simple nodes, the kind for the others
NODE_STYLES: dict[str, NodeStyle] = {
    "input": NodeStyle("input", "#a6cee3", "ellipse", "o"),
    "hidden": NodeStyle("hidden (simple)", "#f0f0f0", "ellipse", "o"),
    "output": NodeStyle("output", "#fb9a99", "ellipse", "o"),
    "lstm": NodeStyle("LSTM cell", "#b2df8a", "hexagon", "h"),
    "gru": NodeStyle("GRU cell", "#fdbf6f", "octagon", "8"),
    "mgu": NodeStyle("MGU cell", "#cab2d6", "pentagon", "p"),
    "ugrnn": NodeStyle("UGRNN cell", "#ffff99", "diamond", "D"),
    "delta": NodeStyle("Delta-RNN cell", "#8dd3c7", "triangle", "^"),
    "lstm_unit": NodeStyle("LSTM unit (torch)", "#66a61e", "septagon", "H"),
    "gru_unit": NodeStyle("GRU unit (torch)", "#ff7f00", "house", "v"),
    "feature_map": NodeStyle("feature map", "#d9d9d9", "box3d", "s"),
}

#: edge colours by kind; recurrent weight edges get their own
EDGE_COLOURS = {"weight": "#333333", "identity": "#1f78b4", "filter": "#33a02c", "pool": "#e31a1c"}
RECURRENT_COLOUR = "#6a3d9a"
INACTIVE_COLOUR = "#b0b0b0"


def node_style(group: str) -> NodeStyle:
    """The style of a node group; a kind without an entry (one added to the
    core later) is drawn as a grey circle named by its kind."""
    return NODE_STYLES.get(group, NodeStyle(group, "#bdbdbd", "ellipse", "o"))


@dataclass(frozen=True)
class Node:
    id: int
    role: str
    kind: str
    #: "input" / "hidden" / "output" for simple nodes, else the kind
    group: str
    #: the activation, cell kind, or ``C×H×W activation`` of a map
    detail: str
    shape: Optional[tuple[int, int, int]]
    enabled: bool
    level: int


@dataclass(frozen=True)
class Edge:
    id: int
    src: int
    dst: int
    kind: str
    skip: int
    #: edge and both ends enabled: part of the network
    active: bool
    #: the edge's own flag (a disabled edge is dotted, an edge of a disabled node only faded)
    enabled: bool
    #: what the edge is besides its skip: a gate port, a filter's or pool's geometry
    detail: str

    @property
    def recurrent(self) -> bool:
        return self.skip >= 1

    @property
    def skip_label(self) -> str:
        return f"t-{self.skip}"

    @property
    def label(self) -> str:
        """The skip of a recurrent edge and the edge's detail, joined."""
        return " ".join(p for p in ((self.skip_label if self.recurrent else ""), self.detail) if p)

    @property
    def colour(self) -> str:
        if not self.active:
            return INACTIVE_COLOUR
        if self.recurrent and self.kind == "weight":
            return RECURRENT_COLOUR
        return EDGE_COLOURS.get(self.kind, EDGE_COLOURS["weight"])


@dataclass(frozen=True)
class Scene:
    """Nodes and edges sorted by id, and the number of levels."""

    nodes: list[Node]
    edges: list[Edge]
    levels: int


def read(graph: Any) -> Scene:
    """Reads a :class:`nervenet.Graph` (or the core graph) once."""
    from ..graph.graph import _as_core_graph

    g = _as_core_graph(graph)
    raw_nodes = {i: g.node(i) for i in sorted(g.node_ids())}
    raw_edges = [g.edge(e) for e in sorted(g.edge_ids())]
    level = levels(raw_nodes, raw_edges)
    ports = {k: _core.cell_ports(k) for k in _core.cell_kinds()}
    nodes = [_node(d, level[i]) for i, d in raw_nodes.items()]
    enabled = {n.id: n.enabled for n in nodes}
    edges = [_edge(d, enabled, raw_nodes, ports) for d in raw_edges]
    return Scene(nodes, edges, 1 + max(level.values(), default=0))


def _node(d: dict[str, Any], level: int) -> Node:
    kind, role = d["kind"], d["role"]
    shape = tuple(d["shape"]) if d.get("shape") is not None else None
    if shape is not None:
        detail = "×".join(str(v) for v in shape) + (f" {d['activation']}" if d.get("activation") else "")
    elif kind == "simple":
        detail = str(d.get("activation") or "")
    else:
        detail = kind
    group = role if kind == "simple" else kind
    return Node(d["id"], role, kind, group, detail, shape, bool(d["enabled"]), level)


def _edge(d: dict[str, Any], enabled: dict[int, bool], nodes: dict[int, dict[str, Any]],
          ports: dict[str, list[str]]) -> Edge:
    kind = d["kind"]
    if kind == "filter":
        detail = f"{d['kh']}×{d['kw']}" + (f"×{d['kc']}" if d.get("kc") else "") + f" s{d['stride']} p{d['padding']}"
    elif kind == "pool":
        (h, w), (sh, sw) = d["size"], d["stride"]
        stride = f"s{sh}" + (f"×{sw}" if sw != sh else "")
        detail = "fractional_max" if d["op"] == "fractional_max" else f"{d['op']} {h}×{w} {stride}"
    elif kind == "identity":
        detail = "identity"
    else:
        names = ports.get(nodes[d["dst"]]["kind"], ["x"])
        detail = names[d["port"]] if len(names) > 1 and d["port"] < len(names) else ""
    on = bool(d["enabled"])
    return Edge(d["id"], d["src"], d["dst"], kind, int(d["time_skip"]), on and enabled[d["src"]] and enabled[d["dst"]],
                on, detail)


def levels(nodes: dict[int, dict[str, Any]], edges: list[dict[str, Any]]) -> dict[int, int]:
    """Topological levels over same-step edges (Kahn's algorithm, smallest
    id first, so the result is deterministic); a cycle is broken at its
    smallest remaining node."""
    preds: dict[int, list[int]] = {i: [] for i in nodes}
    succs: dict[int, list[int]] = {i: [] for i in nodes}
    for e in edges:
        if e["time_skip"] == 0 and e["src"] != e["dst"]:
            preds[e["dst"]].append(e["src"])
            succs[e["src"]].append(e["dst"])
    waiting = {i: len(p) for i, p in preds.items()}
    ready = [i for i, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    level: dict[int, int] = {}
    while len(level) < len(nodes):
        if not ready:  # a cycle: place its smallest node from the predecessors already placed
            heapq.heappush(ready, min(i for i in nodes if i not in level))
        i = heapq.heappop(ready)
        if i in level:
            continue
        level[i] = 1 + max((level[p] for p in preds[i] if p in level), default=-1)
        for s in succs[i]:
            waiting[s] -= 1
            if waiting[s] == 0 and s not in level:
                heapq.heappush(ready, s)
    last = max(level.values(), default=0)
    for i, d in nodes.items():
        if d["role"] == "output" and not succs[i]:
            level[i] = last
    return level
