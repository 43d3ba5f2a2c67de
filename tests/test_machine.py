"""nv.machine: the CPU model and the measured FMA ceiling benchmark reports print."""

import pytest

import nervenet as nv


def test_cpu_model_is_named():
    name = nv.machine.cpu_model()
    assert isinstance(name, str) and name.strip()


def test_fma_ceiling_is_a_positive_rate_and_width():
    gflops, lanes = nv.machine.fma_ceiling(0.02)
    assert gflops > 0.1
    assert lanes in (1, 2, 4, 8, 16, 32)
    assert "GFLOP/s" in nv.machine.describe(0.02)


@pytest.mark.parametrize("seconds", [0, -1, float("nan"), "1", 1000])
def test_bad_durations_are_config_errors(seconds):
    with pytest.raises(nv.ConfigError, match="seconds"):
        nv.machine.fma_ceiling(seconds)
