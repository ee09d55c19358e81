"""The normalization page's views: PED standardised by the general set against PED in the raw
feature space, over the benchmark (its tables and its forest of intervals).

The page is ``notebooks/normalization.py``; the per-cell geometry is in :mod:`potran.bench.sweeps`.
"""
from __future__ import annotations

import pandas as pd

from ..perturbations import label as perturbation
from . import book, plots
from .sweeps import SPACES

__all__ = ["NAMES", "settings", "named", "interval_table", "tau_forest", "motion_table"]

NAMES = {"none": "without PED", "standardised": "PED, standardised", "raw": "PED, raw space"}


def settings(nsigma: float) -> dict:
    """The perturbation labels of PED with radius coefficient ``nsigma``, standardised by the
    general set and in the raw space, by the page's name of each."""
    return {"standardised": perturbation("ped", nsigma=nsigma),
            "raw": perturbation("ped", nsigma=nsigma, standardize=False)}


def named(table: pd.DataFrame, nsigma: float) -> pd.DataFrame:
    """``table`` with a ``setting`` column: the page's name of its ``perturbation`` ("none",
    "standardised", "raw")."""
    way_of = {label: way for way, label in settings(nsigma).items()} | {"none": "none"}
    return table.assign(setting=table.perturbation.map(way_of))


def interval_table(intervals: pd.DataFrame):
    """One row per metric and setting of ``intervals`` (:func:`potran.bench.sweeps.settings_intervals`
    with :func:`named`): the mean τ_w and PED's paired change with their intervals, its p-value."""
    return book.table(pd.DataFrame({
        "metric": intervals.metric, "setting": intervals.setting.map(NAMES),
        "mean τ_w [95 % interval]": list(map(book.interval, intervals.mean_tau, intervals.low,
                                             intervals.high)),
        "change by PED [95 % interval]": list(map(book.interval, intervals.delta, intervals.delta_low,
                                                  intervals.delta_high)),
        "p (change)": intervals.p_delta}), formats={"p (change)": "p"}, index=False)


def tau_forest(intervals: pd.DataFrame, null, metrics, *, n_ranked: int, nsigma: float):
    """The forest of mean τ_w per metric in the three settings over the random scorer's band
    ``null`` (None: no band), with its caption and text alternative: ``(fig, caption, alt)``."""
    colours = {NAMES["none"]: "0.45", NAMES["standardised"]: plots.SPACE_COLOURS["standardised"],
               NAMES["raw"]: plots.SPACE_COLOURS["raw"]}
    fig, axes = plots.forest_figure(
        intervals.assign(setting=intervals.setting.map(NAMES)), label="metric", group="setting",
        colours=colours, order=metrics, band=None if null is None else (null["low"], null["high"]))
    axes[0].set_ylabel("metric")
    caption = (f"Ours ({n_ranked} ranked cells): mean weighted Kendall τ_w over targets of "
               f"each metric without PED, with PED standardised by the general set and with PED in the "
               f"raw feature space (λ = {nsigma:g}), with 95 % crossed-bootstrap intervals; the grey "
               f"band is what a random ranking reaches.")
    alt = (f"Interval plot, one row per metric ({', '.join(metrics)}), three intervals each: without "
           "PED, with PED standardised and with PED in the raw space, over the band of random rankings.")
    return fig, caption, alt


def motion_table(trace: pd.DataFrame) -> pd.DataFrame:
    """Per space (standardised, raw), the mean over the cells of ``trace``
    (:func:`potran.bench.sweeps.trace_summary` with :func:`named`, indexed by setting and metric)
    of the motion's steps, released energy and share of cells left without overlap."""
    cols = ["mean_steps", "energy_decline", "no_overlap"]
    return trace[cols].groupby(level="setting").mean().reindex(list(SPACES))
