"""What the λ grid and normalization pages still take from here: one page's tables each.

The table computations of PED's options (intervals per setting, the choice on the grid, the
motion, the agreement of two rankings, the per-dimension geometry, the radius grid) live in
:mod:`potran.bench.ped_options`, an analysis module; their names are importable from here too, for
the pages that import them here. What is left below serves the normalization page (:data:`SPACES`,
:func:`radius_need`, :func:`geometry_both_ways`, :func:`radii_table`) and moves onto it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .ped_options import (  # noqa: F401 -- kept for the pages that import them here
    RADIUS_GRID,
    class_geometry,
    dimension_spread,
    grid_selection,
    radius_grid,
    ranking_agreement,
    scored_truth,
    settings_intervals,
    trace_summary,
)
from .settings import name_list, parameter_dict  # noqa: F401 -- kept for the pages that import them here

__all__ = ["SPACES", "radius_need", "geometry_both_ways", "radii_table"]


#: The two spaces PED can move the classes in, with their names on the page.
SPACES = {"standardised": "standardised by the general set", "raw": "raw feature space"}


def radius_need(spread: pd.DataFrame) -> dict:
    """Per space, how many dimensions (largest share first) carry 50 % and 90 % of the summed squared class
    radii (:func:`~potran.bench.ped_options.dimension_spread`): ``{space: {0.5: n, 0.9: n}}``."""
    shares = {way: np.sort(spread[f"radius_share_{way}"].to_numpy())[::-1] for way in SPACES}
    return {
        way: {q: int(np.searchsorted(np.cumsum(s), q) + 1) for q in (0.5, 0.9)} for way, s in shares.items()
    }


def geometry_both_ways(runs: dict, classes, nsigma: float) -> pd.DataFrame:
    """:func:`~potran.bench.ped_options.class_geometry` of each run (``{space: result of
    potran.simulate}``), with columns ``space`` and ``class name`` (the first 14 characters of
    ``classes``)."""
    geometry = pd.concat([class_geometry(r.trace, nsigma).assign(space=way) for way, r in runs.items()])
    geometry["class name"] = [str(classes[c])[:14] for c in geometry["class"]]
    return geometry


def radii_table(geometry: pd.DataFrame) -> pd.DataFrame:
    """Per class, the ball radius and its ratio to the nearest other centre in each space."""
    per_class = geometry.pivot_table(
        index="class name", columns="space", values=["radius", "radius_to_nearest"], sort=False
    )
    per_class.columns = [
        f"{'ball radius λ r_c' if v == 'radius' else 'radius / nearest centre'}, {w}"
        for v, w in per_class.columns
    ]
    return per_class
