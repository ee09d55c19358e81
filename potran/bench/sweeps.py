"""PED settings side by side: one benchmark run with several perturbations, their taus, traces, geometry.

The supplementary's studies of PED vary one option at a time -- the radius coefficient
(Table 1's grid) or whether the features are standardised by the general set (Fig. 2) -- and
compare each setting with the metric scored without PED. A setting is a perturbation label
(:mod:`potran.perturbations`, e.g. ``"ped:nsigma=0.8"``): one runner call scores them all and
``"none"`` (:meth:`potran.bench.settings.Setting.scores` with ``perturbations``; each cell's
motions run once, every metric scores them) into the tidy score table, whose ``perturbation``
column tells them apart; its tau table is :func:`potran.bench.tau.tau_table`. These functions
summarise that table:

- :func:`settings_intervals`: mean tau_w of every setting with a bootstrap interval, and its
  paired difference with the metric without PED (:func:`potran.bench.report.compare`: all
  settings on the same replicates);
- :func:`grid_selection`: what choosing a setting on the ground truth gains (one setting for
  all targets, or the best per target);
- :func:`trace_summary`: what the motion did per setting (steps taken, energy decline);
- :func:`ranking_agreement`: how alike two settings rank the models, ground truth aside;

and, for one cell's features, :func:`dimension_spread` and :func:`class_geometry` show what the
standardisation changes in the space the balls live in.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..ped import EPS
from ..perturbations import NONE, PED
from .settings import name_list, parameter_dict  # noqa: F401 -- kept for the pages that import them here

__all__ = ["name_list", "parameter_dict", "settings_intervals", "grid_selection", "trace_summary",
           "ranking_agreement", "dimension_spread", "class_geometry", "published_grid", "setting_tables",
           "trace_per_value", "grid_side_table", "median_half_width", "SPACES", "radius_need",
           "geometry_both_ways", "radii_table", "RADIUS_GRID", "radius_grid", "grid_tables"]



def _scored_truth(accuracy: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``accuracy`` whose (model, target) cell was scored."""
    return accuracy.merge(scores[["model", "target"]].drop_duplicates(), on=["model", "target"])


def settings_intervals(scores: pd.DataFrame, accuracy: pd.DataFrame,
                       seeds: pd.DataFrame | None = None, *, n_boot: int = 1000,
                       level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Mean tau_w over targets of every (perturbation, metric), with crossed-bootstrap intervals.

    :func:`potran.bench.report.tau_intervals`, and each perturbation paired with the same metric
    without one (:func:`potran.bench.report.compare`; the ``"none"`` rows, which ``scores`` must
    hold): every setting on the same replicates (one model resample shared by every target, each
    cell's seeds redrawn; :func:`potran.stats.crossed_bootstrap`).

    Returns
    -------
    DataFrame
        perturbation, metric, mean_tau, low, high (the interval of the mean tau_w), and for the
        perturbed rows delta, delta_low, delta_high, p_delta (perturbed - none, paired).
        Empty (with these columns) when no scored cell has ground truth.
    """
    from .report import compare, tau_intervals

    columns = ["perturbation", "metric", "mean_tau", "low", "high", "delta", "delta_low",
               "delta_high", "p_delta"]
    if NONE not in set(scores.perturbation):
        raise ValueError(f"scores hold no {NONE!r} rows: score the reference too")
    gt = _scored_truth(accuracy, scores)
    if gt.empty:  # no scored cell has ground truth
        return pd.DataFrame(columns=columns)
    options = dict(n_boot=n_boot, level=level, seed=seed)
    iv = tau_intervals(scores, gt, seeds, **options)
    deltas = [compare(scores, gt, seeds, perturbation=p, **options)
              for p in dict.fromkeys(scores.perturbation) if p != NONE]
    delta = pd.concat(deltas, ignore_index=True).rename(columns={
        "delta": "delta", "low": "delta_low", "high": "delta_high", "p_value": "p_delta"})
    out = iv.merge(delta.drop(columns="reference"), on=["perturbation", "metric"], how="left")
    return out[columns]


def grid_selection(tau: pd.DataFrame, default: str) -> pd.DataFrame:
    """What picking a PED setting on the ground truth gains, per metric.

    Parameters
    ----------
    tau : DataFrame
        :func:`potran.bench.tau.tau_table` of the scores (its per-target rows are used).
    default : str
        The perturbation one would run without tuning (e.g. ``"ped:nsigma=0.6"``).

    Returns
    -------
    DataFrame, one row per metric
        ``no_ped`` (mean tau_w without PED, NaN if not scored), ``default``, ``best_setting`` and
        ``best_mean`` (the one setting with the highest mean tau_w over targets), and
        ``per_target_best`` (the mean over targets of each target's best setting -- what a table
        that reports the best setting per dataset shows, and an optimistic estimate, since the
        setting is chosen on the same ground truth it is evaluated on).
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

    Columns: perturbation, metric, cells, mean_steps, max_steps_share (share of cells whose motion
    ran until the step limit), mean_energy_ratio (potential energy after / before, over the
    cells that started with overlaps), energy_decline (1 - mean_energy_ratio) and
    no_overlap (cells whose balls did not overlap at all: nothing to move).
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
    ties merged as in the benchmark; 1 = the same ranking; NaN with fewer than two models scored
    both ways or constant scores) and n_models.
    """
    from ..evaluation import weighted_tau
    from .tau import BENCH_TIE_RTOL

    left = scores[scores.perturbation == a].set_index(["metric", "target", "model"]).score
    right = scores[scores.perturbation == b].set_index(["metric", "target", "model"]).score
    both = pd.concat({"a": left, "b": right}, axis=1).dropna()
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

    Columns: ``dim``; ``std_raw`` (std of the features), ``std_general`` (std of the general
    set, floored at ``eps`` as PED floors it), ``std_standardised`` (std of
    ``(X - mean(G)) / std_general``); ``radius_share_raw`` and ``radius_share_standardised``:
    the dimension's share of sum_c r_c^2, the squared class radii summed over classes
    (r_c^2 = sum_d Var_c[x_d], so a dimension's share says how much it decides the balls'
    sizes), in the raw and in the standardised space.
    """
    X = np.asarray(X, dtype=np.float64)
    G = np.asarray(G, dtype=np.float64)
    y = np.asarray(y)
    scale = np.maximum(G.std(0), eps)
    within = np.zeros(X.shape[1])
    for c in np.unique(y):
        within += X[y == c].var(0)
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
    contact = radius[:, None] + radius[None, :]
    return pd.DataFrame({"class": np.arange(len(radius)), "radius": radius,
                         "nearest": d.min(1), "radius_to_nearest": radius / d.min(1),
                         "overlaps": (contact > d).sum(1)})


# --- the radius grid of the supplementary's Table 1 (notebooks/k_grid.py) ---

#: The supplementary's grid of Table 1, searched as the radius coefficient λ (``nsigma``).
RADIUS_GRID = (0.6, 0.8, 1.0, 1.2, 1.5, 2.0)


def radius_grid(values, default: float) -> tuple[list[float], dict, dict]:
    """The values of λ a page searches (a :func:`name_list` parameter; empty: :data:`RADIUS_GRID`)
    as floats, {value: perturbation label} (``"ped:nsigma=0.6"``) and {label: shown name}
    (``"λ = 0.6"``, and ``"none"`` shown as "without PED"). ValueError when ``default`` is not
    one of the values."""
    from ..perturbations import label

    values = [float(k) for k in name_list(values, RADIUS_GRID)]
    if default not in values:
        raise ValueError(f"default_k={default} is not one of k_values {values}")
    labels = {k: label(PED, nsigma=k) for k in values}
    return values, labels, {NONE: "without PED"} | {v: f"λ = {k:g}" for k, v in labels.items()}


def grid_tables(scores: pd.DataFrame, truth, *, n_boot: int = 1000, seed: int = 0) -> tuple:
    """What the grid page computes from the score table of its run and a
    :class:`~potran.bench.settings.GroundTruth`: the tau table (:func:`potran.bench.tau.tau_table`),
    :func:`settings_intervals`, the ground truth of the scored cells, and the band of a random
    ranking (:func:`potran.bench.report.random_null`; None with fewer than two ranked models)."""
    from .report import random_null
    from .tau import tau_table

    intervals = settings_intervals(scores, truth.accuracy, truth.seeds, n_boot=n_boot, seed=seed)
    ranked = _scored_truth(truth.accuracy, scores)
    null = random_null(ranked, seed=seed) if ranked.model.nunique() >= 2 else None
    return tau_table(scores, truth.accuracy), intervals, ranked, null


def published_grid(metrics) -> tuple[pd.DataFrame, pd.Series]:
    """The paper's mean tau_w over its 10 datasets per metric (of ``metrics`` that Table 1 has):
    without PED, with PED at the default radius (main table), with PED after the grid search
    (Table 1), and the grid's gain; and per metric on how many datasets the grid is higher."""
    from .. import paper

    grid, main = paper.k_grid(), paper.main_table()

    def mean(table, perturbation):
        return table[table.perturbation == perturbation].groupby("metric").weighted_tau.mean()

    pub = pd.DataFrame({"without PED": mean(main, NONE), "PED, default λ (main table)": mean(main, PED),
                        "PED, best of the grid (Table 1)": mean(grid, PED)}
                       ).loc[[m for m in metrics if m in set(grid.metric)]]
    pub["grid gain"] = pub["PED, best of the grid (Table 1)"] - pub["PED, default λ (main table)"]
    both = grid.merge(main, on=["method", "target"], suffixes=("_grid", "_main"))
    raised = (
        both[both.perturbation_grid == PED]
        .assign(up=lambda d: d.weighted_tau_grid > d.weighted_tau_main)
        .groupby("metric_grid")
        .up.sum()
    )
    return pub, raised


def setting_tables(intervals: pd.DataFrame, shown_as: dict, metrics) -> list[tuple[str, pd.DataFrame]]:
    """:func:`settings_intervals` as two tables (setting x metric, "estimate [low, high]"): the mean
    tau_w and the change PED brings; ``shown_as`` names each perturbation. Returns (what, table) pairs."""
    from .book import interval

    view = intervals.assign(setting=intervals.perturbation.map(shown_as))
    out = []
    for column, low, high, what in (
        ("mean_tau", "low", "high", "Mean τ_w"),
        ("delta", "delta_low", "delta_high", "Change brought by PED"),
    ):
        cells = view.assign(cell=list(map(interval, view[column], view[low], view[high])))
        cells = cells[cells[column].notna()].pivot(index="setting", columns="metric", values="cell")
        out.append(
            (
                what,
                cells.reindex(
                    index=[s for s in shown_as.values() if s in cells.index], columns=list(metrics)
                ).fillna("–"),
            )
        )
    return out


def trace_per_value(scores: pd.DataFrame, values: dict) -> tuple[pd.DataFrame, bool]:
    """:func:`trace_summary` averaged per value of the option (``values``: {perturbation: value}),
    and whether every metric saw the same motion (they score the same moved features)."""
    trace = trace_summary(scores)
    per_value = (
        trace.assign(value=trace.perturbation.map(values))
        .groupby("value")[["mean_steps", "max_steps_share", "energy_decline", "no_overlap"]]
        .mean()
    )
    same = (
        trace.groupby("perturbation")[["mean_steps", "mean_energy_ratio"]].nunique(dropna=False).max().max()
        == 1
    )
    return per_value, bool(same)


def grid_side_table(choice: pd.DataFrame, pub: pd.DataFrame, metrics, shown_as: dict) -> pd.DataFrame:
    """The published default and best-per-dataset beside ours (without PED, default, best one
    setting, best per target, and which setting): ``choice`` is :func:`grid_selection` by metric."""
    side = pd.DataFrame(
        {
            "published: default": pub["PED, default λ (main table)"],
            "published: best per dataset": pub["PED, best of the grid (Table 1)"],
            "ours: without PED": choice.no_ped,
            "ours: default": choice["default"],
            "ours: best λ": choice.best_mean,
            "ours: best λ per target": choice.per_target_best,
        }
    ).reindex(list(metrics))
    side["ours: which λ"] = choice.best_setting.map(shown_as)
    return side


def median_half_width(intervals: pd.DataFrame) -> float:
    """The median half-width of the intervals of the settings with PED (NaN when there are none)."""
    if intervals.empty:
        return np.nan
    return intervals[intervals.perturbation != NONE].eval("(high - low) / 2").median()


# --- PED with and without the general set's standardisation (notebooks/normalization.py) ---

#: The two spaces PED can move the classes in, with their names on the page.
SPACES = {"standardised": "standardised by the general set", "raw": "raw feature space"}


def radius_need(spread: pd.DataFrame) -> dict:
    """Per space, how many dimensions (largest share first) carry 50 % and 90 % of the summed
    squared class radii (:func:`dimension_spread`): ``{space: {0.5: n, 0.9: n}}``."""
    shares = {way: np.sort(spread[f"radius_share_{way}"].to_numpy())[::-1] for way in SPACES}
    return {
        way: {q: int(np.searchsorted(np.cumsum(s), q) + 1) for q in (0.5, 0.9)} for way, s in shares.items()
    }


def geometry_both_ways(runs: dict, classes, nsigma: float) -> pd.DataFrame:
    """:func:`class_geometry` of each run (``{space: result of potran.simulate}``), with columns
    ``space`` and ``class name`` (the first 14 characters of ``classes``)."""
    geometry = pd.concat([class_geometry(r.trace, nsigma).assign(space=way) for way, r in runs.items()])
    geometry["class name"] = [str(classes[c])[:14] for c in geometry["class"]]
    return geometry


def radii_table(geometry: pd.DataFrame) -> pd.DataFrame:
    """Per class, the ball radius and its ratio to the nearest other centre in each space."""
    per_class = geometry.pivot_table(
        index="class name", columns="space", values=["radius", "radius_to_nearest"], sort=False
    )
    per_class.columns = [
        f"{'ball radius λ r_c' if v == 'radius' else 'radius / nearest centre'}, {w}"
        for v, w in per_class.columns
    ]
    return per_class
