"""EXAMM's mutation operators (issue 14, item 2, first part): every result
is a valid graph the engine runs, with exact gradients, the parent is never
changed, and innovation numbers stay unique across a run."""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pytest

import nervenet as nv
from nervenet import evolution
from nervenet.evolution import OPERATORS, Innovations, Skip

from gradient_checks import assert_smooth_gradients, loss_scale


def _seeds() -> list[nv.Graph]:
    cells = nv.Graph()
    x, c, y = cells.add_inputs(3), cells.add_cells(2, "lstm"), cells.add_outputs(1)
    cells.connect_all(x, c)
    cells.connect_all(c, y)
    return [nv.mlp([3, 1]), nv.random_graph(3, 4, 2, recurrent=3, max_skip=4, seed=1), cells]


def _walk(applications: int, seed: int):
    """Random operators applied in chains from the seeds: yields
    (parent, child or Skip, numbers the run had before the operator)."""
    rng = np.random.default_rng(seed)
    population = _seeds()
    run = Innovations.after(*population)
    names = list(OPERATORS)
    for _ in range(applications):
        parent = population[int(rng.integers(len(population)))]
        before = Innovations(run.node, run.edge)
        child = OPERATORS[names[int(rng.integers(len(names)))]](parent, rng, run)
        yield parent, child, before, run
        if not isinstance(child, Skip):
            population.append(child)
            if len(population) > 30:
                population.pop(int(rng.integers(3, len(population))))  # keep the seeds


def test_random_operator_applications_give_valid_graphs_the_engine_runs() -> None:
    applied = skipped = 0
    X = np.random.default_rng(0).normal(size=(2, 3, 3))
    for parent, child, before, run in _walk(2000, seed=0):
        parent_json = parent.to_json()
        if isinstance(child, Skip):
            skipped += 1
            assert child.operator in OPERATORS and child.reason
            continue
        applied += 1
        child.validate()
        assert parent.to_json() == parent_json  # never changed
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nv.NervenetWarning)  # disabling edges may leave an output unfed
            net = nv.Network(child, dtype="float64", seed=applied)
        out = net.forward(X[..., : net.n_inputs])
        assert np.isfinite(out).all()
        # every number given out is new to the run
        nodes = [child.node(n)["innovation"] for n in child.node_ids()]
        edges = [child.edge(e)["innovation"] for e in child.edge_ids()]
        assert len(set(nodes)) == len(nodes) and len(set(edges)) == len(edges)
        fresh_nodes = set(nodes) - {parent.node(n)["innovation"] for n in parent.node_ids()}
        fresh_edges = set(edges) - {parent.edge(e)["innovation"] for e in parent.edge_ids()}
        assert all(before.node <= i < run.node for i in fresh_nodes)
        assert all(before.edge <= i < run.edge for i in fresh_edges)
    assert applied > 1500 and skipped > 0


def test_sampled_children_pass_the_finite_difference_check() -> None:
    rng = np.random.default_rng(1)
    checked = 0
    for i, (_, child, _, _) in enumerate(_walk(400, seed=1)):
        if isinstance(child, Skip) or i % 20:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nv.NervenetWarning)
            net = nv.Network(child, dtype="float64", seed=i)
        X = rng.uniform(-1, 1, size=(2, 3, net.n_inputs))
        Y = rng.uniform(-1, 1, size=(2, 3, net.n_outputs))
        scale = loss_scale(net.loss_and_gradient(X, Y, "mse")[0])
        fine = lambda step: net.numeric_gradient(X, Y, "mse", step=step)  # noqa: E731
        assert_smooth_gradients(nv.check_gradients(net, X, Y, loss="mse"), scale, fine)
        checked += 1
    assert checked >= 10


def test_operators_say_why_they_cannot_apply() -> None:
    rng, g = np.random.default_rng(0), nv.mlp([3, 1])
    run = Innovations.after(g)
    assert evolution.enable_edge(g, rng, run) == Skip("enable_edge", "no disabled edge")
    full = evolution.add_edge(g, rng, run)  # every input already feeds the output
    assert isinstance(full, Skip) and full.operator == "add_edge"
    assert (run.node, run.edge) == (4, 3)  # nothing was numbered


def test_split_edge_disables_the_old_edge_and_numbers_the_new_parts() -> None:
    g = nv.mlp([1, 1])
    run = Innovations.after(g)
    child = evolution.split_edge(g, np.random.default_rng(0), run, kinds=("simple",))
    old = child.edge(child.edge_ids()[0])
    assert not old["enabled"] and child.num_nodes == 3 and child.num_edges == 3
    new = [child.edge(e) for e in child.edge_ids()[1:]]
    assert [e["innovation"] for e in new] == [1, 2] and run.edge == 3
    assert child.node(child.node_ids()[-1])["innovation"] == 2 and run.node == 3
    assert (new[0]["src"], new[1]["dst"]) == (old["src"], old["dst"])


def test_recurrent_skips_come_from_the_range() -> None:
    g, rng = nv.mlp([2, 3, 1]), np.random.default_rng(0)
    run = Innovations.after(g)
    skips = set()
    for _ in range(60):
        child = evolution.add_recurrent_edge(g, rng, run, skips=(2, 4))
        skips.add(child.edge(child.edge_ids()[-1])["time_skip"])
    assert skips == {2, 3, 4}
    with pytest.raises(nv.ConfigError, match="skips"):
        evolution.add_recurrent_edge(g, rng, run, skips=(0, 3))


def test_feature_maps_are_not_mutated() -> None:
    with pytest.raises(nv.ConfigError, match="feature maps"):
        evolution.add_node(nv.cnn.lenet5(), np.random.default_rng(0), Innovations())


def test_examples_in_the_module_run() -> None:
    assert doctest.testmod(evolution.operators).failed == 0
