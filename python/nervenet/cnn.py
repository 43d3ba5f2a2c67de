"""CNN architectures of the CNN lecture ("Convolutional Neural Network
Architectures") as graph builders.

Each function returns a :class:`~nervenet.Graph` whose shapes are checked.
Feature maps are nodes, filters and pools are edges, and a weight edge from a
map to a scalar node flattens it (one weight per map value). The figures of
the notes are images; each docstring quotes what the slide text states and
the weight count it gives, which :meth:`Graph.count_params` reproduces.

Two conventions, as the counts require:

* the notes' own networks (the small test CNNs, LeNet-5) have untied biases
  on every feature map, pooled maps included, biases on dense nodes and none
  on the outputs;
* the published architectures (AlexNet, VGG, the small VGG) have tied biases
  on convolution maps, no parameters in pooling, and biases everywhere else.

Sizes must come out whole by the notes' rule ``(W - F + 2P) / S + 1``: unlike
PyTorch, nothing is silently dropped at the border.
"""

from __future__ import annotations

from ._checks import flag, integer
from .errors import ConfigError, GraphError, ShapeError
from .graph import Graph

__all__ = ["small_mnist", "small_cifar", "lenet5", "alexnet", "vgg16", "vgg19", "small_vgg", "resnet_block",
           "LENET5_C3_TABLE"]

#: LeNet-5's S2 -> C3 connection table (LeCun et al. 1998, table I; the
#: notes' figure): entry j lists the S2 maps that C3 map j reads.
LENET5_C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)

# ---- layers ------------------------------------------------------------------------------------


def _conv(g: Graph, srcs: list[int], channels: int, side: int, size: int, *, padding: int = 0, stride: int = 1,
          activation: str = "relu", tied: bool = True) -> int:
    """One map of ``channels x side x side`` fed by a filter from each of ``srcs``."""
    m = g.add_feature_map(channels, side, side, activation=activation, untied_bias=not tied)
    for s in srcs:
        g.connect_filter(s, m, size, stride=stride, padding=padding)
    return m


def _pool(g: Graph, src: int, size: int = 2, stride: int = 2, *, bias: bool = False,
          activation: str = "identity") -> int:
    """Max pooling into a new map; published architectures give it no parameters."""
    shape = g.map_shape(src)
    assert shape is not None
    c, h, _ = shape
    side = (h - size) // stride + 1
    m = g.add_feature_map(c, side, side, activation=activation, bias=bias)
    g.connect_pool(src, m, "max", size, stride=stride)
    return m


def _dense(g: Graph, srcs: list[int], n: int, activation: str, *, output: bool = False, bias: bool = True) -> list[int]:
    """``n`` scalar nodes fully connected from ``srcs`` (maps are flattened)."""
    nodes = g.add_outputs(n, activation, bias=bias) if output else g.add_nodes(n, activation, bias=bias)
    g.connect_all(srcs, nodes)
    return nodes


def _small(channels: int, padding: int, pooling: bool, activation: str) -> Graph:
    g = Graph()
    side = 32 - 2 * padding
    x = g.add_feature_map(channels, side, side, role="input")
    c1 = [_conv(g, [x], 1, 20, 13, padding=padding, activation=activation, tied=False) for _ in range(4)]
    if pooling:
        c2 = [_pool(g, m, bias=True, activation=activation) for m in c1]
    else:
        c2 = [_conv(g, c1, 1, 10, 11, activation=activation, tied=False) for _ in range(4)]
    dense = _dense(g, c2, 10, activation)
    _dense(g, dense, 10, "identity", output=True, bias=False)
    g.check_shapes()
    return g


# ---- the notes' test networks and LeNet-5 ----------------------------------------------------------


def small_mnist(pooling: bool = False, *, activation: str = "relu") -> Graph:
    """The notes' small test CNN for MNIST, without or with pooling.

    Slides "Simple Test Architectures (Small, No Pooling - MNIST)" and
    "(Small - MNIST)": "the MNIST data (28x28x1) is padded by 2 to make it
    (32x32x1). Then 4 13x13 filters are used as edges to 4 20x20 feature
    maps"; then either "16 11x11 filters" fully connecting them to "4 10x10
    feature maps", or "a max pooling operation ... (pool size 2, stride 2)"
    on each; the 4 maps are "fully connected to 10 1x1 simple neurons ...
    40 filters", which are fully connected to 10 outputs. "In total this
    network has: 8722 weights" (6786 with pooling).

    Ids: input map 0 (1x28x28; the padding of 2 is on its filters), maps
    1-4 (20x20), maps 5-8 (10x10), dense nodes 9-18, outputs 19-28.

    >>> small_mnist().count_params(), small_mnist(pooling=True).count_params()
    (8722, 6786)
    """
    return _small(1, 2, flag(pooling, "pooling"), activation)


def small_cifar(pooling: bool = False, *, activation: str = "relu") -> Graph:
    """The notes' small test CNN for CIFAR-10, without or with pooling.

    Slides "Simple Test Architectures (Small, No Pooling - CIFAR)" and
    "(Small - CIFAR)": "the CIFAR data (32x32x3) is not padded ... Then 4
    13x13x3 filters are used as edges to 4 20x20 feature maps"; the rest as
    :func:`small_mnist`. "total: 10074 weights" (8138 with pooling).

    Ids: input map 0 (3x32x32), then as :func:`small_mnist`.

    >>> small_cifar().count_params(), small_cifar(pooling=True).count_params()
    (10074, 8138)
    """
    return _small(3, 0, flag(pooling, "pooling"), activation)


def lenet5(*, activation: str = "relu", pool: str = "max") -> Graph:
    """LeNet-5 (LeCun et al. 1998) as the notes draw it: 68,654 weights.

    Slide "LeNet-5": it "uses a padding of 2 and a filter of 5" (C1, 6 maps
    of 28x28), "then it uses max pooling and 5x5 filters to bring things
    down to the first dense layer of 120 nodes", "fully connected to a
    further dense layer of 84 nodes", then "the output layer of 10 nodes".
    S2 -> C3 follows the connection table (:data:`LENET5_C3_TABLE`: "if
    there is an X then there is a 5x5 filter between the two"), so every
    map is its own one-channel node. "In total this network has: 68654
    weights" -- with untied biases on all 44 maps (pooled ones included).

    Ids: input 0 (1x28x28), C1 1-6 (28x28), S2 7-12 (14x14), C3 13-28
    (10x10), S4 29-44 (5x5), C5 45-164, F6 165-248, outputs 249-258.

    >>> lenet5().count_params()
    68654
    """
    if pool not in ("max", "avg"):
        raise ConfigError(f"pool must be 'max' or 'avg', got {pool!r}")
    g = Graph()
    x = g.add_feature_map(1, 28, 28, role="input")
    c1 = [_conv(g, [x], 1, 28, 5, padding=2, activation=activation, tied=False) for _ in range(6)]

    def subsample(maps: list[int], side: int) -> list[int]:
        out = [g.add_feature_map(1, side, side, activation=activation) for _ in maps]
        for a, b in zip(maps, out):
            g.connect_pool(a, b, pool, 2)
        return out

    s2 = subsample(c1, 14)
    c3 = [_conv(g, [s2[i] for i in srcs], 1, 10, 5, activation=activation, tied=False) for srcs in LENET5_C3_TABLE]
    s4 = subsample(c3, 5)
    c5 = _dense(g, s4, 120, activation)
    f6 = _dense(g, c5, 84, activation)
    _dense(g, f6, 10, "identity", output=True, bias=False)
    g.check_shapes()
    return g


# ---- published architectures -----------------------------------------------------------------------


def _classifier(g: Graph, src: int, hidden: list[int], n_classes: int, activation: str, tied: bool) -> None:
    """Dense layers after the last pool. Hidden ones are 1x1 maps fed by a filter
    covering the whole map -- the same weights as a dense layer, as one edge
    (a 4096x4096 layer would otherwise be 16.7 million scalar edges); the
    outputs are scalar nodes flattening the last of them."""
    prev = src
    for units in hidden:
        m = g.add_feature_map(units, 1, 1, activation=activation, untied_bias=not tied)
        side = g.map_shape(prev)[1]  # type: ignore[index]
        g.connect_filter(prev, m, side)
        prev = m
    _dense(g, [prev], n_classes, "identity", output=True)


def alexnet(*, groups: int = 2, n_classes: int = 1000, activation: str = "relu") -> Graph:
    """AlexNet (Krizhevsky, Sutskever & Hinton 2012): 60,965,224 weights.

    Slides "AlexNet": inputs are "227x227x3 regions" of the resized images,
    then the figure's layers "(including 3x3 pooling with stride 2 layers)",
    ReLU, "650,000 neurons and 60 million weights". Layers as in the paper:
    96 11x11 filters, stride 4 (55x55); pool; 256 5x5 (27x27); pool; 384,
    384 and 256 3x3 (13x13); pool (6x6); dense 4096, 4096, ``n_classes``.
    ``groups=2`` splits every conv layer into the paper's two GPU halves
    (two map nodes each): conv2, conv4 and conv5 read only their own half,
    60,965,224 weights with tied biases (the notes' "60 million").
    ``groups=1`` is the ungrouped variant, 62,378,344. Local response
    normalisation and dropout are not part of the graph.

    >>> alexnet().count_params(), alexnet(groups=1).count_params()
    (60965224, 62378344)
    """
    groups = integer(groups, "groups", 1)
    if groups not in (1, 2):
        raise ConfigError(f"groups must be 1 or 2, got {groups}")
    g = Graph()
    x = g.add_feature_map(3, 227, 227, role="input")

    def layer(srcs: list[int], channels: int, side: int, size: int, padding: int, grouped: bool) -> list[int]:
        k = channels // groups
        if grouped:
            return [_conv(g, [s], k, side, size, padding=padding, activation=activation) for s in srcs]
        return [_conv(g, srcs, k, side, size, padding=padding, activation=activation) for _ in range(groups)]

    c1 = [_conv(g, [x], 96 // groups, 55, 11, stride=4, activation=activation) for _ in range(groups)]
    p1 = [_pool(g, m, 3, 2) for m in c1]
    p2 = [_pool(g, m, 3, 2) for m in layer(p1, 256, 27, 5, 2, grouped=True)]
    c3 = layer(p2, 384, 13, 3, 1, grouped=False)
    c5 = layer(layer(c3, 384, 13, 3, 1, grouped=True), 256, 13, 3, 1, grouped=True)
    p5 = [_pool(g, m, 3, 2) for m in c5]
    fc6 = g.add_feature_map(4096, 1, 1, activation=activation, untied_bias=False)
    for m in p5:
        g.connect_filter(m, fc6, 6)
    _classifier(g, fc6, [4096], integer(n_classes, "n_classes", 1), activation, True)
    g.check_shapes()
    return g


_VGG = {16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}


def _vgg(depth: int, n_classes: int, input_size: int, tied_bias: bool, activation: str) -> Graph:
    side = integer(input_size, "input_size", 32)
    if side % 32:
        raise ShapeError(f"input_size must be a multiple of 32 (five 2x2 max pools), got {side}")
    g = Graph()
    prev = g.add_feature_map(3, side, side, role="input")
    for channels, convs in zip((64, 128, 256, 512, 512), _VGG[depth]):
        for _ in range(convs):
            prev = _conv(g, [prev], channels, side, 3, padding=1, activation=activation, tied=tied_bias)
        prev = _pool(g, prev)
        side //= 2
    _classifier(g, prev, [4096, 4096], integer(n_classes, "n_classes", 1), activation, tied_bias)
    g.check_shapes()
    return g


def vgg16(*, n_classes: int = 1000, input_size: int = 224, tied_bias: bool = True, activation: str = "relu") -> Graph:
    """VGG16 (Simonyan & Zisserman 2014, column D): 138,357,544 weights.

    Slides "VGG16": it "pads input layers by 1 and fully connects between
    layers with a 3x3 filter", then "2x2 max pooling with a stride of two,
    after max pooling the number of output feature maps doubles ... until it
    has 512 7x7 feature maps, which are then fully connected to a 4096 node
    dense layer", another 4096, and "the 1000 node softmax output layer"
    (softmax is the loss's). "VGG usually uses tied biases"; the notes give
    "138 million weights" and the exact count is the standard 138,357,544.
    The 4096-unit layers are 1x1 maps (see :func:`alexnet`).

    Ids: input 0; per block its conv maps then its pooled map; fc6, fc7;
    outputs.

    >>> vgg16().count_params()
    138357544
    """
    return _vgg(16, n_classes, input_size, tied_bias, activation)


def vgg19(*, n_classes: int = 1000, input_size: int = 224, tied_bias: bool = True, activation: str = "relu") -> Graph:
    """VGG19 (column E of the VGG table): 143,667,240 weights.

    As :func:`vgg16` with four 3x3 convolutions in each of the last three
    blocks; the notes give "144 million weights", the standard count is
    143,667,240.

    >>> vgg19().count_params()
    143667240
    """
    return _vgg(19, n_classes, input_size, tied_bias, activation)


def small_vgg(tied_bias: bool = True, *, n_classes: int = 10, dense: int = 128, activation: str = "relu") -> Graph:
    """The notes' small VGG for CIFAR-10: 550,570 weights with tied biases.

    Slide "Small VGGNet for CIFAR-10": "a small VGG for CIFAR-10 with tied
    biases ... 32, 64 and 128 vs. 64, 128, 256 and 512" feature maps, "3x3
    filters". Here: 3x3 filters with padding 1, two per block, 32-32-pool,
    64-64-pool, 128-128-pool (2x2 max, stride 2: 32 -> 16 -> 8 -> 4), a dense
    layer of ``dense`` relu nodes flattening the 128x4x4 map, and
    ``n_classes`` outputs with biases. The notes give no count; with
    ``tied_bias=False`` every conv map has untied biases (664,810).

    Ids: input 0 (3x32x32); conv, conv, pool per block (maps 1-9); dense
    nodes; outputs.

    >>> small_vgg().count_params(), small_vgg(tied_bias=False).count_params()
    (550570, 664810)
    """
    g = Graph()
    prev, side = g.add_feature_map(3, 32, 32, role="input"), 32
    for channels in (32, 64, 128):
        for _ in range(2):
            prev = _conv(g, [prev], channels, side, 3, padding=1, activation=activation, tied=bool(tied_bias))
        prev, side = _pool(g, prev), side // 2
    hidden = _dense(g, [prev], integer(dense, "dense", 1), activation)
    _dense(g, hidden, integer(n_classes, "n_classes", 1), "identity", output=True)
    g.check_shapes()
    return g


# ---- residual blocks -----------------------------------------------------------------------------------


def resnet_block(graph: Graph, src: int, channels: int, *, stride: int = 1, activation: str = "relu",
                 tied_bias: bool = True) -> int:
    """Adds a basic ResNet block (He et al. 2016) after map ``src``; returns its output map.

    The notes' opening lecture: "edges can span layers ... This has gained
    popularity with residual networks such as ResNet". Two 3x3 convolutions
    (padding 1, the first with ``stride``) into maps ``mid`` and ``out``,
    and a skip edge from ``src`` into ``out``, so ``out = g(bias + conv(mid)
    + skip(src))``: an identity edge when the shape is unchanged, else a
    projection (a 1x1 filter with the same stride). Ids: mid, then out.

    By the notes' whole-size rule a stride-2 block needs odd map sizes
    (``(H - 3 + 2) / 2 + 1``: 33 -> 17 -> 9); PyTorch would drop a border
    row instead. ShapeError otherwise, before anything is added.

    >>> from nervenet import Graph
    >>> g = Graph()
    >>> x = g.add_feature_map(3, 32, 32, role="input")
    >>> stem = g.add_feature_map(16, 33, 33)          # 4x4 filter, padding 2: 32 -> 33
    >>> _ = g.connect_filter(x, stem, 4, padding=2)
    >>> b = resnet_block(g, resnet_block(g, stem, 16), 32, stride=2)
    >>> g.map_shape(b)
    (32, 17, 17)
    """
    shape = graph.map_shape(src)
    if shape is None:
        raise GraphError(f"resnet_block: node {src} is not a feature map")
    c, h, w = shape
    channels, stride = integer(channels, "channels", 1), integer(stride, "stride", 1)
    for axis, n in (("height", h), ("width", w)):
        if (n - 1) % stride:
            raise ShapeError(f"resnet_block: a 3x3 filter with stride {stride} and padding 1 maps {axis} {n} to "
                             f"({n} - 3 + 2*1) / {stride} + 1, which is not whole; stride-{stride} blocks need "
                             f"{axis}s of the form {stride}k + 1 (e.g. 33 -> 17)")
    oh, ow = (h - 1) // stride + 1, (w - 1) // stride + 1
    untied = not tied_bias
    mid = graph.add_feature_map(channels, oh, ow, activation=activation, untied_bias=untied)
    out = graph.add_feature_map(channels, oh, ow, activation=activation, untied_bias=untied)
    graph.connect_filter(src, mid, 3, stride=stride, padding=1)
    graph.connect_filter(mid, out, 3, padding=1)
    if (c, h, w) == (channels, oh, ow):
        graph.identity(src, out)
    else:
        graph.connect_filter(src, out, 1, stride=stride)
    return out
