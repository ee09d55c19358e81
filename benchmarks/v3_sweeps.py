"""The sweeps of benchmark v3 (or v4), committed as data for the λ grid, normalization and
successors pages (setting "v3" or "v4" of potran.bench.settings; its committed folders ``sweeps``
and ``successors``).

    .venv/bin/python benchmarks/v3_sweeps.py [--setting v4] [--targets a,b] [--models m,n] [--no-commit]

- ``data/bench_v3/sweeps/`` (``data/bench_v4/sweeps/`` with ``--setting v4``): runner cells (``cells/<model>__<target>.json``, ``scores.csv``,
  :func:`potran.bench.runner.score_one`) of LogME, SFDA and GBC without PED, with PED at every
  λ of the supplementary's grid (:data:`potran.bench.ped_options.RADIUS_GRID`) and with PED in the
  raw space at the paper's λ (the normalization page's run);
- ``data/bench_v3/successors/`` (``data/bench_v4/successors/``): :func:`potran.bench.successors.score_cell`
  records (each metric alone, after PED, after SA; NCTI's components and SA's gate), with
  ``scores.csv`` and ``cells.csv``. SA's step is the setting's (:func:`potran.bench.successors.sa_alpha`:
  "group1" on v3, whose zoo mixes kinds; "group2" on v4, whose ranked models are all self-supervised).

Each cell's features are extracted once (cached under ``.cache/features``) and serve both
folders. Resumable: a rerun scores only the missing cells. Targets come in the fine-tuning grid's
order; after each target both folders are committed (path-limited). One torch thread.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
from git_commit import commit  # the scripts' shared path-limited commit
from v3_groundtruth import GRID_ORDER

from potran.bench import configure_torch, ped_options, settings, successors
from potran.bench.runner import collect, score_one
from potran.bench.store import CellStore, write_csv
from potran.bench.v4 import zoo as v4_zoo
from potran.metrics import PED_METRICS
from potran.perturbations import NONE, PED, SA, label

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "features"
PAPER_NSIGMA = 0.6
#: what the three pages score by default, in one runner cell (the normalization page's two ways:
#: PED standardised by the general set, and in the raw space)
PERTURBATIONS = tuple(dict.fromkeys((NONE, *ped_options.radius_grid(None, PAPER_NSIGMA)[1].values(),
                                     label(PED, nsigma=PAPER_NSIGMA),
                                     label(PED, nsigma=PAPER_NSIGMA, standardize=False))))


def sweep_benchmark(setting):
    return setting.benchmark(metrics=PED_METRICS, perturbations=PERTURBATIONS)


def write_successors(setting, folder: Path) -> pd.DataFrame:
    """``scores.csv`` and ``cells.csv`` of the successors folder, from its cells."""
    scores, cells = successors.score_cells(setting, PED_METRICS, sa_options={"alpha": successors.sa_alpha(setting.name)})
    write_csv(folder / "scores.csv", scores)
    write_csv(folder / "cells.csv", cells)
    return scores


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", default="v3", choices=("v3", "v4"), help="the benchmark (default v3)")
    parser.add_argument("--targets", help="comma-separated v3 targets (default: all, GRID_ORDER)")
    parser.add_argument("--models", help="comma-separated zoo models (default: all)")
    parser.add_argument("--no-commit", action="store_true", help="do not commit the folders")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    try:
        every = None if args.setting == "v3" else v4_zoo.names()   # on v4 the controls too
        full = settings.get(args.setting, every)
        chosen = settings.get(args.setting, args.models or every, args.targets)
    except ValueError as err:
        raise SystemExit(str(err)) from None
    targets = [t for t in GRID_ORDER if t in chosen.targets]
    sweep_dir, succ_dir = full.data["sweeps"], full.data["successors"]
    bench, store = sweep_benchmark(full), CellStore(succ_dir)
    ped, sa = label(PED), label(SA, alpha=successors.sa_alpha(args.setting))
    configure_torch(1)
    total, k = len(targets) * len(chosen.models), 0
    for target in targets:
        for model in chosen.models:
            k += 1
            t0 = time.perf_counter()
            score_one(bench, model, target, sweep_dir, cache_dir=CACHE, device=args.device)
            if store.load(model, target) is None:
                store.save(model, target, successors.score_cell(
                    full, model, target, PED_METRICS, ped=ped, sa=sa, cache_dir=CACHE, device=args.device))
            wall = time.perf_counter() - t0
            if wall > 0.5:  # a cell scored now, not one found finished
                print(f"{time.strftime('%H:%M:%S')} [{k}/{total}] {target} {model}: {wall:.1f} s", flush=True)
        done = settings.get(args.setting, chosen.models, targets[:targets.index(target) + 1])
        table = collect(sweep_benchmark(done), sweep_dir)
        write_successors(done, succ_dir)
        n_cells = len(table[["model", "target"]].drop_duplicates())
        print(f"{time.strftime('%H:%M:%S')} sweeps: {n_cells} cells, {len(table)} scores", flush=True)
        if not args.no_commit:
            commit(f"Benchmark {args.setting} sweeps and successors: {n_cells} cells (benchmarks/v3_sweeps.py)",
                   (str(sweep_dir.relative_to(ROOT)), str(succ_dir.relative_to(ROOT))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
