"""What the λ grid and normalization pages still take from here: one page's tables each.

The table computations of PED's options (intervals per setting, the choice on the grid, the
motion, the agreement of two rankings, the per-dimension geometry, the radius grid) live in
:mod:`potran.bench.ped_options`, an analysis module; their names are importable from here too, for
the pages that import them here. What is left below serves one page each (the λ grid page:
:func:`grid_tables`, :func:`published_grid`, :func:`setting_tables`, :func:`trace_per_value`,
:func:`grid_side_table`, :func:`median_half_width`; the normalization page: :data:`SPACES`,
:func:`radius_need`, :func:`geometry_both_ways`, :func:`radii_table`) and moves onto it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..perturbations import NONE, PED
from .book import interval
from .ped_options import (  # noqa: F401 -- kept for the pages that import them here
    RADIUS_GRID,
    class_geometry,
    dimension_spread,
    grid_selection,
    radius_grid,
    ranking_agreement,
    scored_truth,
    settings_intervals,
    trace_summary,
)
from .report import random_null
from .settings import name_list, parameter_dict  # noqa: F401 -- kept for the pages that import them here
from .tau import tau_table

__all__ = ["grid_tables", "published_grid", "setting_tables", "trace_per_value", "grid_side_table",
           "median_half_width", "SPACES", "radius_need", "geometry_both_ways", "radii_table"]


def grid_tables(scores: pd.DataFrame, truth, *, n_boot: int = 1000, seed: int = 0) -> tuple:
    """What the grid page computes from the score table of its run and a
    :class:`~potran.bench.settings.GroundTruth`: the tau table (:func:`potran.bench.tau.tau_table`),
    :func:`~potran.bench.ped_options.settings_intervals`, the ground truth of the scored cells, and the band
    of a random ranking (:func:`potran.bench.report.random_null`; None with fewer than two ranked
    models)."""
    intervals = settings_intervals(scores, truth.accuracy, truth.seeds, n_boot=n_boot, seed=seed)
    ranked = scored_truth(truth.accuracy, scores)
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
    """:func:`~potran.bench.ped_options.settings_intervals` as two tables (setting x metric, "estimate [low,
    high]"): the mean tau_w and the change PED brings; ``shown_as`` names each perturbation. Returns (what,
    table) pairs."""
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
    """:func:`~potran.bench.ped_options.trace_summary` averaged per value of the option (``values``:
    {perturbation: value}), and whether every metric saw the same motion (they score the same moved
    features)."""
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
    """The published default and best-per-dataset beside ours (without PED, default, best one setting, best
    per target, and which setting): ``choice`` is :func:`~potran.bench.ped_options.grid_selection` by
    metric."""
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


#: The two spaces PED can move the classes in, with their names on the page.
SPACES = {"standardised": "standardised by the general set", "raw": "raw feature space"}


def radius_need(spread: pd.DataFrame) -> dict:
    """Per space, how many dimensions (largest share first) carry 50 % and 90 % of the summed squared class
    radii (:func:`~potran.bench.ped_options.dimension_spread`): ``{space: {0.5: n, 0.9: n}}``."""
    shares = {way: np.sort(spread[f"radius_share_{way}"].to_numpy())[::-1] for way in SPACES}
    return {
        way: {q: int(np.searchsorted(np.cumsum(s), q) + 1) for q in (0.5, 0.9)} for way, s in shares.items()
    }


def geometry_both_ways(runs: dict, classes, nsigma: float) -> pd.DataFrame:
    """:func:`~potran.bench.ped_options.class_geometry` of each run (``{space: result of
    potran.simulate}``), with columns ``space`` and ``class name`` (the first 14 characters of
    ``classes``)."""
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
