"""Benchmark v3's committed data and its inclusion rule (frozen in ``data/bench_v3/README.md``;
issue 17): both ground truths, the committed scores, the scored targets, and which targets enter
the main table: those whose :func:`potran.stats.split_half_reliability` of the cells' per-image
test correctness is >= :data:`MAIN_TABLE_RELIABILITY` (the others enter the second table).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import stats
from ..perturbations import NONE
from . import targets_v3
from .finetune import unpack_correctness
from .finetuned import image_correctness, reliability
from .runner import WIDTH_METRICS
from .settings import GroundTruth, seed_table

__all__ = ["MAIN_TABLE_RELIABILITY", "N_HALVINGS", "FAMILY_BIT", "BASELINES", "model_family",
           "finetune_truth", "probe_truth", "reliability_table", "members", "with_family_bit",
           "complete_rows", "scored_targets", "GENERAL_SETS", "CommittedData", "load"]

#: A target enters the main table at this Spearman-Brown reliability (README, frozen).
MAIN_TABLE_RELIABILITY = 0.9
#: Random halvings of the test images behind each reliability (README, frozen).
N_HALVINGS = 100
#: The one-bit model-family baseline: 1 for an ImageNet network, 0 for a conv4 CNN.
FAMILY_BIT = "imagenet_bit"
#: Scores that describe the features' width or nothing: no PED test, no Holm family of PED.
BASELINES = (*WIDTH_METRICS, "random", FAMILY_BIT)


def model_family(name: str) -> str:
    """``"ImageNet"`` for a zoo model pretrained on ImageNet, ``"conv4"`` for our CNNs."""
    from . import zoo

    return "ImageNet" if zoo.get(name).family.startswith("imagenet") else "conv4"


def finetune_truth(folder) -> GroundTruth:
    """The fine-tuning ground truth of ``folder`` (``cells/`` of :mod:`potran.bench.finetune`;
    a cell's accuracy is the mean of its seeds' test accuracies)."""
    seeds = seed_table(folder)
    accuracy = seeds.groupby(["model", "target"], as_index=False).test_acc.mean()
    return GroundTruth(accuracy, seeds, str(folder), "fine-tuning", image_correctness(folder))


def probe_truth(path) -> GroundTruth:
    """The linear-probe ground truth of ``linear_probe.csv`` (one fit per cell: one "run")."""
    table = pd.read_csv(path)
    missing = {"model", "target", "test_acc", "n_test", "test_correct"} - set(table.columns)
    if missing:
        raise ValueError(f"{path} lacks the columns {sorted(missing)}")
    seeds = table[["model", "target", "test_acc", "n_test"]].assign(seed=0)
    correct = {(r.model, r.target): unpack_correctness(r.test_correct, int(r.n_test))[None]
               for r in table.itertuples()}
    return GroundTruth(table[["model", "target", "test_acc"]].copy(),
                       seeds[["model", "target", "seed", "test_acc", "n_test"]], str(path), "linear probe",
                       correct)


def reliability_table(truth: GroundTruth, models, targets=None, *, n_halvings: int = N_HALVINGS,
                      seed: int = 0) -> pd.DataFrame:
    """Per complete target: its reliability and table under the README's inclusion rule.

    Columns: target, family, protocol, models, runs, test_images, split_half_r, reliability
    (halvings seeded by ``seed`` for every target alike), table (``"main"`` at >=
    :data:`MAIN_TABLE_RELIABILITY`, else ``"second"``), and spread, seed_noise, test_noise of
    :func:`potran.bench.finetuned.reliability`.
    """
    models = list(models)
    targets = [t for t in (targets or targets_v3.NAMES) if t in truth.complete(models)]
    columns = ["target", "family", "protocol", "models", "runs", "test_images", "split_half_r",
               "reliability", "table", "spread", "seed_noise", "test_noise"]
    if not targets:
        return pd.DataFrame(columns=columns)
    noise = reliability(truth.subset(models, targets).seeds).set_index("target")
    rows = []
    for t in targets:
        x = truth.correct_array(t, models)
        half = stats.split_half_reliability(x, n_splits=n_halvings, seed=seed)
        rows.append({"target": t, "family": targets_v3.FAMILIES[t], "protocol": truth.protocol,
                     "models": x.shape[0], "runs": x.shape[1], "test_images": x.shape[2],
                     "split_half_r": half["r"], "reliability": half["reliability"],
                     "table": "main" if half["reliability"] >= MAIN_TABLE_RELIABILITY else "second",
                     **noise.loc[t, ["spread", "seed_noise", "test_noise"]]})
    return pd.DataFrame(rows, columns=columns)


def members(reliability: pd.DataFrame, table: str) -> list[str]:
    """The targets of ``reliability`` (:func:`reliability_table`) in ``table`` ("main", "second")."""
    return list(reliability[reliability.table == table].target)


def with_family_bit(scores: pd.DataFrame) -> pd.DataFrame:
    """``scores`` plus the one-bit baseline :data:`FAMILY_BIT` (no PED) on every scored
    (model, target): 1 for an ImageNet network, 0 for a conv4 CNN."""
    cells = scores[["model", "target"]].drop_duplicates()
    bit = cells.assign(metric=FAMILY_BIT, perturbation=NONE,
                       score=[float(model_family(m) == "ImageNet") for m in cells.model])
    return pd.concat([scores, bit], ignore_index=True)


def complete_rows(scores: pd.DataFrame, models) -> pd.DataFrame:
    """The rows of the (metric, perturbation, target) groups that score every one of ``models``."""
    need, keys = set(models), ["metric", "perturbation", "target"]
    full = scores.groupby(keys).model.agg(lambda s: need <= set(s))
    return scores.merge(full[full].reset_index()[keys], on=keys)


def scored_targets(scores: pd.DataFrame, models) -> list[str]:
    """The v3 targets (README order) on which every one of ``models`` has a row of every
    metric in ``scores`` (a target being scored is left out until it is complete)."""
    keys = ["target", "metric", "perturbation"]
    full = complete_rows(scores, models).drop_duplicates(keys)
    done = full.groupby("target").size() == scores.groupby(keys[1:]).ngroups
    return [t for t in targets_v3.NAMES if done.get(t, False)]


#: The general sets of the ablation: their names on the page and their score folders.
GENERAL_SETS = {"photo crops": "scores", "per-family in-distribution": "scores_general_family",
                "target's own training features": "scores_general_target"}


@dataclass(frozen=True)
class CommittedData:
    """Benchmark v3's committed data (:func:`load`): both ground truths, the scores of the
    complete targets (with :data:`FAMILY_BIT`; None before any), those targets, and each
    general set's score table (None while its folder is missing)."""

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
