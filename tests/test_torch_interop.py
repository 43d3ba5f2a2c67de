"""Issue 16, item 3: PyTorch both ways. ``nv.interop.from_torch`` builds
the network of a torch module and copies its weights, ``to_torch`` gives a
network's torch module; PyTorch is the judge: outputs equal in float64 to
1e-12, both ways. torch is an optional dependency: without it this file is
skipped."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import nervenet as nv  # noqa: E402
from nervenet.errors import ShapeError, UnsupportedError  # noqa: E402

RNG = np.random.default_rng(0)


def _torch_out(model, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def _same(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def _both_ways(model, x: np.ndarray, input_shape=None) -> nv.Network:
    """from_torch(model) computes what model does, and so does to_torch of that network."""
    model = model.double().eval()
    net = nv.interop.from_torch(model, input_shape)
    want = _torch_out(model, x)
    _same(net.forward(x), want)
    back = nv.interop.to_torch(net)
    _same(_torch_out(back, x), want)
    return net


def _randomise(model) -> None:
    """Weights and biases far from torch's small defaults, so a misplaced one shows."""
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-0.8, 0.8)


ACTIVATIONS = [nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.LeakyReLU(0.2), nn.ReLU6(), nn.Softsign(), nn.Identity()]


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: type(a).__name__)
def test_mlp_with_every_activation(act) -> None:
    model = nn.Sequential(nn.Linear(4, 7), act, nn.Linear(7, 5, bias=False), nn.Tanh(), nn.Linear(5, 3))
    _randomise(model)
    net = _both_ways(model, RNG.normal(size=(6, 4)) * 3)
    assert net.n_params == sum(p.numel() for p in model.parameters())


def test_cnn_conv_pool_flatten_linear() -> None:
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=2), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(6, 8), nn.LeakyReLU(0.1), nn.Linear(8, 5),
    )  # fmt: skip
    _randomise(model)
    net = _both_ways(model, RNG.normal(size=(3, 3, 10, 10)), input_shape=(3, 10, 10))
    assert net.n_params == sum(p.numel() for p in model.parameters())


def test_non_square_kernel_and_pool() -> None:
    model = nn.Sequential(nn.Conv2d(2, 3, (3, 1)), nn.Sigmoid(), nn.MaxPool2d((2, 3)), nn.Flatten(), nn.Linear(3 * 2 * 2, 2))
    _randomise(model)
    _both_ways(model, RNG.normal(size=(2, 2, 6, 6)), input_shape=(2, 6, 6))


class Head(nn.Module):
    """What a PyTorch user writes: a recurrent layer and a linear head on every step."""

    def __init__(self, rnn, n_out: int) -> None:
        super().__init__()
        self.lstm, self.linear = rnn, nn.Linear(rnn.hidden_size, n_out)

    def forward(self, x):
        return self.linear(self.lstm(x)[0])


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
@pytest.mark.parametrize("layers", [1, 2])
def test_recurrent_layers_with_a_head(cls, layers: int) -> None:
    model = Head(cls(3, 5, num_layers=layers, batch_first=True), 2)
    _randomise(model)
    net = _both_ways(model, RNG.normal(size=(4, 7, 3)))
    assert net.n_outputs == 2


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
def test_recurrent_layer_alone(cls) -> None:
    rnn = cls(2, 4, batch_first=True, bias=False).double()
    _randomise(rnn)
    net = nv.interop.from_torch(rnn)
    x = RNG.normal(size=(3, 6, 2))
    _same(net.forward(x), _torch_out(lambda t: rnn(t)[0], x))
    _same(_torch_out(nv.interop.to_torch(net), x), net.forward(x))


def test_nervenet_builders_to_torch() -> None:
    """Networks made in nervenet go out: an MLP (outputs without bias), standard layers."""
    for graph, x in (
        (nv.mlp([4, 6, 6, 3], "relu"), RNG.normal(size=(5, 4))),
        (nv.rnn.lstm_layers(3, [4, 4], 2), RNG.normal(size=(2, 5, 3))),
        (nv.rnn.gru_layers(3, 4, 2, output_activation="sigmoid"), RNG.normal(size=(2, 5, 3))),
    ):
        net = nv.Network(graph, dtype="float64", seed=3)
        net.parameters = RNG.uniform(-1, 1, net.n_params)
        model = nv.interop.to_torch(net)
        _same(_torch_out(model, x), net.forward(x))
        _same(nv.interop.from_torch(model).forward(x), net.forward(x))


def test_missing_edges_become_zero_weights() -> None:
    g = nv.mlp([3, 4, 2], "tanh")
    g.remove_edge(g.find_edge(0, 3))
    net = nv.Network(g, dtype="float64", seed=1)
    model = nv.interop.to_torch(net)
    assert model[0].weight[0, 0].item() == 0.0
    x = RNG.normal(size=(3, 3))
    _same(_torch_out(model, x), net.forward(x))


def test_float32_networks_give_float32_modules() -> None:
    net = nv.Network(nv.mlp([2, 3, 1]), seed=0)
    assert next(nv.interop.to_torch(net).parameters()).dtype == torch.float32


@pytest.mark.parametrize("model, named", [
    (nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 1)), "Dropout"),
    (nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 1)), "GELU"),
    (nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Tanh(), nn.Linear(4, 1)), "Tanh"),
    (nn.Sequential(nn.Conv2d(1, 2, 3)), "must end in a Linear"),
    (nn.Sequential(nn.Conv2d(1, 2, 2, stride=2), nn.Flatten(), nn.Linear(2 * 2 * 2, 1)), "not whole"),
    (nn.Sequential(nn.Conv2d(1, 2, 3, dilation=2), nn.Flatten(), nn.Linear(2, 1)), "dilation"),
    (nn.LSTM(2, 3, bidirectional=True), "bidirectional"),
    (nn.Embedding(3, 2), "Embedding"),
])  # fmt: skip
def test_unsupported_modules_are_named(model, named: str) -> None:
    with pytest.raises(UnsupportedError, match=named):
        nv.interop.from_torch(model, input_shape=(1, 5, 5))


def test_linear_sizes_must_chain() -> None:
    with pytest.raises(ShapeError, match="takes 5 features but the layer before gives 4"):
        nv.interop.from_torch(nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 1)))


def test_unsupported_graphs_name_the_edge_or_node() -> None:
    g = nv.mlp([2, 3, 1])
    skip = g.connect(0, 5)
    with pytest.raises(UnsupportedError, match=f"edge {skip} .*skips"):
        nv.interop.to_torch(nv.Network(g, seed=0))
    with pytest.raises(UnsupportedError, match="recurrent"):
        nv.interop.to_torch(nv.Network(nv.rnn.elman(2, 3, 1), seed=0))
    g = nv.Graph()
    x = g.add_inputs(2)
    cell = g.add_cells(1, "lstm")
    g.connect_all(x, cell)
    g.connect_all(cell, g.add_outputs(1))
    with pytest.raises(UnsupportedError, match=f"node {cell[0]} is a lstm cell"):
        nv.interop.to_torch(nv.Network(g, seed=0))


def test_the_module_examples_run() -> None:
    import doctest

    from nervenet.interop import torch_in, torch_out

    for module in (torch_in, torch_out):
        result = doctest.testmod(module)
        assert result.attempted >= 4 and result.failed == 0, module.__name__
