"""The one way benches/compare_* scripts compare libraries, so that every
ratio they print means the same thing:

- the contenders run interleaved (A, B, A, B…, the order alternating each
  round), so both see the same background load and clock drift;
- each is warmed up first and timed in samples long enough for the clock
  (a sample repeats the call until it takes ``sample_seconds``);
- at least 15 rounds; each contender's median and spread (quartiles, and
  min–max) are reported, and the ratio is the median of the per-round
  ratios — never the minimum of one against the median of the other;
- the same thread count for both, set here;
- the report starts with the CPU model and the measured f32 FMA ceiling.

    from harness import Contest
    contest = Contest(threads=1)                  # prints the machine line
    result = contest.run("MLP b256", {"nervenet": ours, "torch": theirs})
    print(result.row())
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Optional, TypeVar

import nervenet as nv

MIN_ROUNDS = 15
S = TypeVar("S")


@dataclass
class Timing:
    """Seconds per call of one contender over the rounds."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def quartiles(self) -> tuple[float, float]:
        if len(self.samples) < 2:
            return self.samples[0], self.samples[0]
        q = statistics.quantiles(self.samples, n=4, method="inclusive")
        return q[0], q[2]

    def spread(self) -> str:
        """'±x%': half the interquartile range relative to the median."""
        q1, q3 = self.quartiles()
        return f"±{50 * (q3 - q1) / self.median:.1f}%"


def _fmt(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.1f} us"


@dataclass
class Result:
    """One workload's timings; ``ratio`` = other's time ÷ the first's (> 1:
    the first contender is faster), the median of the per-round ratios."""

    name: str
    timings: dict[str, Timing]
    ratios: list[float] = field(default_factory=list)
    target: Optional[float] = None
    note: str = ""

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    def ratio_range(self) -> tuple[float, float]:
        if len(self.ratios) < 2:
            return self.ratio, self.ratio
        q = statistics.quantiles(self.ratios, n=4, method="inclusive")
        return q[0], q[2]

    def row(self) -> str:
        cells = [f"{self.name:46s}"]
        for t in self.timings.values():
            cells.append(f"{_fmt(t.median):>11s} {t.spread():>7s}")
        if len(self.timings) == 2:
            lo, hi = self.ratio_range()
            cells.append(f"{self.ratio:6.2f}x [{lo:.2f}-{hi:.2f}]")
            if self.target is not None:
                cells.append(f"goal {self.target:g}x {'met' if self.ratio >= self.target else 'NOT met'}")
        if self.note:
            cells.append(self.note)
        return "  ".join(cells)


class Contest:
    """A sitting of interleaved comparisons at one thread count."""

    def __init__(self, threads: int, rounds: int = MIN_ROUNDS, sample_seconds: float = 0.05,
                 warmup: int = 2, quiet: bool = False) -> None:
        if rounds < MIN_ROUNDS:
            raise ValueError(f"at least {MIN_ROUNDS} rounds, got {rounds}")
        self.threads = threads
        self.rounds = rounds
        self.sample_seconds = sample_seconds
        self.warmup = warmup
        nv.set_num_threads(threads)
        try:
            import torch

            torch.set_num_threads(threads)
            peer = f", torch {torch.__version__}"
        except ImportError:
            peer = ""
        if not quiet:
            print(f"# {nv.machine.describe()}")
            print(f"# nervenet {nv.__version__}{peer}; {threads} thread(s) each; interleaved, "
                  f"{rounds} rounds after warm-up; median ± half the interquartile range; "
                  f"ratio = median of per-round ratios [quartiles]")

    def _calls_per_sample(self, fn: Callable[[], object], setup: Callable[[], object]) -> int:
        setup()
        for _ in range(self.warmup):
            fn()
        number = 1
        while True:
            t = time.perf_counter()
            for _ in range(number):
                fn()
            elapsed = time.perf_counter() - t
            if elapsed >= self.sample_seconds or number >= 1 << 20:
                return number
            number *= 2 if elapsed <= 0 else max(2, min(100, int(self.sample_seconds / elapsed) + 1))

    def run(self, name: str, contenders: dict[str, Callable[[], object]], target: Optional[float] = None,
            note: str = "", setup: Optional[dict[str, Callable[[], object]]] = None) -> Result:
        """Times each contender (seconds per call) interleaved; the first
        contender is the one the ratio is about. ``setup[k]``, if given, runs
        untimed before each of contender ``k``'s warm-up and samples (e.g. to
        set a thread count)."""
        setups = {k: (setup or {}).get(k, lambda: None) for k in contenders}
        numbers = {k: self._calls_per_sample(fn, setups[k]) for k, fn in contenders.items()}

        def sampler(k: str) -> Callable[[], float]:
            def sample() -> float:
                fn, number = contenders[k], numbers[k]
                setups[k]()
                t = time.perf_counter()
                for _ in range(number):
                    fn()
                return (time.perf_counter() - t) / number
            return sample

        samples = interleave({k: sampler(k) for k in contenders}, self.rounds)
        order = list(contenders)
        ratios = []
        if len(order) == 2:
            a, b = order
            ratios = [tb / ta for ta, tb in zip(samples[a], samples[b])]
        return Result(name, {k: Timing(v) for k, v in samples.items()}, ratios, target, note)


def interleave(samplers: dict[str, Callable[[], S]], rounds: int, warmup: int = 0) -> dict[str, list[S]]:
    """Takes one sample of each contender per round, in order on even rounds
    and in reverse on odd ones (A, B, B, A…), so both see the same drift;
    the first ``warmup`` rounds are not kept. A sampler returns what it
    measured: seconds, or a record of a run that times itself (EXAMM)."""
    samples: dict[str, list[S]] = {k: [] for k in samplers}
    order = list(samplers)
    for r in range(warmup + rounds):
        for k in order if r % 2 == 0 else reversed(order):
            sample = samplers[k]()
            if r >= warmup:
                samples[k].append(sample)
    return samples


def header(contenders: list[str]) -> str:
    cells = [f"{'workload':46s}"] + [f"{c:>19s}" for c in contenders]
    if len(contenders) == 2:
        cells.append(f"{contenders[1]}/{contenders[0]} [quartiles]")
    return "  ".join(cells)
