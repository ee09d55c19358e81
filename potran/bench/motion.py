"""What one PED motion did, read from its trace: the standardised space where the balls live,
the plane of the class centres, and the potential energy left after the motion (drawn by the PED
page, ``notebooks/ped_explained.py``)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ped import EPS

__all__ = ["standardised", "CentrePlane", "centre_plane", "energy_left"]


def standardised(X, G) -> np.ndarray:
    """``X`` in PED's standardised space: minus the general set's mean, over its population
    standard deviation floored at ``potran.ped.EPS``."""
    return (X - G.mean(0)) / np.maximum(G.std(0), EPS)


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
    with general set ``G``); PED moves the centres within their differences' span."""
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
