"""Feature maps: a level's filter edges of one geometry become one Conv
over the concatenated source maps into the concatenated destination maps
(missing source–destination pairs zero: LeNet-5's partial C3 table is one
masked Conv), 3D filters (``depth``) a Conv over (channels, height, width),
pool edges of one kind one MaxPool / AveragePool over their sources side
by side, identity edges an Add; then each map's tied or untied bias and its
activation."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..errors import UnsupportedError
from . import activations
from .builder import Builder
from .structure import Structure


def level_maps(b: Builder, s: Structure, maps: list[int], fetch: Callable[[int], str],
               batch_of: str) -> dict[int, str]:
    """The (N, C, H, W) tensors of a level's maps."""
    parts: dict[int, list[str]] = {m: [] for m in maps}
    convs: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    pools: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for m in maps:
        for e in s.incoming.get(m, []):
            src_shape = s.map_shape(e["src"])
            if src_shape is None or e["kind"] == "weight":
                raise UnsupportedError(f"edge {e['id']}: a {e['kind']} edge from node {e['src']} into feature map {m}")
            if e["kind"] == "identity":
                parts[m].append(fetch(e["src"]))
            elif e["kind"] == "filter" and e.get("depth") is not None:
                parts[m].append(_deep_filter(b, s, e, fetch))
            elif e["kind"] == "filter":
                key = (tuple(e["size"]), e["stride"], e["padding"], src_shape[1:])
                convs.setdefault(key, []).append(e)
            else:
                key = (e["op"], tuple(e["size"]), tuple(e["stride"]))
                pools.setdefault(key, []).append(e)
    for key, edges in convs.items():
        _conv(b, s, key, edges, fetch, parts)
    for key, edges in pools.items():
        _pool(b, s, key, edges, fetch, parts)
    out = {}
    for m in maps:
        c, h, w = s.map_shape(m)  # type: ignore[misc]
        node = s.nodes[m]
        z = b.add_all(parts[m], "map") if parts[m] else b.zeros_like_rows(batch_of, [c, h, w])
        bias = s.bias(m)
        if bias is not None:
            bias = np.asarray(bias)
            shape = (1, c, 1, 1) if bias.ndim == 1 else (1, c, h, w)  # tied: one per channel
            z = b.op("Add", [z, b.const(bias.reshape(shape), "map_bias")], "map")
        out[m] = activations.apply(b, z, node["activation"], node.get("cap"), node.get("slope"), f"node {m}")
    return out


def _channels(s: Structure, nodes: list[int]) -> dict[int, tuple[int, int]]:
    at, out = 0, {}
    for n in nodes:
        c = s.map_shape(n)[0]  # type: ignore[index]
        out[n] = (at, at + c)
        at += c
    return out


def _split(b: Builder, x: str, sizes: list[int]) -> list[str]:
    if len(sizes) == 1:
        return [x]
    return b.op("Split", [x, b.ints(sizes, "split")], "part", outputs=len(sizes), axis=1)


def _conv(b: Builder, s: Structure, key: tuple[Any, ...], edges: list[dict[str, Any]], fetch: Callable[[int], str],
          parts: dict[int, list[str]]) -> None:
    (kh, kw), stride, pad, _ = key
    srcs = list(dict.fromkeys(e["src"] for e in edges))
    dsts = list(dict.fromkeys(e["dst"] for e in edges))
    src_at, dst_at = _channels(s, srcs), _channels(s, dsts)
    weights = np.zeros((dst_at[dsts[-1]][1], src_at[srcs[-1]][1], kh, kw), dtype=b.dtype)
    for e in edges:
        (d0, d1), (s0, s1) = dst_at[e["dst"]], src_at[e["src"]]
        weights[d0:d1, s0:s1] += np.asarray(s.weight(e)).reshape(d1 - d0, s1 - s0, kh, kw)
    x = b.concat([fetch(n) for n in srcs], axis=1, hint="conv_in")
    y = b.op("Conv", [x, b.const(weights, "filters")], "conv", kernel_shape=[kh, kw], strides=[stride, stride],
             pads=[pad, pad, pad, pad])
    for d, part in zip(dsts, _split(b, y, [dst_at[d][1] - dst_at[d][0] for d in dsts])):
        parts[d].append(part)


def _deep_filter(b: Builder, s: Structure, e: dict[str, Any], fetch: Callable[[int], str]) -> str:
    """A 3D filter: a Conv over (channels, height, width) of a one-channel
    volume; output channel f * slices + j is filter f at channel offset j."""
    kh, kw = e["size"]
    kc, stride, pad = e["depth"], e["stride"], e["padding"]
    _, oh, ow = s.map_shape(e["dst"])  # type: ignore[misc]
    w = np.asarray(s.weight(e))
    volume = b.op("Unsqueeze", [fetch(e["src"]), b.ints([1])], "volume")
    y = b.op("Conv", [volume, b.const(w.reshape(w.shape[0], 1, kc, kh, kw), "filters")], "conv3d",
             kernel_shape=[kc, kh, kw], strides=[1, stride, stride], pads=[0, pad, pad, 0, pad, pad])
    return b.op("Reshape", [y, b.ints([0, -1, oh, ow])], "deep")


def _pool(b: Builder, s: Structure, key: tuple[Any, ...], edges: list[dict[str, Any]], fetch: Callable[[int], str],
          parts: dict[int, list[str]]) -> None:
    op, size, stride = key
    x = b.concat([fetch(e["src"]) for e in edges], axis=1, hint="pool_in")
    kind = {"max": "MaxPool", "avg": "AveragePool"}.get(op)
    if kind is None:
        raise UnsupportedError(f"edge {edges[0]['id']}: ONNX export does not know pooling {op!r}")
    y = b.op(kind, [x], op + "pool", kernel_shape=list(size), strides=list(stride))
    for e, part in zip(edges, _split(b, y, [s.map_shape(e["src"])[0] for e in edges])):  # type: ignore[index]
        parts[e["dst"]].append(part)
