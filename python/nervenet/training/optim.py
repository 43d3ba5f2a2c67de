"""Optimisers and learning-rate schedules, exactly as the lecture notes
write them (lecture 4). These are small descriptions; the updates run in
Rust over the flat parameter vector.

    net.fit(X, Y, optimizer=nv.optim.Adam(1e-3), schedule=nv.optim.StepDecay(5, 0.5))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
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
        d = _settings(self, "optimizer")
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
        d = _settings(self, "schedule")
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
        return _settings(self, "momentum_annealing")


def _settings(settings: Any, what: str) -> dict[str, Any]:
    """A dataclass of settings as a dict, each field checked to be a number
    (True/False for flags) -- the core checks the values, naming the key,
    but would name only ``what`` for a wrong type. The learning rate is
    left to :func:`optimizer_config`."""
    from .._checks import flag, number

    for f in fields(settings):
        value = getattr(settings, f.name)
        if isinstance(f.default, bool):
            flag(value, f"{what}.{f.name}")
        elif f.name != "learning_rate":
            number(value, f"{what}.{f.name}")
    return asdict(settings)


# What "call it" suggests: the lecture's usual starting rates.
_EXAMPLE_RATE = {"Adam": "1e-3", "RMSprop": "1e-3"}


def _optimizer_classes() -> dict[str, type]:
    """Optimizer classes by every name a user might write: ``adam``, ``Adam``, ``vanilla``."""
    found: dict[str, type] = {}
    for cls in (SGD, Momentum, Nesterov, Adagrad, RMSprop, Adam):
        found.update({cls.__name__.lower(): cls, cls.name: cls})
    return found


def optimizer_config(opt: Optional[Optimizer]) -> tuple[dict[str, Any], float]:
    from .._checks import real
    from ..errors import ConfigError

    opt = SGD(0.01) if opt is None else opt
    if not isinstance(opt, Optimizer):
        cls = None
        if isinstance(opt, type) and issubclass(opt, Optimizer):
            cls, given = opt, f"the class nv.optim.{opt.__name__}"
        elif isinstance(opt, str):
            cls, given = _optimizer_classes().get(opt.lower()), repr(opt)
        else:
            given = repr(opt)
        if cls is not None and cls is not Optimizer:
            raise ConfigError(
                f"optimizer must be an optimizer object, got {given}: call it: "
                f"nv.optim.{cls.__name__}({_EXAMPLE_RATE.get(cls.__name__, '0.01')}) (the learning rate)"
            )
        raise ConfigError(
            f"optimizer must be one of nv.optim.SGD, Momentum, Nesterov, Adagrad, RMSprop, Adam, called with a "
            f"learning rate (nv.optim.Adam(1e-3)); got {given}"
        )
    return opt.config(), real(opt.learning_rate, "learning_rate")


def schedule_config(schedule: Optional[Schedule]) -> Optional[dict[str, Any]]:
    from ..errors import ConfigError

    if schedule is None or isinstance(schedule, Schedule):
        return None if schedule is None else schedule.config()
    if isinstance(schedule, type) and issubclass(schedule, Schedule):
        raise ConfigError(
            f"schedule must be a schedule object, got the class nv.optim.{schedule.__name__}: call it with its "
            f"settings, e.g. nv.optim.StepDecay(5, 0.5)"
        )
    raise ConfigError(f"schedule must be an nv.optim schedule (StepDecay, ExponentialDecay, ...), got {schedule!r}")
