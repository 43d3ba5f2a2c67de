"""The long fuzz run: mutated model files, graph JSON, configs and every
loader's files (the suite in tests/fuzzing), many inputs per target, each
outcome success or a NervenetError -- no crash, no other exception, no
allocation over the memory budget (the inputs run in a child process with
that much address space).

    python benches/fuzz.py --per-target 20000
    python benches/fuzz.py --per-target 2000 --targets idx timeseries --seed 7

Prints a table of inputs tried per target and their outcomes, then the
first failures with the path of each saved input (under --out). Exits 1 if
any input failed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzzing import MEMORY_BUDGET, TARGETS, run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-target", type=int, default=20000, metavar="N", help="inputs per target (default 20000)")
    parser.add_argument("--targets", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="folder for seeds, work files and failing inputs (default: a temp folder)")
    parser.add_argument("--budget-gib", type=float, default=MEMORY_BUDGET / 2**30, help="address space of the child")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds one input may take")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="nervenet-fuzz-"))
    started = time.perf_counter()
    report = run(args.targets, args.per_target, out, seed=args.seed, memory_budget=int(args.budget_gib * 2**30),
                 attempt_timeout=args.timeout)
    print(f"{args.per_target} inputs per target, seed {args.seed}, budget {args.budget_gib:g} GiB, "
          f"{time.perf_counter() - started:.0f} s; inputs under {out}")
    print(report.table())
    if report.failures:
        print(f"\n{len(report.failures)} failures (neither success nor a NervenetError):")
        print(report.summary(40))
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
