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
# # potran: the PED paper companion
#
# This book is the reproducible companion of *Exploring Model Transferability through the Lens of
# Potential Energy* (Li et al., ICCV 2023), built with the `potran` Python package. Every page after
# this one is a notebook that was executed when the book was built: the numbers and figures you see
# were computed on the machine that built it ({doc}`notebooks/reproducibility` says which
# machine, which commit, with which package versions, and how long each page took). What the
# companion found comes first, below; {ref}`paper-map` says which page reproduces each table and
# figure of the paper, and how.

# %% [markdown]
# ## What the companion found
#
# Computed by this build from the analyses of the pages linked at the end of each point (the
# functions of `potran.bench.findings`); a claim is called *resolved* only when its test, named
# in the sentence, gives p < 0.05 after Holm's correction for the family of claims it belongs to.

# %% tags=["remove-input"] mystnb={"markdown_format": "myst"}
from IPython.display import Markdown

from potran.bench import findings

Markdown(findings.markdown(findings.index_findings()))

# %% [markdown]
# ## What PED is
#
# Ranking pretrained models by how well they will fine-tune on a target task, without fine-tuning
# them, is the job of *transferability metrics* such as LogME, SFDA or GBC: they score the frozen
# features of the target images. PED (*Potential Energy Decline*) does not add another score. It
# first moves the features the way fine-tuning would start to move them: each class is treated as an
# elastic ball centred on its class mean, overlapping balls push each other apart, and the motion is
# simulated for a few steps while the system's potential energy declines. The moved features are then
# scored by an existing metric, which the paper reports ranks the models better ("+Ours" in its
# tables). The {doc}`method` page gives the exact definitions that `potran` computes, and
# {doc}`notebooks/ped_explained` shows the motion on a toy task.
#
# ## What this companion reproduces, and what it cannot
#
# - **The method, exactly.** `potran` implements PED and the metrics it is combined with, checked
#   against the outputs of the official code on fixed inputs (see the repository's `tests/parity/`).
# - **The paper's published numbers**, as published: read from `data/paper/` (with their sources),
#   and shown beside our results, never recomputed.
# - **The paper's experiment, on an offline benchmark.** The paper ranks 12 self-supervised
#   ResNet-50 checkpoints on downstream datasets: 10 in every published table (the official ground
#   truth file `tw.py` also has an eleventh, SUN397, which no table reports; {doc}`notebooks/paper_numbers`
#   shows what it changes). Those checkpoints and datasets cannot be
#   downloaded on the machines this book is built on, so by default every page runs the same
#   protocol on the offline benchmark of `potran.bench`: pretrained image models whose weights come
#   from pip packages or were pretrained here, image tasks built from images that pip packages ship,
#   and a ground truth obtained by fine-tuning every model on every task
#   (`data/groundtruth/accuracy.csv`). The conclusions drawn on it are about this benchmark, not
#   about the paper's.
# - **The paper's experiment itself, on your machine.** With the paper's checkpoints, datasets and
#   ImageNet validation images on local disk, the pages that score models (PED explained, main
#   table, k grid, normalization, PED beside its successors) run on the paper's own 12 models and 11 datasets through three
#   parameters, `paper_checkpoints`, `paper_data` and `paper_imagenet_val`
#   (`potran.bench.pages`), and rank them against the paper's published accuracies or your own
#   fine-tuning ground truth; the repository's README has one command per page.
#
# (paper-map)=
# ## Where each part of the paper is
#
# | the paper's artefact | page | how it is reproduced |
# |---|---|---|
# | §3, the method (balls, elastic force, potential energy, exit rule) | {doc}`method`, {doc}`notebooks/ped_explained` | the definitions `potran` computes, checked against the official code's outputs; the motion on a toy task |
# | The main table (τ_w of each metric ± PED on the 10 datasets) | {doc}`notebooks/paper_numbers` | re-read from the published numbers, with tests of what they support |
# | The main table, re-run | {doc}`notebooks/main_table` | re-run on the offline benchmark; on the paper's checkpoints with `paper_checkpoints`, `paper_data`, `paper_imagenet_val` (README: `run main_table $P`) |
# | Supplementary Table 1 (grid search over the radius coefficient λ) | {doc}`notebooks/k_grid` | re-run on the offline benchmark (published values shown beside); paper's checkpoints as above |
# | Supplementary Table 2 (the ground truth) | {doc}`notebooks/groundtruth` | re-read from the published numbers; our own fine-tuning ground truth beside it |
# | Supplementary Figure 1 and Figure 3 (§C, PED against fine-tuning) | {doc}`notebooks/finetuning` | re-run on the offline benchmark (it needs fine-tuning snapshots, which only our own ground truth has) |
# | Supplementary Figure 2 (feature normalisation) | {doc}`notebooks/normalization` | re-run on the offline benchmark; paper's checkpoints as above |
# | Complexity of PED (§3) | {doc}`notebooks/runtime` | measured on the machine that built the book |
# | PED's successors, SA and NCTI (not in the paper) | {doc}`notebooks/successors` | re-run on the offline benchmark; paper's checkpoints as above |
#
# How to cite the paper and this companion, and which commit of each official repository the parity
# tests follow: {doc}`cite`.
#
# ## Building the book
#
# ```bash
# make book          # set up .venv, score the benchmark (potran bench), then build the site
# make clean-book    # forget the results and executed notebooks (keeps .venv)
# ```
#
# `make book` first runs `potran bench` (with a progress bar), which scores every metric with and
# without PED into `_build/bench/`, and then `jupyter-book build book --all -W -n --keep-going`,
# which executes each page through a cache (`_build/.jupyter_cache`): a page whose code did not
# change is not executed again. The site is written to `_build/html/`; it needs no network, MathJax
# included.
#
# ## Running the pages on other data (papermill)
#
# Each page is a [jupytext](https://jupytext.readthedocs.io) percent script in `notebooks/` whose
# cell tagged `parameters` lists what can be changed: typically `models` and `targets` (names, or
# `None` for all), the ground-truth table, the device, and result folders. To run the pages with
# other parameters, e.g. on a GPU:
#
# ```bash
# make papermill PARAMS="-p device cuda"
# ```
#
# runs every notebook through `jupytext --to ipynb | papermill` into `book/generated/`; changing
# `PARAMS` runs them again. One page by hand:
#
# ```bash
# jupytext --to ipynb --output - notebooks/main_table.py \
#   | papermill - main_table.ipynb -k python3 -p device cuda -y "targets: [fonts]"
# ```
#
# For the paper's setting add `-p paper_checkpoints DIR -p paper_data DIR -p paper_imagenet_val DIR`
# (all three); results then go to `_build/paper/<page>/`. With other checkpoints and datasets,
# extract their features yourself and score them with
# `potran.score(X, y, "logme", ped=True, general=G)` (or the `potran score` and `potran rank`
# commands); the {doc}`api` page documents every function.
