"""potran.bench.significance.benchmark_tests' ``pairs``: two (metric, perturbation) keys compared on the
same replicates (crossed bootstrap) and per target (exact sign-flip), on scores whose answer is
known: snapshots along fine-tuning that follow the accuracies, or reverse them."""
import numpy as np
import pandas as pd
import pytest

from potran.bench import significance


def _snapshots(rng, shape):
    """Scores of 10 models on 3 targets at 0 %, 25 % and 100 % of fine-tuning (metric
    ``"<name> at <share>"``); ``shape`` gives the sign with which each snapshot follows the
    accuracies (+1: the same order, -1: reversed)."""
    acc = pd.DataFrame([{"model": f"m{i}", "target": t, "test_acc": rng.random()} for t in "abc"
                        for i in range(10)])
    rows = [{"model": r.model, "target": r.target, "metric": f"{name} at {f:.0%}", "perturbation": "none",
             "score": sign * r.test_acc}
            for name, signs in shape.items() for f, sign in zip((0.0, 0.25, 1.0), signs)
            for r in acc.itertuples()]
    return pd.DataFrame(rows), acc


def _pair(name, a, b):
    return (f"{name} at {a}", "none"), (f"{name} at {b}", "none")


def test_pairs_resolve_known_changes_on_the_same_replicates():
    scores, acc = _snapshots(np.random.default_rng(0), {"dips": (1, -1, 1), "rises": (-1, 1, 1)})
    before = scores.copy()
    pairs = [_pair("dips", "25%", "0%"), _pair("dips", "100%", "25%"), _pair("rises", "25%", "0%"),
             _pair("rises", "100%", "25%")]
    tests = significance.benchmark_tests(scores, acc, baseline=None, pairs=pairs, n_boot=300, n_draws=50)
    pd.testing.assert_frame_equal(scores, before)
    boot = tests[tests.family == "pair, models"].set_index("metric")
    flip = tests[tests.family == "pair"].set_index("metric")
    # tau_w from +1 (the accuracies' order) to -1 (reversed) and back, on every replicate alike
    assert boot.loc["dips at 25%", "estimate"] == pytest.approx(-2.0)
    assert boot.loc["dips at 100%", "estimate"] == pytest.approx(2.0)
    assert boot.loc["rises at 25%", "estimate"] == pytest.approx(2.0)
    assert boot.loc["rises at 100%", "estimate"] == 0
    assert (boot.loc[["dips at 25%", "dips at 100%", "rises at 25%"], "p_value"] < 0.05).all()
    assert (boot.low <= boot.estimate).all() and (boot.estimate <= boot.high).all()
    # three targets: the exact sign-flip test cannot go below 2 / 2^3
    assert (flip.loc[["dips at 25%", "dips at 100%", "rises at 25%"], "min_p"] == 0.25).all()
    assert (flip.loc[["dips at 25%", "dips at 100%", "rises at 25%"], "p_value"] == 0.25).all()
    assert (flip.n == 3).all()


def test_a_pair_needs_both_keys_scored():
    scores, acc = _snapshots(np.random.default_rng(1), {"m": (1, 1, 1)})
    with pytest.raises(ValueError, match="no scores for"):
        significance.benchmark_tests(scores, acc, baseline=None, pairs=[_pair("m", "50%", "0%")], n_boot=5,
                               n_draws=5)
