"""A small VGG on CIFAR-10: the 20,000 training images in
../shared/data/cifar10 (data_batch_1 and 2), tested on the 1,000 test images
there; nervenet and PyTorch trained with the same recipe in one run: the
same architecture (3x3 convs 32-32-pool-64-64-pool-128-128-pool, dense 128,
10; relu, padding 1, 2x2 max pooling, tied biases), the same initial weights
(copied from nervenet into torch), per-channel standardisation, softmax
cross-entropy, Adam with a step-decayed learning rate, batch 64, the same
epochs, no augmentation. Reports both test accuracies (target: within a
point of each other) and the time per epoch.

    python benches/cifar_vgg.py --seeds 3          # 6 epochs each, 2 threads, ~12 min
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
    # L2 on weights only, as nervenet's l2 (the gradient gets l2 * w)
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if not name.endswith("weight")]
    opt = torch.optim.Adam([{"params": weights, "weight_decay": args.l2}, {"params": biases}], lr=args.lr)
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
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--decay-every", type=int, default=3)
    p.add_argument("--l2", type=float, default=5e-4, help="L2 penalty on weights (both libraries)")
    p.add_argument("--seeds", type=int, default=1, help="repeat with n seeds and report the means")
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--train-size", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--no-torch", action="store_true")
    args = p.parse_args()
    if args.threads:
        nv.set_num_threads(args.threads)
    x, y, xt, yt = load(args)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    results = [run(args, seed, x, y, xt, yt) for seed in seeds]
    ours = [r[0] for r in results]
    theirs = [r[2] for r in results if r[2] is not None]
    line = f"CIFAR-10 small VGG, {args.epochs} epochs, seeds {seeds.start}..{seeds.stop - 1}: nervenet " \
           f"{np.mean(ours):.3f} {np.round(ours, 3).tolist()} ({np.mean([r[1] for r in results]):.1f}s/epoch)"
    if theirs:
        line += f", torch {np.mean(theirs):.3f} {np.round(theirs, 3).tolist()} " \
                f"({np.mean([r[3] for r in results]):.1f}s/epoch); difference {100 * (np.mean(ours) - np.mean(theirs)):+.1f} points"
    print(line)
    return 0


def run(args, seed, x, y, xt, yt):
    args.seed = seed
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
            l2=args.l2, verbose=0)
    ours = net.evaluate(xt, yt, "softmax")["accuracy"]
    print(f"seed {seed}: nervenet {ours:.3f}", flush=True)
    if args.no_torch:
        return ours, float(np.mean(times)), None, None
    try:
        import torch
    except ImportError:
        print("torch not installed")
        return ours, float(np.mean(times)), None, None
    torch.set_num_threads(nv.get_num_threads())
    theirs, ttime = train_torch(graph, net0, x, y, xt, yt, args)
    print(f"seed {seed}: torch {theirs:.3f} (torch {torch.__version__})", flush=True)
    return ours, float(np.mean(times)), theirs, ttime


if __name__ == "__main__":
    sys.exit(main())
