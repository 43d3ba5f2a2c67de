"""Population evaluation: thread scaling of the Rust population evaluator.

Scores a population of candidate parameter vectors of an MLP on one batch
with ``_core.evaluate_candidates`` (what every ``nv.search`` method calls
once per generation) on 1 thread and on 2 threads in the same run, and
prints the median times and the speedup. The target is a speedup
of at least 1.8x on 2 threads; the script reports the ratio and exits
non-zero only on errors, never on the ratio.

    python benches/population_scaling.py [--population 256] [--batch 256]
        [--layers 8,32,32,4] [--dtype float32] [--repeats 15] [--threads 1,2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

import nervenet as nv
from nervenet import _core


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--population", type=int, default=256)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--layers", default="8,32,32,4")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--threads", default="1,2")
    args = p.parse_args(argv)

    layers = [int(s) for s in args.layers.split(",")]
    threads = [int(s) for s in args.threads.split(",")]
    net = nv.Network(nv.mlp(layers, "tanh", "identity"), dtype=args.dtype, seed=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.batch, layers[0]))
    Y = rng.standard_normal((args.batch, layers[-1]))
    objective = nv.search.Objective(net, X, Y, "mse")
    population = rng.uniform(-1, 1, (args.population, objective.dim))
    rows = np.ascontiguousarray(objective.full(population))  # network dtype, what the Rust call reads
    batch, y, _, mask = net._loss_inputs(X, Y, "mse", None)
    call = (y, "mse", "sum", mask)

    print(
        f"population {args.population} x {net.n_params} parameters ({'-'.join(map(str, layers))} MLP, "
        f"{args.dtype}), batch {args.batch}; {args.repeats} repeats; {os.cpu_count()} cores visible"
    )
    busy_before = _machine_busy_seconds()
    own_before = time.process_time()
    wall_before = time.perf_counter()
    original = nv.get_num_threads()
    times: dict[int, list[float]] = {n: [] for n in threads}
    reference = None
    try:
        # Rounds alternate the thread counts, so load from other processes
        # hits every setting alike. Changing the count rebuilds the thread
        # pool, so each switch is followed by an untimed warm-up call.
        for _ in range(args.repeats):
            for n in threads:
                nv.set_num_threads(n)
                _core.evaluate_candidates(net._net, rows, batch.x, call)
                t0 = time.perf_counter()
                scores = _core.evaluate_candidates(net._net, rows, batch.x, call)
                elapsed = time.perf_counter() - t0
                if reference is None:
                    reference = scores
                elif scores != reference:
                    print(f"error: scores on {n} threads differ from those on {threads[0]}", file=sys.stderr)
                    return 1
                times[n].append(elapsed)
    finally:
        nv.set_num_threads(original)
    others = None
    busy_after = _machine_busy_seconds()
    if busy_before is not None and busy_after is not None:
        wall = time.perf_counter() - wall_before
        others = max(0.0, (busy_after - busy_before) - (time.process_time() - own_before)) / wall
    medians = {n: statistics.median(t) for n, t in times.items()}
    for n in threads:
        print(f"  {n} thread(s): median {medians[n] * 1e3:8.2f} ms  (min {min(times[n]) * 1e3:.2f} ms, "
              f"{args.population / medians[n]:,.0f} candidates/s)")
    base, fastest = medians[threads[0]], min(times[threads[0]])
    for n in threads[1:]:
        print(f"speedup {threads[0]} -> {n} threads: {base / medians[n]:.2f}x by median, "
              f"{fastest / min(times[n]):.2f}x by min (target >= 1.8x at 2 threads)")
    if others is not None:
        print(f"other processes kept {others:.2f} cores busy on average during the run "
              f"(well above 0 means the timings are contended: run again)")
    return 0


def _machine_busy_seconds() -> float | None:
    """CPU seconds all processes on the machine have run (Linux /proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


if __name__ == "__main__":
    sys.exit(main())
