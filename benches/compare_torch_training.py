"""Training speed against PyTorch on the same work, f32, same threads:

  (e) an iris epoch of per-sample SGD (4-8-3 tanh, softmax, lr 0.01):
      nervenet's fit(batch_size=1) -- the whole epoch in Rust -- against
      PyTorch's per-sample Python loop;              goal: at least 50x faster
  (f) an MNIST epoch, MLP 784-512-512-10 (relu, softmax), batch 256, Adam
      (first --mnist-samples training images);     goal: no slower than PyTorch

    python benches/compare_torch_training.py [--threads N] [--rounds R] [--mnist-samples N] [--only ef]

Both start from the same weights (nervenet's, copied into torch). Timing by
benches/harness.py: whole epochs, interleaved, at least 15 rounds after
warm-up, medians, ratio = median of per-round torch / nervenet. After the
timing each model's accuracy (iris: training set; MNIST: the 10,000 test
images) is printed with the number of epochs it trained: a check that both
did the same work.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

import nervenet as nv

sys.path.insert(0, str(Path(__file__).resolve().parent))  # harness, compare_torch
from compare_torch import mlp_twin, sequential  # noqa: E402
from harness import MIN_ROUNDS, Contest, header  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def epochs(contest: Contest, name: str, net: nv.Network, model: torch.nn.Module, fit_epoch, torch_epoch,
           goal: float, X: np.ndarray, y: np.ndarray, data: str) -> None:
    """Times one epoch each, then prints both models' accuracy on (X, y)."""
    done = {"nervenet": 0, "torch": 0}

    def ours() -> None:
        fit_epoch()
        done["nervenet"] += 1

    def theirs() -> None:
        torch_epoch()
        done["torch"] += 1

    print(contest.run(name, {"nervenet": ours, "torch": theirs}, target=goal).row(), flush=True)
    ours_acc = net.evaluate(X, y, "softmax")["accuracy"]
    with torch.no_grad():
        their_acc = (model(torch.from_numpy(X)).argmax(1) == torch.from_numpy(y)).float().mean().item()
    print(f"#   {data} accuracy: nervenet {ours_acc:.4f} after {done['nervenet']} epochs, "
          f"torch {their_acc:.4f} after {done['torch']} epochs")


def iris(contest: Contest) -> None:
    rows = [r.split(",") for r in (DATA / "uci" / "iris" / "iris.data").read_text().splitlines() if r.strip()]
    names = sorted({r[4] for r in rows})
    X = np.array([[float(v) for v in r[:4]] for r in rows], dtype=np.float32)
    X = (X - X.mean(0)) / X.std(0)
    y = np.array([names.index(r[4]) for r in rows], dtype=np.int64)
    net = nv.Network(nv.mlp([4, 8, 3], "tanh"), dtype="float32", seed=0)
    model = sequential(mlp_twin(net, [4, 8, 3]), torch.nn.Tanh, torch.nn.Identity())
    sgd = nv.optim.SGD(0.01)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    ce = torch.nn.CrossEntropyLoss(reduction="sum")
    tx, ty = torch.from_numpy(X), torch.from_numpy(y)

    def fit_epoch() -> None:
        net.fit(X, y, loss="softmax", optimizer=sgd, batch_size=1, epochs=1, verbose=0)

    def torch_epoch() -> None:
        for i in torch.randperm(len(ty)):
            opt.zero_grad(set_to_none=True)
            ce(model(tx[i : i + 1]), ty[i : i + 1]).backward()
            opt.step()

    epochs(contest, "(e) iris epoch, per-sample SGD", net, model, fit_epoch, torch_epoch, 50.0, X, y, "iris training")


def mnist(contest: Contest, samples: int) -> None:
    root = DATA / "mnist"
    X = nv.data.read_idx(root / "train-images-idx3-ubyte.gz")[:samples].reshape(-1, 784).astype(np.float32) / 255.0
    y = nv.data.read_idx(root / "train-labels-idx1-ubyte.gz")[:samples].astype(np.int64)
    Xt = nv.data.read_idx(root / "t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0
    yt = nv.data.read_idx(root / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    sizes = [784, 512, 512, 10]
    net = nv.Network(nv.mlp(sizes, "relu", bias=True), dtype="float32", init="kaiming", seed=0)
    model = sequential(mlp_twin(net, sizes), torch.nn.ReLU, torch.nn.Identity())
    adam = nv.optim.Adam(1e-3)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ce = torch.nn.CrossEntropyLoss()
    tx, ty = torch.from_numpy(X), torch.from_numpy(y)

    def fit_epoch() -> None:
        net.fit(X, y, loss="softmax", optimizer=adam, batch_size=256, epochs=1, verbose=0)

    def torch_epoch() -> None:
        perm = torch.randperm(len(ty))
        for s in range(0, len(ty), 256):
            i = perm[s : s + 256]
            opt.zero_grad(set_to_none=True)
            ce(model(tx[i]), ty[i]).backward()
            opt.step()

    epochs(contest, f"(f) MNIST epoch ({samples} samples), b256, Adam", net, model, fit_epoch, torch_epoch, 1.0,
           Xt, yt, "MNIST test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=None, help="threads for both libraries (default: all cores)")
    parser.add_argument("--rounds", type=int, default=MIN_ROUNDS, help=f"timed rounds (at least {MIN_ROUNDS})")
    parser.add_argument("--mnist-samples", type=int, default=60000, help="training images per MNIST epoch")
    parser.add_argument("--only", default="", help="run only the workloads whose letters are given: e, f")
    args = parser.parse_args()
    if args.rounds < MIN_ROUNDS:
        parser.error(f"--rounds must be at least {MIN_ROUNDS}")
    contest = Contest(args.threads or nv.get_num_threads(), rounds=args.rounds)
    print(header(["nervenet", "torch"]))
    if not args.only or "e" in args.only:
        iris(contest)
    if not args.only or "f" in args.only:
        mnist(contest, args.mnist_samples)


if __name__ == "__main__":
    main()
