"""PyTorch's conv2d forward + backward (dIn, dW, dBias) on the shapes of the
criterion bench `rust/core/benches/conv.rs`, f32, for the ratio against
nervenet's rows-layout im2col + GEMM kernels at the same thread count (that
bench leaves out dBias, a plain sum the engine does outside the kernel).

    python benches/conv_torch.py [--threads 1 2] [--repeat 15]

Prints milliseconds per forward+backward and per forward alone: the minimum
and the median of `repeat` runs, each the mean of several calls (on a
machine shared with other work, compare minimums). Compare with

    RAYON_NUM_THREADS=N cargo bench -p nervenet-core --bench conv

PyTorch is an optional dependency: pip install ".[bench]".
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import torch
import torch.nn.functional as F

# name, batch, in channels, out channels, kernel, input size, padding, stride
SHAPES = [
    ("vgg-block 64->64 3x3 32x32 p1 b32", 32, 64, 64, 3, 32, 1, 1),
    ("lenet c1 1->6 5x5 28x28 p2 b64", 64, 1, 6, 5, 28, 2, 1),
    ("small-vgg 3->32 3x3 32x32 p1 b64", 64, 3, 32, 3, 32, 1, 1),
]


def timings(fn: Callable[[], None], repeat: int, budget: float = 0.1) -> tuple[float, float]:
    """(median, min) over `repeat` runs of the mean time of a call (seconds);
    each run makes enough calls to last about `budget` seconds. The minimum
    is the figure to trust on a machine shared with other work."""
    fn()
    t = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t, 1e-6)
    number = max(1, int(budget / once))
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t) / number)
    return statistics.median(times), min(times)


def bench(threads: int, repeat: int) -> None:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    for name, b, c, o, k, n, p, s in SHAPES:
        x = torch.randn(b, c, n, n, requires_grad=True)
        w = (torch.randn(o, c, k, k) * 0.1).requires_grad_()
        bias = torch.zeros(o, requires_grad=True)
        with torch.no_grad():
            gy = torch.randn_like(F.conv2d(x, w, bias, stride=s, padding=p))

        def fwd() -> None:
            with torch.no_grad():
                F.conv2d(x, w, bias, stride=s, padding=p)

        def fwd_bwd() -> None:
            x.grad = w.grad = bias.grad = None
            y = F.conv2d(x, w, bias, stride=s, padding=p)
            y.backward(gy)

        (f_med, f_min), (fb_med, fb_min) = timings(fwd, repeat), timings(fwd_bwd, repeat)
        print(
            f"torch t{threads} {name:36s} fwd min {f_min * 1e3:8.3f} median {f_med * 1e3:8.3f} ms   "
            f"fwd+bwd min {fb_min * 1e3:8.3f} median {fb_med * 1e3:8.3f} ms"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    for t in args.threads:
        bench(t, args.repeat)


if __name__ == "__main__":
    main()
