"""nervenet.evolution.report: the fitness plot from a run's history or its
genomes.jsonl log (best so far and a rolling median, said in the legend),
log scale, saved as PNG; the summary text; the settings module's examples."""

from __future__ import annotations

import dataclasses
import doctest
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from nervenet.errors import ConfigError, DataError, FormatError, MissingFileError
from nervenet.evolution import Evolution, EvolutionConfig, Task, report, settings
from nervenet.evolution.report import plot_fitness, summary

PNG = b"\x89PNG\r\n\x1a\n"


def _write_log(path: Path, fitnesses: list) -> Path:
    path.write_text("".join(json.dumps({"id": i, "fitness": f}) + "\n" for i, f in enumerate(fitnesses)))
    return path


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 20, 2))
    Y = np.roll(X[..., :1], 1, axis=1)
    task = Task(X, Y, X[:2], Y[:2], X[2:4], Y[2:4])
    cfg = EvolutionConfig(islands=2, island_size=2, genomes=8, epochs=1, batch_size=4, backend="inprocess", seed=1)
    return Evolution(cfg, task).run(progress=False)


def test_plot_from_a_history_writes_a_png(tmp_path: Path) -> None:
    history = [{"genomes": 1, "best": 0.5, "median": 0.5}, {"genomes": 2, "best": 0.2, "median": 0.35},
               {"genomes": 3, "best": 0.2, "median": 0.3}]
    ax = plot_fitness(history, path=tmp_path / "fitness.png")
    assert (tmp_path / "fitness.png").read_bytes()[:8] == PNG
    best, median = ax.get_lines()
    assert best.get_label() == "best" and median.get_label() == "median of the islands"
    assert best.get_xdata().tolist() == [1, 2, 3] and best.get_ydata().tolist() == [0.5, 0.2, 0.2]
    assert median.get_ydata().tolist() == [0.5, 0.35, 0.3]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "genomes evaluated"


def test_plot_from_a_result_uses_its_history(result, tmp_path: Path) -> None:
    ax = plot_fitness(result, path=tmp_path / "r.png")
    assert ax.get_lines()[0].get_ydata().tolist() == [h["best"] for h in result.history]
    assert (tmp_path / "r.png").read_bytes()[:8] == PNG


def test_plot_from_a_log_shows_best_so_far_and_a_rolling_median(tmp_path: Path) -> None:
    log = _write_log(tmp_path / "genomes.jsonl", [None, 4.0, 2.0, 8.0, 1.0, None, 16.0])
    ax = plot_fitness(log, path=tmp_path / "log.png", window=3)
    assert (tmp_path / "log.png").read_bytes()[:8] == PNG
    best, median = ax.get_lines()
    assert best.get_label() == "best so far" and median.get_label() == "median of the last 3 genomes"
    assert best.get_xdata().tolist() == list(range(1, 8))
    ys = best.get_ydata().tolist()  # a failed genome (null) is counted, not plotted
    assert np.isnan(ys[0]) and ys[1:] == [4.0, 2.0, 2.0, 1.0, 1.0, 1.0]
    assert median.get_ydata().tolist()[1:] == [4.0, 3.0, 4.0, 2.0, 2.0, 8.0]  # of the last 3 that trained
    assert ax.get_yscale() == "log"


def test_the_log_window_defaults_to_a_tenth_of_the_log(tmp_path: Path) -> None:
    log = _write_log(tmp_path / "g.jsonl", [float(i + 1) for i in range(40)])
    assert plot_fitness(log).get_lines()[1].get_label() == "median of the last 4 genomes"
    log = _write_log(tmp_path / "g.jsonl", [float(i + 1) for i in range(1000)])
    assert plot_fitness(log).get_lines()[1].get_label() == f"median of the last {report.MEDIAN_WINDOW} genomes"


def test_plot_draws_on_given_axes_and_keeps_a_linear_scale_for_non_positive_values() -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        out = plot_fitness([{"genomes": 1, "best": -1.0, "median": 0.5}], ax=ax)
        assert out is ax and ax.get_yscale() == "linear"
    finally:
        plt.close(fig)


def test_plot_errors_name_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match="missing.jsonl"):
        plot_fitness(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 0, "fitness": 1.0}\nnot json\n')
    with pytest.raises(FormatError, match=r"bad.jsonl, line 2"):
        plot_fitness(bad)
    bad.write_text('{"id": 0, "fitness": "low"}\n')
    with pytest.raises(FormatError, match=r"line 1: fitness must be a number or null"):
        plot_fitness(bad)
    with pytest.raises(DataError, match="no genome that trained"):
        plot_fitness(_write_log(tmp_path / "failed.jsonl", [None, None]))
    with pytest.raises(ConfigError, match="got int"):
        plot_fitness(3)
    with pytest.raises(ConfigError, match=r"history\[0\]"):
        plot_fitness([{"best": 1.0}])
    with pytest.raises(ConfigError, match="window"):
        plot_fitness(_write_log(tmp_path / "ok.jsonl", [1.0]), window=0)
    history = [{"genomes": 1, "best": 1.0, "median": 1.0}]
    with pytest.raises(ConfigError, match="ax must be matplotlib Axes"):
        plot_fitness(history, ax="axes")
    with pytest.raises(ConfigError, match=r"history\[0\]\['genomes'\] must be an integer"):
        plot_fitness([{"genomes": "a", "best": 1.0, "median": 1.0}])
    with pytest.raises(ConfigError, match="cannot save a plot as .*plot.xyz: matplotlib writes .*png"):
        plot_fitness(history, path=tmp_path / "plot.xyz")
    with pytest.raises(MissingFileError, match="no such folder"):
        plot_fitness(history, path=tmp_path / "nowhere" / "plot.png")
    with pytest.raises(MissingFileError, match="it is a folder"):
        plot_fitness(history, path=tmp_path)
    with pytest.raises(ConfigError, match="summary takes an EvolutionResult, got list"):
        summary(history)


def test_the_plot_format_follows_the_suffix(tmp_path: Path) -> None:
    history = [{"genomes": 1, "best": 1.0, "median": 1.0}]
    plot_fitness(history, path=tmp_path / "plot.svg")
    assert b"<svg" in (tmp_path / "plot.svg").read_bytes()[:400]
    plot_fitness(history, path=tmp_path / "plot")  # no suffix: PNG
    assert (tmp_path / "plot").read_bytes()[:8] == PNG


def test_summary_reports_budget_best_test_and_structure(result) -> None:
    text = summary(result).splitlines()
    best = result.best
    assert text[0].startswith("genomes: 8 (2 islands of 2, 1 epoch each) in ")
    assert text[1].startswith(f"best: genome {best.id} (") and f"validation mse {best.fitness:.6g} " in text[1]
    assert text[2] == f"test mse: {result.test_loss:.6g}"
    assert text[3].startswith("best genome: ") and text[3].endswith(f", {result.network().n_params} parameters")
    untested = dataclasses.replace(result, test_loss=None)
    assert summary(untested).splitlines()[2].startswith("test: none (no test split")


def test_the_modules_examples_run() -> None:
    for module in (report, settings):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0, module.__name__
