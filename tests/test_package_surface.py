"""What a new user meets first (issue 13, item 16): ``import nervenet``
does not import scikit-learn or matplotlib (most of a second), the package
namespace has no stray names, and objects print as one short line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import nervenet as nv

ROOT = Path(__file__).resolve().parents[1]
# the folder holding the nervenet these tests import (the source tree, or site-packages where installed)
PACKAGE_PARENT = str(Path(nv.__file__).resolve().parents[1])
DATA = ROOT.parents[0] / "shared" / "data"


def _fresh(code: str) -> str:
    """Runs ``code`` in a new interpreter, returns its stdout."""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                       env={**os.environ, "PYTHONPATH": PACKAGE_PARENT})
    return r.stdout


def test_import_does_not_import_sklearn_or_matplotlib() -> None:
    """The import is fast because these are imported on first use (a
    module check, not a timed assertion)."""
    loaded = json.loads(_fresh(
        "import sys, json, nervenet as nv; nv.data; nv.Network(nv.mlp([2, 1])); "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    ))
    assert "nervenet" in loaded
    assert not {"sklearn", "matplotlib", "scipy", "tqdm"} & set(loaded)


def test_lazy_names_arrive_on_first_use() -> None:
    out = _fresh(
        "import sys, nervenet as nv, sklearn.exceptions as sk; "
        "print(issubclass(nv.NotFittedError, sk.NotFittedError), nv.NotFittedError is nv.data.NotFittedError, "
        "nv.data.Standardize.__module__, 'sklearn.base' in sys.modules)"
    )
    assert out.split() == ["True", "True", "nervenet.data.preprocessing", "True"]


def test_not_fitted_error_is_caught_as_scikit_learns() -> None:
    import sklearn.exceptions

    try:
        nv.data.Standardize().transform(np.ones((2, 2)))
    except sklearn.exceptions.NotFittedError as e:
        assert type(e) is nv.NotFittedError and isinstance(e, nv.NervenetError)
    else:
        raise AssertionError("no NotFittedError")


def test_dir_has_no_stray_names_and_lists_the_lazy_ones() -> None:
    names = dir(nv)
    assert "annotations" not in names
    assert {"NotFittedError", "Network", "Graph", "data", "NervenetWarning"} <= set(names)
    assert {"Standardize", "OneHotEncoder", "NotFittedError", "load_mnist"} <= set(dir(nv.data))
    assert "annotations" not in dir(nv.data)


def test_unknown_attributes_are_attribute_errors() -> None:
    for module, name in ((nv, "Standardise"), (nv.data, "Standardise"), (nv.errors, "Nope")):
        try:
            getattr(module, name)
        except AttributeError as e:
            assert name in str(e)
        else:
            raise AssertionError(name)


def test_table_repr_is_one_short_line() -> None:
    iris = nv.data.load_iris(DATA / "uci" / "iris" / "iris.data")
    assert repr(iris) == ("Table(X=(150, 4), y=(150,), classes=['Iris-setosa', 'Iris-versicolor', 'Iris-virginica'], "
                          "columns=['sepal_length', 'sepal_width', 'petal_length', 'petal_width'])")
    mushroom = nv.data.load_mushroom(DATA / "uci" / "mushroom" / "agaricus-lepiota.data")
    text = repr(mushroom)
    assert text.startswith("Table(X=(8124, 126), y=(8124,), classes=['e', 'p'], columns=['cap-shape', ")
    assert text.endswith(", ... (+18)])") and len(text) < 160
