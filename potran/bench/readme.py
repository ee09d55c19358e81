"""The README of a ``potran bench`` results folder (:func:`write_bench_readme`) and the tests'
verdicts in words (:func:`verdict_text`, also printed by ``potran report``): the one place in the
analysis layer that writes sentences (the book's pages write their own conclusions).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..perturbations import NONE, PED, metric_label
from .finetuned import image_correctness, leave_one_target_out, reliability
from .intervals import random_null
from .reduction import SCORE_DIM
from .settings import seed_table
from .significance import benchmark_tests
from .store import CellStore, write_text
from .tau import BENCH_TIE_RTOL

__all__ = ["verdict_text", "write_bench_readme"]


def verdict_text(tests: pd.DataFrame, *, baseline: str = "static_loto") -> list[str]:
    """Paragraphs of plain words on what the tests resolve and what they cannot.

    Built from :func:`potran.bench.significance.benchmark_tests` (or
    :func:`potran.bench.paper_analysis.paper_tests`) rows; every paragraph names its test and
    uses Holm-adjusted p-values at 0.05.
    """
    def names(frame):
        items = [metric_label(m, p) if r is None or r != r else m
                 for m, p, r in zip(frame.metric, frame.perturbation, frame.reference)]
        if not items:
            return "none"
        return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]

    out = []
    ch = tests[tests.family == "chance"]
    if len(ch):
        good = ch[(ch.p_holm < 0.05) & (ch.verdict == "better than chance")]
        bad = ch[(ch.p_holm < 0.05) & (ch.verdict == "worse than chance")]
        rest = ch[~(ch.p_holm < 0.05)]
        out.append(
            f"**Against chance** ({ch.test.iloc[0]}: the models in random order on every target, "
            f"with the metric's own ties where its scores are known; Holm over {len(ch)} settings): "
            f"better than chance at p < 0.05: {names(good)}; worse than chance: {names(bad)}; "
            f"not resolved from chance: {names(rest)}.")
    tg = tests[tests.family == "targets"]
    if len(tg):
        n = int(tg.n.iloc[0])
        resolved = tg[tg.p_holm < 0.05]
        out.append(
            f"**Over targets** ({tg.test.iloc[0]}; the population is other targets like these): "
            f"with {n} targets the smallest two-sided p is {tg.min_p.iloc[0]:.3g}"
            + (", so no mean over targets can be resolved by this test alone"
               if tg.min_p.iloc[0] > 0.05 else
               f"; mean tau_w resolved from 0 (Holm): {names(resolved)}") + ".")
    for fam, what in (("PED", "PED's effect per target"), ("PED, models", "PED's effect, crossed bootstrap")):
        pe = tests[tests.family == fam]
        if len(pe):
            gain = pe[(pe.p_holm < 0.05) & (pe.estimate > 0)]
            loss = pe[(pe.p_holm < 0.05) & (pe.estimate < 0)]
            cannot = pe.min_p.iloc[0] > 0.05
            out.append(
                f"**{what}** ({pe.test.iloc[0]}; Holm over {len(pe)} metrics): "
                + ("this test cannot reach p < 0.05 with these targets, so PED's effect cannot be "
                   "resolved by it for any metric" if cannot else
                   f"a resolved gain for {names(gain)}; a resolved loss for {names(loss)}; "
                   f"not resolved for {names(pe.drop(gain.index).drop(loss.index))}") + ".")
    for fam in ("pair", "pair, models"):
        pr = tests[tests.family == fam]
        if len(pr):
            out.append(f"**Metric against metric** ({pr.test.iloc[0]}, paired; Holm over {len(pr)}): "
                       + "; ".join(f"{r.comparison} {r.estimate:+.3f}: {r.verdict}" for r in pr.itertuples())
                       + ".")
    bl = tests[tests.family == "baseline"]
    if len(bl):
        resolved = [f"{r.comparison} ({r.estimate:+.3f})" for r in bl.itertuples() if r.p_holm < 0.05]
        out.append(
            f"**Against the static baseline** `{baseline}` ({bl.test.iloc[0]}, paired per target; "
            f"Holm over {len(bl)}). The baseline is an oracle-style reference, not a competitor: it "
            f"needs every model fine-tuned on the other targets and cannot score a new model. "
            + ("With these targets the test cannot reach p < 0.05, so nothing can be ordered "
               "against it." if bl.min_p.iloc[0] > 0.05 else
               f"Resolved differences: {', '.join(resolved) or 'none'}; the other "
               f"{len(bl) - len(resolved)} comparison(s) cannot be ordered with these data.")
            + " The comparison is paired: every row is scored on the same targets and models.")
    return out


def _cell(tests: pd.DataFrame, family: str, metric: str, perturbation: str) -> str:
    r = tests[(tests.family == family) & (tests.metric == metric) & (tests.perturbation == perturbation)]
    if r.empty:
        return ""
    r = r.iloc[0]
    interval = f" [{r.low:+.3f}, {r.high:+.3f}]" if family != "chance" else ""
    p = f" p={r.p_holm:.2g}" if np.isfinite(r.p_holm) else ""
    return f"{r.estimate:+.3f}{interval}{p}"


def write_bench_readme(out_dir, command: str, scores: pd.DataFrame, groundtruth,
                       *, score_dim: int = SCORE_DIM, n_boot: int = 1000) -> Path:
    """Write the benchmark folder's ``README.md`` from its results (nothing about the last run).

    ``groundtruth`` is the path of ``accuracy.csv``; its folder's ``cells/`` give the seeds.
    ``score_dim`` is the benchmark's (:attr:`potran.bench.runner.Benchmark.score_dim`).
    """
    gt_path = Path(groundtruth)
    accuracy = pd.read_csv(gt_path)
    seeds = seed_table(gt_path.parent)
    table = pd.concat([scores[["model", "target", "metric", "perturbation", "score"]],
                       leave_one_target_out(accuracy)])
    tests = benchmark_tests(table, accuracy, seeds, n_boot=n_boot,
                            correct=image_correctness(gt_path.parent) or None)
    null = random_null(accuracy)
    columns = [("models", NONE), ("chance", NONE), ("models", PED), ("chance", PED), ("PED", PED),
               ("PED, models", PED), ("baseline", NONE)]
    lines = [" | ".join([f"| {metric}", *(_cell(tests, f, metric, p) for f, p in columns)]) + " |"
             for metric in dict.fromkeys(tests.metric)]
    cells = CellStore(out_dir).records()
    n_cells, seconds = len(cells), sum(r.get("feature_seconds", 0) for r in cells)
    score_seconds = scores.groupby("perturbation").seconds.sum()
    rel_text = reliability(seeds).round(3).to_string(index=False)
    words = "\n\n".join(verdict_text(tests))
    header = ("| metric | without PED | vs chance | with PED | vs chance | PED - none (targets) | "
              "PED - none (bootstrap) | - static_loto |\n|---|---|---|---|---|---|---|---|")
    return write_text(Path(out_dir) / "README.md", f"""# Benchmark scores

Made by

```bash
{command}
```

{n_cells} cells ({scores.model.nunique()} models x {scores.target.nunique()} targets),
{len(scores)} scores; the cells record {seconds:.0f} s of feature extraction and
{score_seconds.get(NONE, 0):.0f} s / {score_seconds.get(PED, 0):.0f} s of scoring without /
with PED (summed over the runs that made them; a rerun reuses `cells/` and the feature cache).

Protocol: each model's features of the target's training images (those fine-tuning uses) and of
the general set; features wider than {score_dim} are projected on their {score_dim} leading principal
components fitted on the target's training features (the general set goes through the same
projection); `dim` and `norm` describe the raw features. Scores equal to within a relative
{BENCH_TIE_RTOL:g} are ties before tau_w. `static_loto` ranks the models on a target by their mean
fine-tuning accuracy on the other targets: an oracle-style reference (it needs every model
fine-tuned on the other targets), not a competitor.

## Mean tau_w over the targets, and what it resolves

The same analysis is `potran report SCORES.csv GT.csv` (`potran.bench.significance.benchmark_tests`,
engine `potran.stats`). Columns: mean tau_w with a 95 % crossed-bootstrap interval (one resample
of the models shared by every target, each cell's fine-tuning seeds redrawn, targets and test
images fixed; {n_boot} replicates); the permutation test against chance (the metric's scores in
random order on each target; a random scorer's mean tau_w falls in
[{null['low']:+.3f}, {null['high']:+.3f}]); PED's paired effect per target (exact sign-flip test,
t-interval) and by the crossed bootstrap; the paired difference from `static_loto` per target.
p-values are Holm-adjusted over the metrics of each column.

{header}
{chr(10).join(lines)}

{words}

## Ground-truth reliability per target

`spread`: sd of the models' mean accuracies; `seed_noise`: rms standard error of a model's mean
over seeds; `test_noise`: rms binomial standard error of one test set (shared by the seeds and
paired between models); `ratio*`: spread over each noise; `reliability`: Spearman-Brown
reliability of the k-seed mean (seed noise); `ceiling_low`/`ceiling_high`: the tau_w a metric as
good as another fine-tuning run / a perfect metric can expect (simulated under a Gaussian model
with this many models; expectations, so single targets may land above); `seed_agreement`: mean
tau_w between two single-seed ground truths (one seed, not the k-seed mean: no bound).

```
{rel_text}
```

Files: `scores.csv` (model, target, metric, perturbation, score, seconds, error), `tau.csv` (tau_w per
target and the mean), `cells/` (one JSON per model and target).
""")

