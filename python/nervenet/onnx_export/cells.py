"""Memory cells as ONNX arithmetic on one level's segment of cells of one
kind, vectorised over the cells: each of the cell's own parameters is a
vector (one value per cell) broadcast over the batch. The equations are the
kernels' (``rust/core/src/kernels/cells``, one file per cell)."""

from __future__ import annotations

from typing import Optional

import numpy as np

from .builder import Builder


class Arith:
    """Elementwise helpers over tensor names (floats become constants)."""

    def __init__(self, b: Builder) -> None:
        self.b = b

    def _t(self, v: object) -> str:
        return v if isinstance(v, str) else self.b.const(v)

    def _fold(self, op: str, xs: tuple[object, ...]) -> str:
        out = self._t(xs[0])
        for x in xs[1:]:
            out = self.b.op(op, [out, self._t(x)], op.lower())
        return out

    def mul(self, *xs: object) -> str:
        return self._fold("Mul", xs)

    def add(self, *xs: object) -> str:
        return self._fold("Add", xs)

    def sub(self, a: object, c: object) -> str:
        return self.b.op("Sub", [self._t(a), self._t(c)], "sub")

    def sig(self, x: str) -> str:
        return self.b.op("Sigmoid", [x], "sig")

    def tanh(self, x: str) -> str:
        return self.b.op("Tanh", [x], "tanh")

    def one_minus(self, x: str) -> str:
        return self.sub(1.0, x)


class _Consts(dict):  # type: ignore[type-arg]
    """The cell's parameter vectors as constants, made when first used (an
    unused initializer is a warning in onnxruntime)."""

    def __init__(self, b: Builder, kind: str, params: dict[str, np.ndarray]) -> None:
        super().__init__()
        self.b, self.kind, self.params = b, kind, params

    def __missing__(self, name: str) -> str:
        self[name] = self.b.const(self.params[name], f"{self.kind}_{name}")
        return self[name]


def scalar_cell(b: Builder, kind: str, params: dict[str, np.ndarray], x: str, hp: Optional[str],
                cp: Optional[str]) -> tuple[str, Optional[str]]:
    """One step of scalar cells of ``kind``: ``(h, c)`` from the input sum
    ``x`` (N, k), the previous output ``hp`` and state ``cp``."""
    a = Arith(b)
    p = _Consts(b, kind, params)
    if kind == "lstm":
        assert cp is not None
        f = a.sig(a.add(a.mul(p["w_f"], x), a.mul(p["u_f"], cp), p["b_f"]))
        i = a.sig(a.add(a.mul(p["w_i"], x), a.mul(p["u_i"], cp), p["b_i"]))
        o = a.sig(a.add(a.mul(p["w_o"], x), a.mul(p["u_o"], cp), p["b_o"]))
        c = a.add(a.mul(f, cp), a.mul(i, a.tanh(a.add(a.mul(p["w_c"], x), p["b_c"]))))
        return a.mul(o, c), c
    assert hp is not None
    if kind == "gru":
        z = a.sig(a.add(a.mul(p["zw"], x), a.mul(p["zu"], hp), p["zb"]))
        r = a.sig(a.add(a.mul(p["rw"], x), a.mul(p["ru"], hp), p["rb"]))
        n = a.tanh(a.add(a.mul(p["hw"], x), a.mul(p["hu"], r, hp), p["hb"]))
        return a.add(a.mul(z, hp), a.mul(a.one_minus(z), n)), None
    if kind == "mgu":
        f = a.sig(a.add(a.mul(p["fw"], x), a.mul(p["fu"], hp), p["fb"]))
        n = a.tanh(a.add(a.mul(p["hw"], x), a.mul(p["hu"], f, hp), p["hb"]))
        return a.add(a.mul(a.one_minus(f), hp), a.mul(f, n)), None
    if kind == "ugrnn":
        c = a.tanh(a.add(a.mul(p["cw"], x), a.mul(p["ch"], hp), p["cb"]))
        g = a.sig(a.add(a.mul(p["gw"], x), a.mul(p["gh"], hp), p["gb"]))
        return a.add(a.mul(g, hp), a.mul(a.one_minus(g), c)), None
    if kind == "delta":
        d = a.mul(p["v"], hp)
        alpha2, beta1, beta2 = (b.const(params[n] + 1.0 + (n == "alpha"), f"delta_{n}") for n in ("alpha", "beta1", "beta2"))
        z = a.tanh(a.add(a.mul(alpha2, d, x), a.mul(beta1, d), a.mul(beta2, x), p["bz"]))
        r = a.sig(a.add(x, p["br"]))
        return a.tanh(a.add(a.mul(z, a.one_minus(r)), a.mul(r, hp))), None
    raise AssertionError(kind)


def unit_cell(b: Builder, kind: str, ports: list[str], hp: Optional[str], cp: Optional[str]) -> tuple[str, Optional[str]]:
    """One step of standard LSTM / GRU units from their four port sums
    (i, f, g, o or r, z, n_x, n_h), as torch.nn.LSTM and nn.GRU."""
    a = Arith(b)
    if kind == "lstm_unit":
        assert cp is not None
        i, f, g, o = ports
        c = a.add(a.mul(a.sig(f), cp), a.mul(a.sig(i), a.tanh(g)))
        return a.mul(a.sig(o), a.tanh(c)), c
    assert hp is not None
    r, z, nx, nh = ports
    zs = a.sig(z)
    n = a.tanh(a.add(nx, a.mul(a.sig(r), nh)))
    return a.add(a.mul(a.one_minus(zs), n), a.mul(zs, hp)), None
