"""``potran.simulate(..., standardize=False)``: PED's motion in the raw feature space (the
supplementary's Fig. 2 ablation)."""
import numpy as np
import pytest

import potran
from potran.metrics import logme
from potran.scoring import score


def blobs(seed=0, dim=9, sizes=(40, 25, 33, 18), overlap=1.2):
    """Overlapping classes whose dimensions have very different scales (as raw features do)."""
    rng = np.random.default_rng(seed)
    scales = np.geomspace(0.05, 20.0, dim)
    X = np.vstack([rng.normal(0, 1, dim) + overlap * rng.normal(size=(n, dim)) for n in sizes]) * scales
    y = np.repeat(np.arange(len(sizes)), sizes)
    G = rng.normal(3.0, 1.0, (120, dim)) * scales[::-1]
    return X, y, G


def unit_general(dim):
    """A general set whose per-dimension mean is exactly 0 and population std exactly 1."""
    return np.vstack([np.ones(dim), -np.ones(dim)])


@pytest.mark.parametrize("params", [{}, {"nsigma": 1.5},
                                    {"nsigma": 2.0, "time_step": 0.5, "exit_ratio": 0.9}])
def test_raw_space_is_the_standard_motion_with_a_unit_general_set(params):
    X, y, G = blobs()
    raw = potran.simulate(X, y, None, standardize=False, **params)
    unit = potran.simulate(X, y, unit_general(X.shape[1]), **params)
    assert raw.trace.steps == unit.trace.steps > 0
    assert np.abs(raw.features - unit.features).max() < 1e-12
    np.testing.assert_allclose(raw.trace.energies, unit.trace.energies, rtol=1e-12)
    np.testing.assert_allclose(raw.trace.radii, unit.trace.radii, rtol=1e-12)
    # a general set given alongside standardize=False is ignored
    ignored = potran.simulate(X, y, G, standardize=False, **params)
    assert np.array_equal(ignored.features, raw.features)


def test_raw_space_differs_from_the_standardised_one():
    X, y, G = blobs()
    raw = potran.simulate(X, y, None, standardize=False, nsigma=1.5)
    std = potran.simulate(X, y, G, nsigma=1.5)
    assert np.abs(raw.features - std.features).max() > 1e-3
    # the raw space keeps the features' units: its radii are those of X itself
    within = np.mean([X[y == c].var(0).sum() for c in range(4)])
    assert np.mean(raw.trace.radii ** 2) == pytest.approx(within, rel=1e-12)
    assert not np.allclose(raw.trace.radii, std.trace.radii)


@pytest.mark.parametrize("a", [1e-3, 0.37, 7.0, 250.0])
def test_scale_equivariance(a):
    X, y, _ = blobs(seed=3)
    base = potran.simulate(X, y, None, standardize=False, nsigma=1.2)
    scaled = potran.simulate(a * X, y, None, standardize=False, nsigma=1.2)
    assert scaled.trace.steps == base.trace.steps > 0
    shift, shift_a = base.features - X, scaled.features - a * X
    np.testing.assert_allclose(shift_a, a * shift, rtol=1e-9, atol=1e-12 * a * np.abs(X).max())
    np.testing.assert_allclose(scaled.trace.energies, a**2 * np.asarray(base.trace.energies), rtol=1e-9)
    np.testing.assert_allclose(scaled.trace.radii, a * base.trace.radii, rtol=1e-12)
    assert scaled.trace.max_shift == pytest.approx(a * base.trace.max_shift, rel=1e-9)


def test_standardised_motion_is_invariant_to_a_common_scale():
    # with the general set scaled alike, standardisation removes the scale altogether
    X, y, G = blobs(seed=4)
    base = potran.simulate(X, y, G)
    scaled = potran.simulate(5.0 * X, y, 5.0 * G)
    np.testing.assert_allclose(scaled.features - 5.0 * X, 5.0 * (base.features - X), rtol=1e-9, atol=1e-9)


def test_translation_invariance():
    X, y, _ = blobs(seed=5)
    offset = np.linspace(-50, 50, X.shape[1])
    base = potran.simulate(X, y, None, standardize=False)
    moved = potran.simulate(X + offset, y, None, standardize=False)
    np.testing.assert_allclose(moved.features - offset, base.features, atol=1e-9)


def test_general_set_required_only_when_standardising():
    X, y, _ = blobs()
    with pytest.raises(ValueError, match="PED needs a general feature set"):
        potran.simulate(X, y, None)
    with pytest.raises(ValueError, match="PED needs a general feature set"):
        potran.simulate(X, y, None, standardize=True)
    value = score(X, y, "logme", ped=True, standardize=False)
    assert value == pytest.approx(logme(potran.simulate(X, y, None, standardize=False).features, y),
                                  rel=1e-12)
