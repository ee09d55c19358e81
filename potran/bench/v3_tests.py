"""Benchmark v3's tests, tables in, tables out, under the rules frozen in
``data/bench_v3/README.md`` (engine :mod:`potran.stats`). The **family** (the target's source,
``potran.bench.targets_v3.FAMILIES``) is a random effect: the exact sign-flip test of the
per-family means (:func:`potran.stats.sign_flip_clustered`) decides; the sign-flip over targets
is computed beside it. tau_w within each **model family** as well as across.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats as sps

from .. import stats
from ..metrics import PED_METRICS
from ..ped import MAX_STEPS
from ..perturbations import NONE, PED
from . import targets_v3
from .intervals import Design, design
from .runner import WIDTH_METRICS
from .settings import GroundTruth
from .significance import TEST_COLUMNS, add_holm, benchmark_tests
from .v3_data import BASELINES, complete_rows, model_family

__all__ = ["per_target_tau", "tests_table", "mean_table", "ped_table", "PED_FAMILY_ROWS", "holm_all",
           "within_family_table", "within_family_change", "agreement", "ablation", "exit_share",
           "energy_by_model_family", "family_effects"]


def _design(scores: pd.DataFrame, truth: GroundTruth, models, targets) -> Design:
    t = truth.subset(models, targets)
    s = scores[scores.model.isin(models) & scores.target.isin(targets)]
    return design(s, t.accuracy, t.seeds, correct=t.correct or None)


def per_target_tau(scores: pd.DataFrame, truth: GroundTruth, models, targets) -> pd.DataFrame:
    """tau_w of every (metric, perturbation) on every target against ``truth``, ranking only
    ``models`` (ties within the benchmark's tolerance merged): target, family, metric,
    perturbation, tau (NaN where undefined, e.g. scores constant among these models)."""
    return _tau_long(_design(scores, truth, models, targets))


def _tau_long(d: Design) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rows = [(t, targets_v3.FAMILIES[t], *key, tau) for key in d.scores
                for t, tau in zip(d.targets, d.per_target(key))]
    return pd.DataFrame(rows, columns=["target", "family", "metric", "perturbation", "tau"])


def _over_units(family: str, metric: str, perturbation: str, values: pd.Series, families: pd.Series,
                comparison: str, level: float, reference: str | None = None) -> list[dict]:
    """The sign-flip rows of per-target ``values`` over targets and over the per-family means."""
    v, f = values.to_numpy(float), families.to_numpy()
    ok = np.isfinite(v)
    key, rows = {"metric": metric, "perturbation": perturbation, "reference": reference}, []
    if ok.sum() >= 2:
        rows.append({"family": family, **key,
                     **stats.sign_flip(v[ok], comparison=comparison, level=level).record()})
    if len(set(f[ok])) >= 2:
        rows.append({"family": "families" if family == "targets" else f"{family}, families", **key,
                     **stats.sign_flip_clustered(v[ok], f[ok], comparison=comparison, level=level).record()})
    return rows


#: Test families of :func:`tests_table` split into the published metrics and the others.
_SPLIT = ("targets", "families", "PED", "PED, families")


def tests_table(scores: pd.DataFrame, truth: GroundTruth, models, targets, *, resample: bool = True,
                n_boot: int = 1000, n_draws: int = 2000, level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Every test of the metrics on ``targets``, ranking ``models``, against ``truth``.

    Families of rows (Holm within each): ``targets`` (mean tau_w over targets, exact sign-flip
    with its t-interval, :func:`potran.stats.sign_flip`) and ``families`` (over the per-family
    means, :func:`potran.stats.sign_flip_clustered`: the test that decides); ``PED`` and ``PED,
    families`` (PED minus none, the same two ways) for the metrics not in
    :data:`potran.bench.v3_data.BASELINES`. Each of the four is split in two Holm families, the
    metrics published with PED (:data:`potran.metrics.PED_METRICS`) and the others (``...
    (others)``), a split decided after the protocol was frozen (with 8 families the smallest p is
    2 / 2^8: a Holm family of more than 6 rows resolves nothing; :func:`holm_all` corrects over
    all PED rows at once). With ``resample``, also ``chance``, ``models`` and ``PED, models`` of
    :func:`potran.bench.significance.benchmark_tests` (no static baseline). Columns:
    :data:`potran.bench.significance.TEST_COLUMNS`; rows ordered by metric, published first,
    baselines last.
    """
    s = scores[~(scores.metric.isin(BASELINES) & (scores.perturbation == PED))]   # no PED baselines
    d = _design(s, truth, models, targets)
    if not d.targets:
        return pd.DataFrame(columns=TEST_COLUMNS)
    t = truth.subset(models, d.targets)
    s = s[s.model.isin(models) & s.target.isin(d.targets)]
    tau = _tau_long(d)
    rows = []
    for (metric, perturbation), grp in tau.groupby(["metric", "perturbation"], sort=False):
        name = f"{metric}+PED" if perturbation == PED else metric
        rows += _over_units("targets", metric, perturbation, grp.tau, grp.family, f"{name}: mean tau_w",
                            level)
    wide = tau.pivot_table(index=["target", "family"], columns=["metric", "perturbation"], values="tau",
                           dropna=False).reset_index()
    for metric in dict.fromkeys(tau.metric):
        if metric in BASELINES or (metric, PED) not in wide or (metric, NONE) not in wide:
            continue
        rows += _over_units("PED", metric, PED, wide[(metric, PED)] - wide[(metric, NONE)],
                            wide[("family", "")], f"{metric}+PED - {metric}", level, NONE)
    table = pd.DataFrame(rows, columns=[c for c in TEST_COLUMNS if c not in ("p_holm", "verdict")])
    if resample:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            boot = benchmark_tests(s, t.accuracy, t.seeds, baseline=None, n_boot=n_boot, n_draws=n_draws,
                                   level=level, seed=seed, correct=t.correct or None)
        table = pd.concat([boot[boot.family.isin(["chance", "models", "PED, models"])]
                           .drop(columns=["p_holm", "verdict"]), table], ignore_index=True)
    others = table.family.isin(_SPLIT) & ~table.metric.isin(PED_METRICS)
    table.loc[others, "family"] += " (others)"
    table = add_holm(table)
    order = {m: i for i, m in enumerate([*PED_METRICS, *dict.fromkeys(table.metric)])}
    rank = table.metric.map(lambda m: order[m] + (len(order) if m in BASELINES else 0))
    return table.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)


def _get(tests: pd.DataFrame, family: str, metric: str, perturbation: str):
    """The row of ``family`` (or its ``(others)`` half) for ``metric`` and ``perturbation``, or None."""
    if family in _SPLIT and metric not in PED_METRICS:
        family += " (others)"
    rows = tests[(tests.family == family) & (tests.metric == metric)
                 & (tests.perturbation == perturbation)]
    return rows.iloc[0] if len(rows) else None


def _interval(r, bound: float) -> tuple[float, float, float]:
    """A test row's (estimate, low, high) clipped to ``[-bound, bound]``; NaN without a row."""
    if r is None:
        return np.nan, np.nan, np.nan
    return float(r.estimate), float(np.clip(r.low, -bound, bound)), float(np.clip(r.high, -bound, bound))


def _holm_p(r) -> float:
    return np.nan if r is None else float(r.p_holm)


#: Columns of :func:`mean_table`.
MEAN_COLUMNS = ["metric", "perturbation", "over_targets", "over_targets_low", "over_targets_high",
                "over_families", "over_families_low", "over_families_high", "p_families_holm",
                "p_chance_holm"]
#: Columns of :func:`ped_table`.
PED_COLUMNS = ["metric", "over_families", "over_families_low", "over_families_high", "p_families_holm",
               "over_targets", "over_targets_low", "over_targets_high", "p_targets_holm"]


def mean_table(tests: pd.DataFrame) -> pd.DataFrame:
    """One row per (metric, perturbation) of :func:`tests_table`: mean tau_w over targets
    (``over_targets``, t-interval ``_low``/``_high``), mean of the per-family means
    (``over_families``, t-interval over families), the Holm p of the family sign-flip
    (``p_families_holm``) and of the test against chance (``p_chance_holm``). Intervals clipped
    to [-1, 1]; NaN where a test cannot be computed."""
    rows = []
    plain = tests[tests.reference.isna()]
    for metric, perturbation in dict.fromkeys(zip(plain.metric, plain.perturbation)):
        fam = _get(tests, "families", metric, perturbation)
        rows.append([metric, perturbation, *_interval(_get(tests, "targets", metric, perturbation), 1),
                     *_interval(fam, 1), _holm_p(fam), _holm_p(_get(tests, "chance", metric, perturbation))])
    return pd.DataFrame(rows, columns=MEAN_COLUMNS)


def ped_table(tests: pd.DataFrame) -> pd.DataFrame:
    """One row per metric PED applies to: PED minus none over the per-family means
    (``over_families``, t-interval clipped to [-2, 2]) with its Holm p (the test that decides),
    and the same over targets beside it. NaN where a test cannot be computed."""
    rows = []
    for metric in dict.fromkeys(tests.metric):
        fam, over = _get(tests, "PED, families", metric, PED), _get(tests, "PED", metric, PED)
        if metric in BASELINES or (fam is None and over is None):
            continue
        rows.append([metric, *_interval(fam, 2), _holm_p(fam), *_interval(over, 2), _holm_p(over)])
    return pd.DataFrame(rows, columns=PED_COLUMNS)


def _model_groups(models) -> dict:
    """All ``models`` and each model family of at least 3 of them (fewer: no ranking to speak of)."""
    groups = {"all": list(models),
              **{g: [m for m in models if model_family(m) == g] for g in ("conv4", "ImageNet")}}
    return {name: subset for name, subset in groups.items() if len(subset) >= 3}


def within_family_table(scores: pd.DataFrame, truth: GroundTruth, models, targets, *,
                        level: float = 0.95) -> pd.DataFrame:
    """:func:`mean_table`'s ``over_families`` ranking all ``models`` and each model family of at
    least 3 (:func:`potran.bench.v3_data.model_family`) alone: metric, perturbation, models
    (``"all"``, ``"conv4"``, ``"ImageNet"``), n_models, estimate, low, high. No row where the
    scores are constant among those models (tau_w undefined). Empty below two targets.
    """
    columns = ["metric", "perturbation", "models", "n_models", "estimate", "low", "high"]
    targets = list(targets)
    if scores is None or len(targets) < 2:
        return pd.DataFrame(columns=columns)
    parts = []
    for group, subset in _model_groups(models).items():
        means = mean_table(tests_table(scores, truth, subset, targets, resample=False, level=level))
        means = means[means.over_families.notna()]
        parts.append(pd.DataFrame({"metric": means.metric, "perturbation": means.perturbation,
                                   "models": group, "n_models": len(subset), "estimate": means.over_families,
                                   "low": means.over_families_low, "high": means.over_families_high}))
    return pd.concat(parts, ignore_index=True)[columns]


def within_family_change(scores: pd.DataFrame, truth: GroundTruth, models, target: str,
                         metrics) -> pd.DataFrame:
    """tau_w of ``metrics`` on one ``target`` without and with PED, ranking all ``models`` and each
    model family of at least 3 alone: metric, models, n_models, none, ped."""
    rows = []
    for metric in metrics:
        for group, subset in _model_groups(models).items():
            tau = per_target_tau(scores[scores.metric == metric], truth, subset, [target])
            tau = tau.set_index("perturbation").tau
            rows.append({"metric": metric, "models": group, "n_models": len(subset),
                         "none": tau.get(NONE, np.nan), "ped": tau.get(PED, np.nan)})
    return pd.DataFrame(rows, columns=["metric", "models", "n_models", "none", "ped"])


def energy_by_model_family(frame: pd.DataFrame, target: str) -> pd.Series:
    """The median energy ratio after PED's motion on ``target`` per model family (one motion per
    cell: the first PED row of each model)."""
    on = frame[(frame.target == target) & (frame.perturbation == PED)].drop_duplicates("model")
    ratio = on.set_index("model").energy_ratio
    return ratio.groupby(ratio.index.map(model_family)).median()


#: The PED rows of :func:`tests_table` over families, in their two Holm halves.
PED_FAMILY_ROWS = ("PED, families", "PED, families (others)")


def holm_all(tests: pd.DataFrame, family: str = "PED") -> pd.DataFrame:
    """The PED rows over families (``family="PED"``) or over targets (``"PED targets"``) of
    :func:`tests_table` with Holm's correction over all of them at once beside the split one:
    metric, estimate, low, high, p_value, min_p, n, p_holm_split, p_holm_all."""
    names = PED_FAMILY_ROWS if family == "PED" else ("PED", "PED (others)")
    rows = tests[tests.family.isin(names)]
    rows = rows.assign(p_holm_split=rows.p_holm, p_holm_all=stats.holm(rows.p_value.to_numpy(float)))
    return rows[["metric", "estimate", "low", "high", "p_value", "min_p", "n", "p_holm_split",
                 "p_holm_all"]].reset_index(drop=True)


def family_effects(tau: pd.DataFrame, metrics=None) -> pd.DataFrame:
    """PED minus none of each metric's tau_w, per target and then averaged within each target
    family (the units of the family test), from a long :func:`per_target_tau` table: metric,
    family, effect, targets (how many of the family's targets it averages)."""
    wide = tau.pivot_table(index=["metric", "target"], columns="perturbation", values="tau")
    wide = wide.dropna(subset=[c for c in (NONE, PED) if c in wide]) if PED in wide else wide.iloc[:0]
    if not len(wide):
        return pd.DataFrame(columns=["metric", "family", "effect", "targets"])
    diff = (wide[PED] - wide[NONE]).rename("effect").reset_index()
    if metrics is not None:
        diff = diff[diff.metric.isin(list(metrics))]
    diff["family"] = diff.target.map(targets_v3.FAMILIES)
    return diff.groupby(["metric", "family"], sort=False).agg(effect=("effect", "mean"),
                                                             targets=("effect", "size")).reset_index()


def agreement(first: GroundTruth, second: GroundTruth, models, targets, *, reliabilities=None,
              n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[pd.DataFrame, object]:
    """How far two ground truths rank the models alike, per target they both complete.

    Columns: target, family, weighted_tau (of the two accuracy vectors), low/high (model
    bootstrap, :func:`potran.evaluation.bootstrap_ci`), spearman, and with ``reliabilities``
    (``{(protocol, target): reliability}``) spearman_corrected (divided by the square root of
    the two reliabilities: the agreement without measurement noise; above 1 by chance). Second
    value: :func:`potran.stats.sign_flip_clustered` of tau_w over families (None below two).
    """
    from ..evaluation import bootstrap_ci

    models = list(models)
    both = [t for t in targets if t in set(first.complete(models)) & set(second.complete(models))]
    rows = []
    for t in both:
        a, b = (g.accuracy[g.accuracy.target == t].set_index("model").test_acc.loc[models]
                for g in (first, second))
        ci = bootstrap_ci(a.to_numpy(), b.to_numpy(), n_boot=n_boot, level=level, seed=seed)
        rho = sps.spearmanr(a, b).statistic
        row = {"target": t, "family": targets_v3.FAMILIES[t],
               "weighted_tau": stats.weighted_tau_rows(a.to_numpy(), b.to_numpy())[0],
               "low": ci.low, "high": ci.high, "spearman": rho}
        if reliabilities is not None:
            r1, r2 = reliabilities[(first.protocol, t)], reliabilities[(second.protocol, t)]
            row["spearman_corrected"] = rho / np.sqrt(r1 * r2) if r1 > 0 and r2 > 0 else np.nan
        rows.append(row)
    table = pd.DataFrame(rows, columns=["target", "family", "weighted_tau", "low", "high", "spearman"]
                         + (["spearman_corrected"] if reliabilities is not None else []))
    summary = None
    if table.family.nunique() >= 2:
        summary = stats.sign_flip_clustered(table.weighted_tau, table.family, level=level,
                                            comparison=f"{first.protocol} vs {second.protocol}: tau_w")
    return table, summary


def ablation(baseline: pd.DataFrame, general_sets: dict, truth: GroundTruth, models, targets, *,
             level: float = 0.95) -> pd.DataFrame:
    """PED's effect per metric under each general set (issue 17's ablation).

    ``baseline`` holds the scores without PED; ``general_sets`` maps a set's name to its score
    table (PED rows; a (metric, target) counts once it scores every one of ``models``). Per set
    and metric: targets and families scored, PED minus none averaged over targets and over
    families (:func:`potran.stats.sign_flip_clustered`; p Holm-adjusted as in
    :func:`tests_table`; NaN below two families).
    """
    rows = []
    off = baseline[baseline.perturbation == NONE]
    for name, frame in general_sets.items():
        on = complete_rows(frame[(frame.perturbation == PED) & ~frame.metric.isin(BASELINES)], models)
        tau = per_target_tau(pd.concat([off[off.metric.isin(set(on.metric))], on]), truth, models, targets)
        wide = tau.pivot_table(index=["target", "family"], columns=["metric", "perturbation"], values="tau",
                               dropna=False).reset_index()
        start = len(rows)
        for metric in dict.fromkeys(on.metric):
            if (metric, PED) not in wide or (metric, NONE) not in wide:
                continue
            diff = (wide[(metric, PED)] - wide[(metric, NONE)]).to_numpy(float)
            fam = wide[("family", "")].to_numpy()
            ok = np.isfinite(diff)
            row = {"general set": name, "metric": metric, "targets": int(ok.sum()),
                   "families": len(set(fam[ok])),
                   "mean over targets": np.nanmean(diff) if ok.any() else np.nan,
                   "mean of family means": np.nan, "low": np.nan, "high": np.nan, "p_value": np.nan}
            if len(set(fam[ok])) >= 2:
                res = stats.sign_flip_clustered(diff[ok], fam[ok], level=level)
                row.update({"mean of family means": res.estimate, "low": res.low, "high": res.high,
                            "p_value": res.p_value})
            rows.append(row)
        for published in (True, False):        # the two Holm families of tests_table
            idx = [i for i in range(start, len(rows)) if (rows[i]["metric"] in PED_METRICS) == published]
            for i, p in zip(idx, stats.holm([rows[i]["p_value"] for i in idx])):
                rows[i]["p_holm"] = p
    return pd.DataFrame(rows, columns=["general set", "metric", "targets", "families", "mean over targets",
                                       "mean of family means", "low", "high", "p_value", "p_holm"])


def exit_share(general_sets: dict) -> pd.DataFrame:
    """Per general set and model family: how often PED's exit rule fired (fewer than
    ``potran.ped.MAX_STEPS`` steps) and the median energy ratio after the motion (one per cell,
    on the reduced features: ``dim`` and ``norm`` left out)."""
    rows = []
    for name, frame in general_sets.items():
        cells = frame[(frame.perturbation == PED) & ~frame.metric.isin(WIDTH_METRICS)]
        cells = cells.dropna(subset=["ped_steps"]).drop_duplicates(["model", "target"])
        for fam, grp in cells.groupby(cells.model.map(model_family)):
            rows.append({"general set": name, "models": fam, "cells": len(grp),
                         "exit rule fired": float((grp.ped_steps < MAX_STEPS).mean()),
                         "median energy ratio": float(grp.energy_ratio.median())})
    return pd.DataFrame(rows, columns=["general set", "models", "cells", "exit rule fired",
                                       "median energy ratio"])
