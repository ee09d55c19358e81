"""PED's motion made visible (potran.bench.ped_views): the toy task, the standardised space, the plane."""
import numpy as np
import pytest

import potran
from potran.bench import ped_views as views


def test_toy_task_and_the_standardised_space():
    X, y, G = views.toy_task(n_classes=3, per_class=10, spread=0.0, seed=1)
    assert X.shape == (30, 2) and G.shape == (1000, 2) and np.bincount(y).tolist() == [10, 10, 10]
    assert np.allclose(np.linalg.norm(X, axis=1), 2.0)               # no spread: on the circle of radius 2
    Z = views.standardised(X, G)
    assert np.allclose(Z, (X - G.mean(0)) / G.std(0))
    flat = np.c_[G[:, 0], np.zeros(len(G))]                           # a constant general feature
    assert np.allclose(views.standardised(X, flat)[:, 1], X[:, 1] / potran.ped.EPS)


def test_score_table_is_the_metrics_with_and_without_ped():
    X, y, G = views.toy_task(seed=0)
    table = views.score_table(X, y, G, ["sfda", "logme"], max_steps=2)
    assert list(table.index) == ["logme", "sfda"] and list(table.columns) == ["without PED", "with PED"]
    assert table.loc["logme", "without PED"] == pytest.approx(potran.score(X, y, "logme"))
    assert table.loc["sfda", "with PED"] == pytest.approx(potran.score(X, y, "sfda", ped=True, general=G,
                                                                       max_steps=2))


def test_the_plane_of_the_centres_and_the_motion_summary():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 50)
    X = rng.normal(size=(4, 6))[y] * 0.5 + rng.normal(size=(200, 6))   # overlapping classes in 6-D
    G = rng.normal(size=(300, 6))
    result = potran.simulate(X, y, G)
    plane = views.centre_plane(X, G, result)
    assert plane.before.shape == plane.after.shape == (200, 2)
    assert plane.tracks.shape == (result.trace.steps + 1, 4, 2) and 0.5 < plane.share.sum() <= 1 + 1e-12
    # the images of a class move with it: their mean follows the class centre in the plane
    assert np.allclose(plane.after[y == 2].mean(0), plane.tracks[-1, 2])
    summary = views.motion_summary(result.trace).iloc[0]
    shift = np.linalg.norm(result.trace.centres[-1] - result.trace.centres[0], axis=1).mean()
    assert summary["mean centre shift (standardised units)"] == pytest.approx(shift)
    assert summary["U after / U before"] == pytest.approx(
        result.trace.energies[-1] / result.trace.energies[0]
    )


def test_no_overlap_no_motion():
    y = np.repeat([0, 1], 20)
    X = np.c_[100.0 * y, np.zeros(40)] + np.random.default_rng(0).normal(size=(40, 2)) * 0.01
    trace = potran.simulate(X, y, np.random.default_rng(1).normal(size=(50, 2))).trace
    assert trace.steps == 0 and trace.energies[0] == 0 and np.isnan(views.energy_left(trace))


def test_step_table_lists_the_accepted_steps():
    X, y, G = views.toy_task(4, 60, 1.8, seed=1)
    trace = potran.simulate(X, y, G, time_step=0.5).trace
    table = views.step_table(trace)
    assert trace.steps > 1 and list(table.index) == list(range(1, trace.steps + 1))
    assert table.index.name == "step" and list(table.columns) == ["potential energy after", "displacement P"]
    np.testing.assert_allclose(table["potential energy after"], trace.energies[1:])
    np.testing.assert_allclose(table["displacement P"], trace.displacements)
    assert (np.diff(table["potential energy after"]) < 0).all()      # the energy declines step by step
