"""The benchmark's tau table (``potran bench``'s ``tau.csv``, :func:`potran.bench.runner.run`): tau_w
(:func:`potran.evaluation.weighted_tau`) per (target, metric, perturbation) under the benchmark's tie rule."""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from ..evaluation import correlate_by_target, require_columns, weighted_tau
from ..reduction import TIE_RTOL

__all__ = ["BENCH_TIE_RTOL", "TAU_COLUMNS", "tau_table"]

#: Scores equal to within this relative tolerance are ties in the benchmark's tau.
BENCH_TIE_RTOL = TIE_RTOL  # the one tie rule of every ranking (potran.reduction)
TAU_COLUMNS = ["target", "metric", "perturbation", "weighted_tau", "n_models"]


def tau_table(scores: pd.DataFrame, gt: pd.DataFrame, *, tie_rtol: float = BENCH_TIE_RTOL) -> pd.DataFrame:
    """Weighted tau of each (target, metric, perturbation) of a score table, plus the mean.

    ``scores`` has columns model, target, metric, perturbation, score (``potran bench``'s
    ``scores.csv``); ``gt`` model, target, test_acc. Models without a finite score or without
    ground truth are left out of a row (``n_models`` says how many remain); fewer than 2 models,
    or constant scores, give NaN. Rows with ``target == "mean"`` hold the mean over targets (and
    the smallest ``n_models``).
    """
    keys = ["target", "metric", "perturbation"]
    require_columns(scores, ("model", *keys, "score"), "scores")
    require_columns(gt, ("model", "target", "test_acc"), "gt")
    stat = partial(weighted_tau, tie_rtol=tie_rtol)
    rows = []
    for (target, metric, perturbation), grp in scores.groupby(keys, sort=False):
        truth = gt[gt["target"] == target]
        grp = grp[np.isfinite(grp["score"].astype(float)) & grp["model"].isin(truth["model"])]
        try:
            tau = float(correlate_by_target(grp, truth[truth["model"].isin(grp["model"])], stat).iloc[0])
        except (ValueError, IndexError):
            tau = float("nan")
        rows.append([target, metric, perturbation, tau, len(grp)])
    table = pd.DataFrame(rows, columns=TAU_COLUMNS)
    mean = (table.groupby(["metric", "perturbation"], sort=False)
            .agg(weighted_tau=("weighted_tau", "mean"), n_models=("n_models", "min"))
            .reset_index().assign(target="mean"))
    return pd.concat([table, mean[TAU_COLUMNS]], ignore_index=True)
