"""EXAMM's fixed LSTM network on the coal-plant data: one training epoch,
nervenet against EXAMM measured in the same sitting.

    python benches/examm_coal.py [--examm PATH/TO/train_rnn] [--reps 15]
                                 [--cell all|lstm|gru|simple] [--core 0]

The work EXAMM (C++) does per epoch, timed in nervenet: 12 input columns of
burners 0-9 of ../shared/data/timeseries/2018_coal cut into 280 sequences
of 500 steps, Main_Flm_Int one step ahead as the target. The network:

  12 inputs -> 12 tanh nodes (fixed identity edges + bias: EXAMM applies
  tanh(x + bias) to its inputs; nervenet's input nodes apply nothing, so a
  tanh layer stands in for that) -> 12 scalar cells, fully connected from
  the tanh nodes at skip 0 and again at skip 1 -> one tanh output fed by the
  cells at skip 0 and skip 1. 457 trainable parameters with LSTM cells
  (GRU 433, tanh nodes 337), as EXAMM counts them.

Adam (lr 1e-3, beta2 0.99), one BPTT pass and weight update per sequence
(batch 1, the same algorithm as EXAMM), MSE summed over the steps. Also
reported: the 280 sequences in mini-batches of 28 (one update per batch;
its ratio is against EXAMM's batch-1 epoch, the only one EXAMM has).

Without --examm only nervenet is timed. With --examm, each round times one
nervenet epoch at batch 1, one at batch 28 and one EXAMM run, interleaved
(the order alternating each round) after a warm-up, all on one core
(--core; this process by sched_setaffinity, EXAMM by taskset). EXAMM's
``train_rnn`` is run as

    taskset -c CORE stdbuf -oL train_rnn --stochastic --bp_iterations 1
        --rnn_type lstm|gru|ff --num_hidden_layers 1 --max_recurrent_depth 1
        --weight_update adam --learning_rate 0.001 --beta1 0.9 --beta2 0.99
        --time_offset 1 --input_parameter_names <the 12 columns>
        --output_parameter_names Main_Flm_Int
        --training_filenames <280 files> --test_filenames <1 small file>
        --std_message_level info --file_message_level none --output_directory D

train_rnn has no option to cut series into sequences, so the script writes
each 500-step sequence as its own CSV file of 501 rows (time offset 1) in a
temporary folder: the same 280 (input, target) sequences nervenet trains
on. EXAMM's "ff" network is the tanh-node one ("simple" here: tanh hidden
nodes fed at skip 0 and 1). EXAMM prints no timings, so its output lines
are time-stamped as they arrive (line-buffered by stdbuf). One EXAMM epoch
with --stochastic is: shuffle, per sequence gradient + norm clipping +
Adam step, then an MSE pass over the whole training set and one over the
test file. The test file is 10 steps of burner 10, so that pass costs
nothing; the training-set MSE pass (a forward pass over all 280 sequences,
work nervenet's epoch does not do) is measured in the same run - after
training, train_rnn prints the training MSE and MAE, two such passes, and
half of that interval is subtracted. So per EXAMM run:

  EXAMM epoch  = ("iteration 0" line) - ("initial validation_mse" line)
                 - (("TEST ERRORS" line) - ("TRAINING ERRORS" line)) / 2
  as run       = the first term alone (what EXAMM's epoch costs as shipped)

Process start, CSV loading and the initial gradient pass are outside both.
EXAMM computes in double precision, nervenet here in float32.

Building EXAMM (public repository, outside this repository; Debian 12 with
g++ 12; MPI, MySQL and BOINC are optional and not needed; libtiff is linked
by train_rnn's CMake target, so its -dev package is needed):

    apt-get install cmake libtiff-dev
    git clone https://github.com/travisdesell/exact /tmp/exact
    cd /tmp/exact && mkdir build && cd build
    cmake .. && make -j2 train_rnn        # upstream flags: -O3 -funroll-loops -msse3
    # then, from nervenet's root:
    python benches/examm_coal.py --examm /tmp/exact/build/rnn_examples/train_rnn

(checked with EXAMM commit 05057356, March 2025, where train_rnn prints
the lines parsed here and counts 457 / 433 / 337 weights for the three
networks, as nervenet does).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import nervenet as nv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import MIN_ROUNDS, Contest, Result, Timing, header, interleave  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "timeseries" / "2018_coal"
TARGET = "Main_Flm_Int"
STEPS = 500
EXAMM_TYPE = {"lstm": "lstm", "gru": "gru", "simple": "ff"}


def coal_sequences() -> tuple[np.ndarray, np.ndarray]:
    files = [DATA / f"burner_{i}.csv" for i in range(10)]
    data = nv.data.load_timeseries(files, outputs=TARGET, time_offset=1)
    X, _ = nv.data.chunk_series(data.X, STEPS, lengths=data.lengths)
    Y, _ = nv.data.chunk_series(data.Y, STEPS, lengths=data.lengths)
    return X.astype(np.float32), Y.astype(np.float32)


def examm_graph(cell: str, n: int = 12) -> nv.Graph:
    g = nv.Graph()
    x = g.add_inputs(n)
    t = g.add_nodes(n, "tanh")
    for a, b in zip(x, t):
        g.identity(a, b)
    c = g.add_cells(n, cell) if cell != "simple" else g.add_nodes(n, "tanh")
    g.connect_all(t, c)
    g.connect_all(t, c, time_skip=1)
    y = g.add_outputs(1, "tanh", bias=True)
    g.connect_all(c, y)
    g.connect_all(c, y, time_skip=1)
    return g


def write_sequences(folder: Path, burners: range = range(10)) -> tuple[list[str], list[str]]:
    """The 280 sequences of ``coal_sequences`` as CSV files for EXAMM, one of
    STEPS + 1 rows each (time offset 1) in ``folder``: (column names, paths).
    Sequence k of a file: inputs from rows 500k .. 500k+499, targets from
    rows 500k+1 .. 500k+500, as load_timeseries + chunk_series cut them."""
    columns: list[str] = []
    paths = []
    for i in burners:
        head, *rows = (DATA / f"burner_{i}.csv").read_text().splitlines()
        columns = columns or head.split(",")
        for k in range((len(rows) - 1) // STEPS):
            path = folder / f"burner_{i}_{k:02d}.csv"
            path.write_text("\n".join([head, *rows[STEPS * k: STEPS * k + STEPS + 1]]) + "\n")
            paths.append(str(path))
    return columns, paths


def write_prefix(folder: Path, burner: int, steps: int) -> str:
    """The first ``steps`` (input, target) pairs of a burner as a CSV file in
    ``folder`` (a validation set that costs EXAMM nothing); its path."""
    head, *rows = (DATA / f"burner_{burner}.csv").read_text().splitlines()
    path = folder / f"test_burner_{burner}_{steps}_steps.csv"
    path.write_text("\n".join([head, *rows[:steps + 1]]) + "\n")
    return str(path)


def pin(core: int) -> None:
    """Every thread of this process (and those it starts later) on ``core``."""
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), {core})
        except OSError:  # a thread that ended meanwhile
            pass


class Examm:
    """EXAMM's train_rnn on the same 280 sequences, one epoch per run."""

    def __init__(self, binary: str, core: int, folder: Path) -> None:
        for tool in ("taskset", "stdbuf"):
            if shutil.which(tool) is None:
                sys.exit(f"--examm needs `{tool}` (util-linux / coreutils)")
        self.binary = str(Path(binary).resolve())
        if not os.access(self.binary, os.X_OK):
            sys.exit(f"--examm {binary}: not an executable")
        self.core = core
        self.folder = folder
        self.columns, self.train, self.test = self._write_sequences()

    def _write_sequences(self) -> tuple[list[str], list[str], list[str]]:
        columns, train = write_sequences(self.folder)
        return columns, train, [write_prefix(self.folder, 10, 10)]

    def command(self, cell: str) -> list[str]:
        return [
            "taskset", "-c", str(self.core), "stdbuf", "-oL", self.binary,
            "--training_filenames", *self.train, "--test_filenames", *self.test,
            "--time_offset", "1", "--input_parameter_names", *self.columns,
            "--output_parameter_names", TARGET,
            "--rnn_type", EXAMM_TYPE[cell], "--num_hidden_layers", "1", "--max_recurrent_depth", "1",
            "--weight_update", "adam", "--learning_rate", "0.001", "--beta1", "0.9", "--beta2", "0.99",
            "--bp_iterations", "1", "--stochastic",
            "--std_message_level", "info", "--file_message_level", "none",
            "--output_directory", str(self.folder / "out"),
        ]

    MARKS = {
        "start": "running stochastic back prop",
        "initial": "initial validation_mse",
        "epoch": "iteration    0,",
        "train_errors": "TRAINING ERRORS",
        "test_errors": "TEST ERRORS",
    }

    def run(self, cell: str) -> dict[str, float]:
        """One train_rnn run: seconds of its epoch ('epoch': training only,
        'as_run': with its training-set MSE pass, 'mse_pass': that pass,
        'grad_pass': the initial gradient pass without updates) and its
        weight count ('weights')."""
        cmd = self.command(cell)
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        seen: dict[str, float] = {}
        lines = []
        weights = -1
        assert proc.stdout is not None
        for line in proc.stdout:
            now = time.perf_counter() - t0
            lines.append(line)
            for key, text in self.MARKS.items():
                if text in line and key not in seen:
                    seen[key] = now
            m = re.search(r"RNN has (\d+) weights", line)
            if m:
                weights = int(m.group(1))
        if proc.wait() != 0 or len(seen) != len(self.MARKS):
            sys.exit(f"EXAMM failed (exit {proc.returncode}); last output:\n{''.join(lines[-15:])}")
        as_run = seen["epoch"] - seen["initial"]
        mse_pass = (seen["test_errors"] - seen["train_errors"]) / 2
        return {"epoch": as_run - mse_pass, "as_run": as_run, "mse_pass": mse_pass,
                "grad_pass": seen["initial"] - seen["start"], "weights": weights}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reps", type=int, default=MIN_ROUNDS, help=f"timed rounds (at least {MIN_ROUNDS})")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    parser.add_argument("--cell", default="all", choices=["all", "lstm", "gru", "simple"])
    parser.add_argument("--core", type=int, default=0, help="the core both run on (with --threads 1)")
    parser.add_argument("--examm", metavar="PATH/TO/train_rnn", help="EXAMM's train_rnn, built as the docstring says")
    args = parser.parse_args()
    if args.reps < MIN_ROUNDS:
        parser.error(f"--reps: at least {MIN_ROUNDS} rounds (benches/harness.py's rule)")
    if args.examm and args.threads != 1:
        parser.error("EXAMM trains on one thread: compare at --threads 1")
    if args.threads == 1:
        pin(args.core)
    Contest(threads=args.threads, rounds=args.reps)  # sets the threads, prints the CPU line
    X, Y = coal_sequences()
    print(f"# {len(X)} sequences of {X.shape[1]} steps, {X.shape[2]} inputs; nervenet f32"
          + (f"; pinned to core {args.core}" if args.threads == 1 else ""))

    with tempfile.TemporaryDirectory(prefix="examm_coal_") as tmp:
        examm = Examm(args.examm, args.core, Path(tmp)) if args.examm else None
        if examm is not None:
            assert len(examm.train) == len(X), (len(examm.train), len(X))
            print(f"# EXAMM {examm.binary} (f64), one train_rnn run per round; EXAMM epoch = its epoch "
                  f"less its training-set MSE pass (see the docstring)")
        else:
            print("# EXAMM not measured (pass --examm PATH/TO/train_rnn)")
        print(header(["nervenet", "EXAMM"] if examm else ["nervenet"]))
        extra = []
        for cell in (["lstm", "gru", "simple"] if args.cell == "all" else [args.cell]):
            nets, opts = {}, {}
            for batch in (1, 28):
                nets[batch] = nv.Network(examm_graph(cell), dtype="float32", seed=0)
                opts[batch] = nv.optim.Adam(1e-3, beta2=0.99)
            trainable = int(nets[1].trainable.sum())

            def epoch(batch: int) -> float:
                if args.threads == 1:
                    pin(args.core)  # and the pool's threads the first epoch started
                start = time.perf_counter()
                nets[batch].fit(X, Y, loss="mse", optimizer=opts[batch], batch_size=batch, epochs=1, verbose=0)
                return time.perf_counter() - start

            samplers = {"b1": lambda: epoch(1), "b28": lambda: epoch(28)}
            if examm:
                samplers["examm"] = lambda: examm.run(cell)
            samples = interleave(samplers, args.reps, args.warmup)

            ex = samples.get("examm", [])
            for batch in (1, 28):
                ours = samples[f"b{batch}"]
                name = f"{cell} b{batch} ({trainable} params"
                if ex:
                    name += f"; EXAMM {ex[0]['weights']})"
                    theirs = [s["epoch"] for s in ex]
                    res = Result(name, {"nervenet": Timing(ours), "EXAMM": Timing(theirs)},
                                 [t / o for o, t in zip(ours, theirs)],
                                 note="(vs EXAMM's batch-1 epoch)" if batch != 1 else "")
                else:
                    res = Result(name + ")", {"nervenet": Timing(ours)})
                print(res.row(), f" min-max nervenet {min(ours):.4f}-{max(ours):.4f} s"
                      + (f", EXAMM {min(theirs):.3f}-{max(theirs):.3f} s" if ex else ""))
            if ex:
                t = {k: Timing([s[k] for s in ex]) for k in ("as_run", "mse_pass", "grad_pass")}
                extra.append(f"# EXAMM {cell} ({EXAMM_TYPE[cell]}): epoch as run {t['as_run'].median:.3f} s "
                             f"{t['as_run'].spread()} (ratio to nervenet b1 "
                             f"{Timing([s['as_run'] / o for s, o in zip(ex, samples['b1'])]).median:.2f}x), of which "
                             f"training-set MSE pass {t['mse_pass'].median:.3f} s {t['mse_pass'].spread()}; "
                             f"its gradient pass without updates {t['grad_pass'].median:.3f} s")
        for line in extra:
            print(line)


if __name__ == "__main__":
    main()
