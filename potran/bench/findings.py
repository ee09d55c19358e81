"""What the companion found, computed from its analyses: the book's index shows these sentences.

Three groups, each sentence linked to the page that holds its analysis:

- ``paper``: the paper's own published numbers re-read with the tests of :mod:`potran.stats`
  (:func:`potran.bench.paper_analysis.paper_tests`): PED's gain per metric, the methods against
  chance, the oracle-style static baseline;
- ``benchmark``: the offline benchmark's scores and ground truth
  (:func:`potran.bench.report.benchmark_tests`): which metrics beat chance, whether PED's effect
  is resolved, and what the number of targets allows;
  (:func:`benchmark_findings`), benchmark v3's reliability and PED tests over target families
  (:func:`v3_findings`, from :mod:`potran.bench.v3_report`), and the supplementary's claim (§C,
  its Figure 3) that ranking models by their features along fine-tuning first gets worse, then
  better (:func:`finetuning_finding`, from :func:`finetuning_claim`, the test of the fine-tuning
  page, and :func:`snapshot_claim_scores`, the snapshots' scores cached on disk);
- ``limits``: how reliable the benchmark's ground truth is (Spearman-Brown, per target) and how
  far its fine-tuning runs were from converged (the last epoch's relative change of the loss).

Every number in a sentence is taken from those analyses, never typed.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from potran import stats
from potran.bench import paper_analysis, report, targets_v3
from potran.bench import v3_report as v3
from potran.bench.folders import FEATURE_CACHE
from potran.bench.store import CellStore, write_csv
from potran.perturbations import NONE, PED, metric_label

__all__ = ["Finding", "index_findings", "paper_findings", "benchmark_findings", "v3_findings",
           "finetuning_finding", "limit_findings", "markdown", "finetuning_claim", "finetuning_verdict",
           "snapshot_claim_scores", "families_needed", "CLAIM_METRICS"]

#: the inclusion rule of benchmark v3: a target ranks the models reliably at this reliability
RELIABLE = v3.MAIN_TABLE_RELIABILITY
ALPHA = 0.05
#: the metrics whose snapshot scores test the fine-tuning claim (those the fine-tuning page scores)
CLAIM_METRICS = ("logme", "sfda", "gbc")


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


def _p(p: float) -> str:
    return f"{p:.2g}" if p >= 0.001 else "< 0.001"


def paper_findings(tests: pd.DataFrame | None = None) -> list[Finding]:
    """PED's gain per metric, the methods against chance and the static baseline, on the paper's
    published numbers (``tests``: :func:`~potran.bench.paper_analysis.paper_tests`)."""
    tests = paper_analysis.paper_tests() if tests is None else tests
    page = "notebooks/paper_numbers"
    taus = paper_analysis.published_taus().pivot_table(index="target", columns=["metric", "perturbation"],
                                                       values="weighted_tau")
    out = []
    ped = tests[tests.family == "PED"]
    parts = []
    for r in ped.itertuples():
        gain = taus[(r.metric, PED)] - taus[(r.metric, NONE)]
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
        beat = [metric_label(r.metric, r.perturbation) for r in chance.itertuples() if r.p_holm < ALPHA]
        rest = [metric_label(r.metric, r.perturbation) for r in chance.itertuples() if not r.p_holm < ALPHA]
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
        beat = [metric_label(r.metric, r.perturbation) for r in chance.itertuples()
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


def families_needed(alpha: float = ALPHA) -> int:
    """The fewest units (targets or families) at which the exact sign-flip test, whose smallest
    p is 2 / 2^F (:func:`potran.stats.sign_flip`), can give p below ``alpha``."""
    units = 2
    while 2 / 2 ** units >= alpha:
        units += 1
    return units


def _count(n: int, word: str) -> str:
    plural = word[:-1] + "ies" if word.endswith("y") else word + "s"
    return f"{n} {word if n == 1 else plural}"


def _listed(names: list[str], limit: int = 6) -> str:
    """The names when few, else their number."""
    return f" ({_names(names)})" if 0 < len(names) <= limit else ""


def _v3_protocol(bench, truth, models, role: str, seed: int) -> Finding:
    rel = v3.reliability_table(truth, models, seed=seed)
    main = list(rel[rel.table == "main"].target)
    below = [f"{r.target} {r.reliability:.3f}" for r in rel[rel.table != "main"].itertuples()]
    scored = [t for t in main if t in bench.scored]
    families = sorted({targets_v3.FAMILIES[t] for t in scored})
    text = (f"**Benchmark v3, {truth.protocol} ({role}).** {len(rel)} of {len(targets_v3.NAMES)} "
            f"targets have this ground truth complete")
    if len(rel):
        text += (f". Main table (Spearman–Brown reliability ≥ {RELIABLE}): "
                 f"{_count(len(main), 'target')}{_listed(main)}"
                 + (f"; below the rule: {_names(below)}" if 0 < len(below) <= 6 else
                    f"; below the rule: {len(below)}" if below else "")
                 + f"; scored by every metric: {_count(len(scored), 'main-table target')} from "
                 f"{_count(len(families), 'family')}")
    needed = families_needed()
    if len(families) < 2:
        return Finding("benchmark", text + (
            f". PED's effect over targets like these is not tested yet: the deciding test, the exact "
            f"sign-flip over the per-family means, needs two families to run and {needed} to give "
            f"p < {ALPHA}."), "notebooks/benchmark_v3")
    tests = v3.tests_table(bench.scores, truth, models, scored, resample=False, seed=seed)
    shown = v3.ped_table(tests).set_index("metric")
    published = tests[tests.family == "PED, families"]
    others = tests[tests.family == "PED, families (others)"]
    parts = [f"{r.metric} {shown.loc[r.metric, 'over families [95 % CI]']}, "
             f"p = {shown.loc[r.metric, 'p, families (Holm)']}" for r in published.itertuples()]

    def resolved(rows, sign):
        return [r.metric for r in rows.itertuples() if r.p_holm < ALPHA and np.sign(r.estimate) == sign]

    min_p = float(published.min_p.iloc[0]) if len(published) else 2 / 2 ** len(families)
    lower = resolved(published, -1) + resolved(others, -1)
    higher = resolved(published, 1) + resolved(others, 1)
    rest = len(published) + len(others) - len(lower) - len(higher)
    if min_p >= ALPHA:
        verdict = (f"with {_count(len(families), 'family')} the test cannot give p below {min_p:.3g}, "
                   f"so nothing can be resolved yet ({needed} families are needed)")
    else:
        verdict = (f"resolved: PED lowers τ_w for {_names(lower)}"
                   + (f", raises it for {_names(higher)}" if higher else "")
                   + f"; {_count(rest, 'metric')} not resolved")
    return Finding("benchmark", text + (
        f". PED minus none over the per-family means (exact sign-flip over "
        f"{_count(len(families), 'family')}, Holm over the {len(published)} metrics published with PED "
        f"and separately over the {len(others)} others): {'; '.join(parts)}; {verdict}."),
        "notebooks/benchmark_v3")


def v3_findings(bench=None, models=None, *, seed: int = 0) -> list[Finding]:
    """Benchmark v3 as far as its committed data go, one finding per ground-truth protocol.

    For fine-tuning (the main protocol) and the linear probe: how many targets are complete,
    how many reach the reliability rule (:func:`potran.bench.v3_report.reliability_table`) and
    are scored, and PED's effect over the per-family means on them
    (:func:`potran.bench.v3_report.tests_table` without resampling: the test that decides on
    the benchmark v3 page, its numbers as :func:`potran.bench.v3_report.ped_table` shows them).
    With fewer than two scored families in a main table it says what the test would need.

    Parameters
    ----------
    bench : potran.bench.v3_report.Benchmark, optional
        Default: :func:`potran.bench.v3_report.load` of ``data/bench_v3``.
    models : list of str, optional
        Default: every zoo model.
    """
    from potran.bench import zoo
    from potran.resources import data_path

    models = list(zoo.names() if models is None else models)
    bench = v3.load(data_path("bench_v3"), models) if bench is None else bench
    return [_v3_protocol(bench, bench.ft, models, "the main protocol", seed),
            _v3_protocol(bench, bench.lp, models, "the secondary protocol", seed)]


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


def index_findings(*, seed: int = 0) -> list[Finding]:
    """Every finding of the book's index, from the committed data (``data/``): the paper's
    numbers (:func:`paper_findings`), the landed benchmark's tests (:func:`benchmark_findings`
    of :func:`potran.bench.report.benchmark_tests`, with the leave-one-target-out static
    baseline), the fine-tuning claim (:func:`finetuning_finding`, on
    :func:`snapshot_claim_scores`), benchmark v3 (:func:`v3_findings`) and the limits
    (:func:`limit_findings`); each with its page's default settings."""
    from potran.resources import data_path

    groundtruth = data_path("groundtruth")
    scores = pd.read_csv(data_path("bench", "scores.csv"))
    accuracy = pd.read_csv(groundtruth / "accuracy.csv")
    seeds = report.seed_table(groundtruth)
    tests = report.benchmark_tests(pd.concat([scores, report.leave_one_target_out(accuracy)]),
                                   accuracy, seeds)
    claim = finetuning_claim(snapshot_claim_scores(groundtruth), accuracy, seeds, seed=seed)
    return (paper_findings() + benchmark_findings(tests) + [finetuning_finding(claim)]
            + v3_findings(seed=seed) + limit_findings(seeds, groundtruth))


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


def finetuning_finding(claim: pd.DataFrame) -> Finding:
    """The fine-tuning page's verdict (:func:`finetuning_verdict`) in one finding: for which
    metrics the claim holds, the shape each metric shows, and what the test over targets can
    resolve (``claim``: :func:`finetuning_claim`)."""
    parts = _claim_parts(claim)
    against = [f"{c['metric']} {', '.join(c['against'])}" for c in parts if c["against"]]
    shapes = "; ".join(f"{c['metric']} first {c['shape']}" for c in parts)
    return Finding("benchmark", (
        f"**First worse, then better?** The supplementary's claim (§C, its Figure 3), tested on the "
        f"fine-tuning snapshots of the offline ground truth (the mean τ_w over "
        f"{int(claim.n_targets.max())} targets; crossed bootstrap over models and seeds, Holm over "
        f"{claim.metric.nunique()} metrics per part): supported for "
        f"{_names([c['metric'] for c in parts if c['holds']])}. Seen: {shapes}; "
        + (f"resolved against the claim: {'; '.join(against)}. " if against else
           "no change is resolved either way. ") + _over_targets(claim)), "notebooks/finetuning")


def _digest(paths, extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for path in paths:
        h.update(Path(path).name.encode())
        h.update(Path(path).read_bytes())
    return h.hexdigest()[:20]


def snapshot_claim_scores(groundtruth_dir, metrics=CLAIM_METRICS, *, cache_dir=None) -> pd.DataFrame:
    """The scores of every stored snapshot of ``groundtruth_dir``
    (:func:`potran.bench.snapshots.snapshot_scores` of every cell with a snapshot and an
    accuracy, no PED), cached as a CSV in ``cache_dir`` (default: ``.cache/snapshot-scores``
    beside the feature cache) under a sha256 of the snapshot files, the cell records, the
    metrics and the source that scores them (``potran.metrics``, ``potran.scoring`` and the
    modules it calls, this reader), so that the index does not score them again on every build."""
    import potran
    from potran.bench.snapshots import available_cells, load_snapshot, snapshot_scores

    root = Path(groundtruth_dir)
    cells = available_cells(root, accuracy=pd.read_csv(root / "accuracy.csv"))
    files = [root / sub / f"{m}__{t}.{ext}" for m, t in cells
             for sub, ext in (("snapshots", "npz"), ("cells", "json"))]
    package = Path(potran.__file__).parent
    source = sorted((package / "metrics").glob("*.py")) + [
        package / name for name in ("scoring.py", "params.py", "backend.py", "validation.py",
                                    "bench/snapshots.py")]
    key = _digest(files + source, ",".join(metrics))
    cache = Path(FEATURE_CACHE).parent / "snapshot-scores" if cache_dir is None else Path(cache_dir)
    path = cache / f"{key}.csv"
    if not path.is_file():
        write_csv(path, snapshot_scores((load_snapshot(root, *cell) for cell in cells), list(metrics)))
    return pd.read_csv(path)
