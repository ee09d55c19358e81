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
# - how large a mean $\tau_w$ a ranking that guesses reaches on these models and datasets (the
#   random null band);
# - how much the published means vary with the choice of datasets (a bootstrap over datasets);
# - what a ranking that knows **nothing** about the target achieves: order the models on a dataset
#   by their mean fine-tuning accuracy on the *other* datasets (leave one dataset out). A
#   transferability metric looks at the target's data, so it should beat this static baseline;
# - how much the five disputed ground-truth cells move all of this.
#
# Everything below is computed from `potran.paper` with `potran.bench.report` and
# `potran.bench.paper_analysis`; nothing is typed in.

# %% tags=["parameters"]
models = None     # model ids of the paper (e.g. byol), None for all 12; other names are ignored
targets = None    # dataset ids of the paper (e.g. cars), None for the 10 of the main table
n_boot = 10000    # bootstrap replicates over datasets (published tau values)
n_boot_models = 1000  # bootstrap replicates over datasets and models (static baseline)
n_draws = 2000    # draws of the random null
seed = 0

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import Markdown, display

from potran import paper
from potran.bench import paper_analysis as pa
from potran.bench import report

sns.set_theme(style="whitegrid", context="notebook")
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
label = published.drop_duplicates("method").set_index(["metric", "ped"]).method.to_dict()
label[("static_loto", False)] = "static baseline"
table = published.pivot_table(index="method", columns="target", values="weighted_tau", sort=False)
table["mean"] = table.mean(axis=1)
table.style.format("{:.3f}").background_gradient(cmap="RdYlGn", vmin=-1, vmax=1)

# %% [markdown]
# ## What chance reaches: the random null band
#
# A scorer that ranks the 12 models at random has a $\tau_w$ distribution that depends only on the
# number of models (the accuracies have no ties), so it is the same on every dataset and with
# either ground-truth version. Averaging over datasets narrows it.

# %% tags=["hide-input"]
null = {v: report.random_null(accuracy[v], n_draws=n_draws, seed=seed) for v in accuracy}
one = report.random_null(accuracy["twpy"][accuracy["twpy"].target == chosen_targets[0]],
                         n_draws=n_draws, seed=seed)
pd.DataFrame({"95 % band, low": [one["low"], null["twpy"]["low"], null["supplementary"]["low"]],
              "high": [one["high"], null["twpy"]["high"], null["supplementary"]["high"]]},
             index=["tau_w on one dataset", f"mean over {len(chosen_targets)} datasets (tw.py GT)",
                    f"mean over {len(chosen_targets)} datasets (supplementary GT)"]).round(3)

# %% [markdown]
# ## The static baseline: mean accuracy on the other datasets
#
# `potran.bench.report.leave_one_target_out` scores a model on a dataset by its mean
# fine-tuning accuracy over the remaining datasets; its $\tau_w$ on each dataset is computed with
# `potran.evaluation.correlate_by_target`. It uses the ground truth of the other datasets and
# no image of the target; the published metrics use the target's images but no accuracy.

# %% tags=["hide-input"]
baseline = {v: pa.static_baseline_taus(accuracy[v]) for v in accuracy}
per_dataset = pd.concat([published, baseline["twpy"]]).assign(
    method=lambda d: [label[(m, p)] for m, p in zip(d.metric, d.ped)])
wide = per_dataset.pivot_table(index="method", columns="target", values="weighted_tau", sort=False)
wide["mean"] = wide.mean(axis=1)
wide.style.format("{:.3f}").background_gradient(cmap="RdYlGn", vmin=-1, vmax=1)

# %% [markdown]
# ## Intervals
#
# With published $\tau_w$ values only, the one thing that can be resampled is the set of datasets
# (10 000 replicates; every method on the same replicates, so differences are paired). For the
# static baseline the models can be resampled too (`potran.bench.report.tau_intervals`,
# models within datasets and datasets, ground truth held fixed): its wider interval is the fair one
# for the baseline alone. The last columns give each method's mean minus the baseline's, with the
# paired interval over datasets.

# %% tags=["hide-input"]
boot = pa.dataset_bootstrap(per_dataset, reference=("static_loto", False), n_boot=n_boot, seed=seed)
loto_scores = report.leave_one_target_out(accuracy["twpy"])
loto_iv = report.tau_intervals(loto_scores, accuracy["twpy"], None, n_boot=n_boot_models, seed=seed)
verdict = report.resolved(boot, null["twpy"]).verdict.to_numpy()
intervals = boot.assign(method=[label[(m, p)] for m, p in zip(boot.metric, boot.ped)], verdict=verdict)
intervals = intervals.set_index("method").drop(columns=["metric", "ped"])
intervals.loc["static baseline, models resampled too", ["mean_tau", "low", "high", "verdict"]] = [
    loto_iv.mean_tau.iloc[0], loto_iv.low.iloc[0], loto_iv.high.iloc[0],
    report.resolved(loto_iv, null["twpy"]).verdict.iloc[0]]
shown_iv = intervals.rename(columns={"delta": "minus baseline", "delta_low": "diff. low",
                                     "delta_high": "diff. high"})
signed = ["mean_tau", "low", "high", "minus baseline", "diff. low", "diff. high"]
shown_iv.style.format("{:+.3f}", subset=signed, na_rep="–").format("{:.3f}", subset=["p_delta"], na_rep="–")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Weighted Kendall tau per dataset of the published metrics (with and without PED) and of the static leave-one-dataset-out baseline computed from the tw.py ground truth; the grey band is the 95 % range of a random ranking of the models.", "name": "fig-paper-numbers-per-dataset"}}
shown = ["LogME", "LogME+Ours", "SFDA", "SFDA+Ours", "GBC", "GBC+Ours", "static baseline"]
points = per_dataset[per_dataset.method.isin(shown)]
fig, ax = plt.subplots(figsize=(10, 4.5))
ax.axhspan(one["low"], one["high"], color="0.8", zorder=0, label="random ranking, 95 %")
palette = dict(zip(shown, sns.color_palette("Paired", 6) + [(0, 0, 0)]))
sns.stripplot(data=points, x="target", y="weighted_tau", hue="method", hue_order=shown,
              order=chosen_targets, palette=palette, dodge=True, jitter=False, size=7, ax=ax)
ax.axhline(0, color="k", lw=0.8)
for x in range(len(chosen_targets) - 1):
    ax.axvline(x + 0.5, color="0.9", lw=0.8)
ax.set_xlabel("downstream dataset")
ax.set_ylabel(f"weighted Kendall tau $\\tau_w$ ({len(chosen_models)} models)")
plt.setp(ax.get_xticklabels(), rotation=30, ha="right", rotation_mode="anchor")
ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False)
plt.tight_layout()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Mean weighted Kendall tau over the datasets with 95 % bootstrap intervals over datasets (for the static baseline also over models and datasets, lighter); the grey band is the 95 % range of the mean of a random ranking.", "name": "fig-paper-numbers-means"}}
order = shown[:-1] + ["static baseline", "static baseline, models resampled too"]
iv = intervals.loc[order]
fig, ax = plt.subplots(figsize=(7, 4))
ax.axvspan(null["twpy"]["low"], null["twpy"]["high"], color="0.8", zorder=0, label="random ranking, 95 %")
for y, (m, r) in enumerate(iv.iterrows()):
    ax.errorbar(r.mean_tau, y, xerr=[[r.mean_tau - r.low], [r.high - r.mean_tau]], fmt="o",
                color=palette.get(m, (0.5, 0.5, 0.5)), capsize=3)
ax.set_yticks(range(len(order)), order)
ax.invert_yaxis()
ax.set_xlabel("mean weighted Kendall tau over datasets")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False)
plt.tight_layout()

# %% [markdown]
# ## Checking "the static baseline reaches about 0.70"
#
# A quick check put the baseline near 0.70 mean $\tau_w$. The number depends on which datasets enter
# the mean and which ground truth is used; `tw.py` also has SUN397, which the main table does not
# report.

# %% tags=["hide-input"]
sun = pa.paper_accuracy("twpy", datasets=sorted(paper.groundtruth("twpy").dataset.unique()),
                        models=chosen_models)
with_sun = pa.static_baseline_taus(sun).set_index("target").weighted_tau
check = pd.Series({
    "main table's datasets, tw.py GT": baseline["twpy"].weighted_tau.mean(),
    "main table's datasets, supplementary GT": baseline["supplementary"].weighted_tau.mean(),
    "main table's datasets scored, SUN397 also in the score's mean": with_sun.drop("sun397").mean(),
    "every tw.py dataset incl. SUN397 (11), tw.py GT": with_sun.mean(),
}, name="mean tau_w of the static baseline").round(3)
check.to_frame()

# %% tags=["hide-input"]
b = intervals.loc["static baseline"]
methods = [m for m in label.values() if m != "static baseline"]
best = intervals.loc[methods].mean_tau.idxmax()
beaten = [m for m in methods if intervals.loc[m, "delta_high"] < 0]
closest = (check - 0.70).abs().idxmin()
supp_mean = baseline["supplementary"].weighted_tau.mean()
position = ("above every published mean" if b.mean_tau > intervals.loc[best, "mean_tau"]
            else "below the best published mean")
display(Markdown(
    f"On the {len(chosen_targets)} datasets of the main table and the `tw.py` ground truth the static "
    f"baseline reaches a mean $\\tau_w$ of **{b.mean_tau:.3f}**; of the variants above, the one "
    f"closest to 0.70 is \"{closest}\" ({check[closest]:.3f}). The baseline is {position}: the best "
    f"published method, {best}, reaches {intervals.loc[best, 'mean_tau']:.3f} (baseline minus it: "
    f"{-intervals.loc[best, 'delta']:+.3f}, paired 95 % interval over datasets "
    f"[{-intervals.loc[best, 'delta_high']:+.3f}, {-intervals.loc[best, 'delta_low']:+.3f}]). "
    f"The baseline is resolved above {', '.join(beaten) or 'no method'} (the paired interval of the "
    f"difference excludes 0). Resampling the models as well gives the baseline the interval "
    f"[{loto_iv.low.iloc[0]:.3f}, {loto_iv.high.iloc[0]:.3f}]; a random ranking reaches "
    f"[{null['twpy']['low']:+.3f}, {null['twpy']['high']:+.3f}]. With the supplementary's ground "
    f"truth the baseline's mean is {supp_mean:.3f} "
    f"({'above' if supp_mean > intervals.loc[best, 'mean_tau'] else 'below'} {best}); the published "
    f"values were computed against `tw.py`, so the `tw.py` figure is the comparable one."))

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
cells

# %% tags=["hide-input"]
effect = pd.DataFrame({
    "GT agreement": pa.groundtruth_agreement(accuracy["twpy"], accuracy["supplementary"]),
    "baseline, tw.py GT": baseline["twpy"].set_index("target").weighted_tau,
    "baseline, supplementary GT": baseline["supplementary"].set_index("target").weighted_tau})
effect.loc["mean"] = effect.mean()
effect.round(3)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Weighted Kendall tau per dataset of the static leave-one-dataset-out baseline with the tw.py ground truth and with the supplementary's Table 2, which differ in five cells.", "name": "fig-paper-numbers-gt-versions"}}
long = effect.drop(index="mean")[["baseline, tw.py GT", "baseline, supplementary GT"]].reset_index(
    names="target").melt(id_vars="target", var_name="ground truth", value_name="tau_w")
fig, ax = plt.subplots(figsize=(9, 3.8))
sns.barplot(data=long, x="target", y="tau_w", hue="ground truth", order=chosen_targets, ax=ax)
ax.set_xlabel("downstream dataset")
ax.set_ylabel(f"static baseline's $\\tau_w$ ({len(chosen_models)} models)")
ax.set_ylim(min(0, long.tau_w.min() - 0.05), 1.2)
ax.legend(frameon=False, loc="upper center", ncol=2)
plt.tight_layout()

# %% [markdown]
# A disputed cell acts twice: on its own dataset (as the accuracy to be ranked) and on every other
# dataset (through the baseline's mean over the other datasets). One cell at a time, starting from
# `tw.py`:

# %% tags=["hide-input"]
def mean_tau(acc):
    return pa.static_baseline_taus(acc).weighted_tau.mean()


swap = pa.discrepancy_effect(accuracy["twpy"], accuracy["supplementary"], mean_tau,
                             ("tw.py", "supplementary"))
swap.round(3)

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
# PED's published gain per metric, mean over datasets, with the paired interval from resampling
# datasets; it can be set beside the gap between the best methods and the baseline above.

# %% tags=["hide-input"]
gain = pd.concat([pa.dataset_bootstrap(published[published.metric == m], reference=(m, False),
                                       n_boot=n_boot, seed=seed).query("ped")
                  for m in ["logme", "sfda", "gbc"]])
gain = gain.assign(method=[label[(m, True)] for m in gain.metric]).set_index("method")
gain = gain[["delta", "delta_low", "delta_high", "p_delta"]].rename(columns={"delta": "PED gain"})
gain.round(3)

# %% [markdown]
# ## What this means for the paper's claims

# %% tags=["hide-input"]
resolved_gain = [m for m, r in gain.iterrows() if r.delta_low > 0]
above = [m for m in methods if intervals.loc[m, "delta_low"] > 0]
single = published.weighted_tau.between(one["low"], one["high"])
display(Markdown(
    f"On the paper's own numbers, ranking the models by how well they fine-tune on the other datasets "
    f"reaches a mean $\\tau_w$ of {b.mean_tau:.3f}, {position} ({best}: "
    f"{intervals.loc[best, 'mean_tau']:.3f}); the paired interval over datasets places it above "
    f"{', '.join(beaten) or 'none of them'}. On a single dataset a random ranking of "
    f"{len(chosen_models)} models reaches anywhere in [{one['low']:+.2f}, {one['high']:+.2f}] (95 %), and "
    f"{single.sum()} of the {len(published)} published per-dataset values lie in that range: one "
    f"dataset's tau_w says little by itself. PED's published gains, mean over datasets with the paired "
    f"interval, are "
    + ", ".join(f"{m.replace('+Ours', '')} {r['PED gain']:+.3f} [{r.delta_low:+.3f}, {r.delta_high:+.3f}]"
                for m, r in gain.iterrows())
    + "; resolved (interval above 0) for "
    + (", ".join(m.replace("+Ours", "") for m in resolved_gain) or "none") + ". "
    "A metric's value for model selection is what it adds beyond the static baseline; with the "
    "published numbers alone, "
    + (f"{', '.join(above)} beat(s) it" if above else "no published method is shown to beat it")
    + f" on these {len(chosen_models)} models and {len(chosen_targets)} datasets. The offline "
    f"benchmark's pages ask the same question with scores that can be resampled."))
