"""Drawing a graph (issue 14, item 8): ``Graph.to_dot()`` and
``nv.drawing.draw_graph`` for every family of graph — MLPs, standard and
cell RNNs of every kind, random recurrent graphs with skips, CNNs with
feature maps, filters and pools, disabled nodes and edges. The DOT text is
checked structurally (no Graphviz needed), the matplotlib drawing on its
artists (Agg backend)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import nervenet as nv
from nervenet.drawing import dot, plot, scene

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# the folder holding the nervenet these tests import (the source tree, or site-packages where installed)
PACKAGE_PARENT = str(Path(nv.__file__).resolve().parents[1])


def _cells() -> nv.Graph:
    """Every memory cell kind, a recurrent edge, a disabled cell and a disabled edge."""
    g = nv.Graph()
    x = g.add_inputs(2)
    cells = [g.add_cells(1, kind)[0] for kind in nv.rnn.CELL_KINDS]
    y = g.add_outputs(1)
    g.connect_all(x, cells)
    g.connect_all(cells, y)
    g.connect(y[0], cells[0], time_skip=2)
    g.set_edge_enabled(g.connect(x[0], y[0]), False)
    g.set_node_enabled(cells[2], False)
    return g


def _disabled() -> nv.Graph:
    g = nv.random_graph(3, 6, 2, recurrent=4, max_skip=3, seed=4)
    hidden = [i for i in g.node_ids() if g.node(i)["role"] == "hidden"]
    g.set_node_enabled(hidden[0], False)
    for e in g.edge_ids()[::3]:
        g.set_edge_enabled(e, False)
    return g


def _residual() -> nv.Graph:
    """A residual block (identity edges between maps, flattened into a
    scalar output) and a scalar identity edge."""
    g = nv.Graph()
    x = g.add_feature_map(2, 6, 6, role="input")
    block = nv.cnn.resnet_block(g, x, 2)
    s = g.add_inputs(1)
    y = g.add_outputs(1)
    g.connect_all(block, y)
    g.identity(s[0], y[0])
    return g


FAMILIES = {
    "mlp": lambda: nv.mlp([3, 4, 2]),
    "elman": lambda: nv.rnn.elman(2, 3, 1),
    "lstm_layers": lambda: nv.rnn.lstm_layers(2, [3, 2], 1),
    "gru_layers": lambda: nv.rnn.gru_layers(2, 3, 1),
    **{f"stacked_{k}": (lambda k=k: nv.rnn.stacked(2, [2, 2], 1, kind=k, recurrent=True)) for k in nv.rnn.CELL_KINDS},
    "random": lambda: nv.random_graph(3, 8, 2, recurrent=6, max_skip=5, seed=3),
    "cells": _cells,
    "disabled": _disabled,
    "small_mnist": lambda: nv.cnn.small_mnist(True),
    "lenet5": nv.cnn.lenet5,
    "residual": _residual,
}


# ---- DOT ---------------------------------------------------------------------

NODE = re.compile(r"^  n(\d+) \[(.*)\];$")
EDGE = re.compile(r"^  n(\d+) -> n(\d+) \[(.*)\];$")
RANK = re.compile(r"^  \{ rank=same; ((?:n\d+; )+)\}$")
ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,\s\]"]+)')


def _attrs(text: str) -> dict[str, str]:
    found = ATTR.findall(text)
    assert ", ".join(f"{k}={v}" for k, v in found) == text, f"unparsed attributes: {text}"
    return {k: v[1:-1] if v.startswith('"') else v for k, v in found}


def _parse(text: str) -> tuple[dict[int, dict[str, str]], list[tuple[int, int, dict[str, str]]], list[list[int]]]:
    """Nodes by id, edges in order, ranks in order; fails on any other line."""
    lines = text.splitlines()
    assert lines[0] == "digraph nervenet {" and lines[-1] == "}" and text.endswith("}\n")
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    assert unquoted.count("{") == unquoted.count("}")
    nodes: dict[int, dict[str, str]] = {}
    edges, ranks = [], []
    for line in lines[1:-1]:
        if m := EDGE.match(line):
            edges.append((int(m[1]), int(m[2]), _attrs(m[3])))
        elif m := NODE.match(line):
            assert int(m[1]) not in nodes, f"node {m[1]} twice"
            nodes[int(m[1])] = _attrs(m[2])
        elif m := RANK.match(line):
            ranks.append([int(i) for i in re.findall(r"n(\d+);", m[1])])
        else:
            assert re.match(r"^  (rankdir=\w+|node \[.*\]|edge \[.*\]);$", line), line
    return nodes, edges, ranks


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_dot_lists_every_node_and_edge_once_with_its_style(family: str) -> None:
    g = FAMILIES[family]()
    nodes, edges, ranks = _parse(g.to_dot())
    assert sorted(nodes) == g.node_ids()
    assert len(edges) == g.num_edges  # one line per edge, in id order
    for (src, dst, attrs), e in zip(edges, map(g.edge, g.edge_ids())):
        assert (src, dst) == (e["src"], e["dst"])
        active = e["enabled"] and g.node(src)["enabled"] and g.node(dst)["enabled"]
        if not e["enabled"]:
            assert attrs["style"] == "dotted"
        elif e["time_skip"] >= 1:
            assert attrs["style"] == "dashed"
        else:
            assert "style" not in attrs
        if e["time_skip"] >= 1:
            assert attrs["label"].split()[0] == f"t-{e['time_skip']}" and attrs["constraint"] == "false"
        else:
            assert "constraint" not in attrs and "t-" not in attrs.get("label", "")
        assert (attrs["color"] == scene.INACTIVE_COLOUR) == (not active)
    # every node in exactly one rank, ranks in level order: same-step edges point right
    assert sorted(i for r in ranks for i in r) == g.node_ids()
    rank = {i: k for k, r in enumerate(ranks) for i in r}
    for e in map(g.edge, g.edge_ids()):
        if e["time_skip"] == 0:
            assert rank[e["src"]] < rank[e["dst"]], e
    assert set(ranks[0]) >= set(g.inputs())
    assert all(rank[o] == len(ranks) - 1 for o in g.outputs())


def test_dot_labels_nodes_with_id_role_and_kind() -> None:
    g = _cells()
    nodes, _, _ = _parse(g.to_dot())
    assert nodes[0]["label"] == "0 input\\nidentity"
    kinds = {g.node(i)["kind"]: nodes[i] for i in g.node_ids()}
    assert {kinds[k]["label"].split("\\n")[1] for k in nv.rnn.CELL_KINDS} == set(nv.rnn.CELL_KINDS)
    # each cell kind its own shape and colour, none like a simple node's; the disabled one greyed
    shapes = [kinds[k]["shape"] for k in nv.rnn.CELL_KINDS]
    assert len(set(shapes)) == len(shapes) and "ellipse" not in shapes
    disabled = kinds["mgu"]
    assert disabled["style"] == "filled,dashed" and disabled["color"] == scene.INACTIVE_COLOUR
    fills = [kinds[k]["fillcolor"] for k in nv.rnn.CELL_KINDS if k != "mgu"]
    assert len(set(fills)) == len(fills) and scene.node_style("hidden").colour not in fills
    assert nodes[g.outputs()[0]]["peripheries"] == "2"


def test_dot_tells_feature_maps_filters_and_pools_apart() -> None:
    g = nv.cnn.small_mnist(True)
    nodes, edges, _ = _parse(g.to_dot())
    assert nodes[0]["label"] == "0 input\\n1×28×28 identity" and nodes[0]["shape"] == "box3d"
    assert nodes[1]["label"] == "1 hidden\\n1×20×20 relu"
    by_kind = {g.edge(i)["kind"]: attrs for i, (_, _, attrs) in zip(g.edge_ids(), edges)}
    assert by_kind["filter"]["label"] == "13×13 s1 p2" and by_kind["filter"]["penwidth"] == "2"
    assert by_kind["pool"]["label"] == "max 2×2 s2" and by_kind["pool"]["arrowhead"] == "empty"
    assert len({a["color"] for a in by_kind.values()}) == 3


def test_identity_edges_are_marked_in_dot_and_legend() -> None:
    g = _residual()
    _, edges, _ = _parse(g.to_dot())
    identity = [a for i, (_, _, a) in zip(g.edge_ids(), edges) if g.edge(i)["kind"] == "identity"]
    assert len(identity) >= 2
    assert all(a["label"] == "identity" and a["arrowhead"] == "empty" and a["color"] == scene.EDGE_COLOURS["identity"]
               for a in identity)
    legend = [t.get_text() for t in g.draw().get_legend().get_texts()]
    assert {"identity", "filter", "feed-forward", "feature map (C×H×W)", "input", "output"} <= set(legend)


def test_dot_labels_3d_filters_and_every_pool() -> None:
    g = nv.Graph()
    x = g.add_feature_map(3, 8, 8, role="input")
    a = g.add_feature_map(4, 6, 6)
    g.connect_filter(x, a, 3, depth=2)
    b = g.add_feature_map(4, 3, 2)
    g.connect_pool(a, b, "avg", (2, 3), stride=(2, 3))
    g.connect_pool(b, g.add_feature_map(4, 2, 1), "fractional_max")
    _, edges, _ = _parse(g.to_dot())
    assert [a["label"] for _, _, a in edges] == ["3×3×2 s1 p0", "avg 2×3 s2×3", "fractional_max"]


def test_dot_names_the_gate_an_edge_of_a_standard_unit_feeds() -> None:
    g = nv.rnn.lstm_layers(1, 1, 1)
    _, edges, _ = _parse(g.to_dot())
    unit = next(i for i in g.node_ids() if g.node(i)["kind"] == "lstm_unit")
    into = [a["label"] for s, d, a in edges if d == unit]
    assert into == ["i", "f", "g", "o", "t-1 i", "t-1 f", "t-1 g", "t-1 o"]


def test_dot_quotes_and_escapes_labels() -> None:
    assert dot.quote('a "b"\\c\nd') == '"a \\"b\\"\\\\c\\nd"'
    assert dot.quote("x\r\ny") == '"x\\ny"'


def test_dot_is_deterministic_and_rankdir_is_checked() -> None:
    g = FAMILIES["random"]()
    assert g.to_dot() == g.copy().to_dot() == nv.Graph.from_json(g.to_json()).to_dot() == nv.drawing.to_dot(g)
    assert "  rankdir=TB;" in g.to_dot(rankdir="TB").splitlines()
    for bad in ("lr", None, 3):
        with pytest.raises(nv.ConfigError, match="rankdir"):
            g.to_dot(rankdir=bad)
    with pytest.raises(nv.ConfigError, match="nervenet.Graph"):
        nv.drawing.to_dot("digraph {}")


def test_levels_break_a_cycle_instead_of_failing() -> None:
    """The API refuses same-step cycles, but a drawing of an invalid graph
    (read from elsewhere) must still come out: the cycle is cut at its
    smallest node, predecessors already placed."""
    nodes = {i: {"role": "hidden"} for i in range(4)}
    nodes[0]["role"] = "input"
    edges = [{"src": 0, "dst": 1, "time_skip": 0}, {"src": 1, "dst": 2, "time_skip": 0},
             {"src": 2, "dst": 3, "time_skip": 0}, {"src": 3, "dst": 1, "time_skip": 0}]
    assert scene.levels(nodes, edges) == {0: 0, 1: 1, 2: 2, 3: 3}
    assert scene.levels({}, []) == {}


# ---- matplotlib --------------------------------------------------------------


def _gids(ax, prefix: str) -> list:
    return [a for a in ax.get_children() if (a.get_gid() or "").startswith(prefix)]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("arrows", [300, 0])
def test_draw_graph_draws_every_node_and_edge(family: str, arrows: int) -> None:
    g = FAMILIES[family]()
    ax = nv.drawing.draw_graph(g, arrows=arrows)
    maps = [i for i in g.node_ids() if g.node(i)["kind"] == "feature_map"]
    assert sum(len(c.get_offsets()) for c in _gids(ax, "nodes:")) == g.num_nodes - len(maps)
    assert sorted(int(t.get_gid()[4:]) for t in _gids(ax, "map:")) == maps
    assert all("×" in t.get_text() for t in _gids(ax, "map:"))
    edges = [g.edge(e) for e in g.edge_ids()]
    recurrent = [e for e in edges if e["time_skip"] >= 1]
    skips = [t.get_text() for t in _gids(ax, "skip-label")]
    if g.num_edges <= arrows:
        patches = {int(p.get_gid()[5:]): p for p in _gids(ax, "edge:")}
        assert sorted(patches) == g.edge_ids()
        for e in edges:
            style = patches[e["id"]].get_linestyle()
            assert style == (":" if not e["enabled"] else "--" if e["time_skip"] else "-"), e
        # one label per curve: edges into several gates of a unit share theirs
        curves = {(e["src"], e["dst"], e["time_skip"]) for e in recurrent}
        assert Counter(skips) == Counter(f"t-{k}" for _, _, k in curves)
    else:
        collections = {c.get_gid(): c for c in _gids(ax, "edges:")}
        assert sum(len(c.get_segments()) for c in collections.values()) == g.num_edges
        active_recurrent = [e for e in recurrent if e["enabled"] and g.node(e["src"])["enabled"]
                            and g.node(e["dst"])["enabled"]]
        if active_recurrent:
            lines = collections["edges:recurrent"]
            assert len(lines.get_segments()) == len(active_recurrent)
            assert all(dash is not None for _, dash in lines.get_linestyle())  # dashed
        if "edges:feedforward" in collections:
            assert all(dash is None for _, dash in collections["edges:feedforward"].get_linestyle())  # solid
        assert set(skips) == {f"t-{e['time_skip']}" for e in recurrent}
    assert ax.get_legend() is not None


def test_draw_graph_places_inputs_left_outputs_right_and_fades_disabled_nodes() -> None:
    g = _cells()
    ax = g.draw()
    xs = {}
    for c in _gids(ax, "nodes:"):
        for (x, _), alpha in zip(c.get_offsets(), c.get_facecolors()[:, 3]):
            xs.setdefault(x, []).append(alpha)
    columns = sorted(xs)
    assert len(columns) == 3 and len(xs[columns[0]]) == 2 and len(xs[columns[-1]]) == 1
    assert sorted(xs[columns[1]]) == [plot.FADED] + [1.0] * 4
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    for kind in nv.rnn.CELL_KINDS:
        assert scene.node_style(kind).legend in legend
    assert {"input", "output", "recurrent (t-k: skip)", "disabled"} <= set(legend)
    assert [t.get_text() for t in _gids(ax, "skip-label")] == ["t-2"]
    assert sorted(t.get_text() for t in _gids(ax, "node-label")) == sorted(map(str, g.node_ids()))


def test_draw_graph_on_given_axes_and_large_graphs() -> None:
    fig, ax = plt.subplots()
    assert nv.drawing.draw_graph(nv.mlp([2, 1]), ax, labels=False, legend=False) is ax
    assert ax.get_legend() is None and not _gids(ax, "node-label")
    # a dense 784-100-10 MLP goes into line collections (no per-edge artists)
    big = nv.drawing.draw_graph(nv.mlp([784, 100, 10]))
    assert not _gids(big, "edge:") and not _gids(big, "node-label")
    assert len(_gids(big, "edges:feedforward")[0].get_segments()) == 784 * 100 + 100 * 10
    big.figure.canvas.draw()


def test_draw_graph_checks_its_arguments() -> None:
    g = nv.mlp([2, 1])
    for kwargs, word in (({"ax": object()}, "ax"), ({"arrows": -1}, "arrows"), ({"labels": "yes"}, "labels"),
                         ({"legend": None}, "legend")):
        with pytest.raises(nv.ConfigError, match=word):
            nv.drawing.draw_graph(g, **kwargs)
    with pytest.raises(nv.ConfigError, match="nervenet.Graph"):
        nv.drawing.draw_graph([1, 2])


def test_a_drawing_saves_to_png(tmp_path: Path) -> None:
    ax = nv.rnn.elman(1, 2, 1).draw()
    ax.figure.savefig(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_import_nervenet_and_to_dot_do_not_import_matplotlib() -> None:
    code = ("import sys, json, nervenet as nv; nv.rnn.elman(1, 2, 1).to_dot(); "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('matplotlib'))))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                       env={**os.environ, "PYTHONPATH": PACKAGE_PARENT})
    assert json.loads(r.stdout) == []


def test_docstring_examples() -> None:
    import doctest

    from nervenet.graph import graph

    for module in (nv.drawing, dot, plot, graph):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0, module.__name__
