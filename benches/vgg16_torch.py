"""VGG16 at 224x224, batch 8, forward + backward in float32: nervenet
against the same layers written in torch.nn (no torchvision), interleaved
in one process (A, B, A, B ...) after a warm-up, at 1 and 2 threads;
medians and spread. Peak RSS of each library is measured in a fresh
process of its own (RSS is per process), and the plan's compile time and
bookkeeping bytes on their own.

    pip install ".[bench]"
    python benches/vgg16_torch.py [--reps 5] [--threads 1 2] [--batch 8]

Loss: softmax cross-entropy, mean over the batch, on random images and
labels (the work, not the answer, is measured). Gradients are produced
fresh each repetition on both sides (``zero_grad(set_to_none=True)``).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def data(batch: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random((batch, 3, size, size), dtype=np.float32), rng.integers(0, 1000, batch)


def nervenet_step(size: int):
    import nervenet as nv

    net = nv.Network(nv.cnn.vgg16(input_size=size), init="kaiming", seed=0)

    def step(X, y):
        net.loss_and_gradient(X, y, loss="softmax", reduction="mean")

    return step


def torch_model(size: int):
    import torch

    layers: list = []
    channels, c_in = (64, 128, 256, 512, 512), 3
    for c, convs in zip(channels, (2, 2, 3, 3, 3)):
        for _ in range(convs):
            layers += [torch.nn.Conv2d(c_in, c, 3, padding=1), torch.nn.ReLU()]
            c_in = c
        layers.append(torch.nn.MaxPool2d(2, 2))
    side = size // 32
    layers += [
        torch.nn.Flatten(),
        torch.nn.Linear(512 * side * side, 4096), torch.nn.ReLU(),
        torch.nn.Linear(4096, 4096), torch.nn.ReLU(),
        torch.nn.Linear(4096, 1000),
    ]
    return torch.nn.Sequential(*layers)


def torch_step(size: int):
    import torch

    model = torch_model(size)
    loss_fn = torch.nn.CrossEntropyLoss(reduction="mean")

    def step(X, y):
        model.zero_grad(set_to_none=True)
        loss_fn(model(X), y).backward()

    return step


def set_threads(n: int) -> None:
    import torch

    import nervenet as nv

    nv.set_num_threads(n)
    torch.set_num_threads(n)


def timings(args) -> dict:
    import torch

    X, y = data(args.batch, args.size)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    steps = {"nervenet": (nervenet_step(args.size), (X, y)), "torch": (torch_step(args.size), (Xt, yt))}
    out = {}
    for threads in args.threads:
        set_threads(threads)
        times: dict[str, list[float]] = {k: [] for k in steps}
        for name, (step, xy) in steps.items():  # warm-up
            step(*xy)
        for _ in range(args.reps):
            for name, (step, xy) in steps.items():
                t0 = time.perf_counter()
                step(*xy)
                times[name].append(time.perf_counter() - t0)
        nvt, tt = statistics.median(times["nervenet"]), statistics.median(times["torch"])
        out[threads] = {k: sorted(v) for k, v in times.items()}
        print(f"{threads} thread(s): nervenet {nvt:.2f} s [{min(times['nervenet']):.2f}-{max(times['nervenet']):.2f}], "
              f"torch {tt:.2f} s [{min(times['torch']):.2f}-{max(times['torch']):.2f}]; "
              f"torch / nervenet = {tt / nvt:.2f}", flush=True)
    return out


def peak_rss(args, which: str) -> float:
    """Peak RSS (GiB) of a fresh process that builds the model and runs two steps."""
    cmd = [sys.executable, __file__, "--rss-of", which, "--size", str(args.size), "--batch", str(args.batch)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def rss_child(which: str, args) -> None:
    """Only the library measured is imported (torch's import alone is
    hundreds of MB of RSS, nervenet's with scikit-learn about 90 MB)."""
    X, y = data(args.batch, args.size)
    if which == "torch":
        import torch

        torch.set_num_threads(1)
        step, xy = torch_step(args.size), (torch.from_numpy(X), torch.from_numpy(y))
    else:
        import nervenet as nv

        nv.set_num_threads(1)
        step, xy = nervenet_step(args.size), (X, y)
    for _ in range(2):
        step(*xy)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)


def compile_stats(args) -> tuple[float, int, int]:
    import nervenet as nv

    graph = nv.cnn.vgg16(input_size=args.size)
    runs = [nv._core.plan_stats(graph._g) for _ in range(5)]
    seconds = statistics.median(r[0] for r in runs)
    return seconds, runs[0][1], runs[0][2]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--rss-of", choices=["nervenet", "torch"])
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    if args.rss_of:
        return rss_child(args.rss_of, args)
    import torch

    import nervenet as nv

    print(f"CPU: {cpu_model()}; torch {torch.__version__}; nervenet {nv.__version__}; "
          f"VGG16 {args.size}x{args.size}, batch {args.batch}, float32, forward + backward", flush=True)
    seconds, plan_bytes, n_groups = compile_stats(args)
    print(f"plan: compiled in {seconds * 1e3:.1f} ms (median of 5), bookkeeping {plan_bytes} bytes "
          f"({plan_bytes / 2**20:.2f} MiB) for {n_groups} parameter groups", flush=True)
    rss = {which: peak_rss(args, which) for which in ("nervenet", "torch")}
    print(f"peak RSS (fresh process, two steps, 1 thread): nervenet {rss['nervenet']:.2f} GiB, "
          f"torch {rss['torch']:.2f} GiB", flush=True)
    times = timings(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"compile_seconds": seconds, "plan_bytes": plan_bytes, "rss_gib": rss, "times": times}, f)


if __name__ == "__main__":
    main()
