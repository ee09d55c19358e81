"""What the paper's published numbers can tell by themselves.

The paper's own numbers (:mod:`potran.paper`) as tables, the tests of :mod:`potran.stats` over
the datasets (the only units published tau values allow), the static leave-one-dataset-out
baseline (an oracle-style reference: it needs every model fine-tuned on the other datasets), and
what the five cells where the supplementary's Table 2 and ``tw.py`` disagree change.

Tables follow :mod:`potran.bench.intervals`: accuracy tables have columns model, target, test_acc;
tau tables have target, metric, perturbation, weighted_tau (:func:`potran.bench.tau.tau_table`).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from .. import paper, stats
from ..evaluation import correlate_by_target, weighted_tau
from ..perturbations import NONE, PED, metric_label
from .finetuned import leave_one_target_out
from .significance import add_holm

__all__ = ["paper_accuracy", "published_taus", "static_baseline_taus", "over_datasets", "paper_tests",
           "groundtruth_discrepancies", "groundtruth_agreement", "discrepancy_effect"]


def paper_accuracy(variant: str = "twpy", *, datasets: Sequence[str] | None = None,
                   models: Sequence[str] | None = None) -> pd.DataFrame:
    """The paper's fine-tuning accuracies (%) of ground truth ``variant`` ("twpy" or
    "supplementary", :func:`potran.paper.groundtruth`) as an accuracy table sorted by target then
    model. ``datasets`` default: the ten of the main table (no published tau covers ``tw.py``'s
    SUN397); ``models`` default: all twelve. ValueError for one the variant does not have.
    """
    table = paper.groundtruth(variant)
    if datasets is None:
        datasets = sorted(paper.main_table().target.unique())
    for names, column in ((datasets, "target"), (models, "model")):
        if names is not None:
            unknown = sorted(set(names) - set(table[column]))
            if unknown:
                raise ValueError(f"{variant!r} ground truth has no {column} {unknown}")
            table = table[table[column].isin(names)]
    return table[["model", "target", "test_acc"]].sort_values(["target", "model"], ignore_index=True)


def published_taus(datasets: Sequence[str] | None = None) -> pd.DataFrame:
    """The main table's published tau_w as a tau table (plus method, the README label), one row
    per (method, dataset), optionally restricted to ``datasets``."""
    table = paper.main_table()
    if datasets is not None:
        table = table[table.target.isin(datasets)]
    return table[["target", "metric", "perturbation", "weighted_tau", "method"]].reset_index(drop=True)


def static_baseline_taus(accuracy: pd.DataFrame) -> pd.DataFrame:
    """tau_w per target of the static baseline (:func:`potran.bench.finetuned.leave_one_target_out`;
    ``accuracy``: at least two targets, every model on every target) as a tau table (metric
    "static_loto", perturbation "none") with n_models."""
    if accuracy.target.nunique() < 2:
        raise ValueError("the static baseline needs at least two targets")
    scores = leave_one_target_out(accuracy)
    tau = correlate_by_target(scores[["model", "target", "score"]], accuracy, weighted_tau,
                              accuracy="test_acc")
    n_models = scores.groupby("target", sort=False).model.size()
    return pd.DataFrame({"target": tau.index, "metric": "static_loto", "perturbation": NONE,
                         "weighted_tau": tau.to_numpy(),
                         "n_models": n_models.loc[tau.index].to_numpy()})


def _wide(taus: pd.DataFrame) -> pd.DataFrame:
    """(metric, perturbation) x target table of tau_w; every cell finite, else ValueError."""
    keys = list(dict.fromkeys(zip(taus.metric, taus.perturbation)))
    wide = (taus.set_index(["metric", "perturbation", "target"]).weighted_tau
            .unstack("target").reindex(pd.MultiIndex.from_tuples(keys, names=["metric", "perturbation"])))
    values = wide.to_numpy(float)
    if not np.isfinite(values).all():
        missing = [k for k, row in zip(wide.index, values) if not np.isfinite(row).all()]
        raise ValueError(f"tau_w missing or not finite on some target for {missing}")
    return wide


def over_datasets(taus: pd.DataFrame, *, reference: tuple[str, str] | None = None,
                  level: float = 0.95) -> pd.DataFrame:
    """Mean tau_w over targets of every (metric, perturbation): t-interval and exact sign-flip test.

    With published tau values the targets are the only units (:func:`potran.stats.sign_flip`).
    Returns metric, perturbation, mean_tau, low, high, p_value; with a ``reference`` (metric,
    perturbation), also each row's paired difference from it: delta, delta_low, delta_high,
    p_delta, n_positive (targets where the row is above); NaN on the reference's own row.
    ValueError on a missing or non-finite tau, or an unknown ``reference``.
    """
    wide = _wide(taus)
    keys = list(wide.index)
    res = [stats.sign_flip(row, comparison=metric_label(*k), level=level)
           for k, row in zip(keys, wide.to_numpy(float))]
    out = pd.DataFrame({"metric": wide.index.get_level_values(0),
                        "perturbation": wide.index.get_level_values(1),
                        "mean_tau": [r.estimate for r in res], "low": [r.low for r in res],
                        "high": [r.high for r in res], "p_value": [r.p_value for r in res]})
    if reference is not None:
        if tuple(reference) not in keys:
            raise ValueError(f"reference {reference!r} is not among {keys}")
        ref = wide.loc[tuple(reference)].to_numpy(float)
        cols = {c: [] for c in ("delta", "delta_low", "delta_high", "p_delta", "n_positive")}
        for k, row in zip(keys, wide.to_numpy(float)):
            d = stats.sign_flip(row - ref, level=level) if k != tuple(reference) else None
            values = (d.estimate, d.low, d.high, d.p_value, int((row > ref).sum())) if d else [np.nan] * 5
            for c, v in zip(cols, values):
                cols[c].append(v)
        out = out.assign(**cols)
    return out


def _tests_of(wide: pd.DataFrame, truths, *, n_draws: int, seed: int, level: float) -> list[dict]:
    """Chance and over-target rows of every (metric, perturbation) of a wide tau table."""
    rows = []
    for key, row in zip(wide.index, wide.to_numpy(float)):
        name = metric_label(*key)
        chance = stats.chance_test([None] * len(truths), truths, comparison=f"{name} vs chance",
                                   n_draws=n_draws, seed=seed, level=level)
        null = chance.distribution
        est = float(row.mean())
        chance = replace(chance, estimate=est, p_value=float(min(
            1.0, 2 * (min(np.sum(null >= est), np.sum(null <= est)) + 1) / (len(null) + 1))))
        rows.append({"family": "chance", "metric": key[0], "perturbation": key[1], **chance.record()})
        rows.append({"family": "targets", "metric": key[0], "perturbation": key[1],
                     **stats.sign_flip(row, comparison=f"{name}: mean tau_w", level=level).record()})
    return rows


def paper_tests(*, datasets: Sequence[str] | None = None, models: Sequence[str] | None = None,
                n_draws: int = 10000, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """The paper's published numbers re-read with the tests of :mod:`potran.stats`.

    Families (Holm within each): ``chance`` (every published row and static baseline against the
    random scorer on the ``tw.py`` ground truth), ``targets`` (mean tau_w over the datasets),
    ``PED`` (PED's gain per metric), ``baseline`` (each static baseline minus the best published
    row), the last three by the exact sign-flip over datasets. Static baselines:
    leave-one-dataset-out on the ``tw.py`` (``static_loto``) and the supplementary's
    (``static_loto_supplementary``) ground truth. Columns:
    :data:`potran.bench.significance.TEST_COLUMNS`.
    """
    datasets = sorted(paper.main_table().target.unique()) if datasets is None else list(datasets)
    twpy = paper_accuracy("twpy", datasets=datasets, models=models)
    published = published_taus(datasets)
    base = pd.concat([static_baseline_taus(twpy),
                      static_baseline_taus(paper_accuracy("supplementary", datasets=datasets,
                                                          models=models))
                      .assign(metric="static_loto_supplementary")])
    wide = _wide(pd.concat([published, base]))
    truths = [grp.test_acc.to_numpy(float) for _, grp in twpy.groupby("target", sort=True)]
    rows = _tests_of(wide, truths, n_draws=n_draws, seed=seed, level=level)
    for metric in dict.fromkeys(published.metric):
        if (metric, PED) in wide.index and (metric, NONE) in wide.index:
            diff = (wide.loc[(metric, PED)] - wide.loc[(metric, NONE)]).to_numpy(float)
            test = stats.sign_flip(diff, comparison=f"{metric}+PED - {metric}", level=level)
            rows.append({"family": "PED", "metric": metric, "perturbation": PED, "reference": NONE,
                         **test.record()})
    pub = wide.loc[[k for k in wide.index if not k[0].startswith("static_loto")]]
    best = pub.mean(axis=1).idxmax()
    for key in wide.index:
        if key[0].startswith("static_loto"):
            diff = (wide.loc[key] - wide.loc[best]).to_numpy(float)
            comparison = f"{key[0]} - {metric_label(*best)} (best published)"
            rows.append({"family": "baseline", "metric": key[0], "perturbation": NONE,
                         **stats.sign_flip(diff, comparison=comparison, level=level).record()})
    return add_holm(pd.DataFrame(rows))


def groundtruth_discrepancies(a: pd.DataFrame, b: pd.DataFrame,
                              names: tuple[str, str] = ("a", "b")) -> pd.DataFrame:
    """The cells where two accuracy tables disagree (on the cells both have): target, model and the
    two values (columns named by ``names``), sorted."""
    both = a.merge(b, on=["model", "target"], suffixes=("_a", "_b"))
    differ = both[~np.isclose(both.test_acc_a, both.test_acc_b, rtol=0, atol=1e-9)]
    return (differ.rename(columns={"test_acc_a": names[0], "test_acc_b": names[1]})
            [["target", "model", *names]].sort_values(["target", "model"], ignore_index=True))


def groundtruth_agreement(a: pd.DataFrame, b: pd.DataFrame) -> pd.Series:
    """tau_w per target between two accuracy tables of the same models (1 = same ranking)."""
    scores = a.rename(columns={"test_acc": "score"})[["model", "target", "score"]]
    return correlate_by_target(scores, b, weighted_tau, accuracy="test_acc").sort_index()


def discrepancy_effect(a: pd.DataFrame, b: pd.DataFrame,
                       statistic: Callable[[pd.DataFrame], float],
                       names: tuple[str, str] = ("a", "b")) -> pd.DataFrame:
    """``statistic`` of table ``a`` with each disagreeing cell in turn taken from ``b``.

    ``a``, ``b``: accuracy tables of the same cells, labelled by ``names``; ``statistic(accuracy)
    -> float``. One row per setting: ``changed`` (none, one cell, all), ``value`` and ``delta``
    (value - value of ``a``).
    """
    diffs = groundtruth_discrepancies(a, b, names)
    base = float(statistic(a))
    rows = [{"changed": f"none (all {names[0]})", "value": base}]
    keyed, swapped = a.set_index(["target", "model"]), a.set_index(["target", "model"])
    for _, d in diffs.iterrows():
        one = keyed.copy()
        one.loc[(d.target, d.model), "test_acc"] = d[names[1]]
        swapped.loc[(d.target, d.model), "test_acc"] = d[names[1]]
        rows.append({"changed": f"{d.target}/{d.model}", "value": float(statistic(one.reset_index()))})
    rows.append({"changed": f"all {len(diffs)} ({names[1]})",
                 "value": float(statistic(swapped.reset_index()))})
    out = pd.DataFrame(rows)
    out["delta"] = out.value - base
    return out
