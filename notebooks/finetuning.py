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
# # Fine-tuning comparison: what fine-tuning does to the features, and what it costs
#
# The paper's supplementary material (§C, Figures 1 and 3) argues for PED against the obvious
# alternative, fine-tuning every candidate model and ranking them by the result:
#
# - early in fine-tuning the classes of the target are not yet separated: the new classifier head
#   starts from random weights and the backbone still has to adapt (their t-SNE of the features at
#   several points of a run, Figure 1), whereas PED separates the classes of the frozen features
#   directly;
# - ranking the models by their features at successive points of fine-tuning first gets *worse*
#   and only later better (their Figure 3);
# - fine-tuning is expensive: the ground truth came from a grid of 30 hyper-parameter settings per
#   model and task, each run 5000 iterations taking about 16 minutes.
#
# **This page runs on benchmark v4** (setting `v4`, `data/bench_v4/README.md`): one small ResNet
# pretrained here by a dozen self-supervised objectives (and two controls), fine-tuned on v3's 24
# targets under a protocol frozen before its grid started. For every (model, target) cell its grid
# keeps the penultimate features of 200 fixed training images (the *probe*) at 25, 50 and 100 % of
# the first seed's run at the selected learning rate; the 0 % snapshot is the pretrained model's
# features of the same images, computed here. The grid runs in the background and is committed
# target by target, so this page reads the targets finished so far (counted below). This is not
# the registered analysis of benchmark v4 (that one scores every training image of the complete
# grid, on the {doc}`benchmark_v4` page): it is the supplementary's experiment on the probe images.

# %% tags=["parameters", "hide-input"]
setting = "v4"                # a setting whose ground-truth grid kept snapshots ("v4")
models = None                 # model names (None: every model with a finished cell)
targets = None                # target names (None: every target with a finished cell)
example = "simclr,mnist5k"    # the t-SNE example, model and target (else the first cell)
metrics = None                # scores of the snapshot features (None: potran.metrics.PED_METRICS)
shown_time_step = 1.0         # a larger PED time step for the picture, beside the paper's 0.1
perplexity = 30               # t-SNE
min_models = 3                # targets with fewer models are not ranked
cost_targets = None           # targets whose cells are timed (None: the example's target)
throughput_images = 256       # images per model for timing the feature extraction
groundtruth = None            # accuracy.csv beside cells/ and snapshots/ (None: the setting's)
cache_dir = None              # feature cache (None: the benchmark's, .cache/features)
out_dir = None                # PNG copies of the figures, tables (None: _build/<setting>/finetuning)
device = "cpu"                # torch device of the feature extraction, PED and the metrics
n_boot = 1000                 # bootstrap replicates of the test of the paper's claim
seed = 0

# %% tags=["hide-input"]
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import display
from myst_nb import glue
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score

# %% tags=["hide-input"]
import potran
from potran import stats
from potran.bench import book, settings
from potran.bench.finetune import training_indices
from potran.bench.folders import FEATURE_CACHE
from potran.bench.runner import cell_features
from potran.bench.significance import benchmark_tests
from potran.bench.snapshots import (available_cells, cell_costs, extraction_seconds, load_snapshot,
                                    probe_features, score_pretrained, snapshot_scores, snapshot_tau,
                                    with_pretrained)
from potran.metrics import PED_METRICS
from potran.ped import TIME_STEP
from potran.perturbations import NONE, PED

# %% tags=["hide-input"]
book.setup_page()
metrics, cache_dir = settings.name_list(metrics, PED_METRICS), cache_dir or FEATURE_CACHE
page = settings.get(setting, models, targets, seed=seed)
out_dir = page.results(out_dir, "finetuning")
show = partial(book.show, folder=out_dir)  # save a PNG copy, display, caption under it

# %% [markdown]
# The grid: every cell of the ground truth with an accuracy and a snapshot file, the pretrained
# (0 %) snapshot added where the grid did not store it.

# %%
truth = page.groundtruth(groundtruth)   # accuracy.csv, and the seeds of its cells
root = Path(groundtruth).parent if groundtruth else page.groundtruth_dir
cells = available_cells(root, page.models, page.targets, accuracy=truth.accuracy)
if not cells:
    raise ValueError(f"no finished cell with snapshots in {root} for models={models}, targets={targets}")
bench = page.benchmark(models=tuple(sorted({m for m, _ in cells})),
                       targets=tuple(sorted({t for _, t in cells})))
tasks = {t: bench.sources.load_target(t) for t in bench.targets}
snapshots, general = {}, {}   # (model, target) -> Snapshot; -> the general set as PED needs it
for m, t in cells:
    snap, arrays = load_snapshot(root, m, t), cell_features(bench, m, tasks[t], cache_dir=cache_dir,
                                                            device=device)
    pretrained, general[m, t] = probe_features(arrays, snap, training_indices(len(tasks[t].y_train),
                                                                              bench.finetune))
    snapshots[m, t] = with_pretrained(snap, pretrained)

# %%
glue("n_cells", len(cells), display=False)
glue("n_seeds", int(truth.seeds.groupby(["model", "target"]).size().max()), display=False)
glue("n_models", len(bench.models), display=False)
glue("n_targets", len(bench.targets), display=False)
glue("n_targets_all", len(page.targets), display=False)
per_target = pd.Series([t for _, t in cells]).value_counts().sort_index()
book.table(per_target.rename_axis("target").to_frame("models"))

# %% [markdown]
# {glue:text}`n_cells` cells: {glue:text}`n_models` models on {glue:text}`n_targets` of the
# {glue:text}`n_targets_all` targets.
#
# ## The features along fine-tuning, and the features PED moved
#
# One cell of the grid, its probe images at four points of fine-tuning, embedded with t-SNE (each
# snapshot on its own: t-SNE coordinates are not comparable between panels, only the grouping is).
# Beside them, the *pretrained* features (the 0 % snapshot) after PED, with the model's features
# of the general set (the pool's held-out images) that PED needs; both come from the benchmark's
# feature cache (`potran.bench.runner.cell_features`, `potran.bench.snapshots.probe_features`).
#
# With the paper's time step $t = 0.1$ a PED step moves a class by 0.5 % of its overlap, too little
# to see in a picture, so a last panel uses a larger step. The silhouette coefficient in each title
# (computed on the features, not on the t-SNE map) measures how separated the classes are: 1 for
# tight, distant classes, 0 for overlapping ones.

# %% tags=["hide-input"]
def example_panels(cell):
    """The cell's snapshots (0 % = pretrained), and the pretrained features moved by PED with the
    paper's time step and with ``shown_time_step``: (snapshot, classes, [(title, features)])."""
    snap = snapshots[cell]
    panels = [(f"{f:.0%} of fine-tuning\n(iteration {s})", F)
              for s, f, F in zip(snap.steps, snap.fractions, snap.features)]
    for t in (TIME_STEP, shown_time_step):
        run = potran.simulate(snap.features[0], snap.labels, general[cell], time_step=t, device=device)
        steps = f"{run.trace.steps} step{'' if run.trace.steps == 1 else 's'}"
        panels.append((f"pretrained + PED, t = {t}\n({steps})", run.features))
    return snap, tuple(tasks[cell[1]].classes), panels


# %%
wanted = tuple(settings.name_list(example, ()))
cell = wanted if wanted in snapshots else cells[0]   # the example, else the grid's first cell
snap, classes, panels = example_panels(cell)
embedded = [TSNE(perplexity=perplexity, init="pca", random_state=seed).fit_transform(F)
            for _, F in panels]
silhouette = [float(silhouette_score(F, snap.labels)) for _, F in panels]
for key, value in {"ex_model": cell[0], "ex_target": cell[1], "ex_images": len(snap.labels),
                   "ex_dims": snap.features.shape[2], "ex_sil_start": silhouette[0],
                   "ex_sil_end": silhouette[len(snap.steps) - 1], "ex_sil_ped": silhouette[-2],
                   "ex_sil_ped_shown": silhouette[-1], "ex_shown_t": shown_time_step}.items():
    glue(key, value, display=False)

# %% tags=["hide-input"]
# page helper: one panel of the figure below, the 2-D embedding ``E`` of ``F`` coloured by class
def embedding_panel(ax, title, F, E, labels, classes, colours):
    """A scatter of ``E`` coloured by class, titled with the silhouette coefficient of ``F`` itself."""
    for c in range(len(classes)):
        ax.scatter(*E[labels == c].T, s=5, alpha=0.7, color=colours[c], linewidth=0, label=classes[c])
    ax.set_title(f"{title}\nsilhouette {silhouette_score(F, labels):.2f}")
    ax.set_xlabel("t-SNE 1")
    ax.set_xticks([])
    ax.set_yticks([])

# %% tags=["hide-input"]
# page helper: the grid of the figure below, rows of three (legible at the page's width)
def panel_grid(n_panels):
    """A figure with ``n_panels`` axes in rows of three (the spare ones hidden), and its axes."""
    import matplotlib.pyplot as plt

    n_cols = min(3, n_panels)
    n_rows = -(-n_panels // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=book.figsize(3.3 * n_rows + 0.5), squeeze=False,
                             layout="constrained")
    for ax in axes.flat[n_panels:]:
        ax.set_visible(False)
    return fig, axes

# %% tags=["hide-input"]
# page helper: the legend of the figure below, the classes under the panels
def class_legend(fig, ax, classes):
    """One legend under ``fig`` of the classes drawn in ``ax``, as many to a row as fit."""
    handles, names = ax.get_legend_handles_labels()
    ncol = max(1, min(len(classes), 80 // (max(len(c) for c in classes) + 4)))
    fig.legend(handles, names, loc="outside lower center", ncol=ncol, markerscale=2.5, frameon=False,
               title="class")

# %% tags=["hide-input"]
# page helper: the figure of one embedding per panel, coloured by class
def embedding_panels(panels, embedded, labels, classes):
    """One ``embedding_panel`` per ``(title, features)`` of ``panels`` (``panel_grid``) at its 2-D
    embedding (``embedded``); one legend of the classes under them."""
    import seaborn as sns

    classes = [str(c) for c in classes]
    colours = sns.color_palette("husl", len(classes))
    fig, axes = panel_grid(len(panels))
    for ax, (title, F), E in zip(axes.flat, panels, embedded):
        embedding_panel(ax, title, F, E, labels, classes, colours)
    for ax in axes[:, 0]:
        ax.set_ylabel("t-SNE 2")
    class_legend(fig, axes.flat[0], classes)
    return fig


# %% tags=["hide-input"]
caption = (
    f"t-SNE (perplexity {perplexity}) of the penultimate features of {len(snap.labels)} training "
    f"images of {cell[1]} under {cell[0]}, colour = class: at "
    f"{', '.join(f'{f:.0%}' for f in snap.fractions)} of the first seed's fine-tuning run "
    f"(iterations {', '.join(map(str, snap.steps))}), and the pretrained features moved by PED "
    f"with the paper's values (λ = 0.6, t = {TIME_STEP}, k = 1) and with t = {shown_time_step}. "
    "Each panel is embedded separately, so only the grouping compares; the silhouette coefficient "
    "is computed on the features themselves; t-SNE axes have no unit.")
alt = (f"A grid of {len(panels)} scatter plots of the {len(snap.labels)} probe images coloured by "
       f"their {len(classes)} classes: {len(snap.steps)} snapshots of fine-tuning and two PED "
       "versions of the pretrained features, each titled with its silhouette coefficient.")
show(embedding_panels(panels, embedded, snap.labels, classes), "tsne", caption, alt=alt)

# %% [markdown]
# On {glue:text}`ex_target` under {glue:text}`ex_model` ({glue:text}`ex_images` probe images,
# {glue:text}`ex_dims` dimensions), the silhouette of the classes goes from
# {glue:text}`ex_sil_start:.2f` in the pretrained features to {glue:text}`ex_sil_end:.2f` at the
# end of fine-tuning; PED gives {glue:text}`ex_sil_ped:.2f` with the paper's step and
# {glue:text}`ex_sil_ped_shown:.2f` with $t$ = {glue:text}`ex_shown_t`. One cell, one run: a
# picture of the mechanism, not a finding.
#
# ## Ranking the models by their features along fine-tuning
#
# For every target, each metric scores every model's snapshot features, and the weighted Kendall
# $\tau_w$ between those scores and the models' fine-tuning accuracies (`accuracy.csv`, the mean
# test accuracy over each cell's {glue:text}`n_seeds` seeds) says how well the features at that point of fine-tuning rank the
# models. The 0 % snapshot is the pretrained model; at that point the same metrics are also
# computed with PED (on the 0 % features with the general set, as above). All scores use the
# same probe images per cell, so the columns differ only in the features.

# %%
plain = snapshot_scores(snapshots.values(), metrics, device=device).assign(perturbation=NONE)
timed = [c for c in cells if c[1] in settings.name_list(cost_targets, [cell[1]])]   # see "The cost"
moved, times = score_pretrained(bench, snapshots, metrics, cache_dir=cache_dir, device=device,
                                timed=timed)
scores = pd.concat([plain, moved.drop(columns="rebuild_error")], ignore_index=True)
assert moved.rebuild_error.max() < 1e-3, "the PED column must move the features of the 0 % column"
tau = snapshot_tau(scores, truth.accuracy, by=("perturbation", "fraction"), min_models=min_models)
if tau.empty:
    raise ValueError(f"no target has {min_models} or more models with finished cells: nothing to rank")
scores.to_csv(out_dir / "snapshot_scores.csv", index=False)
tau.to_csv(out_dir / "snapshot_tau.csv", index=False)

# %%
column = [f"{f:.0%}" + (" + PED" if p == PED else "") for f, p in zip(tau.fraction, tau.perturbation)]
wide = tau.assign(column=column).pivot_table(index=["metric", "target"], columns="column",
                                             values="weighted_tau", sort=False)
wide = wide[sorted(wide.columns, key=lambda c: (float(c.split("%")[0]), "PED" in c))]
book.table(wide, csv="finetuning_tau", shade=list(wide.columns),
           caption="Weighted τ of each metric on each target at each point of fine-tuning.")

# %% tags=["hide-input"]
# page helper: one panel of the figure below, one metric
def tau_panel(ax, metric, along, at0, colours):
    """τ_w of ``metric`` per target along fine-tuning (lines) and with PED at 0 % (stars)."""
    for target in colours:
        rows = along[(along.metric == metric) & (along.target == target)].sort_values("fraction")
        if len(rows):
            ax.plot(100 * rows.fraction, rows.weighted_tau, "o-", color=colours[target],
                    label=f"{target} ({rows.n_models.iloc[0]} models)")
        star = at0[(at0.metric == metric) & (at0.target == target)]
        ax.scatter(100 * star.fraction, star.weighted_tau, marker="*", s=120,
                   color=colours[target], edgecolor="k", zorder=3)
    ax.scatter([], [], marker="*", s=120, color="0.7", edgecolor="k", label="pretrained + PED")
    ax.axhline(0, color="k", lw=0.8)
    ax.set(xlabel="share of the run (%)", title=metric, xticks=[0, 50, 100])

# %% tags=["hide-input"]
def tau_figure(tau):
    """One ``tau_panel`` per metric."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    along, at0 = tau[tau.perturbation == NONE], tau[tau.perturbation == PED]
    names = list(dict.fromkeys(along.target))
    colours = dict(zip(names, sns.color_palette("tab10", len(names))))
    fig, axes = plt.subplots(1, len(metrics), figsize=book.figsize(3.9), sharey=True, squeeze=False,
                             layout="constrained")
    for ax, metric in zip(axes[0], metrics):
        tau_panel(ax, metric, along, at0, colours)
    axes[0, 0].set(ylabel="τ_w vs fine-tuning accuracy", ylim=(-1.05, 1.05))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, frameon=False)
    return fig

# %% tags=["hide-input"]
caption = (
    "How well the features at each point of fine-tuning rank the models: weighted Kendall τ_w "
    f"between a metric's scores of the snapshot features ({len(snap.labels)} probe images per cell) and the "
    f"models' fine-tuning accuracy, per target (lines; targets with at least {min_models} "
    "finished models), at 0 % (the pretrained model), 25, 50 and 100 % of the first seed's run; "
    "stars: the pretrained features moved by PED (paper's values) before scoring. τ_w = 1 is the "
    "ground-truth order, 0 no agreement.")
alt = (f"{len(metrics)} line plots, one per metric: τ_w per target at 0, 25, 50 and 100 % of "
       "fine-tuning, with a star at 0 % for the pretrained features moved by PED.")
show(tau_figure(tau), "tau_along_finetuning", caption, alt=alt)

# %% [markdown]
# ## The supplementary's claim: first worse, then better
#
# The supplementary says that ranking the models by their features along fine-tuning first gets
# *worse* and only later better. Split before looking at the numbers into two paired changes of
# the mean $\tau_w$ over targets, per metric: **first**, the first snapshot after the pretrained
# model minus the pretrained model (the claim: negative), and **then**, the last snapshot minus
# that first one (the claim: positive). Both come from the one test table of
# `potran.bench.significance.benchmark_tests` (each pair of snapshots compared on the same replicates):
#
# - the **crossed bootstrap** over models and seeds (population: these targets, other models and
#   fine-tuning seeds like these), p-values Holm-adjusted over the metrics within each part (Holm
#   family: the {glue:text}`n_metrics` metrics of one part). The claim holds for a metric when
#   both parts are resolved in the claimed direction at 5 % (an intersection-union test, so the two
#   parts need no correction between them);
# - the **exact sign-flip test** of the per-target changes (population: other targets like these),
#   Holm over the metrics within each part in the same way.
#
# PED's rows play no part in this test.

# %%
def at(metric, fraction):   # a snapshot's scores as a metric of their own: "logme at 25%"
    return f"{metric} at {fraction:.0%}"


fractions = sorted(set(plain.fraction))
parts = {"first": (fractions[1], fractions[0]), "then": (fractions[-1], fractions[1])}
labelled = plain.assign(metric=[at(m, f) for m, f in zip(plain.metric, plain.fraction)])
pairs = [((at(m, a), NONE), (at(m, b), NONE)) for a, b in parts.values() for m in metrics]
tests = benchmark_tests(labelled[["model", "target", "metric", "perturbation", "score"]],
                               truth.accuracy, truth.seeds, baseline=None, pairs=pairs,
                               n_boot=n_boot, seed=seed)

# %%
boot = tests[tests.family == "pair, models"].set_index("metric")[["estimate", "low", "high", "p_value"]]
flip = tests[tests.family == "pair"].set_index("metric")[["p_value", "min_p", "n"]]
claim = pd.DataFrame([{"metric": m, "part": part, "comparison": f"{a:.0%} - {b:.0%}", "key": at(m, a)}
                      for part, (a, b) in parts.items() for m in metrics])
claim = claim.join(boot.rename(columns={"p_value": "p_boot"}), on="key").join(
    flip.rename(columns={"p_value": "p_targets", "min_p": "min_p_targets", "n": "n_targets"}), on="key")
n_targets = tau.target.nunique()   # with one target there is no sign to flip: p = 1 exactly
claim = claim.fillna({"p_targets": 1.0, "min_p_targets": min(1.0, 2 / 2 ** n_targets), "n_targets": n_targets})
for p in ("p_boot", "p_targets"):   # Holm over the metrics within each part
    claim[f"{p}_holm"] = claim.groupby("part")[p].transform(lambda x: stats.holm(x.to_numpy(float)))
claim = claim.drop(columns="key")
first, then = (claim[claim.part == part].set_index("metric") for part in parts)
holds = (first.estimate < 0) & (first.p_boot_holm < 0.05) & (then.estimate > 0) & (then.p_boot_holm < 0.05)
against = ((claim.p_boot_holm < 0.05) & ((claim.estimate > 0) != (claim.part == "then"))).sum()

# %%
claim.to_csv(out_dir / "claim.csv", index=False)
for key, value in {"n_metrics": len(metrics), "claim_supported": int(holds.sum()),
                   "claim_against": int(against),
                   "claim_resolved_targets": int((claim.p_targets_holm < 0.05).sum()),
                   "claim_min_p_targets": float(claim.min_p_targets.min()),
                   "claim_n_targets": int(claim.n_targets.max())}.items():
    glue(key, value, display=False)
book.table(claim.set_index(["metric", "part"]).drop(columns=["n_targets"]),
           caption="The claim's two parts per metric: the change of the mean τ_w over targets "
                   "(crossed bootstrap, 95 % interval; p Holm-adjusted within each part) and the "
                   "sign-flip test over targets.")

# %% [markdown]
# **On these {glue:text}`claim_n_targets` targets the claim is supported for
# {glue:text}`claim_supported` of the {glue:text}`n_metrics` metrics** (both parts resolved in the
# claimed direction; crossed bootstrap over models and seeds, Holm over the metrics within each
# part); {glue:text}`claim_against` part(s) are resolved *against* it (a change in the other
# direction). Over targets, the exact sign-flip test cannot give p below
# {glue:text}`claim_min_p_targets:.3g` with {glue:text}`claim_n_targets` targets; it resolves
# {glue:text}`claim_resolved_targets` part(s). The intervals in the table are the uncertainty of
# each change for these targets; whether the shape holds on other targets, these
# {glue:text}`claim_n_targets` cannot say.
#
# How far apart the accuracies being ranked are matters as much as the scores: the closer the
# models' mean accuracies are relative to the noise of those means (seed noise / √seeds, and the
# test set's binomial noise), the lower the $\tau_w$ any ranking can expect (the noise ceiling on
# the {doc}`groundtruth` page), and the more $\tau_w$ moves with that noise between snapshots.

# %%
acc = truth.seeds.groupby(["model", "target"]).test_acc.agg(test_acc="mean", test_acc_sd="std").loc[cells]
book.table(acc.reset_index().groupby("target").agg(
    models=("model", "size"), **{"lowest accuracy": ("test_acc", "min"),
                                 "highest accuracy": ("test_acc", "max"),
                                 "median seed s.d.": ("test_acc_sd", "median")}))

# %% [markdown]
# ## The cost: fine-tuning the grid against scoring it
#
# Fine-tuning cost is what the grid recorded: each cell's wall-clock time, which covers
# {glue:text}`cost_runs` training runs of {glue:text}`cost_iterations` iterations (the search over
# the frozen protocol's learning rates on the first seed, then the second seed at the chosen rate),
# the test evaluations and the snapshots. Scoring is measured now, on this machine, for the cells
# of {glue:text}`cost_targets_text` (`cost_targets`; {glue:text}`cost_cells` cells):
#
# - the forward pass that extracts the features of a target's training images, timed on
#   `throughput_images` images per model and scaled to the cell's image count (a cell needs one
#   pass; the scores below come from the feature cache);
# - the metric itself on the benchmark's scored features of the cell (every training image),
#   fastest of a few runs, without and with PED;
# - with PED, also the forward pass over the general set, once per model (every target of a model
#   shares it; here it is charged in full to the timed target).
#
# Both were measured on the same kind of machine, a small CPU shared with other jobs: the
# fine-tuning cells ran beside other work, and this page runs beside whatever else is running, so
# both sides are slower than on an idle machine. The paper's grid search tried 30 settings per cell
# where this grid tries {glue:text}`cost_n_rates`.

# %%
per_image = {}   # seconds per image of each timed model's forward pass, on its first timed target
for model, target in dict(timed[::-1]).items():
    per_image[model] = extraction_seconds(bench.sources.get_model(model),
                                          np.asarray(tasks[target].x_train)[:throughput_images], device=device)
sizes = times.drop_duplicates(["model", "target"])[["model", "target", "n_images", "n_general"]]
costs = cell_costs(root, timed).merge(sizes, on=["model", "target"])
costs["extraction_s"] = [per_image[m] * n for m, n in zip(costs.model, costs.n_images)]
what = [m + (" + PED" if p == PED else "") for m, p in zip(times.metric, times.perturbation)]
metric_s = times.assign(what=what).pivot_table(index=["model", "target"], columns="what", values="seconds")
costs = costs.merge(metric_s.reset_index(), on=["model", "target"])
general_s = pd.Series({m: per_image[m] * costs[costs.model == m].n_general.iloc[0] for m in per_image})

# %%
m0 = metrics[0]   # the cost of scoring a cell: its extraction, the metric (+ the general set with PED)
per_cell_s = pd.DataFrame({
    "fine-tuning (recorded)": costs.wall_s,
    "scoring without PED": costs.extraction_s + costs[m0],
    "scoring with PED": costs.extraction_s + costs.model.map(general_s) + costs[f"{m0} + PED"]})
totals = per_cell_s.median()   # medians: a recorded time also counts any pause of the grid
costs.to_csv(out_dir / "costs.csv", index=False)
for key, value in {"cost_runs": int(costs.n_runs.median()), "cost_iterations": int(costs.iterations.median()),
                   "cost_cells": len(costs), "cost_targets_text": ", ".join(sorted(set(costs.target))),
                   "cost_n_rates": int((costs.n_runs - costs.n_seeds + 1).median())}.items():
    glue(key, value, display=False)

# %% tags=["hide-input"]
per_cell = costs.set_index(["model", "target"])[
    ["wall_s", "extraction_s", *[c for m in metrics for c in (m, f"{m} + PED")]]].rename(
    columns={"wall_s": "fine-tuning", "extraction_s": "extraction"})
display(book.table(per_cell.agg(["median", "min", "max"]).T.rename_axis("seconds per cell"),
                   caption=f"Seconds per cell over the {len(per_cell)} cells: fine-tuning as "
                           "recorded, the rest measured now."))
display(book.details(book.table(per_cell, formats={"fine-tuning": 1, "extraction": 3}),
                     f"The {len(per_cell)} cells' times (seconds)"))

# %% tags=["hide-input"]
# page helper: the parts of each cell's cost, as the figure below shows them
def cost_parts(costs, general_s, metric):
    """Per cell: fine-tuning, the two forward passes (``general_s``: each model's over the general
    set) and ``metric`` without and with PED."""
    return pd.DataFrame({
        "fine-tuning\n(recorded)": costs.wall_s,
        "extraction of the\ntraining images": costs.extraction_s,
        "extraction of the\ngeneral set (PED)": costs.model.map(general_s),
        f"{metric}": costs[metric],
        f"{metric} + PED": costs[f"{metric} + PED"],
    })

# %% tags=["hide-input"]
# page helper: the top panel of the figure below
def cost_strips(ax, per_cell):
    """The parts of each cell's cost (``cost_parts``) on a log scale."""
    import seaborn as sns
    from matplotlib.ticker import FuncFormatter

    long = per_cell.melt(var_name="what", value_name="seconds")
    sns.stripplot(data=long, x="what", y="seconds", hue="what", ax=ax, size=5, jitter=0.15,
                  log_scale=True, legend=False, palette=["0.3", "C0", "C0", "C1", "C2"])
    ax.set_xlabel("")
    ax.set_ylabel("seconds per cell (log scale)")
    ax.set_title(f"the parts, per cell ({len(per_cell)} cells)")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))

# %% tags=["hide-input"]
# page helper: the bottom panel of the figure below
def cost_bars(ax, totals, metric):
    """The median cell's fine-tuning and scoring (``totals``) on a log scale."""
    from matplotlib.ticker import FuncFormatter

    bars = ax.barh(totals.index[::-1], totals.values[::-1], color=["C2", "C1", "0.3"], log=True)
    for bar, value in zip(bars, totals.values[::-1]):
        ax.text(value * 1.15, bar.get_y() + bar.get_height() / 2, f"{value:,.1f} s", va="center")
    ax.set_xlim(totals.min() / 5, totals.max() * 10)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("seconds per cell, median over the cells (log scale)")
    ax.set_title(f"the median cell, scored with {metric}")

# %% tags=["hide-input"]
# page helper: the figure of the cells' costs, per cell and summed
def cell_costs_figure(costs, general_s, metric, totals):
    """Top, ``cost_strips``; bottom, ``cost_bars``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=book.figsize(7.4), layout="constrained",
                             gridspec_kw={"height_ratios": [1.5, 1]})
    cost_strips(axes[0], cost_parts(costs, general_s, metric))
    cost_bars(axes[1], totals, metric)
    return fig


# %% tags=["hide-input"]
caption = (
    f"Wall-clock cost of the {len(costs)} timed cells. Top, per cell and on a log scale: "
    f"fine-tuning as recorded by the grid ({int(costs.n_runs.iloc[0])} runs × "
    f"{int(costs.iterations.iloc[0])} iterations, evaluations and snapshots); the forward pass over "
    "the cell's training images at the per-image speed measured now; its model's forward pass over "
    f"the general set (needed by PED only); {metrics[0]} without and with "
    "PED on the cell's scored features (fastest of a few runs). Bottom: the median cell, "
    "scoring = extraction + metric (+ general set with PED).")
alt = (f"Top: a strip plot on a log axis of the seconds per cell for fine-tuning, the two forward "
       f"passes and {metrics[0]} without and with PED. Bottom: three horizontal bars on a log axis, "
       "the median cell's seconds of fine-tuning and of scoring without and with PED.")
show(cell_costs_figure(costs, general_s, metrics[0], totals), "cost", caption, alt=alt)

# %% [markdown]
# ## What this run shows

# %%
fine, plain_s, ped_s = (totals[k] for k in ("fine-tuning (recorded)", "scoring without PED",
                                            "scoring with PED"))
for key, value in {"cost_metric": m0, "cost_finetune_s": fine, "cost_finetune_max_s": costs.wall_s.max(),
                   "cost_plain_s": plain_s, "cost_ped_s": ped_s, "cost_ratio_plain": fine / plain_s,
                   "cost_ratio_ped": fine / ped_s, "cost_extraction_s": costs.extraction_s.median(),
                   "cost_general_s": general_s.median(), "cost_metric_s": costs[m0].median(),
                   "cost_metric_ped_s": costs[f"{m0} + PED"].median()}.items():
    glue(key, value if isinstance(value, str) else float(value), display=False)  # plain text for {glue}

# %% [markdown]
# - **Cost.** Fine-tuning one of the {glue:text}`cost_cells` timed cells took a median
#   {glue:text}`cost_finetune_s:.0f` s as recorded (medians throughout: a recorded time also counts
#   any pause of the background grid; the longest cell took {glue:text}`cost_finetune_max_s:.0f`
#   s); scoring it with {glue:text}`cost_metric` took {glue:text}`cost_plain_s:.2f` s without PED
#   and {glue:text}`cost_ped_s:.2f` s with PED, {glue:text}`cost_ratio_plain:,.0f`× and
#   {glue:text}`cost_ratio_ped:,.0f`× less (with a search over {glue:text}`cost_n_rates` learning
#   rates per cell here, over 30 settings in the paper). Of the scoring time, the forward passes
#   take {glue:text}`cost_extraction_s:.2f` s (training images) and {glue:text}`cost_general_s:.2f`
#   s (the general set, once per model), the metric itself {glue:text}`cost_metric_s:.3f` s, and
#   {glue:text}`cost_metric_ped_s:.3f` s with PED. These are single wall-clock measurements on a
#   small CPU shared with other jobs: they vary several fold between builds, so the orders of
#   magnitude, not the exact ratios, are the result.
# - **Ranking along fine-tuning.** The claim that ranking first gets worse, then better, is
#   supported for {glue:text}`claim_supported` of {glue:text}`n_metrics` metrics on these
#   {glue:text}`claim_n_targets` targets (the test above). On targets where the models' spread is
#   close to the noise of their mean accuracies, every $\tau_w$ here, ours and the snapshots',
#   moves with that noise, and single values cannot be compared without such a test.
# - **The mechanism.** The t-SNE pictures show what the paper describes: fine-tuning separates the
#   classes gradually, and PED pushes the pretrained classes apart in one go, but with the paper's
#   small time step by much less than fine-tuning does. PED also moves every class rigidly: with a
#   large step the classes separate, but each keeps the internal shape it had in the pretrained
#   features (sub-clusters included), whereas fine-tuning reshapes the classes themselves.
