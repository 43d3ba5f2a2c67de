"""fit(truncate=k): truncated BPTT over windows of k steps carrying the
recurrent state from window to window, reset between sequences; the same as
stepping by hand with loss_and_gradient(state=...)."""

import numpy as np
import pytest

import nervenet as nv


def _net(seed=0):
    g = nv.rnn.elman(2, 4, 1, activation="tanh")
    return nv.Network(g, dtype="float64", seed=seed)


def _data(batch=3, steps=12, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(batch, steps, 2))
    Y = np.sin(np.cumsum(X[..., :1], axis=1))
    return X, Y


def test_truncated_fit_equals_windows_by_hand():
    X, Y = _data()
    lr, k = 0.05, 5
    fitted = _net()
    fitted.fit(X, Y, loss="mse", optimizer=nv.optim.SGD(lr), batch_size=0, epochs=2, shuffle=False,
               truncate=k, verbose=0)
    manual = _net()
    for _ in range(2):
        state = None
        for t0 in range(0, X.shape[1], k):
            w = slice(t0, t0 + k)
            _, grad, state = manual.loss_and_gradient(X[:, w], Y[:, w], "mse", reduction="mean", state=state,
                                                      return_state=True)
            manual.parameters = manual.parameters - lr * grad
    np.testing.assert_allclose(fitted.parameters, manual.parameters, rtol=1e-12, atol=1e-14)


def test_truncate_longer_than_the_sequence_is_whole_bptt():
    X, Y = _data(steps=6)
    a, b = _net(), _net()
    a.fit(X, Y, loss="mse", optimizer=nv.optim.SGD(0.05), batch_size=2, epochs=1, shuffle=False, verbose=0)
    h = b.fit(X, Y, loss="mse", optimizer=nv.optim.SGD(0.05), batch_size=2, epochs=1, shuffle=False,
              truncate=100, verbose=0)
    np.testing.assert_array_equal(a.parameters, b.parameters)
    assert len(h["loss"]) == 1


def test_windows_differ_from_whole_sequences():
    X, Y = _data()
    a, b = _net(), _net()
    a.fit(X, Y, loss="mse", optimizer=nv.optim.SGD(0.05), batch_size=0, epochs=1, shuffle=False, verbose=0)
    b.fit(X, Y, loss="mse", optimizer=nv.optim.SGD(0.05), batch_size=0, epochs=1, shuffle=False, truncate=4,
          verbose=0)
    assert not np.allclose(a.parameters, b.parameters)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_bad_truncate(bad):
    X, Y = _data()
    with pytest.raises(nv.ConfigError, match="truncate"):
        _net().fit(X, Y, loss="mse", epochs=1, truncate=bad, verbose=0)
