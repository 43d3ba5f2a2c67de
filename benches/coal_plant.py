"""Coal plant: predict Main_Flm_Int one step ahead (EXAMM's 2018_coal task).

Data (../shared/data/timeseries/2018_coal, read in place): all 12 columns
of each burner as inputs, the next step's Main_Flm_Int as the target
(``load_timeseries(..., time_offset=1)``: X[t] = row t, Y[t] = row t+1).
Training: burners 0-9, each cut into chunks of --chunk steps (500: 28
chunks per 14,400-step file, the 400-step tail dropped -> 280 sequences;
cell state starts at 0 in every chunk). Test: burners 10 and 11 as two
whole 14,400-step series (state carried through the whole series, as EXAMM
evaluates). Test MSE = mean over all 28,800 test steps of
(prediction - target)^2, the way EXAMM reports MSE; computed in float64
from ``net.predict`` (and checked against ``net.evaluate``'s mse).

References printed with the table:
  * EXAMM's fixed LSTM (median after 5 epochs): test MSE 0.00207;
  * the naive forecast "next value = current value" on the same test split,
    computed here: 0.000694;
  * a linear model given what the networks' input edges give (x[t] and
    x[t-1], all 12 columns), least squares for the change y[t+1] - y[t]:
    0.000531 (steps t >= 1 of the test series).

Networks (--kinds; the hidden layer has --hidden nodes, 12 by default):

  examm_lstm   EXAMM's fixed one-layer LSTM net (its create_nn shape):
               12 inputs -> 12 peephole LSTM cells, fed by every input at
               time skip 0 AND 1; every cell -> 1 tanh output (with bias) at
               skip 0 and 1. Random (xavier) weights, no residual.
  lstm, gru, mgu, ugrnn, delta
               the same edges around cells of that kind, but a residual
               output: an identity output node (with bias) that also gets a
               fixed weight-1 edge from the Main_Flm_Int input (Graph.identity),
               and the cell -> output edges start at weight 0 (trainable).
               The untrained network *is* the naive forecast; training
               learns the change y[t+1] - y[t].
  simple       as the residual nets with tanh neurons instead of cells, plus
               Elman edges (hidden fully connected to itself at skip 1).
  lstm_layer, gru_layer (not in the default list)
               torch-style LSTM/GRU layers (Graph.add_lstm_layer) of --hidden
               units in the residual shape (input skip-1 edges left out: the
               layer's own recurrent matrices replace them).

Training: Adam(--lr), mini-batches of --batch-size chunks, --epochs epochs,
learning rate x exp(-k * epoch) (--decay k), float32, seeds fixed (network
init and shuffling; --seeds runs several and the table shows the median).
Wall time is the fit time per run (test evaluation excluded), on whatever
else shares the machine.

    python benches/coal_plant.py                           # about 2 minutes on 2 cores
    python benches/coal_plant.py --epochs 5 --seeds 0      # quick look
    python benches/coal_plant.py --kinds examm_lstm lstm lstm_layer --out /tmp/coal.json

Prints a table, saves it as JSON to --out (default nervenet-out/coal_plant.json);
exits 1 if a residual network (or examm_lstm) fails to beat its reference.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np

import nervenet as nv

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TARGET = "Main_Flm_Int"
EXAMM_LSTM_MSE = 0.00207  # EXAMM's fixed LSTM, median test MSE after 5 epochs
CELLS = ("lstm", "gru", "mgu", "ugrnn", "delta")
LAYERS = ("lstm_layer", "gru_layer")
KINDS = ("examm_lstm",) + CELLS + ("simple",) + LAYERS
DEFAULT_KINDS = ("examm_lstm",) + CELLS + ("simple",)


# ---- data ------------------------------------------------------------------------------------


def load(data: Path, chunk: int, train_burners: range = range(10), test_burners: tuple[int, ...] = (10, 11),
         max_chunks: Optional[int] = None) -> dict[str, Any]:
    """Training chunks and whole test series; ``max_chunks`` keeps the first n chunks (for quick tests)."""
    coal = data / "timeseries" / "2018_coal"
    train = nv.data.load_timeseries([coal / f"burner_{i}.csv" for i in train_burners], outputs=TARGET)
    test = nv.data.load_timeseries([coal / f"burner_{i}.csv" for i in test_burners], outputs=TARGET)
    X, mask = nv.data.chunk_series(train.X, chunk, lengths=train.lengths)
    Y, _ = nv.data.chunk_series(train.Y, chunk, lengths=train.lengths)
    if max_chunks is not None:
        X, Y, mask = X[:max_chunks], Y[:max_chunks], mask[:max_chunks]
    return {"X": X, "Y": Y, "mask": mask, "train": train, "test": test,
            "target_input": train.input_names.index(TARGET), "input_names": train.input_names}


def test_mse(prediction: np.ndarray, Y: np.ndarray, mask: np.ndarray) -> float:
    """Mean over the real test steps of (prediction - target)^2, in float64."""
    d = prediction.astype(np.float64) - Y.astype(np.float64)
    m = mask.astype(np.float64)[..., None]
    return float((m * d * d).sum() / (m.sum() * Y.shape[-1]))


def naive_mse(test: Any, target_input: int) -> float:
    """The forecast "next value = current value": X[t, Main_Flm_Int] predicts Y[t]."""
    return test_mse(test.X[..., target_input:target_input + 1], test.Y, test.mask)


def _lagged(X: np.ndarray) -> np.ndarray:
    """[1, x[t], x[t-1]] per step t >= 1 of one series (float64)."""
    x = X.astype(np.float64)
    return np.hstack([np.ones((len(x) - 1, 1)), x[1:], x[:-1]])


def linear_mse(train: Any, test: Any, target_input: int) -> float:
    """A linear reference with the information the networks' skip-0 and skip-1
    input edges give: least squares of the change y[t+1] - y[t] on
    [1, x[t], x[t-1]], fitted on the whole training series, scored on the
    test steps t >= 1 (step 0 has no x[t-1])."""
    def pairs(d: Any) -> tuple[np.ndarray, np.ndarray]:
        A, b = [], []
        for i, n in enumerate(d.lengths):
            A.append(_lagged(d.X[i, :n]))
            b.append(d.Y[i, 1:n, 0].astype(np.float64) - d.X[i, 1:n, target_input])
        return np.vstack(A), np.concatenate(b)
    A, b = pairs(train)
    w = np.linalg.lstsq(A, b, rcond=None)[0]
    At, bt = pairs(test)
    return float(np.mean((At @ w - bt) ** 2))


# ---- networks --------------------------------------------------------------------------------


def build(kind: str, n_inputs: int = 12, hidden: int = 12, target_input: int = 11) -> nv.Graph:
    """The graph of one table row (see the module docstring)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    g = nv.Graph()
    x = g.add_inputs(n_inputs)
    residual = kind != "examm_lstm"
    if kind in LAYERS:
        h = g.add_lstm_layer(hidden, x) if kind == "lstm_layer" else g.add_gru_layer(hidden, x)
    else:
        if kind == "simple":
            h = g.add_nodes(hidden, "tanh")
            g.connect_all(h, h, time_skip=1)  # Elman: hidden fully connected to itself one step back
        else:
            h = g.add_cells(hidden, "lstm" if kind == "examm_lstm" else kind)
        g.connect_all(x, h)
        g.connect_all(x, h, time_skip=1)  # EXAMM's recurrent input -> cell edges
    y = g.add_outputs(1, "identity" if residual else "tanh", bias=True)[0]
    for skip in (0, 1):  # EXAMM's cell -> output edges, feed-forward and one step back
        for c in h:
            g.connect(c, y, time_skip=skip, weight=0.0 if residual else None)
    if residual:
        g.identity(x[target_input], y)  # the naive forecast; the network learns the change
    return g


# ---- one run -----------------------------------------------------------------------------------


class TestCurve(nv.callbacks.Callback):
    """Test MSE after chosen epochs (reported, never used to choose anything),
    and the time spent on it (subtracted from the fit time)."""

    def __init__(self, test: Any, at: set[int]) -> None:
        self.test, self.at, self.mse, self.spent = test, at, {}, 0.0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if epoch + 1 in self.at and self.network is not None:
            t0 = time.perf_counter()
            self.mse[epoch + 1] = test_mse(self.network.predict(self.test.X), self.test.Y, self.test.mask)
            self.spent += time.perf_counter() - t0


def run(kind: str, d: dict[str, Any], *, hidden: int, epochs: int, batch_size: int, lr: float, decay: float,
        seed: int) -> dict[str, Any]:
    g = build(kind, d["X"].shape[-1], hidden, d["target_input"])
    net = nv.Network(g, dtype="float32", seed=seed)
    test = d["test"]
    curve = TestCurve(test, {5, epochs})
    untrained = test_mse(net.predict(test.X), test.Y, test.mask)
    t0 = time.perf_counter()
    history = net.fit(d["X"], d["Y"], loss="mse", optimizer=nv.optim.Adam(lr), batch_size=batch_size,
                      epochs=epochs, seed=seed, mask=d["mask"], verbose=0, callbacks=[curve],
                      schedule=nv.optim.ExponentialDecay(decay) if decay else None)
    seconds = time.perf_counter() - t0 - curve.spent
    pred = net.predict(test.X)
    mse = test_mse(pred, test.Y, test.mask)
    check = net.evaluate(test.X, test.Y, "mse", mask=test.mask)["mse"]
    if not math.isclose(mse, check, rel_tol=1e-4):
        raise AssertionError(f"{kind}: test MSE {mse} from predict disagrees with evaluate's {check}")
    return {"kind": kind, "seed": seed, "params": net.n_params, "epochs": len(history.epochs),
            "seconds": seconds, "untrained_mse": untrained, "mse_epoch5": curve.mse.get(5),
            "test_mse": mse, "train_loss": history["loss"][-1]}


# ---- table ---------------------------------------------------------------------------------------


def summarise(kind: str, runs: list[dict[str, Any]], naive: float) -> dict[str, Any]:
    med = lambda key: statistics.median(r[key] for r in runs if r[key] is not None)  # noqa: E731
    mse = med("test_mse")
    e5 = [r["mse_epoch5"] for r in runs if r["mse_epoch5"] is not None]
    return {
        "kind": kind,
        "params": runs[0]["params"],
        "epochs": runs[0]["epochs"],
        "seeds": [r["seed"] for r in runs],
        "test_mse_median": mse,
        "test_mse_min": min(r["test_mse"] for r in runs),
        "test_mse_max": max(r["test_mse"] for r in runs),
        "test_mse_epoch5_median": statistics.median(e5) if e5 else None,
        "untrained_mse_median": med("untrained_mse"),
        "seconds_median": med("seconds"),
        "beats_examm_lstm": mse < EXAMM_LSTM_MSE,
        "beats_naive": mse < naive,
        "runs": runs,
    }


def fmt(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:.6f}"


def print_table(rows: list[dict[str, Any]], naive: float, linear: float) -> None:
    head = (f"{'network':<11} {'params':>6} {'epochs':>6} {'MSE@5':>9} {'test MSE':>9} {'(min':>9} {'max)':>9} "
            f"{'sec/run':>8}  beats EXAMM  beats naive")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['kind']:<11} {r['params']:>6} {r['epochs']:>6} {fmt(r['test_mse_epoch5_median']):>9} "
              f"{fmt(r['test_mse_median']):>9} {fmt(r['test_mse_min']):>9} {fmt(r['test_mse_max']):>9} "
              f"{r['seconds_median']:>8.2f}  {'yes' if r['beats_examm_lstm'] else 'no':>11}  "
              f"{'yes' if r['beats_naive'] else 'no':>11}")
    print(f"references: EXAMM fixed LSTM {EXAMM_LSTM_MSE:.6f} (median, 5 epochs); naive forecast {naive:.6f} "
          "(computed here, same test split)")
    print(f"            linear least squares on x[t], x[t-1] (predicting the change) {linear:.6f}")


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="the shared data folder (default ../shared/data)")
    ap.add_argument("--kinds", nargs="+", default=list(DEFAULT_KINDS), choices=KINDS)
    ap.add_argument("--hidden", type=int, default=12, help="cells (nodes, units) in the hidden layer")
    ap.add_argument("--chunk", type=int, default=500, help="training sequence length")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate")
    ap.add_argument("--decay", type=float, default=0.05, help="learning rate x exp(-decay * epoch); 0: constant")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--threads", type=int, default=0, help="0: nervenet's default")
    ap.add_argument("--out", type=Path, default=Path("nervenet-out") / "coal_plant.json")
    args = ap.parse_args(argv)

    if args.threads:
        nv.set_num_threads(args.threads)
    t0 = time.perf_counter()
    d = load(args.data, args.chunk)
    test = d["test"]
    naive = naive_mse(test, d["target_input"])
    print(f"train: {d['X'].shape[0]} chunks of {args.chunk} steps from burners 0-9; test: burners 10-11 as "
          f"{test.X.shape[0]} whole series of {test.X.shape[1]} steps (loaded in {time.perf_counter() - t0:.2f} s)")
    linear = linear_mse(d["train"], test, d["target_input"])
    print(f"naive forecast (next = current) test MSE: {naive:.6f}; linear reference: {linear:.6f}", flush=True)

    rows = []
    for kind in args.kinds:
        runs = []
        for seed in args.seeds:
            r = run(kind, d, hidden=args.hidden, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                    decay=args.decay, seed=seed)
            print(f"  {kind:<11} seed {seed}: test MSE {r['test_mse']:.6f} (epoch 5: {fmt(r['mse_epoch5'])}, "
                  f"untrained {r['untrained_mse']:.4g})  {r['seconds']:.2f} s", flush=True)
            runs.append(r)
        rows.append(summarise(kind, runs, naive))
    print()
    print_table(rows, naive, linear)

    report = {
        "task": "2018_coal Main_Flm_Int, one step ahead; train burners 0-9 in chunks, test burners 10-11 whole",
        "mse": "mean over all test steps of (prediction - target)^2",
        "test": "whole series",
        "train_sequences": int(d["X"].shape[0]),
        "chunk": args.chunk,
        "naive_mse": naive,
        "examm_lstm_mse": EXAMM_LSTM_MSE,
        "linear_mse": linear,
        "linear": "least squares of y[t+1] - y[t] on [1, x[t], x[t-1]] (all 12 columns), train burners 0-9 whole",
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": {"python": platform.python_version(), "threads": nv.get_num_threads(),
                    "nervenet": nv.__version__},
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"saved {args.out}  (total {time.perf_counter() - t0:.1f} s)")
    failed = [r["kind"] for r in rows if not (r["beats_examm_lstm"] if r["kind"] == "examm_lstm" else r["beats_naive"])]
    if failed:
        print(f"did not beat the reference: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
