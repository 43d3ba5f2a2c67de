"""A small writer of ONNX graphs: nodes with fresh names, weights as
initializers, and the few shape idioms every part of the export needs
(the dynamic batch size, a batch of zeros)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ..errors import ConfigError


def load_onnx() -> Any:
    """The ``onnx`` package, or ConfigError saying how to install it."""
    try:
        import onnx
        import onnx.helper  # noqa: F401
        import onnx.numpy_helper  # noqa: F401
    except ImportError:
        raise ConfigError('ONNX export needs the onnx package: pip install "nervenet[onnx]"') from None
    return onnx


class Builder:
    """Collects the nodes and initializers of one ONNX graph (the main graph
    or a loop body). Names are unique across every builder of one export
    (they share ``names``), since a body may read its outer graph's values."""

    def __init__(self, dtype: np.dtype, names: Optional[dict[str, int]] = None) -> None:
        self.onnx = load_onnx()
        self.dtype = np.dtype(dtype)
        self.elem = self.onnx.helper.np_dtype_to_tensor_dtype(self.dtype)
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.names = {} if names is None else names
        self._consts: dict[tuple[Any, ...], str] = {}

    def fresh(self, hint: str) -> str:
        n = self.names.get(hint, 0)
        self.names[hint] = n + 1
        return f"{hint}_{n}"

    def op(self, op_type: str, inputs: Sequence[str], hint: Optional[str] = None, *, outputs: int = 1,
           name: Optional[str] = None, **attrs: Any) -> Any:
        """Adds one node; returns its output name (a list if ``outputs`` > 1).
        ``name`` names its output (a graph's output), else a fresh name from ``hint``."""
        names = [name] if name is not None else [self.fresh(hint or op_type.lower()) for _ in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), names, name=self.fresh("node"), **attrs))
        return names[0] if outputs == 1 else names

    def const(self, value: Any, hint: str = "w", dtype: Any = None) -> str:
        """An initializer (in the model's dtype unless ``dtype`` is given);
        small equal constants are shared."""
        arr = np.array(value, dtype=self.dtype if dtype is None else dtype, order="C")  # ascontiguousarray makes scalars 1-D
        key = None
        if arr.size <= 16:
            key = (arr.dtype.str, arr.shape, arr.tobytes())
            if key in self._consts:
                return self._consts[key]
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(arr, name))
        if key is not None:
            self._consts[key] = name
        return name

    def ints(self, values: Sequence[int], hint: str = "idx") -> str:
        return self.const(np.asarray(values, dtype=np.int64), hint, np.int64)

    # ---- idioms -------------------------------------------------------------

    def flatten(self, x: str) -> str:
        """(N, ...) -> (N, rest)."""
        return self.op("Reshape", [x, self.ints([0, -1])], "flat")

    def columns(self, x: str, start: int, stop: int, width: int) -> str:
        """Columns start:stop (last axis) of a (..., width) tensor (the tensor itself when that is all of it)."""
        if (start, stop) == (0, width):
            return x
        return self.op("Slice", [x, self.ints([start]), self.ints([stop]), self.ints([-1])], "cols")

    def concat(self, xs: Sequence[str], axis: int, hint: str = "cat") -> str:
        return xs[0] if len(xs) == 1 else self.op("Concat", list(xs), hint, axis=axis)

    def add_all(self, xs: Sequence[str], hint: str = "sum") -> str:
        return xs[0] if len(xs) == 1 else self.op("Sum", list(xs), hint)

    def zeros_like_rows(self, x: str, shape: Sequence[int]) -> str:
        """Zeros of shape ``(N, *shape)``, N being x's first dimension: a zero
        state of the right batch size."""
        n = self.op("Shape", [x], "batch", start=0, end=1)
        full = self.op("Concat", [n, self.ints(list(shape))], "shape", axis=0)
        zero = self.onnx.helper.make_tensor("zero", self.elem, [1], [0])
        return self.op("ConstantOfShape", [full], "zeros", value=zero)

    def graph(self, name: str, inputs: list[Any], outputs: list[Any]) -> Any:
        return self.onnx.helper.make_graph(self.nodes, name, inputs, outputs, self.initializers)

    def value_info(self, name: str, shape: Sequence[Any], elem: Optional[int] = None) -> Any:
        return self.onnx.helper.make_tensor_value_info(name, self.elem if elem is None else elem, list(shape))
