"""The figures the book's pages draw more than once, in the style of :mod:`potran.bench.book`: the
interval plot (:func:`forest`) of every page comparing mean tau_w. A figure only one page draws is
drawn on that page.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .book import figsize

__all__ = ["forest", "forest_figure", "BAND_COLOUR"]

#: Colour of the random ranking's band behind the intervals.
BAND_COLOUR = "0.86"


def forest(ax, rows: pd.DataFrame, *, label: str = "label", estimate: str = "mean_tau",
           low: str = "low", high: str = "high", group: str | None = None,
           colours: dict | None = None, names: dict | None = None, order=None, band=None,
           band_label: str = "random ranking (95 %)", hollow_if_zero: bool = False,
           xlabel: str = "mean weighted Kendall τ_w over targets (no unit)"):
    """Draw an interval plot of ``rows`` on ``ax`` and return the legend's handles and labels: one
    line per label, point and interval bar, settings offset and coloured, "n/a" where not computable.

    ``rows``: one per point, ``label`` (its line), ``estimate``, ``low``, ``high`` and with
    ``group`` the setting that offsets and colours it; ``colours``, ``names`` per ``group`` value
    (default: seaborn palette, the value); ``order``: labels top to bottom (default: appearance);
    ``band``: ``(low, high)`` of a random ranking, drawn behind; ``hollow_if_zero``: open markers
    for intervals containing 0 (unresolved differences). KeyError when a named column is missing.
    """
    import seaborn as sns
    from matplotlib.patches import Patch

    missing = [c for c in (label, estimate, low, high, group) if c is not None and c not in rows.columns]
    if missing:
        raise KeyError(f"forest() needs the column(s) {missing}")
    order = list(dict.fromkeys(rows[label])) if order is None else list(order)
    groups = list(dict.fromkeys(rows[group])) if group else [None]
    colours = dict(zip(groups, sns.color_palette(n_colors=len(groups)))) if colours is None else colours
    if band is not None:
        ax.axvspan(band[0], band[1], color=BAND_COLOUR, zorder=0, label=band_label)
    ax.axvline(0, color="k", lw=0.8, zorder=1)
    # a line with a single setting (e.g. a baseline) is drawn on the line itself
    settings = rows.groupby(label, sort=False)[group].nunique() if group else None
    offset = [g for g in groups if group and (rows.loc[rows[group] == g, label].map(settings) > 1).any()]
    offsets = dict(zip(offset, (np.arange(len(offset)) - (len(offset) - 1) / 2) * 0.22))  # apart on a line
    shown = set()
    for _, r in rows.iterrows():
        if r[label] not in order:
            continue
        key = r[group] if group else None
        y = order.index(r[label]) + (offsets[key] if group and settings[r[label]] > 1 else 0.0)
        value, lo, hi = (float(r[c]) for c in (estimate, low, high))
        if not np.isfinite(value):
            ax.text(0, y, "n/a", ha="center", va="center", fontsize=10, color="0.35")
            continue
        xerr = None if not (np.isfinite(lo) and np.isfinite(hi)) else [[value - lo], [hi - value]]
        open_ = hollow_if_zero and xerr is not None and lo <= 0 <= hi
        colour = colours.get(key, "k")
        ax.errorbar(value, y, xerr=xerr, fmt="o", color=colour, mfc="white" if open_ else colour,
                    capsize=3, ms=6, lw=1.5, zorder=3)
        shown.add(key)
    legend = [(Patch(color=BAND_COLOUR), band_label)] if band is not None else []
    legend += [(ax.plot([], [], "o", color=colours.get(key, "k"))[0], (names or {}).get(key, str(key)))
               for key in groups if group and key in shown]
    ax.set_yticks(range(len(order)), order)
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlabel(xlabel)
    return [h for h, _ in legend], [name for _, name in legend]


def forest_figure(rows: pd.DataFrame, *, panels: int = 1, width: float = 1.0, **options):
    """A figure of one :func:`forest` (``options``) sized to its lines, with its legend under it;
    with ``panels`` > 1, the other axes (sharing the lines) are returned empty for the caller.
    Returns ``(fig, axes)``."""
    import matplotlib.pyplot as plt

    label = options.get("label", "label")
    n_lines = len(options.get("order") or dict.fromkeys(rows[label]))
    per_line = rows.groupby(label)[options["group"]].nunique().max() if options.get("group") else 1
    fig, axes = plt.subplots(1, panels, figsize=figsize(0.3 * n_lines * max(1, per_line) ** 0.5 + 1.9, width),
                             sharey=True, squeeze=False, layout="constrained",
                             gridspec_kw={"width_ratios": [1.6] + [1] * (panels - 1)})
    handles, labels = forest(axes[0, 0], rows, **options)
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=min(4, len(handles)), frameon=False)
    return fig, axes[0]
