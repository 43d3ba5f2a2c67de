"""Training speed against PyTorch on the same work, in one run:

  (e) an iris epoch of per-sample SGD (4-8-3 tanh, softmax): nervenet's
      fit(batch_size=1) — the whole epoch in Rust — against PyTorch's
      per-sample Python loop;               target: at least 50x faster
  (f) an MNIST epoch, MLP 784-512-512-10 (relu, softmax), batch 256, Adam;
                                             target: no slower than PyTorch

    python benches/compare_torch_training.py [--threads N] [--mnist-samples N]

f32, same thread count for both. Prints seconds per epoch, the ratio
torch / nervenet, and the test accuracy each reaches after one epoch (a
check that both did the same work).
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import time
from pathlib import Path

import numpy as np
import torch

import nervenet as nv

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def idx(path: Path) -> np.ndarray:
    """An IDX file (MNIST): big-endian header, then uint8 values."""
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def iris(repeat: int) -> tuple[float, float]:
    rows = [r.split(",") for r in (DATA / "uci" / "iris" / "iris.data").read_text().splitlines() if r.strip()]
    names = sorted({r[4] for r in rows})
    X = np.array([[float(v) for v in r[:4]] for r in rows], dtype=np.float32)
    X = (X - X.mean(0)) / X.std(0)
    y = np.array([names.index(r[4]) for r in rows], dtype=np.int64)
    net = nv.Network(nv.mlp([4, 8, 3], "tanh"), dtype="float32", seed=0)

    def ours() -> None:
        net.fit(X, y, loss="softmax", optimizer=nv.optim.SGD(0.01), batch_size=1, epochs=1, verbose=0)

    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3, bias=False))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    ce = torch.nn.CrossEntropyLoss(reduction="sum")
    tx, ty = torch.from_numpy(X), torch.from_numpy(y)

    def theirs() -> None:
        for i in torch.randperm(len(ty)):
            opt.zero_grad()
            ce(model(tx[i : i + 1]), ty[i : i + 1]).backward()
            opt.step()

    ours()
    theirs()
    return timed(ours, repeat), timed(theirs, repeat)


def mnist(samples: int) -> tuple[float, float, float, float]:
    root = DATA / "mnist"
    X = idx(root / "train-images-idx3-ubyte.gz")[:samples].reshape(-1, 784).astype(np.float32) / 255.0
    y = idx(root / "train-labels-idx1-ubyte.gz")[:samples].astype(np.int64)
    Xt = idx(root / "t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0
    yt = idx(root / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    net = nv.Network(nv.mlp([784, 512, 512, 10], "relu", bias=True), dtype="float32", init="kaiming", seed=0)
    t = time.perf_counter()
    net.fit(X, y, loss="softmax", optimizer=nv.optim.Adam(1e-3), batch_size=256, epochs=1, verbose=0)
    ours = time.perf_counter() - t
    our_acc = net.evaluate(Xt, yt, "softmax")["accuracy"]

    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                                torch.nn.ReLU(), torch.nn.Linear(512, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ce = torch.nn.CrossEntropyLoss()
    tx, ty = torch.from_numpy(X), torch.from_numpy(y)
    t = time.perf_counter()
    perm = torch.randperm(len(ty))
    for s in range(0, len(ty), 256):
        i = perm[s : s + 256]
        opt.zero_grad()
        ce(model(tx[i]), ty[i]).backward()
        opt.step()
    theirs = time.perf_counter() - t
    with torch.no_grad():
        their_acc = (model(torch.from_numpy(Xt)).argmax(1) == torch.from_numpy(yt)).float().mean().item()
    return ours, theirs, our_acc, their_acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--mnist-samples", type=int, default=60000)
    args = parser.parse_args()
    threads = args.threads or nv.get_num_threads()
    nv.set_num_threads(threads)
    torch.set_num_threads(threads)
    print(f"nervenet {nv.__version__} vs torch {torch.__version__}, float32, {threads} thread(s)")
    ours, theirs = iris(5)
    print(f"(e) iris epoch, per-sample SGD:  nervenet {ours * 1e3:8.3f} ms  torch {theirs * 1e3:8.3f} ms  "
          f"ratio {theirs / ours:6.1f}x  (target 50x)")
    ours, theirs, a, b = mnist(args.mnist_samples)
    print(f"(f) MNIST epoch 784-512-512-10, b256, Adam ({args.mnist_samples} samples):  nervenet {ours:6.2f} s "
          f"(test acc {a:.4f})  torch {theirs:6.2f} s (test acc {b:.4f})  ratio {theirs / ours:5.2f}x  (target >= 1)")


if __name__ == "__main__":
    main()
