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

# %% tags=["hide-input"]
from potran.bench.folders import FEATURE_CACHE

# %% tags=["parameters", "hide-input"]
n_classes = 4          # classes of the toy task
per_class = 150        # samples per class
spread = 1.8           # within-class standard deviation (larger: more overlap)
nsigma = 0.6           # λ, radius coefficient (the paper's runs)
time_step = 0.1        # t (the paper's runs)
shown_time_step = 0.5  # a larger t for the pictures (the paper's t moves a class by 0.5 % of its overlap per step)
constant = 1.0         # k
max_steps = 6
seed = 0
# the real example: one (model, target) cell of the setting
setting = "v4"         # "v4" (benchmark v4), "v3" (across architectures), "paper", ...
example_model = "simclr"
example_target = "letters"
models = None          # model names the page may use (None: all); the example falls back to the first
targets = None         # target names the page may use (None: all); the example falls back to the first
paper_checkpoints = None   # setting "paper" only: the 12 .pth,
paper_data = None          # the 11 datasets in torchvision's layouts,
paper_imagenet_val = None  # and ImageNet validation images (PED's general set)
paper_options = {}         # more options of potran.bench.paper_setting.benchmark
device = "cpu"         # torch device of the feature extraction and of PED
cache_dir = FEATURE_CACHE                           # feature cache shared with the benchmark
out_dir = None                                      # PNG copies of the figures
                                                    # (None: _build/<setting>/ped_explained)

# %% tags=["hide-input"]
from functools import partial

from IPython.display import display
from myst_nb import glue

import numpy as np
import pandas as pd

import potran
from potran.bench import book, settings
from potran.bench.motion import centre_plane, energy_left, standardised
from potran.metrics import PED_METRICS
from potran.ped import CONSTANT, EXIT_RATIO, MAX_STEPS, NSIGMA, TIME_STEP

book.setup_page()
page = settings.get(setting, models, targets, checkpoints=paper_checkpoints, data=paper_data,
                    imagenet_val=paper_imagenet_val, options=paper_options)
show = partial(book.show, folder=page.results(out_dir, "ped_explained"))  # a PNG copy, displayed, captioned

# %% tags=["hide-input"]
def toy_task(n_classes, per_class, spread, seed):
    """Gaussian classes (within-class sd ``spread``) centred on a circle of radius 2, and a general
    set of 1000 isotropic points (sd 2): ``(X, y, G)``."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(n_classes) / n_classes
    y = np.repeat(np.arange(n_classes), per_class)
    X = 2.0 * np.c_[np.cos(angles), np.sin(angles)][y] + spread * rng.normal(size=(len(y), 2))
    return X, y, rng.normal(size=(1000, 2)) * 2.0


def score_table(X, y, G, metrics, **ped_options):
    """Each metric's score of ``(X, y)`` without and with PED (general set ``G``)."""
    return pd.DataFrame({m: {"without PED": potran.score(X, y, m),
                             "with PED": potran.score(X, y, m, ped=True, general=G, **ped_options)}
                         for m in metrics}).T.rename_axis(index="metric", columns="PED").sort_index()

# %%
X, y, G = toy_task(n_classes, per_class, spread, seed)
ped = dict(nsigma=nsigma, time_step=time_step, constant=constant)
trace = potran.simulate(X, y, G, max_steps=max_steps, **ped).trace
steps = pd.DataFrame({"potential energy after": trace.energies[1:], "displacement P": trace.displacements},
                     index=pd.RangeIndex(1, trace.steps + 1, name="step"))
book.table(steps, digits=4,
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
# page helper: the left panel of the figure below
def toy_balls_panel(ax, Z, y, trace, *, nsigma, time_step):
    """``Z`` with each class's ball (radius ``nsigma * r_c``) before and after; the centres' paths."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    path = np.stack(trace.centres)  # (steps + 1) x C x 2
    palette = sns.color_palette(n_colors=len(trace.radii))
    for c in range(len(trace.radii)):
        ax.scatter(*Z[y == c].T, s=4, alpha=0.25, color=palette[c])
        for step, style in ((0, ":"), (-1, "-")):
            ax.add_patch(plt.Circle(path[step, c], nsigma * trace.radii[c], fill=False, ls=style,
                                    color=palette[c], lw=1.5))
        ax.plot(*path[:, c].T, "k.-", ms=3)
    ax.set(aspect="equal", xlabel="standardised feature 1", ylabel="standardised feature 2",
           title=f"t = {time_step}: before (dotted), after {trace.steps} steps")

# %% tags=["hide-input"]
# page helper: the figure of the toy task before and after the motion, and of its energy
def ped_toy(Z, y, trace, reference, *, nsigma, time_step, reference_step):
    """Left, ``toy_balls_panel``; right, the potential energy of ``trace`` and of ``reference`` (run
    with ``reference_step``) relative to before."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=book.figsize(3.9), layout="constrained")
    toy_balls_panel(axes[0], Z, y, trace, nsigma=nsigma, time_step=time_step)
    axes[1].plot(np.array(reference.energies) / reference.energies[0], "o-", label=f"t = {reference_step}")
    axes[1].plot(np.array(trace.energies) / trace.energies[0], "s-", label=f"t = {time_step}")
    axes[1].legend()
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("potential energy U / U before")
    axes[1].set_title("the potential energy declines")
    return fig

# %% tags=["hide-input"]
Z = standardised(X, G)                  # the toy task in the standardised space
shown_trace = potran.simulate(X, y, G, max_steps=max_steps, **dict(ped, time_step=shown_time_step)).trace
show(ped_toy(Z, y, shown_trace, trace, nsigma=nsigma, time_step=shown_time_step,
            reference_step=time_step), "toy_before_after",
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
# page helper: the grid of the figure below, rows of two or three (legible on the page)
def steps_grid(n_panels):
    """A figure with ``n_panels`` axes (the spare ones hidden), its axes, columns and rows."""
    import matplotlib.pyplot as plt

    n_cols = 2 if n_panels in (2, 4) else min(3, n_panels)
    n_rows = -(-n_panels // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=book.figsize(8.2 / n_cols * n_rows + 0.3), sharex=True,
                             sharey=True, squeeze=False, layout="constrained")
    for ax in axes.flat[n_panels:]:
        ax.set_visible(False)
    return fig, axes, n_cols, n_rows

# %% tags=["hide-input"]
# page helper: one panel of the figure below, entry ``k`` of ``trace.centres``
def step_panel(ax, k, Z, y, trace, nsigma, palette):
    """``Z`` moved with its classes to entry ``k``; each ball before (grey) and now; the path so far."""
    import matplotlib.pyplot as plt

    path = np.stack(trace.centres)
    moved = Z + (path[k] - path[0])[y]  # the samples move with their class
    for c in range(len(trace.radii)):
        ax.scatter(*moved[y == c].T, s=2, alpha=0.2, color=palette[c])
        ax.add_patch(plt.Circle(path[0, c], nsigma * trace.radii[c], fill=False, color="0.6", lw=0.8))
        ax.add_patch(plt.Circle(path[k, c], nsigma * trace.radii[c], fill=False, color=palette[c], lw=1.8))
        ax.plot(*path[: k + 1, c].T, "k.-", ms=3, lw=1)
    reach = nsigma * trace.radii.max() + 0.2
    ax.set_aspect("equal")
    ax.set_xlim(path[..., 0].min() - reach, path[..., 0].max() + reach)
    ax.set_ylim(path[..., 1].min() - reach, path[..., 1].max() + reach)

# %% tags=["hide-input"]
# page helper: the title and the corner note of one panel of the figure below
def step_note(ax, k, trace):
    """The panel's title, and its energy ratio and displacement in a corner."""
    energies = np.array(trace.energies)
    ax.set_title("before the motion" if k == 0 else f"after step {k}", fontsize=11)
    note = f"U / U₀ = {energies[k] / energies[0]:.2f}"
    if k > 0:
        note += f"\nP = {trace.displacements[k - 1]:.3f}"
    ax.text(0.03, 0.03, note, transform=ax.transAxes, fontsize=10, va="bottom",
            bbox=dict(facecolor="white", alpha=0.8, lw=0))

# %% tags=["hide-input"]
# page helper: the figure of the motion step by step
def ped_steps(Z, y, trace, *, nsigma):
    """One ``step_panel`` (with its ``step_note``) per entry of ``trace.centres``, in a ``steps_grid``."""
    import seaborn as sns

    palette = sns.color_palette(n_colors=len(trace.radii))
    n_panels = len(trace.centres)
    fig, axes, n_cols, n_rows = steps_grid(n_panels)
    for k, ax in enumerate(axes.flat[:n_panels]):
        step_panel(ax, k, Z, y, trace, nsigma, palette)
        step_note(ax, k, trace)
        if k // n_cols == n_rows - 1 or k + n_cols >= n_panels:
            ax.set_xlabel("standardised feature 1")
        if k % n_cols == 0:
            ax.set_ylabel("standardised feature 2")
    return fig

# %% tags=["hide-input"]
exit_note = ("" if shown_trace.rejected_displacement is None else
             f" The next step (P = {shown_trace.rejected_displacement:.3f}, not above "
             f"ρ = {EXIT_RATIO} times the first) was discarded and ended the motion.")
show(ped_steps(Z, y, shown_trace, nsigma=nsigma), "toy_steps",
     f"The balls (radius λ r_c, λ = {nsigma}) of the toy task in the standardised "
     f"space, one panel per entry of `trace.centres` (t = {shown_time_step}, k = {constant}); "
     f"U / U₀ is the potential energy relative to before the motion and P the displacement of the "
     f"step.{exit_note}",
     alt=f"A grid of {len(shown_trace.centres)} panels, one per step of the motion: the {n_classes} class "
         "balls drawn as coloured circles moving apart from grey circles at their starting places, with "
         "the energy ratio and the displacement written in a corner.")

# %% [markdown]
# (The circles are drawn in the standardised space, where PED measures the overlaps; in this toy the
# general set is isotropic, so it is a scaled copy of the raw one.) Classes that overlap most move
# most; a class with no overlap stays where it is. Scoring the moved features changes the metrics as
# follows:

# %% tags=["hide-input"]
book.table(score_table(X, y, G, (*PED_METRICS, "hscore"), max_steps=max_steps, **ped),
           caption="Scores of the toy task (each metric's own scale).")

# %% [markdown]
# PED only translates whole classes, so what it adds to a metric is how easily the classes can be
# separated *by moving apart*: the paper's reading is that fine-tuning mostly does this, and that a
# model whose classes separate quickly under the repulsion will fine-tune well.
#
# ## A real cell of the benchmark
#
# The same motion on real features: one pretrained model of the zoo on one target of the setting
# (benchmark v4 by default, the paper's design in miniature: the `setting` parameter), exactly as
# the benchmark scores the cell: the training images fine-tuning learns from, the features rotated
# onto their leading principal components (at most 128 on the offline benchmarks; the paper's
# setting scores all 2048), PED with the paper's values. The line under the next cell gives the cell's sizes. The features have many
# dimensions, so the picture projects them on the plane that spreads the class centres most (the
# first two principal components of the centres before the motion); PED moves every centre within
# the span of the centre differences, so this plane shows most of the motion.

# %% tags=["hide-input"]
model = example_model if example_model in page.models else page.models[0]
target = example_target if example_target in page.targets else page.targets[0]
task = page.load_target(target)
arrays = page.cell_features(model, task, cache_dir=cache_dir, device=device)
Xr, yr, Gr = arrays["X_scored"], arrays["y"], arrays["G_scored"]
real = potran.simulate(Xr, yr, Gr, device=device)      # the paper's values, as the benchmark runs it
print(f"{model} on {target}: {len(yr)} images, {len(task.classes)} classes, "
      f"{arrays['X'].shape[1]} features, {Xr.shape[1]} scored; {real.trace.steps} steps, "
      + (f"potential energy {energy_left(real.trace):.1%} of its value before the motion"
         if real.trace.steps else "no two balls overlap, so PED leaves the features as they are"))

# %% tags=["hide-input"]
# page helper: the top panels of the figure below
def images_panel(ax, points, y, centres, title, colours):
    """The images (``points``) coloured by class, with the class ``centres`` in black."""
    import seaborn as sns

    sns.scatterplot(x=points[:, 0], y=points[:, 1], hue=y, palette=colours, s=6, alpha=0.35,
                    linewidth=0, legend=False, ax=ax)
    ax.scatter(*centres.T, s=14, color="k", zorder=3, label="class centres")
    ax.set_title(title)
    ax.legend(loc="upper right")

# %% tags=["hide-input"]
# page helper: the bottom left panel of the figure below
def centres_panel(ax, tracks, classes, colours):
    """The class centres' paths (``tracks``), open before and filled after, each named at its end."""
    for c, name in enumerate(classes):
        ax.plot(*tracks[:, c].T, "-", color=colours[c], lw=1.5)
        ax.scatter(*tracks[0, c], s=30, facecolor="white", edgecolor=colours[c], zorder=3)
        ax.scatter(*tracks[-1, c], s=30, color=colours[c], zorder=3)
        ax.annotate(str(name)[:16], tracks[-1, c], fontsize=10, xytext=(3, 3), textcoords="offset points")
    ax.set_title("class centres: before (open) and after (filled)")

# %% tags=["hide-input"]
# page helper: the bottom right panel of the figure below
def cell_trace_panel(ax, trace, exit_ratio):
    """The trace's energy and displacement relative to their first value, the exit ratio dotted."""
    steps = np.arange(trace.steps + 1)
    if trace.steps:
        ax.plot(steps, np.array(trace.energies) / trace.energies[0], "o-",
                label="potential energy U / U before")
        ax.plot(steps[1:], np.array(trace.displacements) / trace.displacements[0], "s-",
                label="displacement P / P of step 1")
    else:
        ax.text(0.5, 0.5, "no overlap: no step taken", ha="center", transform=ax.transAxes)
    ax.axhline(exit_ratio, color="0.5", ls=":", lw=1, label=f"exit ratio ρ = {exit_ratio}")
    ax.set(ylim=(0, 1.05), xlabel="step", ylabel="relative to the first value (no unit)")
    ax.legend(loc="lower left")
    ax.set_title("the trace")

# %% tags=["hide-input"]
# page helper: the axes of the three maps of the figure below
def pc_labels(axes, share):
    """Each of ``axes`` labelled with the two principal components and their ``share`` of the variance."""
    for ax in axes:
        ax.set(xlabel=f"PC 1 of the centres ({share[0]:.0%} of their variance)",
               ylabel=f"PC 2 of the centres ({share[1]:.0%})")

# %% tags=["hide-input"]
# page helper: the figure of a real cell under PED
def ped_cell(plane, y, classes, trace, *, exit_ratio):
    """A real cell under PED (``plane``: potran.bench.motion.centre_plane): ``images_panel`` before and
    after the motion (top), ``centres_panel`` (bottom left) and ``cell_trace_panel`` (bottom right)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    colours = sns.color_palette("husl", len(classes))
    fig, axes = plt.subplots(2, 2, figsize=book.figsize(7.6), layout="constrained")
    images_panel(axes[0, 0], plane.before, y, plane.tracks[0], "images before the motion", colours)
    images_panel(axes[0, 1], plane.after, y, plane.tracks[-1], f"images after {trace.steps} steps", colours)
    axes[0, 1].set(xlim=axes[0, 0].get_xlim(), ylim=axes[0, 0].get_ylim())
    centres_panel(axes[1, 0], plane.tracks, classes, colours)
    pc_labels((axes[0, 0], axes[0, 1], axes[1, 0]), plane.share)
    cell_trace_panel(axes[1, 1], trace, exit_ratio)
    return fig

# %% tags=["hide-input"]
show(ped_cell(centre_plane(Xr, Gr, real), yr, task.classes, real.trace, exit_ratio=EXIT_RATIO),
     "real_before_after",
     f"{model} on {target}: the features of the {len(yr)} training images "
     f"(the {Xr.shape[1]} dimensions the benchmark scores, standardised by the general set) projected on the plane "
     f"of the class centres' two leading principal components, before (top left) and after (top "
     f"right) PED with the paper's values (λ = {NSIGMA}, t = {TIME_STEP}, k = {CONSTANT}, at most "
     f"{MAX_STEPS} steps); bottom left: "
     f"the paths of the {len(task.classes)} class centres in the same plane; bottom right: the potential "
     f"energy and the displacement of every accepted step, relative to their first value. The axes of the "
     f"three maps are in the standardised units of the general set.",
     alt=f"Four panels: the {len(yr)} images as coloured points with black class centres before and "
         f"after the motion, the paths of the {len(task.classes)} centres from open to filled circles, and "
         "the potential energy and displacement curves of the trace.")

# %% [markdown]
# What the motion did to this cell, and what it does to the scores the benchmark computes from it:

# %%
shift = np.linalg.norm(real.trace.centres[-1] - real.trace.centres[0], axis=1).mean()
ball = (NSIGMA * real.trace.radii).mean()                      # mean ball radius λ r_c
summary = pd.DataFrame({"steps": [real.trace.steps], "U after / U before": [energy_left(real.trace)],
                        "mean centre shift (standardised units)": [shift],
                        "mean ball radius λ r_c (standardised units)": [ball]})
glue("motion_cell", f"{model}'s {target}", display=False)
glue("motion_steps", int(real.trace.steps), display=False)
glue("motion_shift", float(shift), display=False)
glue("motion_shift_of_ball", float(shift / ball) if real.trace.steps else 0.0, display=False)
glue("motion_energy_left", float(energy_left(real.trace)), display=False)
display(book.table(summary, index=False, formats={"steps": "int"}))
book.table(score_table(Xr, yr, Gr, PED_METRICS), caption=f"Scores of {model} on {target}.")

# %% [markdown]
# In {glue:text}`motion_steps` steps with the paper's $t$ the centres of {glue:text}`motion_cell` classes
# moved by {glue:text}`motion_shift:.2f` standardised units on average,
# {glue:text}`motion_shift_of_ball:.0%` of a ball's mean radius, while the potential energy fell to
# {glue:text}`motion_energy_left:.0%` of its value before the motion: the energy is quadratic in the
# overlaps, so small moves of heavily overlapping classes release much of it. (Where no two balls
# of a cell's classes overlap, the potential energy is 0: PED takes no step, and every metric scores
# that cell the same with and without it.)

# %% [markdown]
# How fast the energy declines is what PED credits a model for; whether that ranks models better
# than the metric alone is the subject of the next page, {doc}`main_table`.
