"""The fit loop: one Rust call per epoch (the GIL released, no per-batch
Python), then validation, metrics, the History and callbacks in Python."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable, Optional, Sequence

import numpy as np

from .. import engine
from ..errors import ConfigError, ShapeError
from .callbacks import Callback, ProgressBar
from .history import History
from .optim import MomentumAnnealing, Optimizer, Schedule, optimizer_config

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
    checkpoint stores); the trainer checks every value, naming its key."""
    opt, lr = optimizer_config(optimizer)
    if schedule is not None and not isinstance(schedule, Schedule):
        raise ConfigError(f"schedule must be an nv.optim schedule (StepDecay, ExponentialDecay, ...), got {schedule!r}")
    config = {
        "loss": loss,
        "reduction": reduction,
        "batch_size": batch_size,
        "shuffle": bool(shuffle),
        "seed": int(seed),
        "optimizer": opt,
        "learning_rate": lr,
        "schedule": None if schedule is None else schedule.config(),
        "momentum_annealing": None if momentum_annealing is None else momentum_annealing.config(),
        "safeguards": {
            "clip_deltas": None if clip_deltas is None else [float(clip_deltas[0]), float(clip_deltas[1])],
            "gradient_scale": gradient_scale,
            "gradient_boost": gradient_boost,
            "weight_cap": None if weight_cap is None else [float(weight_cap[0]), float(weight_cap[1])],
            "l1": float(l1),
            "l2": float(l2),
            "dropout": float(dropout),
        },
        "non_finite": on_non_finite,
    }
    if truncate is not None:  # absent otherwise, so earlier checkpoints still match
        config["truncate"] = truncate
    return json.loads(json.dumps(config, default=_json_scalar))  # plain values, as a checkpoint reads them back


def _json_scalar(value: Any) -> Any:
    """NumPy scalars as Python numbers; anything else is not a setting."""
    if isinstance(value, np.generic):
        return value.item()
    raise ConfigError(f"training settings are numbers, strings and lists; got {value!r} ({type(value).__name__})")


def evaluate(net: "Network", X: Any, Y: Any, loss: str, mask: Any = None) -> dict[str, float]:
    """Loss per counted sample (and step), and accuracy (class targets) or
    mse and mae (value targets)."""
    metrics = engine.evaluate(net, engine.prepare(net, X, Y, loss, mask))
    return {k: v for k, v in metrics.items() if v is not None}


def fit(
    net: "Network",
    X: Any,
    Y: Any,
    *,
    loss: str,
    epochs: int,
    validation: Optional[Sequence[Any]],
    callbacks: Iterable[Callback],
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
    mask for that epoch)."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ConfigError(f"epochs must be an integer >= 0, got {epochs!r}")
    callbacks = list(callbacks)
    if verbose and not any(isinstance(c, ProgressBar) for c in callbacks):
        callbacks.append(ProgressBar())
    for c in callbacks:
        if not isinstance(c, Callback):
            raise ConfigError(f"callbacks must be nv.callbacks.Callback instances, got {c!r}")
    trainer = engine.trainer(net, config)
    prepared = engine.prepare(net, X, Y, loss, mask)  # normalised once for every epoch
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
    for epoch in range(start, epochs):
        for c in callbacks:
            c.on_epoch_begin(epoch, {})
        if sampler is None:
            report = engine.epoch(net, trainer, prepared, reduction, epoch, on_batch)
        else:
            rows = prepared.rows(_sampled(sampler, epoch, prepared.batch.batch))
            report = engine.epoch(net, trainer, rows, reduction, epoch, on_batch, origin=prepared)
        logs = {k: report[k] for k in ("loss", "learning_rate", "gradient_norm", "update_ratio")}
        for key in ("accuracy", "mse", "mae"):  # accumulated over the epoch's batches
            if report.get(key) is not None:
                logs[key] = report[key]
        if report["rollbacks"]:
            logs["rollbacks"] = report["rollbacks"]
        if validation is not None:
            Xv, Yv = validation[0], validation[1]
            mv = validation[2] if len(validation) > 2 else None
            for key, value in evaluate(net, Xv, Yv, loss, mv).items():
                if value is not None and key != "count":
                    logs[f"val_{key}"] = value
        history.record(epoch, logs)
        for c in callbacks:
            c.on_epoch_end(epoch, logs)
        if any(c.stop_training for c in callbacks):
            break
    for c in callbacks:
        c.on_train_end(logs)
    return history


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
