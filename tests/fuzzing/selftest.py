"""A target that misbehaves on purpose, to test the runner itself: seed
``a`` aborts the process, seed ``b`` raises a bare IndexError, seed ``c``
loads. Importing this module registers it as ``selftest`` (the runner's
``modules=["fuzzing.selftest"]`` imports it in the child)."""

from __future__ import annotations

import os
from pathlib import Path

from .targets import TARGETS, Target


def _seeds(folder: Path) -> list[Path]:
    for name in "abc":
        (folder / name).write_bytes(name.encode() * 8)
    return [folder / name for name in "abc"]


def _load(p: Path) -> None:
    first = p.read_bytes()[:1]
    if first == b"a":
        os.abort()
    if first == b"b":
        raise IndexError("not a nervenet error")


TARGETS["selftest"] = Target("selftest", _seeds, _load, lambda data, rng: data)
