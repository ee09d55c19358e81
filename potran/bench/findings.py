"""The supplementary's claim (§C, its Figure 3) that ranking models by their features along
fine-tuning first gets worse, then better: its test (:func:`finetuning_claim`) and the verdict the
fine-tuning page shows (:func:`finetuning_verdict`).

The book's index no longer computes anything here: it pastes each page's own numbers (myst-nb
glue across documents).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from potran import stats
from potran.bench import report
from potran.perturbations import NONE

__all__ = ["finetuning_claim", "finetuning_verdict"]

ALPHA = 0.05


def _names(items: list[str]) -> str:
    if not items:
        return "none"
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]


def _p(p: float) -> str:
    return f"{p:.2g}" if p >= 0.001 else "< 0.001"


def _share(fraction: float) -> str:
    return f"{fraction:.0%}"


def finetuning_claim(scores: pd.DataFrame, accuracy: pd.DataFrame, seeds: pd.DataFrame | None = None, *,
                     n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Test "ranking by the features along fine-tuning first gets worse, then better".

    ``scores`` are the metrics' scores of the features at successive points of fine-tuning
    (:func:`potran.bench.snapshots.snapshot_scores`: model, target, fraction, metric, score; the
    fraction 0 is the pretrained model). The claim is split, before looking at the data, into two
    paired differences of the mean tau_w over targets, per metric: ``first`` = tau_w at the first
    snapshot after 0 minus tau_w at 0 (the claim: negative) and ``then`` = tau_w at the last
    snapshot minus at the first one after 0 (the claim: positive). Each is tested twice:

    - the crossed bootstrap (:func:`potran.stats.crossed_bootstrap`: one resample of the models
      shared by all targets and each cell's seeds redrawn; every fraction on the same replicates,
      so the differences are paired): these targets, other models and seeds like these;
    - the exact sign-flip test of the per-target differences (:func:`potran.stats.sign_flip`):
      other targets like these, with its smallest possible p of 2 / 2^T.

    p-values are Holm-adjusted over the metrics within each (part, test). A metric supports the
    claim when both parts are resolved in its direction by the same test (an intersection-union
    test: each part at the 5 % level).

    Returns
    -------
    DataFrame
        metric, part (``first``/``then``), comparison (e.g. ``"25% - 0%"``), estimate, low, high,
        p_boot and p_boot_holm (crossed bootstrap), p_targets, p_targets_holm and min_p_targets
        (sign-flip over targets), n_targets.

    Raises
    ------
    ValueError
        Fewer than three fractions (the claim needs a start, a middle and an end), or missing columns.
    """
    needed = {"model", "target", "fraction", "metric", "score"}
    if not needed <= set(scores.columns):
        raise ValueError(f"scores need the columns {sorted(needed)}, got {sorted(scores.columns)}")
    fractions = sorted(set(scores.fraction))
    if len(fractions) < 3 or fractions[0] != 0:
        raise ValueError(f"the claim needs the pretrained snapshot (fraction 0) and two later ones, "
                         f"got {fractions}")
    start, early, end = fractions[0], fractions[1], fractions[-1]
    labelled = scores.assign(metric=[f"{m} at {_share(f)}" for m, f in zip(scores.metric, scores.fraction)],
                             perturbation=NONE)
    d = report.design(labelled[["model", "target", "metric", "perturbation", "score"]], accuracy, seeds)
    est, reps = stats.crossed_bootstrap(d.scores, d.truths, d.seed_accs, n_boot=n_boot, seed=seed)
    rows = []
    for metric in dict.fromkeys(scores.metric):
        for part, (a, b) in (("first", (early, start)), ("then", (end, early))):
            ka, kb = (f"{metric} at {_share(a)}", NONE), (f"{metric} at {_share(b)}", NONE)
            comparison = f"{_share(a)} - {_share(b)}"
            boot = stats.bootstrap(est[ka] - est[kb], reps[ka] - reps[kb], level=level,
                                   comparison=f"{metric}: {comparison}", resampled="models and seeds",
                                   population="these targets")
            per_target = d.per_target(ka) - d.per_target(kb)
            per_target = per_target[np.isfinite(per_target)]
            flip = (stats.sign_flip(per_target, level=level) if per_target.size >= 2 else None)
            rows.append({"metric": metric, "part": part, "comparison": comparison, "estimate": boot.estimate,
                         "low": boot.low, "high": boot.high, "p_boot": boot.p_value,
                         "p_targets": flip.p_value if flip else np.nan,
                         "min_p_targets": flip.min_p if flip else np.nan, "n_targets": int(per_target.size)})
    out = pd.DataFrame(rows)
    for column in ("p_boot", "p_targets"):
        out[f"{column}_holm"] = np.nan
        for _, idx in out.groupby("part").groups.items():
            p = out.loc[idx, column].to_numpy(float)
            if np.isfinite(p).all():
                out.loc[idx, f"{column}_holm"] = stats.holm(p)
    return out[["metric", "part", "comparison", "estimate", "low", "high", "p_boot", "p_boot_holm",
                "p_targets", "p_targets_holm", "min_p_targets", "n_targets"]]


def _direction(change: float) -> str:
    return "unchanged" if abs(change) < 1e-12 else "better" if change > 0 else "worse"


def _claim_parts(claim: pd.DataFrame) -> list[dict]:
    """Per metric of :func:`finetuning_claim`: its two rows, the shape seen, whether the claim
    holds (both parts resolved by the crossed bootstrap in the claimed direction) and the parts
    resolved against it."""
    out = []
    for metric, rows in claim.groupby("metric", sort=False):
        first, then = (rows[rows.part == part].iloc[0] for part in ("first", "then"))
        holds = (first.p_boot_holm < ALPHA and first.estimate < 0 and then.p_boot_holm < ALPHA
                 and then.estimate > 0)
        against = [f"{r.comparison} {'rises' if r.estimate > 0 else 'falls'} (resolved)"
                   for r in (first, then) if r.p_boot_holm < ALPHA
                   and (r.estimate > 0) != (r.part == "then")]
        out.append({"metric": metric, "first": first, "then": then, "holds": holds, "against": against,
                    "shape": f"{_direction(first.estimate)}, then {_direction(then.estimate)}"})
    return out


def _claim_head(claim: pd.DataFrame, parts: list[dict]) -> str:
    return (f"**The claim that ranking by the features first gets worse, then better** (the mean τ_w over "
            f"targets; crossed bootstrap over models and seeds, 95 % intervals, Holm over "
            f"{claim.metric.nunique()} metrics per part; supported when both parts are resolved in the "
            f"claimed direction): supported for {_names([c['metric'] for c in parts if c['holds']])}.")


def _over_targets(claim: pd.DataFrame) -> str:
    n, min_p = int(claim.n_targets.max()), float(claim.min_p_targets.min())
    if min_p > ALPHA:
        return (f"Over targets, the exact sign-flip test of the per-target changes cannot give p below "
                f"{min_p:.3g} with {n} targets, so it cannot resolve either part for any metric.")
    return ("Over targets (exact sign-flip, Holm), the parts resolved: " + _names(
        [f"{r.metric} {r.comparison}" for r in claim.itertuples() if r.p_targets_holm < ALPHA]) + ".")


def finetuning_verdict(claim: pd.DataFrame) -> str:
    """The verdict on the claim in words (MyST Markdown), from :func:`finetuning_claim`."""
    parts = _claim_parts(claim)
    lines = []
    for c in parts:
        first, then = c["first"], c["then"]
        lines.append(
            f"- **{c['metric']}**: first {c['shape']}; {first.comparison}: {first.estimate:+.3f} "
            f"[{first.low:+.3f}, {first.high:+.3f}], p = {_p(first.p_boot_holm)}; {then.comparison}: "
            f"{then.estimate:+.3f} [{then.low:+.3f}, {then.high:+.3f}], p = {_p(then.p_boot_holm)}"
            + (" — supported" if c["holds"] else f" — against the claim: {', '.join(c['against'])}"
               if c["against"] else " — not resolved"))
    return "\n".join([_claim_head(claim, parts), "", *lines, "", _over_targets(claim)])
