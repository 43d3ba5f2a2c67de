"""Every Python block of the README runs on its own: it imports what it
uses and does what its comments say (digits ship with scikit-learn, so no
data files are needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
# a print whose comment ends in a shape or a list (without "...") shows what it prints
SHOWN = re.compile(r"^print\(.*#.*((?:\(\d[\d, ]*\)|\[[^].]*\]))", re.M)
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)


def test_the_readme_has_its_python_blocks() -> None:
    assert len(BLOCKS) >= 4
    checked = [SHOWN.findall(b) for b in BLOCKS]
    assert ["['7' '1' '3']", "(3, 10)", "(3, 10)"] in checked and ["(24, 24, 1)"] in checked


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs_alone(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = BLOCKS[index]
    assert re.search(r"^import nervenet as nv$", code, re.M), "every block imports what it uses"
    monkeypatch.chdir(tmp_path)  # blocks that save files write them here
    exec(compile(code, f"README.md python block {index + 1}", "exec"), {"__name__": "__readme__"})
    out = capsys.readouterr().out
    for shown in SHOWN.findall(code):
        assert shown in out, f"block {index + 1} comments {shown}, but printed:\n{out}"
