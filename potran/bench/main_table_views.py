"""The main-table page's views: which targets the ground truth covers, the τ_w table, the forest
of mean τ_w and PED's effect, and the published table beside ours, with the verdicts in words.

The page is ``notebooks/main_table.py``; the tests and intervals come from
:func:`potran.bench.report.resolve`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import book, plots, report

__all__ = ["Coverage", "coverage", "tau_wide", "interval_table", "tests_details", "tau_forest",
           "forest_caption", "forest_alt", "reliability_items", "published_wide", "published_table",
           "side_by_side", "side_table"]

SETTINGS = report.SETTINGS


@dataclass(frozen=True)
class Coverage:
    """The ground truth a page can use: the targets with two fine-tuned models (``usable``), their
    accuracies and seeds (None without seeds), and a sentence saying so (``text``)."""

    usable: list
    accuracy: pd.DataFrame
    seeds: pd.DataFrame | None
    text: str


def coverage(accuracy_all: pd.DataFrame, seeds, targets, n_models: int, source: str) -> Coverage:
    """The targets of ``targets`` where at least two models have an accuracy in ``accuracy_all``,
    those accuracies, the matching ``seeds`` rows, and a sentence naming the ground truth
    (``source``) and each target's count of fine-tuned models out of ``n_models``."""
    targets = list(targets)
    per_target = accuracy_all.groupby("target").model.nunique().reindex(targets, fill_value=0)
    usable = [t for t in targets if per_target[t] >= 2]
    accuracy = accuracy_all[accuracy_all.target.isin(usable)].reset_index(drop=True)
    if seeds is not None:
        seeds = seeds.merge(accuracy[["model", "target"]], on=["model", "target"])
    counts = ", ".join(f"{t}: {per_target[t]} of {n_models}" for t in targets)
    runs = (f"{seeds.seed.nunique()} seeds per cell" if seeds is not None
            else "one accuracy per cell (no seeds: the intervals below hold the ground truth fixed)")
    text = (f"Ground truth: {source}. Fine-tuned cells per target (models with ground truth): "
            f"{counts}. "
            + (f"Targets used below: {', '.join(usable)}; {accuracy.model.nunique()} models, {runs}."
               if usable else
               "**No target has two fine-tuned models yet**, so no τ_w can be computed; the tables "
               "below are empty until the ground truth covers these cells."))
    return Coverage(usable, accuracy, seeds, text)


def tau_wide(tau: pd.DataFrame, metrics, perturbations, targets):
    """``tau`` (the long ``tau.csv``) as one row per metric and perturbation, one column per target
    scored and the mean, shaded; the caption counts each target's models with ground truth."""
    order = pd.MultiIndex.from_tuples([(m, p) for m in metrics for p in perturbations],
                                      names=["metric", "perturbation"])
    columns = [t for t in targets if t in set(tau.target)] + ["mean"]
    wide = tau.pivot(index=["metric", "perturbation"], columns="target",
                     values="weighted_tau").reindex(index=order, columns=columns)
    n_models = tau[tau.target != "mean"].groupby("target").n_models.max()
    counts = ", ".join(f"{t} {n_models.get(t, 0)}" for t in columns if t != "mean")
    return book.table(book.ped_column(wide.reset_index()), shade=columns, uuid="tau-table", index=False,
                      caption="τ_w per target and its mean over the targets; models with ground truth: "
                              + counts + ".")


def reliability_items(seeds, usable) -> list:
    """What the page shows of the ground truth's reliability on the ``usable`` targets: the table of
    :func:`potran.bench.report.reliability` and its sentence (None without two seeds), a note when
    there are no ``seeds``, nothing without a usable target."""
    if not usable:
        return []
    if seeds is None:
        return ["the ground truth has one run per cell: its own noise cannot be estimated here"]
    reliability = report.reliability(seeds).set_index("target")
    return [book.table(reliability, formats={"n_models": "int", "n_seeds": "int"}),
            report.reliability_sentence(reliability)]


def interval_table(summary: pd.DataFrame, *, level: float, n_boot: int):
    """``summary`` (:func:`potran.bench.report.interval_summary`) as a table, its p-value columns
    formatted as such, captioned with the intervals' coverage ``level`` and ``n_boot``."""
    return book.table(
        summary, formats={c: "p" for c in summary.columns if c.startswith("p ")}, uuid="interval-table",
        caption=f"Mean τ_w over targets with {level:.0%} crossed-bootstrap intervals ({n_boot} "
                f"replicates); Holm-adjusted p-values: permutation test against chance, exact "
                f"sign-flip over targets and crossed bootstrap for PED's paired effect.")


def tests_details(tests: pd.DataFrame):
    """Every row of ``tests`` (:func:`potran.bench.report.benchmark_tests`) in a folded table:
    family, comparison, estimate with its interval, raw and Holm p-values, the test, the verdict."""
    every = pd.DataFrame({
        "family": tests.family, "comparison": tests.comparison,
        "estimate [interval]": list(map(book.interval, tests.estimate, tests.low, tests.high)),
        "p": tests.p_value, "p (Holm)": tests.p_holm, "smallest possible p": tests.min_p,
        "test": tests.test, "verdict": tests.verdict})
    formats = {"p": "p", "p (Holm)": "p", "smallest possible p": "p"}
    return book.details(book.table(every, formats=formats, index=False, uuid="tests-table"),
                        f"All {len(every)} tests, one row each")


def tau_forest(intervals: pd.DataFrame, null: dict, metric_order, *, level: float):
    """Two forests sharing the metrics' rows: the mean τ_w without and with PED and the static
    baseline (black) over the random scorer's band ``null``, and PED's paired effect."""
    import seaborn as sns

    main = intervals[intervals.setting != SETTINGS["delta"]]
    deltas = intervals[intervals.setting == SETTINGS["delta"]].assign(setting=SETTINGS["ped"])
    palette = dict(zip((SETTINGS["none"], SETTINGS["ped"]), sns.color_palette(n_colors=2)))
    main = main.assign(setting=["static baseline" if m == "static_loto" else s
                                for m, s in zip(main.metric, main.setting)])
    fig, (ax, bx) = plots.forest_figure(
        main, panels=2, label="metric", group="setting", colours={**palette, "static baseline": "k"},
        order=metric_order, band=(null["low"], null["high"]),
        band_label=f"random scorer ({level:.0%} band)", xlabel="mean τ_w over targets (no unit)")
    ax.set_ylabel("metric")
    ax.set_title("mean τ_w, crossed-bootstrap intervals")
    plots.forest(bx, deltas, label="metric", group="setting", colours=palette, order=metric_order,
                 hollow_if_zero=True, xlabel="with PED − without (paired)")
    bx.set_title("the effect of PED")
    return fig


def forest_caption(n_targets: int, seeded: bool, *, level: float, n_boot: int, n_null: int) -> str:
    """The caption of :func:`tau_forest` over ``n_targets`` targets (``seeded``: each cell's seeds
    were redrawn in the bootstrap)."""
    redrawn = ", each cell's seeds redrawn" if seeded else ""
    return (f"Left: mean weighted Kendall tau over the {n_targets} target(s) of every "
            f"metric without and with PED, and of the static baseline (black, an oracle-style "
            f"reference), with {level:.0%} crossed-bootstrap intervals (one model resample shared by "
            f"all targets{redrawn}; targets fixed; {n_boot} replicates); the grey band holds "
            f"{level:.0%} of {n_null} random rankings (where chance falls, not a test: the p-values "
            f"against chance are in the table above). Right: the paired change of the mean τ_w when "
            f"PED is added (open circles: the interval contains 0); n/a: no τ_w computable (e.g. "
            f"scores equal for every model).")


def forest_alt(metric_order) -> str:
    """The text alternative of :func:`tau_forest` with rows ``metric_order``."""
    return (f"Two interval plots sharing one row per metric ({', '.join(metric_order)}). Left: the "
            "mean τ_w without and with PED, and the static baseline, over a grey band of random "
            "rankings. Right: the change PED brings, with open markers where its interval contains 0.")


def published_wide(published: pd.DataFrame) -> pd.DataFrame:
    """The published τ_w (:func:`potran.paper.main_table`) as one row per metric and perturbation,
    one column per dataset in the paper's order, and their mean."""
    pub = published.pivot_table(index=["metric", "perturbation"], columns="target",
                                values="weighted_tau", sort=False)
    pub["mean"] = pub.mean(axis=1)
    return pub


def published_table(pub: pd.DataFrame, sources):
    """:func:`published_wide`'s frame ``pub`` as a shaded table citing ``sources``."""
    return book.table(book.ped_column(pub.reset_index()), shade=list(pub.columns), index=False,
                      uuid="published-table",
                      caption=f"Published τ_w per dataset (source: {'; '.join(sources)}).")


def _ours(ours: pd.DataFrame, key) -> str:
    row = ours.loc[key] if key in ours.index else None
    return "–" if row is None else book.interval(row.mean_tau, row.low, row.high)


def side_by_side(pub: pd.DataFrame, intervals: pd.DataFrame) -> pd.DataFrame:
    """Per published metric, the published mean τ_w without and with PED beside ours (with its
    interval, "–" where not scored), the published gain and our paired PED effect."""
    ours = intervals.set_index(["metric", "setting"])
    pub_mean = pub["mean"].unstack("perturbation")
    rows = []
    for metric in pub_mean.index:
        row = {"metric": metric}
        for p in ("none", "ped"):
            row[f"published, {SETTINGS[p]}"] = pub_mean.loc[metric].get(p, np.nan)
            row[f"ours, {SETTINGS[p]}"] = _ours(ours, (metric, SETTINGS[p]))
        row["published PED gain"] = (pub_mean.loc[metric].get("ped", np.nan)
                                     - pub_mean.loc[metric].get("none", np.nan))
        row["our PED effect"] = _ours(ours, (metric, SETTINGS["delta"]))
        rows.append(row)
    return pd.DataFrame(rows).set_index("metric")


def side_table(side: pd.DataFrame, *, level: float):
    """:func:`side_by_side`'s frame as a table, the published columns signed to 3 decimals."""
    return book.table(side, formats={c: "+3" for c in side.columns if c.startswith("published")},
                      uuid="side-by-side",
                      caption=f"Mean τ_w: published (12 SSL ResNet-50s, 10 datasets) beside ours "
                              f"(with {level:.0%} intervals).")
