"""What a benchmark's results can resolve: the tests of :mod:`potran.stats` on score tables.

All functions take tidy tables:

- ``scores``: model, target, metric, perturbation, score (``potran bench``'s ``scores.csv``);
- ``accuracy``: model, target, test_acc (the ground truth's ``accuracy.csv``, or the paper's
  tables);
- ``seeds``: model, target, seed, test_acc, n_test -- one row per fine-tuning run
  (:func:`seed_table`), the ground truth's noise.

:func:`benchmark_tests` gives every test a page or the command line ``potran report`` shows,
one record per comparison (:meth:`potran.stats.Result.record`), with Holm's correction over the
metrics tested together and a plain-language verdict; :func:`tau_intervals` is the crossed
bootstrap alone (:func:`potran.stats.crossed_bootstrap`: one model resample shared by every
target, each cell's seeds redrawn), every metric on the same replicates, so differences are
paired; :func:`compare` is the paired difference between two perturbations of each metric
(e.g. ``"ped"`` against ``"none"``) on those replicates.
"""
from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from .. import stats
from ..evaluation import merge_ties
from ..perturbations import NONE, PED, metric_label, title
from .reduction import SCORE_DIM
from .settings import seed_table  # the ground truth's reader lives with the settings
from .store import CellStore, write_text
from .tau import BENCH_TIE_RTOL

__all__ = ["seed_table", "image_correctness", "reliability", "leave_one_target_out", "Design", "design",
           "tau_intervals", "compare", "random_null", "benchmark_tests", "add_holm", "verdict_text",
           "write_bench_readme", "TEST_COLUMNS", "SETTINGS", "reliability_sentence", "resolve",
           "interval_summary", "resolution_text"]

#: Columns of :func:`benchmark_tests` (and :func:`potran.bench.paper_analysis.paper_tests`).
#: ``perturbation`` is the row's (or, for a comparison of two perturbations, the compared one's)
#: and ``reference`` the one it is compared with (None for the other rows).
TEST_COLUMNS = ["family", "metric", "perturbation", "reference", "comparison", "estimate", "low", "high",
                "p_value", "p_holm", "test", "min_p", "n", "resampled", "population", "verdict"]

#: What each family of tests asks (the first words of its verdicts).
FAMILIES = {
    "chance": "against chance",
    "targets": "mean over targets",
    "models": "crossed bootstrap",
    "PED": "PED - none, per target",
    "PED, models": "PED - none, crossed bootstrap",
    "SA": "SA - none, per target",
    "SA, models": "SA - none, crossed bootstrap",
    "baseline": "metric - baseline, per target",
    "pair": "metric - metric, per target",
    "pair, models": "metric - metric, crossed bootstrap",
}


def image_correctness(groundtruth_dir) -> dict:
    """``{(model, target): bool (seeds, n_test)}`` for the cells that record per-image correctness.

    Cells made before it was recorded are left out (:func:`potran.bench.finetune.test_correctness`).
    """
    from .finetune import test_correctness

    out = {}
    for r in CellStore(groundtruth_dir).records():
        if r.get("runs") and all("test_correct" in run for run in r["runs"]):
            out[(r["model"], r["target"])] = test_correctness(r)
    return out


def reliability(seeds: pd.DataFrame) -> pd.DataFrame:
    """Per target: the reliability of the k-seed mean ground truth (:func:`potran.stats.reliability`).

    Columns: n_models, n_seeds, spread, seed_noise, test_noise, noise, ratio (spread / noise),
    ratio_seed, ratio_test, reliability_1 (one seed), reliability (the k-seed mean,
    Spearman-Brown), reliability_new_test, ceiling_low / ceiling_high (the range of tau_w a metric
    can expect against this ground truth: a metric as good as another fine-tuning run reaches
    about ``ceiling_low``, a perfect one about ``ceiling_high``), and seed_agreement (mean tau_w
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


def leave_one_target_out(accuracy: pd.DataFrame, acc: str = "test_acc",
                         target: str = "target") -> pd.DataFrame:
    """The static baseline: score a model on a target by its mean accuracy on the other targets.

    An oracle-style reference, not a competitor: it needs every candidate model fine-tuned on
    the other targets (the cost transferability metrics exist to avoid) and cannot score a model
    that has not been fine-tuned. It looks at no image of the target, but targets of one kind
    (e.g. glyph tasks) share what they reward. Returns a score table (model, target,
    metric="static_loto", perturbation="none", score).
    """
    wide = accuracy.pivot(index="model", columns=target, values=acc)
    rows = []
    for t in wide.columns:
        others = wide.drop(columns=t).mean(axis=1)
        rows += [{"model": m, "target": t, "metric": "static_loto", "perturbation": NONE, "score": v}
                 for m, v in others.items()]
    return pd.DataFrame(rows)


class Design:
    """A benchmark as arrays: one model list crossed with the targets.

    Attributes: ``models``, ``targets``; ``truths`` (per target, the M accuracies, NaN where
    missing); ``seed_accs`` (per target an (M, K) array of per-seed accuracies, or None);
    ``scores`` ({(metric, perturbation): per-target score arrays, ties within ``tie_rtol`` merged});
    ``image_correct`` (per target an (M, K, N) array of per-image correctness, or None where no
    cell records it; None without ``correct``).
    """

    def __init__(self, scores: pd.DataFrame, accuracy: pd.DataFrame, seeds: pd.DataFrame | None,
                 tie_rtol: float = BENCH_TIE_RTOL, correct: dict | None = None):
        self.targets = sorted(set(accuracy.target) & set(scores.target))
        self.models = sorted(set(accuracy[accuracy.target.isin(self.targets)].model)
                             & set(scores.model))
        acc = accuracy.pivot(index="model", columns="target", values="test_acc")
        acc = acc.reindex(index=self.models, columns=self.targets)
        self.truths = [acc[t].to_numpy(float) for t in self.targets]
        self.seed_accs = None
        if seeds is not None and len(seeds):
            k = int(seeds.groupby(["model", "target"]).size().max())
            self.seed_accs = []
            for t in self.targets:
                grp = seeds[seeds.target == t].copy()
                grp["i"] = grp.groupby("model").cumcount()
                wide = grp.pivot(index="model", columns="i", values="test_acc")
                self.seed_accs.append(wide.reindex(index=self.models, columns=range(k)).to_numpy(float))
        self.image_correct = None
        if correct and self.seed_accs is not None:
            self.image_correct = [self._correct_of(t, correct, k) for t in self.targets]
        self.scores = {}
        for (metric, perturbation), grp in scores.groupby(["metric", "perturbation"], sort=False):
            rows = []
            for t in self.targets:
                s = grp[grp.target == t].set_index("model")["score"].reindex(self.models)
                s = s.to_numpy(float, copy=True)
                ok = np.isfinite(s)
                s[ok] = merge_ties(s[ok], tie_rtol)
                rows.append(s)
            self.scores[(metric, perturbation)] = rows

    def _correct_of(self, target, correct: dict, k: int):
        cells = {m: correct[(m, target)] for m in self.models if (m, target) in correct}
        if not cells:
            return None
        sizes = {c.shape[1] for c in cells.values()}
        if len(sizes) > 1:
            raise ValueError(f"cells of {target} record correctness on different test sets {sorted(sizes)}")
        out = np.full((len(self.models), k, sizes.pop()), np.nan)
        for i, m in enumerate(self.models):
            if m in cells:
                out[i, :len(cells[m])] = cells[m]
        return out

    def per_target(self, key) -> np.ndarray:
        """tau_w of ``key`` on each target (NaN where fewer than two models are scored)."""
        out = []
        for s, g in zip(self.scores[key], self.truths):
            ok = np.isfinite(s) & np.isfinite(g)
            out.append(stats.weighted_tau_rows(s, g, ok)[0] if ok.sum() >= 2 else np.nan)
        return np.asarray(out)


def design(scores, accuracy, seeds=None, tie_rtol: float = BENCH_TIE_RTOL, correct=None) -> Design:
    """:class:`Design` of tidy tables (module docstring) and :func:`image_correctness`."""
    return Design(scores, accuracy, seeds, tie_rtol, correct)


def _resampled(d: Design) -> str:
    images = d.image_correct is not None and any(c is not None for c in d.image_correct)
    return ("models (one resample shared by all targets)"
            + (" and each cell's fine-tuning seeds" if d.seed_accs is not None else "")
            + ("; test images (one draw per target shared by all models); targets fixed" if images
               else "; targets and test images fixed"))


def _population(d: Design) -> str:
    return (f"these {len(d.targets)} targets; other models like these"
            + (", other fine-tuning seeds" if d.seed_accs is not None else ""))


def _replicates(d: Design, n_boot: int, seed: int):
    return stats.crossed_bootstrap(d.scores, d.truths, d.seed_accs, image_correct=d.image_correct,
                                   n_boot=n_boot, seed=seed)


def tau_intervals(scores: pd.DataFrame, accuracy: pd.DataFrame, seeds: pd.DataFrame | None = None,
                  *, n_boot: int = 1000, level: float = 0.95, seed: int = 0,
                  tie_rtol: float = BENCH_TIE_RTOL, correct: dict | None = None) -> pd.DataFrame:
    """Mean tau_w over targets of every (metric, perturbation) with its crossed-bootstrap interval.

    :func:`potran.stats.crossed_bootstrap`: the targets are held fixed; each replicate redraws
    the models once for all targets and (with ``seeds``) each cell's seeds. Every key is
    computed on the same replicates, so the differences (:func:`compare`) are paired.

    ``correct`` (:func:`image_correctness`) adds the test images, redrawn once per replicate
    for all models.

    Returns
    -------
    DataFrame
        metric, perturbation, mean_tau, low, high.
    """
    d = design(scores, accuracy, seeds, tie_rtol, correct)
    columns = ["metric", "perturbation", "mean_tau", "low", "high"]
    if not d.truths:  # no target has both scores and a ground truth: nothing to estimate
        return pd.DataFrame(columns=columns)
    est, reps = _replicates(d, n_boot, seed)
    rows = []
    for key, r in reps.items():
        lo = hi = np.nan
        if np.isfinite(r).any():
            res = stats.bootstrap(est[key], r, comparison=metric_label(*key), resampled=_resampled(d),
                                  population=_population(d), level=level)
            lo, hi = res.low, res.high
        rows.append({"metric": key[0], "perturbation": key[1], "mean_tau": est[key], "low": lo,
                     "high": hi})
    return pd.DataFrame(rows, columns=columns)


def _paired(d: Design, est: dict, reps: dict, a, b, level: float) -> stats.Result | None:
    """The crossed-bootstrap difference of mean tau_w, key ``a`` minus key ``b`` (None when no
    replicate is finite)."""
    diff = reps[a] - reps[b]
    if not np.isfinite(diff).any():
        return None
    return stats.bootstrap(est[a] - est[b], diff, comparison=f"{metric_label(*a)} - {metric_label(*b)}",
                           resampled=_resampled(d), population=_population(d), level=level)


def compare(scores: pd.DataFrame, accuracy: pd.DataFrame, seeds: pd.DataFrame | None = None, *,
            perturbation: str, reference: str = NONE, n_boot: int = 1000, level: float = 0.95,
            seed: int = 0, tie_rtol: float = BENCH_TIE_RTOL, correct: dict | None = None) -> pd.DataFrame:
    """Mean tau_w of each metric with ``perturbation`` minus with ``reference``, paired.

    The difference of the two mean tau_w over targets on the same crossed-bootstrap replicates
    as :func:`tau_intervals` (same arguments; the same ``seed`` gives the same replicates): its
    interval and the two-sided bootstrap p of no difference (:func:`potran.stats.bootstrap`).
    Only metrics scored with both are compared.

    Returns
    -------
    DataFrame
        metric, perturbation, reference, delta, low, high, p_value (NaN interval and p where
        no replicate is finite).
    """
    columns = ["metric", "perturbation", "reference", "delta", "low", "high", "p_value"]
    scored = set(scores["perturbation"])
    for p in (perturbation, reference):
        if p not in scored:
            raise ValueError(f"no scores with perturbation {p!r}; scored: {sorted(scored)}")
    d = design(scores, accuracy, seeds, tie_rtol, correct)
    if not d.truths:
        return pd.DataFrame(columns=columns)
    est, reps = _replicates(d, n_boot, seed)
    rows = []
    for metric in dict.fromkeys(m for m, _ in reps):
        a, b = (metric, perturbation), (metric, reference)
        if a not in reps or b not in reps:
            continue
        res = _paired(d, est, reps, a, b, level)
        rows.append({"metric": metric, "perturbation": perturbation, "reference": reference,
                     "delta": est[a] - est[b], "low": np.nan if res is None else res.low,
                     "high": np.nan if res is None else res.high,
                     "p_value": np.nan if res is None else res.p_value})
    return pd.DataFrame(rows, columns=columns)


def random_null(accuracy: pd.DataFrame, *, n_draws: int = 2000, level: float = 0.95,
                seed: int = 0) -> dict:
    """The band of the mean tau_w over targets of a scorer that ranks at random (distinct scores).

    The null of :func:`potran.stats.chance_test` on these targets and models. Returns
    ``{"mean", "low", "high", "draws"}``; the band is where chance falls, not a test: a
    metric's p-value against chance is in :func:`benchmark_tests` (family ``chance``).
    """
    truths = [grp.test_acc.to_numpy(float) for _, grp in accuracy.groupby("target", sort=True)]
    res = stats.chance_test([None] * len(truths), truths, n_draws=n_draws, seed=seed, level=level)
    return {"mean": float(res.distribution.mean()), "low": res.low, "high": res.high,
            "draws": res.distribution}


def _row(family: str, metric: str, perturbation, res: stats.Result, reference=None) -> dict:
    return {"family": family, "metric": metric, "perturbation": perturbation, "reference": reference,
            **res.record()}


def add_holm(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``p_holm`` (Holm over the rows of each family) and a plain ``verdict`` per row."""
    table = table.copy()
    table["p_holm"] = np.nan
    for _, idx in table.groupby("family", sort=False).groups.items():
        table.loc[idx, "p_holm"] = stats.holm(table.loc[idx, "p_value"].to_numpy(float))
    table["verdict"] = [_verdict(r) for r in table.itertuples()]
    return table[TEST_COLUMNS]


def _verdict(r) -> str:
    """Plain words: resolved or not, in which direction, or why it cannot be."""
    p = r.p_holm
    if r.family == "models":
        return "interval only (its test is the chance row)"
    if not np.isfinite(p):
        return "not computable"
    if r.min_p > 0.05:
        return f"cannot be resolved by this test (smallest possible p {r.min_p:.3g} > 0.05)"
    if p >= 0.05:
        return "not resolved (compatible with no difference)"
    if r.family == "chance":
        return "better than chance" if r.estimate > r.low + (r.high - r.low) / 2 else "worse than chance"
    return "resolved: " + ("positive" if r.estimate > 0 else "negative")


def benchmark_tests(scores: pd.DataFrame, accuracy: pd.DataFrame, seeds: pd.DataFrame | None = None,
                    *, baseline: str | None = "static_loto", pairs=(), n_boot: int = 1000,
                    n_draws: int = 2000, level: float = 0.95, seed: int = 0,
                    tie_rtol: float = BENCH_TIE_RTOL, correct: dict | None = None) -> pd.DataFrame:
    """Every test of a benchmark's scores, one row each (:data:`TEST_COLUMNS`).

    Families (Holm's correction within each): ``chance`` (:func:`potran.stats.chance_test`,
    ``low``/``high`` are the random scorer's band), ``targets`` (mean tau_w over targets,
    :func:`potran.stats.sign_flip` with its t-interval), ``models`` (mean tau_w, crossed
    bootstrap), for each perturbation other than ``"none"`` its family and the family's
    ``, models`` half (``PED`` and ``PED, models``, ``SA`` ..., or a setting's label: the metric
    with the perturbation minus without, per-target sign-flip and crossed bootstrap; ``reference``
    ``"none"``), ``baseline`` (each metric minus ``baseline``, per-target sign-flip), and for each
    ``((metric, perturbation), (metric, perturbation))`` of ``pairs``, ``pair`` and ``pair, models``
    (first minus second, per-target sign-flip and crossed bootstrap). ``scores`` should hold the
    baseline's rows (e.g. :func:`leave_one_target_out`); ``correct`` (:func:`image_correctness`)
    adds the test images to the crossed bootstrap.
    """
    d = design(scores, accuracy, seeds, tie_rtol, correct)
    if not d.truths:  # no target has both scores and a ground truth
        return pd.DataFrame(columns=TEST_COLUMNS)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        est, reps = _replicates(d, n_boot, seed)
        per_target = {key: d.per_target(key) for key in d.scores}
    resampled, population = _resampled(d), _population(d)
    for key, rows_s in d.scores.items():
        metric, perturbation = key
        name = metric_label(metric, perturbation)
        ok = np.isfinite(per_target[key])
        if ok.sum() == 0:
            continue
        rows.append(_row("chance", metric, perturbation, stats.chance_test(
            [s for s, o in zip(rows_s, ok) if o], [g for g, o in zip(d.truths, ok) if o],
            comparison=f"{name} vs chance", n_draws=n_draws, seed=seed, level=level)))
        if ok.sum() >= 2:
            rows.append(_row("targets", metric, perturbation, stats.sign_flip(
                per_target[key][ok], comparison=f"{name}: mean tau_w", level=level)))
        if np.isfinite(reps[key]).any():  # an interval only: the chance row is its test
            boot = stats.bootstrap(est[key], reps[key], comparison=f"{name}: mean tau_w",
                                   resampled=resampled, population=population, level=level)
            rows.append(_row("models", metric, perturbation, replace(boot, p_value=float("nan"),
                                                                     min_p=float("nan"))))
    for p in dict.fromkeys(p for _, p in d.scores if p != NONE):
        family = title(p)
        for metric in dict.fromkeys(m for m, _ in d.scores):
            on, off = (metric, p), (metric, NONE)
            if off not in d.scores or on not in d.scores:
                continue
            diff = per_target[on] - per_target[off]
            if np.isfinite(diff).sum() >= 2:
                rows.append(_row(family, metric, p, stats.sign_flip(
                    diff[np.isfinite(diff)], comparison=f"{metric_label(*on)} - {metric}", level=level),
                    NONE))
            boot = _paired(d, est, reps, on, off, level)
            if boot is not None:
                rows.append(_row(f"{family}, models", metric, p, boot, NONE))
    for a, b in pairs:
        a, b = tuple(a), tuple(b)
        missing = [k for k in (a, b) if k not in d.scores]
        if missing:
            raise ValueError(f"no scores for {missing}; scored: {sorted(d.scores)}")
        name = f"{metric_label(*a)} - {metric_label(*b)}"
        diff = per_target[a] - per_target[b]
        if np.isfinite(diff).sum() >= 2:
            rows.append(_row("pair", a[0], a[1], stats.sign_flip(
                diff[np.isfinite(diff)], comparison=name, level=level)))
        boot = _paired(d, est, reps, a, b, level)
        if boot is not None:
            rows.append(_row("pair, models", a[0], a[1], boot))
    base = (baseline, NONE)
    if baseline is not None and base in d.scores:
        for key in d.scores:
            if key[0] == baseline:
                continue
            diff = per_target[key] - per_target[base]
            if np.isfinite(diff).sum() >= 2:
                rows.append(_row("baseline", key[0], key[1], stats.sign_flip(
                    diff[np.isfinite(diff)], comparison=f"{metric_label(*key)} - {baseline}", level=level)))
    return add_holm(pd.DataFrame(rows))


def verdict_text(tests: pd.DataFrame, *, baseline: str = "static_loto") -> list[str]:
    """Paragraphs of plain words on what the tests resolve and what they cannot.

    Built from :func:`benchmark_tests` (or :func:`potran.bench.paper_analysis.paper_tests`)
    rows; every paragraph names its test and uses Holm-adjusted p-values at 0.05.
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
            f"better than chance at p < 0.05: "
            f"{names(good)}; worse than chance: {names(bad)}; not resolved from chance: {names(rest)}.")
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


def _fmt(r) -> str:
    return f"{r.mean_tau:+.3f} [{r.low:+.3f}, {r.high:+.3f}]"


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
    rel = reliability(seeds)
    loto = leave_one_target_out(accuracy)
    table = pd.concat([scores[["model", "target", "metric", "perturbation", "score"]], loto])
    tests = benchmark_tests(table, accuracy, seeds, n_boot=n_boot,
                            correct=image_correctness(gt_path.parent) or None)
    null = random_null(accuracy)
    lines = []
    for metric in dict.fromkeys(tests.metric):
        lines.append(" | ".join([
            f"| {metric}", _cell(tests, "models", metric, NONE), _cell(tests, "chance", metric, NONE),
            _cell(tests, "models", metric, PED), _cell(tests, "chance", metric, PED),
            _cell(tests, "PED", metric, PED), _cell(tests, "PED, models", metric, PED),
            _cell(tests, "baseline", metric, NONE)]) + " |")
    cells = CellStore(out_dir).records()
    n_cells, seconds = len(cells), sum(r.get("feature_seconds", 0) for r in cells)
    score_seconds = scores.groupby("perturbation").seconds.sum()
    rel_text = rel.round(3).to_string(index=False)
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

The same analysis is `potran report SCORES.csv GT.csv` (`potran.bench.report.benchmark_tests`,
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


# --- what a benchmark's scores resolve (notebooks/main_table.py) ---

#: The name of each kind of interval row: a perturbation, or PED's paired difference from none.
SETTINGS = {NONE: "without PED", PED: "with PED", "delta": "with − without"}


def reliability_sentence(rel: pd.DataFrame) -> str | None:
    """One clause per target of :func:`reliability` (indexed by target): the k-seed mean's
    reliability, the noise ceiling of tau_w and the spread over each noise; None without two seeds."""
    if not rel.reliability.notna().any():
        return None
    return ("Reliability of the k-seed mean ground truth: "
            + "; ".join(f"{t} {r.reliability:.2f} (expected τ_w of a metric between "
                        f"{r.ceiling_low:.2f} and {r.ceiling_high:.2f}; spread {r.ratio_seed:.1f} times "
                        f"the seed noise, {r.ratio_test:.1f} times the test-set noise)"
                        for t, r in rel.iterrows()) + ".")


def resolve(scores: pd.DataFrame, accuracy_all: pd.DataFrame, accuracy: pd.DataFrame, seeds, usable, *,
            n_boot: int = 1000, n_null: int = 2000, level: float = 0.95, seed: int = 0):
    """Every interval and test of a benchmark's scores on its ``usable`` targets (those with two
    models with ``accuracy``): the metrics and the static baseline (:func:`leave_one_target_out`
    of ``accuracy_all``) with :func:`tau_intervals`, PED's paired effect (:func:`compare`), every
    :func:`benchmark_tests` row and the band of a random ranking (:func:`random_null`).
    Returns ``(intervals, tests, null)``; ``intervals`` has a ``setting`` (:data:`SETTINGS`) and
    a ``computable`` column; without usable targets all are empty and ``null`` is None."""
    if usable:
        static = leave_one_target_out(accuracy_all)
        static = static[static.target.isin(usable)]
        pool = pd.concat([scores[["model", "target", "metric", "perturbation", "score"]], static],
                         ignore_index=True)
        with warnings.catch_warnings():  # a metric without any finite tau_w has an all-NaN interval
            warnings.simplefilter("ignore", RuntimeWarning)
            intervals = tau_intervals(pool, accuracy, seeds, n_boot=n_boot, level=level, seed=seed)
            effect = compare(pool, accuracy, seeds, perturbation=PED, n_boot=n_boot, level=level, seed=seed)
            intervals = pd.concat([intervals, effect.rename(columns={"delta": "mean_tau"})],
                                  ignore_index=True)
            tests = benchmark_tests(
                pool,
                accuracy,
                seeds,
                baseline="static_loto" if len(usable) > 1 else None,
                n_boot=n_boot,
                n_draws=n_null,
                level=level,
                seed=seed,
            )
        null = random_null(accuracy, n_draws=n_null, level=level, seed=seed)
    else:
        intervals = pd.DataFrame(columns=["metric", "perturbation", "reference", "mean_tau", "low", "high"])
        tests, null = pd.DataFrame(columns=TEST_COLUMNS), None
    intervals["setting"] = [
        SETTINGS["delta" if isinstance(r, str) else p]
        for p, r in zip(intervals.perturbation, intervals.reference)
    ]
    intervals["computable"] = np.isfinite(intervals.mean_tau.astype(float))
    return intervals, tests, null


def interval_summary(intervals: pd.DataFrame, tests: pd.DataFrame, metric_order) -> pd.DataFrame:
    """One row per metric: its intervals without and with PED and PED's change ("estimate [low,
    high]", "–" if missing), and the Holm p-values against chance and of PED's effect."""
    from .book import interval

    def p_of(family, metric, perturbation):
        r = tests[(tests.family == family) & (tests.metric == metric) & (tests.perturbation == perturbation)]
        return r.p_holm.iloc[0] if len(r) else np.nan

    ours = intervals.set_index(["metric", "setting"])
    summary = pd.DataFrame(
        {
            metric: {
                **{
                    name: (
                        interval(
                            ours.loc[(metric, name)].mean_tau,
                            ours.loc[(metric, name)].low,
                            ours.loc[(metric, name)].high,
                        )
                        if (metric, name) in ours.index
                        else "–"
                    )
                    for name in SETTINGS.values()
                },
                "p vs chance (without)": p_of("chance", metric, NONE),
                "p vs chance (with)": p_of("chance", metric, PED),
                "p PED (targets)": p_of("PED", metric, PED),
                "p PED (bootstrap)": p_of("PED, models", metric, PED),
            }
            for metric in metric_order
        }
    ).T
    summary.index.name = "metric"
    p_columns = [c for c in summary.columns if c.startswith("p ")]
    return summary.astype({c: float for c in p_columns})


def _listing(items) -> str:
    items = list(items)
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1] if items else "none"


def resolution_text(
    intervals: pd.DataFrame,
    tests: pd.DataFrame,
    null: dict,
    accuracy: pd.DataFrame,
    *,
    n_null: int,
    level: float,
) -> str:
    """What the benchmark resolves, in words: the band of chance, :func:`verdict_text`, and the
    rows no tau_w can be computed for."""
    missing = [
        f"{r.metric} + PED" if r.perturbation == PED else r.metric
        for r in intervals.itertuples()
        if not r.computable and r.setting != SETTINGS["delta"]
    ]
    sizes = accuracy.groupby("target").model.nunique()
    text = [
        f"On {accuracy.target.nunique()} target(s) with "
        + (f"{sizes.min()}" if sizes.min() == sizes.max() else f"{sizes.min()} to {sizes.max()}")
        + f" models each, a scorer that ranks at random reaches a mean τ_w in "
        f"[{null['low']:+.3f}, {null['high']:+.3f}] ({level:.0%} of {n_null} draws); the tests "
        f"below decide, not this band."
    ]
    text += verdict_text(tests)
    if missing:
        text.append(f"**Not computable** (no target with two distinct scores): {_listing(missing)}.")
    return "\n\n".join(text)
