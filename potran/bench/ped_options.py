"""PED's options side by side: what one benchmark run with several perturbations gives, as tables.

The supplementary's studies of PED vary one option at a time -- the radius coefficient (Table 1's
grid, :data:`RADIUS_GRID`) or standardising by the general set (Fig. 2) -- against the metric
without PED. A setting is a perturbation label (:mod:`potran.perturbations`, e.g.
``"ped:nsigma=0.8"``); one runner call scores them all and ``"none"`` into one tidy score table
(``benchmarks/v3_sweeps.py``), which the λ grid and normalization pages read through these tables.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..evaluation import weighted_tau
from ..ped import EPS
from ..perturbations import NONE, PED, label
from .intervals import compare, tau_intervals
from .settings import name_list
from .tau import BENCH_TIE_RTOL

__all__ = ["settings_intervals", "grid_selection", "trace_summary", "ranking_agreement", "dimension_spread",
           "class_geometry", "RADIUS_GRID", "radius_grid", "scored_truth"]


def scored_truth(accuracy: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``accuracy`` whose (model, target) cell was scored."""
    return accuracy.merge(scores[["model", "target"]].drop_duplicates(), on=["model", "target"])


def settings_intervals(scores: pd.DataFrame, accuracy: pd.DataFrame,
                       seeds: pd.DataFrame | None = None, *, n_boot: int = 1000,
                       level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Mean tau_w over targets of every (perturbation, metric), with crossed-bootstrap intervals.

    :func:`potran.bench.intervals.tau_intervals`, each perturbation paired with the metric's
    ``"none"`` rows (which ``scores`` must hold) by :func:`potran.bench.intervals.compare`, every
    setting on the same replicates. Returns perturbation, metric, mean_tau, low, high, and for the
    perturbed rows delta, delta_low, delta_high, p_delta (perturbed - none); empty (with these
    columns) when no scored cell has ground truth.
    """
    columns = ["perturbation", "metric", "mean_tau", "low", "high", "delta", "delta_low",
               "delta_high", "p_delta"]
    if NONE not in set(scores.perturbation):
        raise ValueError(f"scores hold no {NONE!r} rows: score the reference too")
    gt = scored_truth(accuracy, scores)
    if gt.empty:  # no scored cell has ground truth
        return pd.DataFrame(columns=columns)
    options = dict(n_boot=n_boot, level=level, seed=seed)
    iv = tau_intervals(scores, gt, seeds, **options)
    delta = pd.concat([compare(scores, gt, seeds, perturbation=p, **options)
                       for p in dict.fromkeys(scores.perturbation) if p != NONE], ignore_index=True)
    delta = delta.rename(columns={"low": "delta_low", "high": "delta_high", "p_value": "p_delta"})
    out = iv.merge(delta.drop(columns="reference"), on=["perturbation", "metric"], how="left")
    return out[columns]


def grid_selection(tau: pd.DataFrame, default: str) -> pd.DataFrame:
    """What picking a PED setting on the ground truth gains, per metric.

    ``tau``: :func:`potran.bench.tau.tau_table` of the scores (per-target rows used); ``default``:
    the untuned perturbation (e.g. ``"ped:nsigma=0.6"``). One row per metric: ``no_ped`` (mean
    tau_w without PED, NaN if not scored), ``default``, ``best_setting`` and ``best_mean`` (the
    setting with the highest mean tau_w over targets), ``per_target_best`` (mean of each target's
    best setting: what a best-per-dataset table shows, optimistic, chosen on the ground truth).
    """
    per_target = tau[tau.target != "mean"]
    ped = per_target[per_target.perturbation != NONE]
    rows = []
    for metric, grp in ped.groupby("metric", sort=False):
        wide = grp.pivot_table(index="target", columns="perturbation", values="weighted_tau",
                               sort=False, dropna=False)
        means = wide.mean()
        ref = per_target[(per_target.perturbation == NONE) & (per_target.metric == metric)]
        best = means.idxmax() if means.notna().any() else None
        rows.append({"metric": metric,
                     "no_ped": ref.weighted_tau.mean() if len(ref) else np.nan,
                     "default": means.get(default, np.nan),
                     "best_setting": best,
                     "best_mean": means[best] if best is not None else np.nan,
                     "per_target_best": wide.max(axis=1).mean()})
    return pd.DataFrame(rows, columns=["metric", "no_ped", "default", "best_setting", "best_mean",
                                       "per_target_best"])


def trace_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """What the motion did per (perturbation, metric), over the cells scored with PED.

    Columns: perturbation, metric, cells, mean_steps, max_steps_share (share of cells that ran to
    the step limit), mean_energy_ratio (potential energy after / before, over the cells that started
    with overlaps), energy_decline (1 - mean_energy_ratio), no_overlap (cells with nothing to move).
    """
    ped = scores[scores.perturbation != NONE].copy()
    ped["ped_steps"] = pd.to_numeric(ped.ped_steps, errors="coerce")
    ped["energy_ratio"] = pd.to_numeric(ped.energy_ratio, errors="coerce")
    limit = ped.ped_steps.max()
    out = (ped.groupby(["perturbation", "metric"], sort=False)
           .agg(cells=("model", "size"), mean_steps=("ped_steps", "mean"),
                max_steps_share=("ped_steps", lambda s: float((s == limit).mean())),
                mean_energy_ratio=("energy_ratio", "mean"),
                no_overlap=("energy_ratio", lambda s: int(s.isna().sum())))
           .reset_index())
    out["energy_decline"] = 1 - out.mean_energy_ratio
    return out[["perturbation", "metric", "cells", "mean_steps", "max_steps_share", "mean_energy_ratio",
                "energy_decline", "no_overlap"]]


def ranking_agreement(scores: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """How alike perturbations ``a`` and ``b`` rank the models, per (metric, target).

    Returns metric, target, weighted_tau (between the two perturbations' scores of the same models,
    ties merged as in the benchmark; 1 = same ranking; NaN under two models or constant scores),
    n_models."""
    both = pd.concat({k: scores[scores.perturbation == p].set_index(["metric", "target", "model"]).score
                      for k, p in (("a", a), ("b", b))}, axis=1).dropna()
    rows = []
    for (metric, target), grp in both.groupby(level=["metric", "target"], sort=False):
        try:
            tau = weighted_tau(grp.a.to_numpy(), grp.b.to_numpy(), tie_rtol=BENCH_TIE_RTOL)
        except ValueError:
            tau = float("nan")
        rows.append({"metric": metric, "target": target, "weighted_tau": tau, "n_models": len(grp)})
    return pd.DataFrame(rows, columns=["metric", "target", "weighted_tau", "n_models"])


def dimension_spread(X, y, G, *, eps: float = EPS) -> pd.DataFrame:
    """Per feature dimension: spreads before and after PED's standardisation by ``G``.

    Columns: ``dim``; ``std_raw`` (of the features), ``std_general`` (of the general set,
    floored at ``eps`` as PED does), ``std_standardised`` (of ``(X - mean(G)) / std_general``);
    ``radius_share_raw`` and ``radius_share_standardised``: the dimension's share of sum_c r_c^2
    (r_c^2 = sum_d Var_c[x_d]: how much it decides the balls' sizes), raw and standardised.
    """
    X, G, y = np.asarray(X, dtype=np.float64), np.asarray(G, dtype=np.float64), np.asarray(y)
    scale = np.maximum(G.std(0), eps)
    within = sum(X[y == c].var(0) for c in np.unique(y))
    within_z = within / scale**2
    return pd.DataFrame({"dim": np.arange(X.shape[1]), "std_raw": X.std(0), "std_general": scale,
                         "std_standardised": X.std(0) / scale,
                         "radius_share_raw": within / within.sum(),
                         "radius_share_standardised": within_z / within_z.sum()})


def class_geometry(trace, nsigma: float) -> pd.DataFrame:
    """Per class, the balls before the motion, from a :class:`potran.ped.PEDTrace`.

    Columns: class (index into the trace's classes), radius (``nsigma * r_c``, the ball's
    radius), nearest (distance to the nearest other centre), radius_to_nearest (the ratio; unit
    free, so comparable across spaces) and overlaps (how many other balls this one overlaps).
    """
    centres = np.asarray(trace.centres[0])
    radius = nsigma * np.asarray(trace.radii)
    d = np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    return pd.DataFrame({"class": np.arange(len(radius)), "radius": radius,
                         "nearest": d.min(1), "radius_to_nearest": radius / d.min(1),
                         "overlaps": (radius[:, None] + radius[None, :] > d).sum(1)})


#: The supplementary's grid of Table 1, searched as the radius coefficient λ (``nsigma``).
RADIUS_GRID = (0.6, 0.8, 1.0, 1.2, 1.5, 2.0)


def radius_grid(values, default: float) -> tuple[list[float], dict, dict]:
    """The values of λ a page searches (a :func:`potran.bench.settings.name_list` parameter; empty:
    :data:`RADIUS_GRID`) as floats, {value: perturbation label} (``"ped:nsigma=0.6"``) and {label: shown
    name} (``"λ = 0.6"``, and ``"none"`` shown as "without PED"). ValueError when ``default`` is not one of
    the values."""
    values = [float(k) for k in name_list(values, RADIUS_GRID)]
    if default not in values:
        raise ValueError(f"default_k={default} is not one of k_values {values}")
    labels = {k: label(PED, nsigma=k) for k in values}
    return values, labels, {NONE: "without PED"} | {v: f"λ = {k:g}" for k, v in labels.items()}
