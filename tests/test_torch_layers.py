"""Standard LSTM/GRU layers match torch.nn.LSTM / torch.nn.GRU.

Two stacked layers and a linear head on every step, the same weights in
both: outputs and every gradient (weights, both biases, head) agree to
float64 rounding. With torch installed the reference is computed live (and
every stored value, outputs and gradients, is checked against it); without
torch the values stored in tests/data/torch_layers.json stand in (see
torch_references.py; ``python tests/test_torch_layers.py`` rewrites them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import nervenet as nv
import torch_references

REFERENCE = "torch_layers.json"
N_IN, HIDDEN, N_OUT, BATCH, STEPS = 3, 4, 2, 2, 5


def _problem(kind: str) -> dict[str, Any]:
    """Weights, inputs and output gradient, drawn from a fixed seed."""
    rng = np.random.default_rng(0 if kind == "lstm" else 1)
    gates = 4 if kind == "lstm" else 3
    layers = []
    for n_in in (N_IN, HIDDEN):
        layers.append(
            {
                "weight_ih": rng.uniform(-0.5, 0.5, (gates * HIDDEN, n_in)),
                "weight_hh": rng.uniform(-0.5, 0.5, (gates * HIDDEN, HIDDEN)),
                "bias_ih": rng.uniform(-0.5, 0.5, gates * HIDDEN),
                "bias_hh": rng.uniform(-0.5, 0.5, gates * HIDDEN),
            }
        )
    return {
        "layers": layers,
        "head_weight": rng.uniform(-0.5, 0.5, (N_OUT, HIDDEN)),
        "head_bias": rng.uniform(-0.5, 0.5, N_OUT),
        "x": rng.normal(size=(BATCH, STEPS, N_IN)),
        "dy": rng.normal(size=(BATCH, STEPS, N_OUT)),
    }


def _torch_reference(kind: str) -> dict[str, Any]:
    import torch

    p = _problem(kind)
    torch.manual_seed(0)
    cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    rnn = cls(N_IN, HIDDEN, num_layers=2, batch_first=True).double()
    head = torch.nn.Linear(HIDDEN, N_OUT).double()
    with torch.no_grad():
        for l, layer in enumerate(p["layers"]):
            for name, value in layer.items():
                getattr(rnn, f"{name}_l{l}").copy_(torch.from_numpy(value))
        head.weight.copy_(torch.from_numpy(p["head_weight"]))
        head.bias.copy_(torch.from_numpy(p["head_bias"]))
    x = torch.from_numpy(p["x"]).requires_grad_(True)
    y = head(rnn(x)[0])
    y.backward(torch.from_numpy(p["dy"]))
    grads = [
        {name: getattr(rnn, f"{name}_l{l}").grad.numpy().tolist() for name in p["layers"][0]} for l in range(2)
    ]
    return {
        "outputs": y.detach().numpy().tolist(),
        "layers": grads,
        "head_weight": head.weight.grad.numpy().tolist(),
        "head_bias": head.bias.grad.numpy().tolist(),
        "x": x.grad.numpy().tolist(),
    }


def _torch_references() -> dict[str, Any]:
    return {k: _torch_reference(k) for k in ("lstm", "gru")}


def _reference(kind: str) -> dict[str, Any]:
    return torch_references.reference(REFERENCE, _torch_references)[kind]


def _nervenet(kind: str) -> tuple[np.ndarray, dict[str, Any]]:
    p = _problem(kind)
    g = nv.Graph()
    x = g.add_inputs(N_IN)
    add = g.add_lstm_layer if kind == "lstm" else g.add_gru_layer
    l0 = add(HIDDEN, x)
    l1 = add(HIDDEN, l0)
    y = g.add_outputs(N_OUT, bias=True)
    head = [[g.connect(h, o) for h in l1] for o in y]
    net = nv.Network(g, dtype="float64", seed=0)
    for units, inputs, layer in ((l0, x, p["layers"][0]), (l1, l0, p["layers"][1])):
        nv.interop.set_torch_weights(net, units, inputs, **layer)
    for o, row in enumerate(head):
        for h, e in enumerate(row):
            net.set_parameter(f"edge:{e}", p["head_weight"][o, h])
        net.set_parameter(f"node:{y[o]}:bias", p["head_bias"][o])
    out = net.forward(p["x"])
    grad, dx = net.backward(p["x"], p["dy"], input_grads=True)
    ours = {
        "layers": [nv.interop.torch_gradients(grad, net, l0, x), nv.interop.torch_gradients(grad, net, l1, l0)],
        "head_weight": np.array([[grad[net.parameter_names.index(f"edge:{e}")] for e in row] for row in head]),
        "head_bias": np.array([grad[net.parameter_names.index(f"node:{o}:bias")] for o in y]),
        "x": dx,
    }
    return out, ours


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_standard_layers_match_torch(kind: str) -> None:
    ref = _reference(kind)
    out, ours = _nervenet(kind)
    close = dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out, np.asarray(ref["outputs"]), **close)
    for l in range(2):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            np.testing.assert_allclose(ours["layers"][l][name], np.asarray(ref["layers"][l][name]), **close,
                                       err_msg=f"layer {l} {name}")
    np.testing.assert_allclose(ours["head_weight"], np.asarray(ref["head_weight"]), **close)
    np.testing.assert_allclose(ours["head_bias"], np.asarray(ref["head_bias"]), **close)
    np.testing.assert_allclose(ours["x"], np.asarray(ref["x"]), **close)


def test_layout_errors_name_the_problem() -> None:
    g = nv.Graph()
    x = g.add_inputs(2)
    units = g.add_lstm_layer(3, x)
    y = g.add_outputs(1)
    g.connect_all(units, y)
    net = nv.Network(g, dtype="float64")
    with pytest.raises(nv.ShapeError, match=r"weight_ih has shape \(4, 2\), expected \(12, 2\)"):
        nv.interop.set_torch_weights(net, units, x, np.zeros((4, 2)), np.zeros((12, 3)), np.zeros(12), np.zeros(12))
    with pytest.raises(nv.ConfigError, match="lstm_unit or all gru_unit"):
        nv.interop.torch_layout(net, y, x)


if __name__ == "__main__":  # regenerate the stored reference (needs torch)
    torch_references.write(REFERENCE, "tests/test_torch_layers.py", _torch_references)
