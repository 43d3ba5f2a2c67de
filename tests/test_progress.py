"""What a person watching training sees (issue 13, items 11 and 14): one
line per epoch at verbose=1 whether or not the output is a terminal, bars
within and across epochs in a terminal, gradient statistics only at
verbose=2, early stopping's exact epoch count and what it says, and Ctrl-C
leaving the weights of the last finished epoch."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nervenet as nv
from nervenet.training.callbacks import duration, epoch_line
from nervenet.training.fit import batches_per_epoch, train_config

ROOT = Path(__file__).resolve().parents[1]
# the folder holding the nervenet these tests import (the source tree, or site-packages where installed)
PACKAGE_PARENT = str(Path(nv.__file__).resolve().parents[1])
EPOCH = re.compile(r"^epoch (\d+)/(\d+)  loss [-0-9.e]+ .*  [0-9.e-]+m?s$")


def _data(n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return rng.standard_normal((n, 3)), rng.standard_normal((n, 1))


def _net() -> nv.Network:
    return nv.Network(nv.mlp([3, 5, 1], "tanh"), dtype="float64", seed=1)


class Tty(io.StringIO):
    """A terminal, as far as isatty can tell."""

    def isatty(self) -> bool:
        return True


def _epoch_lines(text: str) -> list[str]:
    return [line for line in text.replace("\r", "\n").split("\n") if EPOCH.match(line)]


# ---- one line per epoch ----------------------------------------------------------------


def test_verbose_1_prints_a_line_per_epoch_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    X, Y = _data()
    _net().fit(X, Y, epochs=3, batch_size=8, validation=(X, Y), verbose=1)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert [EPOCH.match(line).group(1, 2) for line in lines] == [("1", "3"), ("2", "3"), ("3", "3")]
    assert all(" val_loss " in line and " mse " in line for line in lines)
    assert "gradient_norm" not in err and "update_ratio" not in err and "|" not in err  # no bars, no statistics


def test_verbose_2_adds_the_gradient_statistics(capsys: pytest.CaptureFixture[str]) -> None:
    X, Y = _data()
    _net().fit(X, Y, epochs=2, verbose=2)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all(" gradient_norm " in line and " update_ratio " in line for line in lines)


def test_verbose_0_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    X, Y = _data()
    _net().fit(X, Y, epochs=2, verbose=0)
    assert capsys.readouterr() == ("", "")


def test_a_script_redirected_to_a_log_file_gets_the_lines(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import numpy as np, nervenet as nv
        X, Y = np.ones((8, 2)), np.ones((8, 1))
        nv.Network(nv.mlp([2, 1])).fit(X, Y, epochs=2)
    """))
    log = tmp_path / "log.txt"
    with open(log, "w") as out:
        subprocess.run([sys.executable, str(script)], stdout=out, stderr=subprocess.STDOUT, check=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": PACKAGE_PARENT})
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and EPOCH.match(lines[0]) and lines[1].startswith("epoch 2/2  loss ")


def test_epoch_seconds_are_never_a_bare_zero() -> None:
    assert duration(0.0000412) == "0.0412ms" and duration(0.0123) == "12.3ms" and duration(3.14159) == "3.14s"
    line = epoch_line(0, 10, {"loss": 0.5, "accuracy": 0.75, "val_loss": 0.625, "gradient_norm": 1.0}, 0.00025)
    assert line == "epoch  1/10  loss 0.5  accuracy 0.75  val_loss 0.625  0.25ms"


# ---- bars in a terminal ----------------------------------------------------------------


class Watched(nv.callbacks.ProgressBar):
    """Records where the batch bar stood as each epoch ended (tqdm redraws
    at most ten times a second, so the text alone cannot say)."""

    def __init__(self, file: Any) -> None:
        super().__init__(file=file)
        self.seen: list[tuple[str, int, int]] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.seen.append((self.batches.desc, self.batches.n, self.batches.total))
        super().on_epoch_end(epoch, logs)


def test_in_a_terminal_there_are_bars_over_epochs_and_over_batches() -> None:
    X, Y = _data(20)
    out = Tty()
    bar = Watched(out)
    _net().fit(X, Y, epochs=2, batch_size=6, verbose=0, callbacks=[bar])
    assert bar.seen == [("epoch 1", 4, 4), ("epoch 2", 4, 4)]  # 20 samples in batches of 6: 4 batches
    text = out.getvalue()
    assert len(_epoch_lines(text)) == 2
    assert re.search(r"epoch 1: +0%\|.*\| 0/4 \[", text)
    assert re.search(r"100%\|.*\| 2/2 \[.*epoch/s\]", text)
    assert bar.bar is None and bar.batches is None  # closed


def test_batches_per_epoch_is_what_the_trainer_runs() -> None:
    from nervenet import engine

    rng = np.random.default_rng(0)
    net = nv.Network(nv.rnn.elman(2, 3, 1), dtype="float64", seed=0)
    X, Y = rng.standard_normal((10, 7, 2)), rng.standard_normal((10, 7, 1))
    prepared = engine.prepare(net, X, Y, "mse")
    for batch_size, truncate, expected in [(3, None, 4), (0, None, 1), (5, 3, 6), (10, 7, 1), (4, 2, 12)]:
        config = train_config("mse", "mean", batch_size, True, 0, None, None, None, None, None, None,
                              None, 0.0, 0.0, 0.0, "fail", truncate)
        report = engine.epoch(net, engine.trainer(net, config), prepared, "mean", 0, None)
        assert batches_per_epoch(prepared.batch, config) == report["batches"] == expected


def test_bars_do_not_change_the_results_by_a_bit() -> None:
    X, Y = _data(40)
    quiet, watched = _net(), _net()
    options: dict[str, Any] = dict(epochs=3, batch_size=7, optimizer=nv.optim.Adam(0.01), dropout=0.1, seed=4)
    h0 = quiet.fit(X, Y, verbose=0, **options)
    bar = nv.callbacks.ProgressBar(force=True, file=io.StringIO(), verbose=2)
    h1 = watched.fit(X, Y, verbose=2, callbacks=[bar], **options)
    assert bar.wants_batches  # the bars really ran the per-batch hook
    np.testing.assert_array_equal(quiet.parameters, watched.parameters)
    assert h0.values == h1.values


# ---- Ctrl-C ----------------------------------------------------------------------------


class InterruptAt(nv.callbacks.Callback):
    """Raises KeyboardInterrupt as Ctrl-C would: in a batch of an epoch, or
    at an epoch's end."""

    def __init__(self, epoch: int, batch: int | None) -> None:
        self.at_epoch, self.at_batch, self.epoch = epoch, batch, -1
        self.wants_batches = batch is not None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self.epoch = epoch

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        if (self.epoch, batch) == (self.at_epoch, self.at_batch):
            raise KeyboardInterrupt

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.at_batch is None and epoch == self.at_epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("epoch, batch, kept", [(2, 1, 2), (0, 2, 0), (1, None, 2)])
def test_ctrl_c_keeps_the_last_finished_epoch_and_says_so(
    capsys: pytest.CaptureFixture[str], epoch: int, batch: int | None, kept: int
) -> None:
    X, Y = _data(24)
    options: dict[str, Any] = dict(batch_size=6, optimizer=nv.optim.Adam(0.01), verbose=0)
    reference = _net()
    start = reference.parameters
    if kept:
        reference.fit(X, Y, epochs=kept, **options)
    net = _net()
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, Y, epochs=5, callbacks=[InterruptAt(epoch, batch)], **options)
    np.testing.assert_array_equal(net.parameters, reference.parameters)
    assert kept or np.array_equal(net.parameters, start)
    said = capsys.readouterr().err.strip()
    kept_text = f"the weights after epoch {kept}" if kept else "its weights from before training"
    assert said == f"training interrupted (Ctrl-C); the network keeps {kept_text}"


def test_ctrl_c_under_bars_is_said_above_them() -> None:
    X, Y = _data(24)
    out = Tty()
    net = _net()
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, Y, epochs=4, batch_size=6, verbose=0,
                callbacks=[InterruptAt(1, 0), nv.callbacks.ProgressBar(file=out)])
    text = out.getvalue()
    assert "training interrupted (Ctrl-C); the network keeps the weights after epoch 1" in text
    assert len(_epoch_lines(text)) == 1


# ---- early stopping --------------------------------------------------------------------


class Scores(nv.callbacks.Callback):
    """Logs a made-up ``score`` per epoch for the callbacks after it."""

    def __init__(self, scores: list[float]) -> None:
        self.scores = scores

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        logs["score"] = self.scores[epoch]


@pytest.mark.parametrize(
    "patience, scores, epochs_run, best",
    [
        (1, [3, 2, 2.5, 1, 0], 3, 1),  # best at epoch 2 (from 1), one epoch without improvement: 3 epochs
        (2, [3, 2, 2.5, 2.2, 1, 0], 4, 1),
        (2, [3, 2, 2.5, 1, 1.5, 1.2, 0, 0], 6, 3),
        (0, [3, 2, 2.5, 1], 3, 1),  # 0: stop at the first epoch without improvement, as 1
        (3, [5, 4, 3, 2, 1, 0], 6, 5),  # never stops
    ],
)
def test_early_stopping_runs_exactly_patience_epochs_after_the_best(
    patience: int, scores: list[float], epochs_run: int, best: int
) -> None:
    X, Y = _data()
    stop = nv.callbacks.EarlyStopping(monitor="score", patience=patience)
    h = _net().fit(X, Y, epochs=len(scores), verbose=0, callbacks=[Scores(scores), stop])
    assert len(h.epochs) == epochs_run
    assert stop.best_epoch == best
    assert stop.stopped_epoch == (epochs_run - 1 if epochs_run < len(scores) else None)


def test_early_stopping_says_it_stopped_and_restored(capsys: pytest.CaptureFixture[str]) -> None:
    X, Y = _data()
    net = _net()
    weights: list[np.ndarray] = []

    class Keep(nv.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
            weights.append(net.parameters)

    stop = nv.callbacks.EarlyStopping(monitor="score", patience=2)
    net.fit(X, Y, epochs=10, verbose=1, callbacks=[Keep(), Scores([3, 1, 2, 2]), stop])
    np.testing.assert_array_equal(net.parameters, weights[1])
    assert stop.report == "early stopping: score did not improve for 2 epochs; stopped after epoch 4; " \
                          "restored the weights of epoch 2 (score 1)"
    assert capsys.readouterr().err.splitlines()[-1] == stop.report
    quiet = nv.callbacks.EarlyStopping(monitor="score", patience=5)
    _net().fit(X, Y, epochs=3, verbose=0, callbacks=[Scores([3, 2, 1]), quiet])
    assert quiet.report is None  # ran to the end, best last: nothing to say


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command, run on this checkout's package whatever the working directory."""
    env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT}
    return subprocess.run([sys.executable, "-m", "nervenet.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def test_cli_says_it_stopped_early_and_restored_the_best_epoch(tmp_path: Path) -> None:
    config = (ROOT / "examples" / "digits.toml").read_text()
    config = re.sub(r"patience = \d+", "patience = 1\nmin_delta = 1e9", config)  # nothing counts as improving
    (tmp_path / "run.toml").write_text(config)
    r = _cli("train", "run.toml", "--epochs", "6", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len([line for line in lines if line.startswith("epoch ")]) == 2
    assert "early stopping: val_loss did not improve for 1 epoch; stopped after epoch 2; " \
           "restored the weights of epoch 1 (val_loss " in r.stdout
    assert "trained 2 epochs in " in r.stdout


def test_cli_says_trained_1_epoch(tmp_path: Path) -> None:
    r = _cli("train", str(ROOT / "examples" / "digits.toml"), "--epochs", "1", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^trained 1 epoch in [0-9.]+s$", r.stdout, re.M)
    line = next(line for line in r.stdout.splitlines() if line.startswith("epoch 1/1"))
    assert not line.endswith(" 0.00s")
