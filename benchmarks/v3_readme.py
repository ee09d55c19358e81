"""Benchmark v3's report section of ``data/bench_v3/README.md``, recomputed from the committed cells
and scores.

    .venv/bin/python benchmarks/v3_readme.py [--readme data/bench_v3/README.md]

The section's sentences are ``v3_readme_template.md`` beside this script (Markdown with
``{name}`` placeholders); this script computes the numbers and tables (``potran.bench.v3_data``,
``v3_tests``, ``v3_power``, as the benchmark v3 page does) and fills them in. Without
``--readme`` it prints the section; with it, it replaces the part of the README between
``README_START`` and ``README_END`` (appended the first time) and leaves the rest as it is.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from potran.bench import book, targets_v3, zoo
from potran.bench import v3_data as data
from potran.bench import v3_power as power
from potran.bench import v3_tests as tests
from potran.bench.store import write_text
from potran.metrics import PED_METRICS
from potran.perturbations import NONE, PED
from potran.resources import data_path

TEMPLATE = Path(__file__).with_name("v3_readme_template.md")
README_START = "<!-- benchmark v3 report: written by benchmarks/v3_readme.py; do not edit -->"
README_END = "<!-- end of the benchmark v3 report -->"
#: Simulated benchmarks per metric and design of the per-metric power.
N_SIM_METRIC = 20000


def markdown(frame: pd.DataFrame) -> str:
    """A pipe table of a frame of strings and numbers (numbers as :func:`potran.bench.book.number`)."""
    def cell(v):
        return (v if isinstance(v, str) else book.number(v)).replace("|", r"\|")

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * frame.shape[1]]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def intervals(frame: pd.DataFrame, column: str) -> list[str]:
    return [book.interval(e, lo, hi) for e, lo, hi in
            zip(frame[column], frame[f"{column}_low"], frame[f"{column}_high"])]


def mean_shown(means: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"metric": means.metric, "PED": np.where(means.perturbation == NONE, "no", "yes"),
                         "over targets [95 % CI]": intervals(means, "over_targets"),
                         "over families [95 % CI]": intervals(means, "over_families"),
                         "p, families (Holm)": means.p_families_holm.map(book.p_value),
                         "p vs chance (Holm)": means.p_chance_holm.map(book.p_value)})


def ped_shown(peds: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"metric": peds.metric, "over families [95 % CI]": intervals(peds, "over_families"),
                         "p, families (Holm)": peds.p_families_holm.map(book.p_value),
                         "over targets [95 % CI]": intervals(peds, "over_targets"),
                         "p, targets (Holm)": peds.p_targets_holm.map(book.p_value)})


def holm_shown(table: pd.DataFrame) -> pd.DataFrame:
    def p(value):
        return "< 0.001" if value < 0.001 else f"{value:.3g}"

    clipped = [book.interval(r.estimate, max(r.low, -2), min(r.high, 2)) for r in table.itertuples()]
    return pd.DataFrame({"metric": table.metric, "PED − none over families [95 % CI]": clipped,
                         "families": table.n.astype(int), "exact sign-flip p": table.p_value.map(p),
                         "smallest attainable p": table.min_p.map(lambda x: f"{x:.3g}"),
                         "Holm over all": table.p_holm_all.map(p),
                         "Holm within published / others (post hoc)": table.p_holm_split.map(p)})


def within_shown(table: pd.DataFrame) -> pd.DataFrame:
    table = table.assign(label=[f"{g} ({n} models)" for g, n in zip(table.models, table.n_models)],
                         cell=[book.interval(*x) for x in zip(table.estimate, table.low, table.high)])
    keys = list(dict.fromkeys(zip(table.metric, table.perturbation)))
    wide = table.pivot(index=["metric", "perturbation"], columns="label", values="cell")
    wide = wide.reindex(index=pd.MultiIndex.from_tuples(keys), columns=list(dict.fromkeys(table.label)))
    wide = wide.fillna("– (constant scores)").reset_index(names=["metric", "PED"])
    return wide.assign(PED=np.where(wide.PED == NONE, "no", "yes"))


def protocol_fills(prefix: str, truth, rel: pd.DataFrame, bench, models, args) -> tuple[dict, list]:
    """The placeholders of one protocol's section, and its scored main-table targets."""
    main, second = data.members(rel, "main"), data.members(rel, "second")
    scored = [t for t in main if t in bench.scored]
    if bench.scores is None or len({targets_v3.FAMILIES[t] for t in scored}) < 2:
        raise SystemExit(f"{truth.protocol}: fewer than two scored families (the template's main table)")
    t = tests.tests_table(bench.scores, truth, models, scored, n_boot=args.n_boot, n_draws=args.n_draws,
                          seed=args.seed)
    holm = tests.holm_all(t)
    fills = {"complete": len(rel), "main": ", ".join(main) or "none", "second": ", ".join(second) or "none",
             "reliability": markdown(rel[["target", "family", "reliability", "spread", "seed_noise",
                                          "test_noise"]]),
             "n_main": len(scored), "means": markdown(mean_shown(tests.mean_table(t))),
             "ped": markdown(ped_shown(tests.ped_table(t))), "n_ped": len(holm),
             "holm": markdown(holm_shown(holm)),
             "within": markdown(within_shown(tests.within_family_table(bench.scores, truth, models, scored)))}
    return {f"{prefix}_{k}": v for k, v in fills.items()}, scored


def agreement_fills(bench, models, rel, args) -> dict:
    reliabilities = {(r.protocol, r.target): r.reliability for r in pd.concat(rel).itertuples()}
    agree, summary = tests.agreement(bench.ft, bench.lp, models, targets_v3.NAMES,
                                     reliabilities=reliabilities, n_boot=args.n_boot, seed=args.seed)
    shown = pd.DataFrame({"target": agree.target, "family": agree.family,
                          "weighted τ [95 % CI]": [book.interval(r.weighted_tau, r.low, r.high)
                                                   for r in agree.itertuples()],
                          "Spearman": agree.spearman, "Spearman / sqrt(R_ft R_lp)": agree.spearman_corrected})
    return {"agreement": markdown(shown), "agree_targets": len(agree),
            "agree_mean": f"{agree.weighted_tau.mean():+.3f}",
            "agree_families": book.interval(summary.estimate, summary.low, summary.high),
            "agree_test": summary.test, "agree_p": f"{summary.p_value:.3g}"}


def ablation_fills(bench, models, main_ft) -> dict:
    present = {name: frame for name, frame in bench.general.items() if frame is not None}
    abl = tests.ablation(bench.scores, present, bench.ft, models, main_ft)
    abl["cell"] = [book.interval(r["mean of family means"], r.low, r.high)
                   + ("" if not np.isfinite(r.p_holm) else f", p {book.p_value(r.p_holm)}")
                   for _, r in abl.iterrows()]
    wide = abl.pivot(index="metric", columns="general set", values="cell")
    wide = wide.reindex(index=list(dict.fromkeys(abl.metric)), columns=list(present)).reset_index()
    coverage = abl.groupby("general set", sort=False)[["targets", "families"]].max().reset_index()
    exits = tests.exit_share(present)
    exits = exits.assign(**{"exit rule fired": exits["exit rule fired"].map(lambda x: f"{x:.0%}"),
                            "median energy ratio": exits["median energy ratio"].map(lambda x: f"{x:.2f}")})
    return {"ablation_truth": bench.ft.protocol, "ablation": markdown(wide),
            "ablation_coverage": markdown(coverage),
            "exits": markdown(exits)}


def letters_fills(bench, models, landed, landed_truth) -> dict:
    """SFDA and PARC on letters without -> with PED under each general set and on the landed benchmark."""
    pair = ["sfda", "parc"]
    truth = bench.ft if "letters" in bench.ft.complete(models) else bench.lp
    off = bench.scores[(bench.scores.target == "letters") & (bench.scores.perturbation == NONE)]
    rows, energy = [], []
    for name, frame in bench.general.items():
        on = None if frame is None else frame[(frame.target == "letters") & (frame.perturbation == PED)
                                              & frame.metric.isin(pair)]
        if on is None or on.model.nunique() < len(models):
            continue
        rows.append(tests.within_family_change(pd.concat([off, on]), truth, models, "letters", pair)
                    .assign(source=name))
        energy.append(tests.energy_by_model_family(on, "letters").rename(name))
    landed_letters = landed[landed.target == "letters"]
    rows.append(tests.within_family_change(landed_letters, landed_truth, models, "letters", pair)
                .assign(source="landed benchmark"))
    change = pd.concat(rows, ignore_index=True)
    change["cell"] = [f"{a:+.2f} → {b:+.2f}" for a, b in zip(change.none, change.ped)]
    change["label"] = [f"all {n}" if g == "all" else g for g, n in zip(change.models, change.n_models)]
    wide = change.pivot(index=["source", "metric"], columns="label", values="cell")
    wide = wide.reindex(index=pd.MultiIndex.from_frame(change[["source", "metric"]].drop_duplicates()),
                        columns=list(dict.fromkeys(change.label))).reset_index()
    wide["metric"] = wide.metric.str.upper()
    crops = change[(change.source == "photo crops") & (change.models != "all")]
    falls = crops.assign(falls=crops.ped < crops.none).groupby("metric", sort=False).falls.all()
    fell, held = [m.upper() for m in falls.index[falls]], [m.upper() for m in falls.index[~falls]]
    if not fell or not held:
        raise SystemExit("the template's letters sentence needs one metric falling in both families, one not")
    energy = pd.DataFrame(energy).reset_index(names="general set")
    return {"letters_truth": truth.protocol, "n_models": len(models), "letters": markdown(wide),
            "letters_energy": markdown(energy.map(lambda x: x if isinstance(x, str) else f"{x:.2f}")),
            "letters_fell": ", ".join(fell), "letters_held": ", ".join(held)}


def power_fills(bench, models, main_ft, main_lp, landed, args) -> dict:
    st = power.power_statement(bench.ft, bench.lp, bench.scores, models, main_ft=main_ft, main_lp=main_lp,
                               landed=landed, n_sim=args.n_sim, seed=args.seed)
    if st["source"]["benchmark"] != "v3":
        raise SystemExit("the template's power paragraph speaks of spreads measured on v3")
    table = st["table"]
    table = table.assign(**{c: table[c].map(lambda x: book.number(x, 3, signed=True))
                            for c in table.columns[2:4]})
    # per metric the paper published with PED: its own between-family spread of PED's effect on the
    # fine-tuning main table, at the paper's own gain
    gains = power.published_ped_gains()
    effects = tests.family_effects(tests.per_target_tau(bench.scores, bench.ft, models, main_ft), gains)
    per_metric = power.power_by_metric(effects, gains, designs=power.POWER_DESIGNS, alphas=(0.05, 0.05 / 9),
                                       n_sim=N_SIM_METRIC, seed=args.seed)
    per_metric = per_metric.rename(columns={"sd": "sd over families", "mean": "mean over families",
                                            "effect": "paper's gain"})
    per_metric = per_metric.assign(**{c: per_metric[c].map(lambda x: book.number(x, 3))
                                      for c in per_metric.columns[2:]})
    return {"power_protocol": st["source"]["protocol"], "power_targets": st["source"]["targets"],
            "n_sim": args.n_sim, "power": markdown(table), "n_sim_metric": N_SIM_METRIC,
            "metric_power": markdown(per_metric)}


def report(folder, models, landed, args) -> str:
    """The README's report section: the template filled with the numbers and tables."""
    bench = data.load(folder, models)
    rel = [data.reliability_table(truth, models, seed=args.seed) for truth in (bench.ft, bench.lp)]
    fills = {"n_targets": len(targets_v3.NAMES), "threshold": data.MAIN_TABLE_RELIABILITY,
             "n_published": len(PED_METRICS)}
    ft, main_ft = protocol_fills("ft", bench.ft, rel[0], bench, models, args)
    lp, main_lp = protocol_fills("lp", bench.lp, rel[1], bench, models, args)
    fills |= ft | lp | agreement_fills(bench, models, rel, args) | ablation_fills(bench, models, main_ft)
    fills |= letters_fills(bench, models, *landed)
    fills |= power_fills(bench, models, main_ft, main_lp, landed, args)
    return TEMPLATE.read_text(encoding="utf-8").format_map(fills)


def write_readme(readme, text: str) -> Path:
    """Put ``text`` between ``README_START`` and ``README_END`` in ``readme`` (appended the first
    time); the rest of the file is left as it is."""
    path = Path(readme)
    old = path.read_text(encoding="utf-8")
    block = f"{README_START}\n{text.strip()}\n{README_END}\n"
    if README_START in old and README_END in old:
        head, rest = old.split(README_START, 1)
        new = head + block + rest.split(README_END, 1)[1].lstrip("\n")
    else:
        new = old.rstrip("\n") + "\n\n" + block
    return write_text(path, new)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-dir", default=str(data_path("bench_v3")))
    parser.add_argument("--readme", help="write the section into this README (default: print it)")
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--n-draws", type=int, default=2000)
    parser.add_argument("--n-sim", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    models = zoo.names()
    landed = (pd.read_csv(data_path("bench", "scores.csv")), data.finetune_truth(data_path("groundtruth")))
    text = report(args.bench_dir, models, landed, args)
    print(write_readme(args.readme, text) if args.readme else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
