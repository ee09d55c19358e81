"""What a fine-tuning ground truth says by itself, as tables: from a ground-truth folder of
``potran groundtruth`` (``cells/*.json``), an accuracy table (model, target, test_acc) or a
``seeds`` table, one row per run (:func:`potran.bench.settings.seed_table`).
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import stats
from ..perturbations import NONE
from .store import CellStore

__all__ = ["pick", "image_correctness", "reliability", "leave_one_target_out", "CELL_COLUMNS",
           "cell_table", "protocol", "accuracy_errors", "reliability_verdicts", "still_training"]


def pick(requested: Sequence[str] | None, available: Sequence[str], what: str = "names"
         ) -> tuple[list[str], str]:
    """The requested names (None: all) that are available, in the order of ``available``, and a
    note on what was ignored (empty when nothing was). When none is available, all of
    ``available`` (so that a page parameterised for another model zoo still runs); ``what`` names
    them in the note ("models", "datasets")."""
    available = list(available)
    if requested is None:
        return available, ""
    requested = list(requested)
    chosen = [a for a in available if a in requested]
    ignored = [r for r in requested if r not in available]
    if not chosen:
        return available, (f"none of the requested {what} ({', '.join(requested)}) is among the "
                           f"{len(available)} available; using all of them")
    note = f"{what} not available, ignored: {', '.join(ignored)}" if ignored else ""
    return chosen, note


def image_correctness(groundtruth_dir) -> dict:
    """``{(model, target): bool (seeds, n_test)}`` for the cells that record per-image correctness
    (:func:`potran.bench.finetune.test_correctness`); older cells are left out."""
    from .finetune import test_correctness

    out = {}
    for r in CellStore(groundtruth_dir).records():
        if r.get("runs") and all("test_correct" in run for run in r["runs"]):
            out[(r["model"], r["target"])] = test_correctness(r)
    return out


def reliability(seeds: pd.DataFrame) -> pd.DataFrame:
    """Per target: the reliability of the k-seed mean ground truth.

    Columns: target, the keys of :func:`potran.stats.reliability`, and seed_agreement (mean tau_w
    between two single-seed ground truths, over the pairs of seeds).
    """
    rows = []
    for target, grp in seeds.groupby("target", sort=True):
        wide = grp.pivot(index="model", columns="seed", values="test_acc")
        n_test = grp.groupby("model").n_test.first().loc[wide.index].to_numpy(float)
        row = {"target": target, **stats.reliability(wide.to_numpy(float), n_test)}
        cols = list(wide.columns)
        pairs = [(a, b) for i, a in enumerate(cols) for b in cols[i + 1:]]
        agree = [stats.weighted_tau_rows(wide[a].to_numpy(), wide[b].to_numpy())[0] for a, b in pairs]
        agree = [a for a in agree if np.isfinite(a)]  # undefined for a pair: too few models, or ties
        row["seed_agreement"] = float(np.mean(agree)) if agree else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def leave_one_target_out(accuracy: pd.DataFrame) -> pd.DataFrame:
    """The static baseline: score a model on a target by its mean accuracy on the other targets
    (an oracle-style reference: it needs every model fine-tuned on the other targets). Returns a
    score table (model, target, metric="static_loto", perturbation="none", score).
    """
    wide = accuracy.pivot(index="model", columns="target", values="test_acc")
    rows = []
    for t in wide.columns:
        others = wide.drop(columns=t).mean(axis=1)
        rows += [{"model": m, "target": t, "metric": "static_loto", "perturbation": NONE, "score": v}
                 for m, v in others.items()]
    return pd.DataFrame(rows)


#: Columns of :func:`cell_table`, one row per fine-tuned (model, target) cell.
CELL_COLUMNS = ["model", "target", "n_seeds", "test_acc", "test_acc_sd", "lr", "wd", "epochs",
                "n_train", "n_test", "n_classes", "loss_rel_change_mean", "loss_rel_change_max",
                "final_loss", "wall_s"]


def cell_table(groundtruth_dir) -> pd.DataFrame:
    """One row per finished cell of a ground-truth folder, sorted by target and model.

    ``loss_rel_change_*``: mean and max over seeds of ``|L_E - L_(E-1)| / L_(E-1)``, the training
    loss's relative change over the last epoch (large: stopped while still improving, unless
    ``final_loss``, the last epoch's loss averaged over seeds, is near 0 and merely fluctuates);
    computed from the runs' per-epoch ``train_loss`` where a cell does not record it (v4).
    """
    rows = []
    for r in CellStore(groundtruth_dir).records():
        last = [run["train_loss"][-1] for run in r.get("runs", []) if run.get("train_loss")]
        recorded = r.get("loss_last_epoch_rel_change") or [  # v4's cells keep only the per-epoch losses
            abs(run["train_loss"][-1] / run["train_loss"][-2] - 1)
            for run in r.get("runs", []) if len(run.get("train_loss") or []) >= 2]
        change = np.asarray(recorded or [np.nan], float)
        rows.append({**{c: r.get(c) for c in CELL_COLUMNS[:11]},
                     "loss_rel_change_mean": float(np.mean(change)),
                     "loss_rel_change_max": float(np.max(change)),
                     "final_loss": float(np.mean(last)) if last else np.nan,
                     "wall_s": r.get("wall_s")})
    return (pd.DataFrame(rows, columns=CELL_COLUMNS)
            .sort_values(["target", "model"], ignore_index=True))


def protocol(groundtruth_dir) -> tuple[dict, list[str]]:
    """The fine-tuning configuration (``config``) most cells record (empty without cells), and
    the ``model/target`` of the cells whose configuration differs from it."""
    records = CellStore(groundtruth_dir).records()
    if not records:
        return {}, []
    keys = [json.dumps(r.get("config", {}), sort_keys=True) for r in records]
    common = Counter(keys).most_common(1)[0][0]
    others = [f"{r['model']}/{r['target']}" for r, k in zip(records, keys) if k != common]
    return json.loads(common), others


def accuracy_errors(seeds: pd.DataFrame) -> pd.DataFrame:
    """Each cell's mean accuracy with its two error scales, from a ``seeds`` table
    (:func:`potran.bench.settings.seed_table`): model, target, n_seeds, test_acc (mean), seed_sd
    (sd over seeds, NaN with one), binomial_se (sqrt(p (1 - p) / n_test), p the mean: the
    sampling noise of one run's test accuracy), n_test."""
    cols = ["model", "target", "n_seeds", "test_acc", "seed_sd", "binomial_se", "n_test"]
    if seeds.empty:
        return pd.DataFrame(columns=cols)
    out = (seeds.groupby(["model", "target"], sort=True)
           .agg(n_seeds=("seed", "size"), test_acc=("test_acc", "mean"),
                seed_sd=("test_acc", "std"), n_test=("n_test", "first")).reset_index())
    out["binomial_se"] = np.sqrt(out.test_acc * (1 - out.test_acc) / out.n_test)
    return out[cols]


def reliability_verdicts(rel: pd.DataFrame, *, min_ratio: float = 3.0, min_ceiling: float = 0.5,
                         min_models: int = 4) -> pd.DataFrame:
    """Whether each target of :func:`reliability` can rank the models.

    ``reliable`` when the models' spread is at least ``min_ratio`` times the seed noise
    (``ratio_seed``) **and** the lower noise ceiling (``ceiling_low``) is at least
    ``min_ceiling``; ``coarse`` when the spread only exceeds the seed noise; ``noise`` otherwise;
    ``too few models`` below ``min_models`` finished models. Columns: target, verdict, and those
    of ``rel`` it reads (n_models, ratio_seed, ceiling_low).
    """
    cols = ["target", "verdict", "n_models", "ratio_seed", "ceiling_low"]
    if rel.empty:
        return pd.DataFrame(columns=cols)
    reliable = (rel.ratio_seed >= min_ratio) & (rel.ceiling_low >= min_ceiling)
    verdict = np.select([rel.n_models < min_models, reliable, rel.ratio_seed >= 1],
                        ["too few models", "reliable", "coarse"], "noise")
    return rel.assign(verdict=verdict)[cols].reset_index(drop=True)


def still_training(cells: pd.DataFrame, *, max_rel_change: float = 0.05, small_loss: float = 0.05
                   ) -> pd.DataFrame:
    """The cells of :func:`cell_table` still training when they stopped: a last-epoch relative
    loss change (largest over the seeds) above ``max_rel_change`` with a final loss above
    ``small_loss`` (a tiny loss that fluctuates has converged)."""
    return cells[(cells.loss_rel_change_max > max_rel_change) & (cells.final_loss > small_loss)]

