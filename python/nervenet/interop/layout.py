"""Weights of standard LSTM/GRU layers in PyTorch's layout.

A layer built with :meth:`Graph.add_lstm_layer` / :meth:`Graph.add_gru_layer`
keeps its weights on edges (one per input, unit and gate) and its gate biases
on the units. :func:`torch_layout` maps ``torch.nn.LSTM`` / ``torch.nn.GRU``
tensors (``weight_ih_l0`` (G·H, n_in), ``weight_hh_l0`` (G·H, H),
``bias_ih_l0``, ``bias_hh_l0`` (G·H), gates in torch's order: LSTM i, f, g,
o; GRU r, z, n) to indices of the network's flat parameter vector, so
weights can be copied in (:func:`set_torch_weights`) and gradients exported
in torch's shapes (:func:`torch_gradients`) without torch installed. Only
these standard layers are covered, not arbitrary graphs or CNNs.

torch keeps two biases where one suffices: nervenet's gate bias is
``bias_ih + bias_hh`` (except the GRU candidate, whose recurrent bias sits
inside ``r * (W_hn h + b_hn)`` and keeps a port of its own), so the gradient
of each torch bias equals the gradient of that gate bias.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .. import _core
from ..errors import ConfigError, ShapeError
from ..graph import Graph

__all__ = ["TorchLayout", "torch_layout", "set_torch_weights", "torch_gradients"]

# Graph port of each torch gate row block: (from inputs, from hidden).
_PORTS = {
    "lstm_unit": ((0, 0), (1, 1), (2, 2), (3, 3)),  # i, f, g, o
    "gru_unit": ((0, 0), (1, 1), (2, 3)),  # r, z, n (n_x from inputs, n_h from hidden)
}


@dataclass(frozen=True)
class TorchLayout:
    """Flat-parameter indices shaped like torch's tensors."""

    weight_ih: np.ndarray
    weight_hh: np.ndarray
    bias_ih: np.ndarray
    bias_hh: np.ndarray


def torch_layout(net: Any, units: Sequence[int], inputs: Sequence[int]) -> TorchLayout:
    """Indices into ``net.parameters`` for one standard layer.

    ``units`` are the ids :meth:`Graph.add_lstm_layer` returned, ``inputs``
    the nodes it was built from (in the same order).
    """
    graph: Graph = net.graph
    kinds = {graph.node(u)["kind"] for u in units}
    if len(kinds) != 1 or next(iter(kinds)) not in _PORTS:
        raise ConfigError(f"units must all be lstm_unit or all gru_unit nodes, got kinds {sorted(kinds)}")
    kind = next(iter(kinds))
    ports = _PORTS[kind]
    port_names = _core.cell_ports(kind)
    index = {name: i for i, name in enumerate(net.parameter_names)}
    h, n_in = len(units), len(inputs)

    def edge(src: int, dst: int, skip: int, port: int) -> int:
        e = graph.find_edge(src, dst, time_skip=skip, port=port)
        if e is None:
            raise ConfigError(f"no edge {src} -> {dst} (port {port}, time_skip {skip}): not a full standard layer")
        return index[f"edge:{e}"]

    def bias(unit: int, port: int) -> int:
        return index[f"node:{unit}:bias.{port_names[port]}"]

    g = len(ports)
    w_ih = np.empty((g * h, n_in), dtype=np.int64)
    w_hh = np.empty((g * h, h), dtype=np.int64)
    b_ih = np.empty(g * h, dtype=np.int64)
    b_hh = np.empty(g * h, dtype=np.int64)
    for gate, (p_in, p_hid) in enumerate(ports):
        for j, u in enumerate(units):
            row = gate * h + j
            w_ih[row] = [edge(x, u, 0, p_in) for x in inputs]
            w_hh[row] = [edge(v, u, 1, p_hid) for v in units]
            b_ih[row] = bias(u, p_in)
            b_hh[row] = bias(u, p_hid)
    return TorchLayout(w_ih, w_hh, b_ih, b_hh)


def set_torch_weights(
    net: Any, units: Sequence[int], inputs: Sequence[int], weight_ih: Any, weight_hh: Any, bias_ih: Any, bias_hh: Any
) -> None:
    """Copies one torch layer's tensors (or arrays) into the network."""
    layout = torch_layout(net, units, inputs)
    params = net.parameters
    arrays = {}
    for name, value in (("weight_ih", weight_ih), ("weight_hh", weight_hh), ("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        arr = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value, dtype=np.float64)
        want = getattr(layout, name).shape
        if arr.shape != want:
            raise ShapeError(f"{name} has shape {arr.shape}, expected {want}")
        arrays[name] = arr
    params[layout.weight_ih] = arrays["weight_ih"]
    params[layout.weight_hh] = arrays["weight_hh"]
    summed = np.zeros(len(params))
    np.add.at(summed, layout.bias_ih, arrays["bias_ih"])
    np.add.at(summed, layout.bias_hh, arrays["bias_hh"])
    touched = np.union1d(layout.bias_ih, layout.bias_hh)
    params[touched] = summed[touched]
    net.parameters = params


def torch_gradients(
    grad: np.ndarray, net: Any, units: Sequence[int], inputs: Sequence[int]
) -> dict[str, np.ndarray]:
    """A flat gradient of ``net`` as torch-shaped arrays for one layer."""
    layout = torch_layout(net, units, inputs)
    return {name: grad[getattr(layout, name)] for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
