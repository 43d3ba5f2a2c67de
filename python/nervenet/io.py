"""Model files: one safetensors file holding a network (and, for a
checkpoint, the optimiser state), with the graph JSON and training
configuration in its metadata.

Tensors (format version 2): the parameters group by group (see
:mod:`nervenet.parameters`): one tensor per parameter group of more than
one value, named by the group (``edge:3`` of shape (filters, depth, kh,
kw), ``node:5:bias`` ...), and the one-value groups packed into ``edges``
and ``biases`` with their edge and node ids in ``edges.ids`` and
``biases.ids``; checkpoints add each optimiser buffer the same way under
``optimizer.<buffer>/``. Metadata (all strings): ``format`` ("nervenet"),
``format_version``, ``graph`` (graph JSON), ``dtype``, ``checksum``
(SHA-256 over every other metadata entry and every tensor) and optionally
``training`` (the fit configuration), ``history`` (History JSON) and, for
checkpoints, ``epoch`` (the next epoch to run), ``step_count`` and
``lr_factor``. Files are matched to the network by group names and ids,
so they load whatever flat layout the plan chooses.

Format version 3 is version 2 plus what a model needs to predict on its
own (written only when the network has it, so other files stay readable
by nervenet versions that read version 2): metadata ``model`` (JSON:
``classes``, the labels of the outputs, and ``preprocessing``, the fitted
input transform as :mod:`nervenet.data.stored` encodes it, its arrays in
tensors named ``preprocessing/<n>``) and ``config`` (the checked config of
``nervenet train``).

Version 1 files (nervenet before parameter groups: one flat
``parameters`` tensor, ``optimizer.<buffer>`` vectors and a
``parameter_names`` list) still load, matched by parameter name.

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
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

import numpy as np

from . import parameters as groups
from . import _checks
from ._checks import existing_file
from .errors import FormatError, MissingFileError, NervenetError
from .training.history import History

if TYPE_CHECKING:
    from .network import Network

__all__ = ["FORMAT", "FORMAT_VERSION", "SavedFile", "read", "save_network", "load_network", "write_atomic"]

PathLike = Union[str, "os.PathLike[str]"]

FORMAT = "nervenet"
FORMAT_VERSION = "2"
MODEL_VERSION = "3"  # FORMAT_VERSION plus the model entries (classes, preprocessing, config)
READS_VERSIONS = ("1", "2", "3")
OPTIMIZER_PREFIX = "optimizer."
PREPROCESSING_PREFIX = "preprocessing/"
_MAX_HEADER = 100 * 2**20  # the safetensors library's own limit
_CHECKPOINT_KEYS = ("epoch", "step_count", "lr_factor")
_SAFETENSORS_DTYPES = {"float32": "F32", "float64": "F64"}


@dataclass
class SavedFile:
    """A model file, read and checked (the network is not built yet).

    ``tensors`` are the file's tensors by name; a version 1 file has its
    flat ``parameters`` (and ``optimizer.<buffer>`` vectors) there and the
    names in ``parameter_names``."""

    path: str
    metadata: dict[str, str]
    dtype: str
    graph_json: str
    tensors: dict[str, np.ndarray]
    optimizer_buffers: list[str] = field(default_factory=list)
    parameter_names: Optional[list[str]] = None
    training: Optional[dict[str, Any]] = None
    history: Optional[History] = None
    epoch: Optional[int] = None
    step_count: Optional[int] = None
    lr_factor: Optional[float] = None
    classes: Optional[list[Any]] = None
    preprocessing: Any = None
    config: Optional[dict[str, Any]] = None

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
        try:
            net.classes = self.classes
        except NervenetError as e:
            raise self.error(f"the saved classes do not fit the network: {e}") from e
        net.preprocessing = self.preprocessing
        return net

    def parameters_for(self, net: "Network") -> np.ndarray:
        """The saved parameters as a vector in ``net``'s flat layout."""
        return self._vector_for(net, "")

    def optimizer_for(self, net: "Network") -> dict[str, np.ndarray]:
        """Each saved optimiser buffer as a vector in ``net``'s flat layout."""
        return {b: self._vector_for(net, f"{OPTIMIZER_PREFIX}{b}") for b in self.optimizer_buffers}

    def _vector_for(self, net: "Network", what: str) -> np.ndarray:
        if self.parameter_names is None:
            return groups.join(net, self.tensors, f"{what}/" if what else "", self.error)
        return self._in_order_of(net, self.tensors[what or "parameters"])

    def _in_order_of(self, net: "Network", values: np.ndarray) -> np.ndarray:
        """``values`` (a version 1 vector in the file's parameter order)
        rearranged to ``net``'s order, matching parameters by name."""
        assert self.parameter_names is not None
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
        """Sets ``net``'s parameters from the file (matched by group)."""
        values = self.parameters_for(net)
        try:
            net.parameters = values
        except NervenetError as e:
            raise self.error(f"the saved parameters do not fit the network: {e}") from e


# ---- writing -------------------------------------------------------------------


def write_atomic(path: PathLike, data: bytes) -> Path:
    """Writes ``data`` to a temporary file next to ``path``, flushes it to
    disk and renames it over ``path``; on any failure the temporary file is
    removed and ``path`` is left as it was."""
    path = _checks.path_of(path, "path")
    folder = path.parent
    if path.is_dir():
        raise MissingFileError(f"cannot write {path}: it is a folder")
    tmp = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except FileNotFoundError:
        raise MissingFileError(f"cannot write {path}: no such folder {folder}") from None
    except OSError as e:  # the error names the temporary file; name the path asked for
        raise type(e)(e.errno, e.strerror, str(path)) from None
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


def model_entries(net: "Network") -> tuple[Optional[dict[str, Any]], dict[str, np.ndarray]]:
    """The ``model`` metadata of ``net`` (None when it has neither classes
    nor preprocessing) and the preprocessing's tensors."""
    if net.classes is None and net.preprocessing is None:
        return None, {}
    from .data import stored

    model: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    if net.classes is not None:
        model["classes"] = list(net.classes)
    if net.preprocessing is not None:
        model["preprocessing"], arrays = stored.encode(net.preprocessing)
    return model, {PREPROCESSING_PREFIX + k: a for k, a in arrays.items()}


def network_metadata(
    net: "Network",
    *,
    history: Optional[History] = None,
    training: Optional[dict[str, Any]] = None,
    model: Optional[dict[str, Any]] = None,
    config: Optional[dict[str, Any]] = None,
) -> dict[str, str]:
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION if model is None and config is None else MODEL_VERSION,
        "graph": net.graph.to_json(),
        "dtype": net.dtype.name,
    }
    if model is not None:
        metadata["model"] = json.dumps(model)
    if config is not None:
        metadata["config"] = json.dumps(config)
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
    config: Optional[dict[str, Any]] = None,
) -> Path:
    """Writes ``net`` (with its classes and preprocessing, and optionally
    its History, training configuration, optimiser buffers, the config of
    ``nervenet train`` and further metadata) to ``path``, atomically."""
    model, model_tensors = model_entries(net)
    metadata = network_metadata(net, history=history, training=training, model=model, config=config)
    metadata.update(extra or {})
    vectors = {"": net.parameters}
    for name, values in (optimizer or {}).items():
        if not name or "/" in name:
            raise ValueError(f"optimiser buffer names must be non-empty without '/', got {name!r}")
        vectors[f"{OPTIMIZER_PREFIX}{name}/"] = np.asarray(values, dtype=net.dtype)
    tensors = {**groups.split(net, vectors), **model_tensors}
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


def _check_values(saved: SavedFile, tensor: str, fail: Any, name_of: Optional[Callable[[int], str]] = None) -> None:
    """A parameter tensor must be in the file's dtype and finite;
    ``name_of(i)`` names its i-th value in the error, where known."""
    a = saved.tensors[tensor]
    if a.dtype != np.dtype(saved.dtype):
        raise fail(f"tensor {tensor!r} is {a.dtype.name}, but the network is {saved.dtype}")
    bad = np.flatnonzero(~np.isfinite(a.reshape(-1)))
    if bad.size:
        i = int(bad[0])
        what = f" (parameter {name_of(i)!r})" if name_of is not None else ""
        raise fail(f"tensor {tensor!r} holds a non-finite value ({a.reshape(-1)[i]}) at index {i}{what}")


def _check_version_2(saved: SavedFile, fail: Any) -> None:
    """Group tensors in the file's dtype, finite; id tensors integer; the
    optimiser buffers named by their prefixes."""
    buffers = set()
    for tensor, a in saved.tensors.items():
        if tensor.endswith(groups.IDS):
            if tensor[: -len(groups.IDS)] not in groups.SCALAR_PACKS or a.dtype != np.uint32 or a.ndim != 1:
                raise fail(f"unexpected tensor {tensor!r} (ids are 1-D uint32 tensors of the packs edges and biases)")
            continue
        if tensor.startswith(OPTIMIZER_PREFIX):
            buffer, slash, _ = tensor[len(OPTIMIZER_PREFIX) :].partition("/")
            if not (buffer and slash):
                raise fail(f"unexpected tensor {tensor!r} (optimiser tensors are named 'optimizer.<buffer>/<group>')")
            buffers.add(buffer)
        pack = tensor.rpartition("/")[2]
        ids = saved.tensors.get(pack + groups.IDS)
        name_of = None
        if pack in groups.SCALAR_PACKS and ids is not None and ids.shape == a.shape:
            name_of = lambda i: groups.packed_name(pack, int(ids[i]))  # noqa: E731
        _check_values(saved, tensor, fail, name_of)
    saved.optimizer_buffers = sorted(buffers)


def _check_version_1(saved: SavedFile, fail: Any) -> None:
    """The flat vectors and the parameter names of a version 1 file."""
    if "parameter_names" not in saved.metadata:
        raise fail("the metadata lacks 'parameter_names'")
    names = _json(saved.metadata, "parameter_names", fail)
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise fail("metadata 'parameter_names' must be a JSON list of strings")
    if len(set(names)) != len(names):
        dup = next(n for i, n in enumerate(names) if n in names[:i])
        raise fail(f"metadata 'parameter_names' lists {dup!r} twice")
    if "parameters" not in saved.tensors:
        raise fail("the file has no 'parameters' tensor")
    for tensor, a in saved.tensors.items():
        if tensor != "parameters" and (not tensor.startswith(OPTIMIZER_PREFIX) or tensor == OPTIMIZER_PREFIX):
            raise fail(f"unexpected tensor {tensor!r} (a nervenet file holds 'parameters' and 'optimizer.*')")
        if a.shape != (len(names),):
            raise fail(f"tensor {tensor!r} has shape {a.shape}, expected ({len(names)},) for {len(names)} parameters")
        _check_values(saved, tensor, fail, names.__getitem__)
        saved.tensors[tensor] = np.ascontiguousarray(a)
    saved.parameter_names = names
    saved.optimizer_buffers = sorted(t[len(OPTIMIZER_PREFIX) :] for t in saved.tensors if t != "parameters")


def _read_model_entries(saved: SavedFile, fail: Any) -> None:
    """The classes, preprocessing (its tensors taken out of ``saved.tensors``)
    and config of a version 3 file."""
    arrays = {t[len(PREPROCESSING_PREFIX) :]: np.array(a) for t, a in saved.tensors.items()
              if t.startswith(PREPROCESSING_PREFIX)}
    saved.tensors = {t: a for t, a in saved.tensors.items() if not t.startswith(PREPROCESSING_PREFIX)}
    if "config" in saved.metadata:
        config = _json(saved.metadata, "config", fail)
        if not isinstance(config, dict):
            raise fail("metadata 'config' must be a JSON object")
        saved.config = config
    if "model" not in saved.metadata:
        if arrays:
            raise fail("preprocessing tensors without metadata 'model'")
        return
    model = _json(saved.metadata, "model", fail)
    if not isinstance(model, dict) or not set(model) <= {"classes", "preprocessing"}:
        raise fail("metadata 'model' must be a JSON object with 'classes' and/or 'preprocessing'")
    if "classes" in model:
        if not isinstance(model["classes"], list):
            raise fail("metadata 'model' holds classes that are not a JSON list")
        saved.classes = model["classes"]
    if "preprocessing" in model:
        from .data import stored

        saved.preprocessing = stored.decode(model["preprocessing"], arrays, fail)
    elif arrays:
        raise fail("preprocessing tensors without a stored preprocessing")


def read(path: PathLike) -> SavedFile:
    """Reads and checks a model file or checkpoint (FormatError on any
    defect; MissingFileError if nothing is at ``path`` or it is a folder;
    OSError, naming the path, if it cannot be read)."""
    name = os.fspath(existing_file(path, "model file"))

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
    if version not in READS_VERSIONS:
        raise fail(f"unsupported format_version {version!r}; this nervenet reads versions {', '.join(READS_VERSIONS)}")
    if "checksum" not in metadata:
        raise fail("corrupted file: the metadata has no checksum")
    if checksum(metadata, tensors) != metadata["checksum"]:
        raise fail("corrupted or modified file: the checksum does not match its contents")
    for key in ("graph", "dtype"):
        if key not in metadata:
            raise fail(f"the metadata lacks {key!r}")
    dtype = metadata["dtype"]
    if dtype not in _SAFETENSORS_DTYPES:
        raise fail(f"dtype must be float32 or float64, got {dtype!r}")
    saved = SavedFile(path=name, metadata=dict(metadata), dtype=dtype, graph_json=metadata["graph"], tensors=tensors)
    if version == MODEL_VERSION:
        _read_model_entries(saved, fail)
    elif "model" in metadata or "config" in metadata:
        raise fail(f"metadata 'model' and 'config' need format_version {MODEL_VERSION}, the file has {version}")
    if version == "1":
        _check_version_1(saved, fail)
    else:
        _check_version_2(saved, fail)

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
    elif saved.optimizer_buffers:
        raise fail("optimizer tensors without checkpoint metadata (epoch, step_count, lr_factor)")
    return saved
