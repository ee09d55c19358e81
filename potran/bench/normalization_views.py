"""The normalization page's views: PED standardised by the general set against PED in the raw
feature space, over the benchmark, with the figures' captions and the verdicts in words.

The page is ``notebooks/normalization.py``; the per-cell geometry is in :mod:`potran.bench.sweeps`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..perturbations import label as perturbation
from . import book, plots
from .sweeps import SPACES

__all__ = ["NAMES", "settings", "named", "dimensions_caption", "balls_caption", "interval_table",
           "tau_forest", "motion_table", "agreement_text"]

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


def dimensions_caption(model: str, target: str, n_dims: int) -> tuple[str, str]:
    """The caption and text alternative of :func:`potran.bench.plots.dimension_spreads` for
    ``model`` on ``target`` with ``n_dims`` scored dimensions."""
    caption = (f"{model} on {target}, per feature dimension: left, the standard deviation of the "
               f"target's features before and after PED's standardisation (raw: feature units; "
               f"standardised: unitless) and that of the general set (log scale); right, the "
               f"cumulative share of the summed squared class radii carried by the dimensions, largest "
               f"first, in the raw and in the standardised space.")
    alt = (f"Two line plots over the {n_dims} feature dimensions: their standard deviations raw, "
           "standardised and in the general set on a log axis, and the cumulative share of the squared "
           "class radii in the raw and in the standardised space.")
    return caption, alt


def balls_caption(model: str, target: str, nsigma: float, n_classes: int) -> tuple[str, str]:
    """The caption and text alternative of :func:`potran.bench.plots.balls_and_trace`."""
    caption = (f"{model} on {target} with λ = {nsigma:g}: top, every class's ball radius over the "
               f"distance to its nearest other class centre (unitless; the dotted line at 1/2 is where "
               f"two equal neighbours touch), standardised and raw; bottom, the trace of the motion "
               f"both ways, the potential energy and the displacement of every accepted step relative "
               f"to their first value (unitless).")
    alt = (f"Top: paired bars for the {n_classes} classes, each ball's radius over the distance to "
           "the nearest other centre in the standardised and in the raw space, with a dotted line at "
           "1/2. Bottom: energy and displacement curves of the two motions over their steps.")
    return caption, alt


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


def _fmt(value, digits: int = 3) -> str:
    return "undefined" if value is None or not np.isfinite(value) else f"{value:+.{digits}f}"


def motion_table(trace: pd.DataFrame) -> pd.DataFrame:
    """Per space (standardised, raw), the mean over the cells of ``trace``
    (:func:`potran.bench.sweeps.trace_summary` with :func:`named`, indexed by setting and metric)
    of the motion's steps, released energy and share of cells left without overlap."""
    cols = ["mean_steps", "energy_decline", "no_overlap"]
    return trace[cols].groupby(level="setting").mean().reindex(list(SPACES))


def _metric_line(metric: str, intervals: pd.DataFrame, agree: pd.Series, versus: pd.DataFrame) -> str:
    d = intervals[intervals.metric == metric].set_index("setting") if not intervals.empty else pd.DataFrame()
    head = f"- **{metric}**: the two settings rank the models alike at τ = {_fmt(agree.get(metric, np.nan))}"
    if d.empty:
        return head + "; τ_w with the ground truth undefined (no ground truth for the scored cells)."
    part = [f"without PED {_fmt(d.mean_tau.get('none', np.nan))}"]
    for way in SPACES:
        if way in d.index:
            r = d.loc[way]
            part.append(f"PED {way} {_fmt(r.mean_tau)} (change {_fmt(r.delta)} [{_fmt(r.delta_low)}, "
                        f"{_fmt(r.delta_high)}])")
    if metric in versus.index:
        v = versus.loc[metric]
        part.append(f"standardised − raw {_fmt(v.delta)} [{_fmt(v.low)}, {_fmt(v.high)}]")
    return head + "; τ_w: " + "; ".join(part) + "."


def agreement_text(metrics, intervals: pd.DataFrame, agree: pd.Series, versus: pd.DataFrame,
                   motion: pd.DataFrame, n_cells: int, need: dict) -> str:
    """One line per metric (how alike the two spaces rank, ``agree``; its τ_w in every setting;
    standardised − raw, ``versus``), then the motion's cost both ways (``motion``:
    :func:`motion_table` over ``n_cells``) and the example cell's radius need (``need``:
    :func:`potran.bench.sweeps.radius_need`)."""
    lines = [_metric_line(metric, intervals, agree, versus) for metric in metrics]
    return ("\n".join(lines) + "\n\n"
            f"Over the {n_cells} scored cells the motion takes {motion.mean_steps['standardised']:.2f} "
            f"steps and releases {motion.energy_decline['standardised']:.0%} of the potential energy "
            f"standardised, {motion.mean_steps['raw']:.2f} steps and {motion.energy_decline['raw']:.0%} "
            f"raw. In the example cell, half of the summed squared radii sits in {need['raw'][0.5]} raw "
            f"dimension(s) against {need['standardised'][0.5]} standardised.")
