"""Where the driver's time goes: seconds by part of its work, for the
run's result and ``benches/evolution_driver.py``.

>>> costs = Costs()
>>> with costs.part("insertion"):
...     with costs.part("checkpoint"):  # timed inside insertion, counted once
...         pass
>>> sorted(costs.seconds)
['checkpoint', 'generation', 'insertion']
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])

#: The parts timed: making genomes (operators, crossover, their JSON);
#: taking results into the islands (and the best genome's model file);
#: the snapshot and the journal. The rest of the driver's time is
#: bookkeeping (the log, the progress bar, handing jobs to the backend).
PARTS = ("generation", "insertion", "checkpoint")


class Costs:
    """Seconds by part, each without the parts timed inside it."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(PARTS, 0.0)
        self._inner: list[float] = []  # seconds of parts inside each open one

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        began = time.perf_counter()
        self._inner.append(0.0)
        try:
            yield
        finally:
            took = time.perf_counter() - began
            self.seconds[name] += took - self._inner.pop()
            if self._inner:
                self._inner[-1] += took


def timed(name: str) -> Callable[[F], F]:
    """A method decorator: its calls count as part ``name`` of ``self.costs``."""
    def wrap(method: F) -> F:
        @functools.wraps(method)
        def timed_method(self: Any, *args: Any, **kwargs: Any) -> Any:
            with self.costs.part(name):
                return method(self, *args, **kwargs)
        return cast(F, timed_method)
    return wrap
