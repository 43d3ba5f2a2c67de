"""Sizes from calls and files are bounded before anything is allocated
(issue 13, items 1–3): a graph, a network or a batch too large raises a
NervenetError naming the bytes and what asked for them, never a panic, a
wrapped-around size or an abort of the interpreter. Also an audit that
fuzzes graph sizes and edge parameters through the API."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

import nervenet as nv
from nervenet import io
from nervenet.errors import NervenetError

GIB = 1 << 30


@pytest.fixture
def budget():
    """A 1 GiB budget, so that what a big machine could hold is refused
    here too; the previous budget is restored whatever happens."""
    before = nv.get_memory_budget()
    nv.set_memory_budget(GIB)
    try:
        yield GIB
    finally:
        nv.set_memory_budget(before)


def huge_map_graph_json() -> str:
    """The issue's ~700-byte graph: an input map of 4294967295×65536×1 cells."""
    return json.dumps(
        {
            "format": "nervenet.graph",
            "version": 1,
            "next_node_id": 2,
            "next_edge_id": 0,
            "nodes": [
                {
                    "id": 0,
                    "role": "input",
                    "kind": {"type": "feature_map", "channels": 4294967295, "height": 65536, "width": 1,
                             "activation": {"name": "identity"}, "untied_bias": True},
                    "bias": False,
                },
                {"id": 1, "role": "output", "kind": {"type": "simple", "activation": {"name": "identity"}},
                 "bias": False},
            ],
            "edges": [],
        }
    )


def test_graph_json_with_a_map_too_large_is_refused() -> None:
    text = huge_map_graph_json()
    assert len(text) < 1000
    with pytest.raises(nv.ShapeError, match="4294967295×65536×1 = 281474976645120 values"):
        nv.Graph.from_json(text)


def test_model_file_with_a_map_too_large_is_refused(tmp_path) -> None:
    metadata = {"format": io.FORMAT, "format_version": str(io.FORMAT_VERSION), "graph": huge_map_graph_json(),
                "dtype": "float32"}
    path = tmp_path / "huge.safetensors"
    path.write_bytes(io.encode({}, metadata))
    assert path.stat().st_size < 1500
    with pytest.raises(NervenetError, match="4294967295×65536×1"):
        nv.Network.load(path)


def test_feature_map_too_large_to_index() -> None:
    g = nv.Graph()
    with pytest.raises(nv.ShapeError, match=r"4294967295×65536×1 = 281474976645120 values \(1125899906580480 bytes"):
        g.add_feature_map(2**32 - 1, 65536, 1, role="input")
        g.add_outputs(1)
        nv.Network(g)
    assert g.num_nodes == 0


def test_capacity_overflow_is_an_error_not_a_panic() -> None:
    g = nv.Graph()
    try:
        g.add_feature_map(2**32 - 1, 2**32 - 1, 1, role="input")
        g.add_outputs(1)
        nv.Network(g)
    except BaseException as e:  # PanicException derives from BaseException
        assert isinstance(e, nv.ShapeError), f"{type(e).__name__}: {e}"
    else:
        pytest.fail("a map of (2**32-1)**2 cells was accepted")


def test_sizes_that_wrap_to_zero_raise() -> None:
    # 2**31 × 2**31 × 4 is 2**64: it wrapped to 0 inputs and 0 parameters.
    g = nv.Graph()
    with pytest.raises(nv.ShapeError, match="2147483648×2147483648×4"):
        g.add_feature_map(2**31, 2**31, 4, role="input")
    with pytest.raises(nv.ShapeError):
        g.add_feature_map(2**31, 2**31, 4, role="hidden")


def test_a_billion_inputs_are_refused_before_allocating(budget) -> None:
    g = nv.Graph()
    with pytest.raises(nv.UnsupportedError, match=r"adding 1000000000 nodes to a graph of 0: .* bytes"):
        g.add_inputs(10**9)
    assert g.num_nodes == 0
    assert len(g.add_inputs(3)) == 3  # the graph is still usable


def test_ten_billion_parameters_are_refused_naming_the_bytes(budget) -> None:
    with pytest.raises(nv.UnsupportedError, match=r"adding 10000000000 edges .* bytes"):
        nv.Network(nv.mlp([100000, 100000, 10]))


def test_parameters_over_the_budget_name_their_bytes() -> None:
    g = nv.mlp([1000, 1000, 1])
    before = nv.get_memory_budget()
    nv.set_memory_budget(1 << 20)
    try:
        with pytest.raises(nv.UnsupportedError, match=r"the network's 1002000 parameters: .* 4008000 bytes"):
            nv.Network(g)
    finally:
        nv.set_memory_budget(before)


def test_a_broadcast_batch_too_large_is_refused(budget) -> None:
    net = nv.Network(nv.mlp([20, 3, 1]))
    X = np.broadcast_to(np.zeros(20, np.float32), (10**8, 20))
    with pytest.raises(nv.UnsupportedError, match=r"X: a copy of shape \(100000000, 1, 20\) .* 8000000000 bytes"):
        net.forward(X)


def test_the_binding_checks_copies_of_strided_arrays(budget) -> None:
    from nervenet import _core

    net = _core.Network(nv.mlp([20, 3, 1])._g)
    X = np.broadcast_to(np.zeros(20, np.float32), (10**8, 1, 20))
    with pytest.raises(nv.UnsupportedError, match="a C-contiguous copy of the inputs: .* 8000000000 bytes"):
        net.forward(X)


def test_run_buffers_are_checked() -> None:
    # A batch that exists whose activations would not: 2,100 samples ×
    # 16,385 rows × 4 bytes × (values + deltas) is over 256 MiB.
    g = nv.Graph()
    x = g.add_feature_map(1, 128, 128, role="input")
    g.connect_all([x], g.add_outputs(1))
    net = nv.Network(g)
    before = nv.get_memory_budget()
    nv.set_memory_budget(256 << 20)
    try:
        with pytest.raises(nv.UnsupportedError, match=r"the activations of a training run: 16385 × 2100 × 1 × 2 values"):
            net.loss_and_gradient(np.zeros((2100, 16384), np.float32), np.zeros((2100, 1), np.float32))
        # Forward runs go in waves under the inference cap: they fit.
        assert net.forward(np.zeros((2100, 16384), np.float32)).shape == (2100, 1)
    finally:
        nv.set_memory_budget(before)


def test_memory_budget_is_checked() -> None:
    with pytest.raises(nv.ConfigError):
        nv.set_memory_budget(0)
    assert nv.get_memory_budget() > 0


# ---- the audit ----------------------------------------------------------------

SIZES = [0, 1, 2, 3, 5, -1, -(2**31), 2**16, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**64, 1.5, "3", None, True]


def _size(rng: random.Random):
    return rng.choice(SIZES) if rng.random() < 0.4 else rng.randint(1, 6)


def _step(rng: random.Random, g: nv.Graph, maps: list, nodes: list) -> None:
    op = rng.randrange(7)
    if op == 0:
        maps.append(g.add_feature_map(_size(rng), _size(rng), _size(rng), role=rng.choice(["input", "hidden", "output"])))
    elif op == 1:
        nodes.extend(rng.choice([g.add_inputs, g.add_nodes, g.add_outputs])(_size(rng)))
    elif op == 2 and len(maps) >= 2:
        g.connect_filter(rng.choice(maps), rng.choice(maps), (_size(rng), _size(rng)),
                         stride=_size(rng), padding=rng.choice([0, 1, 2, -1, 2**31, _size(rng)]),
                         **({"depth": _size(rng)} if rng.random() < 0.3 else {}))
    elif op == 3 and len(maps) >= 2:
        g.connect_pool(rng.choice(maps), rng.choice(maps), rng.choice(["max", "avg", "min"]),
                       size=(_size(rng), _size(rng)), stride=(_size(rng), _size(rng)))
    elif op == 4 and nodes:
        g.connect(rng.choice(nodes + maps), rng.choice(nodes), time_skip=rng.choice([0, 1, 3, -1, 2**32, 1.5]))
    elif op == 5 and maps and nodes:
        g.connect_all([rng.choice(maps)], [rng.choice(nodes)])
    elif op == 6:
        g.add_cells(_size(rng), rng.choice(["lstm", "gru", "mgu", "ugrnn", "delta", "nope"]))


def test_fuzzed_sizes_never_escape_as_anything_but_nervenet_errors(budget) -> None:
    """Random huge, zero, negative and odd sizes, strides, paddings, filter
    and pool sizes and time skips through nv.Graph's methods and
    nv.Network: every outcome is a success or a NervenetError."""
    rng = random.Random(1313)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(120):
        g, maps, nodes = nv.Graph(), [], []
        for _ in range(rng.randint(1, 8)):
            try:
                _step(rng, g, maps, nodes)
                outcomes["ok"] += 1
            except NervenetError:
                outcomes["error"] += 1
            except BaseException as e:  # noqa: BLE001 - PanicException is a BaseException
                pytest.fail(f"{type(e).__name__} escaped a graph edit: {e}")
        try:
            net = nv.Network(g)
            if net.n_inputs <= 10_000:
                net.forward(np.zeros((2, net.n_inputs), np.float32))
            outcomes["ok"] += 1
        except NervenetError:
            outcomes["error"] += 1
        except BaseException as e:  # noqa: BLE001
            pytest.fail(f"{type(e).__name__} escaped nv.Network / forward: {e}\n{g.to_json()[:2000]}")
    assert outcomes["ok"] > 50 and outcomes["error"] > 50, outcomes


def test_the_inference_memory_cap_is_measured() -> None:
    """A forward pass whose activations are over the 256 MB cap takes at
    most the cap in run buffers at once (the workspace's high-water mark,
    counted in the core where buffers are handed out)."""
    cap = 256 << 20
    g = nv.Graph()
    x = g.add_feature_map(1, 8, 8, role="input")
    h = g.add_feature_map(64, 8, 8)
    g.connect_filter(x, h, 3, padding=1)
    g.connect_all([h], g.add_outputs(1))
    net = nv.Network(g, seed=1)
    X = np.random.default_rng(0).random((16384, 64), dtype=np.float32)
    rows = 64 + 64 * 64 + 1
    assert rows * 16384 * 4 > cap  # the whole batch's activations would not fit
    nv.set_inference_memory(cap)
    try:
        net._net._workspace_peak(reset=True)
        out = net.forward(X)
        peak = net._net._workspace_peak(reset=True)
        assert cap // 2 <= peak <= cap, peak
        nv.set_inference_memory(1 << 40)  # room for everything: one wave
        np.testing.assert_array_equal(net.forward(X), out)
        assert net._net._workspace_peak() >= rows * 16384 * 4
    finally:
        nv.set_inference_memory(cap)


def test_a_panic_in_the_core_is_an_internal_error_not_a_base_exception() -> None:
    from nervenet import _core

    try:
        _core._panic_for_tests()
    except BaseException as e:  # noqa: BLE001 - PanicException is a BaseException
        assert isinstance(e, nv.InternalError) and isinstance(e, RuntimeError), type(e)
        assert "internal error in nervenet" in str(e) and "a deliberate test panic" in str(e)
    else:
        pytest.fail("the panic was not reported")
