"""PED beside its successors, SA and NCTI, on one benchmark.

SA (:mod:`potran.sa`) perturbs the features before a metric scores them, as PED does; NCTI
(:func:`potran.metrics.ncti`) is a metric of its own whose final score is relative to the pool of
models scored on a target (:func:`potran.metrics.ncti_pool_scores`). :func:`score_cells` scores
every (model, target) cell of a benchmark the way the runner does (the same scored features,
:func:`potran.bench.runner.cell_features`): each base metric on the raw features, after PED and
after SA, and NCTI's components; :func:`ncti_scores` turns the components into pool scores per
target, and :func:`method_table` gives the score table that :func:`potran.bench.report.tau_intervals`
takes for one perturbation (``ped`` False: the metric alone, True: after the perturbation).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics import PED_METRICS
from .folders import FEATURE_CACHE

__all__ = ["METHODS", "score_cells", "ncti_scores", "method_table"]

#: The feature perturbations compared: none, PED (potran.ped), SA (potran.sa).
METHODS = ("none", "PED", "SA")
_COLUMNS = ["model", "target", "metric", "method", "score", "seconds", "error"]


def score_cells(page, metrics=PED_METRICS, *, sa_options=None, ped_options=None,
                cache_dir=FEATURE_CACHE, device="cpu", progress: bool = False):
    """Score every cell of ``page`` with each metric alone, after PED and after SA, and NCTI.

    Parameters
    ----------
    page : potran.bench.pages.PageBenchmark
        The benchmark (its models, targets, scored width and sources).
    metrics : sequence of str
        Base metrics (names in ``potran.metrics.REGISTRY``).
    sa_options, ped_options : dict, optional
        Options of :func:`potran.sa.perturb` and :func:`potran.ped.simulate`.
    cache_dir, device
        As for :meth:`~potran.bench.pages.PageBenchmark.cell_features`.

    Returns
    -------
    scores : DataFrame
        model, target, metric, method (one of `METHODS`), score, seconds, error; the seconds of
        a perturbed score include the perturbation.
    cells : DataFrame
        model, target, n, dim, sa_gate_mean (the mean of the two largest covariance eigenvalues),
        sa_gate_open, ped_steps, ncti_seli, ncti_ncc, ncti_vc (NaN where NCTI failed).
    """
    from tqdm.auto import tqdm

    from .. import ped, sa
    from ..metrics import ncti
    from ..scoring import score
    from .runner import attempt

    rows, cells = [], []
    pairs = [(m, t) for t in page.targets for m in page.models]
    for model, target in tqdm(pairs, desc="successors", unit="cell", disable=not progress):
        arrays = page.cell_features(model, target, cache_dir=cache_dir, device=device)
        X, y, G = arrays["X_scored"], arrays["y"], arrays["G_scored"]
        moved = {"none": (X, "", 0.0)}
        motion, error, seconds = attempt(ped.simulate, X, y, G, **(ped_options or {}))
        moved["PED"] = (None if motion is None else motion.features, error, seconds)
        perturbed, error, seconds = attempt(sa.perturb, X, y, **(sa_options or {}))
        moved["SA"] = (None if perturbed is None else perturbed.features, error, seconds)
        for metric in metrics:
            for method in METHODS:
                features, error, seconds = moved[method]
                value = None
                if features is not None:
                    value, error, metric_seconds = attempt(score, features, y, metric)
                    seconds += metric_seconds
                rows.append({"model": model, "target": target, "metric": metric, "method": method,
                             "score": None if value is None else float(value), "seconds": seconds,
                             "error": error})
        components, error, _ = attempt(ncti, X, y)
        cells.append({"model": model, "target": target, "n": len(y), "dim": X.shape[1],
                      "sa_gate_mean": None if perturbed is None else perturbed.trace.gate_mean,
                      "sa_gate_open": None if perturbed is None else perturbed.trace.gate_open,
                      "ped_steps": None if motion is None else motion.trace.steps,
                      **{f"ncti_{k}": (np.nan if components is None else float(getattr(components, k)))
                         for k in ("seli", "ncc", "vc")}, "ncti_error": error})
    scores = pd.DataFrame(rows, columns=_COLUMNS)
    scores["score"] = scores["score"].astype(float)
    return scores, pd.DataFrame(cells)


def ncti_scores(cells: pd.DataFrame) -> pd.DataFrame:
    """NCTI's final scores: each target's models normalised as one pool (cells NCTI failed on are
    left out of their pool). Columns model, target, metric ("ncti"), method ("none"), score."""
    from ..metrics import ncti_pool_scores

    parts = []
    keys = ["ncti_seli", "ncti_ncc", "ncti_vc"]
    for target, grp in cells.dropna(subset=keys).groupby("target", sort=False):
        pool = ncti_pool_scores(list(grp[keys].itertuples(index=False, name=None)))
        parts.append(pd.DataFrame({"model": grp.model.to_numpy(), "target": target, "metric": "ncti",
                                   "method": "none", "score": pool}))
    if not parts:
        return pd.DataFrame(columns=["model", "target", "metric", "method", "score"])
    return pd.concat(parts, ignore_index=True)


def method_table(scores: pd.DataFrame, method: str) -> pd.DataFrame:
    """The score table of :func:`potran.bench.report.tau_intervals` for one perturbation:
    ``ped`` False for the metric alone, True after ``method``; failed scores left out."""
    if method not in METHODS[1:]:
        raise ValueError(f"method must be one of {METHODS[1:]}, got {method!r}")
    part = scores[scores.method.isin(["none", method]) & scores.score.notna()]
    return part.assign(ped=part.method == method)[["model", "target", "metric", "ped", "score"]]
