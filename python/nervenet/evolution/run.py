"""The evolution run: EXAMM's steady-state island loop on the engine.

One driver (this process) generates genomes and keeps the islands; a
backend trains them. ``workers + 1`` genomes are in flight: one per worker
and one queued, which a worker starts the moment it finishes, while the
driver takes that result in and makes the next. With ``reproducible=True``
genome i is generated only once the results of every genome below i −
(workers + 1) are in, and those are inserted in id order, so a seed and a worker count give the same genomes
and fitnesses however the results arrive. Every genome's random draws come
from its own generator (seeded by run seed and genome id), so resuming
needs no generator state.

Files in ``out`` (all optional): ``genomes.jsonl`` (one line per genome),
``checkpoint.json`` (a snapshot, written atomically every few seconds) with
``journal-<k>.jsonl`` (every step since it, replayed on resume),
``best.safetensors`` (the best genome as a model file ``nv.Network.load``
reads), ``best.dot``.

>>> import numpy as np, nervenet as nv
>>> from nervenet.evolution import EvolutionConfig, Evolution, Task
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(8, 20, 2)); Y = np.roll(X[..., :1], 1, axis=1)
>>> task = Task(X, Y, X[:2], Y[:2])
>>> cfg = EvolutionConfig(islands=2, island_size=2, genomes=6, epochs=1, batch_size=4,
...                       backend="inprocess", seed=1)
>>> result = Evolution(cfg, task).run(progress=False)
>>> result.genomes, result.best.fitness > 0
(6, True)
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import os
import statistics
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np

from .._checks import path_of, real
from ..errors import ConfigError, DataError, FormatError, NervenetError, NervenetWarning
from ..graph import Graph
from ..io import write_atomic
from ..network import Network
from .backends import backend_for
from .config import EvolutionConfig
from .costs import Costs, timed
from .crossover import crossover
from .fitness import Job, Task, Trained, build_network, derived_seed, train
from .islands import Genome, Island, fitness_json, fitness_of, worst_island
from .operators import OPERATORS, Innovations, Skip
from .weights import start

CHECKPOINT_FORMAT = 1
#: Settings a resumed run may change: more genomes, and where they train
#: (every backend gives the same run).
RESUME_MAY_CHANGE = ("genomes", "backend", "ray_address", "final_epochs")
#: Operators tried for one child before it falls back to a clone.
MUTATION_TRIES = 10

PathLike = Union[str, "os.PathLike[str]"]


def minimal_genome(n_inputs: int, n_outputs: int) -> Graph:
    """EXAMM's seed genome: every input connected to every output (linear
    outputs with a bias)."""
    g = Graph()
    x = g.add_inputs(n_inputs)
    y = g.add_outputs(n_outputs, "identity", bias=True)
    g.connect_all(x, y)
    return g


def counts_of(g: Graph) -> dict[str, dict[str, int]]:
    """Enabled hidden nodes by kind ("tanh" for a simple node's activation)
    and edges by kind: feed-forward, recurrent, disabled."""
    nodes: Counter[str] = Counter()
    for n in g.node_ids():
        d = g.node(n)
        if d["enabled"] and d["role"] == "hidden":
            nodes[d["activation"] if d["kind"] == "simple" else d["kind"]] += 1
    edges: Counter[str] = Counter()
    for e in g.edge_ids():
        d = g.edge(e)
        edges["disabled" if not d["enabled"] else "recurrent" if d["time_skip"] else "forward"] += 1
    return {"nodes": dict(sorted(nodes.items())), "edges": dict(sorted(edges.items()))}


@dataclass
class EvolutionResult:
    """What a run found: the best genome (graph, weights, fitness), the
    islands at the end, the genomes trained, the wall seconds and, when the
    task has a test split, the best genome's test loss."""

    best: Genome
    islands: list[Island]
    genomes: int
    seconds: float
    config: EvolutionConfig
    test_loss: Optional[float] = None
    history: list[dict[str, Any]] = field(default_factory=list)
    out: Optional[Path] = None
    driver_seconds: float = 0.0  # generating, inserting, logging, checkpointing (the backend's waits left out)
    driver_costs: dict[str, float] = field(default_factory=dict)  # of driver_seconds, by part (costs.PARTS)
    # config.final_epochs > 0: the best genome trained on (its weights and
    # validation loss as `final.weights`, `final.fitness`) and its test loss
    final: Optional[Genome] = None
    final_test_loss: Optional[float] = None

    def graph(self) -> Graph:
        return Graph.from_json(self.best.graph)

    def network(self) -> Network:
        """The best genome as a network with its trained weights (after the
        final training, when there was one)."""
        return network_of(self.final or self.best, self.config)


def network_of(genome: Genome, config: EvolutionConfig) -> Network:
    g = Graph.from_json(genome.graph)
    net = build_network(g, config, 0)
    start(net, g, genome.weights, None, "lamarckian")
    return net


def _history_entry(record: dict[str, Any], done: int) -> dict[str, Any]:
    """Genomes done, best and median fitness after the ``done``-th genome, from its log record."""
    return {"genomes": done, "best": record["best_fitness"], "median": record["median_fitness"]}


def _trained_of(d: dict[str, Any]) -> Trained:
    return Trained(**(d | {"fitness": fitness_of(d["fitness"])}))


def _trained_json(result: Trained) -> str:
    return json.dumps(result.__dict__ | {"fitness": fitness_json(result.fitness)},
                      separators=(",", ":"))


def _fingerprint(task: Task) -> str:
    """A digest of the task's data: a resumed run must train on the same."""
    h = hashlib.sha256()
    for a in (task.X, task.Y, task.X_val, task.Y_val, task.mask, task.mask_val):
        if a is None:
            continue
        h.update(str(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


class Evolution:
    """An EXAMM-style run of ``config`` on ``task`` from ``seed`` (a Graph;
    default :func:`minimal_genome`), writing its files to ``out``.

    ``run()`` trains ``config.genomes`` genomes and returns an
    :class:`EvolutionResult`; with ``resume=True`` it continues the run
    whose checkpoint is in ``out``. ``on_genome(record)`` is called with
    every genome's log record as it is inserted. The state is snapshotted
    every ``checkpoint_every`` seconds and every step in between is
    journalled, so a killed run resumes with every finished genome.
    """

    def __init__(
        self,
        config: EvolutionConfig,
        task: Task,
        seed: Optional[Graph] = None,
        *,
        out: Optional[PathLike] = None,
        backend: Any = None,
        on_genome: Optional[Callable[[dict[str, Any]], None]] = None,
        checkpoint_every: float = 5.0,
    ) -> None:
        if not isinstance(config, EvolutionConfig):
            raise ConfigError(f"config must be an EvolutionConfig, got {type(config).__name__}")
        if not isinstance(task, Task):
            raise ConfigError(f"task must be an nv.evolution.Task, got {type(task).__name__}")
        self.config = config
        self.task = task.as_dtype(config.dtype)
        if seed is not None and not isinstance(seed, Graph):
            raise ConfigError(f"seed must be an nv.Graph, got {type(seed).__name__}")
        self.seed_graph = seed.copy() if seed is not None else minimal_genome(task.n_inputs, task.n_outputs)
        if len(self.seed_graph.inputs()) != task.n_inputs or len(self.seed_graph.outputs()) != task.n_outputs:
            raise ConfigError(
                f"the seed genome has {len(self.seed_graph.inputs())} inputs and {len(self.seed_graph.outputs())} "
                f"outputs; the task has {task.n_inputs} and {task.n_outputs}"
            )
        self.out = None if out is None else path_of(out, "evolution output folder")
        # made now: a Ray cluster's size (the worker count) is known once connected
        self.backend = backend if backend is not None else backend_for(config)
        self.on_genome = on_genome
        self.checkpoint_every = real(checkpoint_every, "checkpoint_every", 0)
        self._task_digest = _fingerprint(self.task)
        self.workers = self.backend.workers
        self.in_flight_limit = self.workers + 1  # and the reproducible lag
        self._operators = self._operator_table()
        self._reset()

    # ----- state -----

    def _reset(self) -> None:
        self.islands = [Island(self.config.island_size) for _ in range(self.config.islands)]
        self.innovations = Innovations.after(self.seed_graph)
        self.next_id = 0  # the next genome to generate
        self.inserted = 0  # genomes inserted (results taken in)
        self.in_flight: dict[int, Genome] = {}
        self.finished: dict[int, Trained] = {}  # results not yet inserted
        self.best: Optional[Genome] = None
        self.history: list[dict[str, Any]] = []
        self.log_bytes = 0
        self._first_error: Optional[str] = None
        self._finished_json: dict[int, str] = {}
        self._journal: Any = None
        self._journal_index = 0
        self._snapshot_at = 0.0
        self._bar: Any = None
        self.costs = Costs()

    def _operator_table(self) -> list[tuple[str, float, Callable[..., Any], dict[str, Any]]]:
        """(name, probability, operator, its options) for each operator with a positive rate."""
        rates = {k: v for k, v in self.config.operator_rates.items() if v > 0}
        total = sum(rates.values())
        options = {"skips": self.config.recurrent_skips, "kinds": self.config.node_kinds,
                   "activation": self.config.activation}
        table = []
        for name, rate in rates.items():
            op = OPERATORS[name]
            accepted = inspect.signature(op).parameters
            table.append((name, rate / total, op, {k: v for k, v in options.items() if k in accepted}))
        return table

    # ----- generating genomes -----

    def _mutate(self, parent: Graph, rng: np.random.Generator) -> tuple[Graph, str]:
        """``config.mutations`` operators that applied, one after another
        (EXAMM: a clone counts as one; an operator that cannot apply is
        drawn again)."""
        names = [t[0] for t in self._operators]
        probs = np.array([t[1] for t in self._operators])
        graph, done = parent, []
        for _ in range(MUTATION_TRIES * self.config.mutations):
            if len(done) == self.config.mutations:
                break
            name, _, op, options = self._operators[int(rng.choice(len(names), p=probs))]
            child = op(graph, rng, self.innovations, **options)
            if not isinstance(child, Skip):
                graph = child
                done.append(name)
        if not done:
            return parent.copy(), "clone"
        return (graph if graph is not parent else parent.copy()), "+".join(done)

    def _child_of(self, parent: Genome, rng: np.random.Generator) -> tuple[Graph, str, tuple[int, ...], Any]:
        graph, name = self._mutate(Graph.from_json(parent.graph), rng)
        return graph, name, (parent.id,), parent.weights

    def _crossover(self, a: Genome, b: Genome, rng: np.random.Generator, name: str):
        better, other = (a, b) if (a.fitness, a.id) <= (b.fitness, b.id) else (b, a)
        out = crossover(Graph.from_json(better.graph), Graph.from_json(other.graph), rng,
                        better_weights=better.weights, other_weights=other.weights)
        if isinstance(out, Skip):
            return None
        graph, weights = out
        return graph, name, (better.id, other.id), weights

    @timed("generation")
    def _generate(self, i: int) -> Genome:
        """Genome ``i``, from the islands as they stand (EXAMM: islands take
        turns; an island not yet full starts from the seed genome and grows
        from mutations of its members, or of the global best after an
        extinction; crossover only once every island is full)."""
        cfg = self.config
        rng = np.random.default_rng(derived_seed(cfg.seed, i, 0))
        k = i % cfg.islands
        failure = None
        try:
            made = self._make(i, k, rng)
        except NervenetError as e:  # an operator's bug must not end a long run (a resume would meet it again)
            failure = f"{type(e).__name__}: {e}"
            warnings.warn(f"genome {i}: making it failed ({failure}); it is a clone instead", NervenetWarning,
                          stacklevel=2)
            parent = self.islands[k].best or self.best
            made = (self.seed_graph.copy(), "seed", (), None) if parent is None else \
                (Graph.from_json(parent.graph), "clone", (parent.id,), parent.weights)
        graph, operator, parents, weights = made
        return Genome(
            id=i, graph=graph.to_json(), island=k, operator=operator, parents=parents,
            start_weights=weights if cfg.weights == "lamarckian" else None,
            structure=graph.structural_hash(), counts=counts_of(graph), failure=failure,
        )

    def _make(self, i: int, k: int, rng: np.random.Generator) -> tuple[Graph, str, tuple[int, ...], Any]:
        """(graph, operator, parents, starting weights) of genome ``i`` of island ``k``."""
        cfg = self.config
        island = self.islands[k]
        made = None
        if not island.full:
            if island.source == "best" and self.best is not None:  # repopulating after an extinction
                made = self._child_of(self.best, rng)
            elif i < cfg.islands:  # an island's first genome: the seed itself
                made = (self.seed_graph.copy(), "seed", (), None)
            elif island.genomes:  # filling up: mutations of its members
                made = self._child_of(island.genomes[int(rng.integers(len(island.genomes)))], rng)
            else:
                graph, name = self._mutate(self.seed_graph, rng)
                made = (graph, name, (), None)
        else:
            members = island.genomes
            r = rng.random() * (cfg.mutation_rate + cfg.intra_island_rate + cfg.inter_island_rate)
            crossing = all(isl.full for isl in self.islands)  # EXAMM: only mutations until every island is full
            others = [j for j, isl in enumerate(self.islands) if j != k and isl.best is not None]
            if crossing and cfg.mutation_rate <= r < cfg.mutation_rate + cfg.intra_island_rate and len(members) >= 2:
                a, b = rng.choice(len(members), size=2, replace=False)
                made = self._crossover(members[int(a)], members[int(b)], rng, "intra_island_crossover")
            elif crossing and r >= cfg.mutation_rate + cfg.intra_island_rate and others:
                mine = members[int(rng.integers(len(members)))]
                theirs = self.islands[others[int(rng.integers(len(others)))]].best
                made = self._crossover(mine, theirs, rng, "inter_island_crossover")
            if made is None:
                made = self._child_of(members[int(rng.integers(len(members)))], rng)
        return made

    def _job(self, genome: Genome) -> Job:
        return Job(genome.id, genome.graph, genome.start_weights, derived_seed(self.config.seed, genome.id, 1))

    # ----- taking results in -----

    @timed("insertion")
    def _insert(self, result: Trained) -> dict[str, Any]:
        del self._finished_json[result.id]
        genome = self.in_flight.pop(result.id)
        genome.forget_json()
        genome.fitness, genome.weights = result.fitness, result.weights
        genome.epochs, genome.best_epoch, genome.seconds, genome.error = (
            result.epochs, result.best_epoch, result.seconds, result.error)
        entered = False
        if result.error is not None and self._first_error is None:
            self._first_error = result.error
        if result.error is None:
            island = self.islands[genome.island]
            entered = genome.id >= island.erased_before and island.insert(genome)
            if self.best is None or (genome.fitness, genome.id) < (self.best.fitness, self.best.id):
                self.best = genome
                self._save_best()
        self.inserted += 1
        extinct = None
        every = self.config.extinction_every
        if every is not None and self.inserted % every == 0:
            extinct = worst_island(self.islands)
            self.islands[extinct].extinguish(self.next_id)
        record = {
            "id": genome.id, "parents": list(genome.parents), "operator": genome.operator, "island": genome.island,
            **genome.counts, "epochs": genome.epochs, "best_epoch": genome.best_epoch,
            "fitness": fitness_json(genome.fitness),
            "seconds": round(genome.seconds, 4), "entered": entered,
        }
        if genome.error is not None:
            record["error"] = genome.error
        if genome.failure is not None:
            record["generation_error"] = genome.failure
        if extinct is not None:  # and genomes below next_id, generated before, stay out of it
            record["extinct_island"], record["generated_before"] = extinct, self.next_id
        fits = [g.fitness for isl in self.islands for g in isl.genomes]
        record["best_fitness"] = self.best.fitness if self.best else None
        record["median_fitness"] = statistics.median(fits) if fits else None  # over the islands' genomes
        self.history.append(_history_entry(record, self.inserted))
        return record

    @timed("checkpoint")
    def _save_best(self) -> None:
        if self.out is None or self.best is None:
            return
        network_of(self.best, self.config).save(self.out / "best.safetensors")

    # ----- files: a snapshot every few seconds, a journal of every step since -----

    def _state(self) -> str:
        """The run's state as JSON text. Genomes are serialised once (their
        text is cached), so a snapshot costs the same at genome 100 and at
        genome 100,000."""
        head = json.dumps({
            "format": CHECKPOINT_FORMAT, "config": self.config.to_dict(), "task": self._task_digest,
            "seed_graph": self.seed_graph.to_json(), "workers": self.workers, "next_id": self.next_id,
            "inserted": self.inserted, "innovations": [self.innovations.node, self.innovations.edge],
            "log_bytes": self.log_bytes, "journal": self._journal_index,
        }, separators=(",", ":"))
        islands = ",".join(isl.json() for isl in self.islands)
        best = "null" if self.best is None else self.best.json(start_weights=False)
        flying = ",".join(g.json(start_weights=True) for g in self.in_flight.values())
        finished = ",".join(self._finished_json[i] for i in self.finished)
        return f'{head[:-1]},"islands":[{islands}],"best":{best},"in_flight":[{flying}],"finished":[{finished}]}}'

    def _journal_path(self, index: int) -> Path:
        assert self.out is not None
        return self.out / f"journal-{index}.jsonl"

    @timed("checkpoint")
    def _snapshot(self) -> None:
        """Writes checkpoint.json atomically and starts a new journal (the
        old one is covered by the snapshot and removed after it)."""
        if self.out is None:
            return
        old = self._journal_index
        self._journal_index += 1
        if self._journal is not None:
            self._journal.close()
        self._journal = open(self._journal_path(self._journal_index), "w")
        write_atomic(self.out / "checkpoint.json", self._state().encode())
        self._journal_path(old).unlink(missing_ok=True)
        self._snapshot_at = time.perf_counter()

    @timed("checkpoint")
    def _note(self, line: str) -> None:
        """Appends a step to the journal (flushed: a killed process loses nothing written)."""
        if self._journal is not None:
            self._journal.write(line + "\n")
            self._journal.flush()

    def _load(self) -> None:
        assert self.out is not None
        path = self.out / "checkpoint.json"
        if not path.is_file():
            raise ConfigError(f"nothing to resume: {path} does not exist")
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise FormatError(f"{path}: not a readable checkpoint ({e})") from e
        if state.get("format") != CHECKPOINT_FORMAT:
            raise FormatError(f"{path}: checkpoint format {state.get('format')!r}, expected {CHECKPOINT_FORMAT}")
        saved = EvolutionConfig.from_dict(state["config"])
        mine = self.config.to_dict()
        differ = sorted(k for k, v in saved.to_dict().items() if mine[k] != v and k not in RESUME_MAY_CHANGE)
        if differ:
            raise ConfigError(f"{path} was written by a run with other settings ({', '.join(differ)}); "
                              "resume with the same config (only `genomes` may grow, and the backend and `final_epochs` change)")
        if state["task"] != self._task_digest:
            raise ConfigError(f"{path} was written by a run on other data; resume with the same task")
        if state["workers"] != self.workers and self.config.reproducible:
            raise ConfigError(f"{path} was written with {state['workers']} workers; a reproducible run resumes "
                              f"with the same count, got {self.workers}")
        self.seed_graph = Graph.from_json(state["seed_graph"])
        self.next_id, self.inserted = state["next_id"], state["inserted"]
        self.innovations = Innovations(*state["innovations"])
        self.islands = [Island.from_dict(d) for d in state["islands"]]
        self.best = None if state["best"] is None else Genome.from_dict(state["best"])
        self.in_flight = {d["id"]: Genome.from_dict(d) for d in state["in_flight"]}
        self.finished = {}
        self._finished_json = {}
        for d in state["finished"]:
            self._finish(_trained_of(d), note=False)
        self.log_bytes = state["log_bytes"]
        self._journal_index = state["journal"]
        log = self.out / "genomes.jsonl"
        if log.exists():  # lines written after the snapshot are written again by the replay
            with open(log, "r+b") as f:
                f.truncate(self.log_bytes)
            lines = log.read_text().splitlines()
            self.history = [_history_entry(json.loads(line), n) for n, line in enumerate(lines, 1)]
        self._replay(self._journal_path(self._journal_index))

    def _replay(self, journal: Path) -> None:
        """Redoes the steps noted since the snapshot, as the run did them."""
        if not journal.exists():
            return
        for line in journal.read_text().splitlines():
            try:
                step = json.loads(line)
            except ValueError:  # a line cut by the kill: the step after it never happened
                break
            if "g" in step:
                if self.config.reproducible:  # as the run took results in before making it
                    self._take_in(step["g"]["id"] - self.in_flight_limit)
                self._generated(Genome.from_dict(step["g"]), Innovations(*step["innovations"]), note=False)
            elif "t" in step:
                self._finish(_trained_of(step["t"]), note=False)
            elif "i" in step:
                self._insert_finished(note=False)

    def _log(self, record: dict[str, Any]) -> None:
        if self.on_genome is not None:
            self.on_genome(record)
        if self.out is None:
            return
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        with open(self.out / "genomes.jsonl", "ab") as f:
            f.write(line)
        self.log_bytes += len(line)

    # ----- the steps of a run (live, and replayed from the journal) -----

    def _may_generate(self, i: int) -> bool:
        """Reproducible mode: genome ``i`` waits for every genome below i −
        (workers + 1), the genomes in flight."""
        if not self.config.reproducible:
            return True
        return all(j in self.finished for j in range(self.inserted, i - self.in_flight_limit))

    def _running(self) -> int:
        return len(self.in_flight) - len(self.finished)

    def _take_in(self, upto: int) -> None:
        """Inserts the finished genomes ``inserted .. upto - 1`` in id order."""
        records = []
        while self.inserted < upto and self.inserted in self.finished:
            records.append(self._insert(self.finished.pop(self.inserted)))
        self._emit(records)

    def _generated(self, genome: Genome, innovations: Innovations, *, note: bool = True) -> None:
        """Genome ``genome.id`` is made (reproducible: after taking in every
        result below id − (workers + 1)) and in flight."""
        self.in_flight[genome.id] = genome
        self.next_id = genome.id + 1
        self.innovations = innovations
        if note:
            inn = f"[{innovations.node},{innovations.edge}]"
            self._note(f'{{"g":{genome.json(start_weights=True)},"innovations":{inn}}}')

    def _finish(self, result: Trained, *, note: bool = True) -> None:
        self.finished[result.id] = result
        self._finished_json[result.id] = _trained_json(result)
        if note:
            self._note(f'{{"t":{self._finished_json[result.id]}}}')

    def _insert_finished(self, *, note: bool = True) -> None:
        """After results arrive: non-reproducible, insert them all (id
        order); reproducible, only once every genome is generated."""
        cfg = self.config
        before = self.inserted
        if not cfg.reproducible:
            self._emit([self._insert(self.finished.pop(j)) for j in sorted(self.finished)])
        elif self.next_id >= cfg.genomes:
            self._take_in(cfg.genomes)
        if note and self.inserted != before:
            self._note('{"i":1}')

    def run(self, *, resume: bool = False, progress: bool = True) -> EvolutionResult:
        """Trains genomes until ``config.genomes`` are done; returns the result."""
        cfg = self.config
        if self.out is not None:
            self.out.mkdir(parents=True, exist_ok=True)
        if resume:
            self._load()
        elif self.out is not None and (self.out / "checkpoint.json").exists():
            raise ConfigError(f"{self.out} holds a run already: resume it (resume=True, `--resume`) "
                              "or choose another folder")
        elif self.out is not None:
            (self.out / "genomes.jsonl").write_bytes(b"")
        backend = self.backend
        began = time.perf_counter()
        backend.start(self.task, cfg)  # first: starting Ray takes seconds the progress bar should not show
        self._bar = _progress(cfg.genomes, self.inserted, progress)
        self._snapshot()
        waited = 0.0
        try:
            for genome in sorted(self.in_flight.values(), key=lambda g: g.id):
                if genome.id not in self.finished:
                    backend.submit(self._job(genome))
            while self.inserted < cfg.genomes:
                while (self._running() < self.in_flight_limit and self.next_id < cfg.genomes
                       and self._may_generate(self.next_id)):
                    i = self.next_id
                    if cfg.reproducible:
                        self._take_in(i - self.in_flight_limit)
                    genome = self._generate(i)
                    self._generated(genome, self.innovations)
                    backend.submit(self._job(genome))
                if self._running() == 0 and not self.finished:
                    raise AssertionError("evolution loop stalled: nothing running and nothing to take in")
                t0 = time.perf_counter()
                results = backend.wait()
                waited += time.perf_counter() - t0
                for result in results:
                    self._finish(result)
                self._insert_finished()
                if time.perf_counter() - self._snapshot_at >= self.checkpoint_every:
                    self._snapshot()
        finally:
            looped = time.perf_counter() - began
            backend.close()
            self._snapshot()
            if self._journal is not None:
                self._journal.close()
                self._journal = None
            if self._bar is not None:
                self._bar.close()
        if self.best is None:
            raise DataError(f"every one of the {cfg.genomes} genomes failed to train (the first: "
                            f"{self._first_error}); the log has each one's reason")
        final = self._final_training() if cfg.final_epochs > 0 else None
        test, final_test = self._test_loss(self.best), self._test_loss(final)
        if self.out is not None:
            (self.out / "best.dot").write_text(Graph.from_json(self.best.graph).to_dot())
            if final is not None:
                network_of(final, cfg).save(self.out / "best-final.safetensors")
        return EvolutionResult(self.best, self.islands, self.inserted, time.perf_counter() - began, cfg, test,
                               self.history, self.out, driver_seconds=looped - waited,
                               driver_costs=dict(self.costs.seconds), final=final, final_test_loss=final_test)

    def _final_training(self) -> Genome:
        """The best genome trained on for ``final_epochs`` epochs (its own
        seed; a failure keeps the search's weights)."""
        assert self.best is not None
        cfg = dataclasses.replace(self.config, epochs=self.config.final_epochs)
        job = Job(self.best.id, self.best.graph, self.best.weights, derived_seed(self.config.seed, self.best.id, 2))
        result = train(job, self.task, cfg)
        if result.weights is None or not result.fitness <= self.best.fitness:
            return dataclasses.replace(self.best, _text={})
        return dataclasses.replace(self.best, fitness=result.fitness, weights=result.weights, epochs=result.epochs,
                                   best_epoch=result.best_epoch, seconds=result.seconds, _text={})

    def _test_loss(self, genome: Optional[Genome]) -> Optional[float]:
        if genome is None or self.task.X_test is None or self.task.Y_test is None:
            return None
        net = network_of(genome, self.config)
        return float(net.evaluate(self.task.X_test, self.task.Y_test, loss=self.config.loss,
                                  mask=self.task.mask_test)["loss"])

    def _emit(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            self._log(record)
        if self._bar is not None and records:
            self._bar.update(len(records))
            last = self.history[-1]
            self._bar.set_postfix(best=f"{last['best']:.4g}" if last["best"] is not None else "-",
                                  median=f"{last['median']:.4g}" if last["median"] is not None else "-",
                                  refresh=False)


def _progress(total: int, done: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=done, desc="genomes", unit="genome", dynamic_ncols=True)


def evolve(config: EvolutionConfig, task: Task, seed: Optional[Graph] = None, *,
           out: Optional[PathLike] = None, resume: bool = False, progress: bool = True) -> EvolutionResult:
    """Runs an evolution (see :class:`Evolution`) and returns its result."""
    return Evolution(config, task, seed, out=out).run(resume=resume, progress=progress)
