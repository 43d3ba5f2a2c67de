"""LeNet-5 on MNIST (target: at least 99.0% test accuracy): the official
60,000 training and 10,000 test images from ../shared/data/mnist (28x28; C1
pads by 2 as in the notes), scaled to [0, 1] and standardised with the
training mean and deviation; softmax
cross-entropy, Adam with a step-decayed learning rate, L2 5e-4. The epochs are fixed;
the test set is evaluated once, at the end.

    python benches/mnist_lenet.py                 # 10 epochs, ~25 s on 2 cores
    python benches/mnist_lenet.py --epochs 2 --threads 1

Prints one line per epoch, then the test accuracy, epochs and time; exits 1
if the accuracy is below --target (default 0.99).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import nervenet as nv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mnist_mlp import EpochTimer  # noqa: E402  (one line per epoch, timed)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def images(data: Path, kind: str, mean: float | None = None, std: float | None = None):
    x, y = nv.data.load_mnist(data, kind=kind)
    x = (x.astype(np.float32) / 255.0)[:, None]  # (n, 1, 28, 28)
    if mean is None:
        mean, std = float(x.mean()), float(x.std())
    return (x - mean) / std, y.astype(np.int64), mean, std


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--decay-every", type=int, default=4, help="halve the learning rate every this many epochs")
    p.add_argument("--l2", type=float, default=5e-4, help="L2 penalty on weights")
    p.add_argument("--train-size", type=int, default=0, help="use only the first N training images (0: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="0: nervenet's default")
    p.add_argument("--target", type=float, default=0.99)
    args = p.parse_args()
    if args.threads:
        nv.set_num_threads(args.threads)
    t0 = time.perf_counter()
    x, y, mean, std = images(args.data, "train")
    xt, yt, _, _ = images(args.data, "test", mean, std)
    if args.train_size:
        x, y = x[:args.train_size], y[:args.train_size]
    loaded = time.perf_counter() - t0
    net = nv.Network(nv.cnn.lenet5(), dtype="float32", init="kaiming", seed=args.seed)
    print(f"nervenet {nv.__version__}: LeNet-5, {net.n_params} parameters, {nv.get_num_threads()} threads, "
          f"{len(x)} training images; data read in {loaded:.1f}s", flush=True)
    timer = EpochTimer(args.epochs)
    t1 = time.perf_counter()
    net.fit(x, y, loss="softmax", optimizer=nv.optim.Adam(args.lr), batch_size=args.batch_size, epochs=args.epochs,
            seed=args.seed, schedule=nv.optim.StepDecay(every=args.decay_every, factor=0.5), callbacks=[timer],
            l2=args.l2, verbose=0)
    trained = time.perf_counter() - t1
    metrics = net.evaluate(xt, yt, "softmax")
    ok = metrics["accuracy"] >= args.target
    print(f"MNIST LeNet-5: test accuracy {metrics['accuracy']:.4f} (loss {metrics['loss']:.4f}, "
          f"{int(metrics['count'])} images) after {len(timer.times)} epochs; training {trained:.1f}s "
          f"({np.mean(timer.times):.1f}s per epoch){'' if ok else f' -- BELOW the target {args.target}'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
