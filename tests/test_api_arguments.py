"""Arguments a user gets wrong on the way in (issue 13, items 7, 11 and 12):
each is a nervenet error naming the argument, or a hint that says what to
pass -- never an IndexError, TypeError or a silently ignored setting."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import nervenet as nv

NAN, INF = math.nan, math.inf


@pytest.fixture
def data() -> tuple[nv.Network, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((20, 3)), rng.standard_normal((20, 1))
    return nv.Network(nv.mlp([3, 4, 1]), dtype="float64", seed=0), X, Y


# ---- fit's own arguments ------------------------------------------------------------


@pytest.mark.parametrize("validation", [(np.ones((2, 3)),), (np.ones((2, 3)),) * 4, np.ones((2, 3)), "xy", 5])
def test_validation_that_is_not_a_pair_or_triple_is_a_config_error(data, validation) -> None:
    net, X, Y = data
    with pytest.raises(nv.ConfigError, match=r"^validation must be a tuple \(X, Y\) or \(X, Y, mask\)"):
        net.fit(X, Y, epochs=1, validation=validation, verbose=0)


def test_validation_arrays_are_checked_before_training(data) -> None:
    net, X, Y = data
    before = net.parameters
    with pytest.raises(nv.ShapeError, match=r"^validation: Y has shape \(2, 2\)"):
        net.fit(X, Y, epochs=3, validation=(X[:2], np.ones((2, 2))), verbose=0)
    np.testing.assert_array_equal(net.parameters, before)  # nothing trained


def test_callbacks_none_or_a_single_callback(data) -> None:
    net, X, Y = data
    assert len(net.fit(X, Y, epochs=2, callbacks=None, verbose=0).epochs) == 2
    stop = nv.callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=1e9)
    assert len(net.fit(X, Y, epochs=5, callbacks=stop, verbose=0).epochs) == 2
    with pytest.raises(nv.ConfigError, match="callbacks must be a list"):
        net.fit(X, Y, epochs=1, callbacks=3, verbose=0)
    with pytest.raises(nv.ConfigError, match="callbacks must be nv.callbacks.Callback instances, got 'x'"):
        net.fit(X, Y, epochs=1, callbacks=["x"], verbose=0)


# Every float option, NaN and infinite, named by its key in the configuration
# (the trainer's vocabulary) before anything crosses to Rust as JSON.
NON_FINITE = [
    ({"optimizer": nv.optim.SGD(NAN)}, "learning_rate"),
    ({"optimizer": nv.optim.Adam(1e-3, beta1=NAN)}, "optimizer.beta1"),
    ({"optimizer": nv.optim.Adam(1e-3, beta2=INF)}, "optimizer.beta2"),
    ({"optimizer": nv.optim.Adam(1e-3, eps=NAN)}, "optimizer.eps"),
    ({"optimizer": nv.optim.Momentum(0.1, mu=NAN)}, "optimizer.mu"),
    ({"optimizer": nv.optim.RMSprop(0.1, decay=-INF)}, "optimizer.decay"),
    ({"dropout": NAN}, "safeguards.dropout"),
    ({"dropout": np.float32(NAN)}, "safeguards.dropout"),
    ({"l1": INF}, "safeguards.l1"),
    ({"l2": NAN}, "safeguards.l2"),
    ({"clip_deltas": (NAN, 10.0)}, r"safeguards.clip_deltas\[0\]"),
    ({"weight_cap": (1.0, INF)}, r"safeguards.weight_cap\[1\]"),
    ({"gradient_scale": NAN}, "safeguards.gradient_scale"),
    ({"gradient_boost": -INF}, "safeguards.gradient_boost"),
    ({"schedule": nv.optim.StepDecay(2, NAN)}, "schedule.factor"),
    ({"schedule": nv.optim.ExponentialDecay(INF)}, "schedule.k"),
    ({"optimizer": nv.optim.Momentum(0.1), "momentum_annealing": nv.optim.MomentumAnnealing(0.5, NAN, 3)},
     "momentum_annealing.end"),
]


@pytest.mark.parametrize("kwargs, key", NON_FINITE)
def test_non_finite_options_are_config_errors_naming_the_option(data, kwargs, key) -> None:
    net, X, Y = data
    with pytest.raises(nv.ConfigError, match=rf"^{key} must be a finite number, got -?(nan|inf)$"):
        net.fit(X, Y, epochs=1, verbose=0, **kwargs)


WRONG_TYPES = [
    ({"batch_size": 1.5}, r"^batch_size must be an integer >= 0, got 1.5$"),
    ({"seed": NAN}, r"^seed must be an integer in \[0, 2\*\*64\), got nan$"),
    ({"shuffle": "no"}, r"^shuffle must be True or False, got 'no'$"),
    ({"truncate": 1.5}, r"^truncate must be an integer >= 1, got 1.5$"),
    ({"on_non_finite": 3}, r"^on_non_finite must be a name \('fail' or 'rollback'\), got 3$"),
    ({"reduction": None}, r"^reduction must be a name"),
    ({"loss": 2}, r"^loss must be a name"),
    ({"clip_deltas": 5}, r"^clip_deltas must be a pair \(output, hidden\) of numbers, got 5$"),
    ({"weight_cap": (1, 2, 3)}, r"^weight_cap must be a pair \(threshold, scale\) of numbers, got \(1, 2, 3\)$"),
    ({"optimizer": nv.optim.SGD("0.1")}, r"^learning_rate must be a finite number, got '0.1'$"),
    ({"l2": "0.1"}, r"^safeguards.l2 must be a number, got '0.1'$"),
    ({"dropout": [0.1]}, r"^safeguards.dropout must be a number, got \[0.1\]$"),
    ({"gradient_scale": True}, r"^safeguards.gradient_scale must be a number, got True$"),
    ({"clip_deltas": (1.0, "10")}, r"^safeguards.clip_deltas\[1\] must be a number, got '10'$"),
    ({"momentum_annealing": (0.5, 0.9, 3)}, r"^momentum_annealing must be an nv.optim.MomentumAnnealing"),
    ({"verbose": 3}, r"^verbose must be 0 \(silent\), 1 \(a line per epoch\) or 2"),
    ({"verbose": "yes"}, r"^verbose must be an integer >= 0, got 'yes'$"),
    ({"epochs": 2.0}, r"^epochs must be an integer >= 0, got 2.0$"),
]


@pytest.mark.parametrize("kwargs, message", WRONG_TYPES)
def test_options_of_the_wrong_type_are_config_errors(data, kwargs, message) -> None:
    net, X, Y = data
    kwargs = {"epochs": 1, "verbose": 0, **kwargs}
    with pytest.raises(nv.ConfigError, match=message):
        net.fit(X, Y, **kwargs)


def test_settings_of_optimizers_and_schedules_of_the_wrong_type_name_the_field(data) -> None:
    net, X, Y = data
    with pytest.raises(nv.ConfigError, match=r"^optimizer.bias_correction must be True or False, got 'yes'$"):
        net.fit(X, Y, epochs=1, verbose=0, optimizer=nv.optim.Adam(1e-3, bias_correction="yes"))
    with pytest.raises(nv.ConfigError, match=r"^optimizer.beta1 must be a number, got \(0.9,\)$"):
        net.fit(X, Y, epochs=1, verbose=0, optimizer=nv.optim.Adam(1e-3, beta1=(0.9,)))
    with pytest.raises(nv.ConfigError, match=r"^schedule.factor must be a number, got '0.5'$"):
        net.fit(X, Y, epochs=1, verbose=0, schedule=nv.optim.StepDecay(2, "0.5"))
    with pytest.raises(nv.ConfigError, match=r"^momentum_annealing.end must be a number, got None$"):
        net.fit(X, Y, epochs=1, verbose=0, optimizer=nv.optim.Momentum(0.1),
                momentum_annealing=nv.optim.MomentumAnnealing(0.5, None, 3))


@pytest.mark.parametrize("optimizer", ["adam", "Adam", nv.optim.Adam])
def test_an_optimizer_name_or_class_says_call_it(data, optimizer) -> None:
    net, X, Y = data
    with pytest.raises(nv.ConfigError, match=r"call it: nv\.optim\.Adam\(1e-3\)"):
        net.fit(X, Y, epochs=1, verbose=0, optimizer=optimizer)


def test_other_optimizer_names_and_schedule_classes(data) -> None:
    net, X, Y = data
    with pytest.raises(nv.ConfigError, match=r"call it: nv\.optim\.SGD\(0\.01\)"):
        net.fit(X, Y, epochs=1, verbose=0, optimizer="sgd")
    with pytest.raises(nv.ConfigError, match=r"call it: nv\.optim\.Momentum\(0\.01\)"):
        net.fit(X, Y, epochs=1, verbose=0, optimizer=nv.optim.Momentum)
    with pytest.raises(nv.ConfigError, match=r"must be one of nv.optim.SGD, .*; got 'lbfgs'"):
        net.fit(X, Y, epochs=1, verbose=0, optimizer="lbfgs")
    with pytest.raises(nv.ConfigError, match=r"got the class nv.optim.StepDecay: call it"):
        net.fit(X, Y, epochs=1, verbose=0, schedule=nv.optim.StepDecay)


def test_truncate_with_2d_x_is_an_error_not_ignored(data) -> None:
    net, X, Y = data
    with pytest.raises(nv.ConfigError, match=r"truncated BPTT needs sequences \(batch, time, features\)"):
        net.fit(X, Y, epochs=1, verbose=0, truncate=3)
    X3 = np.repeat(X[:, None, :], 6, axis=1)
    Y3 = np.repeat(Y[:, None, :], 6, axis=1)
    assert len(net.fit(X3, Y3, epochs=1, verbose=0, truncate=3).epochs) == 1  # sequences train


# ---- evaluate -----------------------------------------------------------------------


def test_evaluate_on_empty_arrays_raises(data) -> None:
    net, _, _ = data
    with pytest.raises(nv.ShapeError, match=r"nothing to evaluate: X has shape \(0, 3\), no samples"):
        net.evaluate(np.empty((0, 3)), np.empty((0, 1)))
    classifier = nv.Network(nv.mlp([3, 2]), seed=0)
    with pytest.raises(nv.ShapeError, match="nothing to evaluate"):
        classifier.evaluate(np.empty((0, 3)), np.empty(0, np.int64), "softmax")


def test_evaluate_with_a_zero_mask_raises(data) -> None:
    net, X, Y = data
    with pytest.raises(nv.DataError, match="the mask is 0 for every sample and step"):
        net.evaluate(X, Y, mask=np.zeros(len(X)))
    assert net.evaluate(X, Y, mask=np.eye(len(X))[0])["count"] == 1


def test_validation_on_empty_arrays_raises(data) -> None:
    net, X, Y = data
    before = net.parameters
    with pytest.raises(nv.ShapeError, match=r"^validation: there is nothing to evaluate: X has shape \(0, 3\)"):
        net.fit(X, Y, epochs=1, verbose=0, validation=(X[:0], Y[:0]))
    np.testing.assert_array_equal(net.parameters, before)  # refused before training


# ---- the graph ----------------------------------------------------------------------


@pytest.mark.parametrize("skip", [1.5, "1", True, None])
def test_time_skip_of_the_wrong_type_is_a_config_error_like_a_negative_one(skip) -> None:
    g = nv.Graph()
    x, y = g.add_inputs(1), g.add_outputs(1)
    with pytest.raises(nv.ConfigError, match=rf"^time_skip must be an integer in \[0, 2\*\*63\), got {skip!r}$"):
        g.connect(x[0], y[0], time_skip=skip)
    with pytest.raises(nv.ConfigError, match="time_skip"):
        g.connect_all(x, y, time_skip=skip)
    with pytest.raises(nv.ConfigError, match="time_skip"):
        g.connect(x[0], y[0], time_skip=-1)
    assert g.num_edges == 0


def test_graph_ids_and_flags_of_the_wrong_type_are_config_errors() -> None:
    g = nv.Graph()
    x, y = g.add_inputs(2), g.add_outputs(1)
    e = g.connect(x[0], y[0])
    cases = [
        (lambda: g.connect(x[1], 1.0), r"^dst must be a node id \(an integer\), got 1.0$"),
        (lambda: g.connect(x[1], y[0], port=0.5), r"^port must be an integer in \[0, 2\*\*63\), got 0.5$"),
        (lambda: g.connect(x[1], y[0], trainable="no"), r"^trainable must be True or False, got 'no'$"),
        (lambda: g.connect(x[1], y[0], weight="1"), r"^weight must be a number, got '1'$"),
        (lambda: g.identity("a", y[0]), r"^src must be a node id"),
        (lambda: g.set_bias(y[0], "x"), r"^value must be a number, got 'x'$"),
        (lambda: g.set_weight(float(e), 1.0), r"^edge must be an edge id \(an integer\), got 0.0$"),
        (lambda: g.remove_edge(None), r"^edge must be an edge id"),
        (lambda: g.set_node_enabled(y[0], 1), r"^enabled must be True or False, got 1$"),
        (lambda: g.find_edge(x[0], y[0], time_skip=0.0), r"^time_skip must be an integer in \[0, 2\*\*63\), got 0.0$"),
        (lambda: g.node([0]), r"^node must be a node id"),
    ]
    for call, message in cases:
        with pytest.raises(nv.ConfigError, match=message):
            call()
    assert g.num_edges == 1


def test_connect_all_takes_one_id_on_either_side() -> None:
    g = nv.Graph()
    m = g.add_feature_map(1, 2, 2, role="input")
    y = g.add_outputs(3)
    edges = g.connect_all(m, y)  # a map feeding a layer: the reproducer
    assert [g.edge(e)["src"] for e in edges] == [m] * 3 and [g.edge(e)["dst"] for e in edges] == y
    h = g.add_nodes(1)
    assert [g.edge(e)["dst"] for e in g.connect_all(y[:1], h[0], time_skip=1)] == h
    with pytest.raises(nv.ConfigError, match=r"^dsts must be node ids \(a list of integers, or one\), got 'x'$"):
        g.connect_all(m, "x")
    with pytest.raises(nv.ConfigError, match=r"^srcs\[1\] must be a node id \(an integer\), got 2.5$"):
        g.connect_all([m, 2.5], y)
    with pytest.raises(nv.ConfigError, match="srcs must be node ids"):
        g.connect_all(None, y)


def test_an_output_that_nothing_feeds_warns_at_compile() -> None:
    g = nv.Graph()
    x = g.add_inputs(2)
    y = g.add_outputs(3)
    g.connect_all(x, y[:1])
    with pytest.warns(nv.NervenetWarning, match=rf"output nodes {y[1]}, {y[2]} have no incoming edges"):
        net = nv.Network(g)
    np.testing.assert_array_equal(net.forward(np.ones((2, 2)))[:, 1:], 0.0)  # what the warning is about
    g.connect(x[0], y[1])
    edge = g.connect(x[1], y[2])
    g.set_edge_enabled(edge, False)  # a disabled edge feeds nothing
    with pytest.warns(nv.NervenetWarning, match=rf"output node {y[2]} has no incoming edges"):
        nv.Network(g)
    g.set_edge_enabled(edge, True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nv.Network(g)
        nv.Network(nv.mlp([2, 3, 1]))


def test_an_output_fed_only_by_a_disabled_node_warns() -> None:
    g = nv.Graph()
    x = g.add_inputs(1)
    h = g.add_nodes(1)
    y = g.add_outputs(1)
    g.connect(x[0], h[0])
    g.connect(h[0], y[0])
    g.set_node_enabled(h[0], False)
    with pytest.warns(nv.NervenetWarning, match=f"output node {y[0]} has no incoming edges"):
        nv.Network(g)


# ---- shapes and labels --------------------------------------------------------------


def test_mnist_as_loaded_into_a_cnn_suggests_a_channel_axis() -> None:
    net = nv.Network(nv.cnn.small_mnist())
    with pytest.raises(nv.ShapeError) as info:
        net.forward(np.zeros((20, 28, 28), np.float32))
    message = str(info.value)
    assert "(20, 1, 28, 28)" in message and "X.reshape(20, 1, 28, 28)" in message
    assert "(20, 28, 784)" not in message
    with pytest.raises(nv.ShapeError, match=r"looks channels-last: X.transpose\(0, 3, 1, 2\)"):
        net.forward(np.zeros((20, 28, 28, 1), np.float32))
    with pytest.raises(nv.ShapeError, match=r"pass images of shape \(4, 1, 28, 28\), or flattened rows \(4, 784\)$"):
        net.forward(np.zeros((4, 5), np.float32))
    assert net.forward(np.zeros((4, 1, 28, 28), np.float32)).shape == (4, 10)
    assert net.forward(np.zeros((4, 784), np.float32)).shape == (4, 10)


def test_one_hot_labels_for_softmax_say_so() -> None:
    net = nv.Network(nv.mlp([3, 4, 3]), seed=0)
    X = np.ones((6, 3))
    labels = np.array([0, 1, 2, 0, 1, 2])
    for onehot in (np.eye(3)[labels], np.eye(3, dtype=np.int64)[labels]):
        with pytest.raises(nv.ShapeError, match=r"one-hot rows\? .* of shape \(6,\): pass Y.argmax\(axis=-1\)"):
            net.fit(X, onehot, loss="softmax", epochs=1, verbose=0)
    with pytest.raises(nv.ShapeError, match=r"one-hot rows\? .*one integer per sample and time step"):
        net.evaluate(np.ones((2, 4, 3)), np.zeros((2, 4, 3)), "softmax")
    net.fit(X, labels, loss="softmax", epochs=1, verbose=0)
    with pytest.raises(nv.DTypeError, match=r"astype\(np.int64\)"):  # float labels of the right shape
        net.fit(X, labels.astype(float), loss="softmax", epochs=1, verbose=0)


def test_input_gradients_come_back_in_the_shape_of_image_x() -> None:
    g = nv.Graph()
    x = g.add_feature_map(2, 4, 4, role="input")
    c = g.add_feature_map(1, 2, 2)
    g.connect_filter(x, c, 3)
    y = g.add_outputs(3)
    g.connect_all(c, y)
    net = nv.Network(g, dtype="float64", seed=0)
    rng = np.random.default_rng(1)
    images = rng.standard_normal((5, 2, 4, 4))
    _, dx = net.backward(images, np.ones((5, 3)), input_grads=True)
    assert dx.shape == images.shape
    _, flat = net.backward(images.reshape(5, 32), np.ones((5, 3)), input_grads=True)
    np.testing.assert_array_equal(dx.reshape(5, 32), flat)  # the same numbers, in X's shape
    sequences = rng.standard_normal((5, 3, 2, 4, 4))
    _, dxs = net.backward(sequences, np.ones((5, 3, 3)), input_grads=True)
    assert dxs.shape == sequences.shape
    # the vector-Jacobian product it claims to be: dL/dX for L = sum(outputs)
    eps, i = 1e-6, (1, 0, 2, 3)
    bumped = images.copy()
    bumped[i] += eps
    lowered = images.copy()
    lowered[i] -= eps
    numeric = (net.forward(bumped).sum() - net.forward(lowered).sum()) / (2 * eps)
    assert dx[i] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_standardize_on_no_features_is_a_shape_error() -> None:
    for transform in (nv.data.Standardize(), nv.data.MinMaxScale(), nv.data.PCA()):
        with pytest.raises(nv.ShapeError, match=r"X has 0 feature\(s\) \(shape=\(3, 0\)\)"):
            transform.fit(np.empty((3, 0)))


def test_bad_values_in_validation_arrays_say_validation(data) -> None:
    net, X, Y = data
    Xv = X.copy()
    Xv[1, 2] = np.nan
    with pytest.raises(nv.DataError, match=r"^validation: X contains a non-finite value \(nan\) at index \[1, 2\]"):
        net.fit(X, Y, epochs=1, verbose=0, validation=(Xv, Y))
