"""Benchmark v3's (or v4's) linear-probe ground truth: every zoo model on every v3 target
(protocol in data/bench_v3/README.md, code in potran.bench.linear_probe).

    .venv/bin/python benchmarks/v3_linear_probe.py [--setting v4] [--targets a,b] [--models m,n]

Writes ``data/bench_v3/linear_probe.csv`` (``data/bench_v4/`` with ``--setting v4``, every model
of its zoo, the controls included; one row per model and target). Features are extracted
once into the feature cache (``potran.bench.folders.FEATURE_CACHE``); a rerun recomputes the
table from the cache, and rows already in the table for the same model and target are kept
(resumable). Several processes may share the table (e.g. one given the targets in reverse):
each re-reads it before a target and merges its rows in under a file lock. With ``--commit``
the table is committed after every target (path-limited, as the fine-tuning grid).
"""
from __future__ import annotations

import argparse
import fcntl
import sys
import time
from pathlib import Path

import pandas as pd

from potran.bench import configure_torch, settings, targets_v3
from potran.bench.features import extract_features
from potran.bench.folders import FEATURE_CACHE
from potran.bench.linear_probe import linear_probe
from potran.bench.store import write_csv
from potran.bench.v4 import zoo as v4_zoo

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "bench_v3" / "linear_probe.csv"   # with --setting v4: data/bench_v4/
COLUMNS = ["model", "target", "family", "test_acc", "C", "val_acc", "n_train", "n_test",
           "seconds", "test_correct"]


def _read() -> pd.DataFrame:
    return pd.read_csv(OUT) if OUT.exists() else pd.DataFrame(columns=COLUMNS)


def _merge(rows: list[dict]) -> pd.DataFrame:
    """Merge ``rows`` into the table on disk (under a lock) and write it; returns the table."""
    (ROOT / ".cache").mkdir(exist_ok=True)
    with open(ROOT / ".cache" / f"{OUT.parent.name}_linear_probe.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        table = pd.concat([_read(), pd.DataFrame(rows, columns=COLUMNS)], ignore_index=True)
        table = (table.drop_duplicates(["model", "target"], keep="first")
                 .sort_values(["target", "model"], ignore_index=True))
        write_csv(OUT, table)
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", default="v3", choices=("v3", "v4"), help="the zoo (default v3)")
    parser.add_argument("--targets", help="comma-separated v3 targets (default: all)")
    parser.add_argument("--models", help="comma-separated zoo models (default: all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--commit", action="store_true", help="commit the table after each target")
    args = parser.parse_args(argv)
    global OUT
    OUT = ROOT / "data" / f"bench_{args.setting}" / "linear_probe.csv"
    every = None if args.setting == "v3" else v4_zoo.names()   # on v4 the controls too
    try:
        v3 = settings.get(args.setting, args.models or every, args.targets)
    except ValueError as err:
        raise SystemExit(str(err)) from None
    targets, models = v3.targets, v3.models
    configure_torch(args.threads)
    for target in targets:
        table = _read()
        done = set(zip(table.model, table.target))
        if all((m, target) in done for m in models):
            continue
        rows = []
        t = v3.load_target(target)
        for model in models:
            if (model, target) in done:
                continue
            t0 = time.perf_counter()
            zm = v3.get_model(model)
            X = {part: extract_features(zm, getattr(t, f"x_{part}"), cache_dir=FEATURE_CACHE,
                                        key=f"v3/{target}/{part}", progress=False)
                 for part in ("train", "test")}
            row = linear_probe(X["train"], t.y_train, X["test"], t.y_test)
            rows.append(dict(row, model=model, target=target, family=targets_v3.FAMILIES[target],
                             seconds=time.perf_counter() - t0))
            print(f"{time.strftime('%H:%M:%S')} {target} {model} {row['test_acc']:.4f} "
                  f"C={row['C']:g} ({rows[-1]['seconds']:.0f} s)", flush=True)
        table = _merge(rows)
        if args.commit:
            from git_commit import commit  # the scripts' shared path-limited commit

            n = table.target.nunique()
            commit(f"Benchmark {args.setting} linear probe: {n} targets (benchmarks/v3_linear_probe.py)",
                   paths=(str(OUT.relative_to(ROOT)),))
    return 0


if __name__ == "__main__":
    sys.exit(main())
