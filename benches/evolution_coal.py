"""nervenet's neuro-evolution on EXAMM's coal benchmark: search quality over
seeds, wall time, the driver's share, and scaling from 1 to 2 workers.

    python benches/evolution_coal.py [--seeds 0 1 2] [--genomes 2000] [--epochs 5]
        [--batch 8] [--lr 0.004] [--workers 2] [--final-epochs 40] [--fixed coal.json] [--out FILE]
    python benches/evolution_coal.py --scaling [--genomes 300] [--batch 8]

Task (issue 14's protocol, ``nv.evolution.coal_task``): the 12 columns of
../shared/data/timeseries/2018_coal predict Main_Flm_Int one step ahead;
burners 0-7 train (500-step sequences), 8-9 validate (a genome's fitness:
its best validation MSE), 10-11 test, whole series with state carried,
never seen by the search. Search: EXAMM's published coal settings (10
islands of 10, 5 epochs a genome, 2 mutations a child, every cell kind,
Lamarckian weights, Adam without bias correction, gradient norm scaled to
[0.05, 1], weights capped at 10) with ``--batch`` sequences a step and
Adam's ``--lr`` (EXAMM: batch 1, lr 1e-3).

Per seed: wall seconds, genomes per hour, the driver's seconds (making
genomes, taking results in, logging, checkpointing), the best genome's
validation and test MSE and its size, against the references:
0.000424 (the best hand-designed network of benches/coal_plant.py),
0.000438 (EXAMM's best published result, GECCO 2019) and 0.000694 (the
naive last-value forecast). ``--fixed`` takes benches/coal_plant.py's JSON
output (run with the same seeds) and adds a Mann-Whitney U test
(scipy.stats) of the evolved test MSEs against the best fixed kind's.

``--final-epochs N`` trains the best genome on for N more epochs after the
search (``EvolutionConfig.final_epochs``; its best validation epoch kept),
as the hand-designed networks train for 40: both test MSEs are printed, and
the final one is the one judged against the references.

``--scaling`` runs the same search with 1 and then 2 workers (reproducible
mode: the runs differ in which results each genome is made from, so the
genome sizes are printed beside the times) and prints the speed-up.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import nervenet as nv

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "timeseries" / "2018_coal"
REFERENCES = {"best hand-designed (coal_plant.py)": 0.000424, "EXAMM best published": 0.000438,
              "naive last value": 0.000694}


def search(seed: int, genomes: int, epochs: int, batch: int, lr: float, workers: int, final_epochs: int = 0) -> dict:
    task = nv.evolution.coal_task(DATA)
    cfg = nv.evolution.EvolutionConfig(genomes=genomes, epochs=epochs, mutations=2, batch_size=batch,
                                       learning_rate=lr, workers=workers, seed=seed, final_epochs=final_epochs)
    began = time.perf_counter()
    result = nv.evolution.Evolution(cfg, task).run(progress=False)
    wall = time.perf_counter() - began
    hidden = [sum(g.counts["nodes"].values()) for isl in result.islands for g in isl.genomes]
    return {"seed": seed, "workers": workers, "wall": wall, "genomes": result.genomes,
            "genomes_per_hour": result.genomes / wall * 3600, "driver": result.driver_seconds,
            "validation_mse": result.best.fitness, "search_test_mse": result.test_loss,
            "test_mse": result.final_test_loss if result.final is not None else result.test_loss,
            "final_validation_mse": result.final.fitness if result.final is not None else None,
            "final_epochs": final_epochs, "best": result.best.counts,
            "best_params": int(result.network().trainable.sum()), "mean_hidden_nodes": float(np.mean(hidden))}


def line(r: dict) -> str:
    return (f"seed {r['seed']} workers {r['workers']}: {r['genomes']} genomes in {r['wall']:.1f} s "
            f"({r['genomes_per_hour']:.0f}/hour; driver {r['driver']:.1f} s = {1e3 * r['driver'] / r['genomes']:.1f} ms "
            f"a genome), best validation MSE {r['validation_mse']:.6f}, test MSE {r['search_test_mse']:.6f}"
            + (f"; after {r['final_epochs']} more epochs: validation {r['final_validation_mse']:.6f}, test "
               f"{r['test_mse']:.6f}" if r["final_epochs"] else "")
            + "; best genome "
            f"{r['best']} ({r['best_params']} parameters); islands' mean hidden nodes {r['mean_hidden_nodes']:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--genomes", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=0.004)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--final-epochs", type=int, default=0, help="the best genome's training after the search")
    parser.add_argument("--scaling", action="store_true", help="1 worker, then 2, same search")
    parser.add_argument("--fixed", help="benches/coal_plant.py's JSON output, for the Mann-Whitney test")
    parser.add_argument("--out", help="write the rows as JSON here")
    args = parser.parse_args()
    nv.set_num_threads(1)  # the driver's engine thread (the test pass at the end)
    print(f"# coal, {args.genomes} genomes x {args.epochs} epochs, batch {args.batch}, lr {args.lr}; "
          f"{nv.machine.describe()}", flush=True)
    rows = []
    if args.scaling:
        for workers in (1, 2):
            rows.append(search(args.seeds[0], args.genomes, args.epochs, args.batch, args.lr, workers))
            print(line(rows[-1]), flush=True)
        print(f"# 1 -> 2 workers: {rows[1]['genomes_per_hour'] / rows[0]['genomes_per_hour']:.2f}x genomes per hour")
    else:
        for seed in args.seeds:
            rows.append(search(seed, args.genomes, args.epochs, args.batch, args.lr, args.workers, args.final_epochs))
            print(line(rows[-1]), flush=True)
        tests = [r["test_mse"] for r in rows]
        print(f"# test MSE: best {min(tests):.6f}, median {statistics.median(tests):.6f} over {len(tests)} seed(s)")
        for name, value in REFERENCES.items():
            print(f"#   {name} {value:.6f}: best {'below' if min(tests) < value else 'NOT below'}, "
                  f"median {'below' if statistics.median(tests) < value else 'NOT below'}")
        if args.fixed:
            from scipy.stats import mannwhitneyu

            fixed = json.loads(Path(args.fixed).read_text())
            by_kind = {row["kind"]: [r["test_mse"] for r in row["runs"]] for row in fixed["rows"]}
            kind = min(by_kind, key=lambda k: statistics.median(by_kind[k]))
            u = mannwhitneyu(tests, by_kind[kind], alternative="two-sided")
            print(f"# Mann-Whitney U, evolved vs the best fixed kind ({kind}, test MSEs {by_kind[kind]}): "
                  f"U = {u.statistic:.1f}, p = {u.pvalue:.3f} (two-sided)")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    sys.exit(main())
