"""Networks made of standard layers — ``Graph.add_lstm_layer`` /
``add_gru_layer`` stacked from the inputs, then one level of output nodes
reading the last layer (what :func:`nervenet.rnn.lstm_layers` and
:func:`~nervenet.rnn.gru_layers` build) — as ONNX ``LSTM`` / ``GRU``
operators, the form runtimes optimise, with the head as one MatMul over
every step. Any other recurrent graph goes through the generic Scan
(:mod:`.recurrent`); :func:`match` decides, edge by edge.

Gate orders: nervenet's LSTM ports (i, f, g, o) are ONNX's (i, o, f, c)
rearranged; the GRU's (r, z, n_x, n_h) become ONNX's (z, r, h) with
``linear_before_reset=1`` (torch's form: r multiplies the recurrent part
and its bias), n_x feeding W and n_h feeding R."""

from __future__ import annotations

from typing import Optional

import numpy as np

from .builder import Builder
from .step import Step
from .structure import Structure

#: Per kind: the ONNX operator, the ports in ONNX's gate order for W and for
#: R, and the ports fed by the layer below / by the layer itself one step back.
KINDS = {
    "lstm_unit": ("LSTM", (0, 3, 1, 2), (0, 3, 1, 2), {0, 1, 2, 3}, {0, 1, 2, 3}),
    "gru_unit": ("GRU", (1, 0, 2), (1, 0, 3), {0, 1, 2}, {0, 1, 3}),
}


def match(s: Structure) -> Optional[list[int]]:
    """The levels of the standard layers, in order, when ``s`` is such a
    network (inputs -> layers -> one head level of output nodes), else None."""
    if not s.levels or any(s.map_shape(n) is not None for n in s.nodes):
        return None
    *layers, head = range(1, len(s.levels))
    if not layers:
        return None
    for index in layers:
        segs = s.levels[index].segments
        if len(segs) != 1 or segs[0].key[0] != "cell" or segs[0].key[1] not in KINDS:
            return None
    head_nodes = [n for seg in s.levels[head].segments for n in seg.nodes]
    if any(seg.key[0] != "simple" for seg in s.levels[head].segments) or sorted(head_nodes) != sorted(s.outputs):
        return None
    below = {index: index - 1 for index in layers}
    below[head] = layers[-1]
    for e in s.edges:
        if e["kind"] not in ("weight", "identity"):
            return None
        src_level = 0 if e["src"] in s.input_at else s.place[e["src"]][0]
        dst_level = s.place[e["dst"]][0]
        kind = s.nodes[e["dst"]]["kind"]
        if dst_level == head:
            ok = e["time_skip"] == 0 and src_level == below[head]
        elif e["time_skip"] == 0:
            ok = src_level == below[dst_level] and e["port"] in KINDS[kind][3]
        else:
            ok = e["time_skip"] == 1 and src_level == dst_level and e["port"] in KINDS[kind][4]
        if not ok:
            return None
    return layers


def emit(b: Builder, s: Structure, x: str, layers: list[int]) -> str:
    """(N, T, n_outputs) from X (N, T, n_inputs)."""
    h = b.op("Transpose", [x], "time_major", perm=[1, 0, 2])
    for index in layers:
        seg = s.levels[index].segments[0]
        kind, units = seg.key[1], seg.nodes
        op, w_order, r_order, _, _ = KINDS[kind]
        width_in = s.n_inputs if index == 1 else len(s.levels[index - 1].segments[0].nodes)
        col = {n: k for k, n in enumerate(units)}
        w = np.zeros((4, len(units), width_in))
        r = np.zeros((4, len(units), len(units)))
        for n in units:
            for e in s.incoming.get(n, []):
                src = e["src"]
                if e["time_skip"] == 0:
                    at = s.input_at[src] if index == 1 else s.place[src][1]
                    w[e["port"], col[n], at] += s.scalar_weight(e)
                else:
                    r[e["port"], col[n], col[src]] += s.scalar_weight(e)
        bias = np.stack([np.zeros(4) if s.bias(n) is None else np.asarray(s.bias(n), dtype=np.float64).reshape(-1)
                         for n in units], axis=1)  # (4 gates, H)
        if op == "LSTM":
            wb, rb = bias[list(w_order)].reshape(-1), np.zeros(4 * len(units))
        else:  # z, r from both; n_x into W's bias, n_h into R's (r multiplies it)
            wb = bias[[1, 0, 2]].reshape(-1)
            rb = np.concatenate([np.zeros(2 * len(units)), bias[3]])
        W = b.const(w[list(w_order)].reshape(1, -1, width_in), f"{op}_W")
        R = b.const(r[list(r_order)].reshape(1, -1, len(units)), f"{op}_R")
        B = b.const(np.concatenate([wb, rb]).reshape(1, -1), f"{op}_B")
        attrs = {"linear_before_reset": 1} if op == "GRU" else {}
        y = b.op(op, [h, W, R, B], op.lower(), hidden_size=len(units), **attrs)
        h = b.op("Squeeze", [y, b.ints([1])], "layer")  # (T, 1, N, H) -> (T, N, H)
    step = Step(b, s, h, None, None, dense_min_density=0.0)
    step.levels[layers[-1]] = h
    step.level(len(s.levels) - 1)
    return b.op("Transpose", [step.outputs()], "batch_major", perm=[1, 0, 2])
