"""EXAMM's own neuro-evolution (its multithreaded driver ``examm_mt``) on the
coal-plant data, to set beside nervenet's (``nv.evolution``, issue 14).

    python benches/examm_evolution.py --examm PATH/TO/examm_mt --examm-only
        [--preset tiny|published|throughput] [--genomes N] [--islands N]
        [--island-size N] [--epochs N] [--threads N] [--files published|chunks]
        [--validation test|tiny] [--cores 0,1] [--keep]

Two measures of issue 14 need EXAMM itself, run on the same 2 cores in the
same sitting as nervenet:

(a) EXAMM's published coal run ("--preset published"): 10 islands of 10
    genomes, 2,000 genomes, each trained 5 epochs (``--bp_iterations 5``) on
    the full-length burners 0-9 of ../shared/data/timeseries/2018_coal and
    judged on burners 10-11 (EXAMM's "test" files are its validation set:
    examm_mt picks genomes by them, so its best MSE is optimistic), the 12
    columns in, Main_Flm_Int one step ahead out, cell kinds simple, UGRNN,
    MGU, GRU, Delta-RNN and LSTM, 2 mutations per child, as EXAMM's
    scripts/base_run/coal_mt.sh, on 2 threads:

      examm_mt --number_threads 2
        --training_filenames DATA/burner_0.csv ... DATA/burner_9.csv
        --test_filenames DATA/burner_10.csv DATA/burner_11.csv
        --time_offset 1 --input_parameter_names <the 12 columns>
        --output_parameter_names Main_Flm_Int
        --number_islands 10 --island_size 10 --max_genomes 2000
        --bp_iterations 5 --num_mutations 2
        --possible_node_types simple UGRNN MGU GRU delta LSTM
        --output_directory OUT --std_message_level INFO --file_message_level NONE

(b) throughput ("--preset throughput"): the same search with EXAMM's
    per-genome work of issue 14's throughput measure, 10 epochs of 280
    sequences x 500 steps at batch 1: the training files are the 280
    pre-cut CSV files of benches/examm_coal.py (``write_sequences``; examm_mt
    reads file lists as train_rnn does), so the only changes to (a) are
    ``--training_filenames <the 280 files> --bp_iterations 10`` and the
    genome budget (``--max_genomes 300``: about 200 trained, see below). examm_mt always trains per sequence (batch 1: gradient,
    norm scaling, Adam step). Its own ``--train_sequence_length 500`` cuts
    the same 280 sequences from the full-length files. Validation stays on
    burners 10-11 (``--validation test``); ``--validation tiny`` validates on
    10 steps of burner 10 instead, as examm_coal.py does, to leave the
    validation passes out of the cost.

Before training, each genome costs EXAMM one gradient pass over the
training set without updates; each epoch costs it, besides the training, a
forward pass over the training set and one over the validation set
(``RNN_Genome::backpropagate_stochastic``). That is EXAMM as shipped and is
measured as such. Weights are doubles; EXAMM seeds its generators from the
clock, so no two runs are the same: compare medians over runs, not runs.

What is read (examm_mt prints no times; its output lines are time-stamped
as they arrive, line-buffered by stdbuf, and written with their stamps to
OUT/examm_stdout.txt):

  - ``[INFO    genome_<id>_thread_<t>] initial validation_mse: ...`` when
    genome <id> has had its gradient pass on thread <t>;
    ``... iteration    <e>, mse: <train>, v_mse: <val>, bv_mse: <best val>``
    after each epoch; ``... backpropagation completed`` when it is trained.
    A genome whose gradients went non-finite stops without that last line
    (EXAMM drops it): counted as ``failed``.
  - ``Finished initializing, now start EXAMM evolution`` (search start) and
    ``completed!`` (search end).
  - OUT/fitness_log.csv, one row per genome inserted: its "Best Val. MSE"
    (the global best's, 6 significant digits) is checked against the best
    of the ``bv_mse`` values printed (10 decimals), which is reported.
  - OUT/global_best_genome_<id>.bin/.txt/.gv: the best genome.

The result (``ExammResult``): wall seconds (process start to exit, including
reading the CSV files), search seconds (search start to exit), genomes
trained, genomes per hour (trained / search seconds), failed genomes, the
best validation MSE and the genome that reached it, seconds per genome (on
its thread, from the end of the thread's previous genome: generation,
training and insertion), and the output folder.

Note that examm_mt's ``--max_genomes`` counts "evaluated" genomes, and
while an island fills, each new genome is also inserted once untrained, as
a placeholder (``IslandSpeciationStrategy::generate_genome``), which counts:
with 10 x 10 islands, 2,000 means about 1,900 genomes trained; with 2 x 2
and 8, six. Genomes start minimal (the 12 inputs wired to the output)
and grow, so EXAMM's genomes per hour depends on how far its
search has grown them; nervenet's side should be read against the sizes
reached (OUT/fitness_log.csv has the best genome's node and edge counts).

Building EXAMM (public repository, outside this repository; Debian 12,
g++ 12; MPI, MySQL and BOINC not needed):

    apt-get install cmake libtiff-dev
    git clone https://github.com/travisdesell/exact /tmp/exact
    cd /tmp/exact && mkdir build && cd build
    cmake .. && make -j2 examm_mt train_rnn  # upstream flags: -O3 -funroll-loops -msse3
    # binaries: /tmp/exact/build/multithreaded/examm_mt,
    #           /tmp/exact/build/rnn_examples/train_rnn
    # then, from nervenet's root:
    python benches/examm_evolution.py --examm /tmp/exact/build/multithreaded/examm_mt --examm-only

(checked with EXAMM commit 05057356, March 2025.) The comparison with
nervenet (``run_nervenet`` and the interleaving) is filled in once
``nv.evolution`` exists; until then only ``--examm-only`` runs.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from examm_coal import DATA, TARGET, write_prefix, write_sequences  # noqa: E402

NODE_TYPES = ("simple", "UGRNN", "MGU", "GRU", "delta", "LSTM")
TRAIN_BURNERS = range(10)  # EXAMM's published split: 0-9 train,
TEST_BURNERS = (10, 11)    # 10-11 "test", which is also its validation


@dataclass(frozen=True)
class Budget:
    """One examm_mt run's settings."""

    genomes: int            # --max_genomes (counts the placeholders, see the docstring)
    islands: int            # --number_islands
    island_size: int        # --island_size
    epochs: int             # --bp_iterations
    threads: int = 2        # --number_threads
    files: str = "published"  # "published": full-length burners; "chunks": 280 x 500 steps
    validation: str = "test"  # "test": burners 10-11; "tiny": 10 steps of burner 10
    mutations: int = 2      # --num_mutations (coal_mt.sh; EXAMM's default is 1)
    node_types: tuple[str, ...] = NODE_TYPES


PRESETS = {
    "tiny": Budget(genomes=8, islands=2, island_size=2, epochs=1),
    "published": Budget(genomes=2000, islands=10, island_size=10, epochs=5),
    "throughput": Budget(genomes=300, islands=10, island_size=10, epochs=10, files="chunks"),  # ~200 trained
}


@dataclass
class ExammResult:
    """What one examm_mt run did (seconds by this process's clock)."""

    wall_seconds: float      # process start to exit
    search_seconds: float    # "now start EXAMM evolution" to exit
    genomes: int             # genomes trained to the end
    failed: int              # genomes dropped for non-finite gradients
    best_mse: float          # best validation MSE of any genome (EXAMM's fitness)
    best_genome: int         # its generation id
    output: Path             # examm_mt's --output_directory (+ examm_stdout.txt)
    command: list[str]
    genome_seconds: list[float] = field(default_factory=list)  # per genome, on its thread
    logged_best_mse: float = math.nan  # fitness_log.csv's last "Best Val. MSE"

    @property
    def genomes_per_hour(self) -> float:
        return 3600 * self.genomes / self.search_seconds

    def summary(self) -> str:
        per = sorted(self.genome_seconds)
        median = per[len(per) // 2] if per else math.nan
        return (f"EXAMM: {self.genomes} genomes trained ({self.failed} failed) in {self.search_seconds:.1f} s "
                f"of search ({self.wall_seconds:.1f} s wall): {self.genomes_per_hour:.0f} genomes/hour; "
                f"median {median:.3f} s per genome on its thread; best validation MSE {self.best_mse:.10f} "
                f"(genome {self.best_genome}); output in {self.output}")


_LINE = re.compile(r"^\[(\w+)\s+(\S+)\s*\] (.*)$")
_GENOME = re.compile(r"^genome_(\d+)_thread_(\d+)$")
_EPOCH = re.compile(r"iteration\s+(\d+), mse: (\S+), v_mse: (\S+), bv_mse: (\S+),")


class ExammRun:
    """Runs examm_mt on the coal data in a folder of its own (a new
    temporary one unless ``folder`` is given), with the data files it needs
    written there once; ``cores`` pins it (taskset)."""

    def __init__(self, binary: str, folder: Optional[Path] = None, cores: Optional[str] = None) -> None:
        self.binary = str(Path(binary).resolve())
        if not os.access(self.binary, os.X_OK):
            raise SystemExit(f"--examm {binary}: not an executable")
        for tool in ("stdbuf",) + (("taskset",) if cores else ()):
            if shutil.which(tool) is None:
                raise SystemExit(f"EXAMM's runs need `{tool}` (coreutils / util-linux)")
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="examm_evolution_"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.cores = cores
        self.columns = (DATA / "burner_0.csv").read_text().split("\n", 1)[0].split(",")
        self._chunks: list[str] = []
        self._runs = 0

    def training_files(self, files: str) -> list[str]:
        if files == "published":
            return [str(DATA / f"burner_{i}.csv") for i in TRAIN_BURNERS]
        if files == "chunks":
            if not self._chunks:
                data = self.folder / "chunks"
                data.mkdir(exist_ok=True)
                _, self._chunks = write_sequences(data, TRAIN_BURNERS)
            return self._chunks
        raise ValueError(f"files: 'published' or 'chunks', not {files!r}")

    def validation_files(self, validation: str) -> list[str]:
        if validation == "test":
            return [str(DATA / f"burner_{i}.csv") for i in TEST_BURNERS]
        if validation == "tiny":
            return [write_prefix(self.folder, TEST_BURNERS[0], 10)]
        raise ValueError(f"validation: 'test' or 'tiny', not {validation!r}")

    def command(self, budget: Budget, output: Path) -> list[str]:
        pin = ["taskset", "-c", self.cores] if self.cores else []
        return [
            *pin, "stdbuf", "-oL", self.binary, "--number_threads", str(budget.threads),
            "--training_filenames", *self.training_files(budget.files),
            "--test_filenames", *self.validation_files(budget.validation),
            "--time_offset", "1", "--input_parameter_names", *self.columns,
            "--output_parameter_names", TARGET,
            "--number_islands", str(budget.islands), "--island_size", str(budget.island_size),
            "--max_genomes", str(budget.genomes), "--bp_iterations", str(budget.epochs),
            "--num_mutations", str(budget.mutations), "--possible_node_types", *budget.node_types,
            "--output_directory", str(output), "--std_message_level", "INFO", "--file_message_level", "NONE",
        ]

    def run(self, budget: Budget) -> ExammResult:
        """One examm_mt run to its end; its output in a new subfolder."""
        self._runs += 1
        output = self.folder / f"run_{self._runs:02d}"
        output.mkdir()
        cmd = self.command(budget, output)
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        stamped = []
        assert proc.stdout is not None
        for line in proc.stdout:
            stamped.append((time.perf_counter() - t0, line.rstrip("\n")))
        code = proc.wait()
        wall = time.perf_counter() - t0
        (output / "examm_stdout.txt").write_text("".join(f"{t:10.4f} {line}\n" for t, line in stamped))
        if code != 0:
            tail = "\n".join(line for _, line in stamped[-15:])
            raise RuntimeError(f"examm_mt failed (exit {code}); last output:\n{tail}")
        return parse(stamped, wall, output, cmd)

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def parse(stamped: list[tuple[float, str]], wall: float, output: Path, cmd: list[str]) -> ExammResult:
    """An ExammResult from examm_mt's time-stamped INFO lines and output folder."""
    start = end = None
    started: set[int] = set()
    best: dict[int, float] = {}           # genome -> its last printed best validation MSE
    done: dict[int, float] = {}           # genome -> time its training ended
    thread_free: dict[int, float] = {}    # thread -> time its previous genome ended
    seconds = []
    for t, line in stamped:
        m = _LINE.match(line)
        if not m:
            continue
        _, who, text = m.groups()
        if who == "main":
            if "now start EXAMM evolution" in text:
                start = t
            elif text.startswith("completed!"):
                end = t
            continue
        g = _GENOME.match(who)
        if not g:
            continue
        genome, thread = int(g.group(1)), int(g.group(2))
        if text.startswith("initial validation_mse"):
            started.add(genome)
        elif (e := _EPOCH.search(text)) is not None:
            best[genome] = float(e.group(4))
        elif text.startswith("backpropagation completed"):
            done[genome] = t
            seconds.append(t - thread_free.get(thread, start if start is not None else 0.0))
            thread_free[thread] = t
    if start is None or end is None:
        raise RuntimeError("examm_mt's output lacks its search start or 'completed!' line: "
                           "not the output this parser was written for (EXAMM commit 05057356)")
    trained = {g: best[g] for g in done if g in best and math.isfinite(best[g])}
    if not trained:
        raise RuntimeError("examm_mt trained no genome to the end")
    best_genome = min(trained, key=trained.__getitem__)
    result = ExammResult(
        wall_seconds=wall, search_seconds=wall - start, genomes=len(done), failed=len(started - set(done)),
        best_mse=trained[best_genome], best_genome=best_genome, output=output, command=cmd,
        genome_seconds=seconds,
    )
    with open(output / "fitness_log.csv", newline="") as f:
        rows = [[c.strip() for c in row] for row in csv.reader(f)]
    result.logged_best_mse = float(rows[-1][rows[0].index("Best Val. MSE")])
    if not math.isclose(result.logged_best_mse, result.best_mse, rel_tol=1e-5):
        raise RuntimeError(f"best MSE {result.best_mse} from the genomes' lines, "
                           f"{result.logged_best_mse} in fitness_log.csv")
    return result


def shown(cmd: list[str]) -> str:
    """The command line with each list of data files cut to its first and last."""
    out: list[str] = []
    run: list[str] = []
    for word in [*cmd, ""]:
        if word.endswith(".csv"):
            run.append(word)
            continue
        out += run if len(run) < 4 else [run[0], f"... ({len(run)} files) ...", run[-1]]
        run = []
        out.append(word)
    return " ".join(out).rstrip()


# --------------------------------------------------------------------------
# nervenet's side: filled in by the coordinator once nv.evolution exists.
# --------------------------------------------------------------------------
#: EXAMM's node type names -> nervenet's node kinds.
KINDS = {"simple": "simple", "UGRNN": "ugrnn", "MGU": "mgu", "GRU": "gru", "delta": "delta", "LSTM": "lstm"}


def nervenet_task(budget: Budget):
    """The data nervenet's search trains on for ``budget``: for "chunks"
    (the throughput measure) EXAMM's own work, the 280 sequences of burners
    0-9 for training and burners 10-11 for validation; for "published",
    issue 14's protocol (``nv.evolution.coal_task``: burners 0-7 train in
    500-step sequences, 8-9 validate, 10-11 test, never seen by the search)."""
    import nervenet as nv

    if budget.files == "published":
        return nv.evolution.coal_task(DATA)
    files = [DATA / f"burner_{i}.csv" for i in TRAIN_BURNERS]
    test = [DATA / f"burner_{i}.csv" for i in TEST_BURNERS]
    task = nv.evolution.timeseries_task(files, test, outputs=TARGET, chunk=500, name="coal-examm-work")
    if budget.validation == "tiny":
        task = nv.evolution.Task(task.X, task.Y, task.X_val[:1, :10], task.Y_val[:1, :10], name=task.name)
    return task


def run_nervenet(budget: Budget, seed: int = 0, batch_size: int = 1, genomes: Optional[int] = None,
                 learning_rate: float = 1e-3) -> dict[str, float]:
    """nervenet's search with ``budget``'s settings (islands, island size,
    epochs, mutations per child, node kinds, workers = threads, EXAMM's
    training defaults) training ``genomes`` genomes (default: the budget's);
    returns its seconds, genomes trained, genomes per hour, best validation
    and test MSE, the seconds spent training (summed over workers) and the
    mean trainable parameters of the genomes."""
    import nervenet as nv

    task = nervenet_task(budget)
    cfg = nv.evolution.EvolutionConfig(
        islands=budget.islands, island_size=budget.island_size, genomes=genomes or budget.genomes,
        epochs=budget.epochs, mutations=budget.mutations, node_kinds=tuple(KINDS[k] for k in budget.node_types),
        batch_size=batch_size, learning_rate=learning_rate, workers=budget.threads, seed=seed,
    )
    records: list[dict] = []
    began = time.perf_counter()
    result = nv.evolution.Evolution(cfg, task, on_genome=records.append).run(progress=False)
    seconds = time.perf_counter() - began
    trained = sum(r["seconds"] for r in records)
    return {"seconds": seconds, "genomes": result.genomes, "genomes_per_hour": result.genomes / seconds * 3600,
            "best_mse": result.best.fitness, "test_mse": result.test_loss if result.test_loss is not None else math.nan,
            "training_seconds": trained, "outside_training": 1 - trained / (seconds * cfg.worker_count),
            "driver": result.driver_seconds / seconds, "best_genome": result.best.id, "best_counts": result.best.counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examm", metavar="PATH/TO/examm_mt", help="built as the docstring says (without it: nervenet alone)")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8], help="nervenet's batch sizes")
    parser.add_argument("--lr", type=float, default=1e-3, help="nervenet's Adam learning rate")
    parser.add_argument("--seed", type=int, default=0, help="nervenet's run seed (round r: seed + r)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each contender, order alternating")
    parser.add_argument("--examm-only", action="store_true", help="run EXAMM alone (default preset: tiny)")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="budget (default: published; tiny with --examm-only)")
    parser.add_argument("--genomes", type=int)
    parser.add_argument("--islands", type=int)
    parser.add_argument("--island-size", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--files", choices=["published", "chunks"])
    parser.add_argument("--validation", choices=["test", "tiny"])
    parser.add_argument("--cores", help="pin examm_mt to these cores (taskset list, e.g. 0,1)")
    parser.add_argument("--keep", action="store_true", help="keep the output folder")
    args = parser.parse_args()

    budget = PRESETS[args.preset or ("tiny" if args.examm_only else "published")]
    budget = replace(budget, **{k: v for k, v in vars(args).items()
                                if k in Budget.__dataclass_fields__ and v is not None})
    if args.examm_only:
        if not args.examm:
            parser.error("--examm-only needs --examm PATH/TO/examm_mt")
        examm_runs(args, budget)
        return
    import statistics

    import nervenet as nv

    nv.set_num_threads(1)  # the driver's own engine thread (the test pass); workers run one each
    print(f"# {budget}; nervenet batch sizes {args.batch}, seed {args.seed}; {args.rounds} round(s), "
          "order alternating; nervenet trains as many genomes as the budget says")
    samples: dict[str, list[dict]] = {}
    examm = ExammRun(args.examm, cores=args.cores) if args.examm else None
    try:
        for r in range(args.rounds):
            contenders = [f"nervenet b{b}" for b in args.batch] + (["EXAMM"] if examm else [])
            for name in (contenders if r % 2 == 0 else contenders[::-1]):
                if name == "EXAMM":
                    res = examm.run(budget)
                    row = {"seconds": res.search_seconds, "genomes": res.genomes,
                           "genomes_per_hour": res.genomes_per_hour, "best_mse": res.best_mse, "test_mse": math.nan}
                else:
                    row = run_nervenet(budget, seed=args.seed + r, batch_size=int(name.split("b")[-1]),
                                       learning_rate=args.lr)
                samples.setdefault(name, []).append(row)
                print(f"{name:>12}: {row['genomes']} genomes in {row['seconds']:.1f} s "
                      f"({row['genomes_per_hour']:.0f}/hour), best validation MSE {row['best_mse']:.6f}, "
                      f"test MSE {row['test_mse']:.6f}"
                      + (f", driver {100 * row['driver']:.2f}% of the run, {100 * row['outside_training']:.2f}% of "
                         f"worker time outside training, best "
                         f"{row['best_counts']}" if "outside_training" in row else ""), flush=True)
    finally:
        if examm is not None and not args.keep:
            examm.cleanup()
    if examm is not None:
        theirs = statistics.median(x["genomes_per_hour"] for x in samples["EXAMM"])
        for name, rows in samples.items():
            if name != "EXAMM":
                ours = statistics.median(x["genomes_per_hour"] for x in rows)
                print(f"# {name}: {ours / theirs:.1f}x EXAMM's genomes per hour (medians over {len(rows)} run(s))")


def examm_runs(args: argparse.Namespace, budget: Budget) -> None:
    examm = ExammRun(args.examm, cores=args.cores)
    try:
        print(f"# {budget}")
        result = examm.run(budget)
        print(f"# {shown(result.command)}")
        print(result.summary())
        (result.output / "command.txt").write_text(" ".join(result.command) + "\n")
    finally:
        if not args.keep:
            examm.cleanup()


if __name__ == "__main__":
    main()
