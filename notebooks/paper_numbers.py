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
# # Reading the paper's own numbers
#
# Before running anything, the paper's published numbers can be questioned by themselves. It gives
# the fine-tuning accuracies of its 12 self-supervised ResNet-50s on its downstream datasets (the
# ground truth: the official `tw.py` and, with five cells that differ, Table 2 of the
# supplementary; `data/paper/README.md`) and, for each dataset, the weighted Kendall tau $\tau_w$
# of every metric's ranking against that ground truth (the main table). The metrics' scores are
# not published, so their $\tau_w$ cannot be re-evaluated. What can be computed is
#
# - whether each published mean $\tau_w$ could come from a ranking that guesses: a **permutation
#   test against the random scorer** on the same 12 models and datasets;
# - what the means say about other datasets like these: the **exact sign-flip test** of the
#   per-dataset values (all $2^{10}$ sign patterns, so the smallest two-sided p is $2/1024$) with a
#   $t$-interval on 9 degrees of freedom, for each method and for paired per-dataset differences
#   (PED's gain per metric, a method against the static baseline), with Holm's correction over the
#   rows tested together;
# - what a static ranking achieves: order the models on a dataset by their mean fine-tuning
#   accuracy on the *other* datasets (leave one dataset out). This is an **oracle-style
#   reference, not a competitor**: it needs every candidate model fine-tuned on the other
#   datasets, the very cost transferability metrics exist to avoid, and it cannot score a new
#   model;
# - how much the five disputed ground-truth cells move all of this.
#
# Everything below is computed from `potran.paper` with `potran.stats` (through
# `potran.bench.paper_analysis.paper_tests` and `over_datasets`, the same numbers as
# `potran report --paper`); nothing is typed in.

# %% tags=["parameters"]
models = None     # model ids of the paper (e.g. byol), None for all 12; other names are ignored
targets = None    # dataset ids of the paper (e.g. cars), None for the 10 of the main table
n_draws = 10000   # draws of the random scorer (the permutation test against chance)
seed = 0

# %% tags=["hide-input"]
from functools import partial

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import Markdown, display

from potran import paper
from potran.bench import book, plots, report
from potran.bench import paper_analysis as pa
from potran.resources import project_path

book.setup_page(torch=False)
show = partial(book.show, folder=project_path("_build", "paper_numbers"))  # a PNG copy of each figure
twpy_all = pa.paper_accuracy("twpy")
chosen_models, note_m = pa.pick(models, sorted(twpy_all.model.unique()), "models")
chosen_targets, note_t = pa.pick(targets, sorted(twpy_all.target.unique()), "datasets")
if len(chosen_targets) < 2:
    raise ValueError("the static baseline needs at least two datasets")
accuracy = {v: pa.paper_accuracy(v, datasets=chosen_targets, models=chosen_models)
            for v in ("twpy", "supplementary")}
published = pa.published_taus(chosen_targets)
print(f"{len(chosen_models)} models x {len(chosen_targets)} datasets")
for note in (note_m, note_t):
    if note:
        print("note:", note)

# %% [markdown]
# ## The published $\tau_w$
#
# The main table as published (one row per method, "+Ours" = with PED), with the mean over the
# datasets. These values were computed by the authors against the `tw.py` ground truth with all
# 12 models, so a selection of models above does not change them.

# %% tags=["hide-input"]
label = published.drop_duplicates("method").set_index(["metric", "perturbation"]).method.to_dict()
label[("static_loto", "none")] = "static baseline"
table = published.pivot_table(index="method", columns="target", values="weighted_tau", sort=False)
table["mean"] = table.mean(axis=1)
book.table(table, shade=list(table.columns), caption="Published τ_w per dataset (12 models) and their mean.")

# %% [markdown]
# ## What chance reaches
#
# A scorer that ranks the 12 models at random has a $\tau_w$ distribution that depends only on the
# number of models (the accuracies have no ties), so it is the same on every dataset and with
# either ground-truth version. Averaging over datasets narrows it. The band is where chance falls;
# whether a method differs from chance is the permutation test further below, not whether an
# interval overlaps this band.

# %% tags=["hide-input"]
null = {v: report.random_null(accuracy[v], n_draws=n_draws, seed=seed) for v in accuracy}
one = report.random_null(accuracy["twpy"][accuracy["twpy"].target == chosen_targets[0]],
                         n_draws=n_draws, seed=seed)
book.table(pd.DataFrame(
    {"95 % band of a random ranking": [book.span(v["low"], v["high"])
                                       for v in (one, null["twpy"], null["supplementary"])]},
    index=pd.Index(["τ_w on one dataset", f"mean over {len(chosen_targets)} datasets (tw.py GT)",
                    f"mean over {len(chosen_targets)} datasets (supplementary GT)"], name="statistic")))

# %% [markdown]
# ## The static baseline: mean accuracy on the other datasets
#
# `potran.bench.report.leave_one_target_out` scores a model on a dataset by its mean
# fine-tuning accuracy over the remaining datasets; its $\tau_w$ on each dataset is computed with
# `potran.evaluation.correlate_by_target`. It uses the ground truth of the other datasets and
# no image of the target; the published metrics use the target's images but no accuracy. It is
# an oracle-style reference: a practitioner with a new model has no fine-tuning results for it.
# A fair static prior that a new model does come with would be its published ImageNet
# linear-evaluation accuracy; for the paper's 12 checkpoints those numbers (from the ssl-transfer
# study of Ericsson et al., CVPR 2021, and the models' own papers) **could not be verified
# offline**, so they are not used here.

# %% tags=["hide-input"]
baseline = {v: pa.static_baseline_taus(accuracy[v]) for v in accuracy}
per_dataset = pd.concat([published, baseline["twpy"]]).assign(
    method=lambda d: [label[(m, p)] for m, p in zip(d.metric, d.perturbation)])
wide = per_dataset.pivot_table(index="method", columns="target", values="weighted_tau", sort=False)
wide["mean"] = wide.mean(axis=1)
book.table(wide, shade=list(wide.columns),
           caption="τ_w per dataset of the published methods and of the static baseline (tw.py ground truth).")

# %% [markdown]
# ## Tests over the datasets
#
# With published $\tau_w$ values only, the units are the datasets: the scores are not published,
# so the models cannot be resampled. Each row: the mean over the datasets with a $t$-interval
# (9 degrees of freedom) and the exact sign-flip p of "mean 0"; then the row minus the static
# baseline, paired per dataset (interval, exact sign-flip p, and on how many datasets the row is
# above the baseline); and the permutation test against the random scorer (`p vs chance`, 10 000
# draws, so at best 2/10 001). p-values are Holm-adjusted over the rows of each column.

# %% tags=["hide-input"]
paper_tests = pa.paper_tests(datasets=chosen_targets, models=chosen_models, n_draws=n_draws, seed=seed)
over = pa.over_datasets(per_dataset, reference=("static_loto", "none"))
chance = paper_tests[paper_tests.family == "chance"].set_index(["metric", "perturbation"])
over["p vs chance (Holm)"] = [chance.p_holm.get((m, p), float("nan"))
                              for m, p in zip(over.metric, over.perturbation)]
over["p_delta (Holm)"] = report.stats.holm(over.p_delta.to_numpy(float))
intervals = over.assign(method=[label[(m, p)] for m, p in zip(over.metric, over.perturbation)]).set_index("method")
intervals = intervals.drop(columns=["metric", "perturbation"])
p_columns = ["p (mean 0)", "p (minus baseline)", "p (minus baseline, Holm)", "p vs chance (Holm)"]
shown_iv = pd.DataFrame({
    "mean τ_w [95 % t-interval]": list(map(book.interval, intervals.mean_tau, intervals.low, intervals.high)),
    "p (mean 0)": intervals.p_value,
    "minus baseline [95 % t-interval]": list(map(book.interval, intervals.delta, intervals.delta_low,
                                                 intervals.delta_high)),
    "p (minus baseline)": intervals.p_delta,
    "p (minus baseline, Holm)": intervals["p_delta (Holm)"],
    "datasets above the baseline": intervals.n_positive,
    "p vs chance (Holm)": intervals["p vs chance (Holm)"],
}, index=intervals.index)
book.table(shown_iv, formats={**{c: "p" for c in p_columns}, "datasets above the baseline": "int"})

# %% tags=["hide-input"]
shown = ["LogME", "LogME+Ours", "SFDA", "SFDA+Ours", "GBC", "GBC+Ours", "static baseline"]
points = per_dataset[per_dataset.method.isin(shown)]
palette = dict(zip(shown, sns.color_palette("Paired", 6) + [(0, 0, 0)]))
fig, ax = plt.subplots(figsize=book.figsize(4.6), layout="constrained")
ax.axhspan(one["low"], one["high"], color=plots.BAND_COLOUR, zorder=0, label="random ranking, 95 %")
sns.stripplot(data=points, x="target", y="weighted_tau", hue="method", hue_order=shown,
              order=chosen_targets, palette=palette, dodge=True, jitter=False, size=5, ax=ax)
ax.axhline(0, color="k", lw=0.8)
for x in range(len(chosen_targets) - 1):
    ax.axvline(x + 0.5, color="0.9", lw=0.8)
ax.set_xlabel("downstream dataset")
ax.set_ylabel(f"weighted Kendall τ_w ({len(chosen_models)} models)")
plt.setp(ax.get_xticklabels(), rotation=30, ha="right", rotation_mode="anchor")
handles, names = ax.get_legend_handles_labels()
ax.get_legend().remove()
fig.legend(handles, names, loc="outside lower center", ncol=4, frameon=False)
show(fig, "per_dataset",
     "Weighted Kendall τ_w per dataset of the published metrics without and with PED (\"+Ours\") "
     "and of the static leave-one-dataset-out baseline computed from the `tw.py` ground truth; the "
     "grey band is the 95 % range of a random ranking of the models on one dataset.",
     alt=f"Dot plot: for each of the {len(chosen_targets)} datasets, the published τ_w of LogME, SFDA "
         "and GBC without and with PED and of the static baseline, above a grey band of random rankings.")

# %% tags=["hide-input"]
rows = intervals.loc[shown].reset_index()
fig, ax = plt.subplots(figsize=book.figsize(3.6, 0.8), layout="constrained")
handles, names = plots.forest(ax, rows, label="method", group="method", colours=palette,
                              band=(null["twpy"]["low"], null["twpy"]["high"]),
                              xlabel="mean weighted Kendall τ_w over the datasets")
fig.legend(handles[:1], names[:1], loc="outside lower center", frameon=False)
show(fig, "means",
     f"Mean weighted Kendall τ_w over the {len(chosen_targets)} datasets with 95 % t-intervals over "
     f"the datasets ({len(chosen_targets) - 1} degrees of freedom); the grey band is the 95 % range of "
     "the mean of a random ranking (where chance falls; the tests are in the table above).",
     alt="Interval plot: the mean τ_w of each published method and of the static baseline with its "
         "t-interval, all to the right of the band of random rankings.")

# %% [markdown]
# ## How the static baseline's mean depends on the datasets and the ground truth
#
# The static baseline's mean $\tau_w$ depends on which datasets enter the mean and which ground
# truth is used; `tw.py` also has SUN397, which the main table does not report.

# %% tags=["hide-input"]
sun = pa.paper_accuracy("twpy", datasets=sorted(paper.groundtruth("twpy").target.unique()),
                        models=chosen_models)
with_sun = pa.static_baseline_taus(sun).set_index("target").weighted_tau
check = pd.Series({
    "main table's datasets, tw.py GT": baseline["twpy"].weighted_tau.mean(),
    "main table's datasets, supplementary GT": baseline["supplementary"].weighted_tau.mean(),
    "main table's datasets scored, SUN397 also in the score's mean": with_sun.drop("sun397").mean(),
    "every tw.py dataset incl. SUN397 (11), tw.py GT": with_sun.mean(),
}, name="mean τ_w of the static baseline")
book.table(check.rename_axis("datasets and ground truth"))

# %% tags=["hide-input"]
b = intervals.loc["static baseline"]
methods = [m for m in label.values() if m != "static baseline"]
best = intervals.loc[methods].mean_tau.idxmax()
beaten = [m for m in methods if intervals.loc[m, "p_delta (Holm)"] < 0.05 and intervals.loc[m, "delta"] < 0]
supp_mean = baseline["supplementary"].weighted_tau.mean()
position = ("above every published mean" if b.mean_tau > intervals.loc[best, "mean_tau"]
            else "below the best published mean")
vs_best = intervals.loc[best]
display(Markdown(
    f"On the {len(chosen_targets)} datasets of the main table and the `tw.py` ground truth the static "
    f"baseline reaches a mean $\\tau_w$ of **{b.mean_tau:.3f}** (the other choices of datasets and "
    f"ground truth above give {check.drop(check.index[0]).min():.3f} to {check.drop(check.index[0]).max():.3f}). "
    f"The baseline is {position}: the best "
    f"published method, {best}, reaches {vs_best.mean_tau:.3f} (baseline minus it: "
    f"{-vs_best.delta:+.3f}, 95 % t-interval over datasets [{-vs_best.delta_high:+.3f}, "
    f"{-vs_best.delta_low:+.3f}], exact sign-flip p = {vs_best.p_delta:.3g}: not an ordering the data "
    f"resolve unless p < 0.05). With Holm's correction over the {len(methods)} methods, the exact "
    f"sign-flip test puts the baseline above {', '.join(beaten) or 'no method'}; for the others the "
    f"data cannot order the two. With the supplementary's ground truth the baseline's mean is "
    f"{supp_mean:.3f}; the published values were computed against `tw.py`, so the `tw.py` figure is the "
    f"comparable one. Being an oracle-style reference (it needs every model fine-tuned on the other "
    f"datasets), the baseline says how much of the ranking is shared across these datasets, not what "
    f"a metric should be expected to beat."))

# %% [markdown]
# ## The five disputed cells
#
# The supplementary's Table 2 and `tw.py` disagree in five cells (see `data/paper/README.md`).
# Below: the cells, how far the two ground truths agree per dataset ($\tau_w$ between them), and the
# static baseline's $\tau_w$ with either version. The published metrics' $\tau_w$ cannot be
# recomputed (no scores), and the random null does not depend on the values, so the baseline is
# what can show the effect.

# %% tags=["hide-input"]
cells = pa.groundtruth_discrepancies(accuracy["twpy"], accuracy["supplementary"], ("tw.py", "supplementary"))
book.table(cells, digits=2, index=False, caption="Fine-tuning accuracy (%) of the five cells in the two versions.")

# %% tags=["hide-input"]
effect = pd.DataFrame({
    "GT agreement": pa.groundtruth_agreement(accuracy["twpy"], accuracy["supplementary"]),
    "baseline, tw.py GT": baseline["twpy"].set_index("target").weighted_tau,
    "baseline, supplementary GT": baseline["supplementary"].set_index("target").weighted_tau})
effect.loc["mean"] = effect.mean()
book.table(effect.rename_axis("dataset"), shade=list(effect.columns))

# %% tags=["hide-input"]
long = effect.drop(index="mean")[["baseline, tw.py GT", "baseline, supplementary GT"]].reset_index(
    names="target").melt(id_vars="target", var_name="ground truth", value_name="tau_w")
fig, ax = plt.subplots(figsize=book.figsize(3.8), layout="constrained")
sns.barplot(data=long, x="target", y="tau_w", hue="ground truth", order=chosen_targets, ax=ax)
ax.set_xlabel("downstream dataset")
ax.set_ylabel(f"static baseline's τ_w ({len(chosen_models)} models)")
ax.set_ylim(min(0, long.tau_w.min() - 0.05), 1.2)
plt.setp(ax.get_xticklabels(), rotation=30, ha="right", rotation_mode="anchor")
ax.legend(frameon=False, loc="upper center", ncol=2)
show(fig, "gt_versions",
     "Weighted Kendall τ_w per dataset of the static leave-one-dataset-out baseline with the `tw.py` "
     "ground truth and with the supplementary's Table 2, which differ in five cells.",
     alt="Paired bars per dataset: the static baseline's τ_w with each of the two ground-truth "
         "versions; the bars differ most on " + ", ".join(
             (effect["baseline, tw.py GT"] - effect["baseline, supplementary GT"]).drop("mean").abs()
             .nlargest(3).index) + ".")

# %% [markdown]
# A disputed cell acts twice: on its own dataset (as the accuracy to be ranked) and on every other
# dataset (through the baseline's mean over the other datasets). One cell at a time, starting from
# `tw.py`:

# %% tags=["hide-input"]
def mean_tau(acc):
    return pa.static_baseline_taus(acc).weighted_tau.mean()


swap = pa.discrepancy_effect(accuracy["twpy"], accuracy["supplementary"], mean_tau,
                             ("tw.py", "supplementary"))
book.table(swap.rename(columns={"value": "baseline's mean τ_w", "delta": "change"}), index=False,
           formats={"change": "+3"})

# %% tags=["hide-input"]
top = swap.iloc[1:-1].sort_values("delta").iloc[0]
t_top, m_top = top.changed.split("/")
supp = accuracy["supplementary"][accuracy["supplementary"].target == t_top].set_index("model").test_acc
disagree = effect["GT agreement"].drop("mean")
display(Markdown(
    f"The five cells change the baseline's mean $\\tau_w$ from {swap.value.iloc[0]:.3f} to "
    f"{swap.value.iloc[-1]:.3f}. The largest part is one cell, {top.changed} ({top.delta:+.3f} alone): "
    f"{cells.set_index(['target', 'model']).loc[(t_top, m_top), 'tw.py']:.2f} in `tw.py`, "
    f"{supp[m_top]:.2f} in the supplementary, where the next model on {t_top} has "
    f"{supp.drop(m_top).max():.2f}; the value enters both the ranking to be predicted on {t_top} and "
    f"{m_top}'s score on every other dataset. The two ground truths rank the models identically on "
    f"every dataset except {', '.join(f'{t} (tau_w {v:.3f})' for t, v in disagree.items() if v < 1)}, "
    f"so any metric's $\\tau_w$ on those depends on the version it was scored against."))

# %% [markdown]
# ## The published gain of PED
#
# PED's published gain per metric: the per-dataset differences with and without PED, their mean
# with a $t$-interval (9 degrees of freedom), the exact sign-flip p over the 10 datasets (smallest
# possible: 2/1024) and its Holm adjustment over the three metrics, and on how many datasets the
# gain is positive.

# %% tags=["hide-input"]
gain = paper_tests[paper_tests.family == "PED"].set_index("metric")
wide_pub = published.pivot_table(index=["metric", "perturbation"], columns="target", values="weighted_tau")
gain["datasets positive"] = [int((wide_pub.loc[(m, "ped")] > wide_pub.loc[(m, "none")]).sum())
                             for m in gain.index]
gain = gain.rename(index={m: label[(m, "ped")] for m in gain.index})
shown_gain = pd.DataFrame({
    "PED gain [95 % t-interval]": list(map(book.interval, gain.estimate, gain.low, gain.high)),
    "p (sign-flip)": gain.p_value, "p (Holm)": gain.p_holm,
    "datasets positive": gain["datasets positive"], "verdict": gain.verdict}, index=gain.index)
book.table(shown_gain, formats={"p (sign-flip)": "p", "p (Holm)": "p"})

# %% [markdown]
# ## What this means for the paper's claims
#
# The verdicts below are written by `potran.bench.report.verdict_text` from the test results
# (Holm-adjusted p at 0.05), as on the benchmark pages.

# %% tags=["hide-input"]
single = published.weighted_tau.between(one["low"], one["high"])
display(Markdown("\n\n".join([
    f"On a single dataset a random ranking of {len(chosen_models)} models reaches anywhere in "
    f"[{one['low']:+.2f}, {one['high']:+.2f}] (95 %), and {single.sum()} of the {len(published)} "
    f"published per-dataset values lie in that range: one dataset's $\\tau_w$ says little by itself; "
    f"the mean over {len(chosen_targets)} datasets and the paired per-dataset tests below say more.",
    *report.verdict_text(paper_tests),
    "PED's published gains: " + "; ".join(
        f"{m.replace('+Ours', '')} {r.estimate:+.3f} [{r.low:+.3f}, {r.high:+.3f}], positive on "
        f"{r['datasets positive']} of {len(chosen_targets)} datasets, exact sign-flip p = {r.p_value:.3g} "
        f"(Holm {r.p_holm:.3g}): {r.verdict}" for m, r in gain.iterrows()) + ". "
    "These tests take the published values as given: they cannot see the noise of the paper's "
    "fine-tuning runs (one run per cell) nor resample its models (no scores are published); the "
    "offline benchmark's pages ask the same questions with scores that can be resampled."])))
