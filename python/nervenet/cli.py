"""The ``nervenet`` command.

    nervenet train [CONFIG] [--out DIR] [--epochs N] [--quiet]
    nervenet evaluate MODEL DATA [--config CONFIG]

``train`` reads a TOML config (see :mod:`nervenet.config`; without one it
runs the built-in example: scikit-learn's digits, a 64-32-10 MLP), prints one
line per epoch, evaluates on the test split and writes into ``--out``
(default ``nervenet-out``): ``model.safetensors``, ``history.json``,
``history.png`` and ``run.json`` (the checked config, the preprocessing
fitted on the training rows, the test metrics).

``evaluate`` loads MODEL and reports loss and accuracy (or mse/mae) on DATA:
a ``.csv``/``.npz`` file read as the config's ``[data]`` says, or the name of
a built-in dataset (its test split). The config and preprocessing come from
the ``run.json`` next to MODEL, or from ``--config``.

Exit status: 0 success, 2 an invalid config or command line (the message
names the bad key, e.g. ``optimizer.lr``), 1 any other error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

from ._checks import integer
from .config import DEFAULT_CONFIG, Config, load_config, parse_config, validate
from .data.builtin import BUILTIN_DATASETS
from .errors import ConfigError, InvalidConfig, NervenetError, UsageError
from .training.callbacks import Callback, EarlyStopping, duration

__all__ = ["main"]

_SHOWN = ("loss", "accuracy", "mse", "mae")


class EpochLines(Callback):
    """Prints one line per epoch: loss and metrics, validation metrics, time."""

    def __init__(self, epochs: int, show_lr: bool, write: Callable[[str], None]) -> None:
        self.epochs, self.show_lr, self.write = epochs, show_lr, write
        self.started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        width = len(str(self.epochs))
        parts = [f"epoch {epoch + 1:>{width}}/{self.epochs}"]
        for prefix in ("", "val_"):
            parts += [f"{prefix}{k} {logs[prefix + k]:.4f}" for k in _SHOWN if prefix + k in logs]
        if self.show_lr:
            parts.append(f"lr {logs['learning_rate']:.3g}")
        parts.append(duration(time.perf_counter() - self.started))
        self.write("  ".join(parts))


def _metrics(m: dict[str, float]) -> str:
    shown = "  ".join(f"{k} {m[k]:.4f}" for k in _SHOWN if k in m)
    return f"{shown}  ({int(m['count'])} samples)" if "count" in m else shown


def _describe(cfg: Config, net: Any) -> str:
    n = cfg.network
    if n["graph"] is not None:
        shape = f"graph {n['graph']}"
    elif n.get("architecture") is not None:
        shape = f"nv.cnn {n['architecture']}"
    else:
        hidden = n["layers"][1:-1] if n["layers"] is not None else n["hidden"]
        shape = "-".join(str(s) for s in [net.n_inputs, *hidden, net.n_outputs]) + f" MLP ({n['activation']})"
    opt = cfg.optimizer
    return (f"network: {shape}, {net.n_params} parameters, {n['dtype']}; loss {cfg.loss['name']}; "
            f"optimizer {opt['name']} (lr {opt['lr']:g})")


def train(config: Optional[str], out: str, epochs: Optional[int], quiet: bool) -> int:
    say: Callable[[str], None] = (lambda s: None) if quiet else (lambda s: print(s, flush=True))
    if config is None:
        cfg = parse_config(DEFAULT_CONFIG)
        say("nervenet train: the built-in example (no config given): scikit-learn's 8x8 digits, a 64-32-10 MLP,")
        say("softmax cross-entropy, Adam. Pass a TOML config to train your own (examples/digits.toml shows every section).")
    else:
        cfg = load_config(config)
    if epochs is not None:
        cfg.training["epochs"] = epochs
    if cfg.training["threads"] is not None:
        from .threads import set_num_threads

        set_num_threads(cfg.training["threads"])
    splits = cfg.load_data()
    (X, y), val, (Xt, yt) = splits.train, splits.validation, splits.test
    n_outputs = splits.preprocessor.n_classes if cfg.classify else y.shape[1]
    net = cfg.build_network(X.shape[1], n_outputs)
    say(f"data: {len(X)} training, {0 if val is None else len(val[0])} validation, {len(Xt)} test samples; "
        f"{X.shape[1]} features" + (f", {n_outputs} classes" if cfg.classify else ""))
    say(_describe(cfg, net))
    folder = Path(out)
    kwargs = cfg.fit_kwargs(folder)
    if cfg.callbacks["checkpoint"] is not None:
        folder.mkdir(parents=True, exist_ok=True)
    if not quiet:
        kwargs["callbacks"] = [*kwargs["callbacks"], EpochLines(cfg.training["epochs"], cfg.schedule is not None, say)]
    started = time.perf_counter()
    history = net.fit(X, y, validation=val, verbose=0, **kwargs)
    trained = time.perf_counter() - started
    for c in kwargs["callbacks"]:
        if isinstance(c, EarlyStopping) and c.report is not None:
            say(c.report)
    test: dict[str, float] = {}
    if len(Xt):
        test = net.evaluate(Xt, yt, cfg.loss["name"])
        print(f"test: {_metrics(test)}", flush=True)
    else:
        print("test: no test rows (data.test_fraction = 0)", flush=True)

    folder.mkdir(parents=True, exist_ok=True)
    net.save(folder / "model.safetensors", history=history)
    (folder / "history.json").write_text(history.to_json())
    written = ["model.safetensors", "history.json"]
    if history.epochs:
        history.plot(folder / "history.png")
        written.append("history.png")
    run = {
        "config": cfg.to_dict(), "preprocessing": splits.preprocessor.to_dict(), "test": test,
        "epochs": len(history.epochs), "seconds": round(trained, 3),
    }
    (folder / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    written.append("run.json")
    n = len(history.epochs)
    say(f"trained {n} epoch{'' if n == 1 else 's'} in {trained:.1f}s")
    print(f"wrote {', '.join(str(folder / w) for w in written)}", flush=True)
    return 0


def evaluate(model: str, data: str, config: Optional[str]) -> int:
    from .data import ColumnPreprocessor, read_table
    from .network import Network

    run_file = Path(model).with_name("run.json")
    run, problem = None, f"no run.json next to {model}"
    if run_file.is_file():
        try:
            run = json.loads(run_file.read_text())
        except ValueError as e:
            problem = f"{run_file} is not valid JSON ({e})"
        if not isinstance(run, dict) or not {"config", "preprocessing"} <= run.keys():
            run, problem = None, problem if run is None else f"{run_file} is not a run record of `nervenet train`"
    if run is None and config is None:
        raise UsageError(f"{problem}; give the training config with --config")
    if config is not None:
        cfg = load_config(config)
    else:
        assert run is not None
        cfg = validate(run["config"])
    try:
        pre = None if run is None else ColumnPreprocessor.from_dict(run["preprocessing"])
    except TypeError:
        raise UsageError(f"{run_file} holds no valid preprocessing record; give the training config with --config") from None
    net = Network.load(model)
    if Path(data).is_file():
        if pre is None:  # refit exactly as training did: on the config's training rows
            pre = cfg.load_data().preprocessor
        d = cfg.data
        try:
            raw_X, raw_y, _ = read_table(data, target=d["target"], header=d["header"], delimiter=d["delimiter"])
        except ConfigError as e:
            raise InvalidConfig("data.target", str(e)) from None
        X, y = pre.features(raw_X), pre.targets(raw_y)
    elif data in BUILTIN_DATASETS:
        X, y = cfg.load_data(pre, dataset=data).test
    else:
        raise UsageError(f"DATA {data!r} is neither a file nor a built-in dataset ({', '.join(BUILTIN_DATASETS)})")
    metrics = net.evaluate(np.asarray(X), y, cfg.loss["name"])
    print(f"{data}: {_metrics(metrics)}", flush=True)
    return 0


def _count(text: str) -> int:
    """An integer >= 0 from the command line (argparse prints the message, exit status 2)."""
    try:
        value: object = int(text)
    except ValueError:
        value = text
    try:
        return integer(value, "N")
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nervenet", description="Train and evaluate nervenet networks described by TOML configs."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    t = sub.add_parser("train", help="train from a TOML config (or the built-in digits example)",
                       description="Train a network; without CONFIG, the built-in scikit-learn digits example.")
    t.add_argument("config", nargs="?", metavar="CONFIG", help="TOML config file")
    t.add_argument("--out", default="nervenet-out", metavar="DIR",
                   help="folder for model, history and plot (default: nervenet-out)")
    t.add_argument("--epochs", type=_count, metavar="N", help="override training.epochs")
    t.add_argument("--quiet", "-q", action="store_true", help="no per-epoch lines; only the results")
    e = sub.add_parser("evaluate", help="evaluate a saved model on a data file or built-in dataset",
                       description="Report loss and accuracy (or mse/mae) of MODEL on DATA.")
    e.add_argument("model", metavar="MODEL", help="model.safetensors written by `nervenet train`")
    e.add_argument("data", metavar="DATA",
                   help=f"a .csv/.npz file, or a built-in dataset ({', '.join(BUILTIN_DATASETS)}: its test split)")
    e.add_argument("--config", metavar="CONFIG", help="the training config (default: run.json next to MODEL)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    source = getattr(args, "config", None) or ("the built-in example" if args.command == "train" else "run.json")
    try:
        if args.command == "train":
            return train(args.config, args.out, args.epochs, args.quiet)
        return evaluate(args.model, args.data, args.config)
    except InvalidConfig as e:
        print(f"nervenet: invalid config ({source}): {e}", file=sys.stderr)
        return 2
    except UsageError as e:
        print(f"nervenet {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (NervenetError, OSError) as e:
        print(f"nervenet {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("nervenet: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
