"""The History's one-line repr and its plot (issue 13, items 15 and 16):
epochs counted from 1 on an integer axis, a marker per epoch, so a
one-epoch run shows a point. The plot is checked on matplotlib's Axes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nervenet as nv

matplotlib = pytest.importorskip("matplotlib")


def _history(epochs: int, start: int = 0) -> nv.History:
    h = nv.History()
    for e in range(start, start + epochs):
        h.record(e, {"loss": 1.0 / (e + 1), "accuracy": 0.5 + 0.01 * e, "val_loss": 1.5 / (e + 1)})
    return h


def _visible_ticks(ax) -> list[float]:
    lo, hi = ax.get_xlim()
    return [t for t in ax.get_xticks() if lo <= t <= hi]


@pytest.mark.parametrize("epochs", [1, 2, 7, 300])
def test_epochs_start_at_1_on_integer_ticks_with_markers(epochs: int) -> None:
    fig = _history(epochs).figure()
    try:
        loss, accuracy = fig.axes
        assert [line.get_label() for line in loss.lines] == ["train loss", "validation loss"]
        for ax in (loss, accuracy):
            for line in ax.lines:
                x = np.asarray(line.get_xdata())
                np.testing.assert_array_equal(x, np.arange(1, epochs + 1))
                assert line.get_marker() not in (None, "", "None", " ")
            ticks = _visible_ticks(ax)
            assert ticks and all(float(t).is_integer() for t in ticks)
            lo, hi = ax.get_xlim()
            assert lo < 1 and hi >= epochs  # the first (and a lone) point is inside the axes
        assert ax.get_xlabel() == "epoch"
    finally:
        matplotlib.pyplot.close(fig)


def test_a_one_epoch_run_is_a_visible_point() -> None:
    fig = _history(1).figure()
    try:
        ax = fig.axes[0]
        (train, _) = ax.lines
        assert len(train.get_xdata()) == 1 and train.get_marker() == "o" and train.get_markersize() > 0
        assert _visible_ticks(ax) == [1.0]
    finally:
        matplotlib.pyplot.close(fig)


def test_a_resumed_history_keeps_its_epoch_numbers() -> None:
    fig = _history(3, start=4).figure()
    try:
        np.testing.assert_array_equal(fig.axes[0].lines[0].get_xdata(), [5, 6, 7])
    finally:
        matplotlib.pyplot.close(fig)


def test_plot_writes_a_png(tmp_path: Path) -> None:
    path = _history(2).plot(tmp_path / "curves.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_repr_is_one_short_line() -> None:
    assert repr(nv.History()) == "History(0 epochs)"
    assert repr(_history(1)) == "History(1 epoch; last: loss=1, accuracy=0.5, val_loss=1.5)"
    long = repr(_history(5000))
    assert long.startswith("History(5000 epochs; last: loss=0.0002, ") and "\n" not in long and len(long) < 120
