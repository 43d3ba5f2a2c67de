"""Recurrent architectures of lectures 5 and 7 as graph builders.

Each function returns a :class:`~nervenet.Graph` (build a
:class:`~nervenet.Network` from it). The lecture-5 figures are images in the
notes; each docstring names its slide and says what the slide's text states
the figure shows. Node ids follow creation order, given per builder.

Time convention for the time-series models (NOE, NARX, NBJ): the output at
step t is the prediction of the target at t + 1 (train with
``Y[:, t] = target[t + 1]``). Their window inputs use the layout of
:func:`nervenet.data.lagged_windows`: input ``k * n_inputs + f`` is feature
``f`` at time ``t - k``, ``k = 0..lags`` (newest first).
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence, Union

from . import _core
from ._checks import flag, integer, text
from .errors import ConfigError, GraphError
from .graph import Graph

__all__ = ["elman", "jordan", "noe", "narx", "nbj", "stacked", "lstm_layers", "gru_layers", "add_recurrent_edges"]

CELL_KINDS = tuple(_core.cell_kinds(units=False))
DIRECTIONS = ("any", "self", "backward", "forward")

Skips = Union[int, Sequence[int], None]


# ---- argument checks -------------------------------------------------------------


def _activation(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be an activation name such as 'tanh', got {value!r}")
    try:
        Graph().add_node("hidden", value)
    except ConfigError as e:
        raise ConfigError(f"{name}: {e}") from None
    return value


def _skip_list(value: Skips, name: str, default: int) -> Sequence[int]:
    """An int n means skips 1..n; a sequence lists the skips (each >= 1, no repeats).
    1..n stays a range: a huge n is refused by the graph when the nodes it
    needs are added, not by filling memory with the list first."""
    if value is None:
        return range(1, default + 1)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return range(1, integer(value, name, 1) + 1)
    skips = [integer(s, f"{name} entry", 1) for s in value]
    if not skips:
        raise ConfigError(f"{name} must list at least one time skip, got {list(value)!r}")
    if len(set(skips)) != len(skips):
        raise ConfigError(f"{name} repeats a time skip: {skips}")
    return skips


def _sizes(value: Union[int, Sequence[int]], name: str) -> list[int]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return [integer(value, name, 1)]
    sizes = [integer(s, f"{name} entry", 1) for s in value]
    if not sizes:
        raise ConfigError(f"{name} must list at least one layer size, got {list(value)!r}")
    return sizes


# ---- lecture 5: Jordan and Elman ------------------------------------------------------


def _one_hidden_layer(n_inputs: int, lags: int, n_hidden: int, n_outputs: int, activation: str,
              output_activation: str, bias: Optional[bool], extra: int) -> tuple[Graph, list[int], list[int], list[int],
                                                                                 list[int]]:
    """One hidden layer: ``n_inputs * (lags + 1)`` inputs, ``extra`` input-like
    identity nodes (no bias), hidden, outputs; inputs and extras fully
    connected to hidden, hidden to outputs."""
    n_inputs, lags = integer(n_inputs, "n_inputs", 1), integer(lags, "lags", 0)
    n_hidden, n_outputs = integer(n_hidden, "n_hidden", 1), integer(n_outputs, "n_outputs", 1)
    activation = _activation(activation, "activation")
    output_activation = _activation(output_activation, "output_activation")
    bias = flag(bias, "bias", optional=True)
    g = Graph()
    x = g.add_inputs(n_inputs * (lags + 1))
    f = g.add_nodes(extra, "identity", bias=False)
    h = g.add_nodes(n_hidden, activation, bias=bias)
    y = g.add_outputs(n_outputs, output_activation, bias=bias)
    g.connect_all(x + f, h)
    g.connect_all(h, y)
    return g, x, f, h, y


def elman(n_inputs: int, n_hidden: int, n_outputs: int, *, activation: str = "tanh",
          output_activation: str = "identity", bias: Optional[bool] = None) -> Graph:
    """An Elman network: one hidden layer fully connected to itself one step back.

    Reproduces lecture 5, slides "Elman Networks": the figure shows 3 inputs,
    3 hidden nodes and the hidden layer fully connected to itself with
    recurrent connections, each with its own weight -- "9 new recurrent edges
    and weights are added" (against the Jordan network's 3); the next slide
    unrolls it: "each hidden node has a weighted connection to each hidden
    node in the subsequent pass". So ``n_hidden**2`` recurrent edges (self
    loops included), all ``time_skip=1`` and trainable.

    Ids: inputs, hidden, outputs. ``bias=None`` keeps the defaults (hidden
    nodes have a bias, outputs do not); True/False sets it for hidden and
    output nodes.

    >>> g = elman(3, 3, 1)
    >>> sum(g.edge(e)["time_skip"] == 1 for e in g.edge_ids())
    9
    """
    g, _, _, h, _ = _one_hidden_layer(n_inputs, 0, n_hidden, n_outputs, activation, output_activation, bias, 0)
    g.connect_all(h, h, time_skip=1)
    return g


def jordan(n_inputs: int, n_hidden: int, n_outputs: int, *, activation: str = "tanh",
           output_activation: str = "identity", bias: Optional[bool] = None) -> Graph:
    """A Jordan network: the previous step's outputs feed every hidden node.

    Reproduces lecture 5, slides "Jordan Networks": the figure shows 3
    inputs, 3 hidden nodes and one output whose value from the previous
    pass "is fed into the hidden nodes after multiplying it by weights on
    those connections (in this case, w_0, w_1 and w_2)" -- 3 recurrent edges.
    Here every output feeds every hidden node at ``time_skip=1`` with a
    trainable weight: ``n_outputs * n_hidden`` recurrent edges (lecture 6's
    worked example, 2 hidden and 1 output, is ``jordan(2, 2, 1, bias=False)``).

    Ids: inputs, hidden, outputs. ``bias`` as for :func:`elman`.

    >>> g = jordan(3, 3, 1)
    >>> sum(g.edge(e)["time_skip"] == 1 for e in g.edge_ids())
    3
    """
    g, _, _, h, y = _one_hidden_layer(n_inputs, 0, n_hidden, n_outputs, activation, output_activation, bias, 0)
    g.connect_all(y, h, time_skip=1)
    return g


# ---- lecture 5: nonlinear models (NOE, NARX, NBJ) --------------------------------------------


def noe(n_inputs: int, n_hidden: int, n_outputs: int, *, lags: int = 2, activation: str = "tanh",
        output_activation: str = "identity", bias: Optional[bool] = None) -> Graph:
    """A Nonlinear Output Error network: a feed-forward net over lagged windows.

    Reproduces lecture 5, slide "Nonlinear Output Error (NOE) Network": the
    figure is "for two time lags/windows (n = 2)"; the previous values of the
    prediction target (input i_0, predicted at t+1) "are fed into the network
    along with the previous windows". It is "not really a recurrent neural
    network (as it does not have recurrent connections)": the graph has
    ``n_inputs * (lags + 1)`` input nodes (the ``n_inputs`` features at t,
    t-1, ..., t-lags, the target's actual values among them), a hidden layer
    and the outputs, fully connected, and no recurrent edge.

    Data: ``X, Y = nv.data.lagged_windows(series, lags, targets=[0])``.
    Ids: inputs, hidden, outputs.

    >>> g = noe(4, 5, 1, lags=2)
    >>> len(g.inputs()), g.num_edges   # 12 window inputs; 12*5 + 5*1 edges
    (12, 65)
    """
    g, *_ = _one_hidden_layer(n_inputs, lags, n_hidden, n_outputs, activation, output_activation, bias, 0)
    return g


def narx(n_inputs: int, n_hidden: int, n_outputs: int, *, lags: int = 2, skips: Skips = None,
         activation: str = "tanh", output_activation: str = "identity", bias: Optional[bool] = None) -> Graph:
    """A NARX network: the network's own previous predictions fed back as inputs.

    Reproduces lecture 5, slide "Nonlinear AutoRegressive with eXogenous
    inputs (NARX) Network": as the NOE figure, but "instead of passing in the
    prediction parameter (i_0) the previous predicted values are passed from
    the previous passes through the neural network", "over a recurrent
    connection but it's weight is fixed at 1 (it is not trainable)".

    Design: ``n_inputs`` exogenous features (the target is not among them)
    in ``lags + 1`` windows, as for :func:`noe`. For every output j and skip
    k in ``skips`` an input-like node p_jk (identity, no bias) receives the
    output j from k steps back over a fixed weight-1 edge
    (``time_skip=k, weight=1.0, trainable=False``): p_jk(t) = out_j(t-k). The
    p nodes then connect to every hidden node with trainable weights, just as
    the input they replace would. ``skips`` is an int n (skips 1..n) or a
    list of skips; it defaults to ``max(lags, 1)``, i.e. the predictions of
    the previous ``lags`` passes. (The p nodes are hidden nodes to the
    engine: ``fit(dropout=...)`` may drop them like any hidden node.)

    Data: ``X = nv.data.lagged_windows(exog, lags, start="pad")``
    (batch, time, n_inputs * (lags + 1)), ``Y[:, t] = target[t + 1]``.
    Ids: inputs, p nodes (output-major), hidden, outputs.

    >>> g = narx(3, 4, 1, lags=2)
    >>> sorted(g.edge(e)["time_skip"] for e in g.edge_ids() if not g.edge(e)["trainable"])
    [1, 2]
    """
    skip_list = _skip_list(skips, "skips", max(integer(lags, "lags", 0, bits=32), 1))
    n_out = integer(n_outputs, "n_outputs", 1)
    g, _, p, _, y = _one_hidden_layer(n_inputs, lags, n_hidden, n_out, activation, output_activation, bias,
                                      n_out * len(skip_list))
    for j, out in enumerate(y):
        for i, k in enumerate(skip_list):
            g.connect(out, p[j * len(skip_list) + i], time_skip=k, weight=1.0, trainable=False)
    return g


def nbj(n_inputs: int, n_hidden: int, n_outputs: int, *, lags: int = 2, skips: Skips = None,
        targets: Union[int, Sequence[int], None] = None, activation: str = "tanh",
        output_activation: str = "identity", bias: Optional[bool] = None) -> Graph:
    """A Nonlinear Box-Jenkins network: actual values and past errors as inputs.

    Reproduces lecture 5, slide "Nonlinear Box Jenkins (NBJ) Network": as in
    NOE "the actual prediction parameter (the i_0 node ...) at time t is passed
    into the network"; "in addition, the error (the e nodes) between the
    prediction and the actual value are also passed in as an input parameter
    via a recurrent connection (with an untrainable weight = 1)".

    Design: ``n_inputs`` features per step in ``lags + 1`` windows, as for
    :func:`noe`; ``targets[j]`` is the feature column (in a step's
    ``n_inputs``) holding the actual values output j predicts (default
    ``0..n_outputs-1``). For every output j and skip k in ``skips`` an
    input-like error node e_jk (identity, no bias) receives, over fixed
    edges, the actual value with weight +1 (from input ``targets[j]`` at
    ``time_skip=k-1``) and output j with weight -1 (``time_skip=k``):

        e_jk(t) = target_j(t-k+1) - out_j(t-k)

    the error of the prediction made k steps back (k = 1: the latest). Both
    read 0 before the sequence starts. The e nodes connect to every hidden
    node with trainable weights. ``skips`` as for :func:`narx`.

    Data: ``X = nv.data.lagged_windows(series, lags, start="pad")``,
    ``Y[:, t] = target[t + 1]``. Ids: inputs, e nodes (output-major),
    hidden, outputs.

    >>> g = nbj(2, 4, 1, lags=1, skips=1)
    >>> sorted(g.edge(e)["weight"] for e in g.edge_ids() if not g.edge(e)["trainable"])
    [-1.0, 1.0]
    """
    skip_list = _skip_list(skips, "skips", max(integer(lags, "lags", 0, bits=32), 1))
    n_in, n_out = integer(n_inputs, "n_inputs", 1), integer(n_outputs, "n_outputs", 1)
    if targets is None:
        if n_out > n_in:
            raise ConfigError(f"targets: give the target column of each of the {n_out} outputs "
                              f"(the default 0..{n_out - 1} needs n_inputs >= {n_out}, got n_inputs={n_in})")
        cols = list(range(n_out))
    else:
        raw: list[object] = [targets]
        if isinstance(targets, Iterable) and not isinstance(targets, (str, bytes)):
            raw = list(targets)
        cols = [integer(c, "targets entry", 0) for c in raw]
        if len(cols) != n_out:
            raise ConfigError(f"targets must name one column per output ({n_out}), got {raw!r}")
        bad = [c for c in cols if c >= n_in]
        if bad:
            raise ConfigError(f"targets: column {bad[0]} is out of range for n_inputs={n_in}")
    g, x, e, _, y = _one_hidden_layer(n_in, lags, n_hidden, n_out, activation, output_activation, bias,
                                      n_out * len(skip_list))
    for j, (out, col) in enumerate(zip(y, cols)):
        for i, k in enumerate(skip_list):
            node = e[j * len(skip_list) + i]
            g.connect(x[col], node, time_skip=k - 1, weight=1.0, trainable=False)
            g.connect(out, node, time_skip=k, weight=-1.0, trainable=False)
    return g


# ---- lecture 7: layers of memory cells ------------------------------------------------------------


def stacked(n_inputs: int, layers: Union[int, Sequence[int]], n_outputs: int, *, kind: str = "lstm",
            activation: Optional[str] = None, recurrent: bool = False, output_activation: str = "identity",
            bias: Optional[bool] = None) -> Graph:
    """Stacked layers of memory cells (or simple neurons), fully connected in depth.

    Follows lecture 7, slide "Memory Cell Structures - Simple Neuron" and the
    cell slides after it: each cell (LSTM, GRU, MGU, UGRNN, Delta-RNN) takes
    the sum of its incoming edges as its input x and keeps its own state, so
    its memory needs no recurrent edge; "simple (and any other memory cell
    structure) can also have recurrent edges ... loop back to the same neuron
    (e.g., an Elman-like connection)". ``layers`` lists the layer sizes; each
    layer is fully connected from the one before, the last to the outputs.

    ``kind``: "lstm", "gru", "mgu", "ugrnn", "delta" (cells, added with
    ``Graph.add_cells``; they carry no simple bias) or "simple" (neurons with
    ``activation``, default "tanh"; ``activation`` is refused for cells).
    ``recurrent=True`` adds the Elman-like edges: each layer fully connected
    to itself at ``time_skip=1`` (``size**2`` per layer), so kind="simple"
    with recurrent=True is a stack of Elman layers. ``bias`` applies to
    simple hidden nodes and the outputs, as for :func:`elman`.
    Ids: inputs, each layer in order, outputs.

    >>> g = stacked(3, [4, 4], 1, kind="simple", recurrent=True)
    >>> g.num_edges   # 3*4 + 4*4 + 4*1 feed-forward, 2 * 16 recurrent
    64
    """
    n_inputs, n_outputs = integer(n_inputs, "n_inputs", 1), integer(n_outputs, "n_outputs", 1)
    sizes = _sizes(layers, "layers")
    kind = text(kind, "kind")
    if kind == "simple":
        act = _activation("tanh" if activation is None else activation, "activation")
    elif kind in CELL_KINDS:
        if activation is not None:
            raise ConfigError(f"activation={activation!r} applies to kind='simple' only, not to {kind!r} cells")
        act = ""
    else:
        raise ConfigError(f"unknown kind {kind!r}; expected one of simple, {', '.join(CELL_KINDS)}")
    output_activation = _activation(output_activation, "output_activation")
    bias = flag(bias, "bias", optional=True)
    recurrent = flag(recurrent, "recurrent")
    g = Graph()
    prev = g.add_inputs(n_inputs)
    for size in sizes:
        layer = g.add_nodes(size, act, bias=bias) if kind == "simple" else g.add_cells(size, kind)
        g.connect_all(prev, layer)
        if recurrent:
            g.connect_all(layer, layer, time_skip=1)
        prev = layer
    g.connect_all(prev, g.add_outputs(n_outputs, output_activation, bias=bias))
    return g


def _torch_layers(method: str, n_inputs: int, hidden_sizes: Union[int, Sequence[int]], n_outputs: int,
                  output_activation: str, output_bias: bool) -> Graph:
    n_inputs, n_outputs = integer(n_inputs, "n_inputs", 1), integer(n_outputs, "n_outputs", 1)
    sizes = _sizes(hidden_sizes, "hidden_sizes")
    output_activation = _activation(output_activation, "output_activation")
    output_bias = flag(output_bias, "output_bias")
    g = Graph()
    prev = g.add_inputs(n_inputs)
    for size in sizes:
        prev = getattr(g, method)(size, prev)
    g.connect_all(prev, g.add_outputs(n_outputs, output_activation, bias=bool(output_bias)))
    return g


def lstm_layers(n_inputs: int, hidden_sizes: Union[int, Sequence[int]], n_outputs: int, *,
                output_activation: str = "identity", output_bias: bool = True) -> Graph:
    """Standard (torch-style) LSTM layers with a linear head.

    The counterpart of ``torch.nn.LSTM(n_inputs, h, num_layers=...)``
    followed by ``nn.Linear(h_last, n_outputs)``: each entry of
    ``hidden_sizes`` (an int for one layer) is a ``Graph.add_lstm_layer``
    fed by the previous layer's units (the gates' input and recurrent
    weights live inside the layer); the last layer's units connect to every
    output. ``output_bias=True`` gives the outputs a bias, as nn.Linear has.
    Not a figure of the notes: the layer users coming from PyTorch expect.

    >>> g = lstm_layers(3, [8, 8], 2)
    """
    return _torch_layers("add_lstm_layer", n_inputs, hidden_sizes, n_outputs, output_activation, output_bias)


def gru_layers(n_inputs: int, hidden_sizes: Union[int, Sequence[int]], n_outputs: int, *,
               output_activation: str = "identity", output_bias: bool = True) -> Graph:
    """Standard (torch-style) GRU layers with a linear head; as :func:`lstm_layers`
    with ``Graph.add_gru_layer`` (``torch.nn.GRU`` + ``nn.Linear``).

    >>> g = gru_layers(3, 16, 1)
    """
    return _torch_layers("add_gru_layer", n_inputs, hidden_sizes, n_outputs, output_activation, output_bias)


# ---- lecture 5: generic recurrent edges ---------------------------------------------------------


def _depths(graph: Graph) -> dict[int, int]:
    """Longest path (in enabled time_skip=0 edges) from a node without such inputs."""
    nodes = graph.node_ids()
    succ: dict[int, list[int]] = {n: [] for n in nodes}
    indeg = dict.fromkeys(nodes, 0)
    for eid in graph.edge_ids():
        e = graph.edge(eid)
        if e["time_skip"] == 0 and e["enabled"]:
            succ[e["src"]].append(e["dst"])
            indeg[e["dst"]] += 1
    depth = dict.fromkeys(nodes, 0)
    ready = [n for n in nodes if indeg[n] == 0]
    while ready:
        n = ready.pop()
        for m in succ[n]:
            depth[m] = max(depth[m], depth[n] + 1)
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    return depth


def add_recurrent_edges(graph: Graph, srcs: Iterable[int], dsts: Optional[Iterable[int]] = None, *,
                        skip: Union[int, Sequence[int]] = 1, direction: str = "any",
                        weight: Optional[float] = None, trainable: bool = True) -> list[int]:
    """Adds recurrent edges src -> dst reading src ``skip`` steps back; returns their ids.

    Reproduces lecture 5, slides "Recurrent Connections" and "Generic
    Recurrent Connections": recurrent connections can connect "a node ... to
    itself", "to a node in a prior layer", or go forward, and "they can
    actually span multiple time steps" -- "three different types of recurrent
    connections - backward, self, and forward".

    ``direction`` (depth = longest path of feed-forward edges to the node):
    "self" connects each node of ``srcs`` to itself (``dsts`` None or the
    same nodes); "backward" / "forward" connect every src to every dst and
    require each dst to be shallower / deeper than each src; "any" (the
    default) connects every src to every dst unchecked. ``skip`` is a time
    skip >= 1 or a list of them (one edge per pair and skip); ``weight`` and
    ``trainable`` as for :meth:`Graph.connect`. All or nothing: on an error
    no edge is added.

    >>> g = elman(2, 3, 1)
    >>> h, y = [2, 3, 4], g.outputs()
    >>> len(add_recurrent_edges(g, y, h, skip=[2, 3], direction="backward"))
    6
    """
    if not isinstance(graph, Graph):
        raise ConfigError(f"graph must be a nervenet.Graph, got {type(graph).__name__}")
    if direction not in DIRECTIONS:
        raise ConfigError(f"unknown direction {direction!r}; expected one of {', '.join(DIRECTIONS)}")
    if isinstance(skip, (str, bytes)) or not isinstance(skip, Iterable):
        skip_list = [integer(skip, "skip", 1)]
    else:
        skip_list = _skip_list(skip, "skip", 1)
    src_list = [integer(n, "srcs entry", 0) for n in srcs]
    dst_list = src_list if dsts is None else [integer(n, "dsts entry", 0) for n in dsts]
    if not src_list or not dst_list:
        raise ConfigError(f"srcs and dsts must name at least one node, got srcs={src_list}, dsts={dst_list}")
    known = set(graph.node_ids())
    for name, ids in (("srcs", src_list), ("dsts", dst_list)):
        for n in ids:
            if n not in known:
                raise GraphError(f"{name}: unknown node id {n}")
    if direction == "self":
        if sorted(dst_list) != sorted(src_list):
            raise ConfigError(f"direction='self' connects each node to itself; dsts={dst_list} must be srcs={src_list}")
        pairs = [(n, n) for n in src_list]
    else:
        pairs = [(s, d) for s in src_list for d in dst_list]
    if direction in ("backward", "forward"):
        depth = _depths(graph)
        for s, d in pairs:
            if (depth[d] < depth[s]) != (direction == "backward") or depth[d] == depth[s]:
                raise ConfigError(f"direction={direction!r}: edge {s} -> {d} goes from depth {depth[s]} to depth "
                                  f"{depth[d]}, not {'shallower' if direction == 'backward' else 'deeper'}")
    added: list[int] = []
    try:
        for k in skip_list:
            for s, d in pairs:
                added.append(graph.connect(s, d, time_skip=k, weight=weight, trainable=trainable))
    except Exception:
        for e in added:
            graph.remove_edge(e)
        raise
    return added
