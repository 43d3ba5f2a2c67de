"""How long the data loaders take on the real files in ../shared/data:

* MNIST train: the 60,000 images and labels (gzip IDX), read and checked;
* CIFAR-10: data_batch_1.bin and data_batch_2.bin (20,000 records);
* Penn Treebank: encoding ptb.train.txt (887,521 words) with its vocabulary;
* one-hot encoding the 60,000 MNIST labels and standardising the
  (60000, 784) float32 images with training statistics (numpy, vectorised).

    python benches/data_loading.py              # best of 3 runs each
    python benches/data_loading.py --repeat 5

Prints the seconds for each; the target is about a second each for MNIST,
CIFAR and the PTB encoding (they take a fraction of that). Exits 1 if one
takes over --limit. (Timings live here, not in the unit tests.)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from nervenet.data.cifar import load_cifar10
from nervenet.data.mnist import load_mnist
from nervenet.data.text import load_ptb

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - started)
    return best, out


def one_hot_and_standardise(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = images.reshape(len(images), -1).astype(np.float32)
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    std[std == 0] = 1.0  # constant border pixels
    X -= mean
    X /= std
    Y = np.zeros((len(labels), 10), dtype=np.float32)
    Y[np.arange(len(labels)), labels] = 1.0
    return X, Y


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="the shared data folder (default ../shared/data)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is printed")
    ap.add_argument("--limit", type=float, default=2.0, help="exit 1 if a loader takes longer (seconds)")
    args = ap.parse_args(argv)

    results = []
    t, (images, labels) = best_of(args.repeat, lambda: load_mnist(args.data / "mnist", kind="train"))
    results.append((f"MNIST train, gzip IDX -> uint8 {images.shape} + labels", t, True))
    batches = [args.data / "cifar10" / "cifar-10-batches-bin" / f"data_batch_{k}.bin" for k in (1, 2)]
    t, (cimages, _) = best_of(args.repeat, lambda: load_cifar10(batches))
    results.append((f"CIFAR-10 data_batch_1 + data_batch_2 -> uint8 {cimages.shape} + labels", t, True))
    vocabulary = load_ptb(args.data / "text" / "ptb", split="train").vocabulary
    raw = (args.data / "text" / "ptb" / "ptb.train.txt").read_text()
    t, ids = best_of(args.repeat, lambda: vocabulary.encode(raw))
    results.append((f"PTB train encoded with its vocabulary -> {ids.shape[0]} ids", t, True))
    t, (X, Y) = best_of(args.repeat, lambda: one_hot_and_standardise(images, labels))
    results.append((f"one-hot {Y.shape} + standardise float32 {X.shape}", t, False))

    width = max(len(name) for name, _, _ in results)
    for name, seconds, _ in results:
        print(f"{name:<{width}}  {seconds:7.3f} s")
    slow = [name for name, seconds, is_loader in results if is_loader and seconds > args.limit]
    if slow:
        print(f"over the {args.limit:.1f} s limit: {', '.join(slow)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
