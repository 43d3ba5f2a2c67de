"""The record of a training run: one entry per epoch for every quantity
(loss, metrics, validation metrics, learning rate, gradient norm,
update/weight ratio), and a plot of the curves."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

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

    def plot(self, path: Union[str, Path]) -> Path:
        """Draws loss (and accuracy, if recorded) per epoch to a PNG file."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        panels = [k for k in ("loss", "accuracy") if k in self.values]
        fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.5), squeeze=False)
        for ax, key in zip(axes[0], panels):
            ax.plot(self.epochs, self.values[key], label=f"train {key}")
            if f"val_{key}" in self.values:
                ax.plot(self.epochs, self.values[f"val_{key}"], label=f"validation {key}")
            ax.set_xlabel("epoch")
            ax.set_ylabel(key)
            ax.legend()
        fig.tight_layout()
        path = Path(path)
        fig.savefig(path)
        plt.close(fig)
        return path
