"""potran.bench.findings: the index's findings are the analyses' numbers, in words, with their page."""
from pathlib import Path

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
