"""The fuzz suite in CI (issue 13, "Done when"): a few hundred mutated
inputs per target -- IDX (plain and gzip), CIFAR, time-series CSV (plain
and gzip), UCI tables and .names files, text, TOML configs, the CLI's
tables (CSV and NPZ), model files (raw bytes, and re-signed with a valid
checksum so the damage reaches the graph), graph JSON (read, then
built into a Network), `nervenet evolve`'s settings (read with their data
and seed graph) and genome logs -- each outcome
success or a NervenetError: no crash, no other exception, no allocation
over the budget (the inputs run in a child process limited to
fuzzing.MEMORY_BUDGET bytes of address space). The long run is
``python benches/fuzz.py --per-target 20000``."""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzzing import MEMORY_BUDGET, TARGETS, Report, run

PER_TARGET = 250


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return run(list(TARGETS), PER_TARGET, tmp_path_factory.mktemp("fuzz"), seed=13, memory_budget=MEMORY_BUDGET)


@pytest.mark.parametrize("target", list(TARGETS))
def test_every_mutated_input_loads_or_raises_a_nervenet_error(report: Report, target: str) -> None:
    counts = report.counts[target]
    assert sum(counts.values()) == PER_TARGET, counts
    failures = [f for f in report.failures if f.target == target]
    assert not failures, (
        f"{len(failures)} of {PER_TARGET} inputs for {target!r} ended in neither success nor a NervenetError "
        f"(outcomes {dict(counts)}):\n" + "\n".join(f"#{f.index}: {f.message} (input: {f.saved})" for f in failures[:10])
    )


def test_the_fuzzer_reaches_past_the_first_check(report: Report) -> None:
    # Mutations that always fail the same first check would test nothing: every
    # target sees some inputs that load and some that are refused -- but raw
    # model files, whose checksum rejects every changed byte (model-resigned
    # goes past it).
    for target, counts in report.counts.items():
        assert counts["ok"] < PER_TARGET, (target, dict(counts))
        assert counts["ok"] > 0 or target == "model", (target, dict(counts))


def test_a_crash_or_a_foreign_exception_is_reported(tmp_path: Path) -> None:
    """The runner itself (fuzzing.selftest's target aborts on seed a, raises
    IndexError on seed b, loads seed c): both failures come back with their
    input saved, and the run goes on to the last input."""
    got = run(["selftest"], 6, tmp_path, modules=["fuzzing.selftest"])
    counts = got.counts["selftest"]
    assert sum(counts.values()) == 6 and counts["ok"] > 0, dict(counts)
    assert {f.outcome for f in got.failures} == {"crash:SIGABRT", "other:IndexError"}, got.summary()
    assert len(got.failures) == 6 - counts["ok"]
    assert all(Path(f.saved).read_bytes()[:1] in (b"a", b"b") for f in got.failures)
