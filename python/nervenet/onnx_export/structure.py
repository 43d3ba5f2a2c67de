"""What the export reads from a network: its enabled nodes and edges, every
edge's weight(s) and every node's bias and cell parameters, and the nodes'
topological levels (by ``time_skip = 0`` edges), each level cut into
*segments* of nodes computed together (simple nodes of one activation, cells
of one kind) and its feature maps."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from .. import _core
from ..errors import UnsupportedError

#: Every memory cell kind -> its input ports (4 for the standard units), from the core's vocabulary.
PORTS = {kind: len(_core.cell_ports(kind)) for kind in _core.cell_kinds()}
#: Each cell's own parameters, in the order its group stores them.
CELL_PARAMS = {
    "lstm": ("w_f", "u_f", "b_f", "w_i", "u_i", "b_i", "w_o", "u_o", "b_o", "w_c", "b_c"),
    "gru": ("zw", "zu", "zb", "rw", "ru", "rb", "hw", "hu", "hb"),
    "mgu": ("fw", "fu", "fb", "hw", "hu", "hb"),
    "ugrnn": ("cw", "ch", "cb", "gw", "gh", "gb"),
    "delta": ("v", "alpha", "beta1", "beta2", "bz", "br"),
}


@dataclass
class Segment:
    """Nodes of one level computed together: ``key`` is ``("simple",
    activation, cap, slope)`` or ``("cell", kind)``."""

    key: tuple[Any, ...]
    nodes: list[int]
    ports: int = 1  # pre-activation columns per node (4 for standard units)
    col: int = 0  # first pre-activation column in the level
    out: int = 0  # first output column in the level


@dataclass
class Level:
    index: int
    segments: list[Segment] = field(default_factory=list)
    maps: list[int] = field(default_factory=list)
    width: int = 0  # scalar outputs
    columns: int = 0  # pre-activation columns


@dataclass
class Structure:
    nodes: dict[int, dict[str, Any]]
    edges: list[dict[str, Any]]  # enabled, between enabled nodes
    inputs: list[int]
    outputs: list[int]
    level_of: dict[int, int]
    levels: list[Level]
    input_at: dict[int, int]  # input node -> first column of X
    n_inputs: int
    image: Optional[tuple[int, int, int]]
    flat: np.ndarray  # the parameter vector
    groups: dict[tuple[str, int], tuple[int, int, tuple[int, ...]]]  # (kind, owner) -> start, stop, shape
    place: dict[int, tuple[int, int]] = field(default_factory=dict)  # scalar node -> (level, output column)
    recurrent: bool = False

    @functools.cached_property
    def incoming(self) -> dict[int, list[dict[str, Any]]]:
        """Each node's incoming edges."""
        out: dict[int, list[dict[str, Any]]] = {}
        for e in self.edges:
            out.setdefault(e["dst"], []).append(e)
        return out

    def weight(self, e: dict[str, Any]) -> np.ndarray:
        """An edge's weight(s): its group's values, else its fixed weight (1 for identity edges)."""
        v = self._group("edge", e["id"])
        if v is not None:
            return v
        return np.asarray(1.0 if e["weight"] is None else e["weight"])

    def scalar_weight(self, e: dict[str, Any]) -> float:
        """A scalar edge's weight (without making an array per edge)."""
        where = self.groups.get(("edge", e["id"]))
        if where is not None:
            return float(self.flat[where[0]])
        return 1.0 if e["weight"] is None else float(e["weight"])

    def bias(self, node: int) -> Optional[np.ndarray]:
        """A node's bias (scalar, tied (C,), untied (C, H, W)) or a unit's gate biases."""
        v = self._group("bias", node)
        return self._group("gate_bias", node) if v is None else v

    def cell(self, node: int) -> np.ndarray:
        """A memory cell's own parameters, in :data:`CELL_PARAMS` order."""
        v = self._group("cell", node)
        assert v is not None, f"cell {node} has no parameters"
        return v

    def _group(self, kind: str, owner: int) -> Optional[np.ndarray]:
        where = self.groups.get((kind, owner))
        if where is None:
            return None
        start, stop, shape = where
        return self.flat[start:stop].reshape(shape)

    def map_shape(self, node: int) -> Optional[tuple[int, int, int]]:
        shape = self.nodes[node].get("shape")
        return None if shape is None else tuple(shape)

    def size(self, node: int) -> int:
        """The values a node outputs: 1, or its feature map's C * H * W."""
        shape = self.nodes[node].get("shape")
        return 1 if shape is None else int(np.prod(shape))


def read(net: Any) -> Structure:
    """The export's view of ``net`` (a :class:`~nervenet.Network`)."""
    g = net.graph
    nodes = {n: g.node(n) for n in g.node_ids()}
    nodes = {n: d for n, d in nodes.items() if d["enabled"]}
    edges = [e for e in _edges(g) if e["enabled"] and e["src"] in nodes and e["dst"] in nodes]
    inputs, outputs = g.inputs(), g.outputs()
    recurrent = any(e["time_skip"] > 0 for e in edges) or any(d["kind"] in PORTS for d in nodes.values())
    for e in edges:
        if e["kind"] == "pool" and e.get("op") == "fractional_max":
            raise UnsupportedError(
                f"edge {e['id']} ({e['src']} -> {e['dst']}): fractional max pooling draws fresh random regions on "
                "every pass, which no ONNX operator does; replace it with max or avg pooling to export")
        if e["kind"] not in ("weight", "identity", "filter", "pool"):
            raise UnsupportedError(f"edge {e['id']}: ONNX export does not know edges of kind {e['kind']!r}")
        touches_map = "shape" in nodes[e["src"]] or "shape" in nodes[e["dst"]]
        if touches_map and e["time_skip"] > 0:
            raise UnsupportedError(f"edge {e['id']}: a recurrent edge touching a feature map is not exportable")
    level_of = _levels(nodes, edges, inputs)
    groups = {(grp.kind, grp.owner): (grp.start, grp.stop, grp.shape) for grp in net.groups}
    s = Structure(nodes, edges, inputs, outputs, level_of, [], {}, 0, net._image, net.parameters, groups,
                  recurrent=recurrent)
    # X's columns follow the engine's input rows: scalar inputs by id, then
    # input maps by (height, width, id) (plan/layout.rs orders every level so)
    for n in sorted(inputs, key=lambda n: (1, tuple(nodes[n]["shape"][1:]), n) if "shape" in nodes[n] else (0, (), n)):
        s.input_at[n] = s.n_inputs
        s.n_inputs += s.size(n)
    s.levels = _segments(s)
    return s


def _edges(g: Any) -> list[dict[str, Any]]:
    """Every edge as ``Graph.edge`` gives it, scalar ones read in bulk from
    the graph's JSON (a large MLP has millions; one call per edge would
    dominate the export)."""
    out = []
    for e in json.loads(g.to_json())["edges"]:
        kind = e["kind"]["type"]
        if kind not in ("weight", "identity"):
            out.append(g.edge(e["id"]))
            continue
        out.append({"id": e["id"], "src": e["src"], "dst": e["dst"], "kind": kind, "time_skip": e["time_skip"],
                    "port": e.get("port", 0), "weight": e.get("weight"), "enabled": e.get("enabled", True)})
    return out


def _levels(nodes: dict[int, dict[str, Any]], edges: list[dict[str, Any]], inputs: list[int]) -> dict[int, int]:
    """Inputs are level 0; every other node one past its deepest same-step source (at least 1)."""
    preds: dict[int, list[int]] = {n: [] for n in nodes}
    for e in edges:
        if e["time_skip"] == 0:
            preds[e["dst"]].append(e["src"])
    level: dict[int, int] = {n: 0 for n in inputs}
    for start in nodes:  # iterative depth-first: deep random DAGs must not hit the recursion limit
        stack = [start]
        while stack:
            n = stack[-1]
            if n in level:
                stack.pop()
                continue
            todo = [p for p in preds[n] if p not in level]
            if todo:
                stack.extend(todo)
                continue
            level[n] = 1 + max((level[p] for p in preds[n]), default=0)
            stack.pop()
    return level


def _segments(s: Structure) -> list[Level]:
    depth = max(s.level_of.values(), default=0)
    levels = [Level(i) for i in range(depth + 1)]
    keys: dict[int, dict[tuple[Any, ...], Segment]] = {i: {} for i in range(depth + 1)}
    for n in sorted(s.nodes):
        if n in s.input_at:
            continue
        d, lv = s.nodes[n], s.level_of[n]
        if "shape" in d:
            levels[lv].maps.append(n)
            continue
        if d["kind"] == "simple":
            key: tuple[Any, ...] = ("simple", _act(d["activation"]), d.get("cap"), d.get("slope"))
        elif d["kind"] in PORTS:
            key = ("cell", d["kind"])
        else:
            raise UnsupportedError(f"node {n}: ONNX export does not know nodes of kind {d['kind']!r}")
        seg = keys[lv].setdefault(key, Segment(key, [], PORTS.get(d["kind"], 1)))
        seg.nodes.append(n)
    for lv in levels:
        lv.segments = list(keys[lv.index].values())
        for seg in lv.segments:
            seg.col, seg.out = lv.columns, lv.width
            lv.columns += seg.ports * len(seg.nodes)
            lv.width += len(seg.nodes)
            for k, n in enumerate(seg.nodes):
                s.place[n] = (lv.index, seg.out + k)
    return levels


def _act(name: str) -> str:
    return "identity" if name == "linear" else name
