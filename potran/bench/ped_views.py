"""PED's motion made visible: a two-dimensional toy task, the standardised space where the balls
live, the plane of a real cell's class centres, and what the motion did to a cell.

The figures of these views are :func:`potran.bench.plots.ped_toy`, :func:`~potran.bench.plots.ped_steps`
and :func:`~potran.bench.plots.ped_cell` (the page ``notebooks/ped_explained.py``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import potran

from ..ped import EPS, NSIGMA

__all__ = ["toy_task", "standardised", "score_table", "CentrePlane", "centre_plane", "energy_left",
           "step_table", "motion_summary"]


def toy_task(n_classes: int = 4, per_class: int = 150, spread: float = 1.8, seed: int = 0):
    """``n_classes`` Gaussian classes of ``per_class`` points (within-class sd ``spread``) with
    their centres on a circle of radius 2, and a general set of 1000 isotropic points (sd 2).
    Returns ``(X, y, G)``."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(n_classes) / n_classes
    centres = 2.0 * np.c_[np.cos(angles), np.sin(angles)]
    y = np.repeat(np.arange(n_classes), per_class)
    X = centres[y] + spread * rng.normal(size=(len(y), 2))
    G = rng.normal(size=(1000, 2)) * 2.0          # the "general" set: its mean/std standardise the space
    return X, y, G


def standardised(X, G) -> np.ndarray:
    """``X`` in PED's standardised space: minus the general set's mean, over its population
    standard deviation floored at ``potran.ped.EPS``."""
    return (X - G.mean(0)) / np.maximum(G.std(0), EPS)


def score_table(X, y, G, metrics, **ped_options) -> pd.DataFrame:
    """Each of ``metrics``' score of ``(X, y)`` without and with PED (general set ``G``,
    ``ped_options`` of :func:`potran.simulate`): one row per metric, columns "without PED" and
    "with PED"."""
    rows = {metric: {"without PED": potran.score(X, y, metric),
                     "with PED": potran.score(X, y, metric, ped=True, general=G, **ped_options)}
            for metric in metrics}
    return (
        pd.DataFrame.from_dict(rows, orient="index").rename_axis(index="metric", columns="PED").sort_index()
    )


@dataclass(frozen=True)
class CentrePlane:
    """A cell's images before and after PED (``before``, ``after``: N x 2) and its class centres
    at every step (``tracks``: (steps + 1) x C x 2) on the plane of the centres' two leading
    principal components, with the share of the centres' variance each explains (``share``)."""

    before: np.ndarray
    after: np.ndarray
    tracks: np.ndarray
    share: np.ndarray


def centre_plane(X, G, result) -> CentrePlane:
    """:class:`CentrePlane` of features ``X`` moved by PED (``result`` of :func:`potran.simulate`
    with general set ``G``): PED moves every centre within the span of the centre differences, so
    this plane shows most of the motion."""
    from sklearn.decomposition import PCA

    plane = PCA(n_components=2).fit(result.trace.centres[0])
    return CentrePlane(
        plane.transform(standardised(X, G)),
        plane.transform(standardised(result.features, G)),
        np.stack([plane.transform(c) for c in result.trace.centres]),
        plane.explained_variance_ratio_,
    )


def energy_left(trace) -> float:
    """Potential energy after the motion over before; NaN when no two balls overlap (U = 0)."""
    return trace.energies[-1] / trace.energies[0] if trace.energies[0] > 0 else np.nan


def step_table(trace) -> pd.DataFrame:
    """One row per accepted step of a :class:`potran.ped.PEDTrace` (index "step", from 1): the
    potential energy after it and its displacement P."""
    return pd.DataFrame(
        {"potential energy after": trace.energies[1:], "displacement P": trace.displacements},
        index=pd.RangeIndex(1, trace.steps + 1, name="step"),
    )


def motion_summary(trace, nsigma: float = NSIGMA) -> pd.DataFrame:
    """One row: the accepted steps, :func:`energy_left`, the mean shift of the class centres and
    the mean ball radius ``nsigma * r_c`` (both in the standardised units of the general set)."""
    shift = np.linalg.norm(trace.centres[-1] - trace.centres[0], axis=1)
    return pd.DataFrame(
        {
            "steps": [trace.steps],
            "U after / U before": [energy_left(trace)],
            "mean centre shift (standardised units)": [shift.mean()],
            "mean ball radius λ r_c (standardised units)": [(nsigma * trace.radii).mean()],
        }
    )
