"""Issue 16, item 2: nervenet's scikit-learn estimators, judged by
scikit-learn's own estimator checks, and at work in Pipeline,
GridSearchCV and cross_val_score."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import nervenet as nv
from nervenet.errors import ConfigError
from nervenet.sklearn import NervenetClassifier, NervenetRegressor

ESTIMATORS = [NervenetClassifier(random_state=0), NervenetRegressor(random_state=0)]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check) -> None:
    check(estimator)


def _iris():
    X, y = load_iris(return_X_y=True)
    return X, np.array(["setosa", "versicolor", "virginica"])[y]


def test_pipeline_grid_search_and_cross_val_score() -> None:
    X, y = _iris()
    pipe = make_pipeline(StandardScaler(), NervenetClassifier((16,), learning_rate_init=0.01, max_iter=60, random_state=0))
    assert cross_val_score(pipe, X, y, cv=3).mean() > 0.85
    search = GridSearchCV(pipe, {"nervenetclassifier__hidden_layer_sizes": [(4,), (16,)]}, cv=3).fit(X, y)
    assert search.best_score_ > 0.85
    assert set(search.predict(X)) <= set(y)


def test_regressor_learns_diabetes_in_a_pipeline() -> None:
    X, y = load_diabetes(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), NervenetRegressor((16,), learning_rate_init=0.003, max_iter=100, random_state=0))
    assert cross_val_score(pipe, X, (y - y.mean()) / y.std(), cv=3).mean() > 0.4


def _wide(n_inputs: int, n_outputs: int) -> nv.Graph:
    return nv.mlp([n_inputs, 5, 5, n_outputs], "tanh")


def test_builder_graph_clone_and_pickle() -> None:
    X, y = _iris()
    clf = NervenetClassifier(builder=_wide, max_iter=20, random_state=1).fit(X, y)
    assert clf.network_.n_params == 4 * 5 + 5 + 5 * 5 + 5 + 5 * 3  # the builder's graph, not hidden_layer_sizes
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    fresh = clone(clf)
    assert not hasattr(fresh, "network_") and fresh.get_params()["builder"] is clf.builder
    np.testing.assert_array_equal(fresh.fit(X, y).predict_proba(X), clf.predict_proba(X))  # random_state: same run


def test_builder_must_return_a_graph() -> None:
    X, y = _iris()
    with pytest.raises(ConfigError, match="builder must return an nv.Graph"):
        NervenetClassifier(builder=lambda i, o: "mlp").fit(X, y)
    with pytest.raises(ConfigError, match="optimizer must be 'adam', 'sgd'"):
        NervenetRegressor(optimizer="lbfgs").fit(X, y == "setosa")


def test_partial_fit_keeps_the_optimiser_state() -> None:
    X, y = _iris()
    X = StandardScaler().fit_transform(X)
    with pytest.raises(ConfigError, match="needs classes="):
        NervenetClassifier().partial_fit(X, y)
    stepwise = NervenetClassifier((8,), batch_size=len(X), shuffle=False, random_state=0)
    for _ in range(5):
        stepwise.partial_fit(X, y, classes=np.unique(y))
    whole = NervenetClassifier((8,), batch_size=len(X), shuffle=False, max_iter=5, tol=-np.inf, random_state=0)
    with pytest.warns(Warning, match="max_iter=5"):
        whole.fit(X, y)
    # five epochs of one Adam run, whether in one fit or five partial_fits
    np.testing.assert_allclose(stepwise.network_.parameters, whole.network_.parameters, rtol=0, atol=1e-12)
    assert stepwise.n_iter_ == whole.n_iter_ == 5


def test_fit_runs_whole_epochs_in_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """One trainer call per epoch, whatever the batch size: no Python loop per batch."""
    from nervenet import engine

    calls = []
    real = engine.epoch
    monkeypatch.setattr(engine, "epoch", lambda *a, **k: calls.append(a[2].batch.batch) or real(*a, **k))
    X, y = _iris()
    clf = NervenetClassifier((4,), batch_size=10, max_iter=3, tol=-np.inf).fit(X, y)
    assert calls == [150, 150, 150] and clf.n_iter_ == 3


def test_early_stopping_restores_the_best_validation_epoch() -> None:
    X, y = _iris()
    X = StandardScaler().fit_transform(X)
    clf = NervenetClassifier((16,), early_stopping=True, validation_fraction=0.2, n_iter_no_change=3,
                             learning_rate_init=0.05, max_iter=500, random_state=0).fit(X, y)
    assert clf.n_iter_ < 500 and np.isfinite(clf.best_loss_)


def test_feature_names_and_set_output() -> None:
    pandas = pytest.importorskip("pandas")
    X, y = _iris()
    frame = pandas.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = NervenetClassifier((4,), max_iter=5).fit(frame, y)
    assert list(clf.feature_names_in_) == ["a", "b", "c", "d"] and clf.n_features_in_ == 4
    proba = clf.set_output(transform="pandas").predict_proba(frame)
    assert list(proba.columns) == ["setosa", "versicolor", "virginica"]
    assert isinstance(clf.set_output(transform="default").predict_proba(frame), np.ndarray)
    with pytest.raises(ConfigError, match="set_output"):
        clf.set_output(transform="arrow")


def test_regressor_two_targets() -> None:
    X, _ = _iris()
    Y = np.stack([X[:, 0] + X[:, 1], X[:, 2] - X[:, 3]], axis=1)
    reg = NervenetRegressor((8,), max_iter=5).fit(X, Y)
    assert reg.predict(X).shape == (150, 2) and reg.predict(X[:, :4]).ndim == 2


def test_the_module_examples_run() -> None:
    import doctest
    import warnings

    import nervenet.sklearn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the short examples
        result = doctest.testmod(nervenet.sklearn)
    assert result.attempted >= 8 and result.failed == 0


@pytest.mark.parametrize("option, value, message", [
    ("batch_size", "big", "batch_size must be an integer >= 1"),
    ("max_iter", 0, "max_iter must be an integer >= 1"),
    ("n_iter_no_change", 2.5, "n_iter_no_change must be an integer"),
    ("learning_rate_init", -1.0, "learning_rate_init must be a finite number > 0"),
    ("l2", "none", "l2 must be a finite number >= 0"),
    ("validation_fraction", 1.0, r"validation_fraction must be a finite number in \(0, 1\)"),
    ("shuffle", "yes", "shuffle"),
    ("hidden_layer_sizes", (4, 0), "every layer needs at least one node"),
])  # fmt: skip
def test_bad_options_are_named(option: str, value: object, message: str) -> None:
    X, y = _iris()
    with pytest.raises(ConfigError, match=message):
        NervenetClassifier(**{option: value}).fit(X, y)


def test_networks_pickle_with_classes_and_preprocessing() -> None:
    """What the estimators' pickling rests on: a Network pickles whole."""
    X, y = _iris()
    net = nv.Network(nv.mlp([4, 6, 3]), dtype="float64", seed=2)
    net.classes = ["setosa", "versicolor", "virginica"]
    net.preprocessing = nv.data.Standardize().fit(X)
    net.fit(net.preprocessing.transform(X), np.searchsorted(net.classes, y), loss="softmax", epochs=2, verbose=0)
    again = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(again.parameters, net.parameters)
    np.testing.assert_array_equal(again.predict(X), net.predict(X))
    assert again.classes == net.classes and again.dtype == net.dtype and again.graph.to_json() == net.graph.to_json()
