"""What a benchmark's results can resolve: intervals, the random null, reliability, baselines.

All functions take tidy tables:

- ``scores``: model, target, metric, ped, score (``potran bench``'s ``scores.csv``);
- ``accuracy``: model, target, test_acc (the ground truth's ``accuracy.csv``; the paper's
  tables work too after renaming ``dataset``/``accuracy``);
- ``seeds``: model, target, seed, test_acc, n_test -- one row per fine-tuning run
  (:func:`seed_table`), the ground truth's noise.

The bootstrap of :func:`tau_intervals` resamples targets, then models within each target, then
the ground truth itself: each cell's accuracy is the mean over resampled seeds of a binomial
redraw of that seed's test accuracy (the test images' sampling noise). The mean tau_w of a
metric and its difference with and without PED are computed on the same replicates, so the PED
interval is paired.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..evaluation import BENCH_TIE_RTOL, merge_ties
from .store import CellStore, write_text

__all__ = ["seed_table", "reliability", "leave_one_target_out", "tau_intervals",
           "random_null", "resolved", "write_bench_readme"]


def seed_table(groundtruth_dir) -> pd.DataFrame:
    """One row per fine-tuning run of the ground truth: model, target, seed, test_acc, n_test."""
    rows = [{"model": r["model"], "target": r["target"], "seed": run["seed"],
             "test_acc": run["test_acc"], "n_test": r["n_test"]}
            for r in CellStore(groundtruth_dir).records() for run in r["runs"]]
    return pd.DataFrame(rows, columns=["model", "target", "seed", "test_acc", "n_test"])


def _tau(scores: np.ndarray, truth: np.ndarray, tie_rtol: float) -> float:
    """scipy's weighted tau after merging near-equal scores; NaN when undefined."""
    s = merge_ties(scores, tie_rtol)
    if np.all(s == s[0]) or np.all(truth == truth[0]):
        return float("nan")
    return float(stats.weightedtau(s, truth).statistic)


def reliability(seeds: pd.DataFrame) -> pd.DataFrame:
    """Per target: how far the models' accuracies spread beyond the ground truth's noise.

    Columns: ``n_models``, ``n_seeds``, ``spread`` (standard deviation of the models' mean
    accuracies), ``noise`` (root mean square over models of the standard error of a model's
    mean accuracy: seed-to-seed variance / seeds + binomial variance of the test accuracy),
    ``ratio`` = spread / noise, ``ceiling`` (mean tau_w between two single-seed ground truths,
    over all pairs of seeds: how well the ground truth agrees with itself) and
    ``ceiling_low``/``ceiling_high`` (its range over the pairs).
    """
    rows = []
    for target, grp in seeds.groupby("target", sort=True):
        per_model = grp.groupby("model").agg(acc=("test_acc", "mean"), sd=("test_acc", "std"),
                                             k=("seed", "size"), n=("n_test", "first"))
        var = per_model.sd.fillna(0) ** 2 / per_model.k + per_model.acc * (1 - per_model.acc) / per_model.n
        wide = grp.pivot(index="model", columns="seed", values="test_acc")
        pairs = [(a, b) for i, a in enumerate(wide.columns) for b in wide.columns[i + 1:]]
        taus = [_tau(wide[a].to_numpy(), wide[b].to_numpy(), 0.0) for a, b in pairs]
        rows.append({"target": target, "n_models": len(per_model), "n_seeds": int(per_model.k.max()),
                     "spread": float(per_model.acc.std()), "noise": float(np.sqrt(var.mean())),
                     "ratio": float(per_model.acc.std() / np.sqrt(var.mean())),
                     "ceiling": float(np.nanmean(taus)) if taus else float("nan"),
                     "ceiling_low": float(np.nanmin(taus)) if taus else float("nan"),
                     "ceiling_high": float(np.nanmax(taus)) if taus else float("nan")})
    return pd.DataFrame(rows)


def leave_one_target_out(accuracy: pd.DataFrame, acc: str = "test_acc",
                         target: str = "target") -> pd.DataFrame:
    """The static baseline: score a model on a target by its mean accuracy on the other targets.

    It knows nothing about the target, only which models fine-tune well in general; a metric
    that does not beat it adds no target-specific information. Returns a score table
    (model, target, metric="static_loto", ped=False, score).
    """
    wide = accuracy.pivot(index="model", columns=target, values=acc)
    rows = []
    for t in wide.columns:
        others = wide.drop(columns=t).mean(axis=1)
        rows += [{"model": m, "target": t, "metric": "static_loto", "ped": False, "score": v}
                 for m, v in others.items()]
    return pd.DataFrame(rows)


def _cells(scores: pd.DataFrame, accuracy: pd.DataFrame, seeds: pd.DataFrame | None):
    """Per target: the models, their accuracies (and per-seed accuracies) in a fixed order."""
    out = {}
    for target, grp in accuracy.groupby("target", sort=True):
        models = sorted(set(grp.model) & set(scores.loc[scores.target == target, "model"]))
        acc = grp.set_index("model").loc[models, "test_acc"].to_numpy(float)
        per_seed = None
        if seeds is not None:
            wide = seeds[seeds.target == target].pivot(index="model", columns="seed",
                                                        values="test_acc").loc[models]
            n_test = seeds[seeds.target == target].groupby("model").n_test.first().loc[models]
            per_seed = (wide.to_numpy(float), n_test.to_numpy(int))
        out[target] = (models, acc, per_seed)
    return out


def _score_matrix(scores: pd.DataFrame, cells: dict) -> dict:
    """{(metric, ped): {target: score vector in the cells' model order (NaN if missing)}}."""
    table = {}
    for (metric, ped), grp in scores.groupby(["metric", "ped"], sort=False):
        by_target = {}
        for target, (models, _, _) in cells.items():
            s = grp[grp.target == target].set_index("model")["score"]
            by_target[target] = s.reindex(models).to_numpy(float)
        table[(metric, bool(ped))] = by_target
    return table


def _mean_tau(score_vectors: dict, truths: dict, targets, model_idx: dict, tie_rtol: float) -> float:
    values = []
    for t in targets:
        s, g = score_vectors[t][model_idx[t]], truths[t][model_idx[t]]
        ok = np.isfinite(s)
        values.append(_tau(s[ok], g[ok], tie_rtol) if ok.sum() >= 2 else np.nan)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def tau_intervals(scores: pd.DataFrame, accuracy: pd.DataFrame, seeds: pd.DataFrame | None = None,
                  *, n_boot: int = 1000, level: float = 0.95, seed: int = 0,
                  resample_targets: bool = True, tie_rtol: float = BENCH_TIE_RTOL) -> pd.DataFrame:
    """Mean tau_w over targets of every (metric, ped) with a bootstrap interval.

    Parameters
    ----------
    scores, accuracy, seeds
        Tidy tables (module docstring); without ``seeds`` the ground truth is held fixed.
    n_boot, level, seed
        Replicates, coverage of the percentile interval, seed of the resampling.
    resample_targets : bool
        Resample the targets too (the interval then covers "another set of targets like
        these"); False keeps them and resamples models (and ground truth) only.

    Returns
    -------
    DataFrame
        metric, ped, mean_tau, low, high; plus, for metrics scored both ways, rows with
        ``ped == "delta"``: the paired difference (with PED - without), its interval and
        ``p_delta``, the share of replicates on the other side of 0 than the estimate (x2,
        a two-sided bootstrap p-value).
    """
    cells = _cells(scores, accuracy, seeds)
    targets = list(cells)
    matrix = _score_matrix(scores, cells)
    truths = {t: acc for t, (_, acc, _) in cells.items()}
    full_idx = {t: np.arange(len(m)) for t, (m, _, _) in cells.items()}
    estimate = {key: _mean_tau(v, truths, targets, full_idx, tie_rtol) for key, v in matrix.items()}

    rng = np.random.default_rng(seed)
    boots = {key: [] for key in matrix}
    for _ in range(n_boot):
        ts = list(rng.choice(targets, len(targets))) if resample_targets else targets
        idx, truth_b = {}, {}
        for t in dict.fromkeys(ts):  # each resampled target once, in a fixed order
            models, acc, per_seed = cells[t]
            idx[t] = rng.integers(0, len(models), len(models))
            if per_seed is None:
                truth_b[t] = acc
            else:
                accs, n_test = per_seed
                pick = rng.integers(0, accs.shape[1], accs.shape[1])
                draws = rng.binomial(n_test[:, None], accs[:, pick]) / n_test[:, None]
                truth_b[t] = draws.mean(axis=1)
        for key, vectors in matrix.items():
            boots[key].append(_mean_tau(vectors, truth_b, ts, idx, tie_rtol))
    alpha = (1 - level) / 2
    rows = []
    for (metric, ped), values in boots.items():
        v = np.asarray(values)
        lo, hi = np.nanquantile(v, [alpha, 1 - alpha])
        rows.append({"metric": metric, "ped": ped, "mean_tau": estimate[(metric, ped)],
                     "low": lo, "high": hi, "p_delta": np.nan})
    for metric in dict.fromkeys(m for m, _ in boots):
        if (metric, False) in boots and (metric, True) in boots:
            d = np.asarray(boots[(metric, True)]) - np.asarray(boots[(metric, False)])
            est = estimate[(metric, True)] - estimate[(metric, False)]
            lo, hi = np.nanquantile(d, [alpha, 1 - alpha])
            d = d[np.isfinite(d)]
            p = min(1.0, 2 * min((d <= 0).mean(), (d >= 0).mean())) if len(d) else np.nan
            rows.append({"metric": metric, "ped": "delta", "mean_tau": est, "low": lo,
                         "high": hi, "p_delta": p})
    return pd.DataFrame(rows)


def random_null(accuracy: pd.DataFrame, *, n_draws: int = 2000, level: float = 0.95,
                seed: int = 0) -> dict:
    """Null distribution of the mean tau_w over targets of a scorer that ranks at random.

    Returns ``{"mean", "low", "high", "draws"}``: the band a metric's mean tau_w must leave
    to differ from chance on these targets and models.
    """
    rng = np.random.default_rng(seed)
    truths = [grp.test_acc.to_numpy(float) for _, grp in accuracy.groupby("target", sort=True)]
    draws = np.array([np.mean([_tau(rng.random(len(g)), g, 0.0) for g in truths])
                      for _ in range(n_draws)])
    alpha = (1 - level) / 2
    lo, hi = np.quantile(draws, [alpha, 1 - alpha])
    return {"mean": float(draws.mean()), "low": float(lo), "high": float(hi), "draws": draws}


def resolved(intervals: pd.DataFrame, null: dict) -> pd.DataFrame:
    """Plain-language verdicts: does each metric leave the random band; is PED's effect resolved."""
    rows = []
    for _, r in intervals.iterrows():
        if r.ped == "delta":
            verdict = ("PED's effect resolved: " + ("gain" if r.low > 0 else "loss")
                       if r.low > 0 or r.high < 0 else "PED's effect not resolved (interval contains 0)")
        elif r.low > null["high"]:
            verdict = "above the random band"
        elif r.high < null["low"]:
            verdict = "below the random band"
        else:
            verdict = "not distinguishable from random (intervals overlap)"
        rows.append({"metric": r.metric, "ped": r.ped, "verdict": verdict})
    return pd.DataFrame(rows)


def _fmt(r) -> str:
    return f"{r.mean_tau:+.3f} [{r.low:+.3f}, {r.high:+.3f}]"


def write_bench_readme(out_dir, command: str, scores: pd.DataFrame, groundtruth,
                       *, n_boot: int = 1000) -> Path:
    """Write the benchmark folder's ``README.md`` from its results (nothing about the last run).

    ``groundtruth`` is the path of ``accuracy.csv``; its folder's ``cells/`` give the seeds.
    """
    gt_path = Path(groundtruth)
    accuracy = pd.read_csv(gt_path)
    seeds = seed_table(gt_path.parent)
    rel = reliability(seeds)
    loto = leave_one_target_out(accuracy)
    table = pd.concat([scores[["model", "target", "metric", "ped", "score"]], loto])
    iv = tau_intervals(table, accuracy, seeds, n_boot=n_boot)
    null = random_null(accuracy)
    verdict = resolved(iv, null).set_index(["metric", "ped"])["verdict"]
    lines = []
    for metric in dict.fromkeys(iv.metric):
        part = {str(r.ped): r for r in iv[iv.metric == metric].itertuples()}
        off, on, delta = part.get("False"), part.get("True"), part.get("delta")
        lines.append(f"| {metric} | {_fmt(off) if off is not None else ''} | "
                     f"{_fmt(on) if on is not None else ''} | "
                     f"{_fmt(delta) + f' (p={delta.p_delta:.2f})' if delta is not None else ''} | "
                     f"{verdict.get((metric, False), '')}"
                     f"{'; ' + verdict[(metric, 'delta')] if delta is not None else ''} |")
    cells = CellStore(out_dir).records()
    n_cells, seconds = len(cells), sum(r.get("feature_seconds", 0) for r in cells)
    score_seconds = scores.groupby("ped").seconds.sum()
    rel_text = rel.round(3).to_string(index=False)
    return write_text(Path(out_dir) / "README.md", f"""# Benchmark scores

Made by

```bash
{command}
```

{n_cells} cells ({scores.model.nunique()} models x {scores.target.nunique()} targets),
{len(scores)} scores; the cells record {seconds:.0f} s of feature extraction and
{score_seconds.get(False, 0):.0f} s / {score_seconds.get(True, 0):.0f} s of scoring without /
with PED (summed over the runs that made them; a rerun reuses `cells/` and the feature cache).

Protocol: each model's features of the target's training images (those fine-tuning uses) and of
the general set; features wider than 128 are projected on their 128 leading principal
components fitted on the target's training features (the general set goes through the same
projection); `dim` and `norm` describe the raw features. Scores equal to within a relative
{BENCH_TIE_RTOL:g} are ties before tau_w. `static_loto` ranks the models on a target by their mean
fine-tuning accuracy on the other targets (it knows nothing about the target).

## Mean tau_w over the targets, with 95 % bootstrap intervals

Resampling targets, models within a target, and the ground truth (seeds and a binomial redraw
of each test accuracy), {n_boot} replicates; the PED column is the paired difference.
A scorer that ranks at random reaches a mean tau_w in **[{null['low']:+.3f}, {null['high']:+.3f}]**
(95 % of {len(null['draws'])} draws on the same targets).

| metric | without PED | with PED | with - without | verdict |
|---|---|---|---|---|
{chr(10).join(lines)}

## Ground-truth reliability per target

`spread`: standard deviation of the models' mean accuracies; `noise`: root mean square of the
standard error of a model's mean accuracy (seed-to-seed and binomial test noise); `ratio` =
spread / noise; `ceiling`: mean tau_w between two single-seed ground truths (range over the
seed pairs) -- a metric cannot be expected to agree with the ground truth better than it agrees
with itself.

```
{rel_text}
```

Files: `scores.csv` (model, target, metric, ped, score, seconds, error), `tau.csv` (tau_w per
target and the mean), `cells/` (one JSON per model and target).
""")

