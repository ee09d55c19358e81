"""What a benchmark's results can resolve: every interval and test of its scores at once
(:func:`resolve`: :func:`potran.bench.intervals.tau_intervals`, :func:`potran.bench.intervals.compare`
and :func:`potran.bench.significance.benchmark_tests` on one set of crossed-bootstrap replicates).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..perturbations import NONE, PED
from .finetuned import leave_one_target_out
from .intervals import _check_scored, _compare_of, _intervals_of, _replicates, design, random_null
from .significance import TEST_COLUMNS, _tests_of

__all__ = ["SETTINGS", "resolve"]


#: The name of each kind of interval row: a perturbation, or PED's paired difference from none.
SETTINGS = {NONE: "without PED", PED: "with PED", "delta": "with − without"}


def resolve(scores: pd.DataFrame, accuracy_all: pd.DataFrame, accuracy: pd.DataFrame, seeds, usable, *,
            n_boot: int = 1000, n_null: int = 2000, level: float = 0.95, seed: int = 0):
    """:func:`~potran.bench.intervals.tau_intervals`, PED's paired effect and every test row of
    the metrics and the static baseline (of ``accuracy_all``) on the ``usable`` targets (those
    with two models with ``accuracy``), and :func:`~potran.bench.intervals.random_null`: the
    numbers of those functions called with the same ``n_boot`` and ``seed``, on one crossed
    bootstrap. Returns ``(intervals, tests, null)``; ``intervals`` has a ``setting``
    (:data:`SETTINGS`) and a ``computable`` column; without usable targets all are empty and
    ``null`` is None."""
    intervals = pd.DataFrame(columns=["metric", "perturbation", "reference", "mean_tau", "low", "high"])
    tests, null = pd.DataFrame(columns=TEST_COLUMNS), None
    if usable:
        static = leave_one_target_out(accuracy_all)
        static = static[static.target.isin(usable)]
        pool = pd.concat([scores[["model", "target", "metric", "perturbation", "score"]], static],
                         ignore_index=True)
        _check_scored(pool, PED, NONE)
        d = design(pool, accuracy, seeds)
        if d.truths:
            with warnings.catch_warnings():  # a metric without any finite tau_w has an all-NaN interval
                warnings.simplefilter("ignore", RuntimeWarning)
                est, reps = _replicates(d, n_boot, seed)  # drawn once: intervals, PED's effect, tests
                effect = _compare_of(d, est, reps, PED, NONE, level).rename(columns={"delta": "mean_tau"})
                intervals = pd.concat([_intervals_of(d, est, reps, level), effect], ignore_index=True)
                tests = _tests_of(d, est, reps, baseline="static_loto" if len(usable) > 1 else None,
                                  pairs=(), n_draws=n_null, level=level, seed=seed)
        null = random_null(accuracy, n_draws=n_null, level=level, seed=seed)
    intervals["setting"] = [SETTINGS["delta" if isinstance(r, str) else p]
                            for p, r in zip(intervals.perturbation, intervals.reference)]
    intervals["computable"] = np.isfinite(intervals.mean_tau.astype(float))
    return intervals, tests, null
