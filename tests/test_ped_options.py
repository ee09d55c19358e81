"""PED's options side by side (potran.bench.ped_options): one run with several perturbations, their
intervals, grid selection, traces, and the per-dimension view of the standardisation."""
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import potran
from potran.bench import ped_options, settings
from potran.bench.runner import Benchmark, run
from potran.bench.tau import tau_table
from potran.ped import PEDTrace

from conftest import blobs
from fake_zoo import MODELS, SOURCES

GT = pd.DataFrame({"model": [m for m in MODELS for _ in "12"],
                   "target": ["t1", "t2"] * len(MODELS),
                   "test_acc": [0.5, 0.9, 0.7, 0.6, 0.8, 0.4]})
BASE = Benchmark(models=tuple(MODELS), targets=("t1", "t2"), metrics=("logme", "sfda"), sources=SOURCES)


SETTINGS = ("ped:nsigma=0.6", "ped:nsigma=2.0", "ped:standardize=False")


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    out = tmp_path_factory.mktemp("grid")
    return out, run(replace(BASE, perturbations=("none", *SETTINGS)), out, groundtruth=GT, progress=False)[0]


def test_one_run_scores_every_setting_as_a_plain_run_of_each(grid, tmp_path):
    out, scores = grid
    assert sorted(p.name for p in out.iterdir()) == ["cells", "scores.csv", "tau.csv"]
    assert set(scores.perturbation) == {"none", *SETTINGS}
    assert len(scores) == 4 * 3 * 2 * 2 and (scores.error.fillna("") == "").all()
    plain, _ = run(replace(BASE, perturbations=("none", "ped:nsigma=2.0")), tmp_path, groundtruth=GT,
                   progress=False)
    for label in ("none", "ped:nsigma=2.0"):
        mine = scores[scores.perturbation == label].set_index(["model", "target", "metric"]).score
        theirs = plain[plain.perturbation == label].set_index(["model", "target", "metric"]).score
        pd.testing.assert_series_equal(mine.sort_index(), theirs.sort_index())
    X, y = blobs(dim=6)
    G = np.random.default_rng(0).normal(size=(30, 6))
    moved = potran.perturbations.move("ped:nsigma=2.0", X, y, G).features
    assert potran.score(moved, y, "logme") == potran.score(X, y, "logme", ped=True, general=G, nsigma=2.0)


def test_rerun_is_resumed_and_a_new_setting_scores_only_itself(grid):
    out, scores = grid
    calls = []

    def never(*args, **kwargs):
        calls.append(args)
        raise AssertionError("nothing should be extracted again")

    again, _ = run(replace(BASE, perturbations=("none", *SETTINGS), sources=replace(SOURCES, extract=never)),
                   out, groundtruth=GT, progress=False)
    assert not calls
    pd.testing.assert_frame_equal(again, scores)


def test_settings_intervals_pair_each_setting_with_the_reference(grid):
    _, scores = grid
    iv = ped_options.settings_intervals(scores, GT, n_boot=50)
    assert list(iv.columns) == ["perturbation", "metric", "mean_tau", "low", "high", "delta", "delta_low",
                                "delta_high", "p_delta"]
    assert len(iv) == 4 * 2
    tau = tau_table(scores, GT)
    mean = tau[tau.target == "mean"].set_index(["perturbation", "metric"]).weighted_tau
    est = iv.set_index(["perturbation", "metric"])
    for (label, metric), row in est.iterrows():
        assert row.mean_tau == pytest.approx(mean[(label, metric)], abs=1e-12)
        assert row.low <= row.high
        if label == "none":
            assert np.isnan(row.delta)
        else:
            assert row.delta == pytest.approx(mean[(label, metric)] - mean[("none", metric)], abs=1e-12)
            assert row.delta_low <= row.delta <= row.delta_high
    # no ground truth for the scored cells: an empty table, not an error
    assert ped_options.settings_intervals(scores, GT.assign(model="other"), n_boot=5).empty
    with pytest.raises(ValueError, match="no 'none' rows"):
        ped_options.settings_intervals(scores[scores.perturbation != "none"], GT, n_boot=5)


def test_ranking_agreement():
    scores = pd.DataFrame({
        "perturbation": ["a"] * 4 + ["b"] * 4 + ["c"] * 4, "metric": "m", "target": "t",
        "model": list("wxyz") * 3,
        "score": [4.0, 3.0, 2.0, 1.0, 40.0, 30.0, 20.0, 10.0, 1.0, 2.0, 3.0, 4.0]})
    assert ped_options.ranking_agreement(scores, "a", "b").weighted_tau.iloc[0] == pytest.approx(1.0)
    got = ped_options.ranking_agreement(scores, "a", "c")
    assert got.weighted_tau.iloc[0] == pytest.approx(-1.0) and got.n_models.iloc[0] == 4
    constant = scores.assign(score=np.where(scores.perturbation == "c", 1.0, scores.score))
    assert np.isnan(ped_options.ranking_agreement(constant, "a", "c").weighted_tau.iloc[0])


def test_grid_selection():
    rows = []
    table = {"none": (0.1, 0.3), "ped:nsigma=0.6": (0.2, 0.0), "ped:nsigma=1": (0.0, 0.6),
             "ped:nsigma=2": (0.3, 0.1)}
    for label, values in table.items():
        for target, value in zip(("a", "b"), values):
            rows.append({"perturbation": label, "target": target, "metric": "m",
                         "weighted_tau": value, "n_models": 4})
    tau = pd.DataFrame(rows)
    tau = pd.concat([tau, tau.groupby(["perturbation", "metric"], as_index=False).weighted_tau.mean()
                     .assign(target="mean", n_models=4)])
    got = ped_options.grid_selection(tau, default="ped:nsigma=0.6").set_index("metric").loc["m"]
    assert got.no_ped == pytest.approx(0.2)
    assert got["default"] == pytest.approx(0.1)
    assert got.best_setting == "ped:nsigma=1" and got.best_mean == pytest.approx(0.3)
    assert got.per_target_best == pytest.approx((0.3 + 0.6) / 2)


def test_trace_summary():
    scores = pd.DataFrame({
        "perturbation": ["none", "s", "s", "s"], "model": ["a", "a", "b", "c"], "metric": "m",
        "score": 1.0,
        "ped_steps": [None, 6, 2, 6], "energy_ratio": [None, 0.5, 0.9, None]})
    got = ped_options.trace_summary(scores).set_index("perturbation").loc["s"]
    assert got.cells == 3 and got.mean_steps == pytest.approx(14 / 3)
    assert got.max_steps_share == pytest.approx(2 / 3)
    assert got.mean_energy_ratio == pytest.approx(0.7) and got.energy_decline == pytest.approx(0.3)
    assert got.no_overlap == 1


def test_dimension_spread():
    X, y = blobs(dim=5)
    X = X * np.array([1.0, 10.0, 0.1, 1.0, 3.0])
    G = np.random.default_rng(2).normal(size=(200, 5)) * np.array([2.0, 5.0, 1e-5, 1.0, 1.0])
    spread = ped_options.dimension_spread(X, y, G)
    assert spread.radius_share_raw.sum() == pytest.approx(1) == spread.radius_share_standardised.sum()
    assert spread.std_general[2] == potran.ped.EPS          # floored as PED floors it
    np.testing.assert_allclose(spread.std_standardised, X.std(0) / np.maximum(G.std(0), 1e-3))
    assert spread.radius_share_raw.idxmax() == 1               # the widest dimension dominates raw
    # the shares are those of the squared radii PED computes, summed over classes
    for way, general in (("raw", None), ("standardised", G)):
        trace = potran.simulate(X, y, general, standardize=general is not None, max_steps=0).trace
        scale = 1.0 if general is None else np.maximum(G.std(0), 1e-3)
        per_dim = sum(((X[y == c] - X[y == c].mean(0)) / scale).var(0) for c in np.unique(y))
        assert (trace.radii ** 2).sum() == pytest.approx(per_dim.sum(), rel=1e-10)
        np.testing.assert_allclose(spread[f"radius_share_{way}"], per_dim / per_dim.sum(), rtol=1e-10)


def test_class_geometry():
    trace = PEDTrace(centres=[np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 10.0]])],
                     radii=np.array([2.0, 2.0, 1.0]))
    geo = ped_options.class_geometry(trace, nsigma=1.0)
    np.testing.assert_allclose(geo.nearest, [3.0, 3.0, 10.0])
    np.testing.assert_allclose(geo.radius_to_nearest, [2 / 3, 2 / 3, 0.1])
    assert list(geo.overlaps) == [1, 1, 0]
    assert list(ped_options.class_geometry(trace, nsigma=0.5).overlaps) == [0, 0, 0]


@pytest.mark.parametrize("value, expected", [
    (None, {"d": 1}), (" ", {"d": 1}), ({"N": [1, 2]}, {"N": [1, 2]}),
    ('{"N": [1000], "C": 4}', {"N": [1000], "C": 4}), ("{'D': 32}", {"D": 32})])
def test_parameter_dict(value, expected):
    assert settings.parameter_dict(value, "grid", {"d": 1}) == expected


def test_parameter_dict_names_a_parameter_that_is_not_a_dict():
    with pytest.raises(ValueError, match=r"grid must be a dict, got \[1, 2\]"):
        settings.parameter_dict("[1, 2]", "grid")


def test_standardising_spreads_the_radii_over_the_dimensions():
    """One wide raw dimension carries nearly all the summed squared radii raw; standardised by a general
    set with the same scales, the weight spreads over the dimensions."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 40)
    scale = np.array([100.0, 1.0, 1.0, 1.0])  # one wide raw dimension
    X = (rng.normal(size=(3, 4))[y] + rng.normal(size=(120, 4))) * scale
    G = rng.normal(size=(200, 4)) * scale
    spread = ped_options.dimension_spread(X, y, G)
    raw, standardised = spread.radius_share_raw, spread.radius_share_standardised
    assert raw.idxmax() == 0 and raw.max() > 0.9       # raw: half and 90 % of the weight in one dimension
    assert np.sort(standardised.to_numpy())[::-1][:2].sum() < 0.9   # standardised: 90 % needs three or more


def test_radius_grid_parses_the_values_and_names_each_setting():
    values, labels, shown = ped_options.radius_grid("0.6, 1.5", 0.6)
    assert values == [0.6, 1.5]
    assert labels == {0.6: "ped:nsigma=0.6", 1.5: "ped:nsigma=1.5"}
    assert shown == {"none": "without PED", "ped:nsigma=0.6": "λ = 0.6", "ped:nsigma=1.5": "λ = 1.5"}
    assert ped_options.radius_grid(None, 2.0)[0] == [0.6, 0.8, 1.0, 1.2, 1.5, 2.0]
    with pytest.raises(ValueError, match=r"default_k=0.8 is not one of k_values \[0.6, 2.0\]"):
        ped_options.radius_grid([0.6, 2], 0.8)
