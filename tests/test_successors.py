"""PED beside SA and NCTI on a benchmark (potran.bench.successors), on the fake zoo."""
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import potran
from potran.bench import successors
from potran.bench.runner import Benchmark
from potran.bench.settings import Setting
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
