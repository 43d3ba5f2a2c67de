"""Recurrent layers: nervenet against PyTorch on the same work, f32, same threads.

    python benches/compare_torch_rnn.py [--threads N] [--only LETTERS] [--rounds R]

Workloads, each forward + backward (BPTT) of an MSE loss (sum) with a
linear head on every step, against the fused torch.nn.LSTM / torch.nn.GRU,
weights copied from torch so both compute the same thing (checked before
timing); goal: torch time / nervenet time at least
  (a) standard LSTM layer, 26 inputs, 64 hidden, 100 steps, batch 32    1.5x
  (b) standard GRU layer, same shape                                    3x
  (c) standard LSTM layer, 10 inputs, 10 hidden, 500 steps, batch 1     4x
Timing by benches/harness.py (interleaved rounds, medians, ratio = median of
per-round torch / nervenet; > 1: nervenet is faster); 1 thread by default.
PyTorch is an optional dependency: pip install ".[bench]".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import torch

import nervenet as nv

sys.path.insert(0, str(Path(__file__).resolve().parent))  # harness
from harness import MIN_ROUNDS, Contest, header  # noqa: E402


def layer_case(kind: str, n_in: int, hidden: int, steps: int, batch: int) -> tuple[Callable[[], float], ...]:
    """(nervenet, torch) callables: one forward + backward each."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(batch, steps, n_in)).astype(np.float32)
    Y = rng.normal(size=(batch, steps, 1)).astype(np.float32)
    torch.manual_seed(0)
    rnn = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(n_in, hidden, batch_first=True)
    head = torch.nn.Linear(hidden, 1)
    model = torch.nn.ModuleList([rnn, head])
    tx, ty = torch.from_numpy(X), torch.from_numpy(Y)

    g = nv.Graph()
    x = g.add_inputs(n_in)
    units = (g.add_lstm_layer if kind == "lstm" else g.add_gru_layer)(hidden, x)
    y = g.add_outputs(1, bias=True)
    head_edges = [g.connect(u, y[0]) for u in units]
    net = nv.Network(g, dtype="float32", seed=0)
    nv.interop.set_torch_weights(net, units, x, rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0)
    for e, w in zip(head_edges, head.weight.detach().numpy()[0]):
        net.set_parameter(f"edge:{e}", float(w))
    net.set_parameter(f"node:{y[0]}:bias", float(head.bias.detach().numpy()[0]))

    def ours() -> float:
        return net.loss_and_gradient(X, Y, "mse")[0]

    def theirs() -> float:
        model.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(head(rnn(tx)[0]), ty, reduction="sum")
        loss.backward()
        return loss.item()

    a, b = ours(), theirs()
    assert abs(a - b) <= 1e-4 * max(1.0, abs(a)), f"losses differ: nervenet {a}, torch {b}"
    return ours, theirs


CASES = {
    "a": ("(a) LSTM 26-64, 100 steps, batch 32, fwd+BPTT", ("lstm", 26, 64, 100, 32), 1.5),
    "b": ("(b) GRU 26-64, 100 steps, batch 32, fwd+BPTT", ("gru", 26, 64, 100, 32), 3.0),
    "c": ("(c) LSTM 10-10, 500 steps, batch 1, fwd+BPTT", ("lstm", 10, 10, 500, 1), 4.0),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", default="", help="run only the cases whose letters are given, e.g. ac")
    parser.add_argument("--rounds", type=int, default=MIN_ROUNDS, help=f"timed rounds (at least {MIN_ROUNDS})")
    args = parser.parse_args()
    if args.rounds < MIN_ROUNDS:
        parser.error(f"--rounds must be at least {MIN_ROUNDS}")
    contest = Contest(args.threads, rounds=args.rounds)
    print(header(["nervenet", "torch"]))
    for letter, (name, case, goal) in CASES.items():
        if args.only and letter not in args.only:
            continue
        ours, theirs = layer_case(*case)
        print(contest.run(name, {"nervenet": ours, "torch": theirs}, target=goal).row(), flush=True)


if __name__ == "__main__":
    main()
