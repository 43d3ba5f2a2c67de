"""The notes' published architectures run, not only count: AlexNet
(60,965,224 weights) and VGG16 (138,357,544) compile, take an Adam step and
round-trip through a model file at full size; reduced variants (fewer
classes, smaller inputs) show the loss going down over a few steps."""

from __future__ import annotations

import numpy as np
import pytest

import nervenet as nv


def _images(net: nv.Network, graph: nv.Graph, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    c, h, w = graph.map_shape(graph.inputs()[0])
    rng = np.random.default_rng(seed)
    return rng.random((n, c, h, w), dtype=np.float32), rng.integers(0, net.n_outputs, n)


@pytest.mark.parametrize(
    ("build", "n_params"),
    [(nv.cnn.alexnet, 60_965_224), (nv.cnn.vgg16, 138_357_544)],
    ids=["alexnet", "vgg16"],
)
def test_full_size_networks_train_a_step_and_save(build, n_params, tmp_path):
    graph = build()
    net = nv.Network(graph, init="kaiming", seed=0)
    assert net.n_params == n_params == graph.count_params()
    X, y = _images(net, graph, 2, seed=1)
    first = net.groups[-1]
    before = net.get_group(first.name)
    history = net.fit(X, y, loss="softmax", optimizer=nv.optim.Adam(1e-4), batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(history["loss"][0])
    after = net.get_group(first.name)
    assert not np.array_equal(before, after)  # the step moved the weights
    path = tmp_path / "net.safetensors"
    net.save(path)
    loaded = nv.Network.load(path)
    assert np.array_equal(loaded.parameters, net.parameters)
    np.testing.assert_array_equal(loaded.predict(X[:1]), net.predict(X[:1]))


@pytest.mark.parametrize(
    "build",
    [lambda: nv.cnn.alexnet(n_classes=10), lambda: nv.cnn.vgg16(n_classes=10, input_size=32)],
    ids=["alexnet-10", "vgg16-32px-10"],
)
def test_reduced_variants_learn_a_batch(build):
    graph = build()
    net = nv.Network(graph, init="kaiming", seed=0)
    X, y = _images(net, graph, 4, seed=2)
    # Adam's first steps move every weight by about the learning rate: with
    # tens of millions of weights and no normalisation layers, 1e-5.
    losses = net.fit(X, y, loss="softmax", optimizer=nv.optim.Adam(1e-5), batch_size=4, epochs=4, shuffle=False,
                     verbose=0)["loss"]
    assert losses[-1] < losses[0], losses
