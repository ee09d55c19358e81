"""``potran report``: what the paper's numbers (``--paper``, :func:`potran.bench.paper_analysis.paper_tests`)
or a table of scores against a ground truth (:func:`potran.bench.significance.benchmark_tests`, seeds
and per-image correctness from ``GT.csv``'s folder's ``cells/`` or ``--cells``) can resolve: a table
or ``--json`` records (:data:`potran.bench.significance.TEST_COLUMNS`), then the verdicts in words
(:func:`potran.bench.readme.verdict_text`)."""
from __future__ import annotations

import json
import math
from functools import partial
from pathlib import Path

from potran.cli.options import UsageError, metric_list, number, read_table, records, usage_errors
from potran.perturbations import KINDS, NONE

__all__ = ["add_report_parser", "run_report", "format_table"]


def add_report_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "report", help="tests and intervals: the paper's numbers (--paper) or SCORES.csv GT.csv",
        description="Every test of potran.stats on a benchmark: against chance (permutation), over "
        "targets (exact sign-flip, t-interval), PED vs none, metric vs static baseline, Holm-adjusted.")
    p.add_argument("scores", nargs="?", help="tidy scores: model, target, metric, perturbation, score")
    p.add_argument("groundtruth", nargs="?", help="accuracy table: model, target, test_acc")
    p.add_argument("--paper", action="store_true", help="the paper's published numbers instead")
    p.add_argument("--setting", metavar="NAME", help="the committed scores and ground truth of a setting of "
                   "potran.bench.settings (v3), instead of SCORES.csv GT.csv")
    p.add_argument("--cells", help="ground-truth cells folder with the seeds (default: GT.csv's "
                   "folder's cells/, when it exists; none: the ground truth is held fixed)")
    p.add_argument("--no-baseline", action="store_true",
                   help="leave out the static leave-one-target-out baseline")
    p.add_argument("--metric", action="append", default=[], metavar="NAMES",
                   help="only these metrics' rows of SCORES.csv, repeatable or comma-separated "
                   "(default: all)")
    p.add_argument("--perturbation", action="append", default=[], metavar="LABEL",
                   help="only the rows of these perturbation labels (none, ped, ...), repeatable "
                   "(default: all)")
    p.add_argument("--compare", action="append", default=[], metavar="A,B",
                   help="also test metric A minus metric B, paired (e.g. gbc+PED,nleep); repeatable")
    p.add_argument("--n-boot", type=int, default=1000, help="crossed-bootstrap replicates")
    p.add_argument("--n-draws", type=int, default=2000, help="draws of the random scorer")
    p.add_argument("--level", type=float, default=0.95, help="coverage of the intervals")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print a JSON list of records")
    p.set_defaults(func=run_report)


def _tests(args):
    import pandas as pd

    from potran.bench import finetuned, paper_analysis, settings, significance

    if args.paper:
        if args.scores or args.groundtruth or args.compare or args.metric or args.perturbation:
            raise UsageError("--paper takes no SCORES.csv / GT.csv / --compare / --metric / --perturbation")
        return paper_analysis.paper_tests(n_draws=args.n_draws, seed=args.seed, level=args.level)
    if args.setting:
        if args.scores or args.groundtruth:
            raise UsageError("--setting takes no SCORES.csv / GT.csv: it reads the setting's committed files")
        args.scores, args.groundtruth = _setting_files(args.setting)
    if not (args.scores and args.groundtruth):
        raise UsageError("give SCORES.csv and GT.csv, --setting NAME or --paper")
    scores = read_table(args.scores, "scores")
    gt = read_table(args.groundtruth, "ground truth")
    for table, cols, what in ((scores, ("model", "target", "metric", "perturbation", "score"), "scores"),
                              (gt, ("model", "target", "test_acc"), "ground truth")):
        missing = [c for c in cols if c not in table.columns]
        if missing:
            raise ValueError(f"{what} lack column(s) {missing}; they have {list(table.columns)}")
    if not set(scores.target) & set(gt.target):
        raise ValueError("no target has both scores and ground truth")
    cells = Path(args.cells) if args.cells else Path(args.groundtruth).parent / "cells"
    if args.cells and not cells.is_dir():
        raise ValueError(f"no such folder: {cells}")
    seeds = settings.seed_table(cells.parent) if cells.is_dir() else None
    seeds = None if seeds is None or seeds.empty else seeds
    scores = _chosen_rows(scores[["model", "target", "metric", "perturbation", "score"]], args)
    baseline = None
    if not args.no_baseline and gt.target.nunique() >= 2:
        baseline = "static_loto"
        scores = pd.concat([scores, finetuned.leave_one_target_out(gt)], ignore_index=True)
    correct = finetuned.image_correctness(cells.parent) if seeds is not None else None
    return significance.benchmark_tests(scores, gt, seeds, baseline=baseline, pairs=_pairs(args.compare),
                                        n_boot=args.n_boot, n_draws=args.n_draws, level=args.level,
                                        seed=args.seed, correct=correct or None)


def _setting_files(name: str) -> tuple[str, str]:
    """The committed ``scores.csv`` and ``accuracy.csv`` of setting ``name`` (potran.bench.settings)."""
    from potran.bench import settings

    if name == "paper":
        raise UsageError("--setting paper: the paper's published numbers are --paper")
    with usage_errors():
        setting = settings.get(name)
    folder = setting.data.get("scores")
    if folder is None or not (folder / "scores.csv").is_file():
        raise ValueError(f"setting {name!r} has no committed scores: write them with potran bench --setting "
                         f"{name} --out DIR, then potran report DIR/scores.csv GT.csv")
    return str(folder / "scores.csv"), str(setting.groundtruth_dir / "accuracy.csv")


def _chosen_rows(scores, args):
    """The rows of the ``--metric`` and ``--perturbation`` values (all without them)."""
    for column, chosen in (("metric", metric_list(args)), ("perturbation", args.perturbation)):
        if not chosen:
            continue
        known = list(dict.fromkeys(scores[column]))
        unknown = [v for v in chosen if v not in known]
        if unknown:
            raise ValueError(f"the scores have no {column} {unknown[0]!r}; they have "
                             f"{', '.join(map(str, known))}")
        scores = scores[scores[column].isin(chosen)]
    return scores


def _pairs(items) -> list:
    """``["gbc+PED,nleep"]`` -> ``[(("gbc", "ped"), ("nleep", "none"))]`` (``metric+LABEL``: a
    perturbation label, ``PED``/``SA`` in either case; no suffix: ``"none"``)."""
    out = []
    for item in items:
        names = item.split(",")
        if len(names) != 2 or not all(names):
            raise UsageError(f"--compare wants A,B (e.g. gbc+PED,nleep), got {item!r}")
        keys = [n.partition("+") for n in names]
        out.append(tuple((m, (p.lower() if p.lower() in KINDS else p) or NONE) for m, _, p in keys))
    return out


_num = partial(number, missing="–")  # the tables' empty cell


def format_table(tests) -> str:
    """The tests as a plain-text table, one block per family, then the verdicts in words."""
    from potran.bench.readme import verdict_text
    from potran.bench.significance import FAMILIES

    lines = []
    for family, grp in tests.groupby("family", sort=False):
        lines.append(f"== {family}: {FAMILIES.get(family, family)} — {grp.test.iloc[0]}")
        width = max(len(c) for c in grp.comparison)
        band = "chance band" if family == "chance" else "interval"
        lines.append(f"  {'comparison':<{width}}  estimate  {band:<18}  p        p (Holm)  verdict")
        for r in grp.itertuples():
            interval = f"[{_num(r.low)}, {_num(r.high)}]" if not math.isnan(r.low) else "–"
            lines.append(f"  {r.comparison:<{width}}  {_num(r.estimate):>8}  {interval:<18}  "
                         f"{_num(r.p_value, '.3g'):<7}  {_num(r.p_holm, '.3g'):<8}  {r.verdict}")
        lines.append(f"  population: {grp.population.iloc[0]}; resampled: {grp.resampled.iloc[0]}")
        lines.append("")
    lines += [" ".join(p.replace("**", "").split()) for p in verdict_text(tests)]
    return "\n".join(lines)


def run_report(args) -> int:
    """``potran report``: print the tests as a table or as JSON records."""
    tests = _tests(args)
    if args.json:
        print(json.dumps(records(tests), indent=1))
    else:
        print(format_table(tests))
    return 0
