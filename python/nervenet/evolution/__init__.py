"""Neuro-evolution of recurrent graphs, after EXAMM (work in progress: the
genome operators and crossover so far; islands, training backends and the run
follow, see issue 14)."""

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
from .crossover import crossover

__all__ = [
    "NODE_KINDS",
    "OPERATORS",
    "Innovations",
    "Skip",
    "add_edge",
    "add_node",
    "add_recurrent_edge",
    "clone",
    "crossover",
    "disable_edge",
    "disable_node",
    "enable_edge",
    "enable_node",
    "merge_nodes",
    "split_edge",
    "split_node",
]
