"""The graph API: build a network node by node and edge by edge.

A :class:`Graph` is a directed graph of nodes (input, hidden, output; simple
neurons, memory cells or feature maps) and edges (scalar weights, fixed
identity links, filters and pooling between feature maps) with stable
integer ids. Edges
with ``time_skip=0`` must form a DAG; an edge with ``time_skip=d >= 1`` reads
its source ``d`` steps back in time and may point anywhere, itself included.
Every check happens in the Rust core; errors name the node or edge at fault.

As a genome of neuro-evolution, every node and edge also carries an
innovation number, its name across the genomes of a run (by default its id;
:meth:`Graph.set_node_innovation`, :meth:`Graph.find_edge_by_innovation`),
and :meth:`Graph.structural_hash` spots duplicate genomes.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Optional, Union

import numpy as np

from .. import _checks, _core
from .._checks import flag, integer, number, text, whole
from ..errors import ConfigError, FormatError, NervenetError
from .maps import MapMethods

__all__ = ["Graph"]

PathLike = Union[str, "os.PathLike[str]"]


class Graph(MapMethods):
    """A neural network as an explicit graph of nodes and edges.

    >>> g = Graph()
    >>> x = g.add_inputs(2); h = g.add_nodes(3); y = g.add_outputs(1)
    >>> _ = g.connect_all(x, h); _ = g.connect_all(h, y)
    >>> _ = g.connect(h[0], h[0], time_skip=1)   # a recurrent self edge
    >>> g
    Graph(nodes=6, edges=10, inputs=2, outputs=1)

    CNNs use feature maps (:meth:`add_feature_map`), filter and pool edges
    (:meth:`connect_filter`, :meth:`connect_pool`), identity edges between
    maps of equal shape (residuals), and weight edges from a map to a scalar
    node (flattening: one weight per map value); see :mod:`nervenet.cnn`.
    """

    __slots__ = ("_g",)
    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(self) -> None:
        self._g = _core.Graph()

    @classmethod
    def _wrap(cls, inner: _core.Graph) -> "Graph":
        g = cls.__new__(cls)
        g._g = inner
        return g

    # ---- building ------------------------------------------------------

    def add_node(
        self,
        role: str = "hidden",
        activation: str = "identity",
        *,
        bias: Optional[bool] = None,
        cap: Optional[float] = None,
        slope: Optional[float] = None,
    ) -> int:
        """Adds one node; ``role`` is "input", "hidden" or "output".

        ``bias=None`` uses the default (hidden nodes have a bias, input and
        output nodes do not). ``cap`` is relu6's cap, ``slope`` leaky_relu's.
        """
        return self._g.add_node(text(role, "role"), *_simple(activation, cap, slope, bias))

    def add_inputs(self, n: int) -> list[int]:
        """Adds ``n`` input nodes; their id order is the order of input features."""
        return self._g.add_nodes(integer(n, "n", bits=63), "input")

    def add_nodes(
        self,
        n: int,
        activation: str = "tanh",
        *,
        bias: Optional[bool] = None,
        cap: Optional[float] = None,
        slope: Optional[float] = None,
    ) -> list[int]:
        """Adds ``n`` hidden nodes with the given activation.

        Activations: identity (or linear), relu, relu6 (``cap``, default 6),
        leaky_relu (``slope``, default 0.01), sigmoid, tanh, softsign.
        """
        return self._g.add_nodes(integer(n, "n", bits=63), "hidden", *_simple(activation, cap, slope, bias))

    def add_outputs(
        self,
        n: int,
        activation: str = "identity",
        *,
        bias: Optional[bool] = None,
        cap: Optional[float] = None,
        slope: Optional[float] = None,
    ) -> list[int]:
        """Adds ``n`` output nodes; their id order is the order of network outputs."""
        return self._g.add_nodes(integer(n, "n", bits=63), "output", *_simple(activation, cap, slope, bias))

    def add_cells(self, n: int, kind: str = "lstm", *, role: str = "hidden") -> list[int]:
        """Adds ``n`` memory cells and returns their ids.

        Kinds: ``lstm`` (the notes' peephole LSTM), ``gru``, ``mgu``, ``ugrnn``,
        ``delta`` (Delta-RNN). A cell takes the sum of its incoming edges as
        its input x and keeps its own state between time steps, so it needs no
        recurrent edge for its memory; its scalar parameters are named
        ``node:N:lstm.w_f`` and so on, and it has no node bias (the cell's own
        biases are among those parameters; the LSTM's forget-gate bias starts
        at +1). Cells may be outputs (``role="output"``).

        >>> g = Graph()
        >>> x = g.add_inputs(2); c = g.add_cells(3, "gru"); y = g.add_outputs(1)
        >>> _ = g.connect_all(x, c); _ = g.connect_all(c, y)
        """
        return self._g.add_nodes(integer(n, "n", bits=63), text(role, "role"), kind=text(kind, "kind"))

    def add_lstm_layer(self, units: int, inputs: Iterable[int]) -> list[int]:
        """Adds a standard LSTM layer (as ``torch.nn.LSTM``) fed by ``inputs``.

        Each of the ``units`` nodes is an ``lstm_unit`` with four gate ports
        (0 i, 1 f, 2 g, 3 o); every input feeds every gate of every unit, and
        every unit feeds every gate of every unit one step later — torch's
        ``weight_ih`` and ``weight_hh`` as edges. Gate biases are parameters
        ``node:N:bias.i`` ... (torch's ``bias_ih + bias_hh``; the forget gate
        starts at +1). Returns the unit ids; :func:`nervenet.interop.set_torch_weights`
        copies a torch layer's weights in.
        """
        return self._standard_layer("lstm_unit", units, inputs, input_ports=(0, 1, 2, 3), hidden_ports=(0, 1, 2, 3))

    def add_gru_layer(self, units: int, inputs: Iterable[int]) -> list[int]:
        """Adds a standard GRU layer (as ``torch.nn.GRU``) fed by ``inputs``.

        Units are ``gru_unit`` nodes with ports 0 r, 1 z, 2 n_x, 3 n_h: inputs
        feed r, z and n_x; the units' outputs one step earlier feed r, z and
        n_h (kept apart from n_x because r multiplies only the recurrent part
        of the candidate). Returns the unit ids; :func:`nervenet.interop.set_torch_weights`
        copies a torch layer's weights in.
        """
        return self._standard_layer("gru_unit", units, inputs, input_ports=(0, 1, 2), hidden_ports=(0, 1, 3))

    def _standard_layer(
        self, kind: str, units: int, inputs: Iterable[int], *, input_ports: tuple[int, ...], hidden_ports: tuple[int, ...]
    ) -> list[int]:
        srcs = list(inputs)
        units = integer(units, "units")
        if units == 0 or not srcs:
            raise ConfigError(f"a layer needs at least one unit and one input (got {units} units, {len(srcs)} inputs)")
        cells = self.add_cells(units, kind)
        for port in input_ports:
            self._g.connect_all(srcs, cells, 0, True, port)
        for port in hidden_ports:
            self._g.connect_all(cells, cells, 1, True, port)
        return cells

    def connect(
        self,
        src: int,
        dst: int,
        *,
        time_skip: int = 0,
        weight: Optional[float] = None,
        trainable: bool = True,
        port: int = 0,
    ) -> int:
        """Adds a scalar-weight edge src -> dst and returns its id.

        ``weight=None`` lets the network's initialiser choose the value;
        ``trainable=False`` keeps the weight fixed (1 unless given). ``port``
        picks the gate of a standard LSTM/GRU unit the edge feeds.
        """
        return self._g.add_edge(
            _node(src, "src"), _node(dst, "dst"), _skip(time_skip), flag(trainable, "trainable"),
            None if weight is None else number(weight, "weight"), "weight", _port(port),
        )

    def connect_all(
        self,
        srcs: Union[int, Iterable[int]],
        dsts: Union[int, Iterable[int]],
        *,
        time_skip: int = 0,
        trainable: bool = True,
        port: int = 0,
    ) -> list[int]:
        """Connects every src to every dst (src-major order); all or nothing.
        ``srcs`` and ``dsts`` are lists of node ids, or one id each (a
        feature map feeding a layer: ``g.connect_all(map_id, outputs)``)."""
        return self._g.connect_all(
            _nodes(srcs, "srcs"), _nodes(dsts, "dsts"), _skip(time_skip), flag(trainable, "trainable"),
            _port(port),
        )

    def identity(self, src: int, dst: int, *, time_skip: int = 0) -> int:
        """Adds a fixed weight-1 edge (a residual / skip connection) and returns its id."""
        src, dst = _node(src, "src"), _node(dst, "dst")
        return self._g.add_edge(src, dst, _skip(time_skip), False, None, "identity")

    def set_bias(self, node: int, value: float) -> None:
        """Sets a node's initial bias value (and gives it a bias)."""
        self._g.set_bias(_node(node), number(value, "value"))

    def set_weight(self, edge: int, value: float) -> None:
        """Sets an edge's initial (or, if fixed, permanent) weight."""
        self._g.set_weight(_edge(edge), number(value, "value"))

    # ---- mutation --------------------------------------------------------

    def remove_node(self, node: int) -> None:
        """Removes a node and every edge touching it (ids are never reused)."""
        self._g.remove_node(_node(node))

    def remove_edge(self, edge: int) -> None:
        self._g.remove_edge(_edge(edge))

    def split_edge(self, edge: int, activation: str = "identity") -> tuple[int, int, int]:
        """Splits src -> dst into src -> new -> dst; returns (new node, first edge, second edge).

        The first edge keeps the original's kind, skip and weight; the second
        has weight 1, so with the identity activation the function is unchanged.
        """
        return self._g.split_edge(_edge(edge), text(activation, "activation"))

    def set_node_enabled(self, node: int, enabled: bool) -> None:
        """Disabled hidden nodes (and their edges) are left out of the network."""
        self._g.set_node_enabled(_node(node), flag(enabled, "enabled"))

    def set_edge_enabled(self, edge: int, enabled: bool) -> None:
        self._g.set_edge_enabled(_edge(edge), flag(enabled, "enabled"))

    # ---- innovation numbers (genomes) ------------------------------------

    def set_node_innovation(self, node: int, innovation: int) -> None:
        """Gives a node its innovation number: its name across the genomes of
        an evolution run, so two genomes align node by node.

        Numbers are unique among a graph's nodes (GraphError naming the node
        that has it) and separate from the edges' numbers. A node added
        without one gets its id, or one past the largest number in use if
        that is larger; graph JSON without them loads with innovation = id.

        >>> g = Graph(); x = g.add_inputs(1); y = g.add_outputs(1)
        >>> g.set_node_innovation(y[0], 40)
        >>> g.node(y[0])["innovation"], g.find_node_by_innovation(40) == y[0]
        (40, True)
        """
        self._g.set_node_innovation(_node(node), _innovation(innovation))

    def set_edge_innovation(self, edge: int, innovation: int) -> None:
        """Gives an edge its innovation number (unique among the graph's
        edges; see :meth:`set_node_innovation`).

        >>> g = Graph(); x = g.add_inputs(2); y = g.add_outputs(1)
        >>> e = g.connect_all(x, y)
        >>> g.set_edge_innovation(e[1], 7)
        >>> [g.edge(i)["innovation"] for i in e], g.max_edge_innovation()
        ([0, 7], 7)
        """
        self._g.set_edge_innovation(_edge(edge), _innovation(innovation))

    def find_node_by_innovation(self, innovation: int) -> Optional[int]:
        """The id of the node with this innovation number, or None."""
        return self._g.find_node_by_innovation(_innovation(innovation))

    def find_edge_by_innovation(self, innovation: int) -> Optional[int]:
        """The id of the edge with this innovation number, or None."""
        return self._g.find_edge_by_innovation(_innovation(innovation))

    def max_node_innovation(self) -> Optional[int]:
        """The largest innovation number among the nodes (None if there are none)."""
        return self._g.max_node_innovation()

    def max_edge_innovation(self) -> Optional[int]:
        """The largest innovation number among the edges (None if there are none)."""
        return self._g.max_edge_innovation()

    def structural_hash(self) -> int:
        """A 64-bit hash of the graph's active structure, for spotting
        duplicate genomes: the same for any two graphs with the same enabled
        nodes (innovation number, role, kind and activation, bias flag, and
        an input's or output's position) and the same enabled edges between
        them (innovation number, ends' innovation numbers, time skip, kind,
        port, trainable) — whatever the ids, the order of building and the
        weight and bias values. Disabled nodes and edges do not count. The
        same value on every run and platform (FNV-1a).

        >>> a = Graph(); x = a.add_inputs(1); y = a.add_outputs(1); e = a.connect(x[0], y[0])
        >>> b = a.copy(); b.set_weight(e, 0.5)
        >>> a.structural_hash() == b.structural_hash()
        True
        >>> b.set_edge_enabled(e, False); a.structural_hash() == b.structural_hash()
        False
        """
        return self._g.structural_hash()

    # ---- queries ---------------------------------------------------------

    def find_edge(self, src: int, dst: int, *, time_skip: int = 0, port: int = 0) -> Optional[int]:
        """The id of the edge src -> dst (into ``port``) with this time skip, or None."""
        src, dst = _node(src, "src"), _node(dst, "dst")
        return self._g.find_edge(src, dst, _skip(time_skip), _port(port))

    def inputs(self) -> list[int]:
        return self._g.inputs()

    def outputs(self) -> list[int]:
        return self._g.outputs()

    def node(self, node: int) -> dict[str, Any]:
        """A node as a dict: id, innovation, role, kind, activation (+cap/slope), bias, bias_value, enabled;
        feature maps add shape, channels, height, width and untied_bias."""
        return self._g.node(_node(node))

    def edge(self, edge: int) -> dict[str, Any]:
        """An edge as a dict: id, innovation, src, dst, kind, time_skip, port, trainable, weight, enabled;
        filters add size, depth (kc), stride and padding; pools op, size, stride,
        overlapping and pseudorandom."""
        return self._g.edge(_edge(edge))

    def node_ids(self) -> list[int]:
        return self._g.node_ids()

    def edge_ids(self) -> list[int]:
        return self._g.edge_ids()

    @property
    def num_nodes(self) -> int:
        return self._g.num_nodes

    @property
    def num_edges(self) -> int:
        return self._g.num_edges

    def validate(self) -> None:
        """Raises GraphError naming the culprit if an invariant is broken."""
        self._g.validate()

    # ---- drawing -----------------------------------------------------------

    def to_dot(self, *, rankdir: str = "LR") -> str:
        """The graph as Graphviz DOT text (:func:`nervenet.drawing.to_dot`):
        nodes ranked by topological level, recurrent edges dashed and
        labelled ``t-k``.

        >>> g = Graph(); x = g.add_inputs(1); y = g.add_outputs(1)
        >>> _ = g.connect(x[0], y[0]); _ = g.connect(y[0], y[0], time_skip=2)
        >>> [line.strip() for line in g.to_dot().splitlines() if "->" in line]
        ['n0 -> n1 [color="#333333"];', 'n1 -> n1 [style=dashed, color="#6a3d9a", label="t-2", constraint=false];']
        """
        from ..drawing import to_dot

        return to_dot(self, rankdir=rankdir)

    def draw(self, ax: Any = None, *, labels: Optional[bool] = None, legend: bool = True, arrows: int = 300) -> Any:
        """Draws the graph with matplotlib and returns the Axes
        (:func:`nervenet.drawing.draw_graph`, which explains the options).

        >>> import matplotlib; matplotlib.use("Agg")
        >>> g = Graph(); x = g.add_inputs(1); y = g.add_outputs(1); _ = g.connect(x[0], y[0])
        >>> sorted(c.get_gid() for c in g.draw().collections)   # one scatter per node kind
        ['nodes:input', 'nodes:output']
        """
        from ..drawing import draw_graph

        return draw_graph(self, ax, labels=labels, legend=legend, arrows=arrows)

    # ---- serialization and copies ---------------------------------------------

    def to_json(self) -> str:
        """The graph as JSON; ``Graph.from_json`` reads it back exactly."""
        return self._g.to_json()

    @classmethod
    def from_json(cls, text: str) -> "Graph":
        """Parses and validates graph JSON (FormatError / GraphError on failure)."""
        return cls._wrap(_core.Graph.from_json(_checks.text(text, "text")))

    def save(self, path: PathLike) -> None:
        """Writes the graph's JSON to ``path``."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_json())

    @classmethod
    def load(cls, path: PathLike) -> "Graph":
        """Reads a graph saved with :meth:`save`; errors name the file (a
        missing path or a folder is a MissingFileError)."""
        from .._checks import existing_file

        with open(existing_file(path, "graph file"), "rb") as f:
            raw = f.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FormatError(f"{os.fspath(path)}: not UTF-8 text (byte offset {e.start})") from None
        try:
            return cls.from_json(text)
        except NervenetError as e:
            raise type(e)(f"{os.fspath(path)}: {e}") from e

    def copy(self) -> "Graph":
        return self._wrap(self._g.copy())

    def __copy__(self) -> "Graph":
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> "Graph":
        return self.copy()

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (Graph.from_json, (self.to_json(),))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Graph):
            return self._g == other._g
        return NotImplemented

    def __repr__(self) -> str:
        return (
            f"Graph(nodes={self.num_nodes}, edges={self.num_edges}, "
            f"inputs={len(self.inputs())}, outputs={len(self.outputs())})"
        )


def _simple(activation: Any, cap: Any, slope: Any, bias: Any) -> tuple[str, Optional[float], Optional[float], Optional[bool]]:
    """A simple node's arguments, checked: ``(activation, cap, slope, bias)``."""
    return (
        text(activation, "activation"),
        None if cap is None else number(cap, "cap"),
        None if slope is None else number(slope, "slope"),
        flag(bias, "bias", optional=True),
    )


def _skip(value: Any) -> int:
    """A time skip: 0 (same step) or more; the core names its upper bound."""
    return integer(value, "time_skip", 0, bits=63)


def _port(value: Any) -> int:
    """A gate port of a standard LSTM/GRU unit; the core says which exist."""
    return integer(value, "port", 0, bits=63)


def _innovation(value: Any) -> int:
    """An innovation number: 0 to 2**64 - 2 (the core refuses 2**64 - 1)."""
    return integer(value, "innovation", 0, bits=64)


def _node(value: Any, name: str = "node") -> int:
    return whole(value, name, "a node id (an integer)")


def _edge(value: Any, name: str = "edge") -> int:
    return whole(value, name, "an edge id (an integer)")


def _nodes(value: Any, name: str) -> list[int]:
    """Node ids: a list (any iterable) of them, or one id."""
    if isinstance(value, (str, bytes)):
        raise ConfigError(f"{name} must be node ids (a list of integers, or one), got {value!r}")
    try:
        return [_node(value, name)]
    except ConfigError:
        pass
    if isinstance(value, np.ndarray) and value.ndim != 1:  # also keeps a huge broadcast view from being listed
        raise ConfigError(f"{name} must be node ids (a list of integers, or one), got an array of shape {value.shape}")
    try:
        ids = list(value)
    except TypeError:
        raise ConfigError(f"{name} must be node ids (a list of integers, or one), got {value!r}") from None
    return [_node(v, f"{name}[{i}]") for i, v in enumerate(ids)]


def _as_core_graph(graph: Union[Graph, _core.Graph]) -> _core.Graph:
    if isinstance(graph, Graph):
        return graph._g
    if isinstance(graph, _core.Graph):
        return graph
    raise ConfigError(f"expected a nervenet.Graph, got {type(graph).__name__}")

