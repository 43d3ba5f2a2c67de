"""The record of a training run: one entry per epoch for every quantity
(loss, metrics, validation metrics, learning rate, gradient norm,
update/weight ratio), and a plot of the curves."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

__all__ = ["History"]


@dataclass
class History:
    """``history["loss"]`` is the list of per-epoch training losses; keys of
    validation metrics start with ``val_``."""

    epochs: list[int] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=dict)

    def record(self, epoch: int, entries: dict[str, float]) -> None:
        self.epochs.append(epoch)
        for key, value in entries.items():
            self.values.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        try:
            return self.values[key]
        except KeyError:
            raise KeyError(f"no {key!r} in this history; it has {sorted(self.values)}") from None

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def last(self) -> dict[str, float]:
        return {k: v[-1] for k, v in self.values.items() if v}

    def to_json(self) -> str:
        return json.dumps({"epochs": self.epochs, "values": self.values})

    @classmethod
    def from_json(cls, text: str) -> "History":
        d = json.loads(text)
        return cls(epochs=list(d["epochs"]), values={k: list(v) for k, v in d["values"].items()})

    def __repr__(self) -> str:
        # One line however long the run: the epoch count and the last values.
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.last().items())
        n = len(self.epochs)
        return f"History({n} epoch{'' if n == 1 else 's'}{'; last: ' + last if last else ''})"

    def figure(self) -> Any:
        """The curves as a matplotlib Figure: loss (and accuracy, if
        recorded) per epoch, training and validation, one marker per epoch
        (so a one-epoch run shows a point), epochs counted from 1 on an
        integer axis.

        >>> import nervenet as nv
        >>> h = nv.History(); h.record(0, {"loss": 0.5})
        >>> h.figure().axes[0].lines[0].get_xdata().tolist()
        [1]
        """
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        panels = [k for k in ("loss", "accuracy") if k in self.values]
        fig, axes = plt.subplots(1, max(len(panels), 1), figsize=(5 * max(len(panels), 1), 3.5), squeeze=False)
        x = [e + 1 for e in self.epochs]  # History counts epochs from 0, people from 1
        for ax, key in zip(axes[0], panels):
            ax.plot(x, self.values[key], marker="o", label=f"train {key}")
            if f"val_{key}" in self.values:
                ax.plot(x, self.values[f"val_{key}"], marker="s", label=f"validation {key}")
            ax.set_xlabel("epoch")
            ax.set_ylabel(key)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
            ax.legend()
        fig.tight_layout()
        return fig

    def plot(self, path: Union[str, Path]) -> Path:
        """Draws :meth:`figure` to a PNG file; returns its path."""
        import matplotlib.pyplot as plt

        fig = self.figure()
        path = Path(path)
        try:
            fig.savefig(path)
        finally:
            plt.close(fig)
        return path
