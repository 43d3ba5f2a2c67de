"""PyTorch twins of nervenet CNN graphs built as chains (each level one
feature-map node or one layer of scalar nodes: the small VGG, the notes'
small CNNs, ResNet-free stacks), with nervenet's weights copied in, for the
benchmarks' "same work, same numbers" checks."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch

import nervenet as nv

_ACTS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "identity": torch.nn.Identity}


def _layers(graph: nv.Graph) -> list[list[int]]:
    """Node ids by depth (longest path from the inputs)."""
    depth = {n: 0 for n in graph.inputs()}
    edges = [graph.edge(e) for e in graph.edge_ids()]
    changed = True
    while changed:
        changed = False
        for e in edges:
            if e["src"] in depth and depth.get(e["dst"], -1) < depth[e["src"]] + 1:
                depth[e["dst"]] = depth[e["src"]] + 1
                changed = True
    by = defaultdict(list)
    for n, d in depth.items():
        by[d].append(n)
    return [sorted(by[d]) for d in sorted(by)]


class _Bias(torch.nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.bias = torch.nn.Parameter(torch.zeros(shape))

    def forward(self, x):
        return x + self.bias


class _Flatten(torch.nn.Module):
    def forward(self, x):
        return x.reshape(x.shape[0], -1)


def torch_chain(graph: nv.Graph) -> torch.nn.Sequential:
    """The same network as a torch.nn.Sequential (modules named after the
    nervenet node they compute)."""
    layers = _layers(graph)
    edges = [graph.edge(e) for e in graph.edge_ids()]
    into = defaultdict(list)
    for e in edges:
        into[e["dst"]].append(e)
    seq = torch.nn.Sequential()
    for level in layers[1:]:
        first = graph.node(level[0])
        e = into[level[0]][0]
        src = graph.node(e["src"])
        if first["kind"] == "feature_map":
            assert len(level) == 1, "one map node per level"
            if e["kind"] == "filter":
                seq.add_module(f"n{level[0]}_conv", torch.nn.Conv2d(
                    src["channels"], first["channels"], (e["kh"], e["kw"]), stride=e["stride"], padding=e["padding"],
                    bias=first["bias"] and not first["untied_bias"]))
                if first["bias"] and first["untied_bias"]:
                    seq.add_module(f"n{level[0]}_bias", _Bias((first["channels"], first["height"], first["width"])))
            elif e["kind"] == "pool":
                cls = torch.nn.MaxPool2d if e["op"] == "max" else torch.nn.AvgPool2d
                seq.add_module(f"n{level[0]}_pool", cls(tuple(e["size"]), tuple(e["stride"])))
                if first["bias"]:
                    shape = (first["channels"], first["height"], first["width"]) if first["untied_bias"] else (
                        first["channels"], 1, 1)
                    seq.add_module(f"n{level[0]}_bias", _Bias(shape))
            else:
                raise ValueError(f"unsupported edge kind {e['kind']}")
        else:
            if src["kind"] == "feature_map":
                seq.add_module(f"n{level[0]}_flatten", _Flatten())
                n_in = src["channels"] * src["height"] * src["width"]
            else:
                n_in = len(layers[layers.index(level) - 1])
            seq.add_module(f"n{level[0]}_linear", torch.nn.Linear(n_in, len(level), bias=first["bias"]))
        seq.add_module(f"n{level[0]}_act", _ACTS[first["activation"] or "identity"]())
    return seq


def copy_chain_weights(graph: nv.Graph, params: np.ndarray, model: torch.nn.Sequential) -> None:
    """nervenet's parameters (the network's flat vector) into the twin."""
    net = nv.Network(graph, dtype="float32")
    values = dict(zip(net.parameter_names, np.asarray(params)))
    layers = _layers(graph)
    into = defaultdict(list)
    for e in (graph.edge(i) for i in graph.edge_ids()):
        into[e["dst"]].append(e)
    mods = dict(model.named_children())

    def vec(prefix: str, n: int) -> torch.Tensor:
        return torch.tensor([values[f"{prefix}[{k}]"] for k in range(n)])

    with torch.no_grad():
        for level in layers[1:]:
            head = level[0]
            node = graph.node(head)
            if f"n{head}_conv" in mods:
                conv = mods[f"n{head}_conv"]
                conv.weight.copy_(vec(f"edge:{into[head][0]['id']}", conv.weight.numel()).reshape(conv.weight.shape))
                if conv.bias is not None:
                    conv.bias.copy_(vec(f"node:{head}:bias", conv.bias.numel()))
            if f"n{head}_bias" in mods:
                b = mods[f"n{head}_bias"].bias
                b.copy_(vec(f"node:{head}:bias", b.numel()).reshape(b.shape))
            if f"n{head}_linear" in mods:
                lin = mods[f"n{head}_linear"]
                for j, n in enumerate(level):
                    for e in into[n]:
                        src = graph.node(e["src"])
                        if src["kind"] == "feature_map":
                            lin.weight[j].copy_(vec(f"edge:{e['id']}", lin.weight.shape[1]))
                        else:
                            prev = layers[layers.index(level) - 1]
                            lin.weight[j, prev.index(e["src"])] = float(values[f"edge:{e['id']}"])
                    if lin.bias is not None:
                        lin.bias[j] = float(values[f"node:{n}:bias"])
