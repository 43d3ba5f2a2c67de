"""Hyperparameter search over configs (issue 15, item 5): the [search]
section checked key by key, grid search covering its grid, random search
seeded, Optuna's TPE writing its study into SQLite storage, the log with
each trial's parameters, config, seed and metrics (resumed), the same
results on the in-process and process executors, and the best config
written as TOML that `nervenet train` runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import nervenet as nv
from experiment_helpers import tiny
from nervenet import cli
from nervenet.config import parse_toml
from nervenet.errors import ConfigError, InvalidConfig
from nervenet.experiments.space import parse_space
from nervenet.experiments.toml_text import to_toml
from nervenet.experiments.work import trial_seed


def searching(space: dict, **settings) -> dict:
    return {**tiny(), "search": {"space": space, **settings}}


LR = {"optimizer.lr": {"loguniform": [1e-3, 1e-1]}}


@pytest.mark.parametrize("space, key, message", [
    ({"optimizer.lr": {"loguniform": [0.0, 0.1]}}, "search.space.optimizer.lr", "low > 0"),
    ({"optimizer.lr": {"uniform": [0.1, 0.1]}}, "search.space.optimizer.lr", "low < high"),
    ({"optimizer.lr": {"uniform": [0.1]}}, "search.space.optimizer.lr", "two numbers"),
    ({"training.epochs": {"int": [1.0, 3]}}, "search.space.training.epochs", "two integers"),
    ({"training.epochs": {"int": [1, 4], "step": 2}}, "search.space.training.epochs.step", "does not divide"),
    ({"network.hidden": {"choice": []}}, "search.space.network.hidden", "non-empty array"),
    ({"optimizer.lr": {"uniform": [0, 1], "choice": [1]}}, "search.space.optimizer.lr", "exactly one of"),
    ({"optimizer.lr": {"normal": [0, 1]}}, "search.space.optimizer.lr", "exactly one of"),
    ({"optimizer.lr": 0.1}, "search.space.optimizer.lr", "distribution table"),
    ({"optimizer.lrr": {"uniform": [0.1, 0.2]}}, "search.space.optimizer.lrr", "did you mean 'lr'"),
    ({"training.batch_size": {"choice": [32, "big"]}}, "search.space.training.batch_size", "'big' makes an invalid"),
    ({"network.seed": {"int": [0, 9]}}, "search.space.network.seed", "set by each trial's seed"),
])
def test_invalid_search_spaces_name_their_key(space: dict, key: str, message: str) -> None:
    with pytest.raises(InvalidConfig, match=message) as e:
        nv.experiments.search(searching(space), log=None, backend="inprocess")
    assert e.value.key == key


@pytest.mark.parametrize("config, key, message", [
    (searching(LR, sampler="bayes"), "search.sampler", "not one of random, grid, tpe"),
    (searching(LR, storage="sqlite:///x.db"), "search.storage", "sampler = 'tpe'"),
    (searching(LR, metric="test_loss"), "search.metric", "on the test split"),
    (searching(LR, metric="sparsity"), "search.direction", "better lower or higher"),
    (searching(LR, trials=0), "search.trials", "integer >= 1"),
    (searching(LR, grid_points=1), "search.grid_points", r"in \[2, 2\*\*24\)"),
    (searching(LR, trials=2**24), "search.trials", r"in \[1, 2\*\*24\)"),
    (searching(LR, colour="red"), "search.colour", "unknown key"),
    ({**tiny(), "search": {}}, "search.space", "required key is missing"),
    (tiny(), "search", r"needs a \[search\] table"),
])
def test_invalid_search_settings_name_their_key(config: dict, key: str, message: str) -> None:
    with pytest.raises(InvalidConfig, match=message) as e:
        nv.experiments.search(config, log=None, backend="inprocess")
    assert e.value.key == key


def test_a_metric_the_trials_do_not_report_is_named() -> None:
    with pytest.raises(InvalidConfig, match="report no 'val_f1'") as e:
        nv.experiments.search(searching(LR, metric="val_f1", trials=1), log=None, backend="inprocess")
    assert e.value.key == "search.metric"


def test_dotted_keys_may_be_quoted_or_nested() -> None:
    quoted = parse_space(parse_toml('"optimizer.lr" = { loguniform = [1e-3, 1e-1] }'))
    nested = parse_space(parse_toml("optimizer.lr = { loguniform = [1e-3, 1e-1] }"))
    assert quoted == nested and quoted.keys == ["optimizer.lr"]


def test_grid_search_covers_the_grid(tmp_path: Path) -> None:
    space = {"optimizer.lr": {"loguniform": [1e-3, 1e-1]}, "network.hidden": {"choice": [[4], [6, 4]]},
             "training.batch_size": {"int": [32, 64], "step": 32}}
    r = nv.experiments.search(searching(space, sampler="grid", grid_points=3), log=tmp_path / "s.jsonl",
                              backend="inprocess")
    seen = {(round(p["optimizer.lr"], 12), tuple(p["network.hidden"]), p["training.batch_size"])
            for p in (x["params"] for x in r.records)}
    assert len(r.records) == 12 and seen == {(lr, h, b) for lr in (0.001, 0.01, 0.1) for h in ((4,), (6, 4))
                                             for b in (32, 64)}
    for x in r.records:  # each trial's config is the base with its parameters and seed set
        assert x["config"]["optimizer"]["lr"] == x["params"]["optimizer.lr"]
        assert x["config"]["network"]["seed"] == x["config"]["training"]["seed"] == x["seed"] == trial_seed(0, x["trial"])
    assert r.best == min(r.records, key=lambda x: x["metrics"]["val_loss"])
    with pytest.raises(InvalidConfig, match="search.space"):  # an empty space
        nv.experiments.search(searching({}, sampler="grid"), log=None)
    few = nv.experiments.search(searching(space, sampler="grid", grid_points=3), trials=2, log=None, backend="inprocess")
    assert [x["params"] for x in few.records] == [x["params"] for x in r.records[:2]]  # the grid's first


def test_random_search_is_seeded() -> None:
    space = {"optimizer.lr": {"loguniform": [1e-3, 1e-1]}, "training.l2": {"uniform": [0.0, 0.01]},
             "training.batch_size": {"int": [16, 64], "step": 16}, "network.hidden": {"choice": [[4], [6, 4]]}}
    one = nv.experiments.search(searching(space, trials=3, seed=5), log=None, backend="inprocess")
    two = nv.experiments.search(searching(space, trials=3, seed=5), log=None, backend="inprocess")
    other = nv.experiments.search(searching(space, trials=3, seed=6), log=None, backend="inprocess")
    assert [x["params"] for x in one.records] == [x["params"] for x in two.records]
    assert [x["metrics"] for x in one.records] == [x["metrics"] for x in two.records]
    assert [x["params"] for x in one.records] != [x["params"] for x in other.records]
    for p in (x["params"] for x in one.records):
        assert 1e-3 <= p["optimizer.lr"] <= 1e-1 and 0 <= p["training.l2"] <= 0.01
        assert p["training.batch_size"] in (16, 32, 48, 64) and p["network.hidden"] in ([4], [6, 4])
    draws = parse_space(space).sample(np.random.default_rng(0))
    assert set(draws) == set(space)


def test_process_pool_search_matches_in_process(tmp_path: Path) -> None:
    config = searching(LR, trials=2, seed=1)
    here = nv.experiments.search(config, log=None, backend="inprocess")
    pool = nv.experiments.search(config, log=None, backend="process", workers=2)
    assert [(x["params"], x["metrics"]) for x in here.records] == [(x["params"], x["metrics"]) for x in pool.records]


def test_a_search_resumes_from_its_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "s.jsonl"
    first = nv.experiments.search(searching(LR, trials=2), log=log, backend="inprocess")
    from nervenet.experiments import repeated

    ran: list[int] = []
    real = repeated.run_trial
    monkeypatch.setattr(repeated, "run_trial", lambda work, seed, params: ran.append(seed) or real(work, seed, params))
    more = nv.experiments.search(searching(LR, trials=4), log=log, backend="inprocess")
    assert ran == [trial_seed(0, 2), trial_seed(0, 3)]
    assert more.records[:2] == first.records
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert lines[0]["experiment"]["kind"] == "search" and [x["trial"] for x in lines[1:]] == [0, 1, 2, 3]
    assert {"trial", "seed", "params", "config", "metrics", "seconds"} == set(lines[1])
    with pytest.raises(ConfigError, match="different experiment: search.space.optimizer.lr"):
        nv.experiments.search(searching({"optimizer.lr": {"uniform": [0.01, 0.1]}}, trials=4), log=log)


def test_the_best_config_is_a_toml_file_nervenet_train_runs(tmp_path: Path) -> None:
    config = tmp_path / "search.toml"
    config.write_text(to_toml(searching({"optimizer.lr": {"loguniform": [1e-3, 1e-1]},
                                         "network.hidden": {"choice": [[4], [6, 4]]}}, trials=3)))
    r = nv.experiments.search(config, log=None, backend="inprocess")
    best = r.write_best(tmp_path / "best.toml")
    assert "search" not in parse_toml(best.read_text())
    assert cli.main(["train", str(best), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["test"]["loss"] == r.best["metrics"]["test_loss"]  # the best trial, run again to the bit
    assert cli.main(["train", str(config), "--out", str(tmp_path / "base"), "--quiet"]) == 0  # train ignores [search]


def test_tpe_through_optuna_writes_its_study_into_sqlite(tmp_path: Path) -> None:
    optuna = pytest.importorskip("optuna")  # in the test extra
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    space = {"optimizer.lr": {"loguniform": [1e-3, 1e-1]}, "network.hidden": {"choice": [[4], [6, 4]]},
             "training.batch_size": {"int": [32, 64], "step": 32}}
    config = searching(space, sampler="tpe", trials=4, storage=storage, study="tiny")
    r = nv.experiments.search(config, log=tmp_path / "s.jsonl", backend="inprocess")
    study = optuna.load_study(study_name="tiny", storage=storage)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 4 and study.direction == optuna.study.StudyDirection.MINIMIZE
    by_trial = {t.user_attrs["nervenet_trial"]: t for t in complete}
    for x in r.records:
        t = by_trial[x["trial"]]
        assert t.value == x["metrics"]["val_loss"] and t.params["optimizer.lr"] == x["params"]["optimizer.lr"]
        assert json.loads(t.params["network.hidden"]) == x["params"]["network.hidden"]  # lists travel as JSON
    assert study.best_value == r.best["metrics"]["val_loss"]
    again = nv.experiments.search(config, trials=5, log=tmp_path / "s.jsonl", backend="inprocess")  # resumes
    assert len(again.records) == 5 and again.records[:4] == r.records
    assert len(optuna.load_study(study_name="tiny", storage=storage).trials) == 5


def test_tpe_resumes_into_an_in_memory_study(tmp_path: Path) -> None:
    pytest.importorskip("optuna")
    config = searching(LR, sampler="tpe", trials=2)
    first = nv.experiments.search(config, log=tmp_path / "s.jsonl", backend="inprocess")
    again = nv.experiments.search(config, trials=3, log=tmp_path / "s.jsonl", backend="inprocess")
    assert again.records[:2] == first.records and len(again.records) == 3


def test_tpe_without_optuna_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(InvalidConfig, match=r'pip install "nervenet\[optuna\]"') as e:
        nv.experiments.search(searching(LR, sampler="tpe"), log=None, backend="inprocess")
    assert e.value.key == "search.sampler"


def test_a_bad_storage_is_named(tmp_path: Path) -> None:
    pytest.importorskip("optuna")
    with pytest.raises(InvalidConfig, match="nosuchdb://") as e:
        nv.experiments.search(searching(LR, sampler="tpe", storage="nosuchdb://x"), log=None, backend="inprocess")
    assert e.value.key == "search.storage"


def test_toml_text_reads_back_equal() -> None:
    doc = {"description": 'a "quoted" name', "data": {"dataset": "digits", "seed": 2**63},
           "network": {"hidden": [16, 8], "bias_init": 0.1}, "optimizer": {"name": "adam", "lr": 1e-08},
           "callbacks": {"early_stopping": {"patience": 3, "restore_best": True}},
           "search": {"space": {"optimizer.lr": {"loguniform": [1e-4, 0.1]}}}, "x": {"y": [{"a": 1}], "inf": -np.inf}}
    assert parse_toml(to_toml(doc)) == doc


def test_a_search_runs_on_ray_as_in_process() -> None:
    pytest.importorskip("ray")  # CI installs the test extra's Ray
    config = searching(LR, trials=2, seed=3)
    here = nv.experiments.search(config, log=None, backend="inprocess")
    on_ray = nv.experiments.search(config, log=None, backend="ray", workers=2)
    assert [(x["params"], x["metrics"]) for x in here.records] == [(x["params"], x["metrics"]) for x in on_ray.records]
