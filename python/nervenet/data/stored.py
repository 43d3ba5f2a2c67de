"""Fitted preprocessing as a model file stores it: a JSON tree plus numeric
arrays (saved as safetensors tensors), without pickle.

A transform is stored as its class — one of an allow-list: nervenet's
transforms, :class:`~nervenet.data.ColumnPreprocessor` and the
scikit-learn classes they wrap (which may also be attached directly) — and
its attributes, both the constructor's parameters and the fitted state
(scikit-learn estimators keep both in ``__dict__``). Reading creates only
allow-listed classes and sets only plain values on them: numbers, strings,
lists, dicts, numpy arrays and scalars, dtypes and nested allow-listed
transforms. Anything else is refused when storing (ConfigError naming the
attribute) and when reading (the caller's ``fail``: a FormatError naming the model file).

    >>> import numpy as np, nervenet as nv
    >>> from nervenet.data import stored
    >>> scale = nv.data.Standardize().fit(np.array([[0.0], [2.0]]))
    >>> tree, arrays = stored.encode(scale)
    >>> again = stored.decode(tree, arrays, ValueError)
    >>> again.transform(np.array([[4.0]])).tolist()
    [[3.0]]
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

import numpy as np

from ..errors import ConfigError

__all__ = ["check", "encode", "decode", "storable_classes"]

# Array dtypes stored as tensors (what safetensors holds).
_TENSOR_KINDS = "biuf"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_DEPTH = 32  # nested transforms and containers; far more than any real chain


def storable_classes() -> dict[str, type]:
    """The allow-list: public name -> class (scikit-learn is imported here,
    only when a model's preprocessing is stored or read)."""
    import sklearn.decomposition
    import sklearn.pipeline
    import sklearn.preprocessing

    from . import preprocessing as pre
    from .columns import ColumnPreprocessor

    classes: dict[str, type] = {
        f"nervenet.data.{c.__name__}": c
        for c in (pre.Standardize, pre.MeanSubtraction, pre.MinMaxScale, pre.PCA, pre.Whitening,
                  pre.OneHotEncoder, pre.Chain, ColumnPreprocessor)
    }
    for c in (sklearn.preprocessing.StandardScaler, sklearn.preprocessing.MinMaxScaler,
              sklearn.preprocessing.OneHotEncoder, sklearn.decomposition.PCA, sklearn.pipeline.Pipeline):
        classes[f"sklearn.{c.__module__.split('.')[1]}.{c.__name__}"] = c
    return classes


def encode(transform: Any) -> tuple[Any, dict[str, np.ndarray]]:
    """``transform`` as (JSON-able tree, arrays by name "0", "1", ...);
    ConfigError naming the attribute if something in it cannot be stored."""
    names = {cls: name for name, cls in storable_classes().items()}
    arrays: dict[str, np.ndarray] = {}

    def value(v: Any, where: str, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise ConfigError(f"cannot store the preprocessing: {where} nests more than {_MAX_DEPTH} levels")
        if v is None or isinstance(v, (bool, int, str)):
            return v
        if isinstance(v, float):
            return v if math.isfinite(v) else {"float": repr(v)}
        if isinstance(v, (list, tuple)):
            items = [value(x, f"{where}[{i}]", depth + 1) for i, x in enumerate(v)]
            return {"list" if isinstance(v, list) else "tuple": items}
        if isinstance(v, dict) and all(isinstance(k, str) for k in v):
            return {"dict": {k: value(x, f"{where}[{k!r}]", depth + 1) for k, x in v.items()}}
        if isinstance(v, np.ndarray):
            if v.dtype.kind in _TENSOR_KINDS:
                key = str(len(arrays))
                arrays[key] = v
                return {"array": key}
            if v.dtype.kind in "UO":
                return {"strings" if v.dtype.kind == "U" else "objects": value(v.reshape(-1).tolist(), where, depth + 1),
                        "shape": list(v.shape)}
        if isinstance(v, np.generic) and v.dtype.kind in _TENSOR_KINDS:
            return {"scalar": value(v.item(), where, depth + 1), "dtype": v.dtype.name}
        if isinstance(v, np.dtype) and v.kind in _TENSOR_KINDS:
            return {"dtype": v.name}
        if isinstance(v, type) and issubclass(v, np.generic) and np.dtype(v).kind in _TENSOR_KINDS:
            return {"type": np.dtype(v).name}
        if type(v) in names:
            state = {k: value(x, f"{where}.{k}", depth + 1) for k, x in vars(v).items()}
            return {"transform": names[type(v)], "state": state}
        raise ConfigError(
            f"cannot store the preprocessing: {where} is a {type(v).__name__}; a model file holds numbers, strings, "
            f"lists, numpy arrays and the transforms {', '.join(sorted(n.split('.')[-1] for n in names.values()))}"
        )

    if type(transform) not in names:
        raise ConfigError(
            f"cannot store {type(transform).__name__} as a model's preprocessing; use one of "
            f"{', '.join(sorted(names.values()))} (or a chain of them)"
        )
    return value(transform, type(transform).__name__, 0), arrays


def decode(tree: Any, arrays: dict[str, np.ndarray], fail: Callable[[str], Exception]) -> Any:
    """The transform ``encode`` stored; ``fail(message)`` makes the error
    for anything that is not such a tree."""
    classes = storable_classes()

    def value(v: Any, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise fail(f"the stored preprocessing nests more than {_MAX_DEPTH} levels")
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, dict) and len(v) in (1, 2):
            if set(v) == {"float"} and v["float"] in ("nan", "inf", "-inf"):
                return float(v["float"])
            if set(v) == {"list"} and isinstance(v["list"], list):
                return [value(x, depth + 1) for x in v["list"]]
            if set(v) == {"tuple"} and isinstance(v["tuple"], list):
                return tuple(value(x, depth + 1) for x in v["tuple"])
            if set(v) == {"dict"} and isinstance(v["dict"], dict):
                return {k: value(x, depth + 1) for k, x in v["dict"].items()}
            if set(v) == {"array"} and isinstance(v["array"], str) and v["array"] in arrays:
                return arrays[v["array"]]
            if set(v) in ({"strings", "shape"}, {"objects", "shape"}):
                return _array(v, value, depth, fail)
            if set(v) == {"scalar", "dtype"}:
                return _scalar(_dtype(v["dtype"], fail), value(v["scalar"], depth + 1), fail)
            if set(v) == {"dtype"}:
                return _dtype(v["dtype"], fail)
            if set(v) == {"type"}:
                return _dtype(v["type"], fail).type
            if set(v) == {"transform", "state"} and isinstance(v["transform"], str) and isinstance(v["state"], dict):
                return _transform(v, value, depth, classes, fail)
        raise fail(f"the stored preprocessing holds an unreadable entry {str(v)[:80]}")

    return value(tree, 0)


def _dtype(name: Any, fail: Callable[[str], Exception]) -> np.dtype:
    try:
        dtype = np.dtype(name) if isinstance(name, str) and _NAME.fullmatch(name) else None
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in _TENSOR_KINDS:
        raise fail(f"the stored preprocessing names an unknown dtype {str(name)[:40]!r}")
    return dtype


def _scalar(dtype: np.dtype, number: Any, fail: Callable[[str], Exception]) -> Any:
    if isinstance(number, (bool, int, float)):
        try:
            with np.errstate(all="raise"):
                return dtype.type(number)
        except (ValueError, TypeError, OverflowError, FloatingPointError):
            pass
    raise fail(f"the stored preprocessing holds {str(number)[:40]!r}, which is not a {dtype.name}")


def _array(v: dict[str, Any], value: Any, depth: int, fail: Callable[[str], Exception]) -> np.ndarray:
    items, shape = value(v.get("strings", v.get("objects")), depth + 1), v["shape"]
    if not (isinstance(items, list) and isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)
            and math.prod(shape) == len(items)):
        raise fail("the stored preprocessing holds an array whose shape does not match its values")
    if "strings" in v:
        if not all(isinstance(s, str) for s in items):
            raise fail("the stored preprocessing holds a string array with values that are not strings")
        return np.array(items, dtype=str).reshape(shape)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out.reshape(shape)


def _transform(v: dict[str, Any], value: Any, depth: int, classes: dict[str, type],
               fail: Callable[[str], Exception]) -> Any:
    cls = classes.get(v["transform"])
    if cls is None:
        raise fail(f"the stored preprocessing names {str(v['transform'])[:60]!r}, which is not a storable transform")
    obj = cls.__new__(cls)
    for key, x in v["state"].items():
        if not _NAME.fullmatch(key) or key.startswith("__"):
            raise fail(f"the stored preprocessing sets an attribute {key[:40]!r}, which is not a plain name")
        obj.__dict__[key] = value(x, depth + 1)
    return obj


def check(transform: Any) -> None:
    """A ConfigError unless ``transform`` has a callable ``transform``."""
    if not callable(getattr(transform, "transform", None)):
        raise ConfigError(
            f"preprocessing must be a fitted transform with a transform(X) method (nv.data.Standardize, "
            f"nv.data.ColumnPreprocessor, a chain, ...), got {transform!r}"
        )

