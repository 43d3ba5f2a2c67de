"""ONNX export of a :class:`~nervenet.Network` (``net.to_onnx(path)``,
``nervenet export MODEL --onnx out.onnx``), built with the optional ``onnx``
package (``pip install "nervenet[onnx]"``).

The model uses opset :data:`OPSET` (18) and IR version :data:`IR_VERSION`
(9), which onnxruntime 1.16 and later run. Its input ``X`` and output ``Y``
have a dynamic batch dimension ``N`` (and time ``T``):

* feed-forward networks: ``X`` (N, n_inputs), or (N, C, H, W) when the
  only input is one feature map; ``Y`` (N, n_outputs);
* recurrent networks (an edge with ``time_skip > 0`` or a memory cell):
  ``X`` (N, T, n_inputs) (images flattened); ``Y`` (N, T, n_outputs); every
  sequence starts from a zero state, as ``Network.forward`` does.

With ``preprocessing=True`` (the default) a model whose :attr:`Network.preprocessing`
is set takes raw features: its standardisation, min-max scaling, PCA or
one-hot encoding runs as ONNX operators in front (:mod:`.preprocessing`).
Outputs are the raw outputs of ``forward`` (scores, not class labels); a
classifier's labels are in the model's metadata, ``classes`` (JSON).

How the graph maps onto operators: :mod:`.dense` (a level's scalar nodes as
one MatMul or a Gather/ScatterElements product), :mod:`.maps` (Conv,
MaxPool, AveragePool), :mod:`.cells` (memory cells), :mod:`.recurrent`
(the Scan), :mod:`.standard` (stacked standard LSTM/GRU layers as ONNX
LSTM/GRU operators). What has no ONNX form (fractional max pooling, which draws
random regions on every pass) raises UnsupportedError naming the edge.

>>> import numpy as np, nervenet as nv, onnxruntime as ort
>>> net = nv.Network(nv.mlp([3, 8, 2]), seed=1)
>>> model = net.to_onnx(None)          # a path writes the file too
>>> sess = ort.InferenceSession(model.SerializeToString())
>>> X = np.ones((4, 3), np.float32)
>>> bool(np.allclose(sess.run(None, {"X": X})[0], net.forward(X), atol=1e-6))
True
"""

from __future__ import annotations

import json
import os
from typing import Any, Optional, Union

import numpy as np

from .._checks import flag, path_of, real
from . import standard
from .builder import Builder, load_onnx
from .preprocessing import front
from .recurrent import len_out, scan
from .step import Step
from .structure import read

__all__ = ["export", "OPSET", "IR_VERSION"]

OPSET = 18
IR_VERSION = 9


def export(net: Any, path: Optional[Union[str, "os.PathLike[str]"]] = None, *, preprocessing: bool = True,
           dense_min_density: float = 0.05, standard_layers: bool = True, check: bool = True) -> Any:
    """Writes ``net`` as an ONNX model to ``path`` (when given) and returns
    the ``onnx.ModelProto``. ``dense_min_density``: a level whose weight
    matrix is at least this dense is a MatMul, a sparser one gathers its
    edges' sources. ``standard_layers``: a network of standard LSTM/GRU
    layers with a linear head becomes ONNX LSTM/GRU operators in float32
    (:mod:`.standard`; False, or a float64 network: the generic Scan).
    ``check`` runs ``onnx.checker.check_model(full_check=True)``."""
    onnx = load_onnx()
    target = None if path is None else path_of(path, "ONNX path")
    use_pre = flag(preprocessing, "preprocessing")
    use_standard = flag(standard_layers, "standard_layers")
    density = real(dense_min_density, "dense_min_density", 0.0)
    s = read(net)
    b = Builder(net.dtype)
    transform = net.preprocessing if use_pre else None
    image = s.image is not None and not s.recurrent and transform is None  # X as (N, C, H, W)
    x_shape: list[Any] = ["N", "T", s.n_inputs] if s.recurrent else ["N", *s.image] if image else ["N", s.n_inputs]
    y_shape: list[Any] = [*x_shape[:-3 if image else -1], len_out(s)]
    x = "X"
    if transform is not None:
        x, width = front(b, transform, x)
        x_shape[-1] = width
    # onnxruntime's LSTM has no float64 kernel: float64 networks keep the Scan
    layers = standard.match(s) if s.recurrent and use_standard and b.dtype == np.float32 else None
    if layers is not None:
        y = standard.emit(b, s, x, layers)
    elif s.recurrent:
        y = scan(b, s, x, density)
    else:
        step = Step(b, s, b.flatten(x) if image else x, x if image else None, None, density)
        step.run()
        y = step.outputs()
    b.op("Identity", [y], name="Y")
    graph = b.graph("nervenet", [b.value_info("X", x_shape)], [b.value_info("Y", y_shape)])
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)],
                                   producer_name="nervenet", ir_version=IR_VERSION)
    if net.classes is not None:  # a classifier's labels, for whoever serves the model
        onnx.helper.set_model_props(model, {"classes": json.dumps(net.classes)})
    if check:
        onnx.checker.check_model(model, full_check=True)
    if target is not None:
        from ..io import write_atomic

        write_atomic(target, model.SerializeToString())
    return model
