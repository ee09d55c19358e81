"""PED beside SA and NCTI on a benchmark (potran.bench.successors), on the fake zoo."""
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import potran
from potran.bench import successors
from potran.bench.runner import Benchmark
from potran.bench.settings import GroundTruth, Setting
from potran.metrics import ncti_pool_scores

from fake_zoo import MODELS, SOURCES, features_of


def extract(zm, images, **_):
    return features_of(zm, images) * 40  # a scale that opens SA's gate


@pytest.fixture(scope="module")
def page():
    return Setting("fake", Benchmark(models=tuple(MODELS), targets=("t1", "t2"),
                                     sources=replace(SOURCES, extract=extract)))


@pytest.fixture(scope="module")
def scored(page, tmp_path_factory):
    return successors.score_cells(page, ("logme", "sfda"), sa_options={"alpha": "group2"},
                                  cache_dir=tmp_path_factory.mktemp("cache"))


def test_every_cell_metric_and_perturbation_is_scored_as_potran_score_does(page, scored, tmp_path):
    scores, cells = scored
    labels = ("none", "ped", "sa:alpha=group2")
    assert len(scores) == len(MODELS) * 2 * 2 * len(labels) and (scores.error == "").all()
    assert tuple(dict.fromkeys(scores.perturbation)) == labels
    for (model, target), grp in scores.groupby(["model", "target"]):
        arrays = page.cell_features(model, target, cache_dir=tmp_path)
        X, y, G = arrays["X_scored"], arrays["y"], arrays["G_scored"]
        got = grp.set_index(["metric", "perturbation"]).score
        for metric in ("logme", "sfda"):
            assert got[(metric, "none")] == potran.score(X, y, metric)
            assert got[(metric, "ped")] == potran.score(X, y, metric, ped=True, general=G)
            assert got[(metric, "sa:alpha=group2")] == potran.score(X, y, metric, sa=True, alpha="group2")
    assert cells.sa_gate_open.all() and (cells.ped_steps >= 0).all() and cells.ped_steps.max() >= 1
    # NCTI's 64-component PCA needs 64 features: the 8-d fake features fail, recorded, not raised
    assert cells.ncti_error.str.contains("at least 64 samples and 64 features").all()
    assert cells.ncti_seli.isna().all() and successors.ncti_scores(cells).empty


def test_ncti_scores_are_pooled_per_target():
    rng = np.random.default_rng(0)
    cells = pd.DataFrame({"model": list("abcabc"), "target": ["t1"] * 3 + ["t2"] * 3,
                          "ncti_seli": rng.random(6), "ncti_ncc": rng.random(6), "ncti_vc": rng.random(6)})
    table = successors.ncti_scores(cells)
    assert set(table.metric) == {"ncti"} and len(table) == len(cells)
    for target, grp in cells.groupby("target"):
        pool = ncti_pool_scores(list(grp[["ncti_seli", "ncti_ncc", "ncti_vc"]].itertuples(index=False,
                                                                                          name=None)))
        np.testing.assert_array_equal(table[table.target == target].score, pool)
    assert table.score.between(-1, 2).all()
    failed = cells.assign(ncti_seli=np.where(cells.model == "a", np.nan, cells.ncti_seli))
    assert "a" not in set(successors.ncti_scores(failed).model)  # left out of its pool


def test_the_gate_table_counts_open_gates():
    cells = pd.DataFrame({"model": ["a", "b", "a", "b"], "target": ["t1", "t1", "t2", "t2"],
                          "sa_gate_open": [True, False, True, True], "sa_gate_mean": [5.0, 3.0, 6.0, 4.5],
                          "ped_steps": [2, 4, 6, 6]})
    table = successors.gate_table(cells)
    assert table.loc["t1", "SA's gate open"] == 0.5 and table.loc["t2", "gate statistic m, min"] == 4.5
    assert table.loc["t1", "PED steps (mean)"] == 3


def test_intervals_tables_and_tests_of_the_successors(scored):

    scores, cells = scored
    rng = np.random.default_rng(0)
    pairs = scores[["model", "target"]].drop_duplicates()
    accuracy = pairs.assign(test_acc=rng.random(len(pairs)))
    truth = GroundTruth(accuracy, None, "made up").ranked(scores)
    sa = "sa:alpha=group2"
    ncti = pairs.assign(metric="ncti", perturbation="none", score=rng.random(len(pairs)))  # fake pool scores
    iv = successors.intervals(scores, ncti, truth, sa, n_boot=20, seed=0)
    assert set(iv.method) == {"none", "PED", "SA", "PED − none", "SA − none"}
    table = successors.interval_table(iv, ["logme", "sfda"])
    assert list(table.index) == ["logme", "sfda", "ncti"]
    assert list(table.columns) == ["alone", "PED", "SA", "PED − alone", "SA − alone"]
    assert table.loc["ncti", "PED"] == "–"                            # NCTI has no perturbation
    rows = successors.forest_rows(iv, ["logme", "sfda"])
    assert list(rows.label) == [
        "logme",
        "logme + PED",
        "logme + SA",
        "sfda",
        "sfda + PED",
        "sfda + SA",
        "ncti",
    ]
    tests = successors.tests(scores, ncti, truth, n_boot=20, n_draws=50, seed=0)
    assert {"chance", "PED", "PED, models"} <= set(tests.family)
    assert set(tests[tests.family == "chance"].metric) == {"logme", "sfda", "ncti"}
    for _, fam in tests.groupby("family"):  # Holm within each family: never below the raw p
        both = fam.p_value.notna() & fam.p_holm.notna()
        assert (fam.p_holm[both] >= fam.p_value[both] - 1e-12).all()


def test_empty_intervals_and_figure(scored):

    scores, cells = scored
    pairs = scores[["model", "target"]].drop_duplicates()
    accuracy = pairs.assign(test_acc=np.linspace(0.3, 0.9, len(pairs)))
    ncti = pairs.assign(metric="ncti", perturbation="none", score=np.linspace(1, 0, len(pairs)))
    lonely = GroundTruth(accuracy[accuracy.model == accuracy.model.iloc[0]], None, "one model").ranked(scores)
    empty = successors.intervals(scores, ncti, lonely, "sa:alpha=group2")
    assert empty.empty and list(empty.columns) == ["metric", "method", "mean_tau", "low", "high", "p_delta"]
    truth = GroundTruth(accuracy, None, "made up").ranked(scores)
    iv = successors.intervals(scores, ncti, truth, "sa:alpha=group2", n_boot=20, seed=0)
    fig, rows = successors.forest_figure(iv, ["sfda"], {"low": -0.25, "high": 0.5})
    ax = fig.axes[0]
    assert list(rows.label) == ["sfda", "sfda + PED", "sfda + SA", "ncti"]
    assert ax.get_ylabel() == "metric" and len(ax.get_yticks()) == 4
    band = [p for p in ax.patches if p.get_label() == "random scorer (95 % band)"]
    assert len(band) == 1 and np.allclose([band[0].get_x(), band[0].get_width()], [-0.25, 0.75])
