"""Preprocessing fitted on the training data only (lecture 4 of the notes).

Every transform follows scikit-learn's conventions (``fit`` /
``transform`` / ``fit_transform`` / ``inverse_transform``, ``get_params``,
``clone``) and wraps scikit-learn's own implementation, so it also works
inside :class:`sklearn.pipeline.Pipeline` and :func:`chain`:

==================  ===========================================================
transform           what it does (statistics from ``fit``'s data only)
==================  ===========================================================
OneHotEncoder       categorical columns to one 0/1 column per category
MeanSubtraction     x − mean
Standardize         (x − mean) / standard deviation
MinMaxScale         (x − min) / (max − min), or with known ``bounds``
PCA                 rotation onto the principal components, optionally fewer
Whitening           PCA rotation / sqrt(eigenvalue + epsilon)
==================  ===========================================================

The notes are emphatic: compute the means, deviations, minima and maxima
on the **training data only** and apply those same values to the
validation and test data::

    scale = Standardize().fit(X_train)
    X_train, X_val, X_test = scale.transform(X_train), scale.transform(X_val), scale.transform(X_test)

Numeric transforms take X as (samples, features) or, for sequences,
(batch, time, features) -- then every (batch, time) row counts as one
sample and the result keeps the 3-D layout. float32 input stays float32;
integer and bool input becomes float64, and so do numbers in an object
array (the columns a :class:`sklearn.compose.ColumnTransformer` hands
over); sparse matrices are refused (:class:`~nervenet.DTypeError`, saying
"sparse"). scikit-learn's own estimator checks pass on every class here
(``tests/test_sklearn_checks.py``). Errors are nervenet's:
transforming before fitting raises :class:`~nervenet.NotFittedError`, a different
number of columns than at fit time :class:`~nervenet.ShapeError` (naming
both counts), NaN or Inf :class:`~nervenet.DataError` (naming the index),
and an unseen category :class:`~nervenet.DataError` (naming the column
and the value; ``OneHotEncoder(handle_unknown="ignore")`` encodes it as
zeros instead).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Optional, Sequence

import numpy as np
import scipy.sparse
import sklearn.decomposition
import sklearn.exceptions
import sklearn.pipeline
import sklearn.preprocessing
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._checks import real, text
from .._budget import within
from ..errors import ConfigError, DataError, DTypeError, NotFittedError, ShapeError

__all__ = [
    "OneHotEncoder",
    "MeanSubtraction",
    "Standardize",
    "MinMaxScale",
    "PCA",
    "Whitening",
    "Chain",
    "chain",
]


def _shape(shape: Sequence[int]) -> str:
    return str(tuple(int(d) for d in shape))


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value (so messages show 'g', not np.str_('g'))."""
    return value.item() if isinstance(value, np.generic) else value


def _columns(n: int) -> str:
    return f"{n} column{'s' if n != 1 else ''}"


def _not_sparse(X: Any, name: str, method: str) -> None:
    """Sparse input is refused, in words scikit-learn's checks recognise (its tags say dense only)."""
    if scipy.sparse.issparse(X):
        raise DTypeError(
            f"{name}.{method}: X is a scipy sparse {type(X).__name__}; sparse input is not supported: "
            "pass a dense array (X.toarray())"
        )


def _not_finite(v: Any) -> bool:
    """NaN or ±Inf (integers are always finite, even past float's range)."""
    return isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral) and not math.isfinite(v)


def _non_finite(arr: np.ndarray, name: str, method: str) -> None:
    """DataError naming the first NaN or Inf of ``arr`` (numbers, or an object
    array where floats may hide among other values) and its index."""
    if arr.dtype.kind == "O":
        bad = np.frompyfunc(_not_finite, 1, 1)(arr)
        bad = bad.astype(bool) if arr.size else np.zeros(arr.shape, dtype=bool)
    elif arr.dtype.kind in "fc":
        bad = ~np.isfinite(arr)
    else:
        return
    if bad.any():
        index = [int(i) for i in np.argwhere(bad)[0]]
        value = _plain(arr[tuple(index)])
        raise DataError(
            f"{name}.{method}: X contains a non-finite value ({value!r}) at index {index}: "
            "NaN and inf are not allowed"
        )


class _Transform(TransformerMixin, BaseEstimator):
    """Shared checks: fitted state and the column count."""

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "n_features_in_")

    def _require_fitted(self, method: str) -> None:
        if not self.__sklearn_is_fitted__():
            name = type(self).__name__
            raise NotFittedError(
                f"{name} is not fitted yet: call {name}.fit(X_train) on the training data before {method}"
            )

    def _check_columns(self, n: int, shape: Sequence[int], expected: int, method: str) -> None:
        if n != expected:
            what = "its output" if method == "inverse_transform" else "the training data"
            name = type(self).__name__
            raise ShapeError(
                f"{name}.{method} expects {_columns(expected)} ({what} at fit time) "
                f"but X has {_columns(n)} (shape {_shape(shape)}): X has {n} features, but {name} is expecting "
                f"{expected} features as input"
            )

    def _some_features(self, shape: Sequence[int], method: str) -> None:
        if shape[-1] == 0:
            raise ShapeError(
                f"{type(self).__name__}.{method}: X has 0 feature(s) (shape={_shape(shape)}) while a minimum "
                "of 1 is required."
            )


class _Numeric(_Transform):
    """Numeric transforms over the last axis; 3-D input counts each
    (batch, time) row as a sample. Subclasses implement ``_fit(rows)``,
    ``_forward(rows)`` and ``_backward(rows)`` on 2-D float arrays."""

    def _rows(self, X: Any, method: str, expected: Optional[int]) -> tuple[np.ndarray, tuple[int, ...]]:
        name = type(self).__name__
        _not_sparse(X, name, method)
        try:
            arr = np.asarray(X)
        except (ValueError, TypeError) as e:
            raise ShapeError(f"{name}.{method}: X cannot be read as an array: {e}") from None
        # before converting or checking for NaN (a broadcast view may stand for terabytes)
        within(arr, f"{name}.{method}: X", 0 if arr.dtype in (np.float32, np.float64) else 8)
        if arr.dtype.kind == "O":  # numbers in an object array (a ColumnTransformer's slice of mixed columns)
            try:
                arr = arr.astype(np.float64)
            except OverflowError:  # an integer past float range
                raise DataError(f"{name}.{method}: X holds an integer too large for a float") from None
            except (ValueError, TypeError) as e:
                raise DTypeError(
                    f"{name}.{method}: X has dtype object with a value that is not a number ({e}); "
                    "one-hot encode categorical columns with OneHotEncoder first"
                ) from None
        if arr.dtype.kind == "c":
            raise DataError(f"{name}.{method}: Complex data not supported (X has dtype {arr.dtype}); give real numbers")
        if arr.dtype.kind not in "fiub":
            raise DTypeError(
                f"{name}.{method}: X has dtype {arr.dtype}; it needs numbers "
                f"(one-hot encode categorical columns with OneHotEncoder first)"
            )
        if arr.ndim not in (2, 3):
            hint = "; Reshape your data: for a single feature pass X.reshape(-1, 1)" if arr.ndim == 1 else ""
            raise ShapeError(
                f"{name}.{method}: X must be 2-D (samples, features) or 3-D (batch, time, features), "
                f"got shape {_shape(arr.shape)}{hint}"
            )
        self._some_features(arr.shape, method)
        if expected is not None:
            self._check_columns(arr.shape[-1], arr.shape, expected, method)
        if arr.shape[-1] == 0:  # nothing to scale (and numpy cannot reshape it to rows)
            raise ShapeError(f"{name}.{method}: X has no features (shape {_shape(arr.shape)})")
        if arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(np.float64)
        _non_finite(arr, name, method)
        return arr.reshape(-1, arr.shape[-1]), tuple(arr.shape[:-1])

    def fit(self, X: Any, y: Any = None) -> "_Numeric":
        """Learns the statistics from ``X`` (the training data only)."""
        self._check_params()
        rows, _ = self._rows(X, "fit", None)
        if rows.shape[0] == 0:
            raise ShapeError(f"{type(self).__name__}.fit needs at least one sample, got shape {_shape(np.shape(X))}")
        self._fit(rows)
        self.n_features_in_ = int(rows.shape[1])
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Applies the statistics learnt by ``fit`` (never re-estimated from ``X``)."""
        self._require_fitted("transform")
        rows, leading = self._rows(X, "transform", self.n_features_in_)
        if rows.shape[0] == 0:  # no samples: nothing to transform (scikit-learn's scalers refuse)
            return np.zeros(leading + (self.n_features_out_,), dtype=rows.dtype)
        out = self._forward(rows)
        return out.reshape(leading + (out.shape[1],))

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Maps transformed data back to the original units."""
        self._require_fitted("inverse_transform")
        rows, leading = self._rows(X, "inverse_transform", self.n_features_out_)
        if rows.shape[0] == 0:
            return np.zeros(leading + (self.n_features_in_,), dtype=rows.dtype)
        out = self._backward(rows)
        return out.reshape(leading + (out.shape[1],))

    @property
    def n_features_out_(self) -> int:
        self._require_fitted("n_features_out_")
        return self.n_features_in_

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        self._require_fitted("get_feature_names_out")
        if input_features is None:
            input_features = [f"x{i}" for i in range(self.n_features_in_)]
        return np.asarray(input_features, dtype=object)

    # -- for subclasses --------------------------------------------------------

    def _check_params(self) -> None:
        pass

    def _fit(self, rows: np.ndarray) -> None:
        raise NotImplementedError

    def _forward(self, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _backward(self, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class MeanSubtraction(_Numeric):
    """Subtracts each feature's training mean (``mean_``), centring the data
    on zero (wraps :class:`sklearn.preprocessing.StandardScaler` with
    ``with_std=False``)."""

    def _fit(self, rows: np.ndarray) -> None:
        self.scaler_ = sklearn.preprocessing.StandardScaler(with_mean=True, with_std=False).fit(rows)
        self.mean_ = self.scaler_.mean_

    def _forward(self, rows: np.ndarray) -> np.ndarray:
        return self.scaler_.transform(rows)

    def _backward(self, rows: np.ndarray) -> np.ndarray:
        return self.scaler_.inverse_transform(rows)


class Standardize(_Numeric):
    """Mean subtraction, then division by each feature's standard deviation,
    both from the training data (wraps
    :class:`sklearn.preprocessing.StandardScaler`).

    ``mean_`` and ``std_`` (population standard deviation, ddof=0) are the
    training statistics; ``scale_`` is the divisor actually used. A
    zero-variance (constant) training column has ``scale_`` 1: it is left
    centred (all zeros on the training data) rather than divided by zero.
    """

    def _fit(self, rows: np.ndarray) -> None:
        self.scaler_ = sklearn.preprocessing.StandardScaler().fit(rows)
        self.mean_ = self.scaler_.mean_
        self.std_ = np.sqrt(self.scaler_.var_)
        self.scale_ = self.scaler_.scale_

    def _forward(self, rows: np.ndarray) -> np.ndarray:
        return self.scaler_.transform(rows)

    def _backward(self, rows: np.ndarray) -> np.ndarray:
        return self.scaler_.inverse_transform(rows)


class MinMaxScale(_Numeric):
    """0-1 normalisation, (x − min) / (max − min) per feature (wraps
    :class:`sklearn.preprocessing.MinMaxScaler`); ``feature_range=(-1, 1)``
    scales to that range instead.

    By default the minimum and maximum come from the training data. For
    time series the notes allow one exception: when domain knowledge gives
    a parameter's exact limits, pass ``bounds=(low, high)`` (scalars, or one
    value per feature) and those are used instead of the data's (``fit``
    then reads X only for its number of columns).

    Values outside the fitted range -- test data beyond the training
    extremes, or data beyond known bounds -- are allowed and map outside
    ``feature_range`` (below 0 or above 1), unless ``clip=True``. A
    constant training column maps to ``feature_range[0]``.
    ``data_min_`` / ``data_max_`` hold the limits used.
    """

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0), *, bounds: Any = None, clip: bool = False):
        self.feature_range = feature_range
        self.bounds = bounds
        self.clip = clip

    def _check_params(self) -> None:
        try:
            lo, hi = (float(v) for v in self.feature_range)
        except (TypeError, ValueError):
            raise ConfigError(f"feature_range must be a pair (low, high), got {self.feature_range!r}") from None
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ConfigError(f"feature_range must be finite with low < high, got {self.feature_range!r}")

    def _limits(self, n: int) -> np.ndarray:
        """The known bounds as a (2, n) array to fit the scaler on."""
        try:
            low, high = self.bounds
        except (TypeError, ValueError):
            raise ConfigError(f"bounds must be a pair (low, high) of scalars or per-feature arrays, got {self.bounds!r}") from None
        limits = []
        for which, value in (("low", low), ("high", high)):
            arr = np.asarray(value, dtype=np.float64)
            if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != n):
                raise ShapeError(
                    f"MinMaxScale bounds {which} has shape {_shape(arr.shape)}; it must be a scalar or hold one value "
                    f"per feature ({n})"
                )
            limits.append(np.broadcast_to(arr, (n,)))
        lims = np.vstack(limits)
        bad = ~(np.isfinite(lims).all(axis=0) & (lims[0] < lims[1]))
        if bad.any():
            j = int(np.argmax(bad))
            raise ConfigError(
                f"MinMaxScale bounds for feature {j} are ({lims[0, j]!r}, {lims[1, j]!r}); they must be finite with low < high"
            )
        return lims

    def _fit(self, rows: np.ndarray) -> None:
        scaler = sklearn.preprocessing.MinMaxScaler(feature_range=tuple(self.feature_range), clip=bool(self.clip))
        if self.bounds is None:
            scaler.fit(rows)
        else:
            scaler.fit(self._limits(rows.shape[1]).astype(rows.dtype))
        self.scaler_ = scaler
        self.data_min_ = scaler.data_min_
        self.data_max_ = scaler.data_max_

    def _forward(self, rows: np.ndarray) -> np.ndarray:
        return self.scaler_.transform(rows)

    def _backward(self, rows: np.ndarray) -> np.ndarray:
        return self.scaler_.inverse_transform(rows)


def _check_components(n_components: Any, rows: np.ndarray, name: str) -> None:
    if n_components is None:
        return
    n, d = rows.shape
    if isinstance(n_components, numbers.Integral) and not isinstance(n_components, bool):
        if not 1 <= n_components <= d:
            raise ConfigError(f"{name}: n_components={n_components} but X has {_columns(d)}; it must be in [1, {d}]")
        if n_components > n:
            raise ConfigError(f"{name}: n_components={n_components} needs at least that many samples, X has {n}")
        return
    if isinstance(n_components, numbers.Real) and not isinstance(n_components, bool) and 0 < n_components < 1:
        return
    raise ConfigError(
        f"{name}: n_components must be None, an integer number of components or a fraction of the variance "
        f"in (0, 1), got {n_components!r}"
    )


class PCA(_Numeric):
    """Principal component analysis as in the notes: centre on the training
    mean, then rotate onto the eigenvectors of the covariance matrix,
    ``X_rot = (X − mean) · U[:, :n_components]`` (wraps
    :class:`sklearn.decomposition.PCA`).

    ``n_components`` (an integer, or a fraction in (0, 1) to keep that
    share of the variance; None keeps min(samples, features)) reduces the
    dimensions by discarding the directions of least variance. The
    components are ordered by decreasing variance (``eigenvalues_``, the
    eigenvalues of C = XᵀX / n as in the notes) and their signs are fixed
    deterministically. ``inverse_transform`` maps back to the original
    features; with fewer components it returns the projection onto the
    kept subspace (the discarded variance is lost).
    """

    def __init__(self, n_components: Any = None, *, svd_solver: str = "full", random_state: int = 0):
        self.n_components = n_components
        self.svd_solver = svd_solver
        self.random_state = random_state

    def _fit(self, rows: np.ndarray) -> None:
        _check_components(self.n_components, rows, type(self).__name__)
        self.pca_ = sklearn.decomposition.PCA(
            n_components=self.n_components, svd_solver=self.svd_solver, random_state=self.random_state
        ).fit(rows)
        self.mean_ = self.pca_.mean_
        self.components_ = self.pca_.components_
        self.n_components_ = int(self.pca_.n_components_)
        self.eigenvalues_ = self.pca_.singular_values_**2 / rows.shape[0]
        self.explained_variance_ratio_ = self.pca_.explained_variance_ratio_

    @property
    def n_features_out_(self) -> int:
        self._require_fitted("n_features_out_")
        return self.n_components_

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        self._require_fitted("get_feature_names_out")
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(self.n_components_)], dtype=object)

    def _forward(self, rows: np.ndarray) -> np.ndarray:
        return self.pca_.transform(rows)

    def _backward(self, rows: np.ndarray) -> np.ndarray:
        return self.pca_.inverse_transform(rows)


class Whitening(PCA):
    """PCA whitening, the notes' formula: rotate by the eigenvectors, then
    divide each component by sqrt(eigenvalue + epsilon)::

        X_white = X_rot / sqrt(S + epsilon)       # S: eigenvalues of C = XᵀX / n

    On the training data the result has zero mean and (nearly) identity
    covariance: component k has variance S_k / (S_k + epsilon), so it is 1
    up to epsilon for every direction whose variance is well above
    epsilon. ``epsilon`` (default 1e-5) prevents division by zero; it also
    caps how much near-constant directions -- often noise -- are
    amplified, so a larger value tames that noise. ``n_components``
    reduces the dimensions first, as in :class:`PCA`. ``scale_`` holds
    sqrt(eigenvalues_ + epsilon).
    """

    def __init__(
        self, epsilon: float = 1e-5, n_components: Any = None, *, svd_solver: str = "full", random_state: int = 0
    ):
        self.epsilon = epsilon
        self.n_components = n_components
        self.svd_solver = svd_solver
        self.random_state = random_state

    def _check_params(self) -> None:
        real(self.epsilon, "Whitening epsilon (the notes use 1e-5)", 0, open_low=True)

    def _fit(self, rows: np.ndarray) -> None:
        super()._fit(rows)
        self.scale_ = np.sqrt(self.eigenvalues_ + float(self.epsilon)).astype(self.pca_.components_.dtype)

    def _forward(self, rows: np.ndarray) -> np.ndarray:
        return self.pca_.transform(rows) / self.scale_

    def _backward(self, rows: np.ndarray) -> np.ndarray:
        return self.pca_.inverse_transform(rows * self.scale_)


class OneHotEncoder(_Transform):
    """One 0/1 column per category of each categorical column, as the notes
    convert the mushroom data's 22 letter-coded columns into 126 binary
    inputs (wraps :class:`sklearn.preprocessing.OneHotEncoder`).

    X is a 2-D array (or DataFrame) of categories -- strings, integers or
    a mix (object dtype). ``columns`` lists the categorical columns (by
    index); None encodes them all. Other columns pass through as numbers.
    The output keeps the column order: each categorical column is
    replaced, in place, by its block of indicator columns (categories in
    sorted order, ``categories_``). ``names`` names the columns in
    messages and ``get_feature_names_out`` (a DataFrame's own column
    names by default). ``categories`` may give each categorical column's
    full list of categories up front (including ones absent from the
    training data), as scikit-learn's encoder takes it.

    The categories are learnt from the training data; by default
    (``handle_unknown="error"``) a category that ``transform`` has not seen
    raises DataError naming the column, the value and its row.
    ``handle_unknown="ignore"`` encodes it as an all-zero block instead, as
    cross-validation needs when a rare category is missing from a training
    fold. NaN and Inf are not categories: they raise DataError naming their
    index (impute missing values first). Numbers and strings may share an
    object array, so the encoder works inside a
    :class:`sklearn.compose.ColumnTransformer` next to a numeric transform::

        import numpy as np
        from sklearn.compose import ColumnTransformer
        import nervenet as nv

        X = np.array([["red", 1.5], ["blue", 2.0], ["red", 0.5]], dtype=object)
        both = ColumnTransformer([("oh", nv.data.OneHotEncoder(), [0]), ("sc", nv.data.Standardize(), [1])])
        both.fit_transform(X).shape  # (3, 3)
    """

    def __init__(
        self,
        categories: Any = "auto",
        *,
        columns: Optional[Sequence[int]] = None,
        names: Optional[Sequence[str]] = None,
        dtype: Any = np.float64,
        handle_unknown: str = "error",
    ):
        self.categories = categories
        self.columns = columns
        self.names = names
        self.dtype = dtype
        self.handle_unknown = handle_unknown

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True  # as scikit-learn's own encoder says
        return tags

    # -- helpers -----------------------------------------------------------------

    def _table(self, X: Any, method: str) -> np.ndarray:
        _not_sparse(X, "OneHotEncoder", method)
        try:
            arr = np.asarray(X.to_numpy(dtype=object) if hasattr(X, "to_numpy") and hasattr(X, "columns") else X)
        except (ValueError, TypeError) as e:
            raise ShapeError(f"OneHotEncoder.{method}: X cannot be read as an array: {e}") from None
        within(arr, f"OneHotEncoder.{method}: X")  # before the NaN check (a broadcast view may stand for terabytes)
        if arr.ndim != 2:
            hint = "; Reshape your data: for a single column pass X.reshape(-1, 1)" if arr.ndim == 1 else ""
            raise ShapeError(
                f"OneHotEncoder.{method}: X must be 2-D (samples, columns), got shape {_shape(arr.shape)}{hint}"
            )
        self._some_features(arr.shape, method)
        _non_finite(arr, "OneHotEncoder", method)
        return arr

    def _name(self, j: int) -> str:
        return repr(self.names_[j]) if self.names_ is not None else str(j)

    def _split(self, d: int) -> tuple[list[int], list[int]]:
        if self.columns is None:
            return list(range(d)), []
        try:
            cat = [int(c) for c in self.columns]
        except (TypeError, ValueError):
            raise ConfigError(f"OneHotEncoder columns must be column indices, got {self.columns!r}") from None
        bad = [c for c in cat if not -d <= c < d]
        if bad:
            raise ConfigError(f"OneHotEncoder columns {bad} are out of range for X with {_columns(d)}")
        cat = [c % d for c in cat]
        if len(set(cat)) != len(cat):
            raise ConfigError(f"OneHotEncoder columns {list(self.columns)!r} name a column twice")
        if not cat:
            raise ConfigError("OneHotEncoder columns is empty: name at least one categorical column")
        cat = sorted(cat)
        return cat, [j for j in range(d) if j not in set(cat)]

    def _encode(self, arr: np.ndarray, method: str) -> np.ndarray:
        """The indicator block of the categorical columns; unseen categories
        raise (in ``transform`` only with ``handle_unknown="error"``)."""
        try:
            enc = self.encoder_.transform(arr[:, self.categorical_])
        except TypeError as e:  # values of types that do not compare (a dict among strings)
            raise DTypeError(f"OneHotEncoder.{method}: {e}") from None
        if method == "transform" and self.handle_unknown == "ignore":
            return enc
        if enc.shape[0] and len(self.categorical_):
            hits = np.add.reduceat(enc, self._starts, axis=1)  # one 1 per known category, 0 if unseen
            missing = hits == 0
            if missing.any():
                row, k = (int(i) for i in np.argwhere(missing)[0])
                col = self.categorical_[k]
                known = [_plain(c) for c in self.encoder_.categories_[k]]
                shown = known if len(known) <= 20 else known[:20] + ["..."]
                when = "in the training data" if method == "transform" else "among the given categories"
                raise DataError(
                    f"OneHotEncoder.{method}: column {self._name(col)} has category {_plain(arr[row, col])!r} (row {row}) "
                    f"that is not {when}; known categories: {shown}"
                )
        return enc

    def _numbers(self, arr: np.ndarray) -> list[np.ndarray]:
        out = []
        for j in self.passthrough_:
            try:
                out.append(arr[:, j].astype(self.dtype))
            except (ValueError, TypeError) as e:
                raise DataError(
                    f"OneHotEncoder: column {self._name(j)} is not listed in columns, so it passes through as numbers, "
                    f"but it cannot be converted: {e}"
                ) from None
        return out

    # -- the estimator -------------------------------------------------------------

    def fit(self, X: Any, y: Any = None) -> "OneHotEncoder":
        """Learns each categorical column's categories from ``X`` (training data)."""
        if text(self.handle_unknown, "OneHotEncoder handle_unknown") not in ("error", "ignore"):
            raise ConfigError(f"OneHotEncoder handle_unknown must be 'error' or 'ignore', not {self.handle_unknown!r}")
        arr = self._table(X, "fit")
        n, d = arr.shape
        if n == 0:
            raise ShapeError(f"OneHotEncoder.fit needs at least one sample, got shape {_shape(arr.shape)}")
        names = self.names
        if names is None and hasattr(X, "columns"):
            names = [str(c) for c in X.columns]
        if names is not None:
            names = list(names)
            if len(names) != d:
                raise ShapeError(f"OneHotEncoder names has {len(names)} entries but X has {_columns(d)}")
        self.names_ = names
        self.categorical_, self.passthrough_ = self._split(d)
        self.encoder_ = sklearn.preprocessing.OneHotEncoder(
            categories=self.categories, handle_unknown="ignore", sparse_output=False, dtype=self.dtype
        )
        try:
            self.encoder_.fit(arr[:, self.categorical_])
        except TypeError as e:  # values of types that do not compare (a dict among strings)
            raise DTypeError(f"OneHotEncoder.fit: {e}") from None
        except ValueError as e:
            raise ConfigError(f"OneHotEncoder: {e}") from None
        self.categories_ = self.encoder_.categories_
        sizes = [len(c) for c in self.categories_]
        self._starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
        # Where each input column's block lands in the output (column order kept).
        widths = np.ones(d, dtype=np.intp)
        widths[self.categorical_] = sizes
        self._offsets = np.concatenate([[0], np.cumsum(widths)]).astype(np.intp)
        self.n_features_in_ = d
        if not (isinstance(self.categories, str) and self.categories == "auto"):
            self._encode(arr, "fit")  # training values outside the given categories
        self._numbers(arr)
        return self

    @property
    def n_features_out_(self) -> int:
        self._require_fitted("n_features_out_")
        return int(self._offsets[-1])

    def transform(self, X: Any) -> np.ndarray:
        """The encoded array, (samples, n_features_out_), in ``dtype``."""
        self._require_fitted("transform")
        arr = self._table(X, "transform")
        self._check_columns(arr.shape[1], arr.shape, self.n_features_in_, "transform")
        enc = self._encode(arr, "transform")
        if not self.passthrough_:
            return enc
        out = np.empty((arr.shape[0], self.n_features_out_), dtype=enc.dtype)
        block = np.concatenate([np.arange(self._offsets[j], self._offsets[j + 1]) for j in self.categorical_])
        out[:, block] = enc
        out[:, self._offsets[self.passthrough_]] = np.column_stack(self._numbers(arr))
        return out

    def inverse_transform(self, X: Any) -> np.ndarray:
        """The categories back (an object array when columns pass through);
        each block's largest entry picks the category."""
        self._require_fitted("inverse_transform")
        arr = self._table(X, "inverse_transform")
        self._check_columns(arr.shape[1], arr.shape, self.n_features_out_, "inverse_transform")
        block = np.concatenate([np.arange(self._offsets[j], self._offsets[j + 1]) for j in self.categorical_])
        cats = self.encoder_.inverse_transform(np.asarray(arr[:, block], dtype=np.float64))
        if not self.passthrough_:
            return cats
        out = np.empty((arr.shape[0], self.n_features_in_), dtype=object)
        out[:, self.categorical_] = cats
        out[:, self.passthrough_] = arr[:, self._offsets[self.passthrough_]]
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``name_category`` for indicator columns, ``name`` for pass-through ones."""
        self._require_fitted("get_feature_names_out")
        if input_features is None:
            input_features = self.names_ if self.names_ is not None else [f"x{j}" for j in range(self.n_features_in_)]
        input_features = [str(f) for f in input_features]
        encoded = self.encoder_.get_feature_names_out([input_features[j] for j in self.categorical_])
        out = np.empty(self.n_features_out_, dtype=object)
        block = np.concatenate([np.arange(self._offsets[j], self._offsets[j + 1]) for j in self.categorical_])
        out[block] = encoded
        for j in self.passthrough_:
            out[self._offsets[j]] = input_features[j]
        return out


class Chain(sklearn.pipeline.Pipeline):
    """A :class:`sklearn.pipeline.Pipeline` of transforms that raises
    nervenet's :class:`~nervenet.NotFittedError` when used before ``fit``. Build one
    with :func:`chain`; ``fit`` fits each step on the previous step's
    output of the training data."""

    def _require_fitted(self, method: str) -> None:
        for name, step in self.steps:
            if step is None or step == "passthrough":
                continue
            try:
                check_is_fitted(step)
            except sklearn.exceptions.NotFittedError:
                raise NotFittedError(
                    f"the chain's step {name!r} ({type(step).__name__}) is not fitted yet: call fit(X_train) "
                    f"on the training data before {method}"
                ) from None

    def transform(self, X: Any, **params: Any) -> Any:
        self._require_fitted("transform")
        return super().transform(X, **params)

    def inverse_transform(self, X: Any, **params: Any) -> Any:
        self._require_fitted("inverse_transform")
        return super().inverse_transform(X, **params)


def chain(*steps: Any) -> Chain:
    """Transforms applied in order, e.g. ``chain(Standardize(), PCA(10))``:
    a :class:`Chain` (an sklearn Pipeline) with ``fit`` / ``transform`` /
    ``fit_transform`` / ``inverse_transform`` (the last runs the steps
    backwards)."""
    if not steps:
        raise ConfigError("chain needs at least one transform")
    return Chain(sklearn.pipeline.make_pipeline(*steps).steps)
