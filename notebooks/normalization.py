# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Normalization ablation: why PED standardises by a general set
#
# Before the motion, PED standardises the target's features dimension by dimension with the mean
# and standard deviation of the same model's features on a *general* image set (ImageNet in the
# paper, 50,000 images), so that the class balls live in a space where every dimension has about
# unit spread. The supplementary material (its Fig. 2) compares the motion with and without this
# step and argues that without it a few dimensions with large numerical values dominate, and the
# physical model becomes unbalanced and unstable.
#
# This page looks at the same question in three layers: what the standardisation does to the feature
# dimensions of one example cell of benchmark v4 (the `setting` parameter; `setting = "v3"` runs
# the page across architectures on benchmark v3), what it does to that cell's class balls and
# motion, and what it does to the rankings of LogME, SFDA and GBC over the benchmark (every target,
# as the {doc}`main_table` page). `potran.simulate(..., standardize=False)` runs the motion in the
# raw feature space (mean 0, scale 1 for every dimension; no general set needed). The scores of the
# last part are committed data (`data/bench_v4/sweeps/`, made by `python benchmarks/v3_sweeps.py
# --setting v4`); the page computes only what they do not hold.

# %% tags=["hide-input"]
from potran.bench.folders import FEATURE_CACHE
from potran.metrics import PED_METRICS

# %% tags=["parameters", "hide-input"]
setting = "v4"                    # "v4" (benchmark v4), "v3" (across architectures), "paper", ...
models = None                     # model names; None: every model of the setting
targets = None                    # target names; None: every target of the setting; "main": its main
                                  # table (its registered inclusion rule)
metrics = list(PED_METRICS)
example_model = "inpainting"      # the cell shown in detail: a model whose raw dimensions are very unequal
example_target = "cyrillic"       # (each falls back to the first of models / targets)
nsigma = 0.6                      # radius coefficient λ of every run (the paper's value)
groundtruth = None                # accuracy.csv; None: the setting's (the published one on "paper")
paper_checkpoints = None          # setting "paper" only: the 12 .pth,
paper_data = None                 # the 11 datasets in torchvision's layouts,
paper_imagenet_val = None         # and ImageNet validation images (PED's general set)
paper_options = {}                # more options of potran.bench.paper_setting.benchmark
device = "cpu"                    # torch device of the feature extraction and of PED
cache_dir = FEATURE_CACHE                          # feature cache shared with the other pages
out_dir = None                                     # one run: none, standardised and raw
                                                   # (None: _build/<setting>/normalization)
n_boot = 1000                     # bootstrap replicates of the intervals
seed = 0

# %% tags=["hide-input"]
from functools import partial

from IPython.display import Markdown, display
from myst_nb import glue

import numpy as np
import pandas as pd

import potran
from potran.bench import book, ped_options, plots, settings
from potran.bench.intervals import compare, random_null
from potran.ped import EPS
from potran.perturbations import label as perturbation

# %% tags=["hide-input"]
book.setup_page()
page = settings.get(setting, models, targets, seed=seed, checkpoints=paper_checkpoints, data=paper_data,
                    imagenet_val=paper_imagenet_val, options=paper_options)
out_dir = page.results(out_dir, "normalization")
models, targets = page.models, page.targets
metrics = settings.name_list(metrics, PED_METRICS)
model = example_model if example_model in models else models[0]
target = example_target if example_target in targets else targets[0]
show = partial(book.show, folder=out_dir)  # save a PNG copy, display, caption under it

# %% [markdown]
# ## The feature dimensions of one cell
#
# The example cell's features exactly as the benchmark scores them (the training images that
# fine-tuning learns from; on the offline benchmarks, features rotated onto (at most) their 128
# leading principal components, the general set projected alike; the paper's setting scores all
# 2048). For every dimension: the spread of the target's features, the spread of the general set
# (PED divides by it, floored at $10^{-3}$), and the spread after dividing. The second panel asks
# which dimensions decide the balls' sizes: a class's squared radius is the sum over dimensions of
# the class's variance, so each dimension's share of $\sum_c r_c^2$ says how much it weighs in
# every overlap.

# %% tags=["hide-input"]
# page helper: the two spaces PED can move the classes in
SPACES = {"standardised": "standardised by the general set", "raw": "raw feature space"}  # names on the page
SPACE_COLOURS = {"standardised": "tab:blue", "raw": "tab:green"}

# %% tags=["hide-input"]
# page helper: the left panel of the figure below
def spread_panel(ax, spread):
    """The standard deviation of each dimension of the target raw and standardised and of the
    general set, by raw spread (log scale)."""
    order = spread.sort_values("std_raw", ascending=False).reset_index(drop=True)
    rank = np.arange(1, len(order) + 1)
    ax.plot(rank, order.std_raw, color=SPACE_COLOURS["raw"], label="target, raw")
    ax.plot(rank, order.std_general, color="tab:orange", label="general set (divisor)")
    ax.plot(rank, order.std_standardised, color=SPACE_COLOURS["standardised"], label="target, standardised")
    ax.set_yscale("log")
    ax.set_xlabel("dimension, by raw spread")
    ax.set_ylabel("standard deviation (log scale)")
    ax.legend(loc="lower left")

# %% tags=["hide-input"]
# page helper: the right panel of the figure below
def share_panel(ax, spread, spaces):
    """The cumulative share of the summed squared class radii in each of ``spaces``, largest first."""
    for way, name in spaces.items():
        share = np.sort(spread[f"radius_share_{way}"].to_numpy())[::-1]
        ax.plot(np.arange(1, len(share) + 1), 100 * np.cumsum(share), color=SPACE_COLOURS[way], label=name)
    ax.set_xscale("log")
    ax.set_ylim(0, 101)
    ax.set_xlabel("dimensions, largest share first")
    ax.set_ylabel("cumulative share of Σ_c r_c² (%)")
    ax.legend(loc="lower right")

# %% tags=["hide-input"]
# page helper: the figure of the dimensions of the two spaces
def dimension_spreads(spread, spaces):
    """Per feature dimension (``spread``: potran.bench.ped_options.dimension_spread): left,
    ``spread_panel``; right, ``share_panel``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=book.figsize(4.6), layout="constrained")
    spread_panel(axes[0], spread)
    share_panel(axes[1], spread, spaces)
    return fig


# %% tags=["hide-input"]
task = page.load_target(target)
arrays = page.cell_features(model, task, cache_dir=cache_dir, device=device)
X, y, G = arrays["X_scored"], arrays["y"], arrays["G_scored"]
spread = ped_options.dimension_spread(X, y, G)
print(f"{model} on {target}: {len(y)} images, {len(task.classes)} classes, "
      f"{arrays['X'].shape[1]} features scored as {X.shape[1]}; general set {len(G)} images")
show(dimension_spreads(spread, SPACES), "dimensions",
     f"{model} on {target}, per feature dimension: left, the standard deviation of the target's features "
     "before and after PED's standardisation (raw: feature units; standardised: unitless) and that of the "
     "general set (log scale); right, the cumulative share of the summed squared class radii carried by the "
     "dimensions, largest first, in the raw and in the standardised space.",
     alt=f"Two line plots over the {X.shape[1]} feature dimensions: their standard deviations raw, "
         "standardised and in the general set on a log axis, and the cumulative share of the squared "
         "class radii in the raw and in the standardised space.")

# %% tags=["hide-input"]
live = spread[spread.std_raw > 0]  # dead dimensions (constant features) have no spread to compare
glue("dim_model", model, display=False)
glue("dim_n", len(spread), display=False)
glue("dim_dead", len(spread) - len(live), display=False)
glue("dim_floored", int((np.asarray(G).std(0) < EPS).sum()), display=False)
for way in SPACES:  # "standardised", "raw"
    glue(f"dim_ratio_{way}", float(live[f"std_{way}"].max() / live[f"std_{way}"].min()), display=False)
    glue(f"dim_top_{way}", float(spread[f"radius_share_{way}"].max()), display=False)
    share = np.sort(spread[f"radius_share_{way}"].to_numpy())[::-1]       # largest first
    for q in (0.5, 0.9):  # how many dimensions carry this share of the summed squared radii
        glue(f"dim_need_{way}_{int(100 * q)}", int(np.searchsorted(np.cumsum(share), q) + 1), display=False)

# %% [markdown]
# In the raw space the spreads of {glue:text}`dim_model`'s {glue:text}`dim_n` dimensions span a
# factor {glue:text}`dim_ratio_raw:,.0f` (largest over smallest standard deviation, leaving out
# {glue:text}`dim_dead` constant dimensions); after standardisation a factor
# {glue:text}`dim_ratio_standardised:,.0f`. Half of the summed squared radii sits in
# {glue:text}`dim_need_raw_50` raw dimension(s) ({glue:text}`dim_need_raw_90` for 90 %), against
# {glue:text}`dim_need_standardised_50` ({glue:text}`dim_need_standardised_90`) after
# standardisation; the single largest dimension carries {glue:text}`dim_top_raw:.0%` of it raw
# and {glue:text}`dim_top_standardised:.0%` standardised. {glue:text}`dim_floored` dimension(s) of
# the general set have a spread below the floor $10^{-3}$ and are divided by the floor instead.
# Standardising by a *general* set rather than by the target itself keeps what is special about
# the target: a dimension the target uses much more than generic images do stays wide.

# %% [markdown]
# ## The class balls and the motion, both ways
#
# The example cell run through PED twice with the paper's values ($\lambda$ below, $t = 0.1$,
# $k = 1$, at most six steps): standardised by the general set, and in the raw space. Radii have the
# units of their space, so each ball is measured against the distance to the nearest other class
# centre (a ratio above 1/2 with a neighbour of the same size means the two overlap).

# %% tags=["hide-input"]
runs = {"standardised": potran.simulate(X, y, G, nsigma=nsigma, device=device),
        "raw": potran.simulate(X, y, None, nsigma=nsigma, standardize=False, device=device)}
geometry = pd.concat([ped_options.class_geometry(r.trace, nsigma).assign(space=way)
                      for way, r in runs.items()])                           # per class and space
geometry["class name"] = [str(task.classes[c])[:14] for c in geometry["class"]]
per_class = geometry.pivot_table(index="class name", columns="space", values=["radius", "radius_to_nearest"],
                                 sort=False)
per_class.columns = [f"{'ball radius λ r_c' if v == 'radius' else 'radius / nearest centre'}, {w}"
                     for v, w in per_class.columns]

# %% tags=["hide-input"]
glue("n_classes", len(task.classes), display=False)
glue("n_pairs", len(task.classes) * (len(task.classes) - 1) // 2, display=False)
for way, g in geometry.groupby("space"):
    for stat in ("min", "median", "max"):
        glue(f"ratio_{way}_{stat}", float(g.radius_to_nearest.agg(stat)), display=False)
    glue(f"pairs_{way}", int(g.overlaps.sum() // 2), display=False)
    trace = runs[way].trace
    glue(f"steps_{way}", int(trace.steps), display=False)
    glue(f"released_{way}", float(1 - trace.energies[-1] / trace.energies[0]) if trace.energies[0] > 0
         else float("nan"), display=False)
    glue(f"max_shift_{way}", float(trace.max_shift), display=False)
glue("median_std_raw", float(np.median(spread.std_raw)), display=False)

# %% [markdown]
# Over the {glue:text}`n_classes` classes, a ball's radius is standardised
# {glue:text}`ratio_standardised_min:.2f` to {glue:text}`ratio_standardised_max:.2f` times the
# distance to its nearest other centre (median {glue:text}`ratio_standardised_median:.2f`); raw
# {glue:text}`ratio_raw_min:.2f` to {glue:text}`ratio_raw_max:.2f` times (median
# {glue:text}`ratio_raw_median:.2f`).

# %% tags=["hide-input"]
# page helper: the top panel of the figure below
def balls_panel(ax, geometry, spaces):
    """Each class's ball radius over the distance to its nearest other centre in each space, a
    dotted line at 1/2."""
    import seaborn as sns

    sns.barplot(data=geometry, x="class name", y="radius_to_nearest", hue="space", hue_order=list(spaces),
                palette=SPACE_COLOURS, ax=ax)
    ax.legend(title="space", loc="upper right")
    ax.axhline(0.5, color="0.4", ls=":", lw=1)
    ax.set_xlabel("class")
    ax.set_ylabel("radius / nearest centre")
    ax.tick_params(axis="x", rotation=90)

# %% tags=["hide-input"]
# page helper: the bottom panel of the figure below
def trace_panel(ax, runs):
    """The energy and displacement of each run's trace (``runs``: {space: result of
    potran.simulate}) relative to their first value."""
    for way, colour in SPACE_COLOURS.items():
        trace = runs[way].trace
        steps = np.arange(trace.steps + 1)
        ax.plot(steps, np.array(trace.energies) / trace.energies[0], "o-", color=colour,
                label=f"energy U / U before, {way}")
        if trace.displacements:
            ax.plot(steps[1:], np.array(trace.displacements) / trace.displacements[0], "s--",
                    color=colour, alpha=0.7, label=f"displacement P / P of step 1, {way}")
    ax.set_ylim(0, 1.05)
    ax.set(xlabel="step", ylabel="relative to the first value")
    ax.legend(loc="lower left", ncol=2)

# %% tags=["hide-input"]
# page helper: the figure of the balls (top) and of the two motions' traces (bottom)
def balls_and_trace(geometry, runs, spaces):
    """Top, ``balls_panel``; bottom, ``trace_panel``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=book.figsize(7.2), layout="constrained",
                             gridspec_kw={"height_ratios": [1.1, 1]})
    balls_panel(axes[0], geometry, spaces)
    trace_panel(axes[1], runs)
    return fig


# %% tags=["hide-input"]
display(book.details(book.table(per_class), f"The {len(per_class)} classes' ball radii, both ways"))
show(balls_and_trace(geometry, runs, SPACES), "balls_and_trace",
     f"{model} on {target} with λ = {nsigma:g}: top, every class's ball radius over the distance to its "
     "nearest other class centre (unitless; the dotted line at 1/2 is where two equal neighbours touch), "
     "standardised and raw; bottom, the trace of the motion both ways, the potential energy and the "
     "displacement of every accepted step relative to their first value (unitless).",
     alt=f"Top: paired bars for the {len(task.classes)} classes, each ball's radius over the distance to "
         "the nearest other centre in the standardised and in the raw space, with a dotted line at "
         "1/2. Bottom: energy and displacement curves of the two motions over their steps.")

# %% [markdown]
# Standardised, the median ball's radius is {glue:text}`ratio_standardised_median:.2f` times the
# distance to the nearest other centre and {glue:text}`pairs_standardised` of the
# {glue:text}`n_pairs` class pairs overlap; raw, {glue:text}`ratio_raw_median:.2f` times and
# {glue:text}`pairs_raw` pairs. The motion takes {glue:text}`steps_standardised` step(s) and releases
# {glue:text}`released_standardised:.0%` of the potential energy standardised,
# {glue:text}`steps_raw` step(s) and {glue:text}`released_raw:.0%` raw. The largest change of any
# feature, in feature units, is {glue:text}`max_shift_standardised:.3g` with the standardised motion
# and {glue:text}`max_shift_raw:.3g` with the raw one, against a median feature standard deviation
# of {glue:text}`median_std_raw:.3g`.

# %% [markdown]
# ## Over the benchmark: $\tau_w$ with and without the standardisation
#
# LogME, SFDA and GBC scored without PED, with PED as the paper runs it, and with PED in the raw
# space (the perturbation `ped:standardize=False`, scored in the same run), ranked against the
# fine-tuning ground truth: mean weighted Kendall $\tau_w$ over targets with 95 % crossed-bootstrap
# intervals ({mod}`potran.stats`: one resample of the models shared by every target, each cell's
# seeds redrawn; targets and test images fixed; the same replicates for all settings; the change
# brought by PED is paired with the metric without it). The grey band of the figure is where a
# random ranking of the same cells falls.

# %%
ways = {"standardised": perturbation("ped", nsigma=nsigma),               # each way's perturbation label
        "raw": perturbation("ped", nsigma=nsigma, standardize=False)}
way_of = {label: way for way, label in ways.items()} | {"none": "none"}   # and back
truth = page.groundtruth(groundtruth)
scores, _ = page.scores(out_dir, data="sweeps", metrics=tuple(metrics),
                        perturbations=("none", *ways.values()), groundtruth=truth.accuracy,
                        cache_dir=cache_dir, device=device)
accuracy, seeds = truth.accuracy, truth.seeds
intervals = ped_options.settings_intervals(scores, accuracy, seeds, n_boot=n_boot, seed=seed)
intervals["setting"] = intervals.perturbation.map(way_of)
ranked = accuracy.merge(scores[["model", "target"]].drop_duplicates(), on=["model", "target"])
failed = int((scores.error.fillna("") != "").sum())
print(f"{page.title}: {len(models)} models x {len(targets)} targets x {len(metrics)} metrics: "
      f"{len(scores)} scores, {failed} failed; {len(ranked)} of {len(models) * len(targets)} cells "
      "have a fine-tuning ground truth")

# %% tags=["hide-input"]
NAMES = {"none": "without PED", "standardised": "PED, standardised", "raw": "PED, raw space"}
if intervals.empty:
    display(Markdown("**No scored cell has a fine-tuning ground truth yet**, so no $\\tau_w$ can be "
                     "computed; the traces below do not need one."))
else:
    display(book.table(pd.DataFrame({
        "metric": intervals.metric, "setting": intervals.setting.map(NAMES),
        "mean τ_w [95 % interval]": list(map(book.interval, intervals.mean_tau, intervals.low, intervals.high)),
        "change by PED [95 % interval]": list(map(book.interval, intervals.delta, intervals.delta_low,
                                                 intervals.delta_high)),
        "p (change)": intervals.p_delta}), formats={"p (change)": "p"}, index=False))

# %% tags=["hide-input"]
if not intervals.empty:
    null = random_null(ranked, seed=seed) if ranked.model.nunique() >= 2 else None
    colours = {NAMES["none"]: "0.45", **{NAMES[w]: SPACE_COLOURS[w] for w in ("standardised", "raw")}}
    fig, axes = plots.forest_figure(
        intervals.assign(setting=intervals.setting.map(NAMES)), label="metric", group="setting",
        colours=colours, order=metrics, band=None if null is None else (null["low"], null["high"]))
    axes[0].set_ylabel("metric")
    show(fig, "tau", f"Ours ({len(ranked)} ranked cells): mean weighted Kendall τ_w over targets of each metric "
         f"without PED, with PED standardised by the general set and with PED in the raw feature space "
         f"(λ = {nsigma:g}), with 95 % crossed-bootstrap intervals; the grey band is what a random ranking reaches.",
         alt=f"Interval plot, one row per metric ({', '.join(metrics)}), three intervals each: without PED, "
             "with PED standardised and with PED in the raw space, over the band of random rankings.")

# %% [markdown]
# ## What agrees, what does not, and why
#
# Two more numbers compare the two settings directly: how alike they rank the models (the weighted
# $\tau$ between the two settings' scores of the same models, ground truth aside; 1 = the same
# ranking), and the paired difference of their $\tau_w$ with the ground truth (standardised − raw,
# on the same bootstrap replicates), in the second table. The first gives the motion's cost in each
# space, averaged over the scored cells.

# %%
trace = ped_options.trace_summary(scores)
trace = trace.assign(setting=trace.perturbation.map(way_of)).set_index(["setting", "metric"])
motion = trace[["mean_steps", "energy_decline", "no_overlap"]].groupby(level="setting").mean().reindex(
    list(SPACES))                                # per space, the mean over the metrics
agree = ped_options.ranking_agreement(scores, ways["standardised"], ways["raw"]).groupby(
    "metric", sort=False).weighted_tau.mean()
versus = compare(scores, accuracy, seeds, perturbation=ways["standardised"],
                        reference=ways["raw"], n_boot=n_boot, seed=seed).set_index("metric")

# %% tags=["hide-input"]
v = versus.reindex(metrics)  # standardised − raw, paired
alike = pd.DataFrame({"the two settings rank alike (τ)": agree.reindex(metrics).to_numpy(),
                      "standardised − raw τ_w [95 % interval]": list(map(book.interval, v.delta, v.low, v.high))},
                     index=pd.Index(metrics, name="metric"))
glue("n_trace_cells", int(trace.cells.max()), display=False)
for way in ("standardised", "raw"):
    glue(f"motion_steps_{way}", float(motion.mean_steps[way]), display=False)
    glue(f"motion_released_{way}", float(motion.energy_decline[way]), display=False)
book.blocks([
    book.table(motion.rename(columns={"mean_steps": "mean steps", "energy_decline": "energy released",
                                      "no_overlap": "cells without overlap"}),
               formats={"mean steps": 2, "energy released": "%1", "cells without overlap": 1}),
    book.table(alike, formats={"the two settings rank alike (τ)": "+3"})])

# %% [markdown]
# Over the {glue:text}`n_trace_cells` scored cells the motion takes
# {glue:text}`motion_steps_standardised:.2f` steps and releases
# {glue:text}`motion_released_standardised:.0%` of the potential energy standardised,
# {glue:text}`motion_steps_raw:.2f` steps and {glue:text}`motion_released_raw:.0%` raw. In the
# example cell, half of the summed squared radii sits in {glue:text}`dim_need_raw_50` raw
# dimension(s) against {glue:text}`dim_need_standardised_50` standardised.

# %% [markdown]
# **Reading the numbers.** The supplementary's argument is about the geometry, and the first two
# figures test its mechanism: where a model's raw dimensions differ widely in spread, the raw
# radii, and with them every overlap and the direction of every push, are decided by a few wide
# dimensions, and standardising by the general set spreads that weight over many. Where the raw
# spreads are already alike, the two spaces differ little. Whether the geometry changes the
# *ranking* is a separate question, which the paper answers only with a figure.

# %% tags=["remove-cell"]
for m in ("logme", "sfda", "gbc"):  # the numbers of the paragraph below (myst-nb glue)
    for column in ("delta", "low", "high"):
        glue(f"{m}_versus_{column}", float(versus[column].get(m, float("nan"))), display=False)
    for way in ("standardised", "raw"):
        row = intervals[(intervals.metric == m) & (intervals.setting == way)]
        glue(f"{m}_{way}_change", float(row.delta.iloc[0]) if len(row) else float("nan"), display=False)
standard = intervals[intervals.setting == "standardised"].set_index("metric")
for key, low, high in (("versus", versus.low, versus.high), ("standardised", standard.delta_low, standard.delta_high)):
    for side, keep in (("above", low > 0), ("below", high < 0), ("zero", (low <= 0) & (high >= 0))):
        glue(f"{key}_{side}", ", ".join(low.index[keep]) or "none", display=False)
glue("setting_title", page.title, display=False)

# %% [markdown]
# **On {glue:text}`setting_title`**, PED changes the mean $\tau_w$ by
# {glue:text}`logme_raw_change:+.3f` (LogME), {glue:text}`sfda_raw_change:+.3f` (SFDA) and
# {glue:text}`gbc_raw_change:+.3f` (GBC) when the classes move in the raw space, against
# {glue:text}`logme_standardised_change:+.3f`, {glue:text}`sfda_standardised_change:+.3f` and
# {glue:text}`gbc_standardised_change:+.3f` with the paper's standardised motion. The paired
# difference standardised − raw is {glue:text}`logme_versus_delta:+.3f`
# [{glue:text}`logme_versus_low:+.3f`, {glue:text}`logme_versus_high:+.3f`] for LogME,
# {glue:text}`sfda_versus_delta:+.3f` [{glue:text}`sfda_versus_low:+.3f`,
# {glue:text}`sfda_versus_high:+.3f`] for SFDA and {glue:text}`gbc_versus_delta:+.3f`
# [{glue:text}`gbc_versus_low:+.3f`, {glue:text}`gbc_versus_high:+.3f`] for GBC: its interval lies
# above 0 (the standardisation protects the ranking) for {glue:text}`versus_above`, below 0 for
# {glue:text}`versus_below`, and contains 0 for {glue:text}`versus_zero`. With the standardised
# motion, the interval of PED's change lies above 0 for {glue:text}`standardised_above`, below 0
# for {glue:text}`standardised_below`, and contains 0 for {glue:text}`standardised_zero` (the
# "change" column of the interval table above). The intervals are crossed-bootstrap intervals that
# hold the targets fixed: they describe these targets, and are not tests.
