"""The figures the book's pages draw more than once, in the style of :mod:`potran.bench.book`.

:func:`forest` is the interval ("forest") plot of every page that compares mean tau_w: one line
per metric (or method), the estimate as a point with its interval as a bar, several settings of
one line offset and coloured, the band of a random ranking behind them, "n/a" where nothing is
computable, and open markers where an interval of a difference contains 0; :func:`forest_figure`
sizes a figure for it. The others, by what they show: PED's motion (:func:`ped_toy`, :func:`ped_steps`,
:func:`ped_cell`), the standardisation
(:func:`dimension_spreads`, :func:`balls_and_trace`), fine-tuning's snapshots and costs
(:func:`cell_costs`, :func:`embedding_panels`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .book import figsize

__all__ = ["forest", "forest_figure", "ped_toy", "ped_steps", "ped_cell",
           "SPACE_COLOURS", "dimension_spreads", "balls_and_trace",
           "cell_costs", "embedding_panels", "BAND_COLOUR"]

#: Colour of the random ranking's band behind the intervals.
BAND_COLOUR = "0.86"


def forest(ax, rows: pd.DataFrame, *, label: str = "label", estimate: str = "mean_tau",
           low: str = "low", high: str = "high", group: str | None = None,
           colours: dict | None = None, names: dict | None = None, order=None, band=None,
           band_label: str = "random ranking (95 %)", hollow_if_zero: bool = False,
           xlabel: str = "mean weighted Kendall τ_w over targets (no unit)", spacing: float = 0.22):
    """Draw an interval plot of ``rows`` on ``ax`` and return the legend's handles and labels.

    Parameters
    ----------
    rows
        One row per point: ``label`` (the line it is drawn on), ``estimate``, ``low``, ``high``
        and, with ``group``, the setting that offsets and colours it.
    colours, names
        Colour and legend name per ``group`` value (default: the seaborn palette, the value).
    order
        The labels from top to bottom (default: order of appearance).
    band
        ``(low, high)`` of the band where a random ranking falls, drawn behind the points.
    hollow_if_zero
        Open markers for intervals that contain 0 (differences that are not resolved).

    Raises
    ------
    KeyError
        A named column is missing.
    """
    import seaborn as sns

    needed = [label, estimate, low, high, *([group] if group else [])]
    missing = [c for c in needed if c not in rows.columns]
    if missing:
        raise KeyError(f"forest() needs the column(s) {missing}")
    order = list(dict.fromkeys(rows[label])) if order is None else list(order)
    groups = list(dict.fromkeys(rows[group])) if group else [None]
    if colours is None:
        colours = dict(zip(groups, sns.color_palette(n_colors=len(groups))))
    names = names or {}
    if band is not None:
        ax.axvspan(band[0], band[1], color=BAND_COLOUR, zorder=0, label=band_label)
    ax.axvline(0, color="k", lw=0.8, zorder=1)
    # a line with a single setting (e.g. a baseline) is drawn on the line itself
    settings = rows.groupby(label, sort=False)[group].nunique() if group else None
    offset = [g for g in groups if group and (rows.loc[rows[group] == g, label].map(settings) > 1).any()]
    offsets = dict(zip(offset, (np.arange(len(offset)) - (len(offset) - 1) / 2) * spacing))
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
    handles, labels = [], []
    if band is not None:
        from matplotlib.patches import Patch

        handles.append(Patch(color=BAND_COLOUR))
        labels.append(band_label)
    for key in groups:
        if group and key in shown:
            handles.append(ax.plot([], [], "o", color=colours.get(key, "k"))[0])
            labels.append(names.get(key, str(key)))
    ax.set_yticks(range(len(order)), order)
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlabel(xlabel)
    return handles, labels


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


def ped_toy(Z, y, trace, reference, *, nsigma: float, time_step: float, reference_step: float):
    """PED on a two-dimensional task: left, the standardised
    points ``Z`` with each class's ball (radius ``nsigma * r_c``) before (dotted) and after
    (solid) the motion of ``trace`` and the paths of the centres; right, the potential energy of
    ``trace`` and of ``reference`` (run with ``reference_step``) relative to before. Returns the figure."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    n_classes = len(trace.radii)
    path = np.stack(trace.centres)  # (steps + 1) x C x 2
    palette = sns.color_palette(n_colors=n_classes)
    fig, axes = plt.subplots(1, 2, figsize=figsize(3.9), layout="constrained")
    ax = axes[0]
    for c in range(n_classes):
        ax.scatter(*Z[y == c].T, s=4, alpha=0.25, color=palette[c])
        for step, style in ((0, ":"), (-1, "-")):
            ax.add_patch(
                plt.Circle(
                    path[step, c], nsigma * trace.radii[c], fill=False, ls=style, color=palette[c], lw=1.5
                )
            )
        ax.plot(*path[:, c].T, "k.-", ms=3)
    ax.set_aspect("equal")
    ax.set_xlabel("standardised feature 1")
    ax.set_ylabel("standardised feature 2")
    ax.set_title(f"t = {time_step}: before (dotted), after {trace.steps} steps")
    axes[1].plot(np.array(reference.energies) / reference.energies[0], "o-", label=f"t = {reference_step}")
    axes[1].plot(np.array(trace.energies) / trace.energies[0], "s-", label=f"t = {time_step}")
    axes[1].legend()
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("potential energy U / U before")
    axes[1].set_title("the potential energy declines")
    return fig


def ped_steps(Z, y, trace, *, nsigma: float):
    """One panel per entry of ``trace.centres`` (rows of two or three): the standardised points
    ``Z`` moved with their class, each ball where it was before the first step (grey) and where it
    is (coloured), the path so far, and the energy ratio and displacement in a corner. Returns the figure."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    n_classes, n_panels = len(trace.radii), len(trace.centres)
    path, energies = np.stack(trace.centres), np.array(trace.energies)
    palette = sns.color_palette(n_colors=n_classes)
    n_cols = (
        2 if n_panels in (2, 4) else min(3, n_panels)
    )  # rows of two or three: legible at the page's width
    n_rows = -(-n_panels // n_cols)
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=figsize(8.2 / n_cols * n_rows + 0.3),
        sharex=True,
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat[n_panels:]:
        ax.set_visible(False)
    for k, ax in enumerate(axes.flat[:n_panels]):
        moved = Z + (path[k] - path[0])[y]  # the samples move with their class
        for c in range(n_classes):
            ax.scatter(*moved[y == c].T, s=2, alpha=0.2, color=palette[c])
            ax.add_patch(plt.Circle(path[0, c], nsigma * trace.radii[c], fill=False, color="0.6", lw=0.8))
            ax.add_patch(
                plt.Circle(path[k, c], nsigma * trace.radii[c], fill=False, color=palette[c], lw=1.8)
            )
            ax.plot(*path[: k + 1, c].T, "k.-", ms=3, lw=1)
        ax.set_aspect("equal")
        reach = nsigma * trace.radii.max() + 0.2
        ax.set_xlim(path[..., 0].min() - reach, path[..., 0].max() + reach)
        ax.set_ylim(path[..., 1].min() - reach, path[..., 1].max() + reach)
        ax.set_title("before the motion" if k == 0 else f"after step {k}", fontsize=11)
        note = f"U / U₀ = {energies[k] / energies[0]:.2f}"
        if k > 0:
            note += f"\nP = {trace.displacements[k - 1]:.3f}"
        ax.text(
            0.03,
            0.03,
            note,
            transform=ax.transAxes,
            fontsize=10,
            va="bottom",
            bbox=dict(facecolor="white", alpha=0.8, lw=0),
        )
        if k // n_cols == n_rows - 1 or k + n_cols >= n_panels:
            ax.set_xlabel("standardised feature 1")
        if k % n_cols == 0:
            ax.set_ylabel("standardised feature 2")
    return fig


def ped_cell(plane, y, classes, trace, *, exit_ratio: float):
    """A real cell under PED (``plane``: :class:`potran.bench.motion.CentrePlane`): its images
    before and after the motion with the class centres (top), the centres' paths (bottom left) and
    the trace's energy and displacement relative to their first value (bottom right). Returns the figure."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    colours = sns.color_palette("husl", len(classes))
    fig, axes = plt.subplots(2, 2, figsize=figsize(7.6), layout="constrained")
    for ax, points, k, title in (
        (axes[0, 0], plane.before, 0, "images before the motion"),
        (axes[0, 1], plane.after, -1, f"images after {trace.steps} steps"),
    ):
        sns.scatterplot(
            x=points[:, 0],
            y=points[:, 1],
            hue=y,
            palette=colours,
            s=6,
            alpha=0.35,
            linewidth=0,
            legend=False,
            ax=ax,
        )
        ax.scatter(*plane.tracks[k].T, s=14, color="k", zorder=3, label="class centres")
        ax.set_title(title)
        ax.legend(loc="upper right")
    axes[0, 1].set_xlim(axes[0, 0].get_xlim())
    axes[0, 1].set_ylim(axes[0, 0].get_ylim())
    ax = axes[1, 0]
    for c, name in enumerate(classes):
        ax.plot(*plane.tracks[:, c].T, "-", color=colours[c], lw=1.5)
        ax.scatter(*plane.tracks[0, c], s=30, facecolor="white", edgecolor=colours[c], zorder=3)
        ax.scatter(*plane.tracks[-1, c], s=30, color=colours[c], zorder=3)
        ax.annotate(
            str(name)[:16], plane.tracks[-1, c], fontsize=10, xytext=(3, 3), textcoords="offset points"
        )
    ax.set_title("class centres: before (open) and after (filled)")
    for ax in (axes[0, 0], axes[0, 1], axes[1, 0]):
        ax.set_xlabel(f"PC 1 of the centres ({plane.share[0]:.0%} of their variance)")
        ax.set_ylabel(f"PC 2 of the centres ({plane.share[1]:.0%})")
    ax = axes[1, 1]
    steps = np.arange(trace.steps + 1)
    if trace.steps:
        ax.plot(
            steps, np.array(trace.energies) / trace.energies[0], "o-", label="potential energy U / U before"
        )
        ax.plot(
            steps[1:],
            np.array(trace.displacements) / trace.displacements[0],
            "s-",
            label="displacement P / P of step 1",
        )
    else:
        ax.text(0.5, 0.5, "no overlap: no step taken", ha="center", transform=ax.transAxes)
    ax.axhline(exit_ratio, color="0.5", ls=":", lw=1, label=f"exit ratio ρ = {exit_ratio}")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("step")
    ax.set_ylabel("relative to the first value (no unit)")
    ax.legend(loc="lower left")
    ax.set_title("the trace")
    return fig


#: Colour of each space of PED's motion (:data:`potran.bench.sweeps.SPACES`).
SPACE_COLOURS = {"standardised": "tab:blue", "raw": "tab:green"}


def dimension_spreads(spread: pd.DataFrame, spaces: dict):
    """Per feature dimension (:func:`potran.bench.ped_options.dimension_spread`): left, the standard
    deviation of the target raw and standardised and of the general set, by raw spread (log);
    right, the cumulative share of the summed squared class radii in each of ``spaces``, largest
    first. Returns the figure."""
    import matplotlib.pyplot as plt

    order = spread.sort_values("std_raw", ascending=False).reset_index(drop=True)
    fig, axes = plt.subplots(1, 2, figsize=figsize(4.6), layout="constrained")
    rank = np.arange(1, len(order) + 1)
    axes[0].plot(rank, order.std_raw, color=SPACE_COLOURS["raw"], label="target, raw")
    axes[0].plot(rank, order.std_general, color="tab:orange", label="general set (divisor)")
    axes[0].plot(
        rank, order.std_standardised, color=SPACE_COLOURS["standardised"], label="target, standardised"
    )
    axes[0].set_yscale("log")
    axes[0].set_xlabel("dimension, by raw spread")
    axes[0].set_ylabel("standard deviation (log scale)")
    axes[0].legend(loc="lower left")
    for way, name in spaces.items():
        share = np.sort(spread[f"radius_share_{way}"].to_numpy())[::-1]
        axes[1].plot(
            np.arange(1, len(share) + 1), 100 * np.cumsum(share), color=SPACE_COLOURS[way], label=name
        )
    axes[1].set_xscale("log")
    axes[1].set_ylim(0, 101)
    axes[1].set_xlabel("dimensions, largest share first")
    axes[1].set_ylabel("cumulative share of Σ_c r_c² (%)")
    axes[1].legend(loc="lower right")
    return fig


def balls_and_trace(geometry: pd.DataFrame, runs: dict, spaces: dict):
    """Top: each class's ball radius over the distance to its nearest other centre in each space
    (:func:`potran.bench.sweeps.geometry_both_ways`), a dotted line at 1/2; bottom: the energy and
    displacement of each run's trace (``runs``: {space: result of potran.simulate}) relative to
    their first value. Returns the figure."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, axes = plt.subplots(
        2, 1, figsize=figsize(7.2), layout="constrained", gridspec_kw={"height_ratios": [1.1, 1]}
    )
    sns.barplot(
        data=geometry,
        x="class name",
        y="radius_to_nearest",
        hue="space",
        hue_order=list(spaces),
        palette=SPACE_COLOURS,
        ax=axes[0],
    )
    axes[0].legend(title="space", loc="upper right")
    axes[0].axhline(0.5, color="0.4", ls=":", lw=1)
    axes[0].set_xlabel("class")
    axes[0].set_ylabel("radius / nearest centre")
    axes[0].tick_params(axis="x", rotation=90)
    for way, colour in SPACE_COLOURS.items():
        trace = runs[way].trace
        steps = np.arange(trace.steps + 1)
        axes[1].plot(
            steps,
            np.array(trace.energies) / trace.energies[0],
            "o-",
            color=colour,
            label=f"energy U / U before, {way}",
        )
        if trace.displacements:
            axes[1].plot(
                steps[1:],
                np.array(trace.displacements) / trace.displacements[0],
                "s--",
                color=colour,
                alpha=0.7,
                label=f"displacement P / P of step 1, {way}",
            )
    axes[1].set_ylim(0, 1.05)
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("relative to the first value")
    axes[1].legend(loc="lower left", ncol=2)
    return fig


def cell_costs(costs: pd.DataFrame, general_s: pd.Series, metric: str, totals: pd.Series):
    """The wall-clock cost of a grid's finished cells (:func:`potran.bench.snapshots.cell_costs`;
    ``general_s``: each model's forward pass over the general set): top, per cell on a log scale,
    fine-tuning, the two forward passes and ``metric`` without and with PED; bottom, the sums over
    the grid (``totals``, :func:`potran.bench.snapshots.cost_totals`). Returns the figure."""
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.ticker import FuncFormatter

    per_cell = pd.DataFrame({
        "fine-tuning\n(recorded)": costs.wall_s,
        "extraction of the\ntraining images": costs.extraction_s,
        "extraction of the\ngeneral set (PED)": costs.model.map(general_s / costs.model.value_counts()),
        f"{metric}": costs[metric],
        f"{metric} + PED": costs[f"{metric} + PED"],
    })
    fig, axes = plt.subplots(2, 1, figsize=figsize(7.4), layout="constrained",
                             gridspec_kw={"height_ratios": [1.5, 1]})
    long = per_cell.melt(var_name="what", value_name="seconds")
    sns.stripplot(data=long, x="what", y="seconds", hue="what", ax=axes[0], size=5, jitter=0.15,
                  log_scale=True, legend=False, palette=["0.3", "C0", "C0", "C1", "C2"])
    axes[0].set_xlabel("")
    axes[0].set_ylabel("seconds per cell (log scale)")
    axes[0].set_title(f"the parts, per cell ({len(costs)} cells)")
    axes[0].yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    bars = axes[1].barh(totals.index[::-1], totals.values[::-1], color=["C2", "C1", "0.3"], log=True)
    for bar, value in zip(bars, totals.values[::-1]):
        axes[1].text(value * 1.15, bar.get_y() + bar.get_height() / 2, f"{value:,.1f} s", va="center")
    axes[1].set_xlim(totals.min() / 5, totals.max() * 10)
    axes[1].xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axes[1].set_xlabel("seconds for all the finished cells (log scale)")
    axes[1].set_title(f"the whole grid, scored with {metric}")
    return fig


def embedding_panels(panels, embedded, labels, classes):
    """One scatter per ``(title, features)`` of ``panels`` (rows of three) at its 2-D embedding
    (``embedded``), coloured by class, titled with the silhouette coefficient of the features
    themselves; one legend of the classes under them. Returns the figure."""
    import matplotlib.pyplot as plt
    import seaborn as sns
    from sklearn.metrics import silhouette_score

    classes = [str(c) for c in classes]
    colours = sns.color_palette("husl", len(classes))
    n_cols = min(3, len(panels))              # rows of three: legible at the page's width
    n_rows = -(-len(panels) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=figsize(3.3 * n_rows + 0.5), squeeze=False,
                             layout="constrained")
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (title, F), E in zip(axes.flat, panels, embedded):
        for c in range(len(classes)):
            ax.scatter(*E[labels == c].T, s=5, alpha=0.7, color=colours[c], linewidth=0, label=classes[c])
        ax.set_title(f"{title}\nsilhouette {silhouette_score(F, labels):.2f}")
        ax.set_xlabel("t-SNE 1")
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[:, 0]:
        ax.set_ylabel("t-SNE 2")
    handles, names = axes.flat[0].get_legend_handles_labels()
    longest = max(len(c) for c in classes)
    ncol = max(1, min(len(classes), 80 // (longest + 4)))
    fig.legend(handles, names, loc="outside lower center", ncol=ncol, markerscale=2.5, frameon=False,
               title="class")
    return fig
