"""The driver at scale (issue 15, item 6): its seconds split by part in
the run's result, a snapshot that does not grow with the genomes done,
and benches/evolution_driver.py running end to end on a short run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nervenet as nv
from nervenet.evolution import Evolution, EvolutionConfig

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benches"))
from evolution_driver import SimulatedTrainer, task_of_coal_shape  # noqa: E402


def test_the_driver_costs_are_split_by_part_within_the_driver_seconds(tmp_path: Path) -> None:
    cfg = EvolutionConfig(islands=3, island_size=3, genomes=60, workers=4, seed=1)
    result = Evolution(cfg, task_of_coal_shape(), out=tmp_path, backend=SimulatedTrainer(4)).run(progress=False)
    costs = result.driver_costs
    assert sorted(costs) == ["checkpoint", "generation", "insertion"]
    assert all(v > 0 for v in costs.values())
    assert sum(costs.values()) <= result.driver_seconds


def test_a_snapshot_holds_the_islands_and_the_genomes_in_flight_not_the_run_so_far(tmp_path: Path) -> None:
    sizes: dict[int, int] = {}
    evolution: Evolution

    def note(record: dict) -> None:
        if evolution.inserted in (300, 3000):
            sizes[evolution.inserted] = len(evolution._state())

    cfg = EvolutionConfig(islands=4, island_size=4, genomes=3000, workers=20, seed=2)
    evolution = Evolution(cfg, task_of_coal_shape(), out=tmp_path, backend=SimulatedTrainer(20), on_genome=note,
                          checkpoint_every=1e9)
    evolution.run(progress=False)
    assert sizes[3000] < 1.5 * sizes[300]  # ten times the genomes done, about the same snapshot


def test_the_driver_benchmark_runs_and_projects_workers(tmp_path: Path) -> None:
    out = tmp_path / "driver.json"
    env = {**os.environ, "PYTHONPATH": str(Path(nv.__file__).resolve().parents[1])}
    proc = subprocess.run([sys.executable, str(ROOT / "benches" / "evolution_driver.py"), "--genomes", "300",
                           "--workers", "40", "--out", str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "workers one driver keeps busy" in proc.stdout
    numbers = json.loads(out.read_text())
    per_genome = numbers["driver_seconds"] / numbers["genomes"]
    assert numbers["genomes"] == 300
    assert abs(sum(numbers["per_genome_ms"].values()) - per_genome * 1e3) < 1e-6 * max(1.0, per_genome * 1e3)
    assert abs(numbers["projected_workers"]["10.0"] - 10.0 / per_genome) < 1e-6 * numbers["projected_workers"]["10.0"]
