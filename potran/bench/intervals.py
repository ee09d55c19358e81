"""A benchmark as arrays and the crossed bootstrap of its mean tau_w over targets.

All functions take tidy tables: ``scores`` (model, target, metric, perturbation, score: ``potran
bench``'s ``scores.csv``), ``accuracy`` (model, target, test_acc) and ``seeds`` (model, target,
seed, test_acc, n_test: one row per fine-tuning run, :func:`potran.bench.settings.seed_table`).
Their tests: :func:`potran.bench.significance.benchmark_tests`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import stats
from ..evaluation import merge_ties
from ..perturbations import NONE, metric_label
from .tau import BENCH_TIE_RTOL

__all__ = ["Design", "design", "tau_intervals", "compare", "random_null", "INTERVAL_COLUMNS",
           "COMPARE_COLUMNS"]

#: Columns of :func:`tau_intervals`.
INTERVAL_COLUMNS = ["metric", "perturbation", "mean_tau", "low", "high"]
#: Columns of :func:`compare`.
COMPARE_COLUMNS = ["metric", "perturbation", "reference", "delta", "low", "high", "p_value"]


class Design:
    """A benchmark as arrays, one model list crossed with the targets, from tidy tables (module
    docstring) and :func:`potran.bench.finetuned.image_correctness` (``correct``).

    Attributes: ``models``, ``targets``; ``truths`` (per target, the M accuracies, NaN where
    missing); ``seed_accs`` (per target an (M, K) array of per-seed accuracies, or None);
    ``scores`` ({(metric, perturbation): per-target score arrays, ties within ``tie_rtol`` merged});
    ``image_correct`` (per target an (M, K, N) array of per-image correctness, or None where no
    cell records it; None without ``correct``).
    """

    def __init__(self, scores: pd.DataFrame, accuracy: pd.DataFrame, seeds: pd.DataFrame | None = None,
                 tie_rtol: float = BENCH_TIE_RTOL, correct: dict | None = None):
        self.targets = sorted(set(accuracy.target) & set(scores.target))
        self.models = sorted(set(accuracy[accuracy.target.isin(self.targets)].model) & set(scores.model))
        acc = accuracy.pivot(index="model", columns="target", values="test_acc").reindex(self.models)
        self.truths = [acc[t].to_numpy(float) for t in self.targets]
        self.seed_accs = None
        if seeds is not None and len(seeds):
            run = seeds.groupby(["model", "target"]).cumcount()       # 0, 1, ... within each cell
            k = int(run.max()) + 1
            acc = seeds.assign(i=run).set_index(["model", "target", "i"])["test_acc"]
            self.seed_accs = [acc.reindex(pd.MultiIndex.from_product([self.models, [t], range(k)]))
                              .to_numpy(float).reshape(len(self.models), k) for t in self.targets]
        self.image_correct = None
        if correct and self.seed_accs is not None:
            self.image_correct = [self._correct_of(t, correct, k) for t in self.targets]
        self.scores = {}
        for key, grp in scores.groupby(["metric", "perturbation"], sort=False):
            wide = grp.pivot(index="model", columns="target", values="score")
            wide = wide.reindex(index=self.models, columns=self.targets)
            self.scores[key] = [wide[t].to_numpy(float, copy=True) for t in self.targets]
            for s in self.scores[key]:
                s[np.isfinite(s)] = merge_ties(s[np.isfinite(s)], tie_rtol)

    def _correct_of(self, target, correct: dict, k: int):
        cells = {m: correct[(m, target)] for m in self.models if (m, target) in correct}
        if not cells:
            return None
        sizes = {c.shape[1] for c in cells.values()}
        if len(sizes) > 1:
            raise ValueError(f"cells of {target} record correctness on different test sets {sorted(sizes)}")
        out = np.full((len(self.models), k, sizes.pop()), np.nan)
        for i, m in enumerate(self.models):
            if m in cells:
                out[i, :len(cells[m])] = cells[m]
        return out

    def per_target(self, key) -> np.ndarray:
        """tau_w of ``key`` on each target (NaN where fewer than two models are scored)."""
        out = []
        for s, g in zip(self.scores[key], self.truths):
            ok = np.isfinite(s) & np.isfinite(g)
            out.append(stats.weighted_tau_rows(s, g, ok)[0] if ok.sum() >= 2 else np.nan)
        return np.asarray(out)


design = Design


def _replicates(d: Design, n_boot: int, seed: int):
    return stats.crossed_bootstrap(d.scores, d.truths, d.seed_accs, image_correct=d.image_correct,
                                   n_boot=n_boot, seed=seed)


def tau_intervals(scores: pd.DataFrame, accuracy: pd.DataFrame, seeds: pd.DataFrame | None = None,
                  *, n_boot: int = 1000, level: float = 0.95, seed: int = 0,
                  tie_rtol: float = BENCH_TIE_RTOL, correct: dict | None = None) -> pd.DataFrame:
    """Mean tau_w over targets of every (metric, perturbation) with its crossed-bootstrap interval.

    :func:`potran.stats.crossed_bootstrap`: targets fixed; each replicate redraws the models once
    for all targets, with ``seeds`` each cell's seeds, with ``correct``
    (:func:`potran.bench.finetuned.image_correctness`) the test images once for all models. Every
    key on the same replicates, so differences (:func:`compare`) are paired. :data:`INTERVAL_COLUMNS`.
    """
    d = design(scores, accuracy, seeds, tie_rtol, correct)
    if not d.truths:  # no target has both scores and a ground truth: nothing to estimate
        return pd.DataFrame(columns=INTERVAL_COLUMNS)
    return _intervals_of(d, *_replicates(d, n_boot, seed), level)


def _intervals_of(d: Design, est: dict, reps: dict, level: float) -> pd.DataFrame:
    """:func:`tau_intervals` of replicates already drawn."""
    rows = []
    for key in reps:
        res = _bootstrap(d, est, reps, key, None, level)
        rows.append([*key, est[key], *((np.nan, np.nan) if res is None else (res.low, res.high))])
    return pd.DataFrame(rows, columns=INTERVAL_COLUMNS)


def _bootstrap(d: Design, est: dict, reps: dict, a, b, level: float) -> stats.Result | None:
    """The crossed-bootstrap interval of key ``a``'s mean tau_w, or of ``a`` minus key ``b``
    (None when no replicate is finite)."""
    estimate, r, name = est[a], reps[a], metric_label(*a)
    if b is not None:
        estimate, r, name = estimate - est[b], r - reps[b], f"{name} - {metric_label(*b)}"
    if not np.isfinite(r).any():
        return None
    seeds = d.seed_accs is not None
    images = d.image_correct is not None and any(c is not None for c in d.image_correct)
    resampled = ("models (one resample shared by all targets)"
                 + (" and each cell's fine-tuning seeds" if seeds else "")
                 + ("; test images (one draw per target shared by all models); targets fixed" if images
                    else "; targets and test images fixed"))
    population = (f"these {len(d.targets)} targets; other models like these"
                  + (", other fine-tuning seeds" if seeds else ""))
    return stats.bootstrap(estimate, r, comparison=name, resampled=resampled, population=population,
                           level=level)


def compare(scores: pd.DataFrame, accuracy: pd.DataFrame, seeds: pd.DataFrame | None = None, *,
            perturbation: str, reference: str = NONE, n_boot: int = 1000, level: float = 0.95,
            seed: int = 0, tie_rtol: float = BENCH_TIE_RTOL, correct: dict | None = None) -> pd.DataFrame:
    """Mean tau_w of each metric with ``perturbation`` minus with ``reference``, paired.

    On the crossed-bootstrap replicates of :func:`tau_intervals` (same arguments and ``seed``, same
    replicates): the interval and two-sided bootstrap p of no difference (:func:`potran.stats.bootstrap`)
    of the metrics scored with both. :data:`COMPARE_COLUMNS` (NaN where no replicate is finite).
    """
    _check_scored(scores, perturbation, reference)
    d = design(scores, accuracy, seeds, tie_rtol, correct)
    if not d.truths:
        return pd.DataFrame(columns=COMPARE_COLUMNS)
    return _compare_of(d, *_replicates(d, n_boot, seed), perturbation, reference, level)


def _check_scored(scores: pd.DataFrame, *perturbations) -> None:
    scored = set(scores["perturbation"])
    for p in perturbations:
        if p not in scored:
            raise ValueError(f"no scores with perturbation {p!r}; scored: {sorted(scored)}")


def _compare_of(d: Design, est: dict, reps: dict, perturbation: str, reference: str,
                level: float) -> pd.DataFrame:
    """:func:`compare` of replicates already drawn."""
    rows = []
    for metric in dict.fromkeys(m for m, _ in reps):
        a, b = (metric, perturbation), (metric, reference)
        if a in reps and b in reps:
            res = _bootstrap(d, est, reps, a, b, level)
            rows.append([metric, perturbation, reference, est[a] - est[b],
                         *((np.nan,) * 3 if res is None else (res.low, res.high, res.p_value))])
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


def random_null(accuracy: pd.DataFrame, *, n_draws: int = 2000, level: float = 0.95,
                seed: int = 0) -> dict:
    """``{"mean", "low", "high", "draws"}``: the band of the mean tau_w over targets of a random
    scorer (distinct scores), the null of :func:`potran.stats.chance_test` on these targets and
    models. Where chance falls, not a test (that is family ``chance`` of
    :func:`potran.bench.significance.benchmark_tests`)."""
    truths = [grp.test_acc.to_numpy(float) for _, grp in accuracy.groupby("target", sort=True)]
    res = stats.chance_test([None] * len(truths), truths, n_draws=n_draws, seed=seed, level=level)
    return {"mean": float(res.distribution.mean()), "low": res.low, "high": res.high,
            "draws": res.distribution}

