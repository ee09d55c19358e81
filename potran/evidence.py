"""Which metric to trust, from this project's own benchmark: benchmark v3's committed results.

:func:`metric_evidence` applies the frozen rules of the API page's "The default metrics" to
``data/bench_v3``; :func:`default_metrics` is the default of ``potran select`` and
:func:`potran.rank_models`.
"""
from __future__ import annotations

import base64
import functools
import json

import numpy as np
import pandas as pd

from potran import stats
from potran.evaluation import merge_ties
from potran.reduction import TIE_RTOL
from potran.resources import data_path

__all__ = ["PAGE", "MAIN_TABLE_RELIABILITY", "BASELINES", "ALPHA", "N_DEFAULT", "FALLBACK",
           "metric_evidence", "default_metrics", "main_table_targets", "unpack_correctness"]

#: The book page that reports benchmark v3 (the evidence of this module).
PAGE = "notebooks/benchmark_v3"
#: A target enters the main table at this reliability (data/bench_v3/README.md, frozen).
MAIN_TABLE_RELIABILITY = 0.9
#: The trivial baselines a metric has to beat (scored without PED).
BASELINES = ("dim", "norm", "random")
#: Level of the tests.
ALPHA = 0.05
#: At most this many default metrics.
N_DEFAULT = 3
#: Defaults when the benchmark's files are not installed (a wheel without data/bench_v3).
FALLBACK = ("logme", "sfda", "gbc")


def _folder():
    return data_path("bench_v3")


def unpack_correctness(text: str, n: int) -> np.ndarray:
    """The per-image test correctness of a cell's run for ``n`` images, bool (n,), from its
    JSON text (base64 of the packed bits, :func:`potran.bench.finetune.pack_correctness`)."""
    return np.unpackbits(np.frombuffer(base64.b64decode(text), np.uint8), count=n).astype(bool)


@functools.lru_cache(maxsize=1)
def main_table_targets(folder=None, models=None, n_halvings: int = 100, seed: int = 0) -> tuple[str, ...]:
    """The fine-tuning main table's targets (reliability >= :data:`MAIN_TABLE_RELIABILITY`) of the
    ground truth in ``folder`` (its ``cells/``; default benchmark v3's), ranking ``models`` (a tuple;
    default every model of the cells), among the targets where every one of them has a cell."""
    cells: dict[str, dict[str, np.ndarray]] = {}
    for path in sorted(((folder or _folder()) / "cells").glob("*.json")):
        record = json.loads(path.read_text())
        cells.setdefault(record["target"], {})[record["model"]] = np.stack(
            [unpack_correctness(r["test_correct"], int(record["n_test"])) for r in record["runs"]])
    models = sorted({m for per in cells.values() for m in per}) if models is None else list(models)
    reliability = {t: stats.split_half_reliability(np.stack([per[m] for m in models]), n_splits=n_halvings,
                                                   seed=seed)["reliability"]
                   for t, per in cells.items() if set(models) <= set(per)}      # targets with every model
    return tuple(sorted(t for t, r in reliability.items() if r >= MAIN_TABLE_RELIABILITY))


@functools.lru_cache(maxsize=1)
def metric_evidence(n_draws: int = 500, seed: int = 0) -> pd.DataFrame:
    """Each (metric, perturbation) of benchmark v3 on the fine-tuning main table.

    Columns: metric, perturbation, mean_tau (over the main-table targets), p_chance (permutation
    test vs the random scorer), beats_chance (p_chance < :data:`ALPHA`), per baseline B of
    :data:`BASELINES` ``minus_B`` (mean per-target tau_w difference) and ``p_B`` (exact sign-flip),
    ``beats_baselines`` (above all with p < ALPHA), ``not_below_baselines`` (none resolvably
    above). Best mean_tau first. FileNotFoundError when the benchmark's files are not installed.
    """
    folder = _folder()
    scores = pd.read_csv(folder / "scores" / "scores.csv")
    targets = main_table_targets()
    truth = pd.read_csv(folder / "accuracy.csv").pivot(index="model", columns="target", values="test_acc")
    table = scores.pivot_table(index=["metric", "perturbation", "model"], columns="target", values="score",
                               aggfunc="first", dropna=False)
    keys = list(dict.fromkeys(zip(scores.metric, scores.perturbation)))
    truths = [truth[t].to_numpy(float) for t in targets]
    rows_of = {}
    for key in keys:
        block = table.loc[key].reindex(truth.index)
        rows_of[key] = [merge_ties(block[t].to_numpy(float), TIE_RTOL) for t in targets]
    per_target = {key: np.array([stats.weighted_tau_rows(s, g)[0] for s, g in zip(rows, truths)])
                  for key, rows in rows_of.items()}
    records = []
    for metric, perturbation in keys:
        key = metric, perturbation
        if metric in BASELINES and perturbation != "none":
            continue
        chance = stats.chance_test(rows_of[key], truths, n_draws=n_draws, seed=seed)
        record = {"metric": metric, "perturbation": perturbation,
                  "mean_tau": float(np.nanmean(per_target[key])), "p_chance": chance.p_value,
                  "beats_chance": bool(chance.p_value < ALPHA and chance.estimate > 0)}
        above, not_below = True, True
        for base in BASELINES:
            diff = per_target[key] - per_target[base, "none"]
            diff = diff[np.isfinite(diff)]  # a constant score on a target has no tau there
            if metric == base or diff.size < 2:
                delta, p = (0.0, 1.0) if metric == base else (np.nan, np.nan)
            else:
                delta, p = float(diff.mean()), stats.sign_flip(diff, comparison=f"{metric} - {base}").p_value
            record[f"minus_{base}"], record[f"p_{base}"] = delta, p
            above &= bool(delta > 0 and p < ALPHA)
            not_below &= not (delta < 0 and p < ALPHA)
        record["beats_baselines"], record["not_below_baselines"] = above, not_below
        records.append(record)
    out = pd.DataFrame(records).sort_values("mean_tau", ascending=False, kind="stable", ignore_index=True)
    out.attrs["targets"] = targets
    return out


def default_metrics(candidates) -> tuple[str, ...]:
    """The default metrics among ``candidates`` (metric names a ranking can score): those that
    beat chance on benchmark v3's main table and are not resolvably worse than any trivial
    baseline (without PED), best mean tau_w first, at most :data:`N_DEFAULT`; :data:`FALLBACK`
    when the benchmark's files are not installed or no metric qualifies."""
    try:
        evidence = metric_evidence()
    except (FileNotFoundError, KeyError):
        return FALLBACK
    ok = evidence[(evidence.perturbation == "none") & evidence.beats_chance & evidence.not_below_baselines
                  & ~evidence.metric.isin(BASELINES) & evidence.metric.isin(list(candidates))]
    return tuple(ok.metric[:N_DEFAULT]) or FALLBACK
