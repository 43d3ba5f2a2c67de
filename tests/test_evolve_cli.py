"""`nervenet evolve` and its TOML settings: a tiny run end to end on small
CSV files (its files, the best model predicting), `--resume` with more
genomes, bad settings (exit status 2, the key named), the example files
(the coal one is the built-in default) and the real data they name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nervenet as nv
from nervenet import cli
from nervenet.errors import InvalidConfig
from nervenet.evolution import EvolutionConfig, coal_task
from nervenet.evolution.settings import default_settings, parse_settings, read_settings, validate_settings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# Mutation only: a tiny budget that trains in well under a second.
TINY = """\
[evolution]
islands = 2
island_size = 2
genomes = 8
epochs = 1
batch_size = 4
backend = "inprocess"
mutation_rate = 1.0
intra_island_rate = 0
inter_island_rate = 0
seed = 3

[data]
train = ["s0.csv", "s1.csv"]
validation = ["s2.csv"]
test = ["s3.csv"]
outputs = "a"
chunk = 30
"""


def _series(folder: Path) -> None:
    """Four small two-column series (120 steps each) as CSV files."""
    rng = np.random.default_rng(0)
    t = np.arange(120)
    for k in range(4):
        a = np.sin(t / 5 + k) + 0.1 * rng.normal(size=len(t))
        b = np.cos(t / 7 + k)
        rows = "".join(f"{x:.5f},{y:.5f}\n" for x, y in zip(a, b))
        (folder / f"s{k}.csv").write_text("a,b\n" + rows)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    _series(tmp_path)
    (tmp_path / "run.toml").write_text(TINY)
    return tmp_path


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # the package under test, wherever the child process starts
    path = os.pathsep.join([str(Path(nv.__file__).parents[1]), *filter(None, [os.environ.get("PYTHONPATH")])])
    return subprocess.run([sys.executable, "-m", "nervenet.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": path})


def _log(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "genomes.jsonl").read_text().splitlines()]


def test_evolve_runs_end_to_end_and_writes_its_files(tiny: Path) -> None:
    r = run_cli("evolve", "run.toml", "--out", "out", cwd=tiny)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert "genomes: 100%" in r.stderr and "best=" in r.stderr and "median=" in r.stderr  # the progress bar
    out = tiny / "out"
    lines = r.stdout.splitlines()
    assert lines[0] == "data: 6 training sequences of 30 steps, 1 validation, 1 test; 2 inputs, 1 output"
    assert any(line.startswith("genomes: 8 (2 islands of 2, 1 epoch each) in ") for line in lines)
    best_line = next(line for line in lines if line.startswith("best: genome "))
    test_line = next(line for line in lines if line.startswith("test mse: "))
    assert any(line.startswith("best genome: ") and line.endswith(" parameters") for line in lines)
    assert lines[-1] == "wrote " + ", ".join(str(Path("out") / f) for f in (
        "genomes.jsonl", "best.safetensors", "best.dot", "fitness.png", "run.json", "checkpoint.json"))

    log = _log(out)
    assert [g["id"] for g in log] == list(range(8))
    assert {"id", "parents", "operator", "island", "nodes", "edges", "epochs", "fitness", "seconds"} <= log[0].keys()
    run = json.loads((out / "run.json").read_text())
    best = run["result"]["best"]
    assert run["result"]["genomes"] == 8 and best["fitness"] == min(g["fitness"] for g in log if g["fitness"])
    assert f"best: genome {best['id']} " in best_line and f"validation mse {best['fitness']:.6g} " in best_line
    assert test_line == f"test mse: {best['test_loss']:.6g}"
    assert (out / "fitness.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "best.dot").read_text().startswith("digraph")

    # the best genome's model file predicts, and scores on the test file as the summary says
    net = nv.Network.load(out / "best.safetensors")
    task = read_settings(tiny / "run.toml").task()
    assert net.predict(task.X_test).shape == task.Y_test.shape
    test = net.evaluate(task.X_test.astype(np.float32), task.Y_test.astype(np.float32), loss="mse")["loss"]
    assert test == pytest.approx(best["test_loss"], rel=1e-5)


def test_resume_after_a_finished_run_continues_with_more_genomes(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["evolve", str(tiny / "run.toml"), "--out", str(tiny / "out"), "--quiet"]) == 0
    first = (tiny / "out" / "genomes.jsonl").read_text()
    capsys.readouterr()
    # no CONFIG: the run's own settings (run.json), with the larger budget
    assert cli.main(["evolve", "--out", str(tiny / "out"), "--resume", "--genomes", "12", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "genomes: 12 (2 islands of 2" in printed
    log = _log(tiny / "out")
    assert [g["id"] for g in log] == list(range(12))
    assert (tiny / "out" / "genomes.jsonl").read_text().startswith(first)  # the first 8 kept as they were
    run = json.loads((tiny / "out" / "run.json").read_text())
    assert run["settings"]["evolution"]["genomes"] == 12 and run["result"]["genomes"] == 12
    # with the CONFIG again, a further 2
    assert cli.main(["evolve", str(tiny / "run.toml"), "--out", str(tiny / "out"), "--resume", "--genomes", "14",
                     "--quiet"]) == 0
    assert [g["id"] for g in _log(tiny / "out")] == list(range(14))


@pytest.mark.parametrize(("change", "key"), [
    (("islands = 2", "islandz = 2"), "evolution.islandz"),
    (("islands = 2", "islands = 0"), "evolution.islands"),
    (("seed = 3", "seed = -1"), "evolution.seed"),
    (("mutation_rate = 1.0", "mutation_rate = 0"), "evolution"),
    (("outputs = \"a\"", "output = \"a\""), "data.output"),
    (("outputs = \"a\"", "outputs = \"zz\""), "data.outputs"),
    (("chunk = 30", "chunk = 0"), "data.chunk"),
    (("chunk = 30", "chunk = 3000"), "data.chunk"),
    (("test = [\"s3.csv\"]", "test = [\"missing.csv\"]"), "data.test"),
    (("train = [\"s0.csv\", \"s1.csv\"]", "train = []"), "data.train"),
    (("[data]", "[dat]"), "dat"),
    (("[data]", "[seed]\ngraf = \"g.json\"\n[data]"), "seed.graf"),
])
def test_bad_settings_exit_2_naming_the_key(tiny: Path, change: tuple[str, str], key: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert change[0] in TINY
    (tiny / "bad.toml").write_text(TINY.replace(change[0], change[1], 1))
    assert cli.main(["evolve", str(tiny / "bad.toml"), "--out", str(tiny / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"nervenet: invalid config ({tiny / 'bad.toml'}): {key}: "), err
    assert not (tiny / "out" / "genomes.jsonl").exists()


def test_a_bad_key_through_the_command_line_process(tiny: Path) -> None:
    (tiny / "bad.toml").write_text(TINY.replace("epochs = 1", "epoch = 1"))
    r = run_cli("evolve", "bad.toml", cwd=tiny)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "evolution.epoch: unknown key; did you mean 'epochs'?" in r.stderr


def test_command_line_mistakes_exit_2(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tiny / "out")
    config = str(tiny / "run.toml")
    assert cli.main(["evolve", config, "--out", out, "--resume", "-q"]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    assert cli.main(["evolve", config, "--out", out, "--genomes", "0", "-q"]) == 2
    assert "--genomes: genomes must be an integer >= 1, got 0" in capsys.readouterr().err
    assert cli.main(["evolve", config, "--out", out, "--genomes", "5", "--workers", "0", "-q"]) == 2
    assert "error: --workers: workers must be an integer >= 1, got 0" in capsys.readouterr().err
    assert cli.main(["evolve", config, "--out", out, "-q"]) == 0
    capsys.readouterr()
    assert cli.main(["evolve", config, "--out", out, "-q"]) == 2  # a run is there: --resume, or another folder
    assert "holds a run already: continue it with --resume" in capsys.readouterr().err
    # resuming with other settings than the run's is refused, naming them
    assert cli.main(["evolve", config, "--out", out, "--resume", "--epochs", "3", "-q"]) == 1
    assert "other settings (epochs)" in capsys.readouterr().err
    # resuming without CONFIG reads the run's settings from run.json
    run = json.loads((tiny / "out" / "run.json").read_text())
    run["settings"]["evolution"]["islandz"] = 2
    (tiny / "out" / "run.json").write_text(json.dumps(run))
    assert cli.main(["evolve", "--out", out, "--resume", "-q"]) == 2
    assert "run.json holds no readable settings (evolution.islandz: unknown key" in capsys.readouterr().err


def test_overrides_and_quiet(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tiny / "out"
    assert cli.main(["evolve", str(tiny / "run.toml"), "--out", str(out), "--genomes", "5", "--epochs", "2",
                     "--seed", "9", "--workers", "1", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # no progress bar
    assert not captured.out.startswith("data:") and "genomes: 5 (2 islands of 2, 2 epochs each)" in captured.out
    evolution = json.loads((out / "run.json").read_text())["settings"]["evolution"]
    assert (evolution["genomes"], evolution["epochs"], evolution["seed"], evolution["workers"]) == (5, 2, 9, 1)
    assert [g["epochs"] for g in _log(out)] == [2] * 5


def test_a_seed_graph_from_the_settings_is_the_first_genome(tiny: Path) -> None:
    g = nv.Graph()
    x = g.add_inputs(2)
    h = g.add_nodes(3, activation="tanh")
    y = g.add_outputs(1, "identity", bias=True)
    g.connect_all(x, h)
    g.connect_all(h, y)
    g.save(tiny / "seed.json")
    (tiny / "seeded.toml").write_text(TINY + '\n[seed]\ngraph = "seed.json"\n')
    assert cli.main(["evolve", str(tiny / "seeded.toml"), "--out", str(tiny / "out"), "-q"]) == 0
    first = _log(tiny / "out")[0]
    assert first["operator"] == "seed" and first["nodes"] == {"tanh": 3} and first["edges"] == {"forward": 9}


def test_the_coal_example_is_the_built_in_default() -> None:
    example, default = read_settings(EXAMPLES / "evolve_coal.toml"), default_settings()
    assert example.config == default.config == EvolutionConfig(epochs=5, mutations=2)  # EXAMM's published run
    assert example.data == default.data and example.seed_file is None


def test_the_built_in_default_reads_exactly_coal_task() -> None:
    mine, theirs = default_settings().task(), coal_task()
    for name in ("X", "Y", "X_val", "Y_val", "X_test", "Y_test", "mask", "mask_val", "mask_test"):
        a, b = getattr(mine, name), getattr(theirs, name)
        assert (a is None and b is None) or np.array_equal(a, b), name
    assert mine.input_names == theirs.input_names and mine.output_names == ("Main_Flm_Int",)


def test_the_ngafid_example_reads_the_c172_files() -> None:
    s = read_settings(EXAMPLES / "evolve_ngafid.toml")
    assert s.data["train"] == ["c172_file_1.csv", "c172_file_2.csv"] and s.data["test"] == []
    task = s.task()
    assert task.n_inputs == 31 and task.output_names == ("Pitch",) and task.X_test is None
    assert task.X.min() == 0.0 and task.X.max() == 1.0  # min-max scaled by the training files
    assert task.X.shape[:2] == (2, 5059) and task.mask is not None  # whole flights, the shorter one padded
    assert task.X_val.shape[:2] == (1, 4593)  # c172_file_3 whole: 4,594 rows, one step ahead


def test_settings_round_trip_through_run_json(tmp_path: Path) -> None:
    s = parse_settings(TINY + '\n[seed]\ngraph = "seed.json"\n', tmp_path)
    assert s.data["folder"] == str(tmp_path.resolve()) and s.seed_file == str((tmp_path / "seed.json").resolve())
    assert validate_settings(json.loads(json.dumps(s.to_dict()))) == s
    off = parse_settings(TINY.replace("seed = 3", "seed = 3\ngradient_boost = false\nextinction_every = false"))
    assert off.config.gradient_boost is None and off.config.extinction_every is None
    with pytest.raises(InvalidConfig, match="evolution.islands"):
        parse_settings(TINY.replace("islands = 2", "islands = false"))  # false only for keys that may be None
    data_root = parse_settings(TINY.replace("[data]", '[data]\nfolder = "data:timeseries/x"'))
    assert data_root.data["folder"] == "data:timeseries/x"
    assert data_root.folder() == nv.data.builtin.data_root() / "timeseries" / "x"
