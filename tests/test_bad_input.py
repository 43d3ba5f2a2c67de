"""Bad input is a test case: every mistake raises the right nervenet
exception, with a message that names what is wrong, and never crashes."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import subprocess
import sys

import numpy as np
import pytest
import sklearn.exceptions

import nervenet as nv
from nervenet import _core


@pytest.fixture
def net(small_graph: nv.Graph) -> nv.Network:
    return nv.Network(small_graph, dtype="float64")


@pytest.fixture
def clf(rng) -> nv.Network:
    return nv.Network(nv.mlp([3, 4, 3]), dtype="float64")


def test_hierarchy() -> None:
    assert issubclass(nv.ShapeError, ValueError)
    assert issubclass(nv.DataError, ValueError)
    assert issubclass(nv.ConfigError, ValueError)
    assert issubclass(nv.FormatError, ValueError)
    assert issubclass(nv.ParameterError, KeyError)
    assert issubclass(nv.UnsupportedError, NotImplementedError)
    assert issubclass(nv.DTypeError, TypeError)
    assert issubclass(nv.InvalidConfig, nv.ConfigError)
    assert issubclass(nv.DataFileNotFoundError, nv.FormatError) and issubclass(nv.DataFileNotFoundError, FileNotFoundError)
    assert issubclass(nv.NotFittedError, sklearn.exceptions.NotFittedError)
    for cls in (nv.GraphError, nv.ShapeError, nv.DataError, nv.ParameterError, nv.UnsupportedError,
                nv.ConfigError, nv.FormatError, nv.DTypeError, nv.UsageError):
        assert issubclass(cls, nv.NervenetError)


def test_every_exception_class_lives_in_errors_under_nervenet_error() -> None:
    """Walks every module of the package, private ones included: an exception
    class defined anywhere but nervenet.errors, or outside the hierarchy
    (NervenetError; NervenetWarning for warnings), fails."""
    walked, misplaced = [], []
    for info in pkgutil.walk_packages(nv.__path__, "nervenet."):
        module = importlib.import_module(info.name)
        walked.append(info.name)
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                root = nv.NervenetWarning if issubclass(obj, Warning) else nv.NervenetError
                if module.__name__ != "nervenet.errors" or not issubclass(obj, root):
                    misplaced.append(f"{module.__name__}.{name}")
    assert {"nervenet._core", "nervenet.cli", "nervenet.data.preprocessing", "nervenet.errors"} <= set(walked)
    assert misplaced == []
    import nervenet.errors as errors

    assert sorted(errors.__all__) == sorted(n for n, c in vars(errors).items()
                                            if inspect.isclass(c) and issubclass(c, BaseException)
                                            and c.__module__ == "nervenet.errors")
    assert all(getattr(nv, n) is getattr(errors, n) for n in errors.__all__)


# ---- shapes -------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2,), (2, 3, 4, 2), ()])
def test_wrong_ndim(net: nv.Network, shape) -> None:
    with pytest.raises(nv.ShapeError, match=r"X must be 2-D .* or 3-D .*got shape"):
        net.forward(np.zeros(shape))


def test_wrong_feature_count_names_both_shapes(net: nv.Network) -> None:
    msg = r"X has shape \(4, 3\) but the network has 2 inputs; expected shape \(4, 2\)"
    with pytest.raises(nv.ShapeError, match=msg):
        net.forward(np.zeros((4, 3)))
    with pytest.raises(nv.ShapeError, match=r"\(4, 5, 3\).*\(4, 5, 2\)"):
        net.loss_and_gradient(np.zeros((4, 5, 3)), np.zeros((4, 5, 1)))


def test_wrong_target_shape(net: nv.Network, clf: nv.Network) -> None:
    with pytest.raises(nv.ShapeError, match=r"Y has shape \(4, 2\), expected \(4, 1\)"):
        net.loss_and_gradient(np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(nv.ShapeError, match=r"Y has shape \(3, 5, 1\), expected \(4, 5, 1\)"):
        net.loss_and_gradient(np.zeros((4, 5, 2)), np.zeros((3, 5, 1)))
    with pytest.raises(nv.ShapeError, match=r"class labels Y have shape \(4, 1\), expected \(4,\)"):
        clf.loss_and_gradient(np.zeros((4, 3)), np.zeros((4, 1), dtype=int), loss="softmax")
    with pytest.raises(nv.ShapeError, match=r"mask has shape \(4, 2\), expected \(4,\)"):
        net.loss_and_gradient(np.zeros((4, 2)), np.zeros((4, 1)), mask=np.ones((4, 2)))
    with pytest.raises(nv.ShapeError, match=r"output_grad has shape \(4, 2\), expected \(4, 1\)"):
        net.backward(np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(nv.ShapeError, match="cannot be read as an array"):
        net.forward([[1.0, 2.0], [3.0]])


def test_extension_checks_shapes_itself(net: nv.Network) -> None:
    """The Rust layer never trusts the Python layer: wrong ndim or shapes
    passed straight to _core are ShapeErrors too."""
    core = net._net
    with pytest.raises(nv.ShapeError, match=r"inputs must be a 3-D array, got shape \(4, 2\)"):
        core.forward(np.zeros((4, 2)))
    with pytest.raises(nv.ShapeError, match="inputs have 3 features but the network has 2 input nodes"):
        core.forward(np.zeros((4, 1, 3)))
    with pytest.raises(nv.ShapeError, match=r"targets have shape \(4, 1, 2\), expected \(4, 1, 1\)"):
        core.loss_and_gradient(np.zeros((4, 1, 2)), (np.zeros((4, 1, 2)), "mse", "sum", None))
    with pytest.raises(nv.ShapeError, match=r"mask have shape \(4,\), expected \(4, 1\)|mask must be a 2-D"):
        core.loss_and_gradient(np.zeros((4, 1, 2)), (np.zeros((4, 1, 1)), "mse", "sum", np.ones(4)))
    with pytest.raises(nv.DTypeError, match="complex128"):
        core.forward(np.zeros((4, 1, 2), dtype=complex))
    with pytest.raises(nv.DTypeError, match="class labels"):
        core.loss_and_gradient(np.zeros((4, 1, 2)), (np.zeros((4, 1)), "softmax", "sum", None))
    with pytest.raises(nv.ShapeError, match="0 time steps"):
        core.forward(np.zeros((4, 0, 2)))


# ---- dtypes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("X", "name"),
    [
        (np.zeros((2, 2), dtype=complex), "complex128"),
        (np.array([[1, "a"], [2, None]], dtype=object), "object"),
        (np.array([["a", "b"], ["c", "d"]]), "<U1"),
        (np.zeros((2, 2), dtype="datetime64[s]"), "datetime64"),
    ],
)
def test_non_numeric_dtypes_name_the_dtype(net: nv.Network, X, name) -> None:
    with pytest.raises(nv.DTypeError, match=f"X has dtype {name}"):
        net.forward(X)


def test_complex_targets_and_parameters(net: nv.Network) -> None:
    with pytest.raises(nv.DTypeError, match="Y has dtype complex128"):
        net.loss_and_gradient(np.zeros((2, 2)), np.zeros((2, 1), dtype=complex))
    with pytest.raises(nv.DTypeError, match="parameters has dtype complex128"):
        net.parameters = np.zeros(net.n_params, dtype=complex)


def test_float_labels_for_class_losses(clf: nv.Network) -> None:
    for loss in ("softmax", "hinge", "squared_hinge"):
        with pytest.raises(nv.DTypeError, match=f"loss '{loss}' takes integer class labels.*float64"):
            clf.loss_and_gradient(np.zeros((2, 3)), np.array([0.0, 1.0]), loss=loss)


def test_unknown_dtype() -> None:
    g = nv.mlp([1, 1])
    with pytest.raises(nv.DTypeError, match="float16"):
        nv.Network(g, dtype="float16")
    with pytest.raises(nv.DTypeError, match="not-a-dtype"):
        nv.Network(g, dtype="not-a-dtype")


# ---- values -----------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_X_names_the_index(net: nv.Network, bad: float) -> None:
    X = np.zeros((4, 2))
    X[2, 1] = bad
    with pytest.raises(nv.DataError, match=r"X contains a non-finite value .* at index \[2, 1\]"):
        net.forward(X)
    X3 = np.zeros((4, 3, 2))
    X3[3, 2, 0] = bad
    with pytest.raises(nv.DataError, match=r"X contains a non-finite value .* at index \[3, 2, 0\]"):
        net.loss_and_gradient(X3, np.zeros((4, 3, 1)))
    X32 = X.astype(np.float32)
    with pytest.raises(nv.DataError, match=r"index \[2, 1\]"):
        nv.Network(nv.mlp([2, 1])).forward(X32)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_Y_names_the_index(net: nv.Network, bad: float) -> None:
    Y = np.zeros((4, 1))
    Y[1, 0] = bad
    with pytest.raises(nv.DataError, match=r"Y contains a non-finite value .* at index \[1, 0\]"):
        net.loss_and_gradient(np.zeros((4, 2)), Y)
    Y3 = np.zeros((4, 3, 1))
    Y3[0, 2, 0] = bad
    with pytest.raises(nv.DataError, match=r"Y contains a non-finite value .* at index \[0, 2, 0\]"):
        net.loss_and_gradient(np.zeros((4, 3, 2)), Y3)
    with pytest.raises(nv.DataError, match=r"index \[0, 2, 0\]"):
        net.numeric_gradient(np.zeros((4, 3, 2)), Y3)
    G = np.zeros((4, 1))
    G[3, 0] = bad
    with pytest.raises(nv.DataError, match=r"index \[3, 0\]"):
        net.backward(np.zeros((4, 2)), G)


def test_core_names_the_index_too(net: nv.Network) -> None:
    X = np.zeros((4, 1, 2))
    X[2, 0, 1] = np.nan
    with pytest.raises(nv.DataError, match=r"inputs contain a non-finite value \(NaN\) at index \[2, 0, 1\]"):
        net._net.forward(X)


def test_label_out_of_range(clf: nv.Network) -> None:
    with pytest.raises(nv.DataError, match=r"class label out of range for 3 outputs \(3\) at index \[1\]"):
        clf.loss_and_gradient(np.zeros((2, 3)), np.array([0, 3]), loss="softmax")
    with pytest.raises(nv.DataError, match=r"\(-1\) at index \[0, 1\]"):
        clf.loss_and_gradient(np.zeros((2, 2, 3)), np.array([[0, -1], [1, 2]]), loss="hinge")


def test_negative_or_nan_mask(net: nv.Network) -> None:
    with pytest.raises(nv.DataError, match=r"mask contains .*\(-1\.0\) at index \[2\]"):
        net.loss_and_gradient(np.zeros((4, 2)), np.zeros((4, 1)), mask=np.array([1.0, 1.0, -1.0, 0.0]))
    with pytest.raises(nv.DataError, match=r"mask contains .*\(nan\) at index \[0, 1\]"):
        net.loss_and_gradient(np.zeros((4, 2, 2)), np.zeros((4, 2, 1)), mask=np.array([[1, np.nan]] * 4))


# ---- parameters ------------------------------------------------------------


def test_unknown_parameter_name(net: nv.Network) -> None:
    with pytest.raises(nv.ParameterError, match='no parameter named "edge:999"'):
        net.get_parameter("edge:999")
    with pytest.raises(KeyError):
        net.set_parameter("bogus", 1.0)
    try:
        net.get_parameter("bogus")
    except KeyError as e:
        assert str(e).startswith("no parameter named")  # not KeyError's quoted repr


def test_wrong_parameter_vector_length(net: nv.Network) -> None:
    with pytest.raises(nv.ShapeError, match=f"got {net.n_params + 1} parameter values, the network has {net.n_params}"):
        net.parameters = np.zeros(net.n_params + 1)
    with pytest.raises(nv.ShapeError, match="1-D"):
        net.parameters = np.zeros((1, net.n_params))


def test_non_finite_parameter_values(net: nv.Network) -> None:
    before = net.parameters
    p = net.parameters
    p[3] = np.nan
    with pytest.raises(nv.DataError, match=r"parameter 3 \(.+\) would be set to NaN"):
        net.parameters = p
    with pytest.raises(nv.DataError, match="inf"):
        net.set_parameter("edge:0", float("inf"))
    net32 = nv.Network(nv.mlp([1, 1]), dtype="float32")
    with pytest.raises(nv.DataError, match="inf"):
        net32.set_parameter("edge:0", 1e300)  # overflows float32
    # The refused assignments changed nothing, bit for bit.
    np.testing.assert_array_equal(net.parameters, before)


# ---- names and options -----------------------------------------------------------


def test_unknown_names_are_config_errors(net: nv.Network, small_graph: nv.Graph) -> None:
    with pytest.raises(nv.ConfigError, match="unknown loss .cross_entropee..*softmax"):
        net.loss_and_gradient(np.zeros((2, 2)), np.zeros((2, 1)), loss="cross_entropee")
    with pytest.raises(nv.ConfigError, match="unknown reduction"):
        net.loss_and_gradient(np.zeros((2, 2)), np.zeros((2, 1)), reduction="avg")
    with pytest.raises(nv.ConfigError, match="unknown init .glorot..*xavier"):
        nv.Network(small_graph, init="glorot")
    with pytest.raises(nv.ConfigError, match="unknown activation .gelu."):
        nv.mlp([2, 2, 1], activation="gelu")
    with pytest.raises(nv.ConfigError, match="unknown activation .swish."):
        nv.random_graph(2, 2, 1, activations=["swish"])
    with pytest.raises(ValueError):  # ConfigError is a ValueError
        nv.Network(small_graph, init="glorot")


def test_bad_option_values(net: nv.Network, small_graph: nv.Graph) -> None:
    with pytest.raises(nv.ConfigError, match="step must be a positive number"):
        net.numeric_gradient(np.zeros((2, 2)), np.zeros((2, 1)), step=0.0)
    with pytest.raises(nv.ConfigError, match="density must be a probability"):
        nv.random_graph(2, 2, 1, density=float("nan"))
    with pytest.raises(nv.ConfigError, match="at least one input"):
        nv.random_graph(0, 2, 1)
    with pytest.raises(nv.ConfigError, match="seed"):
        nv.Network(small_graph, seed=-1)
    with pytest.raises(nv.ConfigError, match="bias_init must be finite"):
        nv.Network(small_graph, bias_init=float("nan"))
    with pytest.raises(nv.ConfigError, match="dense_min_density"):
        nv.Network(small_graph, dense_min_density=float("nan"))


def test_seeds_are_the_cores_u64_everywhere() -> None:
    y = np.repeat([0, 1], 10)
    for use in (lambda s: nv.data.train_validation_test_indices(y, seed=s), lambda s: nv.data.UpSampler(y, seed=s),
                lambda s: nv.data.pad_images(np.zeros((1, 2, 2)), 1, seed=s),
                lambda s: nv.Network(nv.mlp([1, 1]), seed=s)):
        use(2**64 - 1)
        with pytest.raises(nv.ConfigError, match=r"seed must be an integer in \[0, 2\*\*64\), got 18446744073709551616"):
            use(2**64)
        with pytest.raises(nv.ConfigError, match="seed must be an integer"):
            use(True)


def test_numbers_and_flags_refuse_bools_and_strings() -> None:
    with pytest.raises(nv.ConfigError, match=r"validation \(a fraction of the samples\) must be a finite number in \[0, 1\)"):
        nv.data.train_validation_test_indices(np.zeros(10), validation=True, stratify=False)
    with pytest.raises(nv.ConfigError, match=r"sigma must be a finite number > 0, got '1'"):
        nv.search.cma_es(nv.Network(nv.mlp([1, 1])), np.zeros((2, 1)), np.zeros((2, 1)), sigma="1")
    with pytest.raises(nv.ConfigError, match="recurrent must be True or False, got 1"):
        nv.rnn.stacked(1, [2], 1, recurrent=1)


def test_set_num_threads_zero() -> None:
    with pytest.raises(nv.ConfigError, match=r"number of threads must be an integer in \[1, 2\*\*63\), got 0"):
        nv.set_num_threads(0)
    with pytest.raises(nv.ConfigError, match=r"number of threads must be an integer in \[1, 2\*\*63\), got -3"):
        nv.set_num_threads(-3)
    with pytest.raises(nv.ConfigError, match="at least 1, got 0"):
        _core.set_num_threads(0)
    assert nv.get_num_threads() >= 1


def test_bad_thread_env_var_warns_once() -> None:
    code = (
        "import warnings; warnings.simplefilter('default'); "
        "import nervenet, nervenet.threads; print(nervenet.get_num_threads())"
    )
    env = dict(os.environ, NERVENET_NUM_THREADS="lots")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("RuntimeWarning") == 1
    assert "NERVENET_NUM_THREADS='lots' is not a positive integer and is ignored" in out.stderr
    env["NERVENET_NUM_THREADS"] = "1"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "Warning" not in out.stderr
    assert out.stdout.strip() == "1"


# ---- graphs and files ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{ not json", "invalid graph JSON"),
        ('{"format": "something else", "version": 1, "next_node_id": 0, "next_edge_id": 0, "nodes": [], "edges": []}',
         "not a nervenet graph"),
        ('{"format": "nervenet.graph", "version": 99, "next_node_id": 0, "next_edge_id": 0, "nodes": [], "edges": []}',
         "version 99 is not supported"),
        ("[]", "invalid graph JSON"),
        ("", "invalid graph JSON"),
    ],
)
def test_invalid_json(text: str, match: str) -> None:
    with pytest.raises(nv.FormatError, match=match):
        nv.Graph.from_json(text)


def test_scalar_edges_into_a_feature_map_from_json(small_graph: nv.Graph) -> None:
    doc = json.loads(small_graph.to_json())
    doc["nodes"][2]["kind"] = {"type": "feature_map", "channels": 1, "height": 2, "width": 2, "untied_bias": False}
    doc["nodes"][2]["bias"] = False
    g = nv.Graph.from_json(json.dumps(doc))
    assert g.node(2)["kind"] == "feature_map" and g.node(2)["activation"] == "identity"
    # its scalar and recurrent edges cannot run on a map
    with pytest.raises(nv.UnsupportedError, match=r"edge \d+ .*(feature map|filter)"):
        nv.Network(g)
    with pytest.raises(NotImplementedError):
        nv.Network(g)


def test_cell_with_node_bias_from_json_is_refused(small_graph: nv.Graph) -> None:
    doc = json.loads(small_graph.to_json())
    doc["nodes"][2]["kind"] = {"type": "lstm"}  # the hidden node keeps bias=true
    with pytest.raises(nv.GraphError, match="node 2 is a lstm cell and cannot take a node bias"):
        nv.Graph.from_json(json.dumps(doc))
    doc["nodes"][2]["bias"] = False
    assert nv.Graph.from_json(json.dumps(doc)).node(2)["kind"] == "lstm"


def test_bad_cell_kinds_and_ports() -> None:
    g = nv.Graph()
    x = g.add_inputs(1)[0]
    with pytest.raises(nv.ConfigError, match='unknown cell kind "lsmt"'):
        g.add_cells(1, "lsmt")
    c = g.add_cells(1, "lstm")[0]
    with pytest.raises(nv.GraphError, match="feeds port 2 but node 1 is a lstm node with ports 0 \\(x\\)"):
        g.connect(x, c, port=2)
    u = g.add_cells(1, "gru_unit")[0]
    with pytest.raises(nv.GraphError, match="ports 0 \\(r\\), 1 \\(z\\), 2 \\(n_x\\), 3 \\(n_h\\)"):
        g.connect(x, u, port=4)
    with pytest.raises(nv.ConfigError, match="port must be an integer"):
        g.connect(x, u, port=-1)
    with pytest.raises(nv.GraphError, match="its biases are its own parameters"):
        g.set_bias(c, 0.5)


def test_unsupported_edge_kind_is_refused() -> None:
    g = nv.Graph()
    x = g.add_inputs(1)[0]
    y = g.add_outputs(1)[0]
    # Filters and pools take sizes: Graph.connect_filter / connect_pool build them.
    with pytest.raises(nv.ConfigError, match="connect_filter"):
        g._g.add_edge(x, y, 0, True, None, "filter")
    with pytest.raises(nv.ConfigError, match="connect_pool"):
        g._g.add_edge(x, y, 0, True, None, "pool")
    with pytest.raises(nv.ConfigError, match="unknown edge kind"):
        g._g.add_edge(x, y, 0, True, None, "conv")


def test_network_needs_inputs_and_outputs() -> None:
    g = nv.Graph()
    g.add_inputs(2)
    with pytest.raises(nv.GraphError, match="no output nodes"):
        nv.Network(g)
    with pytest.raises(nv.ConfigError, match="expected a nervenet.Graph"):
        nv.Network("not a graph")  # type: ignore[arg-type]


def test_many_bad_calls_leave_the_interpreter_alive(net: nv.Network) -> None:
    """A sweep of odd arguments: each raises a Python exception, none crashes."""
    odd = [None, 1.5, "x", [], [[]], np.zeros(0), np.zeros((0, 2)), np.zeros((2, 0)), object(), 2**80, -1]
    calls = [
        lambda a: net.forward(a),
        lambda a: net.loss_and_gradient(np.zeros((2, 2)), a),
        lambda a: net.backward(np.zeros((2, 2)), a),
        lambda a: setattr(net, "parameters", a),
        lambda a: net.get_parameter(a),
        lambda a: nv.Graph().node(a),
    ]
    for a in odd:
        for call in calls:
            try:
                call(a)
            except (nv.NervenetError, TypeError):
                pass
    assert net.forward(np.zeros((1, 2))).shape == (1, 1)


def test_non_finite_graph_values_fail_at_the_cause() -> None:
    g = nv.mlp([2, 2, 1])
    with pytest.raises(nv.DataError, match="node 2: bias value must be finite, got NaN"):
        g.set_bias(2, float("nan"))
    with pytest.raises(nv.DataError, match="edge 0: weight must be finite, got inf"):
        g.set_weight(0, float("inf"))
    with pytest.raises(nv.DataError, match="weight must be finite"):
        g.connect(0, 4, weight=float("nan"))
    with pytest.raises(nv.GraphError, match="unknown node id 99"):
        g.set_bias(99, float("nan"))
    assert g.node(2)["bias_value"] is None
