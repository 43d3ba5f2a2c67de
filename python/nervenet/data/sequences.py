"""Turning series and token streams into training sequences (lecture 5 of the notes).

nervenet's sequence layout is (batch, time, features) with an optional
(batch, time) mask (1 = a real step, 0 = padding the losses skip):

- :func:`lagged_windows`: the lagged / windowed inputs of NOE and NARX
  networks: each step's input is the current value and the ``lags``
  previous ones, paired with the targets ``offset`` steps ahead.
- :func:`pad_sequences`: sequences of different lengths -> (X, mask).
- :func:`chunk_series`: long series cut into training sequences of a fixed
  length (truncated backpropagation through time), the last partial piece
  dropped or padded and masked.
- :func:`next_step_targets` / :func:`one_hot_ids`: language modelling pairs
  (inputs ``ids[:-1]``, targets ``ids[1:]``), optionally one-hot encoded.
"""

from __future__ import annotations

import operator
from typing import Any, Optional, Sequence, Union

import numpy as np

from ..errors import ConfigError, DataError, DTypeError, ShapeError

from .._checks import integer as _integer

__all__ = ["lagged_windows", "pad_sequences", "chunk_series", "next_step_targets", "one_hot_ids"]


def _numeric(values: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values)
    except ValueError as e:  # ragged nested lists
        raise ShapeError(f"{name} is not a rectangular array ({e})") from None
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    return arr


def _float(values: Any, name: str) -> np.ndarray:
    arr = _numeric(values, name)
    return arr if arr.dtype.kind == "f" else arr.astype(np.float64)


def _ints(values: Any, name: str) -> np.ndarray:
    arr = _numeric(values, name)
    if arr.dtype.kind not in "iu":
        raise DTypeError(f"{name} must hold integer ids, got dtype {arr.dtype}")
    return arr


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _mask_dtype(dtype: np.dtype) -> np.dtype:
    return dtype if dtype.kind == "f" else np.dtype(np.float32)


# ---- lagged (windowed) inputs -------------------------------------------------


def lagged_windows(
    series: Any,
    lags: int,
    *,
    targets: Any = None,
    offset: int = 1,
    start: str = "drop",
) -> Union[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Windowed inputs for NOE / NARX style networks (lecture 5).

    ``series``: (time,), (time, features) or (batch, time, features). Output
    step ``i`` stands for time ``t`` and holds the values at ``t, t-1, ...,
    t-lags``, newest first, each block all features::

        X[..., i, k * features + f] = series[..., t - k, f]    for k = 0..lags

    ``start`` says what happens at the beginning of the series, where fewer
    than ``lags`` earlier values exist:

    - ``"drop"`` (default): those steps are dropped; output step ``i`` is
      time ``t = i + lags``, so every window holds real values only.
    - ``"pad"``: the missing earlier values are zeros; output step ``i`` is
      time ``t = i``, keeping the series' time axis.

    ``targets`` adds the values to predict, ``offset`` steps ahead:
    ``Y[..., i, :] = target[..., t + offset, :]`` (steps whose target lies past
    the end are dropped from X too). Give either column indices of
    ``series`` (an int or a list of ints: NOE style, the target's own past
    values are among the inputs) or a float array of target values shaped
    like ``series`` in its leading (batch, time) axes (NARX style, inputs
    exogenous to the target). Returns X, or (X, Y) with targets.

    For a 2-D series the result is (samples, features), the rows a
    feed-forward network takes; for 3-D it is (batch, steps, features).
    Series of different lengths: window each, then :func:`pad_sequences`.
    """
    s = _float(series, "series")
    if s.ndim == 1:
        s = s[:, None]
    if s.ndim not in (2, 3):
        raise ShapeError(
            f"series must be (time,), (time, features) or (batch, time, features), got shape {_shape(s.shape)}"
        )
    lags = _integer(lags, "lags", 0)
    if start not in ("drop", "pad"):
        raise ConfigError(f"start must be 'drop' or 'pad', got {start!r}")
    T = s.shape[-2]

    Y_src: Optional[np.ndarray] = None
    off = 0
    if targets is not None:
        off = _integer(offset, "offset", 0)
        if isinstance(targets, np.ndarray) and targets.dtype.kind == "f":
            y = targets
            lead = s.shape[:-1]
            if y.shape == lead:
                y = y[..., None]
            if y.shape[:-1] != lead or y.ndim != s.ndim:
                raise ShapeError(
                    f"targets has shape {_shape(targets.shape)}; a target array must match series {_shape(s.shape)} "
                    f"in its leading axes, i.e. {_shape(lead)} or {_shape(lead + ('k',))}"  # type: ignore[operator]
                )
            Y_src = y
        else:
            cols = [targets] if not isinstance(targets, (list, tuple, np.ndarray)) else list(np.ravel(targets))
            if not cols:
                raise ConfigError("targets: give at least one column")
            F = s.shape[-1]
            idx = []
            for c in cols:
                if isinstance(c, (bool, np.bool_)):
                    raise ConfigError(f"targets: column {c!r} is not an integer index")
                try:
                    j = operator.index(c)
                except TypeError:
                    raise ConfigError(
                        f"targets: {c!r} is neither a column index nor part of a float array of target values"
                    ) from None
                if not -F <= j < F:
                    raise ConfigError(
                        f"targets: column {j} is out of range for a series of {F} features "
                        "(target values, rather than column indices, must be a float array)"
                    )
                idx.append(j % F)
            Y_src = s[..., idx]

    first = lags if start == "drop" else 0
    n = T - off - first
    if n <= 0:
        need = lags + off + 1 if start == "drop" else off + 1
        raise ShapeError(
            f"series has {T} steps, too few for lags={lags}"
            + (f" and offset={off}" if targets is not None else "")
            + f" with start={start!r} (needs at least {need})"
        )
    pad_width = [(0, 0)] * s.ndim
    pad_width[-2] = (lags, 0)
    padded = np.pad(s, pad_width) if lags else s
    # time t sits at padded index t + lags; lag k of output step i (time first + i)
    blocks = [padded[..., first + lags - k : first + lags - k + n, :] for k in range(lags + 1)]
    X = np.concatenate(blocks, axis=-1)
    if Y_src is None:
        return X
    Y = np.ascontiguousarray(Y_src[..., first + off : first + off + n, :])
    return X, Y


# ---- padding ------------------------------------------------------------------


def pad_sequences(
    sequences: Sequence[Any],
    *,
    length: Optional[int] = None,
    value: Any = 0,
    dtype: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Stacks sequences of different lengths into (batch, T, ...) padded at
    the end with ``value``, and a (batch, T) mask: 1 for real steps, 0 for
    padding. Each sequence is (time,) (ids or a scalar series: X comes back
    (batch, T)) or (time, features...); all must agree after the time axis.

    ``length``: pad to this many steps (default: the longest sequence; a
    longer sequence raises ShapeError). ``dtype``: of X (default: the
    sequences' common dtype). The mask is X's dtype when that is a float,
    else float32.
    """
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__iter__"):
        raise ConfigError(f"sequences must be a list of arrays, got {type(sequences).__name__}")
    arrays = [_numeric(x, f"sequences[{i}]") for i, x in enumerate(sequences)]
    if not arrays:
        raise ConfigError("sequences is empty; pad_sequences needs at least one sequence")
    for i, a in enumerate(arrays):
        if a.ndim == 0:
            raise ShapeError(f"sequences[{i}] is a scalar; each sequence needs a time axis first")
        if a.shape[1:] != arrays[0].shape[1:]:
            raise ShapeError(
                f"sequences[{i}] has shape {_shape(a.shape)} but sequences[0] has {_shape(arrays[0].shape)}; "
                "every step must have the same shape"
            )
    lengths = [len(a) for a in arrays]
    T = max(lengths)
    if length is not None:
        L = _integer(length, "length", 0)
        if L < T:
            i = lengths.index(T)
            raise ShapeError(f"sequences[{i}] has {T} steps, more than length={L}")
        T = L
    dt = np.result_type(*arrays) if dtype is None else np.dtype(dtype)
    X = np.full((len(arrays), T) + arrays[0].shape[1:], value, dtype=dt)
    mask = np.zeros((len(arrays), T), dtype=_mask_dtype(dt))
    for i, a in enumerate(arrays):
        X[i, : len(a)] = a
        mask[i, : len(a)] = 1
    return X, mask


# ---- chunking -----------------------------------------------------------------


def _chunk_starts(T: int, length: int, stride: int, remainder: str) -> list[int]:
    full = list(range(0, T - length + 1, stride)) if T >= length else []
    if remainder == "pad":
        covered = full[-1] + length if full else 0
        if covered < T:
            nxt = full[-1] + stride if full else 0
            if nxt < T:
                full.append(nxt)
    return full


def chunk_series(
    X: Any,
    length: int,
    *,
    stride: Optional[int] = None,
    remainder: str = "drop",
    lengths: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cuts long series into training sequences of ``length`` steps.

    ``X``: one series, (time,) or (time, features); a list of series of any
    lengths; or a (batch, time, features) array of series, with ``lengths``
    (batch,) giving each one's real steps (as :func:`load_timeseries`
    returns; default: all of them). Chunks start every ``stride`` steps
    (default ``length``: no overlap; ``stride = length - 1`` makes chunk
    ``k+1`` begin where the last target of chunk ``k`` is, the usual layout
    for :func:`next_step_targets`).

    ``remainder`` decides what happens to steps at the end of a series that
    do not fill a whole chunk:

    - ``"drop"`` (default): they are left out; every chunk is full.
    - ``"pad"``: one more chunk holds them, zero-padded at its end and
      masked, so every step of every series is in some chunk.

    Returns (chunks, mask): chunks (n_chunks, length, ...) in series order,
    mask (n_chunks, length) with 1 for real steps (all ones for "drop").
    Chunking X and Y (or ids) with the same arguments gives aligned chunks.
    Raises ShapeError when no chunk fits (every series shorter than
    ``length`` with ``remainder="drop"``).
    """
    length = _integer(length, "length", 1)
    stride = length if stride is None else _integer(stride, "stride", 1)
    if remainder not in ("drop", "pad"):
        raise ConfigError(f"remainder must be 'drop' or 'pad', got {remainder!r}")

    if isinstance(X, (list, tuple)):
        if lengths is not None:
            raise ConfigError("lengths applies to a (batch, time, features) array; a list of series carries its own")
        if not X:
            raise ConfigError("X is an empty list of series")
        series = [_numeric(x, f"X[{i}]") for i, x in enumerate(X)]
        for i, a in enumerate(series):
            if a.ndim == 0 or a.shape[1:] != series[0].shape[1:]:
                raise ShapeError(
                    f"X[{i}] has shape {_shape(a.shape)} but X[0] has {_shape(series[0].shape)}; "
                    "series must agree after the time axis"
                )
    else:
        arr = _numeric(X, "X")
        if arr.ndim in (1, 2):
            if lengths is not None:
                raise ConfigError("lengths applies to a (batch, time, features) array, X is one series")
            series = [arr]
        elif arr.ndim == 3:
            if lengths is None:
                n_steps = [arr.shape[1]] * arr.shape[0]
            else:
                ln = _ints(lengths, "lengths")
                if ln.shape != (arr.shape[0],):
                    raise ShapeError(
                        f"lengths has shape {_shape(ln.shape)}, expected ({arr.shape[0]},) for X {_shape(arr.shape)}"
                    )
                bad = np.flatnonzero((ln < 0) | (ln > arr.shape[1]))
                if bad.size:
                    i = int(bad[0])
                    raise DataError(
                        f"lengths[{i}] = {int(ln[i])} is outside 0..{arr.shape[1]} (X has {arr.shape[1]} steps)"
                    )
                n_steps = [int(v) for v in ln]
            series = [arr[i, :n] for i, n in enumerate(n_steps)]
        else:
            raise ShapeError(
                "X must be (time,), (time, features), (batch, time, features) or a list of series, "
                f"got shape {_shape(arr.shape)}"
            )

    dt = np.result_type(*series)
    tail = series[0].shape[1:]
    pieces: list[tuple[int, int, int]] = []  # (series, start, stop)
    for i, a in enumerate(series):
        T = len(a)
        for s0 in _chunk_starts(T, length, stride, remainder):
            pieces.append((i, s0, min(s0 + length, T)))
    if not pieces:
        longest = max(len(a) for a in series)
        raise ShapeError(
            f"no chunk of length {length} fits: the longest series has {longest} steps; "
            "use a shorter length or remainder='pad'"
        )
    chunks = np.zeros((len(pieces), length) + tail, dtype=dt)
    mask = np.zeros((len(pieces), length), dtype=_mask_dtype(dt))
    for k, (i, a0, a1) in enumerate(pieces):
        chunks[k, : a1 - a0] = series[i][a0:a1]
        mask[k, : a1 - a0] = 1
    return chunks, mask


# ---- language modelling ----------------------------------------------------


def one_hot_ids(ids: Any, n_classes: int, *, dtype: Any = "float32") -> np.ndarray:
    """Integer ids of any shape -> one-hot vectors, shape ``ids.shape + (n_classes,)``.
    Ids outside 0..n_classes-1 raise DataError naming the index."""
    arr = _ints(ids, "ids")
    n = _integer(n_classes, "n_classes", 1)
    bad = (arr < 0) | (arr >= n)
    if bad.any():
        where = tuple(int(v) for v in np.argwhere(bad)[0])
        raise DataError(f"ids{list(where)} = {int(arr[where])} is out of range for n_classes={n}")
    out = np.zeros(arr.shape + (n,), dtype=np.dtype(dtype))
    np.put_along_axis(out, arr[..., None].astype(np.intp), 1, axis=-1)
    return out


def next_step_targets(
    ids: Any,
    *,
    mask: Any = None,
    one_hot: Union[bool, str] = False,
    n_classes: Optional[int] = None,
    dtype: Any = "float32",
) -> Union[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Language-modelling pairs: inputs ``ids[..., :-1]``, targets ``ids[..., 1:]``.

    ``ids``: (time,) or (batch, time) integer token ids. ``one_hot``:
    False (ids in, ids out), True or "inputs" (inputs one-hot, (..., time-1,
    n_classes), targets stay integer labels for the softmax loss) or "both".
    ``n_classes`` (the vocabulary size) is required for one-hot and checks
    the ids' range. ``mask`` (same shape as ids): also returns the mask of
    the pairs, 1 where both the input and target steps are real. Returns
    (inputs, targets) or (inputs, targets, mask).
    """
    arr = _ints(ids, "ids")
    if arr.ndim not in (1, 2):
        raise ShapeError(f"ids must be (time,) or (batch, time), got shape {_shape(arr.shape)}")
    if arr.shape[-1] < 2:
        raise ShapeError(f"ids has {arr.shape[-1]} steps; next-step pairs need at least 2")
    if one_hot is True:
        one_hot = "inputs"
    if one_hot not in (False, "inputs", "both"):
        raise ConfigError(f"one_hot must be False, True, 'inputs' or 'both', got {one_hot!r}")
    if n_classes is not None:
        n = _integer(n_classes, "n_classes", 1)
        bad = (arr < 0) | (arr >= n)
        if bad.any():
            where = tuple(int(v) for v in np.argwhere(bad)[0])
            raise DataError(f"ids{list(where)} = {int(arr[where])} is out of range for n_classes={n}")
    elif one_hot:
        raise ConfigError("one_hot needs n_classes (the vocabulary size)")
    inputs, targets = arr[..., :-1], arr[..., 1:]
    if one_hot:
        assert n_classes is not None
        inputs = one_hot_ids(inputs, n_classes, dtype=dtype)
        if one_hot == "both":
            targets = one_hot_ids(targets, n_classes, dtype=dtype)
    else:
        inputs, targets = np.ascontiguousarray(inputs), np.ascontiguousarray(targets)
    if mask is None:
        return inputs, targets
    m = _float(mask, "mask")
    if m.shape != arr.shape:
        raise ShapeError(f"mask has shape {_shape(m.shape)}, expected {_shape(arr.shape)} like ids")
    return inputs, targets, np.minimum(m[..., :-1], m[..., 1:])
