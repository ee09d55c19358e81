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
# This page repeats the three comparisons on the project's offline benchmark. The fine-tuning ground
# truth (`data/groundtruth/`) kept, for each (model, target) cell, the penultimate features of 400
# fixed training images at 0, 25, 50 and 100 % of the first seed's run, and the time every cell
# took; the page uses every cell that has them.

# %% tags=["parameters"]
from potran.bench.folders import FEATURE_CACHE
from potran.bench.sweeps import name_list
from potran.metrics import PED_METRICS
from potran.resources import data_path, project_path

models = None                 # zoo names (None: every model with a ground-truth cell)
targets = None                # target names (None: every target with a ground-truth cell)
example_model = "conv4_supervised"   # the t-SNE example (falls back to the first cell available)
example_target = "fonts"
metrics = list(PED_METRICS)          # scores of the snapshot features
shown_time_step = 1.0         # a larger PED time step for the picture, beside the paper's 0.1
perplexity = 30               # t-SNE
min_models = 3                # targets with fewer models are not ranked
throughput_images = 256       # images per model for timing the feature extraction
groundtruth_dir = data_path("groundtruth")                   # cells/ and snapshots/
groundtruth = data_path("groundtruth", "accuracy.csv")       # the accuracies ranked against
cache_dir = FEATURE_CACHE                                    # feature cache shared with the benchmark
out_dir = project_path("_build", "finetuning")               # PNG copies of the figures, tables
device = "cpu"                # torch device of the feature extraction, PED and the metrics
n_boot = 1000                 # bootstrap replicates of the test of the paper's claim
seed = 0

# %% tags=["hide-input"]
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import Markdown, display
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score

import potran
from potran.bench import book, datasets, findings, plots, report, zoo
from potran.bench.finetune import training_indices
from potran.bench.runner import Benchmark, cell_features
from potran.bench.snapshots import (
    available_cells,
    cell_costs,
    cost_totals,
    extraction_seconds,
    load_snapshot,
    probe_features,
    score_pretrained,
    snapshot_scores,
    snapshot_tau,
)

book.setup_page()
out_dir = Path(out_dir)
out_dir.mkdir(parents=True, exist_ok=True)


def names(value):
    """A list parameter (list, JSON list or comma-separated text, as papermill passes it); None if empty."""
    return name_list(value, ()) or None


show = partial(book.show, folder=out_dir)  # save a PNG copy, display, caption under it


models, targets, metrics = names(models), names(targets), names(metrics)
accuracy = pd.read_csv(groundtruth)
cells = available_cells(groundtruth_dir, models, targets)
cells = [c for c in cells if ((accuracy.model == c[0]) & (accuracy.target == c[1])).any()]
bench = Benchmark(models=tuple(sorted({m for m, _ in cells})), targets=tuple(sorted({t for _, t in cells})))
snapshots = {cell: load_snapshot(groundtruth_dir, *cell) for cell in cells}
if cells:
    per_target = pd.Series([t for _, t in cells]).value_counts().sort_index()
    print(f"{len(cells)} finished cells with snapshots: "
          + ", ".join(f"{t} ({n} models)" for t, n in per_target.items()))
else:
    print(f"No finished ground-truth cell with snapshots for models={models}, targets={targets} in "
          "the ground truth given: the sections below are skipped.")

# %% [markdown]
# ## The features along fine-tuning, and the features PED moved
#
# One cell of the grid, its 400 probe images at four points of fine-tuning, embedded with t-SNE
# (each snapshot on its own: t-SNE coordinates are not comparable between panels, only the grouping
# is). Beside them, the *pretrained* features (the 0 % snapshot) after PED. PED needs the model's
# features of the general set, which the snapshot file does not keep, so the pretrained features of
# the same 400 images are taken from the benchmark's feature cache
# (`potran.bench.runner.cell_features`) and reduced exactly as the snapshots were (their own leading
# 128 principal components), with the general set projected on the same components; the printed
# difference checks that this rebuilds the stored 0 % snapshot (up to its float16 rounding).
#
# With the paper's time step $t = 0.1$ a PED step moves a class by 0.5 % of its overlap, too little
# to see in a picture, so a last panel uses a larger step. The silhouette coefficient in each title
# (computed on the features, not on the t-SNE map) measures how separated the classes are: 1 for
# tight, distant classes, 0 for overlapping ones.

# %% tags=["hide-input"]
example = None
if cells:
    wanted = (example_model, example_target)
    example = wanted if wanted in cells else cells[0]
    if example != wanted:
        print(f"{wanted[0]} / {wanted[1]} has no finished cell in this selection; using {example[0]} / {example[1]}.")
    snap = snapshots[example]
    task = datasets.load_target(example[1])
    arrays = cell_features(bench, example[0], task, cache_dir=cache_dir, device=device)
    idx = training_indices(len(task.y_train), bench.finetune)
    Xp, Gp = probe_features(arrays, snap, idx)
    stored = snap.features[0]
    print(f"{example[0]} on {example[1]}: {len(snap.labels)} probe images, {Xp.shape[1]} dimensions, "
          f"snapshots at iterations {snap.steps.tolist()}; rebuilt 0 % snapshot vs stored: largest "
          f"difference {np.abs(Xp - stored).max():.1e} (feature scale {np.abs(stored).max():.1f})")
    paper = potran.simulate(Xp, snap.labels, Gp, device=device)
    larger = potran.simulate(Xp, snap.labels, Gp, time_step=shown_time_step, device=device)
    panels = [(f"{f:.0%} of fine-tuning\n(iteration {s})", snap.features[k])
              for k, (s, f) in enumerate(zip(snap.steps, snap.fractions))]
    panels += [(f"pretrained + PED, t = {t}\n({run.trace.steps} step{'' if run.trace.steps == 1 else 's'})",
                run.features) for t, run in ((0.1, paper), (shown_time_step, larger))]
    embedded = [TSNE(perplexity=perplexity, init="pca", random_state=seed).fit_transform(F)
                for _, F in panels]

# %% tags=["hide-input"]
if example is not None:
    classes = [str(c) for c in task.classes]
    show(plots.embedding_panels(panels, embedded, snap.labels, task.classes), "tsne",
         f"t-SNE (perplexity {perplexity}) of the penultimate features of {len(snap.labels)} "
         f"training images of {example[1]} under {example[0]}, colour = class: at 0, 25, 50 and 100 % of "
         f"the first seed's fine-tuning run (iterations {', '.join(map(str, snap.steps))}), and the "
         f"pretrained features moved by PED with the paper's values (λ = 0.6, t = 0.1, k = 1) and with "
         f"t = {shown_time_step}. Each panel is embedded separately, so only the grouping compares; the "
         f"silhouette coefficient is computed on the features themselves; t-SNE axes have no unit.",
         alt=f"A grid of {len(panels)} scatter plots of the {len(snap.labels)} probe images coloured by "
             f"their {len(classes)} classes: four snapshots of fine-tuning and two PED versions of the "
             "pretrained features, each titled with its silhouette coefficient.")

# %% [markdown]
# ## Ranking the models by their features along fine-tuning
#
# For every target, each metric scores every model's snapshot features, and the weighted Kendall
# $\tau_w$ between those scores and the models' fine-tuning accuracies (`accuracy.csv`, the mean
# test accuracy over three seeds) says how well the features at that point of fine-tuning rank the
# models. The 0 % snapshot is the pretrained model; at that point the same metrics are also
# computed with PED (on the rebuilt 0 % features with the general set, as above). All scores use the
# same 400 probe images per cell, so the columns differ only in the features.

# %% tags=["hide-input"]
tau = pd.DataFrame()
if cells:
    scores = snapshot_scores(snapshots.values(), metrics, device=device).assign(perturbation="none")
    # the pretrained features once more, rebuilt with their general set: PED scores, and the metric timings
    ped_scores, metric_times = score_pretrained(bench, snapshots, metrics, cache_dir=cache_dir, device=device)
    print(f"rebuilt 0 % snapshots vs stored, all {len(snapshots)} cells: largest difference "
          f"{ped_scores.rebuild_error.max():.1e} of the feature scale (float16 storage: up to 5e-4)")
    scores = pd.concat([scores, ped_scores.drop(columns="rebuild_error")], ignore_index=True)
    scores.to_csv(out_dir / "snapshot_scores.csv", index=False)
    tau = snapshot_tau(scores, accuracy, by=("perturbation", "fraction"), min_models=min_models)
    tau.to_csv(out_dir / "snapshot_tau.csv", index=False)
if len(tau):
    wide = tau.assign(column=[f"{f:.0%}" + (" + PED" if p == "ped" else "")
                              for f, p in zip(tau.fraction, tau.perturbation)])
    wide = wide.pivot_table(index=["metric", "target"], columns="column", values="weighted_tau", sort=False)
    order = sorted(wide.columns, key=lambda c: (float(c.split("%")[0]), "PED" in c))
    display(book.table(wide[order], shade=order,
                       caption="τ_w of each metric on each target at each point of fine-tuning."))
elif cells:
    print(f"No target has {min_models} or more models with finished cells yet: no ranking to show.")

# %% tags=["hide-input"]
if len(tau):
    plain, moved = tau[tau.perturbation == "none"], tau[tau.perturbation == "ped"]
    target_names = list(dict.fromkeys(plain.target))
    colours_t = dict(zip(target_names, sns.color_palette("tab10", len(target_names))))
    fig, axes = plt.subplots(1, len(metrics), figsize=book.figsize(3.9), sharey=True, squeeze=False,
                             layout="constrained")
    for ax, metric in zip(axes[0], metrics):
        for target in target_names:
            rows = plain[(plain.metric == metric) & (plain.target == target)].sort_values("fraction")
            if rows.empty:
                continue
            ax.plot(100 * rows.fraction, rows.weighted_tau, "o-", color=colours_t[target],
                    label=f"{target} ({rows.n_models.iloc[0]} models)")
            at0 = moved[(moved.metric == metric) & (moved.target == target)]
            ax.scatter(100 * at0.fraction, at0.weighted_tau, marker="*", s=120, color=colours_t[target],
                       edgecolor="k", zorder=3)
        ax.scatter([], [], marker="*", s=120, color="0.7", edgecolor="k", label="pretrained + PED")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xlabel("share of the run (%)")
        ax.set_title(metric)
        ax.set_xticks([0, 50, 100])
    axes[0, 0].set_ylabel("τ_w vs fine-tuning accuracy")
    axes[0, 0].set_ylim(-1.05, 1.05)
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=3, frameon=False)
    show(fig, "tau_along_finetuning",
         "How well the features at each point of fine-tuning rank the models: weighted "
         "Kendall τ_w between a metric's scores of the snapshot features (400 probe images per cell) "
         "and the models' fine-tuning accuracy, per target (lines; targets with at least "
         f"{min_models} finished models), at 0 % (the pretrained model), 25, 50 and 100 % of the first "
         "seed's run; stars: the pretrained features moved by PED (paper's values) before scoring. "
         "τ_w = 1 is the ground-truth order, 0 no agreement.",
         alt=f"{len(metrics)} line plots, one per metric: τ_w per target at 0, 25, 50 and 100 % of "
             "fine-tuning, with a star at 0 % for the pretrained features moved by PED.")

# %% [markdown]
# ## The supplementary's claim: first worse, then better
#
# The supplementary says that ranking the models by their features along fine-tuning first gets
# *worse* and only later better. Split before looking at the numbers into two paired changes of
# the mean $\tau_w$ over targets, the claim holds for a metric when the first snapshot after the
# pretrained model ranks worse than the pretrained model *and* the last snapshot ranks better than
# that first one, both resolved (`potran.bench.findings.finetuning_claim`: the crossed bootstrap of
# `potran.stats` over models and seeds, with Holm over the metrics; the sign-flip test over targets
# beside it). PED's rows play no part in this test.

# %% tags=["hide-input"]
if len(tau):
    claim = findings.finetuning_claim(scores[scores.perturbation == "none"], accuracy,
                                      report.seed_table(groundtruth_dir), n_boot=n_boot, seed=seed)
    claim.to_csv(out_dir / "claim.csv", index=False)
    display(Markdown(findings.finetuning_verdict(claim)))

# %% [markdown]
# How far apart the accuracies being ranked are matters as much as the scores: the closer the
# models' mean accuracies are relative to the noise of those means (seed noise / √seeds, and the
# test set's binomial noise), the lower the $\tau_w$ any ranking can expect (the noise ceiling on
# the {doc}`groundtruth` page), and the more $\tau_w$ moves with that noise between snapshots.

# %% tags=["hide-input"]
if cells:
    acc = accuracy.set_index(["model", "target"]).loc[cells, ["test_acc", "test_acc_sd"]].reset_index()
    spread = acc.groupby("target").agg(models=("model", "size"), accuracy_min=("test_acc", "min"),
                                       accuracy_max=("test_acc", "max"),
                                       median_seed_sd=("test_acc_sd", "median"))
    display(book.table(spread.rename(columns={"accuracy_min": "lowest accuracy", "accuracy_max": "highest accuracy",
                                              "median_seed_sd": "median seed s.d."})))

# %% [markdown]
# ## The cost: fine-tuning the grid against scoring it
#
# Fine-tuning cost is what the grid recorded: each cell's wall-clock time (three seeds of 10 epochs
# over the 1000 training images, the test evaluations and the snapshots). Scoring is measured now,
# on this machine:
#
# - the forward pass that extracts the features of a target's training images, timed on
#   `throughput_images` images per model and scaled to the cell's image count (a cell needs one
#   pass; the scores below come from the feature cache);
# - the metric itself on the benchmark's scored features of the cell (the same 1000 images, reduced
#   to 128 principal components), fastest of a few runs, without and with PED;
# - with PED, also the forward pass over the general set, once per model (every target of a model
#   shares it).
#
# Both were measured on the same kind of machine, a small CPU shared with other jobs: the
# fine-tuning cells ran two at a time beside other work, and this page runs beside whatever else is
# running, so both sides are slower than on an idle machine. Fine-tuning here ran one learning rate
# per model; the paper's grid search multiplies its cost by the number of settings tried (30).

# %% tags=["hide-input"]
costs = pd.DataFrame()
if cells:
    costs = cell_costs(groundtruth_dir, cells)
    per_image = {}
    for model in bench.models:
        first_target = next(t for m, t in cells if m == model)
        images = np.asarray(datasets.load_target(first_target).x_train)[:throughput_images]
        per_image[model] = extraction_seconds(zoo.get(model), images, device=device)
    sizes = metric_times.drop_duplicates(["model", "target"])[["model", "target", "n_images", "n_general"]]
    costs = costs.merge(sizes, on=["model", "target"])
    costs["extraction_s"] = [per_image[m] * n for m, n in zip(costs.model, costs.n_images)]
    wide_times = metric_times.assign(what=[m + (" + PED" if p == "ped" else "") for m, p in
                                           zip(metric_times.metric, metric_times.perturbation)])
    wide_times = wide_times.pivot_table(index=["model", "target"], columns="what", values="seconds")
    costs = costs.merge(wide_times.reset_index(), on=["model", "target"])
    general_s = pd.Series({m: per_image[m] * costs[costs.model == m].n_general.iloc[0] for m in bench.models})
    costs.to_csv(out_dir / "costs.csv", index=False)
    shown_columns = ["wall_s", "extraction_s", *[c for m in metrics for c in (m, f"{m} + PED")]]
    per_cell_s = costs.set_index(["model", "target"])[shown_columns].rename(
        columns={"wall_s": "fine-tuning", "extraction_s": "extraction"})
    display(book.table(per_cell_s.agg(["median", "min", "max"]).T.rename_axis("seconds per cell"),
                       caption=f"Seconds per cell over the {len(per_cell_s)} cells: fine-tuning as recorded, "
                               "the rest measured now."))
    display(book.details(book.table(per_cell_s, formats={"fine-tuning": 1, "extraction": 3}),
                         f"The {len(per_cell_s)} cells' times (seconds)"))

# %% tags=["hide-input"]
if len(costs):
    metric = metrics[0]
    totals = cost_totals(costs, general_s, metric)
    show(plots.cell_costs(costs, general_s, metric, totals), "cost",
         f"Wall-clock cost of the {len(costs)} finished cells. Top, per cell and on a log "
         f"scale: fine-tuning as recorded by the grid ({int(costs.n_runs.iloc[0])} seeds × "
         f"{int(costs.iterations.iloc[0])} iterations, evaluations and snapshots); the forward pass over "
         "the cell's training images at the per-image speed measured now; the cell's share of its model's "
         f"forward pass over the general set (needed by PED only); {metric} without and with PED on the "
         "cell's scored features (fastest of a few runs). Bottom: the sums over the grid, scoring = "
         "extraction + metric (+ general set with PED).",
         alt=f"Top: a strip plot on a log axis of the seconds per cell for fine-tuning, the two forward "
             f"passes and {metric} without and with PED. Bottom: three horizontal bars on a log axis, the "
             "total seconds of fine-tuning and of scoring without and with PED.")

# %% [markdown]
# ## What this run shows

# %% tags=["hide-input"]
lines = []
if example is not None:
    sil = [silhouette_score(F, snap.labels) for _, F in panels]
    lines.append(f"- Separation of the classes of {example[1]} under {example[0]} (silhouette on the features): "
                 + ", ".join(f"{f:.0%} of fine-tuning {s:.2f}" for f, s in zip(snap.fractions, sil))
                 + f"; pretrained + PED {sil[-2]:.2f} (t = 0.1) and {sil[-1]:.2f} (t = {shown_time_step}).")
if len(tau):
    mean = tau.groupby(["metric", "perturbation", "fraction"]).weighted_tau.mean()
    for metric in metrics:
        if metric not in mean.index.get_level_values(0):
            continue
        along = mean.loc[(metric, "none")]
        text = ", ".join(f"{f:.0%} {v:.2f}" for f, v in along.items())
        with_ped = mean.get((metric, "ped", 0.0), np.nan)
        lines.append(f"- Mean τ_w of {metric} over the ranked targets along fine-tuning: {text}; "
                     f"pretrained + PED {with_ped:.2f}.")
if len(costs):
    fine = totals["fine-tuning (recorded)"]
    lines.append(f"- Fine-tuning the {len(costs)} cells took {fine / 60:.1f} min as recorded; scoring them with "
                 f"{metrics[0]} {totals['scoring without PED']:.1f} s without PED and "
                 f"{totals['scoring with PED']:.1f} s with PED, {fine / totals['scoring without PED']:.0f}× and "
                 f"{fine / totals['scoring with PED']:.0f}× less (one learning rate per model; a grid search "
                 "multiplies the fine-tuning side).")
    lines.append(f"- Of the scoring time, the forward passes take {costs.extraction_s.sum():.1f} s (training "
                 f"images) and {general_s.sum():.1f} s (general sets, {len(general_s)} models); the metric "
                 f"itself {costs[metrics[0]].sum():.2f} s, and {costs[metrics[0] + ' + PED'].sum():.2f} s "
                 "with PED.")
display(Markdown("\n".join(lines) if lines else "Nothing to summarise: no finished cell in this selection."))

# %% [markdown]
# The comparison favours scoring by orders of magnitude on cost, as the paper says. Whether the
# pretrained features (with or without PED) rank the models as well as partly fine-tuned ones depends
# on how reliable the ground truth is: on targets where the models' spread is close to the noise of
# their mean accuracies, every $\tau_w$ here, ours and the snapshots', moves with that noise, and
# single values cannot be compared without the tests of the {doc}`main_table` page. The t-SNE
# pictures show the mechanism the paper
# describes: fine-tuning separates the classes gradually, and PED pushes the pretrained classes apart
# in one go, but with the paper's small time step by much less than fine-tuning does. PED also
# moves every class rigidly: with a large step the classes separate, but each keeps the internal
# shape it had in the pretrained features (sub-clusters included), whereas fine-tuning reshapes the
# classes themselves.
#
# The times are wall-clock times on a small CPU shared with other jobs, so the measured scoring
# times can vary several fold between builds; the fine-tuning times were recorded under similar load. The orders of
# magnitude, not the exact ratios, are the result.
