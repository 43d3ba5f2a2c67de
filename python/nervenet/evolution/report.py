"""What a run shows its user: a plot of fitness against genomes evaluated
and a text summary of the result (what ``nervenet evolve`` prints).

matplotlib is imported on first use, so ``import nervenet`` stays fast.

>>> import matplotlib; matplotlib.use("Agg")
>>> from nervenet.evolution.report import plot_fitness
>>> history = [{"genomes": 1, "best": 0.5, "median": 0.5}, {"genomes": 2, "best": 0.2, "median": 0.35}]
>>> ax = plot_fitness(history)
>>> [line.get_label() for line in ax.get_lines()]
['best', 'median of the islands']
"""

from __future__ import annotations

import json
import math
import os
import statistics
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from .._checks import integer, path_of
from ..errors import ConfigError, DataError, FormatError

PathLike = Union[str, "os.PathLike[str]"]

#: How many of the last genomes the rolling median of a log plot takes at
#: most (fewer for short logs: a tenth of them, at least one).
MEDIAN_WINDOW = 50


def _series_of_history(history: Sequence[Any]) -> tuple[list[int], list[Optional[float]], list[Optional[float]]]:
    x, best, median = [], [], []
    for k, h in enumerate(history):
        if not isinstance(h, dict) or not {"genomes", "best", "median"} <= h.keys():
            raise ConfigError(f"history[{k}] must be a dict with 'genomes', 'best' and 'median' "
                              f"(EvolutionResult.history), got {h!r}")
        integer(h["genomes"], f"history[{k}]['genomes']")
        x.append(h["genomes"])
        best.append(h["best"])
        median.append(h["median"])
    return x, best, median


def read_log(path: PathLike) -> list[dict[str, Any]]:
    """The records of a ``genomes.jsonl`` log, one per genome in the order
    they were taken in; a line that is not a JSON object is a FormatError
    naming the file and line."""
    from ..data.files import decode_text, read_data

    p = path_of(path, "genome log")
    text = decode_text(read_data(p, "genome log"), p)
    records = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as e:
            raise FormatError(f"{p}, line {lineno}: not a JSON line of a genome log ({e})") from None
        if not isinstance(record, dict) or "fitness" not in record:
            raise FormatError(f"{p}, line {lineno}: a genome record is a JSON object with a 'fitness', got {line[:80]!r}")
        fitness = record["fitness"]
        if fitness is not None and (isinstance(fitness, bool) or not isinstance(fitness, (int, float))):
            raise FormatError(f"{p}, line {lineno}: fitness must be a number or null, got {fitness!r}")
        records.append(record)
    return records


def _series_of_log(records: list[dict[str, Any]], window: int) -> tuple[list[int], list[Optional[float]], list[Optional[float]]]:
    """Best fitness so far and the median of the last ``window`` genomes
    that trained (failed genomes, fitness null, count as evaluated)."""
    x, best, median = [], [], []
    so_far: Optional[float] = None
    recent: list[float] = []
    for n, record in enumerate(records, 1):
        f = record["fitness"]
        if f is not None and math.isfinite(f):
            so_far = f if so_far is None else min(so_far, f)
            recent = (recent + [f])[-window:]
        x.append(n)
        best.append(so_far)
        median.append(statistics.median(recent) if recent else None)
    return x, best, median


def plot_fitness(history_or_log: Any, ax: Any = None, path: Optional[PathLike] = None, *,
                 window: Optional[int] = None) -> Any:
    """Plots best and median fitness against genomes evaluated, on a log
    scale (linear if a value is not positive), and returns the Axes.

    ``history_or_log``: an :class:`~nervenet.evolution.EvolutionResult` or
    its ``history`` (best fitness and the median over the islands' genomes
    after each genome), or the path of a run's ``genomes.jsonl``, which
    holds each genome's fitness only: from a log the plot shows the best so
    far and the rolling median of the last ``window`` genomes (default: a
    tenth of the log, at most :data:`MEDIAN_WINDOW`), as its legend says.

    ``ax``: matplotlib Axes to draw on (default: a new figure). ``path``:
    also save the figure there (PNG, SVG, PDF, ... by the suffix; PNG
    without one).

    >>> import matplotlib; matplotlib.use("Agg")
    >>> import json, tempfile, pathlib
    >>> log = pathlib.Path(tempfile.mkdtemp()) / "genomes.jsonl"
    >>> _ = log.write_text("".join(json.dumps({"id": i, "fitness": f}) + "\\n" for i, f in enumerate([3.0, 1.0, 2.0])))
    >>> ax = plot_fitness(log)
    >>> ax.get_lines()[0].get_ydata().tolist(), ax.get_lines()[1].get_label()
    ([3.0, 1.0, 1.0], 'median of the last 1 genomes')
    """
    if hasattr(history_or_log, "history") and not isinstance(history_or_log, (str, bytes, os.PathLike)):
        history_or_log = history_or_log.history
    if isinstance(history_or_log, (str, bytes, os.PathLike)):
        records = read_log(history_or_log)
        if window is None:
            window = min(MEDIAN_WINDOW, max(1, len(records) // 10))
        window = integer(window, "window", 1)
        x, best, median = _series_of_log(records, window)
        labels = ("best so far", f"median of the last {window} genomes")
        where = f"the log {os.fsdecode(history_or_log)}"
    elif isinstance(history_or_log, (list, tuple)):
        x, best, median = _series_of_history(history_or_log)
        labels = ("best", "median of the islands")
        where = "the history"
    else:
        raise ConfigError("plot_fitness takes an EvolutionResult, its history (a list of dicts) or the path of a "
                          f"genomes.jsonl log, got {type(history_or_log).__name__}")
    values = [v for v in best + median if v is not None]
    if not values:
        raise DataError(f"nothing to plot: {where} holds no genome that trained")
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        raise DataError(f"{where} holds a fitness that is not a finite number")

    if ax is None:
        if path is not None:  # no pyplot: no window, no global figure to close
            from matplotlib.figure import Figure

            ax = Figure(figsize=(6, 3.5)).subplots()
        else:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(6, 3.5))
    elif not hasattr(ax, "plot") or not hasattr(ax, "figure"):
        raise ConfigError(f"ax must be matplotlib Axes, got {type(ax).__name__}")
    nan = float("nan")  # a gap until the first genome trains
    ax.plot(x, [nan if v is None else v for v in best], label=labels[0], drawstyle="steps-post")
    ax.plot(x, [nan if v is None else v for v in median], label=labels[1])
    if min(values) > 0:
        ax.set_yscale("log")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel("genomes evaluated")
    ax.set_ylabel("fitness (validation loss)")
    ax.legend()
    if path is not None:
        _save(ax.figure, path_of(path, "plot file"))
    return ax


def _save(fig: Any, path: Path) -> None:
    """The figure in the format its suffix names (PNG without one), written
    atomically."""
    import io

    from ..io import write_atomic

    kind = path.suffix[1:].lower() or "png"
    formats = fig.canvas.get_supported_filetypes()
    if kind not in formats:
        raise ConfigError(f"cannot save a plot as {path}: matplotlib writes {', '.join(sorted(formats))}")
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format=kind)
    write_atomic(path, buffer.getvalue())


def _kinds(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())


def summary(result: Any) -> str:
    """A few lines on an :class:`~nervenet.evolution.EvolutionResult`: the
    budget and time, the best genome's fitness, its test loss and its
    structure (what ``nervenet evolve`` prints at the end)."""
    from .run import EvolutionResult

    if not isinstance(result, EvolutionResult):
        raise ConfigError(f"summary takes an EvolutionResult, got {type(result).__name__}")
    cfg, best = result.config, result.best
    loss = cfg.loss
    if best.operator == "seed":
        origin = "the seed genome"
    elif best.parents:
        origin = (f"{best.operator.replace('_', ' ')} of genome{'s' if len(best.parents) > 1 else ''} "
                  + " and ".join(str(p) for p in best.parents))
    else:  # a mutation of the seed while its island filled
        origin = f"{best.operator.replace('_', ' ')} of the seed genome"
    nodes = best.counts.get("nodes", {})
    edges = best.counts.get("edges", {})
    hidden = sum(nodes.values())
    enabled = {kind: n for kind, n in edges.items() if kind != "disabled"}
    n_edges, disabled = sum(enabled.values()), edges.get("disabled", 0)
    params = result.network().n_params
    lines = [
        f"genomes: {result.genomes} ({cfg.islands} islands of {cfg.island_size}, {cfg.epochs} epoch"
        f"{'' if cfg.epochs == 1 else 's'} each) in {result.seconds:.1f}s",
        f"best: genome {best.id} ({origin}), validation {loss} {best.fitness:.6g} (fitness, epoch {best.best_epoch + 1})",
        f"test {loss}: {result.test_loss:.6g}" if result.test_loss is not None else
        "test: none (no test split; the validation loss chose the genome, so it is optimistic)",
        *([f"after {cfg.final_epochs} more epoch{'' if cfg.final_epochs == 1 else 's'} of training: validation "
           f"{loss} {result.final.fitness:.6g}"
           + (f", test {loss} {result.final_test_loss:.6g}" if result.final_test_loss is not None else "")]
          if result.final is not None else []),
        f"best genome: {hidden} hidden node{'' if hidden == 1 else 's'}" + (f" ({_kinds(nodes)})" if nodes else "")
        + f", {n_edges} edge{'' if n_edges == 1 else 's'}" + (f" ({_kinds(enabled)})" if enabled else "")
        + (f" and {disabled} disabled" if disabled else "") + f", {params} parameters",
    ]
    return "\n".join(lines)
