"""ONNX export judged by onnxruntime: every exported model passes
``onnx.checker.check_model(full_check=True)`` and onnxruntime's outputs
equal ``Network.forward``'s (float32: max abs difference ≤ 1e-5 of the
output scale) for feed-forward, convolutional, recurrent and evolved
networks, at several batch sizes and sequence lengths from one export."""

from __future__ import annotations

import sys
from typing import Any, Callable

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import nervenet as nv
from nervenet import cli
from nervenet.errors import ConfigError, UnsupportedError
from nervenet.evolution import operators as ops
from nervenet.evolution.run import minimal_genome
from nervenet.onnx_export import IR_VERSION, OPSET

TOLERANCE = 1e-5


def session(model: onnx.ModelProto) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def unused_initializers(graph: onnx.GraphProto) -> list[str]:
    """Initializers no node reads (subgraphs — a Scan's body — included)."""
    used, unused = set(), []
    for node in graph.node:
        used.update(node.input)
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                unused += unused_initializers(attr.g)
                used.update(i for n in attr.g.node for i in n.input)
    return unused + [i.name for i in graph.initializer if i.name not in used]


def difference(got: np.ndarray, want: np.ndarray) -> float:
    """Max abs difference relative to the output scale (the largest output)."""
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = float(np.abs(want).max())
    assert scale > 1e-3, "outputs too small to compare"
    return float(np.abs(got.astype(np.float64) - want).max() / scale)


def randomised(g: nv.Graph, seed: int, scale: float = 1.0, dtype: str = "float32") -> nv.Network:
    """A network whose trainable parameters are all well away from zero
    (biases and cell parameters included), so every part of it shows."""
    net = nv.Network(g, dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed)
    values = net.parameters
    mask = net.trainable
    values[mask] = (rng.uniform(0.2, 1.0, mask.sum()) * rng.choice([-1.0, 1.0], mask.sum()) * scale).astype(values.dtype)
    net.parameters = values
    return net


def coal_examm() -> nv.Graph:
    """EXAMM-shaped coal-plant network: 12 inputs, memory cells of every
    kind, input -> cell edges at skip 0 and 1, cell -> cell and cell ->
    output recurrent edges at skips 2..5, and the naive forecast as an
    identity edge from the target input to the output."""
    g = nv.Graph()
    x = g.add_inputs(12)
    cells = [c for kind in ("lstm", "gru", "mgu", "ugrnn", "delta") for c in g.add_cells(2, kind)]
    simple = g.add_nodes(2, "tanh")
    y = g.add_outputs(1, "identity", bias=True)[0]
    g.connect_all(x, cells)
    g.connect_all(x[:4], cells, time_skip=1)
    g.connect_all(cells, simple)
    for i, c in enumerate(cells):
        g.connect(c, y)
        g.connect(c, cells[(i + 3) % len(cells)], time_skip=2 + i % 4)
        g.connect(c, y, time_skip=2 + (i + 1) % 4)
    g.connect_all(simple, y)
    g.connect(y, simple[0], time_skip=5)
    g.identity(x[11], y)
    return g


def evolved_genome() -> nv.Graph:
    """A genome grown from EXAMM's minimal seed by the run's own mutation
    operators (new nodes of every kind, recurrent edges, disabled parts)."""
    rng = np.random.default_rng(11)
    g = minimal_genome(5, 2)
    run = ops.Innovations.after(g)
    mutations = [ops.add_edge, ops.add_recurrent_edge, ops.split_edge, ops.add_node, ops.split_edge, ops.add_node,
                 ops.disable_edge, ops.split_node, ops.merge_nodes, ops.enable_edge, ops.disable_node]
    for i in range(60):
        child = mutations[i % len(mutations)](g, rng, run)
        if isinstance(child, nv.Graph):
            g = child
    return g


def every_activation() -> nv.Graph:
    """One hidden node per activation (relu6 with cap 2.5, leaky relu with
    slope 0.3 among them), skip-layer edges from the inputs to the outputs,
    an identity (residual) edge and a fixed weight."""
    g = nv.Graph()
    x = g.add_inputs(4)
    hidden = [g.add_node("hidden", a) for a in ("identity", "linear", "relu", "sigmoid", "tanh", "softsign")]
    hidden += [g.add_node("hidden", "relu6", cap=2.5), g.add_node("hidden", "leaky_relu", slope=0.3)]
    y = g.add_outputs(3, "relu6", cap=4.0) + g.add_outputs(1, "leaky_relu", slope=0.05)
    g.connect_all(x, hidden)
    g.connect_all(hidden, y)
    g.connect_all(x, y[:2])
    g.identity(x[0], y[3])
    g.connect(x[1], y[2], weight=-0.7, trainable=False)
    return g


def image_cnn() -> nv.Graph:
    """Tied and untied biases, a 3D (depth) filter, a residual block with an
    identity edge, strided filters, average pooling, a map among the outputs."""
    g = nv.Graph()
    x = g.add_feature_map(3, 9, 9, role="input")
    a = g.add_feature_map(4, 9, 9, untied_bias=False)
    g.connect_filter(x, a, 3, padding=1)
    deep = g.add_feature_map(4, 9, 9, activation="tanh")  # 2 filters of depth 3 over 4 channels: 2 slices each
    g.connect_filter(a, deep, 3, padding=1, depth=3)
    b = nv.cnn.resnet_block(g, deep, 4, tied_bias=False)
    c = nv.cnn.resnet_block(g, b, 6, stride=2)
    pooled = g.add_feature_map(6, 1, 1, activation="identity", bias=False, role="output")
    g.connect_pool(c, pooled, "avg", 5)
    y = g.add_outputs(3, "leaky_relu", slope=0.2)
    g.connect_all([c, a], y)
    return g


# name -> (graph, X shape without the batch, parameter scale)
CASES: dict[str, Callable[[], tuple[nv.Graph, tuple[int, ...], float]]] = {
    "mlp": lambda: (nv.mlp([6, 16, 8, 3], activation="relu"), (6,), 1.0),
    "every_activation": lambda: (every_activation(), (4,), 1.0),
    "sparse_dag": lambda: (nv.random_graph(6, 40, 3, density=0.15, seed=5, fixed_probability=0.2, activations=[
        "tanh", "relu", "relu6", "leaky_relu", "sigmoid", "softsign", "identity"]), (6,), 1.0),
    "lenet5": lambda: (nv.cnn.lenet5(), (1, 28, 28), 0.3),
    "lenet5_avg": lambda: (nv.cnn.lenet5(pool="avg", activation="tanh"), (1, 28, 28), 0.2),
    "small_vgg": lambda: (nv.cnn.small_vgg(), (3, 32, 32), 0.12),
    "small_vgg_untied": lambda: (nv.cnn.small_vgg(tied_bias=False, dense=16), (3, 32, 32), 0.12),
    "image_cnn": lambda: (image_cnn(), (3, 9, 9), 0.3),
    "lstm_2_layers": lambda: (nv.rnn.lstm_layers(4, [8, 6], 2), (7, 4), 1.0),
    "gru_2_layers": lambda: (nv.rnn.gru_layers(4, [8, 6], 2), (7, 4), 1.0),
    "elman": lambda: (nv.rnn.elman(4, 6, 2), (7, 4), 1.0),
    "cells_stacked": lambda: (nv.rnn.stacked(3, [4, 3], 2, kind="delta", recurrent=True), (7, 3), 1.0),
    "nbj": lambda: (nv.rnn.nbj(3, 5, 1, lags=2, skips=3), (7, 9), 1.0),
    "coal_examm": lambda: (coal_examm(), (9, 12), 0.5),
    "evolved_genome": lambda: (evolved_genome(), (9, 5), 1.0),
}

@pytest.mark.parametrize("name", list(CASES))
def test_exported_outputs_equal_nervenet(name: str) -> None:
    g, shape, scale = CASES[name]()
    net = randomised(g, seed=len(name), scale=scale)
    model = net.to_onnx()
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == OPSET and model.ir_version == IR_VERSION
    assert not unused_initializers(model.graph)
    sess = session(model)
    rng = np.random.default_rng(1)
    worst = 0.0
    for batch in (1, 5):  # one export, any batch size
        X = rng.normal(size=(batch, *shape)).astype(np.float32)
        worst = max(worst, difference(sess.run(None, {"X": X})[0], net.forward(X)))
    print(f"{name}: max difference {worst:.2e}, {len(model.graph.node)} ONNX nodes")
    assert worst <= TOLERANCE


@pytest.mark.parametrize("name", ["lstm_2_layers", "coal_examm", "evolved_genome"])
def test_one_export_runs_every_sequence_length(name: str) -> None:
    g, shape, scale = CASES[name]()
    net = randomised(g, seed=3, scale=scale)
    sess = session(net.to_onnx())
    rng = np.random.default_rng(2)
    for batch, steps in ((1, 1), (3, 2), (2, 13)):
        X = rng.normal(size=(batch, steps, shape[-1])).astype(np.float32)
        assert difference(sess.run(None, {"X": X})[0], net.forward(X)) <= TOLERANCE


@pytest.mark.parametrize("builder", [nv.rnn.lstm_layers, nv.rnn.gru_layers])
def test_standard_layers_become_onnx_lstm_and_gru_operators(builder: Any) -> None:
    """Stacked standard layers with a linear head run as ONNX's own LSTM /
    GRU operators; the generic Scan gives the same outputs; a graph that is
    not of that shape (an extra recurrent edge) falls back to the Scan."""
    op = "LSTM" if builder is nv.rnn.lstm_layers else "GRU"
    g = builder(4, [6, 5, 3], 2)
    X = np.random.default_rng(5).normal(size=(3, 8, 4)).astype(np.float32)
    for dtype in ("float32", "float64"):
        net = randomised(g, seed=6, dtype=dtype)
        # float64 always takes the Scan: onnxruntime's LSTM has no float64 kernel
        for standard, ops_wanted in ((True, {op} if dtype == "float32" else {"Scan"}), (False, {"Scan"})):
            model = net.to_onnx(standard_layers=standard)
            onnx.checker.check_model(model, full_check=True)
            kinds = {n.op_type for n in model.graph.node}
            assert ops_wanted <= kinds and ({"LSTM", "GRU", "Scan"} - ops_wanted).isdisjoint(kinds)
            assert difference(session(model).run(None, {"X": X.astype(dtype)})[0], net.forward(X.astype(dtype))) <= 1e-5
    last_layer_unit = g.outputs()[0] - 3
    g.connect(g.inputs()[0], last_layer_unit, time_skip=1)  # an input read a step back: no operator has that
    net = randomised(g, seed=6)
    model = net.to_onnx()
    assert "Scan" in {n.op_type for n in model.graph.node}
    assert difference(session(model).run(None, {"X": X})[0], net.forward(X)) <= TOLERANCE


def test_float64_networks_export_in_float64() -> None:
    for g, shape in ((nv.random_graph(4, 20, 2, density=0.3, seed=2), (4,)), (coal_examm(), (6, 12))):
        net = randomised(g, seed=4, scale=0.5, dtype="float64")
        model = net.to_onnx()
        assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
        X = np.random.default_rng(0).normal(size=(3, *shape))
        np.testing.assert_allclose(session(model).run(None, {"X": X})[0], net.forward(X), rtol=1e-12, atol=1e-12)


def test_inputs_of_several_kinds_keep_the_engines_column_order() -> None:
    """X's columns are the engine's input rows: scalar inputs by id, then
    input maps by size and id, whatever order they were added in; a node
    fed by nothing gives its bias."""
    g = nv.Graph()
    s = g.add_inputs(2)
    big = g.add_feature_map(2, 5, 5, role="input")
    small = g.add_feature_map(1, 3, 3, role="input")
    s2 = g.add_inputs(1)
    m = g.add_feature_map(3, 3, 3, untied_bias=False)
    g.connect_filter(big, m, 3)
    g.identity(small, g.add_feature_map(1, 3, 3, activation="sigmoid"))
    h = g.add_nodes(4, "tanh")
    g.connect_all([m, small] + s + s2, h)
    y = g.add_outputs(2)
    g.connect_all(h, y)
    free = g.add_nodes(1, "sigmoid")[0]
    g.set_bias(free, 0.3)
    g.connect(free, y[0])
    net = randomised(g, seed=8)
    X = np.random.default_rng(0).normal(size=(3, net.n_inputs)).astype(np.float32)
    assert difference(session(net.to_onnx()).run(None, {"X": X})[0], net.forward(X)) <= TOLERANCE


def test_sparse_levels_gather_their_edges() -> None:
    """A level whose weight matrix is mostly zeros gathers its edges'
    sources instead of multiplying zeros; both forms agree with nervenet."""
    g = nv.random_graph(30, 120, 4, density=0.02, seed=9)
    net = randomised(g, seed=9)
    X = np.random.default_rng(0).normal(size=(4, 30)).astype(np.float32)
    for density, op in ((0.0, "MatMul"), (1.01, "ScatterElements")):
        model = net.to_onnx(dense_min_density=density)
        kinds = {n.op_type for n in model.graph.node}
        assert op in kinds and ({"MatMul", "ScatterElements"} - {op}).isdisjoint(kinds)
        assert difference(session(model).run(None, {"X": X})[0], net.forward(X)) <= TOLERANCE


def test_levels_not_edges_make_the_operators() -> None:
    """One product per level, never a node per scalar edge."""
    g = nv.mlp([20, 30, 30, 5])
    model = nv.Network(g).to_onnx()
    assert sum(n.op_type == "MatMul" for n in model.graph.node) == 3
    assert len(model.graph.node) < 20 < g.num_edges
    lenet = nv.Network(nv.cnn.lenet5()).to_onnx()
    assert sum(n.op_type == "Conv" for n in lenet.graph.node) == 2  # C1, and C3's partial table as one masked Conv


def test_model_file_preprocessing_runs_in_front(tmp_path: Any) -> None:
    import sklearn.decomposition
    import sklearn.pipeline
    import sklearn.preprocessing

    rng = np.random.default_rng(0)
    raw = np.column_stack([rng.integers(0, 3, 60), rng.normal(5, 10, 60), rng.integers(1, 4, 60) * 2.0,
                           rng.normal(size=60)])
    transforms = {
        "standardize": nv.data.Standardize(),
        "minmax_clip": nv.data.MinMaxScale(clip=True),
        "one_hot_then_standardize": nv.data.chain(nv.data.OneHotEncoder(columns=[0, 2], handle_unknown="ignore"),
                                                   nv.data.Standardize()),
        "whitening": nv.data.Whitening(),
        "sklearn_pipeline": sklearn.pipeline.make_pipeline(sklearn.preprocessing.StandardScaler(),
                                                           sklearn.decomposition.PCA(3, whiten=True)),
    }
    Xr = np.vstack([raw[:6], [[7.0, 1.0, 4.0, 0.5]]])  # a category training never saw: all indicators 0
    for name, transform in transforms.items():
        transform.fit(raw)
        net = randomised(nv.mlp([transform.transform(raw[:1]).shape[1], 6, 2]), seed=1)
        net.preprocessing = transform
        path = tmp_path / f"{name}.safetensors"
        net.save(path)
        loaded = nv.Network.load(path)
        sess = session(loaded.to_onnx(tmp_path / f"{name}.onnx"))
        rows = Xr if name == "one_hot_then_standardize" else Xr[:6]
        want = net.forward(np.asarray(transform.transform(rows), dtype=np.float32))
        assert difference(sess.run(None, {"X": rows.astype(np.float32)})[0], want) <= TOLERANCE, name
        raw_free = session(loaded.to_onnx(preprocessing=False))
        assert raw_free.get_inputs()[0].shape[-1] == net.n_inputs


def test_cli_export_writes_a_model_onnxruntime_runs(tmp_path: Any, capsys: Any) -> None:
    net = randomised(nv.rnn.gru_layers(3, 5, 2), seed=2)
    net.classes = ["calm", 7]
    net.save(tmp_path / "model.safetensors")
    out = tmp_path / "model.onnx"
    assert cli.main(["export", str(tmp_path / "model.safetensors"), "--onnx", str(out)]) == 0
    assert "input X (N, T, 3)" in capsys.readouterr().out
    X = np.random.default_rng(0).normal(size=(2, 4, 3)).astype(np.float32)
    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    assert {p.key: p.value for p in model.metadata_props} == {"classes": '["calm", 7]'}
    assert difference(session(model).run(None, {"X": X})[0], net.forward(X)) <= TOLERANCE


def test_fractional_max_pooling_is_refused_naming_the_edge() -> None:
    g = nv.Graph()
    x = g.add_feature_map(1, 8, 8, role="input")
    m = g.add_feature_map(1, 5, 5)
    e = g.connect_pool(x, m, "fractional_max")
    g.connect_all(m, g.add_outputs(1))
    with pytest.raises(UnsupportedError, match=f"edge {e} .*fractional max pooling"):
        nv.Network(g).to_onnx()


def test_text_columns_are_refused_naming_the_column() -> None:
    from nervenet.data import ColumnPreprocessor

    X = np.array([[1.0, "a"], [2.0, "b"]], dtype=object)
    prep = ColumnPreprocessor().fit(X, np.array([0, 1]))
    net = nv.Network(nv.mlp([prep.n_features, 2]))
    net.preprocessing = prep
    with pytest.raises(UnsupportedError, match="column 1 holds text"):
        net.to_onnx()
    assert net.to_onnx(preprocessing=False).graph.input[0].name == "X"


def test_numeric_column_preprocessor_is_exported() -> None:
    from nervenet.data import ColumnPreprocessor

    X = np.random.default_rng(0).normal(size=(20, 3))
    prep = ColumnPreprocessor().fit(X, np.arange(20) % 2)
    net = randomised(nv.mlp([3, 4, 2]), seed=0)
    net.preprocessing = prep
    rows = X[:4]
    want = net.forward(prep.transform(rows).astype(np.float32))
    assert difference(session(net.to_onnx()).run(None, {"X": rows.astype(np.float32)})[0], want) <= TOLERANCE


def test_without_onnx_the_error_says_how_to_install(monkeypatch: Any) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ConfigError, match=r'pip install "nervenet\[onnx\]"'):
        nv.Network(nv.mlp([2, 1])).to_onnx()


def test_docstring_examples_run() -> None:
    import doctest

    import nervenet.onnx_export as module

    assert doctest.testmod(module).failed == 0
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(nv.Network.to_onnx, "Network.to_onnx", globs={}):
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_of_every_node_kind(seed: int) -> None:
    """Seeded graphs mixing everything (tests/mixed_graphs.py): an input map
    with random filters, pools and a residual, flattened into simple nodes
    and memory cells of every kind, layer skips, fixed weights, recurrent
    edges of skips 1..4; half of them feed-forward only."""
    from mixed_graphs import mixed_graph

    rng = np.random.default_rng(seed)
    image = (2, 7, 7) if seed % 3 == 0 else None
    recurrent = seed % 2 == 0
    g = mixed_graph(rng, inputs=4, hidden=10, outputs=3, image=image, recurrent=4 if recurrent else 0,
                    max_skip=4, cell_probability=0.4 if recurrent else 0.0)
    net = randomised(g, seed=seed, scale=0.7)
    model = net.to_onnx()
    onnx.checker.check_model(model, full_check=True)
    assert not unused_initializers(model.graph)
    sequences = len(model.graph.input[0].type.tensor_type.shape.dim) == 3
    assert sequences == recurrent  # cells or recurrent edges: (N, T, features) through a Scan
    X = rng.normal(size=(3, 6, net.n_inputs) if sequences else (3, net.n_inputs)).astype(np.float32)
    feed = X.reshape(3, *image) if image is not None and not sequences else X
    assert difference(session(model).run(None, {"X": feed})[0], net.forward(X)) <= TOLERANCE
