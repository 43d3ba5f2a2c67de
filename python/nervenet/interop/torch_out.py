"""nervenet networks into PyTorch modules, weights copied.

:func:`to_torch` takes the family :func:`~nervenet.interop.from_torch`
reads: a layered feed-forward graph (every edge from one level to the next;
scalar levels become ``Linear`` layers, missing edges zero weights; a level
of one feature map a ``Conv2d`` (tied bias) or a pooling; a map feeding
scalar nodes a ``Flatten`` and a ``Linear``), or standard LSTM/GRU layers
(``Graph.add_lstm_layer``, :func:`nervenet.rnn.lstm_layers`) of one hidden
size with a linear head or identity outputs. Anything else raises
:class:`~nervenet.errors.UnsupportedError` naming the node or edge.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from ..errors import ConfigError, UnsupportedError
from ..network import Network
from ..rnn import _depths
from .layout import torch_layout

__all__ = ["to_torch", "recurrent_module"]

_RECURRENT_KINDS = {"lstm_unit": "LSTM", "gru_unit": "GRU"}


def to_torch(net: Network) -> Any:
    """A torch module computing what ``net`` computes, in ``net``'s dtype.

    Feed-forward networks come back as an ``nn.Sequential``; recurrent ones
    as a module with ``rnn`` (an ``nn.LSTM`` / ``nn.GRU``, ``batch_first``:
    inputs ``(batch, time, features)`` as nervenet's) and ``head`` (a
    ``Linear``, or ``Identity``) children, whose forward gives the head's
    output at every step.

    >>> import numpy as np, torch
    >>> import nervenet as nv
    >>> net = nv.Network(nv.mlp([3, 5, 2], "relu"), dtype="float64", seed=1)
    >>> model = nv.interop.to_torch(net)
    >>> x = np.random.default_rng(0).normal(size=(4, 3))
    >>> bool(np.allclose(model(torch.from_numpy(x)).detach().numpy(), net.forward(x), rtol=0, atol=1e-12))
    True
    """
    if not isinstance(net, Network):
        raise ConfigError(f"to_torch takes an nv.Network, got {type(net).__name__}")
    g = net.graph
    nodes = [g.node(n) for n in g.node_ids()]
    for node in nodes:
        if not node["enabled"]:
            raise UnsupportedError(f"to_torch: node {node['id']} is disabled; remove it first")
        if node["kind"] not in ("simple", "feature_map", *_RECURRENT_KINDS):
            raise UnsupportedError(f"to_torch: node {node['id']} is a {node['kind']} cell, which torch has no layer for")
    model = _recurrent(net) if any(n["kind"] in _RECURRENT_KINDS for n in nodes) else _sequential(net)
    return model.double() if net.dtype == np.float64 else model.float()


class _Params:
    """A parameter's value by name: a scalar's, a group's (filters, map
    biases, flattening edges), or the preset value of a fixed one."""

    def __init__(self, net: Network) -> None:
        self.net, self.values = net, net.parameters
        self.index = {name: i for i, name in enumerate(net.parameter_names)}
        self.groups = {group.name for group in net.groups}

    def _value(self, name: str, preset: Any) -> Any:
        if name in self.index:
            return self.values[self.index[name]]
        if name in self.groups:
            return self.net.get_group(name)
        return np.float64(preset or 0.0)

    def edge(self, edge: dict[str, Any]) -> Any:
        return self._value(f"edge:{edge['id']}", edge["weight"])

    def bias(self, node: dict[str, Any]) -> Any:
        return self._value(f"node:{node['id']}:bias", node["bias_value"])


def _activation(node: dict[str, Any]) -> Any:
    import torch

    nn, act = torch.nn, node["activation"]
    if act in ("identity", "linear"):
        return None
    if act == "relu6":
        return nn.ReLU6() if node["cap"] == 6.0 else nn.Hardtanh(0.0, node["cap"])
    if act == "leaky_relu":
        return nn.LeakyReLU(node["slope"])
    modules = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "softsign": nn.Softsign}
    if act not in modules:
        raise UnsupportedError(f"to_torch: node {node['id']}'s activation {act!r} has no torch module here")
    return modules[act]()


def _sequential(net: Network) -> Any:
    import torch

    nn, g, p = torch.nn, net.graph, _Params(net)
    edges = [g.edge(e) for e in g.edge_ids()]
    edges = [e for e in edges if e["enabled"]]
    for e in edges:
        if e["time_skip"]:
            raise UnsupportedError(f"to_torch: edge {e['id']} ({e['src']} -> {e['dst']}) is recurrent (time_skip {e['time_skip']})")
        if e["kind"] == "identity":
            raise UnsupportedError(f"to_torch: edge {e['id']} ({e['src']} -> {e['dst']}) is an identity link, which a Sequential cannot hold")
    level = _depths(g)  # longest path from a node nothing feeds
    inputs = set(g.inputs())
    for n, k in level.items():
        if (k == 0) != (n in inputs):
            raise UnsupportedError(f"to_torch: node {n} is {'fed by nothing' if k == 0 else 'an input fed by edges'}")
    for e in edges:
        if level[e["dst"]] != level[e["src"]] + 1:
            raise UnsupportedError(
                f"to_torch: edge {e['id']} ({e['src']} -> {e['dst']}) skips from level {level[e['src']]} to "
                f"{level[e['dst']]}: a Sequential has no skip connections"
            )
    depth = max(level.values())
    layers = [sorted(n for n, k in level.items() if k == d) for d in range(depth + 1)]
    if set(layers[-1]) != set(g.outputs()):
        raise UnsupportedError(f"to_torch: the last level holds nodes {layers[-1][:10]}, not exactly the outputs {g.outputs()[:10]}")
    into: dict[int, list[dict[str, Any]]] = {}
    for e in edges:
        into.setdefault(e["dst"], []).append(e)
    modules: list[Any] = []
    for prev, layer in zip(layers, layers[1:]):
        nodes = [g.node(n) for n in layer]
        first = nodes[0]
        for node in nodes:
            if (node["kind"], node["activation"], node.get("cap"), node.get("slope")) != (
                    first["kind"], first["activation"], first.get("cap"), first.get("slope")):
                raise UnsupportedError(f"to_torch: node {node['id']} differs in kind or activation from node {first['id']} of its level")
        if first["kind"] == "feature_map":
            modules.append(_map_module(g, p, prev, nodes, into))
        else:
            if g.node(prev[0])["kind"] == "feature_map":
                if len(prev) != 1:
                    raise UnsupportedError(f"to_torch: nodes {layer[:10]} read several maps {prev}")
                modules.append(nn.Flatten())
            modules.append(_linear(g, p, prev, nodes, into))
        act = _activation(first)
        if act is not None:
            modules.append(act)
    return nn.Sequential(*modules)


def _linear(g: Any, p: _Params, prev: list[int], nodes: list[dict[str, Any]], into: dict[int, list[dict[str, Any]]]) -> Any:
    import torch

    src_map = g.node(prev[0])["kind"] == "feature_map"
    width = int(np.prod(g.node(prev[0])["shape"])) if src_map else len(prev)
    column = {s: i for i, s in enumerate(prev)}
    weight = np.zeros((len(nodes), width))
    for row, node in enumerate(nodes):
        for e in into.get(node["id"], []):
            if e["kind"] != "weight":
                raise UnsupportedError(f"to_torch: edge {e['id']} ({e['src']} -> {e['dst']}) is a {e['kind']} edge into a scalar node")
            if src_map:
                weight[row] = np.ravel(p.edge(e))
            else:
                weight[row, column[e["src"]]] = p.edge(e)
    has_bias = any(n["bias"] for n in nodes)
    layer = torch.nn.Linear(width, len(nodes), bias=has_bias, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weight))
        if has_bias:
            layer.bias.copy_(torch.tensor([float(p.bias(n) if n["bias"] else 0.0) for n in nodes], dtype=torch.float64))
    return layer


def _map_module(g: Any, p: _Params, prev: list[int], nodes: list[dict[str, Any]], into: dict[int, list[dict[str, Any]]]) -> Any:
    import torch

    nn = torch.nn
    if len(nodes) != 1 or len(prev) != 1:
        raise UnsupportedError(f"to_torch: maps {[n['id'] for n in nodes]} read maps {prev}: a Sequential holds one map per level")
    node, (e,) = nodes[0], into[nodes[0]["id"]]
    src = g.node(e["src"])
    if e["kind"] == "filter":
        if e["depth"] is not None:
            raise UnsupportedError(f"to_torch: edge {e['id']} is a 3D filter (depth {e['depth']}), which Conv2d does not have")
        if node["bias"] and node["untied_bias"]:
            raise UnsupportedError(f"to_torch: map {node['id']} has an untied bias (one per cell), which Conv2d does not have")
        conv = nn.Conv2d(src["channels"], node["channels"], (e["kh"], e["kw"]), stride=e["stride"], padding=e["padding"],
                         bias=node["bias"], dtype=torch.float64)
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(np.asarray(p.edge(e)).reshape(conv.weight.shape)))
            if node["bias"]:
                conv.bias.copy_(torch.from_numpy(np.asarray(p.bias(node)).reshape(-1)))
        return conv
    if e["kind"] != "pool" or e["op"] not in ("max", "avg"):
        raise UnsupportedError(f"to_torch: edge {e['id']} ({e['kind']} {e.get('op', '')}) into map {node['id']} has no torch layer here")
    if node["bias"]:
        raise UnsupportedError(f"to_torch: pooled map {node['id']} has a bias, which torch's pooling does not have")
    pool = nn.MaxPool2d if e["op"] == "max" else nn.AvgPool2d
    return pool(tuple(e["size"]), stride=tuple(e["stride"]))


@lru_cache(maxsize=None)
def recurrent_module() -> type:
    """The torch module class :func:`to_torch` returns for recurrent
    networks: ``rnn`` then ``head`` at every step (made on first use, so
    that torch is imported only then)."""
    import torch

    class TorchRecurrent(torch.nn.Module):
        """An ``nn.LSTM`` / ``nn.GRU`` and a head on every step's output."""

        def __init__(self, rnn: Any, head: Any) -> None:
            super().__init__()
            self.rnn, self.head = rnn, head

        def forward(self, x: Any) -> Any:
            return self.head(self.rnn(x)[0])

    return TorchRecurrent


def _recurrent(net: Network) -> Any:
    import torch

    nn, g = torch.nn, net.graph
    inputs, outputs = list(g.inputs()), list(g.outputs())
    units = [node for node in map(g.node, g.node_ids()) if node["kind"] in _RECURRENT_KINDS]
    kinds = {u["kind"] for u in units}
    if len(kinds) != 1:
        raise UnsupportedError(f"to_torch: the network mixes {sorted(kinds)} units; torch's layers hold one kind")
    kind = kinds.pop()
    edges = [edge for edge in map(g.edge, g.edge_ids()) if edge["enabled"]]
    fed: dict[int, set[int]] = {u["id"]: set() for u in units}
    for e in edges:
        if e["dst"] in fed and e["time_skip"] == 0:
            fed[e["dst"]].add(e["src"])
    layers, prev, left = [], inputs, set(fed)
    while left:
        layer = sorted(u for u in left if fed[u] and fed[u] <= set(prev))
        if not layer:
            raise UnsupportedError(f"to_torch: units {sorted(left)[:10]} are not fed by one layer before them only")
        layers.append((layer, prev))
        left -= set(layer)
        prev = layer
    sizes = {len(layer) for layer, _ in layers}
    if len(sizes) != 1:
        raise UnsupportedError(f"to_torch: layers of sizes {[len(la) for la, _ in layers]}; torch's {_RECURRENT_KINDS[kind]} has one hidden size")
    hidden = sizes.pop()
    allowed = set()  # (src, dst, time_skip) of a standard layer's edges
    for layer, before in layers:
        allowed.update((s, u, 0) for u in layer for s in before)
        allowed.update((s, u, 1) for u in layer for s in layer)
    last = layers[-1][0]
    head_edges = [e for e in edges if e["dst"] in outputs]
    for e in edges:
        if e["dst"] in outputs:
            if e["src"] not in last or e["time_skip"] or e["kind"] not in ("weight", "identity"):
                raise UnsupportedError(f"to_torch: edge {e['id']} ({e['src']} -> {e['dst']}) is not part of a linear head on the last layer")
        elif (e["src"], e["dst"], e["time_skip"]) not in allowed:
            raise UnsupportedError(f"to_torch: edge {e['id']} ({e['src']} -> {e['dst']}, time_skip {e['time_skip']}) is not part of a standard layer")
    rnn = getattr(nn, _RECURRENT_KINDS[kind])(len(inputs), hidden, num_layers=len(layers), batch_first=True, dtype=torch.float64)
    values = net.parameters
    with torch.no_grad():
        for k, (layer, before) in enumerate(layers):
            try:
                layout = torch_layout(net, layer, before)
            except ConfigError as e:
                raise UnsupportedError(f"to_torch: {e}") from None
            getattr(rnn, f"weight_ih_l{k}").copy_(torch.from_numpy(values[layout.weight_ih]))
            getattr(rnn, f"weight_hh_l{k}").copy_(torch.from_numpy(values[layout.weight_hh]))
            # nervenet keeps one bias where torch keeps two (the GRU candidate's recurrent one aside)
            shared = layout.bias_hh == layout.bias_ih
            getattr(rnn, f"bias_ih_l{k}").copy_(torch.from_numpy(values[layout.bias_ih]))
            getattr(rnn, f"bias_hh_l{k}").copy_(torch.from_numpy(np.where(shared, 0.0, values[layout.bias_hh])))
    out_nodes = [g.node(o) for o in outputs]
    if all(e["kind"] == "identity" for e in head_edges) and len(head_edges) == len(outputs) == hidden and not any(
            o["bias"] for o in out_nodes) and [e["src"] for e in sorted(head_edges, key=lambda e: outputs.index(e["dst"]))] == last:
        head: Any = nn.Identity()
    else:
        head = _linear(g, _Params(net), last, out_nodes, _edges_into(head_edges))
    if len({(o["activation"], o.get("cap"), o.get("slope")) for o in out_nodes}) != 1:
        raise UnsupportedError(f"to_torch: the outputs {outputs[:10]} differ in activation")
    act = _activation(out_nodes[0])
    return recurrent_module()(rnn, head if act is None else nn.Sequential(head, act))


def _edges_into(edges: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    into: dict[int, list[dict[str, Any]]] = {}
    for e in edges:
        if e["kind"] != "weight":
            raise UnsupportedError(f"to_torch: edge {e['id']} ({e['src']} -> {e['dst']}) mixes identity links into a linear head")
        into.setdefault(e["dst"], []).append(e)
    return into
