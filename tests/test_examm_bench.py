"""benches/examm_evolution.py without EXAMM: the examm_mt command lines it
builds (the published coal run, the 280 x 500-step throughput files) and its
parser, on a transcript of a real examm_mt run (2 islands of 2, 8 genomes,
1 epoch; EXAMM commit 05057356) with one genome added whose gradients went
non-finite (it starts, prints no epoch and no "completed").
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench() -> ModuleType:
    name = "_bench_examm_evolution"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benches" / "examm_evolution.py")
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


bench = _bench()

TRANSCRIPT = """\
0.0100 [INFO    main                 ] Generating time series data for EXAMM
0.2500 [INFO    main                 ] Finished initializing, now start EXAMM evolution
0.2510 [INFO    main                 ] Island 0: starting island with minimal genome
0.5403 [INFO    genome_1_thread_0    ] initial validation_mse: 1.027805, best validation mse: 1.027805
0.5458 [INFO    genome_2_thread_1    ] initial validation_mse: 1.480790, best validation mse: 1.480790
0.8166 [INFO    genome_1_thread_0    ] iteration    0, mse: 0.6478966158, v_mse: 0.6786388775, bv_mse: 0.6786388775, avg_norm: 45.4912049294
0.8167 [INFO    genome_1_thread_0    ] backpropagation completed, getting mu/sigma
0.8185 [INFO    genome_2_thread_1    ] iteration    0, mse: 1.0085685989, v_mse: 1.0890628788, bv_mse: 1.0890628788, avg_norm: 66.8946263543
0.8185 [INFO    genome_2_thread_1    ] backpropagation completed, getting mu/sigma
0.9945 [INFO    genome_3_thread_0    ] initial validation_mse: 0.450284, best validation mse: 0.450284
1.0551 [INFO    genome_4_thread_1    ] initial validation_mse: 2.625302, best validation mse: 2.625302
1.2821 [INFO    genome_3_thread_0    ] iteration    0, mse: 0.5268707849, v_mse: 0.5514519290, bv_mse: 0.4502836589, avg_norm: 18.1481672544
1.2830 [INFO    genome_3_thread_0    ] backpropagation completed, getting mu/sigma
1.4189 [INFO    genome_4_thread_1    ] iteration    0, mse: 2.4942962619, v_mse: 2.6035302806, bv_mse: 2.6035302806, avg_norm: 88.6750736687
1.4189 [INFO    genome_4_thread_1    ] backpropagation completed, getting mu/sigma
1.5068 [INFO    genome_5_thread_0    ] initial validation_mse: 0.410994, best validation mse: 0.410994
1.5100 [INFO    genome_7_thread_1    ] initial validation_mse: 9.000000, best validation mse: 9.000000
1.6692 [INFO    genome_6_thread_1    ] initial validation_mse: 1.745484, best validation mse: 1.745484
1.8122 [INFO    genome_5_thread_0    ] iteration    0, mse: 0.4784447679, v_mse: 0.4996861222, bv_mse: 0.4109943575, avg_norm: 15.8943285462
1.8123 [INFO    genome_5_thread_0    ] backpropagation completed, getting mu/sigma
2.0140 [INFO    genome_6_thread_1    ] iteration    0, mse: 1.6570159941, v_mse: 1.7667610108, bv_mse: 1.7454844543, avg_norm: 90.9151784966
2.0141 [INFO    genome_6_thread_1    ] backpropagation completed, getting mu/sigma
2.0200 [INFO    main                 ] completed!
"""

FITNESS_LOG = """\
Inserted Genomes, Total BP Epochs, Time, Best Val. MAE, Best Val. MSE, Enabled Nodes, Enabled Edges
3,1,458,0.817478,0.678639,13,12
10,6,1655,0.635947,0.410994,14,21
"""


def _stamped(text: str) -> list[tuple[float, str]]:
    return [(float(t), line) for t, line in (row.split(" ", 1) for row in text.splitlines())]


def test_parser_reads_a_real_transcript(tmp_path: Path) -> None:
    (tmp_path / "fitness_log.csv").write_text(FITNESS_LOG)
    r = bench.parse(_stamped(TRANSCRIPT), 2.1, tmp_path, ["examm_mt"])
    assert (r.genomes, r.failed, r.best_genome) == (6, 1, 5)
    assert r.best_mse == 0.4109943575 and r.logged_best_mse == 0.410994
    assert r.search_seconds == pytest.approx(2.1 - 0.25)
    assert r.genomes_per_hour == pytest.approx(3600 * 6 / 1.85)
    # per thread, from the search start or the thread's previous genome
    assert r.genome_seconds == pytest.approx([0.5667, 0.5685, 0.4663, 0.6004, 0.5293, 0.5952])


def test_parser_refuses_a_best_that_disagrees_with_the_fitness_log(tmp_path: Path) -> None:
    (tmp_path / "fitness_log.csv").write_text(FITNESS_LOG.replace("0.410994", "0.4"))
    with pytest.raises(RuntimeError, match="fitness_log.csv"):
        bench.parse(_stamped(TRANSCRIPT), 2.1, tmp_path, ["examm_mt"])


def test_parser_refuses_output_without_its_end(tmp_path: Path) -> None:
    (tmp_path / "fitness_log.csv").write_text(FITNESS_LOG)
    cut = TRANSCRIPT.replace("completed!", "something else")
    with pytest.raises(RuntimeError, match="completed!"):
        bench.parse(_stamped(cut), 2.1, tmp_path, ["examm_mt"])


def test_published_command_line(tmp_path: Path) -> None:
    run = bench.ExammRun("/bin/true", folder=tmp_path)
    cmd = run.command(bench.PRESETS["published"], tmp_path / "out")
    text = " ".join(cmd)
    for flag in ("--number_threads 2", "--number_islands 10", "--island_size 10", "--max_genomes 2000",
                 "--bp_iterations 5", "--num_mutations 2", "--time_offset 1",
                 "--possible_node_types simple UGRNN MGU GRU delta LSTM", "--output_parameter_names Main_Flm_Int"):
        assert flag in text
    train = cmd[cmd.index("--training_filenames") + 1: cmd.index("--test_filenames")]
    test = cmd[cmd.index("--test_filenames") + 1: cmd.index("--time_offset")]
    assert [Path(p).name for p in train] == [f"burner_{i}.csv" for i in range(10)]
    assert [Path(p).name for p in test] == ["burner_10.csv", "burner_11.csv"]
    inputs = cmd[cmd.index("--input_parameter_names") + 1: cmd.index("--output_parameter_names")]
    assert len(inputs) == 12 and inputs[-1] == "Main_Flm_Int"
    assert "--training_filenames" in bench.shown(cmd) and "(10 files)" in bench.shown(cmd)


def test_throughput_files_are_the_280_sequences_nervenet_trains_on(tmp_path: Path) -> None:
    run = bench.ExammRun("/bin/true", folder=tmp_path)
    files = run.training_files("chunks")
    assert len(files) == 280 and run.training_files("chunks") is files  # written once
    X, Y = sys.modules["examm_coal"].coal_sequences()
    for k in (0, 279):
        rows = np.loadtxt(files[k], delimiter=",", skiprows=1)
        assert rows.shape == (501, 12)
        np.testing.assert_allclose(rows[:-1], X[k], rtol=1e-6)
        np.testing.assert_allclose(rows[1:, -1], Y[k, :, 0], rtol=1e-6)
    assert math.isclose(len(np.loadtxt(run.validation_files("tiny")[0], delimiter=",", skiprows=1)), 11)
