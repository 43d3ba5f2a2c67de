"""Seeded random graphs with every node kind, for property tests.

``nv.random_graph`` draws simple nodes only (the core's generator can draw
memory cells, but the binding does not expose it, and it has no feature
maps). ``mixed_graph`` builds, through the public Graph API, what the engine
must handle together: scalar inputs or an input feature map with filters
(random size, stride, padding; tied or untied biases), pooling and a
residual identity, flattened into scalar nodes; hidden nodes that are
simple (softsign among the activations) or memory cells of every kind;
layer skips, fixed weights, and recurrent edges of several skips between
scalar nodes and cells. The same seed gives the same graph.

>>> import numpy as np
>>> g = mixed_graph(np.random.default_rng(0), inputs=3, hidden=6, outputs=2)
>>> g.num_nodes >= 11
True
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

import nervenet as nv

CELLS = ["lstm", "gru", "mgu", "ugrnn", "delta"]
SMOOTH = ["identity", "sigmoid", "tanh"]
KINKED = SMOOTH + ["softsign", "relu", "leaky_relu"]


def mixed_graph(
    rng: np.random.Generator,
    *,
    inputs: int,
    hidden: int,
    outputs: int,
    image: Optional[tuple[int, int, int]] = None,
    density: float = 0.35,
    recurrent: int = 4,
    max_skip: int = 3,
    cell_probability: float = 0.4,
    kinks: bool = True,
) -> nv.Graph:
    """A random graph; with ``image=(C, H, W)`` the input is a feature map
    (``inputs`` is then ignored). ``kinks=False`` keeps to smooth
    activations and average pooling, for the 1e-7 gradient check."""
    activations = KINKED if kinks else SMOOTH
    g = nv.Graph()
    sources = _feature_front(g, rng, image, kinks) if image else g.add_inputs(inputs)
    scalars: list[int] = []  # hidden then outputs, in topological order
    for _ in range(hidden):
        if rng.random() < cell_probability:
            node = g.add_cells(1, str(rng.choice(CELLS)))[0]
        else:
            node = g.add_nodes(1, str(rng.choice(activations)), bias=bool(rng.random() < 0.6))[0]
        _feed(g, rng, sources + scalars, node, density)
        scalars.append(node)
    for _ in range(outputs):
        if rng.random() < cell_probability / 4:
            node = g.add_cells(1, str(rng.choice(CELLS)), role="output")[0]
        else:
            node = g.add_outputs(1, str(rng.choice(activations)), bias=bool(rng.random() < 0.5))[0]
        # Outputs read hidden nodes (or the sources directly): layer skips.
        _feed(g, rng, sources + scalars[:hidden], node, density)
        scalars.append(node)
    for _ in range(recurrent):
        src, dst = (int(rng.choice(scalars)) for _ in range(2))  # self loops, backward, forward
        skip = int(rng.integers(1, max_skip + 1))
        if g.find_edge(src, dst, time_skip=skip) is None:
            g.connect(src, dst, time_skip=skip)
    return g


def _feed(g: nv.Graph, rng: np.random.Generator, candidates: Sequence[int], node: int, density: float) -> None:
    """Edges into ``node`` from each candidate with probability ``density``
    (at least one); one in ten is a fixed weight."""
    chosen = [c for c in candidates if rng.random() < density] or [candidates[int(rng.integers(len(candidates)))]]
    for src in chosen:
        if rng.random() < 0.1:
            g.connect(src, node, weight=float(rng.uniform(-1, 1)), trainable=False)
        else:
            g.connect(src, node)


def _feature_front(g: nv.Graph, rng: np.random.Generator, image: tuple[int, int, int], kinks: bool) -> list[int]:
    """An input map, then one or two stages, each a filter layer of random
    geometry or a residual block, then maybe a pool; returns the maps scalar
    nodes may read (flattening edges)."""
    activations = ["tanh", "sigmoid"] + (["relu", "softsign"] if kinks else [])

    def add_map(shape: tuple[int, int, int]) -> int:
        return g.add_feature_map(*shape, activation=str(rng.choice(activations)), untied_bias=bool(rng.random() < 0.5))

    prev = g.add_feature_map(*image, role="input")
    shape = image
    readable = []
    for _ in range(int(rng.integers(1, 3))):
        if rng.random() < 0.4:
            # Residual block: two same-size filters (3x3 padded or 1x1), the
            # block's input added to the second: act(filter(a) + b + prev).
            a, b = add_map(shape), add_map(shape)
            for src, dst in ((prev, a), (a, b)):
                k = int(rng.choice([1, 3]))
                g.connect_filter(src, dst, k, padding=k // 2)
            g.identity(prev, b)
            readable += [a, b]
            prev = b
        else:
            k, stride, pad = _geometry(rng, shape[1], shape[2])
            shape = (int(rng.integers(1, 4)), *((n - k + 2 * pad) // stride + 1 for n in shape[1:]))
            m = add_map(shape)
            g.connect_filter(prev, m, k, stride=stride, padding=pad)
            readable.append(m)
            prev = m
    window = tuple(min(d for d in range(2, n + 1) if n % d == 0) if n > 1 else 1 for n in shape[1:])
    if window != (1, 1) and rng.random() < 0.6:
        p = g.add_feature_map(shape[0], shape[1] // window[0], shape[2] // window[1], activation="identity", bias=False)
        g.connect_pool(prev, p, str(rng.choice(["avg", "max"])) if kinks else "avg", window)
        readable.append(p)
    return readable


def _geometry(rng: np.random.Generator, h: int, w: int) -> tuple[int, int, int]:
    """(size, stride, padding) whose output size (W − F + 2P)/S + 1 is
    whole along both sides; 1x1 stride 1 always fits."""
    for _ in range(20):
        k, s, p = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(0, 2))
        if all(n - k + 2 * p >= 0 and (n - k + 2 * p) % s == 0 for n in (h, w)):
            return k, s, p
    return 1, 1, 0
