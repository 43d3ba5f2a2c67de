"""The ``nervenet`` commands of experiments:

    nervenet trials CONFIG [-n N] [--seed S] [--backend B] [--workers W] [--metric M] [--out DIR]
    nervenet compare A.toml B.toml [-n N] [--metric M] [--alpha A] [--seed S] [--backend B] [--out DIR]
    nervenet search CONFIG [--trials N] [--sampler S] [--seed S] [--backend B] [--workers W] [--out DIR]

(each with ``--ray-address ADDR`` for ``--backend ray`` on a running
cluster, and ``--quiet``). ``trials`` prints a line per finished trial
and the summary table, and writes ``trials.jsonl`` (the log; running the
command again resumes it), ``summary.json`` and ``trials.png`` (the
metric's box/strip plot) into ``--out`` (default ``trials-out``).
``compare`` runs both configs with the same trial seeds, prints both
tables and the verdict (Welch's t-test, Mann-Whitney U, Cohen's d), and
writes one log per config, ``compare.json`` and ``compare.png`` into
``--out`` (default ``compare-out``). ``search`` runs the config's
``[search]`` and writes ``search.jsonl`` and ``best.toml`` (run it with
``nervenet train``) into ``--out`` (default ``search-out``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any, Callable, Optional

from ..io import write_atomic
from .executors import BACKENDS
from .tuning import SAMPLERS
from .work import work_of

__all__ = ["add_commands", "COMMANDS"]


def _common(p: argparse.ArgumentParser, count: Callable[[str], int], out: str) -> None:
    p.add_argument("--seed", type=count, default=None, metavar="S", help="the run seed trial seeds derive from")
    p.add_argument("--backend", choices=BACKENDS, default="process",
                   help="where trials run: process (a local pool, default), inprocess, ray")
    p.add_argument("--workers", type=count, metavar="W", help="trials at once (default: one per core)")
    p.add_argument("--ray-address", metavar="ADDR", help="a running Ray cluster (with --backend ray); "
                                                        "default: start a local Ray")
    p.add_argument("--out", default=out, metavar="DIR", help=f"folder for the log and plots (default: {out})")
    p.add_argument("--quiet", "-q", action="store_true", help="no line per trial; only the results")


def add_commands(sub: Any, count: Callable[[str], int]) -> None:
    """Adds ``trials``, ``compare`` and ``search`` to the ``nervenet`` parser."""
    t = sub.add_parser("trials", help="train a config n times with derived seeds; summary per metric",
                       description="Run CONFIG n times (seeds derived from --seed) and summarise each metric: "
                                   "mean, std, 95%% confidence interval, min, max.")
    t.add_argument("config", metavar="CONFIG", help="TOML config of `nervenet train`")
    t.add_argument("-n", type=count, default=10, metavar="N", help="number of trials (default 10)")
    t.add_argument("--metric", metavar="M", help="the metric plotted (default: test_loss, else val_loss)")
    _common(t, count, "trials-out")
    c = sub.add_parser("compare", help="train two configs n times each and test the difference",
                       description="Run A and B n times each (the same seeds) and compare METRIC with Welch's "
                                   "t-test and the Mann-Whitney U test.")
    c.add_argument("a", metavar="A", help="TOML config")
    c.add_argument("b", metavar="B", help="TOML config")
    c.add_argument("-n", type=count, default=10, metavar="N", help="trials per config (default 10)")
    c.add_argument("--metric", default="test_loss", metavar="M", help="the metric compared (default test_loss)")
    c.add_argument("--alpha", type=float, default=0.05, metavar="A", help="significance level (default 0.05)")
    better = c.add_mutually_exclusive_group()
    better.add_argument("--higher-is-better", dest="lower", action="store_false", default=None,
                        help="the metric improves upwards (default: from its name)")
    better.add_argument("--lower-is-better", dest="lower", action="store_true", help="the metric improves downwards")
    _common(c, count, "compare-out")
    s = sub.add_parser("search", help="search a config's hyperparameters as its [search] section says",
                       description="Hyperparameter search over the keys CONFIG's [search.space] names "
                                   "(random, grid, or Optuna's TPE); writes the best config as TOML.")
    s.add_argument("config", metavar="CONFIG", help="TOML config with a [search] section")
    s.add_argument("--trials", type=count, metavar="N", help="override search.trials")
    s.add_argument("--sampler", choices=SAMPLERS, help="override search.sampler")
    _common(s, count, "search-out")


def _say(quiet: bool) -> Callable[[str], None]:
    return (lambda s: None) if quiet else (lambda s: print(s, flush=True))


def _line(n: Optional[int], say: Callable[[str], None], label: str = "") -> Callable[[dict[str, Any]], None]:
    """A line per finished trial: its metrics (or error) and seconds."""
    def show(r: dict[str, Any]) -> None:
        what = r["error"] if r.get("error") else "  ".join(f"{k} {v:.4g}" for k, v in r["metrics"].items())
        say(f"{label}trial {r['trial']}{'' if n is None else f' (of {n})'}: {what}  ({r['seconds']:.1f}s)")
    return show


def _default_metric(t: Any) -> str:
    return next((m for m in ("test_loss", "val_loss", "loss") if m in t.metrics), (t.metrics or ["test_loss"])[0])


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {"seed": 0 if args.seed is None else args.seed, "backend": args.backend, "workers": args.workers,
            "ray_address": args.ray_address}


def trials_command(args: argparse.Namespace) -> int:
    from .figures import plot
    from .repeated import trials

    say, folder = _say(args.quiet), Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    t = trials(args.config, args.n, log=folder / "trials.jsonl", progress=_line(args.n, say), **_options(args))
    print(t.table(), flush=True)
    metric = args.metric or _default_metric(t)
    summary = {m: dataclasses.asdict(s) for m, s in t.summary().items()}
    write_atomic(folder / "summary.json", (json.dumps({"config": args.config, "n": args.n, "summary": summary},
                                                      indent=2) + "\n").encode())
    plot({t.name: t}, metric, folder / "trials.png")
    print(f"wrote {', '.join(str(folder / f) for f in ('trials.jsonl', 'summary.json', 'trials.png'))}", flush=True)
    return 0


def compare_command(args: argparse.Namespace) -> int:
    from .figures import plot
    from .repeated import trials
    from .stats import compare

    say, folder = _say(args.quiet), Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    stems = [Path(args.a).stem, Path(args.b).stem]
    same = stems[0] == stems[1]  # a/x.toml against b/x.toml
    names = [f"{s} ({x})" if same else s for s, x in zip(stems, "AB")]
    files = [f"{x}-{s}.jsonl" if same else f"{s}.jsonl" for s, x in zip(stems, "ab")]
    for config in (args.a, args.b):  # both checked before either runs; an error names its file
        args.config = config
        work_of(config)
    args.config = None
    results = []
    for config, name, file in zip((args.a, args.b), names, files):
        say(f"{name}: {config}")
        results.append(trials(config, args.n, log=folder / file, name=name, progress=_line(args.n, say, "  "),
                              **_options(args)))
    for t in results:
        print(f"{t.name}:\n{t.table()}", flush=True)
    c = compare(results[0], results[1], metric=args.metric, alpha=args.alpha, lower_is_better=args.lower,
                names=(names[0], names[1]))
    print(c.verdict, flush=True)
    record = dataclasses.asdict(c)
    record["configs"] = [args.a, args.b]
    write_atomic(folder / "compare.json", (json.dumps(record, indent=2) + "\n").encode())
    plot({t.name: t for t in results}, args.metric, folder / "compare.png")
    print(f"wrote {', '.join(str(folder / f) for f in (*files, 'compare.json', 'compare.png'))}", flush=True)
    return 0


def search_command(args: argparse.Namespace) -> int:
    from .tuning import search

    say, folder = _say(args.quiet), Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    r = search(args.config, args.trials, log=folder / "search.jsonl", sampler=args.sampler, seed=args.seed,
               backend=args.backend, workers=args.workers, ray_address=args.ray_address,
               progress=_line(args.trials, say))
    print(r.table(), flush=True)
    written = ["search.jsonl"]
    if r.best is not None:
        r.write_best(folder / "best.toml")
        written.append("best.toml")
        params = ", ".join(f"{k} = {v!r}" for k, v in r.best["params"].items())
        print(f"best: trial {r.best['trial']}, {r.metric} {r.best['metrics'][r.metric]:.4g}: {params}", flush=True)
        print(f"train it: nervenet train {folder / 'best.toml'}", flush=True)
    print(f"wrote {', '.join(str(folder / f) for f in written)}", flush=True)
    return 0 if r.best is not None else 1


def _resumable(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """The command, saying on Ctrl-C how to go on: the log keeps every finished trial."""
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except KeyboardInterrupt:
            print(f"nervenet {args.command}: interrupted; the same command again (same --out) resumes, "
                  "keeping the finished trials", file=sys.stderr, flush=True)
            raise
    return run


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    name: _resumable(command)
    for name, command in (("trials", trials_command), ("compare", compare_command), ("search", search_command))
}
