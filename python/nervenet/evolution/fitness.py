"""A genome's fitness: train it with the engine and keep its best epoch.

This is the work a backend runs (in this process, in a worker process, on
Ray): a :class:`Job` in, a :class:`Trained` out, both plain data that
pickle small. Fitness is the lowest validation loss over the epochs, and
the weights returned are that epoch's. A genome whose training fails
(non-finite loss, a graph the engine refuses) comes back with ``fitness =
inf`` and the reason, never an exception that would stop the run.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import NervenetError, NervenetWarning
from ..graph import Graph
from ..network import Network
from ..training.callbacks import EarlyStopping
from .config import EvolutionConfig
from .weights import Weights, keys_of, start, weights_of


@dataclass(frozen=True)
class Task:
    """The data a search trains and judges on: training sequences ``X``,
    ``Y`` (sequences × steps × columns), validation ``X_val``, ``Y_val``
    (fitness), and a test split ``X_test``, ``Y_test`` the search never
    sees (reported for the best genome at the end). Masks (sequences ×
    steps, 1 for real steps) leave padding out of the losses."""

    X: np.ndarray
    Y: np.ndarray
    X_val: np.ndarray
    Y_val: np.ndarray
    X_test: Optional[np.ndarray] = None
    Y_test: Optional[np.ndarray] = None
    mask: Optional[np.ndarray] = None
    mask_val: Optional[np.ndarray] = None
    mask_test: Optional[np.ndarray] = None
    name: str = "task"
    input_names: Optional[tuple[str, ...]] = None
    output_names: Optional[tuple[str, ...]] = None

    @property
    def n_inputs(self) -> int:
        return int(self.X.shape[-1])

    @property
    def n_outputs(self) -> int:
        return int(self.Y.shape[-1])

    def as_dtype(self, dtype: str) -> "Task":
        """The task with its arrays in ``dtype`` (converted once, not per genome)."""
        conv = {k: None if getattr(self, k) is None else np.ascontiguousarray(getattr(self, k), dtype=dtype)
                for k in ("X", "Y", "X_val", "Y_val", "X_test", "Y_test", "mask", "mask_val", "mask_test")}
        return Task(**conv, name=self.name, input_names=self.input_names, output_names=self.output_names)


@dataclass(frozen=True)
class Job:
    """One genome to train: its graph (JSON), its starting weights by
    innovation key (None: the network's own initialisation) and its seed."""

    id: int
    graph: str
    weights: Optional[Weights]
    seed: int


@dataclass(frozen=True)
class Trained:
    """A trained genome: ``fitness`` (best validation loss; inf when
    training failed, ``error`` saying why), the weights of that epoch
    (``best_epoch``, 0-based; -1: the starting weights), the epochs run and
    the seconds training took."""

    id: int
    fitness: float
    weights: Optional[Weights]
    epochs: int
    best_epoch: int
    seconds: float
    error: Optional[str] = None


def derived_seed(seed: int, genome: int, purpose: int) -> int:
    """A 64-bit seed for one purpose of one genome of a run."""
    return int(np.random.SeedSequence([seed, genome, purpose]).generate_state(1, np.uint64)[0])


def build_network(g: Graph, config: EvolutionConfig, seed: int) -> Network:
    init = "xavier" if config.weights == "lamarckian" else config.weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NervenetWarning)  # a disabled path may leave a node unfed
        return Network(g, dtype=config.dtype, init=init, seed=seed)


def train(job: Job, task: Task, config: EvolutionConfig) -> Trained:
    """Trains ``job``'s genome on ``task`` as ``config`` says."""
    began = time.perf_counter()
    stopper = EarlyStopping(monitor="val_loss", patience=config.epochs, restore_best=True)
    try:
        g = Graph.from_json(job.graph)
        net = build_network(g, config, job.seed)
        keys = keys_of(net, g)
        start(net, g, job.weights, np.random.default_rng(job.seed), config.weights, keys)
        before = net.parameters
        initial = float(net.evaluate(task.X_val, task.Y_val, loss=config.loss, mask=task.mask_val)["loss"])
        validation = (task.X_val, task.Y_val) if task.mask_val is None else (task.X_val, task.Y_val, task.mask_val)
        net.fit(task.X, task.Y, mask=task.mask, validation=validation, seed=job.seed, callbacks=[stopper],
                **config.fit_options())
    except NervenetError as e:
        return Trained(job.id, math.inf, None, stopper.last_epoch + 1, stopper.best_epoch,
                       time.perf_counter() - began, f"{type(e).__name__}: {e}")
    fitness, best_epoch = float(stopper.best), stopper.best_epoch
    if math.isfinite(initial) and not initial > fitness:  # the starting weights were never beaten (EXAMM keeps them)
        net.parameters, fitness, best_epoch = before, initial, -1
    if not math.isfinite(fitness):
        return Trained(job.id, math.inf, None, stopper.last_epoch + 1, best_epoch,
                       time.perf_counter() - began, f"validation loss is not finite ({fitness})")
    return Trained(job.id, fitness, weights_of(net, g, keys), stopper.last_epoch + 1, best_epoch,
                   time.perf_counter() - began)
