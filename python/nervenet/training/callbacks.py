"""Callbacks: hooks the fit loop calls at the start and end of training,
of each epoch and (only if a callback asks for them) of each batch."""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

from .._checks import flag, integer, number, path_of, real, text
from ..errors import ConfigError

if TYPE_CHECKING:
    from ..network import Network
    from .history import History

__all__ = ["Callback", "EarlyStopping", "LearningRateScheduler", "ModelCheckpoint", "ProgressBar", "ReduceLROnPlateau"]


class Callback:
    """Override any hook. Epochs run whole in Rust; setting
    ``wants_batches = True`` makes the epoch call back into Python before and
    after every batch so ``on_batch_begin`` / ``on_batch_end`` are called.

    Before training, fit sets ``network``, ``trainer`` (the optimiser state,
    a ``_core.Trainer``), ``config`` (the training configuration) and
    ``history`` (the run's History, filled in as epochs end)."""

    wants_batches = False
    network: Optional["Network"] = None
    trainer: Any = None
    config: Optional[dict[str, Any]] = None
    history: Optional["History"] = None
    stop_training = False

    def on_train_begin(self, logs: dict[str, Any]) -> None: ...
    def on_train_end(self, logs: dict[str, Any]) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None: ...
    def on_batch_begin(self, batch: int, logs: dict[str, Any]) -> None: ...
    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None: ...


class EarlyStopping(Callback):
    """Stops when ``monitor`` has not improved by more than ``min_delta`` for
    ``patience`` epochs in a row: the run ends ``patience`` epochs after its
    best one (``patience=0``: at the first epoch without improvement).
    ``restore_best`` puts the best epoch's weights back at the end.

    After training, ``stopped_epoch`` is the epoch it stopped after (None if
    it did not stop the run), ``best_epoch`` the best one (both counted from
    0), and :attr:`report` says what happened in words.

    >>> stop = EarlyStopping(monitor="loss", patience=1)
    >>> for epoch, loss in enumerate([3.0, 2.0, 2.5]):
    ...     stop.on_epoch_end(epoch, {"loss": loss})
    >>> stop.stop_training, stop.stopped_epoch
    (True, 2)
    """

    def __init__(
        self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0, mode: str = "auto",
        restore_best: bool = True,
    ) -> None:
        if text(mode, "mode") not in ("auto", "min", "max"):
            raise ConfigError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        patience = integer(patience, "patience")
        monitor, min_delta, restore_best = text(monitor, "monitor"), real(min_delta, "min_delta"), flag(restore_best, "restore_best")
        self.monitor, self.patience, self.min_delta, self.restore_best = monitor, patience, min_delta, restore_best
        self.maximise = mode == "max" or (mode == "auto" and "accuracy" in monitor)
        self.on_train_begin({})

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.best = -math.inf if self.maximise else math.inf
        self.best_epoch = self.last_epoch = -1
        self.best_weights: Any = None
        self.waited = 0
        self.stopped_epoch: Optional[int] = None
        self.restored = False  # whether the weights went back to an earlier epoch's

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.last_epoch = epoch
        if self.monitor not in logs:
            raise ConfigError(f"EarlyStopping monitors {self.monitor!r}, which fit does not record; it has {sorted(logs)}")
        value = logs[self.monitor]
        better = value > self.best + self.min_delta if self.maximise else value < self.best - self.min_delta
        if better:
            self.best, self.best_epoch, self.waited = value, epoch, 0
            if self.restore_best and self.network is not None:
                self.best_weights = self.network.parameters
        else:
            self.waited += 1
            if self.waited >= self.patience:
                self.stop_training = True
                self.stopped_epoch = epoch

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.restore_best and self.best_weights is not None and self.network is not None:
            self.network.parameters = self.best_weights
            self.restored = self.best_epoch != self.last_epoch

    @property
    def report(self) -> Optional[str]:
        """What early stopping did, for a person (epochs counted from 1), or
        None if it did not stop the run and restored nothing."""
        if self.stopped_epoch is None and not self.restored:
            return None
        said = []
        if self.stopped_epoch is not None:
            said.append(
                f"early stopping: {self.monitor} did not improve for {self.waited} epoch"
                f"{'' if self.waited == 1 else 's'}; stopped after epoch {self.stopped_epoch + 1}"
            )
        if self.restored:
            said.append(f"restored the weights of epoch {self.best_epoch + 1} ({self.monitor} {self.best:.4g})")
        return "; ".join(said) if self.stopped_epoch is not None else "early stopping: " + said[0]


class ModelCheckpoint(Callback):
    """Writes a checkpoint at the end of every ``every``-th epoch: parameters,
    optimiser state, History, training configuration and the next epoch,
    in one safetensors file written atomically (temp file + rename).
    ``net.fit(..., resume=path)`` continues from it bit for bit, and
    ``nv.Network.load(path)`` reads the network alone.

    With ``save_best_only`` a checkpoint is written only when ``monitor``
    improved on the best value so far (``mode`` as in EarlyStopping; on
    resume the best is taken from the restored History). ``path`` may hold
    format fields: ``{epoch}`` (epochs finished, from 1) and the logged
    quantities (``loss``, ``accuracy``, ``mse``, ``mae``, their ``val_``
    versions, ``learning_rate``, ``gradient_norm``, ``update_ratio``,
    ``rollbacks``), each with a plain format spec, e.g.
    ``"run-{epoch:03d}-{val_loss:.3f}.safetensors"``; anything else in
    braces is a ConfigError naming the template. ``saved`` lists the files
    written.
    """

    def __init__(
        self,
        path: Union[str, "os.PathLike[str]"],
        *,
        every: int = 1,
        save_best_only: bool = False,
        monitor: str = "val_loss",
        mode: str = "auto",
    ) -> None:
        every = integer(every, "every", 1)
        monitor = text(monitor, "monitor")
        if text(mode, "mode") not in ("auto", "min", "max"):
            raise ConfigError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        from .checkpoint import check_template

        self.path = check_template(str(path_of(path, "checkpoint path")))
        self.every, self.save_best_only, self.monitor = every, flag(save_best_only, "save_best_only"), monitor
        self.maximise = mode == "max" or (mode == "auto" and "accuracy" in monitor)
        self.best = -math.inf if self.maximise else math.inf
        self.saved: list[Path] = []

    def _better(self, value: float) -> bool:
        return value > self.best if self.maximise else value < self.best

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.best = -math.inf if self.maximise else math.inf
        if self.save_best_only and self.history is not None and self.monitor in self.history:
            for value in self.history[self.monitor]:  # resumed: the best so far
                if self._better(value):
                    self.best = value

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if (epoch + 1) % self.every:
            return
        if self.save_best_only:
            if self.monitor not in logs:
                raise ConfigError(
                    f"ModelCheckpoint monitors {self.monitor!r}, which fit does not record; it has {sorted(logs)}"
                )
            if not self._better(logs[self.monitor]):
                return
            self.best = logs[self.monitor]
        if self.network is None:
            raise ConfigError("ModelCheckpoint has no network: use it in the callbacks of Network.fit")
        try:
            path = self.path.format(epoch=epoch + 1, **logs) if "{" in self.path else self.path
        except (KeyError, IndexError, ValueError) as e:
            raise ConfigError(
                f"ModelCheckpoint path {self.path!r} has a field fit cannot fill ({e!r}); "
                f"it can use 'epoch' and {sorted(logs)}"
            ) from None
        if self.trainer is not None and self.config is not None:
            from .checkpoint import save_checkpoint

            written = save_checkpoint(path, self.network, trainer=self.trainer, config=self.config,
                                      epoch=epoch + 1, history=self.history)
        else:  # called outside fit: the network alone
            from ..io import save_network

            written = save_network(self.network, path, history=self.history)
        self.saved.append(written)


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by ``factor`` when ``monitor`` has not
    improved by more than ``min_delta`` for ``patience`` epochs (never below
    ``min_lr``). Accuracies are maximised, everything else minimised. The
    rule itself runs in the core (``nervenet_core::ReduceOnPlateau``)."""

    def __init__(
        self, monitor: str = "val_loss", factor: float = 0.5, patience: int = 3, min_delta: float = 0.0,
        min_lr: float = 0.0,
    ) -> None:
        from .. import _core

        self.monitor = text(monitor, "monitor")
        self.rule = _core.ReduceOnPlateau(
            number(factor, "factor"), integer(patience, "patience", 0, bits=32), number(min_delta, "min_delta"),
            number(min_lr, "min_lr"),
        )

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.monitor not in logs:
            raise ConfigError(f"ReduceLROnPlateau monitors {self.monitor!r}, which fit does not record; it has {sorted(logs)}")
        value = logs[self.monitor]
        metric = -value if "accuracy" in self.monitor else value
        lr = logs["learning_rate"]
        new = self.rule.observe(metric, lr)
        if new != lr and self.trainer is not None:
            self.trainer.scale_learning_rate(new / lr)


class LearningRateScheduler(Callback):
    """Sets each epoch's learning rate to ``schedule(epoch)`` (any Python
    function of the epoch number, counted from 0)."""

    def __init__(self, schedule: Any) -> None:
        if not callable(schedule):
            raise ConfigError(f"LearningRateScheduler needs a function of the epoch, got {schedule!r}")
        self.schedule = schedule

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.trainer is None:
            return
        wanted = float(self.schedule(epoch))
        if not (wanted > 0 and wanted < float("inf")):
            raise ConfigError(f"LearningRateScheduler: schedule({epoch}) = {wanted!r}, not a positive learning rate")
        self.trainer.scale_learning_rate(wanted / self.trainer.learning_rate(epoch))


class ProgressBar(Callback):
    """What ``fit(verbose=1)`` shows: one line per finished epoch (loss,
    metrics, validation metrics and the epoch's seconds), written whether or
    not the output is a terminal, so a log file gets it too; in a terminal
    (or with ``force``) also tqdm bars over the epochs and over the batches
    of the running epoch. ``verbose=2`` adds the learning rate, gradient
    norm and update/weight ratio to each line. ``file`` defaults to stderr.

    The bars only watch: training gives the same results, bit for bit,
    with or without them.

    >>> import io, numpy as np, nervenet as nv
    >>> out = io.StringIO()
    >>> net = nv.Network(nv.mlp([2, 1]))
    >>> _ = net.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0,
    ...             callbacks=[nv.callbacks.ProgressBar(file=out)])
    >>> out.getvalue().startswith("epoch 1/1  loss ")
    True
    """

    def __init__(self, force: bool = False, file: Any = None, verbose: int = 1) -> None:
        self.force = bool(force)
        self.file = file
        self.verbose = integer(verbose, "verbose", 1)
        self.bar: Any = None  # over the epochs
        self.batches: Any = None  # over the running epoch's batches
        self.epochs = 0
        self.started = 0.0

    @property
    def out(self) -> Any:
        return self.file if self.file is not None else sys.stderr

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.epochs = int(logs.get("epochs", 0))
        isatty = getattr(self.out, "isatty", None)
        self.wants_batches = self.force or (callable(isatty) and bool(isatty()))
        if self.wants_batches:
            from tqdm import tqdm

            self.bar = tqdm(total=self.epochs, initial=logs.get("initial_epoch", 0), unit="epoch", file=self.out,
                            position=0, dynamic_ncols=True)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self.started = time.perf_counter()
        if self.bar is not None:
            from tqdm import tqdm

            self.batches = tqdm(total=logs.get("batches"), unit="batch", file=self.out, position=1, leave=False,
                                desc=f"epoch {epoch + 1}", dynamic_ncols=True)

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        if self.batches is not None:
            self.batches.update(1)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        seconds = time.perf_counter() - self.started
        if self.batches is not None:
            self.batches.close()
            self.batches = None
        self.say(epoch_line(epoch, self.epochs, logs, seconds, self.verbose))
        if self.bar is not None:
            self.bar.update(1)

    def on_train_end(self, logs: dict[str, Any]) -> None:
        self.close()

    def say(self, line: str) -> None:
        """Writes ``line`` above the bars (or plainly, without them)."""
        if self.bar is not None:
            self.bar.write(line, file=self.out)
        else:
            print(line, file=self.out, flush=True)

    def close(self) -> None:
        for bar in (self.batches, self.bar):
            if bar is not None:
                bar.close()
        self.batches = self.bar = None


_METRICS = ("loss", "accuracy", "mse", "mae")
_STATISTICS = (("learning_rate", "lr"), ("gradient_norm", "gradient_norm"), ("update_ratio", "update_ratio"))


def epoch_line(epoch: int, epochs: int, logs: dict[str, Any], seconds: float, verbose: int = 1) -> str:
    """``epoch 3/10  loss 0.4127  accuracy 0.875  val_loss 0.5012  13.4ms``:
    the metrics, then (``verbose=2``) the training statistics, then the
    epoch's time to three significant digits (never a bare 0.00s).

    >>> epoch_line(0, 1, {"loss": 0.5, "gradient_norm": 2.0}, 0.000123)
    'epoch 1/1  loss 0.5  0.123ms'
    >>> epoch_line(0, 1, {"loss": 0.5, "gradient_norm": 2.0}, 0.000123, verbose=2)
    'epoch 1/1  loss 0.5  gradient_norm 2  0.123ms'
    """
    width = len(str(epochs))
    parts = [f"epoch {epoch + 1:>{width}}/{epochs}"]
    for prefix in ("", "val_"):
        parts += [f"{prefix}{k} {logs[prefix + k]:.4g}" for k in _METRICS if prefix + k in logs]
    if verbose >= 2:
        parts += [f"{shown} {logs[k]:.3g}" for k, shown in _STATISTICS if k in logs]
    if logs.get("rollbacks"):
        parts.append(f"rollbacks {logs['rollbacks']}")
    parts.append(duration(seconds))
    return "  ".join(parts)


def duration(seconds: float) -> str:
    """``12.34s``, or ``531ms`` / ``0.0531ms`` below a second: three
    significant digits, so a fast epoch does not read 0.00s."""
    return f"{seconds:.2f}s" if seconds >= 1 else f"{seconds * 1e3:.3g}ms"
