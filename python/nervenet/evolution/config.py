"""What an evolution run does: the search (islands, operators, weights) and
how each genome is trained for its fitness. Defaults are EXAMM's.

>>> from nervenet.evolution import EvolutionConfig
>>> cfg = EvolutionConfig(islands=2, island_size=3, genomes=12, epochs=2, seed=7)
>>> cfg.optimizer().name, cfg.optimizer().bias_correction
('adam', False)
>>> EvolutionConfig.from_dict(cfg.to_dict()) == cfg
True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from .._checks import flag, integer, real, seed, text
from ..errors import ConfigError
from ..parallel import BACKENDS, cores
from ..training import optim
from .operators import NODE_KINDS, OPERATORS

#: EXAMM's mutation operators and their relative rates (its defaults: each
#: equally likely, split edge off).
DEFAULT_OPERATOR_RATES: dict[str, float] = {
    "clone": 1.0, "add_edge": 1.0, "add_recurrent_edge": 1.0, "enable_edge": 1.0, "disable_edge": 1.0,
    "split_edge": 0.0, "add_node": 1.0, "enable_node": 1.0, "disable_node": 1.0, "split_node": 1.0,
    "merge_nodes": 1.0,
}

WEIGHT_MODES = ("lamarckian", "xavier", "kaiming")


@dataclass(frozen=True)
class EvolutionConfig:
    """An evolution run. Search: ``islands`` of ``island_size`` genomes,
    ``genomes`` trained in all; a child comes from a mutation
    (``mutation_rate``), a crossover inside its island
    (``intra_island_rate``) or with another island's best
    (``inter_island_rate``); every ``extinction_every`` genomes (``None``:
    never) the worst island is emptied and refilled with mutations of the
    global best (genomes generated before an island's extinction no
    longer enter it). Crossover starts once every island is full. New nodes are drawn from ``node_kinds`` (a ``"simple"``
    node uses ``activation``); recurrent edges skip ``recurrent_skips =
    (low, high)`` steps. ``weights="lamarckian"`` starts children from their
    parents' trained weights (new ones drawn from the parents' weight
    distribution), ``"xavier"``/``"kaiming"`` from fresh ones.

    Fitness: each genome trains ``epochs`` epochs (``batch_size`` sequences
    a step, ``truncate`` BPTT window or whole sequences) with Adam
    (``learning_rate``, ``beta1``, ``beta2``, ``bias_correction``), the
    gradient's norm scaled down to ``gradient_scale`` and up to
    ``gradient_boost``, weights capped at ±``weight_cap``; its fitness is
    the best validation loss of its starting weights and of every epoch,
    with those weights (so a child never scores worse than the weights it
    inherited). ``final_epochs`` (default 0, EXAMM's way): after the search
    the best genome trains on for that many more epochs with the same
    settings, its best validation epoch kept; the result reports its test
    loss before and after (:attr:`EvolutionResult.final_test_loss`).

    Work: ``backend="process"`` trains on ``workers`` spawned processes
    (default: one per core, one engine thread each), ``"inprocess"`` in
    this process (tests), ``"ray"`` as Ray tasks
    (:mod:`~nervenet.evolution.ray_backend`: a local Ray instance, or the
    cluster at ``ray_address``, whose CPUs are the default ``workers``).
    ``reproducible=True``: genome i is generated only
    from results of genomes below i − (workers + 1) (the genomes in flight:
    one per worker and one queued), so a seed and a worker count
    give the same run whatever order results arrive in.
    """

    islands: int = 10
    island_size: int = 10
    genomes: int = 2000
    mutations: int = 1
    mutation_rate: float = 0.7
    intra_island_rate: float = 0.2
    inter_island_rate: float = 0.1
    operator_rates: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_OPERATOR_RATES))
    node_kinds: tuple[str, ...] = NODE_KINDS
    activation: str = "tanh"
    recurrent_skips: tuple[int, int] = (1, 10)
    extinction_every: Optional[int] = None
    weights: str = "lamarckian"
    epochs: int = 10
    final_epochs: int = 0
    batch_size: int = 1
    truncate: Optional[int] = None
    loss: str = "mse"
    learning_rate: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.99
    bias_correction: bool = False
    gradient_scale: Optional[float] = 1.0
    gradient_boost: Optional[float] = 0.05
    weight_cap: Optional[float] = 10.0
    dtype: str = "float32"
    backend: str = "process"
    workers: Optional[int] = None
    ray_address: Optional[str] = None
    reproducible: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("islands", "island_size", "genomes", "epochs", "mutations"):
            integer(getattr(self, name), name, 1)
        integer(self.batch_size, "batch_size", 0)
        integer(self.final_epochs, "final_epochs", 0)
        for name in ("mutation_rate", "intra_island_rate", "inter_island_rate"):
            if not 0 <= real(getattr(self, name), name) <= 1:
                raise ConfigError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.mutation_rate + self.intra_island_rate + self.inter_island_rate <= 0:
            raise ConfigError("mutation_rate, intra_island_rate and inter_island_rate cannot all be 0")
        rates = dict(self.operator_rates)
        for name, rate in rates.items():
            if name not in OPERATORS:
                raise ConfigError(f"operator_rates: unknown operator {name!r}; known: {', '.join(OPERATORS)}")
            if real(rate, f"operator_rates.{name}") < 0:
                raise ConfigError(f"operator_rates.{name} must be >= 0, got {rate}")
        if sum(rates.values()) <= 0:
            raise ConfigError("operator_rates: at least one operator needs a positive rate")
        object.__setattr__(self, "operator_rates", rates)
        kinds = tuple(text(k, "node_kinds") for k in self.node_kinds)
        if not kinds or any(k not in NODE_KINDS for k in kinds):
            raise ConfigError(f"node_kinds must be a non-empty subset of {NODE_KINDS}, got {self.node_kinds}")
        object.__setattr__(self, "node_kinds", kinds)
        from .. import _core

        if text(self.activation, "activation") not in _core.activations():
            raise ConfigError(f"activation must be one of {', '.join(_core.activations())}, got {self.activation!r}")
        low, high = (integer(s, "recurrent_skips", 1) for s in self.recurrent_skips)
        if low > high:
            raise ConfigError(f"recurrent_skips must be (low, high) with low <= high, got {self.recurrent_skips}")
        object.__setattr__(self, "recurrent_skips", (low, high))
        if self.extinction_every is not None:
            integer(self.extinction_every, "extinction_every", 1)
        if text(self.weights, "weights") not in WEIGHT_MODES:
            raise ConfigError(f"weights must be one of {WEIGHT_MODES}, got {self.weights!r}")
        if text(self.backend, "backend") not in BACKENDS:
            raise ConfigError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.workers is not None:
            integer(self.workers, "workers", 1)
        if self.ray_address is not None:
            text(self.ray_address, "ray_address")
        if self.truncate is not None:
            integer(self.truncate, "truncate", 1)
        real(self.learning_rate, "learning_rate", 0, open_low=True)
        for name in ("beta1", "beta2"):
            real(getattr(self, name), name, 0, 1, open_high=True)
        for name in ("gradient_scale", "gradient_boost", "weight_cap"):
            if getattr(self, name) is not None and not real(getattr(self, name), name) > 0:
                raise ConfigError(f"{name} must be a positive number or None, got {getattr(self, name)}")
        flag(self.bias_correction, "bias_correction")
        flag(self.reproducible, "reproducible")
        seed(self.seed)
        if text(self.dtype, "dtype") not in ("float32", "float64"):
            raise ConfigError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")

    @property
    def worker_count(self) -> int:
        """Workers a run uses: ``workers``, else one per core of this
        machine (1 in process; on a Ray cluster the backend counts the
        cluster's CPUs once connected, :attr:`RayBackend.workers`)."""
        if self.workers is not None:
            return self.workers
        if self.backend == "inprocess":
            return 1
        return cores()

    def optimizer(self) -> optim.Adam:
        return optim.Adam(self.learning_rate, beta1=self.beta1, beta2=self.beta2, bias_correction=self.bias_correction)

    def fit_options(self) -> dict[str, Any]:
        """Keyword arguments of ``Network.fit`` for one genome's training."""
        return {
            "loss": self.loss,
            "optimizer": self.optimizer(),
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "truncate": self.truncate,
            "gradient_scale": self.gradient_scale,
            "gradient_boost": self.gradient_boost,
            "weight_cap": None if self.weight_cap is None else (self.weight_cap, 1.0),
            "verbose": 0,
        }

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["operator_rates"] = dict(self.operator_rates)
        d["node_kinds"] = list(self.node_kinds)
        d["recurrent_skips"] = list(self.recurrent_skips)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "EvolutionConfig":
        """A config from a mapping (a TOML table, a checkpoint); unknown keys
        are a ConfigError naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown evolution setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        d = dict(d)
        for key in ("node_kinds", "recurrent_skips"):
            if key in d and isinstance(d[key], list):
                d[key] = tuple(d[key])
        return cls(**d)
