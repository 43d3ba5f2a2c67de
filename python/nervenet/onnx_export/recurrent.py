"""Recurrent networks: the step (:mod:`.step`) as the body of an ONNX
``Scan`` over the time axis of X (N, T, features). The carried state holds,
for every unit a later step reads — the inputs, a level's outputs, an LSTM
segment's cell state — its last K values as a (K, N, width) tensor, K being
the largest time skip it is read at; every state starts at zero, as
``Network.forward`` starts each sequence."""

from __future__ import annotations

from typing import Any

import numpy as np

from .builder import Builder
from .step import Step, history_needs
from .structure import Structure


def width(s: Structure, unit: Any) -> int:
    if unit == "x":
        return s.n_inputs
    if isinstance(unit, tuple):  # ("c", level, segment)
        return len(s.levels[unit[1]].segments[unit[2]].nodes)
    return s.levels[unit].width


def scan(b: Builder, s: Structure, x: str, dense_min_density: float) -> str:
    """(N, T, n_outputs) from X (N, T, n_inputs)."""
    needs = history_needs(s)
    units = sorted(needs, key=repr)
    body = Builder(b.dtype, b.names)
    state_in = {u: body.fresh("past") for u in units}
    x_t = body.fresh("x_t")

    seen: dict[tuple[Any, int], str] = {}

    def past(unit: Any, k: int) -> str:
        if (unit, k) not in seen:  # a scalar index drops the step axis: (N, width)
            seen[(unit, k)] = body.op("Gather", [state_in[unit], body.const(k - 1, "k", np.int64)], "past", axis=0)
        return seen[(unit, k)]

    step = Step(body, s, x_t, None, past, dense_min_density)
    step.run()
    y = step.outputs()
    state_out = []
    for u in units:
        now = x_t if u == "x" else step.states[u] if isinstance(u, tuple) else step.levels[u]
        newest = body.op("Unsqueeze", [now, body.ints([0])], "newest")
        if needs[u] > 1:
            older = body.op("Slice", [state_in[u], body.ints([0]), body.ints([needs[u] - 1]), body.ints([0])], "older")
            newest = body.op("Concat", [newest, older], "history", axis=0)
        state_out.append(body.op("Identity", [newest], "state"))
    y = body.op("Identity", [y], "y_t")
    graph = body.graph(
        b.fresh("step"),
        [body.value_info(state_in[u], [needs[u], "N", width(s, u)]) for u in units]
        + [body.value_info(x_t, ["N", s.n_inputs])],
        [body.value_info(n, [needs[u], "N", width(s, u)]) for u, n in zip(units, state_out)] + [body.value_info(y, ["N", len_out(s)])],
    )
    first = b.op("Gather", [x, b.const(0, "k", np.int64)], "x0", axis=1)
    initial = [_zeros(b, first, needs[u], width(s, u)) for u in units]
    outs = b.op("Scan", initial + [x], "scan", outputs=len(units) + 1, body=graph, num_scan_inputs=1,
                scan_input_axes=[1], scan_output_axes=[1])
    return outs[-1] if isinstance(outs, list) else outs


def _zeros(b: Builder, rows: str, k: int, w: int) -> str:
    """Zeros (k, N, w), N being rows' first dimension."""
    z = b.op("Unsqueeze", [b.zeros_like_rows(rows, [w]), b.ints([0])], "zero_state")
    return z if k == 1 else b.op("Tile", [z, b.ints([k, 1, 1])], "zero_state")


def len_out(s: Structure) -> int:
    return sum(s.size(n) for n in s.outputs)
