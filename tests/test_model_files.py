"""A model file predicts on its own: the preprocessing, class labels and
config travel in it (``nervenet train`` -> ``Network.load(...).predict`` on
raw data, ``nervenet predict``), with clear messages for missing models,
folders and data whose feature counts differ."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sklearn.decomposition
import sklearn.pipeline
import sklearn.preprocessing

import nervenet as nv
from nervenet import cli, io

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
IRIS = DATA / "uci" / "iris" / "iris.data"

IRIS_CONFIG = f"""
[data]
dataset = "iris"
root = "{DATA.as_posix()}"
test_fraction = 0.2
seed = 0
[network]
hidden = [8]
[loss]
name = "softmax"
[optimizer]
name = "adam"
lr = 0.01
[training]
epochs = 25
batch_size = 16
"""


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """iris trained by `nervenet train` (a few epochs): its output folder."""
    folder = tmp_path_factory.mktemp("iris")
    (folder / "iris.toml").write_text(IRIS_CONFIG)
    assert cli.main(["train", str(folder / "iris.toml"), "--out", str(folder / "out"), "-q"]) == 0
    return folder / "out"


def _iris_test_rows() -> tuple[np.ndarray, np.ndarray]:
    """The raw iris rows `nervenet train` tested on, and their class names."""
    table = nv.data.load_iris(IRIS)
    _, _, test = nv.data.train_validation_test_indices(table.y, validation=0.0, test=0.2, stratify=table.y, seed=0)
    return table.X[test], np.asarray(table.classes)[table.y[test]]


# ---- issue 13, item 10: the CLI's model predicts in Python ----------------------------------


def test_cli_model_predicts_raw_iris_in_python_as_the_cli_reported(iris_run: Path) -> None:
    reported = json.loads((iris_run / "run.json").read_text())["test"]["accuracy"]
    assert reported > 0.8  # learnt something, so a wrong scaling would show
    net = nv.Network.load(iris_run / "model.safetensors")
    assert net.classes == ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    assert isinstance(net.preprocessing, nv.data.ColumnPreprocessor)
    X, names = _iris_test_rows()
    predicted = net.predict(X)  # raw centimetres in, class names out
    assert predicted.shape == (len(X),)
    assert np.mean(predicted == names) == pytest.approx(reported, abs=1e-12)
    # forward stays the raw pass: on unscaled inputs it predicts worse than predict does
    assert np.mean(np.asarray(net.classes)[net.forward(X).argmax(1)] == names) < reported
    proba = net.predict_proba(X)
    assert proba.shape == (len(X), 3) and np.allclose(proba.sum(1), 1)
    assert np.array_equal(np.asarray(net.classes)[proba.argmax(1)], predicted)


def test_cli_model_file_holds_config_and_format_3(iris_run: Path) -> None:
    saved = io.read(iris_run / "model.safetensors")
    assert saved.metadata["format_version"] == "3"
    assert saved.config is not None and saved.config["loss"]["name"] == "softmax"


def test_nervenet_predict_writes_labels_and_probabilities(iris_run: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    X, names = _iris_test_rows()
    full = tmp_path / "rows.csv"  # as iris.data: the features and the class column
    full.write_text("".join(",".join([*(f"{v:g}" for v in x), n]) + "\n" for x, n in zip(X, names)))
    features = tmp_path / "features.csv"  # the features alone
    features.write_text("".join(",".join(f"{v:g}" for v in x) + "\n" for x in X))
    net = nv.Network.load(iris_run / "model.safetensors")
    for data in (full, features):
        out = tmp_path / f"pred-{data.stem}.csv"
        assert cli.main(["predict", str(iris_run / "model.safetensors"), str(data), "--out", str(out)]) == 0
        assert f"wrote {len(X)} predictions to {out}" in capsys.readouterr().err
        rows = list(csv.reader(out.open()))
        assert rows[0] == ["prediction", *(f"probability_{c}" for c in net.classes)]
        assert [r[0] for r in rows[1:]] == net.predict(X).tolist()
        assert np.allclose(np.array([r[1:] for r in rows[1:]], dtype=float), net.predict_proba(X), atol=1e-5)
    # a built-in set's test split, to standard output
    assert cli.main(["predict", str(iris_run / "model.safetensors"), "iris"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + len(X) and [line.split(",")[0] for line in lines[1:]] == net.predict(X).tolist()


def test_nervenet_predict_values_of_a_regression_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (120, 3))
    np.savez(tmp_path / "data.npz", X=X, y=X[:, :1] * 2)
    (tmp_path / "c.toml").write_text(IRIS_CONFIG.replace('dataset = "iris"', 'train = "data.npz"')
                                     .replace(f'root = "{DATA.as_posix()}"\n', "").replace('"softmax"', '"mse"'))
    assert cli.main(["train", str(tmp_path / "c.toml"), "--out", str(tmp_path / "out"), "-q"]) == 0
    capsys.readouterr()
    net = nv.Network.load(tmp_path / "out" / "model.safetensors")
    assert net.classes is None
    assert cli.main(["predict", str(tmp_path / "out" / "model.safetensors"), str(tmp_path / "data.npz")]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[0] == ["output_0"]
    assert np.allclose(np.array(rows[1:], dtype=float), net.predict(X), atol=1e-6)
    np.savez(tmp_path / "inputs.npz", X=X)  # inputs alone: nothing to score, everything to predict
    assert cli.main(["predict", str(tmp_path / "out" / "model.safetensors"), str(tmp_path / "inputs.npz")]) == 0
    assert list(csv.reader(capsys.readouterr().out.splitlines())) == rows


def test_evaluate_on_data_with_other_features_says_the_counts_differ(iris_run: Path, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    model = str(iris_run / "model.safetensors")
    assert cli.main(["evaluate", model, "digits"]) == 1
    err = capsys.readouterr().err
    assert "the feature counts differ: digits has 64 feature columns, the model takes 4" in err
    assert "data.root" not in err and "invalid config" not in err
    (tmp_path / "three.csv").write_text("5.1,3.5,Iris-setosa\n4.9,3.0,Iris-setosa\n")
    for command in ("evaluate", "predict"):
        assert cli.main([command, model, str(tmp_path / "three.csv")]) == 1
        err = capsys.readouterr().err
        assert "the feature counts differ" in err and "2 feature columns (its 3 columns less the target" in err


def test_missing_model_says_the_model_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("evaluate", "predict"):
        assert cli.main([command, str(tmp_path / "nope.safetensors"), "iris"]) == 1
        err = capsys.readouterr().err
        assert f"no such model file: {tmp_path / 'nope.safetensors'}" in err and "run.json" not in err
        assert cli.main([command, str(tmp_path), "iris"]) == 1
        assert f"{tmp_path} is a folder, not a model file" in capsys.readouterr().err


# ---- a network trained in Python, with its preprocessing ------------------------------------


def _trained(X: np.ndarray, y: np.ndarray, n_classes: int) -> nv.Network:
    net = nv.Network(nv.mlp([X.shape[1], 6, n_classes]), seed=0)
    net.fit(X, y, loss="softmax", optimizer=nv.optim.Adam(0.02), epochs=20, verbose=0)
    return net


def test_python_network_saves_its_preprocessing_and_classes(tmp_path: Path) -> None:
    table = nv.data.load_iris(IRIS)
    scale = nv.data.Standardize().fit(table.X)
    net = _trained(scale.transform(table.X), table.y, 3)
    before = net.forward(scale.transform(table.X))
    net.preprocessing, net.classes = scale, table.classes
    net.save(tmp_path / "iris.safetensors")
    again = nv.Network.load(tmp_path / "iris.safetensors")
    assert isinstance(again.preprocessing, nv.data.Standardize) and again.classes == table.classes
    assert np.array_equal(again.predict(table.X), np.asarray(table.classes)[before.argmax(1)])
    assert np.mean(again.predict(table.X) == np.asarray(table.classes)[table.y]) > 0.8
    assert np.array_equal(again.forward(scale.transform(table.X)), before)  # forward: network-ready inputs
    # a 3-D batch of sequences gives one label per step
    assert again.predict(table.X[:6].reshape(2, 3, 4)).shape == (2, 3)


def _mixed() -> np.ndarray:
    return np.array([["a", 1.0], ["b", 2.0], ["a", 4.0], ["c", 0.5]], dtype=object)


X4 = np.random.default_rng(3).normal(size=(30, 4))
STORABLE: list[tuple[Any, np.ndarray]] = [
    (nv.data.Standardize(), X4),
    (nv.data.MeanSubtraction(), X4),
    (nv.data.MinMaxScale(feature_range=(-1, 1)), X4),
    (nv.data.PCA(3), X4),
    (nv.data.Whitening(n_components=3), X4),
    (nv.data.chain(nv.data.Standardize(), nv.data.PCA(2)), X4),
    (nv.data.OneHotEncoder(columns=[0]), _mixed()),
    (nv.data.ColumnPreprocessor(), np.array([["1.5", "red"], ["2.5", "blue"], ["0.5", "red"]])),
    (sklearn.preprocessing.StandardScaler(), X4),
    (sklearn.pipeline.make_pipeline(sklearn.preprocessing.MinMaxScaler(), sklearn.decomposition.PCA(2)), X4),
    (sklearn.preprocessing.OneHotEncoder(sparse_output=False), _mixed()[:, :1]),
]


@pytest.mark.parametrize("transform, X", STORABLE, ids=lambda v: type(v).__name__ if not isinstance(v, np.ndarray) else "")
def test_every_storable_transform_round_trips(tmp_path: Path, transform: Any, X: np.ndarray) -> None:
    if isinstance(transform, nv.data.ColumnPreprocessor):
        transform.fit(X, np.array(["x", "y", "x"]))
    else:
        transform.fit(X)
    width = np.asarray(transform.transform(X)).shape[1]
    net = nv.Network(nv.mlp([width, 2]), dtype="float64", seed=0)
    net.preprocessing = transform
    net.save(tmp_path / "m.safetensors")
    again = nv.Network.load(tmp_path / "m.safetensors")
    assert type(again.preprocessing) is type(transform)
    assert np.allclose(again.predict(X), net.predict(X), rtol=0, atol=1e-12)


def test_unstorable_preprocessing_and_bad_classes_are_refused() -> None:
    net = nv.Network(nv.mlp([2, 3]))
    with pytest.raises(nv.ConfigError, match="transform\\(X\\) method"):
        net.preprocessing = "standardize"
    with pytest.raises(nv.ConfigError, match="cannot store FunctionTransformer"):
        net.preprocessing = sklearn.preprocessing.FunctionTransformer(np.log1p).fit(np.ones((2, 2)))
    scale = nv.data.Standardize().fit(np.ones((3, 2)))
    scale.note_ = object()  # something a model file cannot hold
    with pytest.raises(nv.ConfigError, match=r"Standardize\.note_ is a object"):
        net.preprocessing = scale
    with pytest.raises(nv.ShapeError, match="classes has 2 labels but the network has 3 outputs"):
        net.classes = ["a", "b"]
    with pytest.raises(nv.ConfigError, match="lists 'a' twice"):
        net.classes = ["a", "b", "a"]
    with pytest.raises(nv.ConfigError, match="strings or integers"):
        net.classes = ["a", 1.5, "c"]
    for labels in (3, "abc", {"a": 0, "b": 1, "c": 2}):
        with pytest.raises(nv.ConfigError, match="a sequence of labels"):
            net.classes = labels
    net.classes = np.array([0, 1, 2])
    assert net.classes == [0, 1, 2] and net.predict(np.zeros((1, 2))).dtype.kind == "i"


def test_preprocessing_that_gives_the_wrong_width_names_both_counts() -> None:
    net = nv.Network(nv.mlp([3, 2]))
    net.preprocessing = nv.data.Standardize().fit(np.arange(8.0).reshape(4, 2))
    with pytest.raises(nv.ShapeError, match="makes 2 features of X, but the network takes 3 inputs"):
        net.predict(np.ones((1, 2)))
    net.preprocessing = sklearn.preprocessing.StandardScaler().fit(np.ones((4, 3)))
    with pytest.raises(nv.DataError, match="preprocessing \\(StandardScaler\\) cannot transform X"):
        net.predict(np.ones((1, 5)))


def test_plain_files_stay_version_2(tmp_path: Path) -> None:
    net = nv.Network(nv.mlp([2, 3]))
    net.save(tmp_path / "plain.safetensors")
    assert io.read(tmp_path / "plain.safetensors").metadata["format_version"] == "2"
    net.classes = ["a", "b", "c"]
    net.save(tmp_path / "labelled.safetensors")
    assert io.read(tmp_path / "labelled.safetensors").metadata["format_version"] == "3"


def _rewrite(path: Path, change: Any) -> None:
    """Rewrites a model file with ``change(metadata, tensors)`` applied and a fresh checksum."""
    from safetensors.numpy import load

    saved = io.read(path)
    tensors = load(path.read_bytes())
    metadata = dict(saved.metadata)
    change(metadata, tensors)
    path.write_bytes(io.encode(tensors, metadata))


@pytest.mark.parametrize("change, message", [
    (lambda m, t: m.update(model='{"classes": ["a"], "extra": 1}'), "'classes' and/or 'preprocessing'"),
    (lambda m, t: m.update(model='{"preprocessing": {"transform": "os.system", "state": {}}}'),
     "not a storable transform"),
    (lambda m, t: m.update(model=m["model"].replace('"mean_"', '"__class__"')), "not a plain name"),
    (lambda m, t: m.update(model=m["model"].replace('{"array": "0"}', '{"array": "99"}', 1)), "unreadable entry"),
    (lambda m, t: m.update(model=m["model"].replace('"n_features_in_": 2', '"n_features_in_": '
                                                    '{"scalar": 2, "dtype": "object"}', 1)), "unknown dtype 'object'"),
    (lambda m, t: m.update(format_version="2"), "need format_version 3"),
    (lambda m, t: [m.update(model='{"classes": ["a", "b"]}')] + [t.pop(k) for k in list(t) if "/" in k and
                                                                  k.startswith("preprocessing")], "classes do not fit"),
    (lambda m, t: m.update(model='{"classes": ["a", "b", "c"]}'), "preprocessing tensors without a stored"),
    (lambda m, t: [m.update(model='{"classes": {"a": 1}}')] + [t.pop(k) for k in list(t) if "/" in k and
                                                              k.startswith("preprocessing")], "not a JSON list"),
])
def test_bad_model_entries_are_format_errors(tmp_path: Path, change: Any, message: str) -> None:
    net = nv.Network(nv.mlp([2, 3]))
    net.preprocessing, net.classes = nv.data.Standardize().fit(np.arange(6.0).reshape(3, 2)), ["a", "b", "c"]
    path = tmp_path / "m.safetensors"
    net.save(path)
    _rewrite(path, change)
    with pytest.raises(nv.FormatError, match=message):
        nv.Network.load(path)


# ---- issue 13, item 7: missing paths, folders and the path a save names ----------------------


def test_missing_model_or_folder_is_a_missing_file_error(tmp_path: Path) -> None:
    assert nv.DataFileNotFoundError is nv.MissingFileError
    assert issubclass(nv.MissingFileError, FileNotFoundError) and issubclass(nv.MissingFileError, nv.NervenetError)
    with pytest.raises(nv.MissingFileError, match="no such model file: .*nothing.safetensors"):
        nv.Network.load(tmp_path / "nothing.safetensors")
    with pytest.raises(nv.MissingFileError, match="is a folder, not a model file"):
        nv.Network.load(tmp_path)
    with pytest.raises(nv.MissingFileError, match="is a folder, not a graph file"):
        nv.Graph.load(tmp_path)
    with pytest.raises(nv.FormatError, match="/dev/null is not a regular file"):
        nv.Network.load("/dev/null")
    net = nv.Network(nv.mlp([2, 1]))
    X, Y = np.zeros((4, 2)), np.zeros((4, 1))
    for where, message in ((tmp_path / "none.safetensors", "no such model file"), (tmp_path, "is a folder")):
        with pytest.raises(nv.MissingFileError, match=message):
            net.fit(X, Y, epochs=1, verbose=0, resume=where)


def test_save_names_the_path_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    net = nv.Network(nv.mlp([2, 1]))
    with pytest.raises(nv.MissingFileError) as e:
        net.save("/proc/nope/x.safetensors")
    assert "cannot write /proc/nope/x.safetensors: no such folder /proc/nope" in str(e.value)
    assert ".tmp" not in str(e.value)
    (tmp_path / "taken").mkdir()
    with pytest.raises(nv.MissingFileError, match="cannot write .*taken: it is a folder"):
        net.save(tmp_path / "taken")
    import os

    def refuse(path: Any, *args: Any) -> int:  # as a read-only folder would
        raise PermissionError(13, "Permission denied", os.fspath(path))

    monkeypatch.setattr(io.os, "open", refuse)
    with pytest.raises(PermissionError) as p:
        net.save(tmp_path / "m.safetensors")
    assert p.value.filename == str(tmp_path / "m.safetensors") and ".tmp" not in str(p.value)


# ---- issue 13, item 9: checkpoint path templates ---------------------------------------------


@pytest.mark.parametrize("template, message", [
    ("c{epoch:>999999999999}", "format spec '>999999999999'"),
    ("{epoch.__class__.__name__}.safetensors", r"unknown field \{epoch.__class__.__name__\}"),
    ("{epoch[0]}", "unknown field"),
    ("{epoch!r}", "conversion !r"),
    ("{}", "unknown field"),
    ("{step}", "unknown field"),
    ("{epoch:/>4}", "format spec"),
    ("{epoch:{loss}}", "format spec"),
    ("run-{epoch", "expected '}'"),
])
def test_checkpoint_templates_take_only_the_documented_fields(template: str, message: str) -> None:
    with pytest.raises(nv.ConfigError, match=message) as e:
        nv.callbacks.ModelCheckpoint(template)
    assert repr(template) in str(e.value)


def test_checkpoint_template_fields_are_filled(tmp_path: Path) -> None:
    cb = nv.callbacks.ModelCheckpoint(tmp_path / "r-{epoch:03d}-{loss:.2f}-{{x}}.safetensors")
    X = np.random.default_rng(0).normal(size=(8, 2))
    nv.Network(nv.mlp([2, 1])).fit(X, X[:, :1], epochs=1, verbose=0, callbacks=[cb])
    assert len(cb.saved) == 1 and cb.saved[0].name.startswith("r-001-") and cb.saved[0].name.endswith("-{x}.safetensors")


@pytest.mark.parametrize("path", ["../escaped-{epoch}.safetensors", "../../escaped.safetensors", "ABSOLUTE"])
def test_cli_checkpoints_stay_inside_out(tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str) -> None:
    path = path.replace("ABSOLUTE", (tmp_path / "abs-{epoch}.safetensors").as_posix())
    config = IRIS_CONFIG.replace("epochs = 25", "epochs = 1") + f'[callbacks.checkpoint]\npath = "{path}"\n'
    (tmp_path / "c.toml").write_text(config)
    out = tmp_path / "run" / "out"
    assert cli.main(["train", str(tmp_path / "c.toml"), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "callbacks.checkpoint.path" in err and "outside the output folder" in err
    assert "--checkpoint-outside-out" in err
    assert sorted(p.name for p in tmp_path.rglob("*.safetensors")) == []
    # told otherwise, the checkpoint goes where the path says
    assert cli.main(["train", str(tmp_path / "c.toml"), "--out", str(out), "-q", "--checkpoint-outside-out"]) == 0
    written = (out / path.replace("{epoch}", "1")).resolve()
    assert written.is_file() and out.resolve() not in written.parents


def test_cli_checkpoints_in_a_sub_folder_of_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = IRIS_CONFIG.replace("epochs = 25", "epochs = 2") + '[callbacks.checkpoint]\npath = "ckpt/e{epoch:02d}.st"\n'
    (tmp_path / "c.toml").write_text(config)
    assert cli.main(["train", str(tmp_path / "c.toml"), "--out", str(tmp_path / "out"), "-q"]) == 0
    assert sorted(p.name for p in (tmp_path / "out" / "ckpt").iterdir()) == ["e01.st", "e02.st"]


def test_cli_config_with_a_bad_template_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "c.toml").write_text(IRIS_CONFIG + '[callbacks.checkpoint]\npath = "c{epoch.real}.safetensors"\n')
    assert cli.main(["train", str(tmp_path / "c.toml"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "callbacks.checkpoint.path" in err and "unknown field {epoch.real}" in err


# ---- issue 13, item 16: python -m nervenet is the command ------------------------------------


def _python_m(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nervenet", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_python_m_nervenet_runs_the_cli_and_version(tmp_path: Path) -> None:
    r = _python_m("train", "--help", cwd=tmp_path)
    assert r.returncode == 0 and "--epochs" in r.stdout and "--checkpoint-outside-out" in r.stdout
    r = _python_m("--version", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == f"nervenet {nv.__version__}"
    r = _python_m(cwd=tmp_path)
    assert r.returncode == 2 and "predict" in r.stderr and "demo" in r.stderr


def test_mutated_preprocessing_trees_decode_or_fail_cleanly() -> None:
    """Random edits of a stored chain's JSON tree: decode returns a transform
    or raises the caller's error, never anything else."""
    from nervenet.data import stored

    class Refused(Exception):
        pass

    transform = nv.data.chain(nv.data.Standardize(), nv.data.OneHotEncoder(columns=[0])).fit(_mixed()[:, 1:].astype(float))
    tree, arrays = stored.encode(transform)
    text = json.dumps(tree)
    rng = np.random.default_rng(0)
    junk = ['null', '1', '-1', '1e308', '"x"', '[]', '{}', '{"array": "0"}', '{"type": "float64"}', '{"dtype": "U9"}',
            '{"scalar": "x", "dtype": "int64"}', '{"strings": [1], "shape": [1]}', '{"objects": [], "shape": [2]}',
            '{"transform": "nervenet.data.PCA", "state": []}', '{"list": {}}', '{"float": "nanx"}']
    outcomes = {"decoded": 0, "refused": 0}
    for _ in range(600):
        tokens = re.split(r'(\{"array": "\d+"\}|true|false|"[^"]*"|-?\d+\.?\d*(?:e-?\d+)?)', text)
        i = int(rng.integers(1, len(tokens), 1)[0]) | 1  # an odd index: a value token
        tokens[min(i, len(tokens) - 2)] = junk[int(rng.integers(len(junk)))]
        try:
            mutated = json.loads("".join(tokens))
        except ValueError:
            continue
        try:
            stored.decode(mutated, arrays, Refused)
            outcomes["decoded"] += 1
        except Refused:
            outcomes["refused"] += 1
    assert outcomes["decoded"] > 0 and outcomes["refused"] > 0, outcomes
