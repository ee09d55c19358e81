"""Speed and memory of the core, as ratios to baselines measured in the same run (issue 13's table).

    python benchmarks/bench_core.py            # the issue's sizes (several minutes on 2 cores)
    python benchmarks/bench_core.py --small    # a quick smoke run

Every measurement runs in a fresh subprocess (its peak resident memory is its own), with torch
imported before the clock on both sides. The official code is not needed: its stand-ins are the
plain transcriptions of ``tests/reference_impl.py`` (dense C x C x D PED, per-class loops, the
generalised eigenproblem, SVD), and scikit-learn's ``GaussianMixture`` for NLEEP. Times are wall
clock; on a shared machine the process CPU time (given for NLEEP) is the steadier figure. The floors are
the linear algebra no method avoids: X^T X + eigh in float64, in NumPy and in torch; every
potran metric is given as a multiple of the faster one (the goal is <= 1.3x). potran runs with
its default CPU backend (``potran.backend.cpu_blas``) unless ``--cpu-blas`` says otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# (N, D, C) of each row of the table; NLEEP at the size of a benchmark cell (C = 26 letters)
SIZES = {"ped": (20000, 2048, 100), "ped397": (20000, 2048, 397), "logme": (50000, 2048, 100),
         "sfda": (20000, 2048, 100), "nleep": (1040, 128, 26), "cell": (1040, 128, 26)}
SMALL = {"ped": (4000, 512, 50), "ped397": (4000, 512, 150), "logme": (8000, 512, 50),
         "sfda": (4000, 512, 50), "nleep": (520, 64, 13), "cell": (520, 64, 13)}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make(n, d, c, seed=0, centre_scale=1.0):
    """Float32 features of c Gaussian classes; small ``centre_scale`` = heavily overlapping classes."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    y[:c] = np.arange(c)
    centres = rng.normal(0, centre_scale, (c, d)).astype(np.float32)
    X = centres[y] + rng.normal(0, 2, (n, d)).astype(np.float32)
    return X, y, rng.normal(0, 2, (2000, d)).astype(np.float32)


def _floor_numpy(X):
    F = X.astype(np.float64)
    np.linalg.eigh(F.T @ F)


def _floor_torch(X):
    import torch

    F = torch.as_tensor(X, dtype=torch.float64)
    torch.linalg.eigh(F.T @ F)


def _nleep_sklearn(X, y, threads=None):
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    from potran.metrics.nleep import leep_from_posteriors

    c = len(np.unique(y))
    with threadpool_limits(limits=threads, user_api="blas"):
        reduced = PCA(n_components=0.8).fit_transform(X)
        mixture = GaussianMixture(n_components=5 * c, random_state=np.random.RandomState(0)).fit(reduced)
        return leep_from_posteriors(mixture.predict_proba(reduced), y, c, log=False)


def _cell(X, y, G, threads_rule=True):
    """Every benchmark metric with and without PED on one cell (the runner's ``score_cell``);
    ``threads_rule=False`` gives every problem the default threads (the rule of
    ``potran.backend.blas_threads_for`` switched off). Returns the total seconds of the scores."""
    from potran import backend
    from potran.bench.runner import DEFAULT_METRICS, score_cell

    if not threads_rule:
        backend.SMALL_WORK = 0
    rows = score_cell(X, y, G[:2000], DEFAULT_METRICS)
    assert not any(r["error"] for r in rows), [r["error"] for r in rows if r["error"]]
    return sum(r["score"] for r in rows)


def tasks():
    """name -> function(X, y, G) returning a score (or None); imported lazily in the child."""
    sys.path.insert(0, str(ROOT / "tests"))
    import potran
    from potran.bench.timing import dense_step
    from potran.metrics import gbc, logme, nleep, sfda

    import reference_impl as ref

    return {
        "floor_numpy": lambda X, y, G: _floor_numpy(X),
        "floor_torch": lambda X, y, G: _floor_torch(X),
        "ped_step": lambda X, y, G: potran.simulate(X, y, G, max_steps=1, exit_ratio=0.0).trace.steps,
        "ped_step_ref": lambda X, y, G: dense_step(X.astype(np.float64), y, G.astype(np.float64),
                                                   0.6, 0.1, 1.0, 1e-3)[1],
        "ped_logme": lambda X, y, G: potran.score(X, y, "logme", ped=True, general=G),
        "ped_logme_ref": lambda X, y, G: ref.logme_official(ref.ped_official(X, y, G)[0], y),
        "logme": lambda X, y, G: logme(X, y),
        "logme_ref": lambda X, y, G: ref.logme_official(X, y),
        "sfda": lambda X, y, G: sfda(X, y),
        "sfda_ref": lambda X, y, G: ref.sfda_official(X, y),
        "gbc": lambda X, y, G: gbc(X, y),
        "nleep": lambda X, y, G: nleep(X, y, seed=0),
        "nleep_sklearn": lambda X, y, G: _nleep_sklearn(X, y),
        "nleep_sklearn_1thread": lambda X, y, G: _nleep_sklearn(X, y, threads=1),
        "cell": lambda X, y, G: _cell(X, y, G),
        "cell_all_threads": lambda X, y, G: _cell(X, y, G, threads_rule=False),
    }


def child(task: str, n: int, d: int, c: int) -> dict:
    import torch  # noqa: F401 -- imported before the clock on both sides

    fn = tasks()[task]
    # PED: centres just inside contact distance, so the classes keep overlapping (method page, §PED)
    X, y, G = make(n, d, c, centre_scale=1.65 if task.startswith("ped") else 1.0)
    if task.startswith(("nleep", "cell")):
        X = X.astype(np.float64)
    start, cpu = time.perf_counter(), time.process_time()
    value = fn(X, y, G)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    value = float(value) if np.isscalar(value) else None
    return {"task": task, "seconds": seconds, "cpu_s": cpu, "peak_mb": peak_mb(), "value": value}


def run_child(task: str, size, cpu_blas=None) -> dict:
    env = dict(os.environ)
    if cpu_blas:
        env["POTRAN_CPU_BLAS"] = cpu_blas
    out = subprocess.run([sys.executable, __file__, "--child", task, *map(str, size)], check=True,
                         capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in
                  subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                  if line.startswith("Model name")), platform.processor())
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores, load average {load} (1, 5, 15 min) at the start"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="small sizes for a quick run")
    parser.add_argument("--cpu-blas", choices=("numpy", "torch"), help="potran's CPU backend")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        task, *size = args.child
        print(json.dumps(child(task, *map(int, size))))
        return
    sizes = SMALL if args.small else SIZES
    print(f"machine: {machine()}")
    from potran.backend import cpu_blas

    backend = args.cpu_blas or cpu_blas()
    print(f"potran CPU backend: {backend}\n")

    def potran_run(task, size):
        return run_child(task, size, backend)

    print(f"{'case':44s} {'potran':>18s} {'stand-in for official':>22s} {'speed-up':>9s}")

    def row(label, mine, theirs):
        print(f"{label:44s} {mine['seconds']:7.2f} s {mine['peak_mb']:7.0f} MB "
              f"{theirs['seconds']:9.2f} s {theirs['peak_mb']:7.0f} MB "
              f"{theirs['seconds'] / mine['seconds']:8.1f}x")

    for key, label in (("ped", "one PED step"), ("ped397", "one PED step")):
        n, d, c = sizes[key]
        row(f"{label}, N={n} D={d} C={c}", potran_run("ped_step", sizes[key]),
            run_child("ped_step_ref", sizes[key]))
    n, d, c = sizes["ped"]
    row(f"PED + LogME, N={n} D={d} C={c}", potran_run("ped_logme", sizes["ped"]),
        run_child("ped_logme_ref", sizes["ped"]))
    results = {}
    for key in ("logme", "sfda"):
        n, d, c = sizes[key]
        results[key] = potran_run(key, sizes[key])
        row(f"{key.upper() if key == 'sfda' else 'LogME'}, N={n} D={d} C={c}", results[key],
            run_child(f"{key}_ref", sizes[key]))

    print("\nagainst the floor X^T X + eigh (float64) at the same N and D, measured in this run:")
    for key, metrics in (("logme", ("logme", "gbc")), ("sfda", ("sfda",))):
        n, d, c = sizes[key]
        floors = {b: run_child(f"floor_{b}", sizes[key]) for b in ("numpy", "torch")}
        best = min(f["seconds"] for f in floors.values())
        print(f"  N={n} D={d}: floor NumPy {floors['numpy']['seconds']:.2f} s, torch "
              f"{floors['torch']['seconds']:.2f} s")
        for metric in metrics:
            r = results[metric] if metric in results else potran_run(metric, sizes[key])
            print(f"    {metric:6s} C={c}: {r['seconds']:6.2f} s = {r['seconds'] / best:.2f} x the faster "
                  f"floor (peak {r['peak_mb']:.0f} MB)")

    n, d, c = sizes["nleep"]
    mine = run_child("nleep", sizes["nleep"])
    print(f"\nNLEEP, N={n} D={d} C={c} ({5 * c} mixture components), seed 0:")
    for task, label in (("nleep_sklearn", "scikit-learn GaussianMixture"),
                        ("nleep_sklearn_1thread", "scikit-learn, BLAS on 1 thread")):
        theirs = run_child(task, sizes["nleep"])
        deviation = abs(mine["value"] - theirs["value"]) / abs(theirs["value"])
        print(f"  potran {mine['seconds']:.2f} s (CPU {mine['cpu_s']:.2f} s) vs {label} "
              f"{theirs['seconds']:.2f} s (CPU {theirs['cpu_s']:.2f} s): "
              f"{theirs['seconds'] / mine['seconds']:.1f}x faster "
              f"({theirs['cpu_s'] / mine['cpu_s']:.1f}x in CPU time); relative difference of the "
              f"scores {deviation:.1e}")

    n, d, c = sizes["cell"]
    mine, theirs = run_child("cell", sizes["cell"]), run_child("cell_all_threads", sizes["cell"])
    print(f"\none benchmark cell, N={n} D={d} C={c}: all {len(_metric_names())} metrics with and "
          f"without PED (one PED motion)\n  {mine['seconds']:.2f} s (CPU {mine['cpu_s']:.2f} s); "
          f"every problem on the default threads {theirs['seconds']:.2f} s (CPU "
          f"{theirs['cpu_s']:.2f} s): {theirs['seconds'] / mine['seconds']:.1f}x; same scores: "
          f"{mine['value'] == theirs['value']}")


def _metric_names():
    from potran.bench.runner import DEFAULT_METRICS

    return DEFAULT_METRICS


if __name__ == "__main__":
    main()
