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
# # PED explained: classes as balls that push each other apart
#
# PED (*Potential Energy Decline*) treats the features of a target task as a physical system before
# scoring them. In the space standardised by a *general* feature set (the same model's features on a
# generic image set; ImageNet-val in the paper), each class $c$ is a ball with centre $\mu_c$ (the class
# mean) and radius $\lambda r_c$, where $r_c = \sqrt{\operatorname{tr}\operatorname{Cov}_c}$.
# Two balls that overlap by
#
# ```{math}
# :label: overlap
# o_{ij} = \max\bigl(\lambda (r_i + r_j) - \lVert \mu_i - \mu_j \rVert,\ 0\bigr)
# ```
#
# repel each other with an elastic force $k\,o_{ij}$, so the system stores the potential energy
#
# ```{math}
# :label: energy
# U = \sum_{i<j} \tfrac{k}{2}\, o_{ij}^2 .
# ```
#
# Starting from rest, in a time $t$ a class moves rigidly (all its samples together) by
#
# ```{math}
# :label: motion
# \Delta_c = \sum_{j \ne c} \min\bigl(\tfrac{k}{2} t^2 o_{cj},\ o_{cj}\bigr)\,
#            \frac{\mu_c - \mu_j}{\lVert \mu_c - \mu_j \rVert},
# ```
#
# capped at the overlap (the maximum phase position). The motion repeats until the displacement falls
# below a fraction $\rho$ of the first one or six steps were taken; the potential energy declines on
# the way, and the moved features are scored by any metric (LogME, SFDA, ...). This page runs
# `potran.simulate` on a two-dimensional toy task so every quantity can be seen.

# %% tags=["parameters"]
from potran.resources import project_path

n_classes = 4          # classes of the toy task
per_class = 150        # samples per class
spread = 1.8           # within-class standard deviation (larger: more overlap)
nsigma = 0.6           # λ, radius coefficient (the paper's runs)
time_step = 0.1        # t (the paper's runs)
shown_time_step = 0.5  # a larger t for the pictures (the paper's t moves a class by 0.5 % of its overlap per step)
constant = 1.0         # k
max_steps = 6
seed = 0
# the real example: one (model, target) cell of the offline benchmark (or of the paper's setting)
example_model = "efficientnet_lite0"
example_target = "letters"
models = None          # model names the page may use (None: all); the example falls back to the first
targets = None         # target names the page may use (None: all); the example falls back to the first
paper_checkpoints = None   # the paper's setting (all three, or none): the 12 .pth,
paper_data = None          # the 11 datasets in torchvision's layouts,
paper_imagenet_val = None  # and ImageNet validation images (PED's general set)
paper_options = {}         # more options of potran.bench.paper_setting.benchmark
device = "cpu"         # torch device of the feature extraction and of PED
cache_dir = project_path(".cache", "features")      # feature cache shared with the benchmark
out_dir = None                                      # PNG copies of the figures (None: _build/ped_explained,
                                                    # _build/paper/... on the paper's setting)

# %% tags=["hide-input"]

from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import Markdown, display
from sklearn.decomposition import PCA

import potran
from potran.bench import book
from potran.bench.pages import page_benchmark
from potran.ped import CONSTANT, EPS, EXIT_RATIO, MAX_STEPS, NSIGMA, TIME_STEP

book.setup_page()
page = page_benchmark(models, targets, paper_checkpoints=paper_checkpoints, paper_data=paper_data,
                      paper_imagenet_val=paper_imagenet_val, paper_options=paper_options)
out_dir = page.results(out_dir, "ped_explained")


show = partial(book.show, folder=out_dir)  # save a PNG copy, display, caption under it


rng = np.random.default_rng(seed)
angles = 2 * np.pi * np.arange(n_classes) / n_classes
centres = 2.0 * np.c_[np.cos(angles), np.sin(angles)]
y = np.repeat(np.arange(n_classes), per_class)
X = centres[y] + spread * rng.normal(size=(len(y), 2))
G = rng.normal(size=(1000, 2)) * 2.0          # the "general" set: its mean/std standardise the space
ped = dict(nsigma=nsigma, time_step=time_step, constant=constant)
result = potran.simulate(X, y, G, max_steps=max_steps, **ped)
trace = result.trace
book.table(pd.DataFrame({"potential energy after": trace.energies[1:], "displacement P": trace.displacements},
                        index=pd.RangeIndex(1, trace.steps + 1, name="step")), digits=4,
           caption=f"{trace.steps} accepted steps (energy before the first: {trace.energies[0]:.4f}); rejected "
                   f"step's displacement: {book.number(trace.rejected_displacement, 4)}.")

# %% [markdown]
# The trace holds the accepted steps, the displacement $P = \sum_{c,d} |\Delta_{c,d}|$ of each step,
# the potential energy {eq}`energy` before the first and after every step, and the class centres
# $\mu_c$ (`trace.centres`, one $C \times D$ array before the first step and after every step) and
# radii $r_c$ (`trace.radii`) in the standardised space, where the balls live. With the paper's
# $t = 0.1$ a step moves a class by 0.5 % of its overlap, too little to see, so the pictures below
# use a larger $t$:

# %% tags=["hide-input"]
mean = G.mean(0)                              # PED standardises by the general set's mean
scale = np.maximum(G.std(0), EPS)             # and population std, floored at EPS
Z = (X - mean) / scale                        # the toy task in the standardised space
shown = dict(ped, time_step=shown_time_step)
shown_trace = potran.simulate(X, y, G, max_steps=max_steps, **shown).trace
path = np.stack(shown_trace.centres)          # (steps + 1) x C x 2
palette = sns.color_palette(n_colors=n_classes)

fig, axes = plt.subplots(1, 2, figsize=book.figsize(3.9), layout="constrained")
ax = axes[0]
for c in range(n_classes):
    ax.scatter(*Z[y == c].T, s=4, alpha=0.25, color=palette[c])
    for step, style in ((0, ":"), (-1, "-")):
        ax.add_patch(plt.Circle(path[step, c], nsigma * shown_trace.radii[c], fill=False, ls=style,
                                color=palette[c], lw=1.5))
    ax.plot(*path[:, c].T, "k.-", ms=3)
ax.set_aspect("equal")
ax.set_xlabel("standardised feature 1")
ax.set_ylabel("standardised feature 2")
ax.set_title(f"t = {shown_time_step}: before (dotted), after {shown_trace.steps} steps")
axes[1].plot(np.array(result.trace.energies) / result.trace.energies[0], "o-", label=f"t = {time_step}")
axes[1].plot(np.array(shown_trace.energies) / shown_trace.energies[0], "s-", label=f"t = {shown_time_step}")
axes[1].legend()
axes[1].set_xlabel("step")
axes[1].set_ylabel("potential energy U / U before")
axes[1].set_title("the potential energy declines")
show(fig, "toy_before_after",
     f"Left: the toy task in the standardised space, each class a ball of radius "
     f"λ r_c (λ = {nsigma}) before (dotted) and after (solid) the motion with t = {shown_time_step}; "
     f"the black dots trace the class centres. Right: the potential energy after each step, "
     f"relative to before, with the paper's t = {time_step} and with t = {shown_time_step}.",
     alt=f"Two panels. Left: {n_classes} coloured point clouds with a circle around each class, dotted "
         "before and solid after the motion, and the path of each centre. Right: the relative potential "
         "energy falling step by step for the two time steps.")

# %% [markdown]
# Step by step: every panel is one entry of `trace.centres`. Each class moves rigidly, away from the
# classes it overlaps, by {eq}`motion`; the thin grey circles are where the balls were before the
# first step.

# %% tags=["hide-input"]
n_panels = len(shown_trace.centres)
n_cols = 2 if n_panels in (2, 4) else min(3, n_panels)   # rows of two or three: legible at the page's width
n_rows = -(-n_panels // n_cols)
fig, axes = plt.subplots(n_rows, n_cols, figsize=book.figsize(8.2 / n_cols * n_rows + 0.3), sharex=True,
                         sharey=True, squeeze=False, layout="constrained")
for ax in axes.flat[n_panels:]:
    ax.set_visible(False)
energies = np.array(shown_trace.energies)
for k, ax in enumerate(axes.flat[:n_panels]):
    moved = Z + (path[k] - path[0])[y]        # the samples move with their class
    for c in range(n_classes):
        ax.scatter(*moved[y == c].T, s=2, alpha=0.2, color=palette[c])
        ax.add_patch(plt.Circle(path[0, c], nsigma * shown_trace.radii[c], fill=False, color="0.6",
                                lw=0.8))
        ax.add_patch(plt.Circle(path[k, c], nsigma * shown_trace.radii[c], fill=False,
                                color=palette[c], lw=1.8))
        ax.plot(*path[: k + 1, c].T, "k.-", ms=3, lw=1)
    ax.set_aspect("equal")
    reach = nsigma * shown_trace.radii.max() + 0.2
    ax.set_xlim(path[..., 0].min() - reach, path[..., 0].max() + reach)
    ax.set_ylim(path[..., 1].min() - reach, path[..., 1].max() + reach)
    ax.set_title("before the motion" if k == 0 else f"after step {k}", fontsize=11)
    note = f"U / U₀ = {energies[k] / energies[0]:.2f}"
    if k > 0:
        note += f"\nP = {shown_trace.displacements[k - 1]:.3f}"
    ax.text(0.03, 0.03, note, transform=ax.transAxes, fontsize=10, va="bottom",
            bbox=dict(facecolor="white", alpha=0.8, lw=0))
    if k // n_cols == n_rows - 1 or k + n_cols >= n_panels:
        ax.set_xlabel("standardised feature 1")
    if k % n_cols == 0:
        ax.set_ylabel("standardised feature 2")
exit_note = ("" if shown_trace.rejected_displacement is None else
             f" The next step (P = {shown_trace.rejected_displacement:.3f}, not above "
             f"ρ = {EXIT_RATIO} times the first) was discarded and ended the motion.")
show(fig, "toy_steps",
     f"The balls (radius λ r_c, λ = {nsigma}) of the toy task in the standardised "
     f"space, one panel per entry of `trace.centres` (t = {shown_time_step}, k = {constant}); "
     f"U / U₀ is the potential energy relative to before the motion and P the displacement of the "
     f"step.{exit_note}",
     alt=f"A grid of {n_panels} panels, one per step of the motion: the {n_classes} class balls drawn "
         "as coloured circles moving apart from grey circles at their starting places, with the "
         "energy ratio and the displacement written in a corner.")

# %% [markdown]
# (The circles are drawn in the standardised space, where PED measures the overlaps; in this toy the
# general set is isotropic, so it is a scaled copy of the raw one.) Classes that overlap most move
# most; a class with no overlap stays where it is. Scoring the moved features changes the metrics as
# follows:

# %% tags=["hide-input"]
rows = []
for metric in ("logme", "sfda", "gbc", "hscore"):
    for use_ped in (False, True):
        rows.append({"metric": metric, "PED": use_ped,
                     "score": potran.score(X, y, metric, ped=use_ped, general=G if use_ped else None,
                                           **({"max_steps": max_steps, **ped} if use_ped else {}))})
book.table(pd.DataFrame(rows).pivot(index="metric", columns="PED", values="score").rename(
    columns={False: "without PED", True: "with PED"}), caption="Scores of the toy task (each metric's own scale).")

# %% [markdown]
# PED only translates whole classes, so what it adds to a metric is how easily the classes can be
# separated *by moving apart*: the paper's reading is that fine-tuning mostly does this, and that a
# model whose classes separate quickly under the repulsion will fine-tune well.
#
# ## A real cell of the benchmark
#
# The same motion on real features: one pretrained model of the offline benchmark's zoo on one of its
# targets, exactly as the benchmark scores the cell (the training images fine-tuning learns from,
# features reduced to the benchmark's 128 principal components, PED with the paper's values). The
# features have many dimensions (128 here, 2048 on the paper's setting), so the picture projects them on the plane that spreads the class
# centres most (the first two principal components of the centres before the motion); PED moves
# every centre within the span of the centre differences, so this plane shows most of the motion.

# %% tags=["hide-input"]
model = example_model if example_model in page.models else page.models[0]
target = example_target if example_target in page.targets else page.targets[0]
task = page.load_target(target)
arrays = page.cell_features(model, task, cache_dir=cache_dir, device=device)
Xr, yr, Gr = arrays["X_scored"], arrays["y"], arrays["G_scored"]
real = potran.simulate(Xr, yr, Gr, device=device)      # the paper's values, as the benchmark runs it
mean_r, scale_r = Gr.mean(0), np.maximum(Gr.std(0), EPS)
plane = PCA(n_components=2).fit(real.trace.centres[0])
before = plane.transform((Xr - mean_r) / scale_r)
after = plane.transform((real.features - mean_r) / scale_r)
tracks = np.stack([plane.transform(c) for c in real.trace.centres])   # (steps + 1) x C x 2
# U after / U before; undefined when no two balls overlap (U = 0: PED does not move the cell)
energy_left = real.trace.energies[-1] / real.trace.energies[0] if real.trace.energies[0] > 0 else np.nan
print(f"{model} on {target}: {len(yr)} images, {len(task.classes)} classes, "
      f"{arrays['X'].shape[1]} features, {Xr.shape[1]} scored; {real.trace.steps} steps, "
      + (f"potential energy {energy_left:.1%} of its value before the motion" if real.trace.steps
         else "no two balls overlap, so PED leaves the features as they are"))

# %% tags=["hide-input"]
n_real = len(task.classes)
colours = sns.color_palette("husl", n_real)
fig, axes = plt.subplots(2, 2, figsize=book.figsize(7.6), layout="constrained")
share = plane.explained_variance_ratio_
for ax, points, k, title in ((axes[0, 0], before, 0, "images before the motion"),
                             (axes[0, 1], after, -1, f"images after {real.trace.steps} steps")):
    sns.scatterplot(x=points[:, 0], y=points[:, 1], hue=yr, palette=colours, s=6, alpha=0.35,
                    linewidth=0, legend=False, ax=ax)
    ax.scatter(*tracks[k].T, s=14, color="k", zorder=3, label="class centres")
    ax.set_title(title)
    ax.legend(loc="upper right")
axes[0, 1].set_xlim(axes[0, 0].get_xlim())
axes[0, 1].set_ylim(axes[0, 0].get_ylim())
ax = axes[1, 0]
for c, name in enumerate(task.classes):
    ax.plot(*tracks[:, c].T, "-", color=colours[c], lw=1.5)
    ax.scatter(*tracks[0, c], s=30, facecolor="white", edgecolor=colours[c], zorder=3)
    ax.scatter(*tracks[-1, c], s=30, color=colours[c], zorder=3)
    ax.annotate(str(name)[:16], tracks[-1, c], fontsize=10, xytext=(3, 3), textcoords="offset points")
ax.set_title("class centres: before (open) and after (filled)")
for ax in (axes[0, 0], axes[0, 1], axes[1, 0]):
    ax.set_xlabel(f"PC 1 of the centres ({share[0]:.0%} of their variance)")
    ax.set_ylabel(f"PC 2 of the centres ({share[1]:.0%})")
ax = axes[1, 1]
steps = np.arange(real.trace.steps + 1)
if real.trace.steps:
    ax.plot(steps, np.array(real.trace.energies) / real.trace.energies[0], "o-",
            label="potential energy U / U before")
    ax.plot(steps[1:], np.array(real.trace.displacements) / real.trace.displacements[0], "s-",
            label="displacement P / P of step 1")
else:
    ax.text(0.5, 0.5, "no overlap: no step taken", ha="center", transform=ax.transAxes)
ax.axhline(EXIT_RATIO, color="0.5", ls=":", lw=1, label=f"exit ratio ρ = {EXIT_RATIO}")
ax.set_ylim(0, 1.05)
ax.set_xlabel("step")
ax.set_ylabel("relative to the first value (no unit)")
ax.legend(loc="lower left")
ax.set_title("the trace")
show(fig, "real_before_after",
     f"{model} on {target}: the features of the {len(yr)} training images "
     f"(the {Xr.shape[1]} dimensions the benchmark scores, standardised by the general set) projected on the plane "
     f"of the class centres' two leading principal components, before (top left) and after (top "
     f"right) PED with the paper's values (λ = {NSIGMA}, t = {TIME_STEP}, k = {CONSTANT}, at most "
     f"{MAX_STEPS} steps); bottom left: "
     f"the paths of the {n_real} class centres in the same plane; bottom right: the potential energy "
     f"and the displacement of every accepted step, relative to their first value. The axes of the "
     f"three maps are in the standardised units of the general set.",
     alt=f"Four panels: the {len(yr)} images as coloured points with black class centres before and "
         f"after the motion, the paths of the {n_real} centres from open to filled circles, and the "
         "potential energy and displacement curves of the trace.")

# %% [markdown]
# What the motion did to this cell, and what it does to the scores the benchmark computes from it:

# %% tags=["hide-input"]
shift = np.linalg.norm(real.trace.centres[-1] - real.trace.centres[0], axis=1)
ball = NSIGMA * real.trace.radii
summary = pd.DataFrame({
    "steps": [real.trace.steps],
    "U after / U before": [energy_left],
    "mean centre shift (standardised units)": [shift.mean()],
    "mean ball radius λ r_c (standardised units)": [ball.mean()],
})
display(book.table(summary, index=False, formats={"steps": "int"}))
rows = []
for metric in ("logme", "sfda", "gbc"):
    for use_ped in (False, True):
        rows.append({"metric": metric, "PED": use_ped,
                     "score": potran.score(Xr, yr, metric, ped=use_ped, general=Gr if use_ped else None)})
book.table(pd.DataFrame(rows).pivot(index="metric", columns="PED", values="score").rename(
    columns={False: "without PED", True: "with PED"}), caption=f"Scores of {model} on {target}.")

# %% tags=["hide-input"]
display(Markdown(
    f"In {real.trace.steps} steps with the paper's t the centres of {model}'s {target} classes moved "
    f"by {shift.mean():.2f} standardised units on average, {shift.mean() / ball.mean():.0%} of a ball's "
    f"mean radius, while the potential energy fell to {energy_left:.0%} "
    f"of its value before the motion: the energy is quadratic in the overlaps, so small moves of "
    f"heavily overlapping classes release much of it." if real.trace.steps else
    f"No two of the balls of {model}'s {target} classes overlap (potential energy 0), so PED takes no "
    f"step and every metric scores this cell the same with and without it."))

# %% [markdown]
# How fast the energy declines is what PED credits a model for; whether that ranks models better
# than the metric alone is the subject of the next page, {doc}`main_table`.
