"""The names Python lists (losses, activations, cells, ports, pool ops) are
the core's: every listed name is accepted where it is used, and the Python
lists are the core's lists."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nervenet as nv
from nervenet import _core, config, rnn
from nervenet.graph import maps as graph_maps


def test_python_lists_are_the_cores() -> None:
    assert config.LOSSES == tuple(_core.losses())
    assert config.CLASS_LOSSES == tuple(_core.class_losses())
    assert config.REDUCTIONS == tuple(_core.reductions()) == ("mean", "sum")
    assert rnn.CELL_KINDS == tuple(_core.cell_kinds(units=False))
    assert graph_maps.POOL_OPS == tuple(_core.pool_ops())
    assert set(_core.class_losses()) == {loss for loss in _core.losses() if _core.loss_takes_classes(loss)}
    assert set(_core.cell_kinds()) - set(_core.cell_kinds(units=False)) == {"lstm_unit", "gru_unit"}
    assert _core.cell_ports("gru_unit") == ["r", "z", "n_x", "n_h"]
    assert _core.cell_ports("lstm") == ["x"]
    with pytest.raises(nv.ConfigError, match='unknown cell kind "rnn"; expected one of lstm, gru'):
        _core.cell_ports("rnn")


def test_every_listed_name_is_accepted() -> None:
    g = nv.Graph()
    x = g.add_node("input")
    for name in _core.activations():
        g.connect(x, g.add_node("hidden", name))
    for kind in _core.cell_kinds():
        g.connect(x, g.add_cells(1, kind)[0])
    assert json.loads(g.to_json())["nodes"][-1]["kind"] == {"type": "gru_unit"}
    net = nv.Network(nv.mlp([2, 3], "tanh"), dtype="float64", seed=0)
    X, labels = np.zeros((4, 2)), np.array([0, 1, 2, 0])
    for loss in _core.losses():
        Y = labels if loss in _core.class_losses() else np.zeros((4, 3))
        assert np.isfinite(net.evaluate(X, Y, loss)["loss"])
