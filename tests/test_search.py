"""Gradient-free training (nv.search): grid search, random search, differential
evolution, particle swarm, CMA-ES over the flat parameter vector, scored by
the Rust population evaluator."""

from __future__ import annotations

import numpy as np
import pytest

import nervenet as nv

X_LINE = np.linspace(-1.0, 1.0, 11)[:, None]
Y_LINE = 2.0 * X_LINE - 1.0
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([0, 1, 1, 0], dtype=float)


def line_net(dtype: str = "float64", *, fixed: bool = False) -> nv.Network:
    """y = w x + b (one input, one identity output with a bias); with
    ``fixed`` a second input feeds the output through a fixed weight 0.5."""
    g = nv.Graph()
    x = g.add_inputs(2 if fixed else 1)
    y = g.add_outputs(1, "identity", bias=True)
    g.connect(x[0], y[0])
    if fixed:
        g.connect(x[1], y[0], trainable=False, weight=0.5)
    return nv.Network(g, dtype=dtype, seed=3)


def initial_loss(net: nv.Network, X: np.ndarray = X_LINE, Y: np.ndarray = Y_LINE) -> float:
    return nv.search.Objective(net, X, Y, "mse")(net.parameters[net.trainable][None, :])[0]


STOCHASTIC = {
    "random": lambda net, X, Y, **kw: nv.search.random_search(net, X, Y, "mse", evaluations=300, **kw),
    "de": lambda net, X, Y, **kw: nv.search.differential_evolution(net, X, Y, "mse", population=20, generations=40, **kw),
    "pso": lambda net, X, Y, **kw: nv.search.particle_swarm(net, X, Y, "mse", particles=20, iterations=40, **kw),
    "cma": lambda net, X, Y, **kw: nv.search.cma_es(net, X, Y, "mse", generations=40, **kw),
}


# ---- the objective ----------------------------------------------------------------


def test_objective_matches_the_networks_loss() -> None:
    net = line_net()
    obj = nv.search.Objective(net, X_LINE, Y_LINE, "mse")
    assert obj.names == net.parameter_names and obj.dim == 2
    rng = np.random.default_rng(0)
    pop = rng.uniform(-2, 2, (7, 2))
    scores = obj(pop)
    for row, score in zip(pop, scores):
        net.parameters = row
        loss, _ = net.loss_and_gradient(X_LINE, Y_LINE, "mse", reduction="mean")
        assert score == pytest.approx(loss, rel=1e-12)
    assert obj.evaluations == 7


def test_objective_scores_non_finite_and_overflowing_rows_inf() -> None:
    obj = nv.search.Objective(line_net("float32"), X_LINE, Y_LINE, "mse")
    scores = obj(np.array([[np.nan, 1.0], [1e300, 0.0], [-1.0, 2.0]]))
    assert scores[0] == np.inf and scores[1] == np.inf and scores[2] < 1e-10


def test_objective_rejects_wrong_shapes() -> None:
    net = line_net()
    obj = nv.search.Objective(net, X_LINE, Y_LINE, "mse")
    with pytest.raises(nv.ShapeError, match="population"):
        obj(np.zeros((3, 5)))
    with pytest.raises(nv.ShapeError):
        nv.search.Objective(net, np.zeros((4, 3)), np.zeros(4), "mse")
    with pytest.raises(nv.ParameterError, match="nope"):
        nv.search.Objective(net, X_LINE, Y_LINE, "mse", params=["nope"])


# ---- each method reduces the loss -------------------------------------------------


def test_grid_search_finds_exactly_the_best_grid_point() -> None:
    net = line_net()
    res = nv.search.grid_search(net, X_LINE, Y_LINE, "mse")
    grid = np.linspace(-1, 1, 21)
    b, w = np.meshgrid(grid, grid, indexing="ij")  # bias comes first in the flat vector
    losses = ((b[..., None] + w[..., None] * X_LINE[:, 0] - Y_LINE[:, 0]) ** 2).mean(-1)
    i, j = np.unravel_index(np.argmin(losses), losses.shape)
    assert res.values() == {"node:1:bias": grid[i], "edge:0": grid[j]}
    assert res.score == pytest.approx(losses.min(), rel=1e-12)
    assert res.evaluations == 21**2
    np.testing.assert_array_equal(net.parameters, [grid[i], grid[j]])


def test_grid_search_over_chosen_parameters_and_values() -> None:
    net = line_net()
    w0 = net.get_parameter("edge:0")
    res = nv.search.grid_search(net, X_LINE, Y_LINE, values=[-1.0, -0.5, 0.0], params=["node:1:bias"])
    assert res.names == ["node:1:bias"] and res.evaluations == 3
    assert net.get_parameter("edge:0") == w0 and net.get_parameter("node:1:bias") == -1.0


def test_grid_explosion_is_refused() -> None:
    net = nv.Network(nv.mlp([2, 2, 1]), dtype="float64")  # 6 weights + 2 biases: 21^8
    with pytest.raises(nv.ConfigError, match=str(21**8)):
        nv.search.grid_search(net, XOR_X, XOR_Y)


@pytest.mark.parametrize("method", ["de", "pso", "cma"])
def test_evolutionary_methods_reach_a_small_loss(method: str) -> None:
    net = line_net()
    res = STOCHASTIC[method](net, X_LINE, Y_LINE, seed=1)
    assert res.score < 1e-4
    np.testing.assert_allclose(net.parameters, [-1.0, 2.0], atol=0.02)
    assert res.history.size >= 2 and np.all(np.diff(res.history) <= 0)
    assert res.score == res.history[-1]


def test_random_search_improves_over_the_start() -> None:
    net = line_net()
    start = initial_loss(net)
    res = nv.search.random_search(net, X_LINE, Y_LINE, "mse", evaluations=500, seed=0, batch=64)
    assert res.score < start and res.evaluations == 500 and res.history.size == 8
    assert initial_loss(net) == pytest.approx(res.score, rel=1e-12)  # applied


def test_random_search_draws_do_not_depend_on_batch() -> None:
    a = nv.search.random_search(line_net(), X_LINE, Y_LINE, evaluations=200, seed=5, batch=7, apply=False)
    b = nv.search.random_search(line_net(), X_LINE, Y_LINE, evaluations=200, seed=5, batch=200, apply=False)
    np.testing.assert_array_equal(a.parameters, b.parameters)


def test_de_solves_xor() -> None:
    net = nv.Network(nv.mlp([2, 2, 1], "tanh", "sigmoid", bias=True), dtype="float64", seed=0)
    res = nv.search.differential_evolution(net, XOR_X, XOR_Y, "mse", population=40, generations=150,
                                           low=-3, high=3, seed=0)
    assert res.score < 0.01
    np.testing.assert_array_equal(net.forward(XOR_X).ravel() > 0.5, XOR_Y > 0.5)


def test_cma_es_solves_xor_with_float32() -> None:
    net = nv.Network(nv.mlp([2, 2, 1], "tanh", "sigmoid", bias=True), dtype="float32", seed=1)
    res = nv.search.cma_es(net, XOR_X, XOR_Y, "mse", sigma=1.0, generations=150, seed=1)
    assert res.score < 0.01 and res.parameters.dtype == np.float32
    np.testing.assert_array_equal(net.forward(XOR_X).ravel() > 0.5, XOR_Y > 0.5)


# ---- determinism, fixed parameters, apply --------------------------------------


@pytest.mark.parametrize("method", sorted(STOCHASTIC))
def test_same_seed_same_result_any_thread_count(method: str) -> None:
    nv.set_num_threads(1)  # conftest's global_settings puts the count back
    a = STOCHASTIC[method](line_net(), X_LINE, Y_LINE, seed=7)
    nv.set_num_threads(2)
    b = STOCHASTIC[method](line_net(), X_LINE, Y_LINE, seed=7)
    c = STOCHASTIC[method](line_net(), X_LINE, Y_LINE, seed=8)
    np.testing.assert_array_equal(a.parameters, b.parameters)
    np.testing.assert_array_equal(a.history, b.history)
    assert a.score == b.score and a.evaluations == b.evaluations
    assert not np.array_equal(a.history, c.history)


def test_cma_es_leaves_numpy_global_random_state_alone() -> None:
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    nv.search.cma_es(line_net(), X_LINE, Y_LINE, generations=3)
    assert np.random.rand() == expected


@pytest.mark.parametrize("method", sorted(STOCHASTIC) + ["grid"])
def test_fixed_parameters_are_untouched(method: str) -> None:
    net = line_net(fixed=True)
    X = np.hstack([X_LINE, np.ones_like(X_LINE)])  # the fixed 0.5 weight adds 0.5
    fixed = ~net.trainable
    assert fixed.sum() == 1
    before = net.parameters
    if method == "grid":
        res = nv.search.grid_search(net, X, Y_LINE)
    else:
        res = STOCHASTIC[method](net, X, Y_LINE, seed=0)
    assert len(res.names) == 2 and all(name in net.parameter_names for name in res.names)
    np.testing.assert_array_equal(res.parameters[fixed], before[fixed])
    np.testing.assert_array_equal(net.parameters[fixed], before[fixed])


def test_apply_false_leaves_the_network_alone() -> None:
    net = line_net()
    before = net.parameters
    res = nv.search.differential_evolution(net, X_LINE, Y_LINE, population=10, generations=5, apply=False)
    np.testing.assert_array_equal(net.parameters, before)
    net.parameters = res.parameters
    assert initial_loss(net) == pytest.approx(res.score, rel=1e-12)


def test_the_start_is_never_made_worse() -> None:
    net = line_net()
    net.parameters = [-1.0, 2.0]  # already optimal: random draws cannot beat it
    res = nv.search.random_search(net, X_LINE, Y_LINE, evaluations=50)
    assert res.score == 0.0
    np.testing.assert_array_equal(net.parameters, [-1.0, 2.0])


# ---- bad arguments ---------------------------------------------------------------


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda n: nv.search.grid_search(n, X_LINE, Y_LINE, values=[]), "values"),
        (lambda n: nv.search.grid_search(n, X_LINE, Y_LINE, values=[0.0, np.nan]), "values"),
        (lambda n: nv.search.grid_search(n, X_LINE, Y_LINE, max_evaluations=0), "max_evaluations"),
        (lambda n: nv.search.random_search(n, X_LINE, Y_LINE, evaluations=0), "evaluations"),
        (lambda n: nv.search.random_search(n, X_LINE, Y_LINE, evaluations=5, low=1, high=1), "low"),
        (lambda n: nv.search.random_search(n, X_LINE, Y_LINE, evaluations=5, batch=0), "batch"),
        (lambda n: nv.search.random_search(n, X_LINE, Y_LINE, evaluations=5, seed=-1), "seed"),
        (lambda n: nv.search.differential_evolution(n, X_LINE, Y_LINE, population=3), "population"),
        (lambda n: nv.search.differential_evolution(n, X_LINE, Y_LINE, F=0), "F"),
        (lambda n: nv.search.differential_evolution(n, X_LINE, Y_LINE, CR=1.5), "CR"),
        (lambda n: nv.search.differential_evolution(n, X_LINE, Y_LINE, generations=-1), "generations"),
        (lambda n: nv.search.particle_swarm(n, X_LINE, Y_LINE, particles=0), "particles"),
        (lambda n: nv.search.particle_swarm(n, X_LINE, Y_LINE, inertia=float("nan")), "inertia"),
        (lambda n: nv.search.particle_swarm(n, X_LINE, Y_LINE, social=-1), "social"),
        (lambda n: nv.search.cma_es(n, X_LINE, Y_LINE, sigma=0), "sigma"),
        (lambda n: nv.search.cma_es(n, X_LINE, Y_LINE, population=1), "population"),
        (lambda n: nv.search.cma_es(n, X_LINE, Y_LINE, options={"seed": 3}), "seed"),
    ],
)
def test_bad_hyperparameters_raise_config_error(call, name: str) -> None:
    net = line_net()
    before = net.parameters
    with pytest.raises((nv.ConfigError, nv.ShapeError), match=name):
        call(net)
    np.testing.assert_array_equal(net.parameters, before)


def test_wrong_data_shapes_raise_shape_error() -> None:
    with pytest.raises(nv.ShapeError):
        nv.search.particle_swarm(line_net(), X_LINE, np.zeros((11, 2)), iterations=1)
    with pytest.raises(nv.ShapeError):
        nv.search.cma_es(line_net(), np.zeros((11, 3)), Y_LINE, generations=1)


def test_non_finite_data_raises_data_error() -> None:
    X = X_LINE.copy()
    X[4, 0] = np.nan
    with pytest.raises(nv.DataError, match="X"):
        nv.search.random_search(line_net(), X, Y_LINE, evaluations=3)


def test_huge_grids_are_refused_with_a_readable_count() -> None:
    net = nv.Network(nv.mlp([8, 32, 32, 4]), dtype="float32")
    with pytest.raises(nv.ConfigError, match=r"21\^1472 = about 10\^1946 evaluations"):
        nv.search.grid_search(net, np.zeros((2, 8)), np.zeros((2, 4)))


def test_search_on_sequences(small_graph: nv.Graph) -> None:
    """Recurrent networks and (batch, time, features) data work the same way."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (8, 5, 2))
    Y = 1.0 / (1.0 + np.exp(-np.cumsum(X[..., :1], axis=1)))  # a running sum, squashed
    net = nv.Network(small_graph, dtype="float64", seed=0)
    start = nv.search.Objective(net, X, Y)(net.parameters[None, :])[0]
    res = nv.search.cma_es(net, X, Y, "mse", sigma=0.5, generations=30, seed=0)
    assert res.score < 0.5 * start
    loss, _ = net.loss_and_gradient(X, Y, "mse", reduction="mean")
    assert loss == pytest.approx(res.score, rel=1e-9)
