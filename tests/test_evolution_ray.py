"""The Ray backend (issue 15, items 1-3) on one local Ray instance of 2
CPUs shared by the module: the same genomes and fitnesses as in process
and on the process pool, the task data put in the object store once and
one engine thread per task, a worker killed mid-genome costing only that
genome, and a driver killed with kill -9 resuming to the same end.
(Starting Ray itself, clusters and connection errors:
test_evolution_ray_cluster.py.)"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import ray

import nervenet as nv
from nervenet.evolution import Evolution, InProcess, RayBackend, Task
from nervenet.parallel import ONE_THREAD as TASK_ENV
from nervenet.parallel.ray import RETRIES

sys.path.insert(0, str(Path(__file__).parent))
from test_evolution_run import _KILLED_RUN, PACKAGE_PARENT, delay_task, small  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[str]:
    """One Ray instance for the module (starting one costs seconds); the
    backend uses it and leaves it running. Yields its address."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def records_of(config, task: Task, backend=None, **kwargs) -> list[dict]:
    records: list[dict] = []
    Evolution(config, task, backend=backend, on_genome=records.append, **kwargs).run(progress=False)
    return records


def without_seconds(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def log(folder: Path) -> list[dict]:
    """The run's genomes.jsonl, without the training seconds."""
    return without_seconds([json.loads(s) for s in (folder / "genomes.jsonl").read_text().splitlines()])


def test_ray_gives_the_genomes_and_fitnesses_of_in_process_and_the_process_pool() -> None:
    task = delay_task()
    cfg = small(workers=2, genomes=12)
    inproc = without_seconds(records_of(cfg, task))
    pooled = without_seconds(records_of(small(workers=2, genomes=12, backend="process"), task))
    on_ray = without_seconds(records_of(small(workers=2, genomes=12, backend="ray"), task))
    assert [r["id"] for r in on_ray] == list(range(12))
    assert on_ray == inproc and pooled == inproc
    assert ray.is_initialized()  # a connection the user made is left open


def test_the_task_data_go_into_the_object_store_once_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    put, remote_args = [], []
    real_put = ray.put
    monkeypatch.setattr(ray, "put", lambda value, **kw: put.append(type(value).__name__) or real_put(value, **kw))
    backend = RayBackend(2)
    records = records_of(small(workers=2, genomes=10, backend="ray"), delay_task(), backend=backend)
    assert len(records) == 10
    assert sorted(put) == ["EvolutionConfig", "Task"]  # not once per genome
    # each task's arguments: its job, and references to the data in the store
    backend.start(delay_task(), small(backend="ray"))
    real_remote = backend._remote.remote
    backend._remote = type("Spy", (), {"remote": staticmethod(lambda *a: remote_args.append(a) or real_remote(*a))})
    backend.submit(nv.evolution.Job(0, nv.evolution.minimal_genome(2, 1).to_json(), None, 1))
    (result,) = backend.wait()
    backend.close()
    job, task_arg, config_arg = remote_args[0]
    assert isinstance(task_arg, ray.ObjectRef) and isinstance(config_arg, ray.ObjectRef)
    assert result.id == 0 and result.error is None


def slow_task() -> Task:
    """Genomes that train for a good fraction of a second (so a worker can
    be caught training one)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(24, 100, 2))
    Y = np.zeros((24, 100, 1))
    Y[:, 2:, 0] = X[:, :-2, 0]
    return Task(X[:16], Y[:16], X[16:20], Y[16:20])


def _training_workers() -> list[int]:
    """PIDs of Ray workers training a genome now (Ray titles a busy worker with its task)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if cmdline.read_bytes().startswith(b"ray::train_genome"):
                pids.append(int(cmdline.parent.name))
        except OSError:
            continue
    return pids


def test_a_worker_killed_mid_genome_costs_only_that_genome() -> None:
    """kill -9 of a worker training a genome: the genome is trained again,
    the run ends with every genome logged once and, reproducible, as an
    undisturbed run. The killed worker ran one engine thread."""
    task = slow_task()
    cfg = small(workers=2, genomes=8, epochs=600, batch_size=1)
    expected = without_seconds(records_of(small(workers=2, genomes=8, epochs=600, batch_size=1), task))
    killed: list[tuple[int, dict[str, str]]] = []
    stop = threading.Event()

    def kill_one() -> None:
        while not stop.is_set() and not killed:
            for pid in _training_workers():
                try:
                    env = dict(line.split("=", 1) for line in
                               Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in line)
                    os.kill(pid, signal.SIGKILL)
                except OSError:  # it ended meanwhile: look again
                    continue
                killed.append((pid, env))
                break
            time.sleep(0.02)

    backend = RayBackend(2)
    killer = threading.Thread(target=kill_one)
    killer.start()
    try:
        with pytest.warns(nv.NervenetWarning, match="its Ray worker died"):
            records = records_of(cfg, task, backend=backend)
    finally:
        stop.set()
        killer.join()
    assert len(killed) == 1 and backend.resubmitted == 1
    assert [r["id"] for r in records] == list(range(8))  # none lost, none twice
    assert without_seconds(records) == expected
    env = killed[0][1]
    assert all(env.get(k) == v for k, v in TASK_ENV.items())  # one engine thread per task


@pytest.mark.parametrize("after, every", [(3, 1000.0), (8, 0.0)])
def test_kill_9_of_a_ray_driver_and_resume_ends_as_the_uninterrupted_run(
        tmp_path: Path, local_ray: str, after: int, every: float) -> None:
    """The driver, on the module's Ray cluster, killed at the ``after``-th
    genome (journal replayed, or a snapshot at every step), resumes there
    to the log of an uninterrupted run."""
    task = delay_task()
    whole = tmp_path / "whole"
    Evolution(small(workers=2, genomes=14), task, out=whole, backend=InProcess(2)).run(progress=False)
    out = tmp_path / "killed"
    script = _KILLED_RUN.format(tests=str(Path(__file__).parent), after=after, out=str(out), every=every,
                                changes=f", backend='ray', ray_address={local_ray!r}")
    proc = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": PACKAGE_PARENT},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    assert len((out / "genomes.jsonl").read_text().splitlines()) >= after - 1
    resumed = Evolution(small(workers=2, genomes=14, backend="ray"), task, out=out).run(resume=True, progress=False)

    assert log(out) == log(whole)
    assert resumed.genomes == 14


def test_nervenet_evolve_backend_ray_from_the_command_line_and_the_settings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nervenet import cli
    from test_evolve_cli import TINY, _series

    _series(tmp_path)
    (tmp_path / "run.toml").write_text(TINY)
    out = tmp_path / "out"
    assert cli.main(["evolve", str(tmp_path / "run.toml"), "--out", str(out), "--backend", "ray", "--workers", "2",
                     "--genomes", "6"]) == 0
    assert "2 workers (ray)" in capsys.readouterr().out
    settings = json.loads((out / "run.json").read_text())["settings"]["evolution"]
    assert settings["backend"] == "ray" and settings["ray_address"] is None
    assert len((out / "genomes.jsonl").read_text().splitlines()) == 6
    # the TOML key does the same
    (tmp_path / "ray.toml").write_text(TINY.replace('backend = "inprocess"', 'backend = "ray"\nworkers = 2'))
    assert cli.main(["evolve", str(tmp_path / "ray.toml"), "--out", str(tmp_path / "out2"), "--genomes", "6"]) == 0
    assert "2 workers (ray)" in capsys.readouterr().out
    assert (tmp_path / "out2" / "genomes.jsonl").read_text() != ""


def test_a_genome_whose_worker_dies_every_time_is_logged_as_failed_and_the_run_goes_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """(Its worker's death seen by the driver: ray.get raises as for a killed worker.)"""
    real_get = ray.get

    def get(ref, **kwargs):
        result = real_get(ref, **kwargs)
        if result.id == 5:
            raise ray.exceptions.WorkerCrashedError()
        return result

    monkeypatch.setattr(ray, "get", get)
    backend = RayBackend(2)
    with pytest.warns(nv.NervenetWarning, match="genome 5: its Ray worker died") as caught:
        records = records_of(small(workers=2, genomes=10, backend="ray"), delay_task(), backend=backend)
    assert len([w for w in caught if "genome 5" in str(w.message)]) == RETRIES == backend.resubmitted
    assert [r["id"] for r in records] == list(range(10))
    (failed,) = [r for r in records if r.get("error")]
    assert failed["id"] == 5 and failed["fitness"] is None and f"died {RETRIES + 1} times" in failed["error"]


def test_a_run_begun_in_process_continues_on_ray_as_it_would_in_process(tmp_path: Path) -> None:
    task = delay_task()
    for folder, backend in (("moved", "ray"), ("stayed", "inprocess")):
        Evolution(small(workers=2, genomes=6), task, out=tmp_path / folder).run(progress=False)
        Evolution(small(workers=2, genomes=12, backend=backend), task, out=tmp_path / folder).run(
            resume=True, progress=False)

    assert len(log(tmp_path / "moved")) == 12 and log(tmp_path / "moved") == log(tmp_path / "stayed")
