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
# # The λ grid search (Table 1's "k"): how much does tuning PED's radius help?
#
# The supplementary material's Table 1 repeats the main table with the PED rows ("+Ours") re-run
# after a grid search of one hyper-parameter over {0.6, 0.8, 1.0, 1.2, 1.5, 2.0}. The text calls it
# the elastic constant $k$, but also says that $k$ is kept at 1.0 and the radius coefficient
# $\lambda$ is adjusted instead, since the two are coupled: a larger $\lambda$ makes every ball
# larger, so the overlaps, the forces and the moves all grow. We therefore search $\lambda$
# (`nsigma` in `potran.simulate`; 0.6 in the paper's runs). Table 1 prints only the best result of
# the search for each method and dataset, not one row per value, and nothing says on which data the
# best value was picked.
#
# This page runs the same search on the project's benchmark v4, the paper's design in miniature
# (the `setting` parameter; `setting = "v3"` runs it across architectures on benchmark v3): its 12
# self-supervised models of one architecture on every target, as the {doc}`main_table` page (the
# `targets` parameter; `"main"` keeps the targets of the registered reliability rule), LogME, SFDA
# and GBC scored with PED once per value of $\lambda$, plus once without PED as the reference, each
# ranking compared with the fine-tuning ground truth by the weighted Kendall $\tau_w$. The scores
# are committed data (`data/bench_v4/sweeps/`, made by `python benchmarks/v3_sweeps.py --setting
# v4`): the page extracts no feature unless its parameters ask for a value of $\lambda$, a metric
# or a cell that is not committed.

# %% tags=["hide-input"]
from potran.bench.folders import FEATURE_CACHE
from potran.metrics import PED_METRICS

# %% tags=["parameters", "hide-input"]
setting = "v4"                    # "v4" (benchmark v4), "v3" (across architectures), "paper", ...
models = None                     # model names; None: every model of the setting
targets = None                    # target names; None: every target of the setting; "main": its main
                                  # table (its registered inclusion rule)
metrics = list(PED_METRICS)
k_values = [0.6, 0.8, 1.0, 1.2, 1.5, 2.0]   # the supplementary's grid, searched as λ (nsigma)
default_k = 0.6                   # the value of the paper's runs (and of potran.ped.NSIGMA)
groundtruth = None                # accuracy.csv; None: the setting's (the published one on "paper")
paper_checkpoints = None          # setting "paper" only: the 12 .pth,
paper_data = None                 # the 11 datasets in torchvision's layouts,
paper_imagenet_val = None         # and ImageNet validation images (PED's general set)
paper_options = {}                # more options of potran.bench.paper_setting.benchmark
device = "cpu"                    # torch device of the feature extraction
cache_dir = FEATURE_CACHE                        # feature cache shared with the other pages
out_dir = None                                   # one run: every value of λ and none
                                                 # (None: _build/<setting>/k_grid)
n_boot = 1000                     # bootstrap replicates of the intervals
seed = 0

# %% tags=["hide-input"]
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import Markdown, display
from myst_nb import glue

from potran import paper
from potran.bench import book, finetuned, ped_options, settings
from potran.bench.intervals import random_null
from potran.bench.tau import tau_table
from potran.perturbations import NONE, PED

# %% tags=["hide-input"]
book.setup_page()
page = settings.get(setting, models, targets, seed=seed, checkpoints=paper_checkpoints, data=paper_data,
                    imagenet_val=paper_imagenet_val, options=paper_options)
out_dir = page.results(out_dir, "k_grid")
truth = page.groundtruth(groundtruth)
metrics = settings.name_list(metrics, PED_METRICS)
k_values, label, shown_as = ped_options.radius_grid(k_values, default_k)  # label: e.g. "ped:nsigma=0.6"
show = partial(book.show, folder=out_dir)  # save a PNG copy, display, caption under it

# %% tags=["hide-input"]
scores, _ = page.scores(out_dir, data="sweeps", metrics=tuple(metrics),
                        perturbations=("none", *label.values()), groundtruth=truth.accuracy,
                        cache_dir=cache_dir, device=device)
tau = tau_table(scores, truth.accuracy)
intervals = ped_options.settings_intervals(scores, truth.accuracy, truth.seeds, n_boot=n_boot, seed=seed)
ranked = ped_options.scored_truth(truth.accuracy, scores)            # the cells with a ground truth
null = random_null(ranked, seed=seed) if ranked.model.nunique() >= 2 else None  # a random ranking's band
glue("run_title", page.title or page.name, display=False)
for key, n in {"run_models": len(page.models), "run_targets": len(page.targets), "run_metrics": len(metrics),
               "run_values": len(k_values), "run_scores": len(scores),
               "run_failed": int((scores.error.fillna("") != "").sum()), "run_ranked": len(ranked),
               "run_cells": len(page.models) * len(page.targets)}.items():
    glue(key, n, display=False)

# %% [markdown]
# Scored on {glue:text}`run_title`: {glue:text}`run_models` models × {glue:text}`run_targets`
# targets × {glue:text}`run_metrics` metrics × {glue:text}`run_values` values of λ (+ the reference
# without PED): {glue:text}`run_scores` scores, {glue:text}`run_failed` failed;
# {glue:text}`run_ranked` of {glue:text}`run_cells` cells have a fine-tuning ground truth.


# %% [markdown]
# ## Published: Table 1 beside the main table
#
# The paper's numbers (`potran.paper.k_grid()` and `potran.paper.main_table()`, transcribed in
# `data/paper/`; 12 self-supervised ResNet-50s on 10 datasets). They are shown, not recomputed.
# Mean $\tau_w$ over the 10 datasets: without PED, with PED at the paper's default, and with PED
# after the grid search.

# %% tags=["hide-input"]
# page helper: the published numbers, Table 1 beside the main table
def published_grid(metrics):
    """The paper's mean τ_w over its 10 datasets per metric of ``metrics`` in Table 1 (without PED, at
    the default λ, after the grid search, the gain), and on how many datasets the grid is higher."""
    grid, main = paper.k_grid(), paper.main_table()

    def mean(table, p):
        return table[table.perturbation == p].groupby("metric").weighted_tau.mean()

    pub = pd.DataFrame({"without PED": mean(main, NONE), "PED, default λ (main table)": mean(main, PED),
                        "PED, best of the grid (Table 1)": mean(grid, PED)}
                       ).loc[[m for m in metrics if m in set(grid.metric)]]
    pub["grid gain"] = pub["PED, best of the grid (Table 1)"] - pub["PED, default λ (main table)"]
    both = grid.merge(main, on=["method", "target"], suffixes=("_grid", "_main"))
    both = both[both.perturbation_grid == PED]
    raised = (both.weighted_tau_grid > both.weighted_tau_main).groupby(both.metric_grid).sum()
    return pub, raised


# %% tags=["hide-input"]
pub, raised = published_grid(metrics)
for m in ("logme", "sfda", "gbc"):
    glue(f"{m}_published_grid_gain", float(pub["grid gain"].get(m, float("nan"))), display=False)
    glue(f"{m}_published_raised", int(raised.get(m, -1)), display=False)
    glue(f"{m}_published_effect", float((pub["PED, default λ (main table)"] - pub["without PED"]).get(m, float("nan"))),
         display=False)
book.table(pub, formats={"grid gain": "+3"},
           caption="Published: mean τ_w over the paper's 10 datasets without PED, with PED at λ = 0.6 "
                   "(main table) and with PED after the grid search (supplementary Table 1).")

# %% [markdown]
# In the paper, the grid search raises the mean $\tau_w$ of PED by
# {glue:text}`logme_published_grid_gain:+.3f` for LogME, {glue:text}`sfda_published_grid_gain:+.3f`
# for SFDA and {glue:text}`gbc_published_grid_gain:+.3f` for GBC ({glue:text}`logme_published_raised`,
# {glue:text}`sfda_published_raised` and {glue:text}`gbc_published_raised` of 10 datasets higher).
# No entry falls below the main table's, which is what picking the best of a grid that contains the
# default per dataset produces; the selection cannot be told apart from the improvement, since only
# the maximum is printed.

# %% [markdown]
# ## Ours: mean $\tau_w$ for every value of $\lambda$
#
# Mean $\tau_w$ over the targets with 95 % crossed-bootstrap intervals ({mod}`potran.stats`: one
# resample of the models shared by every target and each cell's seeds redrawn; targets and test
# images fixed; through {mod}`potran.bench.intervals`). All values share the same replicates, and the
# difference with the metric without PED is paired (its p-value: the two-sided bootstrap p).

# %% tags=["hide-input"]
# page helper: the intervals as two tables (setting × metric) of "estimate [low, high]"
def setting_tables(intervals, shown_as, metrics):
    """The mean τ_w and the change PED brings, each as (what, table); ``shown_as`` names each setting."""
    view = intervals.assign(setting=intervals.perturbation.map(shown_as))
    out = []
    for column, low, high, what in (("mean_tau", "low", "high", "Mean τ_w"),
                                    ("delta", "delta_low", "delta_high", "Change brought by PED")):
        cells = view.assign(cell=list(map(book.interval, view[column], view[low], view[high])))
        cells = cells[cells[column].notna()].pivot(index="setting", columns="metric", values="cell")
        rows = [s for s in shown_as.values() if s in cells.index]
        out.append((what, cells.reindex(index=rows, columns=list(metrics)).fillna("–")))
    return out


# %% tags=["hide-input"]
if intervals.empty:
    display(Markdown("**No scored cell has a fine-tuning ground truth yet**, so no $\\tau_w$ can be "
                     "computed; the trace below does not need one."))
for what, table in ([] if intervals.empty else setting_tables(intervals, shown_as, metrics)):
    display(book.table(table, caption=f"{what} over the targets [95 % crossed-bootstrap interval]."))

# %% tags=["hide-input"]
# page helper: the λ axis of the two figures below
def lambda_axes(axes, ticks, default):
    """Each of ``axes`` over λ, ticked at ``ticks``, with a dotted line at ``default``."""
    for ax in axes:
        ax.set_xlabel("radius coefficient λ (nsigma)")
        ax.set_xticks(list(ticks))
        ax.axvline(default, color="0.5", ls=":", lw=1)

# %% tags=["hide-input"]
# page helper: one metric's lines in the figure below
def metric_curves(axes, intervals, metric, values, offset, colour):
    """``metric``'s intervals at each value of ``values`` ({value: perturbation}): the mean τ_w
    (left) and PED's change (right), with the metric without PED dashed (left)."""
    rows = intervals[(intervals.metric == metric) & (intervals.perturbation != NONE)]
    present = [k for k in values if values[k] in set(rows.perturbation)]
    rows = rows.set_index("perturbation").loc[[values[k] for k in present]]
    for ax, col, lo, hi in ((axes[0], "mean_tau", "low", "high"),
                            (axes[1], "delta", "delta_low", "delta_high")):
        ax.errorbar(np.array(present) + offset, rows[col], yerr=[rows[col] - rows[lo], rows[hi] - rows[col]],
                    fmt="o-", capsize=3, color=colour, label=f"{metric} + PED")
    ref = intervals[(intervals.metric == metric) & (intervals.perturbation == NONE)]
    if len(ref):
        axes[0].axhline(ref.mean_tau.iloc[0], color=colour, ls="--", lw=1, label=f"{metric} without PED")

# %% tags=["hide-input"]
# page helper: the figure of mean τ_w (left) and PED's change (right) per value of λ
def setting_curves(intervals, metrics, values, default, null=None):
    """One ``metric_curves`` per metric, a random ranking's band (``null``), a dotted line at ``default``."""
    colours, offsets = sns.color_palette(n_colors=len(metrics)), np.linspace(-0.04, 0.04, len(metrics))
    fig, axes = plt.subplots(1, 2, figsize=book.figsize(4.6), layout="constrained")
    for metric, colour, offset in zip(metrics, colours, offsets):
        metric_curves(axes, intervals, metric, values, offset, colour)
    if null is not None:
        axes[0].axhspan(null["low"], null["high"], color="0.85", zorder=0, label="random ranking (95 %)")
    axes[1].axhline(0, color="k", lw=0.8)
    lambda_axes(axes, values, default)
    axes[0].set_ylabel("mean weighted Kendall τ_w over targets")
    axes[1].set_ylabel("τ_w with PED − τ_w without PED")
    fig.legend(*axes[0].get_legend_handles_labels(), ncol=3, loc="outside lower center", frameon=False)
    return fig


# %% tags=["hide-input"]
if not intervals.empty:
    show(setting_curves(intervals, metrics, label, default_k, null), "tau_per_k",
         f"Ours ({len(ranked)} ranked cells of {page.title}): left, the mean "
         f"weighted Kendall τ_w over targets (unitless) of each metric with PED at every value of λ, with "
         f"95 % crossed-bootstrap intervals, the metric without PED (dashed) and the band a random ranking "
         f"reaches (grey); right, the paired change that PED brings at each λ. The dotted line marks the "
         f"paper's λ = {default_k:g}.",
         alt=f"Two panels over λ ({', '.join(f'{k:g}' for k in k_values)}): the mean τ_w with PED of each "
             "metric with its interval, beside a dashed line for the metric without PED; and the paired "
             "change PED brings at each λ around zero.")

# %% [markdown]
# ## What the motion does at each $\lambda$
#
# Every score with PED records the steps the motion took (at most six, the paper's limit) and the
# potential energy after the motion over the energy before (`ped_steps`, `energy_ratio` of the score
# table). Averaged over the cells:

# %% tags=["hide-input"]
trace = ped_options.trace_summary(scores)                       # per setting: steps, energy, overlaps
per_k = trace.assign(λ=trace.perturbation.map({v: k for k, v in label.items()})).groupby("λ")[
    ["mean_steps", "max_steps_share", "energy_decline", "no_overlap"]].mean()
# every metric scores the same moved features, so every metric should see the same motion
same = (trace.groupby("perturbation")[["mean_steps", "mean_energy_ratio"]]
        .nunique(dropna=False).max().max() == 1)
display(book.table(csv="k_grid_per_value", data=per_k.rename(columns={
    "mean_steps": "mean steps", "max_steps_share": "cells at the step limit", "energy_decline": "energy released",
    "no_overlap": "cells without overlap"}), formats={"mean steps": 2, "cells at the step limit": "%0",
                                                      "energy released": "%1", "cells without overlap": 1}))

# %% tags=["hide-input"]
# page helper: the figure of the motion per value of λ
def trace_curves(per_value, ticks, default):
    """The mean steps PED took (of at most 6) and the share of the potential energy it released per
    value of λ (the table above); a dotted line at ``default``."""
    fig, axes = plt.subplots(1, 2, figsize=book.figsize(3.4), layout="constrained")
    axes[0].plot(per_value.index, per_value.mean_steps, "o-")
    axes[0].set_ylim(0, 6.3)
    axes[0].set_ylabel("mean steps taken (of at most 6)")
    axes[1].plot(per_value.index, 100 * per_value.energy_decline, "o-", color="tab:red")
    axes[1].set_ylim(0, 100)
    axes[1].set_ylabel("potential energy decline (%)")
    lambda_axes(axes, ticks, default)
    return fig


# %% tags=["hide-input"]
show(trace_curves(per_k, k_values, default_k), "trace_per_k",
     f"The motion at each λ, averaged over the {int(trace.cells.max())} cells: the "
     f"steps PED took before the exit test stopped it (left) and the fall of the potential energy "
     f"during the motion, 1 − U_after / U_before in % (right).",
     alt="Two line plots over λ: the mean number of steps the motion took, and the share of the "
         "potential energy it released.")

# %% tags=["hide-input"]
from potran.ped import CONSTANT, TIME_STEP

lo, hi = per_k.index.min(), per_k.index.max()
for end, value in (("lo", lo), ("hi", hi)):
    glue(f"trace_{end}", float(value), display=False)
    glue(f"trace_steps_{end}", float(per_k.mean_steps[value]), display=False)
    glue(f"trace_released_{end}", float(per_k.energy_decline[value]), display=False)
glue("trace_same", "the same" if same else "not the same", display=False)
glue("step_share", CONSTANT * TIME_STEP**2 / 2, display=False)

# %% [markdown]
# From λ = {glue:text}`trace_lo:g` to λ = {glue:text}`trace_hi:g` the motion takes
# {glue:text}`trace_steps_lo:.2f` → {glue:text}`trace_steps_hi:.2f` steps on average and releases
# {glue:text}`trace_released_lo:.1%` → {glue:text}`trace_released_hi:.1%` of its potential energy
# ({glue:text}`trace_same` for every metric, which all move the same features). A larger λ makes
# the balls and their overlaps larger, so the classes move farther; but a step moves each class by
# $k t^2/2$ = {glue:text}`step_share:.3f` of each of its overlaps whatever their size, so the share
# of the energy released changes only through which pairs overlap and how their overlaps compare.

# %% [markdown]
# ## Picking $\lambda$ on the ground truth
#
# What a grid search gains depends on how the winner is chosen. `best λ` is one value for all
# targets (the highest mean $\tau_w$); `best λ per target` takes each target's best value, the reading
# of Table 1 most consistent with its numbers. Both are chosen on the same ground truth they are
# scored against, so the gain is partly selection: with noise alone, the best of six is above the
# default.

# %% tags=["hide-input"]
choice = ped_options.grid_selection(tau, default=label[default_k]).set_index("metric")
for m in ("logme", "sfda", "gbc"):
    for column in ("no_ped", "default", "best_mean", "per_target_best"):
        glue(f"{m}_{column}", float(choice[column].get(m, float("nan"))), display=False)
    glue(f"{m}_tuning", float((choice.best_mean - choice["default"]).get(m, float("nan"))), display=False)
tuned = choice.reindex(["logme", "sfda", "gbc"]).dropna(subset=["best_mean", "no_ped"])
glue("tuned_above", ", ".join(tuned.index[tuned.best_mean > tuned.no_ped]) or "none", display=False)
glue("tuned_below", ", ".join(tuned.index[tuned.best_mean < tuned.no_ped]) or "none", display=False)
with_ped = intervals[intervals.perturbation != NONE] if len(intervals) else intervals
glue("half_width", float(with_ped.eval("(high - low) / 2").median()) if len(with_ped) else float("nan"),
     display=False)                                   # the median half-width of the settings with PED
side = pd.DataFrame({"published: default": pub["PED, default λ (main table)"],
                     "published: best per dataset": pub["PED, best of the grid (Table 1)"],
                     "ours: without PED": choice.no_ped, "ours: default": choice["default"],
                     "ours: best λ": choice.best_mean, "ours: best λ per target": choice.per_target_best}
                    ).reindex(list(metrics)).assign(**{"ours: which λ": choice.best_setting.map(shown_as)})
display(book.table(side))

# %% [markdown]
# **What tuning λ gains here.** The paper's search raises PED's mean $\tau_w$ by
# {glue:text}`logme_published_grid_gain:+.3f` (LogME), {glue:text}`sfda_published_grid_gain:+.3f`
# (SFDA) and {glue:text}`gbc_published_grid_gain:+.3f` (GBC). Ours, one λ for all targets: LogME
# {glue:text}`logme_default:.3f` at the default and {glue:text}`logme_best_mean:.3f` at its best
# value, SFDA {glue:text}`sfda_default:.3f` → {glue:text}`sfda_best_mean:.3f`, GBC
# {glue:text}`gbc_default:.3f` → {glue:text}`gbc_best_mean:.3f` (the best per target:
# {glue:text}`logme_per_target_best:.3f`, {glue:text}`sfda_per_target_best:.3f`,
# {glue:text}`gbc_per_target_best:.3f`), against a typical half-width of
# {glue:text}`half_width:.3f` for the 95 % intervals. Without PED the three reach
# {glue:text}`logme_no_ped:.3f`, {glue:text}`sfda_no_ped:.3f` and {glue:text}`gbc_no_ped:.3f`. So
# one tuned λ moves PED's mean by {glue:text}`logme_tuning:+.3f` (LogME),
# {glue:text}`sfda_tuning:+.3f` (SFDA) and {glue:text}`gbc_tuning:+.3f` (GBC) from the default,
# with a value picked on the same ground truth it is scored against; at its best λ, PED's mean is
# above the metric's own without PED for {glue:text}`tuned_above` and below it for
# {glue:text}`tuned_below` (point estimates; the paired intervals are in the table before).

# %% [markdown]
# ## What agrees, what does not, and why

# %% tags=["hide-input"]
moves = with_ped.groupby("metric").mean_tau.agg(lambda v: v.max() - v.min()) if len(intervals) else {}
for m in ("logme", "sfda", "gbc"):
    glue(f"{m}_lambda_moves", float(moves.get(m, float("nan"))), display=False)
points = 1 if setting == "paper" and groundtruth is None else 100  # the published accuracies are in %
span = ranked.groupby("target").test_acc.agg(lambda a: a.max() - a.min()).mul(points)
glue("span_min", float(span.min()), display=False)
glue("span_max", float(span.max()), display=False)
per_seed = (finetuned.accuracy_errors(truth.seeds.merge(ranked[["model", "target"]])).seed_sd
            if truth.seeds is not None else pd.Series(dtype=float))     # over the runs of each ranked cell
glue("seed_sd", float(points * per_seed.median()) if per_seed.notna().any() else float("nan"), display=False)
book.table(span.rename("accuracy span (points)").to_frame().T, digits=1,
           caption="The span of the ranked models' fine-tuning accuracies on each target, in points.")

# %% [markdown]
# **Published.** The grid gain is {glue:text}`logme_published_grid_gain:+.3f` for LogME (PED itself,
# at the default: {glue:text}`logme_published_effect:+.3f`), {glue:text}`sfda_published_grid_gain:+.3f`
# for SFDA ({glue:text}`sfda_published_effect:+.3f`) and {glue:text}`gbc_published_grid_gain:+.3f`
# for GBC ({glue:text}`gbc_published_effect:+.3f`). It is reported without an interval, on 12
# models and 10 datasets.
#
# **Ours.** Across the {glue:text}`run_values` values of λ the mean $\tau_w$ moves by
# {glue:text}`logme_lambda_moves:.3f` for LogME, {glue:text}`sfda_lambda_moves:.3f` for SFDA and
# {glue:text}`gbc_lambda_moves:.3f` for GBC, against a median 95 % interval half-width of
# {glue:text}`half_width:.3f` (undefined when no scored cell has a fine-tuning ground
# truth). The fine-tuning accuracies of the ranked models span {glue:text}`span_min:.1f` to
# {glue:text}`span_max:.1f` points per target (the table above), with a median seed-to-seed
# standard deviation of {glue:text}`seed_sd:.1f` points.

# %% [markdown]
# **Why they can differ.** Both searches pick the winner on the ground truth they are evaluated
# against, so their gains are never negative and partly measure selection: with noise alone, the
# best of six settings beats the default. Only the paper's maximum is printed, so its gain cannot be
# split into tuning and selection; ours can be compared with the paired bootstrap intervals, and a
# gain inside them is not evidence that tuning λ helps. The paper's ground truth separates 12
# ResNet-50s fine-tuned with a hyper-parameter search, ours small models whose accuracies may differ
# by little more than the fine-tuning noise, which lowers the τ_w any metric can expect (the noise
# ceiling of the {doc}`groundtruth` page). Finally, with the paper's $t = 0.1$ a step
# moves each class by a fixed small fraction of its overlaps, so changing λ changes the scored features
# little, and rankings change mostly where two models' scores were already close.
