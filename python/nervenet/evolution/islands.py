"""Islands of trained genomes, steady state (EXAMM).

A trained genome enters its island if there is room or it beats the
island's worst (which it replaces); a genome with the structure of one
already there replaces it only if fitter. Extinction empties the island
whose best is worst; it then refills from mutations of the global best.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Optional

from .weights import Weights


def fitness_json(fitness: float) -> Optional[float]:
    """A fitness as JSON holds it: a failed genome's inf as null."""
    return None if math.isinf(fitness) else fitness


def fitness_of(value: Optional[float]) -> float:
    """:func:`fitness_json` undone."""
    return math.inf if value is None else float(value)


@dataclass
class Genome:
    """A genome of the run: its graph (JSON), where it came from and, once
    trained, its fitness and the weights of its best epoch."""

    id: int
    graph: str
    island: int
    operator: str
    parents: tuple[int, ...] = ()
    start_weights: Optional[Weights] = None
    fitness: float = math.inf
    weights: Optional[Weights] = None
    structure: int = 0  # Graph.structural_hash
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # nodes and edges by kind
    _text: dict[bool, str] = field(default_factory=dict, repr=False, compare=False)  # JSON, written once
    epochs: int = 0
    best_epoch: int = -1
    seconds: float = 0.0
    error: Optional[str] = None
    failure: Optional[str] = None  # why making it failed (it is then a clone)

    def json(self, *, start_weights: bool) -> str:
        """:meth:`to_dict` as JSON text, cached: a genome does not change
        once trained, so a checkpoint serialises it once."""
        if start_weights not in self._text:
            self._text[start_weights] = json.dumps(self.to_dict(start_weights=start_weights), separators=(",", ":"))
        return self._text[start_weights]

    def forget_json(self) -> None:
        self._text.clear()

    def to_dict(self, *, start_weights: bool = True) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "_text"}
        d["parents"] = list(self.parents)
        d["fitness"] = fitness_json(self.fitness)
        if not start_weights:
            d["start_weights"] = None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Genome":
        d = dict(d)
        d["parents"] = tuple(d["parents"])
        d["fitness"] = fitness_of(d["fitness"])
        return cls(**d)


@dataclass
class Island:
    """Up to ``capacity`` genomes, best first. ``source`` says where new
    genomes come from while it is not full: ``"seed"`` (mutations of the
    seed genome, as at the start) or ``"best"`` (after an extinction)."""

    capacity: int
    genomes: list[Genome] = field(default_factory=list)
    source: str = "seed"
    erased_before: int = 0  # genomes generated before its extinction do not enter

    @property
    def full(self) -> bool:
        return len(self.genomes) >= self.capacity

    @property
    def best(self) -> Optional[Genome]:
        return self.genomes[0] if self.genomes else None

    def insert(self, genome: Genome) -> bool:
        """Whether ``genome`` entered (it must have a finite fitness)."""
        same = next((g for g in self.genomes if g.structure == genome.structure), None)
        if same is not None:
            if genome.fitness >= same.fitness:
                return False
            self.genomes.remove(same)
        elif self.full:
            if genome.fitness >= self.genomes[-1].fitness:
                return False
            self.genomes.pop()
        self.genomes.append(genome)
        self.genomes.sort(key=lambda g: (g.fitness, g.id))  # ties: the older first, deterministic
        return True

    def extinguish(self, next_id: int) -> None:
        """Empties the island; genomes below ``next_id`` (already generated) no longer enter."""
        self.genomes.clear()
        self.source = "best"
        self.erased_before = next_id

    def json(self) -> str:
        head = json.dumps({"capacity": self.capacity, "source": self.source, "erased_before": self.erased_before})
        return f'{head[:-1]}, "genomes": [{",".join(g.json(start_weights=False) for g in self.genomes)}]}}'

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Island":
        return cls(d["capacity"], [Genome.from_dict(g) for g in d["genomes"]], d["source"], d["erased_before"])


def worst_island(islands: list[Island]) -> int:
    """The island whose best genome is worst (an empty island counts as worst)."""
    return max(range(len(islands)),
               key=lambda i: (islands[i].best.fitness if islands[i].best else math.inf, -i))
