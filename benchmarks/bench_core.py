"""Speed and memory of the core, as ratios to a linear-algebra baseline measured in the same run.

    python benchmarks/bench_core.py            # the sizes of issue 2 (a few minutes on 2 cores)
    python benchmarks/bench_core.py --small    # a quick smoke run

Each measurement runs in a fresh subprocess so its peak resident memory is its own.
Reference points (issue 2, official code on this machine): PED one step at N=20000, D=2048,
C=397 took 48 s and 7.8 GB; official LogME at N=50000, D=2048, C=100 took ~108 s.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

SIZES = {"ped": (20000, 2048, 397), "linalg": (50000, 2048, 100)}
SMALL = {"ped": (4000, 512, 100), "linalg": (8000, 512, 50)}


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


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


def child(task: str, n: int, d: int, c: int) -> dict:
    import torch

    import potran
    from potran.metrics import gbc, logme, sfda

    X, y, G = make(n, d, c, centre_scale=1.65 if task == "ped" else 1.0)  # PED: centres just inside contact
    before = rss_mb()
    start = time.perf_counter()
    if task == "ped":
        # centres just inside contact distance: small overlaps that persist, so the exit test never
        # fires and all six steps run, as on real features (method page, §PED); rho = 0 guarantees it
        result = potran.simulate(X, y, G, exit_ratio=0.0)
        extra = {"steps": result.trace.steps}
    elif task == "baseline":
        F = torch.as_tensor(X, dtype=torch.float64)
        torch.linalg.eigh(F.T @ F)
        extra = {}
    else:
        value = {"logme": logme, "sfda": sfda, "gbc": gbc}[task](X, y)
        extra = {"score": value}
    seconds = time.perf_counter() - start
    return {"task": task, "seconds": seconds, "peak_mb": peak_mb(), "input_mb": X.nbytes / 2**20,
            "rss_before_mb": before, **extra}


def run_child(task: str, size) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", task, *map(str, size)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="small sizes for a quick run")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        task, *size = args.child
        print(json.dumps(child(task, *map(int, size))))
        return
    sizes = SMALL if args.small else SIZES
    n, d, c = sizes["ped"]
    ped = run_child("ped", sizes["ped"])
    print(f"PED, N={n} D={d} C={c}, {ped['steps']} steps: {ped['seconds']:.2f} s; "
          f"peak RSS {ped['peak_mb']:.0f} MB "
          f"(process before the call {ped['rss_before_mb']:.0f} MB, input float32 {ped['input_mb']:.0f} MB, "
          f"so {ped['peak_mb'] - ped['rss_before_mb']:.0f} MB for the motion)")
    n, d, c = sizes["linalg"]
    base = run_child("baseline", sizes["linalg"])
    print(f"baseline X^T X + eigh, N={n} D={d}: {base['seconds']:.2f} s")
    for task in ("logme", "sfda", "gbc"):
        r = run_child(task, sizes["linalg"])
        print(f"{task:6s} N={n} D={d} C={c}: {r['seconds']:.2f} s = "
              f"{r['seconds'] / base['seconds']:.2f} x baseline; "
              f"peak RSS {r['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
