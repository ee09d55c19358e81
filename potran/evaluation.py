"""Rank evaluation: how well transferability scores rank models by fine-tuning accuracy.

Every statistic takes ``scores`` (one per model, higher = more transferable) and ``gt`` (their
fine-tuning accuracies), both sequences matched by position or mappings / Series keyed by model
name (method page, §Rank evaluation). Top-k ties go to the first listed, as the stable
``sorted(..., reverse=True)`` of the official ``rank_correlation.py``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .stats import bootstrap as _bootstrap


def _vector(values, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric: {err}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per model), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or Inf")
    return arr


def _align(scores, gt) -> tuple[np.ndarray, np.ndarray]:
    """Validate and pair ``scores`` with ``gt``; returns two float64 vectors in the same order."""
    keyed = isinstance(scores, (Mapping, pd.Series))
    if keyed != isinstance(gt, (Mapping, pd.Series)):
        raise ValueError("scores and gt must both be keyed by model name (dict / Series) "
                         "or both be sequences")
    if keyed:
        s_map, g_map = dict(scores), dict(gt)
        if len(s_map) != len(scores) or len(g_map) != len(gt):
            raise ValueError("model names must be unique")
        problems = [f"{label} {names}" for label, names in
                    (("no gt for", [k for k in s_map if k not in g_map]),
                     ("no score for", [k for k in g_map if k not in s_map])) if names]
        if problems:
            raise ValueError(f"scores and gt name different models: {'; '.join(problems)}")
        scores, gt = list(s_map.values()), [g_map[k] for k in s_map]
    s, g = _vector(scores, "scores"), _vector(gt, "gt")
    if s.shape != g.shape:
        raise ValueError(f"scores and gt have different lengths: {s.size} and {g.size}")
    if s.size < 2:
        raise ValueError(f"need at least 2 models to rank, got {s.size}")
    return s, g


def _correlation(statistic, scores, gt) -> float:
    """Validate and align ``scores`` and ``gt``, then apply a scipy correlation ``statistic``."""
    s, g = _align(scores, gt)
    for arr, name in ((s, "scores"), (g, "gt")):
        if np.all(arr == arr[0]):
            raise ValueError(f"all {name} are equal: the correlation is undefined")
    return float(statistic(s, g).statistic)


def merge_ties(values, rtol: float) -> np.ndarray:
    """``values`` with every run of values equal to within ``rtol`` (relative) set to its first.

    A sorted value within ``rtol`` times the magnitude of its run's first value joins the run, so
    float noise (e.g. 1 +/- 1e-12) cannot decide a ranking. ``rtol=0``: unchanged.
    """
    v = np.asarray(values, dtype=np.float64).copy()
    if rtol <= 0 or v.size < 2:
        return v
    order = np.argsort(v, kind="stable")
    anchor = v[order[0]]
    for i in order[1:]:
        if abs(v[i] - anchor) <= rtol * max(abs(anchor), abs(v[i])):
            v[i] = anchor
        else:
            anchor = v[i]
    return v


def weighted_tau(scores, gt, *, tie_rtol: float = 0.0) -> float:
    """Weighted Kendall tau, exactly ``scipy.stats.weightedtau(scores, gt).statistic``.

    scipy's defaults are the official ``tw.py`` protocol (method page, §Rank evaluation):
    ``rank=True`` (taus of the decreasing rankings by (scores, gt) and by (gt, scores), averaged),
    hyperbolic weigher 1/(r+1), additive pair weights; symmetric and independent of model order.
    ``tie_rtol > 0`` first applies :func:`merge_ties` (the benchmark uses
    :data:`potran.bench.tau.BENCH_TIE_RTOL`). ValueError for inputs not 1-D, of different lengths
    or model names, with fewer than 2 models, NaN/Inf, or constant (statistic undefined).
    """
    s, g = _align(scores, gt)
    return _correlation(stats.weightedtau, merge_ties(s, tie_rtol), g)


def kendall_tau(scores, gt) -> float:
    """Kendall's tau-b (``scipy.stats.kendalltau``), as ``rank_correlation.kendall_metric``."""
    return _correlation(stats.kendalltau, scores, gt)


def pearson(scores, gt) -> float:
    """Pearson correlation (``scipy.stats.pearsonr``), as ``rank_correlation.pearson_coef``."""
    return _correlation(stats.pearsonr, scores, gt)


def spearman(scores, gt) -> float:
    """Spearman rank correlation (``scipy.stats.spearmanr``); not used by the official code."""
    return _correlation(stats.spearmanr, scores, gt)


def _top_k(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest values, ties broken by input order."""
    return np.argsort(-values, kind="stable")[:k]


def _align_k(scores, gt, k) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`_align` and a checked ``k``."""
    s, g = _align(scores, gt)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"k must be an integer, got {k!r}")
    if not 1 <= k <= s.size:
        raise ValueError(f"k must be between 1 and the number of models ({s.size}), got {k}")
    return s, g, int(k)


def rel_at_k(scores, gt, k: int) -> float:
    """Relative accuracy rel@k: best accuracy among the top-k models by score / best accuracy.

    ``rel_k`` of the official ``rank_correlation.py`` (PED and SFDA repositories): 1.0 when the
    truly best model is among the k highest scores. Accuracies must be positive.
    """
    s, g, k = _align_k(scores, gt, k)
    if g.max() <= 0:
        raise ValueError("rel@k needs positive accuracies (it divides by the best one)")
    return float(g[_top_k(s, k)].max() / g.max())


def recall_at_k(scores, gt, k: int) -> float:
    """Fraction of the k truly best models (by ``gt``) that are among the k highest scores."""
    s, g, k = _align_k(scores, gt, k)
    return len(set(_top_k(s, k)) & set(_top_k(g, k))) / k


def hit_at_k(scores, gt, k: int) -> float:
    """1.0 if the highest-scored model is among the k truly best models, else 0.0.

    What ``recall_k`` of the official ``rank_correlation.py`` means to return; as shipped it slices
    ``dict.keys()``, a TypeError on Python 3 (method page, quirk 16). Equals ``recall_at_k`` at k=1.
    """
    s, g, k = _align_k(scores, gt, k)
    return float(_top_k(s, 1)[0] in _top_k(g, k))


@dataclass(frozen=True)
class BootstrapCI:
    """Percentile bootstrap interval of a rank statistic over models (:mod:`potran.stats`).

    ``n_skipped`` of ``n_boot`` resamples were degenerate (under 2 distinct models, constant
    scores or gt, or a non-finite statistic) and left out.
    """

    estimate: float
    low: float
    high: float
    level: float
    n_boot: int
    n_skipped: int


def bootstrap_ci(scores, gt, stat: Callable[[np.ndarray, np.ndarray], float] = weighted_tau,
                 n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> BootstrapCI:
    """Confidence interval of ``stat(scores, gt)`` by resampling models with replacement.

    ``scores, gt`` as for :func:`weighted_tau`; ``stat(scores, gt) -> float`` on two aligned float
    arrays; ``n_boot`` resamples drawn (degenerate ones skipped and counted); ``level``: coverage
    in (0, 1); ``seed`` of the ``numpy.random.default_rng``. ValueError for bad inputs (as
    :func:`weighted_tau`), ``n_boot < 1``, ``level`` outside (0, 1), a non-finite statistic on the
    full data, or every resample degenerate.
    """
    s, g = _align(scores, gt)
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    estimate = float(stat(s, g))
    if not np.isfinite(estimate):
        raise ValueError(f"stat returned {estimate} on the full data")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(int(n_boot)):
        i = rng.integers(0, s.size, s.size)
        degenerate = np.unique(i).size < 2 or np.all(s[i] == s[i][0]) or np.all(g[i] == g[i][0])
        values.append(np.nan if degenerate else float(stat(s[i], g[i])))
    skipped = int((~np.isfinite(values)).sum())
    if skipped == n_boot:
        raise ValueError(f"all {n_boot} bootstrap resamples were degenerate")
    res = _bootstrap(estimate, values, comparison="rank statistic", resampled="models",
                     population="other models like these, on this target", level=level)
    return BootstrapCI(estimate, res.low, res.high, float(level), int(n_boot), skipped)


def require_columns(table: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; it has {list(table.columns)}")


def correlate_by_target(scores: pd.DataFrame, gt: pd.DataFrame, stat: Callable = weighted_tau, *,
                        accuracy: str = "test_acc") -> pd.Series:
    """``stat`` per target task from two tidy tables.

    ``scores`` has columns ``model``, ``score`` and optionally ``target``; ``gt`` has ``model``,
    the ``accuracy`` column (default ``test_acc``, as in every potran table) and ``target`` when
    ``scores`` has one (e.g. ``potran.paper.groundtruth()`` or the benchmark's ``accuracy.csv``);
    targets of ``gt`` without scores are ignored. ``stat``: e.g. :func:`weighted_tau`. Returns one
    value per target (index ``target``, order of first appearance in ``scores``), or a single value
    with index ``[None]`` when there are no targets.
    """
    require_columns(scores, ("model", "score"), "scores")
    require_columns(gt, ("model", accuracy), "gt")
    s_has, g_has = "target" in scores.columns, "target" in gt.columns
    if s_has != g_has:
        raise ValueError("gt has a 'target' column but scores do not: say which target they score"
                         if g_has else "scores have a 'target' column but gt does not")
    if not s_has:
        s_groups, g_groups = {None: scores}, {None: gt}
    else:
        s_groups = dict(tuple(scores.groupby("target", sort=False)))
        g_groups = dict(tuple(gt.groupby("target", sort=False)))
        unknown = [t for t in s_groups if t not in g_groups]
        if unknown:
            raise ValueError(f"no ground truth for target(s) {unknown}")
    result = {}
    for target, s_rows in s_groups.items():
        g_rows = g_groups[target]
        where = "" if target is None else f" (target {target!r})"
        for rows, name in ((s_rows, "scores"), (g_rows, "gt")):
            if rows["model"].duplicated().any():
                dup = sorted(set(rows.loc[rows["model"].duplicated(), "model"]))
                raise ValueError(f"{name} list model(s) {dup} more than once{where}")
        try:
            result[target] = stat(pd.Series(s_rows["score"].to_numpy(), index=s_rows["model"]),
                                  pd.Series(g_rows[accuracy].to_numpy(), index=g_rows["model"]))
        except ValueError as err:
            raise ValueError(f"{err}{where}") from None
    return pd.Series(result, name=getattr(stat, "__name__", "stat")).rename_axis("target")
