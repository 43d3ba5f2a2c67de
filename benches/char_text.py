"""Character-level language model on tiny shakespeare (or PTB characters),
trained for a fixed time, scored in bits per character on held-out text.

Data (../shared/data/text, read in place): tiny shakespeare's input.txt
(1,115,394 characters, 65 distinct), first 90% for training, last 10%
held out -- or with ``--dataset ptb`` the character-level PTB train split
for training and its valid split held out (50 symbols, '_' between words).
Inputs are one-hot characters (``nv.data.one_hot_ids``), targets the next
character's id at every step (integer labels (batch, time)); the loss is
``loss="softmax"`` (cross-entropy over the vocabulary) at every step.

Models (``--model``): torch-style layers ``lstm_layer`` / ``gru_layer``
(``nv.rnn.lstm_layers`` / ``gru_layers``: full gate matrices, a linear
head), or the notes' scalar memory cells ``lstm`` / ``gru`` / ... in
``nv.rnn.stacked`` with Elman-like edges (each layer fully connected to
itself one step back, ``recurrent=True``), for ``--hidden`` sizes (one
entry per layer).

Training: sequences of ``--seq-len`` = T characters (the training text cut
into non-overlapping chunks: chunk k's inputs are text[kT : kT+T], its
targets text[kT+1 : kT+T+1]; state starts at zero in every chunk), Adam, mini-batches of ``--batch-size``, walked in a
seeded random order without replacement, ``--round`` batches per
``fit`` epoch (a sampler picks them) until ``--seconds`` of training have
passed; the learning rate follows a cosine from ``--lr`` down to
``--lr * --lr-floor`` over the time budget (set per round).

Held-out score: the held-out text cut into sequences of ``--eval-len``
characters, each run from a zero state; bits per character =
mean cross-entropy in nats / ln 2. ``net.evaluate(..., "softmax")["loss"]``
is the cross-entropy per counted (sequence, step) in nats (``fit``'s
``reduction="mean"`` divides by the same count); the script checks it
against a numpy log-softmax of ``net.predict`` before using it.

Sample: ``generate(net, vocab, --prime, --sample-len, --temperature,
seed)`` (python/nervenet/generate.py), which re-runs the whole growing
sequence at every step (``window=None``: exact stateful sampling).

    python benches/char_text.py                             # 120 s of training, 2 GRU layers of 128
    python benches/char_text.py --model lstm_layer --seconds 60
    python benches/char_text.py --dataset ptb --model lstm --hidden 256

Prints progress, the held-out bpc and a sample; saves the result as JSON to
--out (default nervenet-out/char_text.json).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

import nervenet as nv

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
MODELS = ("lstm_layer", "gru_layer", "lstm", "gru", "mgu", "ugrnn", "delta", "simple")


def load_generate() -> Callable[..., str]:
    """``nervenet.generate.generate``; until the package is reinstalled with
    that module, the repository's python/nervenet/generate.py loaded by path."""
    try:
        from nervenet.generate import generate
    except ImportError:
        name = "nervenet.generate"
        spec = importlib.util.spec_from_file_location(name, ROOT / "python" / "nervenet" / "generate.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        generate = module.generate
    return generate


# ---- data ------------------------------------------------------------------------------------------


def load_corpus(data: Path, dataset: str) -> tuple[np.ndarray, np.ndarray, nv.data.Vocabulary, str]:
    """(train ids, held-out ids, vocabulary, description)."""
    if dataset == "shakespeare":
        text = nv.data.load_text(data / "text" / "tinyshakespeare" / "input.txt")
        cut = int(len(text.ids) * 0.9)
        return text.ids[:cut], text.ids[cut:], text.vocabulary, "tiny shakespeare, first 90% / last 10%"
    train = nv.data.load_ptb(data / "text" / "ptb", level="char", split="train")
    valid = nv.data.load_ptb(data / "text" / "ptb", level="char", split="valid", vocabulary=train.vocabulary)
    return train.ids, valid.ids, train.vocabulary, "PTB characters, train / valid"


def sequences(ids: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping chunks: inputs ids[kT : kT+T], targets ids[kT+1 : kT+T+1]."""
    n = (len(ids) - 1) // length
    return ids[: n * length].reshape(n, length), ids[1 : n * length + 1].reshape(n, length)


# ---- model -------------------------------------------------------------------------------------------


def build(model: str, vocab_size: int, hidden: list[int]) -> nv.Graph:
    if model == "lstm_layer":
        return nv.rnn.lstm_layers(vocab_size, hidden, vocab_size)
    if model == "gru_layer":
        return nv.rnn.gru_layers(vocab_size, hidden, vocab_size)
    return nv.rnn.stacked(vocab_size, hidden, vocab_size, kind=model, recurrent=True)


class Rounds:
    """A fit sampler: "epoch" r trains on ``per_round`` sequences, taken in
    order from seeded random permutations of all the sequences (a new one
    each time the data run out), so the data are walked without replacement."""

    def __init__(self, n: int, per_round: int, seed: int) -> None:
        self.n, self.per_round, self.rng = n, min(per_round, n), np.random.default_rng(seed)
        self.order = np.empty(0, dtype=np.int64)
        self.passes = 0.0

    def indices(self, epoch: int) -> np.ndarray:
        while len(self.order) < self.per_round:
            self.order = np.concatenate([self.order, self.rng.permutation(self.n)])
        out, self.order = self.order[: self.per_round], self.order[self.per_round :]
        self.passes += self.per_round / self.n
        return out


class TimeBudget(nv.callbacks.Callback):
    """Cosine learning rate over the time budget; stops once it is spent."""

    def __init__(self, seconds: float, lr: float, floor: float) -> None:
        self.seconds, self.lr, self.floor = seconds, lr, floor
        self.started = 0.0
        self.rounds = 0
        self.last_report = 0.0

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.started = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.trainer is None:
            return
        frac = min(self.elapsed() / self.seconds, 1.0)
        wanted = self.lr * (self.floor + (1 - self.floor) * 0.5 * (1 + math.cos(math.pi * frac)))
        self.trainer.scale_learning_rate(wanted / self.trainer.learning_rate(epoch))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.rounds = epoch + 1
        t = self.elapsed()
        if t - self.last_report >= 10 or t >= self.seconds:
            self.last_report = t
            print(f"  {t:6.1f} s  round {epoch + 1:4d}  train loss {logs['loss']:.3f} nats "
                  f"({logs['loss'] / math.log(2):.3f} bpc)  lr {logs['learning_rate']:.2e}", flush=True)
        if t >= self.seconds:
            self.stop_training = True


# ---- scoring -------------------------------------------------------------------------------------------


def log_softmax_nats(z: np.ndarray, targets: np.ndarray) -> float:
    """Mean of -log softmax(z)_target over every (sequence, step), numpy float64."""
    z = z.astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(logp, targets[..., None], axis=-1).mean())


def held_out_bpc(net: nv.Network, ids: np.ndarray, vocab_size: int, length: int) -> dict[str, float]:
    x_ids, y = sequences(ids, length)
    X = nv.data.one_hot_ids(x_ids, vocab_size)
    metrics = net.evaluate(X, y, "softmax")
    numpy_nats = log_softmax_nats(net.predict(X), y)
    if not math.isclose(metrics["loss"], numpy_nats, rel_tol=1e-4):
        raise AssertionError(f"evaluate's softmax loss {metrics['loss']} is not the mean cross-entropy {numpy_nats}")
    head = slice(0, min(4, len(X)))
    mean_loss, _ = net.loss_and_gradient(X[head], y[head], "softmax", reduction="mean")
    head_nats = log_softmax_nats(net.predict(X[head]), y[head])
    if not math.isclose(mean_loss, head_nats, rel_tol=1e-4):
        raise AssertionError(
            f"softmax loss with reduction='mean' {mean_loss} is not the mean cross-entropy {head_nats}"
        )
    return {"nats": metrics["loss"], "bpc": metrics["loss"] / math.log(2), "accuracy": metrics["accuracy"],
            "characters": int(y.size), "sequences": int(len(X))}


# ---- main -----------------------------------------------------------------------------------------------


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="the shared data folder (default ../shared/data)")
    ap.add_argument("--dataset", choices=("shakespeare", "ptb"), default="shakespeare")
    ap.add_argument("--model", choices=MODELS, default="gru_layer")
    ap.add_argument("--hidden", type=int, nargs="+", default=[128, 128], help="layer sizes")
    ap.add_argument("--seq-len", type=int, default=50)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--round", type=int, default=16, help="batches per fit epoch (time is checked between)")
    ap.add_argument("--lr", type=float, default=4e-3, help="Adam's initial learning rate")
    ap.add_argument("--lr-floor", type=float, default=0.1, help="final learning rate / initial")
    ap.add_argument("--seconds", type=float, default=120.0, help="training time budget")
    ap.add_argument("--eval-len", type=int, default=1000, help="held-out sequence length (state reset between)")
    ap.add_argument("--prime", default=None, help="default: 'ROMEO:\\n' (shakespeare), 'the_' (ptb: '_' is the space)")
    ap.add_argument("--sample-len", type=int, default=300)
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="0: nervenet's default")
    ap.add_argument("--out", type=Path, default=Path("nervenet-out") / "char_text.json")
    args = ap.parse_args(argv)

    if args.threads:
        nv.set_num_threads(args.threads)
    generate = load_generate()
    if args.prime is None:
        args.prime = "ROMEO:\n" if args.dataset == "shakespeare" else "the_"
    train_ids, held_ids, vocab, description = load_corpus(args.data, args.dataset)
    V = len(vocab)
    x_ids, Y = sequences(train_ids, args.seq_len)
    X = nv.data.one_hot_ids(x_ids, V)  # (n, seq_len, V) float32
    net = nv.Network(build(args.model, V, args.hidden), dtype="float32", seed=args.seed)
    print(f"{description}: {len(train_ids):,} training characters as {len(X):,} sequences of {args.seq_len}, "
          f"{len(held_ids):,} held out; vocabulary {V}")
    print(f"model {args.model} {args.hidden}: {net.n_params:,} parameters; training for {args.seconds:.0f} s "
          f"(threads {nv.get_num_threads()})", flush=True)

    untrained = held_out_bpc(net, held_ids, V, args.eval_len)
    rounds = Rounds(len(X), args.round * args.batch_size, args.seed)
    budget = TimeBudget(args.seconds, args.lr, args.lr_floor)
    t0 = time.perf_counter()
    history = net.fit(X, Y, loss="softmax", optimizer=nv.optim.Adam(args.lr), batch_size=args.batch_size,
                      epochs=10**9, seed=args.seed, sampler=rounds, callbacks=[budget], verbose=0)
    seconds = time.perf_counter() - t0
    chars = budget.rounds * rounds.per_round * args.seq_len
    t1 = time.perf_counter()
    score = held_out_bpc(net, held_ids, V, args.eval_len)
    eval_seconds = time.perf_counter() - t1

    t1 = time.perf_counter()
    sample = generate(net, vocab, args.prime, args.sample_len, args.temperature, args.seed)
    sample_seconds = time.perf_counter() - t1
    print()
    print(f"trained {seconds:.1f} s: {budget.rounds} rounds, {chars:,} characters "
          f"({rounds.passes:.2f} passes over the training text, {chars / seconds:,.0f} chars/s)")
    print(f"held-out: {score['bpc']:.3f} bpc ({score['nats']:.3f} nats/char, next-char accuracy "
          f"{score['accuracy']:.3f}) over {score['characters']:,} characters in sequences of {args.eval_len}; "
          f"untrained {untrained['bpc']:.3f} bpc; evaluated in {eval_seconds:.1f} s")
    print(f"sample (temperature {args.temperature}, seed {args.seed}, {sample_seconds:.1f} s):")
    print("-" * 60)
    print(args.prime + sample)
    print("-" * 60)

    report = {
        "data": description,
        "model": args.model,
        "hidden": args.hidden,
        "params": net.n_params,
        "train_seconds": seconds,
        "rounds": budget.rounds,
        "train_characters": chars,
        "passes": rounds.passes,
        "chars_per_second": chars / seconds,
        "final_train_loss_nats": history["loss"][-1],
        "held_out": score,
        "held_out_untrained": untrained,
        "bpc": score["bpc"],
        "sample": {"prime": args.prime, "temperature": args.temperature, "seed": args.seed, "text": sample,
                   "method": "whole growing sequence re-run each step (window=None)"},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": {"python": platform.python_version(), "threads": nv.get_num_threads(), "nervenet": nv.__version__},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
