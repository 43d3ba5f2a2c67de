"""The evolution driver's cost per genome at scale, against a simulated
trainer: how many workers one driver keeps busy (issue 15, item 6).

    PYTHONPATH=python python benches/evolution_driver.py [--genomes 100000] [--workers 1000]
        [--islands 10] [--island-size 10] [--checkpoint-every 1.0] [--seed-cells 0] [--profile] [--out FILE]

The driver (``nv.evolution.Evolution``: EXAMM's coal shape, 12 inputs and
one output, EXAMM's settings: 10 islands of 10, Lamarckian weights, every
cell kind, 2 mutations a child, reproducible) runs as in a real run — log,
snapshot every ``--checkpoint-every`` seconds and journal, best model
file — but its backend trains nothing: ``wait()`` hands back the oldest
of ``--workers`` jobs in flight at once, with a fitness drawn from the
genome's id and one weight per parameter the genome's graph names (so
the weights the driver stores, inherits and checkpoints are as large as a
real run's). The backend's time is left out of the driver's.

Prints the driver's seconds per genome, split into generation (operators,
crossover, the genome's JSON), insertion (islands, best genome),
checkpoint (snapshots, journal, the best model file) and bookkeeping (the
rest: log, progress, jobs); the same for each tenth of the run; whether
checkpointing grows with run length (the median snapshot time of the
first and of the last tenth of the snapshots, and the checkpoint's
bytes); the genomes' mean size; and the workers one driver keeps busy at
1 s, 10 s and 60 s per genome (= seconds per genome / driver seconds per
genome; goal: >= 1,000 at 10 s, i.e. <= 10 ms per genome).
``--profile`` adds cProfile's top functions by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import pstats
import statistics
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

import nervenet as nv
from nervenet.evolution import Evolution, EvolutionConfig, Job, Task, Trained
from nervenet.evolution.fitness import build_network, derived_seed
from nervenet.evolution.weights import keys_of

PER_GENOME_SECONDS = (1.0, 10.0, 60.0)


class SimulatedTrainer:
    """A backend that trains nothing: the oldest job in flight finishes at
    each ``wait``, with a fitness and weights drawn from its id."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._queue: deque[Job] = deque()

    def start(self, task: Task, config: EvolutionConfig) -> None:
        self._config = config

    def submit(self, job: Job) -> None:
        self._queue.append(job)

    def wait(self) -> list[Trained]:
        job = self._queue.popleft()
        g = nv.Graph.from_json(job.graph)
        keys = keys_of(build_network(g, self._config, 0), g)
        rng = np.random.default_rng(derived_seed(0, job.id, 7))
        weights = dict(zip(keys, rng.normal(0, 0.5, len(keys)).tolist()))
        return [Trained(job.id, float(rng.uniform(0.5, 1.5)), weights, 5, 4, 0.0)]

    def close(self) -> None:
        self._queue.clear()


class Timed(Evolution):
    """The driver, noting each snapshot's seconds and the costs at each tenth of the run."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.snapshots: list[tuple[int, float, int]] = []  # (genomes inserted, seconds, bytes)
        self.marks: list[tuple[int, int, dict[str, float]]] = []  # (genomes inserted, generated, costs)
        self.began = time.perf_counter()

    def _snapshot(self) -> None:
        began = time.perf_counter()
        super()._snapshot()
        if self.out is not None:
            size = (self.out / "checkpoint.json").stat().st_size
            self.snapshots.append((self.inserted, time.perf_counter() - began, size))

    def _log(self, record: dict[str, Any]) -> None:
        super()._log(record)
        if self.inserted % max(1, self.config.genomes // 10) == 0:
            self.marks.append((self.inserted, self.next_id, dict(self.costs.seconds)))


def task_of_coal_shape() -> Task:
    """Data the driver never trains on, shaped as the coal task (12 inputs, 1 output)."""
    X = np.zeros((2, 4, 12), np.float32)
    Y = np.zeros((2, 4, 1), np.float32)
    return Task(X, Y, X, Y)


def seed_genome(cells: int) -> nv.Graph:
    """EXAMM's minimal coal genome, plus ``cells`` LSTM cells between every input and the output."""
    g = nv.evolution.minimal_genome(12, 1)
    c = g.add_cells(cells, "lstm")
    g.connect_all(g.inputs(), c)
    g.connect_all(c, g.outputs())
    return g


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genomes", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=1000)
    ap.add_argument("--islands", type=int, default=10)
    ap.add_argument("--island-size", type=int, default=10)
    ap.add_argument("--checkpoint-every", type=float, default=1.0)
    ap.add_argument("--seed-cells", type=int, default=0,
                    help="start from a seed genome with this many LSTM cells (bigger genomes; default EXAMM's minimal)")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--out", help="also write the numbers as JSON here")
    args = ap.parse_args()
    cfg = EvolutionConfig(islands=args.islands, island_size=args.island_size, genomes=args.genomes, epochs=5,
                          mutations=2, workers=args.workers, seed=0)
    with tempfile.TemporaryDirectory() as folder:
        evolution = Timed(cfg, task_of_coal_shape(), seed_genome(args.seed_cells), out=folder, backend=SimulatedTrainer(args.workers),
                          checkpoint_every=args.checkpoint_every)
        profiler = cProfile.Profile() if args.profile else None
        began = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        result = evolution.run(progress=False)
        if profiler is not None:
            profiler.disable()
        wall = time.perf_counter() - began
        log_bytes = (Path(folder) / "genomes.jsonl").stat().st_size
    n = result.genomes
    parts = dict(result.driver_costs)
    parts["bookkeeping"] = result.driver_seconds - sum(parts.values())
    per_genome = result.driver_seconds / n
    sizes = [sum(g.counts["edges"].values()) for isl in result.islands for g in isl.genomes]
    nodes = [sum(g.counts["nodes"].values()) for isl in result.islands for g in isl.genomes]
    print(f"{n} genomes, {args.workers} in flight, {args.islands} islands of {args.island_size}: "
          f"wall {wall:.1f} s (the simulated trainer included), driver {result.driver_seconds:.1f} s")
    print(f"driver per genome: {per_genome * 1e3:.3f} ms = " +
          ", ".join(f"{k} {v / n * 1e3:.3f}" for k, v in parts.items()))
    print("by tenth of the run, ms per genome: generation (per genome made), insertion and checkpoint "
          "(per genome inserted)")
    prev = (0, 0, dict.fromkeys(parts, 0.0))
    for mark in evolution.marks:
        made, inserted = max(1, mark[1] - prev[1]), mark[0] - prev[0]
        split = [(mark[2][k] - prev[2][k]) * 1e3 for k in result.driver_costs]
        print(f"  genomes {prev[0]:>7}-{mark[0]:<7} {split[0] / made:.3f} / {split[1] / inserted:.3f} / "
              f"{split[2] / inserted:.3f}")
        prev = mark
    snaps = evolution.snapshots[1:-1] or evolution.snapshots  # not the first (empty) and last (after the run)
    tenth = max(1, len(snaps) // 10)
    early = statistics.median(s[1] for s in snaps[:tenth])  # medians: a busy machine's stalls left out
    late = statistics.median(s[1] for s in snaps[-tenth:])
    print(f"snapshots: {len(evolution.snapshots)}; early (genomes <= {snaps[tenth - 1][0]}) {early * 1e3:.2f} ms, "
          f"late (genomes >= {snaps[-tenth][0]}) {late * 1e3:.2f} ms; "
          f"checkpoint.json {snaps[0][2] / 1e3:.0f} kB -> {snaps[-1][2] / 1e3:.0f} kB; log {log_bytes / 1e6:.1f} MB")
    print(f"islands' genomes at the end: {statistics.mean(sizes):.1f} edges, {statistics.mean(nodes):.1f} "
          f"hidden nodes on average")
    workers = {t: t / per_genome for t in PER_GENOME_SECONDS}
    print("workers one driver keeps busy: " + ", ".join(f"{w:,.0f} at {t:g} s/genome" for t, w in workers.items()))
    print(f"goal >= 1,000 workers at 10 s/genome: {'met' if workers[10.0] >= 1000 else 'MISSED'}")
    if profiler is not None:
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)
    if args.out:
        Path(args.out).write_text(json.dumps({
            "genomes": n, "workers_in_flight": args.workers, "driver_seconds": result.driver_seconds,
            "per_genome_ms": {k: v / n * 1e3 for k, v in parts.items()}, "snapshot_ms": [early * 1e3, late * 1e3],
            "projected_workers": {str(t): w for t, w in workers.items()}, "wall": wall,
        }, indent=2) + "\n")
    return 0 if all(math.isfinite(w) for w in workers.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
