"""nervenet and PyTorch, both ways.

- :func:`from_torch` builds the network of an ``nn.Sequential`` (Linear,
  Conv2d, MaxPool2d, AvgPool2d, Flatten, activations) or an
  ``nn.LSTM`` / ``nn.GRU`` (with a Linear head) and copies its weights;
- :func:`to_torch` gives the torch module of such a network, weights
  copied;
- :func:`torch_layout`, :func:`set_torch_weights`,
  :func:`torch_gradients` map one standard LSTM/GRU layer's tensors to the
  flat parameter vector, without torch.

torch is imported only by the functions that need it.
"""

from .torch_in import from_torch
from .layout import TorchLayout, set_torch_weights, torch_gradients, torch_layout
from .torch_out import to_torch

__all__ = ["from_torch", "to_torch", "TorchLayout", "torch_layout", "set_torch_weights", "torch_gradients"]
