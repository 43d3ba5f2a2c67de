"""The evolution run (issue 14, items 3-7 and 10): reproducible for a seed
and a worker count whatever order results arrive in and on any backend,
resumable after kill -9 with the same end, Lamarckian clones bit-identical,
failed genomes logged without stopping the run, and a short run improves on
its seed."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import nervenet as nv
from nervenet.evolution import Evolution, EvolutionConfig, InProcess, Task
from nervenet.evolution.fitness import Job, build_network, train
from nervenet.evolution.run import network_of
from nervenet.evolution.weights import start, weights_of

PACKAGE_PARENT = str(Path(nv.__file__).resolve().parents[1])


def delay_task(seed: int = 0) -> Task:
    """y[t] = x0[t-2]: the seed genome (inputs straight to the output)
    cannot see two steps back; a recurrent edge of skip 2 can."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(24, 20, 2))
    Y = np.zeros((24, 20, 1))
    Y[:, 2:, 0] = X[:, :-2, 0]
    return Task(X[:16], Y[:16], X[16:20], Y[16:20], X[20:], Y[20:])


def small(**changes) -> EvolutionConfig:
    settings = dict(islands=2, island_size=3, genomes=16, epochs=2, batch_size=4, backend="inprocess",
                    recurrent_skips=(1, 3), seed=3)
    settings.update(changes)
    return EvolutionConfig(**settings)


def run_log(config: EvolutionConfig, task: Task, **kwargs) -> list[dict]:
    records: list[dict] = []
    Evolution(config, task, on_genome=records.append, **kwargs).run(progress=False)
    return records


class Held(InProcess):
    """Trains every queued job at each wait but hands back only a random
    part of the results, in a random order; the rest arrive on later
    waits. Arrival order must not change a reproducible run."""

    def __init__(self, workers: int, seed: int) -> None:
        super().__init__(workers)
        self.rng = np.random.default_rng(seed)
        self.held: dict[int, object] = {}

    def submit(self, job: Job) -> None:
        self.held[job.id] = train(job, self._task, self._config)

    def wait(self):
        ids = list(self.held)
        keep = int(self.rng.integers(1, len(ids) + 1)) if ids else 0
        return [self.held.pop(ids[k]) for k in self.rng.permutation(len(ids))[:keep]]


def _key(records: list[dict]) -> list[tuple]:
    return [(r["id"], r["operator"], tuple(r["parents"]), r["island"], r["fitness"]) for r in records]


def test_same_seed_and_workers_give_the_same_run_whatever_order_results_arrive_in() -> None:
    task = delay_task()
    cfg = small(workers=3)
    base = run_log(cfg, task)
    assert [r["id"] for r in base] == list(range(cfg.genomes))
    assert _key(run_log(cfg, task)) == _key(base)
    for seed in (1, 2):
        shuffled = run_log(cfg, task, backend=Held(3, seed))
        assert _key(shuffled) == _key(base)
    assert _key(run_log(small(workers=3, seed=4), task)) != _key(base)  # the seed matters


def test_the_process_pool_gives_the_in_process_run() -> None:
    task = delay_task()
    inproc = run_log(small(workers=2, genomes=10), task)
    pooled = run_log(small(workers=2, genomes=10, backend="process"), task)
    assert _key(pooled) == _key(inproc)


def test_a_short_run_improves_on_its_seed_genome_and_saves_a_model_that_predicts(tmp_path: Path) -> None:
    task = delay_task()
    cfg = small(islands=2, island_size=4, genomes=40, epochs=4, workers=2, learning_rate=0.02,
                operator_rates={"add_recurrent_edge": 3.0, "add_edge": 1.0, "split_edge": 1.0, "clone": 1.0})
    records: list[dict] = []
    result = Evolution(cfg, task, out=tmp_path, on_genome=records.append).run(progress=False)
    seeds = [r["fitness"] for r in records if r["operator"] == "seed"]
    assert result.best.fitness < 0.5 * min(seeds)
    assert result.best.counts["edges"].get("recurrent", 0) >= 1
    # the log has one line per genome, the model file predicts like the result's network
    lines = [json.loads(s) for s in (tmp_path / "genomes.jsonl").read_text().splitlines()]
    assert lines == records and len(lines) == cfg.genomes
    loaded = nv.Network.load(tmp_path / "best.safetensors")
    np.testing.assert_array_equal(loaded.predict(task.X_test), result.network().predict(task.X_test))
    assert result.test_loss == pytest.approx(float(np.mean((loaded.predict(task.X_test) - task.Y_test) ** 2)), rel=1e-5)
    assert "digraph" in (tmp_path / "best.dot").read_text()


def test_a_clone_starts_from_bit_identical_weights() -> None:
    task = delay_task()
    cfg = small(dtype="float32")
    g = nv.evolution.minimal_genome(2, 1)
    parent = train(Job(0, g.to_json(), None, 11), task, cfg)
    child = build_network(g.copy(), cfg, seed=99)  # other initial weights, then inherited ones
    start(child, g, parent.weights, np.random.default_rng(0), "lamarckian")
    genome = nv.evolution.Genome(0, g.to_json(), 0, "seed", weights=parent.weights)
    original = network_of(genome, cfg)
    np.testing.assert_array_equal(child.parameters, original.parameters)
    assert child.evaluate(task.X_val, task.Y_val)["loss"] == original.evaluate(task.X_val, task.Y_val)["loss"]
    assert weights_of(child, g) == parent.weights


def test_lamarckian_children_draw_new_weights_from_the_parents_distribution() -> None:
    g = nv.evolution.minimal_genome(3, 1)
    inherited = {"e0": 1.0, "e1": 2.0, "e2": 3.0, "n3:bias": 2.0}
    big = g.copy()
    cells = big.add_nodes(200, "tanh")
    for c in cells:
        big.set_node_innovation(c, 1000 + c)
        big.set_edge_innovation(big.connect(0, c), 5000 + c)
    net = nv.Network(big, dtype="float64", seed=0)
    start(net, big, inherited, np.random.default_rng(1), "lamarckian")
    w = weights_of(net, big)
    assert [w[k] for k in inherited] == list(inherited.values())
    fresh = np.array([v for k, v in w.items() if k not in inherited])
    pool = np.array(list(inherited.values()))
    assert abs(fresh.mean() - pool.mean()) < 0.15 and abs(fresh.std() - pool.std()) < 0.15


class OddOnesOverflow(InProcess):
    """Trains odd genomes on inputs scaled by 1e30, so their loss overflows."""

    def wait(self):
        job = self._queue.pop(0)
        task = self._task
        if job.id % 2:
            task = Task(task.X * 1e30, task.Y, task.X_val, task.Y_val)
        return [train(job, task, self._config)]


def test_a_genome_whose_training_goes_non_finite_is_logged_and_the_run_goes_on() -> None:
    task = delay_task()
    cfg = small(genomes=8, dtype="float32", gradient_scale=None, weight_cap=None)
    records = run_log(cfg, task, backend=OddOnesOverflow())
    assert len(records) == 8
    failed = [r for r in records if r.get("error")]
    assert [r["id"] for r in failed] == [1, 3, 5, 7]
    assert all(r["fitness"] is None and not r["entered"] and "finite" in r["error"] for r in failed)
    # every genome failing is an error at the end, after each was logged with its reason
    records.clear()
    with pytest.raises(nv.DataError, match="every one of the 6 genomes failed"):
        Evolution(small(genomes=6), Task(task.X * 1e30, task.Y, task.X_val, task.Y_val),
                  on_genome=records.append).run(progress=False)
    assert len(records) == 6


_KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    sys.path.insert(0, {tests!r})
    from test_evolution_run import delay_task, small
    from nervenet.evolution import Evolution
    seen = []
    def hook(record):
        seen.append(record)
        if len(seen) == {after}:
            os.kill(os.getpid(), signal.SIGKILL)
    Evolution(small(workers=2, genomes=14{changes}), delay_task(), out={out!r}, on_genome=hook,
              checkpoint_every={every}).run(progress=False)
""")  # {changes}: more settings of the run (", backend='ray'")


@pytest.mark.parametrize("after, every", [(3, 0.0), (8, 0.0), (3, 1000.0), (8, 1000.0)])
def test_kill_9_and_resume_ends_as_the_uninterrupted_run(tmp_path: Path, after: int, every: float) -> None:
    """Killed at the ``after``-th genome, with a snapshot at every step
    (``every=0``) or only at the start (the journal replays the rest)."""
    task = delay_task()
    whole = tmp_path / "whole"
    expected = Evolution(small(workers=2, genomes=14), task, out=whole).run(progress=False)
    out = tmp_path / "killed"
    script = _KILLED_RUN.format(tests=str(Path(__file__).parent), after=after, out=str(out), every=every, changes="")
    env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    logged = (out / "genomes.jsonl").read_text().splitlines()
    assert len(logged) >= after - 1  # the killed process had logged (at least) what it checkpointed
    resumed = Evolution(small(workers=2, genomes=14), task, out=out).run(resume=True, progress=False)
    def log(folder: Path) -> list[dict]:  # everything but the training seconds
        return [{k: v for k, v in json.loads(s).items() if k != "seconds"}
                for s in (folder / "genomes.jsonl").read_text().splitlines()]

    assert log(out) == log(whole)
    assert resumed.best.id == expected.best.id and resumed.best.fitness == expected.best.fitness
    assert resumed.best.weights == expected.best.weights


def test_resume_refuses_other_settings_other_data_and_a_missing_checkpoint(tmp_path: Path) -> None:
    task = delay_task()
    Evolution(small(genomes=4), task, out=tmp_path).run(progress=False)
    with pytest.raises(nv.ConfigError, match="holds a run already"):
        Evolution(small(genomes=4), task, out=tmp_path).run(progress=False)
    with pytest.raises(nv.ConfigError, match="epochs"):
        Evolution(small(genomes=4, epochs=3), task, out=tmp_path).run(resume=True, progress=False)
    with pytest.raises(nv.ConfigError, match="other data"):
        Evolution(small(genomes=4), delay_task(seed=1), out=tmp_path).run(resume=True, progress=False)
    with pytest.raises(nv.ConfigError, match="nothing to resume"):
        Evolution(small(genomes=4), task, out=tmp_path / "empty").run(resume=True, progress=False)
    more = Evolution(small(genomes=7), task, out=tmp_path).run(resume=True, progress=False)  # genomes may grow
    assert more.genomes == 7
    assert len((tmp_path / "genomes.jsonl").read_text().splitlines()) == 7


def test_innovation_numbers_mean_one_thing_across_the_run(tmp_path: Path) -> None:
    result = Evolution(small(genomes=30, workers=2), delay_task(), out=tmp_path).run(progress=False)
    state = json.loads((tmp_path / "checkpoint.json").read_text())
    genomes = [g for isl in state["islands"] for g in isl["genomes"]] + [state["best"]]
    edges: dict[int, tuple] = {}
    nodes: dict[int, str] = {}
    for d in genomes:
        g = nv.Graph.from_json(d["graph"])
        inn = {n: g.node(n)["innovation"] for n in g.node_ids()}
        for n in g.node_ids():
            assert nodes.setdefault(inn[n], g.node(n)["kind"]) == g.node(n)["kind"]
        for e in g.edge_ids():
            info = g.edge(e)
            what = (inn[info["src"]], inn[info["dst"]], info["time_skip"])
            assert edges.setdefault(info["innovation"], what) == what
    assert result.genomes == 30 and len(edges) > 2


def test_bad_arguments_are_config_errors() -> None:
    task = delay_task()
    with pytest.raises(nv.ConfigError, match="unknown operator"):
        small(operator_rates={"fly": 1.0})
    with pytest.raises(nv.ConfigError, match="activation must be one of"):
        small(activation="tahn")
    with pytest.raises(nv.ConfigError, match="weights"):
        small(weights="lamarck")
    with pytest.raises(nv.ConfigError, match="inputs"):
        Evolution(small(), task, seed=nv.evolution.minimal_genome(3, 1))
    with pytest.raises(nv.ConfigError, match="unknown evolution setting"):
        EvolutionConfig.from_dict({"islandz": 3})
    with pytest.raises(nv.ConfigError):
        small(mutation_rate=0, intra_island_rate=0, inter_island_rate=0)
    assert math.isinf(nv.evolution.Genome(0, "", 0, "seed").fitness)


def test_extinction_empties_the_worst_island_which_refills_from_the_global_best() -> None:
    cfg = small(islands=3, island_size=2, genomes=40, extinction_every=12, workers=1)
    records = run_log(cfg, delay_task())
    events = [(r["id"], r["extinct_island"], r["generated_before"]) for r in records if "extinct_island" in r]
    assert [e[0] for e in events] == [11, 23, 35]  # every 12 genomes inserted
    for at, island, before in events:
        later = [r for r in records if r["id"] >= before and r["island"] == island]
        # the island refills from mutations of the best genome of the run so far (the results it was generated from)
        in_flight = cfg.worker_count + 1  # one genome per worker and one queued
        best_so_far = min((r for r in records if r["id"] < later[0]["id"] - in_flight and r["fitness"] is not None),
                          key=lambda r: (r["fitness"], r["id"]))
        assert later and later[0]["parents"] == [best_so_far["id"]]
    # genomes generated for an island before its extinction do not enter it
    stale = [r for at, island, before in events for r in records if r["island"] == island and at < r["id"] < before]
    assert stale and not any(r["entered"] for r in stale)


def test_each_child_gets_the_configured_number_of_mutations() -> None:
    records = run_log(small(genomes=14, mutations=2, operator_rates={"add_edge": 1.0, "clone": 1.0}), delay_task())
    made = [r["operator"] for r in records if r["operator"] != "seed"]
    assert made and all(len(op.split("+")) == 2 and set(op.split("+")) <= {"add_edge", "clone"} for op in made)


_LONG_POOL_RUN = textwrap.dedent("""
    import numpy as np
    from nervenet.evolution import Evolution, EvolutionConfig, Task

    if __name__ == "__main__":
        rng = np.random.default_rng(0)
        X = rng.normal(size=(64, 400, 3)); Y = X[..., :1]
        config = EvolutionConfig(islands=2, island_size=2, genomes=40, epochs=100000, workers=2)
        Evolution(config, Task(X, Y, X[:2], Y[:2])).run(progress=False)
""")


def _children(pid: int) -> list[int]:
    kids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields["PPid"]) == pid and "python" in fields["Name"]:
            kids.append(int(status.parent.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def test_pool_workers_end_when_the_driver_is_killed(tmp_path: Path) -> None:
    """Workers busy with a long genome stop within seconds of a kill -9 of
    the driver instead of training on for nobody."""
    script = tmp_path / "long_pool_run.py"
    script.write_text(_LONG_POOL_RUN)
    driver = subprocess.Popen([sys.executable, str(script)], env={**os.environ, "PYTHONPATH": PACKAGE_PARENT})
    try:
        deadline = time.monotonic() + 60
        while len(workers := _children(driver.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(workers) >= 2, "the pool's workers never started"
        time.sleep(2.0)  # training now
        assert all(_alive(p) for p in workers)
    finally:
        driver.kill()
        driver.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.2)
    assert not any(_alive(p) for p in workers)


def test_a_genome_that_cannot_be_made_is_logged_as_a_clone_and_the_run_goes_on(monkeypatch) -> None:
    """An operator that raises (a bug) costs its genome's novelty, not the
    run: a resume would meet the same error again."""
    from nervenet.evolution import operators

    def broken(g, rng, run):
        raise nv.GraphError("broken operator")

    monkeypatch.setitem(operators.OPERATORS, "add_edge", broken)
    cfg = small(genomes=10, operator_rates={"add_edge": 1.0})
    with pytest.warns(nv.NervenetWarning, match="broken operator"):
        records = run_log(cfg, delay_task())
    assert len(records) == 10
    failed = [r for r in records if "generation_error" in r]
    assert failed and all("broken operator" in r["generation_error"] for r in failed)
    assert all(r["operator"] in ("clone", "seed") for r in failed)


def test_final_training_trains_the_best_genome_on_and_reports_both_test_losses(tmp_path: Path) -> None:
    task = delay_task()
    plain = Evolution(small(), task).run(progress=False)
    assert plain.final is None and plain.final_test_loss is None
    result = Evolution(small(final_epochs=6), task, out=tmp_path).run(progress=False)
    # the search itself does not change: same best genome, fitness and test loss
    assert (result.best.id, result.best.fitness, result.test_loss) == (plain.best.id, plain.best.fitness, plain.test_loss)
    final = result.final
    assert final is not None and final.id == result.best.id and final.graph == result.best.graph
    assert final.fitness < result.best.fitness  # six more epochs of a genome trained two do help
    assert final.weights != result.best.weights
    net = result.network()  # the final weights
    assert net.evaluate(task.X_val, task.Y_val, loss="mse")["loss"] == pytest.approx(final.fitness, rel=1e-6)
    assert net.evaluate(task.X_test, task.Y_test, loss="mse")["loss"] == pytest.approx(result.final_test_loss, rel=1e-6)
    saved = nv.Network.load(tmp_path / "best-final.safetensors")
    np.testing.assert_array_equal(saved.predict(task.X_test), net.predict(task.X_test))
    assert "more epochs of training" in nv.evolution.report.summary(result)


def test_final_epochs_must_be_a_count() -> None:
    for bad in (-1, 1.5, "3"):
        with pytest.raises(nv.ConfigError, match="final_epochs"):
            small(final_epochs=bad)
