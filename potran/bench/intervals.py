"""A benchmark as arrays and the crossed bootstrap of its mean tau_w over targets.

All functions take tidy tables: ``scores`` (model, target, metric, perturbation, score: ``potran
bench``'s ``scores.csv``), ``accuracy`` (model, target, test_acc) and ``seeds`` (model, target,
seed, test_acc, n_test: one row per fine-tuning run, :func:`potran.bench.settings.seed_table`).

The tests of these tables are :func:`potran.bench.significance.benchmark_tests`.
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
    """A benchmark as arrays: one model list crossed with the targets.

    Attributes: ``models``, ``targets``; ``truths`` (per target, the M accuracies, NaN where
    missing); ``seed_accs`` (per target an (M, K) array of per-seed accuracies, or None);
    ``scores`` ({(metric, perturbation): per-target score arrays, ties within ``tie_rtol`` merged});
    ``image_correct`` (per target an (M, K, N) array of per-image correctness, or None where no
    cell records it; None without ``correct``).
    """

    def __init__(self, scores: pd.DataFrame, accuracy: pd.DataFrame, seeds: pd.DataFrame | None,
                 tie_rtol: float = BENCH_TIE_RTOL, correct: dict | None = None):
        self.targets = sorted(set(accuracy.target) & set(scores.target))
        self.models = sorted(set(accuracy[accuracy.target.isin(self.targets)].model)
                             & set(scores.model))
        acc = accuracy.pivot(index="model", columns="target", values="test_acc")
        acc = acc.reindex(index=self.models, columns=self.targets)
        self.truths = [acc[t].to_numpy(float) for t in self.targets]
        self.seed_accs = None
        if seeds is not None and len(seeds):
            k = int(seeds.groupby(["model", "target"]).size().max())
            self.seed_accs = []
            for t in self.targets:
                grp = seeds[seeds.target == t].copy()
                grp["i"] = grp.groupby("model").cumcount()
                wide = grp.pivot(index="model", columns="i", values="test_acc")
                self.seed_accs.append(wide.reindex(index=self.models, columns=range(k)).to_numpy(float))
        self.image_correct = None
        if correct and self.seed_accs is not None:
            self.image_correct = [self._correct_of(t, correct, k) for t in self.targets]
        self.scores = {}
        for (metric, perturbation), grp in scores.groupby(["metric", "perturbation"], sort=False):
            rows = []
            for t in self.targets:
                s = grp[grp.target == t].set_index("model")["score"].reindex(self.models)
                s = s.to_numpy(float, copy=True)
                ok = np.isfinite(s)
                s[ok] = merge_ties(s[ok], tie_rtol)
                rows.append(s)
            self.scores[(metric, perturbation)] = rows

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


def design(scores, accuracy, seeds=None, tie_rtol: float = BENCH_TIE_RTOL, correct=None) -> Design:
    """:class:`Design` of tidy tables (module docstring) and
    :func:`potran.bench.finetuned.image_correctness`."""
    return Design(scores, accuracy, seeds, tie_rtol, correct)


def _resampled(d: Design) -> str:
    images = d.image_correct is not None and any(c is not None for c in d.image_correct)
    return ("models (one resample shared by all targets)"
            + (" and each cell's fine-tuning seeds" if d.seed_accs is not None else "")
            + ("; test images (one draw per target shared by all models); targets fixed" if images
               else "; targets and test images fixed"))


def _population(d: Design) -> str:
    return (f"these {len(d.targets)} targets; other models like these"
            + (", other fine-tuning seeds" if d.seed_accs is not None else ""))


def _replicates(d: Design, n_boot: int, seed: int):
    return stats.crossed_bootstrap(d.scores, d.truths, d.seed_accs, image_correct=d.image_correct,
                                   n_boot=n_boot, seed=seed)


def tau_intervals(scores: pd.DataFrame, accuracy: pd.DataFrame, seeds: pd.DataFrame | None = None,
                  *, n_boot: int = 1000, level: float = 0.95, seed: int = 0,
                  tie_rtol: float = BENCH_TIE_RTOL, correct: dict | None = None) -> pd.DataFrame:
    """Mean tau_w over targets of every (metric, perturbation) with its crossed-bootstrap interval.

    :func:`potran.stats.crossed_bootstrap`: the targets are held fixed; each replicate redraws
    the models once for all targets and (with ``seeds``) each cell's seeds. Every key is
    computed on the same replicates, so the differences (:func:`compare`) are paired.

    ``correct`` (:func:`potran.bench.finetuned.image_correctness`) adds the test images, redrawn
    once per replicate for all models. Returns metric, perturbation, mean_tau, low, high.
    """
    d = design(scores, accuracy, seeds, tie_rtol, correct)
    if not d.truths:  # no target has both scores and a ground truth: nothing to estimate
        return pd.DataFrame(columns=INTERVAL_COLUMNS)
    return _intervals_of(d, *_replicates(d, n_boot, seed), level)


def _intervals_of(d: Design, est: dict, reps: dict, level: float) -> pd.DataFrame:
    """:func:`tau_intervals` of replicates already drawn."""
    rows = []
    for key, r in reps.items():
        lo = hi = np.nan
        if np.isfinite(r).any():
            res = stats.bootstrap(est[key], r, comparison=metric_label(*key), resampled=_resampled(d),
                                  population=_population(d), level=level)
            lo, hi = res.low, res.high
        rows.append({"metric": key[0], "perturbation": key[1], "mean_tau": est[key], "low": lo,
                     "high": hi})
    return pd.DataFrame(rows, columns=INTERVAL_COLUMNS)


def _paired(d: Design, est: dict, reps: dict, a, b, level: float) -> stats.Result | None:
    """The crossed-bootstrap difference of mean tau_w, key ``a`` minus key ``b`` (None when no
    replicate is finite)."""
    diff = reps[a] - reps[b]
    if not np.isfinite(diff).any():
        return None
    return stats.bootstrap(est[a] - est[b], diff, comparison=f"{metric_label(*a)} - {metric_label(*b)}",
                           resampled=_resampled(d), population=_population(d), level=level)


def compare(scores: pd.DataFrame, accuracy: pd.DataFrame, seeds: pd.DataFrame | None = None, *,
            perturbation: str, reference: str = NONE, n_boot: int = 1000, level: float = 0.95,
            seed: int = 0, tie_rtol: float = BENCH_TIE_RTOL, correct: dict | None = None) -> pd.DataFrame:
    """Mean tau_w of each metric with ``perturbation`` minus with ``reference``, paired.

    The difference of the two mean tau_w over targets on the same crossed-bootstrap replicates
    as :func:`tau_intervals` (same arguments; the same ``seed`` gives the same replicates): its
    interval and the two-sided bootstrap p of no difference (:func:`potran.stats.bootstrap`).
    Only metrics scored with both are compared. Returns metric, perturbation, reference, delta,
    low, high, p_value (NaN interval and p where no replicate is finite).
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
        if a not in reps or b not in reps:
            continue
        res = _paired(d, est, reps, a, b, level)
        rows.append({"metric": metric, "perturbation": perturbation, "reference": reference,
                     "delta": est[a] - est[b], "low": np.nan if res is None else res.low,
                     "high": np.nan if res is None else res.high,
                     "p_value": np.nan if res is None else res.p_value})
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


def random_null(accuracy: pd.DataFrame, *, n_draws: int = 2000, level: float = 0.95,
                seed: int = 0) -> dict:
    """The band of the mean tau_w over targets of a scorer that ranks at random (distinct scores).

    The null of :func:`potran.stats.chance_test` on these targets and models. Returns
    ``{"mean", "low", "high", "draws"}``; the band is where chance falls, not a test: a
    metric's p-value against chance is in :func:`potran.bench.significance.benchmark_tests` (family
    ``chance``).
    """
    truths = [grp.test_acc.to_numpy(float) for _, grp in accuracy.groupby("target", sort=True)]
    res = stats.chance_test([None] * len(truths), truths, n_draws=n_draws, seed=seed, level=level)
    return {"mean": float(res.distribution.mean()), "low": res.low, "high": res.high,
            "draws": res.distribution}

