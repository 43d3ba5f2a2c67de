"""Node activations as ONNX operators (relu6's cap and leaky relu's slope
taken from the node)."""

from __future__ import annotations

from typing import Any, Optional

from ..errors import UnsupportedError
from .builder import Builder

_PLAIN = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softsign": "Softsign"}


def apply(b: Builder, x: str, name: str, cap: Optional[float] = None, slope: Optional[float] = None,
          where: Any = "") -> str:
    """``name`` applied to ``x`` (``where`` names the nodes in an error)."""
    if name in ("identity", "linear"):
        return x
    if name in _PLAIN:
        return b.op(_PLAIN[name], [x], name)
    if name == "relu6":
        return b.op("Clip", [x, b.const(0.0), b.const(6.0 if cap is None else cap)], "relu6")
    if name == "leaky_relu":
        return b.op("LeakyRelu", [x], "leaky_relu", alpha=float(0.01 if slope is None else slope))
    raise UnsupportedError(f"{where}: ONNX export does not know the activation {name!r}")
