"""Runs fuzz inputs in a child process under an address-space limit and
counts the outcomes.

The parent (:func:`run`) starts a child (``python -m fuzzing.runner JOB``)
with ``RLIMIT_AS`` set to the memory budget, so an allocation over the
budget shows up in the child -- as a ``MemoryError`` or an abort -- and
never in the process that runs the tests. The child tries the inputs one by
one: input ``i`` of a target is the seed file and mutations that
``random.Random(f"{seed}/{target}/{i}")`` picks, so any input can be made
again from its number. Before each attempt the child notes which input it
is on; if the child dies (abort, segfault, a hang past the per-input time
limit) the parent records that input as a crash and starts a new child on
the next one.

Outcomes: ``ok``; a NervenetError's class name (allowed); ``other:<type>``
for any other exception (PanicException and MemoryError included) and
``crash:<how>`` for a dead child (failures). Failing inputs are copied to
``<out>/failures`` as ``<target>-<index>-<seed file name>``.
"""

from __future__ import annotations

import collections
import faulthandler
import importlib
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

__all__ = ["Report", "run", "MEMORY_BUDGET"]

#: The address space a fuzz child may use: an input that needs more fails.
MEMORY_BUDGET = 4 << 30
_MAX_RESTARTS = 2000  # dead children per run before giving up


@dataclass
class Failure:
    target: str
    index: int
    outcome: str
    message: str
    saved: str


@dataclass
class Report:
    counts: dict[str, collections.Counter] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)

    def allowed(self, outcome: str) -> bool:
        return not outcome.startswith(("other:", "crash:"))

    def table(self) -> str:
        """Inputs tried per target and their outcomes, as a text table."""
        outcomes = sorted({o for c in self.counts.values() for o in c}, key=lambda o: (not self.allowed(o), o != "ok", o))
        head = ["target", "inputs", *outcomes]
        rows = [[t, str(sum(c.values())), *(str(c.get(o, 0)) for o in outcomes)] for t, c in self.counts.items()]
        widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head))]
        return "\n".join("  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in [head, *rows])

    def summary(self, most: int = 20) -> str:
        lines = [f"{f.target} #{f.index}: {f.message} (input: {f.saved})" for f in self.failures[:most]]
        if len(self.failures) > most:
            lines.append(f"... and {len(self.failures) - most} more")
        return "\n".join(lines)


def run(
    targets: list[str],
    per_target: int,
    out: Path,
    *,
    seed: int = 0,
    memory_budget: int = MEMORY_BUDGET,
    attempt_timeout: float = 20.0,
    modules: Sequence[str] = (),
) -> Report:
    """Tries ``per_target`` mutated inputs on each target (names from
    :data:`fuzzing.targets.TARGETS`, or registered there by the ``modules``
    the child imports first) and returns the counts and failures."""
    out = Path(out)
    (out / "failures").mkdir(parents=True, exist_ok=True)
    results = out / "results.jsonl"
    results.unlink(missing_ok=True)
    start = {t: 0 for t in targets}
    for _ in range(_MAX_RESTARTS):
        job = {"targets": targets, "per_target": per_target, "seed": seed, "start": start, "out": str(out),
               "attempt_timeout": attempt_timeout, "modules": list(modules)}
        (out / "job.json").write_text(json.dumps(job))
        (out / "progress.json").unlink(missing_ok=True)
        done = _child(out, memory_budget)
        if done.returncode == 0:
            break
        progress = out / "progress.json"
        if not progress.is_file():  # died before the first input: nothing to blame
            raise RuntimeError(f"the fuzz child failed to start:\n{done.stderr[-3000:]}")
        at = json.loads(progress.read_text())
        how = "timeout" if "Timeout (" in done.stderr else _signal_name(done.returncode)
        saved = out / "failures" / f"{at['target']}-{at['index']}-{Path(at['path']).name}"
        shutil.copyfile(at["path"], saved)
        with results.open("a") as f:
            f.write(json.dumps({"target": at["target"], "index": at["index"], "outcome": f"crash:{how}",
                                "message": f"the child died ({how}): {_crash_message(done.stderr)}", "saved": str(saved)}) + "\n")
        start = {t: (at["index"] + 1 if t == at["target"] else start[t]) for t in targets}
        for t in targets[: targets.index(at["target"])]:
            start[t] = per_target  # finished before the crash
    else:
        raise RuntimeError(f"the fuzz child died {_MAX_RESTARTS} times; see {out / 'failures'}")
    report = Report({t: collections.Counter() for t in targets})
    for line in results.read_text().splitlines():
        r = json.loads(line)
        report.counts[r["target"]][r["outcome"]] += 1
        if not report.allowed(r["outcome"]):
            report.failures.append(Failure(r["target"], r["index"], r["outcome"], r["message"], r["saved"]))
    return report


def _crash_message(stderr: str) -> str:
    """What the dying child said last before faulthandler's dump, and the
    innermost Python frame of the dump."""
    said, _, dump = stderr.partition("Fatal Python error")
    last = [line.strip() for line in said.strip().splitlines()[-2:]]
    frame = next((line.strip() for line in dump.splitlines() if line.strip().startswith("File ")), "")
    return " | ".join(x for x in [*last, frame] if x)[:500]


def _signal_name(code: int) -> str:
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit {code}"


def _child(out: Path, memory_budget: int) -> subprocess.CompletedProcess:
    import nervenet

    here = Path(__file__).resolve().parents[1]  # tests/, holding the fuzzing package
    package = Path(nervenet.__file__).resolve().parents[1]  # the nervenet being tested
    # One thread everywhere: each thread's stack and malloc arena take address
    # space, which would make the budget depend on the machine's core count.
    single = {k: "1" for k in ("NERVENET_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    env = {**os.environ, **single, "PYTHONPATH": os.pathsep.join([str(here), str(package)]),
           "MALLOC_ARENA_MAX": "2", "PYTHONFAULTHANDLER": "1", "RUST_BACKTRACE": "0"}

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_budget, memory_budget))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return subprocess.run([sys.executable, "-m", "fuzzing.runner", str(out / "job.json")], env=env,
                          preexec_fn=limit, capture_output=True, text=True)


# ---- the child -------------------------------------------------------------------


def _attempt(target, seeds: list[Path], index: int, seed: int, work: Path, out: Path, timeout: float) -> dict:
    from nervenet.errors import NervenetError

    rng = random.Random(f"{seed}/{target.name}/{index}")
    source = rng.choice(seeds)
    path = work / source.name
    path.write_bytes(target.mutate(source.read_bytes(), rng))
    (out / "progress.json").write_text(json.dumps({"target": target.name, "index": index, "path": str(path)}))
    faulthandler.dump_traceback_later(timeout, exit=True)
    try:
        target.load(path)
        outcome, message = "ok", ""
    except NervenetError as e:
        outcome, message = type(e).__name__, ""
    except BaseException as e:  # PanicException is a BaseException
        where = traceback.extract_tb(e.__traceback__)[-1]
        outcome = f"other:{type(e).__name__}"
        message = f"{type(e).__name__}: {str(e)[:300]} (at {Path(where.filename).name}:{where.lineno})"
        trace = "".join(traceback.format_exception(e))
    finally:
        faulthandler.cancel_dump_traceback_later()
    saved = ""
    if message:
        saved = str(out / "failures" / f"{target.name}-{index}-{source.name}")
        shutil.copyfile(path, saved)
        Path(saved + ".txt").write_text(trace)
    return {"target": target.name, "index": index, "outcome": outcome, "message": message, "saved": saved}


def _main(job_file: str) -> None:
    from fuzzing.targets import TARGETS

    job = json.loads(Path(job_file).read_text())
    for module in job["modules"]:
        importlib.import_module(module)
    out = Path(job["out"])
    with (out / "results.jsonl").open("a") as results:
        for name in job["targets"]:
            target = TARGETS[name]
            seeds_dir, work = out / "seeds" / name, out / "work" / name
            seeds_dir.mkdir(parents=True, exist_ok=True)
            work.mkdir(parents=True, exist_ok=True)
            seeds = target.seeds(seeds_dir)
            for index in range(job["start"][name], job["per_target"]):
                r = _attempt(target, seeds, index, job["seed"], work, out, job["attempt_timeout"])
                results.write(json.dumps(r) + "\n")
                results.flush()


if __name__ == "__main__":
    _main(sys.argv[1])
