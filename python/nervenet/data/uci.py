"""UCI-style tables: comma-separated ``.data`` files with nominal (categorical)
and numeric columns, ``?`` for a missing value, and a ``.names`` file that
lists each nominal attribute's value codes.

* :func:`read_names` parses the ``Attribute Information`` section of a
  ``.names`` file (``1. cap-shape: bell=b,conical=c,...``, continued on the
  following indented lines) into a :class:`UCINames`.
* :func:`load_uci` reads a table: categorical columns are one-hot encoded
  (with the value codes of a ``.names`` file, in its order, when one is
  given; else with the sorted values seen in the data), numeric columns stay
  numbers, the target column becomes class indices.
* :func:`load_mushroom` and :func:`load_iris` are the two UCI sets in
  ``shared/data/uci``.

Problems with the file (missing, not text, ragged rows, a ``.names`` file
without value lists or with a different number of attributes) raise
:class:`nervenet.FormatError`; bad values (a category the ``.names`` list
does not have, a non-number in a numeric column, a class not in the class
list, an unwanted ``?``) raise :class:`nervenet.DataError`. Messages name the
file, the line (1-based, as an editor shows it) and the column (1-based).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
from numpy.typing import DTypeLike

from ..errors import ConfigError, DataError, FormatError
from .files import decode_text, read_data
from .files import require_file as _require_file

__all__ = ["UCINames", "Table", "read_names", "load_uci", "load_mushroom", "load_iris", "MUSHROOM_INPUTS", "IRIS_FEATURES"]

PathLike = Union[str, "os.PathLike[str]"]

#: One-hot inputs of the mushroom data per lecture 4 of the notes: the value
#: codes listed in ``agaricus-lepiota.names``, 6+4+10+2+9+4+3+2+12+2+7+4+4+9+9+2+4+3+8+9+6+7.
MUSHROOM_INPUTS = 126

_MISSING_MODES = ("category", "zeros", "error")


@dataclass
class UCINames:
    """What a ``.names`` file says about the columns.

    ``attributes[j]`` is the j-th attribute's name, ``values[j]`` its value
    codes and ``labels[j]`` their descriptions (``bell`` for ``b``), both in
    the file's order; ``classes`` / ``class_labels`` come from a
    ``(classes: edible=e, poisonous=p)`` note, or are None.
    """

    attributes: list[str]
    values: list[list[str]]
    labels: list[list[str]]
    classes: Optional[list[str]] = None
    class_labels: Optional[list[str]] = None

    @property
    def n_inputs(self) -> int:
        """One-hot inputs these value lists give: the sum of their lengths."""
        return sum(len(v) for v in self.values)


@dataclass
class Table:
    """A loaded table. ``X`` (rows, inputs): one-hot blocks for categorical
    columns, the numbers (NaN where missing) for numeric ones, in column
    order; ``y`` class indices (int64) into ``classes``; ``feature_names`` one
    per input (``column=value`` for one-hot inputs); ``columns`` the source
    feature columns' names and ``categories`` per source column its encoded
    values (None for a numeric column)."""

    X: np.ndarray
    y: np.ndarray
    classes: list[str]
    feature_names: list[str]
    columns: list[str] = field(default_factory=list)
    categories: list[Optional[list[str]]] = field(default_factory=list)

    def __repr__(self) -> str:
        # The arrays' shapes and a few names: a table's repr stays one line.
        return (
            f"Table(X={tuple(self.X.shape)}, y={tuple(self.y.shape)}, classes={_few(self.classes)}, "
            f"columns={_few(self.columns)})"
        )


def _few(names: list[str], shown: int = 4) -> str:
    """``['a', 'b', ... (+7)]``: at most ``shown`` names of a list."""
    head = ", ".join(repr(n) for n in names[:shown])
    return f"[{head}, ... (+{len(names) - shown})]" if len(names) > shown else f"[{head}]"


# ---- .names ----------------------------------------------------------------------

_SECTION = re.compile(r"^\d+\.\s")  # a top-level section: "7. Attribute Information: ..." at column 0
_ATTRIBUTE = re.compile(r"^\s+(\d+)\.\s+(.+?):\s*(.*)$")  # an indented "1. cap-shape: bell=b,..."
_CLASSES = re.compile(r"\(classes:\s*([^)]*)\)")


def _pairs(text: str, path: Path, lineno: int) -> list[tuple[str, str]]:
    out = []
    for piece in text.split(","):
        piece = piece.strip()
        if not piece:
            continue
        label, eq, code = piece.rpartition("=")
        if not eq or not label.strip() or not code.strip() or " " in code.strip():
            raise FormatError(f"{path}: line {lineno}: {piece!r} is not a value description of the form name=code")
        out.append((label.strip(), code.strip()))
    return out


def read_names(path: PathLike) -> UCINames:
    """Parses the ``Attribute Information`` section of a UCI ``.names`` file
    whose attributes list their values as ``name=code`` pairs (mushroom
    style). Raises :class:`nervenet.FormatError` naming the line if the
    section is missing, an attribute is numbered out of order, a value is not
    ``name=code``, a code repeats within an attribute, or an attribute lists
    no values."""
    p = _require_file(path, ".names file")
    lines = _text(p).splitlines()
    attributes: list[str] = []
    values: list[list[str]] = []
    labels: list[list[str]] = []
    first_line: list[int] = []
    classes: Optional[list[tuple[str, str]]] = None
    in_section = found = False
    for lineno, line in enumerate(lines, 1):
        if _SECTION.match(line):
            in_section = "attribute information" in line.lower()
            if in_section:
                found = True
                m = _CLASSES.search(line)
                if m:
                    classes = _pairs(m.group(1), p, lineno)
            continue
        if not in_section or not line.strip():
            continue
        m = _ATTRIBUTE.match(line)
        if m:
            number = int(m.group(1))
            if number != len(attributes) + 1:
                raise FormatError(f"{p}: line {lineno}: attribute {number} follows attribute {len(attributes)}")
            attributes.append(m.group(2).strip())
            values.append([])
            labels.append([])
            first_line.append(lineno)
            rest = m.group(3)
        elif attributes:
            rest = line  # the value list continues
        else:
            continue  # prose before the first attribute
        for label, code in _pairs(rest, p, lineno):
            if code in values[-1]:
                raise FormatError(f"{p}: line {lineno}: code {code!r} appears twice in attribute {attributes[-1]!r}")
            values[-1].append(code)
            labels[-1].append(label)
    if not found:
        raise FormatError(f"{p}: no 'Attribute Information' section (a line like '7. Attribute Information:')")
    if not attributes:
        raise FormatError(f"{p}: the 'Attribute Information' section lists no numbered attributes")
    for name, vals, lineno in zip(attributes, values, first_line):
        if not vals:
            raise FormatError(
                f"{p}: line {lineno}: attribute {name!r} lists no name=code values (read_names is for nominal "
                f"attributes described as name=code lists)"
            )
    return UCINames(
        attributes,
        values,
        labels,
        None if classes is None else [c for _, c in classes],
        None if classes is None else [lab for lab, _ in classes],
    )


# ---- .data -------------------------------------------------------------------------


def _text(p: Path) -> str:
    return decode_text(read_data(p, "UCI file"), p)


@dataclass
class _Column:
    """One column as its distinct values (sorted Python strings) and each
    row's index into them. Never a fixed-width string table: that would cost
    rows x longest cell, so one long cell would make every row that long."""

    values: list[str]
    rows: np.ndarray  # (n,) index into values

    @classmethod
    def of(cls, cells: list[str]) -> "_Column":
        index: dict[str, int] = {}
        codes = np.fromiter((index.setdefault(c, len(index)) for c in cells), dtype=np.intp, count=len(cells))
        seen = list(index)
        order = sorted(range(len(seen)), key=seen.__getitem__)
        rank = np.empty(len(seen), dtype=np.intp)
        rank[order] = np.arange(len(seen))
        return cls([seen[k] for k in order], rank[codes])

    def __len__(self) -> int:
        return len(self.rows)

    def value(self, row: int) -> str:
        return self.values[int(self.rows[row])]

    def where(self, per_value: Sequence[bool]) -> np.ndarray:
        """Rows whose value has ``per_value[value index]`` set."""
        return np.asarray(per_value, dtype=bool)[self.rows] if self.values else np.zeros(len(self), dtype=bool)


def _rows(p: Path, delimiter: str) -> tuple[list[_Column], np.ndarray]:
    """Non-blank lines split into stripped values: (one _Column per column, 1-based line numbers).
    A row with a different number of values than the first is a FormatError."""
    rows: list[list[str]] = []
    linenos: list[int] = []
    width = 0
    offset = 0
    for lineno, line in enumerate(_text(p).splitlines(keepends=True), 1):
        start, offset = offset, offset + len(line.encode("utf-8"))
        if not line.strip():
            continue
        values = [v.strip() for v in line.rstrip("\r\n").split(delimiter)]
        if not rows:
            width = len(values)
        elif len(values) != width:
            raise FormatError(
                f"{p}: line {lineno} (byte offset {start}) has {len(values)} values, but line {linenos[0]} has {width}"
            )
        rows.append(values)
        linenos.append(lineno)
    if not rows:
        raise FormatError(f"{p}: no data rows (the file is empty or blank)")
    columns = [_Column.of([r[j] for r in rows]) for j in range(width)]
    return columns, np.array(linenos)


def _is(col: _Column, value: str) -> np.ndarray:
    """Rows holding ``value``."""
    return col.where([v == value for v in col.values])


def _where(p: Path, linenos: np.ndarray, rows: np.ndarray, column: int, what: str) -> str:
    return f"{p}: line {int(linenos[rows[0]])}, column {column + 1}: {what}" + (
        f" ({len(rows)} such rows)" if len(rows) > 1 else ""
    )


def _number(s: str) -> Optional[float]:
    """``s`` as a number, or None: NaN spelled out and Python-only forms (1_000) are not numbers here."""
    if "_" in s:
        return None
    try:
        v = float(s)
    except ValueError:
        return None
    return None if v != v else v


def _as_numbers(col: _Column, is_na: np.ndarray) -> Optional[np.ndarray]:
    """The column as float64 (NaN where missing), or None if a present value is not a number."""
    per_value = [_number(v) for v in col.values]
    present = ~is_na
    if col.where([v is None for v in per_value])[present].any():
        return None
    out = np.array([np.nan if v is None else v for v in per_value], dtype=np.float64)[col.rows]
    out[is_na] = np.nan
    return out


def _not_numbers(col: _Column, is_na: np.ndarray) -> np.ndarray:
    """Rows whose (present) value is not a number; for the error message only."""
    return np.flatnonzero(col.where([_number(v) is None for v in col.values]) & ~is_na)


def _codes(
    col: _Column, cats: Sequence[str], allowed_missing: np.ndarray, p: Path, linenos: np.ndarray, j: int, what: str
) -> np.ndarray:
    """Index of each value in ``cats`` (-1 where ``allowed_missing``); a value
    not in ``cats`` on any other row is a DataError naming its line."""
    lookup = {c: i for i, c in enumerate(cats)}
    idx = np.array([lookup.get(v, -1) for v in col.values], dtype=np.int64)[col.rows]
    bad = np.flatnonzero((idx < 0) & ~allowed_missing)
    if len(bad):
        raise DataError(_where(p, linenos, bad, j, f"value {col.value(bad[0])!r} is not one of the {what} {list(cats)}"))
    return idx


def _one_hot(idx: np.ndarray, width: int) -> np.ndarray:
    block = np.zeros((len(idx), width), dtype=np.float64)
    rows = np.flatnonzero(idx >= 0)
    block[rows, idx[rows]] = 1.0
    return block


def load_uci(
    path: PathLike,
    *,
    names: Union[None, PathLike, UCINames] = None,
    target: int = -1,
    classes: Optional[Sequence[str]] = None,
    numeric: Union[None, bool, Sequence[int]] = None,
    missing: str = "category",
    na: str = "?",
    delimiter: str = ",",
    column_names: Optional[Sequence[str]] = None,
    dtype: DTypeLike = np.float64,
) -> Table:
    """Reads a UCI-style table (no header, ``delimiter``-separated, ``na``
    marking a missing value; blank lines are skipped) into a :class:`Table`.

    ``target``: the class column (negative counts from the end). Its values
    become indices into ``classes`` (given, else the ``.names`` file's class
    codes, else the sorted values seen).

    ``names``: a ``.names`` file (or a parsed :class:`UCINames`) listing the
    value codes of every feature column (all columns but ``target``, in
    order). Each column is then one-hot encoded over exactly those codes in
    that order, so the inputs do not depend on which values the rows happen
    to hold; a value not in its list is a DataError. Without ``names`` a
    column is numeric if every value but ``na`` parses as a number (or as
    ``numeric`` says: True all, False none, or a list of column indices that
    must be numeric), else categorical over the sorted values seen.

    ``missing`` says what ``na`` means in a categorical column:

    * ``"category"`` (default): a value of its own. With ``names`` only where
      the list has it (``stalk-root: ...,missing=?`` in the mushroom data);
      ``na`` in another column is a value not in its list, a DataError.
      Without ``names`` it is one of the sorted values seen.
    * ``"zeros"``: no category; the row's block for that column is all zeros
      (``na`` is dropped from the ``.names`` lists).
    * ``"error"``: a DataError naming the line and column.

    A missing value in a numeric column is NaN (for the caller to impute from
    training rows), or a DataError with ``missing="error"``. A missing class
    is always a DataError.
    """
    if missing not in _MISSING_MODES:
        raise ConfigError(f"missing must be one of {_MISSING_MODES}, not {missing!r}")
    p = _require_file(path, "data file")
    table, linenos = _rows(p, delimiter)
    width = len(table)
    if not -width <= target < width:
        raise FormatError(f"{p}: target column {target} is out of range; line {linenos[0]} has {width} columns")
    t = target % width
    feature_cols = [j for j in range(width) if j != t]
    spec: Optional[UCINames] = None
    if names is not None:
        spec = names if isinstance(names, UCINames) else read_names(names)
        if len(spec.attributes) != len(feature_cols):
            raise FormatError(
                f"{p}: line {linenos[0]} has {len(feature_cols)} feature columns besides the class column "
                f"{t + 1}, but the .names file lists {len(spec.attributes)} attributes"
            )
    if column_names is not None and len(column_names) != len(feature_cols):
        raise FormatError(
            f"{p}: line {linenos[0]} has {len(feature_cols)} feature columns besides the class column {t + 1}, "
            f"expected {len(column_names)} ({', '.join(column_names)})"
        )
    col_names = (
        list(column_names) if column_names is not None
        else spec.attributes if spec is not None
        else [f"a{k + 1}" for k in range(len(feature_cols))]
    )
    if isinstance(numeric, bool) or numeric is None:
        forced = set(feature_cols) if numeric is True else set()
    else:
        forced = {j % width for j in numeric}
        if t in forced:
            raise ConfigError(f"column {t} is the target column and cannot be numeric")

    # the target
    ycol = table[t]
    absent = np.flatnonzero(_is(ycol, na))
    if len(absent):
        raise DataError(_where(p, linenos, absent, t, f"the class is missing ({na!r})"))
    cls = list(classes) if classes is not None else (
        list(spec.classes) if spec is not None and spec.classes else list(ycol.values)
    )
    y = _codes(ycol, cls, np.zeros(len(ycol), dtype=bool), p, linenos, t, "classes")

    blocks: list[np.ndarray] = []
    feature_names: list[str] = []
    categories: list[Optional[list[str]]] = []
    for k, j in enumerate(feature_cols):
        col = table[j]
        is_na = _is(col, na)
        if missing == "error" and is_na.any():
            raise DataError(_where(p, linenos, np.flatnonzero(is_na), j, f"missing value {na!r}"))
        nums = None
        if spec is None and numeric is not False and (j in forced or not is_na.all()):
            nums = _as_numbers(col, is_na)
            if nums is None and j in forced:
                bad = _not_numbers(col, is_na)
                raise DataError(_where(p, linenos, bad, j, f"{col.value(bad[0])!r} is not a number"))
        if nums is not None:
            blocks.append(nums[:, None])
            feature_names.append(col_names[k])
            categories.append(None)
            continue
        if spec is not None:
            cats = [c for c in spec.values[k] if not (missing == "zeros" and c == na)]
            what = f"codes listed for {col_names[k]!r} in the .names file"
        else:
            cats = [v for v in col.values if v != na or (missing == "category" and is_na.any())]
            what = "values"
        allowed = is_na if missing == "zeros" else np.zeros(len(col), dtype=bool)
        blocks.append(_one_hot(_codes(col, cats, allowed, p, linenos, j, what), len(cats)))
        feature_names += [f"{col_names[k]}={c}" for c in cats]
        categories.append(cats)
    X = np.concatenate(blocks, axis=1) if blocks else np.zeros((len(linenos), 0))
    return Table(X.astype(dtype, copy=False), y.astype(np.int64), cls, feature_names, col_names, categories)


def load_mushroom(data_path: PathLike, names_path: Optional[PathLike] = None, *, missing: str = "category") -> Table:
    """UCI mushroom (``agaricus-lepiota.data``), one-hot encoded over the
    value codes that ``agaricus-lepiota.names`` lists (``names_path``; by
    default the ``.names`` file beside the data): 126 inputs, as lecture 4 of
    the notes counts them (6, 4, 10, 2, 9, 4, 3, 2, 12, 2, 7, 4, 4, 9, 9, 2, 4,
    3, 8, 9, 6, 7 values for attributes 1..22). Labels: 0 = edible (``e``),
    1 = poisonous (``p``), the order of the ``.names`` class note.

    The 126 count includes ``?``: the ``.names`` file lists it as a value of
    attribute 11, ``stalk-root: ... rooted=r,missing=?`` (7 values), and with
    the default ``missing="category"`` it is a category of its own, which is
    what the notes count. ``missing="zeros"`` instead encodes a missing
    stalk-root as all zeros (125 inputs).

    Nine listed codes never occur in the 8,124 rows (gill-attachment d and n,
    gill-spacing d, stalk-root u and z, veil-type u, ring-type c, s and z), so
    their inputs are always 0; encoding only the values seen gives 117 inputs.
    Using the ``.names``
    lists keeps the encoding independent of which rows were loaded.
    """
    p = Path(data_path)
    names = names_path if names_path is not None else p.with_suffix(".names")
    return load_uci(p, names=names, target=0, missing=missing)


IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def load_iris(path: PathLike) -> Table:
    """UCI iris (``iris.data`` or the corrected ``bezdekIris.data``): ``X``
    (150, 4) in cm (sepal length, sepal width, petal length, petal width),
    ``y`` indices into the sorted class names (``Iris-setosa``,
    ``Iris-versicolor``, ``Iris-virginica``). The four measurements must be
    numbers (else DataError) and every row must have five values (else FormatError)."""
    return load_uci(path, target=-1, numeric=True, missing="error", column_names=IRIS_FEATURES)
