"""Statistics of trials (issue 15, item 4): the summary, Welch's t-test,
the Mann-Whitney U test and the effect sizes checked against numbers
computed once with scipy and against their formulas written out here; the
verdict in words; the box/strip plot."""

from __future__ import annotations

import doctest
import math
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import nervenet as nv
from experiment_helpers import noisy
from nervenet.errors import ConfigError
from nervenet.experiments import compare, summarize

matplotlib.use("Agg")

A = [0.31, 0.29, 0.35, 0.30, 0.33, 0.28]
B = [0.36, 0.34, 0.39, 0.33, 0.37]


def test_summary_against_scipy_numbers() -> None:
    s = summarize(A)
    assert s.n == 6 and s.min == 0.28 and s.max == 0.35
    assert s.mean == pytest.approx(0.31, rel=1e-12)
    assert s.std == pytest.approx(math.sqrt(sum((x - 0.31) ** 2 for x in A) / 5), rel=1e-12)  # ddof = 1
    # scipy.stats.t.interval(0.95, 5, loc=mean, scale=sem), computed once
    assert (s.low, s.high) == (pytest.approx(0.28263406660913887, rel=1e-12), pytest.approx(0.33736593339086113, rel=1e-12))


def test_a_single_value_has_no_spread() -> None:
    s = summarize([2.0])
    assert (s.mean, s.n) == (2.0, 1) and math.isnan(s.std) and math.isnan(s.low) and math.isnan(s.high)


def test_welch_mann_whitney_and_effect_sizes_against_scipy_and_their_formulas() -> None:
    c = compare(A, B, metric="test_loss")
    # scipy.stats.ttest_ind(A, B, equal_var=False) and mannwhitneyu(A, B), computed once
    assert c.welch_t == pytest.approx(-3.183535355654749, rel=1e-12)
    assert c.welch_p == pytest.approx(0.011306352460181983, rel=1e-10)
    assert c.mwu_u == 2.5 and c.mwu_p == pytest.approx(0.02810006355731762, rel=1e-10)
    a, b = np.array(A), np.array(B)
    va, vb = a.var(ddof=1), b.var(ddof=1)
    t = (a.mean() - b.mean()) / math.sqrt(va / 6 + vb / 5)
    assert c.welch_t == pytest.approx(t, rel=1e-12)
    pooled = math.sqrt((5 * va + 4 * vb) / 9)
    assert c.cohens_d == pytest.approx((a.mean() - b.mean()) / pooled, rel=1e-12)
    wins = sum(1.0 if x > y else 0.5 if x == y else 0.0 for x in A for y in B)  # U of A, by counting pairs
    assert c.rank_biserial == pytest.approx(2 * wins / 30 - 1, rel=1e-12)


def test_the_verdict_in_words() -> None:
    c = compare(A, B, metric="test_loss", names=("adam", "momentum"))
    assert c.better == "adam" and c.verdict.startswith("adam is better than momentum on test_loss (lower")
    assert "p=0.0113" in c.verdict
    c = compare(A, B, metric="test_accuracy", names=("adam", "momentum"))  # higher is better
    assert c.better == "momentum" and c.verdict.startswith("momentum is better than adam on test_accuracy")
    c = compare(A, B, metric="test_loss", alpha=0.01)
    assert c.better is None and c.verdict.startswith("no significant difference between A and B on test_loss at α=0.01")
    c = compare([0.5, 0.52, 0.48, 0.51], [0.49, 0.53, 0.5, 0.52], metric="val_loss")
    assert c.welch_p == pytest.approx(0.5705504061647488, rel=1e-10) and c.better is None
    c = compare([1.0, 1.0, 1.0], [1.0, 1.0], metric="loss")  # no spread, no difference: scipy would say NaN
    assert (c.welch_p, c.better) == (1.0, None)
    c = compare([1.0, 1.0, 1.0], [2.0, 2.0], metric="loss")
    assert c.welch_p == 0.0 and c.better == "A"


def test_the_direction_comes_from_the_name_or_is_asked_for() -> None:
    with pytest.raises(ConfigError, match="better lower or higher"):
        compare(A, B, metric="sparsity")
    assert compare(A, B, metric="sparsity", lower_is_better=False).better == "B"
    with pytest.raises(ConfigError, match="alpha must be in"):
        compare(A, B, alpha=1.5)
    with pytest.raises(ConfigError, match="at least 2 values"):
        compare([1.0], B)


def test_compare_takes_trials_by_their_names() -> None:
    a = nv.experiments.trials(noisy, n=5, seed=0, backend="inprocess", log=None, name="first")
    b = nv.experiments.trials(noisy, n=5, seed=0, backend="inprocess", log=None, name="second")
    c = compare(a, b, metric="loss")
    assert c.names == ("first", "second") and c.welch_p == 1.0 and c.better is None  # the same seeds, the same values


def test_the_plot_is_written(tmp_path: Path) -> None:
    path = nv.experiments.plot({"adam": A, "momentum": B}, "test_loss", tmp_path / "p.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from nervenet.experiments.figures import figure

    ax = figure({"adam": A, "momentum": B}, "test_loss").axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["adam", "momentum"] and ax.get_ylabel() == "test_loss"
    assert sorted(ax.lines[-1].get_ydata()) == sorted(B)  # every trial drawn as a point


def test_the_docstring_examples_run() -> None:
    from nervenet import experiments
    from nervenet.experiments import figures, log, repeated, space, stats, toml_text

    for module in (experiments, figures, log, repeated, space, stats, toml_text):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0, module.__name__
