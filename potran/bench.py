"""The benchmark runner: models x targets -> scores (+/- PED) -> weighted tau vs ground truth.

For every (model, target) cell the runner extracts (or loads from the feature cache) the
model's features of the target's *fine-tuning training images* -- the seeded subset of the
training split that :mod:`potran.finetune` trains and validates on (``training_indices``),
since the protocol scores the data fine-tuning learns from -- and of the general set, scores
every metric without and with PED, and writes ``cells/<model>__<target>.json`` atomically. A
rerun scores only what is missing. Then it writes the tidy tables

- ``scores.csv``: model, target, metric, ped, score, seconds, error (one row per score);
- ``tau.csv``: target, metric, ped, weighted_tau, n_models (one row per target, plus
  ``target == "mean"``, the mean over targets), tau_w against ``accuracy.csv``'s ``test_acc``.

Command line: ``potran bench`` (or ``python -m potran.bench``), ``--help`` for the options.
"""
from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import write_csv, write_json, write_text
from .finetune import FinetuneConfig, training_indices

__all__ = ["DEFAULT_METRICS", "SCORE_COLUMNS", "TAU_COLUMNS", "Benchmark", "cell_seed",
           "score_cell", "run", "collect", "tau_table", "add_bench_parser", "run_bench", "main"]

#: Metrics that need only features and labels (LEEP and NCE need source probabilities).
DEFAULT_METRICS = ("logme", "sfda", "gbc", "nleep", "parc", "hscore", "reg_hscore",
                   "transrate", "random", "dim", "norm")
SCORE_COLUMNS = ["model", "target", "metric", "ped", "score", "seconds", "error"]
TAU_COLUMNS = ["target", "metric", "ped", "weighted_tau", "n_models"]


@dataclass(frozen=True)
class Benchmark:
    """A benchmark definition.

    Parameters
    ----------
    models, targets : tuple of str
        Zoo model names and target names.
    metrics : tuple of str
        Names in ``potran.metrics.REGISTRY``.
    ped : tuple of bool
        Score without (False) and/or with (True) PED.
    ped_options : dict
        Keyword options of PED passed to ``potran.score`` when ``ped`` is True.
    finetune : FinetuneConfig
        Protocol of the ground truth; its ``n_train`` and ``seed`` pick the scored images.
    seed : int
        Base seed of the metrics that take a ``seed``; each cell passes its own
        :func:`cell_seed` so that, e.g., ``random`` differs between models.
    """

    models: tuple[str, ...]
    targets: tuple[str, ...]
    metrics: tuple[str, ...] = DEFAULT_METRICS
    ped: tuple[bool, ...] = (False, True)
    ped_options: dict = field(default_factory=dict)
    finetune: FinetuneConfig = FinetuneConfig()
    seed: int = 0


def cell_seed(seed: int, model: str, target: str) -> int:
    """Seed of the stochastic metrics in one cell: stable across runs and machines."""
    return zlib.crc32(f"{seed}/{model}/{target}".encode())


def _takes_seed(metric: str) -> bool:
    from .metrics import REGISTRY

    fn = REGISTRY.get(metric)  # unknown names fail inside score_cell, with the others
    return fn is not None and "seed" in inspect.signature(fn).parameters


def score_cell(X, y, G, metrics, peds=(False, True), ped_options=None, seed=0,
               done=()) -> list[dict]:
    """Score one cell with every metric and PED setting not already in ``done``.

    Parameters
    ----------
    X : ndarray (N, D)
        Features of the target images; ``y`` their labels; ``G`` general-set features.
    metrics, peds : sequence
        Metric names and PED settings.
    ped_options : dict, optional
        Options of PED, used when ``ped`` is True.
    seed : int
        Passed to the metrics that take a ``seed``.
    done : collection of (metric, ped)
        Pairs to skip.

    Returns
    -------
    list of dict
        One ``{"metric", "ped", "score", "seconds", "error"}`` per new pair; a metric that
        raises gets ``score`` None and the one-line error message.
    """
    from . import score

    rows = []
    for metric in metrics:
        opts = {"seed": seed} if _takes_seed(metric) else {}
        for ped in peds:
            if (metric, ped) in done:
                continue
            kw = dict(opts, **(ped_options or {}), general=G) if ped else opts
            t0 = time.perf_counter()
            try:
                value, error = float(score(X, y, metric, ped=ped, **kw)), ""
                if not np.isfinite(value):
                    value, error = None, f"non-finite score {value}"
            except Exception as err:  # noqa: BLE001 -- one failing metric must not stop a run
                value, error = None, f"{type(err).__name__}: {err}".splitlines()[0]
            rows.append({"metric": metric, "ped": bool(ped), "score": value,
                         "seconds": time.perf_counter() - t0, "error": error})
    return rows


def _cell_path(out_dir, model, target) -> Path:
    return Path(out_dir) / "cells" / f"{model}__{target}.json"


def _load_cell(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def run(bench: Benchmark, out_dir, *, groundtruth=None, get_model=None, load_target=None,
        load_general=None, extract=None, cache_dir=".cache/features", device="cpu",
        progress=True) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Run (or resume) ``bench`` into ``out_dir``; returns the score table and the tau table.

    Parameters
    ----------
    bench : Benchmark
    out_dir : path
        Result folder: ``cells/``, ``scores.csv`` and, with ``groundtruth``, ``tau.csv``.
    groundtruth : path or DataFrame, optional
        ``accuracy.csv`` of :mod:`potran.groundtruth` (columns model, target, test_acc).
    get_model, load_target, load_general, extract : callable, optional
        Defaults :func:`potran.zoo.get`, :func:`potran.datasets.load_target`,
        :func:`potran.datasets.load_general`, :func:`potran.features.extract_features`.
    cache_dir : path
        Feature cache folder.
    device : str
        Torch device of the feature extraction.
    progress : bool
        Show tqdm bars.
    """
    from tqdm.auto import tqdm

    if get_model is None:
        from .zoo import get as get_model
    if load_target is None:
        from .datasets import load_target
    if load_general is None:
        from .datasets import load_general
    if extract is None:
        from .features import extract_features as extract
    out_dir = Path(out_dir)
    wanted = {(m, p) for m in bench.metrics for p in bench.ped}
    targets, general_images, general = {}, None, {}
    bar = tqdm([(m, t) for t in bench.targets for m in bench.models], desc="bench",
               unit="cell", disable=not progress)
    for model, target in bar:
        bar.set_description(f"{model} / {target}")
        path = _cell_path(out_dir, model, target)
        cell = _load_cell(path) or {"model": model, "target": target, "rows": []}
        done = {(r["metric"], r["ped"]) for r in cell["rows"]}
        if wanted <= done:
            continue
        if target not in targets:
            targets[target] = load_target(target)
        tgt = targets[target]
        idx = training_indices(len(tgt.y_train), bench.finetune)
        zm = get_model(model)
        t0 = time.perf_counter()
        if model not in general:
            if general_images is None:
                general_images = load_general()
            general[model] = extract(zm, general_images, device=device, cache_dir=cache_dir,
                                     key="general", progress=False)
        X = extract(zm, np.asarray(tgt.x_train)[idx], device=device, cache_dir=cache_dir,
                    key=f"{target}/train-n{len(idx)}-seed{bench.finetune.seed}",
                    progress=False)
        cell["feature_seconds"] = time.perf_counter() - t0
        cell["n"], cell["dim"] = int(X.shape[0]), int(X.shape[1])
        cell["rows"] += score_cell(X, np.asarray(tgt.y_train)[idx], general[model],
                                   bench.metrics, bench.ped, bench.ped_options,
                                   cell_seed(bench.seed, model, target), done)
        write_json(path, cell)
    scores = collect(bench, out_dir)
    tau = None
    if groundtruth is not None:
        gt = groundtruth if isinstance(groundtruth, pd.DataFrame) else pd.read_csv(groundtruth)
        tau = tau_table(scores, gt)
        write_csv(out_dir / "tau.csv", tau)
    return scores, tau


def collect(bench: Benchmark, out_dir) -> pd.DataFrame:
    """Write ``scores.csv``: every finished score of ``bench`` found under ``out_dir``."""
    rows = []
    for t in bench.targets:
        for m in bench.models:
            cell = _load_cell(_cell_path(out_dir, m, t))
            for r in cell["rows"] if cell else ():
                if r["metric"] in bench.metrics and r["ped"] in bench.ped:
                    rows.append(dict(r, model=m, target=t))
    table = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    table["score"] = table["score"].astype(float)
    write_csv(Path(out_dir) / "scores.csv", table)
    return table


def tau_table(scores: pd.DataFrame, groundtruth: pd.DataFrame) -> pd.DataFrame:
    """Weighted tau of each (target, metric, ped) against ``test_acc``, plus the mean over targets.

    Models without a finite score or without ground truth are left out of that row (its
    ``n_models`` says how many remain); fewer than 2 models, or constant scores, give NaN.
    """
    from .evaluation import weighted_tau

    gt = groundtruth.set_index(["model", "target"])["test_acc"]
    rows = []
    for (target, metric, ped), grp in scores.groupby(["target", "metric", "ped"], sort=False):
        s = {m: v for m, v in zip(grp.model, grp.score)
             if np.isfinite(v) and (m, target) in gt.index}
        try:
            tau = weighted_tau(s, {m: gt[(m, target)] for m in s})
        except ValueError:
            tau = float("nan")
        rows.append({"target": target, "metric": metric, "ped": bool(ped),
                     "weighted_tau": tau, "n_models": len(s)})
    table = pd.DataFrame(rows, columns=TAU_COLUMNS)
    mean = (table.groupby(["metric", "ped"], sort=False)
            .agg(weighted_tau=("weighted_tau", "mean"), n_models=("n_models", "min"))
            .reset_index().assign(target="mean"))
    return pd.concat([table, mean[TAU_COLUMNS]], ignore_index=True)


def add_bench_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``bench`` subcommand to an argparse ``subparsers`` object."""
    d = FinetuneConfig()
    p = subparsers.add_parser("bench", help="score every metric (+/- PED) on models x targets "
                              "and rank against the fine-tuning ground truth",
                              description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", help="comma-separated zoo names (default: all)")
    p.add_argument("--targets", help="comma-separated target names (default: all)")
    p.add_argument("--metrics", default=",".join(DEFAULT_METRICS), help="comma-separated")
    p.add_argument("--ped", choices=("both", "off", "on"), default="both",
                   help="score without PED, with PED, or both")
    p.add_argument("--ped-option", action="append", default=[], metavar="KEY=VALUE",
                   help="PED option (number), repeatable, e.g. --ped-option nsigma=0.3")
    p.add_argument("--groundtruth", default="data/groundtruth/accuracy.csv",
                   help="fine-tuning accuracy table ('' to skip tau)")
    p.add_argument("--out", default="data/bench", help="result folder")
    p.add_argument("--cache-dir", default=".cache/features", help="feature cache")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=0, help="seed of the stochastic metrics")
    p.add_argument("--n-train", type=int, default=d.n_train,
                   help="training images scored, as in the ground truth (default: all)")
    p.add_argument("--gt-seed", type=int, default=d.seed,
                   help="seed of the ground truth's training subset")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run_bench)
    return p


def _ped_options(pairs) -> dict:
    opts = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--ped-option wants KEY=VALUE, got {pair!r}")
        opts[key] = int(value) if value.lstrip("-").isdigit() else float(value)
    return opts


def run_bench(args) -> int:
    """Run the ``bench`` subcommand from parsed ``args``; prints tau_w per target."""
    import torch

    from . import datasets, zoo

    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    split = lambda s, default: tuple(s.split(",")) if s else tuple(default)  # noqa: E731
    bench = Benchmark(models=split(args.models, zoo.names()),
                      targets=split(args.targets, datasets.TARGETS),
                      metrics=split(args.metrics, DEFAULT_METRICS),
                      ped={"both": (False, True), "off": (False,), "on": (True,)}[args.ped],
                      ped_options=_ped_options(args.ped_option),
                      finetune=FinetuneConfig(n_train=args.n_train, seed=args.gt_seed),
                      seed=args.seed)
    reused = sum(_cell_path(args.out, m, t).exists() for m in bench.models for t in bench.targets)
    t0 = time.perf_counter()
    scores, tau = run(bench, args.out, groundtruth=args.groundtruth or None,
                      cache_dir=args.cache_dir, device=args.device,
                      progress=not args.no_progress)
    wall = time.perf_counter() - t0
    failed = scores[scores.error.fillna("") != ""]
    cells = len(bench.models) * len(bench.targets)
    summary = (f"{len(scores)} scores ({len(failed)} failed) of {len(bench.models)} models x "
               f"{len(bench.targets)} targets in {wall:.0f} s, {cells - reused} of {cells} "
               "cells (re)scored")
    wide = None if tau is None else tau.pivot_table(
        index=["metric", "ped"], columns="target", values="weighted_tau", sort=False,
        dropna=False).round(3).to_string()
    seconds = (scores.pivot_table(index="metric", columns="ped", values="seconds", aggfunc="sum",
                                  sort=False).round(1).to_string())
    print(summary)
    if wide is not None:
        print(f"weighted tau ({Path(args.out) / 'tau.csv'}):\n{wide}")
    write_text(Path(args.out) / "README.md", _readme(args, summary, wide, seconds))
    return 0


def _readme(args, summary: str, wide: str | None, seconds: str) -> str:
    """README of the result folder: options, versions, this run's timing, tau table."""
    import platform

    import sklearn
    import torch

    options = {k: v for k, v in vars(args).items() if k not in ("func", "command")}
    tau = f"Weighted tau against `{args.groundtruth}`:\n\n```\n{wide}\n```\n" if wide else ""
    return f"""# Benchmark scores

Made by `potran bench` with the options

```json
{json.dumps(options, indent=1)}
```

python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__},
scikit-learn {sklearn.__version__}; torch threads {torch.get_num_threads()}.
Last run: {summary} (a rerun reuses `cells/` and the feature cache).

`scores.csv`: one row per (model, target, metric, ped) with the score, the seconds it took and
the error message of a metric that failed. `tau.csv`: weighted tau (scipy's defaults) of each
(target, metric, ped) over the models, and its mean over targets (`target == "mean"`).
The scored images are each target's training images used by the ground truth's fine-tuning.

Seconds spent per metric, summed over the cells, without (False) and with (True) PED (the
scoring of the cells computed in the run that made the score):

```
{seconds}
```

{tau}"""


def main(argv=None) -> int:
    """``python -m potran.bench``: the same as ``potran bench``."""
    parser = argparse.ArgumentParser(prog="python -m potran.bench")
    add_bench_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["bench", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
