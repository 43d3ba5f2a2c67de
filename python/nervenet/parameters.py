"""Parameter groups: how the flat parameter vector divides into the graph's
parts -- one group per edge's weight(s), per node's bias or bias vector, per
memory cell's own parameters, per standard unit's gate biases.

A group has a stable name (``edge:17``, ``node:5:bias``, ``node:8:lstm``), a
shape (``()`` for a scalar edge or bias, ``(filters, depth, kh, kw)`` for a
filter, the source map's ``(C, H, W)`` for a flattening edge, ``(C,)`` or
``(C, H, W)`` for a map's tied or untied bias, ``(gates,)`` for a unit,
``(k,)`` for a cell) and a slice of the flat vector. A scalar inside a
group is named with its index, ``edge:3[5]``, or its port or parameter
name, ``node:9:bias.f``, ``node:8:lstm.w_f``.

Model files store the vector group by group (:func:`split` / :func:`join`):
one tensor per group that holds more than one value, named by the group,
and the one-value groups -- scalar edges and scalar node biases, of which a
large MLP has millions -- packed into two vectors indexed by edge and node
id, so a file's header stays small whatever the graph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from .network import Network

__all__ = ["ParameterGroup", "split", "join", "SCALAR_PACKS"]


class ParameterGroup(NamedTuple):
    """One group: ``name``, ``kind`` ("edge", "bias", "gate_bias" or
    "cell"), the ``owner`` edge or node id, ``shape``, its slice
    ``start:stop`` of the flat vector and whether it ``trainable``."""

    name: str
    kind: str
    owner: int
    shape: tuple[int, ...]
    start: int
    stop: int
    trainable: bool

    @property
    def size(self) -> int:
        return self.stop - self.start


#: The packs of one-value groups in a file: tensor name -> group kind.
SCALAR_PACKS = {"edges": "edge", "biases": "bias"}
IDS = ".ids"
_ENTRY_NAMES = {"edges": "edge:{}", "biases": "node:{}:bias"}


def packed_name(pack: str, owner: int) -> str:
    """The name of the one-value group of ``owner`` in ``pack`` (``edge:17``)."""
    return _ENTRY_NAMES[pack].format(owner)


def _packed(group: ParameterGroup) -> bool:
    return group.shape == () and group.kind in SCALAR_PACKS.values()


def _packs(groups: list[ParameterGroup]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each pack: owner ids (ascending) and their flat positions."""
    out = {}
    for pack, kind in SCALAR_PACKS.items():
        members = sorted((g.owner, g.start) for g in groups if g.kind == kind and _packed(g))
        table = np.array(members, dtype=np.int64).reshape(-1, 2)
        out[pack] = (table[:, 0].astype(np.uint32), table[:, 1])
    return out


def split(net: "Network", vectors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Vectors in ``net``'s flat layout, by prefix (``""`` for the
    parameters, ``"optimizer.m/"`` ...), as file tensors named ``prefix +
    group name`` and ``prefix + pack``, with the packs' ids once."""
    groups = net.groups
    whole = [g for g in groups if not _packed(g)]
    packs = _packs(groups)
    tensors = {pack + IDS: owners for pack, (owners, _) in packs.items()}
    for prefix, vector in vectors.items():
        tensors.update({prefix + g.name: vector[g.start : g.stop].reshape(g.shape) for g in whole})
        tensors.update({prefix + pack: vector[positions] for pack, (_, positions) in packs.items()})
    return tensors


def join(net: "Network", tensors: dict[str, np.ndarray], prefix: str, fail: Callable[[str], Exception]) -> np.ndarray:
    """The flat vector (in ``net``'s layout) that :func:`split` wrote as
    ``tensors``; ``fail(message)`` builds the error for a group that is
    missing, extra or of the wrong shape."""
    groups = net.groups
    vector = np.empty(net.n_params, dtype=net.dtype)
    expected = set()
    for g in groups:
        if _packed(g):
            continue
        name = prefix + g.name
        expected.add(name)
        if name not in tensors:
            raise fail(f"the file lacks tensor {name!r} (parameter group {g.name} of the graph)")
        value = tensors[name]
        if value.shape != g.shape:
            raise fail(f"tensor {name!r} has shape {value.shape}, but group {g.name} of the graph has shape {g.shape}")
        vector[g.start : g.stop] = value.reshape(-1)
    for pack, (owners, positions) in _packs(groups).items():
        name = prefix + pack
        expected.add(name)
        saved_ids = tensors.get(pack + IDS, np.zeros(0, np.uint32))
        values = tensors.get(name, np.zeros(0, net.dtype))
        if saved_ids.shape != owners.shape or values.shape != owners.shape or not np.array_equal(saved_ids, owners):
            kind = SCALAR_PACKS[pack]
            theirs, ours = set(saved_ids.tolist()), set(owners.tolist())
            diff = sorted(ours - theirs) or sorted(theirs - ours)
            what = "lacks" if ours - theirs else "has extra"
            detail = f"; it {what} {kind} {diff[0]}" if diff else ""
            raise fail(f"tensors {name!r} / {pack + IDS!r} do not match the graph's one-value {kind} groups{detail}")
        vector[positions] = values
    extra = sorted(k for k in tensors if k.startswith(prefix) and k not in expected and not k.endswith(IDS))
    if prefix == "":
        extra = [k for k in extra if "/" not in k]
    if extra:
        raise fail(f"tensor {extra[0]!r} is not a parameter group of the graph")
    return vector
