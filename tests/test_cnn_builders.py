"""nv.cnn and the feature-map graph API: the notes' weight counts (small test
CNNs, LeNet-5 with its C3 table), AlexNet and VGG counts, the shape of every
map, errors for sizes that do not fit (naming the edge, the nodes and the
numbers), residual blocks, and JSON round trips. Structure only: running a
CNN is the engine's part.
"""

from __future__ import annotations

import doctest
import json
import pickle

import numpy as np
import pytest

import nervenet as nv
from nervenet import cnn
from nervenet.graph import maps


def _maps(g: nv.Graph) -> list[tuple[int, int, int]]:
    return [s for s in (g.map_shape(n) for n in g.node_ids()) if s is not None]


def _edges(g: nv.Graph, kind: str) -> list[dict]:
    return [g.edge(e) for e in g.edge_ids() if g.edge(e)["kind"] == kind]


# ---- the notes' counts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, weights",
    [
        (lambda: cnn.small_mnist(), 8722),
        (lambda: cnn.small_mnist(pooling=True), 6786),
        (lambda: cnn.small_cifar(), 10074),
        (lambda: cnn.small_cifar(pooling=True), 8138),
        (cnn.lenet5, 68654),
        (cnn.alexnet, 60_965_224),
        (lambda: cnn.alexnet(groups=1), 62_378_344),
        (cnn.vgg16, 138_357_544),
        (cnn.vgg19, 143_667_240),
        (cnn.small_vgg, 550_570),
        (lambda: cnn.small_vgg(tied_bias=False), 664_810),
    ],
)
def test_weight_counts(build, weights):
    g = build()
    g.check_shapes()
    assert g.count_params() == weights


def test_counts_are_analytic():
    # 105 billion parameters (420 GB of float32): counted from the sizes
    # alone, never by building anything per parameter.
    g = nv.Graph()
    x = g.add_feature_map(512, 224, 224, role="input")
    h = g.add_feature_map(4096, 1, 1)
    g.connect_filter(x, h, 224)
    assert g.count_params() == 4096 * 512 * 224 * 224 + 4096
    assert cnn.vgg16().count_params() == 138_357_544


@pytest.mark.parametrize("graph", [nv.rnn.lstm_layers(3, [4, 2], 2), nv.rnn.stacked(2, [3], 1, kind="gru"),
                                   nv.random_graph(4, 6, 2, recurrent=3, seed=1)])
def test_count_agrees_with_the_engine_on_scalar_graphs(graph):
    net = nv.Network(graph)
    assert graph.count_params() == int(np.sum(net.trainable))


# ---- shapes -------------------------------------------------------------------------------------------


def test_small_test_cnn_shapes():
    g = cnn.small_mnist()
    assert _maps(g) == [(1, 28, 28)] + [(1, 20, 20)] * 4 + [(1, 10, 10)] * 4
    assert [e["size"] for e in _edges(g, "filter")] == [(13, 13)] * 4 + [(11, 11)] * 16
    assert {e["padding"] for e in _edges(g, "filter")[:4]} == {2}
    flatten = [e for e in _edges(g, "weight") if g.map_shape(e["src"])]
    assert len(flatten) == 40  # "40 filters (4 inputs fully connected to 10 outputs)"
    g = cnn.small_cifar(pooling=True)
    assert _maps(g) == [(3, 32, 32)] + [(1, 20, 20)] * 4 + [(1, 10, 10)] * 4
    pools = _edges(g, "pool")
    assert [(p["op"], p["size"], p["stride"]) for p in pools] == [("max", (2, 2), (2, 2))] * 4
    assert all(g.node(n)["bias"] and g.node(n)["untied_bias"] for n in range(5, 9))  # pooled maps too
    assert [g.node(n)["bias"] for n in g.outputs()] == [False] * 10


def test_lenet5_follows_the_c3_table():
    g = cnn.lenet5()
    maps = _maps(g)
    assert maps == [(1, 28, 28)] * 7 + [(1, 14, 14)] * 6 + [(1, 10, 10)] * 16 + [(1, 5, 5)] * 16
    s2, c3 = list(range(7, 13)), list(range(13, 29))
    for j, dst in enumerate(c3):
        srcs = sorted(s2.index(e["src"]) for e in _edges(g, "filter") if e["dst"] == dst)
        assert tuple(srcs) == cnn.LENET5_C3_TABLE[j]
    assert sum(len(t) for t in cnn.LENET5_C3_TABLE) == 60
    assert len(g.node_ids()) == 45 + 120 + 84 + 10


def test_vgg_and_alexnet_shapes():
    g = cnn.vgg16()
    sides = [224] * 3 + [112] * 3 + [56] * 4 + [28] * 4 + [14] * 4 + [7]
    chans = [3, 64, 64, 64, 128, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512, 512, 512, 512]
    assert _maps(g) == [(c, s, s) for c, s in zip(chans, sides)] + [(4096, 1, 1)] * 2
    assert len(g.outputs()) == 1000 and all(g.node(n)["bias"] for n in g.outputs())
    assert not any(g.node(n)["untied_bias"] for n in g.node_ids() if g.map_shape(n) and g.node(n)["bias"])
    assert len(_maps(cnn.vgg19())) == len(_maps(g)) + 3
    a = cnn.alexnet()
    assert _maps(a) == ([(3, 227, 227)] + [(48, 55, 55)] * 2 + [(48, 27, 27)] * 2 + [(128, 27, 27)] * 2
                        + [(128, 13, 13)] * 2 + [(192, 13, 13)] * 4 + [(128, 13, 13)] * 2 + [(128, 6, 6)] * 2
                        + [(4096, 1, 1)] * 2)
    first = _edges(a, "filter")[0]
    assert (first["size"], first["stride"], first["padding"]) == ((11, 11), 4, 0)
    # The pooled maps of published architectures carry no parameters.
    assert not any(a.node(e["dst"])["bias"] for e in _edges(a, "pool"))


def test_small_vgg_shapes():
    g = cnn.small_vgg()
    assert _maps(g) == [(3, 32, 32), (32, 32, 32), (32, 32, 32), (32, 16, 16), (64, 16, 16), (64, 16, 16),
                        (64, 8, 8), (128, 8, 8), (128, 8, 8), (128, 4, 4)]
    hidden = [n for n in g.node_ids() if g.node(n)["kind"] == "simple" and g.node(n)["role"] == "hidden"]
    assert len(hidden) == 128 and len(g.outputs()) == 10


# ---- residual blocks ----------------------------------------------------------------------------------


def test_resnet_blocks():
    g = nv.Graph()
    x = g.add_feature_map(16, 17, 17, role="input")
    same = cnn.resnet_block(g, x, 16)
    assert g.map_shape(same) == (16, 17, 17)
    skip = [e for e in g.edge_ids() if g.edge(e)["dst"] == same and g.edge(e)["src"] == x]
    assert [g.edge(e)["kind"] for e in skip] == ["identity"]
    down = cnn.resnet_block(g, same, 32, stride=2)
    assert g.map_shape(down) == (32, 9, 9)
    proj = [g.edge(e) for e in g.edge_ids() if g.edge(e)["dst"] == down and g.edge(e)["src"] == same]
    assert [(e["kind"], e["size"], e["stride"]) for e in proj] == [("filter", (1, 1), 2)]
    # two 3x3 16->16, tied biases; then 3x3 16->32, 3x3 32->32, 1x1 16->32
    block1 = 2 * (16 * 16 * 9 + 16)
    block2 = 32 * 16 * 9 + 32 * 32 * 9 + 32 * 16 + 2 * 32
    assert g.count_params() == block1 + block2


def test_resnet_block_refuses_sizes_that_do_not_come_out_whole():
    g = nv.Graph()
    x = g.add_feature_map(3, 32, 32, role="input")
    with pytest.raises(nv.ShapeError, match=r"height 32 .*\(32 - 3 \+ 2\*1\) / 2 \+ 1.*not whole"):
        cnn.resnet_block(g, x, 8, stride=2)
    assert g.num_nodes == 1  # nothing was added
    y = g.add_outputs(1)[0]
    with pytest.raises(nv.GraphError, match=f"node {y} is not a feature map"):
        cnn.resnet_block(g, y, 8)


# ---- errors -------------------------------------------------------------------------------------------


def test_bad_filter_sizes_name_the_nodes_and_numbers():
    g = nv.Graph()
    x = g.add_feature_map(1, 28, 28, role="input")
    m = g.add_feature_map(4, 20, 20)
    with pytest.raises(nv.ShapeError) as e:
        g.connect_filter(x, m, 13)  # needs padding 2
    msg = str(e.value)
    for part in [f"node {x} [1×28×28]", f"node {m} [4×20×20]", "13×13 filter", "(28 − 13 + 2·0) / 1 + 1 = 16",
                 "height 20"]:
        assert part in msg, msg
    with pytest.raises(nv.ShapeError, match="not whole"):
        g.connect_filter(x, m, 4, stride=5)
    assert g.num_edges == 0
    g.connect_filter(x, m, 13, padding=2)


def test_check_shapes_names_the_edge_of_a_graph_from_json():
    g = cnn.small_mnist(pooling=True)
    doc = json.loads(g.to_json())
    node5 = next(n for n in doc["nodes"] if n["id"] == 5)
    node5["kind"]["height"] = 11
    bad = nv.Graph.from_json(json.dumps(doc))  # valid as a graph, wrong in shape
    pool = next(e for e in _edges(bad, "pool") if e["dst"] == 5)
    with pytest.raises(nv.ShapeError) as e:
        bad.check_shapes()
    msg = str(e.value)
    assert f"edge {pool['id']}" in msg and "(20 − 2) / 2 + 1 = 10" in msg and "height 11" in msg, msg
    with pytest.raises(nv.ShapeError):
        bad.count_params()


def test_edges_touching_maps_follow_the_rules():
    g = nv.Graph()
    x = g.add_feature_map(4, 8, 8, role="input")
    a = g.add_feature_map(4, 8, 8)
    b = g.add_feature_map(2, 4, 4)
    h = g.add_nodes(1, "relu")[0]
    with pytest.raises(nv.ShapeError, match=r"channels differ \(4 vs 2\)"):
        g.connect_pool(a, b)
    with pytest.raises(nv.UnsupportedError, match="filter"):
        g.connect(a, b)  # map -> map weight
    with pytest.raises(nv.UnsupportedError, match="scalar node cannot feed a feature map"):
        g.connect(h, a)
    with pytest.raises(nv.UnsupportedError):
        g.connect_all([h], [a, b])
    with pytest.raises(nv.GraphError, match="two feature maps"):
        g.connect_filter(a, h, 3)
    with pytest.raises(nv.UnsupportedError, match="time_skip 1"):
        g.connect(a, h, time_skip=1)
    with pytest.raises(nv.ShapeError, match="equal shapes"):
        g.identity(x, b)
    with pytest.raises(nv.ConfigError, match="unknown pool op"):
        g.connect_pool(a, b, "median")
    with pytest.raises(nv.ConfigError, match="size"):
        g.connect_filter(x, a, (3, 3, 3))
    with pytest.raises(nv.ConfigError, match="input maps apply no activation"):
        g.add_feature_map(1, 2, 2, role="input", activation="relu")
    with pytest.raises(nv.ConfigError, match="channels"):
        g.add_feature_map(0, 2, 2)
    assert g.num_edges == 0
    g.identity(x, a)
    g.connect(a, h)  # flattening: 256 weights
    assert g.count_params() == 256 + 1 + 4 * 64 + 2 * 16


def test_pools_accept_pairs_and_fractional_maps():
    g = nv.Graph()
    x = g.add_feature_map(2, 36, 36, role="input")
    p = g.add_feature_map(2, 12, 17, activation="identity", bias=False)
    e = g.connect_pool(x, p, "avg", (3, 4), stride=(3, 2))
    assert (g.edge(e)["size"], g.edge(e)["stride"]) == ((3, 4), (3, 2))
    f = g.add_feature_map(2, 25, 25, activation="leaky_relu", slope=0.2, untied_bias=False)
    fe = g.connect_pool(x, f, "fractional_max", overlapping=True, pseudorandom=True)
    assert g.edge(fe)["op"] == "fractional_max" and g.edge(fe)["overlapping"] and not g.edge(fe)["trainable"]
    assert g.node(f)["slope"] == 0.2 and g.node(f)["shape"] == (2, 25, 25)
    too_big = g.add_feature_map(2, 40, 40)
    with pytest.raises(nv.ShapeError, match="larger than the source"):
        g.connect_pool(x, too_big, "fractional_max")
    with pytest.raises(nv.GraphError, match="fractional max pooling only"):
        g.connect_pool(x, p, "avg", (3, 4), stride=(3, 2), overlapping=True)
    assert g.count_params() == 2 + 40 * 40 * 2


# ---- serialization ------------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [cnn.lenet5, lambda: cnn.small_cifar(pooling=True), cnn.alexnet])
def test_json_round_trip(build, tmp_path):
    g = build()
    g.connect_pool(g.inputs()[0], g.add_feature_map(g.map_shape(g.inputs()[0])[0], 7, 7), "fractional_max",
                   pseudorandom=True)
    back = nv.Graph.from_json(g.to_json())
    assert back == g and back.to_json() == g.to_json()
    assert back.count_params() == g.count_params()
    assert pickle.loads(pickle.dumps(g)) == g
    g.save(tmp_path / "g.json")
    assert nv.Graph.load(tmp_path / "g.json") == g


def test_docstring_examples():
    for module in (cnn, maps):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0
