"""How the property tests judge backprop against central differences.

Smooth graphs must agree to the notes' relative 1e-7; graphs with kinks
(relu, max pooling, hinge, |x|, softsign's second derivative) to 1e-4, and a
parameter whose central difference straddles a kink must agree at a smaller
step. Gradients far below 1e-2 are judged by absolute error instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nervenet as nv


def split_errors(report: nv.GradientReport, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(parameters judged by relative error, absolute errors of the others).

    A central difference with h = 1e-5 carries truncation error h²·f'''/6 and
    rounding error ~eps·|L|/h, together ~1e-10 absolute on losses up to ~10.
    For a gradient much below 1e-2 that alone exceeds a relative 1e-7, so
    such gradients must instead agree to an absolute tolerance. The rounding
    error grows with the loss: ``scale`` (see :func:`loss_scale`) raises the
    threshold and the tolerances with it.
    """
    big = np.maximum(np.abs(report.analytic), np.abs(report.numeric)) >= 1e-2 * scale
    absolute = np.abs(report.analytic - report.numeric)
    return big, absolute


def loss_scale(loss: float) -> float:
    """How many times larger than on a loss of 10 the differences' rounding error is."""
    return max(1.0, abs(loss) / 10)


def assert_smooth_gradients(report: nv.GradientReport, scale: float = 1.0, fine: Any = None) -> None:
    """The notes' bound for smooth functions in float64.

    ``fine(step)``, when given, returns the central differences at a smaller
    step: a parameter that misses the bound at h = 1e-5 must then meet it at
    h = 1e-6. The truncation error h²·f'''/6 falls a hundredfold with the
    step (seen: a strongly curved loss giving 1.5e-7 at 1e-5 and 1.5e-9 at
    1e-6), while a wrong backward pass would miss at any step.
    """
    big, absolute = split_errors(report, scale)
    bad = (big & (report.relative_errors >= 1e-7)) | (~big & (absolute >= 1e-9 * scale))
    if not bad.any():
        return
    if fine is not None:
        a, n = report.analytic[bad], fine(1e-6)[bad]
        error = np.abs(a - n)
        rel = error / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-300)
        if ((big[bad] & (rel < 1e-7)) | (~big[bad] & (error < 1e-9 * scale))).all():
            return
    raise AssertionError(f"{report}\nmissing the bound: {list(np.array(report.names)[bad])}")


def assert_kinked_gradients(
    net: nv.Network, X: Any, Y: Any, loss: str, report: nv.GradientReport, scale: float = 1.0, **kw: Any
) -> None:
    """The notes' 1e-4 bound for functions with kinks (``kw`` as for
    ``numeric_gradient``: reduction, mask)."""
    big, absolute = split_errors(report, scale)
    bad = (big & (report.relative_errors >= 1e-4)) | (~big & (absolute >= 1e-8 * scale))
    if not bad.any():
        return
    # Random biases keep pre-activations off kinks only almost surely: one
    # may still lie within h = 1e-5 of a relu / hinge / |x| kink (seen:
    # a relu6 input of 2e-6), where the central difference straddles the
    # kink. Such a parameter must agree at a step 100x smaller; a wrong
    # backward pass would not.
    # (Seen too: a relu6 input of -5.5e-8, within even 1e-7; then 1e-9.)
    for step in (1e-7, 1e-9):
        fine = net.numeric_gradient(X, Y, loss=loss, step=step, **kw)
        a, n = report.analytic[bad], fine[bad]
        rel = np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-300)
        ok = (rel < 1e-4) | (np.abs(a - n) < 1e-7 * scale)
        if ok.all():
            return
    # A pre-activation exactly on a kink (structurally: a node without a
    # bias whose inputs are all exactly 0, e.g. behind a dead relu) has
    # one-sided derivatives that differ at any step; backprop must then
    # give one of them (seen: a bias-free leaky relu output at exactly 0).
    if all(_one_sided_match(net, X, Y, loss, i, report.analytic[i], scale, kw) for i in np.flatnonzero(bad)):
        return
    raise AssertionError(f"{report}\nat step {step}: {dict(zip(np.array(report.names)[bad], n))}")


def _one_sided_match(
    net: nv.Network, X: Any, Y: Any, loss: str, i: int, analytic: float, scale: float, kw: dict
) -> bool:
    """Whether ``analytic`` is parameter i's left or right derivative."""
    theta = net.parameters
    h = 1e-7

    def at(delta: float) -> float:
        p = theta.copy()
        p[i] += delta
        net.parameters = p
        return float(net.loss_and_gradient(X, Y, loss, **kw)[0])

    try:
        f0, right, left = at(0.0), at(h), at(-h)
    finally:
        net.parameters = theta
    sides = ((right - f0) / h, (f0 - left) / h)
    return any(abs(analytic - d) < 1e-4 * max(abs(analytic), abs(d)) or abs(analytic - d) < 1e-7 * scale
               for d in sides)
