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
# This page repeats the three comparisons on the 4-target benchmark, the one whose fine-tuning ground
# truth (`data/groundtruth/`) kept, for each (model, target) cell, the penultimate features of 400
# fixed training images at 0, 25, 50 and 100 % of the first seed's run, and the time every cell
# took; the page uses every cell that has them.

# %% tags=["parameters", "hide-input"]
models = None                 # zoo names (None: every model with a ground-truth cell)
targets = None                # target names (None: every target with a ground-truth cell)
example = "conv4_supervised,fonts"   # the t-SNE example, model and target (else the first cell)
metrics = None                # scores of the snapshot features (None: potran.metrics.PED_METRICS)
shown_time_step = 1.0         # a larger PED time step for the picture, beside the paper's 0.1
perplexity = 30               # t-SNE
min_models = 3                # targets with fewer models are not ranked
throughput_images = 256       # images per model for timing the feature extraction
groundtruth_dir = None        # cells/, snapshots/ and accuracy.csv (None: data/groundtruth)
cache_dir = None              # feature cache (None: the benchmark's, .cache/features)
out_dir = None                # PNG copies of the figures, tables (None: _build/finetuning)
device = "cpu"                # torch device of the feature extraction, PED and the metrics
n_boot = 1000                 # bootstrap replicates of the test of the paper's claim
seed = 0

# %% tags=["hide-input"]
from functools import partial

from IPython.display import Markdown, display

from potran.bench import book, findings, report
from potran.bench import finetuning_views as views
from potran.bench.folders import FEATURE_CACHE
from potran.bench.pages import results_folder
from potran.bench.sweeps import name_list
from potran.metrics import PED_METRICS

book.setup_page()
metrics, cache_dir = name_list(metrics, PED_METRICS), cache_dir or FEATURE_CACHE
out_dir = results_folder(out_dir, "finetuning")
show = partial(book.show, folder=out_dir)  # save a PNG copy, display, caption under it
grid = views.load_grid(groundtruth_dir, models, targets)
print(grid.summary())

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
view = views.example_view(grid, example, shown_time_step=shown_time_step, perplexity=perplexity,
                          cache_dir=cache_dir, device=device, seed=seed)
if view is not None:
    print("\n".join(view.notes))
    fig, caption, alt = views.tsne_figure(view)
    show(fig, "tsne", caption, alt=alt)

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
ranking = views.rank_snapshots(grid, metrics, min_models=min_models, cache_dir=cache_dir,
                              device=device)
if ranking is not None:
    print("\n".join(ranking.notes))
    ranking.scores.to_csv(out_dir / "snapshot_scores.csv", index=False)
    ranking.tau.to_csv(out_dir / "snapshot_tau.csv", index=False)
if ranking is not None and len(ranking.tau):
    wide = views.tau_table(ranking.tau)
    display(book.table(wide, shade=list(wide.columns),
                       caption="τ_w of each metric on each target at each point of fine-tuning."))
    fig, caption, alt = views.tau_figure(ranking.tau, metrics, min_models=min_models)
    show(fig, "tau_along_finetuning", caption, alt=alt)

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
if ranking is not None and len(ranking.tau):
    plain = ranking.scores[ranking.scores.perturbation == "none"]
    claim = findings.finetuning_claim(plain, grid.accuracy, report.seed_table(grid.root),
                                      n_boot=n_boot, seed=seed)
    claim.to_csv(out_dir / "claim.csv", index=False)
    display(Markdown(findings.finetuning_verdict(claim)))

# %% [markdown]
# How far apart the accuracies being ranked are matters as much as the scores: the closer the
# models' mean accuracies are relative to the noise of those means (seed noise / √seeds, and the
# test set's binomial noise), the lower the $\tau_w$ any ranking can expect (the noise ceiling on
# the {doc}`groundtruth` page), and the more $\tau_w$ moves with that noise between snapshots.

# %% tags=["hide-input"]
if grid.cells:
    display(book.table(views.accuracy_spread(grid)))

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
costs = views.grid_costs(grid, ranking, throughput_images=throughput_images, device=device)
if costs is not None:
    costs.cells.to_csv(out_dir / "costs.csv", index=False)
    per_cell = views.cost_table(costs, metrics)
    display(book.table(per_cell.agg(["median", "min", "max"]).T.rename_axis("seconds per cell"),
                       caption=f"Seconds per cell over the {len(per_cell)} cells: fine-tuning as "
                               "recorded, the rest measured now."))
    display(book.details(book.table(per_cell, formats={"fine-tuning": 1, "extraction": 3}),
                         f"The {len(per_cell)} cells' times (seconds)"))
    fig, caption, alt = views.cost_figure(costs, metrics[0])
    show(fig, "cost", caption, alt=alt)

# %% [markdown]
# ## What this run shows

# %% tags=["hide-input"]
display(Markdown(views.summary(view, ranking, costs, metrics)))

# %% [markdown]
# The comparison favours scoring by orders of magnitude on cost, as the paper says. Whether the
# pretrained features (with or without PED) rank the models as well as partly fine-tuned ones
# depends on how reliable the ground truth is: on targets where the models' spread is close to the
# noise of their mean accuracies, every $\tau_w$ here, ours and the snapshots', moves with that
# noise, and single values cannot be compared without the tests of the {doc}`main_table` page. The
# t-SNE pictures show the mechanism the paper describes: fine-tuning separates the classes
# gradually, and PED pushes the pretrained classes apart in one go, but with the paper's small time
# step by much less than fine-tuning does. PED also moves every class rigidly: with a large step the
# classes separate, but each keeps the internal shape it had in the pretrained features
# (sub-clusters included), whereas fine-tuning reshapes the classes themselves.
#
# The times are wall-clock times on a small CPU shared with other jobs, so the measured scoring
# times can vary several fold between builds; the fine-tuning times were recorded under similar
# load. The orders of magnitude, not the exact ratios, are the result.
