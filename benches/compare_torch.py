"""nervenet against PyTorch on the same work, in one run, f32, same threads.

    python benches/compare_torch.py [--threads N] [--quick]

Workloads:
  (a) xor 2-2-1 (tanh, sigmoid, MSE), one training step per sample
  (b) MLP 784-512-512-10 (relu, softmax), batch 256, forward + backward
  (c) random sparse DAG with skip edges (300 hidden, ~10% of edges, batch 64)
      against the same network in PyTorch as masked dense layers
  (d) Elman 10-16-1 (hidden fully connected to itself at skip 1, tanh) over
      500 steps, batch 1, forward + BPTT, against torch.nn.RNN(10, 16) + Linear
  (e) LeNet-5 as the notes build it (nv.cnn.lenet5(): untied biases on every
      map, C3 connection table), batch 64, softmax, forward + backward,
      against the same layers in torch (C3 as a full 6->16 convolution: the
      masked filter tensor costs the same)
  (f) small VGG (nv.cnn.small_vgg(): 3x3 convs 32-32-pool-64-64-pool-128-128-
      pool, dense 128, 10), batch 64, softmax, forward + backward, against its
      torch twin with the same weights
  (g) one 3x3 convolution, 64 -> 64 channels, 32x32 maps, padding 1, batch 32,
      forward + backward (input and filter gradients), against conv2d

Each pair is checked to compute the same thing before it is timed. Prints
milliseconds per unit of work and the ratio torch / nervenet (> 1: nervenet
is faster). PyTorch is an optional dependency: pip install ".[bench]".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable

import numpy as np
import torch

import nervenet as nv

sys.path.insert(0, str(Path(__file__).resolve().parent))  # cnn_torch


def best_time(fn: Callable[[], None], repeat: int, number: int) -> float:
    """Median over `repeat` runs of the mean time of `number` calls (seconds)."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t) / number)
    return statistics.median(times)


def paired_times(ours: Callable[[], None], theirs: Callable[[], None], repeat: int,
                 number: int) -> tuple[float, float]:
    """The fastest of `2·repeat` interleaved runs of `number` calls each, per
    library (seconds per call): on a shared machine, runs side by side see
    the same background load, and the minimum is the least disturbed."""
    ours(), theirs()
    best = [float("inf"), float("inf")]
    for _ in range(2 * repeat):
        for k, fn in enumerate((ours, theirs)):
            t = time.perf_counter()
            for _ in range(number):
                fn()
            best[k] = min(best[k], (time.perf_counter() - t) / number)
    return best[0], best[1]


# ---- (a) xor, one SGD step per sample ---------------------------------------------

def xor(repeat: int) -> tuple[float, float]:
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    Y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    g = nv.mlp([2, 2, 1], activation="tanh", output_activation="sigmoid")
    net = nv.Network(g, dtype="float32", seed=1)
    rows = [(X[i : i + 1], Y[i : i + 1]) for i in range(4)]

    def nervenet_epoch() -> None:
        for x, y in rows:
            net.sgd_step(x, y, "mse", learning_rate=0.5)

    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1, bias=False),
                                torch.nn.Sigmoid())
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    tx = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in rows]
    mse = torch.nn.MSELoss()

    def torch_epoch() -> None:
        for x, y in tx:
            opt.zero_grad()
            mse(model(x), y).backward()
            opt.step()

    number = 200
    ours = best_time(nervenet_epoch, repeat, number) / 4
    theirs = best_time(torch_epoch, repeat, number) / 4
    return ours, theirs


# ---- (b) MLP ---------------------------------------------------------------------

def mlp(repeat: int) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    X = rng.random((256, 784), dtype=np.float32)
    y = rng.integers(0, 10, 256)
    g = nv.mlp([784, 512, 512, 10], activation="relu", output_activation="identity", bias=True)
    net = nv.Network(g, dtype="float32", init="kaiming", seed=0)

    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                                torch.nn.ReLU(), torch.nn.Linear(512, 10))
    copy_mlp_weights(net, model, [784, 512, 512, 10])
    tx, ty = torch.from_numpy(X), torch.from_numpy(y)
    ce = torch.nn.CrossEntropyLoss()
    loss, grad = net.loss_and_gradient(X, y, "softmax", reduction="mean")
    model.zero_grad()
    tl = ce(model(tx), ty)
    tl.backward()
    assert abs(loss - tl.item()) < 1e-4 * max(1.0, abs(loss)), (loss, tl.item())

    def torch_step() -> None:
        model.zero_grad(set_to_none=False)
        ce(model(tx), ty).backward()

    ours = best_time(lambda: net.loss_and_gradient(X, y, "softmax", reduction="mean"), repeat, 10)
    theirs = best_time(torch_step, repeat, 10)
    return ours, theirs


def copy_mlp_weights(net: nv.Network, model: torch.nn.Module, sizes: list[int]) -> None:
    """Loads nervenet's parameters into the torch layers (same ids as nv.mlp assigns)."""
    params = net.named_parameters()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    first = 0
    edge = 0
    for layer, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        src = list(range(first, first + n_in))
        dst = list(range(first + n_in, first + n_in + n_out))
        w = np.zeros((n_out, n_in), dtype=np.float32)
        for i in range(n_in):  # connect_all is src-major
            for j in range(n_out):
                w[j, i] = params[f"edge:{edge}"]
                edge += 1
        b = np.array([params.get(f"node:{d}:bias", 0.0) for d in dst], dtype=np.float32)
        with torch.no_grad():
            linears[layer].weight.copy_(torch.from_numpy(w))
            if linears[layer].bias is not None:
                linears[layer].bias.copy_(torch.from_numpy(b))
        first += n_in


# ---- (c) sparse DAG ---------------------------------------------------------------

class MaskedDag(torch.nn.Module):
    """The graph as PyTorch would run it: one masked dense layer per
    topological level, reading every earlier node."""

    def __init__(self, graph: nv.Graph, net: nv.Network) -> None:
        super().__init__()
        inputs = graph.inputs()
        edges = [graph.edge(e) for e in graph.edge_ids()]
        level = {n: 0 for n in inputs}
        preds: dict[int, list[dict]] = defaultdict(list)
        for e in edges:
            preds[e["dst"]].append(e)
        others = [n for n in graph.node_ids() if n not in level]
        while others:  # levels by repeated relaxation (graph is a DAG)
            rest = []
            for n in others:
                if all(p["src"] in level for p in preds[n]):
                    level[n] = 1 + max((level[p["src"]] for p in preds[n]), default=0)
                else:
                    rest.append(n)
            others = rest
        order = sorted(level, key=lambda n: (level[n], n))
        self.index = {n: i for i, n in enumerate(order)}
        self.n_inputs = len(inputs)
        self.outputs = [self.index[n] for n in graph.outputs()]
        params = net.named_parameters()
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        self.masks: list[torch.Tensor] = []
        self.slices: list[tuple[int, int]] = []
        depth = max(level.values())
        start = self.n_inputs
        for lv in range(1, depth + 1):
            nodes = [n for n in order if level[n] == lv]
            end = start + len(nodes)
            w = torch.zeros(len(nodes), start)
            mask = torch.zeros(len(nodes), start)
            b = torch.zeros(len(nodes))
            for r, n in enumerate(nodes):
                b[r] = params.get(f"node:{n}:bias", 0.0)
                for e in preds[n]:
                    w[r, self.index[e["src"]]] = params[f"edge:{e['id']}"]
                    mask[r, self.index[e["src"]]] = 1.0
            self.weights.append(torch.nn.Parameter(w))
            self.biases.append(torch.nn.Parameter(b))
            self.masks.append(mask)
            self.slices.append((start, end))
            start = end

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for w, b, m in zip(self.weights, self.biases, self.masks):
            h = torch.cat([h, torch.tanh(torch.nn.functional.linear(h, w * m, b))], dim=1)
        return h[:, self.outputs]


def sparse(repeat: int) -> tuple[float, float]:
    g = nv.random_graph(20, 300, 5, density=0.1, activations=["tanh"], bias_probability=1.0, seed=3)
    net = nv.Network(g, dtype="float32", seed=0)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((64, 20), dtype=np.float32)
    Y = rng.standard_normal((64, 5), dtype=np.float32)
    model = MaskedDag(g, net)
    tx, ty = torch.from_numpy(X), torch.from_numpy(Y)
    with torch.no_grad():
        assert np.allclose(model(tx).numpy(), net.forward(X), atol=1e-4), "masked torch DAG differs"
    mse = torch.nn.MSELoss(reduction="sum")

    def torch_step() -> None:
        model.zero_grad(set_to_none=False)
        (mse(model(tx), ty) / 5).backward()  # nervenet's mse averages over outputs

    loss, _ = net.loss_and_gradient(X, Y, "mse")
    model.zero_grad()
    tl = mse(model(tx), ty) / 5
    assert abs(loss - tl.item()) < 1e-3 * max(1.0, abs(loss)), (loss, tl.item())
    ours = best_time(lambda: net.loss_and_gradient(X, Y, "mse"), repeat, 20)
    theirs = best_time(torch_step, repeat, 5)
    edges = g.num_edges
    print(f"    (c) graph: {g.num_nodes} nodes, {edges} edges, {len(model.weights)} levels")
    return ours, theirs


# ---- (d) Elman over 500 steps -------------------------------------------------------

def elman(repeat: int) -> tuple[float, float]:
    g = nv.Graph()
    x = g.add_inputs(10)
    h = g.add_nodes(16, "tanh")
    y = g.add_outputs(1, "identity", bias=True)
    g.connect_all(x, h)
    g.connect_all(h, h, time_skip=1)
    g.connect_all(h, y)
    net = nv.Network(g, dtype="float32", seed=0)
    rng = np.random.default_rng(2)
    X = rng.standard_normal((1, 500, 10), dtype=np.float32)
    Y = rng.standard_normal((1, 500, 1), dtype=np.float32)

    rnn = torch.nn.RNN(10, 16, nonlinearity="tanh", batch_first=True)
    head = torch.nn.Linear(16, 1)
    params = list(rnn.parameters()) + list(head.parameters())
    tx, ty = torch.from_numpy(X), torch.from_numpy(Y)
    mse = torch.nn.MSELoss(reduction="sum")

    def torch_step() -> None:
        for p in params:
            p.grad = None
        out, _ = rnn(tx)
        mse(head(out), ty).backward()

    ours = best_time(lambda: net.loss_and_gradient(X, Y, "mse"), repeat, 10)
    theirs = best_time(torch_step, repeat, 10)
    return ours, theirs


# ---- (e)-(g) CNNs ------------------------------------------------------------------

def _cnn_step(net: nv.Network, model: torch.nn.Module, X: np.ndarray, y: np.ndarray, repeat: int,
              check: bool) -> tuple[float, float]:
    tx, ty = torch.from_numpy(X), torch.from_numpy(y)
    ce = torch.nn.CrossEntropyLoss()
    if check:
        loss, _ = net.loss_and_gradient(X, y, "softmax", reduction="mean")
        tl = ce(model(tx), ty).item()
        assert abs(loss - tl) < 1e-4 * max(1.0, abs(loss)), (loss, tl)

    def torch_step() -> None:
        model.zero_grad(set_to_none=False)
        ce(model(tx), ty).backward()

    return paired_times(lambda: net.loss_and_gradient(X, y, "softmax", reduction="mean"), torch_step, repeat, 3)
    return ours, theirs


def lenet(repeat: int) -> tuple[float, float]:
    from cnn_torch import _Bias, _Flatten

    net = nv.Network(nv.cnn.lenet5(), dtype="float32", init="kaiming", seed=0)
    relu = torch.nn.ReLU
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2, bias=False), _Bias((6, 28, 28)), relu(),
        torch.nn.MaxPool2d(2), _Bias((6, 14, 14)), relu(),
        torch.nn.Conv2d(6, 16, 5, bias=False), _Bias((16, 10, 10)), relu(),
        torch.nn.MaxPool2d(2), _Bias((16, 5, 5)), relu(), _Flatten(),
        torch.nn.Linear(400, 120), relu(), torch.nn.Linear(120, 84), relu(), torch.nn.Linear(84, 10, bias=False))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 1, 28, 28)).astype(np.float32)
    return _cnn_step(net, model, X, rng.integers(0, 10, 64), repeat, check=False)


def small_vgg(repeat: int) -> tuple[float, float]:
    from cnn_torch import copy_chain_weights, torch_chain

    g = nv.cnn.small_vgg()
    net = nv.Network(g, dtype="float32", init="kaiming", seed=0)
    model = torch_chain(g)
    copy_chain_weights(g, net.parameters, model)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3, 32, 32)).astype(np.float32)
    return _cnn_step(net, model, X, rng.integers(0, 10, 64), repeat, check=True)


def conv64(repeat: int) -> tuple[float, float]:
    g = nv.Graph()
    x = g.add_feature_map(64, 32, 32, role="input")
    y = g.add_feature_map(64, 32, 32, role="output", activation="identity", bias=False)
    g.connect_filter(x, y, 3, padding=1)
    net = nv.Network(g, dtype="float32", seed=0)
    conv = torch.nn.Conv2d(64, 64, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(net.parameters.reshape(64, 64, 3, 3)))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 64, 32, 32)).astype(np.float32)
    G = rng.normal(size=(32, 64 * 32 * 32)).astype(np.float32)
    tx = torch.from_numpy(X).requires_grad_(True)
    tg = torch.from_numpy(G.reshape(32, 64, 32, 32))
    ours_out = net.forward(X)
    assert np.allclose(ours_out.reshape(32, 64, 32, 32), conv(tx).detach().numpy(), atol=1e-3)

    def torch_step() -> None:
        conv.zero_grad(set_to_none=False)
        tx.grad = None
        conv(tx).backward(tg)

    return paired_times(lambda: net.backward(X, G, input_grads=True), torch_step, repeat, 3)


WORKLOADS = {
    "(a) xor 2-2-1, one SGD step per sample": (xor, 10.0, "per step"),
    "(b) MLP 784-512-512-10, batch 256, fwd+bwd": (mlp, 1 / 1.25, "per batch"),
    "(c) sparse DAG 300 hidden ~10%, batch 64, fwd+bwd": (sparse, 10.0, "per batch"),
    "(d) Elman 10-16-1, 500 steps, fwd+BPTT": (elman, 3.0, "per sequence"),
    "(e) LeNet-5 (notes), batch 64, fwd+bwd": (lenet, 1.0, "per batch"),
    "(f) small VGG, batch 64, fwd+bwd": (small_vgg, 1.0, "per batch"),
    "(g) conv 3x3 64->64 32x32, batch 32, fwd+bwd": (conv64, 1 / 1.25, "per batch"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=None, help="threads for both libraries (default: all cores)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--only", default="", help="run only the workloads whose letters are given, e.g. efg")
    args = parser.parse_args()
    threads = args.threads or nv.get_num_threads()
    nv.set_num_threads(threads)
    torch.set_num_threads(threads)
    repeat = 3 if args.quick else 7
    print(f"nervenet {nv.__version__} vs torch {torch.__version__}, float32, {threads} thread(s)")
    print(f"{'workload':52s} {'nervenet':>12s} {'torch':>12s} {'ratio':>8s} {'target':>8s}")
    for name, (fn, target, unit) in WORKLOADS.items():
        if args.only and name[1] not in args.only:
            continue
        ours, theirs = fn(repeat)
        ratio = theirs / ours
        ok = "ok" if ratio >= target else "MISSED"
        print(f"{name:52s} {ours * 1e3:9.4f} ms {theirs * 1e3:9.4f} ms {ratio:7.2f}x {target:6.2f}x {ok}  ({unit})")


if __name__ == "__main__":
    main()
