"""Statistics of repeated trials: a summary of one metric's values (mean,
standard deviation, 95% confidence interval of the mean by Student's t,
min, max, n) and the comparison of two samples: Welch's t-test and the
Mann-Whitney U test (scipy.stats, imported on first use), Cohen's d and the
rank-biserial correlation as effect sizes, and a verdict in words.

>>> s = summarize([1.0, 2.0, 3.0])
>>> (s.mean, s.std, s.n)
(2.0, 1.0, 3)
>>> c = compare([0.30, 0.31, 0.29, 0.30], [0.40, 0.42, 0.39, 0.41], metric="test_loss", names=("adam", "sgd"))
>>> c.better
'adam'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np

from .._budget import read
from .._checks import _short, flag, number, text
from ..errors import ConfigError

__all__ = ["Summary", "Comparison", "summarize", "compare", "lower_is_better"]

# metric names whose smaller values are better, and larger
_LOWER = ("loss", "mse", "mae", "error", "seconds", "time")
_HIGHER = ("accuracy", "acc", "score", "auc", "f1", "precision", "recall", "r2")


def lower_is_better(metric: str) -> bool:
    """Whether a metric improves downwards, from its name (``*loss``,
    ``*mse``, ``*mae``, ``*error``: yes; ``*accuracy``, ``*score``...:
    no); other names raise ConfigError asking to say which."""
    name = text(metric, "metric").lower()
    if name.endswith(_LOWER):
        return True
    if name.endswith(_HIGHER):
        return False
    raise ConfigError(f"cannot tell from its name whether {metric!r} is better lower or higher; "
                      "say so (lower_is_better=True/False, or --higher-is-better / search.direction)")


_by_name = lower_is_better  # for compare, whose argument has the same name


@dataclass(frozen=True)
class Summary:
    """One metric over n trials: mean, standard deviation (ddof = 1), the
    95% confidence interval of the mean (``low``, ``high``: mean ± t·sd/√n,
    t of n − 1 degrees of freedom), min, max and n. With one value the
    deviation and interval are NaN."""

    mean: float
    std: float
    low: float
    high: float
    min: float
    max: float
    n: int

    def __str__(self) -> str:
        return (f"{self.mean:.4g} ± {self.std:.2g} (95% CI {self.low:.4g} to {self.high:.4g}; "
                f"min {self.min:.4g}, max {self.max:.4g}; n = {self.n})")


def sample_of(values: Any, what: str) -> np.ndarray:
    x = read(values, what, itemsize=8)  # a broadcast view stands for every value it shows
    if x.ndim != 1 or len(x) == 0 or x.dtype.kind not in "biuf":
        raise ConfigError(f"{what} must be a non-empty 1-d sequence of numbers, got "
                          f"{'shape ' + str(x.shape) if x.dtype.kind in 'biuf' else _short(values)}")
    return x.astype(np.float64)


def summarize(values: Sequence[float], confidence: float = 0.95) -> Summary:
    """The :class:`Summary` of ``values``."""
    x = sample_of(values, "values")
    confidence = number(confidence, "confidence")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must be in (0, 1), got {confidence}")
    n, mean = len(x), float(np.mean(x))
    if n < 2:
        return Summary(mean, math.nan, math.nan, math.nan, float(x.min()), float(x.max()), n)
    from scipy import stats

    std = float(np.std(x, ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * std / math.sqrt(n)
    return Summary(mean, std, mean - half, mean + half, float(x.min()), float(x.max()), n)


@dataclass(frozen=True)
class Comparison:
    """Two samples of one metric compared. ``welch_t``, ``welch_p``: Welch's
    t-test (two-sided, unequal variances); ``mwu_u``, ``mwu_p``: the
    Mann-Whitney U test (two-sided; U of the first sample); ``cohens_d``:
    (mean a − mean b) / pooled standard deviation; ``rank_biserial``:
    2U/(n_a·n_b) − 1, from −1 (every a below every b) to 1. ``better`` is
    the name of the better contender when Welch's test is significant at
    ``alpha``, else None; ``verdict`` says it in words."""

    metric: str
    names: tuple[str, str]
    a: Summary
    b: Summary
    welch_t: float
    welch_p: float
    mwu_u: float
    mwu_p: float
    cohens_d: float
    rank_biserial: float
    alpha: float
    lower_is_better: bool
    better: Optional[str]
    verdict: str

    def __str__(self) -> str:
        return self.verdict


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    from scipy import stats

    if np.ptp(a) == 0 and np.ptp(b) == 0:  # no spread: t is ±inf or undefined, scipy says NaN
        return (0.0, 1.0) if a[0] == b[0] else (math.copysign(math.inf, a[0] - b[0]), 0.0)
    r = stats.ttest_ind(a, b, equal_var=False)
    return float(r.statistic), float(r.pvalue)


def compare(a: Any, b: Any, metric: str = "test_loss", alpha: float = 0.05,
            lower_is_better: Optional[bool] = None, names: tuple[str, str] = ("A", "B")) -> Comparison:
    """Compares two contenders on ``metric``: each a sequence of values or
    a :class:`~nervenet.experiments.Trials` (its values of ``metric``).
    ``lower_is_better`` None: from the metric's name (see
    :func:`lower_is_better`). The verdict follows Welch's t-test at
    ``alpha``; the Mann-Whitney p-value and the effect sizes are reported
    with it."""
    from scipy import stats

    from .repeated import Trials

    alpha = number(alpha, "alpha")
    metric = text(metric, "metric")
    if not (isinstance(names, (tuple, list)) and len(names) == 2 and all(isinstance(n, str) for n in names)):
        raise ConfigError(f"names must be two strings, got {_short(names)}")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be in (0, 1), got {alpha}")
    if isinstance(a, Trials):
        names = (a.name if names == ("A", "B") else names[0], names[1])
    if isinstance(b, Trials):
        names = (names[0], b.name if names[1] == "B" else names[1])
    x = a.values(metric) if isinstance(a, Trials) else sample_of(a, "a")
    y = b.values(metric) if isinstance(b, Trials) else sample_of(b, "b")
    if len(x) < 2 or len(y) < 2:
        raise ConfigError(f"comparing needs at least 2 values of {metric!r} per contender, got {len(x)} and {len(y)}")
    lower = _by_name(metric) if lower_is_better is None else flag(lower_is_better, "lower_is_better")
    t, p = _welch(x, y)
    mwu = stats.mannwhitneyu(x, y, alternative="two-sided")
    na, nb = len(x), len(y)
    pooled = math.sqrt(((na - 1) * np.var(x, ddof=1) + (nb - 1) * np.var(y, ddof=1)) / (na + nb - 2))
    diff = float(np.mean(x) - np.mean(y))
    d = diff / pooled if pooled > 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))
    r = 2 * float(mwu.statistic) / (na * nb) - 1
    better = None
    if p < alpha and diff != 0:
        better = names[0] if (diff < 0) == lower else names[1]
    sa, sb = summarize(x), summarize(y)
    tests = f"Welch's t-test p={p:.3g}, Mann-Whitney U p={float(mwu.pvalue):.3g}; Cohen's d={d:.2f}"
    if better is not None:
        worse = names[1] if better == names[0] else names[0]
        verdict = (f"{better} is better than {worse} on {metric} ({'lower' if lower else 'higher'}: mean "
                   f"{sa.mean:.4g} vs {sb.mean:.4g}; {tests})")
    else:
        verdict = (f"no significant difference between {names[0]} and {names[1]} on {metric} at α={alpha:g} "
                   f"(mean {sa.mean:.4g} vs {sb.mean:.4g}; {tests})")
    return Comparison(metric, (names[0], names[1]), sa, sb, t, p, float(mwu.statistic), float(mwu.pvalue), d, r,
                      alpha, lower, better, verdict)
