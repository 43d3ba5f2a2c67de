"""What this machine is and what one core can do at most: the yardstick
benchmark reports hold their numbers against.

    >>> import nervenet as nv
    >>> nv.machine.cpu_model()            # doctest: +SKIP
    'AMD EPYC 9R45'
    >>> gflops, lanes = nv.machine.fma_ceiling()   # doctest: +SKIP
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from . import _core
from ._checks import real

__all__ = ["cpu_model", "fma_ceiling", "describe"]


def cpu_model() -> str:
    """The CPU's model name as the operating system reports it."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def fma_ceiling(seconds: float = 0.2) -> tuple[float, int]:
    """Measures the calling core's f32 fused multiply-add rate.

    Returns ``(gflops, lanes)``: the best rate in GFLOP/s over about
    ``seconds`` of independent FMA chains at the widest vector width the
    CPU offers (the one nervenet's kernels use), and that width in f32
    lanes (16 for AVX-512, 8 for AVX2). A kernel's share of this number is
    how close it runs to the machine's limit."""
    seconds = real(seconds, "seconds", 1e-3, 60.0)
    return _core.fma_ceiling(seconds)


def describe(seconds: float = 0.2) -> str:
    """One line for a benchmark report: CPU model, cores, the measured f32
    FMA ceiling per core and its vector width."""
    gflops, lanes = fma_ceiling(seconds)
    return (f"{cpu_model()}, {os.cpu_count()} cores, measured f32 FMA ceiling "
            f"{gflops:.0f} GFLOP/s per core ({lanes} lanes)")
