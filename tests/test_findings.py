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
    rows = [{"model": r.model, "target": r.target, "fraction": f, "metric": metric, "score": sign * r.test_acc}
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
