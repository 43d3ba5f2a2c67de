"""The Network API: shapes, parameters, gradients against finite
differences, float32 against float64, and thread-count independence."""

from __future__ import annotations

import numpy as np
import pytest

import nervenet as nv


def test_forward_shapes_2d_and_3d(small_graph: nv.Graph, rng) -> None:
    net = nv.Network(small_graph, dtype="float64")
    assert net.forward(rng.normal(size=(7, 2))).shape == (7, 1)
    out = net.forward(rng.normal(size=(7, 4, 2)))
    assert out.shape == (7, 4, 1) and out.dtype == np.float64
    assert nv.Network(small_graph).forward(rng.normal(size=(3, 2))).dtype == np.float32
    # a 2-D batch is a batch of one-step sequences
    X = rng.normal(size=(5, 2))
    np.testing.assert_array_equal(net.forward(X), net.forward(X[:, None, :])[:, 0, :])


def test_forward_accepts_lists_ints_bools_and_noncontiguous(small_graph: nv.Graph) -> None:
    net = nv.Network(small_graph, dtype="float64")
    X = np.arange(24, dtype=np.float64).reshape(4, 3, 2) / 10
    expected = net.forward(X)
    np.testing.assert_array_equal(net.forward(X.tolist()), expected)
    np.testing.assert_array_equal(net.forward(np.asfortranarray(X)), expected)
    wide = np.zeros((4, 3, 4))
    wide[:, :, ::2] = X
    np.testing.assert_array_equal(net.forward(wide[:, :, ::2]), expected)
    np.testing.assert_array_equal(net.forward(X.astype(">f8")), expected)
    ints = np.arange(8).reshape(4, 2)
    np.testing.assert_array_equal(net.forward(ints), net.forward(ints.astype(np.float64)))
    bools = np.array([[True, False], [False, True]])
    np.testing.assert_array_equal(net.forward(bools), net.forward(bools.astype(np.float64)))


def test_contiguous_inputs_are_not_copied(small_graph: nv.Graph) -> None:
    """The extension reads C-contiguous arrays of the network's dtype in place;
    anything else is converted once."""
    from nervenet import _core, arrays

    X = np.ones((8, 3, 2))
    assert _core._reads_in_place(X, "float64")
    assert not _core._reads_in_place(X, "float32")
    assert not _core._reads_in_place(np.asfortranarray(X), "float64")
    assert not _core._reads_in_place(X[:, :, ::-1], "float64")
    # the Python layer's reshape of 2-D / 3-D X is a view, not a copy
    X2 = np.ones((8, 2))
    for arr in (X, X2):
        batch = arrays.inputs(arr, 2, np.dtype("float64"))
        assert np.shares_memory(batch.x, arr)
        assert _core._reads_in_place(batch.x, "float64")


def test_parameters_round_trip(small_graph: nv.Graph) -> None:
    net = nv.Network(small_graph, dtype="float64", seed=1)
    p = net.parameters
    assert p.shape == (net.n_params,) and p.dtype == np.float64
    p[0] += 1.0  # a copy: the network does not change
    assert net.parameters[0] == p[0] - 1.0
    new = np.linspace(-1, 1, net.n_params)
    net.parameters = new
    np.testing.assert_array_equal(net.parameters, new)
    net.parameters = new.tolist()
    np.testing.assert_array_equal(net.parameters, new)
    net32 = nv.Network(small_graph, dtype="float32", seed=1)
    net32.parameters = new
    assert net32.parameters.dtype == np.float32
    np.testing.assert_array_equal(net32.parameters, new.astype(np.float32))


def test_parameters_by_name(small_graph: nv.Graph) -> None:
    net = nv.Network(small_graph, dtype="float64", seed=1)
    names = net.parameter_names
    assert len(names) == net.n_params == len(set(names))
    assert "node:2:bias" in names and "edge:0" in names
    named = net.named_parameters()
    assert list(named) == names
    assert net.get_parameter("edge:0") == named["edge:0"]
    net.set_parameter("edge:0", 0.125)
    assert net.get_parameter("edge:0") == 0.125
    assert net.parameters[names.index("edge:0")] == 0.125


def test_initialisation_is_seeded(small_graph: nv.Graph) -> None:
    a = nv.Network(small_graph, dtype="float64", init="kaiming", seed=5).parameters
    b = nv.Network(small_graph, dtype="float64", init="kaiming", seed=5).parameters
    c = nv.Network(small_graph, dtype="float64", init="kaiming", seed=6).parameters
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    biased = nv.Network(small_graph, dtype="float64", bias_init=0.5)
    assert biased.get_parameter("node:2:bias") == 0.5


def test_fixed_parameters_are_reported(small_graph: nv.Graph) -> None:
    g = small_graph
    e = g.connect(0, 4, weight=2.0, trainable=False)
    net = nv.Network(g, dtype="float64")
    i = net.parameter_names.index(f"edge:{e}")
    assert net.trainable.dtype == np.bool_ and not net.trainable[i] and net.trainable.sum() == net.n_params - 1
    assert net.get_parameter(f"edge:{e}") == 2.0
    with pytest.raises(nv.ParameterError, match=f"edge:{e} is fixed"):
        net.set_parameter(f"edge:{e}", 1.0)


def test_network_metadata(small_graph: nv.Graph) -> None:
    net = nv.Network(small_graph, dtype=np.float64)
    assert net.dtype == np.float64
    assert (net.n_inputs, net.n_outputs, net.max_skip) == (2, 1, 1)
    assert net.graph == small_graph
    assert repr(net) == f"Network(inputs=2, outputs=1, params={net.n_params}, dtype='float64')"


def test_gradient_matches_numeric_gradient_on_mlp(rng) -> None:
    g = nv.mlp([5, 5, 4, 3, 4, 2])
    net = nv.Network(g, dtype="float64", seed=0)
    X = rng.normal(size=(6, 5))
    Y = rng.normal(size=(6, 2))
    value, grad = net.loss_and_gradient(X, Y, loss="mse")
    assert np.isfinite(value) and grad.shape == (net.n_params,) and grad.dtype == np.float64
    numeric = nv.numeric_gradient(net, X, Y, loss="mse")
    assert numeric.dtype == np.float64
    report = nv.check_gradients(net, X, Y, loss="mse")
    np.testing.assert_array_equal(report.analytic, grad)
    np.testing.assert_array_equal(report.numeric, numeric)
    assert report.max_error < 1e-7, str(report)
    assert report.names == net.parameter_names
    assert report.worst in report.names
    assert "max relative error" in str(report)


def _assert_gradients_agree(report: nv.GradientReport, loss_value: float, step: float = 1e-5) -> None:
    """Relative error < 1e-7, except for gradient entries so close to 0 that
    the central difference itself is noise: its rounding error is about
    eps * |loss| / step, and those entries must agree to that absolute level."""
    noise = 4 * np.finfo(np.float64).eps * max(abs(loss_value), 1.0) / step
    abs_err = np.abs(report.analytic - report.numeric)
    ok = (report.relative_errors < 1e-7) | (abs_err < noise)
    assert ok.all(), str(report)


@pytest.mark.parametrize("loss", ["mse", "mae", "l1", "l2", "softmax", "hinge", "squared_hinge"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_loss_matches_numeric_gradient(loss: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    net = nv.Network(nv.mlp([5, 5, 4, 3, 4, 2]), dtype="float64", seed=seed)
    X = rng.normal(size=(6, 5))
    Y = rng.integers(0, 2, size=6) if loss in ("softmax", "hinge", "squared_hinge") else rng.normal(size=(6, 2))
    value, _ = net.loss_and_gradient(X, Y, loss=loss)
    _assert_gradients_agree(nv.check_gradients(net, X, Y, loss=loss), value)


def test_gradient_check_on_recurrent_sequences_with_mask(rng) -> None:
    g = nv.random_graph(3, 6, 2, density=0.5, recurrent=5, max_skip=3, activations=["tanh", "sigmoid"], seed=11)
    net = nv.Network(g, dtype="float64", seed=2)
    X = rng.normal(size=(5, 4, 3))
    Y = rng.normal(size=(5, 4, 2))
    mask = (rng.random(size=(5, 4)) > 0.3).astype(np.float64)
    for reduction in ("sum", "mean"):
        value, _ = net.loss_and_gradient(X, Y, "mse", reduction=reduction, mask=mask)
        _assert_gradients_agree(nv.check_gradients(net, X, Y, loss="mse", reduction=reduction, mask=mask), value)
    labels = rng.integers(0, 2, size=(5, 4))
    value, _ = net.loss_and_gradient(X, labels, "softmax", mask=mask)
    _assert_gradients_agree(nv.check_gradients(net, X, labels, loss="softmax", mask=mask), value)


def test_mean_reduction_and_mask(small_graph: nv.Graph, rng) -> None:
    net = nv.Network(small_graph, dtype="float64")
    X = rng.normal(size=(4, 3, 2))
    Y = rng.normal(size=(4, 3, 1))
    total, _ = net.loss_and_gradient(X, Y, "mse")
    mean, _ = net.loss_and_gradient(X, Y, "mse", reduction="mean")
    assert mean == pytest.approx(total / 12)
    masked, _ = net.loss_and_gradient(X, Y, "mse", mask=np.zeros((4, 3)))
    assert masked == 0.0


def test_backward_is_the_vjp_of_forward(small_graph: nv.Graph, rng) -> None:
    net = nv.Network(small_graph, dtype="float64", seed=4)
    X = rng.normal(size=(3, 5, 2))
    G = rng.normal(size=(3, 5, 1))
    grad, dx = net.backward(X, G, input_grads=True)
    assert grad.shape == (net.n_params,) and dx is not None and dx.shape == X.shape
    # <G, d forward/d x> by central differences on one input entry
    h = 1e-6
    Xp, Xm = X.copy(), X.copy()
    Xp[1, 2, 0] += h
    Xm[1, 2, 0] -= h
    numeric = float(np.sum(G * (net.forward(Xp) - net.forward(Xm))) / (2 * h))
    assert dx[1, 2, 0] == pytest.approx(numeric, rel=1e-6)
    grad2, none = net.backward(X[:, 0], G[:, 0])
    assert none is None and grad2.shape == (net.n_params,)
    _, dx2 = net.backward(X[:, 0], G[:, 0, 0], input_grads=True)
    assert dx2 is not None and dx2.shape == (3, 2)


def test_float32_forward_close_to_float64(rng) -> None:
    g = nv.random_graph(4, 10, 3, recurrent=4, max_skip=2, seed=3)
    n64 = nv.Network(g, dtype="float64", seed=9)
    n32 = nv.Network(g, dtype="float32", seed=9)
    np.testing.assert_allclose(n32.parameters, n64.parameters, rtol=1e-6)
    X = rng.normal(size=(20, 6, 4))
    out32 = n32.forward(X)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, n64.forward(X), rtol=1e-4, atol=1e-5)


def test_dense_and_sparse_plans_agree(rng) -> None:
    g = nv.mlp([6, 8, 8, 3])
    X = rng.normal(size=(10, 6))
    Y = rng.normal(size=(10, 3))
    dense = nv.Network(g, dtype="float64", seed=1, dense_min_density=0.0, dense_min_edges=0)
    sparse = nv.Network(g, dtype="float64", seed=1, dense_min_density=float("inf"))
    np.testing.assert_allclose(dense.forward(X), sparse.forward(X), rtol=1e-12)
    np.testing.assert_allclose(dense.loss_and_gradient(X, Y)[1], sparse.loss_and_gradient(X, Y)[1], rtol=1e-10)


def test_gradients_bitwise_identical_for_any_thread_count(rng) -> None:
    g = nv.random_graph(4, 12, 3, density=0.4, recurrent=6, max_skip=2, seed=21)
    net = nv.Network(g, dtype="float32", seed=1)
    X = rng.normal(size=(300, 5, 4))
    Y = rng.integers(0, 3, size=(300, 5))
    nv.set_num_threads(1)  # conftest's global_settings puts the count back
    assert nv.get_num_threads() == 1
    loss1, g1 = net.loss_and_gradient(X, Y, "softmax")
    out1 = net.forward(X)
    nv.set_num_threads(2)
    assert nv.get_num_threads() == 2
    loss2, g2 = net.loss_and_gradient(X, Y, "softmax")
    out2 = net.forward(X)
    assert loss1 == loss2
    assert np.array_equal(g1, g2)
    assert np.array_equal(out1, out2)


def test_compute_releases_the_gil(rng) -> None:
    """Two Python threads run forward passes at once without deadlock and
    with the results of a sequential run."""
    import threading

    g = nv.random_graph(4, 30, 2, density=0.5, seed=5)
    net = nv.Network(g, dtype="float64")
    X = rng.normal(size=(500, 10, 4))
    expected = net.forward(X)
    results: list[np.ndarray] = []

    def work() -> None:
        results.append(net.forward(X))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2
    for r in results:
        np.testing.assert_array_equal(r, expected)


def test_plan_options_are_checked_naming_the_argument() -> None:
    g = nv.mlp([2, 3, 1])
    for bad in (-1, True, 1.5):
        with pytest.raises(nv.ConfigError, match="dense_min_edges"):
            nv.Network(g, dense_min_edges=bad)
    with pytest.raises(nv.ConfigError, match="dense_min_density"):
        nv.Network(g, dense_min_density=-0.5)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_sgd_step_is_theta_minus_lr_times_gradient(small_graph: nv.Graph, rng, dtype: str, reduction: str) -> None:
    fixed = small_graph.connect(0, 4, weight=0.75, trainable=False)
    net = nv.Network(small_graph, dtype=dtype, seed=1)
    X, Y = rng.normal(size=(5, 4, 2)), rng.uniform(size=(5, 4, 1))
    mask = (rng.uniform(size=(5, 4)) > 0.3).astype(float)
    theta = net.parameters
    loss, grad = net.loss_and_gradient(X, Y, "mse", reduction=reduction, mask=mask)
    assert np.all(grad[net.trainable] != 0)  # every trainable parameter moves
    before = net.sgd_step(X, Y, "mse", learning_rate=0.3, reduction=reduction, mask=mask)
    assert before == loss  # the loss before the step
    i = net.parameter_index(f"edge:{fixed}")
    expected = theta - np.asarray(0.3, dtype) * grad
    expected[i] = 0.75  # fixed parameters stay put
    np.testing.assert_allclose(net.parameters, expected, rtol=2 * np.finfo(dtype).eps, atol=0)
    assert net.get_parameter(f"edge:{fixed}") == 0.75
    # A second step starts from the new parameters and lowers the loss.
    assert net.sgd_step(X, Y, "mse", learning_rate=0.3, reduction=reduction, mask=mask) < loss


def test_refused_sgd_step_leaves_parameters_bit_identical() -> None:
    # A finite gradient times a huge learning rate overflows the parameters.
    net = nv.Network(nv.mlp([2, 4, 1], "identity"), dtype="float64", seed=1)
    X, Y = np.full((3, 2), 0.5), np.full((3, 1), 5.0)
    theta = net.parameters
    with pytest.raises(nv.DataError, match=r"would make parameter \S+ non-finite .*parameters left unchanged"):
        net.sgd_step(X, Y, "mse", learning_rate=1e308)
    assert net.parameters.tobytes() == theta.tobytes()
    # A gradient that is itself infinite (float32 overflow at a huge input).
    net32 = nv.Network(nv.mlp([2, 4, 1], "identity"), dtype="float32", seed=1)
    theta32 = net32.parameters
    with pytest.raises(nv.DataError, match=r"non-finite \(.*gradient -?inf\); parameters left unchanged"):
        net32.sgd_step(np.full((3, 2), 1e20), Y, "mse", learning_rate=1e-3)
    assert net32.parameters.tobytes() == theta32.tobytes()
    # The refusal left the network usable: a sane step goes through.
    net.sgd_step(X, Y, "mse", learning_rate=1e-3)
    assert not np.array_equal(net.parameters, theta)


def test_global_settings_are_restored_however_a_block_ends() -> None:
    from conftest import restored_settings  # what every test runs inside (autouse fixture)

    threads, state = nv.get_num_threads(), np.random.get_state()
    with pytest.raises(ZeroDivisionError):
        with restored_settings():
            nv.set_num_threads(threads + 1)
            np.random.seed(5)
            1 / 0
    assert nv.get_num_threads() == threads
    after = np.random.get_state()
    assert after[0] == state[0] and np.array_equal(after[1], state[1]) and after[2:] == state[2:]
