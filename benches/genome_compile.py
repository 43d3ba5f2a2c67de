"""Recompiling a genome: the time of ``nv.Network(g)`` (plan compile and
parameter initialisation) for a genome of a few hundred parameters, the
work evolution repeats for every genome it trains (issue 14 asks for well
under a millisecond).

The genome has the shape of EXAMM's coal networks: 12 inputs fully
connected to one output, --cells peephole LSTM cells fed by every input and
feeding the output, and --recurrent recurrent edges with skips drawn from
1-10 (EXAMM's default range) between the cells and the output, innovation
numbers set as an evolution run would. Also timed: the graph copy an
operator starts from and the structural hash that spots duplicates.

    PYTHONPATH=python python benches/genome_compile.py [--reps 2000]

Prints the parameter count, then per operation the median, the 10th and
90th percentiles and the minimum over --reps repetitions (microseconds).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import nervenet as nv


def coal_genome(cells: int, recurrent: int, seed: int) -> nv.Graph:
    rng = np.random.default_rng(seed)
    g = nv.Graph()
    x = g.add_inputs(12)
    y = g.add_outputs(1, "identity", bias=True)
    c = g.add_cells(cells, "lstm")
    g.connect_all(x, y)
    g.connect_all(x, c)
    g.connect_all(c, y)
    ends = c + y
    added = 0
    while added < recurrent:
        src, dst = rng.choice(ends, 2)
        skip = int(rng.integers(1, 11))
        if g.find_edge(int(src), int(dst), time_skip=skip) is None:
            g.connect(int(src), int(dst), time_skip=skip)
            added += 1
    # Run-wide numbers, as a genome deep in a run carries them.
    for i, e in enumerate(g.edge_ids()):
        g.set_edge_innovation(e, 10_000 + 7 * i)
    return g


def timed(what: str, fn, reps: int) -> None:
    fn()  # warm-up
    t = np.empty(reps)
    for i in range(reps):
        t0 = time.perf_counter_ns()
        fn()
        t[i] = time.perf_counter_ns() - t0
    us = t / 1e3
    p10, p50, p90 = np.percentile(us, [10, 50, 90])
    print(f"{what:<28} median {p50:8.1f} us   p10 {p10:8.1f}   p90 {p90:8.1f}   min {us.min():8.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=8)
    ap.add_argument("--recurrent", type=int, default=150)
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    g = coal_genome(args.cells, args.recurrent, args.seed)
    net = nv.Network(g)
    print(f"genome: {g.num_nodes} nodes, {g.num_edges} edges, {net.n_params} parameters; "
          f"nervenet threads: {nv.get_num_threads()}")
    timed("nv.Network(g) float32", lambda: nv.Network(g), args.reps)
    timed("nv.Network(g) float64", lambda: nv.Network(g, "float64"), args.reps)
    timed("g.copy()", g.copy, args.reps)
    timed("g.structural_hash()", g.structural_hash, args.reps)


if __name__ == "__main__":
    main()
