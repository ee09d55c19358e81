"""potran.bench.finetuning_views: the fine-tuning page's cells, t-SNE view, ranking by snapshot,
costs and sentences, on a small fake grid (tests/fake_zoo.py)."""
from dataclasses import replace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import silhouette_score

import potran
from potran.bench import finetuning_views as views
from potran.bench.finetune import training_indices
from potran.bench.runner import cell_features
from potran.bench.snapshots import probe_features

from fake_zoo import GENERAL, GRID_MODELS, SNAPSHOT_CONFIG, SOURCES, snapshot_grid

matplotlib.use("Agg")

CFG, MODEL_NAMES = SNAPSHOT_CONFIG, GRID_MODELS


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """The page's grid of a fake ground truth, on the fake sources and its fine-tuning set-up."""
    loaded = views.load_grid(snapshot_grid(tmp_path_factory.mktemp("gt")))
    return replace(loaded, bench=replace(loaded.bench, finetune=CFG, sources=SOURCES))


@pytest.fixture(scope="module")
def ranking(grid, tmp_path_factory):
    return views.rank_snapshots(grid, ["logme", "gbc"], cache_dir=tmp_path_factory.mktemp("cache"))


def test_load_grid_selects_the_cells_with_a_snapshot_and_an_accuracy(grid):
    assert grid.cells == [(m, "t1") for m in MODEL_NAMES]
    assert grid.summary() == "3 finished cells with snapshots: t1 (3 models)"
    assert views.load_grid(grid.root, "fake-b,fake-c").cells == [("fake-b", "t1"), ("fake-c", "t1")]
    some = views.load_grid(grid.root, targets='["t1"]', models=["fake-a"])
    assert some.cells == [("fake-a", "t1")] and some.bench.models == ("fake-a",)
    none = views.load_grid(grid.root, targets="t2")
    assert none.cells == [] and none.summary() == (
        "No finished ground-truth cell with snapshots for models=None, targets=['t2'] in the "
        "ground truth given: the sections below are skipped.")


def test_load_grid_leaves_out_cells_without_an_accuracy(grid, tmp_path):
    import shutil

    shutil.copytree(grid.root, tmp_path / "gt")
    accuracy = pd.read_csv(tmp_path / "gt" / "accuracy.csv")
    accuracy[accuracy.model != "fake-b"].to_csv(tmp_path / "gt" / "accuracy.csv", index=False)
    assert views.load_grid(tmp_path / "gt").cells == [("fake-a", "t1"), ("fake-c", "t1")]


def test_example_view_embeds_the_snapshots_and_ped(grid, tmp_path):
    view = views.example_view(grid, "fake-b,t1", perplexity=5, shown_time_step=2.0,
                              cache_dir=tmp_path)
    assert (view.model, view.target) == ("fake-b", "t1") and len(view.notes) == 1
    assert view.notes[0].startswith("fake-b on t1: 24 probe images, 8 dimensions, snapshots at "
                                    f"iterations {view.snapshot.steps.tolist()}")
    assert len(view.panels) == len(view.embedded) == len(view.silhouettes) == 6
    assert [p[0].split("\n")[0] for p in view.panels[-2:]] == ["pretrained + PED, t = 0.1",
                                                              "pretrained + PED, t = 2.0"]
    assert all(E.shape == (24, 2) for E in view.embedded)
    assert all(-1 <= s <= 1 for s in view.silhouettes)
    # the PED panels move the rebuilt 0 % snapshot (the cached pretrained features), step by step
    arrays = cell_features(grid.bench, "fake-b", "t1", cache_dir=tmp_path)
    train = training_indices(len(SOURCES.load_target("t1").y_train), CFG)
    X0, G0 = probe_features(arrays, view.snapshot, train)
    for (_, moved), step in zip(view.panels[-2:], (0.1, 2.0)):
        expected = potran.simulate(X0, view.snapshot.labels, G0, time_step=step).features
        np.testing.assert_allclose(moved, expected)
    assert view.silhouettes[3] == pytest.approx(silhouette_score(view.snapshot.features[3],
                                                                 view.snapshot.labels))
    fig, caption, alt = views.tsne_figure(view)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 6
    assert "t-SNE (perplexity 5) of the penultimate features of 24 training images of t1 under " \
           "fake-b" in caption and "(λ = 0.6, t = 0.1, k = 1) and with t = 2.0." in caption
    assert alt.startswith("A grid of 6 scatter plots of the 24 probe images coloured by their 3 "
                          "classes")
    line = views.summary(view, None, None, ["logme"])
    sil = view.silhouettes
    along = ", ".join(f"{f:.0%} of fine-tuning {s:.2f}"
                      for f, s in zip(view.snapshot.fractions, sil))
    assert line == ("- Separation of the classes of t1 under fake-b (silhouette on the features): "
                    + along + f"; pretrained + PED {sil[4]:.2f} (t = 0.1) and {sil[5]:.2f} "
                    "(t = 2.0).")


def test_example_view_falls_back_to_the_first_cell(grid, tmp_path):
    view = views.example_view(grid, ("nope", "t1"), perplexity=5, cache_dir=tmp_path)
    assert (view.model, view.target) == ("fake-a", "t1")
    assert view.notes[0] == "nope / t1 has no finished cell in this selection; using fake-a / t1."
    with pytest.raises(ValueError, match="a model and a target, not \\['fake-a'\\]"):
        views.example_view(grid, "fake-a")
    assert views.example_view(replace(grid, snapshots={}), "fake-a,t1") is None


def test_rank_snapshots_scores_every_snapshot_and_ped(grid, ranking):
    scores = ranking.scores
    assert len(scores[scores.perturbation == "none"]) == 3 * 4 * 2
    assert len(scores[scores.perturbation == "ped"]) == 3 * 2
    assert set(scores[scores.perturbation == "ped"].fraction) == {0.0}
    assert len(ranking.tau) == 2 * (4 + 1) and (ranking.tau.n_models == 3).all()
    assert len(ranking.times) == 3 * 2 * 2
    assert len(ranking.notes) == 1 and ranking.notes[0].startswith(
        "rebuilt 0 % snapshots vs stored, all 3 cells: largest difference ")
    too_few = views.rank_snapshots(grid, ["logme"], min_models=4, cache_dir=None)
    assert too_few.tau.empty and too_few.notes[1] == (
        "No target has 4 or more models with finished cells yet: no ranking to show.")
    assert views.rank_snapshots(replace(grid, snapshots={}), ["logme"]) is None


def test_tau_table_orders_the_shares_of_fine_tuning():
    tau = pd.DataFrame({"target": "t", "metric": "logme",
                        "perturbation": ["none", "none", "ped", "none"],
                        "fraction": [1.0, 0.0, 0.0, 0.25], "weighted_tau": [0.4, 0.1, 0.2, 0.3]})
    wide = views.tau_table(tau)
    assert list(wide.columns) == ["0%", "0% + PED", "25%", "100%"]
    assert wide.loc[("logme", "t")].tolist() == [0.1, 0.2, 0.3, 0.4]


def test_tau_figure_draws_one_line_per_target_and_metric(ranking):
    fig, caption, alt = views.tau_figure(ranking.tau, ["logme", "gbc"], min_models=3)
    assert [ax.get_title() for ax in fig.axes] == ["logme", "gbc"]
    assert all(len(ax.lines) == 1 + 1 for ax in fig.axes)       # t1's line and the zero line
    np.testing.assert_allclose(fig.axes[0].lines[0].get_xdata(), [0, 25, 50, 100])
    assert "targets with at least 3 finished models" in caption and alt.startswith("2 line plots")


def test_accuracy_spread_per_target(grid):
    accuracy = pd.DataFrame({"model": MODEL_NAMES, "target": "t1", "test_acc": [0.5, 0.9, 0.7],
                             "test_acc_sd": [0.01, 0.03, 0.02]})
    spread = views.accuracy_spread(replace(grid, accuracy=accuracy))
    assert spread.loc["t1"].to_dict() == pytest.approx(
        {"models": 3, "lowest accuracy": 0.5, "highest accuracy": 0.9, "median seed s.d.": 0.02})


def test_grid_costs_time_scoring_beside_fine_tuning(grid, ranking):
    costs = views.grid_costs(grid, ranking, throughput_images=10)
    cells = costs.cells
    assert list(zip(cells.model, cells.target)) == grid.cells
    assert (cells.n_images == CFG.n_train).all() and (cells.n_general == len(GENERAL)).all()
    # extraction and the general set's pass scale one per-image time per model
    per_image = cells.extraction_s / cells.n_images
    np.testing.assert_allclose(costs.general_s[cells.model].to_numpy(),
                               per_image.to_numpy() * len(GENERAL))
    table = views.cost_table(costs, ["logme", "gbc"])
    assert list(table.columns) == ["fine-tuning", "extraction", "logme", "logme + PED", "gbc",
                                   "gbc + PED"]
    np.testing.assert_allclose(table["fine-tuning"], cells.wall_s)
    totals = costs.totals("gbc")
    assert totals["scoring with PED"] == pytest.approx(
        cells.extraction_s.sum() + costs.general_s.sum() + cells["gbc + PED"].sum())
    fig, caption, alt = views.cost_figure(costs, "gbc")
    assert caption.startswith("Wall-clock cost of the 3 finished cells. Top, per cell and on a "
                              "log scale: fine-tuning as recorded by the grid (1 seeds × "
                              f"{int(cells.iterations.iloc[0])} iterations")
    assert "gbc without and with PED" in alt
    assert views.grid_costs(grid, None) is None


def test_summary_reads_the_mean_tau_and_the_costs():
    tau = pd.DataFrame({"target": ["a", "b", "a", "b", "a", "b"], "metric": "logme",
                        "perturbation": ["none", "none", "none", "none", "ped", "ped"],
                        "fraction": [0.0, 0.0, 1.0, 1.0, 0.0, 0.0],
                        "weighted_tau": [0.1, 0.3, 0.5, 0.7, -0.2, 0.0]})
    ranking = views.Ranking(pd.DataFrame(), tau, pd.DataFrame(), [])
    cells = pd.DataFrame({"model": ["m", "m"], "wall_s": [600.0, 1200.0],
                          "extraction_s": [1.0, 2.0], "logme": [0.25, 0.5],
                          "logme + PED": [1.0, 1.0]})
    costs = views.Costs(cells, pd.Series({"m": 4.0}))
    text = views.summary(None, ranking, costs, ["logme", "sfda"])
    assert text.split("\n") == [
        "- Mean τ_w of logme over the ranked targets along fine-tuning: 0% 0.20, 100% 0.60; "
        "pretrained + PED -0.10.",
        "- Fine-tuning the 2 cells took 30.0 min as recorded; scoring them with logme 3.8 s "
        "without PED and 9.0 s with PED, 480× and 200× less (one learning rate per model; a grid "
        "search multiplies the fine-tuning side).",
        "- Of the scoring time, the forward passes take 3.0 s (training images) and 4.0 s "
        "(general sets, 1 models); the metric itself 0.75 s, and 2.00 s with PED."]
    assert views.summary(None, None, None, ["logme"]) == (
        "Nothing to summarise: no finished cell in this selection.")
