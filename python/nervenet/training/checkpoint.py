"""Training checkpoints: a model file (see :mod:`nervenet.io`) that also
holds the optimiser state, the next epoch, the training configuration and
the History, so that ``fit(..., resume=path)`` continues a run bit for bit
(each epoch's shuffle depends only on the seed and the epoch number)."""

from __future__ import annotations

import json
import os
import re
import string
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

from .. import io
from ..errors import ConfigError, FormatError, NervenetError
from .history import History

if TYPE_CHECKING:
    from ..network import Network

__all__ = ["TEMPLATE_FIELDS", "check_template", "save_checkpoint", "load_checkpoint", "resume", "config_difference"]

PathLike = Union[str, "os.PathLike[str]"]

_METRICS = ("loss", "accuracy", "mse", "mae")
# What a checkpoint path may name: the epoch and the quantities fit logs.
TEMPLATE_FIELDS = ("epoch", *_METRICS, *(f"val_{m}" for m in _METRICS), "learning_rate", "gradient_norm",
                   "update_ratio", "rollbacks")
# The format mini-language with a width and precision of at most 3 and 2
# digits, and no path separator as the fill character.
_SPEC = re.compile(r"(?:[^{}/\\]?[<>=^])?[-+ ]?z?#?0?(?:[1-9][0-9]{0,2})?[,_]?(?:\.[0-9]{1,2})?[bdeEfFgGnoxX%]?")


def check_template(path: str) -> str:
    """``path`` if its format fields are plain names from
    :data:`TEMPLATE_FIELDS` with a plain format spec (``{epoch:03d}``,
    ``{val_loss:.3f}``); ConfigError naming the template otherwise. Nothing
    of the template is evaluated: no attributes, indexes or conversions.

    >>> check_template("run-{epoch:03d}-{val_loss:.3f}.safetensors")
    'run-{epoch:03d}-{val_loss:.3f}.safetensors'
    """
    def bad(why: str) -> ConfigError:
        return ConfigError(f"checkpoint path template {path!r}: {why}")

    try:
        parts = list(string.Formatter().parse(path))
    except ValueError as e:
        raise bad(f"{e} (write a literal brace as '{{{{' or '}}}}')") from None
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS:
            raise bad(f"unknown field {{{field}}}; the fields are {', '.join(TEMPLATE_FIELDS)}")
        if conversion is not None:
            raise bad(f"field {{{field}}} has a conversion !{conversion}; use a format spec such as :.3f")
        if not _SPEC.fullmatch(spec or ""):
            raise bad(f"field {{{field}}} has the format spec {spec!r}; use a plain one such as 03d or .3f "
                      "(width at most 3 digits, precision at most 2, no path separator)")
    return path


def save_checkpoint(
    path: PathLike,
    net: "Network",
    *,
    trainer: Any,
    config: dict[str, Any],
    epoch: int,
    history: Optional[History] = None,
) -> Path:
    """Writes ``net``'s parameters and ``trainer``'s state (a
    ``_core.Trainer``) atomically; ``epoch`` is the next epoch to run."""
    state = trainer.state()
    extra = {
        "epoch": str(int(epoch)),
        "step_count": str(int(state["step_count"])),
        "lr_factor": repr(float(state["lr_factor"])),
    }
    return io.save_network(net, path, history=history, training=config, optimizer=state["buffers"], extra=extra)


def load_checkpoint(path: PathLike) -> io.SavedFile:
    """Reads a checkpoint written by ModelCheckpoint (FormatError if the
    file is damaged or is a plain model file)."""
    saved = io.read(path)
    if not saved.is_checkpoint:
        raise saved.error("not a checkpoint: it holds a network but no optimiser state or epoch (save it with ModelCheckpoint)")
    if saved.training is None:
        raise saved.error("not a checkpoint: the metadata lacks the training configuration")
    return saved


def config_difference(saved: Any, current: Any, key: str = "") -> Optional[str]:
    """The first key whose values differ, as ``"key: checkpoint X, this call Y"``; None if equal."""
    if isinstance(saved, dict) and isinstance(current, dict):
        for k in list(saved) + [k for k in current if k not in saved]:
            sub = f"{key}.{k}" if key else str(k)
            if k not in current:
                return f"{sub}: checkpoint {json.dumps(saved[k])}, this call has none"
            if k not in saved:
                return f"{sub}: checkpoint has none, this call {json.dumps(current[k])}"
            found = config_difference(saved[k], current[k], sub)
            if found:
                return found
        return None
    if isinstance(saved, list) and isinstance(current, list) and len(saved) == len(current):
        for i, (a, b) in enumerate(zip(saved, current)):
            found = config_difference(a, b, f"{key}[{i}]")
            if found:
                return found
        return None
    if type(saved) is not type(current) and not (isinstance(saved, (int, float)) and isinstance(current, (int, float))):
        return f"{key or 'configuration'}: checkpoint {json.dumps(saved)}, this call {json.dumps(current)}"
    if saved != current:
        return f"{key or 'configuration'}: checkpoint {json.dumps(saved)}, this call {json.dumps(current)}"
    return None


def resume(net: "Network", trainer: Any, config: dict[str, Any], path: PathLike) -> tuple[int, History]:
    """Loads the checkpoint at ``path`` into ``net`` and ``trainer``; returns
    the next epoch to run and the History so far. The checkpoint must come
    from the same graph, dtype and training configuration (ConfigError
    naming the difference otherwise); nothing changes when a check fails."""
    from ..graph import Graph

    saved = load_checkpoint(path)
    if saved.dtype != net.dtype.name:
        raise ConfigError(f"{saved.path}: the checkpoint holds a {saved.dtype} network, this one is {net.dtype.name}")
    try:
        graph = Graph.from_json(saved.graph_json)
    except NervenetError as e:
        raise saved.error(f"the saved graph is invalid: {e}") from e
    if graph != net.graph:
        raise ConfigError(f"{saved.path}: the checkpoint was written for a different graph than this network's")
    assert saved.training is not None
    found = config_difference(saved.training, json.loads(json.dumps(config)))
    if found:
        raise ConfigError(f"{saved.path}: the checkpoint was trained with another configuration: {found}")
    expected = set(trainer.state()["buffers"])
    if set(saved.optimizer_buffers) != expected:
        raise FormatError(
            f"{saved.path}: the checkpoint's optimiser buffers {saved.optimizer_buffers} "
            f"do not match the optimiser's {sorted(expected)}"
        )
    parameters = saved.parameters_for(net)
    buffers = saved.optimizer_for(net)
    assert saved.epoch is not None and saved.step_count is not None and saved.lr_factor is not None
    net.parameters = parameters
    trainer.set_state(buffers, saved.step_count, saved.lr_factor)
    return saved.epoch, saved.history if saved.history is not None else History()
