"""Stored PyTorch references for the tests that compare nervenet with torch.

Each ``tests/data/torch_*.json`` holds ``{"torch_version", "script",
"references"}``: the values torch computed (outputs and every gradient), the
torch version that computed them and the script that wrote the file. With
torch installed a test computes the reference live and first checks every
stored value against it, so the file cannot go stale unnoticed; without torch
(as in CI) the stored values stand in. Regenerate a file by running its
script, e.g. ``PYTHONPATH=python python tests/test_cnn_torch.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np

DATA = Path(__file__).parent / "data"


def reference(file: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The live reference if torch is installed (after checking the stored
    one against it to 1e-12), else the stored one."""
    stored = json.loads((DATA / file).read_text())
    assert stored["torch_version"] and Path(__file__).parents[1].joinpath(stored["script"]).is_file(), stored["script"]
    try:
        import torch  # noqa: F401
    except ImportError:
        return stored["references"]
    live = compute()
    assert_same(live, stored["references"], f"{file} (stored by torch {stored['torch_version']})")
    return live


def assert_same(live: Any, stored: Any, where: str) -> None:
    """Every number of ``stored`` equals ``live`` to 1e-12 (relative)."""
    if isinstance(live, dict):
        assert isinstance(stored, dict) and live.keys() == stored.keys(), where
        for k in live:
            assert_same(live[k], stored[k], f"{where}: {k}")
    elif isinstance(live, list) and live and isinstance(live[0], dict):
        assert len(live) == len(stored), where
        for i, (a, b) in enumerate(zip(live, stored)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        np.testing.assert_allclose(np.asarray(stored), np.asarray(live), rtol=1e-12, atol=1e-14, err_msg=where)


def write(file: str, script: str, compute: Callable[[], dict[str, Any]]) -> None:
    """Writes ``compute()``'s values with the torch version and ``script``."""
    import torch

    doc = {"torch_version": torch.__version__, "script": script, "references": compute()}
    (DATA / file).write_text(json.dumps(doc) + "\n")
