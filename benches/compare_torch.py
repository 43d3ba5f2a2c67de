"""nervenet against PyTorch on the same work, in one run, f32, same threads.

    python benches/compare_torch.py [--threads N] [--only LETTERS] [--rounds R]

Workloads (goal: torch time / nervenet time at least this):
  (a) xor 2-2-1 (tanh, sigmoid, MSE), an epoch of 4 one-sample SGD steps  10x
  (b) MLP 784-512-512-10 (relu, softmax CE, mean), batch 256, forward +
      backward                                       1.4x at 1 thread, 1.2x at 2+
  (c) random sparse DAG with skip edges (300 hidden, ~10% of edges, batch 64)
      against the same network in PyTorch as masked dense layers          10x
  (d) Elman 10-16-1 (hidden fully connected to itself at skip 1, tanh) over
      500 steps, batch 1, forward + BPTT, against torch.nn.RNN(10, 16) +
      Linear                                                                3x
  (e) LeNet-5 as the notes build it (nv.cnn.lenet5(): untied biases on every
      map, C3 connection table), batch 64, softmax, forward + backward,
      against the same layers in torch (C3 as a full 6->16 convolution with
      zeros where the table has no edge)                                  1.5x
  (f) small VGG (nv.cnn.small_vgg(): 3x3 convs 32-32-pool-64-64-pool-128-128-
      pool, dense 128, 10), batch 64, softmax, forward + backward         1.1x
  (g) one 3x3 convolution, 64 -> 64 channels, 32x32 maps, padding 1, batch 32,
      forward + backward (input and filter gradients), against conv2d     1.0x
  (h) MNIST MLP 784-512-512-10 (relu, softmax CE, mean), one SGD step at
      batch 1 (torch: zero_grad, backward, optimizer step)                1.5x
  (i) (b)'s nervenet timing (timed alone if (b) is not run) as a rate,
      2 x 256 x (3 x weights - 784 x 512) flops per call (no input gradient
      for the first layer), in GFLOP/s and as a share of the
      measured f32 FMA ceiling per core x threads

Each pair gets the same weights and is checked to compute the same loss
before it is timed. Timing by benches/harness.py: interleaved rounds, medians,
ratio = median of per-round torch / nervenet (> 1: nervenet is faster).
PyTorch is an optional dependency: pip install ".[bench]".
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections import defaultdict
from pathlib import Path
from typing import Callable

import numpy as np
import torch

import nervenet as nv

sys.path.insert(0, str(Path(__file__).resolve().parent))  # harness, cnn_torch
from harness import MIN_ROUNDS, Contest, Result, header  # noqa: E402

Pair = tuple[Callable[[], object], Callable[[], object]]  # (nervenet, torch)


def _close(a: float, b: float, rel: float) -> None:
    assert abs(a - b) <= rel * max(1.0, abs(a)), f"losses differ: nervenet {a}, torch {b}"


# ---- copying nervenet's weights into torch --------------------------------------

def edge_matrix(net: nv.Network, srcs: list[int], dsts: list[int], time_skip: int = 0) -> torch.Tensor:
    """The weights of the edges srcs -> dsts as a (len(dsts), inputs) matrix:
    scalar sources, 0 where there is no edge; feature-map sources (each
    feeding every dst) contribute their flattened (C, H, W) weights."""
    g, flat = net.graph, net.parameters
    if g.node(srcs[0])["kind"] == "feature_map":
        return torch.from_numpy(np.array([np.concatenate([net.get_group(f"edge:{g.find_edge(s, d)}").ravel()
                                                          for s in srcs]) for d in dsts], dtype=np.float32))
    index = [[-1 if e is None else net.parameter_index(f"edge:{e}")
              for e in (g.find_edge(s, d, time_skip=time_skip) for s in srcs)] for d in dsts]
    return torch.from_numpy(np.append(flat, np.float32(0))[np.array(index)])


def node_biases(net: nv.Network, nodes: list[int]) -> torch.Tensor:
    """Stacked biases of nodes (scalar nodes, 0 for none; or maps, each its (C, H, W) or (C,) bias)."""
    g, flat = net.graph, net.parameters
    if g.node(nodes[0])["kind"] == "feature_map":
        return torch.from_numpy(np.stack([net.get_group(f"node:{n}:bias") for n in nodes]))
    return torch.tensor([flat[net.parameter_index(f"node:{n}:bias")] if g.node(n)["bias"] else 0.0 for n in nodes])


def mlp_twin(net: nv.Network, sizes: list[int]) -> list[torch.nn.Linear]:
    """torch.nn.Linear layers holding nv.mlp(sizes)'s weights (its node ids are consecutive)."""
    ids = np.cumsum([0] + sizes)
    layers = [list(range(a, b)) for a, b in zip(ids, ids[1:])]
    assert net.graph.inputs() == layers[0] and net.graph.outputs() == layers[-1]
    linears = []
    for src, dst in zip(layers, layers[1:]):
        has_bias = net.graph.node(dst[0])["bias"]
        lin = torch.nn.Linear(len(src), len(dst), bias=has_bias)
        with torch.no_grad():
            lin.weight.copy_(edge_matrix(net, src, dst))
            if has_bias:
                lin.bias.copy_(node_biases(net, dst))
        linears.append(lin)
    return linears


def sequential(linears: list[torch.nn.Linear], act: type[torch.nn.Module], out: torch.nn.Module) -> torch.nn.Sequential:
    mods: list[torch.nn.Module] = []
    for lin in linears[:-1]:
        mods += [lin, act()]
    return torch.nn.Sequential(*mods, linears[-1], out)


# ---- (a) xor, one SGD step per sample ---------------------------------------------

def xor() -> Pair:
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    Y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    net = nv.Network(nv.mlp([2, 2, 1], activation="tanh", output_activation="sigmoid"), dtype="float32", seed=1)
    model = sequential(mlp_twin(net, [2, 2, 1]), torch.nn.Tanh, torch.nn.Sigmoid())
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    mse = torch.nn.MSELoss()
    rows = [(X[i : i + 1], Y[i : i + 1]) for i in range(4)]
    trows = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in rows]

    def ours() -> None:
        for x, y in rows:
            net.sgd_step(x, y, "mse", learning_rate=0.5)

    def theirs() -> float:
        for x, y in trows:
            opt.zero_grad(set_to_none=True)
            loss = mse(model(x), y)
            loss.backward()
            opt.step()
        return loss.item()

    ours()
    theirs()  # one epoch each, then the same loss on the last sample
    _close(net.loss_and_gradient(*rows[-1], "mse")[0], mse(model(trows[-1][0]), trows[-1][1]).item(), 1e-5)
    return ours, theirs


# ---- (b), (h), (i) MNIST MLP ------------------------------------------------------

MLP = [784, 512, 512, 10]
MLP_WEIGHTS = sum(a * b for a, b in zip(MLP, MLP[1:]))
# Multiply-adds of one fwd+bwd pass per sample: forward and weight gradient
# for every layer, input gradient for all but the first (inputs need none).
MLP_MACS = 3 * MLP_WEIGHTS - MLP[0] * MLP[1]


def _mlp_pair() -> tuple[nv.Network, torch.nn.Sequential]:
    net = nv.Network(nv.mlp(MLP, activation="relu", output_activation="identity", bias=True), dtype="float32",
                     init="kaiming", seed=0)
    return net, sequential(mlp_twin(net, MLP), torch.nn.ReLU, torch.nn.Identity())


def mlp(batch: int = 256) -> Pair:
    net, model = _mlp_pair()
    rng = np.random.default_rng(0)
    X = rng.random((batch, 784), dtype=np.float32)
    return _classifier_pair(net, model, X, rng.integers(0, 10, batch))


def mlp_sgd1() -> Pair:
    net, model = _mlp_pair()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    ce = torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    X = rng.random((64, 784), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    rows = [(X[i : i + 1], y[i : i + 1]) for i in range(64)]
    trows = [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in rows]
    ours_next, theirs_next = itertools.cycle(rows).__next__, itertools.cycle(trows).__next__

    def ours() -> float:
        return net.sgd_step(*ours_next(), "softmax", learning_rate=0.01, reduction="mean")

    def theirs() -> float:
        x, t = theirs_next()
        opt.zero_grad(set_to_none=True)
        loss = ce(model(x), t)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(3):  # the same samples in the same order: same losses, step after step
        _close(ours(), theirs(), 1e-4)
    return ours, theirs


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
        index = {n: i for i, n in enumerate(order)}
        self.outputs = [index[n] for n in graph.outputs()]
        params = net.named_parameters()
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        self.masks: list[torch.Tensor] = []
        start = len(inputs)
        for lv in range(1, max(level.values()) + 1):
            nodes = [n for n in order if level[n] == lv]
            w, mask, b = torch.zeros(len(nodes), start), torch.zeros(len(nodes), start), torch.zeros(len(nodes))
            for r, n in enumerate(nodes):
                b[r] = params.get(f"node:{n}:bias", 0.0)
                for e in preds[n]:
                    w[r, index[e["src"]]] = params[f"edge:{e['id']}"]
                    mask[r, index[e["src"]]] = 1.0
            self.weights.append(torch.nn.Parameter(w))
            self.biases.append(torch.nn.Parameter(b))
            self.masks.append(mask)
            start += len(nodes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for w, b, m in zip(self.weights, self.biases, self.masks):
            h = torch.cat([h, torch.tanh(torch.nn.functional.linear(h, w * m, b))], dim=1)
        return h[:, self.outputs]


def sparse() -> Pair:
    g = nv.random_graph(20, 300, 5, density=0.1, activations=["tanh"], bias_probability=1.0, seed=3)
    net = nv.Network(g, dtype="float32", seed=0)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((64, 20), dtype=np.float32)
    Y = rng.standard_normal((64, 5), dtype=np.float32)
    model = MaskedDag(g, net)
    tx, ty = torch.from_numpy(X), torch.from_numpy(Y)
    mse = torch.nn.MSELoss(reduction="sum")
    print(f"#   (c) graph: {g.num_nodes} nodes, {g.num_edges} edges, {len(model.weights)} levels")

    def ours() -> float:
        return net.loss_and_gradient(X, Y, "mse")[0]

    def theirs() -> float:
        model.zero_grad(set_to_none=True)
        loss = mse(model(tx), ty) / 5  # nervenet's mse averages over outputs
        loss.backward()
        return loss.item()

    _close(ours(), theirs(), 1e-4)
    return ours, theirs


# ---- (d) Elman over 500 steps -------------------------------------------------------

def elman() -> Pair:
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
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(edge_matrix(net, x, h))
        rnn.weight_hh_l0.copy_(edge_matrix(net, h, h, time_skip=1))
        rnn.bias_ih_l0.copy_(node_biases(net, h))
        rnn.bias_hh_l0.zero_()
        head.weight.copy_(edge_matrix(net, h, y))
        head.bias.copy_(node_biases(net, y))
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.0)  # only for zero_grad, as a torch user writes it
    tx, ty = torch.from_numpy(X), torch.from_numpy(Y)
    mse = torch.nn.MSELoss(reduction="sum")

    def ours() -> float:
        return net.loss_and_gradient(X, Y, "mse")[0]

    def theirs() -> float:
        opt.zero_grad(set_to_none=True)
        loss = mse(head(rnn(tx)[0]), ty)
        loss.backward()
        return loss.item()

    _close(ours(), theirs(), 1e-4)
    return ours, theirs


# ---- (e)-(g) CNNs ------------------------------------------------------------------

def _classifier_pair(net: nv.Network, model: torch.nn.Module, X: np.ndarray, y: np.ndarray) -> Pair:
    """Softmax cross-entropy, mean over the batch, forward + backward, checked equal."""
    tx, ty = torch.from_numpy(X), torch.from_numpy(y)
    ce = torch.nn.CrossEntropyLoss()

    def ours() -> float:
        return net.loss_and_gradient(X, y, "softmax", reduction="mean")[0]

    def theirs() -> float:
        model.zero_grad(set_to_none=True)
        loss = ce(model(tx), ty)
        loss.backward()
        return loss.item()

    _close(ours(), theirs(), 1e-4)
    return ours, theirs


def lenet_twin(net: nv.Network) -> torch.nn.Sequential:
    """nv.cnn.lenet5() in torch with net's weights (ids as its docstring lists them)."""
    from cnn_torch import _Bias, _Flatten

    x, c1, s2, c3, s4 = 0, range(1, 7), range(7, 13), range(13, 29), range(29, 45)
    c5, f6, out = list(range(45, 165)), list(range(165, 249)), list(range(249, 259))
    g, relu = net.graph, torch.nn.ReLU
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2, bias=False), _Bias((6, 28, 28)), relu(),
        torch.nn.MaxPool2d(2), _Bias((6, 14, 14)), relu(),
        torch.nn.Conv2d(6, 16, 5, bias=False), _Bias((16, 10, 10)), relu(),
        torch.nn.MaxPool2d(2), _Bias((16, 5, 5)), relu(), _Flatten(),
        torch.nn.Linear(400, 120), relu(), torch.nn.Linear(120, 84), relu(), torch.nn.Linear(84, 10, bias=False))
    w3 = torch.zeros(16, 6, 5, 5)  # C3's connection table: zeros where S2 map i does not feed C3 map j
    for j, dst in enumerate(c3):
        for i, src in enumerate(s2):
            e = g.find_edge(src, dst)
            if e is not None:
                w3[j, i] = torch.from_numpy(net.get_group(f"edge:{e}").reshape(5, 5))
    with torch.no_grad():
        model[0].weight.copy_(torch.stack([torch.from_numpy(net.get_group(f"edge:{g.find_edge(x, n)}")[0])
                                           for n in c1]))
        model[6].weight.copy_(w3)
        for k, maps in ((1, c1), (4, s2), (7, c3), (10, s4)):
            model[k].bias.copy_(node_biases(net, list(maps)).squeeze(1))
        for k, (src, dst) in ((13, (list(s4), c5)), (15, (c5, f6)), (17, (f6, out))):
            model[k].weight.copy_(edge_matrix(net, src, dst))
            if model[k].bias is not None:
                model[k].bias.copy_(node_biases(net, dst))
    return model


def lenet(batch: int = 64) -> Pair:
    net = nv.Network(nv.cnn.lenet5(), dtype="float32", init="kaiming", seed=0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(batch, 1, 28, 28)).astype(np.float32)
    return _classifier_pair(net, lenet_twin(net), X, rng.integers(0, 10, batch))


def small_vgg() -> Pair:
    from cnn_torch import copy_chain_weights, torch_chain

    g = nv.cnn.small_vgg()
    net = nv.Network(g, dtype="float32", init="kaiming", seed=0)
    model = torch_chain(g)
    copy_chain_weights(g, net.parameters, model)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3, 32, 32)).astype(np.float32)
    return _classifier_pair(net, model, X, rng.integers(0, 10, 64))


def conv64() -> Pair:
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
    assert np.allclose(net.forward(X).reshape(32, 64, 32, 32), conv(tx).detach().numpy(), atol=1e-3)

    def ours() -> object:
        return net.backward(X, G, input_grads=True)

    def theirs() -> None:
        conv.zero_grad(set_to_none=True)
        tx.grad = None
        conv(tx).backward(tg)

    return ours, theirs


# letter: (name, workload, goal; (b)'s goal depends on the thread count)
WORKLOADS: dict[str, tuple[str, Callable[[], Pair], float]] = {
    "a": ("(a) xor 2-2-1, epoch of 4 one-sample SGD steps", xor, 10.0),
    "b": ("(b) MLP 784-512-512-10, batch 256, fwd+bwd", mlp, 1.4),
    "c": ("(c) sparse DAG 300 hidden ~10%, batch 64, fwd+bwd", sparse, 10.0),
    "d": ("(d) Elman 10-16-1, 500 steps, fwd+BPTT", elman, 3.0),
    "e": ("(e) LeNet-5 (notes), batch 64, fwd+bwd", lenet, 1.5),
    "f": ("(f) small VGG, batch 64, fwd+bwd", small_vgg, 1.1),
    "g": ("(g) conv 3x3 64->64 32x32, batch 32, fwd+bwd", conv64, 1.0),
    "h": ("(h) MLP 784-512-512-10, one SGD step, batch 1", mlp_sgd1, 1.5),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=None, help="threads for both libraries (default: all cores)")
    parser.add_argument("--only", default="", help="run only the workloads whose letters are given, e.g. efg")
    parser.add_argument("--rounds", type=int, default=MIN_ROUNDS, help=f"timed rounds (at least {MIN_ROUNDS})")
    args = parser.parse_args()
    if args.rounds < MIN_ROUNDS:
        parser.error(f"--rounds must be at least {MIN_ROUNDS}")
    threads = args.threads or nv.get_num_threads()
    contest = Contest(threads, rounds=args.rounds)
    print(header(["nervenet", "torch"]))
    results = {}
    for letter, (name, workload, goal) in WORKLOADS.items():
        if args.only and letter not in args.only:
            continue
        if letter == "b" and threads > 1:
            goal = 1.2
        ours, theirs = workload()
        results[letter] = contest.run(name, {"nervenet": ours, "torch": theirs}, target=goal)
        print(results[letter].row(), flush=True)
    if not args.only or "i" in args.only:
        ceiling, _ = nv.machine.fma_ceiling()
        name = "(i) (b) for nervenet: GFLOP/s"
        if "b" in results:  # (b)'s own timing
            result = Result(name, {"nervenet": results["b"].timings["nervenet"]})
        else:
            result = contest.run(name, {"nervenet": mlp()[0]})
        gflops = 2 * 256 * MLP_MACS / result.timings["nervenet"].median / 1e9
        result.note = (f"{gflops:.1f} GFLOP/s = {100 * gflops / (threads * ceiling):.0f}% of "
                       f"{threads} x {ceiling:.0f} GFLOP/s FMA ceiling")
        print(result.row())

if __name__ == "__main__":
    main()
