"""Model files: one safetensors file holding a network (and, for a
checkpoint, the optimiser state), with the graph JSON and training
configuration in its metadata.

Tensors: ``parameters`` (the flat vector in the network's dtype) and, in
checkpoints, ``optimizer.<buffer>`` for each optimiser buffer. Metadata
(all strings): ``format`` ("nervenet"), ``format_version``, ``graph`` (graph
JSON), ``dtype``, ``parameter_names`` (JSON list, flat-vector order),
``checksum`` (SHA-256 over every other metadata entry and every tensor) and
optionally ``training`` (the fit configuration), ``history`` (History JSON)
and, for checkpoints, ``epoch`` (the next epoch to run), ``step_count`` and
``lr_factor``.

Reading never executes code: the header is parsed as JSON, tensors are
decoded by ``safetensors`` (no pickle). Every defect of a file — truncated,
not safetensors, not nervenet, a flipped byte anywhere (the checksum), a
graph that does not build, parameter names that do not match the graph,
non-finite values — raises :class:`FormatError` naming the file and the
fault. Files are written atomically: a temporary file in the same folder,
flushed to disk, then renamed over the target, so a crash or a failed write
leaves any previous file whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np

from .errors import FormatError, NervenetError
from .training.history import History

if TYPE_CHECKING:
    from .network import Network

__all__ = ["FORMAT", "FORMAT_VERSION", "SavedFile", "read", "save_network", "load_network", "write_atomic"]

PathLike = Union[str, "os.PathLike[str]"]

FORMAT = "nervenet"
FORMAT_VERSION = "1"
OPTIMIZER_PREFIX = "optimizer."
_MAX_HEADER = 100 * 2**20  # the safetensors library's own limit
_CHECKPOINT_KEYS = ("epoch", "step_count", "lr_factor")
_SAFETENSORS_DTYPES = {"float32": "F32", "float64": "F64"}


@dataclass
class SavedFile:
    """A model file, read and checked (the network is not built yet)."""

    path: str
    metadata: dict[str, str]
    dtype: str
    graph_json: str
    parameter_names: list[str]
    parameters: np.ndarray
    optimizer: dict[str, np.ndarray] = field(default_factory=dict)
    training: Optional[dict[str, Any]] = None
    history: Optional[History] = None
    epoch: Optional[int] = None
    step_count: Optional[int] = None
    lr_factor: Optional[float] = None

    @property
    def is_checkpoint(self) -> bool:
        return self.epoch is not None

    def error(self, what: str) -> FormatError:
        return FormatError(f"{self.path}: {what}")

    def build(self) -> "Network":
        """A new Network of the saved graph and dtype, holding the saved parameters."""
        from .graph import Graph
        from .network import Network

        try:
            graph = Graph.from_json(self.graph_json)
            net = Network(graph, self.dtype, init="xavier")  # every value is replaced by the saved ones
        except NervenetError as e:
            raise self.error(f"the saved graph does not build a network: {e}") from e
        self.load_into(net)
        return net

    def in_order_of(self, net: "Network", values: np.ndarray) -> np.ndarray:
        """``values`` (a vector in the file's parameter order) rearranged to
        ``net``'s order, matching parameters by name (the flat layout may
        differ with the plan's dense/sparse choices)."""
        names = net.parameter_names
        if names == self.parameter_names:
            return values
        theirs, ours = set(self.parameter_names), set(names)
        for name in self.parameter_names:
            if name not in ours:
                raise self.error(
                    f"parameter names do not match the graph: the file has {name!r}, "
                    f"which the network built from its graph lacks"
                )
        for name in names:
            if name not in theirs:
                raise self.error(f"parameter names do not match the graph: the file lacks {name!r}")
        index = {name: i for i, name in enumerate(self.parameter_names)}
        return values[[index[name] for name in names]]

    def load_into(self, net: "Network") -> None:
        """Sets ``net``'s parameters from the file (matched by name)."""
        values = self.in_order_of(net, self.parameters)
        try:
            net.parameters = values
        except NervenetError as e:
            raise self.error(f"the saved parameters do not fit the network: {e}") from e


# ---- writing -------------------------------------------------------------------


def write_atomic(path: PathLike, data: bytes) -> Path:
    """Writes ``data`` to a temporary file next to ``path``, flushes it to
    disk and renames it over ``path``; on any failure the temporary file is
    removed and ``path`` is left as it was."""
    path = Path(os.fspath(path))
    folder = path.parent
    tmp = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(folder)
    return path


def _fsync_folder(folder: Path) -> None:
    """Makes the rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _little_endian(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))


def checksum(metadata: dict[str, str], tensors: dict[str, np.ndarray]) -> str:
    """SHA-256 over every metadata entry but ``checksum`` and every tensor
    (name, dtype, shape and bytes)."""
    h = hashlib.sha256()
    head = {
        "metadata": {k: v for k, v in metadata.items() if k != "checksum"},
        "tensors": {n: [a.dtype.newbyteorder("<").str, list(a.shape)] for n, a in tensors.items()},
    }
    h.update(json.dumps(head, sort_keys=True).encode("utf-8"))
    for name in sorted(tensors):
        h.update(_little_endian(tensors[name]).tobytes())
    return "sha256:" + h.hexdigest()


def encode(tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    """The safetensors bytes of ``tensors`` with ``metadata`` and its checksum."""
    from safetensors.numpy import save

    tensors = {name: _little_endian(a) for name, a in tensors.items()}
    metadata = {k: v for k, v in metadata.items() if k != "checksum"}
    metadata["checksum"] = checksum(metadata, tensors)
    return save(tensors, metadata=metadata)


def network_metadata(
    net: "Network", *, history: Optional[History] = None, training: Optional[dict[str, Any]] = None
) -> dict[str, str]:
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "graph": net.graph.to_json(),
        "dtype": net.dtype.name,
        "parameter_names": json.dumps(net.parameter_names),
    }
    if training is not None:
        metadata["training"] = json.dumps(training)
    if history is not None:
        if not isinstance(history, History):
            raise TypeError(f"history must be an nv.History, got {type(history).__name__}")
        metadata["history"] = history.to_json()
    return metadata


def save_network(
    net: "Network",
    path: PathLike,
    *,
    history: Optional[History] = None,
    training: Optional[dict[str, Any]] = None,
    optimizer: Optional[dict[str, np.ndarray]] = None,
    extra: Optional[dict[str, str]] = None,
) -> Path:
    """Writes ``net`` (and optionally its History, training configuration,
    optimiser buffers and further metadata) to ``path``, atomically."""
    metadata = network_metadata(net, history=history, training=training)
    metadata.update(extra or {})
    tensors = {"parameters": net.parameters}
    for name, values in (optimizer or {}).items():
        tensors[OPTIMIZER_PREFIX + name] = np.asarray(values, dtype=net.dtype)
    return write_atomic(path, encode(tensors, metadata))


def load_network(path: PathLike) -> "Network":
    """The network saved at ``path`` (a model file or a checkpoint)."""
    return read(path).build()


# ---- reading -------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d: dict[str, Any] = {}
    for key, value in pairs:
        if key in d:
            raise ValueError(f"duplicate key {key!r}")
        d[key] = value
    return d


def _header(data: bytes, fail: Any) -> dict[str, Any]:
    """The safetensors JSON header, checked for shape (not yet for offsets)."""
    if len(data) < 8:
        raise fail(f"truncated or not a safetensors file: {len(data)} bytes, less than the 8-byte header length")
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8:
        raise fail(f"truncated or not a safetensors file: the header claims {n} bytes, the file has {len(data) - 8} after the length")
    if n > _MAX_HEADER:
        raise fail(f"not a safetensors file: a header of {n} bytes is over the {_MAX_HEADER}-byte limit")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise fail(f"corrupted or not a safetensors file: the header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise fail("corrupted or not a safetensors file: the header is not a JSON object")
    return header


def _tensors(data: bytes, fail: Any) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load

    try:
        return load(data)
    except (SafetensorError, ValueError, TypeError, KeyError, OverflowError) as e:
        raise fail(f"corrupted or truncated safetensors file: {e}") from None


def _int(metadata: dict[str, str], key: str, fail: Any) -> int:
    text = metadata[key]
    if not re.fullmatch(r"[0-9]{1,20}", text) or int(text) >= 2**64:
        raise fail(f"metadata {key!r} must be an integer in [0, 2**64), got {text!r}")
    return int(text)


def _json(metadata: dict[str, str], key: str, fail: Any) -> Any:
    try:
        return json.loads(metadata[key])
    except (ValueError, RecursionError) as e:
        raise fail(f"metadata {key!r} is not valid JSON ({e})") from None


def read(path: PathLike) -> SavedFile:
    """Reads and checks a model file or checkpoint (FormatError on any
    defect; OSError, naming the path, if it cannot be read)."""
    name = os.fspath(path)

    def fail(what: str) -> FormatError:
        return FormatError(f"{name}: {what}")

    with open(name, "rb") as f:
        data = f.read()
    header = _header(data, fail)
    metadata = header.get("__metadata__")
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        raise fail("corrupted file: the safetensors metadata must map names to strings")
    if metadata is None or "format" not in metadata:
        raise fail("not a nervenet model file: a safetensors file without nervenet metadata")
    tensors = _tensors(data, fail)
    if metadata["format"] != FORMAT:
        raise fail(f"not a nervenet model file: its format is {metadata['format']!r}, not {FORMAT!r}")
    version = metadata.get("format_version")
    if version is None:
        raise fail("the metadata lacks 'format_version'")
    if version != FORMAT_VERSION:
        raise fail(f"unsupported format_version {version!r}; this nervenet reads version {FORMAT_VERSION}")
    if "checksum" not in metadata:
        raise fail("corrupted file: the metadata has no checksum")
    if checksum(metadata, tensors) != metadata["checksum"]:
        raise fail("corrupted or modified file: the checksum does not match its contents")
    for key in ("graph", "dtype", "parameter_names"):
        if key not in metadata:
            raise fail(f"the metadata lacks {key!r}")

    dtype = metadata["dtype"]
    if dtype not in _SAFETENSORS_DTYPES:
        raise fail(f"dtype must be float32 or float64, got {dtype!r}")
    names = _json(metadata, "parameter_names", fail)
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise fail("metadata 'parameter_names' must be a JSON list of strings")
    if len(set(names)) != len(names):
        dup = next(n for i, n in enumerate(names) if n in names[:i])
        raise fail(f"metadata 'parameter_names' lists {dup!r} twice")

    def vector(tensor: str) -> np.ndarray:
        if tensor not in tensors:
            raise fail(f"the file has no {tensor!r} tensor")
        a = tensors[tensor]
        if a.dtype != np.dtype(dtype):
            raise fail(f"tensor {tensor!r} is {a.dtype.name}, but the network is {dtype}")
        if a.shape != (len(names),):
            raise fail(f"tensor {tensor!r} has shape {a.shape}, expected ({len(names)},) for {len(names)} parameters")
        bad = np.flatnonzero(~np.isfinite(a))
        if bad.size:
            i = int(bad[0])
            raise fail(f"tensor {tensor!r} holds a non-finite value ({a[i]}) at index {i} (parameter {names[i]!r})")
        return np.ascontiguousarray(a, dtype=np.dtype(dtype))

    saved = SavedFile(
        path=name, metadata=dict(metadata), dtype=dtype, graph_json=metadata["graph"],
        parameter_names=names, parameters=vector("parameters"),
    )
    for tensor in sorted(tensors):
        if tensor == "parameters":
            continue
        if not tensor.startswith(OPTIMIZER_PREFIX) or tensor == OPTIMIZER_PREFIX:
            raise fail(f"unexpected tensor {tensor!r} (a nervenet file holds 'parameters' and 'optimizer.*')")
        saved.optimizer[tensor[len(OPTIMIZER_PREFIX) :]] = vector(tensor)

    if "training" in metadata:
        training = _json(metadata, "training", fail)
        if not isinstance(training, dict):
            raise fail("metadata 'training' must be a JSON object")
        saved.training = training
    if "history" in metadata:
        try:
            saved.history = History.from_json(metadata["history"])
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
            raise fail(f"metadata 'history' is not a valid History ({type(e).__name__}: {e})") from None
    present = [k for k in _CHECKPOINT_KEYS if k in metadata]
    if present:
        missing = [k for k in _CHECKPOINT_KEYS if k not in metadata]
        if missing:
            raise fail(f"incomplete checkpoint: the metadata has {present} but lacks {missing}")
        saved.epoch = _int(metadata, "epoch", fail)
        saved.step_count = _int(metadata, "step_count", fail)
        try:
            lr_factor = float(metadata["lr_factor"])
        except ValueError:
            lr_factor = float("nan")
        if not (np.isfinite(lr_factor) and lr_factor > 0):
            raise fail(f"metadata 'lr_factor' must be a positive number, got {metadata['lr_factor']!r}")
        saved.lr_factor = lr_factor
    elif saved.optimizer:
        raise fail("optimizer tensors without checkpoint metadata (epoch, step_count, lr_factor)")
    return saved
