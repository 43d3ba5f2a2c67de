"""A CNN's outputs and gradients (f64) equal PyTorch's functional ops given
the same weights: filters with padding and stride, untied and tied biases,
max and average pooling, a residual identity, a 1x1 filter and the
flattening edges into the outputs.

With torch installed the reference is computed live (and every stored value
is checked against it); without torch the values stored in
tests/data/torch_cnn.json stand in (see torch_references.py;
``python tests/test_cnn_torch.py`` rewrites them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import nervenet as nv
import torch_references

REFERENCE = "torch_cnn.json"
# Every trainable tensor of the network, by its name in torch's computation.
SHAPES = {
    "w1": (4, 3, 3, 3), "b1": (4, 10, 10), "wq": (4, 4, 1, 1), "w2": (4, 4, 3, 3), "b2": (4,),
    "w3": (6, 4, 3, 3), "b3": (6,), "wo": (5, 6),
}  # fmt: skip


def _problem() -> dict[str, np.ndarray]:
    """Weights, inputs and targets, drawn from a fixed seed."""
    rng = np.random.default_rng(0)
    p = {name: rng.uniform(-0.5, 0.5, shape) for name, shape in SHAPES.items()}
    p["X"], p["Y"] = rng.normal(size=(3, 3, 10, 10)), rng.normal(size=(3, 5))
    return p


def _torch_reference() -> dict[str, Any]:
    import torch

    F = torch.nn.functional
    p = _problem()
    t = {name: torch.from_numpy(p[name]).requires_grad_() for name in SHAPES}
    X = torch.from_numpy(p["X"]).requires_grad_()
    h = F.relu(F.conv2d(X, t["w1"], padding=1) + t["b1"])
    pooled = F.max_pool2d(h, 2)
    h = torch.tanh(F.conv2d(F.conv2d(pooled, t["wq"]), t["w2"], t["b2"], padding=1) + pooled)
    h = torch.sigmoid(F.conv2d(h, t["w3"], t["b3"], stride=2))
    z = F.avg_pool2d(h, 2).flatten(1) @ t["wo"].T
    loss = ((z - torch.from_numpy(p["Y"])) ** 2).mean(1).sum()  # nervenet's mse, reduction sum
    loss.backward()
    return {
        "outputs": z.detach().numpy().tolist(),
        "loss": loss.item(),
        "gradients": {name: t[name].grad.numpy().tolist() for name in SHAPES},
        "x": X.grad.numpy().tolist(),
    }


def _nervenet() -> tuple[nv.Network, dict[str, str]]:
    """The network of ``_torch_reference`` with ``_problem``'s weights, and
    the parameter group of each torch tensor."""
    g = nv.Graph()
    x = g.add_feature_map(3, 10, 10, role="input")
    c1 = g.add_feature_map(4, 10, 10)  # relu, untied
    e1 = g.connect_filter(x, c1, 3, padding=1)
    p1 = g.add_feature_map(4, 5, 5, activation="identity", bias=False)
    g.connect_pool(c1, p1, "max", 2)
    q = g.add_feature_map(4, 5, 5, activation="identity", bias=False)
    eq = g.connect_filter(p1, q, 1)  # 1x1 filter
    c2 = g.add_feature_map(4, 5, 5, activation="tanh", untied_bias=False)
    e2 = g.connect_filter(q, c2, 3, padding=1)
    g.identity(p1, c2)  # residual: tanh(conv(q) + b + p1)
    c3 = g.add_feature_map(6, 2, 2, activation="sigmoid", untied_bias=False)
    e3 = g.connect_filter(c2, c3, 3, stride=2)
    p3 = g.add_feature_map(6, 1, 1, activation="identity", bias=False)
    g.connect_pool(c3, p3, "avg", 2)
    outs = g.add_outputs(5)
    flatten = g.connect_all([p3], outs)  # one edge of 6 weights per output
    groups = {
        "w1": f"edge:{e1}", "b1": f"node:{c1}:bias", "wq": f"edge:{eq}", "w2": f"edge:{e2}",
        "b2": f"node:{c2}:bias", "w3": f"edge:{e3}", "b3": f"node:{c3}:bias",
    }  # fmt: skip
    net = nv.Network(g, dtype="float64", seed=4)
    p = _problem()
    for name, group in groups.items():
        net.set_group(group, p[name])
    for o, e in enumerate(flatten):
        net.set_group(f"edge:{e}", p["wo"][o])
    assert sum(np.prod(s) for s in SHAPES.values()) == net.trainable.sum()  # every trainable one is set
    return net, groups | {f"wo[{o}]": f"edge:{e}" for o, e in enumerate(flatten)}


def test_cnn_matches_torch() -> None:
    ref = torch_references.reference(REFERENCE, _torch_reference)
    net, groups = _nervenet()
    p = _problem()
    X, Y = p["X"], p["Y"]
    out = net.forward(X)
    np.testing.assert_allclose(out, ref["outputs"], rtol=1e-12, atol=1e-12)
    loss, grad = net.loss_and_gradient(X, Y, "mse")
    assert loss == pytest.approx(ref["loss"], rel=1e-12)
    by_group = {g.name: grad[g.start : g.stop] for g in net.groups}
    close = dict(rtol=1e-10, atol=1e-12)
    for name in SHAPES:
        want = np.asarray(ref["gradients"][name])
        if name == "wo":  # one flattening edge per output
            got = np.stack([by_group[groups[f"wo[{o}]"]] for o in range(want.shape[0])])
        else:
            got = by_group[groups[name]].reshape(want.shape)
        np.testing.assert_allclose(got, want, **close, err_msg=name)
    # dL/dX through the vector-Jacobian product with the mse's output gradient.
    _, dx = net.backward(X, 2 * (out - Y) / Y.shape[1], input_grads=True)
    np.testing.assert_allclose(dx.reshape(X.shape), ref["x"], **close)


if __name__ == "__main__":  # regenerate the stored reference (needs torch)
    torch_references.write(REFERENCE, "tests/test_cnn_torch.py", _torch_reference)
