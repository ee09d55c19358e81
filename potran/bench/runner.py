"""The scoring grid (``potran bench``): models x targets x perturbations -> scores -> weighted tau.

Per (model, target) cell, the reduced features of the training images fine-tuning learns from
(:func:`potran.bench.finetune.training_indices`) and of the general set are scored by every metric
after every perturbation and saved in a :class:`~potran.bench.store.CellStore` (a rerun scores only
what is missing); then ``scores.csv`` (one row per score) and ``tau.csv`` (tau_w per target against
``test_acc`` of ``accuracy.csv``, plus ``target == "mean"``).
"""
from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..metrics import FEATURE_METRICS
from ..ped import EPS as PED_EPS
from ..perturbations import NONE, PED, move, trace_columns
from .finetune import FinetuneConfig, training_indices
from .folders import FEATURE_CACHE
from .reduction import SCORE_DIM, reduce_features
from .sources import OFFLINE, Sources
from .store import CellStore, write_csv

__all__ = ["DEFAULT_METRICS", "DEFAULT_PERTURBATIONS", "WIDTH_METRICS", "SCORE_COLUMNS", "Benchmark",
           "cell_seed", "attempt", "move_all", "score_moved", "score_cell", "cell_features", "score_one",
           "run", "collect"]

#: Metrics that need only features and labels (LEEP and NCE need source probabilities).
DEFAULT_METRICS = FEATURE_METRICS
#: Baselines about the backbone's own features, scored before the dimension reduction.
WIDTH_METRICS = ("dim", "norm")
#: Perturbations of a benchmark unless it says otherwise: none and PED with its defaults.
DEFAULT_PERTURBATIONS = (NONE, PED)
SCORE_COLUMNS = ["model", "target", "metric", "perturbation", "score", "seconds", "error", "ped_steps",
                 "energy_ratio"]


@dataclass(frozen=True)
class Benchmark:
    """A benchmark definition: ``metrics`` (names in ``potran.metrics.REGISTRY``) after
    ``perturbations`` (labels of :mod:`potran.perturbations`: ``"none"``, ``"ped:nsigma=2"``, ...);
    ``finetune``, the ground truth's protocol, whose ``n_train`` picks the scored images. Features
    wider than ``score_dim`` are reduced to their leading principal components; ``reduce_all``
    also centres and rotates narrower ones (benchmark v3). ``seed``: base seed of the stochastic
    metrics (each cell's: :func:`cell_seed`). ``sources``: :mod:`potran.bench.sources`.
    """

    models: tuple[str, ...]
    targets: tuple[str, ...]
    metrics: tuple[str, ...] = DEFAULT_METRICS
    perturbations: tuple[str, ...] = DEFAULT_PERTURBATIONS
    finetune: FinetuneConfig = FinetuneConfig()
    score_dim: int = SCORE_DIM
    reduce_all: bool = False
    seed: int = 0
    sources: Sources = OFFLINE


def cell_seed(seed: int, model: str, target: str) -> int:
    """Seed of the stochastic metrics in one cell: stable across runs and machines."""
    return zlib.crc32(f"{seed}/{model}/{target}".encode())


def attempt(function, *args, **kwargs):
    """``function(*args, **kwargs)`` as ``(value, error, seconds)``: a call that raises gives
    value None and the error's first line, so one failing score never stops a grid."""
    t0 = time.perf_counter()
    try:
        value, error = function(*args, **kwargs), ""
    except Exception as err:  # noqa: BLE001 -- recorded in the result instead
        value, error = None, f"{type(err).__name__}: {err}".splitlines()[0]
    return value, error, time.perf_counter() - t0


def move_all(X, y, G, perturbations) -> dict:
    """``{label: (Moved or None, error, seconds)}``: each perturbation of one cell applied once
    (:func:`potran.perturbations.move`); a motion that raises gives None and its one-line error."""
    return {p: attempt(move, p, X, y, G) for p in dict.fromkeys(perturbations)}


def score_moved(moved: dict, y, metrics, seed=0, done=()) -> list[dict]:
    """One ``{"metric", "perturbation", "score", "seconds", "error"}`` (with PED also
    :func:`potran.perturbations.trace_columns`) per pair not in ``done`` of every metric and every
    perturbation's features of :func:`move_all`; ``seconds`` adds the perturbation's time, a metric
    or perturbation that raises gives ``score`` None and the one-line error, ``seed`` goes to the
    stochastic metrics."""
    from ..metrics import SPECS
    from ..scoring import score

    rows = []
    for metric in metrics:
        # unknown names fail inside score, with the other errors
        opts = {"seed": seed} if getattr(SPECS.get(metric), "stochastic", False) else {}
        for p, (features, motion_error, motion_seconds) in moved.items():
            if (metric, p) in done:
                continue
            row = {"metric": metric, "perturbation": p}
            if features is None:
                value, error, seconds = None, motion_error, motion_seconds
            else:
                value, error, seconds = attempt(score, features.features, y, metric, **opts)
                seconds += motion_seconds
                if value is not None:
                    value = float(value)
                    if not np.isfinite(value):
                        value, error = None, f"non-finite score {value}"
                row.update(trace_columns(features))
            rows.append(dict(row, score=value, seconds=seconds, error=error))
    return rows


def score_cell(X, y, G, metrics, perturbations=DEFAULT_PERTURBATIONS, seed=0, done=()) -> list[dict]:
    """Score one cell (features ``X`` (N, D), labels ``y``, general set ``G``) with every metric and
    perturbation not in ``done`` ((metric, perturbation) pairs): :func:`move_all`, each perturbation
    once, then :func:`score_moved`, whose rows it returns."""
    todo = {p for m in metrics for p in perturbations if (m, p) not in done}
    return score_moved(move_all(X, y, G, [p for p in perturbations if p in todo]), y, metrics,
                       seed, done)


def cell_features(bench: Benchmark, model: str, target, *, cache_dir=FEATURE_CACHE,
                  device="cpu") -> dict:
    """The arrays one cell scores, ``{"X", "G", "X_scored", "G_scored", "y"}``: raw and reduced
    (:func:`~potran.bench.reduction.reduce_features`) features, through the feature cache, of the
    general set and of ``target`` (a name or an already loaded target of ``bench.sources``)."""
    src = bench.sources
    tgt = src.load_target(target) if isinstance(target, str) else target
    zm = src.get_model(model)
    idx = training_indices(len(tgt.y_train), bench.finetune)
    G = src.extract(zm, src.load_general(), device=device, cache_dir=cache_dir, key="general",
                    progress=False)
    X = src.extract(zm, np.asarray(tgt.x_train)[idx], device=device, cache_dir=cache_dir,
                    key=f"{tgt.name}/train-n{len(idx)}", progress=False)
    X_red, G_red = reduce_features(X, G, bench.score_dim, always=bench.reduce_all)
    return {"X": X, "G": G, "X_scored": X_red, "G_scored": G_red,
            "y": np.asarray(tgt.y_train)[idx]}


def score_one(bench: Benchmark, model: str, target: str, out_dir, *, cache_dir=FEATURE_CACHE,
              device="cpu") -> dict:
    """Score what is missing of one (model, target) cell and save it; returns its record. Safe for
    several processes (or Dask workers) on one ``out_dir``: files are written atomically."""
    store = CellStore(out_dir)
    cell = store.load(model, target) or {"model": model, "target": target, "rows": []}
    done = {(r["metric"], r["perturbation"]) for r in cell["rows"]}
    if {(m, p) for m in bench.metrics for p in bench.perturbations} <= done:
        return cell
    t0 = time.perf_counter()
    arrays = cell_features(bench, model, target, cache_dir=cache_dir, device=device)
    X, G, y = arrays["X"], arrays["G"], arrays["y"]
    X_red, G_red = arrays["X_scored"], arrays["G_scored"]
    cell["feature_seconds"] = time.perf_counter() - t0
    cell["n"], cell["dim"], cell["score_dim"] = int(X.shape[0]), int(X.shape[1]), int(X_red.shape[1])
    cell["floored_raw"] = int((G.std(0) < PED_EPS).sum())
    cell["floored_scored"] = int((G_red.std(0) < PED_EPS).sum())
    seed = cell_seed(bench.seed, model, target)
    width = tuple(m for m in bench.metrics if m in WIDTH_METRICS)
    rest = tuple(m for m in bench.metrics if m not in WIDTH_METRICS)
    cell["rows"] += score_cell(X, y, G, width, bench.perturbations, seed, done)
    cell["rows"] += score_cell(X_red, y, G_red, rest, bench.perturbations, seed, done)
    store.save(model, target, cell)
    return cell


def run(bench: Benchmark, out_dir, *, groundtruth=None, cache_dir=FEATURE_CACHE, device="cpu",
        progress=True, client=None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Run (or resume) ``bench`` into ``out_dir``; returns the score table and the tau table.

    ``out_dir`` receives ``cells/``, ``scores.csv`` and, with ``groundtruth`` (``accuracy.csv``
    of :mod:`potran.bench.groundtruth`, path or DataFrame), ``tau.csv``. ``cache_dir``: feature
    cache shared by all workers; ``client`` (dask.distributed): score the missing cells on that
    cluster (:mod:`potran.bench.distributed`) instead of here.
    """
    from .distributed import map_cells

    cells = [(m, t) for t in bench.targets for m in bench.models]
    map_cells(score_one, cells, client=client, progress=progress, desc="bench",
              args=(bench,), kwargs=dict(out_dir=str(out_dir), cache_dir=str(cache_dir),
                                         device=device))
    scores = collect(bench, out_dir)
    tau = None
    if groundtruth is not None:
        from .tau import tau_table

        gt = groundtruth if isinstance(groundtruth, pd.DataFrame) else pd.read_csv(groundtruth)
        tau = tau_table(scores, gt)
        write_csv(Path(out_dir) / "tau.csv", tau)
    return scores, tau


def collect(bench: Benchmark, out_dir) -> pd.DataFrame:
    """Write ``scores.csv``: every finished score of ``bench`` found under ``out_dir``."""
    store = CellStore(out_dir)
    rows = [dict(r, model=m, target=t) for t in bench.targets for m in bench.models
            for r in (store.load(m, t) or {"rows": ()})["rows"]
            if r["metric"] in bench.metrics and r["perturbation"] in bench.perturbations]
    table = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    table["score"] = table["score"].astype(float)
    write_csv(Path(out_dir) / "scores.csv", table)
    return table
