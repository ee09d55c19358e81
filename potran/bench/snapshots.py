"""Features along fine-tuning, what ranking models by them gives, and what fine-tuning costs.

A ground-truth grid keeps, per (model, target) cell, ``snapshots/<model>__<target>.npz``: the
penultimate features of P fixed training images (the probe) at a few points of the first seed's
fine-tuning run, and ``cells/<model>__<target>.json``: the cell's record with its timings.
Benchmark v4's grid (``benchmarks/v4_grid.py``; records with a ``protocol``) stores raw features at
25, 50 and 100 % of the run (0 % is recomputable); :mod:`potran.bench.groundtruth`'s stores 0 % too,
each snapshot on at most ``SCORE_DIM`` principal components of its own (:mod:`potran.bench.reduction`).
Cells still being computed are absent. For the book's fine-tuning page (supplementary §C).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from pathlib import Path

import numpy as np
import pandas as pd

from ..perturbations import NONE, PED
from .folders import FEATURE_CACHE
from .timing import measure

__all__ = ["Snapshot", "available_cells", "load_snapshot", "cell_costs", "snapshot_scores",
           "snapshot_tau", "probe_features", "with_pretrained", "score_pretrained", "extraction_seconds"]


@dataclass(frozen=True)
class Snapshot:
    """Probe features of one cell along the first seed's fine-tuning run.

    ``features`` (K, P, d) float64: the P probe images' features at the K snapshots, taken at
    iterations ``steps`` (K,), ``fractions`` (K,) of the run (0 = pretrained, 1 = end: the grid's
    ``snapshot_fractions``, else ``steps`` over the iterations). ``labels`` (P,); ``indices`` (P,):
    positions in the target's training split. ``reduced``: on its own principal components (v4: raw).
    """

    model: str
    target: str
    features: np.ndarray
    steps: np.ndarray
    fractions: np.ndarray
    labels: np.ndarray
    indices: np.ndarray
    reduced: bool = True


def available_cells(groundtruth_dir, models=None, targets=None, *,
                    accuracy: pd.DataFrame | None = None) -> list[tuple[str, str]]:
    """(model, target) pairs whose cell record and snapshot file both exist, optionally restricted.

    Sorted by target, then model; ``models`` / ``targets`` None keep every name found;
    ``accuracy`` (columns model, target), when given, keeps only the cells with a row in it.
    """
    root = Path(groundtruth_dir)
    done = None if accuracy is None else set(zip(accuracy.model, accuracy.target))
    pairs = [path.stem.partition("__")[::2] for path in (root / "cells").glob("*__*.json")]  # (model, target)
    return sorted([(m, t) for m, t in pairs
                   if (models is None or m in models) and (targets is None or t in targets)
                   and (done is None or (m, t) in done)
                   and (root / "snapshots" / f"{m}__{t}.npz").is_file()], key=lambda mt: (mt[1], mt[0]))


def _record(groundtruth_dir, model: str, target: str) -> dict:
    return json.loads((Path(groundtruth_dir) / "cells" / f"{model}__{target}.json").read_text())


def load_snapshot(groundtruth_dir, model: str, target: str) -> Snapshot:
    """The snapshots of one cell, with the share of the run each was taken at."""
    with np.load(Path(groundtruth_dir) / "snapshots" / f"{model}__{target}.npz") as z:
        features, steps = z["features"].astype(np.float64), np.asarray(z["steps"])
        labels, indices = np.asarray(z["labels"]), np.asarray(z["indices"])
    record = _record(groundtruth_dir, model, target)
    nominal = record.get("config", record.get("protocol", {})).get("snapshot_fractions")
    if nominal is not None and len(nominal) == len(steps):
        fractions = np.asarray(sorted(nominal), dtype=float)   # the shares the grid asked for
    else:
        total = record.get("iterations") or (int(steps.max()) if steps.max() > 0 else 1)
        fractions = steps / total
    reduced = "protocol" not in record   # v4's records carry their protocol
    return Snapshot(model, target, features, steps, fractions, labels, indices, reduced)


def cell_costs(groundtruth_dir, cells) -> pd.DataFrame:
    """Recorded fine-tuning time of each cell: model, target, wall_s (the whole cell: every
    training run, test evaluation and snapshot), runs_s (the training runs summed), n_runs
    (training runs: v4's learning-rate search on the first seed, then the other seeds), n_seeds,
    iterations (per run), device, threads."""
    rows = []
    for model, target in cells:
        r = _record(groundtruth_dir, model, target)
        runs = r.get("search", []) + r.get("runs", [])[1 if r.get("search") else 0:]
        rows.append({"model": model, "target": target, "wall_s": float(r["wall_s"]),
                     "runs_s": float(sum(run["seconds"] for run in runs)), "n_runs": len(runs),
                     "n_seeds": len(r.get("runs", [])),
                     "iterations": r.get("iterations") or max(r.get("snapshot_steps") or [0]) or None,
                     "device": r.get("device"), "threads": r.get("threads")})
    return pd.DataFrame(rows, columns=["model", "target", "wall_s", "runs_s", "n_runs", "n_seeds",
                                       "iterations", "device", "threads"])


def snapshot_scores(snapshots, metrics=("logme",), **options) -> pd.DataFrame:
    """Score every snapshot with every metric (names in :data:`potran.metrics.REGISTRY`;
    ``options`` go to :func:`potran.score`, e.g. ``device``): one row per snapshot and metric,
    columns model, target, fraction, step, metric, score."""
    from ..scoring import score

    rows = [{"model": snap.model, "target": snap.target, "fraction": float(fraction), "step": int(step),
             "metric": metric, "score": float(score(x, snap.labels, metric, **options))}
            for snap in snapshots for x, step, fraction in zip(snap.features, snap.steps, snap.fractions)
            for metric in metrics]
    return pd.DataFrame(rows, columns=["model", "target", "fraction", "step", "metric", "score"])


def snapshot_tau(scores: pd.DataFrame, accuracy: pd.DataFrame, *, by=("fraction",),
                 min_models: int = 3) -> pd.DataFrame:
    """Weighted tau between the scores and the fine-tuning accuracy, per target and group.

    ``scores``: columns model, target, metric, score and ``by`` (e.g. ``fraction``,
    ``perturbation``); ``accuracy``: ``accuracy.csv`` (model, target, test_acc). Groups with under
    ``min_models`` models having both are left out. Returns target, metric, the ``by`` columns,
    weighted_tau (NaN where all scores or all accuracies are equal), n_models.
    """
    from ..evaluation import weighted_tau

    keys = ["target", "metric", *by]
    both = scores.merge(accuracy[["model", "target", "test_acc"]], on=["model", "target"])
    rows = []
    for key, group in both.groupby(keys, sort=False):
        if len(group) < min_models:
            continue
        s, g = (pd.Series(group[c].to_numpy(), index=group.model) for c in ("score", "test_acc"))
        try:
            tau = weighted_tau(s, g)
        except ValueError:
            tau = float("nan")
        rows.append(dict(zip(keys, key), weighted_tau=tau, n_models=len(group)))
    return pd.DataFrame(rows, columns=[*keys, "weighted_tau", "n_models"])


def probe_features(arrays: dict, snapshot: Snapshot, training_idx) -> tuple[np.ndarray, np.ndarray]:
    """The 0 % snapshot rebuilt from the pretrained features, and the general set in its basis.

    ``arrays``: the cell's :func:`potran.bench.runner.cell_features` (raw ``X`` of the training
    images, rows ``training_idx`` of the target (:func:`potran.bench.finetune.training_indices`),
    raw general set ``G``). Returns the probe's pretrained features (P, d) and the general set
    (M, d): raw, or, when ``snapshot.reduced``, on the probe's own leading principal components
    (:func:`potran.bench.reduction.reduce_features`). ValueError if a probe image is not among
    the training images.
    """
    from .reduction import reduce_features

    training_idx = np.asarray(training_idx)
    pos = np.searchsorted(training_idx, snapshot.indices)
    inside = np.minimum(pos, len(training_idx) - 1)
    if (pos >= len(training_idx)).any() or not np.array_equal(training_idx[inside], snapshot.indices):
        raise ValueError("the snapshot's probe images are not all among the cell's training images")
    if not snapshot.reduced:
        return np.asarray(arrays["X"][pos], dtype=np.float64), np.asarray(arrays["G"], dtype=np.float64)
    return reduce_features(arrays["X"][pos], arrays["G"])


def with_pretrained(snapshot: Snapshot, pretrained: np.ndarray) -> Snapshot:
    """``snapshot`` with the pretrained features (:func:`probe_features`) as its 0 % snapshot
    (step 0) when the grid did not store one; unchanged when it did."""
    if len(snapshot.fractions) and snapshot.fractions[0] == 0:
        return snapshot
    return replace(snapshot, features=np.concatenate([pretrained[None], snapshot.features]),
                   steps=np.concatenate([[0], snapshot.steps]),
                   fractions=np.concatenate([[0.0], snapshot.fractions]))


def score_pretrained(bench, snapshots: dict, metrics, *, cache_dir=FEATURE_CACHE, device="cpu",
                     timed=None, repeats: int = 3,
                     min_time: float = 0.1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PED scores of the rebuilt 0 % snapshots, and the time of each metric with and without PED.

    Per cell of ``snapshots`` ({(model, target): Snapshot}), the pretrained features are read once
    (:func:`potran.bench.runner.cell_features`, with ``cache_dir``, ``device``); the 0 % snapshot
    is rebuilt (:func:`probe_features`) and scored by every metric with PED, and, for the cells in
    ``timed`` (None: all), every metric is timed without and with PED on the cell's scored features
    (:func:`potran.bench.timing.measure`: fastest of at least ``repeats`` runs, ``min_time``).
    ``bench.finetune`` must be the ground truth's (it picks the training images). Returns ``scores``
    (model, target, fraction 0, step 0, metric, perturbation "ped", score, rebuild_error: largest
    absolute difference between rebuilt and stored 0 % snapshot over the largest absolute stored
    feature; float16 storage alone gives up to about 5e-4) and ``times`` (model, target, n_images,
    n_general, metric, perturbation "none"/"ped", seconds).
    """
    from ..scoring import score
    from .finetune import training_indices
    from .runner import cell_features

    load_target = lru_cache(maxsize=1)(bench.sources.load_target)   # cells come grouped by target
    score_rows, time_rows = [], []
    for (model, target), snap in snapshots.items():
        task = load_target(target)
        arrays = cell_features(bench, model, task, cache_dir=cache_dir, device=device)
        X0, G0 = probe_features(arrays, snap, training_indices(len(task.y_train), bench.finetune))
        snap = with_pretrained(snap, X0)      # where the grid stored no 0 % snapshot, X0 is it
        error = float(np.abs(X0 - snap.features[0]).max() / np.abs(snap.features[0]).max())
        X, G, y = arrays["X_scored"], arrays["G_scored"], arrays["y"]
        for metric in metrics:
            score_rows.append({"model": model, "target": target, "fraction": 0.0, "step": 0,
                               "metric": metric, "perturbation": PED, "rebuild_error": error,
                               "score": float(score(X0, snap.labels, metric, ped=True, general=G0,
                                                    device=device))})
            for perturbation in (NONE, PED) if timed is None or (model, target) in timed else ():
                kw = {"ped": True, "general": G} if perturbation == PED else {}
                call = partial(score, X, y, metric, device=device, **kw)   # device reaches the metric
                m = measure(call, device=device, repeats=repeats, min_time=min_time, memory=False)
                time_rows.append({"model": model, "target": target, "n_images": len(y),
                                  "n_general": len(G), "metric": metric, "perturbation": perturbation,
                                  "seconds": m.seconds})
    return pd.DataFrame(score_rows), pd.DataFrame(time_rows, columns=[
        "model", "target", "n_images", "n_general", "metric", "perturbation", "seconds"])


def extraction_seconds(zoo_model, images, *, device="cpu", batch_size: int = 256,
                       repeats: int = 2) -> float:
    """Seconds per image of the forward pass that feature extraction does (fastest of ``repeats``).

    The network is built once, untimed; each timed run preprocesses and embeds all ``images``
    (uint8, N x H x W x 3) in batches, as :func:`potran.bench.features.extract_features` does.
    """
    import torch

    images = np.asarray(images)
    if len(images) == 0:
        raise ValueError("need at least one image to time")
    net = zoo_model.build().to(device).eval()
    best = float("inf")
    with torch.inference_mode():
        for _ in range(repeats):
            t0 = time.perf_counter()
            for start in range(0, len(images), batch_size):
                net(zoo_model.preprocess(images[start:start + batch_size]).to(device)).float().cpu()
            if str(device).startswith("cuda"):
                torch.cuda.synchronize()
            best = min(best, time.perf_counter() - t0)
    return best / len(images)

