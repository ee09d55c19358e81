"""Cost of the ranking's replicates (how sure it is: potran.rank_models), as a ratio to one scoring
pass measured in the same run.

    OMP_NUM_THREADS=1 python benchmarks/bench_selection.py              # 4 models x 2000 images x 512-d
    OMP_NUM_THREADS=1 python benchmarks/bench_selection.py --n 500      # a quick run

The models are synthetic (class means plus noise of four strengths, 512 features, 10 classes);
the metrics are the default ones (:func:`potran.selection.default_metrics`) unless ``--metric``
names others. One scoring pass is ``rank_models(..., n_boot=0)`` (the reduction included); the
other run is the same call with ``n_boot`` replicates (each scores every model on 90 % of each
class's images). Each is timed ``--repeats`` times,
alternating, and the medians are compared: on a shared machine the ratio is the figure that
carries over, not the seconds. Prints the seconds, the ratio and the cost of one replicate in
scoring passes.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def models(n: int, d: int, classes: int, seed: int = 0) -> tuple[dict, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    means = rng.normal(size=(classes, d))
    return {f"model{k}": means[y] * s + rng.normal(size=(n, d))
            for k, s in enumerate((1.0, 0.5, 0.25, 0.0))}, y


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="labelled images")
    parser.add_argument("--d", type=int, default=512, help="features per model")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--n-boot", type=int, default=None, help="replicates (default: potran's)")
    parser.add_argument("--metric", action="append", default=[], help="metrics (default: potran's)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from potran.selection import N_BOOT, default_metrics, rank_models

    n_boot = N_BOOT if args.n_boot is None else args.n_boot
    metrics = [m for text in args.metric for m in text.split(",")] or list(default_metrics())
    features, y = models(args.n, args.d, args.classes)
    print(f"{len(features)} models x {args.n} images x {args.d} features, {args.classes} classes; metrics "
          f"{', '.join(metrics)}; {n_boot} replicates; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}; "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    rank_models(features, y, metrics=metrics, n_boot=0)  # warm-up: imports, the evidence's cache
    passes, boots = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        rank_models(features, y, metrics=metrics, n_boot=0)
        passes.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        table = rank_models(features, y, metrics=metrics, n_boot=n_boot)
        boots.append(time.perf_counter() - t0)
    one, boot = statistics.median(passes), statistics.median(boots)
    shown = lambda times: ", ".join(f"{t:.2f}" for t in times)  # noqa: E731
    print(f"one scoring pass: {one:.2f} s (median of {args.repeats}: {shown(passes)})")
    print(f"with {n_boot} replicates: {boot:.2f} s (median of {args.repeats}: {shown(boots)})")
    per = (boot - one) / one / n_boot
    print(f"ratio: {boot / one:.1f}x one scoring pass; one replicate = {per:.2f} passes")
    print(table.groupby("metric", sort=False)[["p_best"]].max().rename(columns={"p_best": "largest P(best)"})
          .to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
