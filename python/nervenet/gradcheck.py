"""Gradient checking: backprop against central finite differences.

The relative error of each parameter is |a − n| / max(|a|, |n|) (0 when both
are 0); in float64, smooth networks give errors below 1e-7.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from . import engine
from .network import Network

__all__ = ["GradientReport", "check_gradients", "numeric_gradient"]


@dataclass(frozen=True, eq=False)
class GradientReport:
    """Per-parameter comparison of the analytic and numeric gradients."""

    names: list[str]
    analytic: np.ndarray
    numeric: np.ndarray
    relative_errors: np.ndarray
    max_error: float
    worst: Optional[str]  # name of the parameter with the largest error

    def table(self, rows: int = 10) -> str:
        """The ``rows`` parameters with the largest relative errors."""
        order = np.argsort(-self.relative_errors, kind="stable")[:rows]
        width = max([len("parameter")] + [len(self.names[i]) for i in order])
        lines = [f"{'parameter':<{width}}  {'analytic':>14}  {'numeric':>14}  {'rel. error':>10}"]
        for i in order:
            lines.append(
                f"{self.names[i]:<{width}}  {self.analytic[i]:>14.6e}  {self.numeric[i]:>14.6e}  "
                f"{self.relative_errors[i]:>10.2e}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        head = f"gradient check: {len(self.names)} parameters, max relative error {self.max_error:.3e}"
        if self.worst is not None:
            head += f" ({self.worst})"
        return head + "\n" + self.table()


def check_gradients(
    net: Network,
    X: Any,
    Y: Any,
    loss: str = "mse",
    *,
    step: Optional[float] = None,
    reduction: str = "sum",
    mask: Any = None,
) -> GradientReport:
    """Compares backprop with central differences for every parameter.

    The relative error is |a − n| / max(|a|, |n|) (0 when both are 0); the
    notes read < 1e-7 as correct for smooth functions in float64. ``step``
    defaults to 1e-5 (float64) or 1e-3 (float32). Use a float64 network: in
    float32 the finite differences themselves are only good to about 1e-3,
    and in any dtype gradients far below 1e-2 are dominated by the
    differences' own truncation and rounding error.
    """
    d = engine.check_gradients(net, engine.prepare(net, X, Y, loss, mask), reduction, engine.fd_step(net, step))
    return GradientReport(
        names=list(d["names"]),
        analytic=d["analytic"],
        numeric=d["numeric"],
        relative_errors=d["relative_errors"],
        max_error=float(d["max_error"]),
        worst=d["worst"],
    )


def numeric_gradient(
    net: Network,
    X: Any,
    Y: Any,
    loss: str = "mse",
    *,
    step: Optional[float] = None,
    reduction: str = "sum",
    mask: Any = None,
) -> np.ndarray:
    """Central-difference gradient (float64), one entry per parameter (0 for fixed ones)."""
    return net.numeric_gradient(X, Y, loss, step=step, reduction=reduction, mask=mask)
