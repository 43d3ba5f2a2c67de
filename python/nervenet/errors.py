"""The nervenet exception hierarchy.

Every error nervenet raises is a :class:`NervenetError`. Most classes also
derive from the builtin exception a Python user would expect, so existing
``except ValueError`` / ``except KeyError`` code keeps working:

==================  =========================================================
class               raised for
==================  =========================================================
GraphError          malformed graphs: cycles among ``time_skip=0`` edges,
                    edges into input nodes, unknown or duplicate ids
ShapeError          arrays of the wrong shape (also a ``ValueError``)
DataError           bad values: NaN/Inf, labels out of range, negative mask
                    (also a ``ValueError``)
ParameterError      unknown or fixed parameter names (also a ``KeyError``)
UnsupportedError    node/edge kinds the engine cannot run yet (also a
                    ``NotImplementedError``)
ConfigError         unknown names (loss, init, activation) and bad option
                    values (also a ``ValueError``)
FormatError         malformed graph JSON / model files (also a ``ValueError``)
DTypeError          arrays of an unusable dtype (also a ``TypeError``)
BusyError           a network changed (``fit``, ``set_parameters``,
                    ``sgd_step``) while another thread uses it, or used
                    while another thread trains it (also a ``RuntimeError``)
InternalError       a bug in nervenet caught before it could crash the
                    process; please report it (also a ``RuntimeError``)
==================  =========================================================

and their refinements: :class:`InvalidConfig` (a config key at fault),
:class:`UsageError` (a bad command line), :class:`MissingFileError`
(a model, checkpoint, graph or data file that does not exist or is a
folder; also a ``FileNotFoundError``, and still importable under its former
name ``DataFileNotFoundError``), :class:`NotFittedError` (a transform used
before ``fit``). Its warnings are
:class:`NervenetWarning`.

The Rust extension raises these same classes (it looks them up here).
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = [
    "NervenetError",
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
    "NervenetWarning",
]


class NervenetError(Exception):
    """Base class of every nervenet error."""


class GraphError(NervenetError):
    """The graph is malformed; the message names the node or edge at fault."""


class ShapeError(NervenetError, ValueError):
    """An array has the wrong shape; the message gives the shape received and the one expected."""


class DataError(NervenetError, ValueError):
    """A value is invalid (NaN/Inf, class label out of range, negative mask); the message names its index."""


class ParameterError(NervenetError, KeyError):
    """A parameter name the network does not have, or a fixed parameter that cannot change."""

    def __str__(self) -> str:
        # KeyError quotes its argument; show the message as written.
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class UnsupportedError(NervenetError, NotImplementedError):
    """The graph uses a node or edge kind the execution engine cannot run yet."""


class ConfigError(NervenetError, ValueError):
    """An unknown name (loss, init, activation, ...) or an invalid option value."""


class FormatError(NervenetError, ValueError):
    """Malformed serialized data (graph JSON)."""


class DTypeError(NervenetError, TypeError):
    """An array has a dtype nervenet cannot use (complex, object, strings, float class labels, ...)."""


class BusyError(NervenetError, RuntimeError):
    """The network is in use by another thread: a change (``fit``,
    ``set_parameters``, ``set_param``, ``sgd_step``) while another call runs
    on it, or any call while another thread's ``fit`` trains it. Nothing was
    changed; retry when the other call has finished. Concurrent forward-only
    calls (``forward``, ``predict``, ``evaluate``) never conflict."""


class InternalError(NervenetError, RuntimeError):
    """A bug in nervenet, caught before it could end the process (a Rust
    panic); the message says where. Please report it."""


class InvalidConfig(ConfigError):
    """A config problem; ``key`` is the dotted path of the key at fault."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}" if key else problem)
        self.key, self.problem = key, problem


class UsageError(NervenetError):
    """A bad command-line argument of the ``nervenet`` command (exit status 2)."""


class MissingFileError(FormatError, FileNotFoundError):
    """A file nervenet was asked to read or write into does not exist, or is
    a folder where a file was expected: a model, checkpoint, graph or data
    file, or the folder a file is saved into. The message names the path.
    ``except FileNotFoundError`` also catches it."""


# The name of MissingFileError when only the data loaders raised it.
DataFileNotFoundError = MissingFileError


class NervenetWarning(UserWarning):
    """Something that runs but is almost certainly not what was meant (an
    output node that nothing feeds); ``warnings.simplefilter("error",
    nv.NervenetWarning)`` turns these into errors."""


def _not_fitted_error() -> type:
    import sklearn.exceptions

    class NotFittedError(NervenetError, sklearn.exceptions.NotFittedError):
        """A transform was used before ``fit``. Also scikit-learn's
        ``NotFittedError`` (so a ``ValueError`` and an ``AttributeError``)."""

    NotFittedError.__qualname__ = "NotFittedError"  # as pickle and tracebacks name it
    return NotFittedError


_made = threading.Lock()


def __getattr__(name: str) -> Any:
    # NotFittedError derives from scikit-learn's, whose import costs most of
    # a second: it is made the first time it is asked for (the preprocessing
    # classes ask on import), and is the same class from then on.
    if name == "NotFittedError":
        with _made:  # one class, whichever thread asks first
            if name not in globals():
                globals()[name] = _not_fitted_error()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
