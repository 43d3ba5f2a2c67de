"""The fit loop: one Rust call per epoch (the GIL released, no per-batch
Python), then validation, metrics, the History and callbacks in Python."""

from __future__ import annotations

import math
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Optional, Sequence

import numpy as np

from .. import engine
from .._checks import flag, integer, number, seed as seed_of
from ..errors import ConfigError, DataError, NervenetError, ShapeError
from .callbacks import Callback, EarlyStopping, ProgressBar
from .history import History
from .optim import MomentumAnnealing, Optimizer, Schedule, optimizer_config, schedule_config

if TYPE_CHECKING:
    from ..network import Network

__all__ = ["fit", "evaluate"]


def train_config(
    loss: str,
    reduction: str,
    batch_size: int,
    shuffle: bool,
    seed: int,
    optimizer: Optional[Optimizer],
    schedule: Optional[Schedule],
    momentum_annealing: Optional[MomentumAnnealing],
    clip_deltas: Optional[tuple[float, float]],
    gradient_scale: Optional[float],
    gradient_boost: Optional[float],
    weight_cap: Optional[tuple[float, float]],
    l1: float,
    l2: float,
    dropout: float,
    on_non_finite: str,
    truncate: Optional[int] = None,
) -> dict[str, Any]:
    """The JSON training configuration the Rust trainer reads (and a
    checkpoint stores). Types are checked here and every number must be
    finite (JSON has no NaN), each error naming its key; the trainer checks
    the values' ranges, naming the key too."""
    opt, lr = optimizer_config(optimizer)
    if momentum_annealing is not None and not isinstance(momentum_annealing, MomentumAnnealing):
        raise ConfigError(f"momentum_annealing must be an nv.optim.MomentumAnnealing, got {momentum_annealing!r}")
    config = {
        "loss": _name(loss, "loss", "'mse', 'softmax', ..."),
        "reduction": _name(reduction, "reduction", "'mean' or 'sum'"),
        "batch_size": integer(batch_size, "batch_size"),
        "shuffle": flag(shuffle, "shuffle"),
        "seed": seed_of(seed),
        "optimizer": opt,
        "learning_rate": lr,
        "schedule": schedule_config(schedule),
        "momentum_annealing": None if momentum_annealing is None else momentum_annealing.config(),
        "safeguards": {
            "clip_deltas": _pair(clip_deltas, "clip_deltas", "(output, hidden)"),
            "gradient_scale": _optional(gradient_scale, "safeguards.gradient_scale"),
            "gradient_boost": _optional(gradient_boost, "safeguards.gradient_boost"),
            "weight_cap": _pair(weight_cap, "weight_cap", "(threshold, scale)"),
            "l1": number(l1, "safeguards.l1"),
            "l2": number(l2, "safeguards.l2"),
            "dropout": number(dropout, "safeguards.dropout"),
        },
        "non_finite": _name(on_non_finite, "on_non_finite", "'fail' or 'rollback'"),
    }
    if truncate is not None:  # absent otherwise, so earlier checkpoints still match
        config["truncate"] = integer(truncate, "truncate", 1)
    return _settings(config, "")


def _name(value: Any, name: str, examples: str) -> str:
    """A setting given by name (the trainer checks the name itself)."""
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a name ({examples}), got {value!r}")
    return value


def _optional(value: Any, key: str) -> Optional[float]:
    return None if value is None else number(value, key)


def _pair(value: Any, name: str, meaning: str) -> Optional[list[float]]:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)) or len(value) != 2:
        raise ConfigError(f"{name} must be a pair {meaning} of numbers, got {value!r}")
    return [number(value[0], f"safeguards.{name}[0]"), number(value[1], f"safeguards.{name}[1]")]


def _settings(value: Any, key: str) -> Any:
    """``value`` as plain JSON values (numpy scalars as Python numbers,
    tuples as lists), refusing what JSON cannot carry: NaN and infinities
    (Python's json would write them, and the trainer could only say where
    its parser stopped) and objects that are not settings. Errors name the
    dotted key, as the trainer's do (``safeguards.l2``, ``optimizer.beta1``)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, dict):
        return {k: _settings(v, f"{key}.{k}" if key else k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_settings(v, f"{key}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{key} must be a finite number, got {value!r}")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ConfigError(f"{key} must be a number or a name, got {value!r} ({type(value).__name__})")


def evaluate(net: "Network", X: Any, Y: Any, loss: str, mask: Any = None) -> dict[str, float]:
    """Loss per counted sample (and step), and accuracy (class targets) or
    mse and mae (value targets)."""
    return _metrics(net, engine.prepare(net, X, Y, loss, mask))


def _metrics(net: "Network", prepared: engine.Prepared) -> dict[str, float]:
    """:func:`evaluate` on prepared arrays; nothing to count is an error,
    not a loss of 0."""
    _some_samples(prepared)
    metrics = engine.evaluate(net, prepared)
    if not metrics["count"]:
        raise DataError("there is nothing to evaluate: the mask is 0 for every sample and step")
    return {k: v for k, v in metrics.items() if v is not None}


def _some_samples(prepared: engine.Prepared) -> engine.Prepared:
    if prepared.batch.batch == 0:
        raise ShapeError(f"there is nothing to evaluate: X has shape {tuple(prepared.batch.user.shape)}, no samples")
    return prepared


def fit(
    net: "Network",
    X: Any,
    Y: Any,
    *,
    loss: str,
    epochs: int,
    validation: Optional[Sequence[Any]],
    callbacks: Any,
    verbose: int,
    mask: Any,
    config: dict[str, Any],
    resume: Any = None,
    sampler: Any = None,
) -> History:
    """``epochs`` counts from the start of the run: resuming from a
    checkpoint that finished epoch k runs epochs k..epochs-1, and the
    History returned covers all of them. With a ``sampler`` each epoch
    trains on the rows ``sampler.indices(epoch)`` (copied out of X, Y and
    mask for that epoch).

    Ctrl-C (KeyboardInterrupt) stops training with the network holding the
    weights of the last epoch that finished (an interrupted epoch is
    undone), says so on stderr, and is raised again."""
    epochs = integer(epochs, "epochs")
    verbose = _verbosity(verbose)
    callbacks = _callbacks(callbacks)
    if verbose and not any(isinstance(c, ProgressBar) for c in callbacks):
        callbacks.append(ProgressBar(verbose=verbose))
    trainer = engine.trainer(net, config)
    prepared = engine.prepare(net, X, Y, loss, mask)  # normalised once for every epoch
    if config.get("truncate") is not None and not prepared.batch.sequences:
        raise ConfigError(
            f"truncate={config['truncate']} cuts sequences into windows of steps, but X has shape "
            f"{tuple(prepared.batch.user.shape)}: truncated BPTT needs sequences (batch, time, features)"
        )
    checked = None if validation is None else _validation(net, validation, loss)
    if sampler is not None:
        _check_sampler(sampler, prepared.batch.batch)
    start, history = 0, History()
    if resume is not None:
        from .checkpoint import resume as load_state

        start, history = load_state(net, trainer, config, resume)
    for c in callbacks:
        c.network, c.trainer, c.config, c.history = net, trainer, config, history
        c.stop_training = False
    logs: dict[str, Any] = {"epochs": epochs, "initial_epoch": start}
    for c in callbacks:
        c.on_train_begin(logs)
    reduction = config["reduction"]
    on_batch = _batch_dispatch(callbacks)
    finished = start  # epochs whose updates the network holds
    try:
        for epoch in range(start, epochs):
            rows = prepared if sampler is None else prepared.rows(_sampled(sampler, epoch, prepared.batch.batch))
            size = {"batches": batches_per_epoch(rows.batch, config)}
            for c in callbacks:
                c.on_epoch_begin(epoch, size)
            origin = None if sampler is None else prepared
            report = engine.epoch(net, trainer, rows, reduction, epoch, on_batch, origin=origin)
            finished = epoch + 1  # an exception inside the epoch leaves its start weights
            logs = {k: report[k] for k in ("loss", "learning_rate", "gradient_norm", "update_ratio")}
            for key in ("accuracy", "mse", "mae"):  # accumulated over the epoch's batches
                if report.get(key) is not None:
                    logs[key] = report[key]
            if report["rollbacks"]:
                logs["rollbacks"] = report["rollbacks"]
            if checked is not None:
                with _about("validation"):
                    metrics = _metrics(net, checked)
                logs.update((f"val_{k}", v) for k, v in metrics.items() if k != "count")
            history.record(epoch, logs)
            for c in callbacks:
                c.on_epoch_end(epoch, logs)
            if any(c.stop_training for c in callbacks):
                break
    except KeyboardInterrupt:
        kept = f"the weights after epoch {finished}" if finished else "its weights from before training"
        _say(callbacks, f"training interrupted (Ctrl-C); the network keeps {kept}")
        for c in callbacks:
            if isinstance(c, ProgressBar):
                c.close()
        raise
    for c in callbacks:
        c.on_train_end(logs)
    if verbose:
        for c in callbacks:
            if isinstance(c, EarlyStopping) and c.report is not None:
                _say(callbacks, c.report)
    return history


def batches_per_epoch(batch: Any, config: dict[str, Any]) -> int:
    """The trainer's steps in one epoch over ``batch``: batches (the
    remainder one included) times truncation windows."""
    n, size = batch.batch, config["batch_size"] or batch.batch
    windows = 1 if config.get("truncate") is None else -(-batch.steps // config["truncate"])
    return -(-n // max(size, 1)) * max(windows, 1)


def _verbosity(verbose: Any) -> int:
    level = int(verbose) if isinstance(verbose, (bool, np.bool_)) else integer(verbose, "verbose")
    if level > 2:
        raise ConfigError(
            f"verbose must be 0 (silent), 1 (a line per epoch) or 2 (and gradient statistics), got {level}"
        )
    return level


def _callbacks(callbacks: Any) -> list[Callback]:
    """``callbacks`` as a list: None means none, a lone Callback is one."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    if isinstance(callbacks, np.ndarray):  # listing a broadcast view could fill memory; arrays hold no callbacks
        raise ConfigError(f"callbacks must be a list of nv.callbacks.Callback instances, got an array of shape {callbacks.shape}")
    try:
        listed = list(callbacks)
    except TypeError:
        raise ConfigError(f"callbacks must be a list of nv.callbacks.Callback instances, got {callbacks!r}") from None
    for c in listed:
        if not isinstance(c, Callback):
            raise ConfigError(f"callbacks must be nv.callbacks.Callback instances, got {c!r}")
    return listed


def _validation(net: "Network", validation: Any, loss: str) -> engine.Prepared:
    """``validation=(X, Y)`` or ``(X, Y, mask)``, checked and prepared once."""
    if isinstance(validation, (str, bytes)) or not isinstance(validation, Sequence) or len(validation) not in (2, 3):
        got = type(validation).__name__
        if isinstance(validation, (tuple, list)):
            got += f" of {len(validation)} item{'' if len(validation) == 1 else 's'}"
        raise ConfigError(f"validation must be a tuple (X, Y) or (X, Y, mask), got {got}")
    with _about("validation"):
        return _some_samples(engine.prepare(net, *validation[:2], loss, validation[2] if len(validation) == 3 else None))


@contextmanager
def _about(what: str) -> Iterator[None]:
    """Prefixes a nervenet error's message with ``what`` it was about (the
    validation arrays, which the messages otherwise call X and Y too)."""
    try:
        yield
    except NervenetError as e:
        e.args = (f"{what}: {e}",)  # the same class
        raise


def _say(callbacks: list[Callback], line: str) -> None:
    """A line for the person watching: through the progress bar if there is
    one (so bars stay intact), else to stderr."""
    bar = next((c for c in callbacks if isinstance(c, ProgressBar)), None)
    if bar is not None:
        bar.say(line)
    else:
        print(line, file=sys.stderr, flush=True)


def _check_sampler(sampler: Any, n: int) -> None:
    if not callable(getattr(sampler, "indices", None)):
        raise ConfigError(
            f"sampler must have an indices(epoch) method (nv.data.UpSampler, nv.data.DownSampler), got {sampler!r}"
        )
    size = getattr(sampler, "n_samples", None)
    if isinstance(size, int) and size != n:
        raise ShapeError(f"the sampler was built for {size} labels but X has {n} samples")


def _sampled(sampler: Any, epoch: int, n: int) -> np.ndarray:
    """The rows ``sampler.indices(epoch)`` trains on, checked against ``n`` samples."""
    idx = np.asarray(sampler.indices(epoch))
    if idx.ndim != 1 or idx.dtype.kind not in "iu" or idx.shape[0] == 0:
        raise ConfigError(
            f"sampler.indices({epoch}) must return a non-empty 1-D integer array, got dtype {idx.dtype} "
            f"and shape {tuple(idx.shape)}"
        )
    bad = (idx < 0) | (idx >= n)
    if bad.any():
        raise ConfigError(f"sampler.indices({epoch}) returned index {int(idx[bad][0])} but X has {n} samples")
    return idx


def _batch_dispatch(callbacks: list[Callback]) -> Any:
    """The per-batch hook for the Rust trainer, or None (no Python runs
    between batches) when no callback wants batch events."""
    wanting = [c for c in callbacks if c.wants_batches]
    if not wanting:
        return None

    def on_batch(batch: int, size: int, end: bool, loss: float, gradient_norm: float) -> None:
        for c in wanting:
            if end:
                c.on_batch_end(batch, {"size": size, "loss": loss, "gradient_norm": gradient_norm})
            else:
                c.on_batch_begin(batch, {"size": size})

    return on_batch
