"""The Network: a compiled graph with its parameters, and the passes over it
(forward, loss and gradient, vector-Jacobian product, numeric gradient).

Data layout: X is (batch, features) or (batch, time, features); outputs come
back in the same layout, with n_outputs in place of features. All compute
runs in Rust with the GIL released; a C-contiguous X already in the
network's dtype is read in place, without a copy.
"""

from __future__ import annotations

import warnings
import os
from typing import TYPE_CHECKING, Any, Optional, Sequence, Union

import numpy as np

from . import _checks, _core, arrays, engine
from .errors import ConfigError, DataError, DTypeError, NervenetError, NervenetWarning, ShapeError
from .graph import Graph
from .graph.graph import _as_core_graph
from .parameters import ParameterGroup

if TYPE_CHECKING:
    from .training.history import History

__all__ = ["Network"]

PathLike = Union[str, "os.PathLike[str]"]

_DTYPES = ("float32", "float64")


def _dtype_name(dtype: Any) -> str:
    try:
        name: str = np.dtype(dtype).name
    except TypeError:
        raise DTypeError(f"unknown dtype {dtype!r}; networks run in float32 or float64") from None
    if name not in _DTYPES:
        raise DTypeError(f"networks run in float32 or float64, not {name}")
    return name


class Network:
    """A graph compiled into an execution plan, with a flat parameter vector.

    ``init`` chooses the weight initialiser (xavier, kaiming, fan_in,
    uniform, small, zeros); biases start at ``bias_init``; weights and biases
    preset in the graph keep their values. The same seed always gives the
    same parameters. ``dense_min_density`` / ``dense_min_edges`` tune when a
    group of edges runs as a dense GEMM rather than a sparse kernel.

    Non-finite data is rejected: NaN or Inf in X, targets or output gradients
    raises DataError naming the array and the index.
    """

    __slots__ = ("_net", "_dtype", "_image", "_groups", "_preprocessing", "_classes")

    def __init__(
        self,
        graph: Union[Graph, "_core.Graph"],
        dtype: Any = "float32",
        init: str = "xavier",
        seed: int = 0,
        *,
        bias_init: float = 0.0,
        dense_min_density: Optional[float] = None,
        dense_min_edges: Optional[int] = None,
    ) -> None:
        name = _dtype_name(dtype)
        init = _checks.text(init, "init")
        if init == "zeros":
            warnings.warn(
                "init='zeros' starts every weight at 0: hidden nodes fed by the same inputs compute the same "
                "thing and receive the same updates, so they never become different (the symmetry problem)",
                RuntimeWarning,
                stacklevel=2,
            )
        seed = _checks.seed(seed)
        if dense_min_edges is not None:
            dense_min_edges = _checks.integer(dense_min_edges, "dense_min_edges", 0, bits=63)
        core = _as_core_graph(graph)
        self._net = _core.Network(
            core,
            name,
            init,
            _checks.number(bias_init, "bias_init"),
            seed,
            None if dense_min_density is None else _checks.number(dense_min_density, "dense_min_density"),
            dense_min_edges,
        )
        unfed = core.unfed_outputs()
        if unfed:
            warnings.warn(
                f"output node{'s' if len(unfed) > 1 else ''} {', '.join(map(str, unfed[:10]))}"
                f"{f' (and {len(unfed) - 10} more)' if len(unfed) > 10 else ''} "
                f"{'have' if len(unfed) > 1 else 'has'} no incoming edges: "
                "whatever the inputs, such an output gives only its bias (0 without one); connect it",
                NervenetWarning,
                stacklevel=2,
            )
        self._dtype = np.dtype(name)
        self._image = _input_image(core)
        self._groups: Optional[list[ParameterGroup]] = None
        self._preprocessing: Any = None
        self._classes: Optional[list[Any]] = None

    # ---- description -------------------------------------------------------

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def n_inputs(self) -> int:
        return self._net.n_inputs

    @property
    def n_outputs(self) -> int:
        return self._net.n_outputs

    @property
    def n_params(self) -> int:
        return self._net.n_params

    @property
    def max_skip(self) -> int:
        """The largest time skip of any edge (0 for a feed-forward network)."""
        return self._net.max_skip

    def plan_summary(self) -> dict[str, int]:
        """What the compiled plan runs: ``levels``, ``max_skip``,
        ``dense_blocks`` / ``masked_blocks`` / ``sparse_blocks`` and the
        weights in dense (``dense_params``) and sparse (``sparse_params``) blocks."""
        return dict(self._net.plan_summary())

    @property
    def graph(self) -> Graph:
        """A copy of the network's graph."""
        return Graph._wrap(self._net.graph())

    def __repr__(self) -> str:
        return (
            f"Network(inputs={self.n_inputs}, outputs={self.n_outputs}, "
            f"params={self.n_params}, dtype={self._dtype.name!r})"
        )

    # ---- parameters ----------------------------------------------------------

    @property
    def parameter_names(self) -> list[str]:
        """Stable names in flat-vector order: ``edge:17``, ``edge:3[5]``,
        ``node:5:bias``, ``node:8:lstm.w_f`` (one string per parameter: for
        large networks use :attr:`groups`)."""
        return self._net.param_names

    @property
    def groups(self) -> list[ParameterGroup]:
        """The parameter groups in flat-vector order: one per edge's
        weight(s), node's bias(es), cell's own parameters or unit's gate
        biases, each with its name, kind, owner id, shape, slice of the flat
        vector and whether it trains (see :mod:`nervenet.parameters`).

        >>> import nervenet as nv
        >>> net = nv.Network(nv.mlp([2, 3, 1]))
        >>> [(g.name, g.shape) for g in net.groups][:2]
        [('node:2:bias', ()), ('node:3:bias', ())]
        """
        if self._groups is None:
            self._groups = [ParameterGroup(n, k, o, tuple(s), a, b, t) for n, k, o, s, a, b, t in self._net.groups()]
        return self._groups

    def get_group(self, name: str) -> np.ndarray:
        """A copy of one group's values in its shape, e.g. a filter's
        ``(filters, depth, kh, kw)`` (ParameterError if no group has that name)."""
        return self._net.get_group(_checks.text(name, "name"))

    def set_group(self, name: str, values: Any) -> None:
        """Replaces one group's values; ``values`` has the group's size (any
        shape of it). Non-finite values raise DataError, a wrong size
        ShapeError, changing a fixed group ParameterError."""
        arr = np.ascontiguousarray(arrays.as_float(values, "group values", self._dtype).reshape(-1))
        self._net.set_group(_checks.text(name, "name"), arr)

    def parameters_by_group(self) -> dict[str, np.ndarray]:
        """Every group's values as views (shaped) into one copy of the flat vector."""
        flat = self.parameters
        return {g.name: flat[g.start : g.stop].reshape(g.shape) for g in self.groups}

    @property
    def trainable(self) -> np.ndarray:
        """Bool array: which parameters train (fixed edges do not)."""
        return self._net.trainable

    @property
    def parameters(self) -> np.ndarray:
        """A copy of the flat parameter vector (network dtype).

        Assigning a 1-D array of length ``n_params`` replaces every value;
        non-finite values raise DataError, a wrong length ShapeError, and
        changing a fixed parameter ParameterError.
        """
        return self._net.get_parameters()

    @parameters.setter
    def parameters(self, values: Any) -> None:
        arr = arrays.as_float(values, "parameters", self._dtype)
        if arr.ndim != 1:
            raise ShapeError(f"parameters must be a 1-D array of {self.n_params} values, got shape {arr.shape}")
        self._net.set_parameters(arr)

    def parameter_index(self, name: str) -> int:
        """The flat-vector index of the parameter ``name`` (ParameterError,
        also a KeyError, if unknown)."""
        return self._net.param_index(_checks.text(name, "name"))

    def get_parameter(self, name: str) -> float:
        """One parameter by name (ParameterError, also a KeyError, if unknown)."""
        return self._net.get_param(_checks.text(name, "name"))

    def set_parameter(self, name: str, value: float) -> None:
        self._net.set_param(_checks.text(name, "name"), _checks.number(value, "value"))

    def named_parameters(self) -> dict[str, float]:
        return dict(zip(self._net.param_names, self._net.get_parameters().tolist()))

    # ---- passes ----------------------------------------------------------------

    def forward(self, X: Any, *, state: Any = None, return_state: bool = False) -> Any:
        """Outputs: (batch, n_outputs) for 2-D X, (batch, time, n_outputs) for 3-D X.

        Every sequence starts from a zero state unless ``state`` is given: the
        state a previous call returned with ``return_state=True``, an array
        (batch, memory, rows) of every node's recent values and the memory
        cells' states. Passing it on continues each sample's series where the
        previous chunk ended (generation step by step, or a long series in
        chunks); not passing it resets every series. With ``return_state``
        the result is ``(outputs, state)``. NaN or Inf in X raises DataError
        naming the index.
        """
        return engine.forward(self, X, state, return_state)

    @property
    def memory(self) -> int:
        """Steps of history a recurrent state holds (0 for feed-forward networks)."""
        return self._net.memory

    def loss_and_gradient(
        self,
        X: Any,
        Y: Any,
        loss: str = "mse",
        *,
        reduction: str = "sum",
        mask: Any = None,
        state: Any = None,
        return_state: bool = False,
    ) -> Any:
        """The loss and its gradient with respect to every parameter.

        Losses: l1, l2, mse, mae (float Y, shaped like the outputs; 1-D Y for
        a single output and 2-D X) and hinge, squared_hinge, softmax (integer
        class labels of shape (batch,) or (batch, time)). ``reduction`` is
        "sum" (the notes' convention) or "mean". ``mask`` (batch,) or
        (batch, time) weights each sample and step (0 leaves it out).
        Non-finite X/Y, labels out of range and negative mask values raise
        DataError naming the index.

        ``state`` starts each sequence from a state :meth:`forward` returned
        (truncated backpropagation through time: the gradient stops at the
        given state); ``return_state=True`` returns ``(loss, grad, state)``
        with the state after the last step, for the next chunk.
        """
        return engine.loss_and_gradient(self, engine.prepare(self, X, Y, loss, mask), reduction, state, return_state)

    def sgd_step(
        self,
        X: Any,
        Y: Any,
        loss: str = "mse",
        *,
        learning_rate: float = 0.01,
        reduction: str = "sum",
        mask: Any = None,
    ) -> float:
        """One step of vanilla gradient descent on this batch, in place.

        θ ← θ − learning_rate · ∇L (fixed parameters stay put), the notes'
        update. Returns the loss before the step. A step that would make a
        parameter NaN or infinite raises DataError and changes nothing.
        Arguments are as for :meth:`loss_and_gradient`.
        """
        return engine.sgd_step(self, engine.prepare(self, X, Y, loss, mask), reduction, learning_rate)

    def backward(
        self, X: Any, output_grad: Any, *, input_grads: bool = False
    ) -> tuple[np.ndarray, Optional[np.ndarray]]:
        """Vector-Jacobian product: (dL/dθ, dL/dX or None) for a given dL/d(outputs).

        ``output_grad`` has the shape of ``forward(X)``; dL/dX has X's shape.
        """
        return engine.backward(self, X, output_grad, input_grads)

    def numeric_gradient(
        self,
        X: Any,
        Y: Any,
        loss: str = "mse",
        *,
        step: Optional[float] = None,
        reduction: str = "sum",
        mask: Any = None,
    ) -> np.ndarray:
        """Central differences (f(θ+h) − f(θ−h)) / 2h per parameter, as float64
        (0 for fixed parameters). ``step`` defaults to 1e-5 in float64 and
        1e-3 in float32, whose rounding would swamp a smaller step."""
        prepared = engine.prepare(self, X, Y, loss, mask)
        return engine.numeric_gradient(self, prepared, reduction, engine.fd_step(self, step))

    # ---- training ------------------------------------------------------------

    def fit(
        self,
        X: Any,
        Y: Any,
        *,
        loss: str = "mse",
        optimizer: Any = None,
        epochs: int = 10,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int = 0,
        reduction: str = "mean",
        mask: Any = None,
        validation: Optional[Sequence[Any]] = None,
        schedule: Any = None,
        momentum_annealing: Any = None,
        clip_deltas: Optional[tuple[float, float]] = None,
        gradient_scale: Optional[float] = None,
        gradient_boost: Optional[float] = None,
        weight_cap: Optional[tuple[float, float]] = None,
        l1: float = 0.0,
        l2: float = 0.0,
        dropout: float = 0.0,
        on_non_finite: str = "fail",
        callbacks: Sequence[Any] = (),
        verbose: int = 1,
        resume: Optional[PathLike] = None,
        sampler: Any = None,
        truncate: Optional[int] = None,
    ) -> Any:
        """Trains by batch (``batch_size=0``), mini-batch or stochastic
        (``batch_size=1``) gradient descent; returns a :class:`History`.

        Each epoch shuffles (seeded: the same seed gives the same run) and
        walks the data, remainder batch included, in one call into Rust.
        ``optimizer`` is an ``nv.optim`` rule (default ``SGD(0.01)``),
        ``schedule`` anneals its learning rate per epoch. Safeguards from
        the notes: ``clip_deltas=(100, 10)`` clips output / hidden node
        deltas, ``gradient_scale`` / ``gradient_boost`` rescale the whole
        gradient to that L2 norm when above / below it, ``weight_cap=(t, s)``
        caps weights, ``l1`` / ``l2`` regularise weights, ``dropout`` drops
        hidden nodes with that probability while training (inverted dropout:
        kept values are scaled by 1/(1 − p), so inference needs no change).
        A NaN or Inf raises
        DataError naming the epoch, batch and parameters (the network keeps
        the weights from the start of that epoch), or with
        ``on_non_finite="rollback"`` the epoch is replayed from there with
        the learning rate halved. ``validation=(Xv, Yv[, mask])`` adds
        ``val_*`` metrics.

        ``verbose=1`` prints a line per epoch to stderr (loss, metrics,
        validation metrics, seconds), to a terminal or a log file alike,
        with progress bars over the epochs and the running epoch's batches
        in a terminal; ``verbose=2`` adds the learning rate, gradient norm
        and update/weight ratio; ``0`` prints nothing. Ctrl-C stops
        training with the weights of the last finished epoch (and says so).

        ``truncate=k`` trains sequences by truncated BPTT: each batch of
        sequences is cut into windows of k steps, one gradient step per
        window in time order, each window starting from the state the
        previous one ended in (zeros at the start of every sequence).

        ``sampler`` (``nv.data.UpSampler(y)`` / ``nv.data.DownSampler(y)``,
        or any object with ``indices(epoch) -> int array``) chooses each
        epoch's samples, e.g. to balance classes: epoch e trains on
        ``X[sampler.indices(e)]`` (with the matching Y and mask rows), and
        the trainer still shuffles within the epoch. This copies the
        epoch's rows of X, Y and mask (memory for one epoch's worth of
        data); validation is unaffected.

        ``resume=path`` continues from a checkpoint written by
        ``nv.callbacks.ModelCheckpoint``: parameters, optimiser state,
        History and the next epoch are restored, and training runs on to
        ``epochs`` (counted from the start of the run), ending with the
        same weights, bit for bit, as a run never interrupted. The graph,
        dtype and every training option must match the checkpoint's
        (ConfigError names the first difference).
        """
        from .training.fit import fit, train_config

        config = train_config(
            loss, reduction, batch_size, shuffle, seed, optimizer, schedule, momentum_annealing,
            clip_deltas, gradient_scale, gradient_boost, weight_cap, l1, l2, dropout, on_non_finite,
            truncate,
        )
        return fit(self, X, Y, loss=loss, epochs=epochs, validation=validation, callbacks=callbacks,
                   verbose=verbose, mask=mask, config=config, resume=resume, sampler=sampler)

    # ---- files -----------------------------------------------------------------

    def save(self, path: PathLike, *, history: Optional["History"] = None) -> None:
        """Writes the network to one safetensors file: the parameters, with
        the graph JSON, dtype, :attr:`classes` and :attr:`preprocessing`
        (and ``history``, if given) in its metadata, so the file predicts on
        its own. The write is atomic: a temporary file in the same folder is
        renamed over ``path``, so a failure leaves any previous file intact.
        A folder that does not exist raises MissingFileError naming ``path``."""
        from .io import save_network

        save_network(self, path, history=history)

    @classmethod
    def load(cls, path: PathLike) -> "Network":
        """Reads a network written by :meth:`save` (or a checkpoint, or
        ``nervenet train``), with its classes and preprocessing. No code
        runs while loading; a truncated, corrupted or modified file, or one
        whose parameters do not match its graph, raises FormatError naming
        the file and the fault; a missing path or a folder MissingFileError
        (also a FileNotFoundError)."""
        from .io import load_network

        return load_network(path)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickles as its graph (JSON), dtype, parameters, classes and
        preprocessing, as :meth:`save` stores them (scikit-learn's estimators
        and process pools copy networks this way)."""
        return (_unpickle, (self.graph.to_json(), self._dtype.name, self.parameters, self._classes, self._preprocessing))

    def evaluate(self, X: Any, Y: Any, loss: str = "mse", *, mask: Any = None) -> dict[str, float]:
        """The loss per sample (and step), with accuracy for class targets or
        mse and mae for value targets."""
        from .training.fit import evaluate

        return evaluate(self, X, Y, loss, mask)

    def to_onnx(self, path: Optional[PathLike] = None, *, preprocessing: bool = True,
                dense_min_density: float = 0.05, standard_layers: bool = True) -> Any:
        """Exports the network as an ONNX model (opset 18, IR version 9),
        writes it to ``path`` when given and returns the ``onnx.ModelProto``;
        see :mod:`nervenet.onnx_export` for the inputs, outputs and operators.
        Needs the onnx package (``pip install "nervenet[onnx]"``); a part with
        no ONNX form raises UnsupportedError naming the node or edge.

        >>> import nervenet as nv
        >>> model = nv.Network(nv.mlp([2, 3, 1])).to_onnx()
        >>> [i.name for i in model.graph.input], [o.name for o in model.graph.output]
        (['X'], ['Y'])
        """
        from .onnx_export import export

        return export(self, path, preprocessing=preprocessing, dense_min_density=dense_min_density,
                      standard_layers=standard_layers)

    # ---- predictions on raw data ---------------------------------------------

    @property
    def preprocessing(self) -> Any:
        """The fitted transform :meth:`predict` applies to raw inputs, or None.

        Any fitted ``nv.data`` transform (``Standardize``, ``MinMaxScale``,
        ``PCA``, ``OneHotEncoder``, a ``chain`` of them), the
        ``ColumnPreprocessor`` of ``nervenet train``, or scikit-learn's
        ``StandardScaler``, ``MinMaxScaler``, ``OneHotEncoder``, ``PCA`` or
        ``Pipeline`` of them. :meth:`save` stores it in the model file (its
        fitted statistics, never pickled code) and :meth:`load` restores it.
        Anything else raises ConfigError when assigned.

        >>> import numpy as np, nervenet as nv
        >>> X = np.array([[150.0, 2.0], [170.0, 4.0], [190.0, 6.0]])
        >>> scale = nv.data.Standardize().fit(X)
        >>> net = nv.Network(nv.mlp([2, 2]), seed=0)
        >>> _ = net.fit(scale.transform(X), np.array([0, 0, 1]), loss="softmax", epochs=2, verbose=0)
        >>> net.preprocessing, net.classes = scale, ["short", "tall"]
        >>> net.predict(X).shape  # raw rows in, labels out (and so after save and load)
        (3,)
        """
        return self._preprocessing

    @preprocessing.setter
    def preprocessing(self, transform: Any) -> None:
        if transform is not None:
            from .data import stored

            stored.check(transform)
            stored.encode(transform)  # refuse now what save could not store
        self._preprocessing = transform

    @property
    def classes(self) -> Optional[list[Any]]:
        """The class label of each output (strings or integers), or None.

        When set, the network is a classifier: :meth:`predict` returns, per
        sample (and step), the label of the largest output. :meth:`save`
        stores the labels. There must be one label per output (ShapeError),
        each a string or an integer, no two alike (ConfigError)."""
        return None if self._classes is None else list(self._classes)

    @classes.setter
    def classes(self, labels: Any) -> None:
        if labels is None:
            self._classes = None
            return
        if isinstance(labels, (str, bytes, dict)) or not hasattr(labels, "__iter__"):
            raise ConfigError(f"classes must be a sequence of labels (one per output), got {labels!r}")
        values = [v.item() if isinstance(v, np.generic) else v for v in labels]
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (str, int)):
                raise ConfigError(f"classes must be strings or integers, got {v!r} ({type(v).__name__})")
        if len(set(values)) != len(values):
            dup = next(v for i, v in enumerate(values) if v in values[:i])
            raise ConfigError(f"classes lists {dup!r} twice")
        if len(values) != self.n_outputs:
            raise ShapeError(f"classes has {len(values)} labels but the network has {self.n_outputs} outputs")
        self._classes = values

    def _raw_inputs(self, X: Any) -> Any:
        """X through :attr:`preprocessing` (when set), checked against the inputs."""
        if self._preprocessing is None:
            return X
        name = type(self._preprocessing).__name__
        try:
            ready = self._preprocessing.transform(X)
        except NervenetError:
            raise
        except Exception as e:  # a scikit-learn transform's own errors
            raise DataError(f"the network's preprocessing ({name}) cannot transform X: {e}") from None
        width = np.shape(ready)[-1] if np.ndim(ready) else None
        if self._image is None and width != self.n_inputs:
            raise ShapeError(
                f"the network's preprocessing ({name}) makes {width} features of X, but the network takes "
                f"{self.n_inputs} inputs"
            )
        return ready

    def predict(self, X: Any) -> np.ndarray:
        """Predictions for raw data: X goes through :attr:`preprocessing`
        (when set) and the network; with :attr:`classes` set the result is
        each sample's class label, shape (batch,) (or (batch, time) for 3-D
        X), else the outputs themselves, as :meth:`forward` gives them.

        :meth:`forward` stays the raw pass: network-ready inputs in, outputs
        (scores, logits) out, no preprocessing and no labels.

        >>> import numpy as np, nervenet as nv
        >>> net = nv.Network(nv.mlp([2, 3]), seed=0)
        >>> net.classes = ["a", "b", "c"]
        >>> net.predict(np.zeros((2, 2))).shape
        (2,)
        """
        outputs = self.forward(self._raw_inputs(X))
        if self._classes is None:
            return outputs
        return np.asarray(self._classes)[np.argmax(outputs, axis=-1)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities for raw data: the softmax of the outputs over
        the last axis, after :attr:`preprocessing`: (batch, n_outputs), or
        (batch, time, n_outputs) for 3-D X. Column k belongs to
        ``classes[k]``. These are the model's probabilities when it was
        trained with ``loss="softmax"`` (whose outputs are logits)."""
        outputs = np.asarray(self.forward(self._raw_inputs(X)), dtype=np.float64)
        shifted = np.exp(outputs - outputs.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)


def _input_image(graph: "_core.Graph") -> Optional[tuple[int, int, int]]:
    """(C, H, W) when the network's only input is a feature map."""
    inputs = graph.inputs()
    if len(inputs) != 1:
        return None
    node = graph.node(inputs[0])
    if node["kind"] != "feature_map":
        return None
    return (int(node["channels"]), int(node["height"]), int(node["width"]))


def _unpickle(graph: str, dtype: str, parameters: np.ndarray, classes: Any, preprocessing: Any) -> Network:
    net = Network(Graph.from_json(graph), dtype)
    net.parameters = parameters
    net._classes, net._preprocessing = classes, preprocessing
    return net
