"""Benchmark v4's report, ``data/bench_v4/REPORT.md``, computed from the committed cells and scores.

    .venv/bin/python benchmarks/v4_readme.py [--out data/bench_v4/REPORT.md] [--n-sim 1000] [--print]

The report's sentences are ``v4_readme_template.md`` beside this script (Markdown with ``{name}``
placeholders); this script computes the registered analysis (:func:`potran.bench.v4.report.analyse`,
the tables the page ``notebooks/benchmark_v4.py`` shows) and fills them in. It refuses while the
fine-tuning grid or the score table is incomplete: the registered analysis has no interim look.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from v3_readme import markdown

from potran.bench import book, targets_v3, v3_data
from potran.bench.store import write_text
from potran.bench.v4 import design, report
from potran.bench.v4 import zoo as v4_zoo
from potran.perturbations import NONE
from potran.resources import data_path

TEMPLATE = Path(__file__).with_name("v4_readme_template.md")
#: the words of a decision: (hypothesis, rejected, sign) -> verdict
VERDICTS = {("H0", False): "not resolved with this design",
            ("H0", True, 1.0): "resolved, PED raises the weighted τ within this zoo",
            ("H0", True, -1.0): "resolved, PED lowers the weighted τ within this zoo",
            ("H0'", False): "not told apart from the paper's gain",
            ("H0'", True, 1.0): "above the paper's gain", ("H0'", True, -1.0): "below the paper's gain"}
#: the power table's columns, as shown
POWER_COLUMNS = {"metric": "metric", "families": "families", "effect": "effect asked",
                 "realised": "effect realised", "type1": "Type I error", "power": "power (α 0.05)",
                 "power_holm": "power (first Holm step)", "h0p_power": "H0' rejected when PED does nothing",
                 "mde": "80 % power from (α 0.05)", "mde_holm": "80 % power from (Holm)",
                 "sd_families": "sd of Δ over families", "sd_within": "sd of Δ within families"}
NAMES = {"logme": "LogME", "sfda": "SFDA", "gbc": "GBC", "nleep": "NLEEP", "parc": "PARC",
         "hscore": "H-score", "reg_hscore": "Regularised H-score", "transrate": "TransRate", "knn": "kNN"}


def verdict(row) -> str:
    return VERDICTS[(row.hypothesis, True, float(row.sign))] if row.rejected else VERDICTS[(row.hypothesis, False)]


def incomplete(folder: Path) -> str | None:
    """What is missing for the registered analysis, or None."""
    n_cells = len(list((folder / "cells").glob("*.json")))
    want = len(v4_zoo.names()) * len(targets_v3.NAMES)
    if n_cells < want:
        return f"the fine-tuning grid has {n_cells} of {want} cells"
    scores = folder / "scores" / "scores.csv"
    if not scores.is_file():
        return f"{scores} does not exist (benchmarks/v4_scores.py)"
    if len(pd.read_csv(scores)[["model", "target"]].drop_duplicates()) < want:
        return f"{scores} does not hold every cell"
    return None


def tests_shown(tests: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "metric": tests.metric, "hypothesis": tests.hypothesis, "Holm family": tests.holm_family,
        "PED − none [95 % CI]": list(map(book.interval, tests.estimate, tests.low, tests.high)),
        "units": tests.n.astype(int).astype(str), "p": tests.p_value.map(book.p_value),
        "p (Holm)": tests.p_holm.map(book.p_value), "smallest possible p": tests.min_p.map(book.p_value),
        "decision": [verdict(r) for r in tests.itertuples()]})


def sentences(deciding: pd.DataFrame, gains: dict, n_families: int) -> str:
    """One line per metric: its test under H0 (and H0' for the published metrics); ``n_families``:
    the main table's source families."""
    lines = []
    for metric in design.METRICS:
        rows = {r.hypothesis: r for r in deciding[deciding.metric == metric].itertuples()}
        if "H0" not in rows:
            why = (f"the main table has {n_families} source families, the test needs two" if n_families < 2
                   else "scored with a defined τ_w on fewer than two families")
            lines.append(f"- **{NAMES[metric]}**: no test ({why}).")
            continue
        h0 = rows["H0"]
        line = (f"- **{NAMES[metric]}**, Holm family {h0.holm_family.split()[0]}: PED − none "
                f"{book.interval(h0.estimate, h0.low, h0.high)}, Holm p {book.p_value(h0.p_holm)}: {verdict(h0)}.")
        if "H0'" in rows:
            h0p = rows["H0'"]
            line += (f" Against the paper's gain {gains[metric]:+.3f} (family {h0p.holm_family.split()[0]}): "
                     f"Holm p {book.p_value(h0p.p_holm)}, {verdict(h0p)}.")
        lines.append(line)
    return "\n".join(lines)


def fills(folder: Path, out: report.Report, inputs: report.Inputs, n_sim: int) -> dict:
    cells = [json.loads(p.read_text()) for p in sorted((folder / "cells").glob("*.json"))]
    runs = [r for c in cells for r in c["runs"]]
    rel = out.reliability
    deciding = out.tests[out.tests.deciding]
    side = out.tests[~out.tests.deciding]
    every = out.every_tests[out.every_tests.deciding]   # Amendment 3: every target, the family test
    n_agree, n_side = report.agreement(out.tests)
    def means_table(means):
        return markdown(pd.DataFrame({
            "metric": means.metric, "PED": np.where(means.perturbation == NONE, "no", "yes"),
            "targets": means.targets.astype(str), "over targets": means.over_targets,
            "over families [95 % CI]": list(map(book.interval, means.over_families, means.low, means.high)),
            "t-interval": list(map(book.span, means.t_low, means.t_high)),
            "p, families": means.p_value.map(book.p_value)}))

    both = report.side_by_side(out.means, out.v3) if out.v3 is not None else None
    gains = design.published_gains()
    def power_table(table, spread):
        return markdown(table.merge(spread[["metric", "sd_families", "sd_within"]], on="metric")[
            list(POWER_COLUMNS)].rename(columns=POWER_COLUMNS)) if len(table) else None

    power, every_power = power_table(out.power, out.spread), power_table(out.every_power, out.every_spread)
    return {
        "n_cells": len(cells), "n_runs": len(runs), "n_flagged": sum(bool(r["not_trained"]) for r in runs),
        "n_not_levelled": sum(not r["levelled_off"] for r in runs),
        "n_main": len(out.main), "n_targets": len(rel), "threshold": 0.9, "n_families": len(out.families),
        "families": ", ".join(out.families) or "none",
        "min_p": book.p_value(2 / 2 ** len(out.families)) if len(out.families) >= 2 else "– (no test: it needs two)",
        "reliability": markdown(rel[["target", "family", "reliability", "table", "spread", "seed_noise",
                                     "test_noise"]].rename(columns=lambda c: c.replace("_", " "))),
        "means": means_table(out.means) if out.main else "(no main-table target)",
        "second_means": means_table(out.second_means) if len(out.second_means) else "(no second-table target)",
        "side_by_side": "" if both is None or not len(both) else markdown(pd.DataFrame({
            "metric": both.metric, "PED": np.where(both.perturbation == NONE, "no", "yes"),
            f"v4, {len(inputs.models)} models [95 % CI]": list(map(book.interval, both.over_families_v4,
                                                                  both.low_v4, both.high_v4)),
            "v3, 16 models [95 % CI]": list(map(book.interval, both.over_families_v3, both.low_v3,
                                                both.high_v3)),
            "v3 families": both.families_v3.astype(int).astype(str)})),
        "alpha": design.ALPHA,
        "tests": markdown(tests_shown(deciding)) if len(deciding) else "(no test: fewer than two families)",
        "sentences": sentences(deciding, gains, len(out.families)),
        "sens_agree": n_agree, "sens_total": n_side,
        "sensitivity": (markdown(tests_shown(side).assign(analysis=side.analysis.to_numpy())) if len(side)
                        else "(no test: no main-table target)"),
        "every_targets": len(rel), "every_families": rel.family.nunique(),
        "every_tests": markdown(tests_shown(every)) if len(every) else "(no test: fewer than two families)",
        "every_sentences": sentences(every, gains, rel.family.nunique()),
        "n_sim": n_sim, "others_effect": f"{design.OTHERS_EFFECT:+.2f}", "power": power or "(not computed: fewer than two families)",
        "every_power": every_power or "(not computed: fewer than two families)",
    }


def probe_fills(folder: Path, inputs: report.Inputs, seed: int) -> dict:
    """Amendment 1's placeholders: the analysis against ``linear_probe.csv`` ("–" without it)."""
    path = folder / "linear_probe.csv"
    if not path.is_file():
        return {"probe_main": "–", "probe_complete": "–", "probe_families": "–",
                "probe_tests": f"(not computed: {path.name} does not exist)", "probe_sentences": ""}
    probe = report.analyse(replace(inputs, truth=v3_data.probe_truth(path)), n_sim=0, seed=seed, v3=False)
    deciding = probe.tests[probe.tests.deciding]
    return {"probe_main": len(probe.main), "probe_complete": len(probe.reliability),
            "probe_families": len(probe.families),
            "probe_tests": markdown(tests_shown(deciding)) if len(deciding) else "(no test: fewer than two families)",
            "probe_sentences": sentences(deciding, design.published_gains(), len(probe.families))}


def render(folder: Path, n_sim: int = 1000, seed: int = 0, v3=True, models=None) -> str:
    """The report of ``folder`` (cells and scores; ``models``: the ranked ones, default the zoo's)."""
    inputs = report.load(folder, models=models)
    out = report.analyse(inputs, n_sim=n_sim, seed=seed, v3=v3)
    return TEMPLATE.read_text(encoding="utf-8").format(**fills(folder, out, inputs, n_sim),
                                                      **probe_fills(folder, inputs, seed))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=data_path("bench_v4"), help="benchmark v4's data folder")
    parser.add_argument("--out", type=Path, help="the report file (default: <folder>/REPORT.md)")
    parser.add_argument("--n-sim", type=int, default=1000, help="simulated benchmarks of the power achieved")
    parser.add_argument("--print", action="store_true", help="print the report instead of writing it")
    args = parser.parse_args(argv)
    missing = incomplete(args.folder)
    if missing:
        sys.exit(f"not computed: {missing}; the registered analysis runs on the complete grid only")
    text = render(args.folder, n_sim=args.n_sim)
    if args.print:
        print(text)
    else:
        write_text(args.out or args.folder / "REPORT.md", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
