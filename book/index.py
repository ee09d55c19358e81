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
# The reproducible companion of *Exploring Model Transferability through the Lens of Potential
# Energy* (Li et al., ICCV 2023), built with the `potran` Python package. Every number below is
# pasted from the page that computes it, when the book is built; {ref}`paper-map` says which
# page reproduces each table and figure of the paper.
#
# ## What the companion found
#
# - **Does PED help, on the paper's own numbers?** It raises LogME's mean $\tau_w$ over the
#   {glue:text}`notebooks/paper_numbers.py::n_datasets:d` datasets by {glue:text}`notebooks/paper_numbers.py::logme_gain_estimate:+.3f`
#   [{glue:text}`notebooks/paper_numbers.py::logme_gain_low:+.3f`, {glue:text}`notebooks/paper_numbers.py::logme_gain_high:+.3f`] (Holm p
#   {glue:text}`notebooks/paper_numbers.py::logme_gain_p_holm:.4f`) and GBC's by {glue:text}`notebooks/paper_numbers.py::gbc_gain_estimate:+.3f` (Holm p
#   {glue:text}`notebooks/paper_numbers.py::gbc_gain_p_holm:.4f`); SFDA's {glue:text}`notebooks/paper_numbers.py::sfda_gain_estimate:+.3f` is not resolved
#   (Holm p {glue:text}`notebooks/paper_numbers.py::sfda_gain_p_holm:.3f`). Exact sign-flip over the datasets, Holm over the 3
#   metrics; optimistic, because PED's λ was tuned on the same datasets. ({doc}`the paper's numbers <notebooks/paper_numbers>`)
# - **Does PED help on benchmark v4, built like the paper's?** Twelve self-supervised objectives on
#   one small ResNet, fine-tuned after a learning-rate search, analysis registered before scoring: the registered
#   test (exact sign-flip over source families, Holm within the registered families) could test
#   {glue:text}`notebooks/benchmark_v4.py::n_tested:d` of its
#   {glue:text}`notebooks/benchmark_v4.py::n_hypotheses:d` hypotheses and rejects
#   {glue:text}`notebooks/benchmark_v4.py::n_resolved:d`: its inclusion rule admits only targets
#   that rank the models reliably (below). On every target, whatever its reliability (amendment;
#   never deciding), PED lowers the weighted $\tau$ of
#   {glue:text}`notebooks/benchmark_v4.py::every_lowered:s`, raises it for
#   {glue:text}`notebooks/benchmark_v4.py::every_raised:s` and leaves
#   {glue:text}`notebooks/benchmark_v4.py::every_unresolved:s` unresolved; its effect lies below
#   the paper's published gain for {glue:text}`notebooks/benchmark_v4.py::every_below_gain:s`.
#   ({doc}`benchmark v4 <notebooks/benchmark_v4>`)
# - **Does PED help on the offline benchmark v3 (24 targets, 16 models)?** On the fine-tuning
#   ground truth, which decides, it cannot be told: {glue:text}`notebooks/benchmark_v3.py::ft_families:d` source families passed
#   the reliability rule, and the family test cannot go below p = {glue:text}`notebooks/benchmark_v3.py::ft_min_p:.4f`. On the
#   linear probe PED lowers the mean $\tau_w$ of {glue:text}`notebooks/benchmark_v3.py::lp_lower:d` of {glue:text}`notebooks/benchmark_v3.py::lp_metrics:d`
#   metrics, none resolved (Holm over all of them: smallest p {glue:text}`notebooks/benchmark_v3.py::lp_holm_all_min:.3f`).
#   ({doc}`benchmark v3 <notebooks/benchmark_v3>`)
# - **Could v3 have detected the paper's gain?** Hardly: with LogME's own spread between families
#   (sd {glue:text}`notebooks/benchmark_v3.py::logme_sd:.2f`) the power for the paper's LogME gain is
#   {glue:text}`notebooks/benchmark_v3.py::logme_power8:.2f` with all 8 families and {glue:text}`notebooks/benchmark_v3.py::logme_power5:.2f` with the
#   {glue:text}`notebooks/benchmark_v3.py::ft_families:d` that passed. ({doc}`benchmark v3 <notebooks/benchmark_v3>`)
# - **Which metric, on the paper's numbers?** The best published row, {glue:text}`notebooks/paper_numbers.py::best_method:s`,
#   reaches a mean $\tau_w$ of {glue:text}`notebooks/paper_numbers.py::best_method_tau:.3f`; ranking the models by their mean
#   accuracy on the other datasets, an oracle-style reference, reaches {glue:text}`notebooks/paper_numbers.py::static_tau:.3f`
#   [{glue:text}`notebooks/paper_numbers.py::static_low:.3f`, {glue:text}`notebooks/paper_numbers.py::static_high:.3f`]. ({doc}`the paper's numbers <notebooks/paper_numbers>`)
# - **Which metric, on v3?** The best metric, {glue:text}`notebooks/benchmark_v3.py::best_metric:s`, reaches
#   {glue:text}`notebooks/benchmark_v3.py::best_metric_tau:+.3f` over families against fine-tuning; the feature dimension alone
#   reaches {glue:text}`notebooks/benchmark_v3.py::dim_tau:+.3f` and the one-bit "is it an ImageNet network" baseline
#   {glue:text}`notebooks/benchmark_v3.py::bit_tau:+.3f`. With {glue:text}`notebooks/benchmark_v3.py::ft_families:d` families no difference between them can be resolved. ({doc}`benchmark v3 <notebooks/benchmark_v3>`)
#
# ### What limits these answers
#
# - **The fine-tuning ground truth is short of convergence.** On v3's main-table targets the median
#   training loss of the last epoch is {glue:text}`notebooks/benchmark_v3.py::ft_final_loss:.2f`; HED's VGG16 barely trained on
#   emoji_id ({glue:text}`notebooks/benchmark_v3.py::hed_emoji_acc:.1%` accuracy). The models are ranked after a fixed 8-epoch
#   schedule. ({doc}`benchmark v3 <notebooks/benchmark_v3>`)
# - **The sources are fewer than they look.** Of v3's 8 families, 4 are glyphs drawn by one
#   rendering procedure (3 from Noto fonts); only {glue:text}`notebooks/benchmark_v3.py::ft_targets:d` of 24 targets pass the
#   reliability rule on fine-tuning. ({doc}`benchmark v3 <notebooks/benchmark_v3>`)
# - **LogME's gain on v3's fine-tuning is one target.** Its
#   {glue:text}`notebooks/benchmark_v3.py::logme_ft_effect:+.3f` over families comes from {glue:text}`notebooks/benchmark_v3.py::logme_top_target:s` alone,
#   where {glue:text}`notebooks/benchmark_v3.py::logme_top_untrained:d` of the 16 models barely trained;
#   PED lowers LogME's $\tau_w$ on {glue:text}`notebooks/benchmark_v3.py::logme_negative:d` of {glue:text}`notebooks/benchmark_v3.py::logme_targets:d` targets
#   and within both model families. ({doc}`benchmark v3 <notebooks/benchmark_v3>`)
# - **v4's models are hard to tell apart.** Benchmark v4:
#   twelve self-supervised objectives on one small ResNet. Its fine-tuned models end so close that
#   {glue:text}`notebooks/benchmark_v4.py::rel_pass:s` of its
#   {glue:text}`notebooks/benchmark_v4.py::targets_done:d` complete targets rank them reliably.
#   Against a linear probe (amendment; never deciding) PED lowers the weighted $\tau$ of:
#   {glue:text}`notebooks/benchmark_v4.py::probe_lowered:s`. ({doc}`benchmark v4 <notebooks/benchmark_v4>`)
# - **What no design here can resolve:** whether PED helps on the paper's own checkpoints and
#   datasets with a λ chosen elsewhere, and on sources and models unlike these. The supplementary's
#   claim that ranking first gets worse along fine-tuning, then better, is tested on benchmark v4's
#   fine-tuning snapshots: supported for
#   {glue:text}`notebooks/finetuning.py::claim_supported:d` of {glue:text}`notebooks/finetuning.py::n_metrics:d` metrics (crossed bootstrap over
#   models and seeds, Holm over the metrics within each part); with
#   {glue:text}`notebooks/finetuning.py::claim_n_targets:d` targets the sign-flip test cannot go below p =
#   {glue:text}`notebooks/finetuning.py::claim_min_p_targets:.3g`. ({doc}`fine-tuning <notebooks/finetuning>`)

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
#   shows what it changes). Those checkpoints and datasets cannot be downloaded on the machines
#   this book is built on, so the pages run the same protocol on the offline benchmarks of
#   `potran.bench`: pretrained image models whose weights come from pip packages or were
#   pretrained here, image tasks built from images that pip and Debian packages ship, and ground
#   truths obtained by fine-tuning every model on every task. Benchmark v4
#   ({doc}`notebooks/benchmark_v4`, `data/bench_v4/`), the pages' default, rebuilds the paper's
#   design in miniature: twelve self-supervised objectives on one architecture, pretrained on one
#   pool of images, fine-tuned after a learning-rate search, on 24 targets from 8
#   sources, its analysis registered before any score. Benchmark v3
#   ({doc}`notebooks/benchmark_v3`, `data/bench_v3/`), the second setting (`setting = "v3"`),
#   ranks 16 models across architectures on the same 24 targets. Conclusions drawn on them are
#   about these benchmarks, not about the paper's.
# - **The paper's experiment itself, on your machine.** With the paper's checkpoints, datasets and
#   ImageNet validation images on local disk, the pages that score models (PED explained, main
#   table, k grid, normalization, PED beside its successors) run on the paper's own 12 models and 11 datasets
#   with `setting = "paper"` and three folders, `paper_checkpoints`, `paper_data` and
#   `paper_imagenet_val` (`potran.bench.settings`), and rank them against the paper's published accuracies or your own
#   fine-tuning ground truth; the repository's README has one command per page.
#
# (paper-map)=
# ## Where each part of the paper is
#
# | the paper's artefact | page | how it is reproduced |
# |---|---|---|
# | §3, the method (balls, elastic force, potential energy, exit rule) | {doc}`method`, {doc}`notebooks/ped_explained` | the definitions `potran` computes, checked against the official code's outputs; the motion on a toy task |
# | The main table (τ_w of each metric ± PED on the 10 datasets) | {doc}`notebooks/paper_numbers` | re-read from the published numbers, with tests of what they support |
# | The main table, re-run | {doc}`notebooks/main_table` | re-run on the offline benchmark v4 (v3 with `setting = "v3"`); on the paper's checkpoints with `paper_checkpoints`, `paper_data`, `paper_imagenet_val` (README: `run main_table $P`) |
# | Supplementary Table 1 (grid search over the radius coefficient λ) | {doc}`notebooks/k_grid` | re-run on the offline benchmark v4, v3 with `setting = "v3"` (published values shown beside); paper's checkpoints as above |
# | Supplementary Table 2 (the ground truth) | {doc}`notebooks/groundtruth` | re-read from the published numbers; benchmark v4's fine-tuning ground truth beside it (v3's with `setting = "v3"`) |
# | Supplementary Figure 1 and Figure 3 (§C, PED against fine-tuning) | {doc}`notebooks/finetuning` | re-run on the offline benchmark v4, whose grid keeps fine-tuning snapshots |
# | Supplementary Figure 2 (feature normalisation) | {doc}`notebooks/normalization` | re-run on the offline benchmark v4 (v3 with `setting = "v3"`); paper's checkpoints as above |
# | Complexity of PED (§3) | {doc}`notebooks/runtime` | measured on the machine that built the book |
# | PED's successors, SA and NCTI (not in the paper) | {doc}`notebooks/successors` | re-run on the offline benchmark v4 (v3 with `setting = "v3"`); paper's checkpoints as above |
#
# How to cite the paper and this companion, and which commit of each official repository the parity
# tests follow: {doc}`cite`.
#
# ## Building the book
#
# ```bash
# make book          # set up .venv and the Debian image packages, then build the site
# make clean-book    # forget the results and executed notebooks (keeps .venv)
# ```
#
# `make book` installs what the pages read (the Python environment, and the Debian packages whose
# images the benchmarks' targets and v4's pool are cut from), then runs `jupyter-book build book
# --all -W -n --keep-going`, which executes each page through a cache (`_build/.jupyter_cache`): a
# page whose code did not change is not executed again, unless the package, the data or the pins
# changed. The pages read the benchmarks' committed scores; the site is written to `_build/html/`
# and needs no network, MathJax included.
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
# For the paper's setting add `-p setting paper -p paper_checkpoints DIR -p paper_data DIR -p paper_imagenet_val DIR`
# (all three folders); results then go to `_build/paper/<page>/`. With other checkpoints and datasets,
# extract their features yourself and score them with
# `potran.score(X, y, "logme", ped=True, general=G)` (or the `potran score` and `potran rank`
# commands); the {doc}`api` page documents every function.
