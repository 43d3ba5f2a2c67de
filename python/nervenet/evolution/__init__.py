"""Neuro-evolution of recurrent graphs, after EXAMM: genomes are graphs
whose nodes and edges carry run-wide innovation numbers; mutation and
crossover operators make children; islands keep the best, steady state;
a backend trains each genome with the engine for its fitness.

>>> import nervenet as nv
>>> cfg = nv.evolution.EvolutionConfig(islands=4, island_size=5, genomes=100, epochs=5)
>>> cfg.mutation_rate, cfg.intra_island_rate, cfg.inter_island_rate
(0.7, 0.2, 0.1)

See :class:`Evolution` for a run.
"""

from .backends import InProcess, ProcessPool
from .config import DEFAULT_OPERATOR_RATES, EvolutionConfig
from .fitness import Job, Task, Trained
from .islands import Genome, Island
from .operators import (
    NODE_KINDS,
    OPERATORS,
    Innovations,
    Skip,
    add_edge,
    add_node,
    add_recurrent_edge,
    clone,
    disable_edge,
    enable_edge,
    split_edge,
)
from .report import plot_fitness, summary
from .run import Evolution, EvolutionResult, evolve, minimal_genome
from .settings import load_evolution_config
from .tasks import coal_task, timeseries_task
from .weights import weights_of

__all__ = [
    "DEFAULT_OPERATOR_RATES",
    "Evolution",
    "EvolutionConfig",
    "EvolutionResult",
    "Genome",
    "InProcess",
    "Island",
    "Job",
    "NODE_KINDS",
    "OPERATORS",
    "Innovations",
    "ProcessPool",
    "Skip",
    "Task",
    "Trained",
    "add_edge",
    "add_node",
    "add_recurrent_edge",
    "clone",
    "disable_edge",
    "enable_edge",
    "evolve",
    "load_evolution_config",
    "minimal_genome",
    "plot_fitness",
    "coal_task",
    "split_edge",
    "summary",
    "timeseries_task",
    "weights_of",
]
