"""What one PED motion did (potran.bench.motion): the standardised space, the plane of the class
centres and the energy left, on small tasks."""
import numpy as np
import pytest

import potran
from potran.bench.motion import centre_plane, energy_left, standardised


def test_the_standardised_space_is_peds():
    rng = np.random.default_rng(1)
    X, G = rng.normal(size=(30, 2)), rng.normal(size=(1000, 2)) * 2.0 + 1.0
    assert np.allclose(standardised(X, G), (X - G.mean(0)) / G.std(0))
    flat = np.c_[G[:, 0], np.zeros(len(G))]                           # a constant general feature
    assert np.allclose(standardised(X, flat)[:, 1], X[:, 1] / potran.ped.EPS)


def test_the_plane_of_the_centres_follows_the_motion():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 50)
    X = rng.normal(size=(4, 6))[y] * 0.5 + rng.normal(size=(200, 6))   # overlapping classes in 6-D
    G = rng.normal(size=(300, 6))
    result = potran.simulate(X, y, G)
    plane = centre_plane(X, G, result)
    assert plane.before.shape == plane.after.shape == (200, 2)
    assert plane.tracks.shape == (result.trace.steps + 1, 4, 2) and 0.5 < plane.share.sum() <= 1 + 1e-12
    # the images of a class move with it: their mean follows the class centre in the plane
    assert np.allclose(plane.after[y == 2].mean(0), plane.tracks[-1, 2])
    assert np.allclose(plane.before[y == 2].mean(0), plane.tracks[0, 2])
    assert energy_left(result.trace) == pytest.approx(result.trace.energies[-1] / result.trace.energies[0])
    assert 0 <= energy_left(result.trace) < 1 and (np.diff(result.trace.energies) < 0).all()


def test_no_overlap_no_motion_no_energy_ratio():
    y = np.repeat([0, 1], 20)
    X = np.c_[100.0 * y, np.zeros(40)] + np.random.default_rng(0).normal(size=(40, 2)) * 0.01
    trace = potran.simulate(X, y, np.random.default_rng(1).normal(size=(50, 2))).trace
    assert trace.steps == 0 and trace.energies[0] == 0 and np.isnan(energy_left(trace))
