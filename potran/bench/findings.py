"""What the companion found, computed from its analyses: the book's index shows these sentences.

Three groups, each sentence linked to the page that holds its analysis:

- ``paper``: the paper's own published numbers re-read with the tests of :mod:`potran.stats`
  (:func:`potran.bench.paper_analysis.paper_tests`): PED's gain per metric, the methods against
  chance, the oracle-style static baseline;
- ``benchmark``: the offline benchmark's scores and ground truth
  (:func:`potran.bench.report.benchmark_tests`): which metrics beat chance, whether PED's effect
  is resolved, and what the number of targets allows;
- ``limits``: how reliable the benchmark's ground truth is (Spearman-Brown, per target) and how
  far its fine-tuning runs were from converged (the last epoch's relative change of the loss).

Every number in a sentence is taken from those analyses, never typed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from potran.bench import paper_analysis, report
from potran.bench.store import CellStore

__all__ = ["Finding", "paper_findings", "benchmark_findings", "limit_findings", "markdown"]

#: the inclusion rule of benchmark v3: a target ranks the models reliably at this reliability
RELIABLE = 0.9
ALPHA = 0.05


@dataclass(frozen=True)
class Finding:
    """One sentence (MyST Markdown) of a group (``paper``, ``benchmark`` or ``limits``) and the
    page (document name) that holds its analysis."""

    group: str
    text: str
    page: str


def _names(items: list[str]) -> str:
    if not items:
        return "none"
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]


def _label(metric: str, ped) -> str:
    return f"{metric}+PED" if ped is True else metric


def _p(p: float) -> str:
    return f"{p:.2g}" if p >= 0.001 else "< 0.001"


def paper_findings(tests: pd.DataFrame | None = None) -> list[Finding]:
    """PED's gain per metric, the methods against chance and the static baseline, on the paper's
    published numbers (``tests``: :func:`~potran.bench.paper_analysis.paper_tests`)."""
    tests = paper_analysis.paper_tests() if tests is None else tests
    page = "notebooks/paper_numbers"
    taus = paper_analysis.published_taus().pivot_table(index="target", columns=["metric", "ped"],
                                                       values="weighted_tau")
    out = []
    ped = tests[tests.family == "PED"]
    parts = []
    for r in ped.itertuples():
        gain = taus[(r.metric, True)] - taus[(r.metric, False)]
        resolved = "resolved" if r.p_holm < ALPHA else "not resolved"
        parts.append(f"{r.metric} {r.estimate:+.3f} (95 % t-interval [{r.low:+.3f}, {r.high:+.3f}], "
                     f"higher on {int((gain > 0).sum())} of {gain.notna().sum()} datasets, "
                     f"p = {_p(r.p_holm)}: {resolved})")
    if parts:
        out.append(Finding("paper", (
            f"**PED's gain on the paper's own numbers.** Mean τ_w with PED minus without, over the "
            f"{int(ped.n.iloc[0])} datasets of the main table: {'; '.join(parts)}. Test: exact sign-flip "
            f"over datasets, Holm over {len(ped)} metrics; the population is datasets like these, "
            f"with the paper's 12 models and its ground truth held fixed."), page))
    chance = tests[tests.family == "chance"]
    if len(chance):
        beat = [_label(r.metric, r.ped) for r in chance.itertuples() if r.p_holm < ALPHA]
        rest = [_label(r.metric, r.ped) for r in chance.itertuples() if not r.p_holm < ALPHA]
        out.append(Finding("paper", (
            f"**Against chance.** Better than a random ranking of the 12 models (permutation test, "
            f"Holm over {len(chance)} rows): {_names(beat)}; not resolved from chance: {_names(rest)}."),
            page))
    base = tests[(tests.family == "baseline") & (tests.metric == "static_loto")]
    if len(base):
        r = base.iloc[0]
        own = chance[chance.metric == "static_loto"]
        level = f"mean τ_w {own.estimate.iloc[0]:.3f}; " if len(own) else ""
        verdict = ("a resolved difference" if r.p_holm < ALPHA else
                   "not resolved (the data cannot order the two)")
        out.append(Finding("paper", (
            f"**An oracle-style reference.** Ranking the models by their mean accuracy on the other "
            f"datasets ({level}it needs every model fine-tuned elsewhere, the cost the metrics exist to "
            f"avoid) minus the best published row: {r.estimate:+.3f} "
            f"[{r.low:+.3f}, {r.high:+.3f}], exact sign-flip p = {_p(r.p_value)}: {verdict}."), page))
    return out


def benchmark_findings(tests: pd.DataFrame) -> list[Finding]:
    """Which metrics beat chance on the offline benchmark and whether PED's effect is resolved
    (``tests``: :func:`~potran.bench.report.benchmark_tests`)."""
    page = "notebooks/main_table"
    out = []
    chance = tests[(tests.family == "chance") & (tests.metric != "static_loto")]
    if len(chance):
        beat = [_label(r.metric, r.ped) for r in chance.itertuples()
                if r.p_holm < ALPHA and r.verdict == "better than chance"]
        out.append(Finding("benchmark", (
            f"**Against chance, offline.** Of {len(chance)} metric settings (each metric with and "
            f"without PED, permutation test against a random ranking, Holm), better than chance: "
            f"{_names(beat)}; the others are not resolved from chance."), page))
    ped = tests[tests.family == "PED"]
    ped = ped[ped.metric.isin(chance.metric) & (ped.estimate != 0)]
    if len(ped):
        n, min_p = int(ped.n.iloc[0]), float(ped.min_p.iloc[0])
        lo, hi = ped.loc[ped.estimate.idxmin()], ped.loc[ped.estimate.idxmax()]
        resolved = [r.metric for r in ped.itertuples() if r.p_holm < ALPHA]
        cannot = (f"with {n} targets the exact sign-flip test cannot give p below {min_p:.3g}, so no "
                  f"PED effect can be resolved over targets" if min_p > ALPHA else
                  f"resolved (Holm): {_names(resolved)}")
        out.append(Finding("benchmark", (
            f"**PED's effect, offline.** The mean change of τ_w with PED ranges from "
            f"{lo.estimate:+.3f} ({lo.metric}) to {hi.estimate:+.3f} ({hi.metric}); {cannot}. "
            f"Resolving it needs many more targets: benchmark v3 (data/bench_v3/README.md) has 24."), page))
    return out


def limit_findings(seeds: pd.DataFrame, groundtruth_dir) -> list[Finding]:
    """Reliability of the ground truth per target and the convergence of its fine-tuning runs
    (``seeds``: :func:`~potran.bench.report.seed_table`)."""
    page = "notebooks/groundtruth"
    rel = report.reliability(seeds).sort_values("reliability", ascending=False)
    parts = [f"{r.target} {r.reliability:.3f}" for r in rel.itertuples()]
    n_ok = int((rel.reliability >= RELIABLE).sum())
    changes = np.concatenate([np.abs(np.asarray(r["loss_last_epoch_rel_change"], float))
                              for r in CellStore(groundtruth_dir).records()])
    test_larger = int((rel.test_noise > rel.seed_noise).sum())
    return [
        Finding("limits", (
            f"**How reliable the offline ground truth is.** Spearman–Brown reliability of the "
            f"{int(rel.n_seeds.iloc[0])}-seed mean ranking of the {int(rel.n_models.iloc[0])} models: "
            f"{', '.join(parts)}; {n_ok} of {len(rel)} targets reach {RELIABLE}, the rule benchmark v3 "
            f"adopts. The binomial noise of the test set exceeds the seed noise on {test_larger} of "
            f"{len(rel)} targets."), page),
        Finding("limits", (
            f"**Fine-tuning runs not fully converged.** In the last epoch the training loss still "
            f"changed by {np.median(changes):.1%} (median over {len(changes)} runs; up to "
            f"{changes.max():.1%}): the ground truth ranks models after a fixed, short schedule."),
            page),
    ]


def markdown(findings: list[Finding]) -> str:
    """The findings as MyST Markdown: one list per group, each item ending with its page's link."""
    titles = {"paper": "What the paper's own numbers support",
              "benchmark": "What the offline benchmark resolves, and what it cannot",
              "limits": "The limits"}
    lines = []
    for group, title in titles.items():
        items = [f for f in findings if f.group == group]
        if items:
            lines += [f"**{title}**", ""]
            lines += [f"- {f.text} (see {{doc}}`{f.page}`)" for f in items]
            lines.append("")
    return "\n".join(lines)
