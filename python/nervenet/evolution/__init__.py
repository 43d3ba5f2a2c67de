"""Neuro-evolution of recurrent graphs, after EXAMM (work in progress: the
genome operators so far; islands, crossover, training backends and the run
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
    enable_edge,
    split_edge,
)

__all__ = [
    "NODE_KINDS",
    "OPERATORS",
    "Innovations",
    "Skip",
    "add_edge",
    "add_node",
    "add_recurrent_edge",
    "clone",
    "disable_edge",
    "enable_edge",
    "split_edge",
]
