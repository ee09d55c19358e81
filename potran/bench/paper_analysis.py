"""What the published numbers and a fine-tuning ground truth can tell by themselves.

Helpers of two book pages that need no scores of ours:

- the paper's own numbers (:mod:`potran.paper`): its ground truth as a report-ready accuracy
  table, the published tau_w in tidy form, the static leave-one-dataset-out baseline (an
  oracle-style reference: it needs every model fine-tuned on the other datasets), the tests of
  :mod:`potran.stats` over the datasets (:func:`over_datasets`, :func:`paper_tests`: the only
  units published tau values allow), and what the five cells where the supplementary's Table 2
  and ``tw.py`` disagree change;
- a ground-truth folder of ``potran groundtruth`` (``cells/*.json``): one row per cell with the
  protocol and the convergence check, accuracy error bars, and a plain-language verdict per
  target from :func:`potran.bench.report.reliability`.

Tables follow :mod:`potran.bench.report`: accuracy tables have columns model, target, test_acc;
tau tables have target, metric, perturbation, weighted_tau (:func:`potran.bench.tau.tau_table`).
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .. import paper, stats
from ..evaluation import correlate_by_target, weighted_tau
from ..perturbations import NONE, PED, metric_label
from .report import leave_one_target_out
from .store import CellStore

__all__ = ["pick", "paper_accuracy", "published_taus", "static_baseline_taus", "over_datasets", "paper_tests",
           "groundtruth_discrepancies", "groundtruth_agreement", "discrepancy_effect",
           "cell_table", "protocol", "accuracy_errors", "reliability_verdicts", "discrepancy_marks",
           "protocol_sentence", "verdict_summary", "learning_rate_sentence", "still_training",
           "convergence_sentence", "FineTuned", "read_groundtruth", "BASELINE", "PaperNumbers",
           "paper_numbers", "wide_taus", "chance_bands", "method_intervals", "P_COLUMNS", "intervals_table",
           "baseline_choices", "version_effect", "baseline_swap",
           "ped_gain", "gain_table", "claims_text"]


def pick(requested: Sequence[str] | None, available: Sequence[str], what: str = "names"
         ) -> tuple[list[str], str]:
    """The requested names that are available, in the order of ``available``.

    Parameters
    ----------
    requested : sequence of str or None
        Names asked for; None means all of ``available``.
    available : sequence of str
        Names that exist.
    what : str
        What the names are, for the note ("models", "datasets").

    Returns
    -------
    names : list of str
        The selection. When none of the requested names is available, all of ``available``
        (so that a page parameterised for another model zoo still runs).
    note : str
        Empty when every requested name was used, else a sentence saying what was ignored.
    """
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

    The baseline is :func:`potran.bench.report.leave_one_target_out`; tau_w is
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

    Families (Holm within each, :func:`potran.bench.report.add_holm`): ``chance`` (every
    published row and the static baselines against the random scorer on the paper's 12 models
    and ``tw.py`` ground truth; the published tau values have no ties), ``targets`` (mean tau_w
    over the datasets, exact sign-flip and t-interval), ``PED`` (PED's gain per metric: the
    per-dataset differences, exact sign-flip), ``baseline`` (each static baseline minus the best
    published row, per dataset). Static baselines: leave-one-dataset-out on the ``tw.py``
    ground truth (``static_loto``) and on the supplementary's (``static_loto_supplementary``).

    Returns
    -------
    pandas.DataFrame
        :data:`potran.bench.report.TEST_COLUMNS`.
    """
    from .report import add_holm

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


#: Columns of :func:`cell_table`, one row per fine-tuned (model, target) cell.
CELL_COLUMNS = ["model", "target", "n_seeds", "test_acc", "test_acc_sd", "lr", "wd", "epochs",
                "n_train", "n_test", "n_classes", "loss_rel_change_mean", "loss_rel_change_max",
                "final_loss", "wall_s"]


def cell_table(groundtruth_dir) -> pd.DataFrame:
    """One row per finished cell of a ground-truth folder (``cells/*.json``).

    ``loss_rel_change_*`` summarise each seed's ``loss_last_epoch_rel_change``, the relative
    change of the training loss over the last epoch, ``|L_E - L_(E-1)| / L_(E-1)``: small values
    mean the loss had flattened out, large ones that training stopped while still improving
    (or, when ``final_loss`` -- the last epoch's training loss, mean over seeds -- is already near
    0, only that a tiny loss fluctuates).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CELL_COLUMNS` (sorted by target, model); empty with those columns when
        the folder has no cells yet.
    """
    rows = []
    for r in CellStore(groundtruth_dir).records():
        change = np.asarray(r.get("loss_last_epoch_rel_change") or [np.nan], float)
        last = [run["train_loss"][-1] for run in r.get("runs", []) if run.get("train_loss")]
        rows.append({**{c: r.get(c) for c in CELL_COLUMNS[:11]},
                     "loss_rel_change_mean": float(np.mean(change)),
                     "loss_rel_change_max": float(np.max(change)),
                     "final_loss": float(np.mean(last)) if last else np.nan,
                     "wall_s": r.get("wall_s")})
    return (pd.DataFrame(rows, columns=CELL_COLUMNS)
            .sort_values(["target", "model"], ignore_index=True))


def protocol(groundtruth_dir) -> tuple[dict, list[str]]:
    """The fine-tuning configuration the cells record, read from their ``config``.

    Returns
    -------
    config : dict
        The configuration most cells share (empty when there are no cells).
    others : list of str
        ``model/target`` of the cells whose configuration differs from it.
    """
    records = CellStore(groundtruth_dir).records()
    if not records:
        return {}, []
    keys = [json.dumps(r.get("config", {}), sort_keys=True) for r in records]
    common = Counter(keys).most_common(1)[0][0]
    others = [f"{r['model']}/{r['target']}" for r, k in zip(records, keys) if k != common]
    return json.loads(common), others


def accuracy_errors(seeds: pd.DataFrame) -> pd.DataFrame:
    """Each cell's mean accuracy with its two error scales.

    Parameters
    ----------
    seeds : pandas.DataFrame
        model, target, seed, test_acc, n_test (:func:`potran.bench.report.seed_table`).

    Returns
    -------
    pandas.DataFrame
        model, target, n_seeds, test_acc (mean over seeds), seed_sd (standard deviation over
        seeds, NaN with one seed), binomial_se (sqrt(p (1 - p) / n_test) with p the mean: the
        sampling noise of one run's test accuracy), n_test.
    """
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
    """A plain-language verdict per target from :func:`potran.bench.report.reliability`.

    A target "ranks the models" when the models' spread is at least ``min_ratio`` times the
    seed noise of a model's mean accuracy (``ratio_seed``: the test images are fixed, as the
    metrics are scored against them) **and** the lower noise ceiling (``ceiling_low``, the tau_w
    of a metric as good as another fine-tuning run) is at least ``min_ceiling``; "coarsely" when
    the spread exceeds the seed noise; otherwise its ranking is mostly noise. The sentence also
    gives the test-set noise, which matters for a new test set of the same task. Targets with
    fewer than ``min_models`` finished models are not judged.

    Returns
    -------
    pandas.DataFrame
        target, verdict (``reliable``, ``coarse``, ``noise`` or ``too few models``), sentence.
    """
    rows = []
    for _, r in rel.iterrows():
        numbers = (f"the models' mean accuracies spread by {r.spread:.3f} (sd), {r.ratio_seed:.1f} "
                   f"times the seed noise of one model's mean ({r.seed_noise:.4f}) and {r.ratio_test:.1f} "
                   f"times the binomial noise of its test set ({r.test_noise:.4f}); the k-seed mean has "
                   f"Spearman-Brown reliability {r.reliability:.2f}, so a metric can expect a tau_w "
                   f"between {r.ceiling_low:.2f} (as good as another fine-tuning run) and "
                   f"{r.ceiling_high:.2f} (perfect)")
        if r.n_models < min_models:
            verdict, text = "too few models", (f"{r.target}: only {r.n_models} model(s) "
                                               f"fine-tuned so far, not judged")
        elif r.ratio_seed >= min_ratio and r.ceiling_low >= min_ceiling:
            verdict, text = "reliable", f"{r.target} can rank the models: {numbers}"
        elif r.ratio_seed >= 1:
            verdict, text = "coarse", (f"{r.target} ranks the models only coarsely "
                                       f"(neighbours in its ranking may swap): {numbers}")
        else:
            verdict, text = "noise", f"{r.target} cannot rank the models (mostly noise): {numbers}"
        rows.append({"target": r.target, "verdict": verdict, "sentence": text + "."})
    return pd.DataFrame(rows, columns=["target", "verdict", "sentence"])


def discrepancy_marks(table: pd.DataFrame, diffs: pd.DataFrame, other: str = "tw.py"
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Where a wide accuracy ``table`` (model x target) differs from ``other``: a frame of flags
    like ``table`` (True at each cell of ``diffs``, :func:`groundtruth_discrepancies`) and one of
    tooltips (``"tw.py: 71.20"``), for :func:`potran.bench.book.table`'s ``marks`` and ``tips``."""
    marks = pd.DataFrame(False, index=table.index, columns=table.columns)
    tips = pd.DataFrame("", index=table.index, columns=table.columns)
    for _, d in diffs.iterrows():
        marks.loc[d.model, d.target] = True
        tips.loc[d.model, d.target] = f"{other}: {d[other]:.2f}"
    return marks, tips


def protocol_sentence(config: dict) -> str | None:
    """The fine-tuning recipe of :func:`protocol`'s ``config`` in one sentence (None without cells)."""
    if not config:
        return None
    lr_rule = ", ".join(f"{m}: {v:g}" for m, v in config.get("lr_overrides", {}).items())
    return (f"Each model's backbone is fine-tuned whole with a new linear head: {config['optimizer']}, "
            f"learning rate {config['lr']:g}" + (f" (except {lr_rule})" if lr_rule else "")
            + f", weight decay {config['wd']:g}, batch {config['batch_size']}, {config['epochs']} epochs, "
            f"one run per seed {config['seeds']}; a cell's accuracy is the mean test accuracy over the "
            "seeds. Unlike the paper, there is no search over hyper-parameters: one rate per model.")


def verdict_summary(verdicts: pd.DataFrame, *, min_ratio: float, min_ceiling: float, min_models: int) -> str:
    """The criteria of :func:`reliability_verdicts`, the count of each verdict and one bullet per
    target."""
    if verdicts.empty:
        return "No finished cell for these models and targets yet, so no target can be judged."
    counts = verdicts.verdict.value_counts()
    return (f"Criteria (`potran.bench.paper_analysis.reliability_verdicts`): a target ranks the models when "
            f"their spread is at least {min_ratio:g} times the seed noise of a model's mean and the lower "
            f"noise ceiling is at least {min_ceiling:g}; coarsely when the spread only exceeds the seed "
            f"noise; targets with fewer than {min_models} finished models are "
            f"not judged. Of {len(verdicts)} target(s): {counts.get('reliable', 0)} reliable, "
            f"{counts.get('coarse', 0)} coarse, {counts.get('noise', 0)} dominated by noise, "
            f"{counts.get('too few models', 0)} not yet judged.\n\n"
            + "\n".join(f"- {s}" for s in verdicts.sentence))


def learning_rate_sentence(cells: pd.DataFrame) -> str:
    """The learning rate most of :func:`cell_table`'s cells used, and the models that used others."""
    if cells.empty:
        return "No finished cell."
    usual = cells.lr.value_counts().idxmax()
    other = cells[cells.lr != usual]
    exceptions = "; ".join(f"{m} ({', '.join(f'{v:g}' for v in sorted(set(g.lr)))} on its {len(g)} cells)"
                           for m, g in other.groupby("model"))
    return (f"Every one of the {len(cells)} cells was fine-tuned with the learning rate **{usual:g}**"
            + (f" except those of {exceptions}" if len(other) else "") + ".")


def still_training(cells: pd.DataFrame, *, max_rel_change: float = 0.05, small_loss: float = 0.05
                   ) -> pd.DataFrame:
    """The cells of :func:`cell_table` still training when they stopped: a last-epoch relative
    loss change (largest over the seeds) above ``max_rel_change`` with a final loss above
    ``small_loss`` (a tiny loss that fluctuates has converged)."""
    return cells[(cells.loss_rel_change_max > max_rel_change) & (cells.final_loss > small_loss)]


def convergence_sentence(cells: pd.DataFrame, targets, *, max_rel_change: float = 0.05,
                         small_loss: float = 0.05) -> str | None:
    """How many cells, per target, were :func:`still_training`, with the median last-epoch
    change and final loss of all cells (None without cells)."""
    if cells.empty:
        return None
    still = still_training(cells, max_rel_change=max_rel_change, small_loss=small_loss)
    by_target = still.groupby("target").size().reindex(list(targets), fill_value=0)
    return (f"{len(still)} of {len(cells)} finished cells were still training when they stopped (last-epoch "
            f"loss change above {max_rel_change:.0%} with a final loss above {small_loss:g}): "
            + ", ".join(f"{t} {n} of {(cells.target == t).sum()}" for t, n in by_target.items())
            + f". Median last-epoch change over all cells {cells.loss_rel_change_max.median():.1%}, "
            f"median final loss {cells.final_loss.median():.3f}.")


@dataclass(frozen=True)
class FineTuned:
    """A ground-truth folder restricted to some models and targets (:func:`read_groundtruth`):
    the chosen names, :func:`pick`'s notes, :func:`protocol`'s ``config`` and ``odd`` cells, and
    the cells (:func:`cell_table`), runs (:func:`potran.bench.report.seed_table`) and
    ``accuracy.csv`` rows of those models and targets."""

    models: list
    targets: list
    notes: list
    config: dict
    odd: list
    cells: pd.DataFrame
    seeds: pd.DataFrame
    accuracy: pd.DataFrame

    def summary(self) -> list[str]:
        """Lines saying what was asked and what has finished (the page prints them)."""
        lines = [f"note: {n}" for n in self.notes]
        lines.append(f"{len(self.cells)} of {len(self.models) * len(self.targets)} cells finished "
                     f"({len(self.models)} models x {len(self.targets)} targets)")
        if self.odd:
            lines.append("cells with another configuration: " + ", ".join(self.odd))
        return lines


def read_groundtruth(groundtruth_dir, models=None, targets=None) -> FineTuned:
    """The offline ground truth of ``groundtruth_dir`` for ``models`` and ``targets`` (names, or
    None for all of :mod:`potran.bench.zoo` / :data:`potran.bench.datasets.TARGETS`)."""
    from . import datasets, zoo
    from .report import seed_table

    chosen_models, note_m = pick(models, zoo.names(), "models")
    chosen_targets, note_t = pick(targets, datasets.TARGETS, "targets")

    def keep(frame):
        return frame[frame.model.isin(chosen_models) & frame.target.isin(chosen_targets)]

    config, odd = protocol(groundtruth_dir)
    accuracy = pd.read_csv(f"{groundtruth_dir}/accuracy.csv")
    return FineTuned(chosen_models, chosen_targets, [n for n in (note_m, note_t) if n], config, odd,
                     keep(cell_table(groundtruth_dir)).reset_index(drop=True),
                     keep(seed_table(groundtruth_dir)), keep(accuracy))


# --- the re-reading of the paper's numbers (notebooks/paper_numbers.py) ---

#: The label of the static leave-one-dataset-out baseline among the published methods.
BASELINE = ("static_loto", NONE)


@dataclass(frozen=True)
class PaperNumbers:
    """The paper's numbers on a selection of its models and datasets (:func:`paper_numbers`):
    the names, :func:`pick`'s notes, both ground-truth versions (``accuracy``: ``{"twpy": ...,
    "supplementary": ...}``), the published tau_w, each method's label ((metric, perturbation) ->
    "LogME+Ours", the baseline "static baseline") and the baseline's tau_w per version."""

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


def chance_bands(numbers: PaperNumbers, *, n_draws: int = 10000, seed: int = 0):
    """The 95 % band of a random ranking's tau_w on one dataset (the first) and of its mean over
    the datasets with either ground truth (:func:`potran.bench.report.random_null`).
    Returns ``(one, means, table)``: ``one`` and ``means[version]`` have ``low`` and ``high``."""
    from . import book, report

    means = {v: report.random_null(a, n_draws=n_draws, seed=seed) for v, a in numbers.accuracy.items()}
    twpy = numbers.accuracy["twpy"]
    one = report.random_null(twpy[twpy.target == numbers.targets[0]], n_draws=n_draws, seed=seed)
    n = len(numbers.targets)
    table = pd.DataFrame(
        {
            "95 % band of a random ranking": [
                book.span(v["low"], v["high"]) for v in (one, means["twpy"], means["supplementary"])
            ]
        },
        index=pd.Index(
            [
                "τ_w on one dataset",
                f"mean over {n} datasets (tw.py GT)",
                f"mean over {n} datasets (supplementary GT)",
            ],
            name="statistic",
        ),
    )
    return one, means, table


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


#: The p-value columns of :func:`intervals_table`.
P_COLUMNS = ["p (mean 0)", "p (minus baseline)", "p (minus baseline, Holm)", "p vs chance (Holm)"]


def intervals_table(intervals: pd.DataFrame) -> pd.DataFrame:
    """:func:`method_intervals` as the page shows it: intervals on one line, then the p-values."""
    from .book import interval

    return pd.DataFrame(
        {
            "mean τ_w [95 % t-interval]": list(
                map(interval, intervals.mean_tau, intervals.low, intervals.high)
            ),
            "p (mean 0)": intervals.p_value,
            "minus baseline [95 % t-interval]": list(
                map(interval, intervals.delta, intervals.delta_low, intervals.delta_high)
            ),
            "p (minus baseline)": intervals.p_delta,
            "p (minus baseline, Holm)": intervals["p_delta (Holm)"],
            "datasets above the baseline": intervals.n_positive,
            "p vs chance (Holm)": intervals["p vs chance (Holm)"],
        },
        index=intervals.index,
    )


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


def gain_table(gain: pd.DataFrame) -> pd.DataFrame:
    """:func:`ped_gain` as the page shows it."""
    from .book import interval

    return pd.DataFrame(
        {
            "PED gain [95 % t-interval]": list(map(interval, gain.estimate, gain.low, gain.high)),
            "p (sign-flip)": gain.p_value,
            "p (Holm)": gain.p_holm,
            "datasets positive": gain["datasets positive"],
            "verdict": gain.verdict,
        },
        index=gain.index,
    )


def claims_text(numbers: PaperNumbers, tests: pd.DataFrame, gain: pd.DataFrame, one: dict) -> str:
    """What the tests mean for the paper's claims: how much one dataset's tau_w says against
    chance (``one``: the band on one dataset), :func:`potran.bench.report.verdict_text`, and
    PED's published gains."""
    from .report import verdict_text

    published = numbers.published
    single = published.weighted_tau.between(one["low"], one["high"])
    n = len(numbers.targets)
    return "\n\n".join(
        [
            f"On a single dataset a random ranking of {len(numbers.models)} models reaches anywhere in "
            f"[{one['low']:+.2f}, {one['high']:+.2f}] (95 %), and {single.sum()} of the {len(published)} "
            f"published per-dataset values lie in that range: one dataset's $\\tau_w$ says little by itself; "
            f"the mean over {n} datasets and the paired per-dataset tests below say more.",
            *verdict_text(tests),
            "PED's published gains: "
            + "; ".join(
                f"{m.replace('+Ours', '')} {r.estimate:+.3f} [{r.low:+.3f}, {r.high:+.3f}], positive on "
                f"{r['datasets positive']} of {n} datasets, exact sign-flip p = {r.p_value:.3g} "
                f"(Holm {r.p_holm:.3g}): {r.verdict}"
                for m, r in gain.iterrows()
            )
            + ". "
            "These tests take the published values as given: they cannot see the noise of the paper's "
            "fine-tuning runs (one run per cell) nor resample its models (no scores are published); the "
            "offline benchmark's pages ask the same questions with scores that can be resampled.",
        ]
    )
