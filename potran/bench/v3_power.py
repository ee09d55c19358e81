"""What benchmark v3 can detect: the power of its family rule (the exact sign-flip over the
per-family means, :func:`potran.stats.sign_flip_rows`) to find PED's effect, simulated two ways:
per metric, or with Gaussian-copula scorers on each target's measured ranking.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats as sps

from .. import paper, stats
from ..metrics import PED_METRICS
from ..perturbations import NONE, PED
from . import targets_v3
from .settings import GroundTruth
from .v3_data import BASELINES
from .v3_tests import per_target_tau

__all__ = ["EFFECTS", "observed_spread", "power_curve", "min_detectable_effect", "smallest_effect",
           "ped_score_correlation",
           "calibrated_power", "families_needed", "family_power", "power_by_metric", "published_ped_gains",
           "POWER_DESIGNS", "power_statement"]

#: PED effects (in tau_w) at which :func:`power_curve` simulates the rule by default.
EFFECTS = tuple(np.round(np.arange(0, 0.61, 0.05), 2))


def observed_spread(tau: pd.DataFrame, metrics) -> dict:
    """The between-target spread of ``metrics``' tau_w and of their PED effect in a long
    :func:`potran.bench.v3_tests.per_target_tau` table: ``sd_tau`` and ``sd_effect`` (medians over
    the metrics of the sd over targets), ``targets``, ``per_metric`` (NaN with < 3 targets)."""
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

    One target per template (``templates``: (M, runs, N) per-image correctness of a measured
    target, ``families`` its source), its ground truth redrawn from its own cells
    (:func:`potran.stats.redraw_truth`). Two scorers from a Gaussian copula on the measured
    ranking (latent ``z``: normal scores of the accuracies): ``s0 = r0 z + sqrt(1 - r0^2) e0``
    without PED and ``s1`` with ``r1`` and errors ``e1`` correlated with ``e0`` so that, without
    an effect, they correlate ``score_corr`` (:func:`ped_score_correlation`). ``r0`` gives the
    expected tau_w ``base_tau`` plus a target effect of sd ``sd_base``; ``r1`` adds ``effect``
    plus a target effect of sd ``sd_effect`` (both through the calibrated map from ``r`` to the
    expected tau_w). The rule: the exact two-sided sign-flip over the per-family means of the
    per-target differences (:func:`potran.stats.sign_flip_rows`) at each of ``alphas``.

    Returns effect (nominal), ``power@<alpha>``, mean_effect (mean simulated difference over the
    family means: below nominal at tau_w's ceiling), error_corr (of ``e0`` and ``e1``),
    half_width_effect and half_width_tau (median t-interval half-widths over families),
    sd_effect_targets and sd_tau_targets (mean sd over targets: what :func:`observed_spread` measures).
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
        p = stats.sign_flip_rows(fm.T) if n_f >= 2 else None
        rows.append({"effect": float(effect),
                     **{f"power@{a:g}": float(np.mean(p < a)) if n_f >= 2 else np.nan for a in alphas},
                     "mean_effect": float(fm.mean()), "error_corr": error_corr,
                     "half_width_effect": float(np.median(q * fm.std(0, ddof=1))) if n_f >= 2 else np.nan,
                     "half_width_tau": float(np.median(q * fm0.std(0, ddof=1))) if n_f >= 2 else np.nan,
                     "sd_effect_targets": float(np.mean(diff.std(0, ddof=1))) if n_t >= 2 else np.nan,
                     "sd_tau_targets": float(np.mean(tau0.std(0, ddof=1))) if n_t >= 2 else np.nan})
    return pd.DataFrame(rows)


def min_detectable_effect(curve: pd.DataFrame, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest simulated effect (``mean_effect`` of :func:`power_curve`) whose power at
    ``alpha`` reaches ``power`` (:func:`smallest_effect` on the curve's grid)."""
    return smallest_effect(curve.mean_effect.to_numpy(float), curve[f"power@{alpha:g}"].to_numpy(float),
                           power)


def smallest_effect(effects: np.ndarray, power: np.ndarray, goal: float = 0.8) -> float:
    """The smallest of the increasing ``effects`` whose ``power`` reaches ``goal``, linearly
    interpolated between grid points; inf when none reaches it."""
    above = np.flatnonzero(np.asarray(power) >= goal)
    if not above.size:
        return float("inf")
    i = above[0]
    if i == 0:
        return float(effects[0])
    return float(effects[i - 1] + (goal - power[i - 1]) * (effects[i] - effects[i - 1])
                 / (power[i] - power[i - 1]))


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

    ``observed``: :func:`observed_spread` (``sd_tau``, ``sd_effect``) plus ``base_tau`` (the
    metrics' typical mean tau_w). A first simulation without between-target effects gives the
    spread the models, seeds and test images alone produce (the floor); each between-target sd is
    ``sqrt(max(0, measured^2 - floor^2))``. Returns the curve and the parameters used
    (``base_tau``, ``score_corr``, ``error_corr``, ``floor_sd_tau``, ``floor_sd_effect``,
    ``sd_base``, ``sd_effect``).
    """
    common = dict(base_tau=observed["base_tau"], score_corr=score_corr, n_sim=n_sim, seed=seed)
    floor = power_curve(templates, families, effects=(0.0,), **common).iloc[0]
    params = {"base_tau": observed["base_tau"], "score_corr": score_corr,
              "error_corr": floor.error_corr, "floor_sd_tau": floor.sd_tau_targets,
              "floor_sd_effect": floor.sd_effect_targets}
    for name, key in (("sd_base", "sd_tau"), ("sd_effect", "sd_effect")):  # what the floor leaves
        params[name] = float(np.sqrt(max(0.0, observed[key] ** 2 - floor[f"{key}_targets"] ** 2)))
    curve = power_curve(templates, families, effects=effects, alphas=alphas, sd_base=params["sd_base"],
                        sd_effect=params["sd_effect"], **common)
    return curve, params


def families_needed(alpha: float = 0.05) -> int:
    """The fewest units at which the exact sign-flip test (smallest two-sided p 2 / 2^F) can give
    p below ``alpha``: the floor below which nothing can be resolved, not what power needs."""
    units = 2
    while 2 / 2 ** units >= alpha:
        units += 1
    return units


def family_power(sd: float, n_families: int, effect: float, *, alpha: float = 0.05, n_sim: int = 20000,
                 seed: int = 0) -> float:
    """Power of the family rule (exact two-sided sign-flip over ``n_families`` per-family means)
    at ``alpha`` when those means are drawn from a normal of mean ``effect`` and sd ``sd``: the
    share of ``n_sim`` simulated benchmarks with p < ``alpha``. Exactly 0 when 2 / 2^F >=
    ``alpha``; NaN below two families or without a spread."""
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

    ``effects``: :func:`potran.bench.v3_tests.family_effects` of the data the spread is measured
    on; ``targets``: metric -> the effect whose power is asked; ``designs``: name -> number of
    families. One row per metric of ``targets``: metric, families (measured), sd (ddof 1) and
    mean of the per-family effects, effect (asked), ``power, <design>, α <alpha>`` per design and
    alpha.
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


def published_ped_gains() -> dict:
    """The paper's mean PED gain in tau_w per metric over the datasets of its main table (PED
    minus none, the published numbers of :func:`potran.paper.main_table`)."""
    taus = paper.main_table().pivot_table(index="target", columns=["metric", "perturbation"],
                                          values="weighted_tau")
    return {m: float((taus[(m, PED)] - taus[(m, NONE)]).mean())
            for m in PED_METRICS if (m, PED) in taus and (m, NONE) in taus}


#: The designs of the per-metric power: the frozen one and the fine-tuning main table's.
POWER_DESIGNS = {"8 families (frozen design)": 8, "5 families (fine-tuning main table)": 5}


def power_statement(ft: GroundTruth, lp: GroundTruth, scores, models, *, main_ft=(), main_lp=(),
                    landed=None, alphas=(0.05, 0.05 / 3), effects=EFFECTS, n_sim: int = 400,
                    seed: int = 0) -> dict:
    """The power statement of the page and the README (issue 17): :func:`calibrated_power` on
    the frozen design and, once it has two families, on the fine-tuning main table.

    Spreads from the v3 scores against the fine-tuning main table (``main_ft``) when 3 of its
    targets are scored, else against the linear-probe one (``main_lp``), else from ``landed``
    (``(scores, GroundTruth)`` of the landed 4-target benchmark). The frozen design's templates:
    each v3 target's fine-tuning cells where complete, else its linear-probe cells.

    Returns a dict: ``table`` (per design: families, smallest effect at 80 % power per alpha,
    power at +0.10 and +0.27, median half-widths of a PED effect and of a mean tau_w),
    ``observed`` (:func:`observed_spread` plus ``base_tau``), ``score_corr``, ``params`` (per
    design), ``source`` (benchmark, protocol, targets), ``metrics``, ``templates`` (per protocol).
    """
    models = list(models)
    tau = None
    if scores is not None:
        for truth, targets in ((ft, main_ft), (lp, main_lp)):
            targets = [t for t in targets if t in set(scores.target)]
            if len(targets) >= 3:
                tau, used = per_target_tau(scores, truth, models, targets), scores
                source = {"benchmark": "v3", "protocol": truth.protocol, "targets": len(targets)}
                break
    if tau is None:
        if landed is None:
            raise ValueError("fewer than 3 scored v3 targets and no landed benchmark to measure spreads on")
        used, truth = landed
        targets = [t for t in targets_v3.NAMES if t in set(used.target) & set(truth.complete(models))]
        tau = per_target_tau(used, truth, models, targets)
        source = {"benchmark": "landed", "protocol": truth.protocol, "targets": len(targets)}
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
