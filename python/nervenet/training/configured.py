"""One training run of a checked TOML config (:class:`nervenet.config.Config`):
load its data, build its network, fit, evaluate on the test split.

``nervenet train`` runs this and then prints and saves; repeated trials and
hyperparameter searches (:mod:`nervenet.experiments`) run it and keep the
metrics, :meth:`ConfiguredRun.metrics`, as a flat dict:

>>> from nervenet.config import parse_config, DEFAULT_CONFIG
>>> cfg = parse_config(DEFAULT_CONFIG); cfg.training["epochs"] = 1
>>> sorted(run_config(cfg).metrics())
['accuracy', 'epochs', 'loss', 'test_accuracy', 'test_loss', 'val_accuracy', 'val_loss']
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

from .history import History

__all__ = ["ConfiguredRun", "run_config", "SHOWN"]

# the metrics a run reports, each also as val_* (last epoch) and test_* (test split)
SHOWN = ("loss", "accuracy", "mse", "mae")


@dataclass
class ConfiguredRun:
    """A finished run: the config, the trained network, the data splits
    (with the fitted preprocessing), the history, the test metrics (empty
    without test rows), the seconds ``fit`` took and the callbacks it ran
    with."""

    config: Any
    net: Any
    splits: Any
    history: History
    test: dict[str, float]
    seconds: float
    callbacks: list[Any]

    def metrics(self) -> dict[str, float]:
        """The last epoch's training and validation metrics, the test
        metrics as ``test_*`` and the epochs run (early stopping may run
        fewer than configured)."""
        last = self.history.last()
        out = {k: last[k] for prefix in ("", "val_") for k in (prefix + s for s in SHOWN) if k in last}
        out.update({f"test_{k}": v for k, v in self.test.items() if k in SHOWN})
        out["epochs"] = float(len(self.history.epochs))
        return out


def run_config(cfg: Any, out: Union[str, Path, None] = None, *, outside: bool = False,
               callbacks: Sequence[Any] = (), say: Optional[Callable[[str], None]] = None) -> ConfiguredRun:
    """Trains ``cfg`` (checkpoints, if configured, go under ``out``; see
    :meth:`nervenet.config.Config.fit_kwargs`), with ``callbacks`` added to
    the configured ones; ``say`` gets a line on the data and one on the
    network before training."""
    kwargs = cfg.fit_kwargs(out, outside=outside)  # before the data loads: a bad checkpoint path fails fast
    if cfg.training["threads"] is not None:
        from ..threads import set_num_threads

        set_num_threads(cfg.training["threads"])
    splits = cfg.load_data()
    (X, y), val, (Xt, yt) = splits.train, splits.validation, splits.test
    n_outputs = splits.preprocessor.n_classes if cfg.classify else y.shape[1]
    net = cfg.build_network(X.shape[1], n_outputs)
    if say is not None:
        say(f"data: {len(X)} training, {0 if val is None else len(val[0])} validation, {len(Xt)} test samples; "
            f"{X.shape[1]} features" + (f", {n_outputs} classes" if cfg.classify else ""))
        say(_describe(cfg, net))
    if cfg.callbacks["checkpoint"] is not None:  # the checkpoints' folder (a sub-folder of out, if the path names one)
        folder = Path(out or ".")
        where = (folder / cfg.callbacks["checkpoint"]["path"]).parent
        (folder if "{" in str(where) else where).mkdir(parents=True, exist_ok=True)
    kwargs["callbacks"] = [*kwargs["callbacks"], *callbacks]
    started = time.perf_counter()
    history = net.fit(X, y, validation=val, verbose=0, **kwargs)
    seconds = time.perf_counter() - started
    test = net.evaluate(Xt, yt, cfg.loss["name"]) if len(Xt) else {}
    return ConfiguredRun(cfg, net, splits, history, test, seconds, kwargs["callbacks"])


def _describe(cfg: Any, net: Any) -> str:
    n = cfg.network
    if n["graph"] is not None:
        shape = f"graph {n['graph']}"
    elif n.get("architecture") is not None:
        shape = f"nv.cnn {n['architecture']}"
    else:
        hidden = n["layers"][1:-1] if n["layers"] is not None else n["hidden"]
        shape = "-".join(str(s) for s in [net.n_inputs, *hidden, net.n_outputs]) + f" MLP ({n['activation']})"
    opt = cfg.optimizer
    return (f"network: {shape}, {net.n_params} parameters, {n['dtype']}; loss {cfg.loss['name']}; "
            f"optimizer {opt['name']} (lr {opt['lr']:g})")
