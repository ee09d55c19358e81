"""potran.bench.findings: the test of the supplementary's claim that ranking by the features first
gets worse along fine-tuning, then better, on snapshots whose answer is known."""
import numpy as np
import pandas as pd
import pytest

from potran.bench import findings


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
    rises = claim[claim.metric == "rises"].set_index("part")
    assert rises.loc["first", "estimate"] == pytest.approx(2.0) and rises.loc["then", "estimate"] == 0
    assert rises.loc["first", "p_boot_holm"] < 0.05 and (claim.n_targets == 3).all()


def test_finetuning_claim_needs_a_start_a_middle_and_an_end():
    scores, acc = _snapshots(np.random.default_rng(1), {"m": (1, 1, 1)})
    with pytest.raises(ValueError, match="two later ones"):
        findings.finetuning_claim(scores[scores.fraction != 0.25], acc)
    with pytest.raises(ValueError, match="need the columns"):
        findings.finetuning_claim(scores.drop(columns="fraction"), acc)
