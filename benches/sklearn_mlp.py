"""nervenet's scikit-learn estimators against MLPClassifier / MLPRegressor
on scikit-learn's bundled data: breast_cancer, wine, digits (accuracy) and
diabetes (R²), held-out quarter of each (stratified for classes), features
standardised on the training part (and diabetes' target too).

    python benches/sklearn_mlp.py [--seeds 5] [--epochs 200] [--hidden 100] [--batch 32] [--threads 1] [--dtype float64]

Both get the same work: one hidden layer of ``--hidden`` relu units, Adam
at learning rate 1e-3, batches of ``--batch``, exactly ``--epochs`` epochs
(``n_iter_no_change`` = epochs, so neither stops early), float64 (as
MLPClassifier computes on float64 data; ``--dtype float32`` for nervenet's
f32), the same thread count. For each
seed the two fits run back to back, the order alternating from seed to
seed (benches/harness.py's ``interleave``), after one untimed warm-up fit
each. Printed per data set: each library's median test score and median fit
time over the seeds, and the fit time ratio (median of the per-seed ratios
MLP ÷ nervenet; > 1: nervenet is faster). Goal: ≥ 5× on all, same score.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

import nervenet as nv
from nervenet.sklearn import NervenetClassifier, NervenetRegressor

sys.path.insert(0, str(Path(__file__).resolve().parent))  # harness
from harness import interleave  # noqa: E402

DATA = {  # name: (loader, classification)
    "breast_cancer": (datasets.load_breast_cancer, True),
    "wine": (datasets.load_wine, True),
    "digits": (datasets.load_digits, True),
    "diabetes": (datasets.load_diabetes, False),
}


def split(name: str) -> tuple[np.ndarray, ...]:
    """The data set's standardised training and test parts (seed 0 for the split)."""
    loader, classes = DATA[name]
    X, y = loader(return_X_y=True)
    Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y if classes else None)
    scale = StandardScaler().fit(Xa)
    Xa, Xb = scale.transform(Xa), scale.transform(Xb)
    if not classes:
        mean, std = ya.mean(), ya.std()
        ya, yb = (ya - mean) / std, (yb - mean) / std
    return Xa, Xb, ya, yb


def models(classes: bool, args: argparse.Namespace, seed: int) -> dict[str, object]:
    """The two estimators, configured alike."""
    shared = dict(hidden_layer_sizes=(args.hidden,), activation="relu", learning_rate_init=1e-3,
                  batch_size=args.batch, max_iter=args.epochs, n_iter_no_change=args.epochs, random_state=seed)
    ours, theirs = (NervenetClassifier, MLPClassifier) if classes else (NervenetRegressor, MLPRegressor)
    return {"nervenet": ours(dtype=args.dtype, **shared), "sklearn": theirs(solver="adam", alpha=0.0, **shared)}


def compare(name: str, args: argparse.Namespace) -> None:
    Xa, Xb, ya, yb = split(name)
    classes = DATA[name][1]

    def sampler(who: str):
        seeds = iter(range(args.seeds + 1))  # round r fits with seed r

        def sample() -> tuple[float, float]:
            model = models(classes, args, next(seeds))[who]
            t = time.perf_counter()
            model.fit(Xa, ya)
            elapsed = time.perf_counter() - t
            return elapsed, float(model.score(Xb, yb))
        return sample

    # one round per seed, the order alternating; round 0 (seed 0) warms both up, untimed
    samples = interleave({k: sampler(k) for k in ("nervenet", "sklearn")}, args.seeds, warmup=1)
    ours, theirs = samples["nervenet"], samples["sklearn"]
    ratios = [t[0] / o[0] for o, t in zip(ours, theirs)]
    metric = "accuracy" if classes else "R²"
    print(f"{name:14s} {metric:8s} nervenet {statistics.median(s for _, s in ours):.4f} "
          f"sklearn {statistics.median(s for _, s in theirs):.4f} | fit nervenet "
          f"{statistics.median(t for t, _ in ours):.3f} s sklearn {statistics.median(t for t, _ in theirs):.3f} s "
          f"| ratio {statistics.median(ratios):.2f}x [{min(ratios):.2f}-{max(ratios):.2f}]", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                        help="nervenet's (MLPClassifier computes float64 data in float64)")
    parser.add_argument("--only", nargs="*", choices=sorted(DATA), default=list(DATA))
    args = parser.parse_args()
    nv.set_num_threads(args.threads)
    from threadpoolctl import threadpool_limits

    threadpool_limits(args.threads)  # numpy's BLAS, which MLPClassifier runs on
    print(f"# {nv.machine.describe()}")
    print(f"# nervenet {nv.__version__}, scikit-learn {__import__('sklearn').__version__}; {args.threads} thread(s); "
          f"hidden {args.hidden} relu, Adam 1e-3, batch {args.batch}, {args.epochs} epochs, nervenet in {args.dtype}; "
          f"{args.seeds} seeds, interleaved, medians; ratio = MLP fit time / nervenet's")
    warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed epoch count, on purpose
    for name in args.only:
        compare(name, args)


if __name__ == "__main__":
    main()
