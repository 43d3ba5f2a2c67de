"""A graph as Graphviz DOT text: written here, with no Graphviz needed to
produce it (``dot -Tsvg graph.dot -o graph.svg`` renders it).

Nodes are ``n<id>``, labelled with id, role and kind, shaped and filled by
kind; nodes of one topological level share a ``rank=same`` subgraph, so the
picture reads left to right. Feed-forward edges are solid, recurrent ones
dashed, labelled ``t-k`` and left out of the ranking (``constraint=false``);
disabled nodes and edges are grey, disabled edges dotted.
"""

from __future__ import annotations

from typing import Any

from .._checks import _short
from ..errors import ConfigError
from .scene import Edge, Node, Scene, node_style, read

__all__ = ["to_dot"]


def to_dot(graph: Any, *, rankdir: str = "LR") -> str:
    """The graph as Graphviz DOT text.

    ``rankdir`` is "LR" (inputs left, outputs right) or "TB" (top to
    bottom). Deterministic: nodes and edges come in id order.

    >>> import nervenet as nv
    >>> g = nv.rnn.elman(1, 2, 1)
    >>> dot = nv.drawing.to_dot(g)
    >>> dot.splitlines()[0]
    'digraph nervenet {'
    >>> [line.strip() for line in dot.splitlines() if "t-1" in line][0]
    'n1 -> n1 [style=dashed, color="#6a3d9a", label="t-1", constraint=false];'
    """
    rankdir = _rankdir(rankdir)
    scene = read(graph)
    out = [
        "digraph nervenet {",
        f"  rankdir={rankdir};",
        '  node [style=filled, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9, arrowsize=0.6];',
    ]
    out += [f"  {_node_line(n)}" for n in scene.nodes]
    out += _ranks(scene)
    out += [f"  {_edge_line(e)}" for e in scene.edges]
    out.append("}")
    return "\n".join(out) + "\n"


def quote(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, line
    breaks as DOT's centred ``\\n``."""
    lines = str(text).replace("\r\n", "\n").split("\n")
    return '"' + "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in lines) + '"'


def _node_line(n: Node) -> str:
    style = node_style(n.group)
    label = f"{n.id} {n.role}" + (f"\n{n.detail}" if n.detail else "")
    attrs = [f"label={quote(label)}", f"shape={style.shape}"]
    if n.enabled:
        attrs.append(f"fillcolor={quote(style.colour)}")
    else:
        attrs += ['style="filled,dashed"', 'fillcolor="#f4f4f4"', 'color="#b0b0b0"', 'fontcolor="#909090"']
    if n.role == "output" or (n.role == "input" and n.kind != "simple"):
        attrs.append("peripheries=2")  # the role of a cell or map (or any output) at a glance
    return f"n{n.id} [{', '.join(attrs)}];"


def _ranks(scene: Scene) -> list[str]:
    by_level: dict[int, list[int]] = {}
    for n in scene.nodes:
        by_level.setdefault(n.level, []).append(n.id)
    return [
        f"  {{ rank=same; {' '.join(f'n{i};' for i in ids)} }}"
        for _, ids in sorted(by_level.items())
    ]


def _edge_line(e: Edge) -> str:
    attrs = []
    if not e.enabled:
        attrs.append("style=dotted")
    elif e.recurrent:
        attrs.append("style=dashed")
    if e.kind == "filter":
        attrs.append("penwidth=2")
    if e.kind in ("identity", "pool"):
        attrs.append("arrowhead=empty")
    attrs.append(f"color={quote(e.colour)}")
    if e.label:
        attrs.append(f"label={quote(e.label)}")
        if not e.active:
            attrs.append('fontcolor="#909090"')
    if e.recurrent:
        attrs.append("constraint=false")  # recurrent edges do not rank nodes
    return f"n{e.src} -> n{e.dst} [{', '.join(attrs)}];"


def _rankdir(value: Any) -> str:
    """DOT's direction of ranks: "LR" or "TB" (a string first, so that an
    array is refused rather than compared)."""
    if not isinstance(value, str) or value not in ("LR", "TB"):
        raise ConfigError(f"rankdir must be 'LR' (left to right) or 'TB' (top to bottom), got {_short(value)}")
    return value
