"""Experiments over training runs: repeated trials with statistics and
significance tests, and hyperparameter search over configs, on this
machine's cores or on a Ray cluster.

- :func:`trials` runs a ``nervenet train`` config (or a function
  ``f(seed) -> dict of metrics``) n times with seeds derived from one run
  seed, logging each trial to a JSON-lines file as it finishes (an
  interrupted experiment resumes); :class:`Trials` summarises each metric
  (mean, std, 95% confidence interval, min, max).
- :func:`compare` tests two contenders (Welch's t-test, Mann-Whitney U,
  effect sizes) and says the verdict in words; :func:`plot` draws them.
- :func:`search` varies the keys a config's ``[search]`` names (random,
  grid, or Optuna's TPE).

Modules: ``work`` (what a trial runs), ``executors`` (in-process, process
pool, Ray), ``log`` (the JSON-lines log), ``repeated`` (trials), ``stats``,
``figures`` (the plot), ``space`` (search spaces), ``tuning`` (the search),
``toml_text`` (writing a config back as TOML), ``commands`` (the CLI's
``trials``, ``compare`` and ``search``).

>>> import nervenet as nv
>>> def f(seed):
...     return {"loss": 1.0 + (seed % 100) / 1000}
>>> a = nv.experiments.trials(f, n=4, backend="inprocess", log=None)
>>> round(a.summary()["loss"].n)
4
"""

from .repeated import Trials, trials
from .stats import Comparison, Summary, compare, summarize
from .figures import plot
from .tuning import SearchResult, search

__all__ = ["trials", "Trials", "compare", "Comparison", "summarize", "Summary", "plot", "search", "SearchResult"]
