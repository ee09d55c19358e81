"""Benchmark v4's registered analysis (``data/bench_v4/README.md``, "Pre-registration"): tables
in, tables out, computed from a ground-truth folder (``cells/`` of ``benchmarks/v4_grid.py``) and
a score table (``scores/scores.csv`` of ``benchmarks/v4_scores.py``), with v3's functions.

- **Reliability and inclusion** (:func:`analyse`): v3's rule unchanged,
  :func:`potran.bench.v3_data.reliability_table` over the ranked models
  (:func:`potran.bench.v4.zoo.ranked`, the 12 self-supervised ones; the controls are never
  ranked): split-half over seeds and test images, Spearman-Brown, 100 seeded halvings; a target
  with reliability >= 0.9 enters the main table; F is the number of its source families.
- **tau_w** per (metric, perturbation, target) within the ranked models against the fine-tuning
  accuracy, the mean of the 2 seeds (:func:`potran.bench.v3_tests.per_target_tau`);
  :func:`mean_table`: per metric and perturbation the mean of the per-family means with the
  interval that inverts the exact sign-flip test over families
  (:func:`potran.stats.sign_flip_inversion`).
- **PED's effect** (:func:`deltas`, :func:`ped_tests`, :func:`holm`): Delta = tau_w(PED) -
  tau_w(none) per target; the exact two-sided sign-flip of the per-family means (H0: Delta
  symmetric about 0) and, for the metrics published with PED, of Delta minus the paper's gain
  (H0', :func:`potran.bench.v4.design.published_gains`); Holm within each registered family
  (:data:`potran.bench.v4.design.HOLM_FAMILIES`); the interval inverts the same test. Beside
  it, never deciding (:data:`ANALYSES`): the glyph families grouped by rendering procedure (noto
  and notocjk one unit, :data:`RENDERING`) and the sign-flip over targets.
- **Power achieved** (:func:`power`): :func:`potran.bench.v4.design.power_table` calibrated on
  v4's own spread of Delta (:func:`potran.bench.v4.design.pilot_spread`) with F families.
- **v3 beside** (:func:`v3_means`): :func:`mean_table` of v3's 16 models on v3's fine-tuning main
  table, from v3's committed data (:func:`potran.bench.v3_data.load`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ... import stats
from ...perturbations import NONE, PED
from ...resources import data_path
from .. import targets_v3
from ..settings import GroundTruth
from ..v3_data import N_HALVINGS, finetune_truth, members, reliability_table, scored_targets
from ..v3_data import load as load_v3
from ..v3_tests import per_target_tau
from . import design, zoo

__all__ = ["MEAN_COLUMNS", "TEST_COLUMNS", "RENDERING", "ANALYSES", "DECIDING", "Inputs", "load",
           "units", "included", "mean_table", "deltas", "ped_tests", "holm", "agreement", "power", "v3_means",
           "side_by_side", "Report", "analyse"]

#: the glyph families drawn by one rendering procedure (v3's glyph renderer): one unit in the
#: sensitivity analysis
RENDERING = {"noto": "noto+notocjk", "notocjk": "noto+notocjk"}
#: the analyses of PED's effect: name -> the unit of its sign-flip; the first decides
ANALYSES = {"families": "families", "rendering procedures": "rendering procedures", "targets": "targets"}
#: the analysis that decides (the others are reported beside)
DECIDING = "families"
#: the ranges of tau_w and of a difference of two tau_w: intervals are clipped to them
TAU_RANGE, DELTA_RANGE = 1.0, 2.0
#: the columns of :func:`mean_table`
MEAN_COLUMNS = ["metric", "perturbation", "targets", "families", "over_targets", "over_families", "low",
                "high", "t_low", "t_high", "p_value", "min_p"]
#: the columns of :func:`ped_tests` (before :func:`holm` adds p_holm, rejected, sign)
TEST_COLUMNS = ["analysis", "deciding", "hypothesis", "holm_family", "metric", "null", "estimate", "low",
                "high", "p_value", "min_p", "n", "test"]


@dataclass(frozen=True)
class Inputs:
    """What the analysis reads: the fine-tuning ground truth (v3's type, every model's cells),
    the score table on the ``scored`` targets (those where every one of ``models`` has a score of
    every metric), and the ranked ``models``."""

    truth: GroundTruth
    scores: pd.DataFrame
    scored: list
    models: list


def load(groundtruth, scores=None, models=None) -> Inputs:
    """Read ``groundtruth`` (a folder with ``cells/``) and ``scores`` (a ``scores.csv`` or its
    folder; default ``<groundtruth>/scores/scores.csv``), ranking ``models`` (default
    :func:`potran.bench.v4.zoo.ranked`)."""
    folder = Path(groundtruth)
    path = Path(scores) if scores is not None else folder / "scores"
    path = path / "scores.csv" if path.is_dir() else path
    table = pd.read_csv(path)
    models = list(models) if models is not None else zoo.ranked()
    scored = scored_targets(table, models)
    return Inputs(finetune_truth(folder), table[table.target.isin(scored)].reset_index(drop=True),
                  scored, models)


def units(targets, analysis: str = DECIDING) -> np.ndarray:
    """The unit of each of ``targets`` in ``analysis`` (:data:`ANALYSES`): its source family, its
    rendering procedure (:data:`RENDERING`) or the target itself."""
    if analysis not in ANALYSES:
        raise ValueError(f"unknown analysis {analysis!r}; known: {', '.join(ANALYSES)}")
    family = [targets_v3.FAMILIES[t] for t in targets]
    if analysis == "targets":
        return np.asarray(list(targets), dtype=object)
    if analysis == "rendering procedures":
        family = [RENDERING.get(f, f) for f in family]
    return np.asarray(family, dtype=object)


def included(reliability: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The main-table targets of a :func:`potran.bench.v3_data.reliability_table` and their source
    families (in order of appearance): the population of every deciding test, F = its length."""
    main = members(reliability, "main")
    return main, list(dict.fromkeys(targets_v3.FAMILIES[t] for t in main))


def _test(values, labels, analysis: str, level: float, comparison: str) -> stats.Result:
    """The sign-flip of ``values`` over the units of ``analysis`` (per-unit means), its interval
    by inversion where the test is exact, the t-interval beyond (more than 16 targets)."""
    n = len(set(labels))
    interval = "inversion" if n <= stats.EXACT_MAX_TARGETS else "t"
    if analysis == "targets":
        return stats.sign_flip(values, comparison=comparison, level=level, interval=interval)
    return stats.sign_flip_clustered(values, labels, comparison=comparison, level=level,
                                     units=ANALYSES[analysis], interval=interval)


def _clip(x: float, bound: float) -> float:
    return float(np.clip(x, -bound, bound))


def mean_table(tau: pd.DataFrame, *, level: float = 0.95, analysis: str = DECIDING) -> pd.DataFrame:
    """Mean tau_w per (metric, perturbation) of a long :func:`potran.bench.v3_tests.per_target_tau`
    table (PED rows only for :data:`potran.bench.v4.design.METRICS`: PED on a baseline is no test).

    Columns :data:`MEAN_COLUMNS`: the targets and units with a finite tau_w, the mean over
    targets, the mean of the per-unit means (``over_families``) with the interval inverting the
    exact sign-flip over the units (``low``, ``high``; clipped to [-1, 1]: unbounded, so [-1, 1],
    while 2 / 2^F >= 1 - level) and the t-interval beside (``t_low``, ``t_high``), and the
    sign-flip's p (H0: mean 0; reported, never deciding) with the smallest it can attain.
    """
    rows = []
    for (metric, perturbation), grp in tau.groupby(["metric", "perturbation"], sort=False):
        if perturbation == PED and metric not in design.METRICS:
            continue
        grp = grp[np.isfinite(grp.tau.to_numpy(float))]
        labels = units(grp.target, analysis)
        row = {"metric": metric, "perturbation": perturbation, "targets": len(grp),
               "families": len(set(labels)), "over_targets": grp.tau.mean() if len(grp) else np.nan}
        row.update(dict.fromkeys(MEAN_COLUMNS[5:], np.nan))
        if len(set(labels)) >= 2:
            res = _test(grp.tau, labels, analysis, level, f"{metric} ({perturbation}): mean tau_w")
            t = stats.sign_flip_clustered(grp.tau, labels, level=level)
            row.update(over_families=res.estimate, low=_clip(res.low, TAU_RANGE),
                       high=_clip(res.high, TAU_RANGE), t_low=_clip(t.low, TAU_RANGE),
                       t_high=_clip(t.high, TAU_RANGE), p_value=res.p_value, min_p=res.min_p)
        rows.append(row)
    return pd.DataFrame(rows, columns=MEAN_COLUMNS)


def deltas(tau: pd.DataFrame, metrics=design.METRICS) -> pd.DataFrame:
    """PED's effect per target from a long :func:`potran.bench.v3_tests.per_target_tau` table, in
    :func:`potran.bench.v4.design.pilot_effects`' format: metric, target, family, tau_none, tau_ped,
    effect (tau_ped - tau_none); targets where either tau_w is undefined are left out."""
    columns = ["metric", "target", "family", "tau_none", "tau_ped", "effect"]
    if tau.empty:
        return pd.DataFrame(columns=columns)
    wide = tau[tau.metric.isin(list(metrics))].pivot_table(
        index=["metric", "target"], columns="perturbation", values="tau", sort=False)
    if NONE not in wide or PED not in wide:
        return pd.DataFrame(columns=columns)
    wide = wide.dropna(subset=[NONE, PED]).reset_index()
    out = pd.DataFrame({"metric": wide.metric, "target": wide.target,
                        "family": wide.target.map(targets_v3.FAMILIES), "tau_none": wide[NONE],
                        "tau_ped": wide[PED]})
    out["effect"] = out.tau_ped - out.tau_none
    order = {m: i for i, m in enumerate(metrics)}
    out = out.sort_values("metric", key=lambda s: s.map(order), kind="stable")
    return out.reset_index(drop=True)[columns]


def _holm_family(metric: str, hypothesis: str) -> str:
    """The registered Holm family of ``metric`` under ``hypothesis`` ("H0" or "H0'")."""
    return next(name for name, ms in design.HOLM_FAMILIES.items()
                if metric in ms and name.endswith(hypothesis))


def ped_tests(delta: pd.DataFrame, *, gains: dict | None = None, level: float = 0.95,
              alpha: float = design.ALPHA) -> pd.DataFrame:
    """PED's effect per metric of :func:`deltas` under each hypothesis and analysis, Holm-adjusted.

    For every analysis of :data:`ANALYSES` (the per-family means decide; the rendering procedures
    and the targets are sensitivity analyses) and every metric of
    :data:`potran.bench.v4.design.METRICS` with at least two units: H0 (``null`` 0) and, for the
    published metrics, H0' (``null`` = the paper's gain, ``gains`` default
    :func:`potran.bench.v4.design.published_gains`): the exact two-sided sign-flip of the per-unit
    means of Delta - null (Monte Carlo over more than 16 targets). ``estimate`` is the mean of the
    per-unit means of Delta, ``low``/``high`` its interval by inverting the same test (H0' is
    rejected exactly when the gain lies outside it; the t-interval over more than 16 targets),
    clipped to [-2, 2]. Columns :data:`TEST_COLUMNS`, then those of :func:`holm`.
    """
    gains = design.published_gains() if gains is None else gains
    rows = []
    for analysis in ANALYSES:
        for metric in [m for m in design.METRICS if m in set(delta.metric)]:
            grp = delta[delta.metric == metric]
            labels = units(grp.target, analysis)
            if len(set(labels)) < 2:
                continue
            published = [("H0'", float(gains[metric]))] if metric in design.PUBLISHED else []
            for hypothesis, null in [("H0", 0.0), *published]:
                what = f"{metric}+PED - {metric} - ({null:+.3f})"
                res = _test(grp.effect - null, labels, analysis, level, what)
                rows.append({"analysis": analysis, "deciding": analysis == DECIDING, "hypothesis": hypothesis,
                             "holm_family": _holm_family(metric, hypothesis), "metric": metric, "null": null,
                             "estimate": res.estimate + null, "low": _clip(res.low + null, DELTA_RANGE),
                             "high": _clip(res.high + null, DELTA_RANGE), "p_value": res.p_value,
                             "min_p": res.min_p, "n": res.n, "test": res.test})
    # bool even when empty: an empty object column used as a mask would select columns
    return holm(pd.DataFrame(rows, columns=TEST_COLUMNS).astype({"deciding": bool}), alpha=alpha)


def holm(tests: pd.DataFrame, *, alpha: float = design.ALPHA) -> pd.DataFrame:
    """``tests`` (:data:`TEST_COLUMNS`) with Holm's adjustment within each registered family
    (:data:`potran.bench.v4.design.HOLM_FAMILIES`) of each analysis: ``p_holm``; ``rejected``
    (p_holm < ``alpha``); ``sign`` (+1 / -1: the direction of estimate - null, 0 when equal).
    A registered metric without a row, or with a NaN p, counts in its family as p = 1 (the family
    keeps its registered size)."""
    out = tests.copy()
    out["p_holm"] = np.nan
    for (_, family), grp in out.groupby(["analysis", "holm_family"], sort=False):
        registered = list(design.HOLM_FAMILIES[family])
        p = grp.set_index("metric").p_value.reindex(registered).fillna(1.0).to_numpy(float)
        adjusted = dict(zip(registered, stats.holm(p)))
        keep = grp.p_value.notna()
        out.loc[grp.index[keep], "p_holm"] = [adjusted[m] for m in grp.metric[keep]]
    out["rejected"] = out.p_holm < alpha
    out["sign"] = np.sign(out.estimate - out["null"]).astype(float)
    return out


def agreement(tests: pd.DataFrame) -> tuple[int, int]:
    """How many rows of the sensitivity analyses of :func:`holm`'s ``tests`` reach the deciding
    test's decision (rejected alike and, when rejected, in the same direction), out of how many."""
    deciding = tests[tests.deciding][["metric", "hypothesis", "rejected", "sign"]]
    same = tests[~tests.deciding].merge(deciding, on=["metric", "hypothesis"])
    agree = (same.rejected_x == same.rejected_y) & (~same.rejected_x | (same.sign_x == same.sign_y))
    return int(agree.sum()), len(same)


def power(delta: pd.DataFrame, scores: pd.DataFrame, n_families: int, *, n_sim: int = 1000, seed: int = 0,
          level: float = 0.95, gains: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The power achieved per metric: :func:`potran.bench.v4.design.power_table` with F =
    ``n_families`` of v4's own spread of Delta (:func:`potran.bench.v4.design.pilot_spread` of
    ``delta``; ``scores`` gives the correlation of the scores without and with PED; a metric's
    pooled within-family sd is 0 where every family has one target).

    Returns ``(table, spread)``: one row per metric of its columns (Type I error, power at the
    asked effect at alpha and at the Holm step, H0' power, smallest effect with 80 % power), and
    the spread it was calibrated on. An empty table below 2 families (no test), above 8, or
    with ``n_sim`` 0 (no simulation).
    """
    spread = design.pilot_spread(delta, scores=scores, level=level)
    if len(spread):
        spread = spread[spread.families >= 2].assign(sd_within=lambda s: s.sd_within.fillna(0.0))
    if not 2 <= n_families <= max(design.FAMILY_COUNTS) or spread.empty or n_sim == 0:
        return pd.DataFrame(), spread.reset_index(drop=True)
    table, _ = design.power_table(spread.reset_index(drop=True), n_sim=n_sim, seed=seed, counts=(n_families,),
                                  gains=gains)
    return table, spread.reset_index(drop=True)


def v3_means(folder=None, models=None, *, n_halvings: int = N_HALVINGS, seed: int = 0,
             level: float = 0.95) -> pd.DataFrame:
    """:func:`mean_table` of benchmark v3 (``folder``, default its committed ``data/bench_v3``)
    ranking ``models`` (default v3's 16) on v3's fine-tuning main table (its frozen rule,
    :func:`potran.bench.v3_data.reliability_table`), for v4's table to stand beside."""
    from .. import zoo as v3_zoo

    models = list(models) if models is not None else v3_zoo.names()
    data = load_v3(data_path("bench_v3") if folder is None else folder, models)
    if data.scores is None:
        return pd.DataFrame(columns=MEAN_COLUMNS)
    main, _ = included(reliability_table(data.ft, models, n_halvings=n_halvings, seed=seed))
    main = [t for t in main if t in data.scored]
    return mean_table(per_target_tau(data.scores, data.ft, models, main), level=level)


def side_by_side(v4: pd.DataFrame, v3: pd.DataFrame) -> pd.DataFrame:
    """Two :func:`mean_table` s on one row per (metric, perturbation): the mean of the per-family
    means with its interval and the number of families, suffixed ``_v4`` and ``_v3``; v4's rows
    in its order, then those only v3 has."""
    keep = ["metric", "perturbation", "families", "over_families", "low", "high"]
    both = v4[keep].merge(v3[keep], on=["metric", "perturbation"], how="outer", suffixes=("_v4", "_v3"))
    order = {k: i for i, k in enumerate(dict.fromkeys([*zip(v4.metric, v4.perturbation),
                                                       *zip(v3.metric, v3.perturbation)]))}
    rank = [order[k] for k in zip(both.metric, both.perturbation)]
    return both.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)


@dataclass(frozen=True)
class Report:
    """Every registered table (:func:`analyse`): ``reliability`` (per complete target), ``main``
    (its main-table targets) and ``families`` (theirs: F), ``tau`` (long, main table), ``means``
    (:func:`mean_table`), ``delta`` (:func:`deltas`), ``tests`` (:func:`ped_tests`), ``power`` and
    ``spread`` (:func:`power`), ``v3`` (:func:`v3_means`; None when not asked), the second
    table's ``second_means`` (the targets below the rule, reported, never deciding), and
    ``every_tests``, ``every_power`` and ``every_spread``: :func:`ped_tests` and :func:`power` on
    every complete scored target whatever its reliability (Amendment 3 of
    ``data/bench_v4/README.md``: secondary, never deciding)."""

    reliability: pd.DataFrame
    main: list
    families: list
    tau: pd.DataFrame
    means: pd.DataFrame
    delta: pd.DataFrame
    tests: pd.DataFrame
    power: pd.DataFrame
    spread: pd.DataFrame
    v3: pd.DataFrame | None
    second_means: pd.DataFrame
    every_tests: pd.DataFrame
    every_power: pd.DataFrame
    every_spread: pd.DataFrame


def analyse(inputs: Inputs, *, n_halvings: int = N_HALVINGS, n_sim: int = 1000, seed: int = 0,
            level: float = 0.95, gains: dict | None = None, v3: bool | str | Path = True) -> Report:
    """The registered analysis of ``inputs`` (:func:`load`): reliability of every target the ranked
    models complete (halvings seeded by ``seed``), the main table (scored targets at >= 0.9), its
    tau_w, mean table, PED's tests and the power achieved (``n_sim`` simulated benchmarks; 0: none), and
    v3's mean table beside (``v3``: True for v3's committed data, a folder, or False)."""
    rel = reliability_table(inputs.truth, inputs.models, n_halvings=n_halvings, seed=seed)
    main, _ = included(rel)
    main = [t for t in main if t in inputs.scored]
    families = list(dict.fromkeys(targets_v3.FAMILIES[t] for t in main))
    options = dict(n_sim=n_sim, seed=seed, level=level, gains=gains)

    def tested(targets):   # tau_w, Delta, PED's tests and the power achieved on ``targets``
        tau = per_target_tau(inputs.scores, inputs.truth, inputs.models, targets)
        on = inputs.scores[inputs.scores.model.isin(inputs.models) & inputs.scores.target.isin(targets)]
        n_families, delta = len({targets_v3.FAMILIES[t] for t in targets}), deltas(tau)
        tests = ped_tests(delta, gains=gains, level=level)
        return tau, delta, tests, *power(delta, on, n_families, **options)

    tau, delta, tests, power_table, spread = tested(main)
    second = [t for t in members(rel, "second") if t in inputs.scored]
    second_tau = per_target_tau(inputs.scores, inputs.truth, inputs.models, second)
    v3_table = None if v3 is False else v3_means(None if v3 is True else v3, level=level, seed=seed)
    every = tested([t for t in rel.target if t in inputs.scored])   # Amendment 3: whatever their reliability
    return Report(rel, main, families, tau, mean_table(tau, level=level), delta, tests, power_table, spread,
                  v3_table, mean_table(second_tau, level=level), *every[2:])
