"""A CNN's outputs and gradients (f64) equal PyTorch's functional ops given
the same weights: filters with padding and stride, untied and tied biases,
max and average pooling, a residual identity, flattening. Skipped without
torch (the engine's own FD checks run everywhere)."""

import numpy as np
import pytest

import nervenet as nv

torch = pytest.importorskip("torch")
F = torch.nn.functional


def test_cnn_matches_torch_functional():
    g = nv.Graph()
    x = g.add_feature_map(3, 10, 10, role="input")
    c1 = g.add_feature_map(4, 10, 10)                                  # relu, untied
    e1 = g.connect_filter(x, c1, 3, padding=1)
    p1 = g.add_feature_map(4, 5, 5, activation="identity", bias=False)
    g.connect_pool(c1, p1, "max", 2)
    q = g.add_feature_map(4, 5, 5, activation="identity", bias=False)
    eq = g.connect_filter(p1, q, 1)                                    # 1x1 filter
    c2 = g.add_feature_map(4, 5, 5, activation="tanh", untied_bias=False)
    e2 = g.connect_filter(q, c2, 3, padding=1)
    g.identity(p1, c2)                                                 # residual: tanh(conv(q) + b + p1)
    c3 = g.add_feature_map(6, 2, 2, activation="sigmoid", untied_bias=False)
    e3 = g.connect_filter(c2, c3, 3, stride=2)
    p3 = g.add_feature_map(6, 1, 1, activation="identity", bias=False)
    g.connect_pool(c3, p3, "avg", 2)
    outs = g.add_outputs(5)
    g.connect_all([p3], outs)
    net = nv.Network(g, dtype="float64", seed=4)
    v = dict(zip(net.parameter_names, net.parameters))
    def t(names, shape):
        return torch.tensor([v[n] for n in names], dtype=torch.float64).reshape(shape).requires_grad_()

    w1 = t([f"edge:{e1}[{k}]" for k in range(4 * 3 * 9)], (4, 3, 3, 3))
    b1 = t([f"node:{c1}:bias[{k}]" for k in range(400)], (4, 10, 10))
    wq = t([f"edge:{eq}[{k}]" for k in range(16)], (4, 4, 1, 1))
    w2 = t([f"edge:{e2}[{k}]" for k in range(4 * 4 * 9)], (4, 4, 3, 3))
    b2 = t([f"node:{c2}:bias[{k}]" for k in range(4)], (4,))
    w3 = t([f"edge:{e3}[{k}]" for k in range(6 * 4 * 9)], (6, 4, 3, 3))
    b3 = t([f"node:{c3}:bias[{k}]" for k in range(6)], (6,))
    edges = {(g.edge(e)["src"], g.edge(e)["dst"]): e for e in g.edge_ids()}
    wo = t([f"edge:{edges[(p3, o)]}[{k}]" for o in outs for k in range(6)], (5, 6))

    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(3, 3, 10, 10)), rng.normal(size=(3, 5))
    h = F.relu(F.conv2d(torch.from_numpy(X), w1, padding=1) + b1)
    p = F.max_pool2d(h, 2)
    h = torch.tanh(F.conv2d(F.conv2d(p, wq), w2, b2, padding=1) + p)
    h = torch.sigmoid(F.conv2d(h, w3, b3, stride=2))
    z = F.avg_pool2d(h, 2).flatten(1) @ wo.T
    loss = ((z - torch.from_numpy(Y)) ** 2).mean(1).sum()               # nervenet's mse, reduction sum
    loss.backward()

    np.testing.assert_allclose(net.forward(X), z.detach().numpy(), rtol=1e-12, atol=1e-12)
    ours, grad = net.loss_and_gradient(X, Y, "mse")
    assert ours == pytest.approx(loss.item(), rel=1e-12)
    got = dict(zip(net.parameter_names, grad))
    for names, tensor in [
        ([f"edge:{e1}[{k}]" for k in range(108)], w1), ([f"node:{c1}:bias[{k}]" for k in range(400)], b1),
        ([f"edge:{eq}[{k}]" for k in range(16)], wq), ([f"edge:{e2}[{k}]" for k in range(144)], w2), ([f"node:{c2}:bias[{k}]" for k in range(4)], b2),
        ([f"edge:{e3}[{k}]" for k in range(216)], w3), ([f"node:{c3}:bias[{k}]" for k in range(6)], b3),
    ]:
        np.testing.assert_allclose([got[n] for n in names], tensor.grad.numpy().ravel(), rtol=1e-10, atol=1e-12)
