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
# # Runtime: what scoring and PED cost as the task grows
#
# The paper presents PED as a cheap alternative to fine-tuning: it moves the classes of a frozen
# feature set and then scores them, with no training. This page measures how much the five main
# metrics (LogME, SFDA, GBC, NLEEP, PARC) cost with and without PED as the number of images $N$,
# the feature dimension $D$ and the number of classes $C$ grow, and compares potran's PED with the
# straightforward transcription of the method, which builds a $C \times C \times D$ array of pairwise
# pushes at every step.
#
# potran's PED never forms that array. A step needs only the $C \times C$ distances between class
# centres (from the Gram matrix of the $C \times D$ centres) and one $C \times C$ by $C \times D$ product
# for the displacements, and the accumulated shift is applied to the $N \times D$ samples once at the end.
# Its time should grow like $N D$ (class statistics and the output) plus $C^2 D$ per step, and its
# memory like $N D + C D + C^2$; the dense transcription re-standardises all $N \times D$ features
# and allocates $C^2 D$ numbers at every step, with a Python loop over the $C (C - 1) / 2$ class pairs.
#
# Everything runs on synthetic tasks (`potran.bench.timing.synthetic_task`: Gaussian classes that
# overlap enough for PED to move them). Each point is the fastest of a few runs, more for calls of a
# few milliseconds (`potran.bench.timing.measure`), and one more, untimed run measures the peak
# memory: Python and NumPy allocations with `tracemalloc`, and the torch CPU tensors, which
# tracemalloc cannot see by itself, registered on the same timeline by a torch dispatch mode.
#
# **Timings depend on the machine and its load.** The published book is built on a small shared
# CPU where other jobs run at the same time, so single points can be several times too slow; the
# fastest-of-repeats estimate removes much of that, and the fitted slopes, not the absolute
# seconds, are the result to read.

# %% tags=["parameters", "hide-input"]
from potran.resources import project_path

models = None          # not used: this page runs on synthetic data (kept so every page takes the same parameters)
targets = None         # not used, as above
metrics = ["logme", "sfda", "gbc", "nleep", "parc"]
# NLEEP (a Gaussian mixture) and PARC (an N x N correlation) are measured on the smaller grid
slow_metrics = ["nleep", "parc"]
# sizes: each axis grows while the other two stay at the base values
grid = {"N": [1000, 2000, 4000, 8000], "D": [32, 64, 128, 256], "C": [4, 8, 16, 32]}
base = {"N": 2000, "D": 64, "C": 8}
# PARC needs at least 32 dimensions
slow_grid = {"N": [250, 500, 1000], "D": [32, 64, 128], "C": [2, 4, 8]}
slow_base = {"N": 500, "D": 32, "C": 4}
ped_grid = {"N": [1000, 2000, 4000, 8000, 16000], "D": [16, 32, 64, 128, 256], "C": [8, 16, 32, 64, 128, 256]}
ped_base = {"N": 2000, "D": 64, "C": 16}
gpu_grid = {"N": [4000, 16000, 64000, 256000], "D": [128, 256, 512, 1024], "C": [16, 64, 256, 1024]}
gpu_base = {"N": 16000, "D": 256, "C": 64}
fit_last = 3           # slopes are fitted on the largest sizes of each axis (None: all)
repeats = 2            # timed runs per point (the fastest is kept) ...
min_time = 0.05        # ... and more, until they add up to this many seconds (fast calls on a loaded machine)
threads = 1            # CPU threads of torch and of the BLAS (1: the most repeatable on a shared machine)
device = "cpu"         # "cuda" adds the GPU measurements
seed = 0
out_dir = project_path("_build", "runtime")   # PNG copies of the figures and the measured tables

# %% tags=["hide-input"]
from functools import partial

import pandas as pd
import torch
from IPython.display import Markdown, display

from potran.bench import book, timing
from potran.bench.plots import scaling
from potran.bench.sweeps import name_list, parameter_dict
from potran.bench.timing import slope_table, sweep
from potran.metrics import PED_METRICS

out_dir = timing.prepare(threads, out_dir)
show = partial(book.show, folder=out_dir)  # save a PNG copy, display, caption under it
print(timing.environment(threads, device))

# %% tags=["hide-input"]
metrics, slow_metrics = name_list(metrics, PED_METRICS), name_list(slow_metrics, [])
grid, base = parameter_dict(grid, "grid"), parameter_dict(base, "base")
slow_grid, slow_base = parameter_dict(slow_grid, "slow_grid"), parameter_dict(slow_base, "slow_base")
ped_grid, ped_base = parameter_dict(ped_grid, "ped_grid"), parameter_dict(ped_base, "ped_base")
gpu_grid, gpu_base = parameter_dict(gpu_grid, "gpu_grid"), parameter_dict(gpu_base, "gpu_base")

# %% [markdown]
# ## The metrics, with and without PED, on the CPU
#
# LogME, SFDA and GBC compute with torch in float64; they are measured on the larger grid. NLEEP fits
# a Gaussian mixture of $5C$ full-covariance components (scikit-learn) and PARC correlates all pairs
# of images, so they are measured on a smaller grid to keep the page short. "+ PED" is the same metric
# on the features PED moved, and includes the motion.

# %% tags=["hide-input"]
fast = [m for m in metrics if m not in slow_metrics]
slow = [m for m in metrics if m in slow_metrics]
timed = dict(repeats=repeats, min_time=min_time, seed=seed)
sweeps = [sweep(timing.scoring_functions(names), g, b, **timed)
          for names, g, b in ((fast, grid, base), (slow, slow_grid, slow_base)) if names]
cpu = pd.concat(sweeps, ignore_index=True)
cpu.to_csv(out_dir / "metrics_cpu.csv", index=False)
for table in sweeps:
    times_ms = timing.size_rows(1000 * timing.by_axis(table, "seconds"))
    display(book.details(book.table(times_ms, digits=1),
                         f"The measured times (ms) of {', '.join(times_ms.columns)}: {len(times_ms)} sizes"))

# %% tags=["hide-input"]
fit_note = f"its {fit_last} largest sizes" if fit_last else "all its sizes"
show(scaling(sweeps, "seconds", "time per score (ms, log)", scale=1e3), "metrics_time",
     "Wall-clock time of one score on the CPU (fastest of "
     f"at least {repeats} runs, {threads} thread) while one size grows and the other two stay fixed (panel titles); "
     "top row LogME, SFDA and GBC, bottom row NLEEP and PARC on a smaller grid; solid lines without PED, "
     "dashed lines with PED (the motion included); the ticks are the measured sizes. The table below "
     f"gives the slope of a straight line fitted in log-log space to {fit_note}: time grows like "
     "size^slope. Points near a millisecond are dominated by fixed overheads and by the load of the machine.",
     alt="A grid of log-log line plots, one row per group of metrics and one column per growing size "
         "(N, D, C): the time of each metric without PED (solid) and with PED (dashed).")

# %% tags=["hide-input"]
show(scaling(sweeps, "traced_bytes", "peak memory (MB, log)", scale=1e-6), "metrics_memory",
     "Peak memory allocated during one score on the CPU (MB) above what was allocated "
     "before the call: Python objects, NumPy buffers and the storages of the torch CPU tensors, on one "
     "tracemalloc timeline. Workspaces that a compiled kernel allocates internally (LAPACK, "
     "scikit-learn's Cython code) are not seen, so the values are lower bounds; the input features "
     "are not counted. Rows, lines and slopes as in Figure 1.",
     alt="The grid of Figure 1 for the peak memory of one score instead of its time.")

# %% [markdown]
# The fitted exponents, for time and for memory (rows: function; columns: the axis that grows).
# An exponent of 1 means the cost doubles when that size doubles, 2 that it quadruples, and one
# near 0 that fixed overheads, not the size, still set the cost at these sizes:

# %% tags=["hide-input"]
cpu_slopes = slope_table(cpu, last=fit_last)
cpu_slopes.to_csv(out_dir / "metrics_slopes.csv")
book.table(timing.flat_columns(cpu_slopes), digits=2)

# %% [markdown]
# ## potran's PED against the dense $C \times C \times D$ transcription
#
# `potran.bench.timing.dense_ped` transcribes PED as the method describes it (the test suite's
# reference implementation imports it from there): every step standardises the $N \times D$
# features, computes the class centres and radii with a loop over the classes, fills a
# $C \times C \times D$ array with the pairwise pushes in a Python loop over the class pairs, and sums
# it. Both give the same moved features:

# %% tags=["hide-input"]
print(timing.ped_agreement(ped_base, seed=seed))

# %% tags=["hide-input"]
ours_name, dense_name = "PED (potran)", "PED (dense C×C×D)"
ped_table = sweep(timing.ped_functions(ours_name, dense_name), ped_grid, ped_base, **timed)
ped_table.to_csv(out_dir / "ped_cpu.csv", index=False)
comparison = timing.ped_comparison(ped_table, ours_name, dense_name, seed=seed)
book.table(timing.size_rows(comparison), digits=1,
           formats={"steps": "int", "potran (MB)": 2, "dense (MB)": 2})

# %% [markdown]
# The number of accepted steps (first column) depends on the task: the motion stops once a step
# moves the classes less than half as much as the first one, and on these tasks that happens
# sooner when many small classes overlap. Both implementations take the same steps.

# %% tags=["hide-input"]
show(scaling([ped_table], "seconds", "time of one PED run (ms, log)", scale=1e3), "ped_time",
     f"Wall-clock time of PED on the CPU (the paper's values: λ = 0.6, t = 0.1, k = 1, "
     f"at most 6 steps; fastest of at least {repeats} runs), potran's implementation against the dense "
     f"transcription, while one size grows; slopes (table below) fitted in log-log space to {fit_note}.",
     alt="Three log-log line plots, one per growing size (N, D, C): the time of potran's PED and of the "
         "dense transcription.")
show(scaling([ped_table], "traced_bytes", "peak memory of one PED run (MB, log)", scale=1e-6), "ped_memory",
     "Peak memory allocated during one PED run on the CPU (MB; one tracemalloc timeline "
     "with the NumPy buffers and the torch CPU tensors; the input not counted), potran's implementation "
     "against the dense transcription; slopes as in Figure 3.",
     alt="The three panels of Figure 3 for the peak memory of one PED run instead of its time.")

# %% tags=["hide-input"]
ped_slopes = slope_table(ped_table, last=fit_last)
ped_slopes.to_csv(out_dir / "ped_slopes.csv")
book.table(timing.flat_columns(ped_slopes), digits=2)

# %% [markdown]
# ## On a GPU
#
# LogME, SFDA, GBC and PED run on CUDA tensors with the same code (NLEEP and PARC are NumPy and
# scikit-learn code and stay on the CPU; so does the dense transcription). With `device="cuda"` the
# measurements are repeated on the GPU on a larger grid, with the GPU synchronised around every
# timed run and the memory read from torch's CUDA allocator (its peak above the level before the
# call).

# %% tags=["hide-input"]
gpu = gpu_slopes = None
if skipped := timing.gpu_unavailable(device):
    print(skipped)
else:
    gpu_name = torch.cuda.get_device_name(device)
    print(f"GPU: {gpu_name}")
    functions = dict(timing.scoring_functions([m for m in metrics if m not in ("nleep", "parc")]),
                     **timing.ped_functions(ours_name))
    gpu = sweep(functions, gpu_grid, gpu_base, repeats=max(repeats, 3), min_time=min_time, seed=seed,
                device=device, to_device=lambda a: torch.as_tensor(a, device=device))
    gpu.to_csv(out_dir / "gpu.csv", index=False)

# %% tags=["hide-input"]
if gpu is not None:
    show(scaling([gpu], "seconds", "time per call on the GPU (ms, log)", scale=1e3), "gpu_time",
         f"Wall-clock time on {gpu_name} (GPU synchronised around each run; fastest of "
         f"{max(repeats, 3)} runs) while one size grows; solid without PED, dashed with PED, and PED "
         f"alone; slopes fitted in log-log space to {fit_note} (table below).",
         alt="Three log-log line plots, one per growing size, of the GPU time of each function.")
    show(scaling([gpu], "cuda_bytes", "peak GPU memory per call (MB, log)", scale=1e-6), "gpu_memory",
         "Peak of torch's CUDA allocator during one call (MB) above its level before the "
         "call (the input features, already on the GPU, are not counted), on the grid of Figure 5.",
         alt="The three panels of Figure 5 for the peak GPU memory of each call.")
    gpu_slopes = slope_table(gpu, memory="cuda_bytes", last=fit_last)
    gpu_slopes.to_csv(out_dir / "gpu_slopes.csv")
    display(book.table(timing.flat_columns(gpu_slopes), digits=2))

# %% [markdown]
# ## What the measurements show

# %% tags=["hide-input"]
lines = timing.runtime_summary(cpu, base, fast, comparison, ped_base, ped_slopes, gpu_slopes,
                               potran_name=ours_name, dense_name=dense_name)
display(Markdown("\n".join(f"- {line}" for line in lines)))

# %% [markdown]
# PED adds about one pass over the $N \times D$ features to a score: its motion works on the
# $C \times D$ class centres, and the shift is applied to the samples once. The dense transcription
# re-reads the features at every step and allocates the $C \times C \times D$ array of pushes, so its
# memory exponent over $C$ approaches 2 once that array outgrows the features, and its time over
# $C$ is set by the Python loop over the $C (C - 1) / 2$ pairs; potran's PED is almost flat in $C$ at
# these sizes, where the $C^2$ terms are still far smaller than $N D$. Over $N$ and $D$ both
# implementations grow about linearly, like the passes over the data. Every exponent here is
# measured on this run at modest sizes and, for time, on a machine shared with other jobs; read them
# as what this run saw, not as constants.
