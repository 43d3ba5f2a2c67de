"""A model's preprocessing as ONNX operators in front of the network, so
the exported model takes raw features as ``Network.predict`` does:

* standardisation and mean subtraction (``Standardize``, ``MeanSubtraction``,
  scikit-learn's ``StandardScaler``): Sub, Div;
* min-max scaling (``MinMaxScale``, ``MinMaxScaler``): Mul, Add (Clip when
  fitted with ``clip=True``);
* PCA and whitening (``PCA``, ``Whitening``, scikit-learn's ``PCA``): Sub,
  MatMul (Div);
* one-hot encoding of numeric categories (``OneHotEncoder``, scikit-learn's
  ``OneHotEncoder`` without ``drop`` or infrequent categories): one Equal
  against the column's categories, a value outside them giving all zeros;
  pass-through columns stay in place;
* the ``ColumnPreprocessor`` of ``nervenet train`` when every column is
  numeric: Sub, Div;
* a ``chain`` / ``Pipeline`` of these, in order.

Everything works along the last axis, so (N, features) and (N, T, features)
both go through. Anything else (a ``ColumnPreprocessor`` with text columns,
string categories) raises UnsupportedError naming it; export with
``preprocessing=False`` and run it before the model instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import UnsupportedError
from .builder import Builder


def front(b: Builder, transform: Any, x: str) -> tuple[str, int]:
    """``transform`` applied to ``x``; returns the result and the raw width
    (the features ``x`` must have)."""
    from ..data.columns import ColumnPreprocessor

    width = len(transform.columns) if isinstance(transform, ColumnPreprocessor) else int(transform.n_features_in_)
    return _apply(b, transform, x), width


def _apply(b: Builder, t: Any, x: str) -> str:
    import sklearn.decomposition
    import sklearn.pipeline
    import sklearn.preprocessing as skp

    from ..data import preprocessing as pre
    from ..data.columns import ColumnPreprocessor

    if isinstance(t, sklearn.pipeline.Pipeline):  # nervenet's Chain too
        for _, step in t.steps:
            if step is not None and step != "passthrough":
                x = _apply(b, step, x)
        return x
    if isinstance(t, (pre.Standardize, pre.MeanSubtraction, pre.MinMaxScale)):
        return _apply(b, t.scaler_, x)
    if isinstance(t, pre.Whitening):
        return b.op("Div", [_apply(b, t.pca_, x), b.const(t.scale_, "whiten")], "whitened")
    if isinstance(t, pre.PCA):
        return _apply(b, t.pca_, x)
    if isinstance(t, skp.StandardScaler):
        if t.mean_ is not None and t.with_mean:
            x = b.op("Sub", [x, b.const(t.mean_, "mean")], "centred")
        if t.scale_ is not None and t.with_std:
            x = b.op("Div", [x, b.const(t.scale_, "scale")], "scaled")
        return x
    if isinstance(t, skp.MinMaxScaler):
        x = b.op("Add", [b.op("Mul", [x, b.const(t.scale_, "scale")], "scaled"), b.const(t.min_, "min")], "minmax")
        if t.clip:
            low, high = t.feature_range
            x = b.op("Clip", [x, b.const(low), b.const(high)], "clipped")
        return x
    if isinstance(t, sklearn.decomposition.PCA):
        x = b.op("MatMul", [b.op("Sub", [x, b.const(t.mean_, "mean")], "centred"),
                            b.const(t.components_.T, "components")], "pca")
        if t.whiten:
            x = b.op("Div", [x, b.const(np.sqrt(t.explained_variance_), "whiten")], "whitened")
        return x
    if isinstance(t, ColumnPreprocessor):
        text = [j for j, c in enumerate(t.columns) if c is not None]
        if text:
            raise UnsupportedError(f"preprocessing: ColumnPreprocessor column {text[0]} holds text, which the ONNX "
                                   "model (numeric input) cannot take; export with preprocessing=False")
        shifted = b.op("Sub", [x, b.const(t.shift, "shift")], "shifted")
        return b.op("Div", [shifted, b.const(t.scale, "scale")], "scaled")
    if isinstance(t, pre.OneHotEncoder):
        cats = dict(zip(t.categorical_, t.categories_))
        return _one_hot(b, x, [cats.get(j) for j in range(t.n_features_in_)], type(t).__name__)
    if isinstance(t, skp.OneHotEncoder):
        if t.drop_idx_ is not None or getattr(t, "_infrequent_enabled", False):
            raise UnsupportedError("preprocessing: ONNX export of a scikit-learn OneHotEncoder with drop or "
                                   "infrequent categories is not supported")
        return _one_hot(b, x, list(t.categories_), type(t).__name__)
    raise UnsupportedError(
        f"preprocessing: ONNX export does not know {type(t).__name__}; export with preprocessing=False and "
        "transform the inputs before running the model")


def _one_hot(b: Builder, x: str, categories: list[Any], name: str) -> str:
    """Columns in order: a categorical one as its indicators, others as they are."""
    parts = []
    for j, cats in enumerate(categories):
        column = b.op("Gather", [x, b.ints([j])], "column", axis=-1)
        if cats is None:
            parts.append(column)
            continue
        cats = np.asarray(cats)
        if cats.dtype.kind not in "biuf":
            raise UnsupportedError(f"preprocessing: {name} column {j} has categories of dtype {cats.dtype} "
                                   "(ONNX export one-hot encodes numbers only)")
        hit = b.op("Equal", [column, b.const(cats.astype(np.float64), "categories")], "hit")
        parts.append(b.op("Cast", [hit], "one_hot", to=b.elem))
    return b.concat(parts, axis=-1, hint="encoded")
