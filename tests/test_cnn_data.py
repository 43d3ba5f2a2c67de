"""Input-node padding for CNNs (notes: zeros or Gaussian noise) and feeding
images to a network whose input is a feature map."""

import numpy as np
import pytest

import nervenet as nv


def test_zero_padding_matches_the_notes_figure():
    # The notes' 5x5 X, zero-padded by 2 to 9x9.
    x = np.array([[255 if i == j or i + j == 4 else 0 for j in range(5)] for i in range(5)], dtype=np.uint8)
    p = nv.data.pad_images(x, 2)
    assert p.shape == (9, 9) and p.dtype == np.float32
    assert (p[2:7, 2:7] == x).all()
    assert p[:2].sum() == 0 and p[:, :2].sum() == 0 and p[7:].sum() == 0 and p[:, 7:].sum() == 0


def test_noise_padding_is_seeded_and_keeps_the_image():
    x = np.ones((3, 2, 4, 4))
    a = nv.data.pad_images(x, 1, "noise", std=0.5, seed=3)
    b = nv.data.pad_images(x, 1, "noise", std=0.5, seed=3)
    c = nv.data.pad_images(x, 1, "noise", std=0.5, seed=4)
    assert a.shape == (3, 2, 6, 6) and a.dtype == np.float64
    assert (a == b).all() and not (a == c).all()
    assert (a[..., 1:5, 1:5] == 1).all()
    border = np.concatenate([a[..., 0, :].ravel(), a[..., -1, :].ravel()])
    assert 0.2 < border.std() < 0.9 and abs(border.mean()) < 0.3


@pytest.mark.parametrize("kwargs, err", [
    ({"pad": -1}, nv.ConfigError),
    ({"pad": 1.5}, nv.ConfigError),
    ({"pad": 1, "mode": "reflect"}, nv.ConfigError),
    ({"pad": 1, "mode": "noise", "std": -1.0}, nv.ConfigError),
])
def test_bad_padding_options(kwargs, err):
    with pytest.raises(err):
        nv.data.pad_images(np.zeros((4, 4)), **kwargs)


def test_padding_needs_2d_images():
    with pytest.raises(nv.ShapeError, match="height, width"):
        nv.data.pad_images(np.zeros(4), 1)
