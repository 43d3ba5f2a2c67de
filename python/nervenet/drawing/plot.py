"""A graph drawn with matplotlib (imported here on first use, so that
``import nervenet`` does not load it).

Nodes sit in columns by topological level (inputs left, outputs right),
ordered within a column by the mean height of their predecessors (fewer
crossings); markers and colours by kind, with a legend. Feature maps are
boxes labelled ``C×H×W``. Feed-forward edges are straight, recurrent edges
dashed curves labelled with their skip ``t-k`` (once per pair of nodes and
skip); disabled elements are faded (disabled edges dotted). Up to
``arrows`` edges each edge is an arrow of its own; above that, edges go into
a few ``LineCollection``\\ s, faded by how many run between the same two
columns, and recurrent edges get one label per bundle (same columns, same
skip), so an MLP 784-100-10 draws in seconds.

Recurrent curves are laid out in display space for the axes' size at the
time of the call (their bow keeps its shape whatever the aspect ratio);
resizing the figure afterwards stretches them a little.

Artists carry a ``gid`` saying what they are: ``nodes:<group>`` (a
scatter of scalar nodes), ``map:<id>`` (a feature map's box),
``edge:<id>`` (one arrow), ``edges:feedforward`` / ``edges:recurrent`` /
``edges:inactive`` (collections), ``skip-label`` and ``node-label``.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Optional

import numpy as np

from .._checks import flag, integer
from ..errors import ConfigError
from .scene import EDGE_COLOURS, INACTIVE_COLOUR, RECURRENT_COLOUR, Edge, Scene, node_style, read

__all__ = ["draw_graph"]

#: faded alpha of disabled nodes
FADED = 0.3
#: how far a recurrent edge's control point lies from the straight line, as a share of its length (15 px at least)
BOW = 0.25


def draw_graph(
    graph: Any,
    ax: Optional[Any] = None,
    *,
    labels: Optional[bool] = None,
    legend: bool = True,
    arrows: int = 300,
) -> Any:
    """Draws ``graph`` on matplotlib Axes and returns them.

    ``ax=None`` makes a new figure sized to the graph (``pyplot.subplots``).
    ``labels`` writes node ids beside the nodes (default: up to 60 nodes);
    ``legend`` adds the legend of node kinds and edge styles; up to
    ``arrows`` edges are drawn as single arrows, more as line collections.

    >>> import matplotlib; matplotlib.use("Agg")
    >>> import nervenet as nv
    >>> ax = nv.drawing.draw_graph(nv.rnn.elman(1, 2, 1))
    >>> sorted({t.get_text() for t in ax.texts if t.get_gid() == "skip-label"})
    ['t-1']
    """
    labels = flag(labels, "labels", optional=True)
    legend = flag(legend, "legend")
    arrows = integer(arrows, "arrows", bits=63)
    if ax is not None and not hasattr(ax, "add_collection"):
        raise ConfigError(f"ax must be matplotlib Axes, got {type(ax).__name__}")
    scene = read(graph)
    pos = _positions(scene)
    if ax is None:
        import matplotlib.pyplot as plt

        tallest = max(Counter(n.level for n in scene.nodes).values(), default=1)
        width = min(3 + 1.8 * scene.levels, 24) + (2.5 if legend else 0.0)
        fig, ax = plt.subplots(figsize=(width, min(2.5 + 0.3 * tallest, 16)))
        # room for the legend now: curves are laid out in display space, so no tight_layout afterwards
        fig.subplots_adjust(left=0.02, bottom=0.02, top=0.98, right=1 - (2.5 / width if legend else 0.02))
    _limits(ax, scene, pos)
    _nodes(ax, scene, pos, len(scene.nodes) <= 60 if labels is None else labels)
    if len(scene.edges) <= arrows:
        _arrows(ax, scene, pos)
    else:
        _collections(ax, scene, pos)
    if legend:
        _legend(ax, scene)
    ax.set_axis_off()
    return ax


def _positions(scene: Scene) -> dict[int, tuple[float, float]]:
    """x = level; y spread around 0, a column of n nodes spaced
    ``sqrt(tallest / n)`` apart (short columns spread wider without
    reaching the tallest's height), ordered by the mean y of their
    same-step predecessors, ties by id."""
    columns: dict[int, list[int]] = {}
    for n in scene.nodes:
        columns.setdefault(n.level, []).append(n.id)
    tallest = max((len(c) for c in columns.values()), default=1)
    preds: dict[int, list[int]] = {}
    for e in scene.edges:
        if not e.recurrent and e.src != e.dst:
            preds.setdefault(e.dst, []).append(e.src)
    pos: dict[int, tuple[float, float]] = {}
    for level in sorted(columns):
        ids = columns[level]

        def key(i: int) -> tuple[float, int]:
            ys = [pos[p][1] for p in preds.get(i, ()) if p in pos]
            return (-(sum(ys) / len(ys)) if ys else 0.0, i)

        if level > 0:
            ids = sorted(ids, key=key)
        step = math.sqrt(tallest / len(ids))
        for k, i in enumerate(ids):
            pos[i] = (float(level), ((len(ids) - 1) / 2 - k) * step)
    return pos


def _limits(ax: Any, scene: Scene, pos: dict[int, tuple[float, float]]) -> None:
    """Fixed limits with a margin for loops, labels and boxes; set before
    anything is drawn, so curves made in display space map back exactly."""
    ys = [p[1] for p in pos.values()] or [0.0]
    low, high = min(ys), max(ys)
    pad = max((high - low) * 0.08, 0.8)
    ax.set_xlim(-0.5, scene.levels - 0.5)
    ax.set_ylim(low - pad, high + pad)


def _nodes(ax: Any, scene: Scene, pos: dict[int, tuple[float, float]], labels: bool) -> None:
    from matplotlib.colors import to_rgba

    groups: dict[str, list[Any]] = {}
    for n in scene.nodes:
        if n.shape is None:
            groups.setdefault(n.group, []).append(n)
        else:
            _map_box(ax, n, pos[n.id])
    for group, nodes in sorted(groups.items()):
        style = node_style(group)
        xy = np.array([pos[n.id] for n in nodes])
        face = np.array([to_rgba(style.colour, 1.0 if n.enabled else FADED) for n in nodes])
        edge = np.array([to_rgba("#404040" if n.enabled else INACTIVE_COLOUR, 1.0 if n.enabled else FADED)
                         for n in nodes])
        widths = [2.0 if n.role == "output" or (n.role == "input" and n.kind != "simple") else 0.8 for n in nodes]
        size = 90 if len(scene.nodes) <= 200 else 25
        coll = ax.scatter(xy[:, 0], xy[:, 1], s=size, marker=style.marker, c=face, edgecolors=edge,
                          linewidths=widths, zorder=3)
        coll.set_gid(f"nodes:{group}")
    if labels:
        for n in scene.nodes:
            if n.shape is None:
                x, y = pos[n.id]
                # below: self loops and their labels take the top
                ax.annotate(str(n.id), (x, y), xytext=(0, -7), textcoords="offset points", ha="center",
                            va="top", fontsize=7, color="#202020" if n.enabled else "#a0a0a0", zorder=4,
                            gid="node-label")


def _map_box(ax: Any, n: Any, xy: tuple[float, float]) -> None:
    style = node_style(n.group)
    text = f"{n.id} {n.role}\n{n.detail}"
    box = dict(boxstyle="round,pad=0.3", facecolor=style.colour, edgecolor="#404040" if n.enabled else INACTIVE_COLOUR,
               linewidth=2.0 if n.role != "hidden" else 0.8, alpha=1.0 if n.enabled else FADED)
    ax.text(xy[0], xy[1], text, ha="center", va="center", fontsize=7, bbox=box, zorder=3, gid=f"map:{n.id}",
            color="#202020" if n.enabled else "#a0a0a0")


def _curve(ax: Any, a: tuple[float, float], b: tuple[float, float], points: int) -> np.ndarray:
    """A recurrent edge's path in data coordinates: a quadratic Bézier
    bowing to the right of its direction (forward edges below the straight
    line, backward ones above), or a loop above the node for a self edge;
    made in display space, so it keeps its shape whatever the axes' aspect."""
    to_display = ax.transData
    pa, pb = to_display.transform([a, b])
    t = np.linspace(0.0, 1.0, points)[:, None]
    if np.allclose(pa, pb):
        angles = np.radians(-60 + 300 * t[:, 0])
        centre = pa + np.array([0.0, 13.0])
        path = centre + 9.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    else:
        d = pb - pa
        length = float(np.hypot(*d))
        normal = np.array([d[1], -d[0]]) / length
        control = (pa + pb) / 2 + normal * max(BOW * length, 15.0)
        path = (1 - t) ** 2 * pa + 2 * (1 - t) * t * control + t**2 * pb
    return to_display.inverted().transform(path)


def _edge_style(e: Edge) -> dict[str, Any]:
    return {
        "color": e.colour,
        "linestyle": ":" if not e.enabled else ("--" if e.recurrent else "-"),
        "linewidth": 1.8 if e.kind == "filter" else 1.0,
        "alpha": 1.0 if e.active else 0.6,
    }


def _arrows(ax: Any, scene: Scene, pos: dict[int, tuple[float, float]]) -> None:
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    labelled: set[tuple[int, int, int]] = set()
    for e in scene.edges:
        style = _edge_style(e)
        head = "-|>" if e.kind == "weight" else "-|>,head_width=0.3"
        if e.recurrent:
            curve = _curve(ax, pos[e.src], pos[e.dst], 33)
            arrow = FancyArrowPatch(path=Path(_shortened(ax, curve)), arrowstyle=head, mutation_scale=9, **style)
            if (e.src, e.dst, e.skip) not in labelled:  # edges into several gates of a unit share one curve
                labelled.add((e.src, e.dst, e.skip))
                _skip_label(ax, e, curve[len(curve) // 2])
        else:
            arrow = FancyArrowPatch(pos[e.src], pos[e.dst], arrowstyle=head, mutation_scale=9, shrinkA=5,
                                    shrinkB=6, **style)
        arrow.set_gid(f"edge:{e.id}")
        arrow.set_zorder(2)
        ax.add_patch(arrow)


def _shortened(ax: Any, curve: np.ndarray, pixels: float = 6.0) -> np.ndarray:
    """The curve without its last ``pixels`` (the arrowhead ends at the
    node's rim, not under its marker)."""
    d = ax.transData.transform(curve)
    steps = np.hypot(*np.diff(d, axis=0).T)
    left = np.concatenate([np.cumsum(steps[::-1])[::-1], [0.0]])  # length from each point to the end
    k = int(np.searchsorted(-left, -pixels))  # the first point less than ``pixels`` from the end
    if k < 2 or steps[k - 1] == 0:
        return curve
    share = (left[k - 1] - pixels) / steps[k - 1]
    end = d[k - 1] + share * (d[k] - d[k - 1])
    return np.vstack([curve[:k], ax.transData.inverted().transform(end[None, :])])


def _skip_label(ax: Any, e: Edge, at: np.ndarray) -> None:
    _skip_text(ax, e.skip_label, at, e.colour)


def _skip_text(ax: Any, text: str, at: np.ndarray, colour: str) -> None:
    ax.text(at[0], at[1], text, fontsize=7, ha="center", va="center", color=colour, zorder=4, gid="skip-label",
            bbox=dict(boxstyle="round,pad=0.1", facecolor="white", edgecolor="none", alpha=0.8))


def _collections(ax: Any, scene: Scene, pos: dict[int, tuple[float, float]]) -> None:
    """Edges as three line collections (feed-forward, recurrent, inactive);
    each bundle of edges between two columns is faded by its size, so a
    dense layer reads as a texture and a few filter edges stay visible."""
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgba

    levels = {n.id: n.level for n in scene.nodes}
    bundle = [(levels[e.src], levels[e.dst], e.skip) for e in scene.edges]
    sizes: dict[tuple[int, int, int], int] = {}
    for b in bundle:
        sizes[b] = sizes.get(b, 0) + 1
    parts: dict[str, list[tuple[np.ndarray, Edge, float]]] = {"feedforward": [], "recurrent": [], "inactive": []}
    middles: dict[tuple[int, int, int], list[np.ndarray]] = {}
    for e, b in zip(scene.edges, bundle):
        if e.recurrent:
            line = _curve(ax, pos[e.src], pos[e.dst], 12)
            middles.setdefault(b, []).append(line[len(line) // 2])
        else:
            line = np.array([pos[e.src], pos[e.dst]])
        alpha = min(1.0, max(0.015, 40 / sizes[b])) * (1.0 if e.active else 0.6)
        parts["inactive" if not e.active else ("recurrent" if e.recurrent else "feedforward")].append((line, e, alpha))
    for name, items in parts.items():
        if not items:
            continue
        style = {"feedforward": "-", "recurrent": "--", "inactive": ":"}[name]
        base = {c: to_rgba(c) for c in {e.colour for _, e, _ in items}}
        colours = np.array([base[e.colour] for _, e, _ in items])
        colours[:, 3] = [a for _, _, a in items]
        lines = LineCollection([line for line, _, _ in items], colors=colours,
                               linestyles=style, linewidths=[1.5 if e.kind == "filter" else 0.5 for _, e, _ in items],
                               zorder=2)
        lines.set_gid(f"edges:{name}")
        ax.add_collection(lines, autolim=False)
    for (_, _, skip), mids in sorted(middles.items()):
        at = np.mean(mids, axis=0)
        _skip_text(ax, f"t-{skip}", at, RECURRENT_COLOUR)


def _legend(ax: Any, scene: Scene) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = []
    for group in sorted({n.group for n in scene.nodes}, key=_group_order):
        style = node_style(group)
        if group == "feature_map":
            handles.append(Patch(facecolor=style.colour, edgecolor="#404040", label="feature map (C×H×W)"))
        else:
            handles.append(Line2D([], [], marker=style.marker, linestyle="", markerfacecolor=style.colour,
                                  markeredgecolor="#404040", markersize=8, label=style.legend))
    kinds = {e.kind for e in scene.edges}
    entries = [
        (any(not e.recurrent and e.kind == "weight" for e in scene.edges), EDGE_COLOURS["weight"], "-", "feed-forward"),
        (any(e.recurrent for e in scene.edges), RECURRENT_COLOUR, "--", "recurrent (t-k: skip)"),
        *((kind in kinds, EDGE_COLOURS[kind], "-", kind) for kind in ("identity", "filter", "pool")),
        (any(not e.enabled for e in scene.edges) or any(not n.enabled for n in scene.nodes), INACTIVE_COLOUR, ":",
         "disabled"),
    ]
    handles += [Line2D([], [], color=colour, linestyle=dash, label=text) for present, colour, dash, text in entries
                if present]
    # outside the axes: "best" would test every artist of a large graph
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)


def _group_order(group: str) -> tuple[int, str]:
    return ({"input": 0, "hidden": 1, "output": 9}.get(group, 5), group)
