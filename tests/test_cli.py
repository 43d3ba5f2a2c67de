"""The `nervenet` command and its TOML configs: the built-in digits example,
examples/digits.toml, CSV and NPZ data, `evaluate`, and invalid configs
(exit status 2, a message naming the bad key, no traceback)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nervenet as nv
from nervenet import cli
from nervenet.data import load_digits
from nervenet.config import DEFAULT_CONFIG, load_config, parse_config, validate
from nervenet.errors import InvalidConfig

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "digits.toml"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nervenet.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def _accuracy(text: str, prefix: str = "test") -> float:
    m = re.search(rf"^{re.escape(prefix)}: loss [0-9.]+  accuracy ([0-9.]+)", text, re.M)
    assert m, text
    return float(m.group(1))


def test_train_without_config_runs_the_digits_example_then_evaluate(tmp_path: Path) -> None:
    r = run_cli("train", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    epochs = [line for line in r.stdout.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 20 and epochs[-1].startswith("epoch 20/20") and "val_accuracy" in epochs[-1]
    accuracy = _accuracy(r.stdout)
    assert accuracy >= 0.95
    out = tmp_path / "nervenet-out"  # the default --out
    history = json.loads((out / "history.json").read_text())
    assert history["epochs"] == list(range(20)) and len(history["values"]["val_loss"]) == 20
    assert (out / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run = json.loads((out / "run.json").read_text())
    assert run["test"]["accuracy"] == pytest.approx(accuracy, abs=5e-5) and run["epochs"] == 20
    net = nv.Network.load(out / "model.safetensors")
    assert (net.n_inputs, net.n_outputs) == (64, 10)

    r = run_cli("evaluate", str(out / "model.safetensors"), "digits", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert _accuracy(r.stdout, "digits") == accuracy


def test_example_config_with_epoch_override_and_quiet(tmp_path: Path) -> None:
    r = run_cli("train", str(EXAMPLE), "--epochs", "2", "--out", "run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    epochs = [line for line in r.stdout.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 2 and epochs[1].startswith("epoch 2/2") and " lr 0.003 " in epochs[1]
    assert (tmp_path / "run" / "model.safetensors").is_file()
    r = run_cli("train", str(EXAMPLE), "--epochs", "1", "--out", "quiet", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("test: loss") and "epoch" not in r.stdout


def test_invalid_config_exits_2_naming_the_key_without_traceback(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("lr = 0.003", 'lr = "fast"')
    (tmp_path / "bad.toml").write_text(text)
    r = run_cli("train", "bad.toml", cwd=tmp_path)
    assert r.returncode == 2
    assert "optimizer.lr" in r.stderr and "Traceback" not in r.stderr and r.stdout == ""
    assert not (tmp_path / "nervenet-out").exists()


def test_console_script_is_installed() -> None:
    exe = shutil.which("nervenet") or str(Path(sys.executable).with_name("nervenet"))
    r = subprocess.run([exe, "train", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--epochs" in r.stdout


# ---- configs, in process -----------------------------------------------------------

MINIMAL = """
[data]
dataset = "digits"
[network]
hidden = [16]
[loss]
name = "softmax"
[optimizer]
name = "adam"
lr = 0.01
"""


@pytest.mark.parametrize(
    "edit, key, words",
    [
        (("lr = 0.01", "lr = -1"), "optimizer.lr", "must be a positive number, got -1"),
        (("lr = 0.01", "lr = 0.01\nlrate = 2"), "optimizer.lrate", "unknown key"),
        (("lr = 0.01", "lr = 0.01\nmu = 0.9"), "optimizer.mu", "unknown key for optimizer 'adam'"),
        (("lr = 0.01", ""), "optimizer.lr", "required key is missing"),
        (('name = "adam"', 'name = "adamw"'), "optimizer.name", "not one of"),
        (('[loss]\nname = "softmax"', ""), "loss", "required key is missing"),
        (('name = "softmax"', 'name = "softmax"\nreduction = "avg"'), "loss.reduction", "not one of"),
        (('name = "softmax"', 'name = "cross_entropy"'), "loss.name", "not one of"),
        (("hidden = [16]", "hidden = 16"), "network.hidden", "expected an array of integers >= 1"),
        (("hidden = [16]", "hidden = [16, 0]"), "network.hidden", "integers >= 1"),
        (("hidden = [16]", ""), "network.layers", "exactly one of"),
        (("hidden = [16]", 'hidden = [16]\nactivation = "tanhh"'), "network.activation", "unknown activation"),
        (("hidden = [16]", 'hidden = [16]\ndtype = "float16"'), "network.dtype", "not one of"),
        (("hidden = [16]", "hidden = [16]\nlayer = [3]"), "network.layer", "did you mean 'layers'"),
        (('dataset = "digits"', 'dataset = "cifar"'), "data.dataset", "not one of"),
        (('dataset = "digits"', ""), "data.dataset", "required key is missing"),
        (('dataset = "digits"', 'dataset = "digits"\ntest_fraction = 1.5'), "data.test_fraction", "[0, 1)"),
        (('dataset = "digits"', 'dataset = "digits"\nvalidation_fraction = 0.9'), "data.validation_fraction",
         "no training data"),
        (('dataset = "digits"', 'dataset = "digits"\ntrain = "x.csv"'), "data.train", "cannot be used with"),
        (("[optimizer]", "[training]\nepochs = 2.5\n[optimizer]"), "training.epochs", "integer >= 0"),
        (("[optimizer]", "[training]\nbatch_size = true\n[optimizer]"), "training.batch_size", "a boolean"),
        (("[optimizer]", "[training]\nclip_deltas = [1]\n[optimizer]"), "training.clip_deltas", "two numbers"),
        (("[optimizer]", "[training]\nepoch = 2\n[optimizer]"), "training.epoch", "did you mean 'epochs'"),
        (("[optimizer]", "[trainig]\nepochs = 2\n[optimizer]"), "trainig", "did you mean 'training'"),
        (("[optimizer]", '[schedule]\nname = "step"\nevery = 2\n[optimizer]'), "schedule.factor", "missing"),
        (("[optimizer]", '[schedule]\nname = "step"\nevery = 0\nfactor = 0.5\n[optimizer]'), "schedule.every", "must be at least 1 epoch, got 0"),
        (("lr = 0.01", "lr = 0.01\nbeta1 = 1.5"), "optimizer.beta1", "[0, 1)"),
        # values the core checks, under the file's keys
        (("[optimizer]", "[training]\nl1 = -1\n[optimizer]"), "training.l1", "must be a finite number >= 0, got -1"),
        (("[optimizer]", "[training]\ndropout = 1.5\n[optimizer]"), "training.dropout", "must be in [0, 1), got 1.5"),
        (("[optimizer]", "[training]\ngradient_scale = -1\n[optimizer]"), "training.gradient_scale",
         "must be a positive number, got -1"),
        (("[optimizer]", '[training]\non_non_finite = "retry"\n[optimizer]'), "training.on_non_finite",
         "unknown variant `retry`"),
        (('name = "adam"', 'name = "momentum"\nmu = 1.5'), "optimizer.mu", "must satisfy 0 <= mu < 1"),
        (("[optimizer]", "[callbacks.early_stopping]\npatience = 2\n[optimizer]"),
         "callbacks.early_stopping.monitor", "no validation set"),
        (("[optimizer]", "[callbacks.early_stoping]\n[optimizer]"), "callbacks.early_stoping", "early_stopping"),
        (("[optimizer]", "[training.momentum_annealing]\nstart = 0.5\nend = 0.9\nepochs = 3\n[optimizer]"),
         "training.momentum_annealing", "momentum"),
        (("[network]", "[network\n"), "", "invalid TOML"),
    ],
)
def test_invalid_configs_name_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: tuple[str, str],
                                      key: str, words: str) -> None:
    old, new = edit
    assert old in MINIMAL
    (tmp_path / "c.toml").write_text(MINIMAL.replace(old, new, 1))
    with pytest.raises(InvalidConfig) as info:
        load_config(tmp_path / "c.toml")
    assert info.value.key == key and words in str(info.value)
    assert cli.main(["train", str(tmp_path / "c.toml"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{key}: " in err and "c.toml" in err
    assert not (tmp_path / "out").exists()


def test_data_mismatches_name_the_network_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for layers, words in (("[63, 16, 10]", "data has 64 features"), ("[64, 16, 3]", "data has 10 classes")):
        (tmp_path / "c.toml").write_text(MINIMAL.replace("hidden = [16]", f"layers = {layers}"))
        assert cli.main(["train", str(tmp_path / "c.toml"), "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert "network.layers: " in err and words in err
    (tmp_path / "c.toml").write_text(MINIMAL.replace('dataset = "digits"', 'train = "missing.csv"'))
    assert cli.main(["train", str(tmp_path / "c.toml")]) == 2
    assert "data.train: no such data file" in capsys.readouterr().err


def test_builtin_mushroom_has_the_notes_126_inputs() -> None:
    data = Path(__file__).resolve().parents[2] / "shared" / "data"
    cfg = parse_config(MINIMAL.replace('dataset = "digits"', f'dataset = "mushroom"\nroot = "{data}"'))
    splits = cfg.load_data()
    assert splits.train[0].shape[1] == 126 and splits.preprocessor.n_classes == 2
    assert len(splits.train[0]) + len(splits.test[0]) == 8124


def test_default_and_example_configs_are_valid_and_round_trip() -> None:
    for cfg in (parse_config(DEFAULT_CONFIG), load_config(EXAMPLE)):
        again = validate(json.loads(json.dumps(cfg.to_dict())))
        assert again == cfg
    cfg = load_config(EXAMPLE)
    kw = cfg.fit_kwargs()
    assert kw["optimizer"] == nv.optim.Adam(0.003, beta1=0.9, beta2=0.999)
    assert kw["schedule"] == nv.optim.StepDecay(every=10, factor=0.5)
    assert [type(c).__name__ for c in kw["callbacks"]] == ["EarlyStopping"]
    short = MINIMAL.replace('[loss]\nname = "softmax"\n', "").replace("[data]", 'loss = "mse"\n[data]')
    assert parse_config(short).loss == {"name": "mse", "reduction": "mean"}


def _write_csv(path: Path, X: np.ndarray, labels: list[str]) -> None:
    lines = [",".join([f"p{j}" for j in range(X.shape[1])] + ["label"])]
    lines += [",".join([f"{v:g}" for v in row] + [lab]) for row, lab in zip(X, labels)]
    path.write_text("\n".join(lines) + "\n")


def test_csv_data_with_text_labels_and_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = load_digits()
    names = [f"digit-{c}" for c in d.y]
    _write_csv(tmp_path / "train.csv", d.X[:1400], names[:1400])
    _write_csv(tmp_path / "test.csv", d.X[1400:], names[1400:])
    (tmp_path / "c.toml").write_text(
        MINIMAL.replace('dataset = "digits"', 'train = "train.csv"\ntest = "test.csv"\ntarget = "label"\nheader = true')
        + "[training]\nepochs = 8\n"
    )
    out = tmp_path / "out"
    assert cli.main(["train", str(tmp_path / "c.toml"), "--out", str(out), "--quiet"]) == 0
    accuracy = _accuracy(capsys.readouterr().out)
    assert accuracy >= 0.9
    run = json.loads((out / "run.json").read_text())
    assert run["preprocessing"]["classes"] == sorted({f"digit-{c}" for c in range(10)})
    # the model file alone (it holds config and preprocessing), or with --config: the same result
    (out / "run.json").unlink()
    for extra in ([], ["--config", str(tmp_path / "c.toml")]):
        assert cli.main(["evaluate", str(out / "model.safetensors"), str(tmp_path / "test.csv"), *extra]) == 0
        assert _accuracy(capsys.readouterr().out, str(tmp_path / "test.csv")) == accuracy
    # a model as earlier versions wrote it (no config, no preprocessing): the config's preprocessing, refitted
    old = nv.Network.load(out / "model.safetensors")
    old.preprocessing = old.classes = None
    old.save(out / "old.safetensors")
    assert cli.main(["evaluate", str(out / "old.safetensors"), str(tmp_path / "test.csv"),
                     "--config", str(tmp_path / "c.toml")]) == 0
    assert _accuracy(capsys.readouterr().out, str(tmp_path / "test.csv")) == accuracy
    assert cli.main(["evaluate", str(out / "old.safetensors"), str(tmp_path / "test.csv")]) == 2  # no run.json
    assert "--config" in capsys.readouterr().err
    assert cli.main(["predict", str(out / "old.safetensors"), str(tmp_path / "test.csv"),
                     "--config", str(tmp_path / "c.toml")]) == 0  # the labels of the refitted preprocessing
    labels = [line.split(",")[0] for line in capsys.readouterr().out.splitlines()]
    assert labels[0] == "prediction" and set(labels[1:]) <= {f"digit-{c}" for c in range(10)}


def test_column_preprocessing_round_trips_through_json() -> None:
    X = np.array([["1.5", "red"], ["2.5", "blue"], ["3.5", "red"]])
    fitted = nv.data.ColumnPreprocessor().fit(X, np.array(["a", "b", "a"]))
    again = nv.data.ColumnPreprocessor.from_dict(json.loads(json.dumps(fitted.to_dict())))
    s = np.sqrt(2 / 3)  # the numeric column's standard deviation
    assert np.allclose(again.features(X), [[-1 / s, 0, 1], [0, 1, 0], [1 / s, 0, 1]])
    assert again.targets(np.array(["b", "a"])).tolist() == [1, 0]
    with pytest.raises(nv.DataError, match="column 1 has category 'green'"):
        again.features(np.array([["1", "green"]]))


def test_npz_data_and_a_value_loss(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (400, 3))
    y = np.stack([X[:, 0] * X[:, 1], np.sin(2 * X[:, 2])], axis=1)
    np.savez(tmp_path / "data.npz", X=X, y=y)
    (tmp_path / "c.toml").write_text(
        MINIMAL.replace('dataset = "digits"', 'train = "data.npz"\nvalidation_fraction = 0.1')
        .replace('name = "softmax"', 'name = "mse"') + "[training]\nepochs = 60\n"
    )
    assert cli.main(["train", str(tmp_path / "c.toml"), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    m = re.search(r"^test: loss ([0-9.]+)  mse ([0-9.]+)", out, re.M)
    assert m and float(m.group(2)) < 0.02, out
    assert "val_mse" in out


def test_checkpoints_dropout_and_a_bad_run_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "c.toml").write_text(
        MINIMAL + '[training]\nepochs = 2\ndropout = 0.1\n[callbacks.checkpoint]\npath = "ckpt-{epoch}.safetensors"\n'
    )
    out = tmp_path / "out"
    assert cli.main(["train", str(tmp_path / "c.toml"), "--out", str(out), "-q"]) == 0
    assert _accuracy(capsys.readouterr().out) > 0.5
    assert sorted(p.name for p in out.glob("ckpt-*")) == ["ckpt-1.safetensors", "ckpt-2.safetensors"]
    assert nv.Network.load(out / "ckpt-2.safetensors").n_params == nv.Network.load(out / "model.safetensors").n_params
    old = nv.Network.load(out / "model.safetensors")  # as earlier versions wrote it: config only in run.json
    old.preprocessing = old.classes = None
    old.save(out / "old.safetensors")
    assert cli.main(["evaluate", str(out / "old.safetensors"), "digits"]) == 0
    assert _accuracy(capsys.readouterr().out, "digits") > 0.5
    (out / "run.json").write_text("{not json")
    assert cli.main(["evaluate", str(out / "old.safetensors"), "digits"]) == 2
    assert "--config" in capsys.readouterr().err
    assert cli.main(["evaluate", str(out / "old.safetensors"), "digits", "--config", str(tmp_path / "c.toml")]) == 0
    assert _accuracy(capsys.readouterr().out, "digits") > 0.5
