"""MNIST with a plain MLP: the official 60,000 training and 10,000 test
images from ../shared/data/mnist (IDX .gz files), 784-512-512-10 with ReLU,
softmax cross-entropy, Adam with a step-decayed learning rate. No test-set
peeking: the epochs are fixed, the test set is evaluated once at the end.

    python benches/mnist_mlp.py                       # about 10 epochs x 3 s on 2 cores
    python benches/mnist_mlp.py --hidden 256 --epochs 5 --threads 4

Prints one line per epoch, then the test accuracy, the epochs and the time;
exits 1 if the accuracy is below --target (default 0.98).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import nervenet as nv
from nervenet.data import load_builtin

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


class EpochTimer(nv.callbacks.Callback):
    def __init__(self, epochs: int) -> None:
        self.epochs, self.started, self.times = epochs, 0.0, []

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.times.append(time.perf_counter() - self.started)
        print(f"epoch {epoch + 1:>2}/{self.epochs}  loss {logs['loss']:.4f}  accuracy {logs['accuracy']:.4f}  "
              f"lr {logs['learning_rate']:.2e}  {self.times[-1]:.1f}s", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DATA, help="data root whose mnist/ folder holds the four MNIST .gz files")
    p.add_argument("--hidden", type=int, nargs="+", default=[512, 512], help="hidden layer sizes")
    p.add_argument("--activation", default="relu")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--decay-every", type=int, default=4, help="halve the learning rate every this many epochs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="0: nervenet's default")
    p.add_argument("--target", type=float, default=0.98)
    args = p.parse_args()

    if args.threads:
        nv.set_num_threads(args.threads)
    t0 = time.perf_counter()
    train, test = load_builtin("mnist", args.data)
    assert test is not None  # MNIST comes with its official test set
    loaded = time.perf_counter() - t0
    sizes = [784, *args.hidden, 10]
    net = nv.Network(nv.mlp(sizes, args.activation), dtype="float32", seed=args.seed,
                     init="kaiming" if args.activation.startswith("relu") else "xavier")
    name = "-".join(map(str, sizes))
    print(f"nervenet {nv.__version__}: MNIST {name} MLP ({args.activation}), {net.n_params} parameters, "
          f"{nv.get_num_threads()} threads; data read in {loaded:.1f}s")
    timer = EpochTimer(args.epochs)
    t1 = time.perf_counter()
    net.fit(train.X, train.y, loss="softmax", optimizer=nv.optim.Adam(args.lr), batch_size=args.batch_size,
            epochs=args.epochs, seed=args.seed, schedule=nv.optim.StepDecay(every=args.decay_every, factor=0.5),
            callbacks=[timer], verbose=0)
    trained = time.perf_counter() - t1
    metrics = net.evaluate(test.X, test.y, "softmax")
    ok = metrics["accuracy"] >= args.target
    print(f"MNIST {name}: test accuracy {metrics['accuracy']:.4f} (loss {metrics['loss']:.4f}, "
          f"{int(metrics['count'])} images) after {len(timer.times)} epochs; training {trained:.1f}s "
          f"({np.mean(timer.times):.2f}s per epoch){'' if ok else f' -- BELOW the target {args.target}'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
