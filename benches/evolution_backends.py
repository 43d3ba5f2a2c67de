"""The Ray backend against the local process pool on the same evolution run
(issue 15's closing numbers): genomes per hour at ``--workers`` workers,
and Ray's cost per genome. Goal: Ray within 10% of the local pool in
genomes per hour at 2 workers.

    PYTHONPATH=python python benches/evolution_backends.py [--genomes 200] [--epochs 2] [--batch 8]
        [--workers 2] [--rounds 5] [--warmup-genomes 20] [--seed 0] [--out FILE]

The run: EXAMM's coal task (``nv.evolution.coal_task``, issue 14's
protocol, as ``benches/evolution_coal.py``) with EXAMM's coal settings,
``--genomes`` genomes of ``--epochs`` epochs at ``--batch`` sequences a
step, reproducible mode and one seed, so both backends train the very same
genomes (checked: the best fitness must agree).

Rounds are interleaved through ``benches/harness.py`` (pool, ray, ray,
pool, …) so both see the same background load. Before them, one warm-up
run of each backend of ``--warmup-genomes`` genomes (imports, page cache,
Ray's first worker start) is timed and reported, not counted.

Each Ray round starts a local Ray of ``--workers`` CPUs itself and times
that (``ray.init``) and its shutdown apart from the run; the run then uses
that connection. The process pool's start (spawning ``--workers``
interpreters that import nervenet and receive the data) is part of its
run, as it is for a user. Per backend: median genomes per hour with its
quartiles and min–max; then the ratio Ray / pool (median of per-round
ratios, quartiles) and Ray's extra seconds per genome (median of per-round
(Ray's wall − pool's wall) / genomes), and a summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import nervenet as nv
from nervenet.parallel import cores

sys.path.insert(0, str(Path(__file__).parent))
from harness import Timing, interleave  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "timeseries" / "2018_coal"
GOAL = 0.90  # Ray's genomes per hour at least 90% of the pool's


def config(args: argparse.Namespace, backend: str, genomes: int) -> nv.evolution.EvolutionConfig:
    return nv.evolution.EvolutionConfig(genomes=genomes, epochs=args.epochs, mutations=2, batch_size=args.batch,
                                        learning_rate=args.lr, workers=args.workers, seed=args.seed,
                                        backend=backend)


def run_pool(args: argparse.Namespace, task: nv.evolution.Task, genomes: int) -> dict:
    began = time.perf_counter()
    result = nv.evolution.Evolution(config(args, "process", genomes), task).run(progress=False)
    return record("pool", genomes, time.perf_counter() - began, result)


def run_ray(args: argparse.Namespace, task: nv.evolution.Task, genomes: int) -> dict:
    import logging

    import ray

    began = time.perf_counter()
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    ray.get(ray.remote(num_cpus=0)(lambda: None).remote())  # started: a worker answers
    startup = time.perf_counter() - began
    try:
        began = time.perf_counter()
        result = nv.evolution.Evolution(config(args, "ray", genomes), task).run(progress=False)
        out = record("ray", genomes, time.perf_counter() - began, result)
    finally:
        began = time.perf_counter()
        ray.shutdown()
        out_shutdown = time.perf_counter() - began
    return {**out, "startup": startup, "shutdown": out_shutdown}


def record(backend: str, genomes: int, wall: float, result) -> dict:
    return {"backend": backend, "genomes": result.genomes, "wall": wall,
            "genomes_per_hour": result.genomes / wall * 3600, "driver": result.driver_seconds,
            "best_fitness": result.best.fitness, "asked": genomes}


def quartiles(values: list[float]) -> tuple[float, float]:
    return Timing(values).quartiles()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--genomes", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=0.004)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup-genomes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write every round's record here as JSON")
    args = parser.parse_args()

    # Ray's local workers import nervenet as this process does (a source checkout: an absolute path)
    here = str(Path(nv.__file__).resolve().parents[1])
    os.environ["PYTHONPATH"] = os.pathsep.join([here, *filter(None, [os.environ.get("PYTHONPATH")])])

    print(f"machine: {nv.machine.cpu_model()}, {cores()} cores; nervenet {nv.__version__}")
    print(f"run: coal task, {args.genomes} genomes x {args.epochs} epochs, batch {args.batch}, "
          f"{args.workers} workers, seed {args.seed}, {args.rounds} interleaved rounds")
    task = nv.evolution.coal_task(DATA)

    warm = {"pool": run_pool(args, task, args.warmup_genomes), "ray": run_ray(args, task, args.warmup_genomes)}
    print(f"warm-up ({args.warmup_genomes} genomes, not counted): pool {warm['pool']['wall']:.1f} s, "
          f"ray {warm['ray']['wall']:.1f} s (+ {warm['ray']['startup']:.1f} s to start Ray)")

    rounds = interleave({"pool": lambda: run_pool(args, task, args.genomes),
                         "ray": lambda: run_ray(args, task, args.genomes)}, args.rounds)
    for name, runs in rounds.items():
        rates = [r["genomes_per_hour"] for r in runs]
        q1, q3 = quartiles(rates)
        extra = ""
        if name == "ray":
            starts = [r["startup"] for r in runs]
            extra = (f"; Ray's start {statistics.median(starts):.2f} s (min-max {min(starts):.2f}-{max(starts):.2f}),"
                     f" shutdown {statistics.median(r['shutdown'] for r in runs):.2f} s, not in the run")
        print(f"{name:4s}: {statistics.median(rates):8.0f} genomes/hour [quartiles {q1:.0f}-{q3:.0f}, "
              f"min-max {min(rates):.0f}-{max(rates):.0f}]; wall {statistics.median(r['wall'] for r in runs):.1f} s, "
              f"driver {statistics.median(r['driver'] for r in runs):.2f} s{extra}")

    pairs = list(zip(rounds["pool"], rounds["ray"]))
    if any(p["best_fitness"] != r["best_fitness"] or p["genomes"] != r["genomes"] for p, r in pairs):
        print("WARNING: the backends did not train the same genomes (best fitness or count differ)")
    ratios = [r["genomes_per_hour"] / p["genomes_per_hour"] for p, r in pairs]
    overhead = [(r["wall"] - p["wall"]) / r["genomes"] for p, r in pairs]
    ratio, (r1, r3) = statistics.median(ratios), quartiles(ratios)
    o1, o3 = quartiles(overhead)
    print(f"ray / pool genomes per hour: {ratio:.3f} [quartiles {r1:.3f}-{r3:.3f}]; Ray's extra time per genome "
          f"{1e3 * statistics.median(overhead):+.1f} ms [quartiles {1e3 * o1:+.1f} to {1e3 * o3:+.1f}]")
    verdict = "met" if ratio >= GOAL else "NOT met"
    print(f"SUMMARY: at {args.workers} workers Ray trains {100 * ratio:.1f}% of the local pool's genomes per hour "
          f"(goal >= {100 * GOAL:.0f}%: {verdict}), {1e3 * statistics.median(overhead):+.1f} ms a genome, "
          f"Ray's start {statistics.median(r['startup'] for r in rounds['ray']):.1f} s apart")
    if args.out:
        Path(args.out).write_text(json.dumps({"args": vars(args), "warmup": warm, "rounds": rounds}, indent=1))


if __name__ == "__main__":
    main()
