"""potran.bench.main_table_views: the main-table page's coverage, tables, forest and sentences."""
import matplotlib
import numpy as np
import pandas as pd
import pytest

from potran.bench import main_table_views as views
from potran.bench import report

matplotlib.use("Agg")

WITHOUT, WITH, DELTA = report.SETTINGS["none"], report.SETTINGS["ped"], report.SETTINGS["delta"]


def _truth():
    rows = [("m1", "a", 0.5), ("m2", "a", 0.6), ("m3", "a", 0.7), ("m1", "b", 0.4)]
    accuracy = pd.DataFrame(rows, columns=["model", "target", "test_acc"])
    seeds = pd.concat([accuracy.assign(seed=s) for s in (0, 1)], ignore_index=True)
    return accuracy, seeds


def _intervals():
    rows = [("logme", WITHOUT, 0.2, 0.1, 0.3), ("logme", WITH, 0.3, 0.2, 0.4),
            ("logme", DELTA, 0.1, 0.05, 0.15), ("sfda", DELTA, -0.05, -0.1, 0.02)]
    frame = pd.DataFrame(rows, columns=["metric", "setting", "mean_tau", "low", "high"])
    return frame.assign(computable=True)


def test_coverage_keeps_the_targets_with_two_models_and_says_so():
    accuracy, seeds = _truth()
    cover = views.coverage(accuracy, seeds, ["a", "b", "c"], 4, "fine-tuning")
    assert cover.usable == ["a"] and len(cover.accuracy) == 3 and len(cover.seeds) == 6
    assert cover.text == ("Ground truth: fine-tuning. Fine-tuned cells per target (models with ground "
                          "truth): a: 3 of 4, b: 1 of 4, c: 0 of 4. Targets used below: a; 3 models, "
                          "2 seeds per cell.")
    assert "no seeds" in views.coverage(accuracy, None, ["a"], 3, "x").text
    empty = views.coverage(accuracy, seeds, ["b"], 3, "x")
    assert empty.usable == [] and "**No target has two fine-tuned models yet**" in empty.text


def test_tau_wide_orders_rows_and_counts_models_per_target():
    tau = pd.DataFrame({"metric": ["logme"] * 4, "perturbation": ["none", "ped"] * 2,
                        "target": ["a", "a", "mean", "mean"], "weighted_tau": [0.1, 0.3, 0.1, 0.3],
                        "n_models": [5, 5, 5, 5]})
    table = views.tau_wide(tau, ["logme", "gbc"], ["none", "ped"], ["b", "a"])
    shown = table.styler.data
    assert list(shown.columns) == ["metric", "PED", "a", "mean"] and len(shown) == 4
    assert shown["a"].iloc[:2].tolist() == [0.1, 0.3] and shown["a"].iloc[2:].isna().all()
    assert table.caption.endswith("models with ground truth: a 5.")


def test_reliability_items_on_each_kind_of_ground_truth():
    accuracy, seeds = _truth()
    assert views.reliability_items(seeds, []) == []
    assert "one run per cell" in views.reliability_items(None, ["a"])[0]
    shift = np.random.default_rng(0).normal(scale=0.01, size=len(seeds))
    noisy = seeds.assign(test_acc=seeds.test_acc + shift, n_test=1000)
    table, sentence = views.reliability_items(noisy[noisy.target == "a"], ["a"])
    assert table.styler.data.n_seeds.tolist() == [2] and table.styler.data.n_models.tolist() == [3]
    assert sentence == report.reliability_sentence(report.reliability(noisy).set_index("target").loc[["a"]])


def test_side_by_side_and_its_table():
    published = pd.DataFrame({"metric": ["logme"] * 4 + ["parc"] * 2,
                              "perturbation": ["none", "ped"] * 2 + ["none", "none"],
                              "target": ["x", "x", "y", "y", "x", "y"],
                              "weighted_tau": [0.2, 0.4, 0.4, 0.4, 0.1, 0.3]})
    pub = views.published_wide(published)
    assert pub.loc[("logme", "ped"), "mean"] == pytest.approx(0.4)
    side = views.side_by_side(pub, _intervals())
    assert side.loc["logme", "published PED gain"] == pytest.approx(0.1)
    assert side.loc["logme", "our PED effect"] == "+0.100 [+0.050, +0.150]"
    assert side.loc["parc", f"ours, {WITHOUT}"] == "–"
    assert np.isnan(side.loc["parc", "published PED gain"])   # parc has no "+PED" row
    assert "95% intervals" in views.side_table(side, level=0.95).caption


def test_forest_caption_alt_and_figure():
    assert "each cell's seeds redrawn" in views.forest_caption(3, True, level=0.9, n_boot=10, n_null=5)
    caption = views.forest_caption(3, False, level=0.9, n_boot=10, n_null=5)
    assert "seeds redrawn" not in caption and "90% of 5 random rankings" in caption
    assert "(logme, sfda)" in views.forest_alt(["logme", "sfda"])
    intervals = _intervals().assign(perturbation=None)
    fig = views.tau_forest(intervals, {"low": -0.1, "high": 0.1}, ["logme", "sfda"], level=0.95)
    assert [ax.get_title() for ax in fig.axes[:2]] == ["mean τ_w, crossed-bootstrap intervals",
                                                        "the effect of PED"]


def test_tests_details():
    tests = pd.DataFrame({"family": ["PED"], "comparison": ["logme"], "estimate": [0.1], "low": [0.0],
                          "high": [0.2], "p_value": [0.04], "p_holm": [0.08], "min_p": [0.01],
                          "test": ["sign-flip"], "verdict": ["unresolved"]})
    html = views.tests_details(tests).data
    assert "All 1 tests, one row each" in html and "+0.100 [+0.000, +0.200]" in html
