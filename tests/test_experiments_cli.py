"""`nervenet trials`, `nervenet compare` and `nervenet search` (issue 15,
items 4 and 5): tables, verdict and files; a second run resumes; invalid
configs exit with status 2 naming the file and key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from experiment_helpers import tiny
from nervenet import cli
from nervenet.experiments.toml_text import to_toml

PNG = b"\x89PNG\r\n\x1a\n"


def _write(path: Path, config: dict) -> str:
    path.write_text(to_toml(config))
    return str(path)


def test_trials_prints_the_summary_writes_log_summary_and_plot_and_resumes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, out = _write(tmp_path / "tiny.toml", tiny()), tmp_path / "out"
    assert cli.main(["trials", config, "-n", "3", "--backend", "inprocess", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "trial 0 (of 3): loss" in printed and "trial 2 (of 3)" in printed
    table = printed[printed.index("metric"):printed.index("wrote")]
    assert "test_loss" in table and "95% CI" in table
    assert (out / "trials.png").read_bytes()[:8] == PNG
    summary = json.loads((out / "summary.json").read_text())["summary"]
    assert summary["test_loss"]["n"] == 3 and summary["test_loss"]["low"] < summary["test_loss"]["mean"]
    assert len((out / "trials.jsonl").read_text().splitlines()) == 4
    assert cli.main(["trials", config, "-n", "3", "--backend", "inprocess", "--out", str(out)]) == 0
    again = capsys.readouterr().out
    assert "trial 0" not in again and again[again.index("metric"):again.index("wrote")] == table  # nothing rerun


def test_trials_on_the_process_pool_through_the_command(tmp_path: Path) -> None:
    config = _write(tmp_path / "tiny.toml", tiny())
    r = subprocess.run([sys.executable, "-m", "nervenet", "trials", config, "-n", "2", "--workers", "2", "-q",
                        "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in (tmp_path / "out" / "trials.jsonl").read_text().splitlines()]
    assert sorted(x["trial"] for x in lines[1:]) == [0, 1] and "test_accuracy" in r.stdout


def test_compare_prints_both_tables_and_the_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    adam = _write(tmp_path / "adam.toml", tiny(**{"training.epochs": 2}))
    sgd = _write(tmp_path / "sgd.toml", tiny(**{"training.epochs": 2, "optimizer.name": "sgd", "optimizer.lr": 1e-4}))
    out = tmp_path / "out"
    assert cli.main(["compare", adam, sgd, "-n", "4", "--backend", "inprocess", "--out", str(out), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "adam:\nmetric" in printed and "sgd:\nmetric" in printed
    assert "adam is better than sgd on test_loss (lower: mean" in printed  # a learning rate 100 times smaller
    record = json.loads((out / "compare.json").read_text())
    assert record["better"] == "adam" and record["welch_p"] < 0.05 and record["names"] == ["adam", "sgd"]
    assert (out / "compare.png").read_bytes()[:8] == PNG
    assert (out / "adam.jsonl").is_file() and (out / "sgd.jsonl").is_file()
    assert cli.main(["compare", adam, sgd, "-n", "4", "--metric", "test_accuracy", "--alpha", "0.01",
                     "--backend", "inprocess", "--out", str(out), "-q"]) == 0  # the logs are reused
    assert "adam is better than sgd on test_accuracy (higher" in capsys.readouterr().out


def test_compare_names_the_invalid_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _write(tmp_path / "good.toml", tiny())
    bad = _write(tmp_path / "bad.toml", tiny(**{"optimizer.lr": -1.0}))
    assert cli.main(["compare", good, bad, "-n", "2", "--backend", "inprocess", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"invalid config ({bad}): optimizer.lr" in err and not (tmp_path / "o" / "good.jsonl").exists()


def test_search_writes_the_log_and_a_best_config_train_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _write(tmp_path / "s.toml", {**tiny(), "search": {
        "sampler": "grid", "grid_points": 2, "space": {"optimizer.lr": {"loguniform": [1e-3, 1e-1]}}}})
    out = tmp_path / "out"
    assert cli.main(["search", config, "--backend", "inprocess", "--out", str(out), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "best: trial" in printed and f"nervenet train {out / 'best.toml'}" in printed
    assert len((out / "search.jsonl").read_text().splitlines()) == 3  # header and the grid's two points
    assert cli.main(["train", str(out / "best.toml"), "--out", str(tmp_path / "t"), "--quiet"]) == 0


def test_search_with_an_invalid_space_exits_2_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _write(tmp_path / "s.toml", {**tiny(), "search": {"space": {"optimizer.lr": {"loguniform": [0, 1]}}}})
    assert cli.main(["search", config, "--backend", "inprocess", "--out", str(tmp_path / "o")]) == 2
    assert f"invalid config ({config}): search.space.optimizer.lr: loguniform needs low > 0" in capsys.readouterr().err


def test_an_interrupted_command_says_how_to_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from nervenet.experiments import repeated

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(repeated, "run_trial", interrupted)
    config = _write(tmp_path / "tiny.toml", tiny())
    assert cli.main(["trials", config, "-n", "2", "--backend", "inprocess", "--out", str(tmp_path / "o")]) == 130
    assert "the same command again (same --out) resumes" in capsys.readouterr().err
