"""scikit-learn estimators: nervenet networks as classifiers and regressors.

:class:`NervenetClassifier` and :class:`NervenetRegressor` take the options
of ``MLPClassifier`` / ``MLPRegressor`` where they mean the same thing
(``hidden_layer_sizes``, ``activation``, ``batch_size``, ``max_iter``,
``learning_rate_init``, ``tol``, ``n_iter_no_change``, ``early_stopping``,
``validation_fraction``, ``random_state``, ``verbose``) and nervenet's own
(``builder``: any graph; ``optimizer``, ``loss``, ``l2``, ``dtype``,
``init``). Each epoch runs whole in nervenet's trainer (one call into Rust
per epoch, no Python per batch); ``partial_fit`` trains one more epoch with
the same optimiser state. They pass scikit-learn's estimator checks, clone
and pickle, and sit in ``Pipeline``, ``GridSearchCV`` and
``cross_val_score``.

>>> import numpy as np
>>> from nervenet.sklearn import NervenetClassifier
>>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 8)
>>> y = np.array(["no", "yes", "yes", "no"] * 8)
>>> clf = NervenetClassifier((8,), activation="tanh", learning_rate_init=0.05, max_iter=300, random_state=0)
>>> clf.fit(X, y).predict(X[:4]).tolist()
['no', 'yes', 'yes', 'no']

This module is named after scikit-learn and imports it absolutely;
``import nervenet`` does not load it (``import nervenet.sklearn`` does).
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from nervenet import engine
from nervenet._checks import flag, integer, number, real
from nervenet.builders import mlp
from nervenet.errors import ConfigError
from nervenet.graph import Graph
from nervenet.network import Network
from nervenet.training import optim
from nervenet.training.fit import train_config

__all__ = ["NervenetClassifier", "NervenetRegressor"]

_OUTPUTS = ("default", "pandas", "polars")


class _NervenetEstimator(BaseEstimator):
    """What the classifier and the regressor share: the graph, the trainer
    and the epoch loop. Subclasses say how targets become network targets
    (``_targets``), the default loss and the validation score."""

    _default_loss = "mse"

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str = "relu",
        *,
        builder: Optional[Callable[[int, int], Graph]] = None,
        loss: Optional[str] = None,
        optimizer: Union[str, optim.Optimizer] = "adam",
        learning_rate_init: float = 0.001,
        batch_size: Union[int, str] = "auto",
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        l2: float = 0.0,
        init: str = "xavier",
        dtype: str = "float64",
        verbose: int = 0,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.builder = builder
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.l2 = l2
        self.init = init
        self.dtype = dtype
        self.verbose = verbose

    # ---- what subclasses define ----------------------------------------------

    def _targets(self, y: Any, first: bool, classes: Any = None) -> tuple[np.ndarray, int]:
        raise NotImplementedError

    # ---- the network ---------------------------------------------------------

    def _graph(self, n_inputs: int, n_outputs: int) -> Graph:
        if self.builder is not None:
            graph = self.builder(n_inputs, n_outputs)
            if not isinstance(graph, Graph):
                raise ConfigError(f"builder must return an nv.Graph, got {type(graph).__name__}")
            return graph
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if np.isscalar(sizes) else list(sizes)
        return mlp([n_inputs, *sizes, n_outputs], self.activation, "identity")

    def _optimizer(self) -> optim.Optimizer:
        if isinstance(self.optimizer, optim.Optimizer):
            return self.optimizer
        rules = {"adam": optim.Adam, "sgd": optim.SGD}
        if self.optimizer not in rules:
            raise ConfigError(f"optimizer must be 'adam', 'sgd' or an nv.optim rule, got {self.optimizer!r}")
        return rules[self.optimizer](self.learning_rate_init)

    def _start(self, n_outputs: int) -> None:
        """A fresh network and trainer for ``n_features_in_`` inputs."""
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        self.network_ = Network(self._graph(self.n_features_in_, n_outputs), self.dtype, self.init, seed)
        self._seed = seed
        self._trainer = None
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_: list[float] = []

    def _batch(self, n_samples: int) -> int:
        if self.batch_size == "auto":
            return min(200, n_samples)
        return min(int(self.batch_size), n_samples)

    def _loss(self) -> str:
        return self._default_loss if self.loss is None else self.loss

    def _epochs(self, X: np.ndarray, Y: np.ndarray, epochs: int, stop: bool) -> None:
        """Trains up to ``epochs`` epochs; with ``stop`` (fit), stops as
        MLPClassifier does: when the training loss (or, with
        ``early_stopping``, the validation loss) has not improved by ``tol``
        for ``n_iter_no_change`` epochs in a row."""
        net, loss = self.network_, self._loss()
        validation = None
        if stop and self.early_stopping:
            stratify = Y if is_classifier(self) else None
            X, Xv, Y, Yv = train_test_split(
                X, Y, test_size=self.validation_fraction, random_state=self._seed, stratify=stratify
            )
            validation = engine.prepare(net, Xv, Yv, loss)
        if self._trainer is None:
            config = train_config(
                loss, "mean", self._batch(len(X)), bool(self.shuffle), self._seed, self._optimizer(),
                None, None, None, None, None, None, 0.0, float(self.l2), 0.0, "fail",
            )
            self._trainer = engine.trainer(net, config)
        prepared = engine.prepare(net, X, Y, loss)
        best, best_params, waited = np.inf, None, 0
        for _ in range(epochs):
            report = engine.epoch(net, self._trainer, prepared, "mean", self.t_, None)
            self.t_ += 1
            self.n_iter_ += 1
            self.loss_ = float(report["loss"])
            self.loss_curve_.append(self.loss_)
            watched = self.loss_ if validation is None else float(engine.evaluate(net, validation)["loss"])
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}" + (
                    "" if validation is None else f", validation loss = {watched:.8f}"))
            if not stop:
                continue
            waited = waited + 1 if watched > best - self.tol else 0
            if watched < best:
                best = watched
                if validation is not None:
                    best_params = net.parameters
            if waited > self.n_iter_no_change:
                break
        else:
            if stop and epochs > 0:
                warnings.warn(
                    f"{type(self).__name__}: max_iter={self.max_iter} epochs reached and the optimisation "
                    "has not converged yet",
                    ConvergenceWarning,
                    stacklevel=3,
                )
        if best_params is not None:
            net.parameters = best_params
        self.best_loss_ = float(best) if stop else None

    def _check_options(self) -> None:
        """The options' types and ranges, each error naming its parameter
        (the graph's and optimiser's are checked where they are used)."""
        if self.batch_size != "auto":
            integer(self.batch_size, "batch_size", 1)
        integer(self.max_iter, "max_iter", 1)
        integer(self.n_iter_no_change, "n_iter_no_change", 1)
        integer(self.verbose, "verbose")
        number(self.tol, "tol")
        real(self.learning_rate_init, "learning_rate_init", 0.0, open_low=True)
        real(self.l2, "l2", 0.0)
        flag(self.shuffle, "shuffle")
        flag(self.early_stopping, "early_stopping")
        real(self.validation_fraction, "validation_fraction", 0.0, 1.0, open_low=True, open_high=True)

    def _fit(self, X: Any, y: Any, first: bool, epochs: int, stop: bool, classes: Any = None) -> Any:
        if first:
            self._check_options()
        classifier = is_classifier(self)
        X, y = validate_data(self, X, y, reset=first, dtype=np.float64, multi_output=not classifier,
                             y_numeric=not classifier)
        Y, n_outputs = self._targets(y, first, classes)
        if first:
            self._start(n_outputs)
        self._epochs(X, Y, epochs, stop)
        return self

    def fit(self, X: Any, y: Any) -> Any:
        """Trains a fresh network for up to ``max_iter`` epochs; returns self."""
        return self._fit(X, y, True, int(self.max_iter), True)

    def _outputs(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return np.asarray(self.network_.forward(X), dtype=np.float64)

    # ---- set_output, pickling, tags ------------------------------------------

    def set_output(self, *, transform: Optional[str] = None) -> Any:
        """The container of ``predict_proba`` (classifier) and
        ``predict`` (2-D regression) results: ``"pandas"`` or
        ``"polars"`` data frames with one column per class or target,
        ``"default"`` numpy arrays (``None`` leaves it unchanged). Named
        ``transform`` as scikit-learn's ``set_output`` has it, so
        ``Pipeline(...).set_output(transform="pandas")`` sets it too."""
        if transform is not None:
            if transform not in _OUTPUTS:
                raise ConfigError(f"set_output(transform=...) must be one of {_OUTPUTS}, got {transform!r}")
            self._output = transform
        return self

    def _container(self, values: np.ndarray, columns: Sequence[Any]) -> Any:
        kind = getattr(self, "_output", "default")
        if kind == "pandas":
            import pandas

            return pandas.DataFrame(values, columns=[str(c) for c in columns])
        if kind == "polars":
            import polars

            return polars.DataFrame(values, schema=[str(c) for c in columns])
        return values

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_trainer"] = None  # the optimiser's state lives in Rust; a later partial_fit starts a fresh one
        return state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class NervenetClassifier(ClassifierMixin, _NervenetEstimator):
    """A nervenet network as a scikit-learn classifier, trained with the
    softmax loss (cross-entropy on the outputs' softmax) by default.

    The graph is an MLP of ``hidden_layer_sizes`` with ``activation``
    hidden nodes and one identity output per class, or whatever
    ``builder(n_features, n_classes)`` returns (an ``nv.Graph``; use a
    module-level function or ``functools.partial`` so the estimator
    pickles). ``optimizer`` is ``"adam"`` or ``"sgd"`` at
    ``learning_rate_init``, or any ``nv.optim`` rule. After fit:
    ``classes_``, ``n_features_in_`` (and ``feature_names_in_`` for data
    frames), ``network_`` (the trained :class:`~nervenet.network.Network`),
    ``n_iter_``, ``loss_``, ``loss_curve_``.

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = load_iris(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), NervenetClassifier((16,), learning_rate_init=0.01, max_iter=100, random_state=0))
    >>> bool(model.fit(X, y).score(X, y) > 0.9)
    True
    """

    _default_loss = "softmax"

    def _targets(self, y: Any, first: bool, classes: Any = None) -> tuple[np.ndarray, int]:
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if first:
            self.classes_ = unique_labels(y) if classes is None else unique_labels(np.asarray(classes))
        known = np.isin(y, self.classes_)
        if not known.all():
            raise ConfigError(f"y holds labels that are not in classes_: {np.unique(y[~known]).tolist()[:10]}")
        return np.searchsorted(self.classes_, y).astype(np.int64), max(len(self.classes_), 1)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> "NervenetClassifier":
        """One more epoch over (X, y), keeping the optimiser's state; the
        first call needs ``classes`` (every label that will ever come)."""
        first = not hasattr(self, "classes_")
        if first and classes is None:
            raise ConfigError("the first partial_fit needs classes= (every label the data can hold)")
        return self._fit(X, y, first, 1, False, classes)

    def predict_proba(self, X: Any) -> Any:
        """Each class's probability, the softmax of the outputs: (n_samples, n_classes)."""
        out = self._outputs(X)
        shifted = np.exp(out - out.max(axis=1, keepdims=True))
        return self._container(shifted / shifted.sum(axis=1, keepdims=True), self.classes_)

    def predict_log_proba(self, X: Any) -> Any:
        """The log of :meth:`predict_proba`."""
        out = self._outputs(X)
        shifted = out - out.max(axis=1, keepdims=True)
        return self._container(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)), self.classes_)

    def predict(self, X: Any) -> np.ndarray:
        """The label of each sample's largest output."""
        out = self._outputs(X)
        return self.classes_[np.argmax(out, axis=1)]


class NervenetRegressor(RegressorMixin, _NervenetEstimator):
    """A nervenet network as a scikit-learn regressor (one target or
    several), trained with the mean squared error by default.

    The options and fitted attributes are :class:`NervenetClassifier`'s,
    with ``builder(n_features, n_targets)`` and no ``classes_``.

    >>> import numpy as np
    >>> X = np.linspace(-1, 1, 64).reshape(-1, 1)
    >>> reg = NervenetRegressor((16,), activation="tanh", learning_rate_init=0.003, max_iter=500, random_state=0)
    >>> bool(reg.fit(X, 2 * X[:, 0] + 1).score(X, 2 * X[:, 0] + 1) > 0.99)
    True
    """

    _default_loss = "mse"

    def _targets(self, y: Any, first: bool, classes: Any = None) -> tuple[np.ndarray, int]:
        y = np.asarray(y, dtype=np.float64)
        if first:
            self._one_target = y.ndim == 1
        Y = y.reshape(len(y), -1)
        return Y, Y.shape[1]

    def partial_fit(self, X: Any, y: Any) -> "NervenetRegressor":
        """One more epoch over (X, y), keeping the optimiser's state."""
        return self._fit(X, y, not hasattr(self, "network_"), 1, False)

    def predict(self, X: Any) -> Any:
        """Predictions, (n_samples,) for a 1-D target, else (n_samples, n_targets)."""
        out = self._outputs(X)
        if self._one_target:
            return out[:, 0]
        return self._container(out, range(out.shape[1]))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
