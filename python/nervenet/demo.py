"""``nervenet demo`` (or ``python -m nervenet demo``): a short,
self-explaining demo (a few seconds).

1. The lecture notes' xor network (Lecture 2): its forward pass and the
   deltas of its backward pass, next to the values the notes print.
2. A gradient check on a random recurrent graph in float64: backprop
   through time against central differences.
3. xor learned from scratch with ``Network.sgd_step``, one sample at a time,
   from a fixed seed, until every prediction is on the right side of 0.5.

Exits 0 when all three succeed, 1 with a message on stderr otherwise.
Options: ``--seed`` (xor's initial weights and shuffling), ``--max-epochs``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

import numpy as np

import nervenet as nv

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def _title(text: str) -> None:
    print(f"\n== {text} " + "=" * max(0, 70 - len(text)))


def notes_xor_example() -> bool:
    """The notes' worked backward pass: inputs (1, 1), biases 0.5 / 0.6,
    weights 0.1 ... 0.7, tanh hidden nodes, a sigmoid output."""
    _title("1. The notes' xor network (Lecture 2), inputs (1, 1)")
    g = nv.Graph()
    y0, y1 = g.add_inputs(2)
    h0, h1 = g.add_nodes(2, "tanh")
    out = g.add_outputs(1, "sigmoid", bias=False)[0]
    g.set_bias(h0, 0.5)
    g.set_bias(h1, 0.6)
    for src, dst, w in [(y0, h0, 0.1), (y0, h1, 0.2), (y1, h0, 0.3), (y1, h1, 0.4), (h0, out, 0.6), (h1, out, 0.7)]:
        g.connect(src, dst, weight=w)
    net = nv.Network(g, dtype="float64")
    X = np.array([[1.0, 1.0]])

    o = float(net.forward(X)[0, 0])
    grad, dx = net.backward(X, np.ones((1, 1)), input_grads=True)
    assert dx is not None
    named = dict(zip(net.parameter_names, grad.tolist()))
    d_h0, d_h1 = named[f"node:{h0}:bias"], named[f"node:{h1}:bias"]
    rows = [
        ("output sigmoid(0.6 tanh 0.9 + 0.7 tanh 1.2)", o, 0.733),
        ("delta through the sigmoid, o (1 - o)", o * (1 - o), 0.196),
        ("delta into hidden sum 0 (= its bias gradient)", d_h0, 0.057),
        ("delta into hidden sum 1 (= its bias gradient)", d_h1, 0.042),
        ("delta arriving at input 0", float(dx[0, 0]), 0.0141),
        ("delta arriving at input 1", float(dx[0, 1]), 0.0339),
    ]
    print(f"  {'quantity':<48} {'nervenet':>10} {'notes':>8}")
    ok = True
    for label, value, notes in rows:
        print(f"  {label:<48} {value:>10.4f} {notes:>8}")
        ok &= abs(value - notes) < 1e-3
    print("  (the notes round, and chain rounded deltas: 0.057 * 0.3 + 0.042 * 0.4 = 0.0339)")
    return ok


def gradient_check_example() -> bool:
    """Backprop through time against central differences on a random graph
    with recurrent edges reaching up to 3 steps back."""
    _title("2. Gradient check on a random recurrent graph (float64)")
    g = nv.random_graph(
        3, 10, 2, density=0.4, recurrent=8, max_skip=3, activations=["tanh", "sigmoid", "softsign"], seed=42
    )
    net = nv.Network(g, dtype="float64", seed=42)
    rng = np.random.default_rng(42)
    X = rng.uniform(-1.0, 1.0, size=(4, 6, 3))  # 4 sequences of 6 steps, 3 inputs
    Y = rng.uniform(-1.0, 1.0, size=(4, 6, 2))
    report = nv.check_gradients(net, X, Y, loss="mse")
    recurrent = sum(g.edge(e)["time_skip"] > 0 for e in g.edge_ids())
    print(f"  graph: {g.num_nodes} nodes, {g.num_edges} edges ({recurrent} recurrent), {net.n_params} parameters")
    print("  data: 4 sequences x 6 steps, mse loss summed over steps")
    print(f"  max relative error |a - n| / max(|a|, |n|): {report.max_error:.2e} ({report.worst})")
    # Gradients far below 1e-2 carry the central difference's own ~1e-10
    # absolute error, so the notes' 1e-7 bound is read on the others.
    big = np.maximum(np.abs(report.analytic), np.abs(report.numeric)) >= 1e-2
    judged = float(report.relative_errors[big].max(initial=0.0))
    tiny = float(np.abs(report.analytic - report.numeric)[~big].max(initial=0.0))
    print(f"  over the {int(big.sum())} gradients >= 1e-2: {judged:.2e} (the notes: < 1e-7 is correct)")
    print(f"  largest absolute error among the {int((~big).sum())} smaller ones: {tiny:.1e}")
    return judged < 1e-7 and tiny < 1e-9


def train_xor(seed: int = 0, max_epochs: int = 2000) -> bool:
    """Stochastic gradient descent, one sample per step, shuffled each epoch."""
    _title("3. Learning xor with Network.sgd_step (one sample per step)")
    g = nv.Graph()
    x = g.add_inputs(2)
    h = g.add_nodes(4, "tanh")
    y = g.add_outputs(1, "sigmoid", bias=True)
    g.connect_all(x, h)
    g.connect_all(h, y)
    net = nv.Network(g, dtype="float64", init="xavier", seed=seed)
    rng = np.random.default_rng(seed)
    print(f"  2 inputs -> 4 tanh -> 1 sigmoid, {net.n_params} parameters, mse loss, learning rate 0.5, seed {seed}")
    pred, epoch = net.forward(XOR_X), 0
    for epoch in range(1, max_epochs + 1):
        for i in rng.permutation(len(XOR_X)):
            net.sgd_step(XOR_X[i : i + 1], XOR_Y[i : i + 1], loss="mse", learning_rate=0.5)
        pred = net.forward(XOR_X)
        if np.array_equal(pred > 0.5, XOR_Y > 0.5):
            break
    solved = bool(np.array_equal(pred > 0.5, XOR_Y > 0.5))
    if solved:
        print(f"  solved after {epoch} epochs (the first epoch with every prediction on the right side of 0.5)")
    for xi, yi, p in zip(XOR_X, XOR_Y, pred):
        print(f"  xor({xi[0]:.0f}, {xi[1]:.0f}) = {yi[0]:.0f}   prediction {p[0]:.4f}")
    if not solved:
        print(f"  xor was not learned in {max_epochs} epochs", file=sys.stderr)
    return solved


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="nervenet demo", description="A short demo of nervenet.")
    parser.add_argument("--seed", type=int, default=0, help="seed of the xor network and its shuffling")
    parser.add_argument("--max-epochs", type=int, default=2000, help="give up on xor after this many epochs")
    args = parser.parse_args(argv)
    print(f"nervenet {nv.__version__}: neural networks as explicit graphs of nodes and edges")
    results = {
        "the notes' xor example": notes_xor_example(),
        "gradient check": gradient_check_example(),
        "xor training": train_xor(args.seed, args.max_epochs),
    }
    failed = [name for name, ok in results.items() if not ok]
    if failed:
        print(f"\nnervenet demo FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("\nall demo checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
