"""nervenet: neural networks as explicit graphs of nodes and edges.

You decide how nodes connect (skipped layers, sparse edges, recurrent edges of
any time skip); a Rust core compiles the graph into batched kernels::

    import nervenet as nv
    g = nv.Graph()
    x = g.add_inputs(2); h = g.add_nodes(2, activation="tanh"); y = g.add_outputs(1, activation="sigmoid")
    g.connect_all(x, h); g.connect_all(h, y)
    g.connect(h[0], h[0], time_skip=1)                 # a recurrent self edge
    net = nv.Network(g, dtype="float64", init="xavier", seed=0)
    net.forward(X)                                     # (batch, inputs) or (batch, time, inputs)
    loss, grad = net.loss_and_gradient(X, Y, loss="l2")
    nv.check_gradients(net, X, Y, loss="l2")           # max relative error, per parameter report
    net.save("model.safetensors"); nv.Network.load("model.safetensors")
"""

from typing import Any

from .errors import (
    BusyError,
    ConfigError,
    DataError,
    DataFileNotFoundError,
    DTypeError,
    FormatError,
    GraphError,
    InternalError,
    InvalidConfig,
    MissingFileError,
    NervenetError,
    NervenetWarning,
    ParameterError,
    ShapeError,
    UnsupportedError,
    UsageError,
)
from . import _core
from .builders import mlp, random_graph
from .gradcheck import GradientReport, check_gradients, numeric_gradient
from .graph import Graph
from .network import Network
from .threads import get_memory_budget, get_num_threads, set_inference_memory, set_memory_budget, set_num_threads
from . import data
from . import cnn, interop, rnn
from . import evolution
from . import experiments
from .generate import generate
from .training import callbacks, optim
from . import io
from . import drawing, machine, search
from .training.history import History

__version__: str = _core.__version__


def __getattr__(name: str) -> Any:
    # NotFittedError derives from scikit-learn's: made on first use, so that
    # importing nervenet does not import scikit-learn.
    if name == "NotFittedError":
        return errors.NotFittedError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"NotFittedError"})

__all__ = [
    "Graph",
    "Network",
    "mlp",
    "random_graph",
    "check_gradients",
    "numeric_gradient",
    "GradientReport",
    "History",
    "callbacks",
    "data",
    "optim",
    "io",
    "search",
    "machine",
    "drawing",
    "evolution",
    "experiments",
    "rnn",
    "cnn",
    "interop",
    "generate",
    "set_inference_memory",
    "set_memory_budget",
    "get_memory_budget",
    "set_num_threads",
    "get_num_threads",
    "NervenetError",
    "NervenetWarning",
    "GraphError",
    "ShapeError",
    "DataError",
    "ParameterError",
    "UnsupportedError",
    "ConfigError",
    "FormatError",
    "DTypeError",
    "BusyError",
    "InternalError",
    "InvalidConfig",
    "UsageError",
    "MissingFileError",
    "DataFileNotFoundError",
    "NotFittedError",
    "__version__",
]
