"""The ``nervenet`` command (also ``python -m nervenet``).

    nervenet train [CONFIG] [--out DIR] [--epochs N] [--quiet] [--checkpoint-outside-out]
    nervenet evolve [CONFIG] [--out DIR] [--genomes N] [--workers N] [--epochs N] [--seed N]
                    [--backend {process,inprocess,ray}] [--ray-address ADDR] [--resume] [--quiet]
    nervenet evaluate MODEL DATA [--config CONFIG]
    nervenet trials CONFIG [-n N] [--seed S] [--backend process|inprocess|ray] [--out DIR]
    nervenet compare A.toml B.toml [-n N] [--metric M] [--alpha A] [--backend ...] [--out DIR]
    nervenet search CONFIG [--trials N] [--sampler random|grid|tpe] [--backend ...] [--out DIR]
    nervenet predict MODEL DATA [--out predictions.csv] [--config CONFIG]
    nervenet export MODEL --onnx out.onnx [--no-preprocessing]
    nervenet demo [--seed N] [--max-epochs N]
    nervenet --version

``train`` reads a TOML config (see :mod:`nervenet.config`; without one it
runs the built-in example: scikit-learn's digits, a 64-32-10 MLP), prints one
line per epoch, evaluates on the test split and writes into ``--out``
(default ``nervenet-out``): ``model.safetensors`` (self-contained: the
network, the input preprocessing fitted on the training rows, the class
labels and the config), ``history.json``, ``history.png`` and ``run.json``
(the checked config, the preprocessing, the test metrics). Checkpoints stay
inside ``--out``; ``--checkpoint-outside-out`` lets an absolute or ``..``
checkpoint path write elsewhere.

``evolve`` searches recurrent graphs after EXAMM (:mod:`nervenet.evolution`)
as a TOML settings file says (:mod:`nervenet.evolution.settings`; without
one, EXAMM's coal-plant benchmark with EXAMM's settings), showing a progress
bar (genomes done, best and median fitness), then a summary: genomes and
time, the best genome's validation and test loss and its nodes and edges.
It writes into ``--out`` (default ``evolve-out``): ``genomes.jsonl`` (one
JSON line per genome), ``checkpoint.json``, ``best.safetensors`` (the best
genome, a model file ``nv.Network.load`` reads), ``best.dot`` (its
drawing), ``fitness.png`` (best and median fitness against genomes
evaluated) and ``run.json`` (the settings and the result). ``--resume``
continues the run in ``--out`` (after an interruption, or with a larger
``--genomes``), with its own settings when no CONFIG is given.
``--backend ray`` trains the genomes as Ray tasks on a local Ray instance,
or on the cluster at ``--ray-address`` (which implies ``--backend ray``).

``evaluate`` loads MODEL and reports loss and accuracy (or mse/mae) on DATA:
a ``.csv``/``.npz`` file read as the config's ``[data]`` says, or the name of
a built-in dataset (its test split). ``predict`` writes MODEL's predictions
for DATA's rows as CSV (to ``--out`` or standard output): the class label
(and, for a softmax model, each class's probability) or the output values.
Both apply the preprocessing stored in MODEL; the config comes from
``--config``, else MODEL, else the ``run.json`` next to it (models of older
versions). ``export`` writes MODEL as an ONNX model
(:mod:`nervenet.onnx_export`; needs ``pip install "nervenet[onnx]"``), its
stored preprocessing in front unless ``--no-preprocessing``. ``demo`` runs the short demo (:mod:`nervenet.demo`).

``trials``, ``compare`` and ``search`` run experiments over training runs:
repeated trials with a summary per metric, two configs compared by
significance tests, hyperparameter search (see
:mod:`nervenet.experiments.commands`).

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
from .errors import ConfigError, DataError, InvalidConfig, NervenetError, ShapeError, UsageError
from .training.callbacks import Callback, EarlyStopping, duration
from .training.configured import SHOWN as _SHOWN
from .training.configured import run_config

__all__ = ["main"]


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


def train(config: Optional[str], out: str, epochs: Optional[int], quiet: bool, outside: bool = False) -> int:
    say: Callable[[str], None] = (lambda s: None) if quiet else (lambda s: print(s, flush=True))
    if config is None:
        cfg = parse_config(DEFAULT_CONFIG)
        say("nervenet train: the built-in example (no config given): scikit-learn's 8x8 digits, a 64-32-10 MLP,")
        say("softmax cross-entropy, Adam. Pass a TOML config to train your own (examples/digits.toml shows every section).")
    else:
        cfg = load_config(config)
    if epochs is not None:
        cfg.training["epochs"] = epochs
    folder = Path(out)
    shown = [] if quiet else [EpochLines(cfg.training["epochs"], cfg.schedule is not None, say)]
    run = run_config(cfg, folder, outside=outside, callbacks=shown, say=say)
    net, splits, history, test, trained = run.net, run.splits, run.history, run.test, run.seconds
    for c in run.callbacks:
        if isinstance(c, EarlyStopping) and c.report is not None:
            say(c.report)
    if test:
        print(f"test: {_metrics(test)}", flush=True)
    else:
        print("test: no test rows (data.test_fraction = 0)", flush=True)

    folder.mkdir(parents=True, exist_ok=True)
    net.preprocessing, net.classes = splits.preprocessor, splits.classes
    from .io import save_network

    save_network(net, folder / "model.safetensors", history=history, config=cfg.to_dict())
    (folder / "history.json").write_text(history.to_json())
    written = ["model.safetensors", "history.json"]
    if history.epochs:
        history.plot(folder / "history.png")
        written.append("history.png")
    record = {
        "config": cfg.to_dict(), "preprocessing": splits.preprocessor.to_dict(), "test": test,
        "epochs": len(history.epochs), "seconds": round(trained, 3),
    }
    (folder / "run.json").write_text(json.dumps(record, indent=2) + "\n")
    written.append("run.json")
    n = len(history.epochs)
    say(f"trained {n} epoch{'' if n == 1 else 's'} in {trained:.1f}s")
    print(f"wrote {', '.join(str(folder / w) for w in written)}", flush=True)
    return 0


def _evolution_settings(config: Optional[str], folder: Path, resume: bool, say: Callable[[str], None]) -> Any:
    """The settings of ``nervenet evolve``: CONFIG, else (resuming) the
    run's own from ``run.json``, else the built-in coal benchmark."""
    from .evolution import settings as evolution_settings

    if config is not None:
        return evolution_settings.read_settings(config)
    record = folder / "run.json"
    if resume and record.is_file():
        try:
            return evolution_settings.validate_settings(json.loads(record.read_text())["settings"])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:  # InvalidConfig is a ValueError
            raise UsageError(f"{record} holds no readable settings ({e}); give the run's CONFIG") from None
    settings = evolution_settings.default_settings()
    c = settings.config
    say("nervenet evolve: the built-in run (no config given): EXAMM's coal-plant benchmark (12 columns predict "
        "Main_Flm_Int one step ahead;")
    say(f"burners 0-7 train, 8-9 validate, 10-11 test) with EXAMM's settings: {c.islands} islands of "
        f"{c.island_size}, {c.genomes} genomes, {c.epochs} epochs each. Pass a TOML config for your own")
    say("(examples/evolve_coal.toml spells this one out), or --genomes N for a shorter run.")
    return settings


def evolve(config: Optional[str], out: str, overrides: dict[str, Any], resume: bool, quiet: bool) -> int:
    from .evolution import Evolution
    from .evolution.report import plot_fitness, summary
    from .io import write_atomic

    say: Callable[[str], None] = (lambda s: None) if quiet else (lambda s: print(s, flush=True))
    folder = Path(out)
    settings = _evolution_settings(config, folder, resume, say)
    changes = {k: v for k, v in overrides.items() if v is not None}
    for key, value in changes.items():  # one at a time, so that a bad one is named
        try:
            settings.replace(**{key: value})
        except ConfigError as e:
            raise UsageError(f"--{key}: {e}") from None
    settings = settings.replace(**changes)
    if not resume and (folder / "checkpoint.json").exists():
        raise UsageError(f"{folder} holds a run already: continue it with --resume, or choose another --out")
    if resume and not (folder / "checkpoint.json").is_file():
        raise UsageError(f"nothing to resume: {folder / 'checkpoint.json'} does not exist (--out names the run's folder)")
    task = settings.task()
    seed = settings.seed_genome(task)
    c = settings.config
    say(f"data: {len(task.X)} training sequences of {task.X.shape[1]} steps, {len(task.X_val)} validation, "
        f"{0 if task.X_test is None else len(task.X_test)} test; {task.n_inputs} inputs, {task.n_outputs} output"
        f"{'' if task.n_outputs == 1 else 's'}")
    evolution = Evolution(c, task, seed, out=folder)  # connects to a Ray cluster, which counts the workers
    workers = evolution.workers
    where = c.backend if c.ray_address is None else f"ray at {c.ray_address}"
    say(f"search: {c.genomes} genomes, {c.islands} islands of {c.island_size}, {c.epochs} epoch"
        f"{'' if c.epochs == 1 else 's'} each; {workers} worker{'' if workers == 1 else 's'} "
        f"({where}); {'resuming' if resume else 'writing'} {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    record = {"settings": settings.to_dict()}
    if not resume:  # before the run: an interrupted one resumes from it
        write_atomic(folder / "run.json", (json.dumps(record, indent=2) + "\n").encode())
    try:
        result = evolution.run(resume=resume, progress=not quiet)
    except KeyboardInterrupt:
        print(f"nervenet evolve: interrupted; `nervenet evolve --resume --out {folder}` continues the run",
              file=sys.stderr, flush=True)
        raise
    plot_fitness(result.history, path=folder / "fitness.png")
    best = result.best
    record["result"] = {
        "genomes": result.genomes, "seconds": round(result.seconds, 3),
        "best": {"id": best.id, "fitness": best.fitness, "test_loss": result.test_loss, **best.counts},
    }
    if result.final is not None:
        record["result"]["final"] = {"epochs": result.config.final_epochs, "fitness": result.final.fitness,
                                     "test_loss": result.final_test_loss}
    write_atomic(folder / "run.json", (json.dumps(record, indent=2) + "\n").encode())
    print(summary(result), flush=True)
    written = ["genomes.jsonl", "best.safetensors", *(["best-final.safetensors"] if result.final is not None else []),
               "best.dot", "fitness.png", "run.json", "checkpoint.json"]
    print(f"wrote {', '.join(str(folder / w) for w in written)}", flush=True)
    return 0


def _run_record(model: str) -> tuple[Optional[dict[str, Any]], str]:
    """The ``run.json`` next to MODEL (models of versions that stored their
    config and preprocessing only there), or None and why not."""
    run_file = Path(model).with_name("run.json")
    if not run_file.is_file():
        return None, f"no run.json next to {model}"
    try:
        run = json.loads(run_file.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        return None, f"{run_file} is not valid JSON ({e})"
    if not isinstance(run, dict) or not {"config", "preprocessing"} <= run.keys():
        return None, f"{run_file} is not a run record of `nervenet train`"
    return run, ""


class _Model:
    """A saved model with the config and preprocessing to read data for it:
    ``--config``, else the model file's, else its ``run.json``'s."""

    def __init__(self, model: str, config: Optional[str], need_config: bool = True) -> None:
        from . import io
        from .data import ColumnPreprocessor

        saved = io.read(model)  # a missing model is a MissingFileError naming it
        self.net = saved.build()
        self.cfg: Optional[Config] = None
        self.read_as = ""  # how a file's columns were split, for messages
        run, problem = (None, "") if saved.config is not None else _run_record(model)
        if config is not None:
            self.cfg = load_config(config)
        elif saved.config is not None:
            self.cfg = validate(saved.config)
        elif run is not None:
            self.cfg = validate(run["config"])
        elif need_config:
            raise UsageError(f"{model} holds no config and {problem}; give the training config with --config")
        self.pre = self.net.preprocessing
        if self.pre is None and run is not None:
            try:
                self.pre = ColumnPreprocessor.from_dict(run["preprocessing"])
            except TypeError:
                raise UsageError(f"{Path(model).with_name('run.json')} holds no valid preprocessing record; "
                                 "give the training config with --config") from None
        if self.pre is None and self.cfg is not None and saved.config is None and run is None:
            self.pre = self.cfg.load_data().preprocessor  # refit exactly as training did: on the training rows
        self.net.preprocessing = self.pre  # as `nervenet train` now stores it in the model
        if self.net.classes is None and isinstance(self.pre, ColumnPreprocessor) and self.pre.classify:
            self.net.classes = self.pre.classes or list(range(self.pre.n_classes))

    @property
    def width(self) -> Optional[int]:
        """How many raw feature columns the model reads (None if unknown)."""
        from .data import ColumnPreprocessor

        if isinstance(self.pre, ColumnPreprocessor):
            return len(self.pre.columns)
        if self.pre is None:
            return self.net.n_inputs
        n = getattr(self.pre, "n_features_in_", None)
        return int(n) if isinstance(n, (int, np.integer)) else None

    def rows(self, data: str, with_targets: bool) -> tuple[np.ndarray, Optional[np.ndarray]]:
        """DATA's raw feature rows (and targets): a file read as the config's
        [data] says, or a built-in set's test split. Without targets, a CSV
        may hold only the feature columns."""
        from .data import read_table
        from .data.prepare import raw_splits

        if Path(data).is_file():
            d = {"target": -1, "header": False, "delimiter": ","} if self.cfg is None else self.cfg.data
            opts = {"header": d["header"], "delimiter": d["delimiter"]}
            if not with_targets:
                X, _, _ = read_table(data, target=[], **opts)
                if X.shape[1] == self.width:
                    return X, None
            try:
                X, y, _ = read_table(data, target=d["target"], **opts)
            except ConfigError as e:
                raise InvalidConfig("data.target", str(e)) from None
            if X.ndim == 2 and not data.endswith(".npz"):
                self.read_as = f" (its {X.shape[1] + 1 if y.ndim == 1 else X.shape[1] + y.shape[1]} columns less " \
                               f"the target column data.target = {d['target']!r})"
        elif data in BUILTIN_DATASETS:
            spec = {**(self.cfg.data if self.cfg is not None else {}), "dataset": data, "train": None, "test": None}
            _, _, (X, y), _ = raw_splits(spec, self.cfg is not None and self.cfg.classify)
        else:
            raise UsageError(f"DATA {data!r} is neither a file nor a built-in dataset ({', '.join(BUILTIN_DATASETS)})")
        return X, y

    def raw(self, X: np.ndarray, data: str) -> np.ndarray:
        """Raw rows checked against the feature count the model reads (and
        made numbers, unless the CLI's ColumnPreprocessor reads the text)."""
        from .data import ColumnPreprocessor

        if self.width is not None and (X.ndim != 2 or X.shape[1] != self.width):
            what = "classes" if self.net.classes is not None else "outputs"
            raise ShapeError(
                f"the feature counts differ: {data} has {X.shape[1] if X.ndim == 2 else X.shape} feature columns"
                f"{self.read_as}, "
                f"the model takes {self.width} (the features it was trained on, before preprocessing; "
                f"it has {self.net.n_outputs} {what})"
            )
        if not isinstance(self.pre, ColumnPreprocessor) and X.dtype.kind not in "fiub":
            try:
                X = X.astype(np.float64)
            except ValueError:
                raise DataError(f"{data}: the feature columns hold values that are not numbers") from None
        return X

    def targets(self, y: np.ndarray) -> np.ndarray:
        """Raw targets as the loss takes them: class indices or values."""
        from .data import ColumnPreprocessor

        assert self.cfg is not None
        if isinstance(self.pre, ColumnPreprocessor):
            return self.pre.targets(y)
        labels = self.net.classes
        named = labels is not None and labels != list(range(len(labels)))
        return ColumnPreprocessor(classify=self.cfg.classify, classes=[str(c) for c in labels] if named else None,
                                  n_classes=self.net.n_outputs).targets(y)


def evaluate(model: str, data: str, config: Optional[str]) -> int:
    m = _Model(model, config)
    assert m.cfg is not None
    X, y = m.rows(data, with_targets=True)
    assert y is not None
    metrics = m.net.evaluate(m.net._raw_inputs(m.raw(X, data)), m.targets(y), m.cfg.loss["name"])
    print(f"{data}: {_metrics(metrics)}", flush=True)
    return 0


def predict(model: str, data: str, out: Optional[str], config: Optional[str]) -> int:
    import csv
    import io as text_io

    m = _Model(model, config, need_config=False)
    X, _ = m.rows(data, with_targets=False)
    X = m.raw(X, data)
    classes = m.net.classes
    predicted = m.net.predict(X)
    if classes is not None:
        header = ["prediction"]
        rows = [[label] for label in predicted.tolist()]
        if m.cfg is not None and m.cfg.loss["name"] == "softmax":  # the outputs are logits
            header += [f"probability_{c}" for c in classes]
            rows = [r + [f"{p:.6g}" for p in ps] for r, ps in zip(rows, m.net.predict_proba(X))]
    else:
        header = [f"output_{j}" for j in range(predicted.shape[1])]
        rows = [[f"{v:.9g}" for v in r] for r in predicted]
    buffer = text_io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    if out is None:
        sys.stdout.write(buffer.getvalue())
    else:
        from .io import write_atomic

        write_atomic(out, buffer.getvalue().encode("utf-8"))
        print(f"wrote {len(rows)} predictions to {out}", file=sys.stderr)
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


def export_onnx(model: str, out: str, preprocessing: bool) -> int:
    """``nervenet export MODEL --onnx OUT``: the model file as ONNX."""
    from .network import Network

    net = Network.load(model)
    onnx_model = net.to_onnx(out, preprocessing=preprocessing)
    x, y = onnx_model.graph.input[0], onnx_model.graph.output[0]
    print(f"wrote {out}: input {x.name} {_dims(x)}, output {y.name} {_dims(y)}, "
          f"opset {onnx_model.opset_import[0].version}")
    return 0


def _dims(value: Any) -> str:
    """An ONNX input's or output's shape, e.g. ``(N, T, 3)``."""
    return "(" + ", ".join(d.dim_param or str(d.dim_value) for d in value.type.tensor_type.shape.dim) + ")"


def _parser() -> argparse.ArgumentParser:
    from . import _core

    parser = argparse.ArgumentParser(
        prog="nervenet", description="Train and evaluate nervenet networks described by TOML configs."
    )
    parser.add_argument("--version", action="version", version=f"nervenet {_core.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    t = sub.add_parser("train", help="train from a TOML config (or the built-in digits example)",
                       description="Train a network; without CONFIG, the built-in scikit-learn digits example.")
    t.add_argument("config", nargs="?", metavar="CONFIG", help="TOML config file")
    t.add_argument("--out", default="nervenet-out", metavar="DIR",
                   help="folder for model, history and plot (default: nervenet-out)")
    t.add_argument("--epochs", type=_count, metavar="N", help="override training.epochs")
    t.add_argument("--quiet", "-q", action="store_true", help="no per-epoch lines; only the results")
    t.add_argument("--checkpoint-outside-out", action="store_true",
                   help="let callbacks.checkpoint.path (absolute, or with '..') write outside --out")
    e = sub.add_parser("evaluate", help="evaluate a saved model on a data file or built-in dataset",
                       description="Report loss and accuracy (or mse/mae) of MODEL on DATA.")
    e.add_argument("model", metavar="MODEL", help="model.safetensors written by `nervenet train`")
    e.add_argument("data", metavar="DATA",
                   help=f"a .csv/.npz file, or a built-in dataset ({', '.join(BUILTIN_DATASETS)}: its test split)")
    e.add_argument("--config", metavar="CONFIG", help="the training config (default: the one in MODEL)")
    p = sub.add_parser("predict", help="write a saved model's predictions for a data file or built-in dataset",
                       description="Write MODEL's predictions for DATA's rows as CSV: the class label (and each "
                                   "class's probability for a softmax model) or the output values.")
    p.add_argument("model", metavar="MODEL", help="a model file (from `nervenet train` or Network.save)")
    p.add_argument("data", metavar="DATA", help=f"a .csv/.npz file (with or without the target column), or a "
                                                f"built-in dataset ({', '.join(BUILTIN_DATASETS)}: its test split)")
    p.add_argument("--out", metavar="FILE", help="write the CSV here (default: standard output)")
    p.add_argument("--config", metavar="CONFIG", help="the training config (default: the one in MODEL)")
    x = sub.add_parser("export", help="export a saved model as an ONNX model",
                       description="Write MODEL as an ONNX model (opset 18) that onnxruntime and other ONNX "
                                   "runtimes run; its stored preprocessing runs in front of the network.")
    x.add_argument("model", metavar="MODEL", help="a model file (from `nervenet train` or Network.save)")
    x.add_argument("--onnx", required=True, metavar="FILE", help="the ONNX file to write")
    x.add_argument("--no-preprocessing", action="store_true",
                   help="leave the stored preprocessing out (the ONNX model takes network-ready inputs)")
    v = sub.add_parser("evolve", help="evolve recurrent networks, EXAMM-style (or the built-in coal benchmark)",
                       description="Neuro-evolution after EXAMM from a TOML settings file (see "
                                   "nervenet.evolution.settings); without CONFIG, EXAMM's coal-plant benchmark.")
    v.add_argument("config", nargs="?", metavar="CONFIG", help="TOML settings file ([evolution], [data], [seed])")
    v.add_argument("--out", default="evolve-out", metavar="DIR",
                   help="folder for the log, checkpoint, best model, drawing and plot (default: evolve-out)")
    v.add_argument("--genomes", type=_count, metavar="N", help="override evolution.genomes (more to continue a run)")
    v.add_argument("--workers", type=_count, metavar="N", help="override evolution.workers")
    v.add_argument("--epochs", type=_count, metavar="N", help="override evolution.epochs")
    v.add_argument("--seed", type=_count, metavar="N", help="override evolution.seed")
    v.add_argument("--backend", choices=("process", "inprocess", "ray"),
                   help="override evolution.backend (ray: Ray tasks, a local Ray instance unless --ray-address)")
    v.add_argument("--ray-address", metavar="ADDR",
                   help="train on the Ray cluster at ADDR (host:port, ray://host:port or auto); implies --backend ray")
    v.add_argument("--resume", action="store_true",
                   help="continue the run in --out (with its own settings when no CONFIG is given)")
    v.add_argument("--quiet", "-q", action="store_true", help="no progress bar; only the results")
    from .experiments.commands import add_commands

    add_commands(sub, _count)
    sub.add_parser("demo", help="run the short demo (python -m nervenet demo --help for its options)", add_help=False)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["demo"]:  # the demo parses its own options
        from .demo import main as demo

        return demo(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    from .experiments.commands import COMMANDS

    try:
        if args.command == "train":
            return train(args.config, args.out, args.epochs, args.quiet, args.checkpoint_outside_out)
        if args.command == "evolve":
            overrides = {"genomes": args.genomes, "workers": args.workers, "epochs": args.epochs, "seed": args.seed,
                         "backend": "ray" if args.ray_address is not None else args.backend,
                         "ray_address": args.ray_address}
            return evolve(args.config, args.out, overrides, args.resume, args.quiet)
        if args.command == "predict":
            return predict(args.model, args.data, args.out, args.config)
        if args.command == "export":
            return export_onnx(args.model, args.onnx, not args.no_preprocessing)
        if args.command in COMMANDS:
            return COMMANDS[args.command](args)
        return evaluate(args.model, args.data, args.config)
    except InvalidConfig as e:  # compare sets args.config to the config at fault
        source = getattr(args, "config", None) or {"train": "the built-in example", "evolve": "the built-in run"}.get(
            args.command, getattr(args, "model", ""))
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
