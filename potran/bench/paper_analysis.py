"""What the paper's published numbers can tell by themselves.

The paper's own numbers (:mod:`potran.paper`) as tables: its ground truth as an accuracy table
(:func:`paper_accuracy`), the published tau_w in tidy form (:func:`published_taus`), the static
leave-one-dataset-out baseline (:func:`static_baseline_taus`: an oracle-style reference, it needs
every model fine-tuned on the other datasets), the tests of :mod:`potran.stats` over the datasets
(:func:`over_datasets`, :func:`paper_tests`: the datasets are the only units published tau values
allow), and what the five cells where the supplementary's Table 2 and ``tw.py`` disagree change
(:func:`groundtruth_discrepancies`, :func:`discrepancy_effect`). :func:`paper_numbers` gathers a
selection of the paper's models and datasets for the book's page on them.

Tables follow :mod:`potran.bench.intervals`: accuracy tables have columns model, target, test_acc;
tau tables have target, metric, perturbation, weighted_tau (:func:`potran.bench.tau.tau_table`).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .. import paper, stats
from ..evaluation import correlate_by_target, weighted_tau
from ..perturbations import NONE, PED, metric_label
from .finetuned import leave_one_target_out, pick
from .intervals import random_null
from .significance import add_holm

__all__ = ["paper_accuracy", "published_taus", "static_baseline_taus", "over_datasets", "paper_tests",
           "groundtruth_discrepancies", "groundtruth_agreement", "discrepancy_effect", "BASELINE",
           "PaperNumbers", "paper_numbers", "wide_taus", "chance_bands", "method_intervals",
           "baseline_choices", "version_effect", "baseline_swap", "ped_gain"]


def paper_accuracy(variant: str = "twpy", *, datasets: Sequence[str] | None = None,
                   models: Sequence[str] | None = None) -> pd.DataFrame:
    """The paper's fine-tuning accuracies (%) as an accuracy table: model, target, test_acc.

    Parameters
    ----------
    variant : {"twpy", "supplementary"}
        Which published ground truth (:func:`potran.paper.groundtruth`).
    datasets : sequence of str, optional
        Datasets to keep; default the ten of the main table (``tw.py``'s SUN397 is left out,
        since no published tau covers it).
    models : sequence of str, optional
        Models to keep; default all twelve.

    Returns
    -------
    pandas.DataFrame
        Columns model, target, test_acc, sorted by target then model.

    Raises
    ------
    ValueError
        A requested dataset or model that the variant does not have.
    """
    table = paper.groundtruth(variant)
    if datasets is None:
        datasets = sorted(paper.main_table().target.unique())
    for names, column in ((datasets, "target"), (models, "model")):
        if names is not None:
            unknown = sorted(set(names) - set(table[column]))
            if unknown:
                raise ValueError(f"{variant!r} ground truth has no {column} {unknown}")
            table = table[table[column].isin(names)]
    return (table[["model", "target", "test_acc"]]
            .sort_values(["target", "model"], ignore_index=True))


def published_taus(datasets: Sequence[str] | None = None) -> pd.DataFrame:
    """The main table's published tau_w as a tau table.

    Returns
    -------
    pandas.DataFrame
        Columns target, metric, perturbation, weighted_tau, method (the README label), one row per
        (method, dataset), optionally restricted to ``datasets``.
    """
    table = paper.main_table()
    if datasets is not None:
        table = table[table.target.isin(datasets)]
    return table[["target", "metric", "perturbation", "weighted_tau", "method"]].reset_index(drop=True)


def static_baseline_taus(accuracy: pd.DataFrame) -> pd.DataFrame:
    """tau_w per target of the static baseline (mean accuracy on the other targets).

    The baseline is :func:`potran.bench.finetuned.leave_one_target_out`; tau_w is
    :func:`potran.evaluation.weighted_tau` against each target's accuracies.

    Parameters
    ----------
    accuracy : pandas.DataFrame
        model, target, test_acc; at least two targets, every model on every target.

    Returns
    -------
    pandas.DataFrame
        A tau table: target, metric ("static_loto"), perturbation ("none"), weighted_tau, n_models.

    Examples
    --------
    >>> round(float(static_baseline_taus(paper_accuracy("twpy")).weighted_tau.mean()), 4)
    0.6746
    """
    if accuracy.target.nunique() < 2:
        raise ValueError("the static baseline needs at least two targets")
    scores = leave_one_target_out(accuracy)
    tau = correlate_by_target(scores[["model", "target", "score"]], accuracy, weighted_tau,
                              accuracy="test_acc")
    n_models = scores.groupby("target", sort=False).model.size()
    return pd.DataFrame({"target": tau.index, "metric": "static_loto", "perturbation": NONE,
                         "weighted_tau": tau.to_numpy(),
                         "n_models": n_models.loc[tau.index].to_numpy()})


def _wide(taus: pd.DataFrame) -> pd.DataFrame:
    """(metric, perturbation) x target table of tau_w; every cell finite, else ValueError."""
    keys = list(dict.fromkeys(zip(taus.metric, taus.perturbation)))
    wide = (taus.set_index(["metric", "perturbation", "target"]).weighted_tau
            .unstack("target").reindex(pd.MultiIndex.from_tuples(keys, names=["metric", "perturbation"])))
    values = wide.to_numpy(float)
    if not np.isfinite(values).all():
        missing = [k for k, row in zip(wide.index, values) if not np.isfinite(row).all()]
        raise ValueError(f"tau_w missing or not finite on some target for {missing}")
    return wide


def over_datasets(taus: pd.DataFrame, *, reference: tuple[str, str] | None = None,
                  level: float = 0.95) -> pd.DataFrame:
    """Mean tau_w over targets of every (metric, perturbation): t-interval and exact sign-flip test.

    With published tau values the targets are the only units (the models cannot be resampled
    without the scores): :func:`potran.stats.sign_flip` treats the T per-target values as a
    sample of targets like these (t-interval on T - 1 degrees of freedom; all 2^T sign patterns).

    Parameters
    ----------
    taus : pandas.DataFrame
        A tau table (target, metric, perturbation, weighted_tau); every (metric, perturbation)
        needs a finite value on every target.
    reference : (metric, perturbation), optional
        Also give each row's paired difference from this one, per target: delta, delta_low,
        delta_high, p_delta (exact sign-flip p), n_positive (targets where the row is above).
    level : float
        Coverage of the t-intervals.

    Returns
    -------
    pandas.DataFrame
        metric, perturbation, mean_tau, low, high, p_value (sign-flip p of mean tau_w = 0), and the
        reference columns (NaN on the reference's own row).

    Raises
    ------
    ValueError
        A missing or non-finite tau, or an unknown ``reference``.
    """
    wide = _wide(taus)
    keys = list(wide.index)
    res = [stats.sign_flip(row, comparison=metric_label(*k), level=level)
           for k, row in zip(keys, wide.to_numpy(float))]
    out = pd.DataFrame({"metric": wide.index.get_level_values(0),
                        "perturbation": wide.index.get_level_values(1),
                        "mean_tau": [r.estimate for r in res], "low": [r.low for r in res],
                        "high": [r.high for r in res], "p_value": [r.p_value for r in res]})
    if reference is not None:
        if tuple(reference) not in keys:
            raise ValueError(f"reference {reference!r} is not among {keys}")
        ref = wide.loc[tuple(reference)].to_numpy(float)
        cols = {c: [] for c in ("delta", "delta_low", "delta_high", "p_delta", "n_positive")}
        for k, row in zip(keys, wide.to_numpy(float)):
            if k == tuple(reference):
                for c in cols:
                    cols[c].append(np.nan)
                continue
            d = stats.sign_flip(row - ref, level=level)
            for c, v in zip(cols, (d.estimate, d.low, d.high, d.p_value, int((row > ref).sum()))):
                cols[c].append(v)
        out = out.assign(**cols)
    return out


def _tests_of(wide: pd.DataFrame, truths, *, n_draws: int, seed: int, level: float) -> list[dict]:
    """Chance and over-target rows of every (metric, perturbation) of a wide tau table."""
    rows = []
    for key, row in zip(wide.index, wide.to_numpy(float)):
        name = metric_label(*key)
        chance = stats.chance_test([None] * len(truths), truths, comparison=f"{name} vs chance",
                                   n_draws=n_draws, seed=seed, level=level)
        null = chance.distribution
        est = float(row.mean())
        chance = replace(chance, estimate=est, p_value=float(min(
            1.0, 2 * (min(np.sum(null >= est), np.sum(null <= est)) + 1) / (len(null) + 1))))
        rows.append({"family": "chance", "metric": key[0], "perturbation": key[1], **chance.record()})
        rows.append({"family": "targets", "metric": key[0], "perturbation": key[1],
                     **stats.sign_flip(row, comparison=f"{name}: mean tau_w", level=level).record()})
    return rows


def paper_tests(*, datasets: Sequence[str] | None = None, models: Sequence[str] | None = None,
                n_draws: int = 10000, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """The paper's published numbers re-read with the tests of :mod:`potran.stats`.

    Families (Holm within each, :func:`potran.bench.significance.add_holm`): ``chance`` (every
    published row and the static baselines against the random scorer on the paper's 12 models
    and ``tw.py`` ground truth; the published tau values have no ties), ``targets`` (mean tau_w
    over the datasets, exact sign-flip and t-interval), ``PED`` (PED's gain per metric: the
    per-dataset differences, exact sign-flip), ``baseline`` (each static baseline minus the best
    published row, per dataset). Static baselines: leave-one-dataset-out on the ``tw.py``
    ground truth (``static_loto``) and on the supplementary's (``static_loto_supplementary``).

    Returns
    -------
    pandas.DataFrame
        :data:`potran.bench.significance.TEST_COLUMNS`.
    """
    datasets = sorted(paper.main_table().target.unique()) if datasets is None else list(datasets)
    twpy = paper_accuracy("twpy", datasets=datasets, models=models)
    published = published_taus(datasets)
    base = pd.concat([static_baseline_taus(twpy),
                      static_baseline_taus(paper_accuracy("supplementary", datasets=datasets,
                                                          models=models))
                      .assign(metric="static_loto_supplementary")])
    wide = _wide(pd.concat([published, base]))
    truths = [grp.test_acc.to_numpy(float) for _, grp in twpy.groupby("target", sort=True)]
    rows = _tests_of(wide, truths, n_draws=n_draws, seed=seed, level=level)
    for metric in dict.fromkeys(published.metric):
        if (metric, PED) in wide.index and (metric, NONE) in wide.index:
            diff = wide.loc[(metric, PED)] - wide.loc[(metric, NONE)]
            rows.append({"family": "PED", "metric": metric, "perturbation": PED, "reference": NONE,
                         **stats.sign_flip(
                diff.to_numpy(float), comparison=f"{metric}+PED - {metric}", level=level).record()})
    pub = wide.loc[[k for k in wide.index if not k[0].startswith("static_loto")]]
    best = pub.mean(axis=1).idxmax()
    best_name = metric_label(*best)
    for key in wide.index:
        if key[0].startswith("static_loto"):
            diff = wide.loc[key] - wide.loc[best]
            rows.append({"family": "baseline", "metric": key[0], "perturbation": NONE, **stats.sign_flip(
                diff.to_numpy(float), comparison=f"{key[0]} - {best_name} (best published)",
                level=level).record()})
    return add_holm(pd.DataFrame(rows))


def groundtruth_discrepancies(a: pd.DataFrame, b: pd.DataFrame,
                              names: tuple[str, str] = ("a", "b")) -> pd.DataFrame:
    """The cells where two accuracy tables disagree (on the cells both have).

    Returns
    -------
    pandas.DataFrame
        target, model and the two values (columns named by ``names``), sorted.
    """
    both = a.merge(b, on=["model", "target"], suffixes=("_a", "_b"))
    differ = both[~np.isclose(both.test_acc_a, both.test_acc_b, rtol=0, atol=1e-9)]
    return (differ.rename(columns={"test_acc_a": names[0], "test_acc_b": names[1]})
            [["target", "model", *names]].sort_values(["target", "model"], ignore_index=True))


def groundtruth_agreement(a: pd.DataFrame, b: pd.DataFrame) -> pd.Series:
    """tau_w per target between two accuracy tables of the same models (1 = same ranking).

    Examples
    --------
    >>> agree = groundtruth_agreement(paper_accuracy("twpy"), paper_accuracy("supplementary"))
    >>> round(float(agree["voc2007"]), 3)
    0.681
    """
    scores = a.rename(columns={"test_acc": "score"})[["model", "target", "score"]]
    return correlate_by_target(scores, b, weighted_tau, accuracy="test_acc").sort_index()


def discrepancy_effect(a: pd.DataFrame, b: pd.DataFrame,
                       statistic: Callable[[pd.DataFrame], float],
                       names: tuple[str, str] = ("a", "b")) -> pd.DataFrame:
    """``statistic`` of table ``a`` with each disagreeing cell in turn taken from ``b``.

    Parameters
    ----------
    a, b : pandas.DataFrame
        Accuracy tables (model, target, test_acc) of the same cells.
    statistic : callable
        ``statistic(accuracy) -> float``, e.g. the static baseline's mean tau_w.
    names : (str, str)
        Labels of ``a`` and ``b``.

    Returns
    -------
    pandas.DataFrame
        One row per setting: ``changed`` ("none": all of ``a``; "target/model": that cell from
        ``b``; "all": all of ``b``'s values), ``value`` and ``delta`` (value - value of ``a``).
    """
    diffs = groundtruth_discrepancies(a, b, names)
    base = float(statistic(a))
    rows = [{"changed": f"none (all {names[0]})", "value": base}]
    keyed = a.set_index(["target", "model"])
    for _, d in diffs.iterrows():
        one = keyed.copy()
        one.loc[(d.target, d.model), "test_acc"] = d[names[1]]
        rows.append({"changed": f"{d.target}/{d.model}", "value": float(statistic(one.reset_index()))})
    swapped = keyed.copy()
    for _, d in diffs.iterrows():
        swapped.loc[(d.target, d.model), "test_acc"] = d[names[1]]
    rows.append({"changed": f"all {len(diffs)} ({names[1]})",
                 "value": float(statistic(swapped.reset_index()))})
    out = pd.DataFrame(rows)
    out["delta"] = out.value - base
    return out


#: The label of the static leave-one-dataset-out baseline among the published methods.
BASELINE = ("static_loto", NONE)


@dataclass(frozen=True)
class PaperNumbers:
    """The paper's numbers on a selection of its models and datasets (:func:`paper_numbers`):
    the names, :func:`potran.bench.finetuned.pick`'s notes, both ground-truth versions
    (``accuracy``: ``{"twpy": ..., "supplementary": ...}``), the published tau_w, each method's
    label ((metric, perturbation) -> "LogME+Ours", the baseline "static baseline") and the
    baseline's tau_w per version."""

    models: list
    targets: list
    notes: list
    accuracy: dict
    published: pd.DataFrame
    labels: dict
    baseline: dict

    def per_dataset(self) -> pd.DataFrame:
        """The published tau_w and the baseline's (tw.py ground truth), with a ``method`` column."""
        both = pd.concat([self.published, self.baseline["twpy"]])
        return both.assign(method=[self.labels[(m, p)] for m, p in zip(both.metric, both.perturbation)])


def paper_numbers(models=None, targets=None) -> PaperNumbers:
    """:class:`PaperNumbers` of the paper's ``models`` and ``targets`` (ids, None for all 12 and
    the 10 datasets of the main table; unknown ones are ignored with a note).

    Raises
    ------
    ValueError
        Fewer than two datasets (the static baseline needs the others).
    """
    twpy = paper_accuracy("twpy")
    chosen_models, note_m = pick(models, sorted(twpy.model.unique()), "models")
    chosen_targets, note_t = pick(targets, sorted(twpy.target.unique()), "datasets")
    if len(chosen_targets) < 2:
        raise ValueError("the static baseline needs at least two datasets")
    accuracy = {v: paper_accuracy(v, datasets=chosen_targets, models=chosen_models)
                for v in ("twpy", "supplementary")}
    published = published_taus(chosen_targets)
    labels = published.drop_duplicates("method").set_index(["metric", "perturbation"]).method.to_dict()
    labels[BASELINE] = "static baseline"
    return PaperNumbers(
        chosen_models,
        chosen_targets,
        [n for n in (note_m, note_t) if n],
        accuracy,
        published,
        labels,
        {v: static_baseline_taus(a) for v, a in accuracy.items()},
    )


def wide_taus(taus: pd.DataFrame) -> pd.DataFrame:
    """tau_w per method (rows, in order) and dataset (columns), with their mean over the datasets."""
    table = taus.pivot_table(index="method", columns="target", values="weighted_tau", sort=False)
    table["mean"] = table.mean(axis=1)
    return table


def chance_bands(numbers: PaperNumbers, *, n_draws: int = 10000, seed: int = 0) -> tuple[dict, dict]:
    """The 95 % band of a random ranking's tau_w on one dataset (the first) and of its mean over
    the datasets with either ground truth (:func:`potran.bench.intervals.random_null`).
    Returns ``(one, means)``: ``one`` and ``means[version]`` have ``low`` and ``high``."""
    means = {v: random_null(a, n_draws=n_draws, seed=seed) for v, a in numbers.accuracy.items()}
    twpy = numbers.accuracy["twpy"]
    one = random_null(twpy[twpy.target == numbers.targets[0]], n_draws=n_draws, seed=seed)
    return one, means


def method_intervals(numbers: PaperNumbers, tests: pd.DataFrame) -> pd.DataFrame:
    """Per method (index): :func:`over_datasets` against the baseline, its Holm-adjusted p of
    the difference (``p_delta (Holm)``) and the Holm p of its permutation test against chance
    (``p vs chance (Holm)``, from :func:`paper_tests`' ``tests``)."""
    over = over_datasets(numbers.per_dataset(), reference=BASELINE)
    chance = tests[tests.family == "chance"].set_index(["metric", "perturbation"])
    over["p vs chance (Holm)"] = [
        chance.p_holm.get((m, p), float("nan")) for m, p in zip(over.metric, over.perturbation)
    ]
    over["p_delta (Holm)"] = stats.holm(over.p_delta.to_numpy(float))
    out = over.assign(method=[numbers.labels[(m, p)] for m, p in zip(over.metric, over.perturbation)])
    return out.set_index("method").drop(columns=["metric", "perturbation"])


def baseline_choices(numbers: PaperNumbers) -> pd.Series:
    """The static baseline's mean tau_w on the main table's datasets with either ground truth,
    and with SUN397 (which only tw.py has) in the baseline's mean, and over every tw.py dataset."""
    sun = paper_accuracy(
        "twpy", datasets=sorted(paper.groundtruth("twpy").target.unique()), models=numbers.models
    )
    with_sun = static_baseline_taus(sun).set_index("target").weighted_tau
    return pd.Series(
        {
            "main table's datasets, tw.py GT": numbers.baseline["twpy"].weighted_tau.mean(),
            "main table's datasets, supplementary GT": numbers.baseline["supplementary"].weighted_tau.mean(),
            "main table's datasets scored, SUN397 also in the score's mean": with_sun.drop("sun397").mean(),
            "every tw.py dataset incl. SUN397 (11), tw.py GT": with_sun.mean(),
        },
        name="mean τ_w of the static baseline",
    )


def version_effect(numbers: PaperNumbers) -> pd.DataFrame:
    """Per dataset and on average: tau_w between the two ground truths, and the baseline's tau_w
    with each."""
    effect = pd.DataFrame(
        {
            "GT agreement": groundtruth_agreement(
                numbers.accuracy["twpy"], numbers.accuracy["supplementary"]
            ),
            "baseline, tw.py GT": numbers.baseline["twpy"].set_index("target").weighted_tau,
            "baseline, supplementary GT": numbers.baseline["supplementary"].set_index("target").weighted_tau,
        }
    )
    effect.loc["mean"] = effect.mean()
    return effect


def baseline_swap(numbers: PaperNumbers) -> pd.DataFrame:
    """:func:`discrepancy_effect` on the baseline's mean tau_w, from tw.py one disputed cell at a time."""

    def mean_tau(acc):
        return static_baseline_taus(acc).weighted_tau.mean()

    return discrepancy_effect(
        numbers.accuracy["twpy"], numbers.accuracy["supplementary"], mean_tau, ("tw.py", "supplementary")
    )


def ped_gain(numbers: PaperNumbers, tests: pd.DataFrame) -> pd.DataFrame:
    """PED's published gain per metric (rows: "LogME+Ours", ...): :func:`paper_tests`' "PED"
    rows with the number of datasets where it is positive."""
    gain = tests[tests.family == "PED"].set_index("metric")
    wide = numbers.published.pivot_table(
        index=["metric", "perturbation"], columns="target", values="weighted_tau"
    )
    gain["datasets positive"] = [
        int((wide.loc[(m, PED)] > wide.loc[(m, NONE)]).sum()) for m in gain.index
    ]
    return gain.rename(index={m: numbers.labels[(m, PED)] for m in gain.index})


