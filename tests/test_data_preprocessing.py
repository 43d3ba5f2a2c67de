"""Preprocessing (fitted on training data only), splits and class-imbalance
samplers from lecture 4 of the notes, against numpy / scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.exceptions
import sklearn.preprocessing
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

import nervenet as nv
from nervenet.data import (
    PCA,
    DownSampler,
    MeanSubtraction,
    MinMaxScale,
    NotFittedError,
    OneHotEncoder,
    Standardize,
    UpSampler,
    Whitening,
    chain,
    train_validation_test_indices,
    train_validation_test_split,
)


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    """Correlated training data and test data from a shifted distribution."""
    rng = np.random.default_rng(7)
    mix = np.array([[2.0, 0.5, 0.0, 0.1], [0.0, 1.0, 0.3, 0.0], [0.0, 0.0, 0.5, 0.2], [0.0, 0.0, 0.0, 3.0]])
    train = rng.normal(size=(400, 4)) @ mix + np.array([5.0, -1.0, 0.0, 10.0])
    test = rng.normal(size=(100, 4)) @ mix * 2.0 + np.array([8.0, 3.0, -2.0, 0.0])
    return train, test


def notes_pca(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The notes' recipe: X -= mean; C = XᵀX / n; U, S, V = svd(C)."""
    mean = X.mean(axis=0)
    Xc = X - mean
    C = Xc.T @ Xc / X.shape[0]
    U, S, _ = np.linalg.svd(C)
    return mean, U, S


def same_up_to_sign(a: np.ndarray, b: np.ndarray, tol: float = 1e-8) -> None:
    """Columns of a and b agree up to one sign per column (eigenvectors' sign is arbitrary)."""
    signs = np.sign(np.sum(a * b, axis=0))
    np.testing.assert_allclose(a, b * signs, atol=tol, rtol=1e-6)


# ---- numeric transforms ------------------------------------------------------


def test_mean_subtraction_uses_training_mean(data):
    train, test = data
    t = MeanSubtraction().fit(train)
    np.testing.assert_allclose(t.mean_, train.mean(axis=0))
    np.testing.assert_allclose(t.transform(train).mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(t.transform(test), test - train.mean(axis=0))


def test_standardize_matches_sklearn_and_numpy(data):
    train, test = data
    t = Standardize().fit(train)
    ref = sklearn.preprocessing.StandardScaler().fit(train)
    np.testing.assert_allclose(t.transform(train), ref.transform(train))
    np.testing.assert_allclose(t.mean_, train.mean(axis=0))
    np.testing.assert_allclose(t.std_, train.std(axis=0))
    z = t.transform(train)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-12)


def test_fit_on_train_only_test_uses_training_statistics(data):
    train, test = data
    t = Standardize().fit(train)
    mean, std = t.mean_.copy(), t.std_.copy()
    z = t.transform(test)
    # the training mean / std, not the test set's own
    np.testing.assert_allclose(z, (test - train.mean(axis=0)) / train.std(axis=0))
    assert np.abs(z.mean(axis=0)).max() > 0.5  # the shifted test set is not re-centred
    np.testing.assert_array_equal(t.mean_, mean)  # transforming changed nothing
    np.testing.assert_array_equal(t.std_, std)
    m = MinMaxScale().fit(train)
    np.testing.assert_allclose(m.transform(test), (test - train.min(axis=0)) / (train.max(axis=0) - train.min(axis=0)))
    p = PCA(2).fit(train)
    np.testing.assert_allclose(p.transform(test), (test - train.mean(axis=0)) @ p.components_.T, atol=1e-10)


def test_standardize_zero_variance_column_is_left_centred():
    X = np.array([[1.0, 3.0], [2.0, 3.0], [3.0, 3.0]])
    t = Standardize().fit(X)
    z = t.transform(X)
    assert np.isfinite(z).all()
    np.testing.assert_array_equal(z[:, 1], 0.0)
    assert t.std_[1] == 0 and t.scale_[1] == 1
    np.testing.assert_allclose(t.transform([[0.0, 5.0]]), [[-2 / np.sqrt(2 / 3), 2.0]])


def test_min_max_scale_matches_formula_and_allows_out_of_range(data):
    train, test = data
    t = MinMaxScale().fit(train)
    lo, hi = train.min(axis=0), train.max(axis=0)
    z = t.transform(train)
    np.testing.assert_allclose(z, (train - lo) / (hi - lo))
    np.testing.assert_allclose([z.min(), z.max()], [0, 1], atol=1e-12)
    zt = t.transform(test)  # beyond the training extremes: outside [0, 1], not clipped
    assert zt.min() < 0 or zt.max() > 1
    np.testing.assert_allclose(MinMaxScale(clip=True).fit(train).transform(test), np.clip(zt, 0, 1))
    np.testing.assert_allclose(MinMaxScale((-1, 1)).fit(train).transform(train), 2 * (train - lo) / (hi - lo) - 1)


def test_min_max_scale_known_bounds():
    X = np.array([[10.0, 1.0], [20.0, 3.0], [30.0, 2.0]])
    t = MinMaxScale(bounds=(0, 100)).fit(X)  # the data's own min / max are ignored
    np.testing.assert_allclose(t.transform(X), X / 100)
    np.testing.assert_allclose(t.transform([[150.0, -50.0]]), [[1.5, -0.5]])  # outside the bounds: allowed
    per = MinMaxScale(bounds=([0, 0], [40, 4])).fit(X)
    np.testing.assert_allclose(per.transform(X), X / [40, 4])
    np.testing.assert_allclose(per.inverse_transform(per.transform(X)), X)
    with pytest.raises(nv.ConfigError, match="feature 1"):
        MinMaxScale(bounds=([0, 5], [1, 5])).fit(X)
    with pytest.raises(nv.ShapeError, match="one value per feature"):
        MinMaxScale(bounds=([0, 0, 0], 1)).fit(X)


def test_pca_matches_the_notes_and_reduces_dimensions(data):
    train, _ = data
    mean, U, S = notes_pca(train)
    p = PCA(2).fit(train)
    z = p.transform(train)
    assert z.shape == (400, 2) and p.n_features_out_ == 2
    same_up_to_sign(z, (train - mean) @ U[:, :2])
    np.testing.assert_allclose(p.eigenvalues_, S[:2])
    # decorrelated, ordered by decreasing variance
    cov = np.cov(z.T, bias=True)
    np.testing.assert_allclose(cov, np.diag(S[:2]), atol=1e-8)
    # the reduced inverse is the projection onto the kept components
    back = p.inverse_transform(z)
    np.testing.assert_allclose(back, mean + ((train - mean) @ U[:, :2]) @ U[:, :2].T, atol=1e-8)
    assert PCA(0.9).fit(train).n_components_ <= 4
    with pytest.raises(nv.ConfigError, match="n_components=5"):
        PCA(5).fit(train)


def test_whitening_identity_covariance_and_the_notes_formula(data):
    train, test = data
    w = Whitening().fit(train)
    z = w.transform(train)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(np.cov(z.T, bias=True), np.eye(4), atol=1e-4)
    mean, U, S = notes_pca(train)
    same_up_to_sign(z, (train - mean) @ U / np.sqrt(S + 1e-5))
    same_up_to_sign(w.transform(test), (test - mean) @ U / np.sqrt(S + 1e-5))
    # a larger epsilon squeezes low-variance directions below unit variance
    big = np.cov(Whitening(epsilon=1.0).fit_transform(train).T, bias=True)
    np.testing.assert_allclose(np.diag(big), S / (S + 1.0), rtol=1e-8)
    assert Whitening(n_components=2).fit_transform(train).shape == (400, 2)
    with pytest.raises(nv.ConfigError, match="epsilon"):
        Whitening(epsilon=0).fit(train)


@pytest.mark.parametrize(
    "make",
    [MeanSubtraction, Standardize, MinMaxScale, lambda: MinMaxScale(bounds=(-50, 50)), PCA, Whitening],
    ids=["mean", "standardize", "minmax", "minmax-bounds", "pca", "whitening"],
)
def test_inverse_transform_round_trip(make, data):
    train, test = data
    t = make().fit(train)
    np.testing.assert_allclose(t.inverse_transform(t.transform(train)), train, atol=1e-9)
    np.testing.assert_allclose(t.inverse_transform(t.transform(test)), test, atol=1e-9)


@pytest.mark.parametrize("make", [MeanSubtraction, Standardize, MinMaxScale, PCA, Whitening, OneHotEncoder])
def test_not_fitted_and_wrong_column_count_raise(make, data):
    train, _ = data
    t = make()
    with pytest.raises(NotFittedError, match="not fitted yet") as info:
        t.transform(train)
    assert isinstance(info.value, nv.NervenetError)
    assert isinstance(info.value, sklearn.exceptions.NotFittedError)
    X = train.round().astype(np.int64) if make is OneHotEncoder else train
    t.fit(X)
    with pytest.raises(nv.ShapeError, match=r"expects 4 columns .* but X has 3 columns"):
        t.transform(X[:, :3])
    out = t.transform(X)
    with pytest.raises(nv.ShapeError, match=rf"expects {out.shape[1]} columns .* but X has {out.shape[1] + 1}"):
        t.inverse_transform(np.hstack([out, out[:, :1]]))


def test_numeric_input_checks():
    X = np.arange(12.0).reshape(6, 2)
    t = Standardize().fit(X)
    bad = X.copy()
    bad[4, 1] = np.nan
    with pytest.raises(nv.DataError, match=r"non-finite value \(nan\) at index \[4, 1\]"):
        t.transform(bad)
    with pytest.raises(nv.DTypeError):
        Standardize().fit(np.array([["a", "b"]]))
    with pytest.raises(nv.ShapeError, match="reshape"):
        Standardize().fit(np.arange(5.0))
    with pytest.raises(nv.ShapeError, match="at least one sample"):
        Standardize().fit(np.zeros((0, 2)))


def test_sequences_and_dtypes():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 5, 3)).astype(np.float32) * 4 + 2
    t = Standardize().fit(X)  # every (batch, time) row is a sample
    z = t.transform(X)
    assert z.shape == X.shape and z.dtype == np.float32
    np.testing.assert_allclose(z.reshape(-1, 3).mean(axis=0), 0, atol=1e-5)
    assert PCA(2).fit_transform(X).shape == (8, 5, 2)
    assert Standardize().fit_transform(np.arange(6).reshape(3, 2)).dtype == np.float64


# ---- one-hot encoding ----------------------------------------------------------

MUSHROOMS = np.array(
    [
        list("xsntpfcnkeesswwpwopksu"),
        list("xsytafcbkecsswwpwopnng"),
        list("bswtlfcbnecsswwpwopnnm"),
        list("xywtpfcnneesswwpwopksu"),
        list("xsgfnfwbktesswwpwoenag"),
        list("xyytafcbnecsswwpwopkng"),
        list("bswtafcbgecsswwpwopknm"),
    ]
)


def test_one_hot_matches_sklearn_on_the_notes_example():
    enc = OneHotEncoder().fit(MUSHROOMS)
    z = enc.transform(MUSHROOMS)
    ref = sklearn.preprocessing.OneHotEncoder(sparse_output=False).fit(MUSHROOMS)
    np.testing.assert_array_equal(z, ref.transform(MUSHROOMS))
    assert z.shape[1] == sum(len(np.unique(c)) for c in MUSHROOMS.T)
    np.testing.assert_array_equal(z.sum(axis=1), 22)  # one 1 per column
    np.testing.assert_array_equal(enc.inverse_transform(z), MUSHROOMS)
    assert list(enc.categories_[0]) == ["b", "x"]


def test_one_hot_unknown_category_names_column_and_value():
    names = ["cap-shape", "cap-surface"]
    enc = OneHotEncoder(names=names).fit(MUSHROOMS[:, :2])
    with pytest.raises(nv.DataError, match=r"column 'cap-surface' has category 'g' \(row 1\)"):
        enc.transform(np.array([["x", "s"], ["b", "g"]]))
    enc = OneHotEncoder().fit([[1], [2], [3]])
    with pytest.raises(nv.DataError, match="column 0 has category 7"):
        enc.transform([[2], [7]])
    # categories given up front: known even if absent from the training data
    enc = OneHotEncoder(categories=[["b", "c", "x"]]).fit([["x"], ["b"]])
    np.testing.assert_array_equal(enc.transform([["c"]]), [[0, 1, 0]])
    with pytest.raises(nv.DataError, match="'q'"):
        OneHotEncoder(categories=[["b", "x"]]).fit([["x"], ["q"]])


def test_one_hot_selected_columns_pass_the_rest_through():
    X = np.array([["red", 1.5, "s"], ["blue", 2.0, "m"], ["red", -1.0, "l"]], dtype=object)
    enc = OneHotEncoder(columns=[0, 2], names=["colour", "weight", "size"]).fit(X)
    z = enc.transform(X)
    # colour (blue, red) | weight | size (l, m, s): column order kept
    np.testing.assert_array_equal(
        z, [[0, 1, 1.5, 0, 0, 1], [1, 0, 2.0, 0, 1, 0], [0, 1, -1.0, 1, 0, 0]]
    )
    assert list(enc.get_feature_names_out()) == ["colour_blue", "colour_red", "weight", "size_l", "size_m", "size_s"]
    back = enc.inverse_transform(z)
    assert back.tolist() == X.tolist()
    with pytest.raises(nv.DataError, match="column 'size' .*passes through as numbers.*'s'"):
        OneHotEncoder(columns=[0], names=["colour", "weight", "size"]).fit(X)
    with pytest.raises(nv.ShapeError, match="reshape"):
        OneHotEncoder().fit(np.array(["a", "b"]))


# ---- scikit-learn compatibility ------------------------------------------------------


def test_sklearn_pipeline_clone_and_chain(data):
    train, test = data
    pipe = make_pipeline(Standardize(), Whitening(n_components=3))
    z = pipe.fit_transform(train)
    assert z.shape == (400, 3)
    np.testing.assert_allclose(np.cov(z.T, bias=True), np.eye(3), atol=1e-4)
    c = chain(Standardize(), PCA(4))
    np.testing.assert_allclose(c.fit(train).transform(test), pipe.steps[0][1].transform(test) @ c[-1].components_.T, atol=1e-9)
    np.testing.assert_allclose(c.inverse_transform(c.transform(test)), test, atol=1e-9)
    with pytest.raises(NotFittedError, match="'standardize'"):
        chain(Standardize(), MinMaxScale()).transform(train)
    copy = clone(MinMaxScale((-1, 1), bounds=(0, 5)))
    assert copy.get_params()["bounds"] == (0, 5) and not hasattr(copy, "scaler_")


# ---- splits ----------------------------------------------------------------------------


def test_stratified_split_keeps_class_ratios():
    y = np.repeat([0, 1, 2], [900, 90, 10])
    X = np.arange(1000.0).reshape(-1, 1) * [1, -1]
    train, val, test = train_validation_test_split(X, y, validation=0.1, test=0.2, seed=3)
    assert [len(s[1]) for s in (train, val, test)] == [700, 100, 200]
    for Xs, ys in (train, val, test):
        counts = np.bincount(ys, minlength=3)
        np.testing.assert_allclose(counts / len(ys), [0.9, 0.09, 0.01], atol=1.01 / len(ys))
        np.testing.assert_array_equal(Xs[:, 0], -Xs[:, 1])  # rows stay aligned
        np.testing.assert_array_equal(y[Xs[:, 0].astype(int)], ys)
    assert np.bincount(test[1])[2] == 2 and np.bincount(val[1])[2] == 1
    idx = train_validation_test_indices(y, validation=0.1, test=0.2, seed=3)
    assert sorted(np.concatenate(idx).tolist()) == list(range(1000))  # disjoint, covering everything
    again = train_validation_test_indices(y, validation=0.1, test=0.2, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(idx, again))
    other = train_validation_test_indices(y, validation=0.1, test=0.2, seed=4)
    assert not np.array_equal(idx[2], other[2])


def test_split_options_and_errors():
    y = np.repeat(["common", "rare"], [50, 2])
    with pytest.raises(nv.DataError, match="class 'rare' has 2"):
        train_validation_test_split(np.zeros((52, 1)), y)
    # two sets only need two samples of a class
    train, val, test = train_validation_test_split(np.zeros((52, 1)), y, validation=0, test=0.5)
    assert len(val[1]) == 0 and sorted(test[1].tolist()).count("rare") == 1
    values = np.linspace(0, 1, 40)
    with pytest.raises(nv.ConfigError, match="stratify=False"):
        train_validation_test_split(values, values)
    train, val, test = train_validation_test_split(values, values, stratify=False)
    assert (len(train[0]), len(val[0]), len(test[0])) == (28, 4, 8)
    with pytest.raises(nv.ConfigError, match="validation"):
        train_validation_test_split(values, values, validation=1.5, stratify=False)
    with pytest.raises(nv.ConfigError, match="leave some training"):
        train_validation_test_split(values, values, validation=0.5, test=0.5, stratify=False)
    with pytest.raises(nv.ShapeError, match="same number of samples"):
        train_validation_test_split(values, values[:-1], stratify=False)


# ---- class imbalance samplers --------------------------------------------------------------


def test_up_sampler_balances_every_epoch():
    y = np.repeat([0, 1, 2], [40, 7, 3])
    s = UpSampler(y, seed=5)
    assert s.per_class == 40 and len(s) == 120
    seen = np.zeros(len(y), dtype=int)
    for epoch in range(21):  # 21 = lcm of the minority remainders' pass lengths (7, 3)
        idx = s.indices(epoch)
        assert idx.dtype == np.int64 and len(idx) == 120
        np.testing.assert_array_equal(np.bincount(y[idx]), [40, 40, 40])
        np.testing.assert_array_equal(np.sort(idx[y[idx] == 0]), np.arange(40))  # majority: each once
        seen += np.bincount(idx, minlength=len(y))
    # over whole passes every minority sample is repeated equally often
    assert len(set(seen[y == 1])) == 1 and len(set(seen[y == 2])) == 1
    np.testing.assert_array_equal(s.indices(3), UpSampler(y, seed=5).indices(3))
    assert not np.array_equal(s.indices(3), s.indices(4))


def test_down_sampler_walks_the_majority_pass_by_pass():
    y = np.array([1, 0] * 5 + [0] * 30)  # 35 of class 0, 5 of class 1
    s = DownSampler(y, seed=2)
    assert s.per_class == 5 and len(s) == 10 and s.epochs_per_pass(0) == 7
    majority = np.flatnonzero(y == 0)
    passes = []
    for epoch in range(21):
        idx = s.indices(epoch)
        np.testing.assert_array_equal(np.bincount(y[idx]), [5, 5])
        np.testing.assert_array_equal(np.sort(idx[y[idx] == 1]), np.flatnonzero(y == 1))  # minority: all
        passes.append(idx[y[idx] == 0])
    for p in range(3):  # every full pass (7 epochs) covers every majority sample exactly once
        np.testing.assert_array_equal(np.sort(np.concatenate(passes[7 * p : 7 * p + 7])), majority)
    assert not np.array_equal(np.concatenate(passes[:7]), np.concatenate(passes[7:14]))  # reshuffled
    again = DownSampler(y, seed=2)
    assert all(np.array_equal(again.indices(e), s.indices(e)) for e in (0, 6, 13))
    assert not np.array_equal(DownSampler(y, seed=3).indices(0), s.indices(0))


def test_down_sampler_pass_not_ending_at_an_epoch_boundary():
    y = np.repeat(["a", "b"], [23, 2])
    s = DownSampler(y, seed=0)
    counts = np.zeros(25, dtype=int)
    for epoch in range(23):  # 23 epochs x 2 = two whole passes over the 23 "a" samples
        counts += np.bincount(s.indices(epoch), minlength=25)
    np.testing.assert_array_equal(counts[:23], 2)
    np.testing.assert_array_equal(counts[23:], 23)
    with pytest.raises(nv.ShapeError, match="1-D"):
        DownSampler(np.zeros((4, 2), dtype=int))


# ---- fit with a sampler ------------------------------------------------------------------------


def _imbalanced() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    y = np.repeat([0, 1], [180, 20])
    X = rng.normal(size=(200, 3)) + y[:, None] * 1.5
    return X, y


def test_fit_with_sampler_trains_on_the_sampled_rows():
    X, y = _imbalanced()
    sampler = DownSampler(y, seed=1)
    a = nv.Network(nv.mlp([3, 4, 2]), dtype="float64", seed=0)
    b = nv.Network(nv.mlp([3, 4, 2]), dtype="float64", seed=0)
    ha = a.fit(X, y, loss="softmax", epochs=1, batch_size=8, sampler=sampler, verbose=0)
    idx = sampler.indices(0)
    hb = b.fit(X[idx], y[idx], loss="softmax", epochs=1, batch_size=8, verbose=0)
    np.testing.assert_array_equal(a.parameters, b.parameters)
    assert ha["loss"] == hb["loss"]
    up = nv.Network(nv.mlp([3, 4, 2]), dtype="float64", seed=0)
    hist = up.fit(X, y, loss="softmax", epochs=3, batch_size=16, sampler=UpSampler(y), verbose=0,
                  validation=(X, y))
    assert len(hist.epochs) == 3 and np.isfinite(up.parameters).all()


def test_fit_sampler_errors():
    X, y = _imbalanced()
    net = nv.Network(nv.mlp([3, 4, 2]), seed=0)
    with pytest.raises(nv.ShapeError, match="built for 100 labels"):
        net.fit(X, y, loss="softmax", epochs=1, sampler=UpSampler(y[:100]), verbose=0)

    class Bad:
        def indices(self, epoch: int) -> np.ndarray:
            return np.array([0, 500])

    with pytest.raises(nv.ConfigError, match="returned index 500"):
        net.fit(X, y, loss="softmax", epochs=1, sampler=Bad(), verbose=0)
    with pytest.raises(nv.ConfigError, match="indices"):
        net.fit(X, y, loss="softmax", epochs=1, sampler=object(), verbose=0)
    bad = X.copy()
    bad[7, 2] = np.inf  # reported at its index in the caller's X, not the epoch's
    with pytest.raises(nv.DataError, match=r"index \[7, 2\]"):
        net.fit(bad, y, loss="softmax", epochs=1, sampler=UpSampler(y), verbose=0)
