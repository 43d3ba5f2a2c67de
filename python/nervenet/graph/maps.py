"""Feature maps, filters and pooling on :class:`nervenet.Graph` (the CNN
lecture's nodes and edges): the methods :class:`nervenet.Graph` inherits
for convolutional networks.

A feature map is one node holding ``channels x height x width`` values; a
filter edge connects every channel of its source to every channel of its
destination; a pool edge pools channel by channel. Sizes are checked when an
edge is added, by the notes' rule ``(W - F + 2P) / S + 1`` (whole, and equal
to the destination's size); errors name the nodes and the numbers.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

from .. import _core
from .._checks import flag, integer, number, text, whole
from ..errors import ConfigError

Size = Union[int, Sequence[int]]

POOL_OPS = tuple(_core.pool_ops())


def pair(value: Size, name: str, minimum: int = 1) -> tuple[int, int]:
    """An int n means (n, n); a pair (h, w) gives height and width."""
    if isinstance(value, (str, bytes)):
        raise ConfigError(f"{name} must be an integer or a pair (height, width), got {value!r}")
    if isinstance(value, Sequence):
        if len(value) != 2:
            raise ConfigError(f"{name} must be an integer or a pair (height, width), got {list(value)!r}")
        return integer(value[0], f"{name} height", minimum, bits=63), integer(value[1], f"{name} width", minimum, bits=63)
    n = integer(value, name, minimum, bits=63)
    return n, n


class MapMethods:
    """The CNN part of :class:`nervenet.Graph`."""

    __slots__ = ()
    _g: "_core.Graph"

    def add_feature_map(
        self,
        channels: int,
        height: int,
        width: int,
        role: str = "hidden",
        activation: Optional[str] = None,
        *,
        cap: Optional[float] = None,
        slope: Optional[float] = None,
        bias: Optional[bool] = None,
        untied_bias: bool = True,
    ) -> int:
        """Adds a feature map of ``channels x height x width`` values; returns its id.

        ``activation=None`` is relu for hidden and output maps; input maps
        apply none and have no bias. ``bias=None`` follows the role (hidden
        maps have one). An untied bias has one value per cell (C*H*W
        parameters), a tied one one per channel (C) -- the notes' two kinds.

        >>> from nervenet import Graph
        >>> g = Graph()
        >>> x = g.add_feature_map(1, 28, 28, role="input")
        >>> c = g.add_feature_map(6, 28, 28, untied_bias=False)
        >>> g.node(c)["shape"]
        (6, 28, 28)
        """
        c = integer(channels, "channels", 1, bits=63)
        h, w = integer(height, "height", 1, bits=63), integer(width, "width", 1, bits=63)
        activation = text(activation, "activation", optional=True)
        cap, slope = (None if v is None else number(v, name) for v, name in ((cap, "cap"), (slope, "slope")))
        bias, untied = flag(bias, "bias", optional=True), flag(untied_bias, "untied_bias")
        return self._g.add_feature_map(c, h, w, text(role, "role"), activation, cap, slope, bias, untied)

    def connect_filter(
        self,
        src: int,
        dst: int,
        size: Size,
        *,
        stride: int = 1,
        padding: int = 0,
        depth: Optional[int] = None,
    ) -> int:
        """Adds a filter (convolution) edge from map ``src`` to map ``dst``; returns its id.

        ``size`` is ``k`` or ``(kh, kw)``; zero ``padding`` on each side. The
        filter covers every source channel (``depth=None``) and there is one
        per destination channel: ``dst_channels * src_channels * kh * kw``
        weights. With ``depth=kc`` it is the notes' 3D filter, sliding over
        channels too: each filter gives ``src_channels - kc + 1`` destination
        channels. ShapeError if ``(W - F + 2P) / S + 1`` is not whole or not
        the destination's size.
        """
        kh, kw = pair(size, "size")
        kc = None if depth is None else integer(depth, "depth", 1, bits=63)
        s, p = integer(stride, "stride", 1, bits=63), integer(padding, "padding", 0, bits=63)
        src, dst = whole(src, "src", "a node id (an integer)"), whole(dst, "dst", "a node id (an integer)")
        return self._g.connect_filter(src, dst, kh, kw, s, p, kc)

    def connect_pool(
        self,
        src: int,
        dst: int,
        op: str = "max",
        size: Size = 2,
        *,
        stride: Optional[Size] = None,
        overlapping: bool = False,
        pseudorandom: bool = False,
    ) -> int:
        """Adds a pool edge between maps of equal channel counts; returns its id.

        ``op`` is "max", "avg" or "fractional_max". ``size`` and ``stride``
        (default: the size) are ``n`` or ``(h, w)``; the windows must tile the
        source, ``(W - P) / S + 1`` whole and equal to the destination's size.
        Fractional max pooling draws fresh regions fitting the two maps on
        every forward pass (``overlapping`` regions share a boundary cell;
        ``pseudorandom`` sequences instead of random); size and stride are
        then unused. Pool edges have no parameters.
        """
        if text(op, "op") not in POOL_OPS:
            raise ConfigError(f"unknown pool op {op!r}; expected one of {', '.join(POOL_OPS)}")
        ph, pw = pair(size, "size")
        sh, sw = pair(size if stride is None else stride, "stride")
        src, dst = whole(src, "src", "a node id (an integer)"), whole(dst, "dst", "a node id (an integer)")
        return self._g.connect_pool(src, dst, op, ph, pw, sh, sw, flag(overlapping, "overlapping"), flag(pseudorandom, "pseudorandom"))

    def map_shape(self, node: int) -> Optional[tuple[int, int, int]]:
        """``(channels, height, width)`` of a feature map; None for other nodes."""
        shape = self._g.node(whole(node, "node", "a node id (an integer)")).get("shape")
        return None if shape is None else tuple(shape)

    def check_shapes(self) -> None:
        """Checks every enabled edge touching a feature map.

        ShapeError for sizes that do not fit, GraphError for filters or pools
        touching scalar nodes, UnsupportedError for weight edges into maps
        and recurrent edges touching maps; each names the edge, both nodes
        and the numbers.
        """
        self._g.check_shapes()

    def count_params(self) -> int:
        """Trainable parameters as a :class:`~nervenet.Network` lays them out.

        Weight edges 1 (a map's C*H*W when flattening it), filters
        ``filters * kc * kh * kw``, identity, pool and fixed edges 0; biases 1
        per node, C*H*W (untied) or C (tied) per map; memory cells their own
        parameters. Counted analytically: VGG16's 138M cost nothing.
        """
        return self._g.count_params()
