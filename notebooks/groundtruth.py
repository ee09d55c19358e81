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
# then that of benchmark v4, the book's default setting (`data/bench_v4/README.md`), with the
# noise that comes with it, and says which targets can rank the models. v4's 12 models are
# fine-tuned after a learning-rate search on a validation split, as the paper's were; its
# registered analysis is on the {doc}`benchmark_v4` page. `setting = "v3"` shows benchmark v3's
# ground truth instead (`data/bench_v3/README.md`), a short fixed recipe whose noise and
# unconverged runs are the lesson of the {doc}`benchmark_v3` page.

# %% tags=["parameters", "hide-input"]
setting = "v4"         # potran.bench.settings.NAMES: whose fine-tuning ground truth the page shows
models = None          # the setting's model names, None for all of them
targets = None         # the setting's target names ("main": its main table), None for all of them
groundtruth_dir = None  # folder with accuracy.csv and cells/; None: the setting's (data/bench_v4 on "v4")
seed = 0               # seed of the random halvings behind the inclusion rule's reliability
min_ratio = 3.0        # spread / seed noise a target needs to rank the models (the descriptive verdict)
min_ceiling = 0.5      # lower noise ceiling (τ_w of a metric as good as another run) it needs as well
min_models = 4         # finished models a target needs before it is judged
max_rel_change = 0.05  # last-epoch relative loss change above which a cell was still training
small_loss = 0.05      # a final training loss below this counts as converged whatever its change
near_uniform = 0.9     # a run whose final training loss is above this share of ln(classes) did not train

# %% tags=["hide-input"]
import json
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import display
from myst_nb import glue

from potran.bench import book, settings, v3_data
from potran.bench import finetuned as ft
from potran.bench import paper_analysis as pa
from potran.bench.store import CellStore
from potran.resources import project_path

# %% tags=["hide-input"]
book.setup_page(torch=False)
show = partial(book.show, folder=project_path("_build", "groundtruth"))  # a PNG copy of each figure
twpy = pa.paper_accuracy("twpy")
supp = pa.paper_accuracy("supplementary")

# %% tags=["hide-input"]
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
# ## The fine-tuning protocol
#
# Read from the `config` every cell of the ground-truth folder records or, where the cells ran under
# a frozen protocol (v4's `protocol.json`, which each cell records; its pilot's numbers left out),
# from that protocol, checked against every cell (so it is the protocol that was run, not the one
# intended), with the data sizes of each target. The folder is that of
# {glue:text}`setting_title` (the `setting` parameter) unless `groundtruth_dir` names another.

# %% tags=["hide-input"]
page = settings.get(setting, models, targets)
folder = Path(groundtruth_dir) if groundtruth_dir else page.groundtruth_dir
if folder is None:
    raise ValueError(f"setting {page.name!r} has no fine-tuned cells (its ground truth is the published "
                     "table above): give groundtruth_dir")
truth = page.groundtruth(folder / "accuracy.csv")  # accuracy.csv, and the runs of its cells
config, odd = ft.protocol(folder)
frozen = folder / "protocol.json"   # a frozen protocol with a learning-rate search per cell (v4's)
searched = json.loads(frozen.read_text()) if frozen.is_file() else None
if searched is not None:
    from potran.bench.v4.finetune import OPTIMIZER

    odd = [f"{r['model']}/{r['target']}" for r in CellStore(folder).records() if r.get("protocol") != searched]
    config = {"optimizer": OPTIMIZER, **{{"batch": "batch_size"}.get(k, k): v for k, v in searched.items()
                                         if k != "pilot"}}   # v3's name for the batch size
cells = ft.cell_table(folder)
cells = cells[cells.model.isin(page.models) & cells.target.isin(page.targets)].reset_index(drop=True)

# %% tags=["hide-input"]
put("setting_title", page.title)
print(f"{page.title}, from {truth.source}: {len(cells)} of {len(page.models) * len(page.targets)} cells "
      f"finished ({len(page.models)} models x {len(page.targets)} targets)")
if odd:
    print("cells with another configuration:", ", ".join(odd))
book.table(pd.Series({k: "–" if v is None else "off" if v == "none" else str(v)   # v4: augmentation "none"
                      for k, v in config.items()}, name="value",
                     dtype=object).rename_axis("setting"))

# %% tags=["hide-input"]
recipe = {"optimizer": "–", "lr": float("nan"), "wd": float("nan"), "batch_size": "–", "epochs": "–",
          "seeds": [], **config}
for key in ("optimizer", "wd", "batch_size", "epochs"):
    put(f"recipe_{key}", recipe[key])
put("recipe_seeds", listing(map(str, recipe["seeds"])))
overrides = listing(f"{m}: {v:g}" for m, v in recipe.get("lr_overrides", {}).items())
put("recipe_lr", "per cell, from the search" if searched is not None else
    f"{recipe['lr']:g}" + ("" if overrides == "none" else f" (other rates per model: {overrides})"))
put("recipe_search", listing(f"{v:g}" for v in searched["lrs"]) if searched is not None else "none")
put("recipe_selection", searched["selection"] if searched is not None else "one rate per model")

# %% [markdown]
# Each model's backbone is fine-tuned whole with a new linear head: {glue:text}`recipe_optimizer`,
# learning rate {glue:text}`recipe_lr`, weight decay {glue:text}`recipe_wd:g`, batch
# {glue:text}`recipe_batch_size`, {glue:text}`recipe_epochs` epochs, one run per seed
# ({glue:text}`recipe_seeds`); a cell's accuracy is the mean test accuracy over the seeds.
# Learning rates searched per cell: {glue:text}`recipe_search` (selection:
# {glue:text}`recipe_selection`); the paper searched 30 hyper-parameter settings per cell.

# %% tags=["hide-input"]
book.table(cells.groupby("target", sort=False)[["n_train", "n_test", "n_classes"]].first().reindex(
    [t for t in page.targets if t in set(cells.target)]).rename(
    columns={"n_train": "training images", "n_test": "test images", "n_classes": "classes"}),
    formats={"training images": "int", "test images": "int", "classes": "int"})

# %% [markdown]
# ## The fine-tuned table
#
# `accuracy.csv` (the mean test accuracy over seeds, as a fraction) of every cell, one row per
# target; a cell without a fine-tuned model shows "–".

# %% tags=["hide-input"]
accuracy = truth.accuracy
if len(accuracy) != len(cells):
    print(f"accuracy.csv lists {len(accuracy)} cells, cells/ has {len(cells)}: the table is regenerated "
          f"after each cell, the rest of the page reads cells/")
wide = accuracy.pivot(index="target", columns="model", values="test_acc")
book.table(csv="groundtruth_accuracy", data=wide.reindex(
    index=[t for t in page.targets if t in wide.index],
    columns=[m for m in page.models if m in wide.columns]),
    caption="Mean test accuracy over the seeds (fraction) of each fine-tuned cell: targets in rows, "
            "models in columns.")

# %% [markdown]
# ## Accuracy and its noise
#
# Each model's mean accuracy per target with two error scales: the standard deviation over the
# fine-tuning seeds (training noise) and the binomial standard error $\sqrt{p(1-p)/n_\mathrm{test}}$
# of one run's accuracy (the finite test set). The bars show each model's own noise; they do not
# decide whether two models can be ordered: that is a paired question (the same seeds' recipe and
# the same test images for both models, so much of the test-set noise is shared), and two
# overlapping ±1 s.e. bars can still differ clearly, while the seed noise of a mean over
# {glue:text}`n_seeds` seeds is about the seed s.d. divided by the square root of
# {glue:text}`n_seeds`.

# %% tags=["hide-input"]
# page helper: the grid of the figure below
def accuracy_grid(n_targets, n_models):
    """A figure with one panel per target (two columns up to four targets, four beyond: legible at
    the page's width) sized to ``n_models`` rows, the spare panels hidden; its axes, its columns."""
    import matplotlib.pyplot as plt

    n_cols = min(2 if n_targets <= 4 else 4, n_targets)
    n_rows = -(-n_targets // n_cols)
    per_model = 0.24 if n_cols <= 2 else 0.17
    height = n_rows * (per_model * n_models + 1.2) + 0.4
    fig, axes = plt.subplots(n_rows, n_cols, figsize=book.figsize(height), sharey=True, squeeze=False,
                             layout="constrained")
    for ax in axes.flat[n_targets:]:
        ax.set_visible(False)
    return fig, axes, n_cols

# %% tags=["hide-input"]
# page helper: one panel of the figure below, one target
def accuracy_panel(ax, e, order, target, chance, n_cols):
    """Each model's mean accuracy (``e``, one row per model, placed as in ``order``) with its seed
    s.d. and the binomial s.e. of one run; ``chance``: the target's chance accuracy, in the title."""
    from matplotlib.ticker import MaxNLocator

    y = np.array([order.index(m) for m in e.index])
    ax.errorbar(e.test_acc, y + 0.2, xerr=e.binomial_se, fmt="none", ecolor="0.6", capsize=2,
                label="binomial s.e. of one run")
    ax.errorbar(e.test_acc, y, xerr=e.seed_sd.fillna(0), fmt="o", ms=4, capsize=3, label="seed s.d.")
    ax.set_title(f"{target}\n(chance {chance:.2f})" if n_cols > 2 else f"{target} (chance {chance:.2f})")
    ax.set_xlabel("test accuracy" if n_cols > 2 else "test accuracy (fraction)")
    ax.xaxis.set_major_locator(MaxNLocator(3 if n_cols > 2 else 4))

# %% tags=["hide-input"]
# page helper: the figure of every model's accuracy per target with its two error bars
def accuracy_panels(errors, targets, chance):
    """One ``accuracy_panel`` per target (``errors``: potran.bench.finetuned.accuracy_errors), the
    models sorted by their mean over the targets; ``chance``: each target's chance accuracy."""
    targets = list(targets)
    order = list(errors.groupby("model").test_acc.mean().sort_values().index)
    fig, axes, n_cols = accuracy_grid(len(targets), len(order))
    for ax, target in zip(axes.flat, targets):
        e = errors[errors.target == target].set_index("model").reindex(order).dropna(subset=["test_acc"])
        accuracy_panel(ax, e, order, target, chance[target], n_cols)
    for ax in axes[:, 0]:
        ax.set_yticks(range(len(order)), order)
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="outside lower center", ncol=2, frameon=False)
    return fig


# %% tags=["hide-input"]
errors = ft.accuracy_errors(truth.seeds if truth.seeds is not None else pd.DataFrame())
shown = [t for t in page.targets if t in set(errors.target)]
put("n_seeds", int(errors.n_seeds.max()) if len(errors) else 0)
if not shown:
    print("no finished cell for these models and targets yet")
else:
    chance = {t: 1 / cells.loc[cells.target == t, "n_classes"].iloc[0] for t in shown}
    show(accuracy_panels(errors, shown, chance), "accuracy",
         "Mean test accuracy (fraction) over the fine-tuning seeds of each model on each target, with "
         "the seed standard deviation (blue) and the binomial standard error of one run's test "
         "accuracy (grey); each panel's axis is scaled to its models.",
         alt=f"{len(shown)} panels, one per target ({', '.join(shown)}): each model's mean accuracy as a "
             "dot with two horizontal error bars, the models sorted by their mean accuracy over the targets.")

# %% [markdown]
# ## Which targets can rank the models
#
# Benchmarks v3 and v4 decide which targets enter their **main table** by the same rule, frozen
# before any metric was scored (each benchmark's README): the Spearman–Brown reliability of the ground-truth
# ranking must be at least {glue:text}`inclusion_threshold:g`. For a pair of seeds, one seed is
# scored on a random half of the test images and the other on the other half; the Spearman
# correlation of the models' two accuracies (`split_half_r`), averaged over the seed pairs and
# {glue:text}`n_halvings` seeded halvings, gives the reliability $2r/(1+r)$ of the whole ground
# truth (every seed, every test image), so both noises, of the seeds and of the test sample,
# enter. The table is `potran.bench.v3_data.reliability_table` with the halvings' seed
# {glue:text}`halving_seed`, the computation of the {doc}`benchmark_v3` and {doc}`benchmark_v4`
# pages; it needs every
# model's per-image test correctness on the target.

# %% tags=["hide-input"]
if len(page.models) >= 3:  # a split-half correlation of ranks needs three models
    inclusion = v3_data.reliability_table(v3_data.finetune_truth(folder), page.models, list(page.targets),
                                          seed=seed)
else:
    inclusion = pd.DataFrame(columns=["target", "family", "split_half_r", "reliability", "table"])
main, second = v3_data.members(inclusion, "main"), v3_data.members(inclusion, "second")
table_of = dict(zip(inclusion.target, inclusion.table))
for key, value in {"inclusion_threshold": v3_data.MAIN_TABLE_RELIABILITY, "n_halvings": v3_data.N_HALVINGS,
                   "halving_seed": seed, "n_included_judged": len(inclusion), "n_main": len(main),
                   "main_targets": listing(main),
                   "n_main_families": inclusion[inclusion.table == "main"].family.nunique(),
                   "n_second": len(second), "second_targets": listing(second),
                   "n_not_computable": len(shown) - len(inclusion)}.items():
    put(key, value)

# %% tags=["hide-input"]
if inclusion.empty:
    print("the inclusion rule cannot be computed here: it needs three models or more, each with its "
          "per-image test correctness on the target")
else:
    display(book.table(inclusion[["target", "family", "split_half_r", "reliability", "table"]], index=False))

# %% [markdown]
# Of the {glue:text}`n_included_judged` targets the rule can judge, {glue:text}`n_main` from
# {glue:text}`n_main_families` families enter the main table ({glue:text}`main_targets`) and
# {glue:text}`n_second` the second table ({glue:text}`second_targets`), reported beside the main
# one; {glue:text}`n_not_computable` finished targets cannot be judged by it (it needs three
# models or more, each with its per-image test correctness on the target).
#
# ### The noise ceiling: a second estimator
#
# `potran.bench.finetuned.reliability` per target (`potran.stats.reliability`) reads the noise
# from the variance of the accuracies instead of their ranks: `spread`, the standard deviation of
# the models' mean accuracies; `seed_noise`, the typical standard error of one model's mean over
# its seeds; `test_noise`, the binomial standard error of one test set (the same images for every
# seed and every model, so it does not average out over seeds); `ratio_seed`, `ratio_test` and
# `ratio` (both noises) = spread over each. Its `reliability` (here *variance reliability*) is
# the Spearman–Brown reliability of the $k$-seed mean, $k r_1 / (1 + (k-1) r_1)$ with $r_1$ the
# single-seed reliability (seed noise only: the test images fixed, as the metrics are scored
# against them), and `reliability_new_test` the same for a new test set of the task: neither is
# the frozen rule's reliability above. The **noise ceiling** follows from it: `ceiling_low`, the
# $\tau_w$ a metric as good as another fine-tuning run can expect, and `ceiling_high`, the
# $\tau_w$ of a perfect metric (simulated under a Gaussian model with this target's number of
# models; expectations, so a single target may land above). `seed_agreement` is the mean
# $\tau_w$ between two single-seed ground truths: it measures one seed, not the mean over the
# seeds the metrics are scored against, and is no bound on them.

# %% tags=["hide-input"]
with warnings.catch_warnings():  # targets with one finished model have no tau between seeds
    warnings.simplefilter("ignore", RuntimeWarning)
    reliability = ft.reliability(truth.seeds) if truth.seeds is not None else ft.reliability(
        pd.DataFrame(columns=["model", "target", "seed", "test_acc", "n_test"]))
reliability = reliability.set_index("target").reindex(shown).reset_index()
verdicts = ft.reliability_verdicts(reliability, min_ratio=min_ratio, min_ceiling=min_ceiling,
                                   min_models=min_models)
book.table(reliability.rename(columns={"reliability_1": "variance reliability_1",
                                       "reliability": "variance reliability"}).set_index("target"),
           formats={"n_models": "int", "n_seeds": "int"})

# %% tags=["hide-input"]
counts = verdicts.verdict.value_counts()
for key, value in {"min_ratio": min_ratio, "min_ceiling": min_ceiling, "min_models": min_models,
                   "n_judged": len(verdicts)}.items():
    put(key, value)
for verdict in ("reliable", "coarse", "noise", "too few models"):
    put(f"n_{verdict.replace(' ', '_')}", int(counts.get(verdict, 0)))
    put(f"{verdict.replace(' ', '_')}_targets", listing(verdicts.target[verdicts.verdict == verdict]))

# %% tags=["hide-input"]
both = verdicts.merge(reliability[["target", "spread", "seed_noise", "ratio_test", "seed_agreement"]],
                      on="target")
both["table"] = both.target.map(lambda t: table_of.get(t, "–"))
reliable_second = both.target[(both.verdict == "reliable") & (both.table == "second")]
not_reliable_main = both.target[(both.verdict != "reliable") & (both.table == "main")]
for key, value in {"n_reliable_second": len(reliable_second), "reliable_second": listing(reliable_second),
                   "n_not_reliable_main": len(not_reliable_main),
                   "not_reliable_main": listing(not_reliable_main),
                   "n_compared": int(both.table.isin(["main", "second"]).sum())}.items():
    put(key, value)
book.table(both.set_index("target"), formats={"n_models": "int"})

# %% [markdown]
# This page also gives each target a descriptive verdict from these columns (its own, not
# the benchmarks'): a target **ranks the models** when their spread is at least
# {glue:text}`min_ratio:g` times the seed noise of a model's mean (`ratio_seed`) and the lower noise
# ceiling (`ceiling_low`) is at least {glue:text}`min_ceiling:g`; **coarsely** (neighbours in its
# ranking may swap) when the spread only exceeds the seed noise; otherwise its ranking is mostly
# **noise**; targets with fewer than {glue:text}`min_models` finished models are not judged (the
# rule: `potran.bench.finetuned.reliability_verdicts`). Of the {glue:text}`n_judged` targets,
# {glue:text}`n_reliable` rank the models ({glue:text}`reliable_targets`), {glue:text}`n_coarse`
# only coarsely ({glue:text}`coarse_targets`), {glue:text}`n_noise` are dominated by noise
# ({glue:text}`noise_targets`) and {glue:text}`n_too_few_models` are not judged
# ({glue:text}`too_few_models_targets`).
#
# The two readings need not agree: of the {glue:text}`n_compared` targets both judge, the verdict calls
# {glue:text}`n_reliable_second` targets of the second table reliable
# ({glue:text}`reliable_second`), and {glue:text}`n_not_reliable_main` main-table targets less
# than reliable ({glue:text}`not_reliable_main`). They measure different things: the verdict
# compares standard deviations of accuracies with the seed noise alone, so a few models far from
# the rest can make a large spread while the others are ordered by noise (`seed_agreement`, the
# $\tau_w$ between single-seed rankings, shows how well one seed's ranking repeats), whereas the
# frozen rule correlates ranks and counts the test-sample noise as well. The benchmarks' tables
# use the frozen rule only.

# %% [markdown]
# ## Learning rate and convergence
#
# The learning rate each cell used (from its record), and how each run's training loss ended: its
# last epoch's loss $L_E$ and the relative change $|L_E - L_{E-1}| / L_{E-1}$ of that epoch. A run
# still falling fast when training stopped ranks its model by how quickly it fine-tunes more than
# by where it would end; a tiny final loss that fluctuates is not a concern.

# %% tags=["hide-input"]
usual = cells.lr.value_counts().idxmax() if len(cells) else float("nan")
other = cells[cells.lr != usual]
put("n_cells", len(cells))
put("usual_lr", usual)
put("lr_exceptions", listing(f"{m} ({', '.join(f'{v:g}' for v in sorted(set(g.lr)))} on its {len(g)} cells)"
                             for m, g in other.groupby("model")))
if not cells.empty:
    display(book.details(book.table(cells.pivot(index="target", columns="model", values="lr").reindex(
        index=[t for t in page.targets if t in set(cells.target)],
        columns=[m for m in page.models if m in set(cells.model)]), digits=4),
        f"The learning rate of each of the {len(cells)} cells"))

# %% [markdown]
# Of the {glue:text}`n_cells` finished cells, every one was fine-tuned with the learning rate
# **{glue:text}`usual_lr:g`** except those of {glue:text}`lr_exceptions`.

# %% tags=["hide-input"]
# one row per run: its last epoch's training loss and that epoch's relative change, from the run's
# per-epoch train_loss (the loss_last_epoch_rel_change a v3 cell records, to rounding)
records = [r for r in CellStore(folder).records()
           if r["model"] in page.models and r["target"] in page.targets]
runs = pd.DataFrame([{"model": r["model"], "target": r["target"], "seed": run["seed"],
                      "final_loss": run["train_loss"][-1],
                      "rel_change": abs(run["train_loss"][-1] / run["train_loss"][-2] - 1),
                      "registered_flag": run.get("not_trained"),   # v4's pre-registered flag, None on v3
                      "n_classes": r["n_classes"], "test_acc": run["test_acc"]}
                     for r in records for run in r["runs"] if len(run.get("train_loss") or []) >= 2],
                    columns=["model", "target", "seed", "final_loss", "rel_change", "registered_flag", "n_classes",
                             "test_acc"])
runs["table"] = runs.target.map(lambda t: table_of.get(t, "–")).map(
    {"main": "main table", "second": "second table", "–": "not judged"})

# %% tags=["hide-input"]
on_main = runs[runs.target.isin(main)]
for key, value in {"runs_main": len(on_main), "final_loss_main": on_main.final_loss.median(),
                   "change_main": on_main.rel_change.median(), "runs_all": len(runs),
                   "final_loss_all": runs.final_loss.median(), "change_all": runs.rel_change.median(),
                   "change_p90": runs.rel_change.quantile(0.9), "change_max": runs.rel_change.max()}.items():
    put(key, value)


# %% tags=["hide-input"]
# page helper: the log axes of the figure below
def log_axes(ax, runs):
    """Both axes of ``ax`` on a log scale, ticked legibly for the spread of ``runs``."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:g}%"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    for axis, values in ((ax.xaxis, runs.rel_change), (ax.yaxis, runs.final_loss)):
        values = values[values > 0]
        decades = np.log10(values.max() / values.min()) if len(values) else 0.0
        axis.set_major_locator(LogLocator(subs=(1, 2, 5) if decades < 3 else (1,)))  # legible labels
        axis.set_minor_formatter(NullFormatter())

# %% tags=["hide-input"]
# page helper: the figure of the last epoch's loss change against the final loss
def convergence(runs, hue, hue_order, *, max_rel_change, small_loss):
    """Last-epoch loss change against final loss of each run, with the thresholds of ft.still_training."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=book.figsize(4.2, 0.85), layout="constrained")
    sns.scatterplot(data=runs, x="rel_change", y="final_loss", hue=hue, hue_order=hue_order, style=hue,
                    style_order=hue_order, s=30 if len(runs) > 100 else 60, alpha=0.7, ax=ax)
    ax.axvline(max_rel_change, color="k", ls="--", lw=0.8)
    ax.axhline(small_loss, color="k", ls=":", lw=0.8)
    log_axes(ax, runs)
    ax.set(xlabel="relative change of the training loss in the last epoch",
           ylabel="final training loss (cross-entropy, nats)")
    ax.legend(bbox_to_anchor=(1.02, 1), loc="upper left", frameon=False, title=hue.replace("_", " "))
    return fig


# %% tags=["hide-input"]
if runs.empty:
    print("no finished run for these models and targets yet")
else:
    by_table = len(shown) > 8 and (runs.table != "not judged").any()  # many targets: colour by table
    groups = [g for g in ("main table", "second table", "not judged") if g in set(runs.table)]
    ran = [t for t in page.targets if t in set(runs.target)]
    hue, order = ("table", groups) if by_table else ("target", ran)
    show(convergence(runs, hue, order, max_rel_change=max_rel_change, small_loss=small_loss), "convergence",
         "Relative change of the training loss over the last epoch against the final training loss, "
         "for every fine-tuning run; runs to the right of the dashed line and above the dotted one "
         "were still training.",
         alt=f"Scatter plot on log axes, one marker per run coloured by {hue}: the last epoch's "
             "relative loss change against the final loss, with a dashed vertical and a dotted "
             "horizontal threshold line.")

# %% [markdown]
# Over the {glue:text}`runs_main` runs on the main-table targets the median final training loss
# (cross-entropy) is {glue:text}`final_loss_main:.2f`, and it still changed by a median
# {glue:text}`change_main:.1%` in the last epoch; over all {glue:text}`runs_all` runs the median
# final loss is {glue:text}`final_loss_all:.2f` and the last epoch's change has median
# {glue:text}`change_all:.3f`, 90th percentile {glue:text}`change_p90:.3f` and largest
# {glue:text}`change_max:.3f` (medians over runs). The ground truth ranks the models after a fixed
# {glue:text}`recipe_epochs`-epoch schedule; the rule below says which cells were still training
# when it ended.

# %% tags=["hide-input"]
still = ft.still_training(cells, max_rel_change=max_rel_change, small_loss=small_loss)
per_target = pd.DataFrame({"table": [table_of.get(t, "–") for t in shown],
                           "cells": cells.groupby("target").size().reindex(shown, fill_value=0),
                           "still training": still.groupby("target").size().reindex(shown, fill_value=0),
                           "median final loss (runs)":
                               runs.groupby("target").final_loss.median().reindex(shown)},
                          index=pd.Index(shown, name="target"))
still_main = still[still.target.isin(main)]
for key, value in {"n_still": len(still), "max_rel_change": max_rel_change, "small_loss": small_loss,
                   "n_still_main": len(still_main),
                   "n_cells_main": int(cells.target.isin(main).sum()),
                   "min_still_per_target": int(per_target["still training"].min()) if shown else 0}.items():
    put(key, value)

# %% tags=["hide-input"]
display(book.table(per_target, formats={"cells": "int", "still training": "int"}))
if len(still):
    display(book.details(book.table(
        still[["model", "target", "lr", "loss_rel_change_max", "final_loss", "test_acc"]].rename(
            columns={"lr": "learning rate", "loss_rel_change_max": "last-epoch loss change",
                     "final_loss": "final loss", "test_acc": "test accuracy"}),
        formats={"learning rate": 4, "last-epoch loss change": "%1"}, index=False),
        f"The {len(still)} cells still training"))

# %% [markdown]
# Judged per cell (the largest last-epoch change over its seeds, the mean final loss over them;
# `potran.bench.finetuned.still_training`), {glue:text}`n_still` of the {glue:text}`n_cells`
# finished cells were still training when they stopped (last-epoch loss change above
# {glue:text}`max_rel_change:.0%` with a final loss above {glue:text}`small_loss:g`),
# {glue:text}`n_still_main` of the {glue:text}`n_cells_main` on the main-table targets; the table
# above counts them per target.

# %% tags=["hide-input"]
runs["uniform_loss"] = np.log(runs.n_classes)
untrained = runs[(runs.final_loss > near_uniform * runs.uniform_loss) | runs.registered_flag.map(lambda f: f is True)]
flagged = (untrained.groupby(["model", "target"], sort=False)
           .agg(runs=("seed", "size"), test_acc=("test_acc", "mean"), final_loss=("final_loss", "mean"),
                uniform_loss=("uniform_loss", "first"), n_classes=("n_classes", "first")).reset_index())
flagged["chance"] = 1 / flagged.n_classes
flagged["table"] = flagged.target.map(lambda t: table_of.get(t, "–"))

# %% tags=["hide-input"]
put("near_uniform", near_uniform)
put("n_untrained_runs", len(untrained))
put("n_untrained_cells", len(flagged))
put("n_untrained_main", int((flagged.table == "main").sum()))
put("untrained_cells", "; ".join(f"on {t}, {listing(g.model)}"
                                 for t, g in flagged.groupby("target", sort=False)) or "none")
put("untrained_max_gain", float((flagged.test_acc - flagged.chance).max()) if len(flagged) else float("nan"))
if len(flagged):
    columns = ["model", "target", "table", "runs", "test_acc", "chance", "final_loss", "uniform_loss"]
    display(book.details(book.table(
        flagged[columns].rename(
            columns={"runs": "runs flagged", "test_acc": "test accuracy (flagged runs)",
                     "final_loss": "final loss (flagged runs)", "uniform_loss": "ln(classes)"}),
        formats={"runs flagged": "int"}, index=False),
        f"The {len(flagged)} cells with a run that did not train"))

# %% [markdown]
# Some runs barely trained at all: {glue:text}`n_untrained_runs` runs, in
# {glue:text}`n_untrained_cells` cells ({glue:text}`n_untrained_main` on main-table targets), ended
# with a training loss above {glue:text}`near_uniform:.0%` of $\ln C$, the loss of a uniform guess
# over $C$ classes, or carry benchmark v4's pre-registered not-trained flag (recorded with each v4
# run by `potran.bench.v4.finetune.not_trained`, which adds a training accuracy below twice chance;
# v3's runs carry no flag and keep no training accuracy):
# {glue:text}`untrained_cells`. None of these cells reaches a test accuracy (the mean of its flagged
# runs) more than {glue:text}`untrained_max_gain:.3f` above chance.

# %% [markdown]
# ## Compared with the paper
#
# The paper's ground truth is one number per cell after a hyper-parameter search, with no noise
# estimate; ours is run with {glue:text}`n_seeds` seeds, so its noise can be
# measured and the targets on which a ranking is meaningful can be named. On a target of the
# second table, neighbours in the ground truth's ranking may swap from one set of seeds and test
# images to the next, so a metric's $\tau_w$ there carries that noise; the noise ceiling says how
# high a $\tau_w$ the target allows. And the ranking is that of a fixed
# {glue:text}`recipe_epochs`-epoch schedule, when {glue:text}`n_still` of the
# {glue:text}`n_cells` finished cells were still training (at least
# {glue:text}`min_still_per_target` on every target).
