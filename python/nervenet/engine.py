"""The one seam between the Python API and the compiled engine: every call
into ``_core`` for a network's passes, training and evaluation goes through
here. A call's arrays are prepared once -- :class:`Prepared`, the
normalised X, targets and mask with the loss they are for -- and a
``DataError`` from the core is restated in the caller's own coordinates
(array names, and indices without a time axis for 2-D X).

``Network`` (network.py) builds the core network and keeps it; ``fit``,
``evaluate``, the searches and the gradient check reach it only through the
functions below.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np

from . import _checks, _core, arrays
from .errors import ConfigError, DataError, ShapeError

if TYPE_CHECKING:
    from .network import Network

__all__ = ["Prepared", "prepare", "inputs", "call"]


@dataclass(frozen=True)
class Prepared:
    """X, targets and mask normalised for the extension, and the loss."""

    batch: arrays.Batch
    targets: np.ndarray  # (batch, steps, outputs) values, or (batch, steps) int64 labels
    loss: str
    n_classes: Optional[int]  # set when the targets are class labels
    mask: Optional[np.ndarray]  # (batch, steps)

    def objective(self, reduction: str) -> tuple[np.ndarray, str, str, Optional[np.ndarray]]:
        """What the extension's loss-based calls take."""
        return self.targets, self.loss, _checks.text(reduction, "reduction"), self.mask

    def explain(self, err: DataError) -> DataError:
        """The core's ``err`` restated with the caller's array names and indices."""
        return arrays.explain(err, self.batch, self.targets, self.n_classes, self.mask)

    def rows(self, idx: np.ndarray) -> "Prepared":
        """The samples ``idx`` (copied out), e.g. one epoch of a sampler."""
        x = self.batch.x[idx]
        user = x if self.batch.sequences else x.reshape(x.shape[0], x.shape[2])
        mask = None if self.mask is None else self.mask[idx]
        return Prepared(arrays.Batch(x, user, self.batch.sequences), self.targets[idx], self.loss, self.n_classes, mask)


def inputs(net: "Network", X: Any) -> arrays.Batch:
    """``X`` as the extension reads it for ``net``."""
    return arrays.inputs(X, net.n_inputs, net.dtype, net._image)


def prepare(net: "Network", X: Any, Y: Any, loss: str, mask: Any = None) -> Prepared:
    """X, Y (float targets or class labels, as the loss takes) and mask for ``net``."""
    if not isinstance(loss, str):
        raise ConfigError(f"loss must be a name such as 'mse' or 'softmax', got {loss!r}")
    batch = inputs(net, X)
    if _core.loss_takes_classes(loss):
        y, n_classes = arrays.labels(Y, loss, batch, net.n_outputs), net.n_outputs
    else:
        y, n_classes = arrays.per_output(Y, "Y", batch, net.n_outputs, net.dtype), None
    m = None if mask is None else arrays.mask(mask, batch, net.dtype)
    return Prepared(batch, y, loss, n_classes, m)


def call(
    prepared: Prepared, reduction: str, method: Callable[..., Any], *args: Any, origin: Optional[Prepared] = None
) -> Any:
    """``method(x, objective, *args)``, a DataError restated for the caller
    -- in ``origin``'s coordinates when ``prepared`` holds some of its rows."""
    try:
        return method(prepared.batch.x, prepared.objective(reduction), *args)
    except DataError as e:
        found = prepared.explain(e)
        if origin is not None and found is not e:
            raise origin.explain(e) from None
        raise found from None


# ---- passes ----------------------------------------------------------------------


def state(net: "Network", value: Any, batch: int) -> Optional[np.ndarray]:
    """A recurrent state given by the caller, checked against ``net``."""
    if value is None:
        return None
    arr = arrays.as_float(value, "state", net.dtype)
    want = (batch, net.memory, net._net.state_rows)
    if arr.shape != want:
        raise ShapeError(
            f"state has shape {arr.shape}, expected {want} (a state this network returned for a batch of {batch})"
        )
    return arr


def forward(net: "Network", X: Any, initial: Any, return_state: bool) -> Any:
    batch = inputs(net, X)
    try:
        if initial is None and not return_state:
            out = net._net.forward(batch.x)
        else:
            out, _, _, new_state = net._net.run_stateful(batch.x, state(net, initial, batch.batch), None)
    except DataError as e:
        raise arrays.explain(e, batch) from None
    return (batch.restore(out), new_state) if return_state else batch.restore(out)


def loss_and_gradient(net: "Network", prepared: Prepared, reduction: str, initial: Any, return_state: bool) -> Any:
    if initial is None and not return_state:
        value, grad, _ = call(prepared, reduction, net._net.loss_and_gradient, False)
        return value, grad
    start = state(net, initial, prepared.batch.batch)
    _, value, grad, new_state = call(prepared, reduction, lambda x, obj: net._net.run_stateful(x, start, obj))
    return (value, grad, new_state) if return_state else (value, grad)


def sgd_step(net: "Network", prepared: Prepared, reduction: str, learning_rate: float) -> float:
    return call(prepared, reduction, net._net.sgd_step, _checks.number(learning_rate, "learning_rate"))


def backward(net: "Network", X: Any, output_grad: Any, input_grads: bool) -> tuple[np.ndarray, Optional[np.ndarray]]:
    batch = inputs(net, X)
    g = arrays.per_output(output_grad, "output_grad", batch, net.n_outputs, net.dtype)
    try:
        grad, dx = net._net.backward(batch.x, g, _checks.flag(input_grads, "input_grads"))
    except DataError as e:
        raise arrays.explain(e, batch, g) from None
    return grad, None if dx is None else batch.like_x(dx)


def fd_step(net: "Network", step: Optional[float]) -> float:
    """The finite-difference step: 1e-5 in float64, 1e-3 in float32 (whose
    rounding would swamp a smaller one), unless given."""
    if step is None:
        return 1e-5 if net.dtype == np.float64 else 1e-3
    return _checks.number(step, "step")


def numeric_gradient(net: "Network", prepared: Prepared, reduction: str, step: float) -> np.ndarray:
    return call(prepared, reduction, net._net.numeric_gradient, step)


def check_gradients(net: "Network", prepared: Prepared, reduction: str, step: float) -> dict[str, Any]:
    return call(prepared, reduction, net._net.check_gradients, step)


def evaluate(net: "Network", prepared: Prepared) -> dict[str, Any]:
    """Loss per counted sample (and step) and the metrics for the targets."""
    return call(prepared, "sum", lambda x, obj: _core.evaluate(net._net, x, obj))


def evaluate_candidates(net: "Network", rows: np.ndarray, prepared: Prepared) -> np.ndarray:
    """The loss of every candidate parameter vector (rows), in parallel."""
    values = call(prepared, "sum", lambda x, obj: _core.evaluate_candidates(net._net, rows, x, obj))
    return np.asarray(values, dtype=np.float64)


# ---- training --------------------------------------------------------------------


def trainer(net: "Network", config: dict[str, Any]) -> Any:
    """A core trainer for ``net`` and a training configuration."""
    return _core.Trainer(net._net, json.dumps(config))


def epoch(
    net: "Network",
    trainer: Any,
    prepared: Prepared,
    reduction: str,
    index: int,
    on_batch: Any,
    origin: Optional[Prepared] = None,
) -> Any:
    """Trains one epoch (whole, in Rust) on ``prepared`` (some rows of
    ``origin``, if given); returns the core's report."""
    run = lambda x, obj: trainer.epoch(net._net, x, obj, index, on_batch)  # noqa: E731
    return call(prepared, reduction, run, origin=origin)
