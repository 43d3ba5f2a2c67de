"""CNN graphs as networks: parameter counts the engine lays out agree with
the notes' numbers, finite-difference checks (f64) through filters,
pooling, residual and flattening edges, image inputs, saving, thread
independence, and LeNet-5 learning real MNIST digits."""

from pathlib import Path

import numpy as np
import pytest

import nervenet as nv

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


@pytest.mark.parametrize("build, count", [
    (lambda: nv.cnn.small_mnist(), 8722),
    (lambda: nv.cnn.small_mnist(pooling=True), 6786),
    (lambda: nv.cnn.small_cifar(), 10074),
    (lambda: nv.cnn.small_cifar(pooling=True), 8138),
    (lambda: nv.cnn.lenet5(), 68654),
    (lambda: nv.cnn.small_vgg(), 550570),
])
def test_networks_hold_the_notes_weight_counts(build, count):
    g = build()
    net = nv.Network(g)
    assert g.count_params() == count
    assert int(net.trainable.sum()) == count == net.n_params


def _check(net, X, Y, loss="mse"):
    report = nv.check_gradients(net, X, Y, loss)
    big = np.maximum(np.abs(report.analytic), np.abs(report.numeric)) >= 1e-2
    assert report.relative_errors[big].max() < 1e-7, str(report)
    assert np.abs(report.analytic - report.numeric)[~big].max(initial=0) < 1e-8


def test_gradients_through_every_cnn_edge_kind():
    g = nv.Graph()
    x = g.add_feature_map(2, 7, 7, role="input")
    c = g.add_feature_map(3, 7, 7, activation="tanh")               # untied bias
    g.connect_filter(x, c, 3, padding=1)
    p = g.add_feature_map(3, 3, 3, activation="sigmoid", untied_bias=False)
    g.connect_pool(c, p, "avg", 3, stride=2)                          # the notes' 3x3 stride-2 average pooling
    s = g.add_feature_map(2, 3, 3, activation="tanh")
    g.connect_filter(x, s, 3, stride=2)                               # (7 - 3) / 2 + 1 = 3
    m = g.add_feature_map(2, 2, 2, activation="identity")
    g.connect_pool(s, m, "max", 2, stride=1)
    r = nv.cnn.resnet_block(g, p, 3, activation="tanh")               # identity skip
    y = g.add_outputs(3)
    g.connect_all([r, m], y)
    net = nv.Network(g, dtype="float64", seed=2)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 2, 7, 7))
    _check(net, X, rng.normal(size=(4, 3)))
    _check(net, X, np.arange(4) % 3, loss="softmax")


def test_lenet5_gradients_with_the_connection_table():
    # Central differences on a sample of LeNet-5's 68,654 parameters: C3's
    # table-masked filters, untied biases of pooled maps, the flattening C5.
    net = nv.Network(nv.cnn.lenet5(activation="tanh", pool="avg"), dtype="float64", seed=1)
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(2, 1, 28, 28)), np.array([3, 7])
    names = net.parameter_names
    _, grad = net.loss_and_gradient(X, y, "softmax")
    base, h = net.parameters.copy(), 1e-5
    g = net.graph
    c3 = {e for e in g.edge_ids() if g.edge(e)["kind"] == "filter" and 7 <= g.edge(e)["src"] <= 12}
    in_c3 = [i for i, n in enumerate(names) if n.startswith("edge:") and int(n[5:].split("[")[0]) in c3]
    assert len(in_c3) == 60 * 25  # the table's 60 connections, 5x5 each
    picks = np.concatenate([rng.choice(in_c3, 20, replace=False), rng.choice(len(names), 40, replace=False)])
    for i in picks:
        losses = []
        for sign in (1, -1):
            p = base.copy()
            p[i] += sign * h
            net.parameters = p
            losses.append(net.loss_and_gradient(X, y, "softmax")[0])
        numeric = (losses[0] - losses[1]) / (2 * h)
        assert abs(numeric - grad[i]) <= 1e-7 * max(abs(numeric), 1e-2), (names[i], grad[i], numeric)


def test_images_in_either_layout_and_clear_shape_errors():
    net = nv.Network(nv.cnn.small_cifar(pooling=True), seed=0)
    X = np.random.default_rng(0).random((5, 3, 32, 32), dtype=np.float32)
    np.testing.assert_array_equal(net.forward(X), net.forward(X.reshape(5, -1)))
    assert net.forward(X[None]).shape == (1, 5, 10)  # (batch, time, C, H, W)
    with pytest.raises(nv.ShapeError, match=r"\(3, 32, 32\)"):
        net.forward(np.zeros((5, 3, 28, 28), dtype=np.float32))


def test_cnn_save_and_load_round_trip(tmp_path):
    net = nv.Network(nv.cnn.small_mnist(pooling=True), seed=3)
    X = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
    net.save(tmp_path / "cnn.safetensors")
    back = nv.Network.load(tmp_path / "cnn.safetensors")
    np.testing.assert_array_equal(back.forward(X), net.forward(X))


def test_cnn_training_does_not_depend_on_threads():
    rng = np.random.default_rng(0)
    X = rng.random((40, 3, 32, 32), dtype=np.float32)
    y = rng.integers(0, 10, 40)
    runs = []
    for threads in (1, 2):
        nv.set_num_threads(threads)
        net = nv.Network(nv.cnn.small_cifar(pooling=True), seed=0)
        net.fit(X, y, loss="softmax", optimizer=nv.optim.Adam(1e-3), batch_size=20, epochs=2, verbose=0)
        runs.append(net.parameters.copy())
    np.testing.assert_array_equal(runs[0], runs[1])


def test_fractional_max_pooling_trains_reproducibly():
    g = nv.Graph()
    x = g.add_feature_map(1, 9, 9, role="input")
    c = g.add_feature_map(4, 9, 9)
    g.connect_filter(x, c, 3, padding=1)
    f = g.add_feature_map(4, 6, 6, activation="identity", bias=False)
    g.connect_pool(c, f, "fractional_max", overlapping=True)
    y = g.add_outputs(2)
    g.connect_all([f], y)
    rng = np.random.default_rng(0)
    X, Y = rng.random((16, 1, 9, 9), dtype=np.float32), rng.integers(0, 2, 16)
    params = []
    for _ in range(2):
        net = nv.Network(g, seed=0)
        net.fit(X, Y, loss="softmax", optimizer=nv.optim.Adam(1e-2), batch_size=4, epochs=2, seed=5, verbose=0)
        params.append(net.parameters)
    np.testing.assert_array_equal(params[0], params[1])


@pytest.mark.skipif(not MNIST.exists(), reason="the shared MNIST files are not present")
def test_lenet5_learns_mnist_digits():
    x, y = nv.data.load_mnist(MNIST)
    xt, yt = nv.data.load_mnist(MNIST, kind="test")
    prep = lambda a: ((a.astype(np.float32) / 255.0 - 0.13) / 0.31)[:, None]  # noqa: E731
    net = nv.Network(nv.cnn.lenet5(), init="kaiming", seed=0)
    net.fit(prep(x[:6000]), y[:6000].astype(np.int64), loss="softmax", optimizer=nv.optim.Adam(2e-3),
            batch_size=64, epochs=2, verbose=0)
    acc = net.evaluate(prep(xt[:1000]), yt[:1000].astype(np.int64), "softmax")["accuracy"]
    assert acc > 0.93, acc


def test_configs_name_cnn_architectures():
    from nervenet.config import parse_config
    from nervenet.errors import InvalidConfig

    base = '[data]\ndataset = "digits"\n[loss]\nname = "softmax"\n[optimizer]\nname = "adam"\nlr = 0.001\n'
    cfg = parse_config(base + '[network]\narchitecture = "small_mnist_pooled"\n')
    with pytest.raises(InvalidConfig, match=r"network.architecture.*784 input values.*64 features"):
        cfg.build_network(64, 10)  # the digits are 8x8 images
    net = cfg.build_network(784, 10)
    assert net.n_params == 6786 and net.n_inputs == 784
    with pytest.raises(InvalidConfig, match="network.architecture"):
        parse_config(base + '[network]\narchitecture = "resnet152"\n')
    with pytest.raises(InvalidConfig, match="exactly one"):
        parse_config(base + '[network]\narchitecture = "lenet5"\nhidden = [8]\n')


def test_inference_memory_cap_keeps_results():
    net = nv.Network(nv.cnn.small_cifar(pooling=True), seed=0)
    rng = np.random.default_rng(0)
    X, y = rng.random((100, 3, 32, 32), dtype=np.float32), rng.integers(0, 10, 100)
    whole, metrics = net.forward(X), net.evaluate(X, y, "softmax")
    nv.set_inference_memory(1)  # one chunk at a time (conftest's global_settings restores it)
    np.testing.assert_array_equal(net.forward(X), whole)
    assert net.evaluate(X, y, "softmax") == metrics
    with pytest.raises(nv.ConfigError):
        nv.set_inference_memory(0)


def test_networks_too_large_for_memory_say_so_in_bytes():
    # 2**20 channels fully connected by a 1x1 filter: 2**40 weights, 4 TiB of
    # float32 -- refused with the bytes named, not an abort.
    g = nv.Graph()
    x = g.add_feature_map(2**20, 1, 1, role="input")
    y = g.add_feature_map(2**20, 1, 1, role="output", bias=False)
    g.connect_filter(x, y, 1)
    assert g.count_params() == 2**40
    with pytest.raises(nv.UnsupportedError, match=f"{2**40} parameters: {2**40} values of 4 bytes need {2**42} bytes"):
        nv.Network(g)


def test_edges_touching_maps_cannot_be_split():
    g = nv.Graph()
    x = g.add_feature_map(1, 5, 5, role="input")
    y = g.add_feature_map(1, 3, 3, role="output")
    e = g.connect_filter(x, y, 3)
    with pytest.raises(nv.GraphError, match="feature map"):
        g.split_edge(e)
    assert g.num_nodes == 2 and g.num_edges == 1  # nothing changed
