"""A box plot of one metric per contender with every trial drawn over it
as a point (a strip plot), so that few trials are seen as they are.
matplotlib is imported on first use.

>>> fig = figure({"adam": [0.30, 0.31, 0.29], "sgd": [0.40, 0.42, 0.39]}, "test_loss")
>>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
['adam', 'sgd']
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Union

import numpy as np

from .._checks import _short, path_of, text
from ..errors import ConfigError
from .stats import sample_of

__all__ = ["figure", "plot"]


def _values(contender: Any, metric: str) -> np.ndarray:
    from .repeated import Trials

    return contender.values(metric) if isinstance(contender, Trials) else sample_of(contender, f"values of {metric}")


def figure(contenders: Mapping[str, Any], metric: str) -> Any:
    """The plot as a matplotlib Figure: ``contenders`` maps names to
    :class:`~nervenet.experiments.Trials` or sequences of values."""
    from matplotlib.figure import Figure  # not pyplot: no window, no global figure list

    metric = text(metric, "metric")
    if not isinstance(contenders, Mapping) or not contenders or not all(isinstance(k, str) for k in contenders):
        raise ConfigError(f"contenders must be a non-empty mapping of names to Trials or values, got {_short(contenders)}")
    names = list(contenders)
    data = [_values(contenders[k], metric) for k in names]
    fig = Figure(figsize=(1.6 + 1.4 * len(names), 4.0), layout="constrained")
    ax = fig.add_subplot()
    ax.boxplot(data, widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)  # the jitter only spreads the points sideways
    for i, values in enumerate(data, start=1):
        ax.plot(i + rng.uniform(-0.12, 0.12, len(values)), values, "o", alpha=0.6, markersize=4)
    ax.set_xticks(range(1, len(names) + 1), names)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric}: {', '.join(f'{k} (n={len(v)})' for k, v in zip(names, data))}", fontsize=9)
    return fig


def plot(contenders: Mapping[str, Any], metric: str, path: Union[str, "os.PathLike[str]"]) -> Path:
    """Writes :func:`figure` to ``path`` (PNG, or as its suffix says); returns the path."""
    path = path_of(path, "plot file")
    figure(contenders, metric).savefig(path)
    return path
