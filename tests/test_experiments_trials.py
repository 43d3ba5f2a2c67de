"""Repeated trials (issue 15, item 4): seeds derived from one run seed,
the same metrics on the in-process and process executors, the JSON-lines
log streamed as trials finish and resumed after an interruption (a log of
another experiment refused), failed trials recorded and retried, and the
executors' errors (Ray missing, an unreachable cluster, a function that
cannot be sent to workers)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import experiment_helpers as helpers
import nervenet as nv
from nervenet import cli
from experiment_helpers import counted, failing, noisy, not_metrics, tiny
from nervenet.errors import ConfigError
from nervenet.experiments import executors
from nervenet.experiments.work import trial_seed


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_seeds_derive_from_the_run_seed_and_are_distinct() -> None:
    t = nv.experiments.trials(noisy, n=5, seed=3, backend="inprocess", log=None)
    seeds = [r["seed"] for r in t.records]
    assert seeds == [trial_seed(3, i) for i in range(5)] and len(set(seeds)) == 5
    assert [r["metrics"] for r in t.records] == [noisy(s) for s in seeds]
    other = nv.experiments.trials(noisy, n=5, seed=4, backend="inprocess", log=None)
    assert not {r["seed"] for r in other.records} & set(seeds)


def test_function_trials_are_the_same_in_process_and_in_a_process_pool() -> None:
    here = nv.experiments.trials(noisy, n=4, seed=1, backend="inprocess", log=None)
    pool = nv.experiments.trials(noisy, n=4, seed=1, backend="process", workers=2, log=None)
    assert [(r["trial"], r["seed"], r["metrics"]) for r in here.records] == \
           [(r["trial"], r["seed"], r["metrics"]) for r in pool.records]


def test_config_trials_are_reproducible_on_both_executors_and_vary_by_trial(tmp_path: Path) -> None:
    here = nv.experiments.trials(tiny(), n=2, seed=7, backend="inprocess", log=tmp_path / "a.jsonl")
    pool = nv.experiments.trials(tiny(), n=2, seed=7, backend="process", workers=2, log=tmp_path / "b.jsonl")
    assert [r["metrics"] for r in here.records] == [r["metrics"] for r in pool.records]  # bit for bit
    first, second = (r["metrics"] for r in here.records)
    assert first["test_loss"] != second["test_loss"]  # each trial its own initial weights and batch order
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy", "epochs"} == set(first)
    s = here.summary()["test_loss"]
    assert s.n == 2 and s.min <= s.mean <= s.max and s.low < s.mean < s.high


def test_config_metrics_are_what_nervenet_train_reports(tmp_path: Path) -> None:
    """A trial is `nervenet train` of the config with the trial's seed as
    network.seed and training.seed."""
    t = nv.experiments.trials(tiny(), n=1, seed=5, backend="inprocess", log=None)
    seed = t.records[0]["seed"]
    path = tmp_path / "c.toml"
    from nervenet.experiments.toml_text import to_toml

    path.write_text(to_toml(tiny(**{"network.seed": seed, "training.seed": seed})))
    assert cli.main(["train", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["test"]["loss"] == t.records[0]["metrics"]["test_loss"]
    assert run["test"]["accuracy"] == t.records[0]["metrics"]["test_accuracy"]


def test_the_log_streams_one_line_per_trial_after_its_header(tmp_path: Path) -> None:
    log = tmp_path / "trials.jsonl"
    seen: list[int] = []
    nv.experiments.trials(noisy, n=3, seed=2, backend="inprocess", log=log, progress=lambda r: seen.append(
        len(_lines(log)) - 1))  # the line is in the file when progress hears of it
    lines = _lines(log)
    assert lines[0] == {"experiment": {"kind": "trials", "function": "experiment_helpers.noisy", "seed": 2}}
    assert seen == [1, 2, 3]
    assert [(r["trial"], r["seed"], r["metrics"]) for r in lines[1:]] == \
           [(i, trial_seed(2, i), noisy(trial_seed(2, i))) for i in range(3)]
    assert all(r["seconds"] >= 0 for r in lines[1:])


def test_an_interrupted_experiment_resumes_without_rerunning_finished_trials(tmp_path: Path) -> None:
    log = tmp_path / "trials.jsonl"
    helpers.CALLS.clear()
    helpers.INTERRUPT_AFTER[:] = [2]
    try:
        with pytest.raises(KeyboardInterrupt):
            nv.experiments.trials(counted, n=5, seed=0, backend="inprocess", log=log)
    finally:
        helpers.INTERRUPT_AFTER.clear()
    assert [r["trial"] for r in _lines(log)[1:]] == [0, 1]
    with open(log, "a") as f:  # a line cut short when the process died
        f.write('{"trial": 2, "seed": 12')
    helpers.CALLS.clear()
    resumed = nv.experiments.trials(counted, n=5, seed=0, backend="inprocess", log=log)
    assert helpers.CALLS == [trial_seed(0, i) for i in (2, 3, 4)]  # only the unfinished ones ran
    whole = nv.experiments.trials(noisy, n=5, seed=0, backend="inprocess", log=None)
    assert [r["metrics"] for r in resumed.records] == [r["metrics"] for r in whole.records]
    assert [r["trial"] for r in _lines(log)[1:]] == [0, 1, 2, 3, 4]  # the cut line is gone
    helpers.CALLS.clear()
    more = nv.experiments.trials(counted, n=6, seed=0, backend="inprocess", log=log)  # a larger n continues
    assert helpers.CALLS == [trial_seed(0, 5)] and len(more.records) == 6


def test_a_log_of_another_experiment_is_refused(tmp_path: Path) -> None:
    log = tmp_path / "trials.jsonl"
    nv.experiments.trials(tiny(), n=1, backend="inprocess", log=log)
    with pytest.raises(ConfigError, match=r"different experiment: config\.optimizer\.lr \(0\.01 there, 0\.1 here\)"):
        nv.experiments.trials(tiny(**{"optimizer.lr": 0.1}), n=1, backend="inprocess", log=log)
    with pytest.raises(ConfigError, match=r"different experiment: seed \(0 there, 1 here\)"):
        nv.experiments.trials(tiny(), n=1, seed=1, backend="inprocess", log=log)
    with pytest.raises(ConfigError, match="different experiment"):
        nv.experiments.trials(noisy, n=1, backend="inprocess", log=log)
    (tmp_path / "junk.jsonl").write_text("hello\n")
    with pytest.raises(ConfigError, match="not a nervenet experiment log"):
        nv.experiments.trials(noisy, n=1, backend="inprocess", log=tmp_path / "junk.jsonl")


def test_failed_trials_are_recorded_left_out_of_the_summary_and_retried(tmp_path: Path) -> None:
    log = tmp_path / "trials.jsonl"
    helpers.FAIL_SEEDS.clear()
    helpers.FAIL_SEEDS.add(trial_seed(0, 1))
    t = nv.experiments.trials(failing, n=3, backend="inprocess", log=log)
    assert [r["trial"] for r in t.failed] == [1] and "ValueError: no luck with seed" in t.failed[0]["error"]
    assert t.summary()["loss"].n == 2 and "1 trial failed: trial 1: ValueError" in t.table()
    helpers.FAIL_SEEDS.clear()
    again = nv.experiments.trials(failing, n=3, backend="inprocess", log=log)
    assert not again.failed and again.summary()["loss"].n == 3


def test_a_function_must_return_a_dict_of_numbers() -> None:
    t = nv.experiments.trials(not_metrics, n=1, backend="inprocess", log=None)
    assert "ConfigError" in t.failed[0]["error"] and "dict of metric names to numbers" in t.failed[0]["error"]
    with pytest.raises(ConfigError, match="no metric 'loss'"):
        t.values("loss")


def test_argument_errors_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be sent to worker processes"):
        nv.experiments.trials(lambda seed: {"x": 1.0}, n=1, backend="process", log=None)
    with pytest.raises(ConfigError, match="backend must be one of process, inprocess, ray"):
        nv.experiments.trials(noisy, n=1, backend="mpi", log=None)
    with pytest.raises(ConfigError, match=r"n must be an integer in \[1, 2\*\*24\), got 0"):
        nv.experiments.trials(noisy, n=0, log=None)
    with pytest.raises(ConfigError, match="a function f"):
        nv.experiments.trials(42, n=1, log=None)  # type: ignore[arg-type]
    with pytest.raises(nv.InvalidConfig, match="optimizer.lr"):
        nv.experiments.trials(tiny(**{"optimizer.lr": "fast"}), n=1, log=None)
    with pytest.raises(ConfigError, match="ray_address is for backend 'ray'"):
        nv.experiments.trials(noisy, n=1, backend="inprocess", ray_address="auto", log=None)


def test_ray_missing_is_a_config_error_naming_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if not installed
    with pytest.raises(ConfigError, match=r'pip install "nervenet\[ray\]"'):
        nv.experiments.trials(noisy, n=1, backend="ray", log=None)


def test_ray_runs_trials_like_the_other_executors_and_names_an_unreachable_address() -> None:
    ray = pytest.importorskip("ray")  # CI installs the test extra's Ray
    here = nv.experiments.trials(tiny(), n=2, seed=7, backend="inprocess", log=None)
    on_ray = nv.experiments.trials(tiny(), n=2, seed=7, backend="ray", workers=2, log=None)
    assert [r["metrics"] for r in here.records] == [r["metrics"] for r in on_ray.records]
    assert not ray.is_initialized()  # the local Ray it started is shut down
    with pytest.raises(ConfigError, match=r"127\.0\.0\.1:1"):
        nv.experiments.trials(noisy, n=1, backend="ray", ray_address="127.0.0.1:1", log=None)


def test_run_all_keeps_every_worker_busy_and_hands_results_over_as_they_come() -> None:
    pool = executors.InProcess()
    calls = iter(range(3))
    done: list[int] = []

    def next_call():
        i = next(calls, None)
        return None if i is None else (i, np.square, (i,))

    executors.run_all(pool, next_call, lambda d: done.append(d.value))
    assert done == [0, 1, 4]


def test_a_config_at_fault_stops_the_experiment_at_its_first_trial(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NERVENET_DATA", str(tmp_path / "nothing-here"))
    log = tmp_path / "trials.jsonl"
    with pytest.raises(nv.InvalidConfig, match=r"no such data file: .*nothing-here.* \(in trial 0\)") as e:
        nv.experiments.trials(tiny(**{"data.dataset": "iris"}), n=3, backend="inprocess", log=log)
    assert e.value.key == "data.root" and len(log.read_text().splitlines()) == 1  # nothing logged: fix, run again


def test_a_file_dataset_is_read_from_the_drivers_data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers (Ray's above all) run in other folders: the root is fixed
    where the experiment starts."""
    root = Path(__file__).resolve().parents[2] / "shared" / "data"
    monkeypatch.setenv("NERVENET_DATA", str(root))
    work, _ = nv.experiments.work.work_of(tiny(**{"data.dataset": "iris"}))
    assert work.config["data"]["root"] == str(root.resolve())
    monkeypatch.setenv("NERVENET_DATA", str(tmp_path))  # where a worker would look
    assert work.run(1)["test_accuracy"] > 0
