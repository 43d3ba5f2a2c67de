"""A fuzz suite for every reader of files: loaders, configs, model files
and graph JSON. Seeded byte-level mutations of small valid files
(``mutators``) are fed to each target's loader (``targets``) in a child
process with a memory budget (``runner``); every outcome must be success or
a NervenetError -- no crash, no other exception, no allocation over the
budget.

``tests/test_fuzz.py`` runs a few hundred inputs per target in CI;
``python benches/fuzz.py --per-target 20000`` is the long run, printing the
counts per target and outcome::

    from pathlib import Path
    from fuzzing import run

    report = run(["idx", "timeseries"], 200, Path("/tmp/fuzz"))
    print(report.table())
"""

from .runner import MEMORY_BUDGET, Report, run
from .targets import TARGETS

__all__ = ["MEMORY_BUDGET", "Report", "TARGETS", "run"]
