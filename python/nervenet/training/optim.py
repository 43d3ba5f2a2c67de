"""Optimisers and learning-rate schedules, exactly as the lecture notes
write them (lecture 4). These are small descriptions; the updates run in
Rust over the flat parameter vector.

    net.fit(X, Y, optimizer=nv.optim.Adam(1e-3), schedule=nv.optim.StepDecay(5, 0.5))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

__all__ = [
    "Optimizer",
    "SGD",
    "Momentum",
    "Nesterov",
    "Adagrad",
    "RMSprop",
    "Adam",
    "Schedule",
    "Constant",
    "StepDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "MomentumAnnealing",
]


@dataclass(frozen=True)
class Optimizer:
    """Base: a learning rate and the update rule's hyperparameters."""

    learning_rate: float

    name = "vanilla"

    def config(self) -> dict[str, Any]:
        """The rule and its hyperparameters (without the learning rate)."""
        d = asdict(self)
        d.pop("learning_rate")
        d["name"] = self.name
        return d


@dataclass(frozen=True)
class SGD(Optimizer):
    """Vanilla gradient descent: w −= lr · g."""

    name = "vanilla"


@dataclass(frozen=True)
class Momentum(Optimizer):
    """v = mu · v − lr · g; w += v."""

    mu: float = 0.9
    name = "momentum"


@dataclass(frozen=True)
class Nesterov(Optimizer):
    """The notes' reformulated Nesterov update:
    v_prev = v; v = mu · v − lr · g; w += −mu · v_prev + (1 + mu) · v."""

    mu: float = 0.9
    name = "nesterov"


@dataclass(frozen=True)
class Adagrad(Optimizer):
    """cache += g²; w −= lr / (√cache + eps) · g."""

    eps: float = 1e-8
    name = "adagrad"


@dataclass(frozen=True)
class RMSprop(Optimizer):
    """cache = decay · cache + (1 − decay) · g²; w −= lr / (√cache + eps) · g."""

    decay: float = 0.99
    eps: float = 1e-8
    name = "rmsprop"


@dataclass(frozen=True)
class Adam(Optimizer):
    """m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²; with bias correction
    m̂ = m/(1−β1^t), v̂ = v/(1−β2^t); w −= lr · m̂ / (√v̂ + eps)."""

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    bias_correction: bool = True
    name = "adam"


@dataclass(frozen=True)
class Schedule:
    """Learning rate per epoch t (t = 0 first): constant."""

    name = "constant"

    def config(self) -> dict[str, Any]:
        d = asdict(self)
        d["name"] = self.name
        return d


@dataclass(frozen=True)
class Constant(Schedule):
    name = "constant"


@dataclass(frozen=True)
class StepDecay(Schedule):
    """Multiply the learning rate by ``factor`` every ``every`` epochs."""

    every: int
    factor: float
    name = "step"


@dataclass(frozen=True)
class ExponentialDecay(Schedule):
    """lr = initial · e^(−k t)."""

    k: float
    name = "exponential"


@dataclass(frozen=True)
class InverseTimeDecay(Schedule):
    """lr = initial / (1 + k t)."""

    k: float
    name = "inverse_time"


@dataclass(frozen=True)
class MomentumAnnealing:
    """Momentum's mu ramped linearly from ``start`` to ``end`` over ``epochs``."""

    start: float
    end: float
    epochs: int

    def config(self) -> dict[str, Any]:
        return asdict(self)


def optimizer_config(opt: Optional[Optimizer]) -> tuple[dict[str, Any], float]:
    opt = SGD(0.01) if opt is None else opt
    if not isinstance(opt, Optimizer):
        from ..errors import ConfigError

        raise ConfigError(f"optimizer must be one of nv.optim.SGD, Momentum, Nesterov, Adagrad, RMSprop, Adam; got {opt!r}")
    return opt.config(), float(opt.learning_rate)
