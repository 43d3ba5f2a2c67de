"""A level's scalar nodes: the pre-activations of all its nodes (and its
cells' and units' ports) as one product of the level's sources —
concatenated outputs of earlier levels, the inputs, flattened feature maps,
each at its time skip — with a weight matrix whose missing edges are zero
(MatMul), or, when that matrix is mostly zeros, a Gather of the used source
columns times the edges' weights summed into their columns (ScatterElements
with reduction ``add``). Never one ONNX node per edge."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..errors import UnsupportedError
from .builder import Builder
from .structure import PORTS, Level, Structure

#: A source of a level: ("x", skip), ("level", index, skip) or ("map", node, 0).
Source = tuple[Any, ...]


def source_of(s: Structure, e: dict[str, Any]) -> tuple[Source, int, int]:
    """Where edge ``e`` reads: its source, the first row within it and how many rows."""
    src, k = e["src"], e["time_skip"]
    if src in s.input_at:
        return ("x", k), s.input_at[src], s.size(src)
    if s.map_shape(src) is not None:
        return ("map", src, 0), 0, s.size(src)
    level, col = s.place[src]
    return ("level", level, k), col, 1


def source_width(s: Structure, src: Source) -> int:
    if src[0] == "x":
        return s.n_inputs
    if src[0] == "map":
        return s.size(src[1])
    return s.levels[src[1]].width


def level_product(b: Builder, s: Structure, lv: Level, incoming: list[dict[str, Any]],
                  fetch: Callable[[Source], str], dense_min_density: float) -> str:
    """(N, lv.columns): the level's pre-activations, biases included."""
    col_of: dict[tuple[int, int], int] = {}
    bias = np.zeros(lv.columns, dtype=b.dtype)
    has_bias = False
    for seg in lv.segments:
        for k, n in enumerate(seg.nodes):
            for port in range(seg.ports):
                col_of[(n, port)] = seg.col + port * len(seg.nodes) + k
            value = s.bias(n)
            if value is not None:
                has_bias = True
                value = np.asarray(value).reshape(-1)
                bias[[col_of[(n, p)] for p in range(value.size)]] = value
    ordinal: dict[Source, int] = {}  # source -> its index in first-seen order
    # Scalar edges as flat lists (source index, row in it, weight, column);
    # a flattening edge (a map into a scalar node) as a block of rows.
    src_of, row_of, weight_of, col_list = [], [], [], []
    blocks: list[tuple[int, int, np.ndarray, int]] = []
    for e in incoming:
        if e["kind"] not in ("weight", "identity"):
            raise UnsupportedError(f"edge {e['id']}: a {e['kind']} edge into scalar node {e['dst']}")
        kind = s.nodes[e["dst"]]["kind"]
        port = e["port"]
        if port >= PORTS.get(kind, 1):
            raise UnsupportedError(f"edge {e['id']}: port {port} of node {e['dst']} ({kind})")
        src, row, rows = source_of(s, e)
        index = ordinal.setdefault(src, len(ordinal))
        if rows == 1:
            src_of.append(index)
            row_of.append(row)
            weight_of.append(s.scalar_weight(e))
            col_list.append(col_of[(e["dst"], port)])
        else:
            blocks.append((index, row, np.asarray(s.weight(e)).reshape(-1), col_of[(e["dst"], port)]))
    if not ordinal:  # nodes fed by nothing: their biases, at the batch's size
        ordinal[("x", 0)] = 0
    order = sorted(ordinal, key=repr)
    widths = [source_width(s, src) for src in order]
    at = sum(widths)
    start = np.zeros(len(order), dtype=np.int64)  # first row of each source in the concatenation
    start[[ordinal[src] for src in order]] = np.cumsum([0, *widths[:-1]])
    rows_all = np.concatenate([start[np.array(src_of, dtype=np.int64)] + np.array(row_of, dtype=np.int64)]
                              + [start[i] + r + np.arange(w.size) for i, r, w, _ in blocks])
    cols_all = np.concatenate([np.array(col_list, dtype=np.int64)] + [np.full(w.size, c) for *_, w, c in blocks])
    w_all = np.concatenate([np.array(weight_of, dtype=np.float64)] + [w for _, _, w, _ in blocks])
    x = b.concat([fetch(src) for src in order], axis=-1, hint="sources")
    density = len(w_all) / max(1, at * lv.columns)
    if density >= dense_min_density or w_all.size == 0:
        weights = np.zeros((at, lv.columns), dtype=b.dtype)
        np.add.at(weights, (rows_all, cols_all), w_all)
        z = b.op("MatMul", [x, b.const(weights, "weights")], "z")
    else:
        picked = b.op("Gather", [x, b.ints(rows_all, "rows")], "picked", axis=1)
        terms = b.op("Mul", [picked, b.const(w_all, "edge_weights")], "terms")
        where = b.op("Expand", [b.ints(cols_all.reshape(1, -1), "cols"), b.op("Shape", [terms], "shape")], "where")
        zero = b.zeros_like_rows(x, [lv.columns])
        z = b.op("ScatterElements", [zero, where, terms], "z", axis=1, reduction="add")
    if has_bias:
        z = b.op("Add", [z, b.const(bias, "bias")], "z")
    return z
