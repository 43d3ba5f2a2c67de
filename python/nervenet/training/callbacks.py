"""Callbacks: hooks the fit loop calls at the start and end of training,
of each epoch and (only if a callback asks for them) of each batch."""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Any, Optional

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..network import Network

__all__ = ["Callback", "EarlyStopping", "ProgressBar"]


class Callback:
    """Override any hook. Setting ``wants_batches = True`` makes the fit loop
    run batch by batch (from Python) so ``on_batch_*`` are called."""

    wants_batches = False
    network: Optional["Network"] = None
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


class ProgressBar(Callback):
    """One line per epoch with loss and metrics (tqdm); quiet when the output
    is not a terminal unless ``force``."""

    def __init__(self, force: bool = False) -> None:
        self.force = force
        self.bar: Any = None

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        if not (self.force or sys.stderr.isatty()):
            return
        from tqdm import tqdm

        self.bar = tqdm(total=logs.get("epochs"), unit="epoch", file=sys.stderr)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.bar is not None:
            shown = {k: f"{v:.4g}" for k, v in logs.items() if isinstance(v, float)}
            self.bar.set_postfix(shown, refresh=False)
            self.bar.update(1)

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.bar is not None:
            self.bar.close()
