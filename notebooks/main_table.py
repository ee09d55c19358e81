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
# # Main table: does PED improve the ranking of pretrained models?
#
# The paper's main table reports, for each downstream dataset, the weighted Kendall tau ($\tau_w$)
# between a metric's scores of 12 self-supervised ResNet-50s and their fine-tuning accuracies, for
# LogME, SFDA and GBC with and without PED ("+Ours"), beside NLEEP and PARC. Its checkpoints and
# datasets cannot be downloaded here, so by default this page runs the same protocol on the
# project's **offline benchmark**: the pretrained image models of `potran.bench.zoo` (ImageNet
# mobile networks, an edge detector, and our own small CNNs pretrained with different objectives
# and for different lengths) ranked on the targets of `potran.bench.datasets`, against accuracies
# obtained by fine-tuning every model on every target, repeated over seeds (`data/groundtruth/`).
# Given the paper's checkpoints and datasets on local disk (the `paper_*` parameters), the same
# page scores the paper's own 12 models on its 11 datasets (`potran.bench.pages`) and ranks them
# against the paper's published fine-tuning accuracies, or a ground truth of your own.
#
# A table of $\tau_w$ alone cannot say whether one metric is better than another: with a dozen
# models per target, chance moves $\tau_w$ a lot. So after our table the page asks what the numbers
# can resolve, each with a named test: every metric against chance (a permutation test), the mean
# over targets (an exact sign-flip test), the effect of PED and the difference from a static
# baseline (paired), with Holm's correction over the metrics. The published table comes last,
# beside ours.

# %% tags=["parameters"]
from potran.bench.folders import FEATURE_CACHE
from potran.bench.runner import DEFAULT_METRICS

models = None                                        # model names; None: every model of the setting
targets = None                                       # target names; None: every target of the setting
metrics = list(DEFAULT_METRICS)                      # scored with and without PED
groundtruth = None                                   # accuracy.csv (its folder's cells/ hold the seeds);
                                                     # None: data/groundtruth, or the published one (paper)
paper_checkpoints = None                             # the paper's setting (all three, or none): the 12 .pth,
paper_data = None                                    # the 11 datasets in torchvision's layouts,
paper_imagenet_val = None                            # and ImageNet validation images (PED's general set)
paper_options = {}                                   # more options of potran.bench.paper_setting.benchmark,
                                                     # e.g. {"general_limit": 10000, "num_workers": 8}
out_dir = None                                       # per-cell results (resumable), scores.csv, tau.csv (None: _build/bench,
                                                     # _build/paper/... on the paper's setting)
cache_dir = FEATURE_CACHE                            # feature cache
device = "cpu"                                       # torch device of the feature extraction
seed = 0                                             # seed of the stochastic metrics and of the bootstrap
n_boot = 1000                                        # bootstrap replicates of the intervals
n_null = 2000                                        # draws of the random scorer
level = 0.95                                         # coverage of the intervals

# %% tags=["hide-input"]
from functools import partial

import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import Markdown, display

from potran import paper
from potran.bench import book, plots, report
from potran.bench import paper_analysis as pa
from potran.bench.pages import page_benchmark
from potran.bench.sweeps import name_list
from potran.bench.tau import tau_table

book.setup_page()
page = page_benchmark(models, targets, paper_checkpoints=paper_checkpoints, paper_data=paper_data,
                      paper_imagenet_val=paper_imagenet_val, paper_options=paper_options, seed=seed)
out_dir = page.results(out_dir, "bench")
(out_dir / "figures").mkdir(parents=True, exist_ok=True)


show = partial(book.show, folder=out_dir / "figures")  # save a PNG copy, display, caption under it


def label(metric, perturbation):
    return f"{metric} + PED" if perturbation == "ped" else metric


truth = page.groundtruth(groundtruth)
definition = page.benchmark(metrics=tuple(name_list(metrics, DEFAULT_METRICS)))
scores, tau = page.run(out_dir, groundtruth=truth.accuracy, cache_dir=cache_dir, device=device,
                       metrics=definition.metrics)
failed = scores[scores.error.fillna("") != ""]
print(f"{page.name}: {len(definition.models)} models x {len(definition.targets)} targets, "
      f"{len(scores)} scores ({len(failed)} failed)")

# %% [markdown]
# ## The ground truth this page can use
#
# The ground truth is computed cell by cell (`potran groundtruth`); the page uses every (model,
# target) cell whose fine-tuning has finished, and a target only when at least two of the
# benchmark's models have one.

# %% tags=["hide-input"]
accuracy_all = truth.accuracy  # this benchmark's models and targets
per_target = accuracy_all.groupby("target").model.nunique().reindex(list(definition.targets), fill_value=0)
usable = [t for t in definition.targets if per_target[t] >= 2]
accuracy = accuracy_all[accuracy_all.target.isin(usable)].reset_index(drop=True)
seeds = truth.seeds
if seeds is not None:
    seeds = seeds.merge(accuracy[["model", "target"]], on=["model", "target"])
coverage = ", ".join(f"{t}: {per_target[t]} of {len(definition.models)}" for t in definition.targets)
runs = (f"{seeds.seed.nunique()} seeds per cell" if seeds is not None
        else "one accuracy per cell (no seeds: the intervals below hold the ground truth fixed)")
display(Markdown(
    f"Ground truth: {truth.source}. Fine-tuned cells per target (models with ground truth): "
    f"{coverage}. "
    + (f"Targets used below: {', '.join(usable)}; {accuracy.model.nunique()} models, {runs}." if usable else
       "**No target has two fine-tuned models yet**, so no τ_w can be computed; the tables "
       "below are empty until the ground truth covers these cells.")))

# %% [markdown]
# ## Ours: $\tau_w$ per target, without and with PED
#
# One row per metric without and with PED (column "PED": "yes" when the metric scores the features
# after the PED motion, "no" when it scores them as they are); the last column is the mean over
# targets. The trivial baselines (`random`, `dim`,
# `norm`) show what a ranking gets for free. The numbers are those of `tau.csv` in the result
# folder, rounded to 3 decimals, shaded blue where the metric ranks the models like fine-tuning
# does and red where it ranks them in reverse; "–" marks a $\tau_w$ that cannot be computed (fewer
# than two models with ground truth, or constant scores). The number of models with ground truth
# per target is in the table's caption.

# %% tags=["hide-input"]
order = pd.MultiIndex.from_tuples([(m, p) for m in definition.metrics for p in definition.perturbations],
                                  names=["metric", "perturbation"])
columns = [t for t in definition.targets if t in set(tau.target)] + ["mean"]
wide = tau.pivot(index=["metric", "perturbation"], columns="target", values="weighted_tau").reindex(
    index=order, columns=columns)
n_models = tau[tau.target != "mean"].groupby("target").n_models.max()
book.table(book.ped_column(wide.reset_index()), shade=columns, uuid="tau-table", index=False,
           caption="τ_w per target and its mean over the targets; models with ground truth: "
                   + ", ".join(f"{t} {n_models.get(t, 0)}" for t in columns if t != "mean") + ".")

# %% [markdown]
# ## What these numbers can resolve
#
# Three sources of chance move a mean $\tau_w$: which targets were chosen, which models, and the
# ground truth's own noise (seed-to-seed variation of fine-tuning, and the finite test sets). Each
# question gets its own test from `potran.stats` (through `potran.bench.report.benchmark_tests`,
# the same numbers as `potran report SCORES.csv GT.csv`):
#
# - **against chance**: a permutation test of the mean $\tau_w$, whose null puts the metric's own
#   scores in random order on every target (same targets, model counts and ties);
# - **over targets**: the exact sign-flip test of the per-target $\tau_w$ (or of per-target
#   differences), with a $t$-interval on $T-1$ degrees of freedom; it speaks of other targets like
#   these, and with $T$ targets its smallest two-sided p-value is $2/2^T$ (0.125 for four);
# - **over models and seeds**: a crossed bootstrap, one resample of the models shared by every
#   target (the models are crossed with the targets, so drawing them per target would count the
#   same noise twice) and each cell's seeds redrawn; targets and test images stay fixed;
# - **paired comparisons** (with PED − without, metric − static baseline) on the same targets and
#   replicates, and Holm's correction over the metrics tested together.
#
# The static baseline `static_loto` (`leave_one_target_out`) scores a model on a target by its mean
# fine-tuning accuracy on the *other* targets. It is an oracle-style reference, not a competitor:
# it needs every candidate model fine-tuned on the other targets, the cost these metrics exist to
# avoid, and cannot score a new model; it looks at no image of the target, but targets of one kind
# (letters, fonts and mnist5k are all glyph tasks) reward the same models.
#
# What any metric can reach depends on the ground truth's reliability: per target, the spread of
# the models' accuracies against the seed noise and the test-set noise (reported separately), the
# Spearman–Brown reliability of the $k$-seed mean, and the noise ceiling it implies for $\tau_w$
# (`ceiling_low`: a metric as good as another fine-tuning run; `ceiling_high`: a perfect metric;
# expectations, which single targets may exceed):

# %% tags=["hide-input"]
if usable and seeds is not None:
    reliability = report.reliability(seeds).set_index("target")
    display(book.table(reliability, formats={"n_models": "int", "n_seeds": "int"}))
    sentence = report.reliability_sentence(reliability)  # None without two seeds
    if sentence:
        display(Markdown(sentence))
elif usable:
    print("the ground truth has one run per cell: its own noise cannot be estimated here")
intervals, tests, null = report.resolve(scores, accuracy_all, accuracy, seeds, usable, n_boot=n_boot,
                                        n_null=n_null, level=level, seed=seed)
if not usable:
    print("no target has two fine-tuned models: nothing to resolve yet")
SETTINGS = report.SETTINGS
metric_order = [m for m in (*definition.metrics, "static_loto") if m in set(intervals.metric)]
summary = report.interval_summary(intervals, tests, metric_order)
book.table(summary, formats={c: "p" for c in summary.columns if c.startswith("p ")}, uuid="interval-table",
           caption=f"Mean τ_w over targets with {level:.0%} crossed-bootstrap intervals ({n_boot} "
                   f"replicates); Holm-adjusted p-values: permutation test against chance, exact "
                   f"sign-flip over targets and crossed bootstrap for PED's paired effect.")

# %% [markdown]
# Every test, one row each (`family`: the question; the interval of the chance rows is the random
# scorer's band, of the other rows the interval of the estimate; `p (Holm)`: Holm over the family):

# %% tags=["hide-input"]
every = pd.DataFrame({
    "family": tests.family, "comparison": tests.comparison,
    "estimate [interval]": list(map(book.interval, tests.estimate, tests.low, tests.high)),
    "p": tests.p_value, "p (Holm)": tests.p_holm, "smallest possible p": tests.min_p,
    "test": tests.test, "verdict": tests.verdict})
book.details(book.table(every, formats={"p": "p", "p (Holm)": "p", "smallest possible p": "p"},
                        index=False, uuid="tests-table"),
             f"All {len(every)} tests, one row each")

# %% tags=["hide-input"]
if null is not None:
    main = intervals[intervals.setting != SETTINGS["delta"]]
    deltas = intervals[intervals.setting == SETTINGS["delta"]].assign(setting=SETTINGS["ped"])
    palette = dict(zip((SETTINGS["none"], SETTINGS["ped"]), sns.color_palette(n_colors=2)))
    main = main.assign(setting=["static baseline" if m == "static_loto" else s
                                for m, s in zip(main.metric, main.setting)])
    fig, (ax, bx) = plots.forest_figure(
        main, panels=2, label="metric", group="setting", colours={**palette, "static baseline": "k"},
        order=metric_order, band=(null["low"], null["high"]), band_label=f"random scorer ({level:.0%} band)",
        xlabel="mean τ_w over targets (no unit)")
    ax.set_ylabel("metric")
    ax.set_title("mean τ_w, crossed-bootstrap intervals")
    plots.forest(bx, deltas, label="metric", group="setting", colours=palette, order=metric_order,
                 hollow_if_zero=True, xlabel="with PED − without (paired)")
    bx.set_title("the effect of PED")
    show(fig, "tau_intervals",
         f"Left: mean weighted Kendall tau over the {len(usable)} target(s) of every "
         f"metric without and with PED, and of the static baseline (black, an oracle-style reference), "
         f"with {level:.0%} crossed-bootstrap intervals (one model resample shared by all targets"
         f"{', each cell' + chr(39) + 's seeds redrawn' if seeds is not None else ''}; targets fixed; "
         f"{n_boot} replicates); the grey band holds {level:.0%} of {n_null} random rankings (where "
         f"chance falls, not a test: the p-values against chance are in the table above). Right: the "
         f"paired change of the mean τ_w when PED is added (open circles: the interval contains 0); "
         f"n/a: no τ_w computable (e.g. scores equal for every model).",
         alt=f"Two interval plots sharing one row per metric ({', '.join(metric_order)}). Left: the mean "
             "τ_w without and with PED, and the static baseline, over a grey band of random rankings. "
             "Right: the change PED brings, with open markers where its interval contains 0.")

# %% tags=["hide-input"]
if len(tests):
    display(Markdown(report.resolution_text(intervals, tests, null, accuracy, n_null=n_null, level=level)))

# %% [markdown]
# ## Published: the paper's table (12 SSL ResNet-50s, 10 datasets)
#
# The numbers below are **published, not recomputed**: the main table of the README of the official
# PED code (`lixiaotong97/PED` at commit `e5af6e7`), which repeats the paper's, transcribed in
# `data/paper/main_table.csv` and read with `potran.paper.main_table()`.

# %% tags=["hide-input"]
published = paper.main_table()
pub = published.pivot_table(index=["metric", "perturbation"], columns="target", values="weighted_tau", sort=False)
pub["mean"] = pub.mean(axis=1)
source = "; ".join(published.source.unique())
book.table(book.ped_column(pub.reset_index()), shade=list(pub.columns), index=False,
           uuid="published-table", caption=f"Published τ_w per dataset (source: {source}).")

# %% [markdown]
# ## Side by side

# %% tags=["hide-input"]
ours = intervals.set_index(["metric", "setting"])


def fmt(row):
    return book.interval(row.mean_tau, row.low, row.high)


pub_mean = pub["mean"].unstack("perturbation")
side = []
for metric in pub_mean.index:
    row = {"metric": metric}
    for p in ("none", "ped"):
        key = (metric, SETTINGS[p])
        row[f"published, {SETTINGS[p]}"] = pub_mean.loc[metric].get(p, np.nan)
        row[f"ours, {SETTINGS[p]}"] = fmt(ours.loc[key]) if key in ours.index else "–"
    row["published PED gain"] = pub_mean.loc[metric].get("ped", np.nan) - pub_mean.loc[metric].get("none", np.nan)
    key = (metric, SETTINGS["delta"])
    row["our PED effect"] = fmt(ours.loc[key]) if key in ours.index else "–"
    side.append(row)
side = pd.DataFrame(side).set_index("metric")
book.table(side, formats={c: "+3" for c in side.columns if c.startswith("published")}, uuid="side-by-side",
           caption=f"Mean τ_w: published (12 SSL ResNet-50s, 10 datasets) beside ours (with {level:.0%} "
                   "intervals).")

# %% tags=["hide-input"]
paper_acc = paper.groundtruth("twpy").query("target in @pub.columns")
paper_static = tau_table(report.leave_one_target_out(paper_acc), paper_acc)
paper_static = paper_static.loc[paper_static.target == "mean", "weighted_tau"].iloc[0]
paper_null = report.random_null(paper_acc, n_draws=n_null, level=level, seed=seed)
text = []
for metric in pub_mean.index:
    gain = pub_mean.loc[metric].get("ped", np.nan) - pub_mean.loc[metric].get("none", np.nan)
    if not np.isfinite(gain):
        continue
    part = f"{metric}: published {gain:+.3f}"
    key = (metric, SETTINGS["delta"])
    if key in ours.index and ours.loc[key, "computable"]:
        d = ours.loc[key]
        sure = d.low > 0 or d.high < 0
        part += (f", ours {fmt(d)}: "
                 + ("no change" if d.mean_tau == 0 else
                    "the same direction" if np.sign(d.mean_tau) == np.sign(gain) else "the opposite direction")
                 + (", resolved" if sure else " (our crossed-bootstrap interval contains 0)"))
    elif metric not in definition.metrics:
        part += ", not scored here"
    else:
        part += ", ours not computable yet (no target with ground truth for two models)"
    text.append(part)
best = pub_mean.stack().idxmax()
paper_ped = pa.paper_tests(n_draws=n_null, seed=seed, level=level).query("family == 'PED'")
display(Markdown(
    "**PED's effect on the mean τ_w**, " + "; ".join(text) + ". "
    f"The paper gives no interval for its gains, but its per-dataset τ_w can be tested: with the exact "
    f"sign-flip test over its {paper_acc.target.nunique()} datasets (smallest possible p "
    f"{paper_ped.min_p.iloc[0]:.4f}; details on the paper-numbers page), the published gains are "
    + "; ".join(f"{r.metric} {r.estimate:+.3f} [{r.low:+.3f}, {r.high:+.3f}], p = {r.p_value:.3g} "
                f"(Holm {r.p_holm:.3g}): {r.verdict}" for r in paper_ped.itertuples())
    + f". On the paper's own ground truth (`potran.paper.groundtruth()`, `tw.py`'s accuracies) a "
    f"random ranking's mean τ_w falls in [{paper_null['low']:+.3f}, {paper_null['high']:+.3f}] "
    f"({level:.0%} of {n_null} draws), and the static baseline computed from those accuracies (a "
    f"model's mean accuracy on the other {paper_acc.target.nunique() - 1} datasets: an oracle-style "
    f"reference that needs every model fine-tuned on them) reaches {paper_static:+.3f}, against "
    f"{pub_mean.stack().max():+.3f} for the best published row ({label(best[0], best[1])})."))

# %% tags=["hide-input"]
if page.paper:
    why = ("Both tables rank the paper's 12 ResNet-50s; ours scored them on this machine's copies of "
           "the datasets with the splits of `potran.bench.paper_setting` (each image once, real test "
           "images for CIFAR and SUN397), against " + truth.source + ". Differences from the "
           "published values come from those splits, the preprocessing and the ground truth; the "
           "intervals say which of them matter.")
else:
    why = ("Why the two tables differ: the paper ranks 12 ResNet-50s of one architecture that differ "
           "only in their self-supervised objective, on 10 natural-image datasets fine-tuned with a "
           "hyper-parameter search; ours ranks a zoo mixing architectures, widths and pretraining "
           "lengths on small 32-pixel tasks, with a short fine-tuning protocol repeated over seeds, on "
           "CPUs. The numbers are therefore not comparable cell for cell; what can be compared is the "
           "direction of the PED effect per metric and whether it stands out of the noise, which the "
           "published table cannot tell and the tests above can.")
display(Markdown(why))
