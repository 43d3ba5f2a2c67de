"""Training: the fit loop, optimisers and schedules, history, callbacks."""

from .callbacks import Callback, EarlyStopping, ProgressBar
from .history import History

__all__ = ["Callback", "EarlyStopping", "History", "ProgressBar"]
