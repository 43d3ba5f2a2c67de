"""Issue 13, item 13: nervenet's preprocessing classes claim scikit-learn
compatibility, so scikit-learn's own estimator checks run on every
transform that nervenet.data exports, and the cases the checks do not
cover (mixed object columns in a ColumnTransformer, NaN and Inf among
categories, unseen categories in cross-validation, sparse input) are
tested here."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder as SkOneHotEncoder
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import estimator_checks_generator

import nervenet as nv
from nervenet.data import preprocessing


def _transform_classes() -> list[type]:
    """Every class preprocessing exports with fit and transform (the Chain
    pipeline is checked as an instance of chain(...) below)."""
    out = []
    for name in preprocessing.__all__:
        obj = getattr(preprocessing, name)
        if inspect.isclass(obj) and hasattr(obj, "fit") and hasattr(obj, "transform") and obj is not preprocessing.Chain:
            out.append(obj)
    return out


TRANSFORMS = [cls() for cls in _transform_classes()] + [
    nv.data.OneHotEncoder(handle_unknown="ignore"),
    nv.data.chain(nv.data.Standardize(), nv.data.PCA()),
]

def _expected_failures(estimator: object) -> dict[str, str]:
    """Checks an estimator may fail, by scikit-learn's own mechanism, each
    with its reason: only those scikit-learn declares for its own Pipeline,
    which Chain is."""
    if isinstance(estimator, preprocessing.Chain):
        reason = "Pipeline changes the `steps` parameter (scikit-learn expects this failure of its own Pipeline)"
        return {"check_dont_overwrite_parameters": reason, "check_estimators_overwrite_params": reason}
    return {}


def _check_name(check) -> str:
    return getattr(check, "func", check).__name__


# The array API check needs SCIPY_ARRAY_API=1 before scipy is imported, so it
# runs in a subprocess of its own (in process, scikit-learn would skip it).
_ARRAY_API = "check_array_api_input"


def _params() -> list:
    out = []
    for estimator in TRANSFORMS:
        for item in estimator_checks_generator(
            estimator, expected_failed_checks=_expected_failures(estimator), mark="xfail", xfail_strict=True
        ):
            # an expected failure comes as pytest.param(est, check, marks=xfail)
            (est, check), marks = (item.values, item.marks) if hasattr(item, "marks") else (item, ())
            if _check_name(check) != _ARRAY_API:
                out.append(pytest.param(est, check, marks=marks, id=f"{est!r}-{_check_name(check)}"))
    return out


def test_every_exported_transform_is_checked() -> None:
    names = {type(t).__name__ for t in TRANSFORMS}
    assert {"Standardize", "MeanSubtraction", "MinMaxScale", "PCA", "Whitening", "OneHotEncoder", "Chain"} <= names
    assert len(_params()) > 40 * len(TRANSFORMS)


@pytest.mark.parametrize("estimator, check", _params())
def test_sklearn_estimator_checks(estimator: object, check) -> None:
    check(estimator)


def test_sklearn_array_api_checks_in_a_subprocess() -> None:
    script = f"""
import sys
sys.path[:0] = {[str(Path(preprocessing.__file__).parents[2]), str(Path(__file__).parent)]!r}
from sklearn.utils.estimator_checks import estimator_checks_generator
import test_sklearn_checks as t
ran = 0
for estimator in t.TRANSFORMS:
    for est, check in estimator_checks_generator(estimator):
        if t._check_name(check) == t._ARRAY_API:
            check(est)
            ran += 1
print("ran", ran)
"""
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"ran {len(TRANSFORMS)}" in r.stdout


# ---- what the checks do not cover ---------------------------------------------


def test_column_transformer_with_mixed_object_columns_works_like_standard_scaler() -> None:
    rng = np.random.default_rng(0)
    X = np.empty((30, 2), dtype=object)
    X[:, 0] = rng.choice(["red", "green", "blue"], size=30)
    X[:, 1] = rng.normal(5.0, 2.0, size=30)
    ours = ColumnTransformer([("oh", nv.data.OneHotEncoder(), [0]), ("sc", nv.data.Standardize(), [1])])
    theirs = ColumnTransformer([("oh", SkOneHotEncoder(sparse_output=False), [0]), ("sc", StandardScaler(), [1])])
    np.testing.assert_allclose(ours.fit_transform(X), theirs.fit_transform(X), rtol=1e-12)


def test_numbers_in_object_arrays_are_numbers() -> None:
    X = np.array([[1, 2.5], [3, 4.0], [5, 9.5]], dtype=object)
    for cls in _transform_classes():
        if cls is nv.data.OneHotEncoder:
            continue
        np.testing.assert_allclose(cls().fit_transform(X), cls().fit_transform(X.astype(np.float64)), err_msg=cls.__name__)
    with pytest.raises(nv.DTypeError, match="not a number"):
        nv.data.Standardize().fit(np.array([[1, "a"]], dtype=object))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_one_hot_encoder_rejects_nan_and_inf_with_their_index(bad: float) -> None:
    X = np.array([["a", 1.0], ["b", 2.0], ["a", 3.0]], dtype=object)
    X[2, 0] = bad
    enc = nv.data.OneHotEncoder()
    with pytest.raises(nv.DataError, match=r"OneHotEncoder\.fit.*index \[2, 0\]"):
        enc.fit(X)
    floats = np.array([[1.0], [2.0], [bad]])
    with pytest.raises(nv.DataError, match=r"index \[2, 0\]"):
        nv.data.OneHotEncoder().fit(floats)
    enc.fit(np.array([["a"], ["b"]], dtype=object))
    with pytest.raises(nv.DataError, match=r"OneHotEncoder\.transform.*index \[1, 0\]"):
        enc.transform(np.array([["a"], [bad]], dtype=object))


def test_handle_unknown_ignore_survives_cross_validation_with_a_rare_category() -> None:
    rng = np.random.default_rng(1)
    colours = rng.choice(["red", "green", "blue"], size=40).astype(object)
    colours[7] = "violet"  # in one fold only: unseen by the model trained without it
    X = colours.reshape(-1, 1)
    y = (colours == "red").astype(int)
    folds = KFold(4, shuffle=False)
    with pytest.raises(nv.DataError, match="'violet'"):
        cross_val_score(make_pipeline(nv.data.OneHotEncoder(), LogisticRegression()), X, y, cv=folds, error_score="raise")
    scores = cross_val_score(
        make_pipeline(nv.data.OneHotEncoder(handle_unknown="ignore"), LogisticRegression()), X, y, cv=folds,
        error_score="raise",
    )
    assert scores.shape == (4,) and scores.min() > 0.9
    enc = nv.data.OneHotEncoder(handle_unknown="ignore").fit(np.array([["a"], ["b"]], dtype=object))
    assert enc.transform(np.array([["b"], ["z"]], dtype=object)).tolist() == [[0.0, 1.0], [0.0, 0.0]]
    with pytest.raises(nv.ConfigError, match="handle_unknown"):
        nv.data.OneHotEncoder(handle_unknown="drop").fit(X)


@pytest.mark.parametrize("make", [scipy.sparse.csr_matrix, scipy.sparse.csr_array], ids=["matrix", "array"])
def test_sparse_input_is_refused_saying_sparse(make) -> None:
    X = make(np.eye(3))
    for t in [cls() for cls in _transform_classes()]:
        with pytest.raises(nv.DTypeError, match="sparse input is not supported"):
            t.fit(X)
        t.fit(np.eye(3))
        with pytest.raises(nv.DTypeError, match="sparse"):
            t.transform(X)


def test_zero_columns_name_the_shape() -> None:
    with pytest.raises(nv.ShapeError, match=r"0 feature\(s\) \(shape=\(3, 0\)\)"):
        nv.data.Standardize().fit(np.empty((3, 0)))
    with pytest.raises(nv.ShapeError, match=r"0 feature\(s\)"):
        nv.data.OneHotEncoder().fit(np.empty((3, 0), dtype=object))


def test_complex_input_is_a_data_error() -> None:
    with pytest.raises(nv.DataError, match="Complex data not supported"):
        nv.data.Standardize().fit(np.ones((3, 2), dtype=complex))
