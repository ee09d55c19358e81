"""Every test of a benchmark's scores (tidy tables of :mod:`potran.bench.intervals`), one
:meth:`potran.stats.Result.record` a row in the columns :data:`TEST_COLUMNS` (the schema of
:func:`potran.bench.paper_analysis.paper_tests` too), with Holm's correction per family."""
from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from .. import stats
from ..perturbations import NONE, metric_label, title
from .intervals import Design, _bootstrap, _replicates, design
from .tau import BENCH_TIE_RTOL

__all__ = ["TEST_COLUMNS", "FAMILIES", "add_holm", "benchmark_tests"]


#: Columns of :func:`benchmark_tests` (and :func:`potran.bench.paper_analysis.paper_tests`).
#: ``perturbation`` is the row's (or, for a comparison of two perturbations, the compared one's)
#: and ``reference`` the one it is compared with (None for the other rows).
TEST_COLUMNS = ["family", "metric", "perturbation", "reference", "comparison", "estimate", "low", "high",
                "p_value", "p_holm", "test", "min_p", "n", "resampled", "population", "verdict"]


#: What each family of tests asks (the first words of its verdicts).
FAMILIES = {
    "chance": "against chance",
    "targets": "mean over targets",
    "models": "crossed bootstrap",
    "PED": "PED - none, per target",
    "PED, models": "PED - none, crossed bootstrap",
    "SA": "SA - none, per target",
    "SA, models": "SA - none, crossed bootstrap",
    "baseline": "metric - baseline, per target",
    "pair": "metric - metric, per target",
    "pair, models": "metric - metric, crossed bootstrap",
}


def _row(family: str, metric: str, perturbation, res: stats.Result, reference=None) -> dict:
    return {"family": family, "metric": metric, "perturbation": perturbation, "reference": reference,
            **res.record()}


def add_holm(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``p_holm`` (Holm over the rows of each family) and a plain ``verdict`` per row."""
    table = table.copy()
    table["p_holm"] = table.groupby("family", sort=False)["p_value"].transform(
        lambda p: stats.holm(p.to_numpy(float)))
    table["verdict"] = [_verdict(r) for r in table.itertuples()]
    return table[TEST_COLUMNS]


def _verdict(r) -> str:
    """Plain words: resolved or not, in which direction, or why it cannot be."""
    if r.family == "models":
        return "interval only (its test is the chance row)"
    if not np.isfinite(r.p_holm):
        return "not computable"
    if r.min_p > 0.05:
        return f"cannot be resolved by this test (smallest possible p {r.min_p:.3g} > 0.05)"
    if r.p_holm >= 0.05:
        return "not resolved (compatible with no difference)"
    if r.family == "chance":
        return "better than chance" if r.estimate > r.low + (r.high - r.low) / 2 else "worse than chance"
    return "resolved: " + ("positive" if r.estimate > 0 else "negative")


def benchmark_tests(scores: pd.DataFrame, accuracy: pd.DataFrame, seeds: pd.DataFrame | None = None,
                    *, baseline: str | None = "static_loto", pairs=(), n_boot: int = 1000,
                    n_draws: int = 2000, level: float = 0.95, seed: int = 0,
                    tie_rtol: float = BENCH_TIE_RTOL, correct: dict | None = None) -> pd.DataFrame:
    """Every test of a benchmark's scores, one row each (:data:`TEST_COLUMNS`), Holm within families.

    ``chance`` (:func:`potran.stats.chance_test`; ``low``/``high`` the random scorer's band),
    ``targets`` (mean tau_w over targets, :func:`potran.stats.sign_flip` with its t-interval),
    ``models`` (mean tau_w, crossed bootstrap); per perturbation other than ``"none"`` its family
    (``PED``, ``SA`` or a setting's label) and that family's ``, models`` half: the metric with it
    minus without (``reference`` ``"none"``), per-target sign-flip and crossed bootstrap;
    ``baseline``: each metric minus ``baseline``, per-target sign-flip (``scores`` should hold its
    rows, e.g. :func:`potran.bench.finetuned.leave_one_target_out`); per pair
    ``((metric, perturbation), (metric, perturbation))`` of ``pairs``, ``pair`` and ``pair, models``
    (first minus second). ``correct`` (:func:`potran.bench.finetuned.image_correctness`) adds the
    test images to the crossed bootstrap.
    """
    d = design(scores, accuracy, seeds, tie_rtol, correct)
    if not d.truths:  # no target has both scores and a ground truth
        return pd.DataFrame(columns=TEST_COLUMNS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        est, reps = _replicates(d, n_boot, seed)
    return _tests_of(d, est, reps, baseline=baseline, pairs=pairs, n_draws=n_draws, level=level, seed=seed)


def _tests_of(d: Design, est: dict, reps: dict, *, baseline, pairs, n_draws: int, level: float,
              seed: int) -> pd.DataFrame:
    """:func:`benchmark_tests` of crossed-bootstrap replicates already drawn."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_target = {key: d.per_target(key) for key in d.scores}
    rows = []

    def difference(family: str, a, b, comparison: str, reference=None, models: bool = True) -> None:
        """Rows of key ``a`` minus key ``b``: per-target sign-flip and (``models``) crossed bootstrap."""
        diff = per_target[a] - per_target[b]
        if np.isfinite(diff).sum() >= 2:
            rows.append(_row(family, a[0], a[1], stats.sign_flip(
                diff[np.isfinite(diff)], comparison=comparison, level=level), reference))
        boot = _bootstrap(d, est, reps, a, b, level) if models else None
        if boot is not None:
            rows.append(_row(f"{family}, models", a[0], a[1], boot, reference))

    for key, rows_s in d.scores.items():
        metric, perturbation = key
        name = metric_label(metric, perturbation)
        ok = np.isfinite(per_target[key])
        if ok.sum() == 0:
            continue
        rows.append(_row("chance", metric, perturbation, stats.chance_test(
            [s for s, o in zip(rows_s, ok) if o], [g for g, o in zip(d.truths, ok) if o],
            comparison=f"{name} vs chance", n_draws=n_draws, seed=seed, level=level)))
        if ok.sum() >= 2:
            rows.append(_row("targets", metric, perturbation, stats.sign_flip(
                per_target[key][ok], comparison=f"{name}: mean tau_w", level=level)))
        boot = _bootstrap(d, est, reps, key, None, level)
        if boot is not None:  # an interval only: the chance row is its test
            rows.append(_row("models", metric, perturbation, replace(
                boot, comparison=f"{name}: mean tau_w", p_value=float("nan"), min_p=float("nan"))))
    for p in dict.fromkeys(p for _, p in d.scores if p != NONE):
        for metric in dict.fromkeys(m for m, _ in d.scores):
            if (metric, p) in d.scores and (metric, NONE) in d.scores:
                difference(title(p), (metric, p), (metric, NONE), f"{metric_label(metric, p)} - {metric}",
                           NONE)
    for a, b in pairs:
        a, b = tuple(a), tuple(b)
        missing = [k for k in (a, b) if k not in d.scores]
        if missing:
            raise ValueError(f"no scores for {missing}; scored: {sorted(d.scores)}")
        difference("pair", a, b, f"{metric_label(*a)} - {metric_label(*b)}")
    if baseline is not None and (baseline, NONE) in d.scores:
        for key in d.scores:
            if key[0] != baseline:
                difference("baseline", key, (baseline, NONE), f"{metric_label(*key)} - {baseline}",
                           models=False)
    return add_holm(pd.DataFrame(rows))
