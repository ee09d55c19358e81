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
# # Ground truth: what the rankings are measured against
#
# Every $\tau_w$ in this book compares a metric's ranking of models with a ranking by fine-tuning
# accuracy. That ranking is itself a measurement: if the models' accuracies on a target differ by
# less than the accuracies vary from one fine-tuning run to the next, no metric can be expected to
# recover it. This page shows the paper's ground truth (Table 2 of its supplementary material),
# then the offline benchmark's, with the noise that comes with it, and says which targets can rank
# the models.

# %% tags=["parameters", "hide-input"]
from potran.resources import data_path

models = None        # zoo names, None for every model of potran.bench.zoo
targets = None       # target names, None for every target of potran.bench.datasets
groundtruth_dir = str(data_path("groundtruth"))  # folder written by potran groundtruth
min_ratio = 3.0      # spread / seed noise a target needs to rank the models
min_ceiling = 0.5    # lower noise ceiling (tau_w of a metric as good as another run) it needs as well
min_models = 4       # finished models a target needs before it is judged
max_rel_change = 0.05  # last-epoch relative loss change above which a cell was still training
small_loss = 0.05    # a final training loss below this counts as converged whatever its change

# %% tags=["hide-input"]
import warnings
from functools import partial

import pandas as pd
from IPython.display import display
from myst_nb import glue

from potran.bench import book
from potran.bench import finetuned as ft
from potran.bench import paper_analysis as pa
from potran.resources import project_path

book.setup_page(torch=False)
show = partial(book.show, folder=project_path("_build", "groundtruth"))  # a PNG copy of each figure
twpy = pa.paper_accuracy("twpy")
supp = pa.paper_accuracy("supplementary")


def put(key, value):
    """Glue a plain Python value (numpy scalars unwrapped) for the Markdown of this page."""
    glue(key, value.item() if hasattr(value, "item") else value, display=False)


def listing(names) -> str:
    """"a, b and c" ("none" when empty)."""
    names = list(names)
    return ", ".join(names[:-1]) + " and " * (len(names) > 1) + names[-1] if names else "none"

# %% [markdown]
# ## The paper's table
#
# Table 2 of the supplementary: test accuracy (%) of 12 self-supervised ResNet-50s fine-tuned on 10
# datasets. According to the supplementary, each number is the best of a grid search over
# hyper-parameters (30 settings of 5000 iterations each, following SFDA's implementation), reported
# without repeats, so the table carries no estimate of its own noise. Highlighted: the five cells
# where it disagrees with the `finetune_acc` of the official `tw.py`, which the published $\tau_w$
# were computed against (hover for the `tw.py` value).

# %% tags=["hide-input"]
diffs = pa.groundtruth_discrepancies(twpy, supp, ("tw.py", "supplementary"))
table = supp.pivot(index="model", columns="target", values="test_acc")
marks = pd.DataFrame(False, index=table.index, columns=table.columns)
tips = pd.DataFrame("", index=table.index, columns=table.columns)
for d in diffs.itertuples():  # flag each disputed cell, with tw.py's value on hover
    marks.loc[d.model, d.target], tips.loc[d.model, d.target] = True, f"tw.py: {d[3]:.2f}"
book.table(table, digits=2, marks=marks, tips=tips,
           caption="Supplementary Table 2: test accuracy (%); highlighted: the cells that differ from tw.py.")

# %% tags=["hide-input"]
book.table(diffs, digits=2, index=False)

# %% [markdown]
# How far apart the paper's models are on each dataset (points of accuracy, `tw.py` values): where
# the 12 models lie within a point or two, a ranking is fragile whatever the metric.

# %% tags=["hide-input"]
paper_spread = twpy.groupby("target").test_acc.agg(sd="std", range=lambda a: a.max() - a.min())
book.table(paper_spread.T.rename(index={"sd": "standard deviation", "range": "range (max − min)"}), digits=2)

# %% [markdown]
# ## The offline benchmark's protocol
#
# Read from the `config` every cell of the ground-truth folder records (so it is the protocol that
# was run, not the one intended), with the data sizes of each target.

# %% tags=["hide-input"]
gt = ft.read_groundtruth(groundtruth_dir, models, targets)
cells = gt.cells
for note in gt.notes:
    print("note:", note)
print(f"{len(cells)} of {len(gt.models) * len(gt.targets)} cells finished "
      f"({len(gt.models)} models x {len(gt.targets)} targets)")
if gt.odd:
    print("cells with another configuration:", ", ".join(gt.odd))
book.table(pd.Series({k: "–" if v is None else str(v) for k, v in gt.config.items()}, name="value",
                     dtype=object).rename_axis("setting"))

# %% tags=["hide-input"]
recipe = {"optimizer": "–", "lr": float("nan"), "wd": float("nan"), "batch_size": "–", "epochs": "–",
          "seeds": [], **gt.config}
for key in ("optimizer", "lr", "wd", "batch_size", "epochs"):
    put(f"recipe_{key}", recipe[key])
put("recipe_seeds", listing(map(str, recipe["seeds"])))
put("recipe_lr_overrides", listing(f"{m}: {v:g}" for m, v in recipe.get("lr_overrides", {}).items()))

# %% [markdown]
# Each model's backbone is fine-tuned whole with a new linear head: {glue:text}`recipe_optimizer`,
# learning rate {glue:text}`recipe_lr:g` (other rates per model: {glue:text}`recipe_lr_overrides`),
# weight decay {glue:text}`recipe_wd:g`, batch {glue:text}`recipe_batch_size`,
# {glue:text}`recipe_epochs` epochs, one run per seed ({glue:text}`recipe_seeds`); a cell's accuracy
# is the mean test accuracy over the seeds. Unlike the paper, there is no search over
# hyper-parameters: one rate per model.

# %% tags=["hide-input"]
book.table(cells.groupby("target")[["n_train", "n_test", "n_classes"]].first().rename(
    columns={"n_train": "training images", "n_test": "test images", "n_classes": "classes"}))

# %% [markdown]
# ## The fine-tuned table
#
# `accuracy.csv` (the mean test accuracy over seeds, as a fraction) of every cell; a cell without a
# fine-tuned model shows "–".

# %% tags=["hide-input"]
accuracy = gt.accuracy
if len(accuracy) != len(cells):
    print(f"accuracy.csv lists {len(accuracy)} cells, cells/ has {len(cells)}: the table is regenerated "
          f"after each cell, the rest of the page reads cells/")
book.table(csv="groundtruth_accuracy", data=accuracy.pivot(index="model", columns="target", values="test_acc").reindex(
    columns=[t for t in gt.targets if t in set(accuracy.target)]),
    caption="Mean test accuracy over the seeds (fraction) of each fine-tuned cell.")

# %% [markdown]
# ## Accuracy and its noise
#
# Each model's mean accuracy per target with two error scales: the standard deviation over the
# fine-tuning seeds (training noise) and the binomial standard error $\sqrt{p(1-p)/n_\mathrm{test}}$
# of one run's accuracy (the finite test set). The bars show each model's own noise; they do not
# decide whether two models can be ordered: that is a paired question (the same seeds' recipe and
# the same test images for both models, so much of the test-set noise is shared), and two
# overlapping ±1 s.e. bars can still differ clearly, while the seed noise of a 3-seed mean is
# about the seed s.d. / √3.

# %% tags=["hide-input"]
# page helper: the figure of every model's accuracy per target with its two error bars
def accuracy_panels(errors, targets, chance):
    """One panel per target (two columns) of each model's mean accuracy with its seed s.d. and the
    binomial s.e. of one run (``errors``: potran.bench.finetuned.accuracy_errors), the models sorted
    by their mean over the targets; ``chance``: each target's chance accuracy, in its title."""
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    targets = list(targets)
    order = list(errors.groupby("model").test_acc.mean().sort_values().index)
    n_cols = min(2, len(targets))                # a grid of two columns: legible at the page's width
    n_rows = -(-len(targets) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=book.figsize(n_rows * (0.24 * len(order) + 1.0) + 0.4),
                             sharey=True, squeeze=False, layout="constrained")
    for ax in axes.flat[len(targets):]:
        ax.set_visible(False)
    for ax, target in zip(axes.flat, targets):
        e = errors[errors.target == target].set_index("model").reindex(order).dropna(subset=["test_acc"])
        y = np.array([order.index(m) for m in e.index])
        ax.errorbar(e.test_acc, y + 0.2, xerr=e.binomial_se, fmt="none", ecolor="0.6", capsize=2,
                    label="binomial s.e. of one run")
        ax.errorbar(e.test_acc, y, xerr=e.seed_sd.fillna(0), fmt="o", ms=4, capsize=3, label="seed s.d.")
        ax.set_title(f"{target} (chance {chance[target]:.2f})")
        ax.set_xlabel("test accuracy (fraction)")
        ax.xaxis.set_major_locator(MaxNLocator(4))
    for ax in axes[:, 0]:
        ax.set_yticks(range(len(order)), order)
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="outside lower center", ncol=2, frameon=False)
    return fig


# %% tags=["hide-input"]
errors = ft.accuracy_errors(gt.seeds)
shown = [t for t in gt.targets if t in set(errors.target)]
if not shown:
    print("no finished cell for these models and targets yet")
else:
    chance = {t: 1 / cells.loc[cells.target == t, "n_classes"].iloc[0] for t in shown}
    show(accuracy_panels(errors, shown, chance), "accuracy",
         "Mean test accuracy over the fine-tuning seeds of each model on each target of the offline "
         "benchmark, with the seed standard deviation (blue) and the binomial standard error of one "
         "run's test accuracy (grey); each panel's axis is scaled to its models.",
         alt=f"Four panels, one per target ({', '.join(shown)}): each model's mean accuracy as a dot "
             "with two horizontal error bars, the models sorted by their mean accuracy over the targets.")

# %% [markdown]
# ## Which targets can rank the models
#
# `potran.bench.finetuned.reliability` per target (`potran.stats.reliability`): `spread`, the
# standard deviation of the models' mean accuracies; `seed_noise`, the typical standard error of
# one model's mean over its seeds; `test_noise`, the binomial standard error of one test set (the
# same images for every seed and every model, so it does not average out over seeds);
# `ratio_seed`, `ratio_test` and `ratio` (both noises) = spread over each. `reliability` is the
# Spearman–Brown reliability of the $k$-seed mean, $k r_1 / (1 + (k-1) r_1)$ with $r_1$ the
# single-seed reliability (seed noise; the test images fixed, as the metrics are scored against
# them), and `reliability_new_test` the same for a new test set of the task. The **noise ceiling**
# follows from it: `ceiling_low`, the $\tau_w$ a metric as good as another fine-tuning run can
# expect, and `ceiling_high`, the $\tau_w$ of a perfect metric (simulated under a Gaussian model
# with this target's number of models; expectations, so a single target may land above).
# `seed_agreement` is the mean $\tau_w$ between two single-seed ground truths: it measures one
# seed, not the 3-seed mean the metrics are scored against, and is no bound on them.

# %% tags=["hide-input"]
with warnings.catch_warnings():  # targets with one finished model have no tau between seeds
    warnings.simplefilter("ignore", RuntimeWarning)
    reliability = ft.reliability(gt.seeds)
verdicts = ft.reliability_verdicts(reliability, min_ratio=min_ratio, min_ceiling=min_ceiling,
                                   min_models=min_models)
book.table(reliability.set_index("target"), formats={"n_models": "int", "n_seeds": "int"})

# %% tags=["hide-input"]
counts = verdicts.verdict.value_counts()
for key, value in {"min_ratio": min_ratio, "min_ceiling": min_ceiling, "min_models": min_models,
                   "n_judged": len(verdicts)}.items():
    put(key, value)
for verdict in ("reliable", "coarse", "noise", "too few models"):
    put(f"n_{verdict.replace(' ', '_')}", int(counts.get(verdict, 0)))
    put(f"{verdict.replace(' ', '_')}_targets", listing(verdicts.target[verdicts.verdict == verdict]))
book.table(verdicts.merge(reliability[["target", "spread", "seed_noise", "ratio_test", "reliability",
                                       "ceiling_high"]], on="target").set_index("target"),
           formats={"n_models": "int"})

# %% [markdown]
# A target **ranks the models** when their spread is at least {glue:text}`min_ratio:g` times the seed
# noise of a model's mean (`ratio_seed`) and the lower noise ceiling (`ceiling_low`, the $\tau_w$ of
# a metric as good as another fine-tuning run) is at least {glue:text}`min_ceiling:g`; **coarsely**
# (neighbours in its ranking may swap) when the spread only exceeds the seed noise; otherwise its
# ranking is mostly **noise**; targets with fewer than {glue:text}`min_models` finished models are
# not judged (the rule: `potran.bench.finetuned.reliability_verdicts`). Of the
# {glue:text}`n_judged` targets, {glue:text}`n_reliable` rank the models ({glue:text}`reliable_targets`),
# {glue:text}`n_coarse` only coarsely ({glue:text}`coarse_targets`), {glue:text}`n_noise` are dominated by
# noise ({glue:text}`noise_targets`) and {glue:text}`n_too_few_models` are not yet judged
# ({glue:text}`too_few_models_targets`). The test-set noise (`ratio_test`) matters for a new test
# set of the same task, not for the fixed test images the metrics are scored against.

# %% [markdown]
# ## Learning rate and convergence
#
# The learning rate each cell used (from its record), and how much each cell's training loss still
# changed in its last epoch, $|L_E - L_{E-1}| / L_{E-1}$ (largest over the seeds), beside the final
# training loss. A cell still falling fast when training stopped ranks its model by how quickly it
# fine-tunes more than by where it would end; a tiny final loss that fluctuates is not a concern.

# %% tags=["hide-input"]
usual = cells.lr.value_counts().idxmax() if len(cells) else float("nan")
other = cells[cells.lr != usual]
put("n_cells", len(cells))
put("usual_lr", usual)
put("lr_exceptions", listing(f"{m} ({', '.join(f'{v:g}' for v in sorted(set(g.lr)))} on its {len(g)} cells)"
                             for m, g in other.groupby("model")))
if not cells.empty:
    display(book.details(book.table(cells.pivot(index="model", columns="target", values="lr"), digits=4),
                         f"The learning rate of each of the {len(cells)} cells"))

# %% [markdown]
# Of the {glue:text}`n_cells` finished cells, every one was fine-tuned with the learning rate
# **{glue:text}`usual_lr:g`** except those of {glue:text}`lr_exceptions`.

# %% tags=["hide-input"]
# page helper: the figure of the last epoch's loss change against the final loss
def convergence(cells, targets, *, max_rel_change, small_loss):
    """Last-epoch relative loss change against final training loss of every cell on log axes, with the
    two thresholds of potran.bench.finetuned.still_training."""
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    fig, ax = plt.subplots(figsize=book.figsize(4.2, 0.85), layout="constrained")
    sns.scatterplot(data=cells, x="loss_rel_change_max", y="final_loss", hue="target",
                    hue_order=list(targets), style="target", s=60, ax=ax)
    ax.axvline(max_rel_change, color="k", ls="--", lw=0.8)
    ax.axhline(small_loss, color="k", ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}" if v >= 0.01 else f"{v:.1%}"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        axis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("relative change of the training loss in the last epoch")
    ax.set_ylabel("final training loss (cross-entropy, nats)")
    ax.legend(bbox_to_anchor=(1.02, 1), loc="upper left", frameon=False, title="target")
    return fig


# %% tags=["hide-input"]
if cells.empty:
    print("no finished cell for these models and targets yet")
else:
    show(convergence(cells, shown, max_rel_change=max_rel_change, small_loss=small_loss), "convergence",
         "Relative change of the training loss over the last epoch (largest over the seeds) against "
         "the final training loss, for every finished cell; cells to the right of the dashed line and "
         "above the dotted one were still training.",
         alt="Scatter plot on log axes, one marker per cell coloured by target: the last epoch's "
             "relative loss change against the final loss, with a dashed vertical and a dotted "
             "horizontal threshold line.")

# %% tags=["hide-input"]
still = ft.still_training(cells, max_rel_change=max_rel_change, small_loss=small_loss)
per_target = still.groupby("target").size().reindex(shown, fill_value=0)
for key, value in {"n_still": len(still), "max_rel_change": max_rel_change, "small_loss": small_loss,
                   "still_per_target": listing(f"{t} {n} of {(cells.target == t).sum()}"
                                               for t, n in per_target.items()),
                   "median_change": cells.loss_rel_change_max.median(),
                   "median_final_loss": cells.final_loss.median()}.items():
    put(key, value)
if len(still):
    display(book.details(book.table(
        still[["model", "target", "lr", "loss_rel_change_max", "final_loss", "test_acc"]].rename(
            columns={"lr": "learning rate", "loss_rel_change_max": "last-epoch loss change",
                     "final_loss": "final loss", "test_acc": "test accuracy"}),
        formats={"learning rate": 4, "last-epoch loss change": "%1"}, index=False),
        f"The {len(still)} cells still training"))

# %% [markdown]
# {glue:text}`n_still` of the {glue:text}`n_cells` finished cells were still training when they
# stopped (last-epoch loss change above {glue:text}`max_rel_change:.0%` with a final loss above
# {glue:text}`small_loss:g`): {glue:text}`still_per_target`. Over all cells the median last-epoch
# change is {glue:text}`median_change:.1%` and the median final loss
# {glue:text}`median_final_loss:.3f`.

# %% [markdown]
# ## Compared with the paper
#
# The paper's ground truth is one number per cell after a hyper-parameter search, with no noise
# estimate; ours is a fixed recipe run with several seeds, so its noise can be measured and the
# targets on which a ranking is meaningful can be named. On a target that this page does not call
# reliable, neighbours in the ground truth's ranking may swap from one set of seeds to the next, so
# a metric's $\tau_w$ there carries that noise; the noise ceiling says how high a $\tau_w$ the
# target allows.
