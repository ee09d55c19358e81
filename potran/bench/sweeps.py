"""PED settings side by side: one benchmark run per setting, their taus, traces and geometry.

The supplementary's studies of PED vary one option at a time -- the radius coefficient
(Table 1's grid) or whether the features are standardised by the general set (Fig. 2) -- and
compare each setting with the metric scored without PED. :func:`run_settings` runs
:func:`potran.bench.runner.run` once per setting into its own folder (so every setting is
resumable and never mixes with another) plus once without PED, and returns one tidy score table
with a ``setting`` column. The other functions summarise that table:

- :func:`settings_tau`: tau_w per (setting, metric, target) and the mean over targets;
- :func:`settings_intervals`: mean tau_w of every setting with a bootstrap interval, and its
  paired difference with the metric without PED (one bootstrap for all settings, so settings
  are compared on the same replicates);
- :func:`grid_selection`: what choosing a setting on the ground truth gains (one setting for
  all targets, or the best per target);
- :func:`trace_summary`: what the motion did per setting (steps taken, energy decline);
- :func:`ranking_agreement`: how alike two settings rank the models, ground truth aside;

and, for one cell's features, :func:`dimension_spread` and :func:`class_geometry` show what the
standardisation changes in the space the balls live in.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..ped import EPS
from .folders import FEATURE_CACHE

__all__ = ["REFERENCE", "name_list", "run_settings", "settings_tau", "settings_intervals", "grid_selection",
           "trace_summary", "ranking_agreement", "dimension_spread", "class_geometry"]

#: Setting label (and folder name) of the run without PED.
REFERENCE = "no_ped"
_SEP = "\x1f"  # joins metric and setting into the one label report.tau_intervals groups by


def name_list(value, default) -> list:
    """A notebook parameter that lists names: a sequence, a JSON/Python list in a string (what
    ``papermill -p models '["a", "b"]'`` passes), a comma-separated string, or None/empty for
    ``default``."""
    import ast

    if value is None or (isinstance(value, str) and not value.strip()):
        return list(default)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "(")):
            value = ast.literal_eval(text)
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    value = list(value)
    return value if value else list(default)


def run_settings(base, settings: dict, out_dir, *, reference: bool = True, groundtruth=None,
                 cache_dir=FEATURE_CACHE, device="cpu", progress: bool = False) -> pd.DataFrame:
    """Score ``base``'s metrics with PED under every setting, each into ``out_dir/<label>``.

    Parameters
    ----------
    base : potran.bench.runner.Benchmark
        Models, targets, metrics, protocol and sources; its ``ped`` and ``ped_options`` are
        replaced by each setting's.
    settings : dict
        ``{label: ped_options}``; the label names the result folder (e.g. ``"k=0.6"``).
    out_dir : path
        Parent folder of the runs.
    reference : bool
        Also score the metrics without PED into ``out_dir/no_ped`` (setting :data:`REFERENCE`).
    groundtruth, cache_dir, device, progress
        Passed to :func:`~potran.bench.runner.run`.

    Returns
    -------
    DataFrame
        The runs' score tables stacked, with a ``setting`` column first.
    """
    from dataclasses import replace

    from .runner import run

    if REFERENCE in settings:
        raise ValueError(f"{REFERENCE!r} is the label of the run without PED; name the setting otherwise")
    runs = [(label, (True,), dict(options)) for label, options in settings.items()]
    if reference:
        runs.insert(0, (REFERENCE, (False,), {}))
    tables = []
    for label, ped, options in runs:
        scores, _ = run(replace(base, ped=ped, ped_options=options), Path(out_dir) / label,
                        groundtruth=groundtruth, cache_dir=cache_dir, device=device, progress=progress)
        tables.append(scores.assign(setting=label))
    table = pd.concat(tables, ignore_index=True)
    return table[["setting"] + [c for c in table.columns if c != "setting"]]


def _restrict(accuracy: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """The ground-truth rows of the (model, target) cells that ``scores`` scored."""
    cells = scores[["model", "target"]].drop_duplicates()
    return accuracy.merge(cells, on=["model", "target"])


def settings_tau(scores: pd.DataFrame, accuracy: pd.DataFrame) -> pd.DataFrame:
    """tau_w of every (setting, target, metric) and the mean over targets (``target == "mean"``).

    ``scores`` comes from :func:`run_settings`; ``accuracy`` has model, target, test_acc. Cells
    without ground truth are left out; a target with fewer than two ranked models gets NaN.
    """
    from ..evaluation import TAU_COLUMNS, tau_table

    gt = _restrict(accuracy, scores)
    parts = [tau_table(grp, gt).assign(setting=setting)
             for setting, grp in scores.groupby("setting", sort=False)]
    if not parts:
        return pd.DataFrame(columns=["setting"] + TAU_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    return table[["setting"] + TAU_COLUMNS]


def settings_intervals(scores: pd.DataFrame, accuracy: pd.DataFrame,
                       seeds: pd.DataFrame | None = None, *, n_boot: int = 1000,
                       level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Mean tau_w over targets of every (setting, metric), with crossed-bootstrap intervals.

    One :func:`potran.bench.report.tau_intervals` call covers every setting, so all share the
    same replicates (one model resample shared by every target, each cell's seeds redrawn;
    :func:`potran.stats.crossed_bootstrap`). Each PED setting is paired with
    the same metric without PED (the :data:`REFERENCE` rows, which ``scores`` must hold).

    Returns
    -------
    DataFrame
        setting, metric, mean_tau, low, high (the interval of the mean tau_w), and for the PED
        settings delta, delta_low, delta_high, p_delta (with PED - without, paired).
        Empty (with these columns) when no scored cell has ground truth.
    """
    from .report import tau_intervals

    columns = ["setting", "metric", "mean_tau", "low", "high", "delta", "delta_low",
               "delta_high", "p_delta"]
    gt = _restrict(accuracy, scores)
    if seeds is not None:
        seeds = seeds.merge(gt[["model", "target"]], on=["model", "target"])
    ref = scores[scores.setting == REFERENCE]
    if ref.empty:
        raise ValueError(f"scores hold no {REFERENCE!r} rows: run_settings(..., reference=True)")
    if gt.empty:
        return pd.DataFrame(columns=columns)
    parts = [ref.assign(ped=False, metric=ref.metric + _SEP + REFERENCE)]
    for setting, grp in scores[scores.setting != REFERENCE].groupby("setting", sort=False):
        label = grp.metric + _SEP + setting
        parts.append(grp.assign(ped=True, metric=label))
        base = ref[ref.metric.isin(grp.metric.unique())]
        parts.append(base.assign(ped=False, metric=base.metric + _SEP + setting))
    table = pd.concat(parts, ignore_index=True)[["model", "target", "metric", "ped", "score"]]
    iv = tau_intervals(table, gt, seeds, n_boot=n_boot, level=level, seed=seed)
    iv[["metric", "setting"]] = iv.metric.str.split(_SEP, expand=True)
    main = iv[(iv.ped == True) | ((iv.ped == False) & (iv.setting == REFERENCE))]  # noqa: E712
    delta = iv[iv.ped == "delta"].set_index(["setting", "metric"])
    out = main.set_index(["setting", "metric"])[["mean_tau", "low", "high"]]
    out = out.join(delta[["mean_tau", "low", "high", "p_delta"]].rename(
        columns={"mean_tau": "delta", "low": "delta_low", "high": "delta_high"}))
    return out.reset_index()[columns]


def grid_selection(tau: pd.DataFrame, default: str) -> pd.DataFrame:
    """What picking a PED setting on the ground truth gains, per metric.

    Parameters
    ----------
    tau : DataFrame
        :func:`settings_tau`'s table (its per-target rows are used).
    default : str
        The setting one would run without tuning (e.g. ``"k=0.6"``).

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
    ped = per_target[per_target.setting != REFERENCE]
    rows = []
    for metric, grp in ped.groupby("metric", sort=False):
        wide = grp.pivot_table(index="target", columns="setting", values="weighted_tau",
                               sort=False, dropna=False)
        means = wide.mean()
        ref = per_target[(per_target.setting == REFERENCE) & (per_target.metric == metric)]
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
    """What the motion did per (setting, metric), over the cells scored with PED.

    Columns: setting, metric, cells, mean_steps, max_steps_share (share of cells whose motion
    ran until the step limit), mean_energy_ratio (potential energy after / before, over the
    cells that started with overlaps), energy_decline (1 - mean_energy_ratio) and
    no_overlap (cells whose balls did not overlap at all: nothing to move).
    """
    ped = scores[scores.setting != REFERENCE].copy()
    ped["ped_steps"] = pd.to_numeric(ped.ped_steps, errors="coerce")
    ped["energy_ratio"] = pd.to_numeric(ped.energy_ratio, errors="coerce")
    limit = ped.ped_steps.max()
    out = (ped.groupby(["setting", "metric"], sort=False)
           .agg(cells=("model", "size"), mean_steps=("ped_steps", "mean"),
                max_steps_share=("ped_steps", lambda s: float((s == limit).mean())),
                mean_energy_ratio=("energy_ratio", "mean"),
                no_overlap=("energy_ratio", lambda s: int(s.isna().sum())))
           .reset_index())
    out["energy_decline"] = 1 - out.mean_energy_ratio
    return out[["setting", "metric", "cells", "mean_steps", "max_steps_share", "mean_energy_ratio",
                "energy_decline", "no_overlap"]]


def ranking_agreement(scores: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """How alike settings ``a`` and ``b`` rank the models, per (metric, target).

    Returns metric, target, weighted_tau (between the two settings' scores of the same models,
    ties merged as in the benchmark; 1 = the same ranking; NaN with fewer than two models scored
    both ways or constant scores) and n_models.
    """
    from ..evaluation import BENCH_TIE_RTOL, weighted_tau

    left = scores[scores.setting == a].set_index(["metric", "target", "model"]).score
    right = scores[scores.setting == b].set_index(["metric", "target", "model"]).score
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
