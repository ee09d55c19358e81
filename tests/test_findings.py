"""potran.bench.findings: the index's findings are the analyses' numbers, in words, with their page."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from potran.bench import findings, paper_analysis, report
from potran.resources import data_path

BOOK = Path(__file__).parent.parent / "book"


@pytest.fixture(scope="module")
def paper_tests():
    return paper_analysis.paper_tests(n_draws=2000)


@pytest.fixture(scope="module")
def offline():
    scores = pd.read_csv(data_path("bench", "scores.csv"))
    accuracy = pd.read_csv(data_path("groundtruth", "accuracy.csv"))
    seeds = report.seed_table(data_path("groundtruth"))
    tests = report.benchmark_tests(pd.concat([scores, report.leave_one_target_out(accuracy)]), accuracy,
                                   seeds, n_boot=200, n_draws=500)
    return tests, seeds


def test_paper_findings_carry_peds_gains_and_their_tests(paper_tests):
    found = findings.paper_findings(paper_tests)
    gain = found[0].text
    for r in paper_tests[paper_tests.family == "PED"].itertuples():
        assert f"{r.metric} {r.estimate:+.3f} (95 % t-interval [{r.low:+.3f}, {r.high:+.3f}]" in gain
    # the paper's LogME gain: +0.269, positive on all 10 datasets, exact sign-flip 2/1024 (Holm x3)
    assert "logme +0.269" in gain and "higher on 10 of 10 datasets, p = 0.0059: resolved" in gain
    assert "sfda +0.046" in gain and "not resolved" in gain.split("sfda")[1].split(";")[0]
    assert "exact sign-flip" in gain and "Holm over 3 metrics" in gain
    assert "not resolved from chance: gbc." in found[1].text
    assert "oracle-style" in found[2].text and all(f.page == "notebooks/paper_numbers" for f in found)


def test_benchmark_findings_say_what_four_targets_cannot_resolve(offline):
    tests, _ = offline
    found = findings.benchmark_findings(tests)
    assert "cannot give p below 0.125, so no PED effect can be resolved" in found[1].text
    ped = tests[(tests.family == "PED") & (tests.estimate != 0)]
    assert f"{ped.estimate.min():+.3f} ({ped.loc[ped.estimate.idxmin(), 'metric']})" in found[1].text
    chance = tests[(tests.family == "chance") & (tests.metric != "static_loto")]
    beat = chance[(chance.p_holm < 0.05) & (chance.verdict == "better than chance")]
    assert f"Of {len(chance)} metric settings" in found[0].text
    assert all(m in found[0].text for m in beat.metric)


def test_limit_findings_are_the_reliability_table(offline):
    _, seeds = offline
    found = findings.limit_findings(seeds, data_path("groundtruth"))
    rel = report.reliability(seeds)
    for r in rel.itertuples():
        assert f"{r.target} {r.reliability:.3f}" in found[0].text
    assert f"{int((rel.reliability >= 0.9).sum())} of {len(rel)} targets reach 0.9" in found[0].text
    assert "median over 192 runs" in found[1].text  # 64 cells x 3 seeds


def test_markdown_links_every_finding_to_an_existing_page(paper_tests, offline):
    tests, seeds = offline
    found = (findings.paper_findings(paper_tests) + findings.benchmark_findings(tests)
             + findings.limit_findings(seeds, data_path("groundtruth")))
    text = findings.markdown(found)
    assert text.count("\n- ") + text.startswith("- ") == len(found)
    for f in found:
        assert f"(see {{doc}}`{f.page}`)" in text
        assert (BOOK / f"{f.page}.py").exists() or (BOOK / f"{f.page}.md").exists()


def _snapshots(rng, shape):
    """Scores of 10 models on 3 targets at 0 %, 25 % and 100 % of fine-tuning; ``shape`` gives the
    sign with which each snapshot follows the accuracies (+1: the same order, -1: reversed)."""
    acc = pd.DataFrame([{"model": f"m{i}", "target": t, "test_acc": rng.random()} for t in "abc"
                        for i in range(10)])
    rows = [{"model": r.model, "target": r.target, "fraction": f, "metric": metric,
             "score": sign * r.test_acc}
            for metric, signs in shape.items() for f, sign in zip((0.0, 0.25, 1.0), signs)
            for r in acc.itertuples()]
    return pd.DataFrame(rows), acc


def test_finetuning_claim_is_supported_only_when_both_parts_are_resolved():
    scores, acc = _snapshots(np.random.default_rng(0), {"dips": (1, -1, 1), "rises": (-1, 1, 1)})
    before = scores.copy()
    claim = findings.finetuning_claim(scores, acc, n_boot=300)
    pd.testing.assert_frame_equal(scores, before)
    dips = claim[claim.metric == "dips"].set_index("part")
    assert dips.loc["first", "estimate"] == pytest.approx(-2.0)  # tau_w from +1 (same order) to -1
    assert dips.loc["then", "estimate"] == pytest.approx(2.0)
    assert dips.loc["first", "comparison"] == "25% - 0%" and dips.loc["then", "comparison"] == "100% - 25%"
    assert (dips.p_boot_holm < 0.05).all() and (dips.min_p_targets == 0.25).all()
    text = findings.finetuning_verdict(claim)
    assert "supported for dips." in text and "- **dips**: first worse, then better" in text
    assert "- **rises**: first better, then unchanged" in text and "25% - 0% rises (resolved)" in text
    assert "cannot give p below 0.25 with 3 targets" in text


def test_finetuning_claim_needs_a_start_a_middle_and_an_end():
    scores, acc = _snapshots(np.random.default_rng(1), {"m": (1, 1, 1)})
    with pytest.raises(ValueError, match="two later ones"):
        findings.finetuning_claim(scores[scores.fraction != 0.25], acc)
    with pytest.raises(ValueError, match="need the columns"):
        findings.finetuning_claim(scores.drop(columns="fraction"), acc)


@pytest.fixture(scope="module")
def v3_bench():
    from potran.bench import v3_report, zoo

    models = zoo.names()
    return v3_report.load(data_path("bench_v3"), models), models


def _v3_subset(bench, models, ft_targets, lp_targets):
    """The committed benchmark v3 with each ground truth cut to some targets (as if the others
    were not complete yet)."""
    import dataclasses

    return dataclasses.replace(bench, ft=bench.ft.subset(models, ft_targets),
                               lp=bench.lp.subset(models, lp_targets))


def test_v3_findings_read_correctly_with_no_complete_or_no_reliable_target(v3_bench):
    from potran.bench import v3_report

    bench, models = v3_bench
    rel = v3_report.reliability_table(bench.ft, models)
    low = list(rel[rel.reliability < 0.9].target)
    assert low, "the committed fine-tuning cells have a target below the reliability rule"
    ft, lp = findings.v3_findings(_v3_subset(bench, models, [], low), models)
    assert ft.text.startswith("**Benchmark v3, fine-tuning (the main protocol).** 0 of 24 targets have")
    assert "not tested yet" in ft.text and "needs two families to run and 6 to give p < 0.05" in ft.text
    assert f"{len(low)} of 24 targets" in lp.text
    assert "Main table (Spearman–Brown reliability ≥ 0.9)" in lp.text
    ft, _ = findings.v3_findings(_v3_subset(bench, models, low[:6], []), models)
    assert "Main table (Spearman–Brown reliability ≥ 0.9): 0 targets;" in ft.text
    for r in rel[rel.target.isin(low[:6])].itertuples():      # up to six are named
        assert f"{r.target} {r.reliability:.3f}" in ft.text
    if len(low) > 6:                                            # more are counted
        many, _ = findings.v3_findings(_v3_subset(bench, models, low, []), models)
        assert f"; below the rule: {len(low)};" in many.text
    assert "scored by every metric: 0 main-table targets from 0 familys" not in ft.text
    assert "0 main-table targets from 0 families" in ft.text and "not tested yet" in ft.text
    assert {f.page for f in (ft, lp)} == {"notebooks/benchmark_v3"} and ft.group == lp.group == "benchmark"


@pytest.mark.parametrize("targets, floor", [
    (["mnist5k", "fashion", "letters"], True),                                   # 3 families: p >= 0.25
    (["mnist5k", "fashion", "patches", "letters", "greek", "hanzi", "emoji_id"], False),   # 7 families
])
def test_v3_findings_carry_the_family_tests_of_the_page(v3_bench, targets, floor):
    from potran.bench import v3_report

    bench, models = v3_bench
    _, lp = findings.v3_findings(_v3_subset(bench, models, [], targets), models)
    rel = v3_report.reliability_table(bench.lp, models, targets)
    main = [t for t in rel[rel.table == "main"].target if t in bench.scored]
    tests = v3_report.tests_table(bench.scores, bench.lp, models, main, resample=False)
    shown = v3_report.ped_table(tests).set_index("metric")
    for metric in ("logme", "sfda", "gbc"):          # the numbers the page's PED table shows
        assert (f"{metric} {shown.loc[metric, 'over families [95 % CI]']}, "
                f"p = {shown.loc[metric, 'p, families (Holm)']}") in lp.text
    families = len({v3_report.targets_v3.FAMILIES[t] for t in main})
    assert f"exact sign-flip over {families} families" in lp.text
    if floor:
        assert f"the test cannot give p below {2 / 2 ** families:.3g}, so nothing can be resolved" in lp.text
    else:
        fam = tests[tests.family.str.startswith("PED, families")]
        lower = fam[(fam.p_holm < 0.05) & (fam.estimate < 0)].metric
        assert "resolved: PED lowers τ_w for" in lp.text
        assert all(m in lp.text.split("resolved: PED lowers τ_w for")[1] for m in lower)
        assert f"{len(fam) - (fam.p_holm < 0.05).sum()} metrics not resolved" in lp.text


def test_families_needed_is_where_the_exact_sign_flip_can_reach_alpha():
    from potran import stats

    assert findings.families_needed() == 6 and findings.families_needed(0.05 / 3) == 7
    assert stats.sign_flip(np.ones(6)).min_p < 0.05 <= stats.sign_flip(np.ones(5)).min_p
    from potran.bench import v3_report  # the benchmark v3 page says the same

    empty = pd.DataFrame(columns=["target", "table", "reliability"])
    text = v3_report.limits(empty, [], {"source": "-"}, {})[0]
    assert "needs at least 6 families to reach p < 0.05 (2/2^F), and 7 for p < 0.05/3" in text


def test_finetuning_finding_is_the_verdict_in_one_point():
    scores, acc = _snapshots(np.random.default_rng(0), {"dips": (1, -1, 1), "rises": (-1, 1, 1)})
    claim = findings.finetuning_claim(scores, acc, n_boot=300)
    found = findings.finetuning_finding(claim)
    assert found.page == "notebooks/finetuning" and found.group == "benchmark"
    assert "supported for dips." in found.text and "mean τ_w over 3 targets" in found.text
    assert "dips first worse, then better; rises first better, then unchanged" in found.text
    assert "resolved against the claim: rises 25% - 0% rises (resolved)" in found.text
    over = found.text.split(". Over targets", 1)[1]
    assert f"Over targets{over}" in findings.finetuning_verdict(claim)   # the page's sentence


def test_snapshot_claim_scores_are_cached_by_content(tmp_path, monkeypatch):
    import shutil

    from potran.bench import snapshots

    source = data_path("groundtruth")
    cells = snapshots.available_cells(source)[:2]
    for sub, ext in (("snapshots", "npz"), ("cells", "json")):
        (tmp_path / "gt" / sub).mkdir(parents=True, exist_ok=True)
        for m, t in cells:
            shutil.copy(source / sub / f"{m}__{t}.{ext}", tmp_path / "gt" / sub)
    accuracy = pd.read_csv(source / "accuracy.csv")
    accuracy.merge(pd.DataFrame(cells, columns=["model", "target"])).to_csv(tmp_path / "gt" / "accuracy.csv",
                                                                           index=False)
    first = findings.snapshot_claim_scores(tmp_path / "gt", ("logme",), cache_dir=tmp_path / "cache")
    fresh = snapshots.snapshot_scores([snapshots.load_snapshot(source, *c) for c in cells], ["logme"])
    pd.testing.assert_frame_equal(first, fresh, check_exact=True)
    assert len(list((tmp_path / "cache").glob("*.csv"))) == 1

    def refuse(*args, **kwargs):
        raise AssertionError("scored again")

    monkeypatch.setattr(snapshots, "snapshot_scores", refuse)
    pd.testing.assert_frame_equal(findings.snapshot_claim_scores(tmp_path / "gt", ("logme",),
                                                                 cache_dir=tmp_path / "cache"), first)
    with pytest.raises(AssertionError, match="scored again"):   # other metrics: another key
        findings.snapshot_claim_scores(tmp_path / "gt", ("gbc",), cache_dir=tmp_path / "cache")
