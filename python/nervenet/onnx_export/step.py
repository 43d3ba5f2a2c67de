"""One time step of a network as ONNX nodes: every level in order (its
feature maps, then its scalar nodes: one product, then each segment's
activation or cell equations), reading earlier steps through ``past``.
A feed-forward network is this step alone; a recurrent one runs it as the
body of a Scan (:mod:`.recurrent`)."""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from . import activations, cells
from .builder import Builder
from .dense import Source, level_product
from .maps import level_maps
from .structure import CELL_PARAMS, Structure

#: Earlier steps: ``past(unit, k)`` is the (N, width) value of ``unit`` k
#: steps back, ``unit`` being "x", a level index or ("c", level, segment).
Past = Callable[[Any, int], str]


class Step:
    def __init__(self, b: Builder, s: Structure, x: str, image: Optional[str], past: Optional[Past],
                 dense_min_density: float) -> None:
        self.b, self.s, self.x, self.image, self.past = b, s, x, image, past
        self.dense_min_density = dense_min_density
        self.levels: dict[int, str] = {}  # level -> (N, width) outputs
        self.maps: dict[int, str] = {}  # map node -> (N, C, H, W)
        self.flat: dict[int, str] = {}
        self.states: dict[Any, str] = {}  # ("c", level, segment) -> (N, k) new cell state

    def run(self) -> None:
        for lv in self.s.levels[1:]:
            self.level(lv.index)

    def level(self, index: int) -> None:
        """Level ``index``'s maps, then its scalar nodes (whose tensors may
        carry a leading time axis: every column operation is on the last)."""
        lv = self.s.levels[index]
        if lv.maps:
            self.maps.update(level_maps(self.b, self.s, lv.maps, self.map, self.x))
        if lv.segments:
            edges = [e for seg in lv.segments for n in seg.nodes for e in self.s.incoming.get(n, [])]
            z = level_product(self.b, self.s, lv, edges, self.fetch, self.dense_min_density)
            outs = [self._segment(lv.index, i, z) for i in range(len(lv.segments))]
            self.levels[lv.index] = self.b.concat(outs, axis=-1, hint=f"level{lv.index}")

    # ---- sources ------------------------------------------------------------

    def map(self, node: int) -> str:
        if node not in self.maps:  # an input map: its columns of X, or X itself when X is the image
            if self.image is not None:
                self.maps[node] = self.image
            else:
                c, h, w = self.s.map_shape(node)  # type: ignore[misc]
                at = self.s.input_at[node]
                cols = self.b.columns(self.x, at, at + c * h * w, self.s.n_inputs)
                self.maps[node] = self.b.op("Reshape", [cols, self.b.ints([0, c, h, w])], "input_map")
        return self.maps[node]

    def fetch(self, src: Source) -> str:
        if src[0] == "map":
            node = src[1]
            if node not in self.flat:
                self.flat[node] = self.b.flatten(self.map(node))
            return self.flat[node]
        unit, k = ("x", src[1]) if src[0] == "x" else (src[1], src[2])
        if k == 0:
            return self.x if unit == "x" else self.levels[unit]
        assert self.past is not None, "recurrent source in a feed-forward export"
        return self.past(unit, k)

    # ---- segments -----------------------------------------------------------

    def _segment(self, level: int, index: int, z: str) -> str:
        b, s = self.b, self.s
        seg = s.levels[level].segments[index]
        k = len(seg.nodes)
        cols = [b.columns(z, seg.col + p * k, seg.col + (p + 1) * k, s.levels[level].columns) for p in range(seg.ports)]
        if seg.key[0] == "simple":
            _, act, cap, slope = seg.key
            return activations.apply(b, cols[0], act, cap, slope, f"nodes {seg.nodes[:5]}")
        kind = seg.key[1]
        assert self.past is not None
        hp = None
        if kind not in ("lstm", "lstm_unit"):  # they read their state c', not h'
            hp = b.columns(self.past(level, 1), seg.out, seg.out + k, s.levels[level].width)
        cp = self.past(("c", level, index), 1) if kind in ("lstm", "lstm_unit") else None
        if kind in CELL_PARAMS:
            table = np.stack([s.cell(n) for n in seg.nodes], axis=1)
            params = {name: table[i] for i, name in enumerate(CELL_PARAMS[kind])}
            h, c = cells.scalar_cell(b, kind, params, cols[0], hp, cp)
        else:
            h, c = cells.unit_cell(b, kind, cols, hp, cp)
        if c is not None:
            self.states[("c", level, index)] = c
        return h

    # ---- outputs ------------------------------------------------------------

    def outputs(self) -> str:
        """(N, n_outputs): output nodes in order (maps flattened), runs of
        neighbouring columns of one level taken as one slice."""
        b, s = self.b, self.s
        pieces: list[tuple[Any, int, int]] = []
        for n in s.outputs:
            if s.map_shape(n) is not None:
                pieces.append(("map", n, 0))
                continue
            level, col = s.place[n]
            if pieces and pieces[-1][0] == level and pieces[-1][2] == col:
                pieces[-1] = (level, pieces[-1][1], col + 1)
            else:
                pieces.append((level, col, col + 1))
        parts = [self.fetch(p) if p[0] == "map" else b.columns(self.levels[p[0]], p[1], p[2], s.levels[p[0]].width)
                 for p in pieces]
        return b.concat(parts, axis=-1, hint="outputs")


def history_needs(s: Structure) -> dict[Any, int]:
    """How many earlier steps of each unit a step reads (the Scan's carried state)."""
    needs: dict[Any, int] = {}
    for e in s.edges:
        k = e["time_skip"]
        if k == 0:
            continue
        unit = "x" if e["src"] in s.input_at else s.place[e["src"]][0]
        needs[unit] = max(needs.get(unit, 0), k)
    for lv in s.levels:
        for i, seg in enumerate(lv.segments):
            if seg.key[0] == "cell":
                needs[lv.index] = max(needs.get(lv.index, 0), 1)
                if seg.key[1] in ("lstm", "lstm_unit"):
                    needs[("c", lv.index, i)] = 1
    return needs
