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

import math
import numbers
import operator
from typing import Any, Optional, Sequence, Union

import numpy as np

from ..errors import ConfigError, DataError, DTypeError, ShapeError

from .._checks import _short, integer as _integer, text as _text
from .._budget import allocate, nbytes, numeric_dtype, output, read, within

__all__ = ["lagged_windows", "pad_sequences", "chunk_series", "next_step_targets", "one_hot_ids"]


def _numeric(values: Any, name: str) -> np.ndarray:
    """A bool, integer or float array; ShapeError for ragged input,
    UnsupportedError when it stands for more than the memory budget (a
    broadcast view), checked before anything reads it."""
    arr = read(values, name)
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    return arr


def _float(values: Any, name: str) -> np.ndarray:
    arr = _numeric(values, name)
    if arr.dtype.kind == "f":
        return arr
    within(arr, name, np.dtype(np.float64).itemsize)
    return allocate(lambda: arr.astype(np.float64), arr.size * 8, f"{name} as float64")


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
    if _text(start, "start") not in ("drop", "pad"):
        raise ConfigError(f"start must be 'drop' or 'pad', got {start!r}")
    T = s.shape[-2]

    Y_src: Optional[np.ndarray] = None
    off = 0
    if targets is not None:
        off = _integer(offset, "offset", 0)
        if isinstance(targets, np.ndarray) and targets.dtype.kind == "f":
            y = within(targets, "targets")
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
            if not isinstance(targets, (list, tuple, np.ndarray)):
                cols = [targets]
            else:
                cols = list(np.ravel(_columns(targets)))
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
            output(s.shape[:-1] + (len(idx),), s.dtype, "the targets")
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
    lead = s.shape[:-2]
    padded_shape = lead + (T + lags, s.shape[-1])
    out_shape = lead + (n, (lags + 1) * s.shape[-1])
    # the output and the zero-padded copy of the series (the windows are views of it)
    output(out_shape, s.dtype, "the windows", extra=nbytes(padded_shape, s.dtype) if lags else 0,
           also="the zero-padded series" if lags else "")
    pad_width = [(0, 0)] * s.ndim
    pad_width[-2] = (lags, 0)
    padded = np.pad(s, pad_width) if lags else s
    # time t sits at padded index t + lags; lag k of output step i (time first + i) is
    # element lags - k of the window of lags + 1 steps starting at padded index first + i
    windows = np.lib.stride_tricks.sliding_window_view(padded, lags + 1, axis=-2)  # (..., T, F, lags + 1)
    newest_first = windows[..., first : first + n, :, ::-1]
    X = allocate(
        lambda: np.ascontiguousarray(np.swapaxes(newest_first, -1, -2)).reshape(out_shape),
        nbytes(out_shape, s.dtype), "the windows",
    )
    if Y_src is None:
        return X
    Y = np.ascontiguousarray(Y_src[..., first + off : first + off + n, :])
    return X, Y


def _columns(targets: Any) -> np.ndarray:
    """Target column indices as an array (ragged lists refused)."""
    try:
        return np.asarray(targets)
    except (ValueError, TypeError) as e:
        raise ConfigError(f"targets must be column indices or a float array of target values ({e})") from None


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
    longer sequence raises ShapeError). ``value``: a number X's dtype
    holds (a whole number in range for integer X; NaN and Inf are allowed
    for float X), else ConfigError. ``dtype``: of X, bool, integer or
    float (default: the sequences' common dtype). The mask is X's dtype
    when that is a float, else float32. A (batch, time, ...) array stands
    for sequences of one length. An X (and mask) larger than the memory
    budget (:func:`nervenet.get_memory_budget`) raises UnsupportedError
    before anything is allocated, as do the other functions here.
    """
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__iter__"):
        raise ConfigError(f"sequences must be a list of arrays, got {type(sequences).__name__}")
    stacked: Optional[np.ndarray] = None
    if isinstance(sequences, np.ndarray):
        # an array stacks sequences of one length: checked (a broadcast view may stand
        # for terabytes) and copied whole, not walked row by row
        stacked = _numeric(sequences, "sequences")
        if stacked.ndim < 2:
            raise ShapeError(
                f"sequences has shape {_shape(stacked.shape)}: its entries are scalars; each sequence needs a time axis "
                "first (pass a list of arrays, or a (batch, time, ...) array)"
            )
        arrays: list[np.ndarray] = []
        n_seq, tail, lengths = stacked.shape[0], stacked.shape[2:], [stacked.shape[1]] * stacked.shape[0]
    else:
        arrays = []
        for i, x in enumerate(sequences):
            a = _numeric(x, f"sequences[{i}]")
            if a.ndim == 0:
                raise ShapeError(f"sequences[{i}] is a scalar; each sequence needs a time axis first")
            if arrays and a.shape[1:] != arrays[0].shape[1:]:
                raise ShapeError(
                    f"sequences[{i}] has shape {_shape(a.shape)} but sequences[0] has {_shape(arrays[0].shape)}; "
                    "every step must have the same shape"
                )
            arrays.append(a)
        n_seq, tail, lengths = len(arrays), (arrays[0].shape[1:] if arrays else ()), [len(a) for a in arrays]
    if not n_seq:
        raise ConfigError("sequences is empty; pad_sequences needs at least one sequence")
    T = max(lengths)
    if length is not None:
        L = _integer(length, "length", 0)
        if L < T:
            i = lengths.index(T)
            raise ShapeError(f"sequences[{i}] has {T} steps, more than length={L}")
        T = L
    if dtype is not None:
        dt = numeric_dtype(dtype)
    else:
        dt = stacked.dtype if stacked is not None else np.result_type(*arrays)
    fill = _pad_value(value, dt)
    shape = (n_seq, T) + tuple(tail)
    mask_dt = _mask_dtype(dt)
    output(shape, dt, "the padded sequences", extra=nbytes(shape[:2], mask_dt), also="their mask")
    X = allocate(lambda: np.full(shape, fill, dtype=dt), nbytes(shape, dt), "the padded sequences")
    mask = np.zeros((n_seq, T), dtype=mask_dt)
    if stacked is not None:
        X[:, : stacked.shape[1]] = stacked
        mask[:, : stacked.shape[1]] = 1
    for i, a in enumerate(arrays):
        X[i, : len(a)] = a
        mask[i, : len(a)] = 1
    return X, mask


def _pad_value(value: Any, dt: np.dtype) -> Any:
    """``value`` checked to be a number ``dt`` holds: a finite or non-finite
    float for float X, an integer in range for integer X, 0 or 1 for bools."""
    if isinstance(value, np.bool_):
        value = bool(value)
    if not isinstance(value, numbers.Real):
        raise ConfigError(f"value (the padding) must be a number, got {_short(value)}")
    if dt.kind == "f":
        if isinstance(value, (float, np.floating)) and not math.isfinite(value):
            return float(value)  # NaN and Inf pad float sequences as they are
        try:
            v = float(value)
        except OverflowError:  # an integer past float64's range
            v = math.inf
        if abs(v) > float(np.finfo(dt).max):
            raise ConfigError(f"value (the padding) {_short(value)} is out of range for {dt} sequences")
        return v
    integral = isinstance(value, numbers.Integral) or (math.isfinite(value) and float(value).is_integer())
    if not integral:
        raise ConfigError(f"value (the padding) must be a whole number for {dt} sequences, got {_short(value)}")
    v = int(value)
    low, high = (0, 1) if dt.kind == "b" else (int(np.iinfo(dt).min), int(np.iinfo(dt).max))
    if not low <= v <= high:
        raise ConfigError(f"value (the padding) {_short(value)} is out of range for {dt} sequences ({low}..{high})")
    return v


# ---- chunking -----------------------------------------------------------------


def _chunk_starts(T: int, length: int, stride: int, remainder: str) -> range:
    """The start of every chunk of a series of ``T`` steps (a range: counted
    before anything is allocated)."""
    n_full = (T - length) // stride + 1 if T >= length else 0
    n = n_full
    if remainder == "pad":
        covered = (n_full - 1) * stride + length if n_full else 0
        if covered < T:
            nxt = n_full * stride
            if nxt < T:
                n += 1
    return range(0, n * stride, stride)


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
    if _text(remainder, "remainder") not in ("drop", "pad"):
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
    starts = [_chunk_starts(len(a), length, stride, remainder) for a in series]
    n_chunks = sum(len(r) for r in starts)
    if not n_chunks:
        longest = max(len(a) for a in series)
        raise ShapeError(
            f"no chunk of length {length} fits: the longest series has {longest} steps; "
            "use a shorter length or remainder='pad'"
        )
    shape = (n_chunks, length) + tail
    mask_dt = _mask_dtype(dt)
    output(shape, dt, "the chunks", extra=nbytes(shape[:2], mask_dt), also="their mask")
    chunks = allocate(lambda: np.zeros(shape, dtype=dt), nbytes(shape, dt), "the chunks")
    mask = np.zeros((n_chunks, length), dtype=mask_dt)
    k = 0
    for a, r in zip(series, starts):
        T = len(a)
        n_full = len(r) if not len(r) or r[-1] + length <= T else len(r) - 1
        if n_full:  # whole chunks: one strided copy, (n_full, *tail, length) windows moved to (n_full, length, *tail)
            windows = np.lib.stride_tricks.sliding_window_view(a, length, axis=0)[: (n_full - 1) * stride + 1 : stride]
            chunks[k : k + n_full] = np.moveaxis(windows, -1, 1)
            mask[k : k + n_full] = 1
            k += n_full
        if n_full < len(r):  # the padded remainder
            s0 = r[-1]
            chunks[k, : T - s0] = a[s0:]
            mask[k, : T - s0] = 1
            k += 1
    return chunks, mask


# ---- language modelling ----------------------------------------------------


def one_hot_ids(ids: Any, n_classes: int, *, dtype: Any = "float32") -> np.ndarray:
    """Integer ids of any shape -> one-hot vectors, shape ``ids.shape + (n_classes,)``.
    Ids outside 0..n_classes-1 raise DataError naming the index."""
    arr = _ints(ids, "ids")
    n = _integer(n_classes, "n_classes", 1)
    dt = numeric_dtype(dtype)
    _in_range(arr, n)
    shape = arr.shape + (n,)
    output(shape, dt, f"the one-hot vectors of {arr.size} ids for n_classes={n}")
    out = allocate(lambda: np.zeros(shape, dtype=dt), nbytes(shape, dt), "the one-hot vectors")
    np.put_along_axis(out, arr[..., None].astype(np.intp), 1, axis=-1)
    return out


def _in_range(arr: np.ndarray, n: int) -> None:
    """DataError naming the first id outside 0..n-1."""
    bad = (arr < 0) | (arr >= n)
    if bad.any():
        where = tuple(int(v) for v in np.argwhere(bad)[0])
        raise DataError(f"ids{list(where)} = {int(arr[where])} is out of range for n_classes={n}")


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
    if isinstance(one_hot, (bool, np.bool_)):
        one_hot = "inputs" if one_hot else False
    elif not isinstance(one_hot, str) or one_hot not in ("inputs", "both"):
        raise ConfigError(f"one_hot must be False, True, 'inputs' or 'both', got {_short(one_hot)}")
    if n_classes is not None:
        n = _integer(n_classes, "n_classes", 1)
        _in_range(arr, n)
    elif one_hot:
        raise ConfigError("one_hot needs n_classes (the vocabulary size)")
    inputs, targets = arr[..., :-1], arr[..., 1:]
    if one_hot:
        assert n_classes is not None
        both = one_hot == "both"
        output(arr.shape[:-1] + (arr.shape[-1] - 1, n * (2 if both else 1)), numeric_dtype(dtype),
               f"the one-hot {'inputs and targets' if both else 'inputs'} for n_classes={n}")
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
