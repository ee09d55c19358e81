"""Benchmark v3's score tables: every metric +/- PED on every (model, target) cell, committed as
data beside the ground truth (setting "v3" of potran.bench.settings, README "Score tables").

    .venv/bin/python benchmarks/v3_scores.py [--general general,family,target] [--targets a,b]
                                             [--models m,n] [--no-commit]

Each general set gets its folder: ``data/bench_v3/scores/`` (the landed general set, every
metric with and without PED) and ``data/bench_v3/scores_general_{family,target}/`` (the
ablation: PED rows only). A folder holds ``cells/<model>__<target>.json`` and ``scores.csv``
(:func:`potran.bench.runner.collect`). Resumable: a rerun scores only what is missing. Targets
come in the fine-tuning grid's order (``GRID_ORDER``), every general set's pass over all targets
before the next set's; after each target the folder is committed (path-limited). Features are
cached under ``.cache/features``; one torch thread.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from git_commit import commit  # the scripts' shared path-limited commit
from v3_groundtruth import GRID_ORDER

from potran.bench import configure_torch, settings, v3
from potran.bench.runner import collect

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "features"


def folder(general: str) -> Path:
    """Result folder of general set ``general``."""
    name = "scores" if general == "general" else f"scores_general_{general}"
    return ROOT / "data" / "bench_v3" / name


def _names(text, known, what):
    names = tuple(text.split(",")) if text else tuple(known)
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise SystemExit(f"unknown {what}(s) {unknown}; known: {', '.join(known)}")
    return names


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--general", help="comma-separated general sets (default: all, in the "
                                           f"order {','.join(v3.GENERAL_SETS)})")
    parser.add_argument("--targets", help="comma-separated v3 targets (default: all, GRID_ORDER)")
    parser.add_argument("--models", help="comma-separated zoo models (default: all)")
    parser.add_argument("--no-commit", action="store_true", help="do not commit the folders")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    generals = _names(args.general, v3.GENERAL_SETS, "general set")
    targets = _names(args.targets, GRID_ORDER, "target")
    setting = settings.get("v3")
    models = _names(args.models, setting.models, "model")
    configure_torch(1)
    total = len(generals) * len(targets) * len(models)
    k = 0
    for general in generals:
        out = folder(general)
        bench = setting.bench if general == "general" else v3.ABLATION
        for target in targets:
            for model in models:
                k += 1
                t0 = time.perf_counter()
                cell = v3.score_cell(model, target, out, general, cache_dir=CACHE,
                                     device=args.device)
                wall = time.perf_counter() - t0
                if wall > 1:  # a cell scored now, not one found finished
                    print(f"{time.strftime('%H:%M:%S')} [{k}/{total}] {general} {target} {model}: "
                          f"{wall:.1f} s (features {cell['feature_seconds']:.1f} s)", flush=True)
            table = collect(bench, out)
            n_cells = len(table[["model", "target"]].drop_duplicates())
            print(f"{time.strftime('%H:%M:%S')} {general}: {n_cells} cells, {len(table)} scores",
                  flush=True)
            if not args.no_commit:
                rel = out.relative_to(ROOT)
                commit(f"Benchmark v3 scores ({general} set): {n_cells} cells "
                       f"(benchmarks/v3_scores.py)", (str(rel),))
    return 0


if __name__ == "__main__":
    sys.exit(main())
