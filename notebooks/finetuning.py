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
# **This page runs on the 4-target benchmark** (setting `bench4`), not on benchmark v3 like the
# other pages: it needs the features of fine-tuning *snapshots*, and only the 4-target benchmark's
# ground truth (`data/groundtruth/`) kept them: for each (model, target) cell, the penultimate
# features of 400 fixed training images at 0, 25, 50 and 100 % of the first seed's run, and the
# time every cell took. Benchmark v3's grid kept no snapshots; benchmark v4's grid records them,
# and the page moves there once they are committed. Everything below is about these 4 targets.

# %% tags=["parameters", "hide-input"]
setting = "bench4"            # a setting whose ground truth kept snapshots (today only "bench4")
models = None                 # zoo names (None: every model with a ground-truth cell)
targets = None                # target names (None: every target with a ground-truth cell)
example = "conv4_supervised,fonts"   # the t-SNE example, model and target (else the first cell)
metrics = None                # scores of the snapshot features (None: potran.metrics.PED_METRICS)
shown_time_step = 1.0         # a larger PED time step for the picture, beside the paper's 0.1
perplexity = 30               # t-SNE
min_models = 3                # targets with fewer models are not ranked
throughput_images = 256       # images per model for timing the feature extraction
groundtruth = None            # accuracy.csv beside cells/ and snapshots/ (None: the setting's)
cache_dir = None              # feature cache (None: the benchmark's, .cache/features)
out_dir = None                # PNG copies of the figures, tables (None: _build/finetuning)
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

import potran
from potran import stats
from potran.bench import book, report, settings
from potran.bench.finetune import training_indices
from potran.bench.folders import FEATURE_CACHE
from potran.bench.runner import cell_features
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
from potran.metrics import PED_METRICS
from potran.ped import TIME_STEP
from potran.perturbations import NONE, PED

book.setup_page()
metrics, cache_dir = settings.name_list(metrics, PED_METRICS), cache_dir or FEATURE_CACHE
page = settings.get(setting, models, targets, seed=seed)
out_dir = page.results(out_dir, "finetuning")
show = partial(book.show, folder=out_dir)  # save a PNG copy, display, caption under it

# %% [markdown]
# The grid: every cell of the ground truth with an accuracy and a snapshot file.

# %%
truth = page.groundtruth(groundtruth)   # accuracy.csv, and the seeds of its cells
root = Path(groundtruth).parent if groundtruth else page.groundtruth_dir
cells = available_cells(root, page.models, page.targets, accuracy=truth.accuracy)
if not cells:
    raise ValueError(f"no finished cell with snapshots in {root} for models={models}, targets={targets}")
snapshots = {cell: load_snapshot(root, *cell) for cell in cells}
bench = page.benchmark(models=tuple(sorted({m for m, _ in cells})),
                       targets=tuple(sorted({t for _, t in cells})))
glue("n_cells", len(cells), display=False)
glue("n_models", len(bench.models), display=False)
glue("n_targets", len(bench.targets), display=False)
per_target = pd.Series([t for _, t in cells]).value_counts().sort_index()
book.table(per_target.rename_axis("target").to_frame("models"))

# %% [markdown]
# {glue:text}`n_cells` cells: {glue:text}`n_models` models on {glue:text}`n_targets` targets.
#
# ## The features along fine-tuning, and the features PED moved
#
# One cell of the grid, its 400 probe images at four points of fine-tuning, embedded with t-SNE
# (each snapshot on its own: t-SNE coordinates are not comparable between panels, only the grouping
# is). Beside them, the *pretrained* features (the 0 % snapshot) after PED. PED needs the model's
# features of the general set, which the snapshot file does not keep, so the pretrained features of
# the same 400 images are taken from the benchmark's feature cache
# (`potran.bench.runner.cell_features`) and reduced exactly as the snapshots were (their own leading
# 128 principal components), with the general set projected on the same components
# (`potran.bench.snapshots.probe_features`).
#
# With the paper's time step $t = 0.1$ a PED step moves a class by 0.5 % of its overlap, too little
# to see in a picture, so a last panel uses a larger step. The silhouette coefficient in each title
# (computed on the features, not on the t-SNE map) measures how separated the classes are: 1 for
# tight, distant classes, 0 for overlapping ones.

# %% tags=["hide-input"]
def example_panels(cell):
    """The cell's snapshots, its rebuilt 0 % snapshot, and that one moved by PED with the paper's
    time step and with ``shown_time_step``: (snapshot, classes, rebuilt, [(title, features)])."""
    snap, task = snapshots[cell], bench.sources.load_target(cell[1])
    arrays = cell_features(bench, cell[0], task, cache_dir=cache_dir, device=device)
    rebuilt, general = probe_features(arrays, snap, training_indices(len(task.y_train), bench.finetune))
    panels = [(f"{f:.0%} of fine-tuning\n(iteration {s})", F)
              for s, f, F in zip(snap.steps, snap.fractions, snap.features)]
    for t in (TIME_STEP, shown_time_step):
        run = potran.simulate(rebuilt, snap.labels, general, time_step=t, device=device)
        steps = f"{run.trace.steps} step{'' if run.trace.steps == 1 else 's'}"
        panels.append((f"pretrained + PED, t = {t}\n({steps})", run.features))
    return snap, tuple(task.classes), rebuilt, panels


# %%
wanted = tuple(settings.name_list(example, ()))
cell = wanted if wanted in snapshots else cells[0]   # the example, else the grid's first cell
snap, classes, rebuilt, panels = example_panels(cell)
embedded = [TSNE(perplexity=perplexity, init="pca", random_state=seed).fit_transform(F)
            for _, F in panels]
silhouette = [float(silhouette_score(F, snap.labels)) for _, F in panels]
for key, value in {"ex_model": cell[0], "ex_target": cell[1], "ex_images": len(snap.labels),
                   "ex_dims": rebuilt.shape[1], "ex_sil_start": silhouette[0],
                   "ex_sil_end": silhouette[len(snap.steps) - 1], "ex_sil_ped": silhouette[-2],
                   "ex_sil_ped_shown": silhouette[-1], "ex_shown_t": shown_time_step,
                   "ex_rebuild_error": float(np.abs(rebuilt - snap.features[0]).max()),
                   "ex_feature_scale": float(np.abs(snap.features[0]).max())}.items():
    glue(key, value, display=False)

# %% tags=["hide-input"]
# page helper: the figure of one embedding per panel, coloured by class
def embedding_panels(panels, embedded, labels, classes):
    """One scatter per ``(title, features)`` of ``panels`` (rows of three) at its 2-D embedding
    (``embedded``), coloured by class, titled with the silhouette coefficient of the features
    themselves; one legend of the classes under them."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    classes = [str(c) for c in classes]
    colours = sns.color_palette("husl", len(classes))
    n_cols = min(3, len(panels))              # rows of three: legible at the page's width
    n_rows = -(-len(panels) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=book.figsize(3.3 * n_rows + 0.5), squeeze=False,
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
    ncol = max(1, min(len(classes), 80 // (max(len(c) for c in classes) + 4)))
    fig.legend(handles, names, loc="outside lower center", ncol=ncol, markerscale=2.5, frameon=False,
               title="class")
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
# picture of the mechanism, not a finding. The 0 % features rebuilt from the feature cache differ
# from the stored snapshot by at most {glue:text}`ex_rebuild_error:.1e` (feature scale
# {glue:text}`ex_feature_scale:.1f`; the snapshots are stored in float16).
#
# ## Ranking the models by their features along fine-tuning
#
# For every target, each metric scores every model's snapshot features, and the weighted Kendall
# $\tau_w$ between those scores and the models' fine-tuning accuracies (`accuracy.csv`, the mean
# test accuracy over three seeds) says how well the features at that point of fine-tuning rank the
# models. The 0 % snapshot is the pretrained model; at that point the same metrics are also
# computed with PED (on the rebuilt 0 % features with the general set, as above). All scores use the
# same 400 probe images per cell, so the columns differ only in the features.

# %%
plain = snapshot_scores(snapshots.values(), metrics, device=device).assign(perturbation=NONE)
moved, times = score_pretrained(bench, snapshots, metrics, cache_dir=cache_dir, device=device)
scores = pd.concat([plain, moved.drop(columns="rebuild_error")], ignore_index=True)
tau = snapshot_tau(scores, truth.accuracy, by=("perturbation", "fraction"), min_models=min_models)
if tau.empty:
    raise ValueError(f"no target has {min_models} or more models with finished cells: nothing to rank")
scores.to_csv(out_dir / "snapshot_scores.csv", index=False)
tau.to_csv(out_dir / "snapshot_tau.csv", index=False)
glue("rebuild_error", float(moved.rebuild_error.max()), display=False)
column = [f"{f:.0%}" + (" + PED" if p == PED else "") for f, p in zip(tau.fraction, tau.perturbation)]
wide = tau.assign(column=column).pivot_table(index=["metric", "target"], columns="column",
                                             values="weighted_tau", sort=False)
wide = wide[sorted(wide.columns, key=lambda c: (float(c.split("%")[0]), "PED" in c))]
book.table(wide, csv="finetuning_tau", shade=list(wide.columns),
           caption="τ_w of each metric on each target at each point of fine-tuning.")

# %% tags=["hide-input"]
def tau_figure(tau):
    """One panel per metric: τ_w per target along fine-tuning (lines), PED at 0 % (stars)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    along, at0 = tau[tau.perturbation == NONE], tau[tau.perturbation == PED]
    names = list(dict.fromkeys(along.target))
    colours = dict(zip(names, sns.color_palette("tab10", len(names))))
    fig, axes = plt.subplots(1, len(metrics), figsize=book.figsize(3.9), sharey=True, squeeze=False,
                             layout="constrained")
    for ax, metric in zip(axes[0], metrics):
        for target in names:
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
    axes[0, 0].set(ylabel="τ_w vs fine-tuning accuracy", ylim=(-1.05, 1.05))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, frameon=False)
    return fig


caption = (
    "How well the features at each point of fine-tuning rank the models: weighted Kendall τ_w "
    "between a metric's scores of the snapshot features (400 probe images per cell) and the "
    f"models' fine-tuning accuracy, per target (lines; targets with at least {min_models} "
    "finished models), at 0 % (the pretrained model), 25, 50 and 100 % of the first seed's run; "
    "stars: the pretrained features moved by PED (paper's values) before scoring. τ_w = 1 is the "
    "ground-truth order, 0 no agreement.")
alt = (f"{len(metrics)} line plots, one per metric: τ_w per target at 0, 25, 50 and 100 % of "
       "fine-tuning, with a star at 0 % for the pretrained features moved by PED.")
show(tau_figure(tau), "tau_along_finetuning", caption, alt=alt)

# %% [markdown]
# The rebuilt 0 % snapshots of all {glue:text}`n_cells` cells differ from the stored ones by at
# most {glue:text}`rebuild_error:.1e` of the feature scale (float16 storage alone gives up to
# 5e-4), so the PED column scores the same features as the 0 % column, moved.
#
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
tests = report.benchmark_tests(labelled[["model", "target", "metric", "perturbation", "score"]],
                               truth.accuracy, truth.seeds, baseline=None, pairs=pairs,
                               n_boot=n_boot, seed=seed)

# %%
boot = tests[tests.family == "pair, models"].set_index("metric")[["estimate", "low", "high", "p_value"]]
flip = tests[tests.family == "pair"].set_index("metric")[["p_value", "min_p", "n"]]
claim = pd.DataFrame([{"metric": m, "part": part, "comparison": f"{a:.0%} - {b:.0%}", "key": at(m, a)}
                      for part, (a, b) in parts.items() for m in metrics])
claim = claim.join(boot.rename(columns={"p_value": "p_boot"}), on="key").join(
    flip.rename(columns={"p_value": "p_targets", "min_p": "min_p_targets", "n": "n_targets"}), on="key")
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
# each change for these targets; whether the shape holds on other targets the 4-target data cannot
# say.
#
# How far apart the accuracies being ranked are matters as much as the scores: the closer the
# models' mean accuracies are relative to the noise of those means (seed noise / √seeds, and the
# test set's binomial noise), the lower the $\tau_w$ any ranking can expect (the noise ceiling on
# the {doc}`groundtruth` page), and the more $\tau_w$ moves with that noise between snapshots.

# %%
acc = truth.accuracy.set_index(["model", "target"]).loc[cells, ["test_acc", "test_acc_sd"]]
book.table(acc.reset_index().groupby("target").agg(
    models=("model", "size"), **{"lowest accuracy": ("test_acc", "min"),
                                 "highest accuracy": ("test_acc", "max"),
                                 "median seed s.d.": ("test_acc_sd", "median")}))

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

# %%
per_image = {}   # seconds per image of each model's forward pass, timed on its first target
for model in bench.models:
    images = np.asarray(bench.sources.load_target(next(t for m, t in cells if m == model)).x_train)
    per_image[model] = extraction_seconds(bench.sources.get_model(model), images[:throughput_images],
                                          device=device)
sizes = times.drop_duplicates(["model", "target"])[["model", "target", "n_images", "n_general"]]
costs = cell_costs(root, cells).merge(sizes, on=["model", "target"])
costs["extraction_s"] = [per_image[m] * n for m, n in zip(costs.model, costs.n_images)]
what = [m + (" + PED" if p == PED else "") for m, p in zip(times.metric, times.perturbation)]
metric_s = times.assign(what=what).pivot_table(index=["model", "target"], columns="what", values="seconds")
costs = costs.merge(metric_s.reset_index(), on=["model", "target"])
general_s = pd.Series({m: per_image[m] * costs[costs.model == m].n_general.iloc[0] for m in bench.models})
totals = cost_totals(costs, general_s, metrics[0])
costs.to_csv(out_dir / "costs.csv", index=False)

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
# page helper: the figure of the cells' costs, per cell and summed
def cell_costs_figure(costs, general_s, metric, totals):
    """Top, per cell on a log scale: fine-tuning, the two forward passes (``general_s``: each model's
    over the general set) and ``metric`` without and with PED; bottom, the sums over the grid
    (``totals``)."""
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
    fig, axes = plt.subplots(2, 1, figsize=book.figsize(7.4), layout="constrained",
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


# %% tags=["hide-input"]
caption = (
    f"Wall-clock cost of the {len(costs)} finished cells. Top, per cell and on a log scale: "
    f"fine-tuning as recorded by the grid ({int(costs.n_runs.iloc[0])} seeds × "
    f"{int(costs.iterations.iloc[0])} iterations, evaluations and snapshots); the forward pass over "
    "the cell's training images at the per-image speed measured now; the cell's share of its "
    f"model's forward pass over the general set (needed by PED only); {metrics[0]} without and with "
    "PED on the cell's scored features (fastest of a few runs). Bottom: the sums over the grid, "
    "scoring = extraction + metric (+ general set with PED).")
alt = (f"Top: a strip plot on a log axis of the seconds per cell for fine-tuning, the two forward "
       f"passes and {metrics[0]} without and with PED. Bottom: three horizontal bars on a log axis, "
       "the total seconds of fine-tuning and of scoring without and with PED.")
show(cell_costs_figure(costs, general_s, metrics[0], totals), "cost", caption, alt=alt)

# %% [markdown]
# ## What this run shows

# %%
fine, plain_s, ped_s = (totals[k] for k in ("fine-tuning (recorded)", "scoring without PED",
                                            "scoring with PED"))
for key, value in {"cost_metric": metrics[0], "cost_finetune_min": fine / 60,
                   "cost_plain_s": plain_s, "cost_ped_s": ped_s, "cost_ratio_plain": fine / plain_s,
                   "cost_ratio_ped": fine / ped_s, "cost_extraction_s": costs.extraction_s.sum(),
                   "cost_general_s": general_s.sum(), "cost_metric_s": costs[metrics[0]].sum(),
                   "cost_metric_ped_s": costs[f"{metrics[0]} + PED"].sum()}.items():
    glue(key, value if isinstance(value, str) else float(value), display=False)  # plain text for {glue}

# %% [markdown]
# - **Cost.** Fine-tuning the {glue:text}`n_cells` cells took {glue:text}`cost_finetune_min:.1f`
#   min as recorded; scoring them with {glue:text}`cost_metric` took
#   {glue:text}`cost_plain_s:.1f` s without PED and {glue:text}`cost_ped_s:.1f` s with PED,
#   {glue:text}`cost_ratio_plain:,.0f`× and {glue:text}`cost_ratio_ped:,.0f`× less (one learning
#   rate per model; a grid search multiplies the fine-tuning side). Of the scoring time, the forward
#   passes take {glue:text}`cost_extraction_s:.1f` s (training images) and
#   {glue:text}`cost_general_s:.1f` s (general sets), the metric itself
#   {glue:text}`cost_metric_s:.2f` s, and {glue:text}`cost_metric_ped_s:.2f` s with PED. These are
#   single wall-clock measurements on a small CPU shared with other jobs: they vary several fold
#   between builds, and the fine-tuning times were recorded under similar load, so the orders of
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
