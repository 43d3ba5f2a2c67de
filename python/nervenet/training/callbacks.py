"""Callbacks: hooks the fit loop calls at the start and end of training,
of each epoch and (only if a callback asks for them) of each batch."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

from .._checks import integer
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
    ``patience`` epochs; optionally restores the best weights."""

    def __init__(
        self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0, mode: str = "auto",
        restore_best: bool = True,
    ) -> None:
        if mode not in ("auto", "min", "max"):
            raise ConfigError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if patience < 0:
            raise ConfigError(f"patience must be >= 0, got {patience}")
        self.monitor, self.patience, self.min_delta, self.restore_best = monitor, patience, min_delta, restore_best
        self.maximise = mode == "max" or (mode == "auto" and "accuracy" in monitor)
        self.best = -math.inf if self.maximise else math.inf
        self.best_epoch = -1
        self.best_weights: Any = None
        self.waited = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
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
            if self.waited > self.patience:
                self.stop_training = True

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.restore_best and self.best_weights is not None and self.network is not None:
            self.network.parameters = self.best_weights


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
        if mode not in ("auto", "min", "max"):
            raise ConfigError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        from .checkpoint import check_template

        self.path = check_template(os.fspath(path))
        self.every, self.save_best_only, self.monitor = every, bool(save_best_only), monitor
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

        self.monitor = monitor
        self.rule = _core.ReduceOnPlateau(float(factor), int(patience), float(min_delta), float(min_lr))

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
    """A tqdm bar over the epochs and one line per finished epoch with its
    loss and metrics; quiet when the output is not a terminal unless
    ``force`` (``fit(verbose=0)`` adds no bar at all)."""

    def __init__(self, force: bool = False, file: Any = None) -> None:
        self.force = force
        self.file = file
        self.bar: Any = None

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        out = self.file or sys.stderr
        if not (self.force or out.isatty()):
            return
        from tqdm import tqdm

        self.bar = tqdm(total=logs.get("epochs"), initial=logs.get("initial_epoch", 0), unit="epoch", file=out)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.bar is not None:
            shown = "  ".join(f"{k} {v:.4g}" for k, v in logs.items() if isinstance(v, float))
            self.bar.write(f"epoch {epoch + 1}: {shown}", file=self.file or sys.stderr)
            self.bar.update(1)

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.bar is not None:
            self.bar.close()
