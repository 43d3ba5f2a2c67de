"""scikit-learn's 8x8 digits: it ships with scikit-learn, so examples (the
CLI's built-in one) run on a fresh machine without data files."""

from __future__ import annotations

import numpy as np

from .uci import Table

__all__ = ["load_digits"]


def load_digits() -> Table:
    """1797 images of 8x8 pixels valued 0..16 (``X`` float64, 64 columns),
    labels 0..9 (``y`` int64, ``classes`` "0".."9")."""
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    return Table(np.asarray(d.data, dtype=np.float64), np.asarray(d.target, dtype=np.int64),
                 [str(c) for c in range(10)], list(d.feature_names))
