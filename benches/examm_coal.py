"""EXAMM's fixed LSTM network on the coal-plant data: one training epoch.

    python benches/examm_coal.py [--threads N] [--epochs E] [--cell lstm|gru|simple]

The work EXAMM (C++) does per epoch, timed in nervenet: 12 input columns of
burners 0-9 of ../shared/data/timeseries/2018_coal cut into 280 sequences
of 500 steps, Main_Flm_Int one step ahead as the target. The network:

  12 inputs -> 12 tanh nodes (fixed identity edges + bias: EXAMM applies
  tanh(x + bias) to its inputs; nervenet's input nodes apply nothing, so a
  tanh layer stands in for that) -> 12 scalar cells, fully connected from
  the tanh nodes at skip 0 and again at skip 1 -> one tanh output fed by the
  cells at skip 0 and skip 1. 457 trainable parameters with LSTM cells,
  as EXAMM counts them.

Adam (lr 1e-3, beta2 0.99), one BPTT pass and weight update per sequence
(batch 1, the same algorithm as EXAMM), MSE summed over the steps. Also
reported: the 280 sequences in mini-batches of 28 (one update per batch).
EXAMM's C++ needs 1.17 s per epoch for this training pass on one core of
this machine kind (GRU cells 1.03 s, tanh nodes 0.91 s) - quoted from the
issue, not re-measured here (EXAMM is not installed).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import nervenet as nv

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "timeseries" / "2018_coal"
EXAMM_SECONDS = {"lstm": 1.17, "gru": 1.03, "simple": 0.91}


def coal_sequences() -> tuple[np.ndarray, np.ndarray]:
    files = [DATA / f"burner_{i}.csv" for i in range(10)]
    data = nv.data.load_timeseries(files, outputs="Main_Flm_Int", time_offset=1)
    X, _ = nv.data.chunk_series(data.X, 500, lengths=data.lengths)
    Y, _ = nv.data.chunk_series(data.Y, 500, lengths=data.lengths)
    return X.astype(np.float32), Y.astype(np.float32)


def examm_graph(cell: str, n: int = 12) -> nv.Graph:
    g = nv.Graph()
    x = g.add_inputs(n)
    t = g.add_nodes(n, "tanh")
    for a, b in zip(x, t):
        g.identity(a, b)
    c = g.add_cells(n, cell) if cell != "simple" else g.add_nodes(n, "tanh")
    g.connect_all(t, c)
    g.connect_all(t, c, time_skip=1)
    y = g.add_outputs(1, "tanh", bias=True)
    g.connect_all(c, y)
    g.connect_all(c, y, time_skip=1)
    return g


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--cell", default="all", choices=["all", "lstm", "gru", "simple"])
    args = parser.parse_args()
    nv.set_num_threads(args.threads)
    X, Y = coal_sequences()
    print(f"{len(X)} sequences of {X.shape[1]} steps, {X.shape[2]} inputs; threads {args.threads}, f32")
    print(f"{'cells':8s} {'params':>6s} {'batch':>5s} {'s/epoch':>9s} {'us/seq-step':>11s} {'EXAMM s':>8s} {'speedup':>8s}")
    for cell in (["lstm", "gru", "simple"] if args.cell == "all" else [args.cell]):
        for batch in (1, 28):
            net = nv.Network(examm_graph(cell), dtype="float32", seed=0)
            trainable = int(net.trainable.sum())
            opt = nv.optim.Adam(1e-3, beta2=0.99)
            times = []
            for _ in range(args.epochs):
                start = time.perf_counter()
                net.fit(X, Y, loss="mse", optimizer=opt, batch_size=batch, epochs=1, verbose=0)
                times.append(time.perf_counter() - start)
            best = min(times)
            per_step = best / (len(X) * X.shape[1]) * 1e6
            examm = EXAMM_SECONDS[cell]
            note = f"{examm / best:7.1f}x" if batch == 1 else "(batched)"
            print(f"{cell:8s} {trainable:6d} {batch:5d} {best:9.4f} {per_step:11.3f} {examm:8.2f} {note:>8s}")


if __name__ == "__main__":
    main()
