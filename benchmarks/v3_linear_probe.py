"""Benchmark v3's linear-probe ground truth: every zoo model on every v3 target
(protocol in data/bench_v3/README.md, code in potran.bench.linear_probe).

    .venv/bin/python benchmarks/v3_linear_probe.py [--targets a,b] [--models m,n]

Writes ``data/bench_v3/linear_probe.csv`` (one row per model and target). Features are extracted
once into the feature cache (``.cache/features``); a rerun recomputes the table from the cache,
and rows already in the table for the same model and target are kept (resumable).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from potran.bench import configure_torch, targets_v3, zoo
from potran.bench.features import extract_features
from potran.bench.linear_probe import linear_probe
from potran.bench.store import write_csv

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "bench_v3" / "linear_probe.csv"
COLUMNS = ["model", "target", "family", "test_acc", "C", "val_acc", "n_train", "n_test",
           "seconds", "test_correct"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", help="comma-separated v3 targets (default: all)")
    parser.add_argument("--models", help="comma-separated zoo models (default: all)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    targets = args.targets.split(",") if args.targets else targets_v3.NAMES
    models = args.models.split(",") if args.models else zoo.names()
    configure_torch(args.threads)
    table = pd.read_csv(OUT) if OUT.exists() else pd.DataFrame(columns=COLUMNS)
    done = set(zip(table.model, table.target))
    rows = table.to_dict("records")
    for target in targets:
        t = targets_v3.load_target(target)
        for model in models:
            if (model, target) in done:
                continue
            t0 = time.perf_counter()
            zm = zoo.get(model)
            X = {part: extract_features(zm, getattr(t, f"x_{part}"), cache_dir=ROOT / ".cache/features",
                                        key=f"v3/{target}/{part}", progress=False)
                 for part in ("train", "test")}
            row = linear_probe(X["train"], t.y_train, X["test"], t.y_test)
            rows.append(dict(row, model=model, target=target, family=targets_v3.FAMILIES[target],
                             seconds=time.perf_counter() - t0))
            print(f"{time.strftime('%H:%M:%S')} {target} {model} {row['test_acc']:.4f} "
                  f"C={row['C']:g} ({rows[-1]['seconds']:.0f} s)", flush=True)
        write_csv(OUT, pd.DataFrame(rows, columns=COLUMNS)
                  .sort_values(["target", "model"], ignore_index=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
