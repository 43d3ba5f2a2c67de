"""1 -> 2 thread scaling of nervenet and of PyTorch on the same work, f32.

    python benches/compare_threads.py [--rounds R] [--only LETTERS]

Workloads, each one forward + backward (the same pairs as
benches/compare_torch.py and compare_torch_rnn.py, checked there):
  (a) MLP 784-512-512-10 (relu, softmax CE), batch 256     goal nervenet >= 1.8x
  (b) LeNet-5 (nv.cnn.lenet5()), batch 64, softmax         goal nervenet >= 1.8x
  (c) LSTM layer 26-64, 100 steps, batch 32, MSE head      goal nervenet >= 1.6x
For each library its 1-thread and 2-thread runs are interleaved by
benches/harness.py (a setup hook, untimed, sets the library's thread count
and makes one call before each sample); speedup = median of per-round
t(1 thread) / t(2 threads). Torch's speedup is printed for reference, no goal.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

import nervenet as nv

sys.path.insert(0, str(Path(__file__).resolve().parent))  # harness, compare_torch*
from compare_torch import lenet, mlp  # noqa: E402
from compare_torch_rnn import layer_case  # noqa: E402
from harness import MIN_ROUNDS, Contest, header  # noqa: E402

WORKLOADS = {
    "a": ("(a) MLP 784-512-512-10 b256 fwd+bwd", mlp, 1.8),
    "b": ("(b) LeNet-5 b64 fwd+bwd", lenet, 1.8),
    "c": ("(c) LSTM 26-64 s100 b32 fwd+BPTT", lambda: layer_case("lstm", 26, 64, 100, 32), 1.6),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=MIN_ROUNDS, help=f"timed rounds (at least {MIN_ROUNDS})")
    parser.add_argument("--only", default="", help="run only the workloads whose letters are given, e.g. ab")
    args = parser.parse_args()
    if args.rounds < MIN_ROUNDS:
        parser.error(f"--rounds must be at least {MIN_ROUNDS}")
    contest = Contest(1, rounds=args.rounds, quiet=True)
    print(f"# {nv.machine.describe()}")
    print(f"# nervenet {nv.__version__}, torch {torch.__version__}; each library's 1- and 2-thread runs "
          f"interleaved, {args.rounds} rounds after warm-up; median ± half the interquartile range; "
          f"speedup = median of per-round t1/t2 [quartiles]")
    print(header(["2 threads", "1 thread"]))
    for letter, (name, workload, goal) in WORKLOADS.items():
        if args.only and letter not in args.only:
            continue
        pair = workload()
        for lib, fn, set_threads, target in (("nervenet", pair[0], nv.set_num_threads, goal),
                                             ("torch", pair[1], torch.set_num_threads, None)):
            def setup(n: int, fn=fn, set_threads=set_threads):
                return lambda: (set_threads(n), fn())

            result = contest.run(f"{name} {lib}", {"2 threads": fn, "1 thread": fn}, target=target,
                                 setup={"2 threads": setup(2), "1 thread": setup(1)})
            print(result.row(), flush=True)


if __name__ == "__main__":
    main()
