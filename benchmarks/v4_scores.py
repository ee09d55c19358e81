"""Benchmark v4's score table: every metric of the benchmark with and without PED on every
(model, target) cell of setting "v4", committed as data beside its ground truth.

    .venv/bin/python benchmarks/v4_scores.py [--targets a,b] [--models m,n] [--no-commit]

Refuses to run before the pre-registration is frozen: ``data/bench_v4/protocol.json`` must be
committed (the git history then shows the freeze before the first score). Writes
``data/bench_v4/scores/cells/<model>__<target>.json`` and ``scores.csv``
(:func:`potran.bench.runner.collect`); resumable; committed after each target (path-limited).
Features are cached under ``.cache/features``; one torch thread.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from git_commit import commit  # the scripts' shared path-limited commit

from potran.bench import configure_torch, settings
from potran.bench.runner import collect, score_one
from potran.bench.v4 import zoo as v4_zoo

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "bench_v4" / "scores"
CACHE = ROOT / ".cache" / "features"
PROTOCOL = "data/bench_v4/protocol.json"


def frozen() -> bool:
    """Whether the pre-registration's protocol file is committed."""
    log = subprocess.run(["git", "log", "--format=%H", "--", PROTOCOL], cwd=ROOT,
                         capture_output=True, text=True)
    return log.returncode == 0 and bool(log.stdout.strip())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", help="comma-separated v3 targets (default: all)")
    parser.add_argument("--models", help="comma-separated v4 models (default: all 14, the controls included)")
    parser.add_argument("--no-commit", action="store_true")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    if not frozen():
        sys.exit(f"{PROTOCOL} is not committed: no metric is scored on benchmark v4 before its "
                 "pre-registration is frozen (data/bench_v4/README.md)")
    try:
        setting = settings.get("v4", models=args.models or v4_zoo.names(), targets=args.targets)
    except ValueError as e:
        sys.exit(str(e))
    configure_torch(1)
    total, k = len(setting.models) * len(setting.targets), 0
    for target in setting.targets:
        for model in setting.models:
            k += 1
            t0 = time.perf_counter()
            score_one(setting.bench, model, target, OUT, cache_dir=CACHE, device=args.device)
            if time.perf_counter() - t0 > 1:
                print(f"{time.strftime('%H:%M:%S')} [{k}/{total}] {target} {model}: "
                      f"{time.perf_counter() - t0:.1f} s", flush=True)
        table = collect(setting.bench, OUT)
        if not args.no_commit:
            commit(f"Benchmark v4 scores: {target} ({len(table)} scores in all; "
                   "benchmarks/v4_scores.py)", (str(OUT.relative_to(ROOT)),))
    return 0


if __name__ == "__main__":
    sys.exit(main())
