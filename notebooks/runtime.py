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

# %% tags=["hide-input"]
from potran.resources import project_path

# %% tags=["parameters", "hide-input"]
models = None          # not used: this page runs on synthetic data (kept: every page takes these parameters)
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
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from IPython.display import display
from myst_nb import glue
from threadpoolctl import threadpool_limits

import potran
from potran.bench import book
from potran.bench.settings import name_list, parameter_dict
from potran.bench.timing import dense_ped, measure, slopes, synthetic_task
from potran.metrics import PED_METRICS

# %% tags=["hide-input"]
# page helpers: the sweeps, what each of them measures, and their tables
def sweep(functions, grid, base, *, seed, **measuring):
    """Measure every callable(X, y, G) of ``functions`` while one size of ``grid`` (N, D or C)
    grows and the others stay at ``base``: one row per (axis, size, function) (``measured_rows``).
    Each function runs once, untimed, on the first task (imports and caches)."""
    rows, warmed = [], set()
    for axis, sizes in grid.items():
        if axis not in ("N", "D", "C"):
            raise ValueError(f"grid axes are 'N', 'D' and 'C', got {axis!r}")
        for size in sizes:
            shape = dict(base, **{axis: int(size)})
            rows += measured_rows(functions, axis, shape, warmed, seed=seed, **measuring)
    return pd.DataFrame(rows)

# %% tags=["hide-input"]
def measured_rows(functions, axis, shape, warmed, *, repeats, min_time, seed, device=None, to_device=None):
    """One row per function timed on the task of ``shape`` (those not in ``warmed`` run once first)."""
    X, y, G = synthetic_task(shape["N"], shape["D"], shape["C"], seed=seed)
    if to_device is not None:
        X, G = to_device(X), to_device(G)
    rows = []
    for name, fn in functions.items():
        m = measure(fn, X, y, G, repeats=repeats, warmup=int(name not in warmed), device=device,
                    min_time=min_time)
        warmed.add(name)
        rows.append({"axis": axis, "size": shape[axis], **shape, "function": name,
                     "seconds": m.seconds, "median_seconds": m.median_seconds, "runs": len(m.times),
                     "peak_bytes": m.peak_bytes, "traced_bytes": m.traced_bytes,
                     "rss_bytes": m.rss_bytes, "cuda_bytes": m.cuda_bytes})
    return rows

# %% tags=["hide-input"]
OURS, DENSE = "PED (potran)", "PED (dense C×C×D)"


def scoring_functions(names):
    """name and "name + PED" -> callable(X, y, G) scoring with each metric (PED on the general set G)."""
    out = {}
    for m in names:
        out[m] = lambda X, y, G, m=m: potran.score(X, y, m)
        out[f"{m} + PED"] = lambda X, y, G, m=m: potran.score(X, y, m, ped=True, general=G)
    return out


def ped_functions(dense=True):
    """potran's PED and, with ``dense``, the dense transcription, as callable(X, y, G)."""
    out = {OURS: lambda X, y, G: potran.simulate(X, y, G)}
    return out | ({DENSE: lambda X, y, G: dense_ped(X, y, G)} if dense else {})

# %% tags=["hide-input"]
def by_axis(table, value):
    """``value`` per (axis, size) row and function column: axes N, D, C, sizes ascending."""
    wide = table.pivot_table(index=["axis", "size"], columns="function", values=value, sort=False)
    wide = wide.sort_index(key=lambda lv: lv.map({"N": 0, "D": 1, "C": 2}) if lv.name == "axis" else lv)
    return wide[list(dict.fromkeys(table.function))]


def size_rows(frame):
    """Rows named "N = 1000", ... (the size grown)."""
    return frame.set_axis([f"{axis} = {size}" for axis, size in frame.index]).rename_axis("task grown")

# %% tags=["hide-input"]
def exponents(table, memory="traced_bytes", last=fit_last):
    """Fitted exponents of time and of ``memory`` per function, columns "time over N", ..."""
    fits = pd.concat({kind: slopes(table, value, last=last)
                      for kind, value in (("time", "seconds"), ("memory", memory))}, axis=1)
    names = [f"{kind} over {axis}" for kind, axis in fits.columns]
    return fits.set_axis(names, axis=1).rename_axis("function")


# %% tags=["hide-input"]
# page helper: the log-log axes of the sweeps' figures
SIZE_LABELS = {"N": "images N (log)", "D": "dimension D (log)", "C": "classes C (log)"}


def compact(value, _=None):
    """1000 -> "1k", 16000 -> "16k", 1024 -> "1024"."""
    v = int(round(value))
    return f"{v // 1000}k" if v >= 1000 and v % 1000 == 0 else f"{v:d}"

# %% tags=["hide-input"]
def log_log_axes(ax, sizes):
    """Both axes on a log scale, x ticked at the measured ``sizes``, y in plain decimals."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(FixedLocator(sizes))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(compact))
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1, 3)))   # plain decimals, never 1e-05
    ax.yaxis.set_major_formatter(FuncFormatter(
        lambda v, _: np.format_float_positional(v, precision=3, fractional=False, trim="-")))
    ax.yaxis.set_minor_formatter(NullFormatter())

# %% tags=["hide-input"]
# page helper: one panel of the sweeps' figures, one growing size
def scaling_panel(ax, part, axis, functions, value, scale, colours, handles):
    """One line per function of ``functions`` over the sizes of ``part`` (dashed with PED), ``value``
    times ``scale``, non-positive values left out; ``handles`` collects the lines for the legend."""
    for name in functions:
        rows = part[part.function == name]
        y_values = rows[value].to_numpy(float) * scale
        y_values[y_values <= 0] = np.nan
        (handles[name],) = ax.plot(rows["size"], y_values, marker="o", ms=3, label=name,
                                   ls="--" if name.endswith("PED") else "-",
                                   color=colours[name.replace(" + PED", "")])
    log_log_axes(ax, sorted(part["size"].unique()))
    ax.set_xlabel(SIZE_LABELS[axis])
    others = ", ".join(f"{k} = {v}" for k, v in part.iloc[0][["N", "D", "C"]].items() if k != axis)
    ax.set_title(f"growing {axis} ({others})")

# %% tags=["hide-input"]
# page helper: one row of the sweeps' figures, one sweep
def scaling_row(row, table, axes_names, ylabel, value, scale, colours, handles):
    """One ``scaling_panel`` per growing size of ``axes_names`` (hidden where ``table`` has none)."""
    for ax, axis in zip(row, axes_names):
        part = table[table.axis == axis].sort_values("size")
        if part.empty:
            ax.set_visible(False)
            continue
        scaling_panel(ax, part, axis, dict.fromkeys(table.function), value, scale, colours, handles)
    row[0].set_ylabel(ylabel)

# %% tags=["hide-input"]
# page helper: the log-log figures of the sweeps
def scaling(tables, value, ylabel, scale=1.0):
    """One ``scaling_row`` per sweep (``value`` times ``scale``), one colour per metric."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    tables = [t for t in tables if len(t)]
    axes_names = [a for a in ("N", "D", "C") if any(a in set(t.axis) for t in tables)]
    fig, axes = plt.subplots(len(tables), len(axes_names), figsize=book.figsize(2.9 * len(tables) + 0.9),
                             squeeze=False, layout="constrained")
    roots = list(dict.fromkeys(n.replace(" + PED", "") for t in tables for n in t.function))
    colours, handles = dict(zip(roots, sns.color_palette("tab10", len(roots)))), {}
    for row, table in zip(axes, tables):
        scaling_row(row, table, axes_names, ylabel, value, scale, colours, handles)
    fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncol=4, frameon=False)
    return fig

# %% tags=["hide-input"]
import platform

book.setup_page(threads)
threadpool_limits(threads)                 # the BLAS on as many threads as torch
out_dir = Path(out_dir)
out_dir.mkdir(parents=True, exist_ok=True)
show = partial(book.show, folder=out_dir)  # save a PNG copy, display, caption under it
metrics, slow_metrics = name_list(metrics, PED_METRICS), name_list(slow_metrics, [])
grid, base = parameter_dict(grid, "grid"), parameter_dict(base, "base")
slow_grid, slow_base = parameter_dict(slow_grid, "slow_grid"), parameter_dict(slow_base, "slow_base")
ped_grid, ped_base = parameter_dict(ped_grid, "ped_grid"), parameter_dict(ped_base, "ped_base")
gpu_grid, gpu_base = parameter_dict(gpu_grid, "gpu_grid"), parameter_dict(gpu_base, "gpu_base")
print(f"torch {torch.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
      f"{threads} thread(s), device {device!r}")

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
sweeps = [sweep(scoring_functions(names), g, b, **timed)
          for names, g, b in ((fast, grid, base), (slow, slow_grid, slow_base)) if names]
cpu = pd.concat(sweeps, ignore_index=True)
cpu.to_csv(out_dir / "metrics_cpu.csv", index=False)
for table in sweeps:
    times_ms = size_rows(1000 * by_axis(table, "seconds"))
    display(book.details(book.table(times_ms, digits=1),
                         f"The measured times (ms) of {', '.join(times_ms.columns)}: {len(times_ms)} sizes"))

# %% tags=["hide-input"]
fit_note = f"its {fit_last} largest sizes" if fit_last else "all its sizes"
show(scaling(sweeps, "seconds", "time per score (ms, log)", scale=1e3), "metrics_time",
     "Wall-clock time of one score on the CPU (fastest of "
     f"at least {repeats} runs, {threads} thread) while one size grows and the other two stay fixed "
     "(panel titles); "
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
cpu_exponents = exponents(cpu)
cpu_exponents.to_csv(out_dir / "metrics_slopes.csv")
book.table(cpu_exponents, digits=2)

# %% [markdown]
# What PED adds to a score at the base task of Figure 1 (times in ms; "fastest" is the fastest
# timed run, "median" the median of them, the spread a reader should allow for):

# %% tags=["hide-input"]
at_base = (cpu[(cpu.N == base["N"]) & (cpu.D == base["D"]) & (cpu.C == base["C"])]   # once per axis
           .groupby("function")[["seconds", "median_seconds"]].min())
added = pd.DataFrame({
    "without PED, fastest": at_base.seconds.reindex(fast).to_numpy(),
    "without PED, median": at_base.median_seconds.reindex(fast).to_numpy(),
    "with PED, fastest": at_base.seconds.reindex([f"{m} + PED" for m in fast]).to_numpy(),
    "with PED, median": at_base.median_seconds.reindex([f"{m} + PED" for m in fast]).to_numpy(),
}, index=pd.Index(fast, name="metric")) * 1000
added["PED adds"] = added["with PED, fastest"] - added["without PED, fastest"]
glue("added_min", float(added["PED adds"].min()), display=False)
glue("added_max", float(added["PED adds"].max()), display=False)
glue("added_metrics", ", ".join(fast) or "no metric", display=False)
glue("added_noise", float((at_base.median_seconds / at_base.seconds).max() - 1), display=False)
book.table(added, digits=1)

# %% [markdown]
# ## potran's PED against the dense $C \times C \times D$ transcription
#
# `potran.bench.timing.dense_ped` transcribes PED as the method describes it (the test suite's
# reference implementation imports it from there): every step standardises the $N \times D$
# features, computes the class centres and radii with a loop over the classes, fills a
# $C \times C \times D$ array with the pairwise pushes in a Python loop over the class pairs, and sums
# it. Both give the same moved features, on the base task of the PED sweep:

# %% tags=["hide-input"]
X, y, G = synthetic_task(ped_base["N"], ped_base["D"], ped_base["C"], seed=seed)
ours, (dense, changes) = potran.simulate(X, y, G), dense_ped(X, y, G)
agreement = pd.Series({"steps, potran": ours.trace.steps, "steps, dense": len(changes),
                       "largest difference of the moved features": float(np.abs(ours.features - dense).max()),
                       "largest shift of a feature": float(np.abs(ours.features - X).max())}, dtype=object)
for key, value in zip(("agree_steps", "agree_dense_steps", "agree_difference", "agree_shift"), agreement):
    glue(key, value, display=False)
for axis in ("N", "D", "C"):
    glue(f"ped_base_{axis}", ped_base[axis], display=False)
agreement.to_frame("value")

# %% [markdown]
# On that task (N = {glue:text}`ped_base_N`, D = {glue:text}`ped_base_D`, C = {glue:text}`ped_base_C`)
# potran's PED takes {glue:text}`agree_steps` steps and the dense transcription
# {glue:text}`agree_dense_steps`; their moved features differ by at most
# {glue:text}`agree_difference:.1e`, against a largest shift of {glue:text}`agree_shift:.3f`.

# %% tags=["hide-input"]
ped_table = sweep(ped_functions(), ped_grid, ped_base, **timed)
ped_table.to_csv(out_dir / "ped_cpu.csv", index=False)
times, peaks = by_axis(ped_table, "seconds"), by_axis(ped_table, "traced_bytes")
tasks = ped_table.drop_duplicates(["axis", "size"]).set_index(["axis", "size"]).loc[times.index]
comparison = pd.DataFrame({   # the accepted steps on each task, both times and both memory peaks
    "steps": [potran.simulate(*synthetic_task(r.N, r.D, r.C, seed=seed)).trace.steps
              for r in tasks.itertuples()],
    "potran (ms)": 1000 * times[OURS], "dense (ms)": 1000 * times[DENSE],
    "time ratio dense / potran": times[DENSE] / times[OURS],
    "potran (MB)": peaks[OURS] / 1e6, "dense (MB)": peaks[DENSE] / 1e6,
    "memory ratio dense / potran": peaks[DENSE] / peaks[OURS]}, index=times.index)
book.table(size_rows(comparison), csv="runtime_ped_vs_dense", digits=1, formats={"steps": "int", "potran (MB)": 2, "dense (MB)": 2})

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
ped_exponents = exponents(ped_table)
ped_exponents.to_csv(out_dir / "ped_slopes.csv")
book.table(ped_exponents, digits=2)

# %% [markdown]
# ## On a GPU
#
# LogME, SFDA, GBC and PED run on CUDA tensors with the same code (NLEEP and PARC are NumPy and
# scikit-learn code and stay on the CPU; so does the dense transcription). With `device="cuda"` the
# measurements are repeated on the GPU on a larger grid, with the GPU synchronised around every
# timed run and the memory read from torch's CUDA allocator (its peak above the level before the
# call). Without a GPU (the published build) this section stays empty.

# %% tags=["hide-input"]
gpu = None
if not str(device).startswith("cuda"):
    print(f"device = {device!r}: the GPU measurements are skipped (run the page with "
          "device='cuda' on a machine with a GPU to add them).")
elif not torch.cuda.is_available():
    print(f"device = {device!r}, but torch.cuda.is_available() is False (torch {torch.__version__}, "
          f"built for CUDA {torch.version.cuda}): the GPU measurements are skipped.")
else:
    gpu_name = torch.cuda.get_device_name(device)
    print(f"GPU: {gpu_name}")
    on_gpu = [m for m in metrics if m not in ("nleep", "parc")]   # NumPy and scikit-learn code
    functions = scoring_functions(on_gpu) | ped_functions(dense=False)
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
    gpu_exponents = exponents(gpu, memory="cuda_bytes")
    gpu_exponents.to_csv(out_dir / "gpu_slopes.csv")
    display(book.table(gpu_exponents, digits=2))

# %% [markdown]
# ## What the measurements show
#
# The numbers below are measurements of this run on this machine, not estimates with a test: the
# page tests no hypothesis (so there is no Holm family), and its population is the synthetic tasks
# of the grids above. The uncertainty given with a time is the spread of its timed runs (fastest
# against median); with an exponent, the fit on the largest sizes against the fit on all sizes.

# %% tags=["hide-input"]
has_c = "C" in comparison.index.get_level_values(0)
largest = comparison.loc["C"].iloc[-1] if has_c else pd.Series(dtype=float, name=0)   # the largest C
glue("c_largest", int(largest.name), display=False)
for key, column in (("c_time", "time ratio dense / potran"), ("c_memory", "memory ratio dense / potran"),
                    ("c_dense_mb", "dense (MB)"), ("c_potran_mb", "potran (MB)")):
    glue(key, float(largest.get(column, np.nan)), display=False)
fits = pd.concat({"largest sizes": ped_exponents, "all sizes": exponents(ped_table, last=None)})
for (fit, name), row in fits.iterrows():   # e.g. exp_dense_memory_C and exp_dense_memory_C_all
    for column, value in row.items():      # "time over N", ..., "memory over C"
        key = f"exp_{'potran' if name == OURS else 'dense'}_{column.replace(' over ', '_')}"
        glue(key + ("_all" if fit == "all sizes" else ""), float(value), display=False)
nd = ped_exponents.filter(items=["time over N", "time over D"])   # both implementations
glue("exp_time_nd_min", float(nd.min().min()), display=False)
glue("exp_time_nd_max", float(nd.max().max()), display=False)
book.table(fits.rename_axis(["fitted on", "function"]), digits=2)

# %% [markdown]
# - **What PED adds to a score.** At the base task of Figure 1, PED adds between
#   {glue:text}`added_min:.1f` and {glue:text}`added_max:.1f` ms to one score of
#   {glue:text}`added_metrics` (fastest runs; the medians of the timed runs are at most
#   {glue:text}`added_noise:.0%` slower than the fastest at any point of that table).
# - **The dense transcription.** At C = {glue:text}`c_largest` (the largest C of the PED sweep, N and
#   D at its base), the dense transcription takes {glue:text}`c_time:.0f`× the time and
#   {glue:text}`c_memory:.1f`× the memory of potran's PED ({glue:text}`c_dense_mb:.1f` MB against
#   {glue:text}`c_potran_mb:.1f` MB).
# - **Exponents over C.** Memory: dense {glue:text}`exp_dense_memory_C:.2f` (all sizes
#   {glue:text}`exp_dense_memory_C_all:.2f`), potran {glue:text}`exp_potran_memory_C:.2f`
#   ({glue:text}`exp_potran_memory_C_all:.2f`); time: dense {glue:text}`exp_dense_time_C:.2f`
#   ({glue:text}`exp_dense_time_C_all:.2f`), potran {glue:text}`exp_potran_time_C:.2f`
#   ({glue:text}`exp_potran_time_C_all:.2f`). Over N and D the time exponents of both
#   implementations lie between {glue:text}`exp_time_nd_min:.2f` and
#   {glue:text}`exp_time_nd_max:.2f`.
#
# PED adds about one pass over the $N \times D$ features to a score: its motion works on the
# $C \times D$ class centres, and the shift is applied to the samples once. The dense transcription
# re-reads the features at every step and allocates the $C \times C \times D$ array of pushes, so its
# memory exponent over $C$ approaches 2 once that array outgrows the features, and its time over
# $C$ is set by the Python loop over the $C (C - 1) / 2$ pairs; potran's PED is almost flat in $C$ at
# these sizes, where the $C^2$ terms are still far smaller than $N D$. Over $N$ and $D$ both
# implementations grow about linearly, like the passes over the data. Every exponent here is
# measured on this run at modest sizes and, for time, on a machine shared with other jobs; read them
# as what this run saw, not as constants.
