"""``python -m nervenet demo`` runs the demo, exits 0, and fails loudly when xor is not learned."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m nervenet demo`` outside the repository."""
    cmd = [sys.executable, "-m", "nervenet", "demo", *args]
    return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=60)


def test_demo_runs_and_learns_xor(tmp_path: Path) -> None:
    proc = _run(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert re.search(r"output sigmoid\(0\.6 tanh 0\.9 \+ 0\.7 tanh 1\.2\)\s+0\.7337\s", out), out
    assert "max relative error" in out
    assert re.search(r"solved after \d+ epochs", out), out
    assert out.rstrip().endswith("all demo checks passed")
    assert proc.stderr == ""


def test_demo_fails_with_a_message_when_xor_is_not_learned(tmp_path: Path) -> None:
    proc = _run(tmp_path, "--max-epochs", "1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "xor was not learned in 1 epochs" in proc.stderr
    assert "nervenet demo FAILED: xor training" in proc.stderr
