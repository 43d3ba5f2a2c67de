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
from .crossover import crossover
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
    disable_node,
    enable_edge,
    enable_node,
    merge_nodes,
    split_edge,
    split_node,
)
from .ray_backend import RayBackend
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
    "Innovations",
    "Island",
    "Job",
    "NODE_KINDS",
    "OPERATORS",
    "ProcessPool",
    "RayBackend",
    "Skip",
    "Task",
    "Trained",
    "add_edge",
    "add_node",
    "add_recurrent_edge",
    "clone",
    "coal_task",
    "crossover",
    "disable_edge",
    "disable_node",
    "enable_edge",
    "enable_node",
    "evolve",
    "load_evolution_config",
    "merge_nodes",
    "minimal_genome",
    "plot_fitness",
    "split_edge",
    "split_node",
    "summary",
    "timeseries_task",
    "weights_of",
]
