"""Benchmark v4's design before any score exists: the pilot spread of PED's effect and the
simulated validation of the deciding test (``data/bench_v4/README.md``, "Pre-registration").

No transferability metric may be scored on the v4 zoo before its pre-registration is committed,
so each metric's spread comes from the committed data of benchmark v3, from its one
same-architecture family: the 11 conv4 models (:data:`PILOT_FAMILY`), ranked against v3's
fine-tuning ground truth on its 24 targets, as v3's report ranks within a model family (the
seeds' mean accuracy, ties merged within the benchmark's tolerance, tau_w of
:func:`potran.stats.weighted_tau_rows`).

- :func:`pilot_effects`: per metric and target, tau_w without and with PED within conv4 and
  their difference (PED's effect, Delta); :func:`pilot_spread`: per metric its between-target
  and between-family spread, the per-family means and the Spearman correlation of the scores
  without and with PED;
- :func:`exact_size`, :func:`resolution_floor`: what the exact sign-flip over F family means can
  give at all (smallest p 2 / 2^F) against the Holm thresholds;
- :func:`calibrate`: per metric, the parameters of the simulation, set so that the simulated
  benchmarks reproduce the pilot's spreads (the part the models, the ground truth's noise and the
  scorers' noise produce is measured first, the rest is planted as heterogeneity);
- :func:`simulate_deltas`: simulated benchmarks of v4's design (v3's 8 families and 24 targets,
  12 models, a ground truth with measurement noise, Gaussian-copula scorers without and with
  PED whose expected tau_w differs by a planted effect that varies between families and between
  targets); :func:`decide` applies the registered test (per-family means, exact two-sided
  sign-flip, :func:`potran.stats.sign_flip_rows`) with F of the 8 families included;
- :func:`power_table`: Type I error, power, the H0' rejections and the smallest effect with
  80 % power per metric and F.

``python -m potran.bench.v4.design`` prints the tables as Markdown.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats as sps

from ... import stats
from ...evaluation import merge_ties
from ...metrics import PED_METRICS
from ...paper import main_table
from ...perturbations import NONE, PED
from .. import settings, targets_v3, zoo
from ..tau import BENCH_TIE_RTOL
from ..v3_power import smallest_effect

__all__ = ["METRICS", "PUBLISHED", "OTHERS", "OTHERS_EFFECT", "HOLM_FAMILIES", "PILOT_FAMILY",
           "N_MODELS", "RELIABILITY", "FAMILY_COUNTS", "ALPHA", "SHIFT_GRID", "published_gains",
           "pilot_models", "pilot_effects", "pilot_spread", "exact_size", "resolution_floor",
           "tau_map", "draw_noise", "simulate_deltas", "calibrate", "decide", "power_table", "main"]

#: the metrics of the pre-registration, in v3's order
METRICS = ("logme", "sfda", "gbc", "nleep", "parc", "hscore", "reg_hscore", "transrate", "knn")
#: the metrics the paper published with PED: Holm families (1) H0 and (2) H0'
PUBLISHED = tuple(PED_METRICS)
#: the other metrics: Holm family (3)
OTHERS = tuple(m for m in METRICS if m not in PUBLISHED)
#: the effect at which the power of the other metrics is asked
OTHERS_EFFECT = 0.10
#: the Holm families of the pre-registration: name -> metrics (each at ALPHA)
HOLM_FAMILIES = {"(1) H0": PUBLISHED, "(2) H0'": PUBLISHED, "(3) H0": OTHERS}
#: v3's model family the spreads are measured on (v4's zoo may not be scored before the freeze)
PILOT_FAMILY = "conv4"
#: the ranked models of v4 (the 12 self-supervised ones)
N_MODELS = 12
#: reliability of the simulated ground truth: the inclusion threshold (the worst included target)
RELIABILITY = 0.9
#: the numbers of families with an included target the tables are computed for
FAMILY_COUNTS = (8, 7, 6, 5)
#: each Holm family's level
ALPHA = 0.05
#: planted shifts (in tau_w) of the power curve behind the smallest effect with 80 % power
SHIFT_GRID = (-0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8)


def published_gains() -> dict:
    """The paper's mean PED gain per published metric: the mean over its main table's 10
    datasets of tau_w(metric + PED) - tau_w(metric) (``data/paper/main_table.csv``)."""
    wide = main_table().pivot_table(index="target", columns=["metric", "perturbation"], values="weighted_tau")
    return {m: float((wide[(m, PED)] - wide[(m, NONE)]).mean()) for m in PUBLISHED}


def _v3(setting=None):
    return setting if setting is not None else settings.get("v3")


def pilot_models(setting=None) -> list[str]:
    """v3's models of :data:`PILOT_FAMILY`: those not pretrained on ImageNet (the conv4 CNNs,
    the random initialisation among them), in alphabetical order."""
    return sorted(m for m in _v3(setting).models if not zoo.get(m).family.startswith("imagenet"))


def _pilot_scores(setting) -> pd.DataFrame:
    s = _v3(setting)
    scores = pd.read_csv(s.data["scores"] / "scores.csv")
    return scores[scores.model.isin(pilot_models(s)) & scores.target.isin(s.targets)]


def _tau(scores: np.ndarray, truth: np.ndarray) -> float:
    """tau_w as v3's report ranks: scores within the benchmark's tolerance merged
    (:func:`potran.evaluation.merge_ties`), :func:`potran.stats.weighted_tau_rows`."""
    s = scores.astype(float).copy()
    ok = np.isfinite(s) & np.isfinite(truth)
    if ok.sum() < 2:
        return float("nan")
    s[ok] = merge_ties(s[ok], BENCH_TIE_RTOL)
    return float(stats.weighted_tau_rows(s, truth, ok)[0])


def pilot_effects(setting=None, metrics=METRICS) -> pd.DataFrame:
    """tau_w within :data:`PILOT_FAMILY` of every metric without and with PED on each of v3's
    targets, against v3's fine-tuning ground truth (each cell's mean over its seeds):
    metric, target, family, tau_none, tau_ped, effect (tau_ped - tau_none); a target where
    either tau_w is undefined (constant scores) is left out."""
    s = _v3(setting)
    models = pilot_models(s)
    truth = settings.seed_table(s.groundtruth_dir).groupby(["target", "model"]).test_acc.mean()
    scores = _pilot_scores(s).set_index(["metric", "perturbation", "target", "model"]).score.sort_index()
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for metric in metrics:
            for t in s.targets:
                g = truth.get(t, pd.Series(dtype=float)).reindex(models).to_numpy(float)
                tau = {p: _tau(scores.get((metric, p, t), pd.Series(dtype=float)).reindex(models)
                               .to_numpy(float), g) for p in (NONE, PED)}
                rows.append({"metric": metric, "target": t, "family": targets_v3.FAMILIES[t],
                             "tau_none": tau[NONE], "tau_ped": tau[PED], "effect": tau[PED] - tau[NONE]})
    return pd.DataFrame(rows).dropna(subset=["effect"]).reset_index(drop=True)


def _score_correlation(scores: pd.DataFrame, metric: str) -> float:
    """Median over targets of the Spearman correlation of ``metric``'s scores of the models
    without and with PED (how much PED reorders them)."""
    values = []
    for _, grp in scores[scores.metric == metric].groupby("target"):
        wide = grp.pivot_table(index="model", columns="perturbation", values="score").dropna()
        if PED in wide and NONE in wide and len(wide) >= 3:
            rho = sps.spearmanr(wide[NONE], wide[PED]).statistic
            if np.isfinite(rho):
                values.append(rho)
    return float(np.median(values)) if values else float("nan")


def _families() -> list[str]:
    """v3's source families in order of first appearance."""
    return list(dict.fromkeys(targets_v3.FAMILIES[t] for t in targets_v3.NAMES))


def pilot_spread(effects: pd.DataFrame, setting=None, *, level: float = 0.95,
                 scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per metric, the spread of PED's effect in :func:`pilot_effects` (ddof 1 throughout).

    Columns: metric, targets, families, base_tau (mean tau_w without PED), sd_tau (its sd over
    targets), mean_effect (over targets), sd_targets (sd of the effect over targets),
    sd_within (pooled sd within families), family_mean (mean of the per-family means: the
    estimand), sd_families (sd of the per-family means) with its chi-square interval
    (sd_families_low, sd_families_high, at ``level``), score_corr (median over targets of the
    Spearman correlation of the models' scores without and with PED), then one column per family: its mean
    effect. ``scores``: the score table behind ``effects`` (default: the pilot's, v3's conv4 models;
    benchmark v4's report passes v4's own).
    """
    scores = _pilot_scores(setting) if scores is None else scores
    rows = []
    for metric, grp in effects.groupby("metric", sort=False):
        fam = grp.groupby("family", sort=False).effect
        means = fam.mean()
        dev = grp.effect - fam.transform("mean")
        dof_within = len(grp) - len(means)
        sd_f = float(means.std(ddof=1))
        chi = sps.chi2.ppf([0.5 + level / 2, 0.5 - level / 2], len(means) - 1)
        row = {"metric": metric, "targets": len(grp), "families": len(means),
               "base_tau": grp.tau_none.mean(), "sd_tau": grp.tau_none.std(ddof=1),
               "mean_effect": grp.effect.mean(), "sd_targets": grp.effect.std(ddof=1),
               "sd_within": float(np.sqrt((dev ** 2).sum() / dof_within)) if dof_within else np.nan,
               "family_mean": float(means.mean()), "sd_families": sd_f,
               "sd_families_low": sd_f * np.sqrt((len(means) - 1) / chi[0]),
               "sd_families_high": sd_f * np.sqrt((len(means) - 1) / chi[1]),
               "score_corr": _score_correlation(scores, metric)}
        row.update({f: means.get(f, np.nan) for f in _families()})
        rows.append(row)
    return pd.DataFrame(rows)


def exact_size(n_units: int, alpha: float) -> float:
    """The exact size of the two-sided sign-flip test over ``n_units`` exchangeable units at
    ``alpha`` (rejecting at p < alpha): its p-values are 2 j / 2^F, each with probability
    2 / 2^F under a null symmetric about 0, so the size is the largest 2 j / 2^F below alpha."""
    j = int(np.ceil(alpha * 2 ** n_units / 2)) - 1
    return 2 * max(j, 0) / 2 ** n_units


def resolution_floor(counts=FAMILY_COUNTS, alpha: float = ALPHA) -> pd.DataFrame:
    """Per number of families F: the smallest attainable p (2 / 2^F), and for each Holm family
    the threshold of its first and last step and the exact size of the sign-flip there."""
    rows = []
    for f in counts:
        row = {"families": f, "smallest p": 2 / 2 ** f}
        for name, metrics in {"(1), (2)": PUBLISHED, "(3)": OTHERS}.items():
            first = alpha / len(metrics)
            row[f"Holm first step {name}"] = first
            row[f"exact size at first step {name}"] = exact_size(f, first)
        row[f"exact size at α {alpha:g}"] = exact_size(f, alpha)
        rows.append(row)
    return pd.DataFrame(rows)


def tau_map(*, reliability: float = RELIABILITY, n_models: int = N_MODELS, n_draws: int = 2000,
            seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The Gaussian copula's map from a scorer's latent correlation r with the true accuracies to
    its expected tau_w against a ground truth of ``reliability``: (r grid, expected tau_w),
    the latter made non-decreasing (it is, up to simulation noise)."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(-0.995, 0.995, 61)
    z, e, eps = rng.standard_normal((3, n_draws, n_models))
    truth = z + np.sqrt((1 - reliability) / reliability) * eps
    expected = np.array([stats.weighted_tau_rows(r * z + np.sqrt(1 - r * r) * e, truth).mean() for r in grid])
    return grid, np.maximum.accumulate(expected)


def draw_noise(n_sim: int, *, n_models: int = N_MODELS, reliability: float = RELIABILITY, seed: int = 0,
               counts=FAMILY_COUNTS) -> dict:
    """The random draws every metric's simulation shares (common random numbers): per
    benchmark and target the true accuracies ``z``, the measured ground truth ``truth``, the
    scorers' errors ``e0``, ``e1`` (B, T, M); the standard normal effects of the targets on
    the base tau_w ``h`` and on PED's effect ``v`` (B, T) and of the families ``u`` (B, F8);
    ``subsets``: per F of ``counts``, a random choice of F families per benchmark (the same draws
    whatever ``counts`` holds)."""
    rng = np.random.default_rng(seed)
    n_t, n_f = len(targets_v3.NAMES), len(_families())
    z, e0, e1, eps = rng.standard_normal((4, n_sim, n_t, n_models))
    h, v = rng.standard_normal((2, n_sim, n_t))
    u = rng.standard_normal((n_sim, n_f))
    order = np.argsort(rng.random((n_sim, n_f)), axis=1)
    return {"z": z, "truth": z + np.sqrt((1 - reliability) / reliability) * eps, "e0": e0, "e1": e1,
            "h": h, "v": v, "u": u, "subsets": {f: np.sort(order[:, :f], axis=1) for f in counts}}


def _family_index() -> np.ndarray:
    names = _families()
    return np.array([names.index(targets_v3.FAMILIES[t]) for t in targets_v3.NAMES])


def simulate_deltas(params: dict, effects, noise: dict, tau_curve) -> dict:
    """PED's simulated effect Delta (B, T) on every target of every benchmark, per planted effect.

    ``params``: ``base_tau``, ``sd_base`` (targets' spread of the base tau_w), ``error_corr``
    (of the two scorers' errors), ``sd_family`` and ``sd_target`` (PED's effect's heterogeneity).
    On target t of family f the scorer without PED has expected tau_w
    ``tau0 = base_tau + sd_base h_t`` and the one with PED ``tau0 + effect + sd_family u_f +
    sd_target v_t`` (through :func:`tau_map`'s ``tau_curve``, clipped to its range); the scores
    are ``r z + sqrt(1 - r^2) e`` with e0 and ``error_corr e0 + sqrt(1 - error_corr^2) e1``, ranked
    against the measured ground truth by :func:`potran.stats.weighted_tau_rows`.
    Returns ``{effect: Delta}`` and, under key ``"tau0"``, the tau_w without PED.
    """
    grid, expected = tau_curve
    z, truth, e0 = noise["z"], noise["truth"], noise["e0"]
    b, t, m = z.shape
    fam = _family_index()

    def tau_of(target_tau, errors):
        r = np.interp(target_tau, expected, grid)[..., None]
        s = r * z + np.sqrt(1 - r * r) * errors
        return stats.weighted_tau_rows(s.reshape(-1, m), truth.reshape(-1, m)).reshape(b, t)

    tau0_target = params["base_tau"] + params["sd_base"] * noise["h"][:b]
    tau0 = tau_of(tau0_target, e0)
    c = params["error_corr"]
    mixed = c * e0 + np.sqrt(1 - c * c) * noise["e1"]
    spread = params["sd_family"] * noise["u"][:b, fam] + params["sd_target"] * noise["v"][:b]
    out = {"tau0": tau0}
    for effect in effects:
        out[float(effect)] = tau_of(tau0_target + effect + spread, mixed) - tau0
    return out


def _subset(noise: dict, n_sim: int) -> dict:
    """The first ``n_sim`` benchmarks of ``noise``."""
    out = {k: v[:n_sim] for k, v in noise.items() if k != "subsets"}
    out["subsets"] = {f: s[:n_sim] for f, s in noise["subsets"].items()}
    return out


def calibrate(row, noise: dict, tau_curve, *, n_floor: int = 300, rounds: int = 3, cap: float = 3.0) -> dict:
    """Simulation parameters of one metric from its :func:`pilot_spread` row.

    A first simulation without heterogeneity (``n_floor`` benchmarks) measures the spread that
    the models, the ground truth's noise and the scorers' noise alone give: ``floor_effect``
    (sd of Delta on one target) and ``floor_tau`` (sd of tau_w without PED). The rest of the
    pilot's spread is planted: ``sd_target = sqrt(max(0, sd_within^2 - floor_effect^2))``,
    ``sd_family = sqrt(max(0, sd_families^2 - mean(1 / n_f) max(sd_within, floor_effect)^2))``
    (the sd of family means of n_f targets each), ``sd_base = sqrt(max(0, sd_tau^2 -
    floor_tau^2))``. Where tau_w meets its floor or ceiling the planted spread comes out smaller:
    ``rounds`` times, sd_target and sd_family are multiplied by the ratio of the pilot's
    sd_within and sd_families to those simulated (at most ``cap``). ``error_corr`` gives the scorers without and with PED the pilot's
    correlation without an effect: ``(score_corr - rho^2) / (1 - rho^2)``, rho the latent
    correlation of ``base_tau``, clipped to [0, 0.99].
    """
    grid, expected = tau_curve
    rho = float(np.interp(row["base_tau"], expected, grid))
    corr = row["score_corr"] if np.isfinite(row["score_corr"]) else rho ** 2
    error_corr = float(np.clip((corr - rho ** 2) / (1 - rho ** 2), 0.0, 0.99))
    params = {"base_tau": float(row["base_tau"]), "error_corr": error_corr, "sd_base": 0.0,
              "sd_family": 0.0, "sd_target": 0.0}
    floor = simulate_deltas(params, (0.0,), _subset(noise, n_floor), tau_curve)
    floor_effect, floor_tau = float(floor[0.0].std(ddof=1)), float(floor["tau0"].std(ddof=1))
    counts = np.bincount(_family_index())
    within = max(float(row["sd_within"]), floor_effect)
    params.update(
        sd_base=float(np.sqrt(max(0.0, row["sd_tau"] ** 2 - floor_tau ** 2))),
        sd_target=float(np.sqrt(max(0.0, row["sd_within"] ** 2 - floor_effect ** 2))),
        sd_family=float(np.sqrt(max(0.0, row["sd_families"] ** 2 - np.mean(1 / counts) * within ** 2))),
        floor_effect=floor_effect, floor_tau=floor_tau, score_corr=float(corr))
    for _ in range(rounds):     # tau_w's floor and ceiling shrink what is planted: scale it up
        sim_families, sim_within = _spread_of(simulate_deltas(params, (0.0,), _subset(noise, n_floor),
                                                              tau_curve)[0.0])
        params["sd_target"] = min(cap, params["sd_target"] * row["sd_within"] / sim_within)
        params["sd_family"] = min(cap, params["sd_family"] * row["sd_families"] / sim_families)
    return params


def decide(delta: np.ndarray, subsets: np.ndarray | None = None, *, null: float = 0.0) -> np.ndarray:
    """The registered test on simulated benchmarks: per benchmark, the per-family means of
    ``delta - null`` (B, T) over v3's families, restricted to the families of ``subsets`` (B, F;
    None: all 8), then the exact two-sided sign-flip p (:func:`potran.stats.sign_flip_rows`)."""
    fam = _family_index()
    weights = np.zeros((len(fam), fam.max() + 1))
    weights[np.arange(len(fam)), fam] = 1
    means = (delta - null) @ (weights / weights.sum(0))
    if subsets is not None:
        means = np.take_along_axis(means, subsets, axis=1)
    return stats.sign_flip_rows(means)


def _holm_alpha(metric: str, alpha: float) -> float:
    return alpha / len(PUBLISHED if metric in PUBLISHED else OTHERS)


def _spread_of(delta: np.ndarray) -> tuple[float, float]:
    """Mean over benchmarks of the sd of the per-family means and of the pooled sd within
    families of ``delta`` (B, T): what :func:`pilot_spread` measures, on simulated benchmarks."""
    fam = _family_index()
    weights = np.zeros((len(fam), fam.max() + 1))
    weights[np.arange(len(fam)), fam] = 1
    means = delta @ (weights / weights.sum(0))
    within = np.sqrt(((delta - means[:, fam]) ** 2).sum(1) / (len(fam) - weights.shape[1]))
    return float(means.std(axis=1, ddof=1).mean()), float(within.mean())


def power_table(spread: pd.DataFrame, *, n_sim: int = 1000, seed: int = 0, counts=FAMILY_COUNTS,
                alpha: float = ALPHA, shifts=SHIFT_GRID, reliability: float = RELIABILITY,
                gains: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type I error and power of the registered test per metric of ``spread`` and F families.

    The effect is the estimand: the mean over benchmarks of the mean of the per-family means of
    Delta. Where tau_w meets its floor or ceiling a planted shift (:func:`simulate_deltas`'s
    ``effect``) moves it by less, so each metric is first simulated on the ``shifts`` grid, the
    shifts that give the estimand 0 and the asked effect are read off it (linear
    interpolation), and those two are simulated again on the same benchmarks.

    Returns ``(table, params)``. ``table``: one row per metric and F: metric, families,
    holm_alpha (the first Holm step of the metric's family), effect (asked: the published gain
    for :data:`PUBLISHED`, :data:`OTHERS_EFFECT` for the others), ``type1``/``type1_holm`` (H0
    rejected at alpha / holm_alpha where the estimand is 0), ``power``/``power_holm`` (at the
    asked effect), ``realised`` (the estimand simulated there: below the asked effect where
    even the largest shift cannot reach it), ``h0p_power``/``h0p_power_holm`` (H0', the effect
    equals the gain, rejected when the estimand is 0) and ``h0p_type1`` (H0' rejected where the
    estimand equals the gain; NaN for the others), ``mde``/``mde_holm`` (smallest estimand with
    80 % power at alpha / holm_alpha, interpolated on the grid; inf if none reaches it),
    ``n_sim``. Holm's adjusted decision for a metric lies between its power at holm_alpha and
    at alpha. ``params``: :func:`calibrate`'s per metric, the two shifts, and the simulated
    spreads where the estimand is 0 (``sim_sd_families``, ``sim_sd_within``).
    """
    gains = published_gains() if gains is None else gains
    noise = draw_noise(n_sim, reliability=reliability, seed=seed, counts=counts)
    curve = tau_map(reliability=reliability, seed=seed + 1)
    rows, params = [], []
    for _, row in spread.iterrows():
        metric = row["metric"]
        par = calibrate(row, noise, curve)
        asked = float(gains[metric]) if metric in PUBLISHED else OTHERS_EFFECT
        grid = simulate_deltas(par, shifts, noise, curve)
        realised = np.array([grid[float(x)].mean() for x in shifts])
        order = np.argsort(realised)
        null_shift, asked_shift = np.interp([0.0, asked], realised[order], np.asarray(shifts, float)[order])
        direct = simulate_deltas(par, (null_shift, asked_shift), noise, curve)
        null, effect = direct[float(null_shift)], direct[float(asked_shift)]
        sim_sd = _spread_of(null)
        params.append({"metric": metric, **par, "null_shift": float(null_shift),
                       "asked_shift": float(asked_shift), "sim_sd_families": sim_sd[0],
                       "sim_sd_within": sim_sd[1]})
        h_alpha = _holm_alpha(metric, alpha)
        up = [float(x) for x, r in zip(shifts, realised) if r > null.mean() + 1e-3]
        for f in counts:
            sub = noise["subsets"][f] if f < len(_families()) else None
            p0, p1 = decide(null, sub), decide(effect, sub)
            p_grid = [decide(grid[x], sub) for x in up]
            x_axis = np.array([null.mean(), *(grid[x].mean() for x in up)])
            out = {"metric": metric, "families": f, "holm_alpha": h_alpha, "effect": asked,
                   "type1": np.mean(p0 < alpha), "type1_holm": np.mean(p0 < h_alpha),
                   "power": np.mean(p1 < alpha), "power_holm": np.mean(p1 < h_alpha),
                   "realised": float(effect.mean()), "h0p_power": np.nan, "h0p_power_holm": np.nan,
                   "h0p_type1": np.nan}
            if metric in PUBLISHED:
                p_none = decide(null, sub, null=asked)
                out.update(h0p_power=np.mean(p_none < alpha), h0p_power_holm=np.mean(p_none < h_alpha),
                           h0p_type1=np.mean(decide(effect, sub, null=asked) < alpha))
            for key, a in (("mde", alpha), ("mde_holm", h_alpha)):
                power = np.array([np.mean(p0 < a), *(np.mean(p < a) for p in p_grid)])
                out[key] = smallest_effect(x_axis, power)
            out["n_sim"] = n_sim
            rows.append(out)
    return pd.DataFrame(rows), pd.DataFrame(params)


def _markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    shown = frame.copy()
    for c in shown.columns:
        if pd.api.types.is_float_dtype(shown[c]):
            shown[c] = shown[c].map(lambda x: "–" if np.isnan(x) else
                                    "not reached" if np.isinf(x) else f"{x:.{digits}f}")
    return shown.to_markdown(index=False)


def main(argv=None) -> int:
    """``python -m potran.bench.v4.design [--n-sim N] [--seed S]``: the pilot spread, the
    resolution floor, the simulation's parameters and its Type I error and power, as Markdown."""
    import argparse
    import time

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--n-sim", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = pilot_spread(pilot_effects())
    table, params = power_table(spread, n_sim=args.n_sim, seed=args.seed)
    cols = ["metric", "targets", "base_tau", "mean_effect", "sd_targets", "sd_within", "family_mean",
            "sd_families", "sd_families_low", "sd_families_high", "score_corr"]
    print("## Pilot spread (v3, conv4 family, fine-tuning ground truth)\n")
    print(_markdown(spread[cols]), "\n")
    print(_markdown(spread[["metric", *_families()]]), "\n")
    print("## Resolution floor\n")
    print(_markdown(resolution_floor(), 4), "\n")
    print("## Simulation parameters\n")
    print(_markdown(params), "\n")
    print(f"## Type I error and power ({args.n_sim} simulated benchmarks, seed {args.seed})\n")
    print(_markdown(table.drop(columns="n_sim")), "\n")
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
