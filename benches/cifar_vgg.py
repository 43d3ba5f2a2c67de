"""A small VGG on CIFAR-10 (issue 6): the 20,000 training images in
../shared/data/cifar10 (data_batch_1 and 2), tested on the 1,000 test images
there; nervenet and PyTorch trained with the same recipe in one run: the
same architecture (3x3 convs 32-32-pool-64-64-pool-128-128-pool, dense 128,
10; relu, padding 1, 2x2 max pooling, tied biases), the same initial weights
(copied from nervenet into torch), per-channel standardisation, softmax
cross-entropy, Adam with a step-decayed learning rate, batch 64, the same
epochs, no augmentation. Reports both test accuracies (target: within a
point of each other) and the time per epoch.

    python benches/cifar_vgg.py                    # 8 epochs each, 2 threads
    python benches/cifar_vgg.py --epochs 2 --train-size 5000

PyTorch is optional here: without it only nervenet is trained.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import nervenet as nv

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10" / "cifar-10-batches-bin"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from cnn_torch import copy_chain_weights, torch_chain  # noqa: E402


def load(args):
    x, y = nv.data.load_cifar10([DATA / "data_batch_1.bin", DATA / "data_batch_2.bin"])
    xt, yt = nv.data.load_cifar10(DATA / "test_batch_first1000.bin")
    x, xt = x.astype(np.float32) / 255.0, xt.astype(np.float32) / 255.0
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    std = x.std(axis=(0, 2, 3), keepdims=True)
    x, xt = (x - mean) / std, (xt - mean) / std
    if args.train_size:
        x, y = x[:args.train_size], y[:args.train_size]
    return np.ascontiguousarray(x), y.astype(np.int64), np.ascontiguousarray(xt), yt.astype(np.int64)


def train_torch(graph, net0, x, y, xt, yt, args):
    import torch

    torch.manual_seed(args.seed)
    model = torch_chain(graph)
    copy_chain_weights(graph, net0, model)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=args.decay_every, gamma=0.5)
    ce = torch.nn.CrossEntropyLoss()
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    rng = np.random.default_rng(args.seed)
    times = []
    for epoch in range(args.epochs):
        t = time.perf_counter()
        order = torch.from_numpy(rng.permutation(len(x)))
        model.train()
        total = 0.0
        for s in range(0, len(x), args.batch_size):
            idx = order[s:s + args.batch_size]
            opt.zero_grad()
            loss = ce(model(tx[idx]), ty[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        times.append(time.perf_counter() - t)
        print(f"torch    epoch {epoch + 1:>2}/{args.epochs}  loss {total / len(x):.4f}  {times[-1]:.1f}s", flush=True)
    model.eval()
    with torch.no_grad():
        acc = (model(torch.from_numpy(xt)).argmax(1).numpy() == yt).mean()
    return float(acc), float(np.mean(times))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--decay-every", type=int, default=3)
    p.add_argument("--train-size", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--no-torch", action="store_true")
    args = p.parse_args()
    if args.threads:
        nv.set_num_threads(args.threads)
    x, y, xt, yt = load(args)
    graph = nv.cnn.small_vgg(tied_bias=True)
    net = nv.Network(graph, dtype="float32", init="kaiming", seed=args.seed)
    net0 = net.parameters.copy()
    print(f"nervenet {nv.__version__}: small VGG, {net.n_params} parameters, {nv.get_num_threads()} threads, "
          f"{len(x)} training / {len(xt)} test images", flush=True)
    times = []

    class Timer(nv.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs):
            times.append(time.perf_counter() - self.t)
            print(f"nervenet epoch {epoch + 1:>2}/{args.epochs}  loss {logs['loss']:.4f}  {times[-1]:.1f}s",
                  flush=True)

    net.fit(x, y, loss="softmax", optimizer=nv.optim.Adam(args.lr), batch_size=args.batch_size, epochs=args.epochs,
            seed=args.seed, schedule=nv.optim.StepDecay(every=args.decay_every, factor=0.5), callbacks=[Timer()],
            verbose=0)
    ours = net.evaluate(xt, yt, "softmax")["accuracy"]
    line = f"CIFAR-10 small VGG, {args.epochs} epochs: nervenet {ours:.3f} ({np.mean(times):.1f}s/epoch)"
    if not args.no_torch:
        try:
            import torch

            torch.set_num_threads(nv.get_num_threads())
        except ImportError:
            print(line + "; torch not installed")
            return 0
        theirs, ttime = train_torch(graph, net0, x, y, xt, yt, args)
        line += f", torch {theirs:.3f} ({ttime:.1f}s/epoch, torch {torch.__version__}); difference " \
                f"{100 * (ours - theirs):+.1f} points"
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
