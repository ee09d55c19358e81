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
# LogME, SFDA and GBC with and without PED ("+Ours"). Its checkpoints and datasets cannot be
# downloaded here, so by default this page runs the same protocol on the project's **offline
# benchmark**: 10 pretrained image models (ImageNet mobile networks, an edge detector, and our own
# small CNNs pretrained with different objectives) ranked on 6 image tasks, against accuracies
# obtained by fine-tuning every model on every task (`data/groundtruth/`). Point the parameters at
# other models, targets or a ground-truth table to run it elsewhere.

# %% tags=["parameters"]
models = None                 # zoo names; None = every model of potran.zoo
targets = None                # target names; None = every target of potran.datasets
metrics = ["logme", "sfda", "gbc", "nleep", "parc", "hscore", "reg_hscore", "transrate", "random", "dim", "norm"]
groundtruth = "data/groundtruth/accuracy.csv"
out_dir = "_build/bench"      # per-cell results (resumable)
cache_dir = ".cache/features" # feature cache
device = "cpu"
seed = 0

# %%
import matplotlib.pyplot as plt
import pandas as pd
import torch

from potran import bench, datasets, paper, zoo

torch.set_flush_denormal(True)
definition = bench.Benchmark(models=tuple(models or zoo.names()), targets=tuple(targets or datasets.TARGETS),
                             metrics=tuple(metrics), seed=seed)
scores, tau = bench.run(definition, out_dir, groundtruth=groundtruth, cache_dir=cache_dir, device=device,
                        progress=False)
print(f"{len(definition.models)} models x {len(definition.targets)} targets, {len(scores)} scores, "
      f"{int((scores.error.fillna('') != '').sum())} failed")

# %% [markdown]
# ## Ours: $\tau_w$ per target, without and with PED
#
# One row per metric and PED setting; the last column is the mean over targets. The trivial
# baselines (`random`, `dim`, `norm`) show what a ranking gets for free.

# %%
wide = tau.pivot_table(index=["metric", "ped"], columns="target", values="weighted_tau", sort=False)
wide = wide[[t for t in definition.targets] + ["mean"]]
wide.style.format("{:.3f}", na_rep="–").background_gradient(cmap="RdYlGn", vmin=-1, vmax=1)

# %%
mean = tau[tau.target == "mean"].pivot(index="metric", columns="ped", values="weighted_tau")
mean.columns = ["without PED", "with PED"]
ax = mean.loc[list(definition.metrics)].plot.barh(figsize=(7, 4.5))
ax.axvline(0, color="k", lw=0.8)
ax.set_xlabel("mean weighted Kendall tau over targets")
ax.invert_yaxis()
ax.set_title("offline benchmark (computed on this machine)")
plt.tight_layout()

# %% [markdown]
# ## Published: the paper's table (12 SSL ResNet-50s, 10 datasets)
#
# Published numbers, read from `data/paper/main_table.csv` (the official README table; see its
# README for the source). They are shown for comparison, not recomputed.

# %%
published = paper.main_table()
table = published.pivot_table(index="method", columns="dataset", values="tau_w", sort=False)
table["mean"] = table.mean(axis=1)
table.style.format("{:.3f}").background_gradient(cmap="RdYlGn", vmin=-1, vmax=1)

# %% [markdown]
# ## Side by side: the effect of PED
#
# The change of the mean $\tau_w$ when PED is added, published versus ours, for the metrics both
# tables have.

# %%
gain_paper = (published.groupby(["metric", "ped"]).tau_w.mean().unstack())
gain_paper = (gain_paper[True] - gain_paper[False]).dropna()
gain_ours = (mean["with PED"] - mean["without PED"]).reindex(gain_paper.index)
pd.DataFrame({"PED gain, published (SSL ResNet-50s)": gain_paper, "PED gain, ours (offline benchmark)": gain_ours}).round(3)

# %% [markdown]
# Our benchmark is much smaller than the paper's (10 models at 32–48 px on tasks of 100–1000 training
# images, fine-tuned for 2 epochs), so its ground truth is noisier and the taus are not comparable
# number for number; what can be compared is the direction of the PED effect for each metric.
