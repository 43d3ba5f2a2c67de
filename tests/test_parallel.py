"""The one parallel layer under evolution's backends and the experiments'
executors (issue 15, item 1-2): worker processes run ``fn(*args, *shared)``
with one engine thread and the shared data received once, a worker that
dies is an error naming the call and how to resume, and on Ray a trial
whose worker keeps dying is recorded as failed after the retries (as a
genome is), not lost."""

from __future__ import annotations

import os

import pytest

import nervenet as nv
from nervenet.experiments import executors
from nervenet.parallel import ONE_THREAD
from nervenet.parallel.processes import WorkerProcesses
from nervenet.parallel.ray import RETRIES

def worker_facts(x: int, shared: list[int]) -> tuple[int, int, int, dict[str, str]]:
    """x plus the shared data's sum, this worker's pid, its engine threads
    and its thread variables."""
    return x + sum(shared), os.getpid(), nv.threads.get_num_threads(), {k: os.environ.get(k, "") for k in ONE_THREAD}


def die(x: int) -> None:
    os._exit(3)


def all_results(pool: WorkerProcesses, n: int) -> dict:
    out: dict = {}
    while len(out) < n:
        out.update(pool.wait_calls())
    return out


def test_worker_processes_run_each_call_with_the_shared_data_and_one_engine_thread() -> None:
    pool = WorkerProcesses(2, what="trial")
    pool.open(worker_facts, [10, 20])
    try:
        for key in range(6):
            pool.submit_call(key, key)
        results = all_results(pool, 6)
    finally:
        pool.close()
    assert {k: v[0] for k, v in results.items()} == {k: k + 30 for k in range(6)}
    assert len({v[1] for v in results.values()} - {os.getpid()}) >= 1  # in other processes
    assert all(v[2] == 1 and v[3] == ONE_THREAD for v in results.values())


def test_a_worker_process_that_dies_is_an_error_naming_the_call_and_how_to_resume() -> None:
    pool = WorkerProcesses(1, what="trial", resume="the log keeps every finished trial")
    pool.open(die)
    pool.submit_call(3, 0)
    try:
        with pytest.raises(nv.NervenetError, match=r"died while running trial 3 .*the log keeps every finished trial"):
            all_results(pool, 1)
    finally:
        pool.close()


def test_a_trial_whose_ray_worker_keeps_dying_is_retried_then_recorded_as_failed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray")  # the test extra installs it
    real_get = ray.get

    def get(ref, **kwargs):
        value = real_get(ref, **kwargs)
        if value[0] == 1:  # trial 1's worker "dies" every time
            raise ray.exceptions.WorkerCrashedError()
        return value

    monkeypatch.setattr(ray, "get", get)
    pool = executors.executor("ray", workers=2)
    try:
        with pytest.warns(nv.NervenetWarning, match="trial 1: its Ray worker died") as caught:
            done: dict = {}
            executors.run_all(pool, _calls(3), lambda d: done.__setitem__(d.key, d))
    finally:
        pool.close()
    assert len([w for w in caught if "trial 1" in str(w.message)]) == RETRIES == pool.resubmitted
    assert done[0].value == 0 and done[2].value == 2
    assert done[1].value is None and f"died {RETRIES + 1} times" in done[1].error
    assert not ray.is_initialized()


def _calls(n: int):
    keys = iter(range(n))

    def next_call():
        k = next(keys, None)
        return None if k is None else (k, int, (k,))

    return next_call
