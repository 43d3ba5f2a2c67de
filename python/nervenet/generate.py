"""Sampling text from a trained language model, one token at a time.

The network reads one-hot tokens (``n_inputs == len(vocabulary)``) and
gives one score per token (``n_outputs == len(vocabulary)``, trained with
``loss="softmax"``). :func:`generate` feeds each sampled token back as the
next input. By default (``window=None``) it runs the prime once and then
one step per token, passing the network's recurrent state on
(``Network.forward(..., state=..., return_state=True)``), which is exactly
a run over the whole growing sequence at a cost linear in its length.
With ``window=k`` each step instead re-runs only the last ``k`` tokens
from a zero state, as in training on k-token chunks.

    text = generate(net, vocab, "ROMEO:", 200, temperature=0.8, seed=0)
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ._checks import integer, real, seed as _seed
from .data.text import Vocabulary
from .errors import ConfigError, DataError
from .network import Network

__all__ = ["generate"]


def _prime_ids(prime: Any, vocab: Vocabulary) -> np.ndarray:
    if isinstance(prime, str):
        if not prime:
            raise ConfigError("prime is empty; give at least one token to start from")
        try:
            ids = vocab.encode(prime)
        except DataError as e:
            raise ConfigError(f"prime: {e}") from None
    else:
        arr = np.asarray(prime)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise ConfigError(f"prime must be a string or a 1-D sequence of token ids, got {prime!r}")
        ids = arr.astype(np.int64)
        bad = (ids < 0) | (ids >= len(vocab))
        if bad.any():
            i = int(np.argmax(bad))
            raise ConfigError(f"prime[{i}] = {int(ids[i])} is not a token id of a {len(vocab)}-token vocabulary")
    if ids.size == 0:
        raise ConfigError("prime holds no tokens; give at least one token to start from")
    return ids


def _pick(scores: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """argmax at temperature 0, else a draw from softmax(scores / temperature)."""
    z = scores.astype(np.float64)
    if temperature == 0.0:
        return int(np.argmax(z))
    z = (z - z.max()) / temperature
    p = np.exp(z)
    p /= p.sum()
    return int(rng.choice(len(p), p=p))


def generate(
    net: Network,
    vocab: Vocabulary,
    prime: Any,
    length: int,
    temperature: float = 1.0,
    seed: int = 0,
    *,
    window: Optional[int] = None,
) -> str:
    """``length`` tokens sampled after ``prime``, decoded to text (the prime
    itself is not included).

    ``prime``: a string (encoded with ``vocab``) or a 1-D sequence of token
    ids, at least one token. Each step samples the next token from
    ``softmax(z / temperature)`` of the network's last output z, with a
    ``numpy.random.default_rng(seed)`` Generator (the same arguments give
    the same text); ``temperature=0`` takes the most likely token (argmax,
    the lowest id on a tie) and draws no random numbers. ``window``: None
    runs the prime once and then one step per token, carrying the
    network's recurrent state (exact, linear in the length); an int k
    re-runs only the last k tokens from a zero state each step (see the
    module docstring).

    Raises ConfigError for a network whose inputs or outputs do not match
    the vocabulary's size, an empty prime or one with tokens the vocabulary
    lacks, a negative length, a negative or non-finite temperature, a bad
    seed or window.
    """
    if not isinstance(net, Network):
        raise ConfigError(f"net must be a nervenet.Network, got {type(net).__name__}")
    if not isinstance(vocab, Vocabulary):
        raise ConfigError(f"vocab must be a nervenet.data.Vocabulary, got {type(vocab).__name__}")
    V = len(vocab)
    if net.n_inputs != V or net.n_outputs != V:
        raise ConfigError(
            f"the network has {net.n_inputs} inputs and {net.n_outputs} outputs but the vocabulary has {V} tokens; "
            "generate feeds one-hot tokens in and reads one score per token out"
        )
    ids = _prime_ids(prime, vocab)
    length = integer(length, "length", 0)
    temperature = real(temperature, "temperature (0: always the most likely token)", 0)
    rng = np.random.default_rng(_seed(seed))
    if window is not None:
        window = integer(window, "window", 1)

    total = len(ids) + length
    x = np.zeros((1, total, V), dtype=net.dtype)  # one-hot of the sequence so far
    x[0, np.arange(len(ids)), ids] = 1
    out = np.empty(length, dtype=np.int64)
    t = len(ids)
    state = None
    for k in range(length):
        if window is not None:
            scores = net.forward(x[:, max(0, t - window) : t])[0, -1]
        elif state is None:  # the prime, once
            outputs, state = net.forward(x[:, :t], return_state=True)
            scores = outputs[0, -1]
        else:  # the last token, continuing from the state
            outputs, state = net.forward(x[:, t - 1 : t], state=state, return_state=True)
            scores = outputs[0, -1]
        token = _pick(scores, temperature, rng)
        out[k] = token
        x[0, t, token] = 1
        t += 1
    return vocab.decode(out)
