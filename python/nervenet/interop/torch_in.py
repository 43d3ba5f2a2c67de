"""PyTorch modules into nervenet networks: the graph built, the weights copied.

:func:`from_torch` reads an ``nn.Sequential`` of ``Linear``, ``Conv2d``,
``MaxPool2d``, ``AvgPool2d``, ``Flatten`` and activations (``ReLU``,
``ReLU6``, ``LeakyReLU``, ``Tanh``, ``Sigmoid``, ``Softsign``,
``Identity``), or an ``nn.LSTM`` / ``nn.GRU`` alone or with a ``Linear``
head (a module whose two children are the recurrent layer and the head, as
:func:`~nervenet.interop.to_torch` returns; the head may be a
``Sequential(Linear, activation)`` or ``Identity``). An activation becomes the
activation of the nodes the layer before it made; a pooling's map has no
bias. Anything else raises :class:`~nervenet.errors.UnsupportedError`
naming the module. torch is imported here only, when called.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ..errors import ConfigError, ShapeError, UnsupportedError
from ..graph import Graph
from ..network import Network
from .layout import set_torch_weights

__all__ = ["from_torch"]

# torch activation class name -> nervenet activation
ACTIVATIONS = {
    "ReLU": "relu", "ReLU6": "relu6", "LeakyReLU": "leaky_relu", "Tanh": "tanh", "Sigmoid": "sigmoid",
    "Softsign": "softsign", "Identity": "identity",
}  # fmt: skip


def _array(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().double().numpy()


def _activation(module: Any) -> Optional[tuple[str, dict[str, float]]]:
    """(name, parameters) when ``module`` is a supported activation, else None."""
    import torch

    for cls in type(module).__mro__:
        if cls.__module__.startswith("torch.nn") and cls.__name__ in ACTIVATIONS and issubclass(cls, torch.nn.Module):
            name = ACTIVATIONS[cls.__name__]
            return name, ({"slope": float(module.negative_slope)} if name == "leaky_relu" else {})
    return None


def from_torch(module: Any, input_shape: Optional[Sequence[int]] = None, *, dtype: Any = "float64",
               seed: int = 0) -> Network:
    """The nervenet network computing what ``module`` computes, with its weights.

    ``input_shape=(C, H, W)`` is needed when a Sequential starts with a
    convolution or pooling (a module does not record its image size). A
    recurrent network takes ``(batch, time, features)`` as nervenet's
    always do (a torch layer built without ``batch_first`` reads the time
    axis first: transpose its inputs).

    >>> import torch, numpy as np
    >>> import nervenet as nv
    >>> model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).double()
    >>> net = nv.interop.from_torch(model)
    >>> x = np.random.default_rng(0).normal(size=(4, 3))
    >>> bool(np.allclose(net.forward(x), model(torch.from_numpy(x)).detach().numpy(), rtol=0, atol=1e-12))
    True
    """
    import torch

    nn = torch.nn
    if isinstance(module, (nn.LSTM, nn.GRU)):
        return _recurrent(module, None, dtype, seed)
    if isinstance(module, nn.Sequential):
        return _sequential(list(_flat(module)), input_shape, dtype, seed)
    children = list(module.children())
    if len(children) == 2 and isinstance(children[0], (nn.LSTM, nn.GRU)):
        head = children[1]
        if isinstance(head, nn.Identity):
            return _recurrent(children[0], None, dtype, seed)
        if isinstance(head, nn.Linear):
            return _recurrent(children[0], head, dtype, seed)
        parts = list(_flat(head)) if isinstance(head, nn.Sequential) else []
        if len(parts) == 2 and isinstance(parts[0], nn.Linear) and _activation(parts[1]) is not None:
            return _recurrent(children[0], parts[0], dtype, seed, _activation(parts[1]))
    raise UnsupportedError(
        f"from_torch takes an nn.Sequential, an nn.LSTM / nn.GRU, or a module whose children are an LSTM/GRU "
        f"and a head (Linear, Sequential(Linear, activation) or Identity); got {type(module).__name__} with children "
        f"{[type(c).__name__ for c in children]}"
    )


def _flat(sequential: Any) -> Any:
    """The modules of a Sequential, nested Sequentials opened."""
    import torch

    for m in sequential:
        if isinstance(m, torch.nn.Sequential):
            yield from _flat(m)
        else:
            yield m


class _Weights:
    """Values to put into the network once it is built, by parameter name."""

    def __init__(self) -> None:
        self.groups: list[tuple[str, np.ndarray]] = []  # whole groups (filters, map biases)
        self.scalars: list[tuple[list[str], np.ndarray]] = []  # one parameter per name

    def edges(self, edges: list[int], values: np.ndarray) -> None:
        self.scalars.append(([f"edge:{e}" for e in edges], values))

    def biases(self, nodes: list[int], values: np.ndarray) -> None:
        self.scalars.append(([f"node:{n}:bias" for n in nodes], values))

    def apply(self, net: Network) -> None:
        index = {name: i for i, name in enumerate(net.parameter_names)}
        params = net.parameters
        for names, values in self.scalars:
            params[[index[n] for n in names]] = values
        net.parameters = params
        for name, values in self.groups:
            net.set_group(name, values)


def _pair(value: Any, what: str, where: str) -> tuple[int, int]:
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise UnsupportedError(f"{where}: {what}={value!r} is not supported (nervenet takes whole numbers)")
    return int(pair[0]), int(pair[1])


def _square(value: Any, what: str, where: str) -> int:
    a, b = _pair(value, what, where)
    if a != b:
        raise UnsupportedError(f"{where}: {what}={value!r} differs between height and width, which nervenet does not support")
    return a


def _out_size(size: int, kernel: int, stride: int, padding: int, where: str) -> int:
    span = size + 2 * padding - kernel
    if span < 0 or span % stride:
        raise UnsupportedError(
            f"{where}: ({size} + 2·{padding} − {kernel}) / {stride} + 1 is not whole; torch drops the remainder, "
            "nervenet's layers must fit exactly"
        )
    return span // stride + 1


def _sequential(mods: list[Any], input_shape: Optional[Sequence[int]], dtype: Any, seed: int) -> Network:
    import torch

    nn = torch.nn
    makers = (nn.Linear, nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)
    for i, m in enumerate(mods):
        if not isinstance(m, (*makers, nn.Flatten)) and _activation(m) is None:
            raise UnsupportedError(f"from_torch: module {i} of the Sequential, {m!r}, is not supported")
    made = [i for i, m in enumerate(mods) if isinstance(m, makers)]
    if not made or not isinstance(mods[made[-1]], nn.Linear):
        raise UnsupportedError("from_torch: the Sequential must end in a Linear layer (and its activation), whose nodes become the outputs")
    g, weights = Graph(), _Weights()
    first = mods[made[0]]
    if isinstance(first, nn.Linear):
        current: Any = g.add_inputs(first.in_features)
        shape = None
    else:
        if input_shape is None:
            raise ConfigError(f"from_torch: the Sequential starts with {type(first).__name__}: give input_shape=(C, H, W)")
        shape = tuple(int(v) for v in input_shape)
        if len(shape) != 3:
            raise ConfigError(f"input_shape must be (channels, height, width), got {input_shape!r}")
        current = g.add_feature_map(*shape, role="input")
    flattened = False
    i = 0
    while i < len(mods):
        m, where = mods[i], f"module {i} ({mods[i]!r})"
        follower = _activation(mods[i + 1]) if i + 1 < len(mods) else None
        act, kw = follower if isinstance(m, makers) and follower is not None else ("identity", {})
        step = 2 if isinstance(m, makers) and follower is not None else 1
        if isinstance(m, nn.Flatten):
            if m.start_dim != 1 or m.end_dim != -1:
                raise UnsupportedError(f"from_torch: {where}: only Flatten(start_dim=1, end_dim=-1) is supported")
            flattened = True
        elif not isinstance(m, makers):  # an activation that follows no layer
            if _activation(m)[0] != "identity":
                raise UnsupportedError(
                    f"from_torch: {where} follows no Linear, Conv2d or pooling layer: nervenet applies an "
                    "activation on the nodes of the layer before it"
                )
        elif isinstance(m, nn.Linear):
            current, shape = _linear(g, weights, m, current, shape, flattened, act, kw, i == made[-1], where), None
            flattened = False
        else:
            if shape is None:
                raise UnsupportedError(f"from_torch: {where} follows a Linear layer: convolutions and pooling take feature maps")
            if flattened:
                raise UnsupportedError(f"from_torch: {where} follows a Flatten")
            current, shape = _map_layer(g, weights, m, current, shape, act, kw, where)
        i += step
    net = Network(g, dtype, seed=seed)
    weights.apply(net)
    return net


def _linear(g: Graph, weights: _Weights, m: Any, current: Any, shape: Any, flattened: bool, act: str,
            kw: dict[str, float], last: bool, where: str) -> list[int]:
    bias = m.bias is not None
    if shape is not None:
        if not flattened:
            raise UnsupportedError(f"from_torch: {where} takes a feature map: put an nn.Flatten() before it")
        n_in = int(np.prod(shape))
    else:
        n_in = len(current)
    if n_in != m.in_features:
        raise ShapeError(f"from_torch: {where} takes {m.in_features} features but the layer before gives {n_in}")
    nodes = (g.add_outputs if last else g.add_nodes)(m.out_features, act, bias=bias, **kw)
    w = _array(m.weight)
    if shape is not None:
        for o, e in enumerate(g.connect_all([current], nodes)):
            weights.groups.append((f"edge:{e}", w[o]))
    else:
        weights.edges(g.connect_all(current, nodes), w.T.ravel())  # connect_all: source-major
    if bias:
        weights.biases(nodes, _array(m.bias))
    return nodes


def _map_layer(g: Graph, weights: _Weights, m: Any, src: int, shape: tuple[int, int, int], act: str,
               kw: dict[str, float], where: str) -> tuple[int, tuple[int, int, int]]:
    import torch

    nn = torch.nn
    c, h, w = shape
    if isinstance(m, nn.Conv2d):
        if m.groups != 1 or tuple(m.dilation) != (1, 1) or m.padding_mode != "zeros":
            raise UnsupportedError(f"from_torch: {where}: only groups=1, dilation=1 and zero padding are supported")
        if m.in_channels != c:
            raise ShapeError(f"from_torch: {where} takes {m.in_channels} channels but the layer before gives {c}")
        padding = 0 if m.padding == "valid" else _square(m.padding, "padding", where)
        stride = _square(m.stride, "stride", where)
        kh, kw_ = _pair(m.kernel_size, "kernel_size", where)
        out = (m.out_channels, _out_size(h, kh, stride, padding, where), _out_size(w, kw_, stride, padding, where))
        dst = g.add_feature_map(*out, activation=act, bias=m.bias is not None, untied_bias=False, **kw)
        e = g.connect_filter(src, dst, (kh, kw_), stride=stride, padding=padding)
        weights.groups.append((f"edge:{e}", _array(m.weight)))
        if m.bias is not None:
            weights.groups.append((f"node:{dst}:bias", _array(m.bias)))
        return dst, out
    op = "max" if isinstance(m, nn.MaxPool2d) else "avg"
    kh, kw_ = _pair(m.kernel_size, "kernel_size", where)
    sh, sw = _pair(m.stride if m.stride is not None else m.kernel_size, "stride", where)
    if _pair(m.padding, "padding", where) != (0, 0) or m.ceil_mode:
        raise UnsupportedError(f"from_torch: {where}: pooling with padding or ceil_mode is not supported")
    if op == "max" and (_pair(m.dilation, "dilation", where) != (1, 1) or m.return_indices):
        raise UnsupportedError(f"from_torch: {where}: max pooling with dilation or return_indices is not supported")
    if op == "avg" and m.divisor_override is not None:
        raise UnsupportedError(f"from_torch: {where}: divisor_override is not supported")
    out = (c, _out_size(h, kh, sh, 0, where), _out_size(w, kw_, sw, 0, where))
    dst = g.add_feature_map(*out, activation=act, bias=False, **kw)
    g.connect_pool(src, dst, op, (kh, kw_), stride=(sh, sw))
    return dst, out


def _recurrent(rnn: Any, head: Any, dtype: Any, seed: int,
               activation: Optional[tuple[str, dict[str, float]]] = None) -> Network:
    import torch

    name = f"{type(rnn).__name__}({rnn.input_size}, {rnn.hidden_size})"
    if rnn.bidirectional:
        raise UnsupportedError(f"from_torch: {name} is bidirectional, which nervenet's standard layers are not")
    if getattr(rnn, "proj_size", 0):
        raise UnsupportedError(f"from_torch: {name} has proj_size={rnn.proj_size}, which is not supported")
    add = Graph.add_lstm_layer if isinstance(rnn, torch.nn.LSTM) else Graph.add_gru_layer
    g, weights = Graph(), _Weights()
    prev = g.add_inputs(rnn.input_size)
    layers = []
    for _ in range(rnn.num_layers):
        units = add(g, rnn.hidden_size, prev)
        layers.append((units, prev))
        prev = units
    if head is None:
        outputs = g.add_outputs(rnn.hidden_size, bias=False)
        for u, o in zip(prev, outputs):
            g.identity(u, o)
    else:
        if head.in_features != rnn.hidden_size:
            raise ShapeError(f"from_torch: the head {head!r} takes {head.in_features} features but {name} gives {rnn.hidden_size}")
        act, kw = activation or ("identity", {})
        outputs = g.add_outputs(head.out_features, act, bias=head.bias is not None, **kw)
        weights.edges(g.connect_all(prev, outputs), _array(head.weight).T.ravel())
        if head.bias is not None:
            weights.biases(outputs, _array(head.bias))
    net = Network(g, dtype, seed=seed)
    for k, (units, inputs) in enumerate(layers):
        tensors = {t: getattr(rnn, f"{t}_l{k}", None) for t in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        zeros = np.zeros(tensors["weight_ih"].shape[0])  # for a layer built with bias=False
        set_torch_weights(net, units, inputs, *(zeros if v is None else _array(v) for v in tensors.values()))
    weights.apply(net)
    return net
