"""The Ray backend making its own connections (issue 15, items 1-3):
a local Ray instance started for a run and shut down after it, a
two-node cluster on this machine (``ray.cluster_utils.Cluster``) whose
CPUs are the workers, and clear ConfigErrors when Ray is not installed
or an address does not answer. Each test starts from no Ray connection."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
import ray
from ray.cluster_utils import Cluster

import nervenet as nv
from nervenet.evolution import Evolution, EvolutionConfig, RayBackend

sys.path.insert(0, str(Path(__file__).parent))
from test_evolution_ray import records_of, without_seconds  # noqa: E402
from test_evolution_run import delay_task, small  # noqa: E402


@pytest.fixture(autouse=True)
def no_ray_connection():
    assert not ray.is_initialized()
    yield
    if ray.is_initialized():  # a failed test must not leave its connection to the next
        ray.shutdown()


def test_without_an_address_a_local_ray_of_workers_cpus_is_started_and_shut_down() -> None:
    task = delay_task()
    records = records_of(small(workers=2, genomes=8, backend="ray"), task)
    assert not ray.is_initialized()
    assert without_seconds(records) == without_seconds(records_of(small(workers=2, genomes=8), task))


def test_a_two_node_cluster_runs_an_evolution_with_its_cpus_as_workers() -> None:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        task = delay_task()
        evolution = Evolution(small(genomes=10, backend="ray", ray_address=cluster.address), task)
        assert evolution.workers == 2  # one CPU on each node
        records: list[dict] = []
        evolution.on_genome = records.append
        evolution.run(progress=False)
        assert without_seconds(records) == without_seconds(records_of(small(workers=2, genomes=10), task))
        assert not ray.is_initialized()  # disconnected; the cluster runs on
    finally:
        cluster.shutdown()


def test_ray_not_installed_is_a_config_error_saying_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(nv.ConfigError, match=r'pip install "nervenet\[ray\]"'):
        Evolution(small(backend="ray", workers=2), delay_task())


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_address_nobody_answers_is_a_config_error_naming_it() -> None:
    """(ray.init alone waits minutes on such an address.)"""
    address = f"127.0.0.1:{_closed_port()}"
    with pytest.raises(nv.ConfigError, match=f"cannot reach the Ray cluster at '{address}'"):
        Evolution(small(backend="ray", ray_address=address), delay_task())
    with pytest.raises(nv.ConfigError, match="cannot reach"):  # with workers given, at the run's start
        Evolution(small(backend="ray", ray_address=address, workers=2), delay_task()).run(progress=False)
    with pytest.raises(nv.ConfigError, match="is not host:port"):
        RayBackend(2, "headnode").start(delay_task(), EvolutionConfig(backend="ray"))
    assert not ray.is_initialized()


def test_nervenet_evolve_ray_address_that_does_not_answer_exits_1_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nervenet import cli
    from test_evolve_cli import TINY, _series

    _series(tmp_path)
    (tmp_path / "run.toml").write_text(TINY)
    address = f"127.0.0.1:{_closed_port()}"
    assert cli.main(["evolve", str(tmp_path / "run.toml"), "--out", str(tmp_path / "out"), "--ray-address", address,
                     "--quiet"]) == 1
    assert f"cannot reach the Ray cluster at '{address}'" in capsys.readouterr().err


def test_bad_backend_arguments_are_config_errors_naming_them() -> None:
    with pytest.raises(nv.ConfigError, match="workers must be an integer >= 1"):
        RayBackend(0)
    with pytest.raises(nv.ConfigError, match="ray_address must be a string"):
        RayBackend(2, 6379)  # type: ignore[arg-type]
    with pytest.raises(nv.ConfigError, match="backend must be one of"):
        EvolutionConfig(backend="rey")
