"""The Graph API: building, JSON round trip, files, mutation, and the errors
that name the node or edge at fault."""

from __future__ import annotations

import copy
import pickle
import re

import pytest

import nervenet as nv


def test_graph_is_one_class_under_every_public_path() -> None:
    import nervenet.graph

    assert nervenet.graph.Graph is nv.Graph and nervenet.graph.__all__ == ["Graph"]
    assert pickle.loads(pickle.dumps(nv.Graph())) == nv.Graph()


def test_build_and_query(small_graph: nv.Graph) -> None:
    g = small_graph
    assert g.num_nodes == 5
    assert g.num_edges == 7
    assert g.inputs() == [0, 1]
    assert g.outputs() == [4]
    assert g.node_ids() == [0, 1, 2, 3, 4]
    assert len(g.edge_ids()) == 7
    assert g.node(2) == {
        "id": 2,
        "innovation": 2,
        "role": "hidden",
        "kind": "simple",
        "activation": "tanh",
        "bias": True,
        "bias_value": None,
        "enabled": True,
    }
    assert g.node(0)["bias"] is False and g.node(4)["bias"] is False
    rec = g.find_edge(2, 2, time_skip=1)
    assert rec is not None
    assert g.edge(rec) == {
        "id": rec,
        "innovation": rec,
        "src": 2,
        "dst": 2,
        "kind": "weight",
        "time_skip": 1,
        "port": 0,
        "trainable": True,
        "weight": None,
        "enabled": True,
    }
    assert g.find_edge(2, 2) is None
    assert repr(g) == "Graph(nodes=5, edges=7, inputs=2, outputs=1)"


def test_connect_all_every_pair_in_src_major_order() -> None:
    g = nv.Graph()
    x = g.add_inputs(3)
    h = g.add_nodes(2)
    ids = g.connect_all(x, h)
    assert len(ids) == 6
    pairs = [(g.edge(e)["src"], g.edge(e)["dst"]) for e in ids]
    assert pairs == [(s, d) for s in x for d in h]


def test_connect_all_is_all_or_nothing() -> None:
    g = nv.Graph()
    x = g.add_inputs(2)
    h = g.add_nodes(2)
    g.connect(x[1], h[1])
    before = g.to_json()
    with pytest.raises(nv.GraphError, match="duplicate edge"):
        g.connect_all(x, h)
    assert g.to_json() == before


def test_activation_parameters_and_bias_options() -> None:
    g = nv.Graph()
    a = g.add_nodes(1, "relu6", cap=3.0)[0]
    b = g.add_nodes(1, "leaky_relu", slope=0.2, bias=False)[0]
    c = g.add_outputs(1, "sigmoid", bias=True)[0]
    assert g.node(a)["cap"] == 3.0
    assert g.node(b)["slope"] == 0.2 and g.node(b)["bias"] is False
    assert g.node(c)["bias"] is True
    g.set_bias(c, 0.5)
    assert g.node(c)["bias_value"] == 0.5


def test_identity_and_fixed_edges() -> None:
    g = nv.Graph()
    x = g.add_inputs(1)[0]
    y = g.add_outputs(1)[0]
    e = g.identity(x, y)
    f = g.connect(y, y, time_skip=2, weight=1.0, trainable=False)
    assert g.edge(e)["kind"] == "identity" and g.edge(e)["trainable"] is False
    assert g.edge(f)["trainable"] is False and g.edge(f)["weight"] == 1.0


def test_json_round_trip_is_exact(small_graph: nv.Graph) -> None:
    g = small_graph
    g.set_bias(4, -0.25)
    g.remove_edge(g.edge_ids()[0])  # ids with a gap must survive
    s = g.to_json()
    h = nv.Graph.from_json(s)
    assert h.to_json() == s
    assert h == g
    assert h is not g
    # ids keep counting after a round trip: the next node is not a reused id
    assert h.add_nodes(1) == g.add_nodes(1)


def test_random_graph_round_trip_and_seed() -> None:
    g = nv.random_graph(3, 8, 2, recurrent=4, max_skip=3, activations=["tanh", "relu"], seed=7)
    assert nv.Graph.from_json(g.to_json()) == g
    assert nv.random_graph(3, 8, 2, recurrent=4, max_skip=3, activations=["tanh", "relu"], seed=7) == g
    assert nv.random_graph(3, 8, 2, recurrent=4, max_skip=3, activations=["tanh", "relu"], seed=8) != g


def test_save_and_load(tmp_path, small_graph: nv.Graph) -> None:
    path = tmp_path / "g.json"
    small_graph.save(path)
    assert nv.Graph.load(path) == small_graph
    assert nv.Graph.load(str(path)) == small_graph


def test_load_errors_name_the_file(tmp_path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{ not json")
    with pytest.raises(nv.FormatError, match=re.escape(str(path))):
        nv.Graph.load(path)
    with pytest.raises(FileNotFoundError):
        nv.Graph.load(tmp_path / "missing.json")


def test_copy_equality_and_pickle(small_graph: nv.Graph) -> None:
    c = small_graph.copy()
    assert c == small_graph
    c.add_nodes(1)
    assert c != small_graph
    assert copy.deepcopy(small_graph) == small_graph
    assert pickle.loads(pickle.dumps(small_graph)) == small_graph
    with pytest.raises(TypeError):
        hash(small_graph)


def test_remove_node_removes_its_edges(small_graph: nv.Graph) -> None:
    g = small_graph
    g.remove_node(2)
    assert 2 not in g.node_ids()
    assert all(2 not in (g.edge(e)["src"], g.edge(e)["dst"]) for e in g.edge_ids())
    assert g.num_edges == 3
    assert g.add_nodes(1) == [5]  # ids are never reused


def test_split_edge_keeps_the_function(small_graph: nv.Graph, rng) -> None:
    import numpy as np

    g = small_graph
    net = nv.Network(g, dtype="float64", seed=3)
    X = rng.normal(size=(4, 3, 2))
    before = net.forward(X)
    weights = net.named_parameters()
    e = g.find_edge(2, 4)
    assert e is not None
    node, e1, e2 = g.split_edge(e)
    assert g.node(node)["role"] == "hidden" and g.node(node)["bias"] is False
    assert (g.edge(e1)["src"], g.edge(e1)["dst"]) == (2, node)
    assert (g.edge(e2)["src"], g.edge(e2)["dst"], g.edge(e2)["weight"]) == (node, 4, 1.0)
    # carry the old weights over: the split edge's value moves to its first half
    g.set_weight(e1, weights[f"edge:{e}"])
    split = nv.Network(g, dtype="float64", seed=3)
    for name, value in weights.items():
        if name != f"edge:{e}":
            split.set_parameter(name, value)
    np.testing.assert_allclose(split.forward(X), before, rtol=1e-12)


def test_disable_and_enable(small_graph: nv.Graph) -> None:
    g = small_graph
    g.set_node_enabled(3, False)
    assert g.node(3)["enabled"] is False
    net = nv.Network(g, dtype="float64")
    assert all(":3:" not in n and n != "node:3:bias" for n in net.parameter_names)
    g.set_node_enabled(3, True)
    e = g.edge_ids()[0]
    g.set_edge_enabled(e, False)
    assert g.edge(e)["enabled"] is False
    assert nv.Graph.from_json(g.to_json()) == g
    g.set_edge_enabled(e, True)
    assert g.edge(e)["enabled"] is True


# ---- errors ------------------------------------------------------------------


def test_cycle_is_refused_naming_the_nodes() -> None:
    g = nv.Graph()
    a, b = g.add_nodes(2)
    g.connect(a, b)
    with pytest.raises(nv.GraphError, match=rf"edge {b} -> {a} with time_skip 0 would close a cycle"):
        g.connect(b, a)
    with pytest.raises(nv.GraphError, match="would close a cycle"):
        g.connect(a, a)
    g.connect(b, a, time_skip=1)  # recurrent: fine
    g.connect(a, a, time_skip=1)


def test_edge_into_input_is_refused() -> None:
    g = nv.Graph()
    x = g.add_inputs(1)[0]
    h = g.add_nodes(1)[0]
    with pytest.raises(nv.GraphError, match=rf"node {x} is an input node"):
        g.connect(h, x, time_skip=1)


def test_unknown_ids_are_named() -> None:
    g = nv.Graph()
    g.add_inputs(1)
    with pytest.raises(nv.GraphError, match="unknown node id 42"):
        g.connect(0, 42)
    with pytest.raises(nv.GraphError, match="unknown node id 42"):
        g.node(42)
    with pytest.raises(nv.GraphError, match="unknown edge id 7"):
        g.edge(7)
    with pytest.raises(nv.GraphError, match="unknown edge id 7"):
        g.remove_edge(7)
    with pytest.raises(nv.GraphError, match="unknown node id 9"):
        g.remove_node(9)
    with pytest.raises(nv.GraphError, match="unknown edge id 3"):
        g.split_edge(3)


def test_ids_outside_u32_are_graph_errors() -> None:
    g = nv.Graph()
    g.add_inputs(1)
    with pytest.raises(nv.GraphError, match="unknown node id -1"):
        g.node(-1)
    with pytest.raises(nv.GraphError, match=r"unknown node id 4294967296"):
        g.connect(0, 2**32)
    with pytest.raises(nv.GraphError, match=r"unknown edge id 1267650600228229401496703205376"):
        g.remove_edge(2**100)
    with pytest.raises(nv.ConfigError, match="node must be a node id"):
        g.node("zero")  # type: ignore[arg-type]


def test_duplicate_edge_names_the_existing_edge() -> None:
    g = nv.Graph()
    x = g.add_inputs(1)[0]
    y = g.add_outputs(1)[0]
    e = g.connect(x, y)
    with pytest.raises(nv.GraphError, match=rf"duplicate edge: edge {e} already connects node {x} -> node {y}"):
        g.connect(x, y)
    g.connect(x, y, time_skip=1)  # another skip is another edge


def test_invalid_graph_json_names_the_culprit(small_graph: nv.Graph) -> None:
    import json

    doc = json.loads(small_graph.to_json())
    doc["edges"].append({"id": 99, "src": 4, "dst": 0, "kind": {"type": "weight"}})
    doc["next_edge_id"] = 100
    with pytest.raises(nv.GraphError, match=r"edge 99 \(4 -> 0\) points into input node 0"):
        nv.Graph.from_json(json.dumps(doc))


def test_only_hidden_nodes_can_be_disabled(small_graph: nv.Graph) -> None:
    with pytest.raises(nv.GraphError, match="node 0"):
        small_graph.set_node_enabled(0, False)


def test_bad_names_and_options_are_config_errors() -> None:
    g = nv.Graph()
    with pytest.raises(nv.ConfigError, match="unknown activation .swish..*tanh"):
        g.add_nodes(1, "swish")
    with pytest.raises(nv.ConfigError, match="cap applies to relu6 only"):
        g.add_nodes(1, "tanh", cap=2.0)
    with pytest.raises(nv.ConfigError, match="unknown node role"):
        g.add_node("middle")
    with pytest.raises(nv.ConfigError, match=r"n must be an integer in \[0, 2\*\*63\), got -1"):
        g.add_inputs(-1)
    x = g.add_inputs(1)[0]
    h = g.add_nodes(1)[0]
    with pytest.raises(nv.ConfigError, match="time_skip"):
        g.connect(x, h, time_skip=-1)
    with pytest.raises(nv.GraphError, match="relu6 cap must be a positive number"):
        g.add_nodes(1, "relu6", cap=-1.0)
    with pytest.raises(nv.ConfigError, match="at least one node"):
        nv.mlp([3, 0, 1])


def test_mlp_builder() -> None:
    g = nv.mlp([5, 5, 4, 3, 4, 2])
    assert len(g.inputs()) == 5 and len(g.outputs()) == 2
    assert g.num_nodes == 5 + 5 + 4 + 3 + 4 + 2
    assert g.num_edges == 5 * 5 + 5 * 4 + 4 * 3 + 3 * 4 + 4 * 2
    hidden = [n for n in g.node_ids() if g.node(n)["role"] == "hidden"]
    assert all(g.node(n)["activation"] == "tanh" and g.node(n)["bias"] for n in hidden)
    assert all(g.node(n)["activation"] == "identity" and not g.node(n)["bias"] for n in g.outputs())
