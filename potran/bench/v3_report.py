"""Benchmark v3's report: which targets count, what the metrics resolve on them, and how much
this benchmark can resolve at all (the rules frozen in ``data/bench_v3/README.md``; issue 17).

Every interval and test comes from :mod:`potran.stats`, most through
:func:`potran.bench.report.benchmark_tests`; this module applies v3's rules:

- **reliability** per target and protocol (README, "Inclusion rule"):
  :func:`potran.stats.split_half_reliability` of the cells' per-image test correctness (runs
  and test images halved, Spearman of the models' accuracies, 100 seeded halvings,
  Spearman-Brown); a target enters the **main table** at >= :data:`MAIN_TABLE_RELIABILITY`,
  the others the second table;
- the **family** (the target's source, ``potran.bench.targets_v3.FAMILIES``) is a random
  effect: a claim about targets like these is decided by the exact sign-flip test of the
  per-family means (:func:`potran.stats.sign_flip_clustered`); the sign-flip over targets is
  shown beside it, and does not decide;
- PED's effect is tested for every metric it applies to (the width baselines and ``random``
  are not PED tests); the tables' Holm correction runs within the metrics PED was published
  with (:data:`potran.metrics.PED_METRICS`) and, separately, within the others, a split
  decided after the protocol was frozen; :func:`holm_all` gives the correction over all of
  them at once beside it;
- the **model families** (:func:`model_family`): our conv4 CNNs and the ImageNet networks;
  tau_w within each as well as across, and the one-bit baseline :data:`FAMILY_BIT`;
- **power**, two ways: per metric (:func:`power_by_metric`), the family rule applied to
  per-family mean effects drawn with that metric's own between-family spread; and
  (:func:`power_curve`) Gaussian-copula scorers on each target's measured ranking, with its
  measured seed and test-image noise redrawn (:func:`potran.stats.redraw_truth`) and PED's
  effect varying between targets by the median metric's measured spread.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

from .. import stats
from ..metrics import PED_METRICS
from ..ped import MAX_STEPS
from ..perturbations import NONE, PED
from . import book, paper_analysis, report, targets_v3
from .finetune import unpack_correctness
from .runner import WIDTH_METRICS

__all__ = ["MAIN_TABLE_RELIABILITY", "N_HALVINGS", "FAMILY_BIT", "BASELINES", "EFFECTS",
           "model_family", "GroundTruth", "finetune_truth", "probe_truth", "scored_targets",
           "reliability_table", "with_family_bit", "per_target_tau", "tests_table", "mean_table",
           "ped_table", "agreement", "ablation", "ablation_summary", "agreement_mean_text",
           "exit_share", "observed_spread",
           "ped_score_correlation", "power_curve", "calibrated_power", "min_detectable_effect",
           "ped_sentences", "power_statement", "GENERAL_SETS", "CommittedData", "load", "report_markdown",
           "write_readme", "README_START", "README_END", "main", "plural", "members",
           "within_family_table", "agreement_section",
           "ablation_section", "letters_text", "effect_text", "families_needed", "PED_FAMILY_ROWS",
           "holm_all", "family_effects", "family_power", "power_by_metric", "published_ped_gains",
           "POWER_DESIGNS", "metric_power"]

#: A target enters the main table at this Spearman-Brown reliability (README, frozen).
MAIN_TABLE_RELIABILITY = 0.9
#: Random halvings of the test images behind each reliability (README, frozen).
N_HALVINGS = 100
#: The one-bit model-family baseline: 1 for an ImageNet network, 0 for a conv4 CNN.
FAMILY_BIT = "imagenet_bit"
#: Scores that describe the features' width or nothing: no PED test, no Holm family of PED.
BASELINES = (*WIDTH_METRICS, "random", FAMILY_BIT)
#: PED effects (in tau_w) at which :func:`power_curve` simulates the rule by default.
EFFECTS = tuple(np.round(np.arange(0, 0.61, 0.05), 2))


def model_family(name: str) -> str:
    """``"ImageNet"`` for a zoo model pretrained on ImageNet (its zoo family starts with
    ``imagenet``), ``"conv4"`` for our CNNs (photo crops, or the random initialisation)."""
    from . import zoo

    return "ImageNet" if zoo.get(name).family.startswith("imagenet") else "conv4"


@dataclass(frozen=True)
class GroundTruth:
    """One ground-truth protocol of v3 as tidy tables.

    Attributes
    ----------
    protocol : str
        ``"fine-tuning"`` (the main protocol) or ``"linear probe"``.
    accuracy : DataFrame
        model, target, test_acc (mean over the runs).
    seeds : DataFrame
        model, target, seed, test_acc, n_test: one row per run.
    correct : dict
        ``{(model, target): bool (runs, n_test)}``, the per-image test correctness.
    """

    protocol: str
    accuracy: pd.DataFrame
    seeds: pd.DataFrame
    correct: dict

    def complete(self, models) -> list[str]:
        """The v3 targets (in the README's order) on which every one of ``models`` has a cell
        with per-image correctness."""
        return [t for t in targets_v3.NAMES if all((m, t) in self.correct for m in models)]

    def correct_array(self, target: str, models) -> np.ndarray:
        """Per-image correctness of ``target``'s cells as a float (M, runs, N) array."""
        return np.stack([self.correct[(m, target)] for m in models]).astype(float)

    def subset(self, models, targets) -> GroundTruth:
        """The same protocol restricted to ``models`` and ``targets``."""
        def keep(frame):
            return frame[frame.model.isin(models) & frame.target.isin(targets)].reset_index(drop=True)

        return GroundTruth(self.protocol, keep(self.accuracy), keep(self.seeds),
                           {k: v for k, v in self.correct.items() if k[0] in models and k[1] in targets})


def finetune_truth(folder) -> GroundTruth:
    """The fine-tuning ground truth of ``folder`` (``cells/`` of :mod:`potran.bench.finetune`;
    a cell's accuracy is the mean of its seeds' test accuracies)."""
    seeds = report.seed_table(folder)
    accuracy = seeds.groupby(["model", "target"], as_index=False).test_acc.mean()
    return GroundTruth("fine-tuning", accuracy, seeds, report.image_correctness(folder))


def probe_truth(path) -> GroundTruth:
    """The linear-probe ground truth of ``linear_probe.csv`` (one fit per cell: one "run")."""
    table = pd.read_csv(path)
    missing = {"model", "target", "test_acc", "n_test", "test_correct"} - set(table.columns)
    if missing:
        raise ValueError(f"{path} lacks the columns {sorted(missing)}")
    seeds = table[["model", "target", "test_acc", "n_test"]].assign(seed=0)
    correct = {(r.model, r.target): unpack_correctness(r.test_correct, int(r.n_test))[None]
               for r in table.itertuples()}
    return GroundTruth("linear probe", table[["model", "target", "test_acc"]].copy(),
                       seeds[["model", "target", "seed", "test_acc", "n_test"]], correct)


def reliability_table(truth: GroundTruth, models, targets=None, *, n_halvings: int = N_HALVINGS,
                      seed: int = 0) -> pd.DataFrame:
    """Per complete target: its reliability and table under the README's inclusion rule.

    Columns: target, family, protocol, models, runs, test_images, split_half_r, reliability
    (:func:`potran.stats.split_half_reliability`, the halvings seeded by ``seed`` for every
    target alike), table (``"main"`` at >= :data:`MAIN_TABLE_RELIABILITY`, else ``"second"``),
    and, from the runs' variance (:func:`potran.bench.report.reliability`), spread (sd of the
    models' accuracies), seed_noise and test_noise (their rms standard errors; seed noise NaN
    with one run).
    """
    models = list(models)
    targets = [t for t in (targets or targets_v3.NAMES) if t in truth.complete(models)]
    columns = ["target", "family", "protocol", "models", "runs", "test_images", "split_half_r",
               "reliability", "table", "spread", "seed_noise", "test_noise"]
    if not targets:
        return pd.DataFrame(columns=columns)
    noise = report.reliability(truth.subset(models, targets).seeds).set_index("target")
    rows = []
    for t in targets:
        x = truth.correct_array(t, models)
        half = stats.split_half_reliability(x, n_splits=n_halvings, seed=seed)
        rows.append({"target": t, "family": targets_v3.FAMILIES[t], "protocol": truth.protocol,
                     "models": x.shape[0], "runs": x.shape[1], "test_images": x.shape[2],
                     "split_half_r": half["r"], "reliability": half["reliability"],
                     "table": "main" if half["reliability"] >= MAIN_TABLE_RELIABILITY else "second",
                     "spread": noise.loc[t, "spread"], "seed_noise": noise.loc[t, "seed_noise"],
                     "test_noise": noise.loc[t, "test_noise"]})
    return pd.DataFrame(rows, columns=columns)


def with_family_bit(scores: pd.DataFrame) -> pd.DataFrame:
    """``scores`` plus the one-bit baseline :data:`FAMILY_BIT` (no PED) on every scored
    (model, target): 1 for an ImageNet network, 0 for a conv4 CNN."""
    cells = scores[["model", "target"]].drop_duplicates()
    bit = cells.assign(metric=FAMILY_BIT, perturbation=NONE,
                       score=[float(model_family(m) == "ImageNet") for m in cells.model])
    return pd.concat([scores, bit], ignore_index=True)


def _design(scores: pd.DataFrame, truth: GroundTruth, models, targets) -> report.Design:
    t = truth.subset(models, targets)
    s = scores[scores.model.isin(models) & scores.target.isin(targets)]
    return report.design(s, t.accuracy, t.seeds, correct=t.correct or None)


def per_target_tau(scores: pd.DataFrame, truth: GroundTruth, models, targets) -> pd.DataFrame:
    """tau_w of every (metric, perturbation) on every target against ``truth``, ranking only ``models``.

    Long table: target, family, metric, perturbation, tau (NaN where it is undefined, e.g. scores
    constant among these models). Ties within the benchmark's tolerance are merged
    (:class:`potran.bench.report.Design`).
    """
    return _tau_long(_design(scores, truth, models, targets))


def _tau_long(d: report.Design) -> pd.DataFrame:
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for key in d.scores:
            for t, tau in zip(d.targets, d.per_target(key)):
                rows.append({"target": t, "family": targets_v3.FAMILIES[t], "metric": key[0],
                             "perturbation": key[1], "tau": tau})
    return pd.DataFrame(rows, columns=["target", "family", "metric", "perturbation", "tau"])


def _over_units(family: str, metric: str, perturbation: str, values: pd.Series, families: pd.Series,
                comparison: str, level: float, reference: str | None = None) -> list[dict]:
    """The sign-flip rows of per-target ``values``: over targets (``family``) and over the
    per-family means (``family`` with ", families" or "families"), where each has 2 units."""
    v, f = values.to_numpy(float), families.to_numpy()
    ok = np.isfinite(v)
    rows = []
    if ok.sum() >= 2:
        rows.append({"family": family, "metric": metric, "perturbation": perturbation,
                     "reference": reference,
                     **stats.sign_flip(v[ok], comparison=comparison, level=level).record()})
    if len(set(f[ok])) >= 2:
        rows.append({"family": "families" if family == "targets" else f"{family}, families",
                     "metric": metric, "perturbation": perturbation, "reference": reference,
                     **stats.sign_flip_clustered(v[ok], f[ok], comparison=comparison, level=level).record()})
    return rows


#: Test families of :func:`tests_table` split into the published metrics and the others.
_SPLIT = ("targets", "families", "PED", "PED, families")


def tests_table(scores: pd.DataFrame, truth: GroundTruth, models, targets, *, resample: bool = True,
                n_boot: int = 1000, n_draws: int = 2000, level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Every test of the metrics on ``targets``, ranking ``models``, against ``truth``.

    Families of rows (Holm within each): ``targets`` (mean tau_w over targets, exact
    sign-flip with its t-interval, :func:`potran.stats.sign_flip`) and ``families`` (over the
    per-family means, :func:`potran.stats.sign_flip_clustered`: the claim about targets like
    these, and the test that decides); ``PED`` and ``PED, families`` (PED minus none, the same
    two ways) for the metrics PED applies to (not :data:`BASELINES`). Each of these four is
    split in two Holm families: the metrics published with PED
    (:data:`potran.metrics.PED_METRICS`) and the others (``... (others)``, baselines included),
    a split decided after the protocol was frozen (with 8 families the smallest p is 2 / 2^8, so
    a Holm family of more than 6 rows can never resolve anything; :func:`holm_all` gives the
    correction over all PED rows at once). With ``resample``, also ``chance``, ``models`` and
    ``PED, models`` of
    :func:`potran.bench.report.benchmark_tests` (the permutation test against chance and the
    crossed bootstrap: these targets, other models, seeds and test images; no static
    baseline). Columns as :data:`potran.bench.report.TEST_COLUMNS`; rows ordered by metric: the
    published ones first, the baselines last.
    """
    s = scores[~(scores.metric.isin(BASELINES) & (scores.perturbation == PED))]   # no PED baselines
    d = _design(s, truth, models, targets)
    if not d.targets:
        return pd.DataFrame(columns=report.TEST_COLUMNS)
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
    table = pd.DataFrame(rows, columns=[c for c in report.TEST_COLUMNS if c not in ("p_holm", "verdict")])
    if resample:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            boot = report.benchmark_tests(s, t.accuracy, t.seeds, baseline=None, n_boot=n_boot,
                                          n_draws=n_draws, level=level, seed=seed,
                                          correct=t.correct or None)
        table = pd.concat([boot[boot.family.isin(["chance", "models", "PED, models"])]
                           .drop(columns=["p_holm", "verdict"]), table], ignore_index=True)
    others = table.family.isin(_SPLIT) & ~table.metric.isin(PED_METRICS)
    table.loc[others, "family"] += " (others)"
    table = report.add_holm(table)
    order = {m: i for i, m in enumerate([*PED_METRICS, *dict.fromkeys(table.metric)])}
    rank = table.metric.map(lambda m: order[m] + (len(order) if m in BASELINES else 0))
    return table.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)


def _fmt(r, bound: float = np.inf) -> str:
    """A test row's estimate [interval] (:func:`potran.bench.book.interval`), the interval clipped
    to ``[-bound, bound]`` (the range of the value); "–" without a row."""
    if r is None:
        return book.MISSING
    return book.interval(r.estimate, max(float(r.low), -float(bound)), min(float(r.high), float(bound)))


def _p(r) -> str:
    return book.MISSING if r is None else book.p_value(r.p_holm)


def _get(tests: pd.DataFrame, family: str, metric: str, perturbation: str):
    """The row of ``family`` (or its ``(others)`` half) for ``metric`` and ``perturbation``, or None."""
    if family in _SPLIT and metric not in PED_METRICS:
        family += " (others)"
    rows = tests[(tests.family == family) & (tests.metric == metric)
                 & (tests.perturbation == perturbation)]
    return rows.iloc[0] if len(rows) else None


def mean_table(tests: pd.DataFrame) -> pd.DataFrame:
    """One row per (metric, PED) of :func:`tests_table`: the mean tau_w over targets [its
    t-interval over targets], the mean of the per-family means [its t-interval over families:
    the claim about targets from other sources like these], the Holm p of the family sign-flip
    (H0: mean 0) and of the permutation test against chance. Strings, intervals clipped to
    tau_w's range [-1, 1]; "–" where a test cannot be computed (fewer than two targets or
    families, or no resampling).
    """
    rows = []
    plain = tests[tests.reference.isna()]
    for metric, perturbation in dict.fromkeys(zip(plain.metric, plain.perturbation)):
        fam = _get(tests, "families", metric, perturbation)
        rows.append({"metric": metric, "PED": "yes" if perturbation == PED else "no",
                     "over targets [95 % CI]": _fmt(_get(tests, "targets", metric, perturbation), bound=1),
                     "over families [95 % CI]": _fmt(fam, bound=1),
                     "p, families (Holm)": _p(fam),
                     "p vs chance (Holm)": _p(_get(tests, "chance", metric, perturbation))})
    return pd.DataFrame(rows, columns=["metric", "PED", "over targets [95 % CI]",
                                       "over families [95 % CI]", "p, families (Holm)",
                                       "p vs chance (Holm)"])


def ped_table(tests: pd.DataFrame) -> pd.DataFrame:
    """One row per metric PED applies to: PED minus none over the per-family means [95 %
    t-interval over families, clipped to [-2, 2]] with its Holm p (the exact sign-flip over
    families decides; Holm within the published metrics and within the others), and the same
    over targets beside it. Strings; "–" where a test cannot be computed."""
    rows = []
    for metric in dict.fromkeys(tests.metric):
        fam, over = _get(tests, "PED, families", metric, PED), _get(tests, "PED", metric, PED)
        if metric in BASELINES or (fam is None and over is None):
            continue
        rows.append({"metric": metric, "over families [95 % CI]": _fmt(fam, bound=2),
                     "p, families (Holm)": _p(fam), "over targets [95 % CI]": _fmt(over, bound=2),
                     "p, targets (Holm)": _p(over)})
    return pd.DataFrame(rows, columns=["metric", "over families [95 % CI]", "p, families (Holm)",
                                       "over targets [95 % CI]", "p, targets (Holm)"])


def agreement(first: GroundTruth, second: GroundTruth, models, targets, *, reliabilities=None,
              n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[pd.DataFrame, object]:
    """How far two ground truths rank the models alike, per target they both complete.

    Columns: target, family, weighted_tau (:func:`potran.stats.weighted_tau_rows` of the two
    accuracy vectors; symmetric), low/high (model bootstrap,
    :func:`potran.evaluation.bootstrap_ci`: other models like these, on this target),
    spearman, and, with ``reliabilities`` (``{(protocol, target): reliability}``), the
    Spearman divided by the square root of the two reliabilities (the agreement the two would
    have without their measurement noise; above 1 by chance). The second value is the
    :func:`potran.stats.sign_flip_clustered` result of the tau_w over families (None with
    fewer than two families).
    """
    from ..evaluation import bootstrap_ci

    models = list(models)
    both = [t for t in targets if t in set(first.complete(models)) & set(second.complete(models))]
    rows = []
    for t in both:
        a = first.accuracy[first.accuracy.target == t].set_index("model").test_acc.loc[models]
        b = second.accuracy[second.accuracy.target == t].set_index("model").test_acc.loc[models]
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


def _complete(scores: pd.DataFrame, models) -> pd.DataFrame:
    """The rows of the (metric, perturbation, target) groups that score every one of ``models``."""
    need, keys = set(models), ["metric", "perturbation", "target"]
    full = scores.groupby(keys).model.agg(lambda s: need <= set(s))
    return scores.merge(full[full].reset_index()[keys], on=keys)


def scored_targets(scores: pd.DataFrame, models) -> list[str]:
    """The v3 targets (README order) on which every one of ``models`` has a row of every
    metric in ``scores`` (a target being scored is left out until it is complete)."""
    full = _complete(scores, models)
    n_metrics = scores.groupby(["metric", "perturbation"]).ngroups
    done = full.groupby("target").apply(lambda g: g.groupby(["metric", "perturbation"]).ngroups == n_metrics,
                                        include_groups=False)
    return [t for t in targets_v3.NAMES if t in done.index and done[t]]


def ablation(baseline: pd.DataFrame, general_sets: dict, truth: GroundTruth, models, targets, *,
             level: float = 0.95) -> pd.DataFrame:
    """PED's effect per metric under each general set (issue 17's ablation).

    ``baseline`` holds the scores without PED (and with PED under the default general set);
    ``general_sets`` maps a set's name to its score table (PED rows; a (metric, target) counts
    once it scores every one of ``models``). For each set and metric: the number of targets and
    families scored, PED minus none per target averaged over targets
    and over families (:func:`potran.stats.sign_flip_clustered`, 95 % t-interval over families,
    p Holm-adjusted within the set's published metrics and within its others, as in
    :func:`tests_table`; NaN with fewer than two families).
    """
    rows = []
    off = baseline[baseline.perturbation == NONE]
    for name, frame in general_sets.items():
        on = _complete(frame[(frame.perturbation == PED) & ~frame.metric.isin(BASELINES)], models)
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
    ``potran.ped.MAX_STEPS`` steps) and the median energy ratio after the motion
    (one PED motion per cell on the reduced features, shared by its metrics; ``dim`` and ``norm``
    move the raw features in a motion of their own and are left out)."""
    rows = []
    for name, frame in general_sets.items():
        cells = frame[(frame.perturbation == PED) & ~frame.metric.isin(WIDTH_METRICS)]
        cells = cells.dropna(subset=["ped_steps"])
        cells = cells.drop_duplicates(["model", "target"])
        for fam, grp in cells.groupby(cells.model.map(model_family)):
            rows.append({"general set": name, "models": fam, "cells": len(grp),
                         "exit rule fired": float((grp.ped_steps < MAX_STEPS).mean()),
                         "median energy ratio": float(grp.energy_ratio.median())})
    return pd.DataFrame(rows, columns=["general set", "models", "cells", "exit rule fired",
                                       "median energy ratio"])


def observed_spread(tau: pd.DataFrame, metrics) -> dict:
    """The between-target spread of ``metrics``' tau_w and of their PED effect, in a long
    :func:`per_target_tau` table: ``sd_tau`` and ``sd_effect`` (medians over the metrics of the
    sd over targets, ddof 1), ``targets`` and the per-metric values (NaN with < 3 targets)."""
    per = {}
    for metric in metrics:
        grp = tau[tau.metric == metric].pivot_table(index="target", columns="perturbation", values="tau")
        if PED not in grp or NONE not in grp:
            continue
        d = (grp[PED] - grp[NONE]).dropna()
        per[metric] = (grp[NONE].dropna().std(ddof=1) if grp[NONE].notna().sum() >= 3 else np.nan,
                       d.std(ddof=1) if len(d) >= 3 else np.nan)
    sd = np.array(list(per.values()), float).reshape(-1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return {"sd_tau": float(np.nanmedian(sd[:, 0])) if len(sd) else np.nan,
                "sd_effect": float(np.nanmedian(sd[:, 1])) if len(sd) else np.nan,
                "targets": int(tau.target.nunique()), "per_metric": per}


def _normal_scores(accuracy: np.ndarray) -> np.ndarray:
    """The Gaussian copula's latent of a measured ranking: standardised normal scores."""
    z = sps.norm.ppf((sps.rankdata(accuracy) - 0.5) / len(accuracy))
    return (z - z.mean()) / z.std()


def _family_means(values: np.ndarray, families) -> tuple[np.ndarray, int]:
    """(F, ...) means of the rows of ``values`` (T, ...) within each family."""
    names, inverse = np.unique(np.asarray(families), return_inverse=True)
    weights = np.zeros((len(names), len(inverse)))
    weights[inverse, np.arange(len(inverse))] = 1
    weights /= weights.sum(1, keepdims=True)
    return np.tensordot(weights, values, axes=1), len(names)


def power_curve(templates, families, *, effects=EFFECTS,
                base_tau: float = 0.25, sd_base: float = 0.0, sd_effect: float = 0.0,
                score_corr: float = 0.7, alphas=(0.05,), level: float = 0.95, n_sim: int = 400,
                seed: int = 0) -> pd.DataFrame:
    """Power of the family rule to detect PED's effect on a benchmark like this one, simulated.

    Each simulated benchmark has one target per template (``templates``: (M, runs, N)
    per-image correctness of a measured target, ``families`` its source). On each target the
    ground truth is redrawn from its own cells (runs and test images,
    :func:`potran.stats.redraw_truth`) and two scorers are drawn from a Gaussian copula on the
    measured ranking (latent: normal scores of the accuracies): ``s0 = r0 z + sqrt(1 - r0^2) e0``
    (without PED) and ``s1`` (with PED) with ``r1`` and errors ``e1`` correlated with ``e0`` so
    that, without an effect, the two scorers correlate ``score_corr`` (the measured Spearman
    between a metric's scores with and without PED, :func:`ped_score_correlation`).
    ``r0`` gives the expected tau_w ``base_tau`` plus a target effect of sd
    ``sd_base``; ``r1`` gives it plus ``effect`` plus a target effect of sd ``sd_effect``
    (PED's effect varies between targets), both through the calibrated map from ``r`` to the
    expected tau_w against the redrawn truths. The rule: the exact sign-flip over the
    per-family means of the per-target differences (:func:`potran.stats.sign_flip_rows`),
    two-sided, at each of ``alphas``.

    Returns
    -------
    DataFrame
        effect (the nominal one), the power at each alpha (``power@<alpha>``), mean_effect (the
        mean simulated difference over the family means: below the nominal effect where tau_w
        reaches its ceiling), error_corr (of ``e0`` and ``e1``), half_width_effect and half_width_tau (median
        half-width of the t-interval over families of the effect and of the mean tau_w
        without PED), sd_effect_targets and sd_tau_targets (mean over benchmarks of the sd over
        targets of the per-target effect and tau_w: what :func:`observed_spread` measures).
    """
    if len(templates) != len(families):
        raise ValueError(f"{len(templates)} templates but {len(families)} family labels")
    if not -1 < score_corr < 1:
        raise ValueError(f"score_corr must be in (-1, 1), got {score_corr!r}")
    rng = np.random.default_rng(seed)
    z = [_normal_scores(np.asarray(x, float).mean(axis=(1, 2))) for x in templates]
    truth = [stats.redraw_truth(np.asarray(x, float).mean(axis=2), x, n_sim, rng) for x in templates]
    n_t, n_m = len(z), len(z[0])
    e0, e1 = rng.standard_normal((2, n_t, n_sim, n_m))
    h0, h1 = rng.standard_normal((2, n_t, n_sim))

    def tau_of(r, noise, t):
        r = r[:, None]
        return stats.weighted_tau_rows(r * z[t] + np.sqrt(1 - r ** 2) * noise, truth[t][:len(r)])

    grid = np.linspace(-0.95, 0.995, 40)
    n_cal = min(n_sim, 100)
    expected = np.array([np.mean([tau_of(np.full(n_cal, r), e0[t, :n_cal], t).mean() for t in range(n_t)])
                         for r in grid])
    expected = np.maximum.accumulate(expected)          # monotone in r (up to simulation noise)

    def r_for(tau):
        return np.interp(tau, expected, grid)

    rho = r_for(base_tau)       # corr(s0, s1) = rho^2 + c (1 - rho^2) without an effect
    error_corr = float(np.clip((score_corr - rho ** 2) / (1 - rho ** 2), 0.0, 0.99))
    r0 = r_for(base_tau + sd_base * h0)
    tau0 = np.stack([tau_of(r0[t], e0[t], t) for t in range(n_t)])
    fm0, n_f = _family_means(tau0, families)
    q = sps.t.ppf(0.5 + level / 2, max(n_f - 1, 1)) / np.sqrt(n_f)
    mixed = error_corr * e0 + np.sqrt(1 - error_corr ** 2) * e1
    rows = []
    for effect in effects:
        r1 = r_for(base_tau + sd_base * h0 + effect + sd_effect * h1)
        diff = np.stack([tau_of(r1[t], mixed[t], t) for t in range(n_t)]) - tau0
        fm, _ = _family_means(diff, families)
        row = {"effect": float(effect)}
        p = stats.sign_flip_rows(fm.T) if n_f >= 2 else np.full(n_sim, np.nan)
        for a in alphas:
            row[f"power@{a:g}"] = float(np.mean(p < a)) if n_f >= 2 else np.nan
        row.update({"mean_effect": float(fm.mean()), "error_corr": error_corr,
                    "half_width_effect": float(np.median(q * fm.std(0, ddof=1))) if n_f >= 2 else np.nan,
                    "half_width_tau": float(np.median(q * fm0.std(0, ddof=1))) if n_f >= 2 else np.nan,
                    "sd_effect_targets": float(np.mean(diff.std(0, ddof=1))) if n_t >= 2 else np.nan,
                    "sd_tau_targets": float(np.mean(tau0.std(0, ddof=1))) if n_t >= 2 else np.nan})
        rows.append(row)
    return pd.DataFrame(rows)


def min_detectable_effect(curve: pd.DataFrame, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest simulated effect (``mean_effect`` of :func:`power_curve`) whose power at
    ``alpha`` reaches ``power`` (linear interpolation between grid points); inf when no effect
    of the grid reaches it."""
    x, y = curve.mean_effect.to_numpy(float), curve[f"power@{alpha:g}"].to_numpy(float)
    above = np.flatnonzero(y >= power)
    if not above.size:
        return float("inf")
    i = above[0]
    if i == 0:
        return float(x[0])
    return float(x[i - 1] + (power - y[i - 1]) * (x[i] - x[i - 1]) / (y[i] - y[i - 1]))


def ped_score_correlation(scores: pd.DataFrame, metrics) -> float:
    """Median over (metric, target) of the Spearman correlation between a metric's scores of
    the models without and with PED (how much PED reorders them)."""
    values = []
    for _, grp in scores[scores.metric.isin(metrics)].groupby(["metric", "target"]):
        wide = grp.pivot_table(index="model", columns="perturbation", values="score").dropna()
        if PED in wide and NONE in wide and len(wide) >= 3:
            rho = sps.spearmanr(wide[NONE], wide[PED]).statistic
            if np.isfinite(rho):
                values.append(rho)
    return float(np.median(values)) if values else float("nan")


def calibrated_power(templates, families, observed: dict, *, score_corr: float, alphas=(0.05,),
                     effects=EFFECTS, n_sim: int = 400, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """:func:`power_curve` with its between-target effects set from measured spreads.

    ``observed`` is :func:`observed_spread` of the data the benchmark has (``sd_tau``,
    ``sd_effect``) plus ``base_tau`` (the metrics' typical mean tau_w). A first simulation
    without between-target effects gives the spread that the models, the seeds and the test
    images alone produce (the floor); the between-target sds are then set to what the measured
    spreads leave above it: ``sd = sqrt(max(0, measured^2 - floor^2))``.

    Returns the curve and the parameters used (``base_tau``, ``score_corr``, ``error_corr``,
    ``floor_sd_tau``, ``floor_sd_effect``, ``sd_base``, ``sd_effect``).
    """
    common = dict(base_tau=observed["base_tau"], score_corr=score_corr, n_sim=n_sim, seed=seed)
    floor = power_curve(templates, families, effects=(0.0,), **common).iloc[0]
    def above(measured, floor_sd):
        return float(np.sqrt(max(0.0, measured ** 2 - floor_sd ** 2)))

    params = {"base_tau": observed["base_tau"], "score_corr": score_corr,
              "error_corr": floor.error_corr, "floor_sd_tau": floor.sd_tau_targets,
              "floor_sd_effect": floor.sd_effect_targets,
              "sd_base": above(observed["sd_tau"], floor.sd_tau_targets),
              "sd_effect": above(observed["sd_effect"], floor.sd_effect_targets)}
    curve = power_curve(templates, families, effects=effects, alphas=alphas, sd_base=params["sd_base"],
                        sd_effect=params["sd_effect"], **common)
    return curve, params


def families_needed(alpha: float = 0.05) -> int:
    """The fewest units (families) at which the exact sign-flip test, whose smallest two-sided p
    is 2 / 2^F (:func:`potran.stats.sign_flip`), can give p below ``alpha``: the floor below
    which nothing can be resolved, not the number of units that power needs."""
    units = 2
    while 2 / 2 ** units >= alpha:
        units += 1
    return units


#: The PED rows of :func:`tests_table` over families, in their two Holm halves.
PED_FAMILY_ROWS = ("PED, families", "PED, families (others)")


def holm_all(tests: pd.DataFrame, family: str = "PED") -> pd.DataFrame:
    """The PED rows over families (``family="PED"``) or over targets (``"PED targets"``) of
    :func:`tests_table` with Holm's correction over all of them at once (one Holm family of
    every metric PED applies to), beside the split into the published metrics and the others:
    metric, estimate, low, high, p_value, min_p, n, p_holm_split, p_holm_all."""
    names = PED_FAMILY_ROWS if family == "PED" else ("PED", "PED (others)")
    rows = tests[tests.family.isin(names)].copy()
    rows["p_holm_split"] = rows.p_holm
    rows["p_holm_all"] = stats.holm(rows.p_value.to_numpy(float))
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
    out = diff.groupby(["metric", "family"], sort=False).agg(effect=("effect", "mean"),
                                                            targets=("effect", "size")).reset_index()
    return out


def family_power(sd: float, n_families: int, effect: float, *, alpha: float = 0.05, n_sim: int = 20000,
                 seed: int = 0) -> float:
    """Power of the family rule (the exact two-sided sign-flip over ``n_families`` per-family
    means, at ``alpha``) when the per-family means of PED's effect are drawn from a normal of
    mean ``effect`` and sd ``sd`` (a metric's own between-family spread): the share of
    ``n_sim`` simulated benchmarks with p < ``alpha``. Exactly 0 when 2 / 2^F >= ``alpha``
    (the test cannot go below its smallest p); NaN below two families or without a spread."""
    if n_families < 2 or not np.isfinite(sd):
        return float("nan")
    if 2 / 2 ** n_families >= alpha:
        return 0.0
    rng = np.random.default_rng(seed)
    draws = rng.normal(effect, sd, size=(n_sim, n_families))
    return float(np.mean(stats.sign_flip_rows(draws) < alpha))


def power_by_metric(effects: pd.DataFrame, targets: dict, *, designs: dict, alphas=(0.05,),
                    n_sim: int = 20000, seed: int = 0) -> pd.DataFrame:
    """:func:`family_power` per metric, each with its own between-family spread.

    ``effects`` is :func:`family_effects` of the data the spread is measured on; ``targets``
    maps each metric to the effect whose power is asked (e.g. the paper's published gain);
    ``designs`` maps a design's name to its number of families. Returns one row per metric of
    ``targets``: metric, families (measured), sd (the sd over those families of the per-family
    mean effect, ddof 1: what the family test's t-interval uses), mean (their mean), effect
    (asked), then ``power, <design>, α <alpha>`` for every design and alpha.
    """
    rows = []
    for i, (metric, effect) in enumerate(targets.items()):
        x = effects.loc[effects.metric == metric, "effect"].to_numpy(float)
        sd = float(np.std(x, ddof=1)) if x.size >= 2 else float("nan")
        row = {"metric": metric, "families": int(x.size), "sd": sd,
               "mean": float(x.mean()) if x.size else float("nan"), "effect": float(effect)}
        for name, n_families in designs.items():
            for a in alphas:
                row[f"power, {name}, α {a:.2g}"] = family_power(sd, n_families, effect, alpha=a,
                                                                n_sim=n_sim, seed=seed + i)
        rows.append(row)
    return pd.DataFrame(rows)


def ped_sentences(tests: pd.DataFrame) -> list[str]:
    """One line per metric for the README: PED's effect over the per-family means with the raw
    p of the exact sign-flip, its smallest attainable p, and the Holm p over all the metrics
    PED applies to (one family) beside the split into the published metrics and the others,
    which was decided after the protocol was frozen (:func:`holm_all`)."""
    def p(value):
        return "< 0.001" if value < 0.001 else f"{value:.3g}"

    out = []
    for r in holm_all(tests).itertuples():
        out.append(
            f"**{r.metric}**: PED − none {_fmt(r, bound=2)} over {int(r.n)} families; exact "
            f"sign-flip p = {p(r.p_value)} (smallest attainable {r.min_p:.3g}); Holm over "
            f"all {len(tests[tests.family.isin(PED_FAMILY_ROWS)])} metrics "
            f"p = {p(r.p_holm_all)}; Holm within the "
            + (f"{len(PED_METRICS)} published metrics" if r.metric in PED_METRICS else "other metrics")
            + f" (split decided after the freeze) p = {p(r.p_holm_split)}.")
    return out


def published_ped_gains() -> dict:
    """The paper's mean PED gain in tau_w per metric over the datasets of its main table (PED
    minus none, the published numbers of :func:`potran.bench.paper_analysis.published_taus`)."""
    taus = paper_analysis.published_taus().pivot_table(index="target", columns=["metric", "perturbation"],
                                                       values="weighted_tau")
    return {m: float((taus[(m, PED)] - taus[(m, NONE)]).mean())
            for m in PED_METRICS if (m, PED) in taus and (m, NONE) in taus}


#: The designs of the per-metric power: the frozen one (8 families) and what the fine-tuning
#: main table's inclusion rule produced (5 families).
POWER_DESIGNS = {"8 families (frozen design)": 8, "5 families (fine-tuning main table)": 5}


def metric_power(scores: pd.DataFrame, truth: GroundTruth, models, targets, *, alphas=(0.05, 0.05 / 9),
                 designs=POWER_DESIGNS, n_sim: int = 20000, seed: int = 0) -> pd.DataFrame:
    """:func:`power_by_metric` of the metrics the paper published with PED, at the paper's own
    gain (:func:`published_ped_gains`), each with its own between-family spread of the PED
    effect measured on ``targets`` against ``truth``."""
    tau = per_target_tau(scores, truth, models, targets)
    gains = published_ped_gains()
    return power_by_metric(family_effects(tau, gains), gains, designs=designs, alphas=alphas,
                           n_sim=n_sim, seed=seed)


def power_statement(ft: GroundTruth, lp: GroundTruth, scores, models, *, main_ft=(), main_lp=(),
                    landed=None, alphas=(0.05, 0.05 / 3), effects=EFFECTS, n_sim: int = 400,
                    seed: int = 0) -> dict:
    """The power statement of the page and the README (issue 17): :func:`calibrated_power` on
    the frozen design and, once it has two families, on the fine-tuning main table.

    The spreads come from the v3 scores against the fine-tuning main table (``main_ft``) when
    3 of its targets are scored, else against the linear-probe main table (``main_lp``), else
    from ``landed`` (``(scores, GroundTruth)`` of the landed 4-target benchmark). The frozen
    design takes each v3 target's own cells as its template: its fine-tuning cells where they
    are complete, else its linear-probe cells.

    Returns
    -------
    dict
        ``table`` (per design: families, the smallest effect at 80 % power at each alpha, the
        power at +0.10 and +0.27, the median half-widths of a PED effect and of a mean tau_w),
        ``observed`` (:func:`observed_spread` plus ``base_tau``), ``score_corr``, ``params``
        (per design, :func:`calibrated_power`'s), ``source`` (where the spreads come from, in
        words), ``metrics`` (those measured) and ``templates`` (``{protocol: count}``).
    """
    models = list(models)
    tau = None
    if scores is not None:
        for truth, targets, label in ((ft, main_ft, "the fine-tuning main table"),
                                      (lp, main_lp, "the linear-probe main table")):
            targets = [t for t in targets if t in set(scores.target)]
            if len(targets) >= 3:
                tau, used = per_target_tau(scores, truth, models, targets), scores
                source = f"v3 scores against {label} ({len(targets)} targets)"
                break
    if tau is None:
        if landed is None:
            raise ValueError("fewer than 3 scored v3 targets and no landed benchmark to measure spreads on")
        used, truth = landed
        targets = [t for t in targets_v3.NAMES if t in set(used.target) & set(truth.complete(models))]
        tau = per_target_tau(used, truth, models, targets)
        source = (f"the landed {len(targets)}-target benchmark (its scores against its own fine-tuning "
                  "ground truth; v3 has fewer than 3 scored main-table targets)")
    metrics = [m for m in dict.fromkeys(tau.metric) if m not in BASELINES]
    observed = observed_spread(tau, metrics)
    observed["base_tau"] = float(tau[(tau.perturbation == NONE) & tau.metric.isin(metrics)]
                                 .groupby("metric").tau.mean().median())
    score_corr = ped_score_correlation(used, metrics)
    done = set(ft.complete(models))
    frozen = [ft if t in done else lp for t in targets_v3.NAMES]
    designs = {f"the frozen design ({len(targets_v3.NAMES)} targets, "
               f"{len(set(targets_v3.FAMILIES.values()))} families)":
               ([g.correct_array(t, models) for g, t in zip(frozen, targets_v3.NAMES)],
                [targets_v3.FAMILIES[t] for t in targets_v3.NAMES])}
    if len({targets_v3.FAMILIES[t] for t in main_ft}) >= 2:
        designs[f"the fine-tuning main table now ({len(main_ft)} targets)"] = (
            [ft.correct_array(t, models) for t in main_ft], [targets_v3.FAMILIES[t] for t in main_ft])
    rows, params = [], {}
    for name, (templates, families) in designs.items():
        curve, params[name] = calibrated_power(templates, families, observed, score_corr=score_corr,
                                               alphas=alphas, effects=effects, n_sim=n_sim, seed=seed)
        row = {"design": name, "families": len(set(families))}
        for a in alphas:
            row[f"smallest effect at 80 % power (α {a:.3g})"] = min_detectable_effect(curve, a)
        for effect in (0.10, 0.27):
            row[f"power at +{effect:.2f}"] = float(np.interp(effect, curve.mean_effect,
                                                             curve[f"power@{alphas[0]:g}"]))
        row["half-width, PED effect"] = float(curve.half_width_effect.median())
        row["half-width, mean weighted τ"] = float(curve.half_width_tau.iloc[0])
        rows.append(row)
    return {"table": pd.DataFrame(rows), "observed": observed, "score_corr": score_corr,
            "params": params, "source": source, "metrics": metrics,
            "templates": {p: sum(g.protocol == p for g in frozen) for p in (ft.protocol, lp.protocol)}}


#: The general sets of the ablation: their names on the page and their score folders.
GENERAL_SETS = {"photo crops": "scores", "per-family in-distribution": "scores_general_family",
                "target's own training features": "scores_general_target"}


@dataclass(frozen=True)
class CommittedData:
    """Benchmark v3's committed data (:func:`load`): both ground truths, the scores of the
    targets every model has been scored on (with :data:`FAMILY_BIT`; None before any), the
    scored targets, and each general set's score table (None while its folder is missing)."""

    ft: GroundTruth
    lp: GroundTruth
    scores: pd.DataFrame | None
    scored: list
    general: dict


def load(folder, models) -> CommittedData:
    """Read ``folder`` (``data/bench_v3``: ``cells/``, ``linear_probe.csv``, ``scores*/``)."""
    folder = Path(folder)
    general = {name: (pd.read_csv(folder / sub / "scores.csv") if (folder / sub / "scores.csv").is_file()
                      else None) for name, sub in GENERAL_SETS.items()}
    scores = general["photo crops"]
    scored = scored_targets(scores, models) if scores is not None else []
    if scores is not None:
        scores = with_family_bit(scores[scores.target.isin(scored)])
    return CommittedData(finetune_truth(folder), probe_truth(folder / "linear_probe.csv"), scores, scored,
                     general)


def _markdown(frame: pd.DataFrame) -> str:
    """A pipe table of a frame of strings and numbers (numbers as :func:`potran.bench.book.number`)."""
    def cell(v):
        return (v if isinstance(v, str) else book.number(v)).replace("|", r"\|")

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * frame.shape[1]]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


README_START = "<!-- benchmark v3 report: written by python -m potran.bench.v3_report; do not edit -->"
README_END = "<!-- end of the benchmark v3 report -->"


def report_markdown(bench: CommittedData, models, *, landed=None, n_boot: int = 1000, n_draws: int = 2000,
                    n_sim: int = 400, seed: int = 0) -> str:
    """The README's report section: reliabilities, both protocols' main tables with PED's
    effect in one sentence per metric, the within-family results, the agreement of the two
    ground truths, the general-set ablation and the power statement (the page's functions)."""
    models = list(models)
    parts = ["## Report (computed from the committed cells and scores)", ""]
    rel = {}
    for truth in (bench.ft, bench.lp):
        table = reliability_table(truth, models, seed=seed)
        rel[truth.protocol] = table
        main = list(table[table.table == "main"].target)
        parts += [f"**{truth.protocol}**: {len(table)} of {len(targets_v3.NAMES)} targets complete; "
                  f"main table (reliability >= {MAIN_TABLE_RELIABILITY}): {', '.join(main) or 'none'}; "
                  f"second table: {', '.join(table[table.table == 'second'].target) or 'none'}.", ""]
        if len(table):
            shown = table[["target", "family", "reliability", "spread", "seed_noise", "test_noise"]]
            parts += [_markdown(shown), ""]
        targets = [t for t in main if t in bench.scored]
        if bench.scores is None or len({targets_v3.FAMILIES[t] for t in targets}) < 2:
            parts += [f"Main table against the {truth.protocol}: fewer than two scored families yet.", ""]
            continue
        tests = tests_table(bench.scores, truth, models, targets, n_boot=n_boot, n_draws=n_draws, seed=seed)
        parts += [f"Mean $\\tau_w$ against the {truth.protocol}, {len(targets)} main-table targets:", "",
                  _markdown(mean_table(tests)), "", "PED - none:", "", _markdown(ped_table(tests)), "",
                  *[f"- {s}" for s in ped_sentences(tests)], ""]
    main_ft = [t for t in rel["fine-tuning"].query("table == 'main'").target if t in bench.scored]
    main_lp = [t for t in rel["linear probe"].query("table == 'main'").target if t in bench.scored]
    parts += _report_extras(bench, models, rel, main_ft, main_lp, landed=landed, n_boot=n_boot, seed=seed)
    st = power_statement(bench.ft, bench.lp, bench.scores, models, main_ft=main_ft, main_lp=main_lp,
                         landed=landed, n_sim=n_sim, seed=seed)
    parts += ["### Power", "", f"Spreads measured on {st['source']}, the median over the metrics "
              "(correction of 2026-12-06: the power below is that of a metric with the median spread, not "
              "of LogME; see the per-metric table after it); the rule: the exact sign-flip over "
              "the per-family means, two-sided; Gaussian-copula scorers on each target's own cells "
              f"(`calibrated_power`, {n_sim} simulated benchmarks per effect).", "",
              _markdown(st["table"].assign(**{c: st["table"][c].map(lambda x: book.number(x, 3, signed=True))
                                              for c in st["table"].columns[2:4]})), ""]
    power = metric_power(bench.scores, bench.ft, models, main_ft, seed=seed)
    shown = power.rename(columns={"sd": "sd over families", "mean": "mean over families",
                                  "effect": "paper's gain"})
    parts += ["Per metric, with the metric's own between-family spread of PED's effect on the "
              f"fine-tuning main table ({len(main_ft)} targets): the share of 20000 simulated "
              "benchmarks, each family's mean effect drawn from a normal of the paper's gain and that "
              "spread, in which the exact sign-flip over the families gives p below α (α 0.0056 = "
              "0.05/9 is Holm's first step over the 9 metrics PED applies to; with 5 families the "
              "smallest attainable p is 0.0625, so the power is exactly 0).", "",
              _markdown(shown.assign(**{c: shown[c].map(lambda x: book.number(x, 3))
                                        for c in shown.columns[2:]})),
              ""]
    return "\n".join(parts)


def _report_extras(bench: CommittedData, models, rel: dict, main_ft, main_lp, *, landed, n_boot: int,
                   seed: int) -> list[str]:
    """The README's within-family, agreement and general-set sections (as on the page)."""
    parts = ["### Within each model family", ""]
    for truth, targets in ((bench.ft, main_ft), (bench.lp, main_lp)):
        table = within_family_table(bench, truth, targets, models)
        parts += [f"Against the {truth.protocol}, main table: "
                  + ("fewer than two scored targets yet." if table is None else
                     "mean of the family means [95 % CI over families]."), ""]
        parts += [] if table is None else [_markdown(table), ""]
    reliabilities = {(r.protocol, r.target): r.reliability
                     for r in pd.concat([rel["fine-tuning"], rel["linear probe"]]).itertuples()}
    agree, summary = agreement(bench.ft, bench.lp, models, targets_v3.NAMES, reliabilities=reliabilities,
                               n_boot=n_boot, seed=seed)
    parts += ["### Agreement of the two ground truths", ""]
    if agree.empty:
        parts += ["No target has both ground truths complete yet.", ""]
    else:
        shown = pd.DataFrame({
            "target": agree.target, "family": agree.family,
            "weighted τ [95 % CI]": [book.interval(r.weighted_tau, r.low, r.high)
                                     for r in agree.itertuples()],
            "Spearman": agree.spearman, "Spearman / sqrt(R_ft R_lp)": agree.spearman_corrected})
        parts += [_markdown(shown), "", agreement_mean_text(agree, summary), ""]
    ablation_parts = ablation_summary(bench, main_ft, main_lp, models)
    if ablation_parts is not None:
        text, wide, exits = ablation_parts
        exits = exits.assign(**{
            "exit rule fired": exits["exit rule fired"].map(lambda x: f"{x:.0%}"),
            "median energy ratio": exits["median energy ratio"].map(lambda x: f"{x:.2f}")})
        parts += ["### The general-set ablation", "", text, "", _markdown(wide), "",
                  "How often PED's exit rule fired, and the energy left after the motion:", "",
                  _markdown(exits), ""]
        letters = None if landed is None else letters_text(bench, models, *landed)
        parts += [] if letters is None else [letters, ""]
    return parts


def write_readme(readme, text: str) -> Path:
    """Put ``text`` between ``README_START`` and ``README_END`` in ``readme`` (appended
    the first time); the rest of the file is left as it is."""
    path = Path(readme)
    old = path.read_text(encoding="utf-8")
    block = f"{README_START}\n{text.strip()}\n{README_END}\n"
    if README_START in old and README_END in old:
        head, rest = old.split(README_START, 1)
        new = head + block + rest.split(README_END, 1)[1].lstrip("\n")
    else:
        new = old.rstrip("\n") + "\n\n" + block
    from .store import write_text

    return write_text(path, new)


def main(argv=None) -> int:
    """``python -m potran.bench.v3_report [--readme PATH]``: print the report section, or write it
    into the benchmark README."""
    import argparse

    from ..resources import data_path
    from . import zoo

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--bench-dir", default=str(data_path("bench_v3")))
    parser.add_argument("--readme", help="write the section into this README (default: print it)")
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--n-draws", type=int, default=2000)
    parser.add_argument("--n-sim", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    models = zoo.names()
    landed = (pd.read_csv(data_path("bench", "scores.csv")), finetune_truth(data_path("groundtruth")))
    text = report_markdown(load(args.bench_dir, models), models, landed=landed, n_boot=args.n_boot,
                           n_draws=args.n_draws, n_sim=args.n_sim, seed=args.seed)
    if args.readme:
        print(write_readme(args.readme, text))
    else:
        print(text)
    return 0


# --- the page's sections (notebooks/benchmark_v3.py): each returns what the page shows, in order,
# as markdown text (str) and tables (potran.bench.book.Table), for potran.bench.book.blocks ---

def plural(n: int, word: str) -> str:
    """``"1 target"``, ``"2 targets"``, ``"2 families"``."""
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


def _names(items) -> str:
    items = list(items)
    return ", ".join(items) if items else "none"


def members(reliability: pd.DataFrame, table: str) -> list[str]:
    """The targets of ``reliability`` (:func:`reliability_table`) in ``table`` ("main", "second")."""
    return list(reliability[reliability.table == table].target)


def within_family_table(
    bench: CommittedData, truth: GroundTruth, targets, models, *, level: float = 0.95
) -> pd.DataFrame | None:
    """Mean of the family means of tau_w [interval over families], across all ``models`` and
    within each model family of at least 3 (:func:`model_family`); None below two scored targets."""
    targets = [t for t in targets if t in bench.scored]
    if bench.scores is None or len(targets) < 2:
        return None
    out = None
    for group in ("all", "conv4", "ImageNet"):
        subset = list(models) if group == "all" else [m for m in models if model_family(m) == group]
        if len(subset) < 3:  # no ranking to speak of
            continue
        tests = tests_table(bench.scores, truth, subset, targets, resample=False, level=level)
        table = mean_table(tests)[["metric", "PED", "over families [95 % CI]"]].rename(
            columns={"over families [95 % CI]": f"{group} ({len(subset)} models)"}
        )
        out = table if out is None else out.merge(table, on=["metric", "PED"], how="left")
    return out.astype(object).fillna("– (constant scores)")


def agreement_section(
    ft: GroundTruth,
    lp: GroundTruth,
    models,
    reliabilities: dict,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> list:
    """:func:`agreement` of the two ground truths on every target complete in both, as a table
    and its mean (over targets, and over the per-family means with its interval and test)."""
    agree, summary = agreement(
        ft, lp, models, targets_v3.NAMES, reliabilities=reliabilities, n_boot=n_boot, level=level, seed=seed
    )
    if agree.empty:
        return ["No target has both ground truths complete yet."]
    shown = agree.assign(
        **{
            "weighted τ [95 % CI]": [
                f"{r.weighted_tau:+.3f} [{r.low:+.3f}, {r.high:+.3f}]" for r in agree.itertuples()
            ]
        }
    )
    corrected = "Spearman / √(R_ft R_lp)"
    shown = shown[["target", "family", "weighted τ [95 % CI]", "spearman", "spearman_corrected"]].rename(
        columns={"spearman": "Spearman", "spearman_corrected": corrected}
    )
    return [book.table(shown, index=False, formats={"Spearman": "+3", corrected: "+3"}),
            agreement_mean_text(agree, summary)]


def agreement_mean_text(agree: pd.DataFrame, summary) -> str:
    """One sentence: the mean of :func:`agreement`'s tau_w over targets and over families."""
    return f"Mean $\\tau_w$ over {plural(len(agree), 'target')}: {agree.weighted_tau.mean():+.3f}" + (
        f"; over the per-family means {summary.estimate:+.3f} [{summary.low:+.3f}, "
        f"{summary.high:+.3f}] ({summary.test}, p = {summary.p_value:.3g})."
        if summary is not None
        else " (one family: no interval over families)."
    )


def ablation_summary(bench: CommittedData, main_ft, main_lp, models, *, level: float = 0.95):
    """:func:`ablation` of the general sets against the fine-tuning main table (the linear
    probe's while no fine-tuning main-table target is scored): one sentence on what was
    compared, PED's effect as a (metric x general set) frame of interval strings, and
    :func:`exit_share`; None before any score is committed."""
    if bench.scores is None:
        return None
    present = {name: frame for name, frame in bench.general.items() if frame is not None}
    pending = [name for name, frame in bench.general.items() if frame is None]
    use_ft = bool(set(main_ft) & set(bench.scored))
    truth, targets, gt_name = (
        (bench.ft, main_ft, "fine-tuning") if use_ft else (bench.lp, main_lp, "linear probe")
    )
    abl = ablation(bench.scores, present, truth, models, targets, level=level)
    abl["cell"] = [
        book.interval(r["mean of family means"], r.low, r.high)
        + ("" if not np.isfinite(r.p_holm) else f", p {book.p_value(r.p_holm)}")
        for _, r in abl.iterrows()
    ]
    cells = dict(zip(zip(abl.metric, abl["general set"]), abl.cell))
    metrics = list(dict.fromkeys(abl.metric))
    wide = pd.DataFrame(
        {name: [cells.get((m, name), "pending") for m in metrics] for name in present},
        index=pd.Index(metrics, name="metric"),
    ).reset_index()
    coverage = abl.groupby("general set", sort=False)[["targets", "families"]].max()
    text = (
        f"PED − none over families [95 % CI], Holm p (within LogME, SFDA and GBC, and within the "
        f"others, as above); against the {gt_name} "
        "ground truth on its main-table targets, where each set has scored every model: "
        + "; ".join(
            f"{name} {plural(int(r.targets), 'target')} of {plural(int(r.families), 'family')}"
            for name, r in coverage.iterrows()
        )
        + (f"; not yet committed: {', '.join(pending)}" if pending else "")
        + "."
    )
    return text, wide, exit_share(present)


def ablation_section(bench: CommittedData, main_ft, main_lp, models, *, level: float = 0.95) -> list:
    """The page's view of :func:`ablation_summary`."""
    summary = ablation_summary(bench, main_ft, main_lp, models, level=level)
    if summary is None:
        return ["No scores are committed yet: the ablation is pending."]
    text, wide, exits = summary
    return [
        text,
        book.table(wide, index=False),
        "How often PED's exit rule fired, and the energy left after the motion:",
        book.table(exits, index=False, formats={"exit rule fired": "%0", "median energy ratio": 2}),
    ]


def _letters_tau(frame_off, frame_on, truth, models):
    """tau_w of SFDA and PARC on letters without -> with PED, across and within each model family,
    and per metric whether it falls within both families."""
    groups = {
        f"all {len(models)}": list(models),
        **{g: [m for m in models if model_family(m) == g] for g in ("conv4", "ImageNet")},
    }
    parts, within_falls = [], {}
    both = pd.concat([frame_off, frame_on])
    for metric in ("sfda", "parc"):
        shown, falls = [], []
        for label, subset in groups.items():
            if len(subset) < 3:
                continue
            tau = (
                per_target_tau(both[both.metric == metric], truth, subset, ["letters"])
                .set_index("perturbation")
                .tau
            )
            shown.append(f"{label} {tau[NONE]:+.2f} → {tau[PED]:+.2f}")
            if not label.startswith("all"):
                falls.append(tau[PED] < tau[NONE])
        parts.append(f"{metric.upper()}: " + ", ".join(shown))
        within_falls[metric.upper()] = len(falls) == 2 and all(falls)
    return "; ".join(parts), within_falls


def letters_text(bench: CommittedData, models, landed: pd.DataFrame, landed_truth: GroundTruth) -> str | None:
    """SFDA and PARC on letters without -> with PED, per general set, across and within the model
    families, and on the landed benchmark; None before any score is committed."""
    if bench.scores is None:
        return None
    models = list(models)
    present = {name: frame for name, frame in bench.general.items() if frame is not None}
    truth = bench.ft if "letters" in bench.ft.complete(models) else bench.lp
    pair = ["sfda", "parc"]
    sentences, fell, held = [], [], []
    for name, frame in present.items():
        on = frame[(frame.target == "letters") & (frame.perturbation == PED) & frame.metric.isin(pair)]
        if on.model.nunique() < len(models):
            continue
        s = bench.scores
        off = s[(s.target == "letters") & (s.perturbation == NONE) & s.metric.isin(pair)]
        ratio = on.drop_duplicates("model").set_index("model").energy_ratio
        by_family = ratio.groupby(ratio.index.map(model_family)).median()
        text, falls = _letters_tau(off, on, truth, models)
        sentences.append(
            f"with the {name} set, {text} (median energy ratio after PED: "
            + ", ".join(f"{k} {x:.2f}" for k, x in by_family.items())
            + ")"
        )
        if name == "photo crops":
            fell = [m for m, f in falls.items() if f]
            held = [m for m, f in falls.items() if not f]
    landed_l = landed[(landed.target == "letters") & landed.metric.isin(pair)]
    landed_text, _ = _letters_tau(
        landed_l[landed_l.perturbation == NONE], landed_l[landed_l.perturbation == PED], landed_truth, models
    )
    sizes = [sum(model_family(m) == g for m in models) for g in ("conv4", "ImageNet")]
    why = ""
    if sentences and "photo crops" in present and min(sizes) >= 3:
        why = (
            " With the photo crops, "
            + "; ".join(
                (
                    [
                        f"PED lowers $\\tau_w$ within both model families for {_names(fell)}: its "
                        "collapse there is not only a reordering of the two families, PED scrambles the "
                        "ranking inside each of them"
                    ]
                    if fell
                    else []
                )
                + (
                    [
                        f"for {_names(held)} the within-family $\\tau_w$ does not fall in both "
                        "families, so what PED changes there is mostly the order of the two families"
                    ]
                    if held
                    else []
                )
            )
            + "."
        )
    return (
        f"**SFDA and PARC on letters** ($\\tau_w$ against the {truth.protocol} ground truth, "
        f"without → with PED, across all {len(models)} models and within each model family): "
        + ("; ".join(sentences) + "." if sentences else "letters is not scored on v3 yet.")
        + why
        + " On the landed benchmark (its own preprocessing and general set, its own ground "
        f"truth): {landed_text}."
    )


def effect_text(x: float) -> str:
    """A smallest detectable effect: signed, or "above" the largest simulated one when none is."""
    return f"{x:+.3f}" if np.isfinite(x) else f"above {max(EFFECTS):+.1f}"


if __name__ == "__main__":
    raise SystemExit(main())
