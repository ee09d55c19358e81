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
n_classes = 4          # classes of the toy task
per_class = 150        # samples per class
spread = 1.8           # within-class standard deviation (larger = more overlap)
nsigma = 0.6           # λ, radius coefficient (the paper's runs)
time_step = 0.1        # t (the paper's runs)
shown_time_step = 0.5  # a larger t for the picture: with t = 0.1 a step moves a class by 0.5 % of its overlap
constant = 1.0         # k
max_steps = 6
seed = 0

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import potran

rng = np.random.default_rng(seed)
angles = 2 * np.pi * np.arange(n_classes) / n_classes
centres = 2.0 * np.c_[np.cos(angles), np.sin(angles)]
y = np.repeat(np.arange(n_classes), per_class)
X = centres[y] + spread * rng.normal(size=(len(y), 2))
G = rng.normal(size=(1000, 2)) * 2.0          # the "general" set: its mean/std standardise the space
ped = dict(nsigma=nsigma, time_step=time_step, constant=constant)
result = potran.simulate(X, y, G, max_steps=max_steps, **ped)
result.trace

# %% [markdown]
# The trace holds the accepted steps, the displacement $P = \sum_{c,d} |\Delta_{c,d}|$ of each step and
# the potential energy {eq}`energy` before the first and after every step. Re-running the simulation
# with fewer steps gives the position of every class centre along the way:

# %%
def class_centres(features):
    return np.array([features[y == c].mean(0) for c in range(n_classes)])


shown = dict(ped, time_step=shown_time_step)
shown_trace = potran.simulate(X, y, G, max_steps=max_steps, **shown).trace
path = np.stack([class_centres(potran.simulate(X, y, G, max_steps=s, **shown).features)
                 for s in range(shown_trace.steps + 1)])
radii = np.array([np.sqrt(X[y == c].var(0).sum()) for c in range(n_classes)])

fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
ax = axes[0]
for c in range(n_classes):
    ax.scatter(*X[y == c].T, s=4, alpha=0.25, color=f"C{c}")
    for step, style in ((0, ":"), (-1, "-")):
        ax.add_patch(plt.Circle(path[step, c], nsigma * radii[c], fill=False, ls=style, color=f"C{c}"))
    ax.plot(*path[:, c].T, "k.-", ms=3)
ax.set_aspect("equal")
ax.set_title(f"t = {shown_time_step}: balls before (dotted) and after {shown_trace.steps} steps")
axes[1].plot(np.array(result.trace.energies) / result.trace.energies[0], "o-", label=f"t = {time_step}")
axes[1].plot(np.array(shown_trace.energies) / shown_trace.energies[0], "s-", label=f"t = {shown_time_step}")
axes[1].legend()
axes[1].set_xlabel("step")
axes[1].set_ylabel("potential energy U / U before")
axes[1].set_title("the potential energy declines")
fig.tight_layout()

# %% [markdown]
# (In this toy the general set is isotropic, so the standardised space is a scaled copy of the
# picture and the circles are drawn in raw units.) Classes that overlap most move most; a class with
# no overlap stays where it is. Scoring the moved features changes the metrics as follows:

# %%
rows = []
for metric in ("logme", "sfda", "gbc", "hscore"):
    for use_ped in (False, True):
        rows.append({"metric": metric, "PED": use_ped,
                     "score": potran.score(X, y, metric, ped=use_ped, general=G if use_ped else None,
                                           **({"max_steps": max_steps, **ped} if use_ped else {}))})
pd.DataFrame(rows).pivot(index="metric", columns="PED", values="score")

# %% [markdown]
# PED only translates whole classes, so what it adds to a metric is how easily the classes can be
# separated *by moving apart*: the paper's reading is that fine-tuning mostly does this, and that a
# model whose classes separate quickly under the repulsion will fine-tune well.
