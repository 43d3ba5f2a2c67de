"""Recurrent layers: nervenet against PyTorch on the same work, f32, same threads.

    python benches/compare_torch_rnn.py [--threads N] [--quick]

Workloads, each forward + backward (BPTT) of an MSE loss with a
linear head on every step, weights copied from torch so both compute the
same thing (checked before timing):
  (a) standard LSTM layer, 26 inputs, 64 hidden, 100 steps, batch 32
  (b) standard GRU layer, same shape
  (c) standard LSTM layer, 10 inputs, 10 hidden, 500 steps, batch 1
Prints milliseconds per step of work and the ratio torch / nervenet (> 1:
nervenet is faster). PyTorch is an optional dependency: pip install ".[bench]".
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import nervenet as nv
from compare_torch import best_time


def layer_case(kind: str, n_in: int, hidden: int, steps: int, batch: int, repeat: int, number: int) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(batch, steps, n_in)).astype(np.float32)
    Y = rng.normal(size=(batch, steps, 1)).astype(np.float32)
    cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    torch.manual_seed(0)
    rnn, head = cls(n_in, hidden, batch_first=True), torch.nn.Linear(hidden, 1)
    tx, ty = torch.from_numpy(X), torch.from_numpy(Y)

    def torch_step() -> None:
        rnn.zero_grad(set_to_none=False)
        head.zero_grad(set_to_none=False)
        loss = torch.nn.functional.mse_loss(head(rnn(tx)[0]), ty, reduction="sum")
        loss.backward()

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

    ours = net.forward(X)
    theirs = head(rnn(tx)[0]).detach().numpy()
    assert np.allclose(ours, theirs, atol=1e-4), np.abs(ours - theirs).max()

    def nervenet_step() -> None:
        net.loss_and_gradient(X, Y, "mse")

    return best_time(nervenet_step, repeat, number), best_time(torch_step, repeat, number)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    nv.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    repeat = 3 if args.quick else 7
    cases = [
        ("(a) LSTM 26-64, 100 steps, batch 32", ("lstm", 26, 64, 100, 32), 1.5),
        ("(b) GRU 26-64, 100 steps, batch 32", ("gru", 26, 64, 100, 32), 3.0),
        ("(c) LSTM 10-10, 500 steps, batch 1", ("lstm", 10, 10, 500, 1), 5.0),
    ]
    print(f"threads: {args.threads}, torch {torch.__version__}, f32")
    print(f"{'workload':40s} {'nervenet ms':>12s} {'torch ms':>10s} {'ratio':>7s} {'target':>7s}")
    for name, case, target in cases:
        ours, theirs = layer_case(*case, repeat=repeat, number=3)
        print(f"{name:40s} {ours * 1e3:12.3f} {theirs * 1e3:10.3f} {theirs / ours:6.2f}x {target:6.1f}x")


if __name__ == "__main__":
    main()
