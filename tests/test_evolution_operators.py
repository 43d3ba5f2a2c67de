"""EXAMM's mutation operators and crossover (issue 14, items 2 and 10): every
result is a valid graph the engine runs, with exact gradients, no parent is
ever changed, and innovation numbers stay unique across a run."""

from __future__ import annotations

import doctest
import importlib
import warnings
from dataclasses import dataclass
from typing import Union

import numpy as np
import pytest

import nervenet as nv
from nervenet import evolution
from nervenet.evolution.weights import start, weights_of
from nervenet.evolution import OPERATORS, Innovations, Skip, crossover

from gradient_checks import assert_smooth_gradients, loss_scale

APPLICATIONS = 10_000  # the count


def _seeds() -> list[nv.Graph]:
    cells = nv.Graph()
    x, c, y = cells.add_inputs(3), cells.add_cells(2, "lstm"), cells.add_outputs(1)
    cells.connect_all(x, c)
    cells.connect_all(c, y)
    return [nv.mlp([3, 1]), nv.random_graph(3, 4, 2, recurrent=3, max_skip=4, seed=1), cells]


@dataclass
class Step:
    operator: str
    parents: list[nv.Graph]
    child: Union[nv.Graph, Skip]
    before: Innovations  # the run's counters before the operator
    after: Innovations
    parents_unchanged: bool


def _walk(applications: int, seed: int) -> list[Step]:
    """Random operators applied in chains from the seeds, crossover between
    two members of one seed's lineage (the seeds number their nodes
    independently, so only a lineage is one run's genomes)."""
    rng = np.random.default_rng(seed)
    population = [(g, i) for i, g in enumerate(_seeds())]
    run = Innovations.after(*(g for g, _ in population))
    names = [*OPERATORS, "crossover"]
    steps = []
    for _ in range(applications):
        name = names[int(rng.integers(len(names)))]
        parent, lineage = population[int(rng.integers(len(population)))]
        parents = [parent]
        if name == "crossover":
            kin = [g for g, line in population if line == lineage]
            parents.append(kin[int(rng.integers(len(kin)))])
        before, texts = Innovations(run.node, run.edge), [p.to_json() for p in parents]
        if name == "crossover":
            child = crossover(*parents, rng)
            child = child if isinstance(child, Skip) else child[0]
        else:
            child = OPERATORS[name](parent, rng, run)
        unchanged = [p.to_json() for p in parents] == texts
        steps.append(Step(name, parents, child, before, Innovations(run.node, run.edge), unchanged))
        if not isinstance(child, Skip):
            population.append((child, lineage))
            if len(population) > 30:
                population.pop(int(rng.integers(3, len(population))))  # keep the seeds
    return steps


@pytest.fixture(scope="module")
def walk() -> list[Step]:
    return _walk(APPLICATIONS, seed=0)


def _network(g: nv.Graph, seed: int) -> nv.Network:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nv.NervenetWarning)  # disabling edges or nodes may leave an output unfed
        return nv.Network(g, dtype="float64", seed=seed)


def _numbers(g: nv.Graph) -> tuple[list[int], list[int]]:
    return [g.node(n)["innovation"] for n in g.node_ids()], [g.edge(e)["innovation"] for e in g.edge_ids()]


def test_random_applications_give_valid_graphs_numbered_from_the_run(walk: list[Step]) -> None:
    applied: dict[str, int] = dict.fromkeys([*OPERATORS, "crossover"], 0)
    for step in walk:
        assert step.parents_unchanged
        if isinstance(step.child, Skip):
            assert step.child.operator == step.operator and step.child.reason
            assert (step.after.node, step.after.edge) == (step.before.node, step.before.edge)
            continue
        applied[step.operator] += 1
        step.child.validate()  # acyclic at skip 0 (disabled edges included) among the rest
        nodes, edges = _numbers(step.child)
        assert len(set(nodes)) == len(nodes) and len(set(edges)) == len(edges)
        known = [_numbers(p) for p in step.parents]
        fresh_nodes = set(nodes).difference(*(n for n, _ in known))
        fresh_edges = set(edges).difference(*(e for _, e in known))
        # every number an operator gives out is new to the run; crossover gives none
        assert all(step.before.node <= i < step.after.node for i in fresh_nodes)
        assert all(step.before.edge <= i < step.after.edge for i in fresh_edges)
        if step.operator == "crossover":
            assert not fresh_nodes and not fresh_edges
    assert min(applied.values()) > 200, applied


def test_random_applications_run_in_the_engine(walk: list[Step]) -> None:
    X = np.random.default_rng(0).normal(size=(2, 3, 3))
    for i, step in enumerate(walk):
        if not isinstance(step.child, Skip):
            out = _network(step.child, seed=i).forward(X)
            assert np.isfinite(out).all()


def test_sampled_children_pass_the_finite_difference_check(walk: list[Step]) -> None:
    rng = np.random.default_rng(1)
    checked = 0
    for i, step in enumerate(walk[::100]):
        if isinstance(step.child, Skip):
            continue
        net = _network(step.child, seed=i)
        X = rng.uniform(-1, 1, size=(2, 3, net.n_inputs))
        Y = rng.uniform(-1, 1, size=(2, 3, net.n_outputs))
        scale = loss_scale(net.loss_and_gradient(X, Y, "mse")[0])
        fine = lambda step: net.numeric_gradient(X, Y, "mse", step=step)  # noqa: E731
        assert_smooth_gradients(nv.check_gradients(net, X, Y, loss="mse"), scale, fine)
        checked += 1
    assert checked >= 70


def _weights(net: nv.Network) -> dict[str, float]:
    """The network's weights by innovation key, as the run keeps them."""
    return weights_of(net, net.graph)


def _set_weights(net: nv.Network, weights: dict[str, float]) -> None:
    start(net, net.graph, weights, np.random.default_rng(0), "lamarckian")


def test_crossover_of_a_genome_with_itself_gives_itself(walk: list[Step]) -> None:
    rng = np.random.default_rng(2)
    genomes = [s.child for s in walk[::250] if not isinstance(s.child, Skip)]
    for i, g in enumerate(genomes):
        weights = _weights(_network(g, seed=i))
        child, crossed = crossover(g, g.copy(), rng, better_weights=weights, other_weights=dict(weights))
        assert child.to_json() == g.to_json() and child.structural_hash() == g.structural_hash()
        assert crossed == weights
    assert any(any(g.node(n)["kind"] == "lstm" for n in g.node_ids()) for g in genomes)


def _islands(seed: int, steps: int) -> tuple[list[nv.Graph], list[nv.Graph]]:
    """Two lineages of one run grown apart from one seed, as on two islands."""
    rng = np.random.default_rng(seed)
    seed_graph = nv.random_graph(3, 4, 1, density=0.8, recurrent=2, max_skip=3, seed=seed)
    run, islands = Innovations.after(seed_graph), ([seed_graph], [seed_graph])
    names = [n for n in OPERATORS if n != "clone"]
    for _ in range(steps):
        for island in islands:
            child = OPERATORS[names[int(rng.integers(len(names)))]](island[-1], rng, run)
            if not isinstance(child, Skip):
                island.append(child)
    return islands


def _edges_by_innovation(g: nv.Graph) -> dict[int, dict]:
    """Each edge as its ends' innovation numbers and what it is, by innovation number."""
    nodes = {n: g.node(n)["innovation"] for n in g.node_ids()}
    out = {}
    for e in g.edge_ids():
        d = g.edge(e)
        out[d["innovation"]] = {**d, "src": nodes[d["src"]], "dst": nodes[d["dst"]], "id": None}
    return out


@pytest.mark.parametrize("seed", range(4))
def test_crossover_between_islands_keeps_the_fitter_parents_structure(seed: int) -> None:
    a, b = _islands(seed, 25)
    rng = np.random.default_rng(seed)
    for better, other in ((a[-1], b[-1]), (b[-1], a[-1]), (a[-1], a[5])):
        child, _ = crossover(better, other, rng, less_fit_rate=1.0)
        child.validate()
        kept, theirs, mine = _edges_by_innovation(child), _edges_by_innovation(other), _edges_by_innovation(better)
        assert all(kept[i] == d for i, d in mine.items())  # every edge of the fitter parent as it was
        for n in better.node_ids():
            assert child.node(n) == better.node(n)
        for i in kept.keys() - mine.keys():  # the rest from the other parent, enabled as there (rate 1)
            assert kept[i] == theirs[i]
        # an edge of the other parent is left out only if the child joins its nodes already or it would close a cycle
        for i in theirs.keys() - kept.keys():
            d = theirs[i]
            src, dst = (child.find_node_by_innovation(d[end]) for end in ("src", "dst"))
            joined = child.find_edge(src, dst, time_skip=d["time_skip"], port=d["port"]) is not None
            assert joined or (d["time_skip"] == 0 and _reaches(child, dst, src))


def _reaches(g: nv.Graph, frm: int, to: int) -> bool:
    """Whether same-step edges (disabled ones too) lead from ``frm`` to ``to``."""
    out: dict[int, list[int]] = {}
    for e in g.edge_ids():
        d = g.edge(e)
        if d["time_skip"] == 0:
            out.setdefault(d["src"], []).append(d["dst"])
    stack, seen = [frm], set()
    while stack:
        n = stack.pop()
        if n == to:
            return True
        if n not in seen:
            seen.add(n)
            stack.extend(out.get(n, []))
    return False


def test_crossover_brings_in_a_node_whose_first_edge_is_its_own_recurrent_loop() -> None:
    """A node of the less fit parent reached first (in innovation order) by
    its own skip-1 loop comes in once, loop and all (found by a 2,000-genome
    run: the loop's two ends were added as two nodes of one number)."""
    better = nv.mlp([2, 1])
    other = better.copy()
    (node,) = other.add_nodes(1, "tanh")
    other.set_node_innovation(node, 10)
    for inn, (src, dst, skip) in zip((5, 6, 7), ((node, node, 1), (0, node, 0), (node, 2, 0))):
        other.set_edge_innovation(other.connect(src, dst, time_skip=skip), inn)
    child, _ = crossover(better, other, np.random.default_rng(0), less_fit_rate=1.0)
    child.validate()
    assert child.structural_hash() == other.structural_hash()
    assert [child.node(n)["innovation"] for n in child.node_ids()].count(10) == 1


def test_crossover_at_rate_zero_computes_what_the_fitter_parent_computes() -> None:
    a, b = _islands(7, 25)
    better, other = a[-1], b[-1]
    net = _network(better, seed=0)
    child, weights = crossover(better, other, np.random.default_rng(0), less_fit_rate=0.0, better_weights=_weights(net))
    assert child.num_edges > better.num_edges  # the other parent's edges came, disabled
    child_net = _network(child, seed=1)
    _set_weights(child_net, weights)
    X = np.random.default_rng(0).normal(size=(2, 4, 3))
    np.testing.assert_array_equal(child_net.forward(X), net.forward(X))


def test_crossover_crosses_shared_weights_and_keeps_the_others() -> None:
    a, b = _islands(5, 4)
    better, other = a[-1], b[-1]
    w1, w2 = _weights(_network(better, seed=0)), _weights(_network(other, seed=1))
    child, w = crossover(better, other, np.random.default_rng(0), better_weights=w1, other_weights=w2)
    shared = w1.keys() & w2.keys()
    assert shared and (w1.keys() - w2.keys())
    c = np.array([(w[k] - w1[k]) / (w1[k] - w2[k]) for k in shared if w1[k] != w2[k]])
    assert ((-0.5 <= c) & (c <= 1.5)).all() and c.min() < 0 < 1 < c.max()  # one c per key, EXAMM's range
    for k in w.keys() - shared:
        assert w[k] == w1.get(k, w2.get(k))
    assert w.keys() >= w1.keys()  # every parameter of the fitter parent
    rng = np.random.default_rng(0)
    fixed = crossover(better, other, rng, better_weights=w1, other_weights=w2, c_range=(0.5, 0.5))[1]
    assert all(fixed[k] == w1[k] + 0.5 * (w1[k] - w2[k]) for k in shared)
    # keys of nodes and edges the child lacks are left out
    assert crossover(better, other, rng, better_weights={"e99999": 1.0, "n99999:bias": 2.0})[1] == {}
    assert crossover(better, other, rng)[1] is None


def test_crossover_refuses_what_it_cannot_use() -> None:
    g, rng = nv.mlp([3, 1]), np.random.default_rng(0)
    assert crossover(g, nv.mlp([3, 2]), rng) == Skip("crossover", "the parents' outputs differ (by innovation number)")
    with pytest.raises(nv.ConfigError, match="c_range"):
        crossover(g, g, rng, c_range=(1.5, -0.5))
    with pytest.raises(nv.ConfigError, match="c_range"):
        crossover(g, g, rng, c_range=0.5)
    with pytest.raises(nv.ConfigError, match="other must be a nervenet.Graph"):
        crossover(g, g.to_json(), rng)
    with pytest.raises(nv.ConfigError, match="rng must be"):
        crossover(g, g, 0)
    with pytest.raises(nv.ConfigError, match="better_weights must be"):
        crossover(g, g, rng, better_weights=[0.5])
    with pytest.raises(nv.ConfigError, match="less_fit_rate"):
        crossover(g, g, rng, less_fit_rate=2)
    with pytest.raises(nv.ConfigError, match="'edge:0'"):
        crossover(g, g, rng, better_weights={"edge:0": 1.0})
    with pytest.raises(nv.DataError, match="other_weights\\['e0'\\]"):
        crossover(g, g, rng, better_weights={"e0": 1.0}, other_weights={"e0": float("nan")})
    with pytest.raises(nv.ConfigError, match="feature maps"):
        crossover(nv.cnn.lenet5(), g, rng)


def test_split_node_divides_the_edges_as_examm_does() -> None:
    g = nv.Graph()
    x, h, y = g.add_inputs(3), g.add_nodes(1), g.add_outputs(2)
    g.connect_all(x, h)
    g.connect_all(h, y)
    g.connect(h[0], h[0], time_skip=2)
    g.connect(x[0], h[0], time_skip=1)
    run = Innovations.after(g)
    shared = 0
    for seed in range(20):
        child = evolution.split_node(g, np.random.default_rng(seed), run, kinds=("gru",))
        child.validate()
        assert not child.node(h[0])["enabled"]
        assert not any(child.edge(e)["enabled"] for e in g.edge_ids())  # the old node's edges, disabled
        new = child.node_ids()[-2:]
        assert [child.node(n)["kind"] for n in new] == ["gru", "gru"]
        edges = [child.edge(e) for e in child.edge_ids()]
        ins = [{(d["src"], d["time_skip"]) for d in edges if d["dst"] == n and d["src"] != n} for n in new]
        outs = [{d["dst"] for d in edges if d["src"] == n and d["dst"] != n} for n in new]
        assert all(ins) and all(outs)  # each new node has an input and an output
        assert set.union(*ins) <= {(i, 0) for i in x} | {(x[0], 1)} and set.union(*outs) <= set(y)
        shared += bool(ins[0] & ins[1])  # an edge may go to both
        for n in new:  # the self-loop, if a node got it, keeps its skip
            loops = [d for d in edges if d["src"] == d["dst"] == n]
            assert [d["time_skip"] for d in loops] in ([], [2])
    assert shared > 0


def test_merge_nodes_merges_duplicates_and_drops_same_step_cycles() -> None:
    g = nv.Graph()
    (x,), (a, b), (y,) = g.add_inputs(1), g.add_nodes(2), g.add_outputs(1)
    for src, dst, skip in ((x, a, 0), (x, b, 0), (a, b, 0), (b, y, 0), (a, y, 2), (b, a, 1)):
        g.connect(src, dst, time_skip=skip)
    run = Innovations.after(g)
    child = evolution.merge_nodes(g, np.random.default_rng(0), run, kinds=("simple",))
    child.validate()
    m = child.node_ids()[-1]
    made = sorted((d["src"], d["dst"], d["time_skip"]) for e in child.edge_ids() if (d := child.edge(e))["enabled"])
    # x->a and x->b merged; a->b a same-step self-loop, dropped; b->a kept as a recurrent self-loop
    assert made == sorted([(x, m, 0), (m, y, 0), (m, y, 2), (m, m, 1)])
    assert not child.node(a)["enabled"] and not child.node(b)["enabled"]
    assert [child.edge(e)["innovation"] for e in child.edge_ids()[g.num_edges:]] == [6, 7, 8, 9]
    # a path a -> c -> b: new -> c -> new would be a same-step cycle, one of its edges is dropped
    c = g.add_nodes(1)[0]
    g.connect(a, c)
    g.connect(c, b)
    children = (evolution.merge_nodes(g, np.random.default_rng(seed), Innovations.after(g)) for seed in range(40))
    child = next(ch for ch in children if not ch.node(a)["enabled"] and not ch.node(b)["enabled"])
    child.validate()
    m = child.node_ids()[-1]
    assert (child.find_edge(m, c) is None) != (child.find_edge(c, m) is None)


def test_node_toggles_touch_hidden_nodes_only() -> None:
    g, rng = nv.mlp([2, 3, 1]), np.random.default_rng(0)
    run = Innovations.after(g)
    off = evolution.disable_node(g, rng, run)
    hidden = [n for n in g.node_ids() if g.node(n)["role"] == "hidden"]
    assert [n for n in off.node_ids() if not off.node(n)["enabled"]][0] in hidden
    on = evolution.enable_node(off, rng, run)
    assert on.to_json() == g.to_json()
    assert evolution.enable_node(g, rng, run) == Skip("enable_node", "no disabled hidden node")


def test_operators_say_why_they_cannot_apply() -> None:
    rng, g = np.random.default_rng(0), nv.mlp([3, 1])
    run = Innovations.after(g)
    assert evolution.enable_edge(g, rng, run) == Skip("enable_edge", "no disabled edge")
    full = evolution.add_edge(g, rng, run)  # every input already feeds the output
    assert isinstance(full, Skip) and full.operator == "add_edge"
    assert evolution.disable_node(g, rng, run) == Skip("disable_node", "no enabled hidden node")
    one = Skip("merge_nodes", "fewer than two enabled hidden nodes")
    assert evolution.merge_nodes(nv.mlp([3, 1, 1]), rng, run) == one
    unfed = nv.mlp([3, 1, 1])
    unfed.set_edge_enabled(unfed.edge_ids()[-1], False)  # the hidden node feeds nothing now
    assert evolution.split_node(unfed, rng, run) == Skip(
        "split_node", "no enabled hidden node with incoming and outgoing edges"
    )
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


def test_genes_copy_every_attribute_of_nodes_and_edges() -> None:
    g = nv.Graph()
    x = g.add_inputs(2)
    h = [g.add_node("hidden", "relu6", cap=3.0), g.add_node("hidden", "leaky_relu", slope=0.2, bias=False)]
    g.set_bias(h[0], 0.25)
    c, u = g.add_cells(1, "delta")[0], g.add_lstm_layer(1, x)[0]
    y = g.add_outputs(1, "sigmoid", bias=True)[0]
    g.connect_all(x, h + [c])
    g.connect(h[0], y, weight=0.5, trainable=False)
    g.identity(h[1], y, time_skip=3)
    g.connect(c, u, port=2, time_skip=1)
    g.set_edge_enabled(g.connect(u, y), False)
    g.set_node_enabled(h[1], False)
    copy, ids = nv.Graph(), {}
    for n in g.node_ids():
        ids[n] = evolution.genes.add_node_like(copy, g.node(n))
    for e in g.edge_ids():
        d = g.edge(e)
        evolution.genes.add_edge_like(copy, d, ids[d["src"]], ids[d["dst"]])
    assert copy.to_json() == g.to_json()


def test_node_kinds_must_be_a_sequence_of_names() -> None:
    g, rng = nv.mlp([2, 2, 1]), np.random.default_rng(0)
    for kinds in ((), "lstm"):
        with pytest.raises(nv.ConfigError, match="kinds must be a non-empty sequence"):
            evolution.split_node(g, rng, Innovations.after(g), kinds=kinds)


def test_feature_maps_are_not_mutated() -> None:
    with pytest.raises(nv.ConfigError, match="feature maps"):
        evolution.add_node(nv.cnn.lenet5(), np.random.default_rng(0), Innovations())


@pytest.mark.parametrize("module", ["operators", "crossover", "genes"])
def test_examples_in_the_modules_run(module: str) -> None:
    # importlib: the attribute evolution.crossover is the function, not its module
    assert doctest.testmod(importlib.import_module(f"nervenet.evolution.{module}")).failed == 0
